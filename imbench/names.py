"""The grammar of strategy names, without the registry: ``base+modifier+...``.

``smote+threshold``, ``smote+calibrated+threshold`` and ``threshold`` (which means
``none+threshold``) are names of one base strategy with modifiers that reuse its
fits. Parsing a config needs only this grammar; looking the base up is the resolve
step's (``imbench.strategies.parse_strategy``).
"""

from __future__ import annotations

import difflib

from imbench.errors import ConfigError

__all__ = ["MODIFIERS", "canonical_strategy", "split_strategy", "strategy_name"]

MODIFIERS = ("calibrated", "threshold")  # canonical order in names


def split_strategy(name: str) -> tuple[str, tuple[str, ...]]:
    """``name`` as (base, modifiers in canonical order); unknown or repeated
    modifiers are a ConfigError naming the strategy."""
    tokens = [t.strip() for t in name.strip().split("+")]
    if tokens[0] in MODIFIERS:
        tokens.insert(0, "none")
    base, mods = tokens[0], tokens[1:]
    for mod in mods:
        if mod not in MODIFIERS:
            close = difflib.get_close_matches(mod, MODIFIERS, n=1)
            hint = f" (did you mean +{close[0]}?)" if close else ""
            raise ConfigError(
                f"strategies: unknown modifier '+{mod}' in {name!r}{hint}; "
                f"known: {', '.join('+' + m for m in MODIFIERS)}"
            )
    if len(set(mods)) != len(mods):
        raise ConfigError(f"strategies: {name!r} repeats a modifier")
    if not base:
        raise ConfigError(f"strategies: {name!r} has no strategy before its modifiers")
    return base, tuple(m for m in MODIFIERS if m in mods)


def strategy_name(base: str, modifiers: tuple[str, ...]) -> str:
    """The canonical name: ``none`` is left out when a modifier follows."""
    parts = [m for m in MODIFIERS if m in modifiers]
    if base != "none" or not parts:
        parts.insert(0, base)
    return "+".join(parts)


def canonical_strategy(name: str) -> str:
    """``threshold+smote``-style spellings as the one name a sweep stores."""
    return strategy_name(*split_strategy(name))
