"""Issue 22: what a new user tripped on, one test per item; each failed before its fix."""

from __future__ import annotations

import ast
import json
import subprocess
from pathlib import Path

import pytest

from qa import sentences
from qa.corpus import document_from_text
from tests.conftest import ROOT, qa_command
from tests.test_repl import chat

A_TXT = ("The venue is booked for the offsite. We expect approx. Forty people will come to the "
         "hall. The bus leaves at nine from the depot.\n")
BAKERY = ("Its founder, Clara Voss, opened the bakery in 1921 on the harbour road. The bakery "
          "was founded with a loan from her brother. Bread is still baked there every night.\n")
TABLE_MD = """# Offsite

The offsite is planned for May for the whole team.

## Budget

The total is capped at two thousand euros for the whole team.

| item | cost |
|---|---|
| Venue Hall B | 400 EUR |
| Catering | 900 EUR |
"""


def run(args, env, stdin: bytes | None = None, timeout: float = 60):
    return subprocess.run([qa_command(), *args], input=stdin, capture_output=True, env=env,
                          timeout=timeout, stdin=None if stdin is not None else subprocess.DEVNULL)


def answer(args, env, stdin: bytes | None = None) -> dict:
    r = run([*args, "--json"], env, stdin)
    assert r.returncode in (0, 1), r.stderr
    return json.loads(r.stdout)


# ---- 1: a file's sentences are a function of that file alone ---------------------------------

def test_a_files_citations_do_not_depend_on_what_is_loaded_beside_it(tmp_path, qa_env):
    (tmp_path / "a.txt").write_text(A_TXT)
    (tmp_path / "b.txt").write_text("We need approx. 40 chairs and approx. 12 tables. " * 200)
    q = ["-q", "How many people will come to the hall?", "-k", "5"]
    alone = answer(["-c", str(tmp_path / "a.txt"), *q], qa_env)
    beside = answer(["-c", str(tmp_path / "a.txt"), "-c", str(tmp_path / "b.txt"), *q], qa_env)
    spans = lambda a: {(s["start"], s["end"]) for s in a["sentences"] if s["source"] == "a.txt"}
    assert spans(alone) and spans(alone) <= spans(beside) | spans(alone)
    for s in beside["sentences"]:
        if s["source"] == "a.txt":
            assert (s["start"], s["end"]) in {(x["start"], x["end"]) for x in
                                              sentences_of(tmp_path / "a.txt")}


def sentences_of(path: Path) -> list[dict]:
    doc = document_from_text(path.read_text(), path.name)
    return [{"start": s.start, "end": s.end} for s in sentences.split_sentences([doc])]


def test_splitting_uses_shipped_parameters_not_the_loaded_text():
    """The same document splits the same way alone and beside a text that teaches Punkt
    "approx." is an abbreviation."""
    a = document_from_text(A_TXT, "a.txt")
    b = document_from_text("We need approx. 40 chairs and approx. 12 tables. " * 200, "b.txt")
    alone = [(s.start, s.end) for s in sentences.split_sentences([a])]
    together = [(s.start, s.end) for s in sentences.split_sentences([a, b])
                if s.source == "a.txt"]
    assert alone == together


def test_a_missing_splitter_file_is_one_line(tmp_path):
    from qa.errors import ModelError

    with pytest.raises(ModelError, match="punkt.json: the sentence splitter's parameters are "
                                         "missing"):
        sentences.load_punkt(tmp_path / "punkt.json")
    (tmp_path / "punkt.json").write_text("{broken")
    with pytest.raises(ModelError, match="damaged"):
        sentences.load_punkt(tmp_path / "punkt.json")


# ---- 2: leads in the order of the numbers shown --------------------------------------------

def test_leads_are_ordered_by_the_chance_shown(tmp_path, qa_env):
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "alpha.txt").write_text(BAKERY)
    (folder / "beta.txt").write_text("The ferry to the island leaves at noon. It carries forty "
                                     "cars and a bakery van.\n")
    for q in ("Who founded the bakery?", "When was the bakery opened?", "What leaves at noon?"):
        a = answer(["-c", str(folder), "-q", q, "-k", "5"], qa_env)
        scores = [s["score"] for s in a["sentences"]]
        assert scores == sorted(scores, reverse=True), (q, scores)
        r = run(["-c", str(folder), "-q", q, "-k", "5"], qa_env)
        shown = [int(x.split("%")[0].lstrip("<[")) for x in
                 (line.split()[0] for line in r.stdout.decode().splitlines()
                  if line.startswith("  [")) if x != "[<1%]"]
        assert shown == sorted(shown, reverse=True)


# ---- 3: right words are not "corrected" ----------------------------------------------------

