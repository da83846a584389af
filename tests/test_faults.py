"""Issue 15's faults, one test each: every one of these failed before its fix.

The command that reproduced each fault is in the test's docstring.
"""

from __future__ import annotations

import io
import json
import re
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prompt_toolkit.document import Document
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from rich.console import Console

from qa import eval as ev
from qa import render
from qa.cli import main
from qa.errors import GoldError
from qa.repl import COMMANDS, QACompleter, _corpus_words, run_repl, text_spelling
from tests.conftest import ARTICLE, ROOT, qa_command, wait_for_prompt
from tests.test_repl import HARBOUR, chat

# ---- qa eval on malformed gold files: one line naming the entry, exit 2 ---------------------

DEEP = 100_000
MALFORMED_GOLD = {
    # our JSON Lines
    "jsonl not json": ("g.jsonl", b"{not json\n", "line 1: not JSON"),
    "jsonl a string": ("g.jsonl", b'"who?"\n', "line 1: expected an object, got a string"),
    "jsonl null": ("g.jsonl", b"null\n", "line 1: expected an object, got null"),
    "jsonl question a number": ("g.jsonl", b'{"question": 5, "sentence": "x"}\n',
                                "line 1: question: expected a string, got a number"),
    "jsonl question NaN": ("g.jsonl", b'{"question": NaN, "sentence": "x"}\n',
                           "line 1: question: expected a string, got a number"),
    "jsonl question blank": ("g.jsonl", b'{"question": "  ", "sentence": "x"}\n',
                             "line 1: question: is empty"),
    "jsonl answers a string": ("g.jsonl", b'{"question": "q?", "answers": "x", "sentence": "x"}\n',
                               "line 1: answers: expected a list, got a string"),
    "jsonl answer a number": ("g.jsonl",
                              b'{"question": "q?", "answers": ["a", 7], "sentence": "x"}\n',
                              "line 1: answers[1]: expected a string, got a number"),
    "jsonl impossible quoted": ("g.jsonl", b'{"question": "q?", "sentence": "x"}\n'
                                b'{"question": "q?", "impossible": "false", "sentence": "x"}\n',
                                "line 2: impossible: expected true or false, got a string "
                                "(write false without quotes)"),
    "jsonl impossible 0": ("g.jsonl", b'{"question": "q?", "impossible": 0, "sentence": "x"}\n',
                           "line 1: impossible: expected true or false, got a number"),
    "jsonl impossible null": ("g.jsonl", b'{"question": "q?", "impossible": null}\n',
                              "line 1: impossible: expected true or false, got null"),
    "jsonl question null": ("g.jsonl", b'{"question": null, "sentence": "x"}\n',
                            "line 1: question: expected a string, got null"),
    "jsonl sentence a number": ("g.jsonl", b'{"question": "q?", "sentence": 7}\n',
                                "line 1: sentence: expected a string, got a number"),
    "jsonl no sentence": ("g.jsonl", b'{"question": "q?"}\n', "line 1: an answerable question"),
    "jsonl nested deep": ("g.jsonl", b'{"a": ' * DEEP + b"1" + b"}" * DEEP + b"\n",
                          "line 1: nested too deeply"),
    "jsonl huge number": ("g.jsonl", b'{"question": "q?", "n": ' + b"9" * 5000 + b"}\n",
                          "line 1: not readable JSON"),
    "empty": ("g.jsonl", b"", "has no questions"),
    "utf-16": ("g.jsonl", '{"question": "q?"}'.encode("utf-16"), "g.jsonl"),
    # SQuAD, the flat list
    "flat item a number": ("g.json", b"[1]", "g.json: [0]: expected an object, got a number"),
    "flat context a number": ("g.json", b'[{"question": "q?", "context": 5}]',
                              "[0].context: expected a string, got a number"),
    "flat no context": ("g.json", b'[{"question": "q?"}]', '[0]: needs "context"'),
    "flat answer an object": ("g.json",
                              b'[{"question": "q?", "context": "c", "answers": [{"text": "c"}]}]',
                              "[0].answers[0]: expected a string, got an object"),
    "flat impossible quoted": ("g.json",
                               b'[{"question": "q?", "context": "c", "impossible": "true"}]',
                               "[0].impossible: expected true or false, got a string"),
    "flat nested deep": ("g.json", b"[" * DEEP + b"]" * DEEP, "nested too deeply"),
    "flat broken": ("g.json", b'[{"question": "q?",', "not JSON (line 1"),
    # SQuAD, the official nested form
    "nested data a number": ("g.json", b'{"data": 5}', "g.json: data: expected a list"),
    "nested article a number": ("g.json", b'{"data": [5]}', "data[0]: expected an object"),
    "nested paragraphs an object": ("g.json", b'{"data": [{"paragraphs": {}}]}',
                                    "data[0].paragraphs: expected a list, got an object"),
    "nested qas item a number": ("g.json",
                                 b'{"data": [{"paragraphs": [{"context": "x", "qas": [1]}]}]}',
                                 "g.json: data[0].paragraphs[0].qas[0]: expected an object"),
    "nested no context": ("g.json", b'{"data": [{"paragraphs": [{"qas": []}]}]}',
                          'data[0].paragraphs[0]: needs "context"'),
    "nested context a number": ("g.json", b'{"data": [{"paragraphs": [{"context": 5, "qas": '
                                b'[{"question": "q?", "answers": [{"text": "x"}]}]}]}]}',
                                "data[0].paragraphs[0].context: expected a string"),
    "nested question a number": ("g.json", b'{"data": [{"paragraphs": [{"context": "x", '
                                 b'"qas": [{"question": 3}]}]}]}',
                                 "data[0].paragraphs[0].qas[0].question: expected a string"),
    "nested answer text a number": ("g.json", b'{"data": [{"paragraphs": [{"context": "x", '
                                    b'"qas": [{"question": "q?", "answers": [{"text": 3}]}]}]}]}',
                                    "qas[0].answers[0].text: expected a string, got a number"),
    "nested is_impossible quoted": ("g.json", b'{"data": [{"paragraphs": [{"context": "x", '
                                    b'"qas": [{"question": "q?", "is_impossible": "false"}]}]}]}',
                                    "qas[0].is_impossible: expected true or false"),
    "nested no questions": ("g.json", b'{"data": []}', "has no questions"),
    "nested deep object": ("g.json", b'{"data": ' + b'{"a": ' * DEEP + b"1" + b"}" * DEEP + b"}",
                           "nested too deeply"),
}


