"""Named features: what each says of a (question, sentence) and a (question, span) pair."""

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
    for names in (features.SENTENCE_FEATURES, features.SPAN_FEATURES,
                  features.CONFIDENCE_FEATURES):
        assert len(names) == len(set(names))


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


def span_rows(question: str, sentence: str):
    index, query, _ = setup(question)
    spans = candidates.span_candidates(sentence)
    return {sentence[s.start:s.end]: row for s, row in
            zip(spans, features.span_features(query, sentence, spans))}


def test_a_span_of_question_words_is_marked_as_such():
    rows = span_rows("When was the bridge opened?", TEXT.split(". ")[0])
    col = features.SPAN_FEATURES.index
    assert rows["The bridge"][col("overlap all")] == 1.0
    assert rows["May 1999"][col("overlap any")] == 0.0


def test_span_features_say_where_the_span_stands_against_the_question_words():
    rows = span_rows("Who opened the bridge?", TEXT.split(". ")[0])
    col = features.SPAN_FEATURES.index
    mayor = rows["the mayor"]
    assert mayor[col("after anchors")] == 1.0 and mayor[col("before anchors")] == 0.0
    assert mayor[col("who x gov by")] == 1.0  # "by the mayor", asked by "who"
    assert mayor[col("when x gov by")] == 0.0


def test_crossed_span_features_are_filled_for_the_question_word_only():
    rows = span_rows("Who opened the bridge?", TEXT.split(". ")[0])
    col = features.SPAN_FEATURES.index
    for row in rows.values():
        assert row[col("who x distance")] == row[col("distance")]
        assert row[col("when x distance")] == 0.0
