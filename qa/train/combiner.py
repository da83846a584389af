"""Weigh the ranker and the reader together, and say how sure the answer is.

    python -m qa.train combiner ../shared/train [--out qa/models/combiner.json] [--sweep]

Reads the dev questions (the articles as written, and cut into news-sized excerpts) with the
shipped ranker (ranker.json) and reader (reader.npz), then learns on them:
1. the combiner: a listwise linear model over each question's candidates that weighs the
   ranker's log-probability against the reader's evidence (qa.features.COMBINER_FEATURES);
   the sentence it puts first is the answer's;
2. the confidence models: logistic regressions that say whether the short answer is right
   (token F1 >= 0.5) and whether the answer's sentence holds the answer;
3. the thresholds: no answer under the sentence confidence that keeps ANSWERED_SHARE of the
   answerable questions answered; the span stated from the lowest answer confidence at which
   the spans stated are right at least half the time.
The reader learned on the train split, so its readings there are not what it does on text it
has not seen: these few weights (6 and 2 x 41) learn on dev. The figures reported are
cross-fitted (FOLDS folds of whole articles: each question read by models fitted without its
article); *Normans* is never read here. `--sweep` first compares windows and window sizes on a
sample of dev and prints the table the settings below were chosen from.
"""

from __future__ import annotations

import argparse
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
from qa import reader as rd
from qa.answer import Decision, Engine
from qa.train.data import Article, Item, load_excerpts, load_split
from qa.train.fit import fit_listwise, fit_logistic, linear, reliability
from qa.train.ranker import data_hash

# Windows read per question and word pieces of text in each, chosen on dev with --sweep (the
# README gives the table): more windows find more answers and cost time in proportion.
WINDOWS = 2
# Word pieces of text per window that `qa` reads (README, "Windows read": 128 read level with
# 96 on a dev sample, at 1.7 times the reader's time). The combiner learns on readings of this
# size and records it, and the engine reads what it records.
WINDOW_PIECES = 96
FOLDS = 5
COMBINER_L2 = 1.0
CONFIDENCE_L2 = 1.0
# The share of answerable dev questions that must still get an answer (the floor is
# 0.85): the sentence confidence that keeps this share is the threshold for no answer.
ANSWERED_SHARE = 0.87
# A span is stated only where, on dev, the spans stated are right more often than wrong (an
# answer to an unanswerable question counting as wrong).
SPAN_FROM_GRID = tuple(round(0.05 * n, 2) for n in range(1, 17))
STATED_RIGHT = 0.5
# An answer is right for the confidence models when its token F1 reaches this.
RIGHT_F1 = 0.5
SWEEP_QUESTIONS = 400  # per genre
SWEEP_BUDGETS = (96, 128, 160)
SWEEP_WINDOWS = (1, 2, 3)


@dataclass
class Read:
    """One dev question read: the candidates, the ranker's and the reader's evidence."""

    genre: str
    article: str
    engine: Engine
    item: Item
    d: Decision | None  # None: no sentence holds a word of the question
    labels: np.ndarray
    seconds: float = 0.0


def read_questions(articles: list[Article], genre: str, windows: int, budget: int,
                   lexical: model_mod.Lexical, keep=None, log=print) -> list[Read]:
    out = []
    started = time.perf_counter()
    logged = 0
    for a in articles:
        engine = Engine(a.index, model_mod.Models(lexical, None))
        for item in a.items:
            if keep is not None and not keep(item):
                continue
            q = engine.analyze(item.question)
            search, _ = engine.speller.search_terms(q.terms, q.tokens)
            found = engine.candidates(q, search, None, lexical.candidates)
            if found is None:
                out.append(Read(genre, a.name, engine, item, None, np.zeros(0)))
                continue
            query, ids, rows, bm25 = found
            logits = lexical.ranker.score(rows)
            ranked = sorted(range(len(ids)), key=lambda k: (-logits[k], ids[k]))
            t0 = time.perf_counter()
            reading = engine.reader.read(q.text, [ids[k] for k in ranked], windows, budget)
            seconds = time.perf_counter() - t0
            d = Decision(q, query, ids, rows, logits, bm25, reading=reading)
            out.append(Read(genre, a.name, engine, item, d,
                            np.array([i in item.gold for i in ids], dtype=np.float64), seconds))
        if log and (len(out) >= logged + 500 or a is articles[-1]):
            logged = len(out)
            log(f"  {genre}: {len(out)} questions read ({time.perf_counter() - started:.0f} s)")
    return out


