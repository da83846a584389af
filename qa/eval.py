"""Scoring answers against gold questions, side by side with two plain BM25 baselines.

Gold formats: our JSON Lines ({"question", "answers", "sentence", "impossible"} per line,
judged by the gold sentence's text) and SQuAD 2.0 (the flat list of the shared eval folder, or
the official nested "data"/"paragraphs"/"qas" file), judged by character spans: a sentence is
right when its span in the original text covers a gold answer's span.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import stat
import string
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa.corpus import read_bytes
from qa.errors import CorpusError, GoldError, UsageError
from qa.sentences import Sentence

JSONL, SQUAD = "jsonl", "squad"
# The systems compared in one run, in table order.
# qa (ranker and reader), qa --fast (the lexical engine alone), and two plain BM25 baselines,
# all in one run over the same sentences.
SYSTEMS = ("qa", "qa --fast", "bm25 whitespace", "bm25 stemmed")
ENGINES = ("qa", "qa --fast")
# How many misses the table lists (--json lists them all).
MAX_MISSES_SHOWN = 40


# ---- gold questions -------------------------------------------------------------------------

@dataclass(frozen=True)
class GoldQuestion:
    """One gold question; `sentence` (JSONL) or `spans` (SQuAD) says which sentence is right."""

    question: str
    answers: tuple[str, ...]
    impossible: bool
    sentence: str | None = None  # a distinctive substring of the gold sentence
    spans: tuple[tuple[str, int, int], ...] = ()  # (source, start, end) of each gold answer
    context: str | None = None  # SQuAD: the paragraph the question was written on


@dataclass(frozen=True)
class GoldSet:
    path: str
    format: str
    questions: tuple[GoldQuestion, ...]


def _read_text(path: Path) -> str:
    """A gold file's text, read with the corpus reader's bounds and messages."""
    try:
        if stat.S_ISFIFO(os.stat(path).st_mode):
            raise GoldError(f"{path}: is a named pipe (FIFO), not a file: qa eval reads gold "
                            "questions from a file (save them to one first)")
    except OSError:
        pass  # read_bytes says what is wrong
    try:
        data = read_bytes(path)
    except CorpusError as e:
        raise GoldError(str(e)) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise GoldError(f"{path}: not UTF-8 text: a gold file is JSON Lines or SQuAD JSON") from None


def _kind(value: object) -> str:
    """What a JSON value is, as a message names it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    return {str: "a string", list: "a list"}.get(type(value), "an object")


_EXPECTED = {str: "a string", list: "a list", dict: "an object", bool: "true or false"}


class _Entry:
    """Where a value sits in a gold file, for messages: `gold.json: data[0].qas[2].question`."""

    def __init__(self, prefix: str, path: str = "") -> None:
        self.prefix, self.path = prefix, path  # prefix: "gold.json: " or "gold.jsonl: line 3: "

    def __getitem__(self, key: str | int) -> _Entry:
        if isinstance(key, int):
            return _Entry(self.prefix, f"{self.path}[{key}]")
        return _Entry(self.prefix, f"{self.path}.{key}" if self.path else key)

    def error(self, problem: str) -> GoldError:
        return GoldError(f"{self.prefix}{self.path + ': ' if self.path else ''}{problem}")

    def expect(self, value: object, kind: type) -> Any:
        """`value` when it is of `kind`, else a GoldError naming this entry."""
        if isinstance(value, kind):
            return value
        hint = ""
        if kind is bool and isinstance(value, str) and value.strip().lower() in ("true", "false"):
            hint = f" (write {value.strip().lower()} without quotes)"
        raise self.error(f"expected {_EXPECTED[kind]}, got {_kind(value)}{hint}")

    def field(self, obj: dict, key: str, kind: type, default: object = None) -> Any:
        """obj[key] checked to be of `kind`; `default` when it is missing, or null for an
        optional string or list (`default` None: the field is required)."""
        if key not in obj and default is None:
            raise self.error(f"needs \"{key}\" ({_EXPECTED[kind]})")
        if key not in obj or (obj[key] is None and default is not None and kind is not bool):
            return default
        return self[key].expect(obj[key], kind)

    def question(self, obj: dict) -> str:
        text = self.field(obj, "question", str)
        if not text.strip():
            raise self["question"].error("is empty")
        return text

    def strings(self, obj: dict, key: str) -> tuple[str, ...]:
        items = self.field(obj, key, list, [])
        return tuple(self[key][k].expect(a, str) for k, a in enumerate(items))


