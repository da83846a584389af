"""Train the answer step from ../shared/train: sentence ranker, span scorer, confidence.

    python -m qa.train answer ../shared/train [--out qa/models/answer.json]

Learns on the articles the manifest marks `train` and chooses settings on `dev`:
1. the ranker: a listwise linear model (softmax over each question's candidate sentences) on
   the train articles as written, again re-paragraphed into one- and two-sentence
   paragraphs, as news is written, so that paragraph features mean the same in either genre,
   and cut into news-sized excerpts (`data.load_excerpts`);
2. the span scorer: the same loss, over the spans of the sentences that hold the answer, for a
   linear model with a layer of hidden units beside it (`fit_hidden`);
3. the confidence models: logistic regressions that say whether the short answer is right and
   whether the first sentence holds the answer, learned from out-of-fold readings of the train
   questions, of the articles and of their excerpts (five folds of whole articles), then Platt-scaled on dev, where the two thresholds
   (no answer; the sentence instead of a span) are chosen too.
Deterministic: fixed folds (crc32 of article names), sorted files, L-BFGS from zeros, Adam from
a fixed seed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
import zlib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from qa import eval as ev
from qa import features as feat
from qa import model as model_mod
from qa import question as qmod
from qa.answer import Engine
from qa.train.data import Article, Item, load_excerpts, load_split, manifest

# Sentences re-ranked per question: the gold sentence is among the 40 best pooled BM25 for 97%
# of dev questions (30: 96%, 60: 98%), and the ranker gains nothing beyond.
CANDIDATES = 40
# Sentences whose spans are scored: the answer's sentence is in the ranker's first 3 for 88% of
# dev questions.
READ = 3
FOLDS = 5
# L2 strength per model, chosen on dev (listwise losses are averaged per question).
RANKER_L2 = 1.0
CONFIDENCE_L2 = 1.0
# The span scorer: a linear model with a layer of 64 hidden units beside it, trained by Adam
# (16 passes over the questions, 256 at a time, in an order fixed by the seed). Given the
# sentence that holds the answer, it finds the exact span for 44.3% of dev questions against the
# linear model's 42.3% (token F1 0.571 against 0.551); 128 units gained nothing more, and a
# hidden layer in the ranker gained nothing (dev top-1 0.750 against 0.747).
SPAN_UNITS = 64
SPAN_EPOCHS = 16
SPAN_L2 = 0.01
SPAN_STEP = 0.002
SPAN_BATCH = 256
SEED = 0
# The share of answerable dev questions that must still get an answer; the threshold under
# which qa abstains is the sentence confidence that keeps this share (the floor is 0.85).
ANSWERED_SHARE = 0.87
# A span is stated only where, on dev, the spans stated are right more often than wrong (an
# answer to an unanswerable question counting as wrong); below the lowest such confidence on
# this grid the sentence is the answer, with the span highlighted in it.
SPAN_FROM_GRID = tuple(round(0.05 * n, 2) for n in range(1, 17))
STATED_RIGHT = 0.5
# An answer is right for the confidence models when its token F1 reaches this.
RIGHT_F1 = 0.5


@dataclass
class Asked:
    """One question's candidates, features and labels."""

    article: int
    item: Item
    question: qmod.Question
    query: feat.Query
    ids: list[int]
    rows: np.ndarray
    bm25: np.ndarray
    labels: np.ndarray  # 1 where the candidate holds a gold answer


def gather(articles: list[Article], n: int = CANDIDATES) -> list[Asked]:
    out = []
    for k, a in enumerate(articles):
        engine = Engine(a.index, models=None)
        for item in a.items:
            q = engine.analyze(item.question)
            search, _ = engine.speller.search_terms(q.terms, q.tokens)
            found = engine.candidates(q, search, None, n)
            if found is None:
                continue
            query, ids, rows, bm25 = found
            labels = np.array([i in item.gold for i in ids], dtype=np.float64)
            out.append(Asked(k, item, q, query, ids, rows.astype(np.float32), bm25, labels))
    return out


# ---- fitting --------------------------------------------------------------------------------

