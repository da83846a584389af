"""The chat: every /command in-process (pipe input), then the installed `qa` through a pty."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest
from prompt_toolkit.document import Document
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from rich.console import Console

from qa.answer import Engine
from qa.corpus import bundled_corpus
from qa.index import open_index
from qa.repl import (COMMANDS, CommandLexer, QACompleter, SafeFileHistory, example_questions,
                     run_repl)
from tests.conftest import ANSWER_FIELDS, wait_for_prompt

HARBOUR = Path(__file__).parent / "data" / "conv_harbour.txt"
ARTICLE = str(bundled_corpus())


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(open_index([ARTICLE], use_cache=False))


def chat(engine: Engine, *lines: str, raw: str = "", first_run: bool = False) -> str:
    """Type lines into the chat, then Ctrl-D; the text it printed."""
    out = io.StringIO()
    with create_pipe_input() as inp:
        for line in lines:
            inp.send_text(line + "\r")
        inp.send_text(raw + "\x04")
        status = run_repl(engine, input=inp, output=DummyOutput(),
                          console=Console(file=out, width=80), paths=[ARTICLE],
                          first_run=first_run)
    assert status == 0
    return out.getvalue()


# ---- in-process: every command ----

def test_question_and_followup_show_what_was_searched(engine):
    out = chat(engine, "Who is Sergei Savelyev?", "When did he talk to TASS?")
    assert "Roscosmos Deputy Head of International Cooperation" in out
    assert "searched for: when talk tass + Sergei Savelyev" in out
    assert "early February" in out


def test_help_lists_every_command_in_a_table(engine):
    out = chat(engine, "/help")
    for c in COMMANDS:
        assert f"/{c.name}" in out
    assert "what it does" in out


@pytest.mark.parametrize("command", ["/show 12", "/context 12"])
def test_show_gives_neighbours_paragraph_and_position(engine, command):
    out = chat(engine, command)
    assert "#10" in out and "#11" in out and "#12" in out
    assert "paragraph 9 (sentences 11-12)" in out
    assert "sentence 12 of 12, chars 2159-2438" in out


def test_show_without_number_shows_last_answer_and_rejects_bad_numbers(engine):
    out = chat(engine, "who heads Roscosmos?", "/show", "/show 99", "/show x")
    assert "sentence 1 of 12" in out
    assert "no sentence 99" in out and "usage: /show N" in out


@pytest.mark.parametrize("command", ["/why", "/explain"])
def test_why_explains_terms_idf_tf_bm25_and_signals(engine, command):
    out = chat(engine, "Who is Sergei Savelyev?", "what did he say?", command)
    assert "IDF" in out and "tf" in out and "BM25" in out
    assert "savelyev" in out and "ctx" in out and "\u2588" in out
    assert "the ranker's features" in out and "coverage" in out
    assert "the reader" in out and "what the confidence rests on" in out


def test_why_before_any_question_says_so(engine):
    assert "nothing to explain yet" in chat(engine, "/why")


def test_sources_lists_documents_with_sentence_counts(engine):
    out = chat(engine, "/sources")
    assert "tass-roscosmos-cnsa-lunar-station.txt" in out and "12" in out
    assert "1 document(s), 12 sentences" in out


def test_load_adds_a_document_and_keeps_the_conversation(engine):
    out = chat(engine, "Who is Sergei Savelyev?", f"/load {HARBOUR}", "/sources",
               "who is the mayor?", "/load /no/such/file.txt")
    assert "loaded" in out and "2 document(s)" in out
    assert "Helena Varga" in out
    assert "no/such/file.txt" in out  # an error line, and the chat went on


def test_top_json_history_new_and_quit(engine):
    out = chat(engine, "/top 1", "/json", "who heads Roscosmos?", "/json", "/history", "/new",
               "what did he say?", "/top 0", "/quit", "who heads Roscosmos?")
    assert "showing 1 sentence(s)" in out and "also relevant" not in out
    record = json.loads(next(line for line in out.splitlines() if line.startswith("{")))
    assert record["answer"] == "Dmitry Rogozin" and len(record["sentences"]) == 1
    assert "1. who heads Roscosmos?" in out and "Dmitry Rogozin" in out
    assert "new conversation" in out and "searched for:" not in out
    assert "usage: /top N" in out
    assert out.rstrip().endswith("from 1 to 100")  # nothing after /quit


def test_save_writes_markdown_with_citations(engine, tmp_path):
    target = tmp_path / "talk.md"
    out = chat(engine, "Who is Sergei Savelyev?", "when?", f"/save {target}",
               f"/save {tmp_path}/missing/x.md")
    text = target.read_text()
    assert "## 1. Who is Sergei Savelyev?" in text and "## 2. when?" in text
    assert "*searched for: when + " in text
    assert "sentence 12, chars 2159-2438" in text
    assert re.search(r"^\*\*[^*]*Deputy[^*]*\*\* "
                     r"\(\d+%, (sure|likely|unsure|a guess)\)$", text, re.MULTILINE), text
    assert "saved 2 question(s)" in out and "cannot write" in out


def test_clear_and_unknown_commands(engine):
    out = chat(engine, "/clear", "/shwo 3", "/xyzzy", "/[bold]x[/]")
    assert "did you mean /show?" in out
    assert "unknown command /xyzzy: /help lists the commands" in out
    assert "/[bold]x[/]" in out  # typed text is never markup


def test_long_input_is_cut_with_a_note(engine):
    out = chat(engine, "lunar " * 2000)
    assert "cut to 2,000 characters" in out


def test_pasted_lines_are_each_a_question(engine):
    out = chat(engine, raw="\x1b[200~who heads Roscosmos?\nwhen?\x1b[201~\r")
    assert "pasted 2 lines" in out
    assert "Dmitry Rogozin" in out and "Tuesday" in out


def test_the_chat_survives_a_failing_engine(engine, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("kaput")

    broken = Engine(engine.index)
    monkeypatch.setattr(broken, "ask", boom)
    out = chat(broken, "who?", "/sources")
    assert "internal error: RuntimeError: kaput" in out and "1 document(s)" in out


def test_first_run_shows_examples_the_text_answers(engine):
    out = chat(engine, first_run=True)
    assert "Try, for example:" in out
    assert "Who is Dmitry Rogozin?" in out


def test_examples_come_from_any_text():
    harbour = Engine(open_index([str(HARBOUR)], use_cache=False))
    examples = example_questions(harbour)
    assert len(examples) == 3
    assert all(harbour.ask(q).found for q in examples)
    assert not any("Roscosmos" in q for q in examples)


def test_completion_and_colouring_of_commands():
    completer = QACompleter(["roscosmos", "rogozin"], [c.name for c in COMMANDS])
    names = [c.text for c in completer.get_completions(Document("/so"), None)]
    assert names == ["sources"]
    words = [c.text for c in completer.get_completions(Document("who is ros"), None)]
    assert words == ["roscosmos"]
    lexer = CommandLexer([c.name for c in COMMANDS])
    assert lexer.lex_document(Document("/show 3"))(0) == [("class:command", "/show"),
                                                          ("class:argument", " 3")]
    assert lexer.lex_document(Document("/shw"))(0)[0][0] == "class:unknown-command"


def test_history_that_cannot_be_written_fails_softly(tmp_path):
    history = SafeFileHistory(str(tmp_path / "no-such-dir" / "history"))
    history.store_string("who?")
    history.store_string("when?")
    assert "history is no longer saved" in history.failure


# ---- the installed command through a pseudo-terminal ----

QA = shutil.which("qa") or str(Path(sys.executable).parent / "qa")
TIMEOUT = 20


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS", "LINES")}
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / "data"),
               XDG_CACHE_HOME=str(home / "cache"), TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1")
    return env


def spawn(home: Path) -> pexpect.spawn:
    child = pexpect.spawn(QA, env=_env(home), encoding="utf-8", timeout=TIMEOUT,
                          dimensions=(40, 120))
    child.expect_exact("Ctrl-D to leave")
    return child


def ask(child: pexpect.spawn, keys: str, expected: str) -> None:
    wait_for_prompt(child)
    child.send(keys)
    child.expect_exact(expected)


def test_pty_first_run_question_followup_and_ctrl_d(tmp_path):
    child = spawn(tmp_path)
    child.expect_exact("Try, for example:")
    ask(child, "Who is Sergei Savelyev?\r", "told TASS in early February")
    ask(child, "When did he talk to TASS?\r", "when talk tass + Sergei Savelyev")
    child.expect_exact("early February")
    wait_for_prompt(child)
    child.sendcontrol("d")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert (tmp_path / "data" / "qa" / "history").read_text().count("+Who is Sergei") == 1
    # the second run is not a first run: no examples
    child = spawn(tmp_path)
    wait_for_prompt(child)
    child.sendcontrol("d")
    child.expect(pexpect.EOF)
    assert "Try, for example" not in child.before


def test_pty_every_command_tab_ctrl_c_and_a_long_line(tmp_path):
    child = spawn(tmp_path)
    ask(child, "who heads Roscosmos?\r", "Dmitry Rogozin")
    steps = [("/help\r", "what it does"), ("/show 3\r", "sentence 3 of 12"),
             ("/context 3\r", "paragraph 3"), ("/why\r", "BM25 total"),
             ("/explain\r", "the ranker's features"), ("/top 2\r", "showing 2"),
             ("/json\r", "raw JSON after each answer: on"), ("/json\r", ": off"),
             ("/history\r", "\u2192 Dmitry Rogozin"),
             (f"/save {tmp_path}/c.md\r", "saved 1 question"),
             (f"/load {HARBOUR}\r", "2 document(s)"), ("/sources\r", "conv_harbour.txt"),
             ("/new\r", "new conversation"), ("/shwo\r", "did you mean /show?"),
             ("/clear\r", "\x1b[?2004l")]
    for keys, expected in steps:
        ask(child, keys, expected)
    # Tab completes a command
    ask(child, "/sou\t", "rces")
    child.send("\r")
    child.expect_exact("2 document(s)")
    # Ctrl-C clears a half-typed line
    ask(child, "who hea", "hea")
    child.sendcontrol("c")
    ask(child, "/top 1\r", "showing 1 sentence(s)")
    # a 10,000-character line
    wait_for_prompt(child)
    child.send("lunar " * 1666 + "moon\r")
    child.expect_exact("cut to 2,000 characters", timeout=60)
    ask(child, "/quit\r", "\x1b[?2004l")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "## 1. who heads Roscosmos?" in (tmp_path / "c.md").read_text()


def test_pty_unwritable_history_says_so_once_and_works(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "qa").write_text("a file where the history folder should be")
    child = spawn(tmp_path)
    ask(child, "who heads Roscosmos?\r", "Dmitry Rogozin")
    ask(child, "when?\r", "Tuesday")
    wait_for_prompt(child)
    child.sendcontrol("d")
    child.expect(pexpect.EOF)
    seen = child.before
    child.close()
    assert child.exitstatus == 0
    # the note came before the first answer and never again
    assert "history will not be saved" not in seen


def test_pty_unwritable_history_note_appears_exactly_once(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "qa").write_text("not a folder")
    child = pexpect.spawn(QA, env=_env(tmp_path), encoding="utf-8", timeout=TIMEOUT,
                          dimensions=(40, 120))
    log = io.StringIO()
    child.logfile_read = log
    child.expect_exact("Ctrl-D to leave")
    ask(child, "who heads Roscosmos?\r", "Dmitry Rogozin")
    ask(child, "when?\r", "Tuesday")
    wait_for_prompt(child)
    child.sendcontrol("d")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert log.getvalue().count("history will not be saved") == 1


# ---- --chat: piped lines as one conversation ----

def test_chat_flag_reads_piped_lines_as_one_conversation():
    questions = "Who is Sergei Savelyev?\nWhen did he talk to TASS?\nwho heads Roscosmos?\n" \
                "and the director of CNSA?\nwhen?\n"
    run = subprocess.run([QA, "--chat", "--json"], input=questions, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    records = [json.loads(line) for line in run.stdout.splitlines()]
    assert [r["answer"] for r in records] == [
        "Deputy Head of International Cooperation", "early February", "Dmitry Rogozin",
        "Zhang Keijan", "Tuesday"]
    assert records[3]["question"] == "and the director of CNSA?"
    assert set(records[0]) == ANSWER_FIELDS
    plain = subprocess.run([QA, "--chat", "-c", str(HARBOUR)], capture_output=True, text=True,
                           input="who is the mayor?\nwhat did she say?\n", timeout=60)
    searched = next(x for x in plain.stdout.splitlines() if x.startswith("Searched for: "))
    assert searched.startswith("Searched for: what say + ") and "Varga" in searched
    assert "link the old town" in plain.stdout
    alone = subprocess.run([QA, "--json", "-c", str(HARBOUR)], capture_output=True, text=True,
                           input="who is the mayor?\nwhat did she say?\n", timeout=60)
    assert [json.loads(x)["found"] for x in alone.stdout.splitlines()] == [True, False]