def _parse_json(text: str, where: str) -> object:
    """JSON text as Python values; GoldError (never RecursionError) when it cannot be read."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise GoldError(f"{where}not JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    except RecursionError:
        raise GoldError(f"{where}nested too deeply to read: a gold file is JSON Lines or "
                        f"SQuAD JSON") from None
    except ValueError as e:  # a number of more than 4,300 digits
        raise GoldError(f"{where}not readable JSON ({str(e).split(':')[0]})") from None


def _from_jsonl(text: str, name: str) -> list[GoldQuestion]:
    """Our JSON Lines: {"question", "answers", "sentence", "impossible"} on each line."""
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        at = _Entry(f"{name}: line {n}: ")
        obj = at.expect(_parse_json(line, at.prefix), dict)
        question = at.question(obj)
        answers = at.strings(obj, "answers")
        impossible = at.field(obj, "impossible", bool, False)
        sentence = at.field(obj, "sentence", str, "")
        if not impossible and not sentence.strip():
            raise at.error("an answerable question needs a \"sentence\" (a distinctive part "
                           "of the sentence that answers it)")
        out.append(GoldQuestion(question, answers, impossible, sentence or None))
    return out


def _from_squad(obj: object, name: str) -> list[GoldQuestion]:
    """The flat list ({"question", "answers", "impossible", "context"}) or official SQuAD 2.0."""
    root = _Entry(f"{name}: ")
    out = []
    if isinstance(obj, list):
        for n, item in enumerate(obj):
            at = root[n]
            q = at.expect(item, dict)
            out.append(GoldQuestion(at.question(q), at.strings(q, "answers"),
                                    at.field(q, "impossible", bool, False),
                                    context=at.field(q, "context", str)))
        return out
    data = root.field(root.expect(obj, dict), "data", list)
    for i, article in enumerate(data):
        at_article = root["data"][i]
        paragraphs = at_article.field(at_article.expect(article, dict), "paragraphs", list)
        for j, para in enumerate(paragraphs):
            at_para = at_article["paragraphs"][j]
            para = at_para.expect(para, dict)
            context = at_para.field(para, "context", str)
            for k, q in enumerate(at_para.field(para, "qas", list)):
                at = at_para["qas"][k]
                q = at.expect(q, dict)
                answers = []
                for m, a in enumerate(at.field(q, "answers", list, [])):
                    at_answer = at["answers"][m]
                    answers.append(at_answer.field(at_answer.expect(a, dict), "text", str))
                out.append(GoldQuestion(at.question(q), tuple(dict.fromkeys(answers)),
                                        at.field(q, "is_impossible", bool, False),
                                        context=context))
    return out


def detect_format(text: str) -> str:
    """SQuAD when the file is one JSON list, or one object with "data"; else JSON Lines."""
    head = text.lstrip()[:1]
    if head == "[":
        return SQUAD
    if head == "{":
        try:
            obj = json.loads(text)
        except (ValueError, RecursionError):
            return JSONL  # several objects, one a line (or a line that is not JSON)
        return SQUAD if isinstance(obj, dict) and "data" in obj else JSONL
    return JSONL


def load_gold(path: str | Path) -> GoldSet:
    """Read a gold file in either format; GoldError, naming the entry, when it is malformed."""
    p = Path(path)
    text = _read_text(p)
    fmt = detect_format(text)
    if fmt == SQUAD:
        questions = _from_squad(_parse_json(text, f"{p}: "), str(p))
    else:
        questions = _from_jsonl(text, str(p))
    if not questions:
        raise GoldError(f"{p}: has no questions")
    return GoldSet(str(p), fmt, tuple(questions))


def squad_corpus_beside(gold_path: str | Path) -> Path | None:
    """`Normans.questions.json` -> `Normans.questions.txt` or `Normans.txt`, if present."""
    p = Path(gold_path)
    for stem in (p.stem, p.name.split(".")[0]):
        cand = p.with_name(stem + ".txt")
        if cand.is_file():
            return cand
    return None


def answer_spans(gold: GoldSet, originals: dict[str, str]) -> GoldSet:
    """SQuAD questions with the character spans of their answers in the corpus files.

    Every occurrence of an answer in its paragraph counts. A paragraph missing from the
    corpus leaves the question without spans (it can then never be judged right).
    """
    out = []
    for q in gold.questions:
        spans: list[tuple[str, int, int]] = []
        for source, original in originals.items():
            base = original.find(q.context) if q.context else -1
            if base < 0:
                continue
            for a in q.answers:
                if not a:
                    continue
                k = q.context.find(a)
                while k >= 0:
                    spans.append((source, base + k, base + k + len(a)))
                    k = q.context.find(a, k + 1)
            break
        out.append(GoldQuestion(q.question, q.answers, q.impossible, q.sentence,
                                tuple(spans), q.context))
    return GoldSet(gold.path, gold.format, tuple(out))


# ---- judging ---------------------------------------------------------------------------------

_PUNCT = str.maketrans("", "", string.punctuation + "\u2018\u2019\u201c\u201d\u2013\u2014")
_ARTICLES = re.compile(r"\b(?:a|an|the)\b")


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lower case, no punctuation, no articles, single spaces."""
    return " ".join(_ARTICLES.sub(" ", text.lower().translate(_PUNCT)).split())


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    p = normalize_answer(prediction)
    return float(any(p == normalize_answer(g) for g in golds)) if golds else 0.0


