"""The interactive chat: prompt_toolkit input, rich output, and its /commands."""

from __future__ import annotations

import difflib
import errno
import os
import re
import stat
import sys
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from prompt_toolkit import PromptSession
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.completion import Completer, Completion, PathCompleter
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.lexers import Lexer
from prompt_toolkit.styles import Style
from rich import box
from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from qa import render
from qa import terms as terms_mod
from qa.answer import Engine
from qa.conversation import Conversation, Turn
from qa.question import MAX_QUESTION_CHARS
from qa.errors import QAError, UsageError

# A paste of more lines than this is cut, so a stray paste of a file cannot run for minutes.
MAX_PASTED_QUESTIONS = 20
# Sentences shown on either side by /show.
SHOW_RADIUS = 2
# Width of the bars in /why.
BAR_WIDTH = 12
# Commands whose argument is a file path (Tab completes paths there).
PATH_COMMANDS = ("load", "save")
# Sentences searched for a name's spelling; its first sentence nearly always holds it.
SPELLING_LOOKUPS = 20
EXAMPLES = 3

STYLE = Style.from_dict({
    "command": "ansigreen bold",
    "unknown-command": "ansired",
    "argument": "ansicyan",
    "bottom-toolbar": "noreverse bg:ansibrightblack fg:ansiwhite",
})


def data_dir() -> Path:
    """The user's data folder for qa (XDG on Linux), where the chat history lives."""
    if sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    elif os.name == "nt":
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    else:
        from qa.cache import xdg_base

        base = xdg_base("XDG_DATA_HOME", Path.home() / ".local" / "share")
    return base / "qa"


class SafeFileHistory(FileHistory):
    """A FileHistory that keeps the chat going when a write fails, and remembers why."""

    failure: str | None = None

    def store_string(self, string: str) -> None:
        if self.failure is not None:
            return
        try:
            super().store_string(string)
        except OSError as e:
            self.failure = f"history is no longer saved ({self.filename}: {e.strerror or e})"


def open_history() -> tuple[History, str | None, bool]:
    """A file history (or an in-memory one and why), and whether this is the first run."""
    try:
        path = data_dir() / "history"
    except RuntimeError:  # no HOME and no passwd entry (a container's anonymous user)
        return InMemoryHistory(), "history will not be saved (no home folder)", True
    first_run = not path.exists()
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.close(fd)
        _make_private(path)
        return SafeFileHistory(str(path)), None, first_run
    except OSError as e:
        return (InMemoryHistory(),
                f"history will not be saved ({path}: {e.strerror or e})", first_run)


def _make_private(path: Path) -> None:
    """History made user-only (0600 in a 0700 folder) even when an older qa left it 0644."""
    for target, mode in ((path, 0o600), (path.parent, 0o700)):
        try:
            if stat.S_IMODE(target.stat().st_mode) != mode:
                os.chmod(target, mode)
        except OSError:  # not ours to change: use it as it is
            pass


@dataclass
class Session:
    """What the chat remembers between questions."""

    conversation: Conversation
    console: Console
    top: int = 3
    paths: list[str] = field(default_factory=list)
    show_json: bool = False
    running: bool = True
    log: list[Turn] = field(default_factory=list)  # every turn, across /new, for /save
    commands: dict[str, Command] = field(default_factory=dict)
    on_load: Callable[[], None] | None = None

    @property
    def engine(self) -> Engine:
        return self.conversation.engine

    @property
    def last(self) -> Turn | None:
        return self.log[-1] if self.log else None

    def say(self, message: str, style: str = "dim") -> None:
        self.console.print(Text(render.safe(message), style=style))


@dataclass(frozen=True)
class Command:
    name: str
    args: str
    help: str
    run: Callable[[Session, str], None]


# ---- commands ----

def _cmd_help(s: Session, arg: str) -> None:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("command", style="bold green", no_wrap=True)
    table.add_column("what it does")
    for c in s.commands.values():
        table.add_row(f"/{c.name} {c.args}".strip(), c.help)
    s.say("Type a question and press Enter; follow-ups (\"when?\", \"what did he say?\") use "
          "the conversation. Tab completes.")
    s.console.print(table)


