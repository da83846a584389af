"""Candidate sentences: pooled BM25, heading words, and the postings they are read off."""

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


def test_a_heading_word_finds_the_sentences_under_it():
    from qa.corpus import Source, document_from_source
    from qa.index import build_index
    from qa.question import analyze_question
    from qa.sentences import split_sentences

    md = ("# Plan\n\nThe offsite is in May.\n\n## Budget\n\nThe total is two thousand euros.\n\n"
          "It covers the hall and the food.\n\n## Travel\n\nThe bus leaves at nine.\n")
    doc = document_from_source(Source("p.md", "p.md", "markdown", md.encode()))
    index = build_index(split_sentences([doc]))
    q = analyze_question("What is the budget?")
    query = candidates.make_query(index, q, q.terms)
    scores = candidates.bm25_scores(index, query)
    under = {i for i in range(len(index)) if index.sentence(i).section == "Budget"}
    assert {int(i) for i in np.flatnonzero(scores)} == under
    ids, _ = candidates.sentence_candidates(index, scores, 10,
                                            candidates.hit_sentences(index, query.terms))
    assert set(ids) == under


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
