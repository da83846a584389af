"""Named feature vectors: a (question, sentence) pair for the ranker, a candidate for the
combiner of ranker and reader, and an answer for the confidence models."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from qa import question as qmod
from qa import terms as terms_mod
from qa.index import Index

# A sentence opening with one of these leans on the sentence before it ("It includes ...").
REFERRING_START = re.compile(r"(?:\W*\w+,? ){0,3}?(?:it|he|she|they|its|his|her|their|this|"
                             r"these|those|that|there|the latter|the former)\b", re.IGNORECASE)
_DIGIT = re.compile(r"\d")
_YEAR = re.compile(r"\b(?:1[0-9]{3}|20[0-9]{2})s?\b")
_MONTH = re.compile(r"\b(?:January|February|March|April|May|June|July|August|September|"
                    r"October|November|December|Monday|Tuesday|Wednesday|Thursday|Friday|"
                    r"Saturday|Sunday)\b")
_NUMBER_WORD = re.compile(r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|"
                          r"twelve|twenty|thirty|forty|fifty|hundred|thousand|million|billion|"
                          r"dozen|several)\b", re.IGNORECASE)
_PERCENT = re.compile(r"%|\bper ?cent\b|\$|€|£")
_CAPITALISED = re.compile(r"(?<=[\w,;:)] )[A-Z][\w'-]*")
_QUOTE = re.compile(r"[\"\u201c\u201d]")

# The question types a feature can be crossed with (question.answer_type's values).
TYPES = (qmod.PERSON, qmod.DATE, qmod.PLACE, qmod.NUMBER, qmod.LIST, qmod.MANNER, qmod.REASON,
         qmod.SENTENCE)
# What a sentence offers, checked cheaply on its text: crossed with the type asked for.
EVIDENCE = ("number", "year", "month", "name", "percent", "quote")
# The same, counted only for words the question does not hold: the answer is what it leaves out.
NEW = ("number", "year", "month", "name")


@dataclass(frozen=True, slots=True)
class SentenceInfo:
    """What features need of one sentence, worked out once per sentence."""

    terms: tuple[str, ...]
    present: frozenset[str]
    positions: dict[str, tuple[int, ...]]
    words: tuple[str, ...]  # normalised words, stopwords kept
    refers_back: bool
    evidence: frozenset[str]
    typed: dict[str, frozenset[str]]  # evidence kind -> the terms of the words that show it


def sentence_info(text: str) -> SentenceInfo:
    seq, toks = terms_mod.terms_and_tokens(text)
    positions: dict[str, list[int]] = {}
    for k, t in enumerate(seq):
        positions.setdefault(t, []).append(k)
    words = tuple(w.word for w in toks)
    typed: dict[str, set[str]] = {}
    for k, t in enumerate(toks):
        if not t.term:
            continue
        first = text[t.start]
        if first.isdigit() or _NUMBER_WORD.fullmatch(t.word):
            typed.setdefault("number", set()).add(t.term)
            if _YEAR.fullmatch(t.word):
                typed.setdefault("year", set()).add(t.term)
        elif first.isupper() and k and not _MONTH.fullmatch(text[t.start:t.end]):
            typed.setdefault("name", set()).add(t.term)
        if _MONTH.fullmatch(text[t.start:t.end]):
            typed.setdefault("month", set()).add(t.term)
    found = set()
    if _DIGIT.search(text) or _NUMBER_WORD.search(text):
        found.add("number")
    if _YEAR.search(text):
        found.add("year")
    if _MONTH.search(text):
        found.add("month")
    if _CAPITALISED.search(text):
        found.add("name")
    if _PERCENT.search(text):
        found.add("percent")
    if _QUOTE.search(text):
        found.add("quote")
    return SentenceInfo(tuple(seq), frozenset(seq), {t: tuple(p) for t, p in positions.items()},
                        words, REFERRING_START.match(text) is not None, frozenset(found),
                        {k: frozenset(v) for k, v in typed.items()})


class SentenceCache:
    """SentenceInfo per sentence number, kept for the sentences questions keep coming back to."""

    def __init__(self, index: Index, size: int = 100_000) -> None:
        self.index, self.size = index, size
        self._infos: dict[int, SentenceInfo] = {}

    def __call__(self, i: int) -> SentenceInfo:
        got = self._infos.get(i)
        if got is None:
            if len(self._infos) >= self.size:
                self._infos.clear()
            got = self._infos[i] = sentence_info(self.index.text(i))
        return got


@dataclass(frozen=True)
class Query:
    """What is searched for one question: terms with weights, and the question's analysis."""

    question: qmod.Question
    terms: tuple[str, ...]
    weights: tuple[float, ...]  # 1.0 for the question's own words, less for carried context
    cues: frozenset[str]  # terms that only name the answer's type ("country", "year")
    idf: tuple[float, ...]  # coverage IDF of each term: positive however small the text
    words: tuple[str, ...]  # the question's normalised words, stopwords kept, question words out


