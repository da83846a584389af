"""Issue 21's audit, one test per case: every one of these failed before its fix.

Each test names the break or degradation it covers; the command that showed it is in its
docstring.
"""

from __future__ import annotations

import json
import os
import resource
import stat
import subprocess
import sys
import time

import numpy as np
import pytest

from qa import cache, corpus, fetch, sentences
from qa.cli import EXIT_INTERNAL, main
from qa.errors import CorpusError
from tests.conftest import ARTICLE, minimal_pdf, qa_command


def run(args, env, stdin: bytes | None = None, timeout: float = 60, **kwargs):
    return subprocess.run([qa_command(), *args], input=stdin, capture_output=True, env=env,
                          timeout=timeout, stdin=None if stdin is not None else subprocess.DEVNULL,
                          **kwargs)


def one_line(r, code: int, message: str) -> None:
    assert r.returncode == code, (r.returncode, r.stdout[-300:], r.stderr)
    assert b"Traceback" not in r.stderr
    assert r.stderr.startswith(b"qa: ") and r.stderr.count(b"\n") == 1, r.stderr
    assert message.encode() in r.stderr, r.stderr


# ---- broke ---------------------------------------------------------------------------------

def test_punkt_reads_a_long_paragraph_a_bounded_piece_at_a_time(monkeypatch):
    """Broke 1: a 50 MB one-paragraph text failed with Punkt's regex time limit. Punkt now
    never sees more than PUNKT_PIECE_CHARS at once, and the sentences are the same."""
    monkeypatch.setattr(sentences, "PUNKT_PIECE_CHARS", 2_000)
    text = " ".join(f"Sentence number {k} talks about the harbour and its {k} boats."
                    for k in range(400))
    seen: list[int] = []
    tokenizer = sentences.punkt()

    class Spy:
        def span_tokenize(self, piece):
            seen.append(len(piece))
            return tokenizer.span_tokenize(piece)

    spans = sentences.split_text(Spy(), text)
    assert max(seen) <= 2_000 and len(seen) > 10
    assert [text[a:b] for a, b in spans] == [f"Sentence number {k} talks about the harbour "
                                              f"and its {k} boats." for k in range(400)]


def test_a_timeout_inside_qa_is_not_called_a_write_failure(monkeypatch, capsys):
    """Broke 1: nltk's TimeoutError (an OSError) was reported as "cannot write the output"."""
    def slow(*args, **kwargs):
        raise TimeoutError("regular-expression match exceeded its 5.0s time limit")

    monkeypatch.setattr("qa.cli.run", slow)
    assert main(["-q", "x"]) == EXIT_INTERNAL
    err = capsys.readouterr().err
    assert "cannot write the output" not in err and "internal error (TimeoutError" in err


def test_a_folder_nested_a_thousand_deep_is_walked(tmp_path, qa_env):
    """Broke 2: `qa -c deep -q x` over 1,000 nested folders: RecursionError traceback."""
    levels = [tmp_path / "deep"]
    for _ in range(1000):
        levels.append(levels[-1] / "d")
    for level in levels:
        level.mkdir()
    note = levels[-1] / "note.txt"
    note.write_text("The lighthouse keeper was Ada Brennan. She lit the lamp every evening at "
                    "nine.\n")
    try:
        r = run(["-c", str(levels[0]), "-q", "Who was the lighthouse keeper?"], qa_env)
        assert r.returncode == 0, r.stderr[-500:]
        assert b"Brennan" in r.stdout
    finally:  # bottom up: pytest's own clean-up recurses, and would fail at this depth
        note.unlink()
        for level in reversed(levels):
            level.rmdir()


