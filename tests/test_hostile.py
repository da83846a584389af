"""Hostile input through the installed `qa`: nothing reaches the terminal raw, nothing crashes.

Each corpus file and question of the tables runs in every non-interactive mode (-q, piped
stdin, --json with each); then pipes closed early, Ctrl-C, and unfriendly environments.
"""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import ANSWER_FIELDS, DATA, qa_command, wait_for_prompt

# Raw bytes that drive a terminal: ESC, NUL, BEL, other C0 (but tab, newline) and DEL, and the
# C1 controls as UTF-8 (0xC2 0x80-0x9F).
UNSAFE_BYTES = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]")
MODES = {
    "q": lambda qs: ([a for q in qs for a in ("-q", q)], None),
    "pipe": lambda qs: ([], b"".join(q + b"\n" for q in qs)),
    "json-q": lambda qs: (["--json", *(a for q in qs for a in ("-q", q))], None),
    "json-pipe": lambda qs: (["--json"], b"".join(q + b"\n" for q in qs)),
}


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """A private HOME and cache shared by this module's runs, so each corpus is built once."""
    home = tmp_path_factory.mktemp("hostile-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QA_", "NO_COLOR"))}
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / "cache"),
               XDG_DATA_HOME=str(home / "data"), NLTK_DATA=str(home / "nltk_empty"),
               LANG="C.UTF-8", TERM="xterm-256color")
    return env


