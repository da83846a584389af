"""qa: ask questions of a text from the terminal."""

from __future__ import annotations

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    # Resolved lazily, once: importlib.metadata costs start-up time that most runs need not pay.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            value = version("qa")
        except PackageNotFoundError:  # running from a source tree that is not installed
            value = "0+unknown"
        globals()["__version__"] = value
        return value
    raise AttributeError(name)
