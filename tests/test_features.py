"""Named features: what each says of a (question, sentence) pair, of a candidate for the
combiner, and of an answer for the confidence models."""

from __future__ import annotations

import numpy as np

from qa import candidates, features
from qa.corpus import document_from_text
from qa.index import build_index
from qa.question import analyze_question
from qa.sentences import split_sentences

TEXT = ("The bridge over the river was opened in May 1999 by the mayor. It has four lanes.\n\n"
        "The museum was built in 2004. Nobody visits it.")


def setup(question: str):
    index = build_index(split_sentences([document_from_text(TEXT, "t.txt")]))
    q = analyze_question(question)
    query = candidates.make_query(index, q, q.terms)
    scores = candidates.bm25_scores(index, query)
    ids = list(range(len(index)))
    rows = features.sentence_features(index, query, ids, scores, np.maximum(scores[ids], 1e-9),
                                      features.SentenceCache(index))
    return index, query, rows


def value(rows, name: str, names=features.SENTENCE_FEATURES):
    return rows[:, names.index(name)]


def test_feature_names_are_unique():
    for names in (features.SENTENCE_FEATURES, features.COMBINER_FEATURES,
                  features.LEXICAL_FEATURES, features.CONFIDENCE_FEATURES):
        assert len(names) == len(set(names))
    assert features.CONFIDENCE_FEATURES[:len(features.LEXICAL_FEATURES)] == \
        features.LEXICAL_FEATURES


def test_coverage_is_the_idf_weighted_share_of_the_question_a_sentence_holds():
    _, _, rows = setup("When was the bridge over the river opened?")
    cov = value(rows, "coverage")
    assert cov[0] == 1.0 and value(rows, "all matched")[0] == 1.0
    assert cov[2] == 0.0 and value(rows, "all matched")[2] == 0.0


def test_a_pronoun_opening_inherits_what_the_sentence_before_holds():
    _, _, rows = setup("How many lanes does the bridge have?")
    assert value(rows, "inherited")[1] > 0  # "It has four lanes" after the bridge
    assert value(rows, "inherited")[3] == 0  # "Nobody visits it": no pronoun opening


def test_type_evidence_is_crossed_with_what_is_asked():
    _, _, rows = setup("How many lanes does the bridge have?")
    assert value(rows, "number x new number")[1] == 1.0  # "four"
    assert value(rows, "date x new number")[1] == 0.0  # not a date question


def test_combiner_features_weigh_what_the_reader_found_in_each_candidate():
    from qa.reader import Reading, Span

    logits = np.array([2.0, 1.0, 0.0])
    reading = Reading(windows=((0, 1),), centres=(0,), nulls=np.array([1.0]),
                      spans=(Span(1, 0, 5, 6.0, 0), Span(0, 2, 4, 3.0, 0)), pieces=40)
    rows = features.combiner_features([10, 0, 1], logits, reading)
    col = features.COMBINER_FEATURES.index
    assert rows[:, col("read")].tolist() == [0.0, 1.0, 1.0]
    assert rows[:, col("centre")].tolist() == [0.0, 1.0, 0.0]
    # sentence 1's best span scores 6 against its window's no-answer score of 1
    assert rows[2, col("reader margin")] == 5.0 and rows[1, col("reader margin")] == 2.0
    assert rows[0, col("reader margin")] == 0.0  # not read: no evidence either way
    assert rows[2, col("reader logprob")] > rows[1, col("reader logprob")] > -features.CLIP
    assert np.allclose(np.logaddexp.reduce(rows[:, col("ranker logprob")]), 0.0)