def _cmd_quit(s: Session, arg: str) -> None:
    s.running = False


def _whole_number(arg: str, lo: int, hi: int, usage: str) -> int:
    try:
        n = int(arg)
    except ValueError:
        raise UsageError(f"usage: {usage}, with N a whole number from {lo} to {hi}") from None
    if not lo <= n <= hi:
        raise UsageError(f"usage: {usage}, with N a whole number from {lo} to {hi}")
    return n


def _cmd_top(s: Session, arg: str) -> None:
    s.top = _whole_number(arg, 1, render.MAX_TOP, "/top N")
    s.say(f"showing {s.top} sentence(s) per answer")


def _show_target(s: Session, arg: str) -> int:
    """The sentence /show means: "N" or "#N" in the last answer's source (or the first),
    "NAME#N" in the source of that name, nothing: the last answer's sentence."""
    index = s.engine.index
    last = s.last.answer.hits[0].sentence if s.last and s.last.answer.hits else None
    source = int(index.source_ids[last.index]) if last and last.index < len(index) else 0
    if not arg:
        if last is None:
            raise UsageError(_show_usage(index, source))
        return last.index
    name, _, number = arg.rpartition("#")
    if name:
        source = _source_named(index, name)
    try:
        n = int(number)
    except ValueError:
        raise UsageError(_show_usage(index, source)) from None
    i = index.find(source, n)
    if i is None:
        raise UsageError(f"no sentence {n}: {render.safe_name(index.sources[source])} has "
                         f"sentences 1 to {_count(index, source)}")
    return i


def _source_named(index, name: str) -> int:
    """The source a label names: its whole name (a path under a folder, a URL) or, when only
    one source ends so, its last part ("library.html" for http://host/library.html)."""
    named = [k for k, n in enumerate(index.sources) if n == name]
    if not named:
        named = [k for k, n in enumerate(index.sources)
                 if n.rstrip("/").rsplit("/", 1)[-1] == name or render.safe_name(n) == name]
    if not named:
        raise UsageError(f"no source named {render.safe_line(name)}: /sources lists them")
    if len(set(index.sources[k] for k in named)) > 1:
        raise UsageError(f"{render.safe_line(name)} names several sources: give the whole "
                         "name (/sources lists them)")
    return named[0]


def _count(index, source: int) -> int:
    return int(np.searchsorted(index.source_ids, source, side="right")
               - index.source_starts[source])


def _show_usage(index, source: int) -> str:
    return (f"usage: /show N, with N from 1 to {_count(index, source)}, or /show NAME#N for "
            "another source")


def _cmd_show(s: Session, arg: str) -> None:
    index = s.engine.index
    i = _show_target(s, arg)
    numbered = Table.grid(padding=(0, 1, 0, 0))  # a hanging indent: wrapped lines align
    numbered.add_column(no_wrap=True)
    numbered.add_column()
    for j in index.neighbours(i, radius=SHOW_RADIUS):
        numbered.add_row(Text(f"#{index.number(j)}", style="bold cyan" if j == i else "dim"),
                         Text(render.safe(index.text(j)), style="bold" if j == i else "dim"))
    s.console.print(numbered)
    sent = index.sentence(i)
    para = index.paragraph_of(i)
    first_paragraph = int(index.paragraphs[int(index.source_starts[index.source_ids[i]])])
    s.console.print(Text(f"paragraph {sent.paragraph - first_paragraph + 1} (sentences "
                         f"{index.number(para.start)}-{index.number(para.stop - 1)})",
                         style="italic"))
    body = Text(" ").join(Text(render.safe(index.text(j)), style="bold" if j == i else "")
                          for j in para)
    s.console.print(Padding(body, (0, 0, 0, 2)))
    k = int(index.source_ids[i])
    s.say(f"{render.source_label(sent)}, sentence {sent.number} of {_count(index, k)}, "
          f"chars {sent.start}-{sent.end} (in the text qa --extract prints)")


def _bar(value: float, top: float) -> Text:
    n = 0 if top <= 0 or value <= 0 else max(1, round(BAR_WIDTH * value / top))
    return Text("\u2588" * n, style="green")


