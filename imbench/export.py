"""A sweep's cell as an MLflow model: ``imbench export``.

The configuration is refitted on all rows (``imbench.deploy.refit``) and saved in
MLflow's scikit-learn flavour, with a signature inferred from the feature table,
an input example, and as metadata the honest estimate that chose it (the cell's
outer-fold scores from the sweep, never a score of the refit itself), the
choices the inner folds made and the provenance of the sweep. It is also logged
as a run of the experiment ``imbench-export``, so the UI lists it beside the
sweeps.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from imbench.deploy import Deployable, refit
from imbench.errors import ConfigError
from imbench.packages import package_version
from imbench.protocol import ProtocolSettings
from imbench.results import SweepFolder
from imbench.verdict import decision_metric

__all__ = ["Exported", "estimate_of", "export_cell"]

EXPERIMENT = "imbench-export"
ESTIMATED = ("pr_auc", "roc_auc", "mcc", "f1", "brier", "ece")


@dataclass
class Exported:
    path: Path
    deployable: Deployable
    estimate: dict[str, float]
    cell: dict[str, Any]
    run_id: str | None = None


def _cell(folder: SweepFolder, dataset: str, strategy: str, classifier: str) -> pd.DataFrame:
    cells = folder.read_cells()
    native = cells[cells["imbalance_ratio"] == "native"]
    by_name = native[(native["dataset"] == dataset) | (native["dataset_key"] == dataset)]
    if by_name.empty:
        known = sorted(set(native["dataset"]))
        raise ConfigError(
            f"sweep {folder.name!r} has no dataset {dataset!r} at native imbalance "
            f"(it has {', '.join(known[:8])}{', ...' if len(known) > 8 else ''}); a model is "
            "exported from the data as it is, not from a ratio variant"
        )
    rows = by_name[(by_name["strategy"] == strategy) & (by_name["classifier"] == classifier)]
    if rows.empty:
        have = sorted(set(by_name["strategy"] + " x " + by_name["classifier"]))
        raise ConfigError(
            f"sweep {folder.name!r} has no cell {strategy} x {classifier} on {dataset}; "
            f"it has {', '.join(have[:10])}"
        )
    ok = rows[rows["status"] == "ok"]
    if ok.empty:
        raise ConfigError(
            f"{strategy} x {classifier} on {dataset} did not run in sweep {folder.name!r}: "
            f"{rows.iloc[0]['reason']}"
        )
    return ok


def estimate_of(folder: SweepFolder, cell_ids: list[str], objective_metric: str) -> dict[str, Any]:
    """The cell's outer-fold scores (over its seeds): mean and standard deviation per
    metric, and how many outer folds they are of."""
    folds = folder.read_folds()
    mine = folds[folds["cell_id"].isin(cell_ids)]
    out: dict[str, Any] = {"n_outer_folds": len(mine)}
    for metric in dict.fromkeys([*ESTIMATED, objective_metric]):
        if metric in mine:
            values = mine[metric].dropna()
            out[f"{metric}_mean"] = float(values.mean())
            out[f"{metric}_sd"] = float(values.std(ddof=1)) if len(values) > 1 else float("nan")
    if "threshold" in mine:
        out["threshold_outer_mean"] = float(mine["threshold"].mean())
    return out


def export_cell(
    folder: SweepFolder,
    settings: ProtocolSettings,
    *,
    dataset: str,
    strategy: str,
    classifier: str,
    output: Path,
    seed: int | None = None,
) -> Exported:
    """Refit a finished cell's configuration on all rows and save it as an MLflow
    model at ``output`` (replaced if it is an earlier export)."""
    import mlflow.sklearn
    from mlflow.models import infer_signature

    from imbench.names import canonical_strategy

    strategy = canonical_strategy(strategy)
    rows = _cell(folder, dataset, strategy, classifier)
    key = str(rows.iloc[0]["dataset_key"])
    chosen_seed = int(rows["seed"].min()) if seed is None else seed
    deployable = refit(key, strategy, classifier, settings, seed=chosen_seed)
    fingerprint = str(rows.iloc[0]["fingerprint"])
    objective_metric = decision_metric(
        settings.protocol.threshold_objective, settings.protocol.beta
    )
    estimate = estimate_of(folder, rows["cell_id"].tolist(), objective_metric)
    head = deployable.frame.head(20)
    signature = infer_signature(head, deployable.model.predict(head))
    metadata = {
        "imbench_version": package_version("imbench"),
        "sweep": folder.name,
        "dataset": str(rows.iloc[0]["dataset"]),
        "dataset_key": key,
        "dataset_fingerprint": fingerprint,
        "strategy": strategy,
        "classifier": classifier,
        "seed": chosen_seed,
        "cell_ids": sorted(rows["cell_id"].tolist()),
        "n_rows": deployable.n_rows,
        "n_minority": deployable.n_minority,
        "positive_class": "1 = the minority class",
        "chosen_params": {k: _plain(v) for k, v in deployable.params.items()},
        "threshold": deployable.threshold,
        "threshold_objective": settings.protocol.threshold_objective,
        "calibration": deployable.calibration,
        "refit_inner_pr_auc": deployable.inner_pr_auc,
        "estimate": estimate,
        "estimate_note": (
            "outer-fold scores of this configuration in the sweep's nested cross-validation; "
            "the refit on all rows has no held-out score of its own"
        ),
        "protocol": json.loads(settings.protocol.model_dump_json()),
        "provenance": folder.read_provenance(),
    }
    if output.exists() and not (output / "MLmodel").exists():
        raise ConfigError(f"{output} exists and is not an exported model; choose another -o")
    output.parent.mkdir(parents=True, exist_ok=True)
    # written beside its place and moved there whole: a failed export leaves no
    # half-written model, and an earlier export is replaced only by a complete one
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}-", dir=output.parent)) / "model"
    # skops, MLflow's safe format: the model's own classes are named as trusted
    # (imbench's and imblearn's steps), so loading it runs no arbitrary pickle
    import skops.io

    trusted = skops.io.get_untrusted_types(data=skops.io.dumps(deployable.model))
    try:
        mlflow.sklearn.save_model(
            deployable.model,
            str(staging),
            serialization_format="skops",
            skops_trusted_types=trusted,
            signature=signature,
            input_example=deployable.frame.head(3),
            metadata=json.loads(json.dumps(metadata, default=str)),
        )
        if output.exists():
            shutil.rmtree(output)
        staging.rename(output)
    finally:
        shutil.rmtree(staging.parent, ignore_errors=True)
    return Exported(output, deployable, estimate, metadata)


def log_export(exported: Exported, uri: str, artifact_root: Path) -> str:
    """The export as a run of experiment ``imbench-export``: the choices as params,
    the estimate as metrics, the model as the run's ``model`` artifact."""
    from mlflow.tracking import MlflowClient

    from imbench.tracking import log_standalone_run

    meta = exported.cell
    params = {
        "sweep": meta["sweep"], "dataset": meta["dataset"], "strategy": meta["strategy"],
        "classifier": meta["classifier"], "seed": meta["seed"],
        "threshold": meta["threshold"], "calibration": meta["calibration"] or "none",
        **{f"chosen.{k}": v for k, v in meta["chosen_params"].items()},
    }  # fmt: skip
    metrics = {f"estimate.{k}": float(v) for k, v in exported.estimate.items()}
    if meta["threshold"] is not None:
        metrics["threshold"] = float(meta["threshold"])
    tags = {"imbench.role": "export", "imbench.sweep": meta["sweep"]}
    name = f"{meta['dataset']}/{meta['strategy']}/{meta['classifier']}"
    run_id = log_standalone_run(uri, artifact_root, EXPERIMENT, name, params, metrics, [], tags)
    MlflowClient(tracking_uri=uri).log_artifacts(run_id, str(exported.path), "model")
    exported.run_id = run_id
    return run_id


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value if isinstance(value, str | int | float | bool | type(None)) else repr(value)
