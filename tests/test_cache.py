"""The cache folder: entries named by source and replaced, `qa cache` and `qa cache --clear`."""

from __future__ import annotations

import subprocess

from qa import cache
from qa.index import open_index
from tests.conftest import ARTICLE, qa_command


def run(args, env) -> subprocess.CompletedProcess:
    return subprocess.run([qa_command(), *args], capture_output=True, text=True, env=env,
                          timeout=60, stdin=subprocess.DEVNULL)


def test_a_changed_source_replaces_its_entry(tmp_path):
    doc = tmp_path / "notes.txt"
    for version in range(3):
        doc.write_text(f"The bridge was opened in May {1990 + version}. It is long.\n")
        assert "199" in open_index([str(doc)]).text(0)
    (entry,) = cache.entries()
    assert entry.kind == "index" and str(doc) in entry.label and "2 sentences" in entry.label
    open_index([str(ARTICLE)])
    assert len(cache.entries()) == 2  # another source: another entry


def test_qa_cache_lists_entries_and_clear_empties_it(qa_env, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("The bridge was opened in May 1999. It is long.\n")
    assert run(["-c", str(notes), "-q", "When was the bridge opened?"], qa_env).returncode == 0
    assert run(["-q", "Who heads Roscosmos?"], qa_env).returncode == 0
    folder = tmp_path / "cache" / "qa"
    listed = run(["cache"], qa_env)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].startswith(f"{folder}: 2 entries, ") and lines[0].endswith(" KB")
    assert any(line.split()[0] == "index" and str(notes) in line and "(1 file(s), 2 sentences)"
               in line for line in lines[1:])
    assert any(ARTICLE.name in line for line in lines[1:])
    cleared = run(["cache", "--clear"], qa_env)
    assert cleared.stdout.startswith(f"{folder}: removed 2 file(s), ")
    assert list(folder.iterdir()) == []
    assert run(["cache"], qa_env).stdout == f"{folder}: 0 entries, 0 KB\n"


def test_qa_cache_with_a_bad_option_is_a_usage_error(qa_env):
    r = run(["cache", "--bogus"], qa_env)
    assert r.returncode == 2 and r.stderr.startswith("qa: unrecognized arguments: --bogus")