def token_f1(prediction: str, golds: Sequence[str]) -> float:
    """SQuAD token F1, the best over the gold answers."""
    best = 0.0
    p = normalize_answer(prediction).split()
    for g in golds:
        gt = normalize_answer(g).split()
        common = sum((Counter(p) & Counter(gt)).values())
        if common:
            precision, recall = common / len(p), common / len(gt)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


# A short answer that contains a gold answer (or is contained in one) is still right when it is
# at most this many times as long, in words: "Rogozin" for "Dmitry Rogozin", not a whole clause.
CONTAINMENT_RATIO = 2.0


def answer_right(prediction: str | None, golds: Sequence[str]) -> bool:
    """Normalised exact match, or one contains the other with at most 2x the words."""
    if not prediction:
        return False
    p = normalize_answer(prediction).split()
    for g in golds:
        gt = normalize_answer(g).split()
        if not p or not gt:
            continue
        short, long_ = (p, gt) if len(p) <= len(gt) else (gt, p)
        if len(long_) <= CONTAINMENT_RATIO * len(short) and any(
                long_[i:i + len(short)] == short for i in range(len(long_) - len(short) + 1)):
            return True
    return False


def _squeeze(text: str) -> str:
    return " ".join(text.split()).casefold()


def sentence_right(q: GoldQuestion, s: Sentence) -> bool:
    """JSONL: the sentence holds the gold substring; SQuAD: its span covers a gold answer."""
    if q.sentence is not None:
        return _squeeze(q.sentence) in _squeeze(s.text)
    return any(src == s.source and s.start <= a and b <= s.end for src, a, b in q.spans)


# ---- baselines -----------------------------------------------------------------------------