def qa(args, env, stdin: bytes | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([qa_command(), *args], input=stdin, capture_output=True, env=env,
                          timeout=timeout)


def check_clean(r: subprocess.CompletedProcess, json_mode: bool) -> None:
    """At most one stderr line, no traceback, no raw control byte on stdout."""
    assert b"Traceback" not in r.stderr and b"Exception ignored" not in r.stderr, r.stderr
    assert len(r.stderr.splitlines()) <= 1, r.stderr
    assert not UNSAFE_BYTES.search(r.stderr), r.stderr
    assert not UNSAFE_BYTES.search(r.stdout), r.stdout
    if r.stderr:
        assert r.stderr.startswith(b"qa: ") and r.stderr.endswith(b"\n")
    if json_mode:
        assert r.stdout.isascii()
        for line in r.stdout.splitlines():
            record = json.loads(line)
            assert set(record) == ANSWER_FIELDS


ESC = b"\x1b"
HOSTILE_QUESTIONS = {
    "sgr colour": b"who \x1b[31msigned\x1b[0m the memorandum?",
    "osc 8 link": b"who signed \x1b]8;;https://evil.example/\x1b\\this\x1b]8;;\x1b\\?",
    "osc 52 clipboard": b"when \x1b]52;c;cm0gLXJmIH4K\x07 was it signed?",
    "cursor and clear": b"\x1b[2J\x1b[H\x1b[10;10Hhow was the ceremony held?",
    "bel and backspace": b"who\x07\x08\x08 heads Roscosmos?",
    "c1 csi as utf-8": "how many \u009b31m sections?".encode(),
    "raw 0x9b byte": b"how many \x9b31m sections?",
    "bidi override": "who signed the \u202eelgnis\u202c memorandum?".encode(),
    "markup": b"[bold]who[/bold] signed [link=https://x]the[/link] memorandum? [/]",
    "backslashes": b"who signed \\[the\\] memorandum \\ C:\\new\\table?",
    "emoji codes": b"who signed :rocket: the :smile: memorandum?",
    "invalid utf-8": b"who \xff\xfe signed \xc3\x28 the memorandum \xe2\x82?",
    "only controls": b"\x1b[31m\x07\x1b[0m",
    "only punctuation": b"?!...;;",
    "huge question": b"who signed the memorandum " + b"lunar " * 20_000,  # 120 KB
}
# A NUL cannot be passed in an argument; these only go through stdin.
STDIN_ONLY = {
    "nul bytes": b"who signed\x00 the\x00\x00 memorandum?",
    "one megabyte line": b"who signed " + b"x" * 1_000_000 + b"?",
    "crlf and bom": b"\xef\xbb\xbfwho signed the memorandum?\r\nhow many sections?\r\n",
}


@pytest.mark.parametrize("mode", MODES)
def test_hostile_questions_are_answered_safely(mode, env):
    """All the questions of the table in one run per mode, answered in order."""
    questions = [q[:100_000] for q in HOSTILE_QUESTIONS.values()]  # an argument is <= 128 KB
    args, stdin = MODES[mode](questions)
    r = qa(args, env, stdin)
    assert r.returncode == 0, r.stderr  # some are answered: the memorandum was signed
    check_clean(r, mode.startswith("json"))
    if mode.startswith("json"):
        records = [json.loads(line) for line in r.stdout.splitlines()]
        assert len(records) == len(questions)
        assert all(len(rec["question"]) <= 2000 for rec in records)  # cut to the cap
        assert records[0]["question"] == "who \x1b[31msigned\x1b[0m the memorandum?"
    else:
        assert r.stdout.count(b"Answer: ") + r.stdout.count(b"No answer: ") == len(questions)


@pytest.mark.parametrize("mode", ["pipe", "json-pipe"])
@pytest.mark.parametrize("name", STDIN_ONLY)
def test_hostile_stdin_is_answered_safely(name, mode, env):
    args, _ = MODES[mode]([])
    start = time.monotonic()
    r = qa(args, env, STDIN_ONLY[name] + b"\n")
    assert time.monotonic() - start < 20
    assert r.returncode in (0, 1), r.stderr
    check_clean(r, mode.startswith("json"))


# Corpus files: (file, exit codes allowed, stderr must contain)
HOSTILE_FILES = {
    "hostile_escapes.txt": ((0, 1), None),
    "hostile_markup.txt": ((0, 1), None),
    "hostile_invalid_utf8.txt": ((0, 1), None),
    "hostile_bom_crlf.txt": ((0, 1), None),
    "hostile_late_nul.txt": ((0, 1), None),
    "hostile_only_controls.txt": ((1, 2), None),
    "hostile_binary.bin": ((2,), b"binary"),
    "hostile_utf16.txt": ((2,), b"hostile_utf16.txt"),
}
CORPUS_QUESTIONS = [b"who signed the treaty?", b"when was the rocket launched?",
                    b"what was built by Carol White?", b"\x1b[31mwhere\x1b[0m is the cafe?"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", HOSTILE_FILES)
def test_hostile_corpus_file_is_read_safely(name, mode, env):
    codes, message = HOSTILE_FILES[name]
    args, stdin = MODES[mode](CORPUS_QUESTIONS)
    r = qa(["-c", str(DATA / name), "-k", "8", *args], env, stdin)
    assert r.returncode in codes, r.stderr
    check_clean(r, mode.startswith("json"))
    if message:
        assert message in r.stderr
    if r.returncode == 2:
        assert r.stdout == b""


def test_escapes_in_the_corpus_are_shown_escaped_or_dropped(env):
    r = qa(["-c", str(DATA / "hostile_escapes.txt"), "-k", "8", "-q", "who signed the treaty?"],
           env)
    assert b"Alice Smith" in r.stdout  # the text around the escapes still answers
    r = qa(["-c", str(DATA / "hostile_escapes.txt"), "--json", "-k", "8", "-q",
            "\x1b]52;c;eA==\x07 clipboard write"], env)
    record = json.loads(r.stdout)
    assert record["question"].startswith("\x1b]52")  # JSON escapes it (\u001b), keeps it
    assert b"\\u001b]52" in r.stdout


def test_markup_in_corpus_and_question_prints_literally(env):
    r = qa(["-c", str(DATA / "hostile_markup.txt"), "-k", "5", "-q",
            "who built the [bold]station[/bold]?"], env)
    assert r.returncode == 0, r.stderr
    assert b"[bold]station[/bold] was built by [link=https://x.example]Carol White[/link]" \
        in r.stdout
    r = qa(["-c", str(DATA / "hostile_markup.txt"), "-k", "5"], env,
           b"[red]which emoji codes :rocket: appeared?\n")
    assert b"Q: [red]which emoji codes :rocket: appeared?" in r.stdout
    assert b":rocket: and :smile:" in r.stdout


def test_control_characters_in_a_file_name_are_escaped_in_the_error(env):
    r = qa(["-c", "no\x1b[31msuch\x07file", "-q", "x"], env)
    assert r.returncode == 2
    assert r.stderr == b"qa: no\\x1b[31msuch\\x07file: no such file or folder\n"
    r = qa(["--bogus\x1b]52;c;eA==\x07\nnext"], env)
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1
    assert ESC not in r.stderr


def test_oversized_file_is_refused_without_reading_it(env, tmp_path):
    big = tmp_path / "big.txt"
    with open(big, "wb") as f:
        f.truncate(100 * 1024 * 1024)  # sparse: 100 MB that costs no disk
    r = qa(["-c", str(big), "-q", "x"], env, timeout=20)
    assert r.returncode == 2
    assert b"over the 64 MB limit" in r.stderr
    check_clean(r, False)


def _endless(stream, stop: threading.Event) -> None:
    try:
        block = b"The rocket was launched. " * 4096
        while not stop.is_set():
            stream.write(block)
    except OSError:
        pass  # the reader stopped reading: that is the point


def test_endless_corpus_stream_stops_at_the_limit(env):
    p = subprocess.Popen([qa_command(), "--corpus", "-", "--no-cache", "-q", "x"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=env, preexec_fn=_limit_memory(1024))
    stop = threading.Event()
    writer = threading.Thread(target=_endless, args=(p.stdin, stop), daemon=True)
    writer.start()
    try:
        p.wait(timeout=30)  # it writes one line at most: the pipes cannot fill up
    finally:
        stop.set()
    r = subprocess.CompletedProcess(p.args, p.returncode, p.stdout.read(), p.stderr.read())
    assert r.returncode == 2, r.stderr[-500:]
    assert b"stdin: over the 64 MB limit" in r.stderr
    check_clean(r, False)


def test_read_stream_stops_an_endless_stream_at_the_limit(monkeypatch):
    from qa import corpus
    from qa.errors import CorpusError

    monkeypatch.setattr(corpus, "MAX_FILE_BYTES", 1 << 20)
    read_end, write_end = os.pipe()
    stop = threading.Event()
    reader, writer = open(read_end, "rb"), open(write_end, "wb", buffering=0)
    feeder = threading.Thread(target=_endless, args=(writer, stop), daemon=True)
    feeder.start()
    try:
        with pytest.raises(CorpusError, match="over the 1 MB limit"):
            corpus.read_stream(reader, "endless")
    finally:
        stop.set()
        reader.close()  # the writer's next write fails: it stops
        feeder.join(timeout=10)
        writer.close()


def test_windows_1252_text_with_a_stray_undefined_byte_keeps_its_quotes():
    from qa.corpus import decode

    assert decode(b"\x93quoted\x94 \x81 \x9b\r\n") == "\u201cquoted\u201d \x81 \u203a\n"


def _limit_memory(megabytes: int):
    def apply() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (megabytes << 20, megabytes << 20))
    return apply


# ---- pipes ----

def _close_early(args, env, stdin: bytes | None) -> tuple[int, bytes, bytes]:
    """Like `... | head -1`: read one line of the output, then close the pipe."""
    p = subprocess.Popen([qa_command(), *args], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)

    def feed() -> None:
        try:
            p.stdin.write(stdin or b"")
            p.stdin.close()
        except BrokenPipeError:
            pass
    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    first = p.stdout.readline()
    p.stdout.close()
    err = p.stderr.read()
    return p.wait(timeout=60), first, err


@pytest.mark.parametrize("args,stdin", [
    (["-q", "who signed the memorandum?"] * 2000, None),
    (["--json", *["-q", "who signed the memorandum?"] * 2000], None),
    ([], b"who signed the memorandum?\n" * 2000),
    (["--json"], b"how many sections?\n" * 2000),
    (["--help"], None),
], ids=["q", "json-q", "pipe", "json-pipe", "help"])
def test_reader_going_away_ends_quietly(args, stdin, env):
    code, first, err = _close_early(args, env, stdin)
    assert first
    assert err == b"", err
    assert code in (0, 1, 141)


def test_batch_answers_are_flushed_one_by_one(env):
    p = subprocess.Popen([qa_command(), "--json"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        p.stdin.write(b"who signed the memorandum?\n")
        p.stdin.flush()
        line = p.stdout.readline()  # arrives while stdin is still open
        assert json.loads(line)["found"] is True
    finally:
        p.stdin.close()
        p.wait(timeout=30)


def test_full_disk_is_one_error_line(env):
    with open("/dev/full", "wb") as full:
        r = subprocess.run([qa_command(), "-q", "who signed the memorandum?"], stdout=full,
                           stderr=subprocess.PIPE, env=env, timeout=60)
    assert r.returncode == 2
    assert r.stderr == b"qa: cannot write the output: No space left on device\n"


# ---- signals ----

def _interrupt(p: subprocess.Popen, wait_for: float) -> tuple[int, bytes]:
    time.sleep(wait_for)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=30)
    return p.returncode, err


def test_ctrl_c_during_a_batch_exits_130_with_one_line(env):
    p = subprocess.Popen([qa_command()], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env)
    p.stdin.write(b"who signed the memorandum?\n")
    p.stdin.flush()
    p.stdout.readline()  # answering, and now waiting for the next question
    code, err = _interrupt(p, 0.1)
    assert code == 130
    assert err == b"qa: interrupted\n"


def test_ctrl_c_during_an_index_build_exits_130_and_leaves_no_cache(env, tmp_path):
    words = [f"w{i:05d}" for i in range(5000)]
    text = "\n\n".join(" ".join(words[(i * 7 + k) % 5000] for k in range(12)).capitalize()
                       + "." for i in range(40_000))
    corpus = tmp_path / "large.txt"
    corpus.write_text(text)
    cache = tmp_path / "cache"
    p = subprocess.Popen([qa_command(), "-c", str(corpus), "-q", "w00001"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env={**env, "XDG_CACHE_HOME": str(cache)})
    code, err = _interrupt(p, 1.0)
    assert code == 130, err
    assert err.splitlines()[-1:] == [b"qa: interrupted"]
    assert b"Traceback" not in err
    assert not list(cache.glob("**/*.tmp"))


# ---- environments ----

@pytest.mark.parametrize("changes", [
    {"LANG": "C", "LC_ALL": "C"},
    {"LANG": "C", "LC_ALL": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"},
    {"LANG": "", "LC_ALL": "", "LC_CTYPE": ""},
    {"TERM": "dumb"},
    {"TERM": ""},
], ids=["lang-c", "lang-c-no-utf8-mode", "no-locale", "term-dumb", "no-term"])
@pytest.mark.parametrize("mode", ["q", "json-pipe"])
def test_unfriendly_locale_and_terminal_still_answer(changes, mode, env):
    args, stdin = MODES[mode]([b"who signed the memorandum?", "caf\u00e9 \u202e?".encode(),
                               b"\xff who?"])
    r = qa(args, {**env, **changes}, stdin)
    assert r.returncode == 0, r.stderr
    assert b"Rogozin" in r.stdout
    check_clean(r, mode.startswith("json"))


def _unwritable(tmp_path: Path, kind: str) -> dict[str, str]:
    """Homes and cache folders that cannot be written, even by root."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    if kind == "home-is-a-file":
        return {"HOME": str(blocker), "XDG_CACHE_HOME": "", "XDG_DATA_HOME": ""}
    if kind == "no-home":
        return {"HOME": "", "XDG_CACHE_HOME": "", "XDG_DATA_HOME": ""}
    if kind == "read-only-home":
        home = tmp_path / "ro-home"
        home.mkdir()
        home.chmod(stat.S_IRUSR | stat.S_IXUSR)
        return {"HOME": str(home), "XDG_CACHE_HOME": "", "XDG_DATA_HOME": ""}
    return {"XDG_CACHE_HOME": str(blocker / "cache")}  # cache-under-a-file


@pytest.mark.parametrize("kind", ["home-is-a-file", "no-home", "read-only-home",
                                  "cache-under-a-file"])
def test_unwritable_home_or_cache_still_answers(kind, env, tmp_path):
    changes = _unwritable(tmp_path, kind)
    run_env = {k: v for k, v in {**env, **changes}.items() if v != ""}
    for _ in range(2):  # the second run must not trip over anything the first left
        r = qa(["-q", "who signed the memorandum?"], run_env)
        assert r.returncode == 0, r.stderr
        assert r.stderr == b""
        assert b"Rogozin" in r.stdout


def test_narrow_and_dumb_terminals_get_a_readable_answer(env):
    pexpect = pytest.importorskip("pexpect")
    for term, cols in (("xterm-256color", 20), ("dumb", 80)):
        child = pexpect.spawn(qa_command(), ["-c", str(DATA / "hostile_escapes.txt"), "-k", "8",
                                             "-q", "who signed the treaty?"],
                              env={**env, "TERM": term}, dimensions=(24, cols), timeout=30)
        out = child.read()
        child.close()
        assert child.exitstatus in (0, 1)
        assert b"Alice" in out and b"Traceback" not in out
        # rich's own colour codes are the only escape sequences
        assert ESC not in re.sub(rb"\x1b\[[0-9;]*m", b"", out)


def test_history_file_is_private_and_a_broken_data_folder_is_survived(env, tmp_path):
    pexpect = pytest.importorskip("pexpect")
    data = tmp_path / "data"
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    for data_home, saved in ((data, True), (blocker / "data", False)):
        child = pexpect.spawn(qa_command(), [], env={**env, "XDG_DATA_HOME": str(data_home),
                                                     "PROMPT_TOOLKIT_NO_CPR": "1"},
                              dimensions=(24, 100), timeout=30)
        wait_for_prompt(child)  # keys sent while the chat is busy may be lost (cooked mode)
        child.sendline("who signed the memorandum?")
        child.expect("Rogozin")
        wait_for_prompt(child)  # a Ctrl-D sent before this was the flaky failure
        child.sendeof()
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0
        if saved:
            history = data / "qa" / "history"
            assert stat.S_IMODE(history.stat().st_mode) == 0o600
            assert stat.S_IMODE(history.parent.stat().st_mode) == 0o700
            assert "who signed the memorandum?" in history.read_text()
