"""Candidate sentences (pooled BM25) and candidate spans (chunks, dates, lists)."""

from __future__ import annotations

import numpy as np

from qa import candidates
from qa.corpus import document_from_text
from qa.index import build_index
from qa.question import analyze_question
from qa.sentences import split_sentences

TEXT = ("The bridge over the river was opened in May 1999 by the mayor. It has four lanes.\n\n"
        "The old ferry stopped running. Its crew found work elsewhere.\n\n"
        "The city also built a museum in 2004, including a library, a cafe and a garden.")


def index_for(text: str = TEXT):
    return build_index(split_sentences([document_from_text(text, "t.txt")]))


def test_candidates_are_the_sentences_with_the_best_pooled_score_best_first():
    index = index_for()
    q = analyze_question("When was the bridge opened?")
    query = candidates.make_query(index, q, q.terms)
    ids, pooled = candidates.sentence_candidates(index, candidates.bm25_scores(index, query), 2)
    assert ids[0] == 0 and len(ids) == 2
    assert list(pooled) == sorted(pooled, reverse=True)


def test_a_sentence_gains_from_its_neighbour_in_the_pool():
    # "It has four lanes" holds no question word, but sits beside the bridge sentence.
    index = index_for()
    q = analyze_question("bridge river")
    query = candidates.make_query(index, q, q.terms)
    ids, _ = candidates.sentence_candidates(index, candidates.bm25_scores(index, query), 10)
    assert 1 in ids and 3 not in ids


def test_carried_context_words_weigh_less_and_come_after_the_question_own():
    index = index_for()
    q = analyze_question("how many lanes?")
    query = candidates.make_query(index, q, q.terms, {"bridg": 0.5, "unknown": 0.7})
    assert query.terms == ("lane", "bridg") and query.weights == (1.0, 0.5)


def test_containing_finds_sentences_even_when_bm25_scores_nothing():
    index = index_for("The kettle was invented by Ada Lovelace in 1843.")
    assert candidates.containing(index, ("kettl",)) == [0]


def test_spans_are_chunks_dates_and_lists_with_every_kind_that_found_them():
    text = "The city also built a museum in 2004, including a library, a cafe and a garden."
    spans = {text[s.start:s.end]: s for s in candidates.span_candidates(text)}
    assert "date" in spans["2004"].kinds  # "in 2004" answers as "2004"
    assert "list" in spans["a library, a cafe and a garden"].kinds
    assert {"noun", "object"} <= spans["a museum"].kinds and spans["a museum"].governor == "built"
    assert all(text[s.start:s.end] == text[s.start:s.end].strip(" ,.;:")
               for s in candidates.span_candidates(text))


def test_the_evidence_for_a_yes_no_question_is_the_clause_holding_its_words():
    text = "It includes six sections: the study of the moon, satellites and their use."
    anchors = [text.index("satellites")]
    [(a, b)] = candidates.evidence_clause(text, anchors)
    assert text[a:b] == "satellites and their use"  # the clause split at commas


def test_names_joined_by_and_form_one_group():
    assert candidates.joined(", and the director of CNSA ")
    assert not candidates.joined(" said that ")


def test_hits_read_off_the_postings_are_the_sentences_with_a_score():
    text = " ".join(f"Report {k} covers the harbour of town{k % 40} and crew{k}." for k in range(400))
    index = build_index(split_sentences([document_from_text(text, "t.txt")]))
    for question in ("Where is town7?", "crew12 harbour", "town3 town5 crew399"):
        q = analyze_question(question)
        query = candidates.make_query(index, q, q.terms)
        scores = candidates.bm25_scores(index, query)
        hits = candidates.hit_sentences(index, query.terms)
        if question != "crew12 harbour":  # "harbour" is in every sentence: scan the scores
            assert hits is not None
            assert list(hits[scores[hits] != 0]) == list(np.flatnonzero(scores))
        else:
            assert hits is None
        ids, pooled = candidates.sentence_candidates(index, scores, 5, hits)
        same_ids, same_pooled = candidates.sentence_candidates(index, scores, 5)
        assert ids == same_ids and list(pooled) == list(same_pooled)
