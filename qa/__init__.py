"""qa: ask questions of a text from the terminal."""

# The one place the version is written (pyproject.toml reads it from here): reading it back
# through importlib.metadata would cost every `qa -q` some 10 ms of start-up.
__version__ = "0.1.0"
