"""The hand rules' pick, one feature of the span scorer (README: "How answers are found")."""

from __future__ import annotations

import pytest

from qa import extract
from qa.answer import Engine
from qa.corpus import document_from_text
from qa.index import build_index
from qa.sentences import split_sentences

TEXT = ("The bridge was opened by Queen Elizabeth in May 1962. "
        "Chief engineer Maria Lopez designed the bridge. "
        "It carries six lanes of traffic.")


@pytest.fixture(scope="module")
def engine():
    return Engine(build_index(split_sentences([document_from_text(TEXT, "t.txt")])))


def picks(engine, question: str, i: int) -> list[str]:
    q = engine.analyze(question)
    text = engine.index.text(i)
    present = {t for t in q.terms if t in engine.info(i).present}
    return [text[a:b] for a, b in extract.rule_spans(text, q, tuple(present),
                                                     engine.index.is_common)]


@pytest.mark.parametrize("question, i, expected", [
    ("When was the bridge opened?", 0, "in May 1962"),
    ("Who opened the bridge?", 0, "Queen Elizabeth"),
    ("How many lanes does it carry?", 2, "six"),
    ("Who is Maria Lopez?", 1, "Chief engineer"),
])
def test_the_rules_pick_a_span_of_the_asked_type(engine, question, i, expected):
    assert picks(engine, question, i) == [expected]


def test_the_rules_never_pick_the_questions_own_words(engine):
    assert "Queen Elizabeth" not in picks(engine, "When did Queen Elizabeth open it?", 0)


def test_the_rules_read_a_question_the_same_in_any_case(engine):
    for question in ("who is maria lopez?", "WHO IS MARIA LOPEZ?"):
        assert picks(engine, question, 1) == picks(engine, "Who is Maria Lopez?", 1)
