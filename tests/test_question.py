from __future__ import annotations

import pytest

from qa.question import analyze_question, answer_type


@pytest.mark.parametrize("text, kind", [
    ("Who signed the memorandum?", "person"),
    ("whom did he meet", "person"),
    ("When was it signed?", "date"),
    ("In which year was the plan signed?", "date"),
    ("Where did CNSA post its statement?", "place"),
    ("What country is Normandy in?", "place"),
    ("How many sections does the plan include?", "number"),
    ("how much did it cost", "number"),
    ("What sections does the plan include?", "list"),
    ("How was the ceremony held?", "manner"),
    ("Why did they sign?", "reason"),
    ("signing ceremony", "sentence"),
    ("signing ceremony format", "manner"),
    ("WHO SIGNED", "person"),
    ("director of the space administration", "person"),
    ("and the head of CNSA?", "person"),
    ("Name one country that banned driving on Sundays.", "place"),
    ("list the sections of the plan", "list"),
    ("What were the two districts built in Berlin?", "list"),
    ("What are the 3 largest libraries?", "list"),
    ("What were Huguenots who stayed in France called?", "sentence"),  # "who" is relative
    ("What did the settlers who came from France build?", "sentence"),
])
def test_question_types(text, kind):
    assert answer_type(text) == kind


def test_question_words_are_dropped_and_content_kept():
    q = analyze_question("Who signed the memorandum?")
    assert q.terms == ("sign", "memorandum")


@pytest.mark.parametrize("text, wh, focus", [
    ("How many sections are there?", "how many", "section"),
    ("Which country is the most dependent on oil?", "which", "countri"),
    ("what kind of arches did they build", "what", "arch"),
    ("Name a luxury division of Toyota", "which", "divis"),
    ("what year did the war begin", "what", "year"),
    ("Who signed the memorandum?", "who", None),
    ("Does the plan cover remote sensing?", "yes/no", None),
    ("signing ceremony", "none", None),
])
def test_the_question_word_and_the_noun_that_names_the_answer(text, wh, focus):
    q = analyze_question(text)
    assert (q.wh, q.focus_term) == (wh, focus)


def test_the_main_verb_names_and_numbers_come_from_the_tags():
    q = analyze_question("When did Dmitry Rogozin sign the 2018 plan?")
    assert q.verb == "sign" and q.names == ("dmitri", "rogozin") and q.numbers == ("2018",)


def test_the_case_a_question_is_typed_in_does_not_change_how_it_is_read():
    known = {"sergei": "Sergei", "savelyev": "Savelyev", "cnsa": "CNSA", "signed": ""}
    variants = ["Who is Sergei Savelyev and what did CNSA sign?",
                "who is sergei savelyev and what did cnsa sign?",
                "WHO IS SERGEI SAVELYEV AND WHAT DID CNSA SIGN?"]
    read = [analyze_question(v, known.get) for v in variants]
    assert len({q.tagged for q in read}) == 1
    assert read[0].names == ("sergei", "savelyev", "cnsa")


def test_a_word_the_text_never_uses_is_read_as_a_name_only_if_the_tagger_knows_it_as_one():
    lower = analyze_question("what is the capital of france?", lambda w: None)
    assert [t.text for t in lower.tagged if t.tag == "PROPN"] == ["France"]
    assert "capital" in [t.text for t in lower.tagged]


def test_cue_stems_are_the_stems_of_their_words():
    from qa.question import CUE_TERMS, CUE_WORDS, TYPE_CUE_TERMS, TYPE_CUE_WORDS
    from qa.terms import stem

    assert TYPE_CUE_TERMS == {stem(w) for w in TYPE_CUE_WORDS.split()}
    assert CUE_TERMS == TYPE_CUE_TERMS | {stem(w) for w in CUE_WORDS.split()}


@pytest.mark.parametrize("text, yes_no", [
    ("Does the program cover remote sensing?", True),
    ("Will the station be open to other countries", True),
    ("Is it true that who signed matters?", False),
    ("What does the program cover?", False),
    ("Doe signed it", False),
])
def test_yes_no_questions(text, yes_no):
    assert analyze_question(text).yes_no is yes_no


def test_the_attribute_a_question_asks_of_something():
    assert analyze_question("What is the population of China?").attribute == "popul"
    assert analyze_question("what was the aim of the plan").attribute == "aim"
    assert analyze_question("Who signed the plan?").attribute is None


def test_an_imperative_asks_like_which():
    q = analyze_question("Name a luxury division of Toyota")
    assert q.asks and q.wh == "which"
