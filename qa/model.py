"""Learned weights: load them, score feature rows, calibrate probabilities; nothing else.

The weights are made by `python -m qa.train answer` (see qa/train/answer.py): a JSON file with,
per model, its feature names, the mean of each feature on the training data, the weights and the
bias, so that a score is a dot product and each feature's share of it can be shown by name; and
beside it an .npz of the same name with the span scorer's hidden layer (loaded without pickle).
"""

from __future__ import annotations

import json
import math
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from qa.errors import ModelError

MODEL_PATH = Path(__file__).resolve().parent / "models" / "answer.json"
FORMAT = 1


@dataclass(frozen=True)
class Linear:
    """score(x) = x . weights + bias; `mean` is where a feature contributes nothing to /why."""

    names: tuple[str, ...]
    weights: np.ndarray
    bias: float
    mean: np.ndarray

    def score(self, rows: np.ndarray) -> np.ndarray:
        return rows @ self.weights + self.bias

    def contributions(self, row: np.ndarray) -> list[tuple[str, float, float]]:
        """(feature, value, its share of the score against an average row), largest first."""
        shares = (row - self.mean) * self.weights
        order = np.argsort(-np.abs(shares), kind="stable")
        return [(self.names[k], float(row[k]), float(shares[k])) for k in order if shares[k]]

    @classmethod
    def from_json(cls, obj: dict, names: tuple[str, ...]) -> Linear:
        saved = tuple(obj["features"])
        if saved != tuple(names):
            missing = sorted(set(names) ^ set(saved))[:3]
            raise ModelError(f"the answer model was trained on other features ({', '.join(missing)}"
                             "…): retrain it with python -m qa.train answer ../shared/train")
        return cls(saved, np.array(obj["weights"], dtype=np.float64), float(obj["bias"]),
                   np.array(obj["mean"], dtype=np.float64))


@dataclass(frozen=True, eq=False)
class Hidden:
    """score(x) = relu(x . hidden_in + hidden_bias) . hidden_out + x . weights + bias: a linear
    scorer with one layer of hidden units beside it. At any one row it is a linear scorer (the
    hidden units that row switches on fixed), which is how /why shows each feature's share."""

    names: tuple[str, ...]
    hidden_in: np.ndarray  # (features, units)
    hidden_bias: np.ndarray  # (units,)
    hidden_out: np.ndarray  # (units,)
    weights: np.ndarray  # (features,)
    bias: float
    mean: np.ndarray
    # hidden_in with weights as one more column: one pass over the rows gives both
    _both: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_both", np.column_stack([self.hidden_in, self.weights]))

    def score(self, rows) -> np.ndarray:
        """Scores of rows: an array, or anything with `rows @ matrix` (features.SpanRows)."""
        both = rows @ self._both
        units = np.maximum(both[:, :-1] + self.hidden_bias, 0.0)
        return units @ self.hidden_out + both[:, -1] + self.bias

    def at(self, row: np.ndarray) -> Linear:
        """The linear scorer this one is at `row`."""
        on = (row @ self.hidden_in + self.hidden_bias) > 0
        return Linear(self.names, self.weights + self.hidden_in @ (self.hidden_out * on),
                      self.bias + float(self.hidden_bias[on] @ self.hidden_out[on]), self.mean)

    def contributions(self, row: np.ndarray) -> list[tuple[str, float, float]]:
        return self.at(row).contributions(row)

    @classmethod
    def from_json(cls, obj: dict, names: tuple[str, ...], arrays: Path) -> Hidden:
        linear = Linear.from_json(obj, names)
        with np.load(arrays, allow_pickle=False) as data:
            hidden_in = data["hidden_in"].astype(np.float64)
            hidden_bias = data["hidden_bias"].astype(np.float64)
            hidden_out = data["hidden_out"].astype(np.float64)
        if hidden_in.shape != (len(names), len(hidden_out)) or hidden_bias.shape != hidden_out.shape:
            raise ValueError("the hidden layer does not fit the features")
        return cls(linear.names, hidden_in, hidden_bias, hidden_out, linear.weights, linear.bias,
                   linear.mean)


@dataclass(frozen=True)
class Calibrated:
    """A probability: a linear score through a sigmoid, then Platt scaling fitted on dev."""

    linear: Linear
    scale: float = 1.0
    shift: float = 0.0

    def probability(self, row: np.ndarray) -> float:
        z = self.scale * float(self.linear.score(row[None, :])[0]) + self.shift
        return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))

    @classmethod
    def from_json(cls, obj: dict, names: tuple[str, ...]) -> Calibrated:
        return cls(Linear.from_json(obj, names), float(obj.get("scale", 1.0)),
                   float(obj.get("shift", 0.0)))


@dataclass(frozen=True)
class Models:
    """Every learned part of the answer step, and the thresholds chosen on dev."""

    ranker: Linear
    spans: Linear | Hidden
    answer_confidence: Calibrated  # P(the short answer is right)
    sentence_confidence: Calibrated  # P(the first sentence holds the answer)
    candidates: int  # sentences re-ranked per question
    read: int  # sentences whose spans are scored
    abstain_below: float  # sentence confidence under this: no answer
    span_from: float  # answer confidence from this: the span, else the sentence
    info: dict


def parse(obj: object, path: Path = MODEL_PATH) -> Models:
    from qa import features

    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise ModelError("the answer model is from another version of qa: reinstall qa")
    spans = obj["spans"]
    return Models(
        ranker=Linear.from_json(obj["ranker"], features.SENTENCE_FEATURES),
        spans=Hidden.from_json(spans, features.SPAN_FEATURES, arrays_path(path))
        if spans.get("hidden") else Linear.from_json(spans, features.SPAN_FEATURES),
        answer_confidence=Calibrated.from_json(obj["answer_confidence"],
                                               features.CONFIDENCE_FEATURES),
        sentence_confidence=Calibrated.from_json(obj["sentence_confidence"],
                                                 features.CONFIDENCE_FEATURES),
        candidates=int(obj["candidates"]), read=int(obj["read"]),
        abstain_below=float(obj["abstain_below"]), span_from=float(obj["span_from"]),
        info=obj.get("info", {}))


@lru_cache(maxsize=1)
def load(path: Path = MODEL_PATH) -> Models:
    """The shipped models (read once per process)."""
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
        return parse(obj, path)
    except FileNotFoundError as e:
        raise ModelError(f"{e.filename or path}: the answer model is missing: reinstall qa"
                         ) from None
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as e:
        raise ModelError(f"{path}: the answer model is damaged ({type(e).__name__}): "
                         "reinstall qa") from None


def arrays_path(path: Path) -> Path:
    """Where the arrays of the model at `path` are kept: answer.json -> answer.npz."""
    return path.with_suffix(".npz")


def linear_json(names: tuple[str, ...], weights: np.ndarray, bias: float, mean: np.ndarray,
                **extra: float) -> dict:
    """A model as the JSON `Linear.from_json` reads; numbers rounded so the file is stable."""
    return {"features": list(names), "weights": [_round(w) for w in weights],
            "bias": _round(bias), "mean": [_round(m) for m in mean],
            **{k: _round(v) for k, v in extra.items()}}


def _round(x: float) -> float:
    return float(f"{float(x):.6g}")