def test_an_english_word_is_not_corrected_and_a_typo_adds_its_fix(tmp_path, qa_env):
    (tmp_path / "bakery.txt").write_text(BAKERY)
    got = answer(["-c", str(tmp_path / "bakery.txt"), "-q", "Who founded the bakery?"], qa_env)
    r = run(["-c", str(tmp_path / "bakery.txt"), "-q", "Who founded the bakery?"], qa_env)
    assert b"earched for" not in r.stdout and got["found"]
    r = run(["-c", str(tmp_path / "bakery.txt"), "-q", "Who opened the bakeyr?"], qa_env)
    assert "bakeyr → bakery" in r.stdout.decode()


def test_a_correction_keeps_the_word_as_typed(article_index):
    from qa.spelling import Speller
    from qa.terms import tokens

    q = "who signd the memorandun"
    toks = tuple(tokens(q))
    terms, fixes = Speller(article_index).search_terms(tuple(t.term for t in toks if t.term), toks)
    assert ("memorandun", "memorandum") in fixes
    assert "memorandun" in terms and "memorandum" in terms


# ---- 4: a common noun is not a name --------------------------------------------------------

def test_a_lower_case_word_is_not_echoed_as_a_name(engine):
    a = engine.ask("What app did CNSA use?")
    assert not any("app" in n.lower() for n in a.notes), a.notes
    a = engine.ask("x")
    assert not any("X" in n for n in a.notes)
    a = engine.ask("Who won the World Cup in Qatar?")
    assert any("Qatar" in n for n in a.notes) or not a.found


# ---- 5: the JSON type says what the answer is ----------------------------------------------

@pytest.mark.parametrize("question, asked", [
    ("Was the ceremony held by videoconference?", "yes/no"),
    ("Is the moon base open only to Russia and China?", "yes/no"),
    ("Did they sign the memorandum?", "yes/no"),
    ("What did Rogozin announce in July 2020?", "sentence"),
    ("When was the cooperation plan signed?", "date"),
])
def test_type_is_span_sentence_or_none_and_asked_is_the_kind(engine, question, asked):
    a = engine.ask(question).to_json()
    assert a["type"] in ("span", "sentence", "none")
    assert a["asked"] == asked
    if a["type"] == "span":
        assert a["answer"] and a["answer"] != a["sentences"][0]["text"]
    if asked == "yes/no" and a["found"]:
        assert a["type"] == "sentence"


# ---- 6: /why agrees with the leads ---------------------------------------------------------

def test_why_shows_the_leads_own_numbers(engine):
    out = chat(engine, "Who signed the memorandum?", "/why", "/why 2")
    a = engine.ask("Who signed the memorandum?", explain=True)
    from qa import render

    first, second = a.hits[0], a.hits[1]
    assert f"is lead 1 of 3: {render.chance(first.score)} chance" in out
    assert f"next: {render.sentence_ref(second.sentence)} at {render.chance(second.score)}" \
        in out
    assert f"is lead 2 of 3: {render.chance(second.score)} chance" in out


# ---- 7: Markdown tables and headings -------------------------------------------------------

def test_table_rows_carry_their_column_names_and_headings_are_searchable(tmp_path, qa_env):
    (tmp_path / "plan.md").write_text(TABLE_MD)
    text = run(["--extract", str(tmp_path / "plan.md")], qa_env).stdout.decode()
    assert "item; cost" not in text
    assert "item: Venue Hall B; cost: 400 EUR" in text
    got = answer(["-c", str(tmp_path / "plan.md"), "-q", "What is the budget?", "-k", "5"],
                 qa_env)
    assert got["sentences"], got
    assert {s["section"] for s in got["sentences"]} == {"Budget"}
    r = run(["-c", str(tmp_path / "plan.md"), "-q", "What does each item cost?",
             "-k", "3"], qa_env)
    also = [line for line in r.stdout.decode().splitlines() if line.startswith("  [")]
    assert also and all('section "Budget"' in line for line in also)


# ---- 8: /show counts paragraphs per file, and takes a lead's short label --------------------

def test_show_numbers_paragraphs_within_each_file(tmp_path):
    from qa.answer import Engine
    from qa.index import open_index

    (tmp_path / "one.txt").write_text("First file, first paragraph.\n\nFirst file, second one.\n")
    (tmp_path / "two.txt").write_text("Second file, its first paragraph is here.\n\n"
                                      "Second file, its second paragraph is here.\n")
    engine = Engine(open_index([str(tmp_path / "one.txt"), str(tmp_path / "two.txt")],
                               use_cache=False))
    out = chat(engine, "/show two.txt#2")
    assert "paragraph 2 (sentences 2-2)" in out


def test_show_takes_the_short_label_of_a_web_page(site):
    from qa.answer import Engine
    from qa.index import open_index

    engine = Engine(open_index([f"{site.url}/article.html"], use_cache=False))
    out = chat(engine, "/show article.html#1")
    assert "no source named" not in out and "#1" in out


