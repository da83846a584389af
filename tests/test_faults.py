"""Issue 15's faults, one test each: every one of these failed before its fix.

The command that reproduced each fault is in the test's docstring.
"""

from __future__ import annotations

import subprocess

import pytest

from qa import eval as ev
from qa.cli import main
from qa.errors import GoldError
from tests.conftest import qa_command

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
                    '{"question": "r?", "impossible": true}\n')
    assert [q.impossible for q in ev.load_gold(path).questions] == [False, True]


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
