from __future__ import annotations

from qa.corpus import document_from_text, read_document
from qa.sentences import split_sentences
from tests.conftest import ARTICLE


def _squeeze(s: str) -> str:
    return " ".join(s.split())


def test_article_splits_into_its_sentences():
    sentences = split_sentences([read_document(ARTICLE)])
    assert len(sentences) == 12
    assert sentences[0].text.startswith("TASS /. The head of the Russian space company")
    assert sentences[0].text.endswith("Roscosmos and CNSA said on Tuesday.")
    assert sentences[2].text == "The signing ceremony took place by videoconference."


def test_every_sentence_points_at_its_original_characters():
    doc = read_document(ARTICLE)
    for s in split_sentences([doc]):
        assert _squeeze(doc.original[s.start:s.end]) == _squeeze(s.text)
        assert s.source == ARTICLE.name


def test_abbreviations_learned_from_the_text_do_not_split():
    text = ("Dr. Smith met Mr. Jones. " * 3 + "The meeting ended. Dr. Smith left early.")
    s = split_sentences([document_from_text(text, "t")])
    assert any(x.text == "Dr. Smith left early." for x in s)


def test_lowercase_fragment_joins_the_previous_sentence():
    doc = document_from_text("They worked on implementation. technical aspects of it.", "t")
    assert [s.text for s in split_sentences([doc])] == [doc.text]


def test_numbering_runs_across_documents():
    a = document_from_text("First one here. Second one here.", "a")
    b = document_from_text("Third one here.", "b")
    s = split_sentences([a, b])
    assert [x.index for x in s] == [0, 1, 2]
    assert [x.source for x in s] == ["a", "a", "b"]


def test_text_without_sentence_ends_is_cut_into_bounded_pieces():
    words = " ".join(f"word{i}" for i in range(3000))
    doc = document_from_text(words, "t")
    pieces = split_sentences([doc])
    assert len(pieces) > 1
    assert all(len(p.text) <= 2000 for p in pieces)
    assert " ".join(p.text for p in pieces) == words
    for p in pieces:
        assert doc.original[p.start:p.end] == p.text