def coverage_idf(index: Index, term: str) -> float:
    """log((N + 1) / (df + 0.5)): positive however small the text; an unknown term weighs as
    the rarest term would."""
    t = index.vocab.get(term)
    df = int(index.df[t]) if t is not None else 1
    return float(np.log((len(index) + 1) / (df + 0.5)))


SENTENCE_BASE = (
    "bm25", "bm25 log", "bm25 rank", "bm25 of ideal", "pooled", "neighbour bm25",
    "coverage", "coverage count", "missing idf", "all matched", "cue matched", "window coverage",
    "inherited", "bigrams", "density", "longest run", "length", "first in text",
    "first in paragraph", "partial", "max idf matched", "paragraph coverage",
    "paragraph bm25", "name coverage", "number coverage", "order",
)
SENTENCE_FEATURES = SENTENCE_BASE + tuple(f"{t} x {e}" for t in TYPES for e in EVIDENCE) + tuple(
    f"{t} x coverage" for t in TYPES) + tuple(f"{t} x new {e}" for t in TYPES for e in NEW)
_SENTENCE_COL = {name: k for k, name in enumerate(SENTENCE_FEATURES)}


def query_terms_in(index: Index, terms: tuple[str, ...], sentences: set[int]
                   ) -> dict[int, frozenset[str]]:
    """For each of these sentences, which of these terms it holds, read off the postings (a
    term's sentences are listed in order)."""
    js = np.array(sorted(sentences), dtype=np.int64)
    found: dict[int, set[str]] = {int(j): set() for j in js}
    for t in dict.fromkeys(terms):
        k = index.vocab.get(t)
        if k is None or not len(js):
            continue
        docs = index.docs[index.ptr[k]:index.ptr[k + 1]]
        if not len(docs):
            continue
        at = np.minimum(np.searchsorted(docs, js), len(docs) - 1)
        for j in js[docs[at] == js]:
            found[int(j)].add(t)
    return {j: frozenset(v) for j, v in found.items()}