def _cmd_why(s: Session, arg: str) -> None:
    turn = s.last
    if turn is None or not turn.answer.hits:
        raise UsageError("nothing to explain yet: ask a question first")
    answer = turn.answer
    why = answer.explanation
    if len(why.sentences) != len(answer.hits):
        raise UsageError("that answer has no explanation: ask again")
    rank = _whole_number(arg, 1, len(answer.hits), "/why N") if arg else 1
    hit, sentence_why = answer.hits[rank - 1], why.sentences[rank - 1]
    # The header is a line of its own (a table title wraps at the table's width), and its
    # numbers are the answer's own: the order and chances the leads show.
    s.console.print(Text(f"why {render.sentence_ref(hit.sentence)} is lead {rank} of "
                         f"{len(answer.hits)}: {render.chance(hit.score)} chance it holds the "
                         "answer" + ("" if why.fast else " (ranker and reader together)"),
                         style="bold"))
    table = Table(box=box.SIMPLE_HEAD)
    for name, just in (("term", "left"), ("weight", "right"), ("IDF", "right"),
                       ("tf", "right"), ("BM25", "right"), ("", "left")):
        table.add_column(name, justify=just)
    top = max((t.bm25 for t in sentence_why.terms), default=0.0)
    for t in sentence_why.terms:
        table.add_row(Text(render.safe(t.word), style="bold yellow" if t.tf else "dim"),
                      f"{t.weight:.2f}" + (" ctx" if t.weight < 1 else ""),
                      f"{t.idf:.2f}" if t.idf is not None else "not in text", str(t.tf),
                      f"{t.bm25:.2f}", _bar(t.bm25, top))
    table.add_row(Text("BM25 total", style="bold"), "", "", "", f"{hit.bm25:.2f}", "")
    s.console.print(table)
    s.console.print(_contributions("the ranker's features (against an average candidate)",
                                   sentence_why.features))
    if sentence_why.combined:
        s.console.print(_contributions("how ranker and reader were weighed for it",
                                       sentence_why.combined))
    if rank == 1 and why.spans:
        reader = Table(title=Text(f"the reader ({why.windows} window(s) read): its best spans",
                                  style="bold"), box=box.SIMPLE_HEAD, title_justify="left")
        reader.add_column("span")
        reader.add_column("chance", justify="right")
        for text, p in why.spans:
            reader.add_row(Text(render.safe_line(render_short(text, 60))), render.chance(p))
        reader.add_row(Text("(no answer in these windows)", style="dim"),
                       render.chance(why.no_answer))
        s.console.print(reader)
    if rank == 1:
        s.console.print(_contributions("what the confidence rests on", why.confidence))
        decision = ("no answer: the first sentence's confidence "
                    f"{why.sentence_confidence:.0%} is under {why.abstain_below:.0%}"
                    if not answer.found else
                    f"the sentence: the span's confidence {why.answer_confidence:.0%} is under "
                    f"{why.span_from:.0%}" if answer.highlight else
                    f"the span: its confidence {why.answer_confidence:.0%} is at least "
                    f"{why.span_from:.0%}" if answer.spans else "the sentence")
        s.say(f"answered with {decision}")
    if len(answer.hits) > rank:
        nxt = answer.hits[rank]
        s.say(f"next: {render.sentence_ref(nxt.sentence)} at {render.chance(nxt.score)}; "
              f"/why {rank + 1} explains it")


# How many features /why lists per model: the rest add little.
WHY_FEATURES = 8


def _contributions(title: str, rows: tuple) -> Table:
    table = Table(title=Text(title, style="bold"), box=box.SIMPLE_HEAD, title_justify="left")
    for name, just in (("feature", "left"), ("value", "right"), ("adds", "right"),
                       ("", "left")):
        table.add_column(name, justify=just)
    shown = rows[:WHY_FEATURES]
    top = max((abs(c) for _, _, c in shown), default=0.0)
    for name, value, share in shown:
        bar = _bar(abs(share), top)
        if share < 0:
            bar.stylize("red")
        table.add_row(name, f"{value:.2f}", f"{share:+.2f}", bar)
    return table


