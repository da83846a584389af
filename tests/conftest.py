"""Shared fixtures: the bundled article, an engine over it, and the installed `qa` command."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "corpus" / "tass-roscosmos-cnsa-lunar-station.txt"
DATA = Path(__file__).resolve().parent / "data"


def qa_command() -> str:
    """The installed `qa` script: beside this Python, else on PATH."""
    beside = Path(sys.executable).parent / "qa"
    found = str(beside) if beside.exists() else shutil.which("qa")
    if not found:
        pytest.skip("the qa command is not installed")
    return found


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory, monkeypatch):
    """Keep every test away from the real cache and history folders."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("NLTK_DATA", str(home / "nltk_data_empty"))
    yield


@pytest.fixture(scope="session")
def article_index():
    from qa.index import open_index

    return open_index([str(ARTICLE)], use_cache=False)


@pytest.fixture(scope="session")
def engine(article_index):
    from qa.answer import Engine

    return Engine(article_index)


@pytest.fixture
def qa_env(tmp_path):
    """Environment for running the installed command: private HOME, no colour codes."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QA_", "NO_COLOR"))}
    env.update(HOME=str(tmp_path), XDG_CACHE_HOME=str(tmp_path / "cache"),
               XDG_DATA_HOME=str(tmp_path / "data"), NLTK_DATA=str(tmp_path / "nltk_empty"),
               PYTHONIOENCODING="utf-8")
    return env


def wait_for_prompt(child) -> None:
    """Wait until the chat's prompt is drawn (a pexpect child), before sending it keys.

    Between prompts the terminal is back in cooked mode, where the line discipline takes a
    Ctrl-D as end-of-file for a read nobody is making: it never reaches the next prompt.
    """
    child.expect_exact("\x1b[?2004h")  # bracketed paste on: a new prompt, in raw mode
    child.expect_exact("\x1b[?25h")  # the cursor shown: drawn and waiting
