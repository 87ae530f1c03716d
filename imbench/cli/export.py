"""Ship: ``export``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from imbench.cli.app import OutOpt, SweepArg, TrackingOpt, app, console, warn
from imbench.results import SweepFolder, slug


@app.command()
def export(
    sweep: SweepArg = None,
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="a dataset of the sweep")] = "",
    strategy: Annotated[str, typer.Option("--strategy", "-s")] = "",
    classifier: Annotated[str, typer.Option("--classifier", "-c")] = "",
    out: OutOpt = Path("results"),
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="model folder (default: <sweep>/models/<cell>)"),
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="default: the sweep's first")] = None,
    tracking_uri: TrackingOpt = None,
) -> None:
    """Refit a cell's configuration on all rows (inner folds choose its parameters,
    threshold and calibration, as in the sweep) and write it as an MLflow model."""
    from imbench.errors import ConfigError
    from imbench.export import export_cell, log_export
    from imbench.history import find_sweep
    from imbench.protocol import ProtocolSettings
    from imbench.resolve import build_config

    missing = [f"--{n}" for n, v in (("dataset", dataset), ("strategy", strategy),
                                     ("classifier", classifier)) if not v]  # fmt: skip
    if missing:
        raise ConfigError(f"export needs {', '.join(missing)}: which cell of the sweep to ship")
    sweep_dir = find_sweep(sweep, out)
    folder = SweepFolder(sweep_dir)
    console.print(f"sweep: {sweep_dir.name} ({sweep_dir})", highlight=False)
    raw = folder.read_config()
    raw.update(out=str(out), tracking_uri=tracking_uri or raw.get("tracking_uri"))
    cfg = build_config(raw)
    target = output or sweep_dir / "models" / slug(dataset, strategy, classifier)
    done = export_cell(
        folder, ProtocolSettings.of(cfg), dataset=dataset, strategy=strategy,
        classifier=classifier, output=target, seed=seed,
    )  # fmt: skip
    d, est = done.deployable, done.estimate
    chosen = ", ".join(f"{k}={v}" for k, v in d.params.items()) or "the classifier's defaults"
    console.print(f"refitted on {d.n_rows} rows ({d.n_minority} minority): {chosen}")
    if d.threshold is not None:
        console.print(
            f"threshold {d.threshold:.3f} ({cfg.protocol.threshold_objective}, inner folds)"
        )
    if d.calibration:
        console.print(f"calibration: {d.calibration} (inner folds)")
    console.print(
        f"estimate (the sweep's {est['n_outer_folds']} outer folds of this cell): "
        f"PR-AUC {est['pr_auc_mean']:.3f}, MCC {est['mcc_mean']:.3f}, F1 {est['f1_mean']:.3f}",
        highlight=False,
    )
    console.print(f"model: {target}  (mlflow.pyfunc.load_model({str(target)!r}))")
    try:
        from imbench.config import resolve_tracking_uri
        from imbench.results import mlartifacts

        uri = resolve_tracking_uri(cfg.tracking_uri, out)
        run_id = log_export(done, uri, mlartifacts(out))
        console.print(f"logged to MLflow at {uri}: run {run_id} of experiment imbench-export")
    except Exception as exc:  # noqa: BLE001 - the model is written; MLflow is extra
        warn(f"model written but not logged to MLflow: {type(exc).__name__}: {exc}")