def fit_listwise(groups: list, l2: float, width: int) -> tuple[np.ndarray, float, np.ndarray]:
    """Weights (in raw feature units), bias and feature means of a linear scorer trained with
    a softmax over each group of rows: -log of the probability the group's positives get.

    Rows are sparse (the crossed features are mostly zero); features are scaled, not centred,
    as a softmax does not see a shift that every row of a group shares.
    """
    from scipy import sparse
    from scipy.optimize import minimize

    groups = [(x, y) for x, y in groups if y.any() and len(y) > 1]
    if not groups:  # nothing to learn from (a fold of a tiny data set): a model of zeros
        return np.zeros(width), 0.0, np.zeros(width)
    X = sparse.vstack([sparse.csr_matrix(x) for x, _ in groups], format="csr", dtype=np.float64)
    y = np.concatenate([y for _, y in groups]).astype(np.float64)
    seg = np.repeat(np.arange(len(groups)), [len(g[1]) for g in groups])
    n_groups = len(groups)
    mean = np.asarray(X.mean(axis=0)).ravel()
    sd = np.sqrt(np.maximum(np.asarray(X.multiply(X).mean(axis=0)).ravel() - mean ** 2, 0.0))
    sd[sd == 0] = 1.0
    Z = (X @ sparse.diags(1.0 / sd)).tocsr()
    ZT = Z.T.tocsr()

    def loss(w):
        s = Z @ w
        top = np.full(n_groups, -np.inf)
        np.maximum.at(top, seg, s)
        e = np.exp(s - top[seg])
        total = np.bincount(seg, e, n_groups)
        pos = np.bincount(seg, e * y, n_groups)
        value = -(np.log(pos) - np.log(total)).mean() + l2 * (w @ w) / 2 / n_groups
        grad = ZT @ (e / total[seg] - e * y / pos[seg]) / n_groups + l2 * w / n_groups
        return value, grad

    w = minimize(loss, np.zeros(X.shape[1]), jac=True, method="L-BFGS-B",
                 options={"maxiter": 1000}).x
    return w / sd, float(-(mean / sd) @ w), mean


def fit_hidden(groups: list, l2: float, width: int, units: int = SPAN_UNITS,
               epochs: int = SPAN_EPOCHS) -> dict[str, np.ndarray]:
    """A listwise scorer with one hidden layer (see model.Hidden), by Adam on the same loss as
    fit_listwise; features scaled as there. Weights are returned in raw feature units and
    rounded to float32, as they are shipped."""
    from scipy import sparse

    groups = [(x, y) for x, y in groups if y.any() and len(y) > 1]
    rng = np.random.default_rng(SEED)
    out = {"hidden_in": np.zeros((width, units)), "hidden_bias": np.zeros(units),
           "hidden_out": np.zeros(units), "weights": np.zeros(width), "mean": np.zeros(width)}
    if not groups:
        return out
    X = sparse.vstack([sparse.csr_matrix(x) for x, _ in groups], format="csr", dtype=np.float64)
    y_all = np.concatenate([y for _, y in groups]).astype(np.float64)
    starts = np.cumsum([0] + [len(y) for _, y in groups])
    mean = np.asarray(X.mean(axis=0)).ravel()
    sd = np.sqrt(np.maximum(np.asarray(X.multiply(X).mean(axis=0)).ravel() - mean ** 2, 0.0))
    sd[sd == 0] = 1.0
    Z = (X @ sparse.diags(1.0 / sd)).tocsr()
    p = {"hidden_in": rng.normal(0.0, 0.125, (width, units)), "hidden_bias": np.zeros(units),
         "hidden_out": rng.normal(0.0, units ** -0.5, units), "weights": np.zeros(width)}
    m1 = {k: np.zeros_like(v) for k, v in p.items()}
    m2 = {k: np.zeros_like(v) for k, v in p.items()}
    step = 0
    for _ in range(epochs):
        order = rng.permutation(len(groups))
        for at in range(0, len(order), SPAN_BATCH):
            batch = order[at:at + SPAN_BATCH]
            rows = np.concatenate([np.arange(starts[g], starts[g + 1]) for g in batch])
            seg = np.repeat(np.arange(len(batch)), starts[batch + 1] - starts[batch])
            Zb, y, n = Z[rows], y_all[rows], len(batch)
            pre = Zb @ p["hidden_in"] + p["hidden_bias"]
            hid = np.maximum(pre, 0.0)
            s = hid @ p["hidden_out"] + Zb @ p["weights"]
            top = np.full(n, -np.inf)
            np.maximum.at(top, seg, s)
            e = np.exp(s - top[seg])
            total, pos = np.bincount(seg, e, n), np.bincount(seg, e * y, n)
            ds = (e / total[seg] - e * y / pos[seg]) / n
            dpre = np.outer(ds, p["hidden_out"]) * (pre > 0)
            grads = {"hidden_in": Zb.T @ dpre + l2 * p["hidden_in"],
                     "hidden_bias": dpre.sum(axis=0), "hidden_out": hid.T @ ds,
                     "weights": Zb.T @ ds + l2 * p["weights"]}
            step += 1
            for k, g in grads.items():
                m1[k] = 0.9 * m1[k] + 0.1 * g
                m2[k] = 0.999 * m2[k] + 0.001 * g * g
                p[k] -= SPAN_STEP * (m1[k] / (1 - 0.9 ** step)) / (
                    np.sqrt(m2[k] / (1 - 0.999 ** step)) + 1e-8)
    raw = {"hidden_in": p["hidden_in"] / sd[:, None], "hidden_bias": p["hidden_bias"],
           "hidden_out": p["hidden_out"]}
    out = {k: v.astype(np.float32).astype(np.float64) for k, v in raw.items()}
    return dict(out, weights=p["weights"] / sd, mean=mean)


