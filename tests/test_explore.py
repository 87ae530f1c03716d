"""imbench explore: the offline view recomputes, in the browser, what pandas computes."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from imbench.cli import app
from imbench.explore import explore_data, write_explore
from imbench.regimes import assign, descriptors
from imbench.results import SweepFolder

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = SweepFolder(ROOT / "results" / "reference")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _means(clf: str, ratio: str, metric: str, datasets: set[str] | None = None) -> pd.DataFrame:
    folds = REFERENCE.read_folds()
    folds = folds[(folds["classifier"] == clf) & (folds["imbalance_ratio"] == ratio)]
    if datasets is not None:
        folds = folds[folds["dataset"].isin(datasets)]
    return folds.groupby(["dataset", "strategy"], observed=True)[metric].mean().unstack()


def test_the_embedded_data_is_the_sweeps_per_dataset_means():
    data = explore_data(REFERENCE)
    ds, s = data["datasets"], data["scores"]
    wide = _means("lr", "native", "pr_auc")
    picked = [k for k in range(len(s["row"])) if s["classifier"][k] == "lr"
              and s["strategy"][k] == "smote" and ds["ratio"][s["row"][k]] == "native"]  # fmt: skip
    got = {ds["name"][s["row"][k]]: s["pr_auc"][k] for k in picked}
    assert len(got) == wide["smote"].notna().sum() > 30
    assert all(abs(got[d] - wide.at[d, "smote"]) < 1e-6 for d in got)
    # bands are the leaderboard's: every native row carries the label assign() gives it
    table = descriptors(REFERENCE.read_cells())
    table["band"] = assign(table, "ir")
    native = table[table["imbalance_ratio"] == "native"].set_index("dataset")["band"]
    rows = [i for i, r in enumerate(ds["ratio"]) if r == "native"]
    assert {ds["name"][i]: ds["band_ir"][i] for i in rows} == native.astype(str).to_dict()
    assert data["regimes"]["ir"] == [
        str(c) for c in table["band"].cat.categories if (table["band"] == c).any()
    ]


def test_explore_refuses_a_baseline_the_sweep_does_not_hold(tmp_path):
    out = tmp_path / "results"
    shutil.copytree(REFERENCE.path, out / "reference")
    args = ["explore", "reference", "--out", str(out), "--baseline", "smot"]
    done = CliRunner().invoke(app, args)
    assert done.exit_code != 0 and "Traceback" not in done.output
    assert "'smot' is not a strategy of sweep 'reference'" in " ".join(done.output.split())
    assert not list(out.rglob("explore.html"))


def test_no_name_in_the_data_can_end_the_pages_script(monkeypatch):
    from imbench import explore

    data = explore.explore_data(REFERENCE)
    data["sweep"] = "x</script><script>alert(1)</script><!--"
    monkeypatch.setattr(explore, "explore_data", lambda folder, baseline="none": data)
    page = explore.explore_page(REFERENCE)
    assert page.count("</script>") == explore._PAGE.count("</script>")
    assert "<!--" not in page and "alert(1)" in page  # kept, as text inside the JSON


def test_explore_fails_cleanly_on_an_unknown_sweep(tmp_path):
    done = CliRunner().invoke(app, ["explore", "nosuch", "--out", str(tmp_path)])
    assert done.exit_code != 0
    assert "nosuch" in done.output and "Traceback" not in done.output


@pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("IMBENCH_REQUIRE_BROWSER"),
    reason="Chromium not installed (apt-get install chromium; CI installs it)",
)
def test_filters_recompute_the_table_and_its_answer_in_chromium(tmp_path):
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "IMBENCH_REQUIRE_BROWSER is set but chromium is missing"
    page_file = write_explore(REFERENCE, tmp_path / "explore.html")
    table = descriptors(REFERENCE.read_cells())
    table["band"] = assign(table, "ir")  # bands are cut over every ratio's rows
    table = table[table["imbalance_ratio"] == "native"]
    last = str([c for c in table["band"].cat.categories if (table["band"] == c).any()][-1])
    high = set(table.loc[table["band"] == last, "dataset"])
    errors, requests = [], []
    with sync_playwright() as p:
        args = ["--no-sandbox", "--disable-gpu"]
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
        page = browser.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(page_file.as_uri(), wait_until="load")

        def row(strategy: str) -> list[str]:
            return page.eval_on_selector_all(
                f"tr[data-strategy='{strategy}'] td", "els => els.map(e => e.textContent)"
            )

        page.select_option("#classifier", "lr")
        page.select_option("#metric", "mcc")
        first = page.inner_text("#answer")
        none_all = row("none")
        page.select_option("#regime", "ir")
        page.select_option("#band", last)
        banded = page.inner_text("#answer")
        none_band, smote_band = row("none"), row("smote")
        browser.close()
    assert errors == [] and all(u.startswith("file:") for u in requests), (errors, requests)
    wide = _means("lr", "native", "mcc")
    assert f"N = {len(wide)} datasets" in first
    # the lead: the best mean rank among strategies that ran on every dataset shown
    ranks = wide.rank(axis=1, ascending=False, method="average").mean()
    full = ranks[wide.notna().sum() == len(wide)]
    leader = sorted(full.index, key=lambda name: (round(full[name], 9), name))[0]
    assert f"Leading on mcc by mean rank: {leader} (mean rank {full[leader]:.2f}" in first
    assert none_all[1] == str(len(wide)) and float(none_all[2]) == pytest.approx(
        wide["none"].mean(), abs=1e-4
    )
    # the band's table is the band's datasets only, and its sentence names their N
    band = _means("lr", "native", "mcc", high)
    assert f"{last}: N = {len(band)} datasets" in banded
    assert float(none_band[2]) == pytest.approx(band["none"].mean(), abs=1e-4)
    diff = (band["smote"] - band["none"]).dropna()
    assert float(smote_band[4]) == pytest.approx(diff.mean(), abs=1e-4)
    wins, ties, losses = (int(x) for x in smote_band[5].split(" / "))
    assert (wins, wins + ties + losses) == ((diff > 1e-9).sum(), len(diff))
