"""Issue 15, the cache and input faults: each case failed before its fix.

Citations that named the wrong file after a cached run, temp files left by a killed writer,
twenty processes all building one index, a FIFO that hung the run, a symlink loop called
missing, and file names that were not UTF-8 turned into invalid JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from qa import cache
from qa.index import load_index, open_index
from tests.conftest import ARTICLE, ROOT, qa_command


def run(args, env, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([qa_command(), *args], capture_output=True, env=env, timeout=timeout,
                          stdin=subprocess.DEVNULL)


# ---- cached citations named the wrong file ----

def test_a_newline_in_a_file_name_cannot_shift_cached_citations(qa_env, tmp_path):
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "a\nb.txt").write_text("The kettle was invented by Ada Lovelace in 1843.\n")
    (folder / "c.txt").write_text("The bridge was opened in May 1999.\n")
    for attempt in ("built", "cached"):
        r = run(["-c", str(folder), "-q", "When was the bridge opened?"], qa_env)
        assert b"-- c.txt, sentence 1, chars 0-34" in r.stdout, (attempt, r.stdout)
        r = run(["-c", str(folder), "--json", "-q", "Who invented the kettle?"], qa_env)
        assert json.loads(r.stdout)["sentences"][0]["source"] == "a\nb.txt", attempt
    r = run(["-c", str(folder), "-q", "Who invented the kettle?"], qa_env)
    assert b"  -- a\\x0ab.txt, sentence 1, chars 0-48\n" in r.stdout  # one line, escaped


def test_a_newline_in_a_file_name_stays_on_one_line_in_the_chat_and_saved_markdown(tmp_path):
    from qa.answer import Engine
    from tests.test_repl import chat

    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "a\nb.txt").write_text("The kettle was invented by Ada Lovelace in 1843.\n")
    (folder / "c.txt").write_text("The bridge was opened in May 1999.\n")
    engine = Engine(open_index([str(folder)]))
    saved = tmp_path / "chat.md"
    out = chat(engine, "Who invented the kettle?", "/sources", "/show a\nb.txt#1",
               f"/save {saved}")
    assert "a\\x0ab.txt, sentence 1, chars 0-48" in out
    assert out.count("a\\x0ab.txt") >= 3  # the citation, the /sources row, /show's position
    assert not any(line.lstrip().startswith("b.txt") for line in out.splitlines())
    markdown = saved.read_text(encoding="utf-8")
    assert "\u2014 a\\x0ab.txt, sentence 1, chars 0-48" in markdown.splitlines()
    assert "Text: a\\x0ab.txt, c.txt (2 sentences)" in markdown.splitlines()


def test_a_cache_whose_offsets_do_not_add_up_is_rebuilt(tmp_path):
    doc = tmp_path / "notes.txt"
    doc.write_text("The bridge was opened in May 1999. The kettle is older.\n")
    open_index([str(doc)])
    (entry,) = cache.entries()
    with np.load(entry.path) as z:
        arrays = {k: z[k] for k in z.files if not k.startswith(cache.LABEL_KEY)}
    arrays["sources_offsets"] = arrays["sources_offsets"] - 1  # framing that lies
    cache.write_entry(entry.path, arrays, "damaged")
    assert load_index(entry.path) is None
    assert open_index([str(doc)]).sources == ("notes.txt",)
    assert load_index(entry.path) is not None  # written again, whole


# ---- a killed writer's temp file stayed forever ----

def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_temp_files_of_killed_writers_are_removed_by_a_later_run(tmp_path):
    folder = cache.cache_dir()
    folder.mkdir(parents=True)
    entry = "index-" + "0" * 32 + ".npz"
    dead = folder / f"{entry}.{_dead_pid()}.0badc0de.tmp"  # its writer was SIGTERMed
    old = folder / f"{entry}.{os.getpid()}.0badc0df.tmp"  # alive, but untouched for an hour
    busy = folder / f"{entry}.{os.getpid()}.0badc0e0.tmp"  # being written right now
    before = folder / ("f" * 40 + ".npz")  # a cache format before this one
    lock = folder / f"{entry}.lock"  # its builder was killed: nobody holds it
    for f in (dead, old, busy, before, lock):
        f.write_bytes(b"partial")
    hour_ago = time.time() - 3600
    for f in (old, lock):
        os.utime(f, (hour_ago, hour_ago))
    open_index([str(ARTICLE)])
    assert sorted(p.name for p in folder.iterdir()) == sorted([busy.name] + [
        e.path.name for e in cache.entries() if e.kind == "index"])


# ---- twenty processes built the same index ----

_COUNT_BUILDS = """
import sys
from qa import index
build = index._build
def counted(*args, **kwargs):
    with open(sys.argv[2], "a") as log:
        log.write("built\\n")
    return build(*args, **kwargs)
