"""Learned weights: load them, score feature rows, calibrate probabilities; nothing else.

Two files, each made by one training command and each a JSON object with, per model, its
feature names, the mean of each feature on its training data, the weights and the bias, so
that a score is a dot product and each feature's share of it can be shown by name:
- ranker.json (`python -m qa.train ranker`): the lexical engine: the sentence ranker, and how
  sure it is of its first sentence (the whole of `--fast`);
- combiner.json (`python -m qa.train combiner`): how the ranker's and the reader's evidence
  are weighed to pick the sentence, and how sure the answer is, with the thresholds chosen on
  dev.
The reader's own weights are qa/models/reader.npz (qa.reader).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from qa.errors import ModelError

MODELS = Path(__file__).resolve().parent / "models"
RANKER_PATH = MODELS / "ranker.json"
COMBINER_PATH = MODELS / "combiner.json"
FORMAT = 2


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
    def from_json(cls, obj: dict, names: tuple[str, ...], command: str) -> Linear:
        saved = tuple(obj["features"])
        if saved != tuple(names):
            missing = sorted(set(names) ^ set(saved))[:3]
            raise ModelError(f"a model was trained on other features ({', '.join(missing)}…): "
                             f"retrain it with python -m qa.train {command} ../shared/train")
        weights = np.array(obj["weights"], dtype=np.float64)
        mean = np.array(obj["mean"], dtype=np.float64)
        if weights.shape != (len(names),) or mean.shape != (len(names),) \
                or not np.all(np.isfinite(weights)) or not math.isfinite(float(obj["bias"])):
            raise ValueError("weights")
        return cls(saved, weights, float(obj["bias"]), mean)


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
    def from_json(cls, obj: dict, names: tuple[str, ...], command: str) -> Calibrated:
        return cls(Linear.from_json(obj, names, command), float(obj.get("scale", 1.0)),
                   float(obj.get("shift", 0.0)))


@dataclass(frozen=True)
class Lexical:
    """The lexical engine: BM25 candidates re-ranked, and how sure it is of the first."""

    ranker: Linear
    confidence: Calibrated  # P(the first sentence holds the answer), ranker alone
    candidates: int  # sentences re-ranked per question
    abstain_below: float  # that confidence under this: no answer (--fast)
    info: dict


@dataclass(frozen=True)
class Combiner:
    """The ranker and the reader weighed together, and how sure the answer is."""

    sentences: Linear  # scores each candidate from COMBINER_FEATURES (a softmax over them)
    answer_confidence: Calibrated  # P(the short answer is right)
    sentence_confidence: Calibrated  # P(the answer's sentence holds the answer)
    windows: int  # windows the reader reads per question
    window_pieces: int  # word pieces of text per window
    abstain_below: float  # sentence confidence under this: no answer
    span_from: float  # answer confidence from this: the span, else the sentence
    info: dict


@dataclass(frozen=True)
class Models:
    lexical: Lexical
    combiner: Combiner | None  # None: the lexical engine alone (--fast)


def parse_lexical(obj: object) -> Lexical:
    from qa import features

    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise ValueError("format")
    return Lexical(
        ranker=Linear.from_json(obj["ranker"], features.SENTENCE_FEATURES, "ranker"),
        confidence=Calibrated.from_json(obj["confidence"], features.LEXICAL_FEATURES, "ranker"),
        candidates=int(obj["candidates"]), abstain_below=float(obj["abstain_below"]),
        info=obj.get("info", {}))


def parse_combiner(obj: object) -> Combiner:
    from qa import features

    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise ValueError("format")
    return Combiner(
        sentences=Linear.from_json(obj["sentences"], features.COMBINER_FEATURES, "combiner"),
        answer_confidence=Calibrated.from_json(obj["answer_confidence"],
                                               features.CONFIDENCE_FEATURES, "combiner"),
        sentence_confidence=Calibrated.from_json(obj["sentence_confidence"],
                                                 features.CONFIDENCE_FEATURES, "combiner"),
        windows=int(obj["windows"]), window_pieces=int(obj["window_pieces"]),
        abstain_below=float(obj["abstain_below"]), span_from=float(obj["span_from"]),
        info=obj.get("info", {}))


def _read(path: Path, parse, what: str):
    try:
        return parse(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise ModelError(f"{path}: {what} is missing: reinstall qa") from None
    except ModelError:
        raise
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise ModelError(f"{path}: {what} is damaged ({type(e).__name__}): reinstall qa"
                         ) from None


@lru_cache(maxsize=2)
def load(fast: bool = False, ranker: Path = RANKER_PATH,
         combiner: Path = COMBINER_PATH) -> Models:
    """The shipped models (read once per process); `fast`: the lexical engine's alone."""
    lexical = _read(ranker, parse_lexical, "the ranker model")
    return Models(lexical, None if fast else _read(combiner, parse_combiner,
                                                   "the combiner model"))


def linear_json(names: tuple[str, ...], weights: np.ndarray, bias: float, mean: np.ndarray,
                **extra: float) -> dict:
    """A model as the JSON `Linear.from_json` reads; numbers rounded so the file is stable."""
    return {"features": list(names), "weights": [round_number(w) for w in weights],
            "bias": round_number(bias), "mean": [round_number(m) for m in mean],
            **{k: round_number(v) for k, v in extra.items()}}


def round_number(x: float) -> float:
    return float(f"{float(x):.6g}")
