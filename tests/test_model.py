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


def test_calibration_maps_a_score_to_a_probability():
    c = model.Calibrated(model.Linear(("a",), np.array([1.0]), 0.0, np.zeros(1)), 2.0, -1.0)
    assert c.probability(np.array([0.5])) == pytest.approx(0.5)
    assert c.probability(np.array([1e9])) == pytest.approx(1.0)


def test_the_shipped_models_load_and_match_the_features():
    m = model.load()
    assert m.lexical.ranker.names == features.SENTENCE_FEATURES
    assert m.lexical.confidence.linear.names == features.LEXICAL_FEATURES
    assert m.combiner.sentences.names == features.COMBINER_FEATURES
    assert m.combiner.answer_confidence.linear.names == features.CONFIDENCE_FEATURES
    assert 0 < m.combiner.abstain_below < 1 and 0 < m.combiner.span_from < 1
    assert 0 < m.lexical.abstain_below < 1
    assert m.lexical.candidates >= m.combiner.windows >= 1
    assert model.load(fast=True).combiner is None


def test_the_shipped_combiner_is_what_its_command_makes_by_default():
    # The engine reads the windows the combiner learned on; the documented command must make
    # the shipped ones (it once made 128-piece windows where 96 were shipped).
    from qa.train import combiner as train_combiner

    m = model.load()
    assert (m.combiner.windows, m.combiner.window_pieces) == (train_combiner.WINDOWS,
                                                              train_combiner.WINDOW_PIECES)


def test_models_trained_on_other_features_are_refused_with_a_way_out(tmp_path):
    obj = json.loads(model.RANKER_PATH.read_text())
    obj["ranker"]["features"] = obj["ranker"]["features"][:-1] + ["something else"]
    path = tmp_path / "ranker.json"
    path.write_text(json.dumps(obj))
    with pytest.raises(ModelError, match="retrain it with python -m qa.train ranker"):
        model.load.__wrapped__(True, path)


@pytest.mark.parametrize("content", ["", "{", "[]", '{"format": 1}', '{"format": 99}',
                                     '{"format": 2}'])
@pytest.mark.parametrize("which", ["ranker", "combiner"])
def test_a_damaged_model_file_is_one_clear_error(tmp_path, content, which):
    path = tmp_path / f"{which}.json"
    path.write_text(content)
    paths = {"ranker": model.RANKER_PATH, "combiner": model.COMBINER_PATH, which: path}
    with pytest.raises(ModelError, match=f"{which}.json: the {which} model is damaged"):
        model.load.__wrapped__(False, paths["ranker"], paths["combiner"])


def test_a_missing_model_file_is_one_clear_error(tmp_path):
    with pytest.raises(ModelError, match="combiner.json: the combiner model is missing"):
        model.load.__wrapped__(False, model.RANKER_PATH, tmp_path / "combiner.json")


def test_weights_that_are_not_finite_are_refused(tmp_path):
    obj = json.loads(model.COMBINER_PATH.read_text())
    obj["sentences"]["weights"][0] = float("nan")
    path = tmp_path / "combiner.json"
    path.write_text(json.dumps(obj))
    with pytest.raises(ModelError, match="damaged"):
        model.load.__wrapped__(False, model.RANKER_PATH, path)


def test_the_installed_package_holds_the_models_their_notice_and_no_pickle():
    files = metadata.files("qa") or []
    names = {Path(str(f)).as_posix() for f in files}
    if not any(n.endswith("qa/answer.py") for n in names):
        pytest.skip("not an installed wheel (an editable install lists no package files)")
    for shipped in ("ranker.json", "combiner.json", "reader.npz", "reader-vocab.txt",
                    "reader-fixture.npz", "punkt.json", "tagger.npz", "NOTICE"):
        assert any(n.endswith(f"qa/models/{shipped}") for n in names), shipped
    assert not any(n.endswith((".pkl", ".pickle")) for n in names)