def truncated(reading: rd.Reading, windows: int) -> rd.Reading:
    """The reading of only the first `windows` windows (the same windows, read first)."""
    return rd.Reading(reading.windows[:windows], reading.centres[:windows],
                      reading.nulls[:windows],
                      tuple(sp for sp in reading.spans if sp.window < windows), reading.pieces)


def _zero() -> model_mod.Calibrated:
    n = len(feat.CONFIDENCE_FEATURES)
    return model_mod.Calibrated(model_mod.Linear(feat.CONFIDENCE_FEATURES, np.zeros(n), 0.0,
                                                 np.zeros(n)))


@dataclass
class Outcome:
    """What a combiner made of one question: its sentence and span, their confidences, and
    what each would score."""

    sentence_right: int
    span_right: int
    span_f1: float
    sentence_f1: float
    p_answer: float
    p_sentence: float
    has_span: bool
    top: list[int]


def outcome(r: Read, combiner: model_mod.Combiner) -> tuple[Outcome, np.ndarray]:
    if r.d is None:
        return Outcome(0, 0, 0.0, 0.0, 0.0, 0.0, False, []), np.zeros(len(feat.CONFIDENCE_FEATURES))
    d = r.engine.weigh(r.d, combiner)
    i = d.ids[d.order[0]]
    text = r.engine.index.text(i)
    golds = r.item.answers
    possible = not r.item.impossible
    span_f1 = ev.token_f1(d.span_text, golds) if possible and d.span else 0.0
    sentence_f1 = ev.token_f1(text, golds) if possible else 0.0
    return Outcome(int(i in r.item.gold), int(span_f1 >= RIGHT_F1), span_f1, sentence_f1,
                   d.answer_confidence, d.sentence_confidence, d.span is not None,
                   [d.ids[k] for k in d.order]), d.confidence_row.copy()


def fit(reads: list[Read], windows: int, budget: int) -> model_mod.Combiner:
    """The combiner, its confidence models and thresholds, fitted on these readings."""
    groups = [(r.d.combiner_rows if r.d.combiner_rows is not None
               else feat.combiner_features(r.d.ids, r.d.logits, r.d.reading), r.labels)
              for r in reads if r.d is not None]
    sentences = linear(feat.COMBINER_FEATURES,
                       fit_listwise(groups, COMBINER_L2, len(feat.COMBINER_FEATURES)))
    combiner = model_mod.Combiner(sentences, _zero(), _zero(), windows, budget, 0.0, 0.0, {})
    outs, rows = zip(*(outcome(r, combiner) for r in reads))
    X = np.vstack(rows)
    answer = model_mod.Calibrated(linear(feat.CONFIDENCE_FEATURES, fit_logistic(
        X, np.array([o.span_right for o in outs], float), CONFIDENCE_L2)))
    sentence = model_mod.Calibrated(linear(feat.CONFIDENCE_FEATURES, fit_logistic(
        X, np.array([o.sentence_right for o in outs], float), CONFIDENCE_L2)))
    combiner = replace(combiner, answer_confidence=answer, sentence_confidence=sentence)
    outs = [outcome(r, combiner)[0] for r in reads]
    answerable = np.array([not r.item.impossible for r in reads])
    p_sentence = np.array([o.p_sentence for o in outs])
    abstain_below = float(np.quantile(p_sentence[answerable], 1 - ANSWERED_SHARE))
    span_from = choose_span_from(outs, abstain_below)
    return replace(combiner, abstain_below=abstain_below, span_from=span_from)


def choose_span_from(outs: list[Outcome], abstain_below: float) -> float:
    """The lowest answer confidence on the grid from which the spans stated are right at least
    STATED_RIGHT of the time."""
    for t in SPAN_FROM_GRID:
        stated = [o.span_right for o in outs
                  if o.p_sentence >= abstain_below and o.has_span and o.p_answer >= t]
        if stated and np.mean(stated) >= STATED_RIGHT:
            return t
    return SPAN_FROM_GRID[-1]


def fold_of(name: str) -> int:
    return zlib.crc32(name.encode("utf-8")) % FOLDS


