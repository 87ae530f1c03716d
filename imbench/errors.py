"""Exceptions with messages meant for the user."""


class ImbenchError(Exception):
    """Base class: the CLI prints these without a traceback."""


class ConfigError(ImbenchError):
    """A config value or CLI flag is invalid; raised before any compute."""


class CannotRun(ImbenchError):
    """A cell cannot run on its data (recorded as skipped with this reason)."""