def _cmd_sources(s: Session, arg: str) -> None:
    index = s.engine.index
    counts = np.bincount(index.source_ids, minlength=len(index.sources))
    table = Table(box=box.SIMPLE_HEAD, show_edge=False)
    table.add_column("document")
    table.add_column("sentences", justify="right")
    table.add_column("title")
    for k, name in enumerate(index.sources):
        title = index.titles[k] if index.titles else ""
        table.add_row(Text(render.safe_name(name)), str(int(counts[k])),
                      Text(render.safe_line(title)))
    s.console.print(table)
    s.say(f"{len(index.sources)} document(s), {len(index)} sentences")
    for line in index.skipped:
        s.say(line, style="yellow")


def _cmd_load(s: Session, arg: str) -> None:
    if not arg:
        raise UsageError("usage: /load SOURCE (a file, a folder or a web page: "
                         "text, Markdown, HTML or PDF)")
    from qa.index import open_index

    path = os.path.expanduser(arg.strip().strip("'\""))
    paths = s.paths + [path] if path not in s.paths else s.paths
    if paths is s.paths:
        raise UsageError(f"{path} is already loaded")
    before = len(s.engine.index)
    bar = render.BuildProgress(console=s.console) if s.console.is_terminal else None
    try:
        engine = Engine(open_index(paths, progress=bar,
                                   warn=lambda line: s.say(line, style="yellow")))
    finally:
        if bar is not None:
            bar.close()
    s.paths = paths
    s.conversation.engine = engine
    if s.on_load:
        s.on_load()
    s.say(f"loaded {render.safe_line(path)}: {len(engine.index)} sentences now ({len(engine.index) - before:+d}), "
          f"{len(engine.index.sources)} document(s); the conversation goes on", style="green")


def _cmd_json(s: Session, arg: str) -> None:
    s.show_json = not s.show_json
    s.say(f"raw JSON after each answer: {'on' if s.show_json else 'off'}")


def _cmd_history(s: Session, arg: str) -> None:
    if not s.log:
        s.say("no questions yet")
        return
    for k, turn in enumerate(s.log, 1):
        line = Text(f"{k:>3}. ", style="dim")
        line.append(Text(render.safe(turn.question), style="bold"))
        short = turn.answer.answer if turn.answer.found else "(no answer)"
        line.append(Text("  \u2192 " + render.safe(render_short(short or "")), style="green"))
        s.console.print(line)


def render_short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "\u2026"


def conversation_markdown(s: Session) -> str:
    """The session's questions, answers and citations as Markdown."""
    index = s.engine.index
    out = ["# qa conversation", "",
           f"Text: {', '.join(map(render.safe_name, index.sources))} ({len(index)} sentences)",
           ""]
    for k, turn in enumerate(s.log, 1):
        a = turn.answer
        out += [f"## {k}. {turn.question}", ""]
        also = render.searched_for(a, turn.searched)
        if also:
            out += [f"*{render.SEARCHED}{also}*", ""]
        if a.found and a.hits:
            best = a.hits[0].sentence
            sure = f" ({render.confidence_words(a)})"
            out += [f"**{a.answer}**{sure}", ""] + ([f"> {best.text}", ""] if a.spans else []) + [
                    f"\u2014 {render.citation(best)}", ""]
        else:
            out += ["*The text does not seem to answer this.*", ""]
            for h in a.hits:
                out.append(f"- lead, {render.lead_label(h.sentence)}: {h.sentence.text}")
            out.append("")
    return "\n".join(out)


def _cmd_save(s: Session, arg: str) -> None:
    if not arg:
        raise UsageError("usage: /save FILE (the conversation as Markdown)")
    path = Path(os.path.expanduser(arg.strip().strip("'\"")))
    write_private(path, conversation_markdown(s))
    s.say(f"saved {len(s.log)} question(s) to {path}", style="green")


