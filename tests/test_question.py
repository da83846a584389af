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


def test_how_many_remembers_what_is_counted():
    assert analyze_question("How many sections are there?").focus == "section"


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
    assert q.asks and q.head == "luxuri"


@pytest.mark.parametrize("text, naming", [
    ("What was the harbour called?", True),
    ("The practice of burning the fields was called?", True),
    ("By what other name was the gate known?", True),
    ("What is the term for a ship that carries oil?", True),
    ("What was the name of the first castle?", True),
    ("Rivers that flow into lakes are known as what?", True),
    ("In what county is there a village called Ashby?", False),  # the name is given
    ("What were the monks known for?", False),
    ("Who named the harbour?", False),
])
def test_naming_questions_ask_what_something_is_called(text, naming):
    assert analyze_question(text).naming is naming


def test_a_question_after_what_is_asks_what_is_it():
    assert analyze_question("What is the most used boiler in mills?").copular
    assert analyze_question("Which city was the capital?").copular
    assert not analyze_question("What did the mills use?").copular
    assert not analyze_question("What river is located near the school?").copular  # passive


def test_whose_names_the_noun_whose_owner_is_asked():
    assert analyze_question("On whose behalf was it signed?").owned == "behalf"
    assert analyze_question("Who signed it?").owned is None
