"""Methods: ``list`` what is registered, ``check`` one entry against the contract."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from imbench.cli.app import ConfigArg, app, err
from imbench.cli.render import print_registry
from imbench.cli.render_compare import print_checks
from imbench.config import load_config_dict


def _install_config(config: Path | None) -> None:
    """Load a config's plugins and declared entries (built-ins and installed plugins'
    entry points always count)."""
    from imbench.declared import Methods
    from imbench.methods import install

    install(Methods.of_config(load_config_dict(config) if config else {}))


@app.command("list")
def list_entries(config: ConfigArg = None) -> None:
    """Strategies, modifiers, classifiers, metrics and threshold objectives."""
    from imbench.methods import describe_registries

    _install_config(config)
    print_registry(describe_registries())


@app.command()
def check(
    name: Annotated[str, typer.Argument(help="a strategy or classifier, e.g. one you declared")],
    config: ConfigArg = None,
) -> None:
    """Run the contract suite on one entry: builds, clones, fits and scores, sees training
    rows only, learns a signal, scores at chance on permuted labels. Exit 1 if one fails."""
    from threadpoolctl import threadpool_limits

    from imbench.checks import MINORITY, N_PERMUTED, N_ROWS, SETTINGS, check_entry

    _install_config(config)
    with threadpool_limits(limits=1):
        kind, checks = check_entry(name)
    setup = (
        f"{N_ROWS} rows ({N_PERMUTED} permuted), {MINORITY:.0%} minority, "
        f"{SETTINGS.outer_folds} outer x {SETTINGS.inner_folds} inner folds"
    )
    print_checks(kind, name, checks, setup)
    failed = [c.name for c in checks if c.ok is False]
    if failed:
        err.print(f"[bold red]{name} fails:[/] {', '.join(failed)}", highlight=False)
        raise typer.Exit(1)
