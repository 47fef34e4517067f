"""Error types that carry a message meant for a person (UI banner, CLI stderr)."""


class FedLensError(Exception):
    """Base class of every error FedLens reports to a user instead of a traceback."""


class DataError(FedLensError, ValueError):
    """An uploaded or bundled dataset cannot be used.

    The message names the problem precisely (file, column, row, client) and, where
    possible, what the user can do about it.
    """


class ConfigError(FedLensError, ValueError):
    """A run, scenario or method configuration is invalid (unknown name, bad value)."""