def write_private(path: Path, text: str) -> None:
    """Write a new or regular file, user-only (as the history is): never through a symlink
    (it could overwrite a file elsewhere unasked), never into a FIFO or device (a FIFO with
    no reader would hang the chat)."""
    flags = (os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
             | getattr(os, "O_NONBLOCK", 0))
    try:
        if path.is_symlink():
            raise UsageError(f"{path}: is a symlink: /save does not write through links "
                             "(name the file itself)")
        fd = os.open(path, flags, 0o600)
    except OSError as e:
        if e.errno == errno.ENXIO:
            raise UsageError(f"{path}: is a named pipe (FIFO) with no reader: /save writes "
                             "files") from None
        if e.errno == errno.ELOOP:
            raise UsageError(f"{path}: is a symlink: /save does not write through links "
                             "(name the file itself)") from None
        raise UsageError(f"cannot write {path}: {e.strerror or e}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UsageError(f"{path}: is not a regular file: /save writes files")
        os.set_blocking(fd, True)
        os.ftruncate(fd, 0)
        data = text.encode("utf-8")
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e.strerror or e}") from None
    finally:
        os.close(fd)


def _cmd_clear(s: Session, arg: str) -> None:
    s.console.clear()


def _cmd_new(s: Session, arg: str) -> None:
    s.conversation.new()
    s.say("new conversation: follow-ups start from here")


COMMANDS = [
    Command("help", "", "this table", _cmd_help),
    Command("show", "N", "sentence N (of the last answer's source; NAME#N for another) with "
            "its neighbours, paragraph and position (default: the last answer's)", _cmd_show),
    Command("context", "N", "the same as /show", _cmd_show),
    Command("why", "[N]", "why the last answer's sentence (or lead N) won: terms, IDF, BM25",
            _cmd_why),
    Command("explain", "[N]", "the same as /why", _cmd_why),
    Command("sources", "", "the loaded documents with sentence counts", _cmd_sources),
    Command("load", "SOURCE", "add a file, folder or web page without restarting", _cmd_load),
    Command("top", "N", "show N sentences per answer", _cmd_top),
    Command("json", "", "toggle printing the raw JSON of each answer", _cmd_json),
    Command("history", "", "the questions asked so far, with their answers", _cmd_history),
    Command("save", "FILE", "save the conversation as Markdown", _cmd_save),
    Command("clear", "", "clear the screen", _cmd_clear),
    Command("new", "", "start a fresh conversation (follow-ups forget the past)", _cmd_new),
    Command("quit", "", "leave (Ctrl-D works too)", _cmd_quit),
]


# ---- input: completion, colouring ----

class QACompleter(Completer):
    """Completes /commands, file paths after /load and /save, and words of the text as the
    text spells them ("sav" -> "Savelyev")."""

    def __init__(self, words: list[str], commands: list[str],
                 spell: Callable[[str], str] = str) -> None:
        self.words = sorted(set(words))
        self.commands = commands
        self.spell = spell  # a word of `words` as the text writes it
        self.paths = PathCompleter(expanduser=True)

    def get_completions(self, document, complete_event):
        text = document.text_before_cursor
        if text.startswith("/"):
            name, space, arg = text[1:].partition(" ")
            if not space:
                for command in self.commands:
                    if command.startswith(name.lower()):
                        yield Completion(command, start_position=-len(name))
            elif name.lower() in PATH_COMMANDS:
                arg = arg.lstrip()
                yield from self.paths.get_completions(Document(arg, len(arg)), complete_event)
            return
        word = document.get_word_before_cursor()
        if len(word) < 2:
            return
        typed = terms_mod.normalise(word)
        for w in self.words[bisect_left(self.words, typed):]:
            if not w.startswith(typed):
                break
            spelled = self.spell(w)
            if spelled != word:
                yield Completion(spelled, start_position=-len(word))


def text_spelling(index, word: str) -> str:
    """A word of the index as the text writes it: "savelyev" -> "Savelyev", "cnsa" -> "CNSA".

    A word the text also writes in lower case stays so; a name is looked up in the first
    sentences that hold its term.
    """
    term = terms_mod.term_of(word)
    t = index.vocab.get(term or "")
    if t is None or index.is_common(word):
        return word
    lo = int(index.ptr[t])
    for doc in index.docs[lo:min(lo + SPELLING_LOOKUPS, int(index.ptr[t + 1]))]:
        text = index.text(int(doc))
        for tok in terms_mod.tokens(text):
            if tok.word == word:
                return text[tok.start:tok.end]
    return word