index._build = counted
print(len(index.open_index([sys.argv[1]])))
"""


def test_twenty_processes_on_a_new_corpus_build_it_once(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text(ARTICLE.read_text(encoding="utf-8") * 10, encoding="utf-8")
    log = tmp_path / "builds.log"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    procs = [subprocess.Popen([sys.executable, "-c", _COUNT_BUILDS, str(corpus), str(log)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(20)]
    outs = [p.communicate(timeout=240) for p in procs]
    assert [p.returncode for p in procs] == [0] * 20, outs
    assert len({out for out, _ in outs}) == 1
    assert log.read_text() == "built\n"
    assert [p.suffix for p in cache.cache_dir().iterdir()] == [".npz"]  # no lock file left


_HOLD_LOCK = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(120)
"""


@pytest.mark.skipif(cache.fcntl is None, reason="no file locks here")
def test_a_builder_that_dies_leaves_no_one_waiting(qa_env, tmp_path, monkeypatch):
    corpus = tmp_path / "c.txt"
    corpus.write_text("The bridge was opened in May 1999.\n")
    monkeypatch.setenv("XDG_CACHE_HOME", qa_env["XDG_CACHE_HOME"])  # where the command looks
    entry = cache.entry_path("index", str(corpus))
    entry.parent.mkdir(parents=True)
    holder = subprocess.Popen([sys.executable, "-c", _HOLD_LOCK, f"{entry}.lock"],
                              stdout=subprocess.PIPE)
    assert holder.stdout.readline() == b"locked\n"
    waiter = subprocess.Popen([qa_command(), "-c", str(corpus), "-q", "When was the bridge opened?"],
                              env=qa_env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    with pytest.raises(subprocess.TimeoutExpired):
        waiter.wait(timeout=2)  # waiting for the builder that holds the lock
    holder.kill()  # the builder dies: its lock goes with it
    holder.wait()
    out, err = waiter.communicate(timeout=60)
    assert waiter.returncode == 0, err
    assert b"May 1999" in out


# ---- a FIFO with no writer hung the run; a symlink loop was "no such file" ----

def test_a_fifo_is_refused_at_once_not_waited_on(qa_env, tmp_path):
    fifo = tmp_path / "fifo.txt"
    os.mkfifo(fifo)
    r = run(["--corpus", str(fifo), "-q", "x"], qa_env, timeout=20)
    assert r.returncode == 2
    assert r.stderr == (f"qa: {fifo}: is a named pipe (FIFO), not a file: pipe its text to qa "
                        f"instead (qa --corpus - < {fifo})\n").encode()


def test_a_fifo_in_a_folder_is_skipped_with_a_warning(qa_env, tmp_path):
    os.mkfifo(tmp_path / "fifo.txt")
    (tmp_path / "good.txt").write_text("The bridge was opened in May 1999.\n")
    r = run(["--corpus", str(tmp_path), "-q", "When was the bridge opened?"], qa_env, timeout=20)
    assert r.returncode == 0 and b"in May 1999" in r.stdout
    assert r.stderr.startswith(f"qa: skipped {tmp_path / 'fifo.txt'}: is a named pipe".encode())


def test_a_symlink_loop_says_so(qa_env, tmp_path):
    loop = tmp_path / "loop.txt"
    loop.symlink_to(loop)
    r = run(["--corpus", str(loop), "-q", "x"], qa_env)
    assert r.returncode == 2
    assert r.stderr == f"qa: {loop}: symlink loop: the link points back to itself\n".encode()


# ---- a file name that is not UTF-8 gave lone surrogates in the JSON ----

@pytest.mark.skipif(sys.platform == "darwin", reason="macOS file names are always UTF-8")
def test_a_non_utf8_file_name_gives_valid_utf8_json(qa_env, tmp_path):
    folder = tmp_path / "n"
    folder.mkdir()
    name = os.fsdecode(b"caf\xe9\xff.txt")
    (folder / name).write_bytes(ARTICLE.read_bytes())
    r = run(["--corpus", str(folder), "--json", "-q", "Who heads Roscosmos?"], qa_env)
    assert r.returncode == 0, r.stderr
    assert b"\\ud" not in r.stdout  # no escaped lone surrogate a strict reader would reject
    record = json.loads(r.stdout.decode("utf-8", "strict"))["sentences"][0]
    assert record["source"] == "caf\ufffd\ufffd.txt"
    assert record["source_bytes"] == "caf\\xe9\\xff.txt"
    plain = run(["--corpus", str(folder), "-q", "Who heads Roscosmos?"], qa_env)
    assert b"-- caf\\xe9\\xff.txt, sentence 1" in plain.stdout
