"""The `qa` command: arguments, choosing the mode, exit codes."""

from __future__ import annotations

import argparse
import errno
import io
import os
import re
import stat
import sys
from pathlib import Path

from qa.errors import QAError, UsageError

EXIT_ANSWERED, EXIT_NO_ANSWER, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_PIPE = 0, 1, 2, 130, 141
# A bug in qa (an exception nobody expected): one line asking for a report, never a traceback.
EXIT_INTERNAL = 70
# Stdin is read this much of a line at a time; the rest of a longer line is skipped unread.
MAX_LINE_CHARS = 64 * 1024
_SURROGATE = re.compile("[\ud800-\udfff]")
# Said once when the text is mostly not English (answers are then never more than "unsure").
FOREIGN_NOTE = ("the text seems not to be English: qa learned from English, so its answers "
                "here are unreliable (shown as unsure at best)")
# Said once when -q reads piped text as the document, unasked (a `while read q; do qa -q`
# loop would otherwise answer from the rest of the loop's input).
STDIN_DOCUMENT_NOTE = ("reading stdin as the document (-q with piped input); to ask about "
                       "another text give -c FILE, or </dev/null for the bundled article")
# OpenBLAS's worker threads spin for about 0.1 s after each product before they sleep (its
# OPENBLAS_THREAD_TIMEOUT, 2^28 cycles by default): for a question or two, that spinning takes the
# second core from the thread loading the reader's weights (20 ms of a `qa -q`, bench/RESULTS.md).
# Piped questions and the chat keep the default: a stream of forward passes gains from it (4%).
QUICK_BLAS_TIMEOUT = "4"  # 2^4 cycles: sleep at once
# Said when stdin is a terminal but stdout is not (`qa | cat`), which would otherwise look hung.
STDIN_NOTE = "qa: questions are read from stdin, one a line; Ctrl-D ends"

USAGE_EPILOG = """\
modes:
  qa                      chat in the terminal (when stdin and stdout are terminals)
  qa -q "QUESTION"        answer and exit; -q may repeat
  ... | qa -q "QUESTION"  the piped text is the document (as --corpus -)
  ... | qa                answer each line of stdin as it arrives
  qa --extract SOURCE     print the text that citations' chars START-END refer to
  qa cache [--clear]      show (or empty) the index and web page cache
  qa eval GOLD            score answers against a gold question file (qa eval --help)

sources (--corpus, --extract, /load in the chat):
  plain text (.txt .text .rst, or no ending), Markdown (.md .markdown),
  HTML (.html .htm .xhtml), PDF (.pdf), a folder (every such file under it),
  a web page (http:// or https://), or - for stdin

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
        raise UsageError(f"{message}{self._nearest(message)} (see 'qa --help')")

    def _nearest(self, message: str) -> str:
        """"; did you mean --question?" for a flag that is a typo of one of ours."""
        import difflib

        if not message.startswith("unrecognized arguments:"):
            return ""
        known = [o for action in self._actions for o in action.option_strings
                 if o.startswith("--")]
        for word in message.split(":", 1)[1].split():
            if word.startswith("--"):
                close = difflib.get_close_matches(word.split("=")[0], known, n=1, cutoff=0.6)
                if close:
                    return f"; did you mean {close[0]}?"
        return ""

    def _print_message(self, message: str, file=None) -> None:
        # argparse drops write errors (help into a full disk exited 0): let them be seen
        if message:
            (file or sys.stderr).write(message)


def seconds(text: str) -> float:
    """An argparse type: a time limit in seconds, more than 0 and at most an hour."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most 3600: {text}")
    return value


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
    p.add_argument("-c", "--corpus", action="append", default=[], metavar="SOURCE",
                   help="a file, a folder, a web page (URL) or - for stdin, to read instead of "
                        "the bundled article (repeatable; formats below)")
    from qa.render import top_count

    p.add_argument("-k", "--top", type=top_count, default=3, metavar="N",
                   help="how many sentences to show per answer (default 3)")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object per question (JSON Lines); not in the chat")
    p.add_argument("--no-color", action="store_true", help="no colours (NO_COLOR is honoured too)")
    p.add_argument("--no-cache", action="store_true",
                   help="build the index afresh and do not write it to the cache")
    p.add_argument("--fast", action="store_true",
                   help="answer with the lexical engine alone (BM25 and the learned ranker; the "
                        "sentence is the answer): for bulk questions, many times faster")
    p.add_argument("--chat", action="store_true",
                   help="ask the questions as one conversation: follow-ups (\"when?\", "
                        "\"what did he say?\") use the earlier questions and answers")
    p.add_argument("--extract", metavar="SOURCE",
                   help="print the text of SOURCE as qa reads it (for a PDF, HTML or Markdown: "
                        "the extracted text) and exit; citations' chars count in this text")
    p.add_argument("--timeout", type=seconds, default=None, metavar="SECONDS",
                   help="how long to wait for a web page (default 20)")
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