@pytest.mark.parametrize("name", MALFORMED_GOLD)
def test_a_malformed_gold_file_is_one_line_naming_the_entry_and_exit_2(name, tmp_path, capsys):
    """Before: `qa eval g.json` with `{"data":[{"paragraphs":[{"context":"x","qas":[1]}]}]}`
    raised AttributeError; a number as question, context or answer a TypeError; 100,000 nested
    brackets a RecursionError."""
    file_name, content, message = MALFORMED_GOLD[name]
    path = tmp_path / file_name
    path.write_bytes(content)
    with pytest.raises(GoldError) as caught:
        ev.load_gold(path)
    assert message in str(caught.value)
    assert main(["eval", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("qa: ") and err.count("\n") == 1 and message in err


@pytest.mark.parametrize("name", ["nested qas item a number", "nested deep object",
                                  "jsonl impossible quoted"])
def test_the_installed_qa_eval_reports_a_malformed_gold_file_in_one_line(name, tmp_path, qa_env):
    file_name, content, message = MALFORMED_GOLD[name]
    path = tmp_path / file_name
    path.write_bytes(content)
    r = subprocess.run([qa_command(), "eval", str(path)], capture_output=True, text=True,
                       env=qa_env, timeout=60)
    assert r.returncode == 2
    assert r.stderr.startswith("qa: ") and r.stderr.count("\n") == 1 and message in r.stderr
    assert r.stdout == ""


def test_impossible_false_as_a_real_boolean_reads_as_answerable(tmp_path):
    """Before: `"impossible": "false"` was read as true (bool of a non-empty string)."""
    path = tmp_path / "g.jsonl"
    path.write_text('{"question": "q?", "sentence": "x", "impossible": false}\n'
                    '{"question": "r?", "impossible": true}\n'
                    '{"question": "s?", "impossible": true, "sentence": null, "answers": null}\n')
    assert [q.impossible for q in ev.load_gold(path).questions] == [False, True, True]


# ---- shape: eval and the chat take their defaults from the library ---------------------------

def test_no_library_module_imports_the_command_line_module():
    """Before: qa/eval.py and qa/repl.py imported default_corpus and top_count from qa.cli
    (`grep -n "qa.cli" qa/*.py`), closing a cli -> eval/repl -> cli circle."""
    import ast
    from pathlib import Path

    import qa

    importers = []
    for path in sorted(Path(qa.__file__).parent.glob("*.py")):
        if path.name in ("cli.py", "__main__.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
                     if isinstance(node, ast.ImportFrom) else [])
            if "qa.cli" in names:
                importers.append(path.name)
    assert importers == []


# ---- a long --chat keeps only the turns that can still matter -------------------------------

def test_a_long_chat_keeps_only_the_turns_a_follow_up_can_use(engine):
    """Before: `yes 'who heads Roscosmos? and he?' | head -100000 | qa --chat` kept every turn
    and every word typed (405 MB after 100,000 lines)."""
    from qa.conversation import MAX_TURNS, Conversation

    conversation = Conversation(engine)
    for n in range(12):  # a word of its own in each question: nothing may pile up
        conversation.ask(f"who heads Roscosmos zq{n}x?")
    assert len(conversation.turns) == MAX_TURNS
    kept = {t for turn in conversation.turns for t in turn.own_terms + turn.answer_terms}
    assert set(conversation._written) <= kept
    conversation.ask("Who is Sergei Savelyev?")
    turn = conversation.ask_turn("When did he talk to TASS?")
    assert turn.searched.startswith("when talk tass + Sergei Savelyev")  # as before


# ---- the history file is private, even one an older qa left readable ------------------------

def test_an_existing_world_readable_history_is_made_private(tmp_path, monkeypatch):
    """Before: `chmod 644 ~/.local/share/qa/history; qa` left it 0644 (a new one is 0600)."""
    import stat

    from qa.repl import open_history

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    folder = tmp_path / "qa"
    folder.mkdir(mode=0o755)
    history = folder / "history"
    history.write_text("\n# 2024-01-01\n+who signed the memorandum?\n")
    history.chmod(0o644)
    folder.chmod(0o755)
    _, warning, first_run = open_history()
    assert warning is None and not first_run
    assert stat.S_IMODE(history.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert "who signed the memorandum?" in history.read_text()


# ---- the terminal: exit 141 documented, several -q, `qa | cat` --------------------------------

def test_every_exit_status_is_documented_in_the_help_and_the_readme(qa_env):
    """Before: `qa | head -1` exited 141 quietly, but `qa --help` and the README listed only
    0, 1, 2 and 130."""
    from qa import cli

    codes = {cli.EXIT_ANSWERED, cli.EXIT_NO_ANSWER, cli.EXIT_USAGE, cli.EXIT_INTERRUPTED,
             cli.EXIT_PIPE}
    shown = subprocess.run([qa_command(), "--help"], capture_output=True, text=True,
                           env=qa_env, timeout=60).stdout
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    status = readme[readme.index("Exit status:"):].split("\n\n")[0]
    for code in codes:
        assert re.search(rf"\b{code}\b", shown.split("exit status:")[1]), code
        assert f"**{code}**" in status, code


def test_several_questions_are_each_shown_before_their_answer(qa_env):
    """Before: `qa -q "How was the ceremony held?" -q "How many sections?"` printed two
    answers back to back with no question."""
    r = subprocess.run([qa_command(), "-q", "How was the ceremony held?", "-q",
                        "How many sections?"], capture_output=True, text=True, env=qa_env,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    first, second = r.stdout.index("Q: How was the ceremony held?"), \
        r.stdout.index("Q: How many sections?")
    assert first < r.stdout.index("by videoconference") < second < r.stdout.index("Answer: six")
    one = subprocess.run([qa_command(), "-q", "How many sections?"], capture_output=True,
                         text=True, env=qa_env, timeout=60)
    assert one.stdout.startswith("Answer: six")  # one question: the answer alone, as before


def test_questions_typed_into_a_pipe_are_announced_on_stderr(qa_env, tmp_path):
    """Before: `qa | cat` on a terminal printed nothing and waited: it looked hung."""
    pexpect = pytest.importorskip("pexpect")
    out = tmp_path / "out.txt"
    child = pexpect.spawn("/bin/sh", ["-c", f"'{qa_command()}' > '{out}'"], env=qa_env,
                          timeout=30)
    child.expect_exact("questions are read from stdin, one a line")
    child.sendline("how many sections?")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "Answer: six" in out.read_text()
    assert "questions are read" not in out.read_text()  # stderr only


# ---- NO_COLOR / --no-color: no style codes at all; no line ends in spaces ---------------------

SGR = re.compile(rb"\x1b\[[0-9;:]*m")
TRAILING_SPACE = re.compile(rb"[ \t]+(?:\x1b\[[0-9;:]*m)*\r?\n")


def _pty_chat(env: dict, args: list[str], columns: int = 60) -> bytes:
    """Every byte the chat writes to a terminal for a question, /show, /help, a menu of
    completions and a Tab that completes."""
    pexpect = pytest.importorskip("pexpect")
    child = pexpect.spawn(qa_command(), args, env={**env, "PROMPT_TOOLKIT_NO_CPR": "1"},
                          dimensions=(30, columns), timeout=30)
    child.logfile_read = log = io.BytesIO()
    steps = [("who signed the memorandun?\r", "Keijan"), ("/show 11\r", "chars"),
             ("/help\r", "what it does"), ("who is se\t", "Sergei"), ("\x03", "\x1b[?2004l"),
             ("Who is Sav\t", "elyev"), ("\r", "Deputy")]
    for keys, seen in steps:
        if keys not in ("\r", "\x03"):  # after a Tab the prompt is still up: no new one
            wait_for_prompt(child)
        child.send(keys)
        child.expect_exact(seen)
    wait_for_prompt(child)
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    return log.getvalue()


@pytest.mark.parametrize("how", ["NO_COLOR", "--no-color"])
def test_no_color_on_a_terminal_writes_no_style_codes_and_no_trailing_spaces(how, qa_env):
    """Before: `NO_COLOR=1 qa -q "who signed the memorandum?"` on a terminal still sent bold,
    underline and dim (ESC[1m, ESC[4m, ESC[2m), and padded lines with spaces; so did the chat."""
    pexpect = pytest.importorskip("pexpect")
    env = {**qa_env, "TERM": "xterm-256color", **({"NO_COLOR": "1"} if how == "NO_COLOR" else {})}
    args = ["--no-color"] if how == "--no-color" else []
    child = pexpect.spawn(qa_command(), [*args, "-q", "who signed the memorandum?", "-q",
                                         "how many sections?"], env=env, dimensions=(24, 60),
                          timeout=30)
    out = child.read()
    child.close()
    assert b"Keijan" in out and b"six" in out
    assert not SGR.search(out) and not TRAILING_SPACE.search(out), out
    chat = _pty_chat(env, args)
    assert b"memorandun" in chat and b"Savelyev" in chat
    assert not SGR.search(chat), SGR.findall(chat)[:5]
    assert not TRAILING_SPACE.search(chat), TRAILING_SPACE.findall(chat)[:5]


def test_colour_output_on_a_terminal_has_no_trailing_spaces(qa_env):
    """Before: rich padded every wrapped or indented line to the width with spaces."""
    env = {**qa_env, "TERM": "xterm-256color"}
    chat = _pty_chat(env, [])
    assert SGR.search(chat)  # colour is on
    assert not TRAILING_SPACE.search(chat), TRAILING_SPACE.findall(chat)[:5]


# ---- /load: progress bars and file-name completion ------------------------------------------

def test_load_in_the_chat_shows_the_progress_bars(qa_env):
    """Before: `/load big.txt` in the chat showed nothing until it was done (25 s on a large
    file); the command line shows reading/splitting/indexing bars."""
    pexpect = pytest.importorskip("pexpect")
    child = pexpect.spawn(qa_command(), [], env={**qa_env, "PROMPT_TOOLKIT_NO_CPR": "1"},
                          dimensions=(30, 100), timeout=60)
    wait_for_prompt(child)
    child.send(f"/load {HARBOUR}\r")
    first = child.expect([r"(?:reading|splitting|indexing).*%", "loaded"])
    child.expect_exact("loaded")
    wait_for_prompt(child)
    child.sendeof()
    child.expect(pexpect.EOF)
    assert first == 0, "no progress bar before 'loaded'"


def test_tab_after_load_and_save_completes_file_names(tmp_path, engine):
    """Before: `/load ~/rep` + Tab offered words of the text, not files."""
    (tmp_path / "harbour notes.txt").write_text("x")
    (tmp_path / "harvest").mkdir()
    completer = QACompleter(_corpus_words(engine), [c.name for c in COMMANDS])
    for command in ("/load", "/save"):
        shown = {c.display_text for c in completer.get_completions(
            Document(f"{command} {tmp_path}/har"), None)}
        assert shown == {"harbour notes.txt", "harvest/"}
    assert not list(completer.get_completions(Document("/top 3"), None))


# ---- completion keeps the text's spelling -----------------------------------------------------

def test_tab_completes_a_word_as_the_text_spells_it(engine):
    """Before: `Who is Sav` + Tab gave `savelyev`; `cns` gave `cnsa`."""
    completer = QACompleter(_corpus_words(engine), [c.name for c in COMMANDS],
                            spell=lambda word: text_spelling(engine.index, word))

    def complete(text: str) -> list[str]:
        return [c.text for c in completer.get_completions(Document(text), None)]

    assert complete("Who is Sav") == ["Savelyev"]
    assert complete("when did cns") == ["CNSA"]
    assert complete("is it on WEC") == ["WeChat"]
    assert "memorandum" in complete("the Memo")  # a word the text writes in lower case
    assert complete("Savelyev") == []  # nothing left to complete


# ---- the correction note shows what was typed -------------------------------------------------

def test_a_corrected_word_is_shown_as_typed_and_as_searched(engine, qa_env):
    """Before: `qa -q "who signed the memorandun?"` said "Searched for: memorandum"."""
    r = subprocess.run([qa_command(), "-q", "who signed the Memorandun?"], capture_output=True,
                       text=True, env=qa_env, timeout=60)
    assert "Searched for: Memorandun \u2192 memorandum" in r.stdout.splitlines()
    note = "searched for: memorandun \u2192 memorandum"
    out = io.StringIO()
    render.rich_answer(engine.ask("who signed the memorandun?"), Console(file=out, width=80))
    assert note in out.getvalue()
    assert note in chat(engine, "who signed the memorandun?")  # the chat


# ---- leads fit the width; /show has a hanging indent ------------------------------------------

def test_leads_are_one_line_cut_to_the_console_width(engine):
    """Before: at 60 columns each lead of `who signed the memorandum?` ran over two lines."""
    out = io.StringIO()
    answer = engine.ask("who signed the memorandum?", top=3)
    render.rich_answer(answer, Console(file=out, width=60))
    lines = out.getvalue().splitlines()
    leads = lines[lines.index("also relevant") + 1:]
    assert len(leads) == len(answer.hits) - 1
    assert all(len(line.rstrip()) == 60 and line.rstrip().endswith("\u2026") for line in leads)


def test_show_wraps_each_sentence_under_its_own_text(engine):
    """Before: `/show 11` at 60 columns wrapped each sentence back to column 0, under its #."""
    out = io.StringIO()
    with create_pipe_input() as inp:
        inp.send_text("/show 11\r\x04")
        run_repl(engine, input=inp, output=DummyOutput(), console=Console(file=out, width=60),
                 paths=[ARTICLE], first_run=False)
    text = out.getvalue()
    shown = text[text.index("#9"):text.index("paragraph 9")].splitlines()
    assert len(shown) > 5  # the sentences wrap at 60 columns
    indent = shown[0].index("In July")
    assert all(line.startswith("#") or line[:indent] == " " * indent and line[indent] != " "
               for line in shown)
    body = text[text.index("paragraph 9"):].splitlines()[1:-2]
    assert body and all(line.startswith("  ") and line[2] != " " for line in body)


# Gold files of the right shape, with any part of them swapped for a number, null, a boolean
# or a string: each loads or is one GoldError, and loads only if every flag is a real boolean.
_LEAF = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5)


def _or_leaf(strategy):
    """The value, or one time in four a JSON leaf in its place."""
    return st.one_of(strategy, strategy, strategy, _LEAF)


def _record(**fields):
    return st.fixed_dictionaries({k: _or_leaf(v) for k, v in fields.items()})


_TEXT = st.text(min_size=1, max_size=8)
_SQUAD_QA = _record(question=_TEXT, is_impossible=st.booleans(),
                    answers=st.lists(_or_leaf(_record(text=_TEXT)), max_size=2))
_SQUAD = st.fixed_dictionaries({"data": _or_leaf(st.lists(_or_leaf(_record(
    paragraphs=st.lists(_or_leaf(_record(context=_TEXT, qas=st.lists(_or_leaf(_SQUAD_QA),
                                                                       max_size=2))),
                        max_size=2))), max_size=2))})
_FLAT = st.lists(_or_leaf(_record(question=_TEXT, context=_TEXT, impossible=st.booleans(),
                                  answers=st.lists(_or_leaf(_TEXT), max_size=2))), max_size=3)
_LINE = _or_leaf(_record(question=_TEXT, sentence=_TEXT, impossible=st.booleans(),
                         answers=st.lists(_or_leaf(_TEXT), max_size=2)))


def _flags_are_booleans(value: object) -> bool:
    if isinstance(value, list):
        return all(_flags_are_booleans(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(v, bool) if k in ("impossible", "is_impossible")
                   else _flags_are_booleans(v) for k, v in value.items())
    return True


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.tuples(st.just("json"), _SQUAD | _FLAT)
       | st.tuples(st.just("jsonl"), st.lists(_LINE, min_size=1, max_size=3)))
def test_a_gold_file_with_any_part_of_the_wrong_type_loads_or_is_a_gold_error(case,
                                                                             tmp_path_factory):
    """Before: `qa eval` raised AttributeError, TypeError or KeyError on such files, and read
    "impossible": "false" as true."""
    form, value = case
    path = tmp_path_factory.mktemp("gold") / f"g.{form}"
    path.write_text("\n".join(map(json.dumps, value)) if form == "jsonl" else json.dumps(value))
    try:
        gold = ev.load_gold(path)
    except GoldError as e:
        assert "\n" not in str(e)
    else:
        assert _flags_are_booleans(value)
        assert all(isinstance(q.question, str) and q.question.strip() for q in gold.questions)