class CommandLexer(Lexer):
    """Colours a /command green when known, red when not, and its argument cyan."""

    def __init__(self, names: list[str]) -> None:
        self.names = names

    def lex_document(self, document):
        lines = document.lines

        def line_fragments(lineno: int):
            line = lines[lineno]
            if lineno == 0 and line.startswith("/"):
                name, sep, rest = line[1:].partition(" ")
                style = "class:command" if name.lower() in self.names else "class:unknown-command"
                return [(style, "/" + name), ("class:argument", sep + rest)]
            return [("", line)]

        return line_fragments


def _corpus_words(engine: Engine) -> list[str]:
    return [w for w in engine.index.surfaces if len(w) > 2 and w.isalpha()]


# ---- example questions for a first run ----

# Dates, for "What happened in November 2017?": the tagger does not know which numbers are
# years or days.
_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
          r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
_DAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
# A year, a decade ("1970s") or a span of years ("1568-1609", "1759–60", "1973–74").
# Spans of years read whole: short-answer F1 1973 oil 0.494 -> 0.503, Huguenot 0.290 -> 0.307.
_YEAR = r"(?:1[0-9]{3}|20[0-9]{2})(?:s|[-–](?:1[0-9]{3}|20[0-9]{2}|[0-9]{2}(?![0-9])))?"
_ORD = r"\d{1,2}(?:st|nd|rd|th)?"
_DATE_CORE = (rf"(?:{_DAY}(?:,? {_MONTH} {_ORD})?(?:,? {_YEAR})?"
              rf"|(?:early |late |mid-?)?{_MONTH}(?: {_ORD})?(?:,? {_YEAR})?"
              rf"|{_ORD} {_MONTH}(?:,? {_YEAR})?"
              rf"|between {_YEAR} and {_YEAR}|{_YEAR} (?:to|and) {_YEAR}"
              rf"|(?:the )?(?:spring|summer|autumn|fall|winter) of {_YEAR}"
              rf"|(?:the )?(?:early |late |mid-?)?{_YEAR}"
              rf"|(?:the )?(?:\d{{1,2}}(?:st|nd|rd|th)|first|second|third|[a-z]+th) centur(?:y|ies)"
              rf"|(?:last|next|this|that) (?:week|month|year|decade|spring|summer|autumn|fall|winter)"
              rf"|yesterday|today|tomorrow|tonight|\d{{1,2}}:\d{{2}}(?: ?[ap]\.?m\.?)?)")
DATE = re.compile(rf"\b(?:in|by|since|until|from|around|about) (?:the )?[1-9][0-9]{{2,3}}s?\b"
                  rf"(?![-\u2013]\d| (?:to|and) \d)|"
                  rf"\b(?:(?:on|in|at|by|since|until|from|during|before|after|around) "
                  rf"(?:the )?)?(?:early |late |mid-)?{_DATE_CORE}\b", re.IGNORECASE)