def warn(line: str) -> None:
    """A warning from reading the sources: one stderr line, like an error's."""
    _error(line)


def _load(args, progress: bool):
    if not args.fast:
        from qa import reader

        reader.prefetch()  # the weights load while the rest of qa is imported and the text read
    from qa.answer import Engine
    from qa.index import open_index

    paths = args.corpus or [str(default_corpus())]
    options = dict(use_cache=not args.no_cache, warn=warn, timeout=args.timeout,
                   stdin=getattr(args, "stdin", None))
    if not (progress and sys.stderr.isatty()):
        engine = Engine(open_index(paths, **options), fast=args.fast)
    else:
        from qa.render import BuildProgress

        bar = BuildProgress(args.no_color)
        try:
            engine = Engine(open_index(paths, progress=bar, **options), fast=args.fast)
        finally:
            bar.close()
    if engine.foreign:
        warn(FOREIGN_NOTE)
    return engine


def quick_blas() -> None:
    """Let BLAS threads sleep as soon as they are done, for a short run (unless the user set
    OPENBLAS_THREAD_TIMEOUT, or numpy, and with it OpenBLAS, is already loaded)."""
    if "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", QUICK_BLAS_TIMEOUT)


def _stdin_is_data() -> bool:
    """Stdin is a pipe, a file or a socket: something was given on it (not a terminal, not
    /dev/null, not closed)."""
    if sys.stdin is None:
        return False
    try:
        mode = os.fstat(0).st_mode
    except (OSError, ValueError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISREG(mode) or stat.S_ISSOCK(mode)


def _stdin_document(args) -> None:
    """With -q, piped text is the document: read it now, and use it unless it is empty."""
    from qa.corpus import read_stdin

    data = read_stdin()
    if data.strip():
        args.corpus, args.stdin = ["-"], data
        warn(STDIN_DOCUMENT_NOTE)


def _extract(args) -> int:
    """Print a source's text exactly as its citations count characters in it."""
    from qa.corpus import blank_controls, extract, read_sources

    if args.question or args.corpus:
        raise UsageError("--extract prints a text and exits: give it alone, without -q or "
                         "--corpus")
    if os.path.isdir(args.extract):
        raise UsageError(f"{args.extract}: is a folder: --extract takes one file, web page or -")
    (source,) = read_sources([args.extract], warn=warn, timeout=args.timeout,
                             use_cache=not args.no_cache)
    # Controls become spaces one for one, so offsets still hold and nothing drives a terminal.
    extracted = extract(source)
    for note in extracted.notes:
        warn(note)
    text = blank_controls(extracted.text)
    sys.stdout.flush()
    write_all(sys.stdout.fileno(), text.encode("utf-8"))
    return EXIT_ANSWERED


def write_all(fd: int, data: bytes) -> None:
    """Every byte to fd, or OSError: a short write (a full disk, a file size limit) is an
    error, a reader that went away is BrokenPipeError."""
    view = memoryview(data)
    while view:
        n = os.write(fd, view[:1 << 20])
        if n <= 0:
            raise OSError(errno.EIO, "the output took nothing more")
        view = view[n:]


def _cache_command(argv: list[str]) -> int:
    """`qa cache`: where the cache is and what it holds; `--clear` empties it."""
    import time

    from qa import cache

    p = _Parser(prog="qa cache", description="Show the cache of indexes and web pages, "
                "or empty it.")
    p.add_argument("--clear", action="store_true", help="remove every entry")
    args = p.parse_args(argv)
    folder = cache.cache_dir()
    if folder is None:
        raise QAError("there is no cache folder (no home folder): nothing is cached")
    if args.clear:
        count, size = cache.clear(folder)
        sys.stdout.write(f"{_safe(str(folder))}: removed {count} file(s), {_size(size)}\n")
        return EXIT_ANSWERED
    cache.remove_stale(folder)
    entries = cache.entries(folder)
    total = sum(e.size for e in entries)
    sys.stdout.write(f"{_safe(str(folder))}: {len(entries)} entr{'y' if len(entries) == 1 else 'ies'}"
                     f", {_size(total)}\n")
    for e in entries:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(e.modified))
        label = e.label
        if e.kind == "index" and not label.startswith("(damaged"):
            from qa.index import load_index

            if load_index(e.path) is None:  # checked as a run would: a bad entry is not healthy
                label += " (damaged: rebuilt when next used)"
        sys.stdout.write(f"  {e.kind:<6} {_size(e.size):>9}  {when}  {_safe(label)}\n")
    return EXIT_ANSWERED