def test_why_and_show_in_the_real_chat(tmp_path, qa_env):
    """Items 6 and 8 through a pseudo-terminal, 120 columns wide: /why's header is one line
    and gives the lead's own chance; /show NAME#N counts paragraphs within that file."""
    import re

    import pexpect

    from tests.conftest import wait_for_prompt

    (tmp_path / "one.txt").write_text("First file, first paragraph.\n\nFirst file, second one.\n")
    (tmp_path / "two.txt").write_text("The bakery opened in 1921 on the harbour road.\n\n"
                                      "Its founder was Clara Voss, a baker from Lyon.\n")
    child = pexpect.spawn(qa_command(), ["-c", str(tmp_path / "one.txt"),
                                         "-c", str(tmp_path / "two.txt")],
                          env={**qa_env, "NO_COLOR": "1"}, encoding="utf-8", timeout=60,
                          dimensions=(40, 120))
    try:
        wait_for_prompt(child)
        child.send("Who founded the bakery?\r")
        child.expect("two.txt")
        wait_for_prompt(child)
        child.send("/why\r")
        child.expect(r"is lead 1 of \d+: (\S+) chance")
        header = child.after
        wait_for_prompt(child)
        child.send("/show two.txt#2\r")
        child.expect(r"paragraph (\d+) \(sentences")
        paragraph = child.match.group(1)
        wait_for_prompt(child)
        child.sendcontrol("d")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert re.search(r"\d+%|<1%", header)
    assert paragraph == "2"  # not 4: the second paragraph of two.txt


# ---- 9, 10: an empty folder; stdin read as the document ------------------------------------

def test_an_empty_folder_is_one_line(tmp_path, qa_env):
    (tmp_path / "e").mkdir()
    r = run(["-c", str(tmp_path / "e"), "-q", "x"], qa_env)
    assert r.returncode == 2 and r.stderr.count(b"\n") == 1, r.stderr
    assert b"folder has no files qa reads" in r.stderr


def test_q_says_once_that_piped_input_is_the_document(qa_env):
    r = run(["-q", "Who created Python?"], qa_env,
            stdin=b"Python was created by Guido van Rossum in 1991.\n")
    assert r.stderr.count(b"reading stdin as the document") == 1
    r = run(["-c", "-", "-q", "Who created Python?"], qa_env,
            stdin=b"Python was created by Guido van Rossum in 1991.\n")
    assert b"reading stdin as the document" not in r.stderr


# ---- 11: text that is not English ----------------------------------------------------------

GERMAN = ("Die Raumstation soll bis zum Jahr 2030 gebaut werden und 120 Millionen Euro kosten. "
          "Russland und China haben die Vereinbarung am Dienstag unterzeichnet. Die Europäische "
          "Weltraumorganisation prüft noch, ob sie sich an dem Projekt beteiligen wird. Die "
          "ersten Module werden von einer Rakete in die Umlaufbahn gebracht.\n")


def test_a_text_that_is_not_english_is_said_once_and_never_sure(tmp_path, qa_env):
    (tmp_path / "de.txt").write_text(GERMAN)
    r = run(["-c", str(tmp_path / "de.txt"), "--json", "-q", "Wie viel kostet die Station?",
             "-q", "Wann wurde die Vereinbarung unterzeichnet?"], qa_env)
    assert r.stderr.count(b"seems not to be English") == 1
    for line in r.stdout.decode().splitlines():
        assert json.loads(line)["confidence"] < 0.5


# ---- structure and smaller items -----------------------------------------------------------

def test_format_readers_stand_under_corpus():
    """corpus.py imports its readers; none of them imports corpus.py back."""
    for name in ("fetch", "html_text", "markdown_text", "pdf_text", "source"):
        tree = ast.parse((ROOT / "qa" / f"{name}.py").read_text())
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert "qa.corpus" not in imported, name
    tree = ast.parse((ROOT / "qa" / "source.py").read_text())
    assert not any(isinstance(n, ast.ImportFrom) and (n.module or "").startswith("qa")
                   for n in ast.walk(tree))


def test_a_bare_followup_piped_without_chat_hints_at_chat(qa_env):
    r = run([], qa_env, stdin=b"Who signed the memorandum?\nwhen?\n")
    assert b"ask both with --chat" in r.stdout


def test_one_label_for_what_was_searched(qa_env):
    r = run(["--chat"], qa_env, stdin=b"Who is Sergei Savelyev?\nWhen did he talk to TASS?\n")
    assert b"earched for: " in r.stdout and b"\nsearched: " not in r.stdout


def test_an_unknown_flag_suggests_the_nearest(qa_env):
    r = run(["--questoin", "x"], qa_env)
    assert r.returncode == 2 and b"did you mean --question?" in r.stderr
