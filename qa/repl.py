"""The interactive chat: prompt_toolkit input, rich output, and its /commands."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.completion import Completer, Completion
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from rich.console import Console
from rich.table import Table
from rich.text import Text

from qa import render
from qa.answer import Answer, Engine
from qa.errors import QAError, UsageError

# Longer input is cut: typing it takes ages without bracketed paste, and BM25 needs far less.
MAX_QUESTION_CHARS = 2000


def data_dir() -> Path:
    """The user's data folder for qa (XDG on Linux), where the chat history lives."""
    if sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    elif os.name == "nt":
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "qa"


def open_history() -> tuple[History, str | None]:
    """A file history in the data folder, or an in-memory one and the reason it had to be."""
    path = data_dir() / "history"
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.close(fd)
        return FileHistory(str(path)), None
    except OSError as e:
        return InMemoryHistory(), f"history will not be saved ({path}: {e.strerror or e})"


@dataclass
class Session:
    """What the chat remembers between questions."""

    engine: Engine
    console: Console
    top: int = 3
    last: Answer | None = None
    running: bool = True
    commands: dict[str, Command] = field(default_factory=dict)


@dataclass(frozen=True)
class Command:
    name: str
    args: str
    help: str
    run: Callable[[Session, str], None]


def _cmd_help(s: Session, arg: str) -> None:
    table = Table(show_header=False, box=None, padding=(0, 2))
    for c in s.commands.values():
        table.add_row(Text(f"/{c.name} {c.args}".strip(), style="bold"), Text(c.help))
    s.console.print(Text("Type a question and press Enter. Commands:", style="dim"))
    s.console.print(table)


def _cmd_quit(s: Session, arg: str) -> None:
    s.running = False


def _cmd_top(s: Session, arg: str) -> None:
    try:
        n = int(arg)
    except ValueError:
        raise UsageError("usage: /top N, with N a whole number from 1 to 100") from None
    if not 1 <= n <= 100:
        raise UsageError("usage: /top N, with N a whole number from 1 to 100")
    s.top = n
    s.console.print(Text(f"showing {n} sentence(s) per answer", style="dim"))


def _sentence_number(s: Session, arg: str, usage: str) -> int:
    n_sent = len(s.engine.index)
    try:
        n = int(arg)
    except ValueError:
        raise UsageError(f"usage: {usage}, with N from 1 to {n_sent}") from None
    if not 1 <= n <= n_sent:
        raise UsageError(f"no sentence {n}: the text has sentences 1 to {n_sent}")
    return n - 1


def _cmd_show(s: Session, arg: str) -> None:
    if not arg and s.last and s.last.hits:
        i = s.last.hits[0].sentence.index
    else:
        i = _sentence_number(s, arg, "/show N")
    index = s.engine.index
    for j in index.neighbours(i, radius=2):
        sent = index.sentence(j)
        style = "bold" if j == i else "dim"
        line = Text(f"#{j + 1:<4}", style="cyan" if j == i else "dim")
        line.append(Text(render.safe(sent.text), style=style))
        s.console.print(line)
    sent = index.sentence(i)
    s.console.print(Text(f"{render.safe(sent.source)}, chars {sent.start}-{sent.end}, "
                         f"paragraph {sent.paragraph + 1}", style="dim"))


COMMANDS = [
    Command("help", "", "this list", _cmd_help),
    Command("show", "N", "sentence N with its neighbours (default: the last answer's)", _cmd_show),
    Command("top", "N", "show N sentences per answer", _cmd_top),
    Command("quit", "", "leave (Ctrl-D works too)", _cmd_quit),
]


class QACompleter(Completer):
    """Completes /commands, and words of the text from their first letters."""

    def __init__(self, words: list[str], commands: list[str]) -> None:
        self.words = sorted(set(words))
        self.commands = commands

    def get_completions(self, document, complete_event):
        text = document.text_before_cursor
        if text.startswith("/") and " " not in text:
            for name in self.commands:
                if name.startswith(text[1:]):
                    yield Completion(name, start_position=-(len(text) - 1))
            return
        word = document.get_word_before_cursor()
        if len(word) < 2:
            return
        low = word.lower()
        for w in self.words:
            if w.startswith(low) and w != low:
                yield Completion(w, start_position=-len(word))


def handle_line(s: Session, line: str) -> None:
    """One line of input: a /command or a question. Errors are shown, never raised."""
    line = line.strip()[:MAX_QUESTION_CHARS]
    if not line:
        return
    try:
        if line.startswith("/"):
            name, _, arg = line[1:].partition(" ")
            cmd = s.commands.get(name.lower())
            if cmd is None:
                raise UsageError(f"unknown command /{name}: /help lists the commands")
            cmd.run(s, arg.strip())
            return
        answer = s.engine.ask(line, top=s.top)
        s.last = answer
        render.rich_answer(answer, s.console)
    except QAError as e:
        s.console.print(Text(str(e), style="red"))
    except Exception as e:  # the chat outlives any bug: say it, keep going
        s.console.print(Text(f"internal error: {type(e).__name__}: {e}", style="red"))


def run_repl(engine: Engine, top: int = 3, no_color: bool = False, input=None,
             output=None, console: Console | None = None) -> int:
    """Chat until /quit or Ctrl-D; returns the exit status."""
    console = console or Console(no_color=no_color or None, highlight=False, emoji=False,
                                 markup=False)
    s = Session(engine=engine, console=console, top=top,
                commands={c.name: c for c in COMMANDS})
    history, warning = open_history() if input is None else (InMemoryHistory(), None)
    words = [w for w in engine.index.surfaces if len(w) > 2 and w.isalpha()]
    session: PromptSession[str] = PromptSession(
        history=history, auto_suggest=AutoSuggestFromHistory(),
        completer=QACompleter(words, list(s.commands)), complete_while_typing=False,
        input=input, output=output)
    index = engine.index
    names = ", ".join(render.safe(n) for n in index.sources[:3])
    more = f" and {len(index.sources) - 3} more" if len(index.sources) > 3 else ""
    console.print(Text(f"qa: {names}{more}, {len(index)} sentences. "
                       "Ask a question; /help for commands, Ctrl-D to leave.", style="dim"))
    if warning:
        console.print(Text(f"note: {warning}", style="yellow"))
    while s.running:
        try:
            line = session.prompt("? ")
        except KeyboardInterrupt:
            continue  # Ctrl-C clears the line
        except EOFError:
            break
        handle_line(s, line)
    return 0