def test_nested_html_lists_are_read_once_each(tmp_path, qa_env):
    """Broke 3: 20 nested <ul><li> gave 524,289 paragraphs; 200 ran 622 s and 22 GB."""
    depth = 200
    html = ("<html><body><article><p>A page about lists that nest very deeply indeed.</p>"
            + "<ul><li>level item text" * depth + "</li></ul>" * depth
            + "</article></body></html>")
    page = tmp_path / "nested.html"
    page.write_text(html)
    r = run(["--extract", str(page)], qa_env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert len(r.stdout) <= 3 * len(html)
    items = r.stdout.decode().count("level item text")
    assert 0 < items <= depth


def test_timeout_is_one_deadline_for_a_slow_drip(site, qa_env):
    """Broke 4: a server sending a byte every 0.5 s held `qa --timeout 3` for 120 s."""
    started = time.monotonic()
    r = run(["-c", f"{site.url}/drip", "--timeout", "2", "-q", "x"], qa_env, timeout=40)
    one_line(r, 2, "no answer within 2 s")
    assert time.monotonic() - started < 30  # the drip lasts a minute


def test_timeout_counts_across_redirects(site, qa_env):
    """Broke 4: ten redirects of 2 s each took 22 s under --timeout 3."""
    r = run(["-c", f"{site.url}/chain0", "--timeout", "3", "-q", "x"], qa_env, timeout=40)
    one_line(r, 2, "no answer within 3 s")


def _file_size_limit():
    resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX resource limits")
def test_extract_under_a_file_size_limit_is_an_error(tmp_path, qa_env):
    """Broke 5: `ulimit -f 1024; qa --extract big.txt > out` exited 0 with 1 MB written."""
    big = tmp_path / "big.txt"
    big.write_text("The rocket launched today from the pad. " * 100_000)
    with open(tmp_path / "out.txt", "wb") as out:
        r = subprocess.run([qa_command(), "--extract", str(big)], stdout=out,
                           stderr=subprocess.PIPE, env=qa_env, timeout=60,
                           preexec_fn=_file_size_limit)
    assert r.returncode == 2 and b"cannot write the output" in r.stderr, r.stderr


def test_extract_into_a_closed_pipe_exits_141(tmp_path, qa_env):
    """Broke 5: `qa --extract big.txt | head -c 10` exited 0."""
    big = tmp_path / "big.txt"
    big.write_text("The rocket launched today from the pad. " * 100_000)
    r = subprocess.run(["bash", "-c", f'"{qa_command()}" --extract "{big}" | head -c 10; '
                        'exit "${PIPESTATUS[0]}"'], capture_output=True, env=qa_env, timeout=60)
    assert r.returncode == 141 and r.stdout == b"The rocket", (r.returncode, r.stderr)


@pytest.mark.parametrize("shell", [
    'qa -q "who signed?" >&-', 'echo "who signed?" | qa >&-', "qa cache >&-",
    'qa --extract "$ARTICLE" >&-'])
def test_closed_stdout_is_one_line(qa_env, shell):
    """Broke 6: stdout closed (`>&-`): AttributeError traceback."""
    env = dict(qa_env, ARTICLE=str(ARTICLE), PATH=os.path.dirname(qa_command()) + ":"
               + qa_env.get("PATH", ""))
    r = subprocess.run(["bash", "-c", shell], capture_output=True, env=env, timeout=60)
    one_line(r, 2, "standard output is closed")


def test_closed_stdin_answers_a_question_given_with_q(qa_env):
    """Broke 6: `qa -q "who signed?" <&-`: AttributeError traceback."""
    env = dict(qa_env, PATH=os.path.dirname(qa_command()) + ":" + qa_env.get("PATH", ""))
    r = subprocess.run(["bash", "-c", 'qa -q "who signed the memorandum?" <&-'],
                       capture_output=True, env=env, timeout=60)
    assert r.returncode == 0 and b"Traceback" not in r.stderr, r.stderr
    r = subprocess.run(["bash", "-c", "qa <&-"], capture_output=True, env=env, timeout=60)
    one_line(r, 2, "stdin is closed")


def test_eval_blanks_escape_sequences_of_a_gold_file(tmp_path, qa_env):
    """Broke 7: `qa eval` wrote a gold file's OSC 52 clipboard write to the terminal, and a
    file name's escapes into the table title."""
    osc52 = "\x1b]52;c;ZXZpbA==\x07"
    gold = tmp_path / f"gold\x1b[31mred.jsonl"
    gold.write_text(json.dumps({"question": f"Who signed? {osc52}", "answers": ["nobody here"],
                                "sentence": "Zhang Keijan signed"}) + "\n")
    r = run(["eval", str(gold)], qa_env)
    assert r.returncode == 0, r.stderr
    assert b"\x1b" not in r.stdout


# ---- degraded: web pages -------------------------------------------------------------------

@pytest.mark.parametrize("path, message", [
    ("/to-metadata", "a link-local address (169.254.169.254): not followed"),
    ("/to-ftp", "qa follows only http and https, not ftp:// addresses"),
    ("/to-file", "qa follows only http and https, not file:// addresses"),
    ("/not-modified", "the server answered 304 Not Modified, not a page"),
    ("/to-missing", "/missing: the server answered 404 Not Found"),
    ("/cut-short", "the page arrived cut short (18 of 1,000 bytes)"),
])
def test_redirects_and_broken_bodies_are_refused_by_name(site, qa_env, path, message):
    """Degraded: redirects to 169.254.169.254 and ftp:// were followed, file:// and a bare
    304 were "too many redirects", an error after a redirect named the first hop, and a body
    shorter than its Content-Length was indexed and cached."""
    r = run(["-c", site.url + path, "-q", "x"], qa_env)
    one_line(r, 2, message)
    folder = os.path.join(qa_env["XDG_CACHE_HOME"], "qa")
    pages = [n for n in os.listdir(folder) if n.startswith("page-")] \
        if os.path.isdir(folder) else []
    assert not pages  # nothing of a refused page is cached


def test_a_redirect_to_a_page_on_the_same_host_is_followed(site):
    assert fetch.download(f"{site.url}/to-article", 10).format == "html"


def test_credentials_in_a_url_are_refused_and_masked(qa_env, site):
    """Degraded: http://alice:s3cret@127.0.0.1/… said "cannot find the host 127.0.0.1"."""
    url = site.url.replace("http://", "http://alice:s3cret@") + "/article.html"
    r = run(["-c", url, "-q", "x"], qa_env)
    one_line(r, 2, "a user name or password in a web address is not supported")
    assert b"s3cret" not in r.stderr


def test_other_schemes_on_the_command_line_say_so(qa_env):
    r = run(["-c", "ftp://127.0.0.1/notes.txt", "-q", "x"], qa_env)
    one_line(r, 2, "qa reads http:// and https:// pages, not ftp:// addresses")


# ---- degraded: files and folders -----------------------------------------------------------

def test_symlinks_inside_a_folder_are_not_followed(tmp_path, qa_env):
    """Degraded: a file symlink in a folder pointing outside it was indexed."""
    secret = tmp_path / "secret.txt"
    secret.write_text("The passphrase for the vault is correct horse battery staple.\n")
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.txt").write_text("The harbour opened in 1890. Fishing boats use it daily.\n")
    (folder / "link.txt").symlink_to(secret)
    r = run(["-c", str(folder), "-q", "What is the passphrase for the vault?"], qa_env)
    assert b"horse battery" not in r.stdout
    assert b"skipped 1 symlink(s) inside the folder" in r.stderr
    r = run(["-c", str(folder / "link.txt"), "-q", "What is the passphrase for the vault?"],
            qa_env)
    assert b"horse battery" in r.stdout  # a link named on the command line is followed


def test_the_same_file_twice_is_read_once(tmp_path, qa_env):
    (tmp_path / "a.txt").write_text("The venue is booked for the offsite. Forty people will "
                                    "come to the hall.\n")
    r = run(["-c", str(tmp_path / "a.txt"), "-c", f"{tmp_path}/./a.txt", "--json", "-k", "5",
             "-q", "How many people will come to the hall?"], qa_env)
    texts = [s["text"] for s in json.loads(r.stdout)["sentences"]]
    assert len(texts) == len(set(texts)), texts


def test_a_stray_byte_in_utf8_is_replaced_not_a_reason_for_cp1252(tmp_path, qa_env):
    """Degraded: one 0xFF in UTF-8 made the whole file Windows-1252 ("ZÃ¼rich")."""
    path = tmp_path / "cafe.txt"
    path.write_bytes("The café in Zürich opened in 1920 and still serves coffee.".encode()
                     + b"\xff Its owner was Hans M\xc3\xbcller.\n")
    r = run(["--extract", str(path)], qa_env)
    assert "Zürich" in r.stdout.decode() and "\ufffd" in r.stdout.decode()
    assert b"1 byte(s) are not UTF-8" in r.stderr


def test_utf32_is_called_utf32(tmp_path, qa_env):
    path = tmp_path / "u32.txt"
    path.write_bytes("Hello there, a text in UTF-32.".encode("utf-32"))
    one_line(run(["-c", str(path), "-q", "x"], qa_env), 2, "is UTF-32 text")


def test_a_crafted_cache_entry_is_rebuilt_and_called_damaged(tmp_path, qa_env, monkeypatch):
    """Degraded: NaN weights, negative offsets or unsorted postings in an entry with the right
    key gave tracebacks on every run, and `qa cache` called it healthy."""
    from qa import index as index_mod

    text = tmp_path / "t.txt"
    text.write_text("The harbour opened in 1890. Fishing boats use the harbour every day. "
                    "The harbour boats sail at dawn.\n")
    assert run(["-c", str(text), "-q", "When did the harbour open?"], qa_env).returncode == 0
    monkeypatch.setenv("XDG_CACHE_HOME", qa_env["XDG_CACHE_HOME"])
    [entry] = [e for e in cache.entries() if e.kind == "index"]
    for damage in ("nan", "offsets", "postings"):
        with np.load(entry.path) as z:
            arrays = {k: z[k] for k in z.files}
        if damage == "nan":
            arrays["weights"] = arrays["weights"] * np.nan
        elif damage == "offsets":
            arrays["starts"] = arrays["starts"] - 1000
        else:
            arrays["docs"] = arrays["docs"][::-1].copy()
        with open(entry.path, "wb") as f:
            np.savez(f, **arrays)
        assert index_mod.load_index(entry.path) is None
        listing = run(["cache"], qa_env).stdout
        assert b"damaged" in listing, listing
        r = run(["-c", str(text), "--json", "-q", "When did the harbour open?"], qa_env)
        assert r.returncode == 0 and b"Traceback" not in r.stderr
        assert all(s["start"] >= 0 for s in json.loads(r.stdout)["sentences"])


def test_pdf_pages_over_the_work_bound_are_skipped_and_named(monkeypatch):
    """Degraded: a 173 KB PDF of ten 5 MB content streams took 224 s of CPU."""
    from qa import pdf_text

    monkeypatch.setattr(pdf_text, "MAX_PAGE_CONTENT_BYTES", 2_000)
    data = minimal_pdf([["A short first page about the harbour."],
                        ["A very long line of words on page two. " * 100],
                        ["The third page is short too."]])
    got = pdf_text.pdf_text(data, "doc.pdf")
    assert "harbour" in got.text and "third page" in got.text and "page two" not in got.text
    assert got.notes == ("doc.pdf: skipped page(s) 2 (over 0 MB of drawing instructions, or "
                         "past 60 s of reading)",)


def test_relative_xdg_folders_are_ignored(tmp_path, qa_env):
    """Degraded: a relative XDG_CACHE_HOME made folders in the current directory."""
    env = dict(qa_env, XDG_CACHE_HOME="rel-cache", XDG_DATA_HOME="rel-data")
    work = tmp_path / "work"
    work.mkdir()
    r = run(["-q", "who heads Roscosmos?"], env, cwd=work)
    assert r.returncode == 0 and not any(work.iterdir())
    assert (tmp_path / ".cache" / "qa").is_dir()  # HOME's default instead


def test_a_world_writable_cache_folder_is_made_private(qa_env):
    folder = os.path.join(qa_env["XDG_CACHE_HOME"], "qa")
    os.makedirs(folder)
    os.chmod(folder, 0o777)
    assert run(["-q", "who heads Roscosmos?"], qa_env).returncode == 0
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700


def test_a_long_wait_for_another_builder_is_said(tmp_path, monkeypatch):
    """Degraded: a qa waiting on a builder stopped with Ctrl-Z waited silently up to 600 s."""
    import fcntl

    monkeypatch.setattr(cache, "LOCK_NOTICE_SECONDS", 0.2)
    entry = tmp_path / "index-x.npz"
    lock = entry.with_name(entry.name + ".lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.write(fd, b"4242")
    said: list[str] = []
    try:
        with cache.build_lock(entry, timeout=0.6, on_long_wait=said.append):
            pass
    finally:
        os.close(fd)
    assert len(said) == 1 and "another qa (process 4242)" in said[0] and "up to 1 s" in said[0]


def test_a_folder_over_the_total_limit_is_refused(tmp_path, monkeypatch):
    """Degraded: a 200 MB folder was read whole into memory before indexing (1.8 GB)."""
    monkeypatch.setattr(corpus, "MAX_TOTAL_BYTES", 10_000)
    for k in range(5):
        (tmp_path / f"{k}.txt").write_text("Words about boats and harbours. " * 100)
    with pytest.raises(CorpusError, match="over the 0 MB limit for all of them together"):
        corpus.read_sources([str(tmp_path)])


# ---- degraded: exit codes and qa eval ------------------------------------------------------

def test_eval_into_a_closed_pipe_exits_141(qa_env):
    """Degraded: `qa eval GOLD | head -2` exited 1. (Here the reader has gone before qa
    writes a byte, as head has once it has its lines, so that the test cannot race.)"""
    data = os.path.join(os.path.dirname(__file__), "data")
    gold, text = os.path.join(data, "gold_small.jsonl"), os.path.join(data, "gold_small.txt")
    r = subprocess.run(["bash", "-c", f'"{qa_command()}" eval "{gold}" -c "{text}" | head -c 0 '
                        '>/dev/null; '
                        'exit "${PIPESTATUS[0]}"'], capture_output=True, env=qa_env, timeout=120)
    assert r.returncode == 141, (r.returncode, r.stderr)


def test_help_into_a_full_disk_is_an_error(qa_env):
    """Degraded: `qa --help > /dev/full` exited 0."""
    with open("/dev/full", "wb") as full:
        r = subprocess.run([qa_command(), "--help"], stdout=full, stderr=subprocess.PIPE,
                           env=qa_env, timeout=60)
    assert r.returncode == 2 and b"No space left" in r.stderr


def test_a_bug_is_one_line_and_its_own_exit_code(monkeypatch, capsys):
    """Degraded: every traceback exited 1, which the README gives to "every question was
    abstained on"."""
    def broken(*args, **kwargs):
        raise KeyError("oops")

    monkeypatch.setattr("qa.cli.run", broken)
    assert main(["-q", "x"]) == EXIT_INTERNAL == 70
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error (KeyError" in err and "Traceback" not in err


def test_eval_on_a_fifo_gives_advice_eval_can_use(tmp_path, qa_env):
    fifo = tmp_path / "gold.jsonl"
    os.mkfifo(fifo)
    r = run(["eval", str(fifo)], qa_env)
    one_line(r, 2, "qa eval reads gold questions from a file")


def test_eval_cuts_a_huge_question_as_every_mode_does(monkeypatch):
    """Degraded: one 500,000-word gold question took 31 s and 4.6 GB."""
    from qa import eval as ev
    from qa.answer import Engine
    from qa.index import open_index

    asked: list[int] = []
    real = Engine.ask

    def spy(self, text, *args, **kwargs):
        asked.append(len(text))
        return real(self, text[:50], *args, **kwargs)

    monkeypatch.setattr(Engine, "ask", spy)
    gold = ev.GoldSet("g", "jsonl", (ev.GoldQuestion("who " * 500_000, (), True),))
    ev.evaluate(gold, Engine(open_index([str(ARTICLE)], use_cache=False)))
    assert asked and max(asked) <= 2000


# ---- degraded: the chat --------------------------------------------------------------------

def test_save_refuses_a_fifo_and_a_symlink_and_writes_private_files(tmp_path):
    """Degraded: /save to a FIFO with no reader blocked until Ctrl-C; /save followed a symlink
    to overwrite a file elsewhere; it wrote 0644 where the history is 0600."""
    from qa.answer import Engine
    from qa.index import open_index
    from tests.test_repl import chat

    engine = Engine(open_index([str(ARTICLE)], use_cache=False))
    fifo = tmp_path / "fifo.md"
    os.mkfifo(fifo)
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    (tmp_path / "link.md").symlink_to(target)
    out = " ".join(chat(engine, "who signed?", f"/save {fifo}", f"/save {tmp_path / 'link.md'}",
                        f"/save {tmp_path / 'ok.md'}").split())
    assert "is a named pipe (FIFO) with no reader" in out
    assert "is a symlink: /save does not write through links" in out
    assert target.read_text() == "keep me"
    assert stat.S_IMODE(os.stat(tmp_path / "ok.md").st_mode) == 0o600
    assert "who signed?" in (tmp_path / "ok.md").read_text()


def test_a_raw_escape_sequence_typed_at_the_prompt_leaves_the_chat_going(qa_env):
    """Degraded: typing ESC [31m at the prompt printed a traceback and "Press ENTER to
    continue"."""
    import pexpect

    from tests.conftest import wait_for_prompt

    child = pexpect.spawn(qa_command(), env=qa_env, encoding="utf-8", timeout=60,
                          dimensions=(30, 100))
    try:
        wait_for_prompt(child)
        child.send("\x1b[31m")
        child.send("who signed the memorandum?\r")
        child.expect("Rogozin")
        wait_for_prompt(child)
        child.sendcontrol("d")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert "Traceback" not in (child.before or "") and "Press ENTER" not in (child.before or "")
