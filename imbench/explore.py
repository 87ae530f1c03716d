"""An interactive, offline view of a finished sweep: filter, and the answer follows.

``explore_page`` writes one self-contained HTML file (no network, no library):
the per-dataset means of the sweep's metrics, each dataset's regime bands (the
bands ``imbench leaderboard --by`` cuts from the data) and a small script.
Choosing a classifier, an imbalance ratio, a metric and a regime band recomputes,
in the browser, the table of strategies over the datasets of that selection --
mean, mean rank, mean difference from the baseline and wins / ties / losses
against it -- and the sentence above it, which names the selection's N in
datasets and families and the strategy that leads it. It is descriptive: the
tests with intervals are ``imbench findings`` and ``imbench compare --ratings``,
and the page says so.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from imbench.regimes import REGIMES, assign, descriptors
from imbench.results import LOWER_IS_BETTER, SweepFolder

METRICS = ("pr_auc", "roc_auc", "f1", "mcc", "expected_cost", "brier", "ece")
BANDED = tuple(r for r in REGIMES if r != "family")


def explore_data(folder: SweepFolder, baseline: str = "none") -> dict[str, Any]:
    """What the page embeds: datasets with their bands, per-dataset strategy means."""
    folds = folder.read_folds()
    metrics = [m for m in METRICS if m in folds.columns]
    means = folds.groupby(["dataset", "imbalance_ratio", "classifier", "strategy"],
                          observed=True)[metrics].mean().reset_index()  # fmt: skip
    table = descriptors(folder.read_cells())
    table = table.merge(means[["dataset", "imbalance_ratio"]].drop_duplicates())
    regimes: dict[str, list[str]] = {}
    for by in BANDED:
        labels = assign(table, by)
        table[f"band_{by}"] = labels.astype(str)
        regimes[by] = [c for c in labels.cat.categories if (labels == c).any()]
    regimes["family"] = sorted(table["family"].astype(str).unique())
    table = table.reset_index(drop=True)
    pairs = zip(table["dataset"], table["imbalance_ratio"].astype(str), strict=True)
    key = {pair: i for i, pair in enumerate(pairs)}
    wanted = zip(means["dataset"], means["imbalance_ratio"].astype(str), strict=True)
    means["row"] = [key.get(pair, -1) for pair in wanted]
    means = means[means["row"] >= 0]

    def column(values: pd.Series) -> list[Any]:
        return [None if isinstance(v, float) and math.isnan(v) else v for v in values.tolist()]

    datasets = {
        "name": table["dataset"].astype(str).tolist(),
        "ratio": table["imbalance_ratio"].astype(str).tolist(),
        "family": table["family"].astype(str).tolist(),
        **{f"band_{by}": table[f"band_{by}"].tolist() for by in BANDED},
    }
    scores = {
        "row": means["row"].astype(int).tolist(),
        "classifier": means["classifier"].astype(str).tolist(),
        "strategy": means["strategy"].astype(str).tolist(),
        **{m: column(means[m].astype(float).round(6)) for m in metrics},
    }
    ratios = list(dict.fromkeys(table["imbalance_ratio"].astype(str)))
    return {
        "sweep": folder.name,
        "baseline": baseline,
        "metrics": metrics,
        "lower": [m for m in metrics if m in LOWER_IS_BETTER],
        "classifiers": sorted(means["classifier"].astype(str).unique()),
        "ratios": sorted(ratios, key=lambda r: (r != "native", r)),
        "regimes": regimes,
        "datasets": datasets,
        "scores": scores,
    }


def explore_page(folder: SweepFolder, baseline: str = "none") -> str:
    data = json.dumps(explore_data(folder, baseline), separators=(",", ":"), allow_nan=False)
    title = html.escape(f"imbench explore: {folder.name}")
    # no "<" at all inside the script ("</script>", "<!--"): JSON may carry it in a name
    return _PAGE.replace("__TITLE__", title).replace("__DATA__", data.replace("<", "\\u003c"))


def write_explore(folder: SweepFolder, path: Path, baseline: str = "none") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(explore_page(folder, baseline), encoding="utf-8")
    return path


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>__TITLE__</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:1.5rem;max-width:70rem;color:#222}
label{margin-right:1rem}select{margin-left:.3rem}
table{border-collapse:collapse;margin-top:1rem}td,th{padding:.25rem .6rem;
border-bottom:1px solid #ddd;text-align:right}td:first-child,th:first-child{text-align:left}
#answer{font-size:1.05rem;background:#f4f6f8;padding:.7rem 1rem;border-radius:4px}
.note{color:#555}
</style></head><body>
<h1>__TITLE__</h1>
<p class="note">Per-dataset means over seeds and outer folds; each selection's table is
recomputed here. Descriptive: the tests with intervals over dataset families are
<code>imbench findings</code> and <code>imbench compare --ratings --by</code>. A strategy
that could not run on a dataset is left out of that dataset's ranks; its N says on how
many it ran.</p>
<div id="filters">
<label>classifier<select id="classifier"></select></label>
<label>ratio<select id="ratio"></select></label>
<label>metric<select id="metric"></select></label>
<label>regime<select id="regime"></select></label>
<label>band<select id="band"></select></label>
</div>
<p id="answer"></p>
<table id="table"><thead><tr><th>strategy</th><th>N</th><th>mean</th><th>mean rank</th>
<th>vs baseline</th><th>wins / ties / losses</th></tr></thead><tbody></tbody></table>
<script id="data" type="application/json">__DATA__</script>
<script>
"use strict";
const D = JSON.parse(document.getElementById("data").textContent);
const $ = (id) => document.getElementById(id);
function fill(sel, values, labels) {
  sel.innerHTML = "";
  values.forEach((v, i) => { const o = document.createElement("option");
    o.value = v; o.textContent = labels ? labels[i] : v; sel.appendChild(o); });
}
fill($("classifier"), D.classifiers);
fill($("ratio"), D.ratios);
fill($("metric"), D.metrics);
fill($("regime"), ["all", ...Object.keys(D.regimes)]);
function bandsOf() {
  const r = $("regime").value;
  fill($("band"), r === "all" ? ["all"] : D.regimes[r]);
}
const fmt = (x) => (x === null || Number.isNaN(x)) ? "" : x.toFixed(4);
const sgn = (x) => (x >= 0 ? "+" : "") + x.toFixed(4);
function update() {
  const clf = $("classifier").value, ratio = $("ratio").value, metric = $("metric").value;
  const regime = $("regime").value, band = $("band").value;
  const lower = D.lower.includes(metric), ds = D.datasets, s = D.scores;
  const inBand = (i) => ds.ratio[i] === ratio && (regime === "all" ||
    (regime === "family" ? ds.family[i] : ds["band_" + regime][i]) === band);
  const by = new Map();  // dataset row -> {strategy: value}
  for (let k = 0; k < s.row.length; k++) {
    const v = s[metric][k];
    if (s.classifier[k] !== clf || v === null || !inBand(s.row[k])) continue;
    if (!by.has(s.row[k])) by.set(s.row[k], {});
    by.get(s.row[k])[s.strategy[k]] = v;
  }
  const stats = new Map();
  const get = (n) => { if (!stats.has(n)) stats.set(n, {n: 0, sum: 0, rank: 0, ranked: 0,
    diff: 0, paired: 0, w: 0, t: 0, l: 0}); return stats.get(n); };
  for (const values of by.values()) {
    const names = Object.keys(values);
    const better = (a, b) => lower ? a < b : a > b;
    for (const n of names) {
      const v = values[n], st = get(n);
      st.n++; st.sum += v;
      let above = 0, same = 0;
      for (const m of names) { if (m === n) continue;
        if (better(values[m], v)) above++; else if (values[m] === v) same++; }
      st.rank += 1 + above + same / 2; st.ranked++;
      const b = values[D.baseline];
      if (b !== undefined && n !== D.baseline) {
        st.paired++; st.diff += v - b;
        if (Math.abs(v - b) < 1e-9) st.t++; else if (better(v, b)) st.w++; else st.l++;
      }
    }
  }
  const rows = [...stats.entries()].map(([n, st]) => ({name: n, n: st.n, mean: st.sum / st.n,
    rank: st.rank / st.ranked, diff: st.paired ? st.diff / st.paired : null,
    w: st.w, t: st.t, l: st.l, paired: st.paired}));
  rows.sort((a, b) => a.rank - b.rank || a.name.localeCompare(b.name));
  const body = $("table").querySelector("tbody");
  body.innerHTML = "";
  for (const r of rows) {
    const tr = document.createElement("tr");
    tr.dataset.strategy = r.name;
    const cells = [r.name, r.n, fmt(r.mean), r.rank.toFixed(2),
      r.name === D.baseline ? "baseline" : r.diff === null ? "\u2013" : sgn(r.diff),
      r.paired ? `${r.w} / ${r.t} / ${r.l}` : ""];
    for (const c of cells) { const td = document.createElement("td");
      td.textContent = c; tr.appendChild(td); }
    body.appendChild(tr);
  }
  const n = by.size, fams = new Set([...by.keys()].map((i) => ds.family[i])).size;
  const where = regime === "all" ? "all datasets" : band;
  let text = `${clf}, ${ratio} imbalance, ${where}: N = ${n} datasets in ${fams} families. `;
  if (!rows.length) text += "No scores for this selection.";
  else {
    // mean ranks compare only over the same datasets: the lead goes to a strategy
    // that ran on every dataset of the selection
    const full = rows.filter((r) => r.n === n), partial = rows.length - full.length;
    const top = (full.length ? full : rows)[0], base = rows.find((r) => r.name === D.baseline);
    text += `Leading on ${metric} by mean rank: ${top.name} (mean rank ${top.rank.toFixed(2)}` +
      ` of ${rows.length} strategies, mean ${fmt(top.mean)}`;
    if (top.paired) text += `; against ${D.baseline} ${sgn(top.diff)}, better on ${top.w}` +
      ` of ${top.paired} datasets`;
    text += ")";
    if (partial && full.length) text += ` [${partial} strategies that ran on fewer datasets` +
      " are not ranked for the lead]";
    if (base && base !== top) text += `; ${D.baseline} ranks ${rows.indexOf(base) + 1}.`;
    else if (base) text += `: nothing leads ${D.baseline} here.`;
    else text += ".";
  }
  $("answer").textContent = text;
}
$("regime").addEventListener("change", () => { bandsOf(); update(); });
for (const id of ["classifier", "ratio", "metric", "band"])
  $(id).addEventListener("change", update);
bandsOf(); update();
</script></body></html>
"""
