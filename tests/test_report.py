"""compare and report on a finished sweep: files, MLflow artifacts, and the report
rendered in headless Chromium (offline, every figure drawn, no console errors)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from imbench.cli import app
from imbench.engine import evaluate_batch
from imbench.leaderboard import build_leaderboard
from imbench.plan import group_units
from imbench.protocol import ProtocolSettings
from imbench.resolve import build_config
from imbench.store import SweepStore
from imbench.sweep import plan_sweep
from imbench.tracking import Tracker, default_tracking_uri

from conftest import tiny_config

# its module-scoped fixture is made once: the module stays on one xdist worker
pytestmark = pytest.mark.xdist_group("report")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
STRATEGIES = ["none", "balanced", "smote", "smote+calibrated", "threshold"]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    """A finished sweep written by the core (no Prefect needed) and logged to MLflow."""
    out = tmp_path_factory.mktemp("report")
    raw = tiny_config(
        out,
        name="rep",
        datasets=[f"synthetic:n=240,minority=0.12,features=4,seed={s}" for s in range(4)],
        ratios=["native", 10],
        strategies=STRATEGIES,
        protocol={"outer_folds": 3, "inner_folds": 2, "min_minority": 6},
    )
    cfg = build_config(raw)
    plan = plan_sweep(cfg)
    results = evaluate_batch(group_units(plan.cells), ProtocolSettings.of(cfg), min_minority=6)
    store = SweepStore(out, cfg.name)
    store.prepare()
    store.commit(results)
    cells, folds = store.consolidate(plan.ids)
    store.write_leaderboard(build_leaderboard(folds))
    store.write_json("config.json", cfg.model_dump(mode="json"))
    tracker = Tracker(default_tracking_uri(out), artifact_root=out / "mlartifacts")
    tracker.start_sweep(cfg.name, {}, {})
    tracker.log_cells(cells, folds)
    tracker.finish({"cells": len(cells)}, [])
    return store.dir


def _cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _artifacts(out: Path, path: str) -> list[str]:
    client = MlflowClient(default_tracking_uri(out))
    (run,) = client.search_runs(
        [client.get_experiment_by_name("imbench").experiment_id],
        "tags.`imbench.role` = 'sweep'",
    )
    return [Path(a.path).name for a in client.list_artifacts(run.info.run_id, path)]


def test_compare_writes_stats_and_cd_figures_and_logs_them(sweep):
    out = sweep.parent
    text = _cli("compare", "rep", "--out", str(out), "--metric", "brier", "--baseline", "none")
    assert "Friedman p=" in text and "N=4 datasets" in text
    stats = pd.read_parquet(sweep / "stats.parquet")
    brier = stats[stats["metric"] == "brier"]
    assert set(brier["imbalance_ratio"]) == {"native", "10"}
    assert set(brier["test"]) >= {"rank", "friedman", "nemenyi", "wilcoxon_holm"}
    assert (brier[brier["test"] == "bayes_signed_rank"]["other"] == "none").all()
    # a second metric adds rows instead of replacing the first one's
    _cli("compare", "rep", "--out", str(out), "--metric", "mcc", "--ratio", "10")
    stats = pd.read_parquet(sweep / "stats.parquet")
    assert {"brier", "mcc"} <= set(stats["metric"])
    assert set(stats[stats["metric"] == "mcc"]["imbalance_ratio"]) == {"10"}
    assert (sweep / "figures" / "cd_brier_lr_native.png").stat().st_size > 1000
    logged = _artifacts(out, "stats")
    assert "stats.parquet" in logged and "cd_brier_lr_native.png" in logged


def test_compare_rejects_a_bad_metric_by_name(sweep):
    result = CliRunner().invoke(app, ["compare", "rep", "--out", str(sweep.parent), "-m", "x"])
    assert result.exit_code != 0


def test_report_is_self_contained_and_logged(sweep):
    _cli("report", "rep", "--out", str(sweep.parent))
    page = (sweep / "report.html").read_text()
    assert "http://" not in page and "https://" not in page  # nothing to fetch
    n_img = page.count("<img ")
    assert n_img == page.count('src="data:image/png;base64,') >= 6
    for heading in ("Leaderboard", "Critical-difference", "imbalance ratio", "Reliability"):
        assert heading in page
    for strategy in STRATEGIES:
        assert f"<td>{strategy}</td>" in page
    logged = _artifacts(sweep.parent, "report")
    assert "report.html" in logged and sum(name.endswith(".png") for name in logged) == n_img
    # the decision curves' table beside their figures, in the folder and in MLflow
    assert "decision_curves.parquet" in logged
    curves = pd.read_parquet(sweep / "decision_curves.parquet")
    assert {"none", "smote"} <= set(curves["strategy"]) and curves["net_benefit"].notna().all()


@pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("IMBENCH_REQUIRE_BROWSER"),
    reason="Chromium not installed (apt-get install chromium; CI installs it)",
)
def test_report_renders_in_headless_chromium_offline(sweep):
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "IMBENCH_REQUIRE_BROWSER is set but chromium is missing"
    _cli("report", "rep", "--out", str(sweep.parent))
    errors, requests = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto((sweep / "report.html").as_uri(), wait_until="load")
        sizes = page.eval_on_selector_all(
            "img", "els => els.map(e => [e.complete, e.naturalWidth, e.naturalHeight])"
        )
        title = page.title()
        browser.close()
    assert title == "imbench: rep"
    assert len(sizes) >= 6
    assert all(done and w > 100 and h > 100 for done, w, h in sizes), sizes
    assert errors == []
    assert all(u.startswith(("file:", "data:")) for u in requests), requests


def test_report_on_committed_results_writes_elsewhere_and_keeps_them(sweep, tmp_path):
    """results/reference is committed: reading it must never rewrite its files."""
    import subprocess

    root = tmp_path / "repo"
    shutil.copytree(sweep, root / "results" / "rep")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(root)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "results"], check=True)
    before = {p: p.read_bytes() for p in (root / "results" / "rep").rglob("*") if p.is_file()}
    out = root / "results"
    text = _cli("report", "rep", "--out", str(out), "--baseline", "none")
    _cli("compare", "rep", "--out", str(out), "--metric", "mcc")
    after = {p: p.read_bytes() for p in (root / "results" / "rep").rglob("*") if p.is_file()}
    assert after == before  # not one committed byte changed, nothing added
    view = out / "views" / "rep"
    assert (view / "report.html").exists() and "mcc" in set(
        pd.read_parquet(view / "stats.parquet")["metric"]
    )
    assert "views" in text.replace("\n", "")


def test_report_figures_have_captions_in_words_and_distinct_strategy_styles(sweep):
    from imbench.figures import style

    _cli("report", "rep", "--out", str(sweep.parent))
    page = (sweep / "report.html").read_text()
    assert "cd_pr_auc" not in page.split("<figcaption>", 1)[1]  # captions are sentences
    assert "Mean rank of each strategy on pr_auc" in page
    assert "gains over none" in page  # heatmaps: difference to the baseline
    looks = {(style(i)["color"], style(i)["marker"], style(i)["linestyle"]) for i in range(30)}
    assert len(looks) == 30


def test_each_cell_run_logs_its_dataset_as_an_mlflow_input(sweep):
    """The MLflow UI's Dataset column and filters read run inputs (they showed `-`)."""
    client = MlflowClient(default_tracking_uri(sweep.parent))
    exp = client.get_experiment_by_name("imbench")
    runs = client.search_runs([exp.experiment_id], "tags.`imbench.role` = 'cell'", max_results=500)
    cells = pd.read_parquet(sweep / "cells.parquet").set_index("cell_id")
    assert len(runs) == len(cells)
    for run in runs:
        (inp,) = run.inputs.dataset_inputs
        cell = cells.loc[run.data.tags["imbench.cell_id"]]
        assert inp.dataset.name == cell["dataset"] and inp.dataset.digest == cell["fingerprint"]
        assert inp.dataset.source_type == "code"  # synthetic data
        tags = {t.key: t.value for t in inp.tags}
        assert tags["mlflow.data.context"] == f"ratio {cell['imbalance_ratio']}"