def sentence_features(index: Index, query: Query, ids: list[int], scores: np.ndarray,
                      pooled: np.ndarray, info: SentenceCache) -> np.ndarray:
    """One row of SENTENCE_FEATURES per candidate sentence.

    `scores` is BM25 over the whole text (the query's weighted terms), `pooled` the blended
    score of each candidate.
    """
    n = len(ids)
    bm25 = scores[ids]
    out = np.zeros((n, len(SENTENCE_FEATURES)))
    col = _SENTENCE_COL
    main = [(t, w * idf) for t, w, idf in zip(query.terms, query.weights, query.idf)
            if t not in query.cues]
    total = sum(max(x, 0.0) for _, x in main) or 1.0
    max_idf = max((x for _, x in main), default=1.0) or 1.0
    ideal = sum(max(index.idf_of(t), 0.0) * w for t, w in zip(query.terms, query.weights)) or 1.0
    best = float(bm25.max()) if n else 0.0
    best_pooled = float(pooled.max()) if n else 0.0
    order = np.argsort(-bm25, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    pairs = _bigrams(query)
    qwords = query.words
    qtype = query.question.type
    qterms = set(query.terms)
    names = [t for t in query.question.names if t in qterms]
    numbers = [t for t in query.question.numbers if t in qterms]
    n_terms = len(main) or 1
    paragraphs: dict[int, tuple[float, list[tuple[float, int]]]] = {}
    # Which of the query's terms the sentences around the candidates hold, from the postings:
    # reading each of those sentences whole would cost more than the rest of the question.
    around: set[int] = set()
    for i in ids:
        around.update(index.neighbours(i))
        around.update(index.paragraph_of(i))
        if i > 0:
            around.add(i - 1)
    holds = query_terms_in(index, query.terms, around)
    for r, i in enumerate(ids):
        s = info(i)
        row = out[r]
        row[col["bm25"]] = bm25[r] / best if best > 0 else 0.0
        row[col["bm25 log"]] = math.log1p(max(bm25[r], 0.0))
        row[col["bm25 rank"]] = 1.0 / (1 + rank[r])
        row[col["bm25 of ideal"]] = max(bm25[r], 0.0) / ideal
        row[col["pooled"]] = pooled[r] / best_pooled if best_pooled > 0 else 0.0
        matched = [x for t, x in main if t in s.present]
        cov = sum(max(x, 0.0) for x in matched) / total
        row[col["coverage"]] = cov
        row[col["coverage count"]] = len(matched) / n_terms
        missing = [x for t, x in main if t not in s.present]
        row[col["missing idf"]] = max(missing, default=0.0) / max_idf
        row[col["all matched"]] = float(not missing)
        row[col["cue matched"]] = float(any(t in s.present for t in query.cues))
        near = [j for j in index.neighbours(i) if j != i]
        window = s.present.union(*(holds[j] for j in near)) if near else s.present
        row[col["window coverage"]] = sum(max(x, 0.0) for t, x in main if t in window) / total
        if near and best > 0:
            row[col["neighbour bm25"]] = max(float(scores[j]) for j in near) / best
        if s.refers_back and i > 0 and index.source_ids[i - 1] == index.source_ids[i]:
            before = holds[i - 1]
            row[col["inherited"]] = sum(max(x, 0.0) for t, x in main
                                        if t in before and t not in s.present) / total
        if pairs:
            row[col["bigrams"]] = sum(_near(s.positions, a, b) for a, b in pairs) / len(pairs)
        row[col["density"]] = _density(s.positions, [t for t, _ in main if t in s.present])
        row[col["longest run"]] = _longest_run(qwords, s.words) / (len(qwords) or 1)
        row[col["length"]] = math.log1p(len(s.terms))
        row[col["first in text"]] = float(i == 0 or index.source_ids[i - 1] != index.source_ids[i])
        row[col["first in paragraph"]] = float(i == 0 or index.paragraphs[i - 1] != index.paragraphs[i])
        if missing:
            row[col["partial"]] = sum(max(x, 0.0) for t, x in main
                                      if t not in s.present and _partial(t, s.present)) / total
        row[col["max idf matched"]] = max(matched, default=0.0) / max_idf
        p = int(index.paragraphs[i])
        got = paragraphs.get(p)
        if got is None:
            para = index.paragraph_of(i)
            union = frozenset().union(*(holds[j] for j in para))
            got = paragraphs[p] = (sum(max(x, 0.0) for t, x in main if t in union) / total,
                                   sorted(((float(scores[j]), j) for j in para), reverse=True))
        row[col["paragraph coverage"]] = got[0]
        if best > 0 and len(got[1]) > 1:
            row[col["paragraph bm25"]] = (got[1][1][0] if got[1][0][1] == i else got[1][0][0]) / best
        for e in s.evidence:
            row[col[f"{qtype} x {e}"]] = 1.0
        row[col[f"{qtype} x coverage"]] = cov
        if names:
            row[col["name coverage"]] = sum(t in s.present for t in names) / len(names)
        if numbers:
            row[col["number coverage"]] = sum(t in s.present for t in numbers) / len(numbers)
        row[col["order"]] = _in_order(s.positions, [t for t, _ in main])
        for e, found in s.typed.items():
            if found - qterms:
                row[col[f"{qtype} x new {e}"]] = 1.0
    return out


def _partial(term: str, present: frozenset[str], least: int = 5) -> bool:
    """A sentence term that shares this term's first `least` letters and one starts the other:
    "priest" and "priesthood", "creat" and "creation"."""
    if len(term) < least or not term.isalpha():
        return False
    head = term[:least]
    return any(p.startswith(head) and (p.startswith(term) or term.startswith(p)) for p in present)


def _in_order(positions: dict[str, tuple[int, ...]], seq: list[str]) -> float:
    """Share of consecutive matched question terms whose first places keep the question's order."""
    firsts = [positions[t][0] for t in seq if t in positions]
    if len(firsts) < 2:
        return 0.0
    return sum(a < b for a, b in zip(firsts, firsts[1:])) / (len(firsts) - 1)


def _bigrams(query: Query) -> list[tuple[str, str]]:
    seq = [t for t in query.terms[:len(query.terms)] if t not in query.cues]
    return [(a, b) for a, b in zip(seq, seq[1:]) if a != b]


def _near(positions: dict[str, tuple[int, ...]], a: str, b: str, gap: int = 3) -> float:
    pa, pb = positions.get(a), positions.get(b)
    if not pa or not pb:
        return 0.0
    return float(any(abs(x - y) <= gap for x in pa for y in pb))


def _density(positions: dict[str, tuple[int, ...]], matched: list[str]) -> float:
    """Matched terms over the length of the shortest window that holds them all."""
    if len(matched) < 2:
        return float(bool(matched))
    events = sorted((p, t) for t in matched for p in positions[t])
    need, have, best, lo = len(matched), {}, len(events) and 10 ** 9, 0
    for hi, (p, t) in enumerate(events):
        have[t] = have.get(t, 0) + 1
        while len(have) == need:
            best = min(best, p - events[lo][0] + 1)
            lt = events[lo][1]
            have[lt] -= 1
            if not have[lt]:
                del have[lt]
            lo += 1
    return need / best


def _longest_run(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    """Length of the longest run of words the two share, in order."""
    where: dict[str, list[int]] = {}
    for i, x in enumerate(a):
        where.setdefault(x, []).append(i)
    best = 0
    runs: dict[tuple[int, int], int] = {}  # (i, j) -> run ending at a[i] == b[j]
    for j, y in enumerate(b):
        for i in where.get(y, ()):
            n = runs[i, j] = runs.get((i - 1, j - 1), 0) + 1
            if n > best:
                best = n
    return best


# ---- the sentence chosen: ranker and reader together ----------------------------------------

# Per candidate sentence, what the combiner weighs: the ranker's belief, and the reader's
# (its best span there against its window's no-answer score, and that span's share of all the
# spans and no-answer scores read for the question).
COMBINER_FEATURES = ("ranker logprob", "read", "centre", "reader margin", "reader logprob",
                     "reader margin x read")
_COMB_COL = {name: k for k, name in enumerate(COMBINER_FEATURES)}
# A margin or log-probability is clipped to this size: past it, nothing changes.
CLIP = 20.0


def combiner_features(ids: list[int], logits: np.ndarray, reading) -> np.ndarray:
    """One row of COMBINER_FEATURES per candidate (ids, with the ranker's logits) from the
    reader's reading of the question (qa.reader.Reading)."""
    n = len(ids)
    out = np.zeros((n, len(COMBINER_FEATURES)))
    c = _COMB_COL
    log_norm = float(np.logaddexp.reduce(logits)) if n else 0.0
    out[:, c["ranker logprob"]] = np.maximum(logits - log_norm, -CLIP)
    if reading is None or not len(reading.nulls):
        out[:, c["reader logprob"]] = -CLIP
        return out
    where = {i: r for r, i in enumerate(ids)}
    read = np.zeros(n, dtype=bool)
    for first, last in reading.windows:
        for i in range(first, last + 1):
            if i in where:
                read[where[i]] = True
    for i in reading.centres:
        if i in where:
            out[where[i], c["centre"]] = 1.0
    out[:, c["read"]] = read
    total = float(np.logaddexp.reduce(np.concatenate(
        [reading.nulls, [sp.score for sp in reading.spans]])))
    margin = np.full(n, -CLIP)
    logp = np.full(n, -CLIP)
    for sp in reading.spans:  # best first: the first span seen in a sentence is its best
        r = where.get(sp.sentence)
        if r is not None and logp[r] == -CLIP:
            margin[r] = float(np.clip(sp.score - reading.nulls[sp.window], -CLIP, CLIP))
            logp[r] = max(sp.score - total, -CLIP)
    out[:, c["reader margin"]] = np.where(read, margin, 0.0)
    out[:, c["reader margin x read"]] = np.where(read, np.maximum(margin, 0.0), 0.0)
    out[:, c["reader logprob"]] = logp
    return out


# ---- confidence -----------------------------------------------------------------------------

_NEGATION = re.compile(r"\b(?:not|no|never|none|nor|neither|without|nothing|nobody|cannot|"
                       r"no longer)\b|n't\b", re.IGNORECASE)
# Superlatives and words that single one thing out: an unanswerable question often swaps one
# ("the largest" for "the smallest") and keeps every other word of its sentence.
_SINGLING = re.compile(r"\b(?:most|least|first|last|only|best|worst|\w{3,}est)\b", re.IGNORECASE)

LEXICAL_BASE = (
    "sentence logprob", "sentence margin", "sentence logit", "first sentence chosen",
    "coverage", "missing idf", "window coverage", "bm25 of ideal", "all matched",
    "name coverage", "number coverage", "negation mismatch", "negation both",
    "singling missing", "missing in text", "missing from text", "window missing",
    "names missing", "numbers missing", "question terms", "candidates",
)
# What says how sure the lexical engine (--fast) is of its sentence: the ranker's margins, how
# much of the question the sentence leaves out, and the marks of a question written to look
# answerable.
LEXICAL_FEATURES = LEXICAL_BASE + tuple(f"wh {w}" for w in qmod.WH)
_LEX_COL = {name: k for k, name in enumerate(LEXICAL_FEATURES)}
_SENT_COL = {name: k for k, name in enumerate(SENTENCE_FEATURES)}
# And of the reader's answer: the same of its sentence, and the reader's own margins.
READER_BASE = (
    "combined logprob", "combined margin", "reader margin", "reader logprob", "null margin",
    "no span", "span words", "span agreement", "windows read", "answer in question",
)
CONFIDENCE_FEATURES = LEXICAL_FEATURES + READER_BASE
_CONF_COL = {name: k for k, name in enumerate(CONFIDENCE_FEATURES)}


def lexical_confidence(index: Index, query: Query, info: SentenceCache, sentence: int,
                       sentence_row: np.ndarray, logits: np.ndarray, rank: int) -> np.ndarray:
    """One row of LEXICAL_FEATURES for the sentence at `rank` among the candidates."""
    row = np.zeros(len(LEXICAL_FEATURES))
    c = _LEX_COL
    q = query.question
    top = np.sort(logits)[::-1]
    log_norm = float(top[0] + np.log(np.exp(logits - top[0]).sum()))
    row[c["sentence logprob"]] = float(logits[rank]) - log_norm
    row[c["sentence margin"]] = float(top[0] - top[1]) if len(top) > 1 else 5.0
    row[c["sentence logit"]] = float(logits[rank])
    row[c["first sentence chosen"]] = float(logits[rank] >= top[0])
    for name in ("coverage", "missing idf", "window coverage", "bm25 of ideal", "all matched",
                 "name coverage", "number coverage"):
        row[c[name]] = sentence_row[_SENT_COL[name]]
    text = index.text(sentence)
    qneg, sneg = bool(_NEGATION.search(q.text)), bool(_NEGATION.search(text))
    row[c["negation mismatch"]] = float(qneg != sneg)
    row[c["negation both"]] = float(qneg and sneg)
    words = {w.word for w in terms_mod.tokens(text)}
    row[c["singling missing"]] = sum(1 for m in _SINGLING.finditer(q.text)
                                     if m.group().lower() not in words)
    main = [(t, w * idf) for t, w, idf in zip(query.terms, query.weights, query.idf)
            if t not in query.cues]
    total = sum(max(x, 0.0) for _, x in main) or 1.0
    s = info(sentence)
    near = set(s.present).union(*(info(j).present for j in index.neighbours(sentence)))
    row[c["missing in text"]] = sum(x for t, x in main
                                    if t not in s.present and t in index.vocab) / total
    row[c["missing from text"]] = sum(x for t, x in main if t not in index.vocab) / total
    row[c["window missing"]] = sum(x for t, x in main if t not in near) / total
    row[c["names missing"]] = sum(1 for t in q.names if t not in near)
    row[c["numbers missing"]] = sum(1 for t in q.numbers if t not in near)
    row[c["question terms"]] = math.log1p(len(main))
    row[c["candidates"]] = math.log1p(len(logits))
    row[c[f"wh {q.wh}"]] = 1.0
    return row


def answer_confidence(lexical: np.ndarray, combined: np.ndarray, rank: int, reading, span,
                      span_text: str, question: str, agreement: float) -> np.ndarray:
    """One row of CONFIDENCE_FEATURES: the lexical row of the sentence chosen (at `rank` among
    the candidates, `combined` their combiner scores), and the reader's evidence for its span
    (qa.reader.Span, or None when it proposed none there; `agreement`: the share of the
    reading's probability on spans that say what it says)."""
    row = np.zeros(len(CONFIDENCE_FEATURES))
    c = _CONF_COL
    row[:len(LEXICAL_FEATURES)] = lexical
    log_norm = float(np.logaddexp.reduce(combined))
    row[c["combined logprob"]] = float(combined[rank]) - log_norm
    others = np.delete(combined, rank)
    row[c["combined margin"]] = min(float(combined[rank] - others.max()), CLIP) \
        if len(others) else 5.0
    n_windows = len(reading.nulls) if reading is not None else 0
    row[c["windows read"]] = n_windows
    if reading is not None and n_windows:
        best_in = {}
        for sp in reading.spans:
            best_in.setdefault(sp.window, sp.score)
        row[c["null margin"]] = float(np.clip(max(reading.nulls[w] - best_in.get(w, -CLIP)
                                                  for w in range(n_windows)), -CLIP, CLIP))
    if span is None:
        row[c["no span"]] = 1.0
        row[c["reader logprob"]] = -CLIP
        return row
    total = float(np.logaddexp.reduce(np.concatenate(
        [reading.nulls, [sp.score for sp in reading.spans]])))
    row[c["reader margin"]] = float(np.clip(span.score - reading.nulls[span.window], -CLIP, CLIP))
    row[c["reader logprob"]] = max(span.score - total, -CLIP)
    row[c["span words"]] = math.log1p(len(span_text.split()))
    row[c["span agreement"]] = agreement
    asked = {t.word for t in terms_mod.tokens(question)}
    content = [w for w in (t.word for t in terms_mod.tokens(span_text))
               if w not in terms_mod.STOPWORDS]
    row[c["answer in question"]] = (sum(w in asked for w in content) / len(content)
                                    if content else 1.0)
    return row
