"""The learned weights: loading, scoring, explaining; and the shipped file itself."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

from qa import features, model
from qa.errors import ModelError


def test_a_linear_model_scores_rows_and_explains_each_feature_share():
    m = model.Linear(("a", "b", "c"), np.array([2.0, -1.0, 0.0]), 0.5, np.array([1.0, 1.0, 1.0]))
    assert m.score(np.array([[1.0, 1.0, 1.0], [3.0, 0.0, 9.0]])).tolist() == [1.5, 6.5]
    # Against the mean row: a adds 2 x (3 - 1), b adds -1 x (0 - 1), c adds nothing.
    assert m.contributions(np.array([3.0, 0.0, 9.0])) == [("a", 3.0, 4.0), ("b", 0.0, 1.0)]


def hidden_model() -> model.Hidden:
    # Two features, two hidden units: unit 0 fires on a, unit 1 on b - a.
    return model.Hidden(("a", "b"), np.array([[1.0, -1.0], [0.0, 1.0]]), np.array([0.0, 0.0]),
                        np.array([2.0, 3.0]), np.array([0.5, 0.0]), 1.0, np.zeros(2))


def test_a_hidden_layer_model_scores_rows_and_is_linear_at_each_row():
    m = hidden_model()
    rows = np.array([[1.0, 0.0], [0.0, 2.0]])
    # [1, 0]: unit 0 = 1 (x2), unit 1 off, linear 0.5, bias 1 -> 3.5; [0, 2]: unit 1 = 2 (x3) -> 7.
    assert m.score(rows).tolist() == [3.5, 7.0]
    for row, expected in zip(rows, m.score(rows)):
        at = m.at(row)
        assert at.score(row[None, :])[0] == pytest.approx(expected)
        assert sum(share for _, _, share in m.contributions(row)) == pytest.approx(expected - at.bias)


def test_span_rows_score_alike_with_or_without_their_dense_matrix():
    from qa import candidates
    from qa.answer import Engine
    from qa.corpus import document_from_text
    from qa.index import build_index
    from qa.sentences import split_sentences

    text = "The bridge was opened by the mayor in May 1999. It has four lanes."
    engine = Engine(build_index(split_sentences([document_from_text(text, "a.txt")])))
    q = engine.analyze("Who opened the bridge?")
    query = engine.candidates(q, q.terms, None, 5)[0]
    sentence = text.split(". ")[0]
    rows = features.span_features(query, sentence, candidates.span_candidates(sentence))
    dense = rows.dense()
    rng = np.random.default_rng(0)
    weights = rng.normal(size=(len(features.SPAN_FEATURES), 3))
    assert np.allclose(rows @ weights, dense @ weights)
    assert np.allclose(rows @ weights[:, 0], dense @ weights[:, 0])
    assert all(np.array_equal(rows[k], dense[k]) for k in range(len(rows)))
    with pytest.raises(IndexError):
        rows[len(rows)]


def test_calibration_maps_a_score_to_a_probability():
    c = model.Calibrated(model.Linear(("a",), np.array([1.0]), 0.0, np.zeros(1)), 2.0, -1.0)
    assert c.probability(np.array([0.5])) == pytest.approx(0.5)
    assert c.probability(np.array([1e9])) == pytest.approx(1.0)


def test_the_shipped_models_load_and_match_the_features():
    m = model.load()
    assert m.ranker.names == features.SENTENCE_FEATURES
    assert m.spans.names == features.SPAN_FEATURES
    assert isinstance(m.spans, model.Hidden) and m.spans.hidden_in.shape[0] == len(m.spans.names)
    assert 0 < m.abstain_below < 1 and 0 < m.span_from < 1
    assert m.candidates >= m.read >= 1


def test_models_trained_on_other_features_are_refused_with_a_way_out(tmp_path):
    obj = json.loads(model.MODEL_PATH.read_text())
    obj["ranker"]["features"] = obj["ranker"]["features"][:-1] + ["something else"]
    path = tmp_path / "answer.json"
    path.write_text(json.dumps(obj))
    model.load.cache_clear()
    try:
        with pytest.raises(ModelError, match="retrain"):
            model.load(path)
    finally:
        model.load.cache_clear()


def test_a_missing_or_damaged_hidden_layer_is_one_clear_error(tmp_path):
    path = tmp_path / "answer.json"
    path.write_text(model.MODEL_PATH.read_text())
    with pytest.raises(ModelError, match="answer.npz.*missing"):
        model.load.__wrapped__(path)
    model.arrays_path(path).write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(ModelError, match="damaged"):
        model.load.__wrapped__(path)
    arrays = dict(np.load(model.arrays_path(model.MODEL_PATH), allow_pickle=False))
    arrays["hidden_in"] = arrays["hidden_in"][:-1]
    np.savez(model.arrays_path(path), **arrays)
    with pytest.raises(ModelError, match="damaged"):
        model.load.__wrapped__(path)


@pytest.mark.parametrize("content", ["", "{", "[]", '{"format": 1}', '{"format": 99}'])
def test_a_damaged_model_file_is_one_clear_error(tmp_path, content):
    path = tmp_path / "answer.json"
    path.write_text(content)
    with pytest.raises(ModelError):
        model.load.__wrapped__(path)


def test_the_installed_package_holds_the_models_their_notice_and_no_pickle():
    files = metadata.files("qa") or []
    names = {Path(str(f)).as_posix() for f in files}
    if not any(n.endswith("qa/answer.py") for n in names):
        pytest.skip("not an installed wheel (an editable install lists no package files)")
    assert any(n.endswith("qa/models/answer.json") for n in names)
    assert any(n.endswith("qa/models/answer.npz") for n in names)
    assert any(n.endswith("qa/models/NOTICE") for n in names)
    assert not any(n.endswith((".pkl", ".pickle")) for n in names)
