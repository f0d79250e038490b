"""ganzoo's own exceptions: errors a user can cause, each with a one-line message that says how to fix it.

The entry points print the message alone (no traceback) and exit with status 2; set HYDRA_FULL_ERROR=1 to see
the traceback as well.
"""


class GanzooError(Exception):
    """A mistake in the user's input, reported as one line."""


class ConfigError(GanzooError):
    """An option or value the configuration cannot take."""


class DataError(GanzooError):
    """A dataset that is missing, empty or unreadable."""


class CheckpointError(GanzooError):
    """A checkpoint that is missing or was not written by ganzoo."""


class TrainingError(GanzooError):
    """A run that went wrong in a way its settings can fix, such as weights that are no longer finite."""


class StorageError(GanzooError):
    """A file the run could not write: a full disk, a quota, a read-only or forbidden directory."""