def cross_fitted(reads: list[Read], windows: int, budget: int
                 ) -> list[tuple[Outcome, model_mod.Combiner]]:
    """Each question's outcome under the models fitted without its article's fold."""
    out: list = [None] * len(reads)
    for f in range(FOLDS):
        held = [k for k, r in enumerate(reads) if fold_of(r.article) == f]
        if not held:
            continue
        # (a run over one article, for tests, has no other fold: it fits on itself)
        combiner = fit([r for r in reads if fold_of(r.article) != f] or reads, windows, budget)
        for k in held:
            out[k] = (outcome(reads[k], combiner)[0], combiner)
    return out


def figures(reads: list[Read], results: list[tuple[Outcome, model_mod.Combiner]]) -> dict:
    """The figures `qa eval` reports, from (cross-fitted) outcomes."""
    answerable = [(r, o, c) for r, (o, c) in zip(reads, results) if not r.item.impossible]
    impossible = [(r, o, c) for r, (o, c) in zip(reads, results) if r.item.impossible]

    def given(o: Outcome, c: model_mod.Combiner) -> tuple[bool, float, float, bool]:
        """(answered, F1 of the answer given, its confidence, it is right)."""
        if o.p_sentence < c.abstain_below:
            return False, 0.0, o.p_sentence, False
        if o.has_span and o.p_answer >= c.span_from:
            return True, o.span_f1, o.p_answer, bool(o.span_right)
        return True, o.sentence_f1, o.p_sentence, bool(o.sentence_right)

    rows = [given(o, c) for _, o, c in answerable]
    wrong_given = [given(o, c) for _, o, c in impossible]
    confident = [(p, right) for (ans, _, p, right) in rows + wrong_given if ans and p >= 0.8]
    n = len(answerable) or 1
    pairs = [(p, right) for ans, _, p, right in rows + wrong_given if ans]
    return {
        "answerable": len(answerable), "unanswerable": len(impossible),
        "top1": round(sum(o.sentence_right for _, o, _ in answerable) / n, 4),
        "top3": round(sum(bool(set(o.top[:3]) & r.item.gold) for r, o, _ in answerable) / n, 4),
        "f1": round(sum(f for _, f, _, _ in rows) / n, 4),
        "best_span_f1": round(sum(o.span_f1 for _, o, _ in answerable) / n, 4),
        "answered": round(sum(a for a, _, _, _ in rows) / n, 4),
        "abstained": round(sum(not a for a, _, _, _ in wrong_given) / len(impossible), 4)
        if impossible else None,
        "confident_share": round(sum(1 for a, _, p, _ in rows if a and p >= 0.8) / n, 4),
        "confident_right": round(float(np.mean([r for _, r in confident])), 4)
        if confident else None,
        "reliability": reliability(np.array([p for p, _ in pairs]),
                                   np.array([r for _, r in pairs], dtype=float)) if pairs else [],
    }


def sweep(folder: Path, lexical: model_mod.Lexical, log,
          questions: int = SWEEP_QUESTIONS) -> list[dict]:
    """Cross-fitted dev figures and reader time for each window count and size, on a sample."""
    rng = np.random.default_rng(0)
    table = []
    genres = {"articles": load_split(folder, "dev"), "excerpts": load_excerpts(folder, "dev")}
    picks = {}
    for genre, articles in genres.items():
        # (by place in the list: excerpts keep their article's name)
        items = [(n, k) for n, a in enumerate(articles) for k in range(len(a.items))]
        chosen = rng.permutation(len(items))[:questions]
        picks[genre] = {items[k] for k in chosen}
    for budget in SWEEP_BUDGETS:
        reads: list[Read] = []
        for genre, articles in genres.items():
            for n, a in enumerate(articles):
                wanted = {k for m, k in picks[genre] if m == n}
                if not wanted:
                    continue
                sub = replace(a, items=tuple(x for k, x in enumerate(a.items) if k in wanted))
                reads += read_questions([sub], genre, max(SWEEP_WINDOWS), budget, lexical,
                                        log=None)
        for windows in SWEEP_WINDOWS:
            cut = [replace(r, d=replace(r.d, reading=truncated(r.d.reading, windows),
                                        combiner_rows=None)) if r.d else r for r in reads]
            result = figures(cut, cross_fitted(cut, windows, budget))
            pieces = np.mean([sum(last - first + 1 for first, last in r.d.reading.windows[:windows])
                              for r in reads if r.d]) if reads else 0
            row = {"budget": budget, "windows": windows,
                   "reader ms (all windows)": round(1000 * float(np.mean(
                       [r.seconds for r in reads])), 1),
                   "sentences read": round(float(pieces), 1),
                   **{k: v for k, v in result.items() if k != "reliability"}}
            table.append(row)
            log(json.dumps(row))
    return table


