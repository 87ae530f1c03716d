"""The resolve step: a parsed config's names looked up, its methods installed.

``imbench.config`` parses and changes nothing; this module is where a config meets
the registries. It installs the config's plugins and declared entries (so their
names exist), then turns every strategy, classifier and dataset name into the one
a sweep stores: canonical strategy names, registry classifier names, dataset keys
(``keel:`` selections expanded, file paths made absolute). Everything that runs a
sweep resolves its config first; reading a finished sweep only parses it.
"""

from __future__ import annotations

from typing import Any

from imbench.catalogue import expand
from imbench.classifiers import get_classifier
from imbench.config import SweepConfig, parse_config
from imbench.datasets import resolve_dataset
from imbench.methods import install
from imbench.strategies import parse_strategy

__all__ = ["build_config", "resolve"]


def build_config(raw: dict[str, Any], overrides: dict[str, Any] | None = None) -> SweepConfig:
    """Parse ``raw`` with ``overrides`` and resolve it: the config a sweep runs.

    Parameters
    ----------
    raw
        A config as read from TOML (``imbench.config.load_config_dict``).
    overrides
        Command-line values that replace the file's (``None`` values are not given).

    Returns
    -------
    SweepConfig
        The config with every name resolved (see ``resolve``).

    Raises
    ------
    ConfigError
        The first invalid field or unknown name, in one line naming it; nothing has
        been computed or written.
    """
    return resolve(parse_config(raw, overrides))


def resolve(cfg: SweepConfig) -> SweepConfig:
    """Install ``cfg``'s plugins and declared entries in this process's registries,
    then look its names up.

    Parameters
    ----------
    cfg
        A parsed config.

    Returns
    -------
    SweepConfig
        A copy whose strategies, classifiers and datasets are the names the sweep
        stores; unknown names are a ConfigError with close matches.
    """
    install(cfg.methods())
    strategies = _unique([parse_strategy(s).name for s in cfg.strategies])
    classifiers = _unique([get_classifier(c).name for c in cfg.classifiers])
    names = [n for d in cfg.datasets for n in (expand(d) if d.startswith("keel:") else [d])]
    datasets = _unique([resolve_dataset(n).key for n in names])
    update = {"strategies": strategies, "classifiers": classifiers, "datasets": datasets}
    return cfg.model_copy(update=update)


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