class Baseline:
    """rank_bm25's BM25Okapi over the same sentences with a given tokeniser; never abstains."""

    def __init__(self, sentences: list[Sentence], tokenize: Callable[[str], list[str]]) -> None:
        from rank_bm25 import BM25Okapi

        self.sentences = sentences
        self.tokenize = tokenize
        # rank_bm25 divides by zero on no documents; the index never holds none.
        self.bm25 = BM25Okapi([tokenize(s.text) for s in sentences])

    def rank(self, question: str, k: int) -> list[Sentence]:
        import numpy as np

        query = self.tokenize(question)
        scores = self.bm25.get_scores(query) if query else np.zeros(len(self.sentences))
        order = np.argsort(-scores, kind="stable")[:k]
        return [self.sentences[int(i)] for i in order]


def whitespace_tokens(text: str) -> list[str]:
    return text.lower().split()


# ---- the run -------------------------------------------------------------------------------

# An answer given with at least this confidence counts as a confident one.
CONFIDENT = 0.8
# Bins of the reliability table (predicted confidence against observed accuracy).
BINS = 10


@dataclass
class Tally:
    """Counts for one system; `rates` turns them into the reported figures."""

    answerable: int = 0
    unanswerable: int = 0
    top1: int = 0
    topk: int = 0
    answered: int = 0
    abstained: int = 0
    exact: float = 0.0
    f1: float = 0.0
    span_f1: float = 0.0
    right: int = 0
    confident: int = 0
    confident_right: int = 0
    confident_all: int = 0
    short_answers: bool = True
    # (confidence, the answer as given is right) for every answer given
    calibration: list[tuple[float, bool]] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        for name in ("answerable", "unanswerable", "top1", "topk", "answered", "abstained",
                     "exact", "f1", "span_f1", "right", "confident", "confident_right",
                     "confident_all"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.calibration += other.calibration

    def rates(self, k: int) -> dict[str, float | None]:
        n, u = self.answerable or 1, self.unanswerable or 1
        short = self.short_answers and self.answerable
        return {
            "top1": self.top1 / n if self.answerable else None,
            f"top{k}": self.topk / n if self.answerable else None,
            "exact_match": self.exact / n if short else None,
            "f1": self.f1 / n if short else None,
            "span_f1": self.span_f1 / n if short else None,
            "answer_right": self.right / n if short else None,
            "answered": self.answered / n if short else None,
            "abstained": self.abstained / u if self.short_answers and self.unanswerable else None,
            "confident": self.confident / n if short else None,
            "confident_right": self.confident_right / self.confident_all
            if self.short_answers and self.confident_all else None,
            "calibration_error": calibration_error(self.calibration) if self.short_answers
            and self.calibration else None,
        }


def reliability(pairs: list[tuple[float, bool]], bins: int = BINS) -> list[dict]:
    """Per confidence bin: its range, how many answers, mean confidence, share right."""
    out = []
    for k in range(bins):
        lo, hi = k / bins, (k + 1) / bins
        inside = [(p, r) for p, r in pairs if lo <= p < hi or (k == bins - 1 and p == 1.0)]
        if inside:
            out.append({"from": lo, "to": hi, "answers": len(inside),
                        "confidence": round(sum(p for p, _ in inside) / len(inside), 3),
                        "right": round(sum(r for _, r in inside) / len(inside), 3)})
    return out


def calibration_error(pairs: list[tuple[float, bool]]) -> float:
    """Expected calibration error: the answer-weighted gap between confidence and accuracy."""
    return sum(b["answers"] * abs(b["confidence"] - b["right"])
               for b in reliability(pairs)) / len(pairs)


@dataclass
class Report:
    gold: str
    format: str
    corpus: list[str]
    sentences: int
    k: int
    tallies: dict[str, Tally]
    misses: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    unplaced: int = 0  # SQuAD questions whose paragraph is not in the corpus

    def add(self, other: Report) -> None:
        """Another gold file's figures, counted in with these."""
        self.gold = f"{self.gold}, {other.gold}" if self.gold else other.gold
        self.corpus += other.corpus
        self.sentences += other.sentences
        for name, tally in other.tallies.items():
            self.tallies.setdefault(name, Tally(short_answers=tally.short_answers)).add(tally)
        self.misses += other.misses
        self.seconds += other.seconds
        self.unplaced += other.unplaced

    def to_json(self) -> dict:
        n = len(self.misses)
        t = self.tallies["qa"]
        return {
            "gold": self.gold, "format": self.format, "corpus": self.corpus,
            "sentences": self.sentences, "questions": t.answerable + t.unanswerable,
            "answerable": t.answerable, "unanswerable": t.unanswerable, "k": self.k,
            "unplaced": self.unplaced,
            "questions_per_second": round((t.answerable + t.unanswerable) / self.seconds, 1)
            if self.seconds else None,
            "systems": {name: {m: (round(v, 4) if v is not None else None)
                               for m, v in tally.rates(self.k).items()}
                        for name, tally in self.tallies.items()},
            "reliability": reliability(t.calibration),
            "misses": self.misses, "miss_count": n,
        }


def given_right(answer, q: GoldQuestion) -> bool:
    """Whether the answer, as given, is right: a stated span by token F1 >= 0.5; a sentence
    (the answer, or the evidence for a yes/no question) by holding a gold answer."""
    if q.impossible or not answer.found:
        return False
    if answer.type == "span":
        return token_f1(answer.answer or "", q.answers) >= 0.5
    return bool(answer.hits) and sentence_right(q, answer.hits[0].sentence)


def evaluate(gold: GoldSet, engine, k: int = 3, chat: bool = False) -> Report:
    """Ask every gold question of the engine, of the lexical engine alone (--fast) and of both
    baselines; tally the figures. `chat`: the questions are asked in order as one
    conversation (each with its predecessors), as `qa --chat` asks them."""
    from qa import question as qmod
    from qa import terms as terms_mod
    from qa.answer import Engine

    sentences = list(engine.index.sentences())
    baselines = {"bm25 whitespace": Baseline(sentences, whitespace_tokens),
                 "bm25 stemmed": Baseline(sentences, terms_mod.terms)}
    engines = {"qa": engine, "qa --fast": Engine(engine.index, fast=True)}
    if chat:
        from qa.conversation import Conversation

        engines = {name: Conversation(e) for name, e in engines.items()}
    tallies = {name: Tally(short_answers=name in ENGINES) for name in SYSTEMS}
    misses: list[dict] = []
    seconds = 0.0
    for q in gold.questions:
        asked = q.question[:qmod.MAX_QUESTION_CHARS]
        answers = {}
        for name, e in engines.items():
            t0 = time.perf_counter()
            answers[name] = e.ask(asked, top=max(k, 3))
            if name == "qa":
                seconds += time.perf_counter() - t0
        ranked = {name: [h.sentence for h in a.hits] for name, a in answers.items()}
        for name, base in baselines.items():
            ranked[name] = base.rank(q.question, k)
        for name, tally in tallies.items():
            if q.impossible:
                tally.unanswerable += 1
                tally.abstained += name in answers and not answers[name].found
                continue
            tally.answerable += 1
            tally.top1 += bool(ranked[name]) and sentence_right(q, ranked[name][0])
            tally.topk += any(sentence_right(q, s) for s in ranked[name][:k])
        for name, answer in answers.items():
            miss = _score(tallies[name], q, answer)
            if name == "qa" and miss is not None:
                misses.append(miss)
    unplaced = sum(1 for q in gold.questions
                   if gold.format == SQUAD and not q.impossible and not q.spans)
    return Report(gold.path, gold.format, sorted({s.source for s in sentences}), len(sentences),
                  k, tallies, misses, seconds, unplaced)


def _score(tally: Tally, q: GoldQuestion, answer) -> dict | None:
    """Count one answer's figures; the miss it is (for the report), if any."""
    right = given_right(answer, q)
    if answer.found:
        tally.calibration.append((answer.confidence, right))
        if answer.confidence >= CONFIDENT:
            tally.confident_all += 1
            tally.confident_right += right
    if q.impossible:
        if answer.found:
            return {"question": q.question, "miss": "answered an unanswerable question",
                    "expected": None, "got": answer.answer,
                    "confidence": round(answer.confidence, 3)}
        return None
    pred = answer.answer if answer.found else ""
    tally.answered += answer.found
    tally.exact += exact_match(pred, q.answers)
    tally.f1 += token_f1(pred, q.answers)
    span = best_span(answer) if answer.found else ""
    tally.span_f1 += token_f1(span, q.answers)
    tally.right += answer_right(pred, q.answers)
    tally.confident += answer.found and answer.confidence >= CONFIDENT
    top_right = bool(answer.hits) and sentence_right(q, answer.hits[0].sentence)
    if not answer.found:
        miss = "abstained"
    elif not top_right:
        miss = "wrong sentence"
    elif not answer_right(pred, q.answers) and not answer_right(span, q.answers):
        miss = "wrong short answer"
    else:
        return None
    return {"question": q.question, "miss": miss, "expected": list(q.answers),
            "got": pred or None, "confidence": round(answer.confidence, 3),
            "sentence": answer.hits[0].sentence.text if answer.hits else None}


def best_span(answer) -> str:
    """The span the answer states, or the one it highlights in its sentence."""
    spans = answer.spans or answer.highlight
    if not spans or not answer.hits:
        return answer.answer or ""
    text = answer.hits[0].sentence.text
    return " and ".join(text[a:b] for a, b in spans)


def build_engine(gold: GoldSet, corpus: list[str], use_cache: bool = True):
    """The engine over the given corpus, or the one the gold file implies; spans resolved."""
    from qa.answer import Engine
    from qa.corpus import original_texts
    from qa.index import build_index, open_index

    if not corpus and gold.format == SQUAD:
        beside = squad_corpus_beside(gold.path)
        if beside is not None:
            corpus = [str(beside)]
        else:  # the article's paragraphs, in order, as one text
            from qa.corpus import document_from_text
            from qa.sentences import split_sentences

            text = "\n\n".join(dict.fromkeys(q.context for q in gold.questions if q.context))
            name = Path(gold.path).stem + ".txt"
            index = build_index(split_sentences([document_from_text(text, name)]))
            return Engine(index), answer_spans(gold, {name: text})
    if not corpus:
        from qa.corpus import bundled_corpus

        corpus = [str(bundled_corpus())]
    index = open_index(corpus, use_cache=use_cache)
    if gold.format == SQUAD:
        gold = answer_spans(gold, original_texts(corpus))
    return Engine(index), gold


# ---- printing ------------------------------------------------------------------------------

_ROWS = (("top1", "top-1 sentence"), ("topk", "top-{k} sentence"),
         ("exact_match", "short answer exact match"), ("f1", "short answer token F1"),
         ("span_f1", "best span token F1 (stated or highlighted)"),
         ("answer_right", "short answer right (EM or ≤2x containment)"),
         ("answered", "answered (answerable)"), ("abstained", "abstained (unanswerable)"),
         ("confident", "confidence ≥ 0.8 (share of answerable)"),
         ("confident_right", "confidence ≥ 0.8: right"),
         ("calibration_error", "calibration error (ECE)"))


def print_report(report: Report) -> None:
    from rich.table import Table
    from rich.text import Text

    from qa.render import safe_line, terminal_console

    console = terminal_console()
    t = report.tallies["qa"]
    # Gold files are data: their names and questions are shown with escapes blanked, as
    # every other mode shows text (an OSC 52 in a question must not reach the clipboard).
    table = Table(title=Text(f"{safe_line(report.gold)}: {t.answerable} answerable, "
                             f"{t.unanswerable} "
                             f"unanswerable, over {report.sentences} sentences"))
    table.add_column("metric")
    for name in SYSTEMS:
        table.add_column(name, justify="right")
    rates = {name: tally.rates(report.k) for name, tally in report.tallies.items()}
    for key, label in _ROWS:
        key = f"top{report.k}" if key == "topk" else key
        cells = []
        for name in SYSTEMS:
            v = rates[name][key]
            cells.append("–" if v is None else f"{v:.3f}")
        table.add_row(label.format(k=report.k), *cells)
    console.print(table)
    pairs = report.tallies["qa"].calibration
    if pairs:
        bins = reliability(pairs)
        calib = Table(title=Text("confidence against accuracy (answers given)"))
        for name in ("confidence", "answers", "mean confidence", "right"):
            calib.add_column(name, justify="right")
        for b in bins:
            calib.add_row(f"{b['from']:.1f}-{b['to']:.1f}", str(b["answers"]),
                          f"{b['confidence']:.3f}", f"{b['right']:.3f}")
        console.print(calib)
    if report.unplaced:
        console.print(Text(f"{report.unplaced} answerable questions have a paragraph that is not "
                           f"in the corpus; they count as misses.", style="yellow"))
    if report.seconds:
        n = t.answerable + t.unanswerable
        console.print(Text(f"qa answered {n / report.seconds:.0f} questions/s", style="dim"))
    if report.misses:
        console.print(Text(f"\nmisses ({len(report.misses)}):", style="bold"))
        for m in report.misses[:MAX_MISSES_SHOWN]:
            expected = " | ".join(m["expected"]) if m["expected"] else "abstain"
            line = Text(f"- [{m['miss']}] ", style="red")
            line.append(safe_line(m["question"]))
            line.append(f"\n    expected: {safe_line(expected)}\n    got: "
                        f"{safe_line(str(m['got']))}", style="dim")
            console.print(line)
        if len(report.misses) > MAX_MISSES_SHOWN:
            console.print(Text(f"… and {len(report.misses) - MAX_MISSES_SHOWN} more (--json "
                               f"lists them all)", style="dim"))


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise UsageError(f"eval: {message} (see 'qa eval --help')")

    def _print_message(self, message: str, file=None) -> None:
        # argparse drops write errors (help into a full disk exited 0): let them be seen
        if message:
            (file or sys.stderr).write(message)


def build_parser() -> argparse.ArgumentParser:
    from qa.render import top_count

    p = _Parser(prog="qa eval", description="Score qa, and two plain BM25 baselines, against gold "
                "questions (our JSON Lines, or SQuAD 2.0 JSON).")
    p.add_argument("gold", metavar="GOLD", nargs="+",
                   help="gold question files; with several, the figures are summed over them")
    p.add_argument("-c", "--corpus", action="append", default=[], metavar="PATH",
                   help="the text the questions are about (default: the bundled article, or for "
                        "SQuAD the .txt beside GOLD, else its paragraphs)")
    p.add_argument("-k", "--top", type=top_count, default=3, metavar="N",
                   help="also report top-N sentence accuracy (default 3)")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    p.add_argument("--no-cache", action="store_true", help="build the index afresh")
    p.add_argument("--chat", action="store_true",
                   help="ask each file's questions in order as one conversation (follow-ups "
                        "read with the turns before them), as qa --chat does")
    return p


def main(argv: list[str]) -> int:
    """`qa eval GOLD [--corpus PATH ...] [--json] [-k N]`; 0 when the run completes."""
    args = build_parser().parse_args(argv)
    golds = [load_gold(path) for path in args.gold]  # every file checked before any is run
    report = None
    for gold in golds:
        engine, gold = build_engine(gold, args.corpus, use_cache=not args.no_cache)
        one = evaluate(gold, engine, k=args.top, chat=args.chat)
        if report is None:
            report = one
        else:
            report.add(one)
    if args.json:
        sys.stdout.write(json.dumps(report.to_json(), ensure_ascii=True) + "\n")
    else:
        print_report(report)
    return 0
