"""``imbench run CONFIG --against reference``: your strategies on a finished sweep's
grid, beside its cells (see ``imbench.against``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from imbench.cli.app import err
from imbench.config import SweepConfig, load_config_dict
from imbench.errors import ConfigError
from imbench.results import SweepFolder


def run_against(
    config: Path | None,
    spec: str | None,
    lite: bool,
    overrides: dict[str, Any],
    *,
    quiet: bool,
    report: Callable[[SweepConfig, dict[str, Any]], None],
) -> None:
    """``run --against``: the config's strategies on a finished sweep's grid."""
    import imbench
    from imbench.against import AGAINST, against, find_reference, seed_from
    from imbench.datasets import check_datasets
    from imbench.flows.launch import launch
    from imbench.resolve import build_config
    from imbench.store import SweepStore

    if spec is None:
        raise ConfigError("--lite goes with --against (e.g. --against reference --lite)")
    user = load_config_dict(config) if config is not None else {}
    out = overrides["out"] or Path(user.get("out") or "results")
    checkout = Path(imbench.__file__).resolve().parents[1] / "results"
    plan = against(user, find_reference(spec, Path(out), checkout), lite=lite, overrides=overrides)
    run_as = {k: overrides[k] for k in ("out", "workers", "tracking_uri", "dask_address")}
    cfg = build_config(plan.raw, run_as)  # every error before anything is copied
    check_datasets(cfg.datasets, min_minority=cfg.protocol.min_minority)
    target = SweepFolder.of(cfg.out, cfg.name)
    seed_from(plan.reference, target)
    SweepStore(cfg.out, cfg.name).write_json(AGAINST, plan.describe())
    err.print(plan.line(), highlight=False, soft_wrap=True)
    show = None if quiet else (lambda line: err.print(f"plan: {line}", highlight=False))
    outcome = launch(plan.raw, run_as, show_progress=not quiet, on_plan=show, checked=cfg)
    report(outcome.cfg, outcome.summary)