def example_questions(engine: Engine, n: int = EXAMPLES) -> list[str]:
    """Questions the loaded text answers with a short answer, built from its names (the
    tagger's proper-noun chunks), dates and counts."""
    from qa import tagger

    index = engine.index
    by_kind: dict[str, list[str]] = {"who": [], "when": [], "count": [], "what": []}
    for i in range(min(len(index), 400)):
        text = index.text(i)
        for c in tagger.chunks(text):
            words = c.text.split()
            if c.kind == "name" and 2 <= len(words) <= 3 \
                    and not any(index.is_common(w) for w in words):
                by_kind["who"].append(f"Who is {c.text}?")
            elif c.kind == "number" and len(words) == 2 and words[1].isalpha() \
                    and words[1].islower() and words[1].endswith("s"):
                by_kind["count"].append(f"How many {words[1]}?")
        date = DATE.search(text)
        if date:
            for m in re.finditer(r"\b([a-z]+ed) (?:(?:a|an|the|their|its) )?([a-z]+(?: [a-z]+)?)",
                                 text):
                obj = [w for w in m.group(2).split() if w not in terms_mod.STOPWORDS]
                if obj and obj[0] == m.group(2).split()[0]:
                    by_kind["when"].append(f"When was the {' '.join(obj)} {m.group(1)}?")
            phrase = date.group()
            phrase = phrase if phrase.split()[0].lower() in ("in", "on", "at", "during",
                                                             "since") else f"in {phrase}"
            by_kind["what"].append(f"What happened {phrase[0].lower() + phrase[1:]}?")
    out: list[str] = []

    def answered(q: str) -> bool:
        a = engine.ask(q)
        return a.found and bool(a.spans)

    for kind in ("who", "when", "count", "what"):
        for q in dict.fromkeys(by_kind[kind]):
            if len(out) < n and q not in out and answered(q):
                out.append(q)
                break
    for kind in ("who", "when", "what"):  # fill up from any template when one kind had none
        for q in dict.fromkeys(by_kind[kind]):
            if len(out) >= n:
                break
            if q not in out and answered(q):
                out.append(q)
    return out[:n]


# ---- the loop ----

def show_answer(s: Session, turn: Turn) -> None:
    render.rich_answer(turn.answer, s.console, turn.searched)
    if s.show_json:
        s.console.print(Text(render.json_line(turn.answer), style="dim"), soft_wrap=True)


def ask(s: Session, question: str) -> None:
    if len(question) > MAX_QUESTION_CHARS:
        s.say(f"note: the question was cut to {MAX_QUESTION_CHARS:,} characters "
              f"(it had {len(question):,})", style="yellow")
        question = question[:MAX_QUESTION_CHARS]
    turn = s.conversation.ask_turn(question, top=s.top, explain=True)
    s.log.append(turn)
    show_answer(s, turn)


def run_command(s: Session, line: str) -> None:
    name, _, arg = line[1:].partition(" ")
    cmd = s.commands.get(name.lower())
    if cmd is None:
        close = difflib.get_close_matches(name.lower(), list(s.commands), n=1, cutoff=0.5)
        hint = f"did you mean /{close[0]}?" if close else "/help lists the commands"
        raise UsageError(f"unknown command /{name[:40]}: {hint}")
    cmd.run(s, arg.strip())


def handle_line(s: Session, line: str) -> None:
    """One input: a /command, a question, or pasted lines. Errors are shown, never raised."""
    lines = [x.strip() for x in line.splitlines() if x.strip()]
    if len(lines) > 1:
        s.say(f"pasted {len(lines)} lines: each is asked as a question"
              + (f" (the first {MAX_PASTED_QUESTIONS})" if len(lines) > MAX_PASTED_QUESTIONS
                 else ""), style="yellow")
        lines = lines[:MAX_PASTED_QUESTIONS]
    for text in lines:
        if len(lines) > 1:
            s.console.print(Text("? " + render.safe(text[:MAX_QUESTION_CHARS]), style="bold cyan"))
        try:
            if text.startswith("/"):
                run_command(s, text[:MAX_QUESTION_CHARS])
            else:
                ask(s, text)
        except QAError as e:
            s.console.print(Text(render.safe_line(str(e)), style="red"))
        except KeyboardInterrupt:
            s.say("interrupted", style="yellow")
            return
        except Exception as e:  # the chat outlives any bug: say it, keep going
            s.console.print(Text(render.safe(f"internal error: {type(e).__name__}: {e}"),
                                 style="red"))
        if not s.running:
            return


def _toolbar(s: Session) -> Callable[[], list[tuple[str, str]]]:
    def bottom_toolbar():
        index = s.engine.index
        name = (render.safe_name(index.sources[0]) if len(index.sources) == 1
                else f"{len(index.sources)} documents")
        return [("class:bottom-toolbar",
                 f" {name} \u00b7 {len(index)} sentences \u00b7 Tab completes "
                 f"\u00b7 \u2191 history \u00b7 /help \u00b7 Ctrl-D quits ")]
    return bottom_toolbar