def _size(size: int) -> str:
    """Bytes as KB or MB, for people."""
    return f"{size / 2**20:.1f} MB" if size >= 2**20 else f"{size / 2**10:.0f} KB"


def _safe(text: str) -> str:
    from qa.render import safe_line

    return safe_line(text)


def _chat(engine, args):
    """With --chat the questions are one conversation, so follow-ups use earlier turns."""
    if not args.chat:
        return engine
    from qa.conversation import Conversation

    return Conversation(engine)


# The chat's /commands (qa/repl.py's COMMANDS; a test keeps the two the same), importable
# without the chat's prompt_toolkit.
CHAT_COMMANDS = frozenset("help show context why explain sources load top json history save "
                          "clear new quit".split())


def chat_command(text: str) -> str | None:
    """The chat command a line names ("/why 2" -> "why"), if it names one."""
    words = text[1:].split(maxsplit=1) if text.startswith("/") else []
    return words[0].lower() if words and words[0].lower() in CHAT_COMMANDS else None


def _answer_all(engine, questions, args, *, echo: bool) -> int:
    """Answer questions in order, printing each as soon as it is ready; the exit code."""
    from dataclasses import replace

    from qa import render
    from qa.answer import NO_WORDS, NONE, Answer
    from qa.question import MAX_QUESTION_CHARS

    tty = sys.stdout.isatty() and not args.json
    console = render.terminal_console(args.no_color) if tty else None
    asked = answered = 0
    warned = False
    for raw in questions:
        text = raw.strip()
        if not text:
            continue
        text = _from_os(text[:MAX_QUESTION_CHARS])
        command = chat_command(text)
        if command:  # "/why" piped is not the question "why", nor a turn of a --chat
            note = f"not asked: /{command} is a command of the chat, which qa starts in a terminal"
            answer, searched = Answer(question=text, found=False, answer=None, type=NONE,
                                      hits=(), notes=(note,)), None
            if not warned:
                warned = True
                sys.stderr.write(f"qa: {note}; piped lines are questions\n")
        else:
            answer = engine.ask(text, top=args.top)
            searched = getattr(engine, "searched", None)  # what a --chat follow-up added
        if not args.chat and answer.notes == (NO_WORDS,):
            answer = replace(answer, notes=(NO_WORDS + "; for a follow-up of the question "
                                            "before, ask both with --chat",))
        asked += 1
        answered += answer.found
        if args.json:
            sys.stdout.write(render.json_line(answer) + "\n")
        elif console is not None:
            if echo:
                from rich.text import Text

                console.print(Text("? " + render.safe(text), style="bold cyan"))
            render.rich_answer(answer, console, searched)
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
    if argv[:1] == ["cache"]:
        return _cache_command(argv[1:])
    args = build_parser().parse_args(argv)
    if args.no_color:
        os.environ["NO_COLOR"] = "1"
    if args.extract is not None:
        return _extract(args)
    interactive = sys.stdin is not None and sys.stdin.isatty() and sys.stdout.isatty()
    if "-" in args.corpus and not args.question:
        raise UsageError("stdin cannot be both the document (--corpus -) and the questions: "
                         "give the questions with -q")
    if args.question and not args.corpus and _stdin_is_data():
        _stdin_document(args)
    if args.question:
        asked = [q for q in args.question if q.strip()]
        if not asked:
            raise UsageError("-q needs a question, e.g. qa -q \"Who signed the memorandum?\"")
        quick_blas()
        # Several answers need their questions beside them, as piped questions have.
        return _answer_all(_chat(_load(args, True), args), asked, args, echo=len(asked) > 1)
    if interactive:
        if args.json:
            raise UsageError("--json is for -q and piped questions, not the chat")
        from qa.repl import run_repl

        return run_repl(_load(args, True), top=args.top, no_color=args.no_color,
                        paths=args.corpus or None)
    if sys.stdin is None:
        raise UsageError("stdin is closed: give the questions with -q, or pipe them in")
    if sys.stdin.isatty():  # `qa | cat`: no chat without a terminal on stdout, so say why
        sys.stderr.write(STDIN_NOTE + "\n")
        sys.stderr.flush()
    return _answer_all(_chat(_load(args, False), args), _stdin_lines(), args, echo=True)