def hidden(names, fitted: dict[str, np.ndarray]) -> model_mod.Hidden:
    return model_mod.Hidden(tuple(names), fitted["hidden_in"], fitted["hidden_bias"],
                            fitted["hidden_out"], fitted["weights"], 0.0, fitted["mean"])


def fit_logistic(X: np.ndarray, y: np.ndarray, l2: float) -> tuple[np.ndarray, float, np.ndarray]:
    from scipy.optimize import minimize

    mean, sd = X.mean(0), X.std(0)
    sd[sd == 0] = 1.0
    Z = np.hstack([(X - mean) / sd, np.ones((len(X), 1))])

    def loss(w):
        z = Z @ w
        p = 1 / (1 + np.exp(-z))
        reg = w.copy()
        reg[-1] = 0.0
        value = np.logaddexp(0, -z)[y == 1].sum() + np.logaddexp(0, z)[y == 0].sum()
        return (value + l2 * (reg @ reg) / 2) / len(y), (Z.T @ (p - y) + l2 * reg) / len(y)

    w = minimize(loss, np.zeros(Z.shape[1]), jac=True, method="L-BFGS-B",
                 options={"maxiter": 1000}).x
    return w[:-1] / sd, float(w[-1] - (mean / sd) @ w[:-1]), mean


