"""Errors the library raises; the CLI turns each into one stderr line and an exit code."""


class QAError(Exception):
    """A problem a person can act on; the message says what went wrong and what to do."""

    exit_code = 2


class UsageError(QAError):
    """The command line or a REPL command was used wrongly."""


class CorpusError(QAError):
    """A corpus file or folder cannot be used."""


class GoldError(QAError):
    """A gold question file cannot be read."""


class ModelError(QAError):
    """Weights shipped with qa are missing or damaged."""