def _error(message: str) -> None:
    """One stderr line, with anything that could drive the terminal escaped."""
    from qa.render import safe_line

    sys.stderr.write(f"qa: {safe_line(message)}\n")
    sys.stderr.flush()


def _internal_error(e: BaseException) -> int:
    """A bug in qa, as one line that asks for a report; exit EXIT_INTERNAL."""
    _silence_stdout()
    detail = str(e).splitlines()[0][:200] if str(e) else ""
    _error(f"internal error ({type(e).__name__}{': ' + detail if detail else ''}): "
           "please report it")
    return EXIT_INTERNAL


def _silence_stdout() -> None:
    """Send what is left in stdout's buffer nowhere, so the exit-time flush cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _closed_stdio() -> str | None:
    """Standard streams the shell closed (`qa <&-`, `>&-`) point at /dev/null instead, so that
    no file opened later takes their number (answers written into a cache file). What to say
    when stdout is closed: nothing qa prints could arrive."""
    problem = None
    for fd, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        try:
            os.fstat(fd)
        except OSError:
            try:
                null = os.open(os.devnull, os.O_RDWR)
                if null != fd:
                    os.dup2(null, fd)
                    os.close(null)
            except OSError:
                pass
            if fd == 1:
                problem = "standard output is closed: nothing qa prints could arrive"
    if sys.stderr is None:
        sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)
    return problem


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `qa` command; returns the exit status."""
    closed = _closed_stdio()
    if closed or sys.stdout is None:
        _error(closed or "standard output is closed: nothing qa prints could arrive")
        return EXIT_USAGE
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
    except TimeoutError as e:  # an OSError, but nothing to do with the output
        return _internal_error(e)
    except OSError as e:  # most likely writing the answers failed: a full disk, a lost terminal
        _silence_stdout()
        _error(f"{e.filename}: {e.strerror or e}" if e.filename
               else f"cannot write the output: {e.strerror or e}")
        return EXIT_USAGE
    except SystemExit as e:  # argparse's --help and --version: their output must arrive
        code = e.code if isinstance(e.code, int) else EXIT_USAGE
        try:
            sys.stdout.flush()
        except OSError as err:
            _silence_stdout()
            _error(f"cannot write the output: {err.strerror or err}")
            return EXIT_USAGE
        return code
    except Exception as e:  # a bug: one line, not a traceback
        return _internal_error(e)
