"""An Answer as rich renderables, plain text, or a JSON line."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from qa.sentences import escaped_name

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from qa.answer import Answer, Hit
    from qa.sentences import Sentence

# C0/C1 controls, DEL, bidi controls and lone surrogates (undecodable command-line bytes): shown
# as visible escapes, never sent to a terminal. Tab and newline are layout, and left alone.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e"
                     "\u2066-\u2069\ud800-\udfff]")
# How many characters of a further sentence the compact list shows.
LEAD_CHARS = 160
# An answer shows at most this many sentences (-k, /top): more is a page, not an answer.
MAX_TOP = 100


def top_count(text: str) -> int:
    """The -k type of `qa` and `qa eval`: a number of sentences to show, 1 to MAX_TOP."""
    from argparse import ArgumentTypeError  # only argument parsing calls this

    try:
        n = int(text)
    except ValueError:
        raise ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= n <= MAX_TOP:
        raise ArgumentTypeError(f"must be between 1 and {MAX_TOP}: {n}")
    return n


# Spaces that end a line, with any style codes among them: rich pads lines to the width.
_LINE_END_PADDING = re.compile(r"(?:[ \t]|\x1b\[[0-9;]*m)+(?=\n)")
_SGR = re.compile(r"\x1b\[[0-9;]*m")


class _TrimmedLines:
    """A text stream that drops the spaces rich pads each line with; style codes are kept."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(_LINE_END_PADDING.sub(lambda m: "".join(_SGR.findall(m.group())),
                                                 text))
        return len(text)

    def __getattr__(self, name: str):  # flush, isatty, fileno, encoding: the stream's own
        return getattr(self._stream, name)


def terminal_console(no_color: bool = False, stderr: bool = False) -> Console:
    """The Console for stdout (or stderr): no line ends in spaces, and under --no-color or
    NO_COLOR no style codes at all (no colour, bold, underline or dim), as no-color.org asks."""
    import os
    import sys

    plain = no_color or os.environ.get("NO_COLOR", "") != ""
    return _Console(file=_TrimmedLines(sys.stderr if stderr else sys.stdout),
                    color_system=None if plain else "auto", no_color=plain or None,
                    highlight=False, emoji=False, markup=False)


def _console_class():
    from rich.console import Console

    class QAConsole(Console):
        """rich's Console, but a reader that went away is BrokenPipeError for the CLI to
        answer (exit 141, as elsewhere), not rich's own SystemExit(1)."""

        def on_broken_pipe(self) -> None:
            raise BrokenPipeError

    return QAConsole


def _Console(**kwargs) -> Console:
    return _console_class()(**kwargs)


class BuildProgress:
    """Progress bars while an index is built (the command line, /load): on stderr unless a
    console is given; started, and rich imported, only if an index is built."""

    def __init__(self, no_color: bool = False, console: Console | None = None) -> None:
        self.no_color = no_color
        self.console = console
        self.bar = None
        self.tasks: dict[str, object] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.bar is None:
            from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, \
                TimeElapsedColumn

            self.bar = Progress(TextColumn("{task.description:>10}"), BarColumn(),
                                TaskProgressColumn(), TimeElapsedColumn(), transient=True,
                                console=self.console or terminal_console(self.no_color,
                                                                         stderr=True))
            self.bar.start()
        if stage not in self.tasks:
            self.tasks[stage] = self.bar.add_task(stage, total=total)
        self.bar.update(self.tasks[stage], completed=done, total=total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def safe(text: str) -> str:
    """Text with control characters made visible (ESC -> \\x1b), same otherwise."""
    return _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                       else f"\\u{ord(m.group()):04x}", text)


def safe_line(text: str) -> str:
    """Text for one line of a terminal or log: `safe`, and line breaks and tabs escaped too."""
    return safe(text).translate(_LINE_BREAKS)


# What `safe` leaves that would still break a line for a reader of lines (str.splitlines):
# escaped like the other controls, so "a\nb.txt" cannot pass for "a b.txt" or two lines.
_LINE_BREAKS = str.maketrans({"\n": "\\x0a", "\t": "\\x09", "\u2028": "\\u2028",
                              "\u2029": "\\u2029"})


