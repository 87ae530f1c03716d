"""Exceptions with messages meant for the user."""


class ImbenchError(Exception):
    """Base class: the CLI prints these without a traceback."""


class ConfigError(ImbenchError):
    """A config value or CLI flag is invalid; raised before any compute."""


class CannotRun(ImbenchError):
    """A cell cannot run on its data (recorded as skipped with this reason)."""


class SamplerCannotRun(CannotRun):
    """A resampler refused the rows it was given (e.g. ADASYN finding no majority
    neighbours): the data's doing, not a bug, and a rerun would fail the same way.
    Raised by ``strategies.Resample``, the wrapper every sampler step runs in."""