def platt(scores: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(scale, shift) so that sigmoid(scale * score + shift) fits y (log loss)."""
    from scipy.optimize import minimize

    def loss(ab):
        z = ab[0] * scores + ab[1]
        p = 1 / (1 + np.exp(-z))
        value = (np.logaddexp(0, -z)[y == 1].sum() + np.logaddexp(0, z)[y == 0].sum()) / len(y)
        return value, np.array([((p - y) * scores).mean(), (p - y).mean()])

    a, b = minimize(loss, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B").x
    return float(a), float(b)


def linear(names, fitted) -> model_mod.Linear:
    w, b, mean = fitted
    return model_mod.Linear(tuple(names), w, b, mean)


def _zero(names) -> model_mod.Calibrated:
    return model_mod.Calibrated(model_mod.Linear(tuple(names), np.zeros(len(names)), 0.0,
                                                 np.zeros(len(names))))


def models_of(ranker: model_mod.Linear, spans: model_mod.Linear | model_mod.Hidden,
              answer_conf: model_mod.Calibrated | None = None,
              sentence_conf: model_mod.Calibrated | None = None) -> model_mod.Models:
    zero = _zero(feat.CONFIDENCE_FEATURES)
    return model_mod.Models(ranker, spans, answer_conf or zero, sentence_conf or zero,
                            CANDIDATES, READ, 0.0, 0.0, {})


# ---- spans ----------------------------------------------------------------------------------

def span_groups(articles: list[Article], asked: list[Asked]) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """(article, features, exact-match labels) for the spans of up to two gold sentences of
    every answerable question."""
    from scipy import sparse

    out = []
    engines: dict[int, Engine] = {}
    for a in asked:
        if a.item.impossible:
            continue
        index = articles[a.article].index
        engine = engines.get(a.article) or engines.setdefault(a.article,
                                                               Engine(index, models=None))
        gold = [i for i in a.ids if i in a.item.gold][:2]
        for i in gold:
            text = index.text(i)
            spans = engine.spans_for(a.question, a.query, i)
            if not spans:
                continue
            z = sparse.csr_matrix(feat.span_features(a.query, text, spans).dense()
                                  .astype(np.float32))
            y = np.array([ev.exact_match(text[s.start:s.end], a.item.answers) for s in spans])
            out.append((a.article, z, y))
    return out


# ---- reading with given models ----------------------------------------------------------------

@dataclass
class Outcome:
    """What the models made of one question."""

    top: list[int]  # sentences in answer order (the answer's sentence first)
    span_text: str | None
    span_f1: float
    sentence_f1: float
    row: np.ndarray
    right: int  # the short answer is right (F1 >= RIGHT_F1)
    sentence_right: int  # the answer's sentence holds a gold answer


def read_all(articles: list[Article], asked: list[Asked],
             models_for: dict[int, model_mod.Models]) -> list[Outcome]:
    """Each question read by the models of its article's fold (or by one set for all)."""
    engines: dict[int, Engine] = {}
    out = []
    for a in asked:
        models = models_for[a.article]
        engine = engines.get(a.article)
        if engine is None:
            engine = engines[a.article] = Engine(articles[a.article].index, models)
        engine._models = models
        reading = engine.reading_of(a.question, a.query, a.ids, a.rows, a.bm25)
        r, k = reading.best if reading.best else (reading.order[0], -1)
        index = articles[a.article].index
        text = index.text(a.ids[r])
        span_text = None
        if k >= 0:
            spans = next(s for rr, s, _, _ in reading.read if rr == r)
            span_text = " and ".join(text[x:y] for x, y in engine._coordinated(reading, text,
                                                                                spans, k))
        golds = a.item.answers
        f1 = ev.token_f1(span_text or text, golds) if not a.item.impossible else 0.0
        top = [a.ids[r]] + [a.ids[x] for x in reading.order if x != r]
        out.append(Outcome(top, span_text, f1,
                           ev.token_f1(text, golds) if not a.item.impossible else 0.0,
                           reading.confidence_row,
                           int(not a.item.impossible and f1 >= RIGHT_F1),
                           int(a.ids[r] in a.item.gold)))
    return out


# ---- the run --------------------------------------------------------------------------------

def fold_of(name: str) -> int:
    return zlib.crc32(name.encode("utf-8")) % FOLDS


def train(folder: Path, out: Path, log=print) -> dict:
    t0 = time.perf_counter()
    train_articles = load_split(folder, "train")
    short_articles = load_split(folder, "train", paragraphs="short")
    dev_articles = load_split(folder, "dev")
    log(f"read {len(train_articles)} train and {len(dev_articles)} dev articles "
        f"({time.perf_counter() - t0:.0f} s)")
    excerpts = load_excerpts(folder, "train")
    asked = gather(train_articles)
    asked_short = gather(short_articles)
    asked_excerpts = gather(excerpts)
    asked_dev = gather(dev_articles)
    log(f"sentence features: {len(asked)} + {len(asked_short)} + {len(asked_excerpts)} train, "
        f"{len(asked_dev)} dev questions ({time.perf_counter() - t0:.0f} s)")
    # (the article each question was asked of, the question) for every training reading
    pools = [(train_articles, asked), (train_articles, asked_short), (excerpts, asked_excerpts)]
    spans = span_groups(train_articles, asked)
    log(f"span features: {len(spans)} sentences ({time.perf_counter() - t0:.0f} s)")

    def fit_models(keep) -> tuple[model_mod.Linear, model_mod.Hidden]:
        ranker = fit_listwise([(a.rows, a.labels) for arts, pool in pools for a in pool
                               if keep(arts[a.article].name)], RANKER_L2,
                              len(feat.SENTENCE_FEATURES))
        span = fit_hidden([(z, y) for k, z, y in spans if keep(train_articles[k].name)],
                          SPAN_L2, len(feat.SPAN_FEATURES))
        return linear(feat.SENTENCE_FEATURES, ranker), hidden(feat.SPAN_FEATURES, span)

    folds = {f: models_of(*fit_models(lambda name, f=f: fold_of(name) != f))
             for f in sorted({fold_of(a.name) for a in train_articles})}
    # The confidence models learn from the articles as written and from the excerpts: short
    # texts, where few sentences share the question's words, and questions they do not answer.
    oof = [o for arts, pool in (pools[0], pools[2])
           for o in read_all(arts, pool, {k: folds[fold_of(a.name)] for k, a in enumerate(arts)})]
    log(f"out-of-fold readings ({time.perf_counter() - t0:.0f} s)")
    ranker, span = fit_models(lambda name: True)
    rows = np.vstack([o.row for o in oof])
    answer_fit = fit_logistic(rows, np.array([o.right for o in oof], float), CONFIDENCE_L2)
    sentence_fit = fit_logistic(rows, np.array([o.sentence_right for o in oof], float),
                                CONFIDENCE_L2)
    answer_conf = model_mod.Calibrated(linear(feat.CONFIDENCE_FEATURES, answer_fit))
    sentence_conf = model_mod.Calibrated(linear(feat.CONFIDENCE_FEATURES, sentence_fit))
    final = models_of(ranker, span, answer_conf, sentence_conf)
    dev = read_all(dev_articles, asked_dev, {k: final for k in range(len(dev_articles))})
    dev_rows = np.vstack([o.row for o in dev])
    a_scale, a_shift = platt(answer_conf.linear.score(dev_rows), np.array([o.right for o in dev], float))
    s_scale, s_shift = platt(sentence_conf.linear.score(dev_rows),
                             np.array([o.sentence_right for o in dev], float))
    answer_conf = replace(answer_conf, scale=a_scale, shift=a_shift)
    sentence_conf = replace(sentence_conf, scale=s_scale, shift=s_shift)
    p_answer = np.array([answer_conf.probability(o.row) for o in dev])
    p_sentence = np.array([sentence_conf.probability(o.row) for o in dev])
    answerable = np.array([not a.item.impossible for a in asked_dev])
    abstain_below = float(np.quantile(p_sentence[answerable], 1 - ANSWERED_SHARE))
    span_from = choose_span_from(p_answer, p_sentence >= abstain_below,
                                 np.array([o.right for o in dev], bool))
    log(f"dev readings and calibration ({time.perf_counter() - t0:.0f} s)")

    report = dev_report(asked_dev, dev, p_answer, p_sentence, abstain_below, span_from)
    report.update(abstain_below=round(abstain_below, 4), span_from=span_from)
    obj = {
        "format": model_mod.FORMAT,
        "candidates": CANDIDATES, "read": READ,
        "abstain_below": model_mod._round(abstain_below), "span_from": span_from,
        "ranker": model_mod.linear_json(feat.SENTENCE_FEATURES, ranker.weights, ranker.bias,
                                        ranker.mean),
        "spans": dict(model_mod.linear_json(feat.SPAN_FEATURES, span.weights, span.bias,
                                            span.mean), hidden=len(span.hidden_out)),
        "answer_confidence": model_mod.linear_json(
            feat.CONFIDENCE_FEATURES, answer_conf.linear.weights, answer_conf.linear.bias,
            answer_conf.linear.mean, scale=a_scale, shift=a_shift),
        "sentence_confidence": model_mod.linear_json(
            feat.CONFIDENCE_FEATURES, sentence_conf.linear.weights, sentence_conf.linear.bias,
            sentence_conf.linear.mean, scale=s_scale, shift=s_shift),
        "info": {"data": data_hash(folder), "licence": "CC BY-SA 4.0 (SQuAD); see NOTICE",
                 "train_articles": len(train_articles), "dev_articles": len(dev_articles),
                 "train_questions": len(asked), "dev": report},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(model_mod.arrays_path(out), hidden_in=span.hidden_in.astype(np.float32),
             hidden_bias=span.hidden_bias.astype(np.float32),
             hidden_out=span.hidden_out.astype(np.float32))
    out.write_text(json.dumps(obj, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    log(f"wrote {out} ({out.stat().st_size / 1024:.0f} KB) in {time.perf_counter() - t0:.0f} s")
    return report


def data_hash(folder: Path) -> str:
    h = hashlib.sha256()
    for row in manifest(folder):
        for suffix in (".txt", ".questions.json"):
            h.update((folder / (row["file"] + suffix)).read_bytes())
    return h.hexdigest()


def dev_report(asked: list[Asked], outcomes: list[Outcome], p_answer: np.ndarray,
               p_sentence: np.ndarray, abstain_below: float, span_from: float) -> dict:
    """The dev figures: ranking against BM25, short answers, abstention, calibration."""
    answerable = np.array([not a.item.impossible for a in asked])
    n = int(answerable.sum())
    top1 = sum(o.top[0] in a.item.gold for a, o in zip(asked, outcomes) if not a.item.impossible)
    top3 = sum(bool(set(o.top[:3]) & a.item.gold) for a, o in zip(asked, outcomes)
               if not a.item.impossible)
    bm25_top1 = sum(a.ids[int(np.argmax(a.bm25))] in a.item.gold
                    for a in asked if not a.item.impossible)
    answered = p_sentence >= abstain_below
    span = answered & (p_answer >= span_from)
    f1 = [(o.span_f1 if s else o.sentence_f1) if ans else 0.0
          for o, s, ans in zip(outcomes, span, answered)]
    report = {
        "answerable": n, "unanswerable": int((~answerable).sum()),
        "top1": round(top1 / n, 4), "top3": round(top3 / n, 4),
        "bm25_top1": round(bm25_top1 / n, 4),
        "f1_best_span": round(float(np.mean([o.span_f1 for o, a in zip(outcomes, answerable) if a])), 4),
        "f1": round(float(np.mean([f for f, a in zip(f1, answerable) if a])), 4),
        "answered": round(float(answered[answerable].mean()), 4),
        "abstained": round(float((~answered[~answerable]).mean()), 4) if (~answerable).any() else None,
        "span_answers": round(float(span[answerable].mean()), 4),
        "reliability": reliability(p_answer, np.array([o.right for o in outcomes])),
        "sentence_reliability": reliability(p_sentence, np.array([o.sentence_right for o in outcomes])),
    }
    sure = p_answer >= 0.8
    report["confident_share"] = round(float(sure[answerable].mean()), 4)
    report["confident_right"] = round(float(np.mean([o.right for o, s in zip(outcomes, sure) if s])), 4) \
        if sure.any() else None
    return report


def choose_span_from(p_answer: np.ndarray, answered: np.ndarray, right: np.ndarray) -> float:
    """The lowest answer confidence on the grid from which the spans stated are right at least
    STATED_RIGHT of the time."""
    for t in SPAN_FROM_GRID:
        stated = answered & (p_answer >= t)
        if stated.any() and right[stated].mean() >= STATED_RIGHT:
            return t
    return SPAN_FROM_GRID[-1]


def reliability(p: np.ndarray, y: np.ndarray, bins: int = 10) -> list[list[float]]:
    """[low, high, questions, mean predicted, observed] per probability bin."""
    out = []
    for lo in range(bins):
        a, b = lo / bins, (lo + 1) / bins
        k = (p >= a) & ((p < b) if lo < bins - 1 else (p <= b))
        if k.any():
            out.append([a, b, int(k.sum()), round(float(p[k].mean()), 3), round(float(y[k].mean()), 3)])
    return out


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m qa.train answer",
                                description="Train the ranker, span scorer and confidence models.")
    p.add_argument("folder", type=Path, help="the SQuAD-style articles (../shared/train)")
    p.add_argument("--out", type=Path, default=model_mod.MODEL_PATH)
    args = p.parse_args(argv)
    report = train(args.folder, args.out, log=lambda m: print(m, file=sys.stderr))
    print(json.dumps(report, indent=1))
    return 0