def safe_name(name: str) -> str:
    """A source name for one line: bytes that were not UTF-8 as \\xNN, controls escaped."""
    return safe_line(escaped_name(name) or name)


def json_line(answer: Answer) -> str:
    """One JSON Lines record; ASCII-only, so no byte of it can drive a terminal."""
    return json.dumps(answer.to_json(), ensure_ascii=True)


def corrections(answer: Answer) -> str:
    """The words corrected, as typed and as searched: "Memorandun \u2192 memorandum"."""
    from qa import terms as terms_mod

    as_typed = {t.word: answer.question[t.start:t.end] for t in terms_mod.tokens(answer.question)}
    return ", ".join(f"{safe_line(as_typed.get(typed, typed))} \u2192 {safe_line(searched)}"
                     for typed, searched in answer.corrections)


def source_label(s: Sentence) -> str:
    """A sentence's source on one line: its name, a web page's title, the section, the page."""
    where = safe_name(s.source)
    if s.title:
        where += f' "{safe_line(s.title)}"'
    where += _section_of(s)  # a page's first heading is often its title: not repeated
    if s.page:
        where += f", page {s.page}"
    return where


def citation(s: Sentence) -> str:
    """Where a sentence is, on one line: its source, its number there, and its character
    offsets in the source's text (what `qa --extract` prints)."""
    return f"{source_label(s)}, sentence {s.number_in_source}, chars {s.start}-{s.end}"


def _section_of(s: Sentence) -> str:
    """', section "Budget"' for a sentence under a heading (not a page's title), else ""."""
    return f', section "{safe_line(s.section)}"' if s.section and s.section != s.title else ""


def lead_label(s: Sentence) -> str:
    """A lead's source and number, short: 'notes.md, section "Budget", sentence 6' (with the
    page of a PDF)."""
    page = f", page {s.page}" if s.page else ""
    return f"{safe_name(s.source)}{_section_of(s)}{page}, sentence {s.number_in_source}"


def sentence_ref(s: Sentence) -> str:
    """How the chat names a sentence for /show: "notes.md#6"."""
    return f"{safe_name(s.source)}#{s.number_in_source}"


def _shorten(text: str, limit: int = LEAD_CHARS) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "\u2026"


# How sure an answer is, in words a person reads at a glance; each word names a range of the
# calibrated confidence (README: "How sure").
CONFIDENCE_WORDS = ((0.8, "sure"), (0.5, "likely"), (0.3, "unsure"), (0.0, "a guess"))


def chance(p: float) -> str:
    """A lead's probability of holding the answer, as a percentage: "35%", "<1%"."""
    return "<1%" if round(p * 100) < 1 else f"{round(p * 100)}%"


def confidence_words(answer: Answer) -> str:
    """"86%, sure": the confidence as a percentage and a word. The word goes by the
    percentage shown, so "80%" always reads "sure"."""
    percent = round(answer.confidence * 100)
    word = next(w for floor, w in CONFIDENCE_WORDS if percent >= round(floor * 100))
    return f"{percent}%, {word}"


def _bracketed(text: str, spans: tuple[tuple[int, int], ...]) -> str:
    """The sentence with its best span in [brackets], for plain text."""
    out, last = [], 0
    for a, b in sorted(spans):
        out += [safe(text[last:a]), "[", safe(text[a:b]), "]"]
        last = b
    return "".join(out) + safe(text[last:])


SEARCHED = "searched for: "


def searched_for(answer: Answer, searched: str | None = None) -> str | None:
    """One line of what was searched besides the words as typed: the typos corrected
    ("Memorandun → memorandum") and the words a follow-up carried ("when talk + Savelyev")."""
    parts = ([corrections(answer)] if answer.corrections else []) \
        + ([safe_line(searched)] if searched else [])
    return "; ".join(parts) or None