def read_dev(folder: Path, windows: int, budget: int, lexical: model_mod.Lexical,
             limit: int = 0, log=print) -> list[Read]:
    """The dev questions read: the articles as written, then their news-sized excerpts."""
    reads: list[Read] = []
    dev = load_split(folder, "dev")[:limit or None]
    names = {a.name for a in dev}
    for genre, articles in (("articles", dev),
                            ("excerpts", [a for a in load_excerpts(folder, "dev")
                                          if a.name in names])):
        reads += read_questions(articles, genre, windows, budget, lexical, log=log)
    return reads


def write(reads: list[Read], folder: Path, out: Path, windows: int, budget: int,
          swept: list[dict] | None = None) -> dict:
    """Fit on the readings, write the combiner to `out`; the cross-fitted figures."""
    results = cross_fitted(reads, windows, budget)
    report = {genre: figures([r for r in reads if r.genre == genre],
                             [x for r, x in zip(reads, results) if r.genre == genre])
              for genre in ("articles", "excerpts")}
    report["all"] = figures(reads, results)
    final = fit(reads, windows, budget)
    obj = {
        "format": model_mod.FORMAT, "windows": windows,
        "window_pieces": budget,
        "abstain_below": model_mod.round_number(final.abstain_below),
        "span_from": final.span_from,
        "sentences": model_mod.linear_json(feat.COMBINER_FEATURES, final.sentences.weights,
                                           final.sentences.bias, final.sentences.mean),
        "answer_confidence": model_mod.linear_json(
            feat.CONFIDENCE_FEATURES, final.answer_confidence.linear.weights,
            final.answer_confidence.linear.bias, final.answer_confidence.linear.mean),
        "sentence_confidence": model_mod.linear_json(
            feat.CONFIDENCE_FEATURES, final.sentence_confidence.linear.weights,
            final.sentence_confidence.linear.bias, final.sentence_confidence.linear.mean),
        "info": {"data": data_hash(folder),
                 "licence": "CC BY-SA 4.0 (SQuAD); see NOTICE",
                 "dev_questions": len(reads), "cross_fitted": report,
                 **({"sweep": swept} if swept else {})},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(obj, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return report


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m qa.train combiner",
                                description="Weigh ranker and reader; calibrate on dev.")
    p.add_argument("folder", type=Path, help="the SQuAD-style articles (../shared/train)")
    p.add_argument("--out", type=Path, default=model_mod.COMBINER_PATH)
    p.add_argument("--sweep", action="store_true",
                   help="first compare window counts and sizes on a sample of dev")
    p.add_argument("--sweep-only", action="store_true", help="the comparison alone")
    p.add_argument("--sweep-questions", type=int, default=SWEEP_QUESTIONS,
                   help=f"questions per genre in the comparison (default {SWEEP_QUESTIONS})")
    p.add_argument("--limit", type=int, default=0,
                   help="only this many dev articles (a quick run for tests)")
    p.add_argument("--windows", type=int, default=WINDOWS)
    p.add_argument("--window-pieces", type=int, default=WINDOW_PIECES)
    args = p.parse_args(argv)

    def log(m: str) -> None:
        print(m, file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    lexical = model_mod.load(fast=True).lexical
    swept = sweep(args.folder, lexical, log, args.sweep_questions) \
        if args.sweep or args.sweep_only else None
    if args.sweep_only:
        return 0
    reads = read_dev(args.folder, args.windows, args.window_pieces, lexical, args.limit, log)
    log(f"read {len(reads)} dev questions ({time.perf_counter() - t0:.0f} s)")
    report = write(reads, args.folder, args.out, args.windows, args.window_pieces, swept)
    log(f"wrote {args.out} in {time.perf_counter() - t0:.0f} s")
    print(json.dumps(report, indent=1))
    return 0
