"""The `qa` command: arguments, choosing the mode, exit codes."""

from __future__ import annotations

import argparse
import io
import os
import re
import sys
from pathlib import Path

from qa.errors import QAError, UsageError

EXIT_ANSWERED, EXIT_NO_ANSWER, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_PIPE = 0, 1, 2, 130, 141
# Longer questions are cut to this many characters (nobody types more; BM25 needs less).
MAX_QUESTION_CHARS = 2000
# Stdin is read this much of a line at a time; the rest of a longer line is skipped unread.
MAX_LINE_CHARS = 64 * 1024
_SURROGATE = re.compile("[\ud800-\udfff]")
# Said when stdin is a terminal but stdout is not (`qa | cat`), which would otherwise look hung.
STDIN_NOTE = "qa: questions are read from stdin, one a line; Ctrl-D ends"

USAGE_EPILOG = """\
modes:
  qa                      chat in the terminal (when stdin and stdout are terminals)
  qa -q "QUESTION"        answer and exit; -q may repeat
  ... | qa                answer each line of stdin as it arrives
  qa eval GOLD            score answers against a gold question file (qa eval --help)

exit status: 0 answered, 1 every question was abstained on, 2 usage or input error,
             130 interrupted, 141 the reader of the output went away (qa | head -1),
             which stops qa quietly
"""


def default_corpus() -> Path:
    """The bundled article (qa.corpus.bundled_corpus; kept for callers of the old name)."""
    from qa.corpus import bundled_corpus

    return bundled_corpus()


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not usage + message
        raise UsageError(f"{message} (see 'qa --help')")


class _Version(argparse.Action):
    """--version, looked up only when asked for."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        from qa import __version__

        sys.stdout.write(f"qa {__version__}\n")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="qa", description="Ask questions of a text; answers come from its sentences.",
                epilog=USAGE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-q", "--question", action="append", default=[], metavar="QUESTION",
                   help="answer this question and exit (repeatable)")
    p.add_argument("-c", "--corpus", action="append", default=[], metavar="PATH",
                   help="a file, or a folder of .txt/.md files, to read instead of the bundled "
                        "article (repeatable)")
    from qa.render import top_count

    p.add_argument("-k", "--top", type=top_count, default=3, metavar="N",
                   help="how many sentences to show per answer (default 3)")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object per question (JSON Lines); not in the chat")
    p.add_argument("--no-color", action="store_true", help="no colours (NO_COLOR is honoured too)")
    p.add_argument("--no-cache", action="store_true",
                   help="build the index afresh and do not write it to the cache")
    p.add_argument("--chat", action="store_true",
                   help="ask the questions as one conversation: follow-ups (\"when?\", "
                        "\"what did he say?\") use the earlier questions and answers")
    p.add_argument("--version", action=_Version, help="show the version and exit")
    return p


def _stdio_safe() -> None:
    """Never die on encoding: undecodable input becomes U+FFFD, unencodable output escapes."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")


def _stdin_lines():
    """Lines of stdin as they arrive, decoded as UTF-8 with bad bytes replaced.

    A line is read at most MAX_LINE_CHARS at a time and the rest of it skipped, so a stream
    with no newline (`qa < /dev/zero`) takes bounded memory.
    """
    stdin = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace", newline=None)
    while True:
        line = stdin.readline(MAX_LINE_CHARS)
        if not line:
            return
        rest = line
        while not rest.endswith("\n"):
            rest = stdin.readline(MAX_LINE_CHARS)
            if not rest:
                break
        yield line


def _from_os(text: str) -> str:
    """Command-line text with undecodable bytes (surrogate escapes) as U+FFFD."""
    if not _SURROGATE.search(text):
        return text
    try:
        return os.fsencode(text).decode("utf-8", "replace")
    except UnicodeError:
        return _SURROGATE.sub("\ufffd", text)