def test_results_are_readable_without_the_classifiers_library(sweep, tmp_path, monkeypatch):
    """`report gbdt` without the gbdt extra: reading results needs no xgboost."""
    import json

    from imbench import classifiers

    copy = tmp_path / "rep"
    shutil.copytree(sweep, copy)
    config = json.loads((copy / "config.json").read_text())
    config["classifiers"] = ["lr", "xgb"]
    (copy / "config.json").write_text(json.dumps(config))
    monkeypatch.delitem(classifiers.CLASSIFIERS, "xgb", raising=False)
    _cli("report", "rep", "--out", str(tmp_path))
    assert (copy / "report.html").exists()
    result = CliRunner().invoke(app, ["run", "-c", "xgb", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and 'pip install -e ".[gbdt]"' in result.output


def test_results_are_readable_after_their_data_file_moved(tmp_path):
    """report and compare read Parquet: a CSV that was moved since the sweep ran does not
    stop them, while a new sweep on it still fails on the missing file."""
    import numpy as np

    from conftest import core_sweep

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(300, 4)), columns=list("abcd"))
    frame["target"] = (frame["a"] + rng.normal(size=300) > 1.6).astype(int)
    data = tmp_path / "d.csv"
    frame.to_csv(data, index=False)
    core_sweep(tiny_config(tmp_path / "out", name="moved", datasets=[str(data)]))
    data.rename(tmp_path / "elsewhere.csv")
    _cli("report", "moved", "--out", str(tmp_path / "out"))
    assert (tmp_path / "out" / "moved" / "report.html").exists()
    _cli("compare", "moved", "--out", str(tmp_path / "out"))
    assert (tmp_path / "out" / "moved" / "stats.parquet").exists()
    result = CliRunner().invoke(app, ["run", "-d", str(data), "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and "file not found" in result.output


def test_report_opens_with_the_verdict_native_first(sweep):
    _cli("report", "rep", "--out", str(sweep.parent))
    page = (sweep / "report.html").read_text()
    verdict, board = page.index("<h2>Verdict</h2>"), page.index("<h2>Leaderboard</h2>")
    assert verdict < board
    head = page[verdict:board]
    assert head.index("lr, native imbalance") < head.index("lr, ratio 10")
    assert "N = 4 datasets" in head and ("beats none" in head or "no strategy differs" in head)
    tables = page[board:]
    assert tables.index("ratio=native") < tables.index("ratio=10")


def test_end_labels_of_the_ratio_plot_never_overlap_and_ties_share_one():
    import matplotlib.pyplot as plt

    from imbench.figures import _end_labels

    fig, ax = plt.subplots()
    ax.set_ylim(0.0, 1.0)
    ends = {round(0.50 + 0.001 * k, 4): [(f"s{k}", k)] for k in range(13)}
    ends[0.3] = [("x", 20), ("x+threshold", 21)]
    _end_labels(ax, 1.0, ends)
    texts = sorted(ax.texts, key=lambda t: t.get_position()[1])
    ys = [t.get_position()[1] for t in texts]
    assert len(texts) == 14  # 13 + one shared by x and x+threshold
    assert all(b - a >= 0.04 - 1e-9 for a, b in zip(ys, ys[1:], strict=False))
    assert "x, x+threshold" in [t.get_text() for t in texts]
    plt.close(fig)