def plain(answer: Answer, echo_question: bool = False, searched: str | None = None) -> str:
    """The answer as plain text for pipes and files; `searched` is what a follow-up added."""
    lines = [f"Q: {safe_line(answer.question)}"] if echo_question else []
    also = searched_for(answer, searched)
    if also:
        lines.append(SEARCHED.capitalize() + also)
    if answer.found:
        best = answer.hits[0]
        if answer.highlight:
            # The sentence is the answer; its best span is a guess, shown but not stated.
            lines.append(f"Answer: {_bracketed(best.sentence.text, answer.highlight)}")
            lines.append(f"  ({confidence_words(answer)} that this sentence answers it; "
                         "the part in brackets is the best guess within it)")
        else:
            lines.append(f"Answer: {safe(answer.answer or '')}")
            lines.append(f"  ({confidence_words(answer)})")
            if answer.spans:
                lines.append(f"  \"{safe(best.sentence.text)}\"")
        lines.append(f"  -- {citation(best.sentence)}")
        rest = answer.hits[1:]
        title = "Also:"
    else:
        lines.append("No answer: the text does not seem to answer this"
                     + "".join(f" ({safe(n)})" for n in answer.notes) + ".")
        rest = answer.hits
        title = f"Closest sentences (the first holds the answer: {chance(answer.confidence)}):"
    if rest:
        lines.append(title)
        for h in rest:
            lines.append(f"  [{chance(h.score)}] {lead_label(h.sentence)}: "
                         f"{safe(_shorten(h.sentence.text))}")
    return "\n".join(lines)


def _highlight(text: str, matched: tuple[str, ...], spans: tuple[tuple[int, int], ...],
               span_style: str = "bold green underline") -> Text:
    from rich.text import Text

    from qa import terms as terms_mod

    out = Text(safe(text))
    if safe(text) != text:  # escapes shift offsets; show the text, skip the highlights
        return out
    for tok in terms_mod.tokens(text):
        if tok.term in matched:
            out.stylize("bold yellow", tok.start, tok.end)
    for a, b in spans:
        out.stylize(span_style, a, b)
    return out


def rich_answer(answer: Answer, console: Console, searched: str | None = None) -> None:
    """Print the answer: short answer, its sentence highlighted, citation, further leads;
    `searched` is what a follow-up added."""
    from rich.padding import Padding
    from rich.text import Text

    also = searched_for(answer, searched)
    if also:
        console.print(Text(SEARCHED, style="dim") + Text(also, style="italic"))
    if answer.found:
        best = answer.hits[0]
        if answer.highlight:
            console.print(_highlight(best.sentence.text, best.matched, answer.highlight,
                                     "underline"))
            console.print(Padding(Text(f"{confidence_words(answer)} that this sentence answers "
                                       "it; the underlined part is the best guess within it",
                                       style="dim italic"), (0, 0, 0, 2)))
        else:
            line = Text(safe(answer.answer or ""), style="bold green")
            line.append(Text(f"  {confidence_words(answer)}", style="dim"))
            console.print(line)
            if answer.spans:
                console.print(Padding(_highlight(best.sentence.text, best.matched,
                                                 answer.spans), (0, 0, 0, 2)))
        console.print(Padding(Text(citation(best.sentence), style="dim"), (0, 0, 0, 2)))
        rest, title = answer.hits[1:], "also relevant"
    else:
        console.print(Text("The text does not seem to answer this"
                           + "".join(f" ({safe(n)})" for n in answer.notes) + ".",
                           style="bold yellow"))
        rest = answer.hits
        title = f"closest sentences (the first holds the answer: {answer.confidence:.0%})"
    if rest:
        console.print(Text(title, style="dim italic"))
        for h in rest:
            section = f" ({safe_line(h.sentence.section)})" \
                if h.sentence.section and h.sentence.section != h.sentence.title else ""
            line = Text(f"  {chance(h.score):>4}  {sentence_ref(h.sentence)}{section}  ",
                        style="dim")
            line.append(Text(safe(_shorten(h.sentence.text)), style="dim"))
            console.print(line, no_wrap=True, overflow="ellipsis")  # one line, cut to the width
