"""The installed `qa` command, run as a subprocess in each non-interactive mode."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from qa import cli
from tests.conftest import ANSWER_FIELDS, ARTICLE, qa_command


def run(args, env, stdin: str | None = None, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([qa_command(), *args], input=stdin, capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=60)


def test_single_question_answers_with_a_citation(qa_env, tmp_path):
    r = run(["-q", "Who heads Roscosmos?"], qa_env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "Answer: Dmitry Rogozin" in r.stdout
    assert "tass-roscosmos-cnsa-lunar-station.txt, sentence 1" in r.stdout
    assert "\x1b" not in r.stdout  # not a terminal: no colour codes
    assert r.stderr == ""


def test_repeated_q_answers_each_in_order(qa_env):
    r = run(["-q", "How was the ceremony held?", "-q", "How many sections?"], qa_env)
    assert r.returncode == 0
    assert r.stdout.index("by videoconference") < r.stdout.index("Answer: six")


def test_abstaining_on_every_question_exits_1(qa_env):
    r = run(["-q", "What is the capital of France?"], qa_env)
    assert r.returncode == 1
    assert "does not seem to answer this (it never mentions France)." in r.stdout


def test_piped_lines_are_questions_and_blank_lines_are_skipped(qa_env):
    r = run([], qa_env, stdin="who signed the memorandum?\n\n   \nhow was the ceremony held\n")
    assert r.returncode == 0
    assert r.stdout.count("Q: ") == 2
    assert "Q: how was the ceremony held" in r.stdout


def test_a_piped_chat_command_is_not_asked_and_says_why(qa_env):
    # Before: "/why" piped with --chat was asked as the follow-up "why" and answered
    # "their governments" (60%, likely); "/quit" was asked as a question too.
    r = run(["--chat", "--json"], qa_env,
            stdin="who signed the memorandum?\n/why\n/quit\nwhen was it signed?\n")
    records = [json.loads(line) for line in r.stdout.splitlines()]
    assert [x["question"] for x in records] == [
        "who signed the memorandum?", "/why", "/quit", "when was it signed?"]
    assert [x["found"] for x in records[1:3]] == [False, False]
    assert records[1]["sentences"] == [] and records[1]["confidence"] == 0
    assert records[3]["found"]  # the follow-up after them is still a turn of the chat
    assert r.returncode == 0
    assert r.stderr.count("/why is a command of the chat") == 1  # said once, not per line
    plain = run([], qa_env, stdin="/why 2\n")
    assert "not asked: /why is a command of the chat" in plain.stdout
    assert plain.returncode == 1


def test_the_piped_commands_are_the_chats():
    from qa import repl

    assert cli.CHAT_COMMANDS == {c.name for c in repl.COMMANDS}
    assert cli.chat_command("/Why 2") == "why"
    assert cli.chat_command("/etc/passwd, what is in it?") is None
    assert cli.chat_command("/") is None and cli.chat_command("why") is None


def test_json_lines_schema(qa_env):
    r = run(["--json", "-k", "2"], qa_env,
            stdin="Who heads Roscosmos?\nWhat is the capital of France?\n")
    assert r.returncode == 0
    first, second = [json.loads(line) for line in r.stdout.splitlines()]
    assert set(first) == ANSWER_FIELDS
    assert first["found"] is True and (first["type"], first["asked"]) == ("span", "person")
    assert first["answer"] == "Dmitry Rogozin"
    assert len(first["sentences"]) == 2
    s = first["sentences"][0]
    assert list(s) == ["text", "score", "source", "start", "end", "number", "section", "page",
                       "title", "source_bytes"]
    original = ARTICLE.read_text(encoding="utf-8")
    assert " ".join(original[s["start"]:s["end"]].split()) == " ".join(s["text"].split())
    assert first["sentences"][0]["score"] >= first["sentences"][1]["score"]
    assert second["found"] is False and second["answer"] is None


def test_corpus_option_reads_another_text(qa_env, tmp_path):
    (tmp_path / "notes.txt").write_text("The kettle was invented by Ada Lovelace in 1843.\n")
    r = run(["--corpus", str(tmp_path / "notes.txt"), "-q", "who invented the kettle?"], qa_env)
    assert r.returncode == 0, r.stderr
    assert "Answer: Ada Lovelace" in r.stdout
    assert "notes.txt" in r.stdout


def test_corpus_folder_with_crlf_bom_and_latin1_files(qa_env, tmp_path):
    (tmp_path / "a.txt").write_bytes("\ufeffThe bridge opened in May 1999.\r\n".encode())
    (tmp_path / "b.md").write_bytes("The caf\u00e9 sold cr\u00eapes to tourists.\n".encode("latin-1"))
    r = run(["--corpus", str(tmp_path), "--json", "-q", "what did the café sell to tourists?"], qa_env)
    assert r.returncode == 0, r.stderr
    answer = json.loads(r.stdout)
    assert answer["sentences"][0]["source"] == "b.md"
    assert "cr\u00eapes" in answer["sentences"][0]["text"]


@pytest.mark.parametrize("args, message", [
    (["--corpus", "/no/such/file.txt", "-q", "x"], "no such file"),
    (["--bogus"], "unrecognized arguments"),
    (["-k", "0", "-q", "x"], "between 1 and 100"),
])
def test_usage_and_input_errors_are_one_line_exit_2(qa_env, args, message):
    r = run(args, qa_env)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("qa: ")
    assert message in r.stderr and "Traceback" not in r.stderr


def test_empty_and_binary_corpus_files_are_refused(qa_env, tmp_path):
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "bin.txt").write_bytes(b"\x00\x01" * 500)
    for name in ("empty.txt", "bin.txt"):
        r = run(["--corpus", str(tmp_path / name), "-q", "x"], qa_env)
        assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr


def test_works_without_any_nltk_data(qa_env, tmp_path):
    empty = tmp_path / "empty_nltk"
    empty.mkdir()
    r = run(["--no-cache", "-q", "Who heads Roscosmos?"], {**qa_env, "NLTK_DATA": str(empty)})
    assert r.returncode == 0, r.stderr
    assert "Rogozin" in r.stdout


def test_version_and_help(qa_env):
    assert run(["--version"], qa_env).stdout.startswith("qa ")
    out = run(["--help"], qa_env).stdout
    assert "exit status" in out and "--corpus" in out


def test_an_empty_q_is_a_usage_error_not_silence(qa_env):
    r = run(["-q", "  "], qa_env)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith("qa: -q needs a question") and r.stderr.count("\n") == 1


def test_the_confidence_word_goes_by_the_percentage_shown():
    from qa import render
    from qa.answer import Answer

    for confidence, shown in [(0.797, "80%, sure"), (0.794, "79%, likely"), (0.5, "50%, likely"),
                              (0.296, "30%, unsure"), (0.1, "10%, a guess")]:
        answer = Answer(question="q", found=True, answer="x", type="person", hits=(),
                        confidence=confidence)
        assert render.confidence_words(answer) == shown


def test_a_leads_chance_reads_as_a_percentage():
    from qa import render

    assert [render.chance(p) for p in (0.0, 0.004, 0.006, 0.356, 1.0)] \
        == ["<1%", "<1%", "1%", "36%", "100%"]


def test_one_shot_questions_let_blas_threads_sleep_at_once_unless_the_user_said(qa_env):
    # OpenBLAS reads the setting when numpy loads: -q sets it first, piped questions leave it.
    probe = ("import contextlib, io, os, sys\nfrom qa import cli\n"
             "with contextlib.redirect_stdout(io.StringIO()):\n    code = cli.main(sys.argv[1:])\n"
             "print(code, os.environ.get('OPENBLAS_THREAD_TIMEOUT'))")

    def setting(args, env, stdin=None):
        r = subprocess.run([sys.executable, "-c", probe, *args], input=stdin, env=env,
                           capture_output=True, text=True, timeout=60)
        return r.stdout.split()

    assert setting(["-q", "Who heads Roscosmos?"], qa_env) == ["0", cli.QUICK_BLAS_TIMEOUT]
    assert setting(["-q", "Who heads Roscosmos?"],
                   {**qa_env, "OPENBLAS_THREAD_TIMEOUT": "20"}) == ["0", "20"]
    assert setting([], qa_env, stdin="Who heads Roscosmos?\n") == ["0", "None"]
