"""Train the lexical engine from ../shared/train: the sentence ranker and how sure it is.

    python -m qa.train ranker ../shared/train [--out qa/models/ranker.json]

Learns on the articles the manifest marks `train` and chooses settings on `dev`:
1. the ranker: a listwise linear model (softmax over each question's candidate sentences) on
   the train articles as written, again re-paragraphed into one- and two-sentence
   paragraphs, as news is written, so that paragraph features mean the same in either genre,
   and cut into news-sized excerpts (`data.load_excerpts`);
2. its confidence (`--fast` answers with the ranker alone): a logistic regression that says
   whether the first sentence holds the answer, learned from out-of-fold readings of the
   train questions, of the articles and of their excerpts (five folds of whole articles),
   then Platt-scaled on dev, where the threshold under which it abstains is chosen too.
The reader's side is `python -m qa.train combiner`, which reads this ranker's candidates.
Deterministic: fixed folds (crc32 of article names), sorted files, L-BFGS from zeros.
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
from qa.train.fit import fit_listwise, fit_logistic, linear, platt, reliability

# Sentences re-ranked per question: the gold sentence is among the 40 best pooled BM25 for 97%
# of dev questions (30: 96%, 60: 98%), and the ranker gains nothing beyond.
CANDIDATES = 40
FOLDS = 5
# L2 strength per model, chosen on dev (listwise losses are averaged per question).
RANKER_L2 = 1.0
CONFIDENCE_L2 = 1.0
# The share of answerable dev questions that must still get an answer; the threshold under
# which --fast abstains is the confidence that keeps this share.
ANSWERED_SHARE = 0.87


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


def lexical_of(ranker: model_mod.Linear,
               confidence: model_mod.Calibrated | None = None) -> model_mod.Lexical:
    zero = model_mod.Calibrated(model_mod.Linear(
        feat.LEXICAL_FEATURES, np.zeros(len(feat.LEXICAL_FEATURES)), 0.0,
        np.zeros(len(feat.LEXICAL_FEATURES))))
    return model_mod.Lexical(ranker, confidence or zero, CANDIDATES, 0.0, {})


@dataclass
class Outcome:
    """What the ranker made of one question."""

    top: list[int]  # sentences, best first
    row: np.ndarray  # the first sentence's LEXICAL_FEATURES
    sentence_f1: float  # of the first sentence as the answer
    right: int  # the first sentence holds a gold answer


def read_all(articles: list[Article], asked: list[Asked],
             lexical_for: dict[int, model_mod.Lexical]) -> list[Outcome]:
    """Each question read by the ranker of its article's fold (or by one for all)."""
    engines: dict[int, Engine] = {}
    out = []
    for a in asked:
        engine = engines.get(a.article)
        if engine is None:
            engine = engines[a.article] = Engine(articles[a.article].index, fast=True)
        engine._models = model_mod.Models(lexical_for[a.article], None)
        d = engine.decide(a.question, a.query, a.ids, a.rows, a.bm25)
        top = [a.ids[r] for r in d.order]
        text = articles[a.article].index.text(top[0])
        out.append(Outcome(top, d.confidence_row,
                           ev.token_f1(text, a.item.answers) if not a.item.impossible else 0.0,
                           int(top[0] in a.item.gold)))
    return out


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
    # (the articles each question was asked of, the questions) for every training reading
    pools = [(train_articles, asked), (train_articles, asked_short), (excerpts, asked_excerpts)]

    def fit_ranker(keep) -> model_mod.Linear:
        fitted = fit_listwise([(a.rows, a.labels) for arts, pool in pools for a in pool
                               if keep(arts[a.article].name)], RANKER_L2,
                              len(feat.SENTENCE_FEATURES))
        return linear(feat.SENTENCE_FEATURES, fitted)

    folds = {f: lexical_of(fit_ranker(lambda name, f=f: fold_of(name) != f))
             for f in sorted({fold_of(a.name) for a in train_articles})}
    # The confidence learns from the articles as written and from the excerpts: short texts,
    # where few sentences share the question's words, and questions they do not answer.
    oof = [o for arts, pool in (pools[0], pools[2])
           for o in read_all(arts, pool, {k: folds[fold_of(a.name)] for k, a in enumerate(arts)})]
    log(f"out-of-fold readings ({time.perf_counter() - t0:.0f} s)")
    ranker = fit_ranker(lambda name: True)
    rows = np.vstack([o.row for o in oof])
    fitted = fit_logistic(rows, np.array([o.right for o in oof], float), CONFIDENCE_L2)
    confidence = model_mod.Calibrated(linear(feat.LEXICAL_FEATURES, fitted))
    final = lexical_of(ranker, confidence)
    dev = read_all(dev_articles, asked_dev, {k: final for k in range(len(dev_articles))})
    dev_rows = np.vstack([o.row for o in dev])
    scale, shift = platt(confidence.linear.score(dev_rows), np.array([o.right for o in dev], float))
    confidence = replace(confidence, scale=scale, shift=shift)
    p = np.array([confidence.probability(o.row) for o in dev])
    answerable = np.array([not a.item.impossible for a in asked_dev])
    abstain_below = float(np.quantile(p[answerable], 1 - ANSWERED_SHARE))
    log(f"dev readings and calibration ({time.perf_counter() - t0:.0f} s)")

    report = dev_report(asked_dev, dev, p, abstain_below)
    obj = {
        "format": model_mod.FORMAT, "candidates": CANDIDATES,
        "abstain_below": model_mod.round_number(abstain_below),
        "ranker": model_mod.linear_json(feat.SENTENCE_FEATURES, ranker.weights, ranker.bias,
                                        ranker.mean),
        "confidence": model_mod.linear_json(
            feat.LEXICAL_FEATURES, confidence.linear.weights, confidence.linear.bias,
            confidence.linear.mean, scale=scale, shift=shift),
        "info": {"data": data_hash(folder), "licence": "CC BY-SA 4.0 (SQuAD); see NOTICE",
                 "train_articles": len(train_articles), "dev_articles": len(dev_articles),
                 "train_questions": len(asked), "dev": report},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(obj, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    log(f"wrote {out} ({out.stat().st_size / 1024:.0f} KB) in {time.perf_counter() - t0:.0f} s")
    return report


def data_hash(folder: Path) -> str:
    h = hashlib.sha256()
    for row in manifest(folder):
        for suffix in (".txt", ".questions.json"):
            h.update((folder / (row["file"] + suffix)).read_bytes())
    return h.hexdigest()


def dev_report(asked: list[Asked], outcomes: list[Outcome], p: np.ndarray,
               abstain_below: float) -> dict:
    """The dev figures: ranking against BM25, the sentence as the answer, abstention,
    calibration."""
    answerable = np.array([not a.item.impossible for a in asked])
    n = int(answerable.sum())
    top1 = sum(o.top[0] in a.item.gold for a, o in zip(asked, outcomes) if not a.item.impossible)
    top3 = sum(bool(set(o.top[:3]) & a.item.gold) for a, o in zip(asked, outcomes)
               if not a.item.impossible)
    bm25_top1 = sum(a.ids[int(np.argmax(a.bm25))] in a.item.gold
                    for a in asked if not a.item.impossible)
    answered = p >= abstain_below
    return {
        "answerable": n, "unanswerable": int((~answerable).sum()),
        "top1": round(top1 / n, 4), "top3": round(top3 / n, 4),
        "bm25_top1": round(bm25_top1 / n, 4),
        "f1": round(float(np.mean([o.sentence_f1 if ans else 0.0 for o, ans, a in
                                   zip(outcomes, answered, answerable) if a])), 4),
        "answered": round(float(answered[answerable].mean()), 4),
        "abstained": round(float((~answered[~answerable]).mean()), 4)
        if (~answerable).any() else None,
        "abstain_below": round(abstain_below, 4),
        "reliability": reliability(p, np.array([o.right for o in outcomes])),
    }


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m qa.train ranker",
                                description="Train the sentence ranker and its confidence.")
    p.add_argument("folder", type=Path, help="the SQuAD-style articles (../shared/train)")
    p.add_argument("--out", type=Path, default=model_mod.RANKER_PATH)
    args = p.parse_args(argv)
    report = train(args.folder, args.out, log=lambda m: print(m, file=sys.stderr))
    print(json.dumps(report, indent=1))
    return 0