def _load(args, progress: bool):
    from qa.answer import Engine
    from qa.index import open_index

    paths = args.corpus or [str(default_corpus())]
    if not (progress and sys.stderr.isatty()):
        return Engine(open_index(paths, use_cache=not args.no_cache))
    from qa.render import BuildProgress

    bar = BuildProgress(args.no_color)
    try:
        return Engine(open_index(paths, use_cache=not args.no_cache, progress=bar))
    finally:
        bar.close()


def _chat(engine, args):
    """With --chat the questions are one conversation, so follow-ups use earlier turns."""
    if not args.chat:
        return engine
    from qa.conversation import Conversation

    return Conversation(engine)


def _answer_all(engine, questions, args, *, echo: bool) -> int:
    """Answer questions in order, printing each as soon as it is ready; the exit code."""
    from qa import render

    tty = sys.stdout.isatty() and not args.json
    console = render.terminal_console(args.no_color) if tty else None
    asked = answered = 0
    for raw in questions:
        text = raw.strip()
        if not text:
            continue
        text = _from_os(text[:MAX_QUESTION_CHARS])
        answer = engine.ask(text, top=args.top)
        searched = getattr(engine, "searched", None)  # what a --chat follow-up added
        asked += 1
        answered += answer.found
        if args.json:
            sys.stdout.write(render.json_line(answer) + "\n")
        elif console is not None:
            if echo:
                from rich.text import Text

                console.print(Text("? " + render.safe(text), style="bold cyan"))
            if searched:
                from rich.text import Text

                console.print(Text("searched: " + render.safe(searched), style="dim italic"))
            render.rich_answer(answer, console)
            if echo:
                console.print()
        else:
            sys.stdout.write(render.plain(answer, echo_question=echo, searched=searched) + "\n")
            if echo:
                sys.stdout.write("\n")
        sys.stdout.flush()
    return EXIT_NO_ANSWER if asked and not answered else EXIT_ANSWERED


def run(argv: list[str]) -> int:
    if argv[:1] == ["eval"]:
        from qa.eval import main as eval_main

        return eval_main(argv[1:])
    args = build_parser().parse_args(argv)
    if args.no_color:
        os.environ["NO_COLOR"] = "1"
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    if args.question:
        asked = [q for q in args.question if q.strip()]
        if not asked:
            raise UsageError("-q needs a question, e.g. qa -q \"Who signed the memorandum?\"")
        # Several answers need their questions beside them, as piped questions have.
        return _answer_all(_chat(_load(args, True), args), asked, args, echo=len(asked) > 1)
    if interactive:
        if args.json:
            raise UsageError("--json is for -q and piped questions, not the chat")
        from qa.repl import run_repl

        return run_repl(_load(args, True), top=args.top, no_color=args.no_color,
                        paths=args.corpus or None)
    if sys.stdin.isatty():  # `qa | cat`: no chat without a terminal on stdout, so say why
        sys.stderr.write(STDIN_NOTE + "\n")
        sys.stderr.flush()
    return _answer_all(_chat(_load(args, False), args), _stdin_lines(), args, echo=True)


def _error(message: str) -> None:
    """One stderr line, with anything that could drive the terminal escaped."""
    from qa.render import safe_line

    sys.stderr.write(f"qa: {safe_line(message)}\n")
    sys.stderr.flush()


def _silence_stdout() -> None:
    """Send what is left in stdout's buffer nowhere, so the exit-time flush cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `qa` command; returns the exit status."""
    _stdio_safe()
    try:
        try:
            return run(sys.argv[1:] if argv is None else argv)
        finally:
            # A reader that went away shows up here at the latest, inside the handlers below.
            if sys.stdout is not None:
                sys.stdout.flush()
    except QAError as e:
        _error(str(e))
        return e.exit_code
    except KeyboardInterrupt:
        _silence_stdout()
        _error("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`qa ... | head -1`): stop quietly.
        _silence_stdout()
        return EXIT_PIPE
    except OSError as e:  # most likely writing the answers failed: a full disk, a lost terminal
        _silence_stdout()
        _error(f"{e.filename}: {e.strerror or e}" if e.filename
               else f"cannot write the output: {e.strerror or e}")
        return EXIT_USAGE