def run_repl(engine: Engine, top: int = 3, no_color: bool = False, input=None,
             output=None, console: Console | None = None, paths: list[str] | None = None,
             first_run: bool | None = None) -> int:
    """Chat until /quit or Ctrl-D; returns the exit status.

    `paths` are the files the engine was built from (for /load); `first_run` overrides the
    check for an existing history file (a first run shows example questions).
    """
    no_color = no_color or os.environ.get("NO_COLOR", "") != ""
    console = console or render.terminal_console(no_color)
    if paths is None:
        from qa.corpus import bundled_corpus

        paths = [str(bundled_corpus())]
    s = Session(conversation=Conversation(engine), console=console, top=top, paths=list(paths),
                commands={c.name: c for c in COMMANDS})
    if input is None:
        history, warning, fresh = open_history()
    else:
        history, warning, fresh = InMemoryHistory(), None, False
    completer = QACompleter(_corpus_words(engine), list(s.commands),
                            spell=lambda word: text_spelling(s.engine.index, word))

    def reload_words() -> None:
        completer.words = sorted(set(_corpus_words(s.engine)))

    s.on_load = reload_words
    if no_color and output is None:
        output = _plain_output()
    session: PromptSession[str] = PromptSession(
        history=history, auto_suggest=AutoSuggestFromHistory(), completer=completer,
        complete_while_typing=False, lexer=CommandLexer(list(s.commands)), style=STYLE,
        bottom_toolbar=_toolbar(s), input=input, output=output, key_bindings=_key_bindings(),
        color_depth=None if not no_color else _monochrome())
    index = engine.index
    names = ", ".join(render.safe_name(n) for n in index.sources[:3])
    more = f" and {len(index.sources) - 3} more" if len(index.sources) > 3 else ""
    console.print(Text(f"qa: {names}{more}, {len(index)} sentences. "
                       "Ask a question; /help for commands, Ctrl-D to leave.", style="dim"))
    if warning:
        s.say(f"note: {warning}; the chat works without it", style="yellow")
    if fresh if first_run is None else first_run:
        examples = example_questions(engine)
        if examples:
            s.say("Try, for example:")
            for q in examples:
                console.print(Text("  " + render.safe(q), style="cyan"))
    told_history = False
    while s.running:
        try:
            line = session.prompt("? ")
        except KeyboardInterrupt:
            continue  # Ctrl-C clears the line
        except EOFError:
            break
        failure = getattr(history, "failure", None)
        if failure and not told_history:
            told_history = True
            s.say(f"note: {failure}; the chat goes on", style="yellow")
        handle_line(s, line)
    return 0


def _key_bindings():
    """A mouse report that is not one (ESC [ 31 m typed or pasted at the prompt reads like
    one) is dropped, instead of prompt_toolkit's parser failing with a traceback."""
    from prompt_toolkit.key_binding import KeyBindings
    from prompt_toolkit.key_binding.bindings.mouse import load_mouse_bindings
    from prompt_toolkit.keys import Keys

    mouse = load_mouse_bindings().get_bindings_for_keys((Keys.Vt100MouseEvent,))
    bindings = KeyBindings()

    @bindings.add(Keys.Vt100MouseEvent)
    def _mouse(event):
        for binding in mouse:
            try:
                return binding.handler(event)
            except (ValueError, IndexError, KeyError, TypeError):
                return None  # not a mouse report: nothing to do
        return None

    return bindings


def _monochrome():
    from prompt_toolkit.output.color_depth import ColorDepth

    return ColorDepth.DEPTH_1_BIT


def _plain_output():
    """prompt_toolkit's terminal output without any style codes, for NO_COLOR / --no-color
    (the completion chosen shows in the line itself, so the menu needs no highlight)."""
    from prompt_toolkit.output import create_output

    if os.name == "nt":
        return create_output()
    from prompt_toolkit.output.vt100 import Vt100_Output

    class PlainOutput(Vt100_Output):
        def set_attributes(self, attrs, color_depth) -> None:
            pass

        def reset_attributes(self) -> None:
            pass

    return PlainOutput.from_pty(sys.stdout, term=os.environ.get("TERM"))
