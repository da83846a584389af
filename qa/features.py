"""Named feature vectors for a (question, sentence) and a (question, span) pair."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

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


# ---- spans ----------------------------------------------------------------------------------

SPAN_KINDS = ("name", "noun", "number", "date", "verb", "predicate", "clause", "adjective",
              "object", "pobj", "list", "rule")
# Words that govern a phrase and say something of what it answers ("by" a person or a means,
# "in" a place or a time, "to" a purpose); any other verb counts as "verb", else "other".
GOVERNORS = ("by", "in", "on", "at", "from", "to", "of", "for", "with", "as", "since", "during",
             "after", "before", "into", "about", "between", "than", "under", "through", "like",
             "called", "named", "known", "verb", "other", "none")
_TAG_GROUPS = {"PROPN": "propn", "NOUN": "noun", "NUM": "num", "VERB": "verb", "AUX": "verb",
               "ADJ": "adj", "ADP": "adp", "DET": "det", "PRON": "pron"}
TAG_GROUPS = ("propn", "noun", "num", "verb", "adj", "adp", "det", "pron", "other")
LENGTHS = ("1", "2", "3", "4-5", "6-8", "9+")

SPAN_BASE = (
    "overlap share", "overlap any", "overlap all", "distance", "adjacent", "between anchors",
    "before anchors", "after anchors", "anchors near", "length", "capitals", "digit", "year",
    "month", "focus after", "focus inside", "focus head", "verb before", "verb after",
    "in brackets", "after comma", "before comma", "position", "rule overlap",
    "names new", "question name inside", "weighted proximity", "partial overlap",
    "left in question", "right in question", "focus near", "order agrees", "order disagrees",
    "same kind count", "sentence start", "governed by question verb",
)
# The word right after a span says what it is part of ("X of ...", "X, who ...", "X (...").
RIGHT_WORDS = ("of", "and", "in", "to", "was", "is", "were", "are", ",", ".", "(", "who",
               "which", "that", "for", "as", "by", "with", "on", "'s", "other")
# Span features that mean something else for each question word ("a capitalised span" is good
# for who, bad for when): crossed with it.
_CROSSED = ("capitals", "digit", "year", "month", "overlap share", "distance", "after comma",
            "in brackets", "focus after", "sentence start", "order agrees")
SPAN_FEATURES = (SPAN_BASE
                 + tuple(f"kind {k}" for k in SPAN_KINDS)
                 + tuple(f"{w} x kind {k}" for w in qmod.WH for k in SPAN_KINDS)
                 + tuple(f"{w} x gov {g}" for w in qmod.WH for g in GOVERNORS)
                 + tuple(f"{w} x length {n}" for w in qmod.WH for n in LENGTHS)
                 + tuple(f"{w} x first {g}" for w in qmod.WH for g in TAG_GROUPS)
                 + tuple(f"{w} x last {g}" for w in qmod.WH for g in TAG_GROUPS)
                 + tuple(f"{t} x kind {k}" for t in TYPES for k in SPAN_KINDS)
                 + tuple(f"{w} x right {x}" for w in qmod.WH for x in RIGHT_WORDS)
                 + tuple(f"{w} x {x}" for w in qmod.WH
                         for x in _CROSSED))
_SPAN_COL = {name: k for k, name in enumerate(SPAN_FEATURES)}
_RIGHT = frozenset(RIGHT_WORDS)


def _length_bucket(n: int) -> str:
    return "1" if n <= 1 else "2" if n == 2 else "3" if n == 3 else "4-5" if n <= 5 \
        else "6-8" if n <= 8 else "9+"


def _sides_of_wh(q: qmod.Question) -> tuple[set[str], set[str]]:
    """The question's content terms before its question word, and after it."""
    at = next((t.start for t in q.tokens if t.word in terms_mod.QUESTION_WORDS), None)
    if at is None:
        return set(), set()
    before = {t.term for t in q.tokens if t.term and t.start < at}
    after = {t.term for t in q.tokens if t.term and t.start > at}
    return before, after


def _first_at_or_after(starts: list[int], pos: int) -> int:
    from bisect import bisect_left

    return bisect_left(starts, pos)


@dataclass(frozen=True, eq=False)
class _SpanTable:
    """What span features need of one sentence and its spans, whatever the question."""

    terms: tuple[str | None, ...]  # each tagger word's index term
    a: np.ndarray  # first word of each span
    b: np.ndarray  # one past its last word
    base: np.ndarray  # SPAN_BASE rows with the question-independent columns filled in
    categories: np.ndarray  # per span: [governor, length, first, last, right] as indices
    kinds: np.ndarray  # per span: its SPAN_KINDS indices, padded with len(SPAN_KINDS)
    content: np.ndarray  # per word: has an index term
    n_content: np.ndarray  # per span: its words with an index term
    last_content: np.ndarray  # per span: its last word with an index term (-1: none)
    propn: np.ndarray  # per word: tagged PROPN
    first: dict[str, int]  # per term: where it first stands
    last: dict[str, int]  # per term: where it last stands


_GOV_INDEX = {g: k for k, g in enumerate(GOVERNORS)}
_LEN_INDEX = {n: k for k, n in enumerate(LENGTHS)}
_TAG_INDEX = {g: k for k, g in enumerate(TAG_GROUPS)}
_RIGHT_INDEX = {w: k for k, w in enumerate(RIGHT_WORDS)}
_KIND_INDEX = {k: n for n, k in enumerate(SPAN_KINDS)}
_STATIC = ("length", "capitals", "digit", "year", "month", "in brackets", "after comma",
           "before comma", "position", "sentence start", "same kind count", "rule overlap")


@lru_cache(maxsize=4096)
def _span_table(text: str, spans: tuple) -> _SpanTable:
    from bisect import bisect_left

    from qa import tagger

    toks = tagger.tagged(text)
    terms = tuple(terms_mod.term_of(t.text) for t in toks)
    starts = [t.start for t in toks]
    n_tok = len(toks) or 1
    kind_counts: dict[str, int] = {}
    for sp in spans:
        for k in sp.kinds:
            kind_counts[k] = kind_counts.get(k, 0) + 1
    rules = [(sp.start, sp.end) for sp in spans if "rule" in sp.kinds]
    a_list, b_list, cats = [], [], []
    static = np.zeros((len(spans), len(_STATIC)))
    kinds = np.full((len(spans), max((len(sp.kinds) for sp in spans), default=0)),
                    len(SPAN_KINDS))
    for r, sp in enumerate(spans):
        a = bisect_left(starts, sp.start)
        b = max(a + 1, bisect_left(starts, sp.end))
        a_list.append(a)
        b_list.append(b)
        piece = text[sp.start:sp.end]
        words = piece.split()
        before = text[:sp.start].rstrip()
        static[r] = (math.log(b - a), sum(w[:1].isupper() for w in words) / len(words),
                     bool(_DIGIT.search(piece)), bool(_YEAR.search(piece)),
                     bool(_MONTH.search(piece)),
                     before.endswith("(") and text[sp.end:sp.end + 1] == ")",
                     before.endswith(","), text[sp.end:sp.end + 1] == ",", a / n_tok, a == 0,
                     math.log(max(kind_counts[k] for k in sp.kinds)) if sp.kinds else 0.0,
                     any(x < sp.end and sp.start < y for x, y in rules))
        gov = sp.governor
        if gov and gov not in _GOV_INDEX:
            gov = "verb" if a and toks[a - 1].tag in ("VERB", "AUX") else "other"
        right = toks[b].text.lower() if b < len(toks) else "."
        first = _TAG_GROUPS.get(toks[a].tag, "other") if a < len(toks) else None
        last = _TAG_GROUPS.get(toks[b - 1].tag, "other") if a < len(toks) else None
        cats.append((_GOV_INDEX[gov or "none"], _LEN_INDEX[_length_bucket(b - a)],
                     len(TAG_GROUPS) if first is None else _TAG_INDEX[first],
                     len(TAG_GROUPS) if last is None else _TAG_INDEX[last],
                     _RIGHT_INDEX[right if right in _RIGHT else "other"]))
        kinds[r, :len(sp.kinds)] = [_KIND_INDEX[k] for k in sp.kinds]
    a_arr = np.array(a_list, dtype=np.int64)
    b_arr = np.array(b_list, dtype=np.int64)
    base = np.zeros((len(spans), len(SPAN_BASE)))
    base[:, _STATIC_COLS] = static
    content = np.array([t is not None for t in terms], dtype=bool)
    last_word = np.full(len(terms) + 1, -1)
    for k in range(len(terms)):
        last_word[k + 1] = k if content[k] else last_word[k]
    first_at: dict[str, int] = {}
    last_at: dict[str, int] = {}
    for k, t in enumerate(terms):
        if t:
            first_at.setdefault(t, k)
            last_at[t] = k
    return _SpanTable(terms, a_arr, b_arr, base, np.array(cats, dtype=np.int64).reshape(-1, 5),
                      kinds, content, _window(_prefix(content), a_arr, b_arr),
                      last_word[np.clip(b_arr, 0, len(terms))],
                      np.array([t.tag == "PROPN" for t in toks], dtype=bool), first_at, last_at)


def _prefix(flags) -> np.ndarray:
    out = np.zeros(len(flags) + 1)
    np.cumsum(flags, out=out[1:])
    return out


def _window(prefix: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """How many flagged words in [lo, hi), per span, clipped to the sentence."""
    n = len(prefix) - 1
    return prefix[np.minimum(np.maximum(hi, 0), n)] - prefix[np.minimum(np.maximum(lo, 0), n)]


@dataclass(frozen=True, eq=False)
class SpanRows:
    """SPAN_FEATURES rows of one sentence's spans, kept as what they are: a few dense columns
    (SPAN_BASE) and, per row, the one-hot columns that are 1. A 1,284-wide matrix per sentence
    costs more to fill than to score; `rows @ weights` scores without one, `dense()` makes it."""

    base: np.ndarray  # n x len(SPAN_BASE)
    hot: np.ndarray  # n x m columns set to 1.0 (_NONE: no column)
    crossed: np.ndarray  # where this question word's copies of the _CROSSED columns go

    def __len__(self) -> int:
        return len(self.base)

    def __matmul__(self, weights: np.ndarray) -> np.ndarray:
        """rows @ weights, for a vector of weights or a matrix (a column per output)."""
        padding = self.hot == _NONE
        hot = weights[np.where(padding, 0, self.hot)]
        hot[padding] = 0.0
        return (self.base @ weights[:_N_BASE] + self.base[:, _CROSSED_COLS] @ weights[self.crossed]
                + hot.sum(axis=1))

    def dense(self) -> np.ndarray:
        out = np.zeros((len(self), _NONE + 1))
        out[:, :_N_BASE] = self.base
        out[np.arange(len(self))[:, None], self.hot] = 1.0
        out[:, self.crossed] = self.base[:, _CROSSED_COLS]
        return out[:, :_NONE]

    def __getitem__(self, k: int) -> np.ndarray:
        """Row k, dense."""
        k = range(len(self))[k]  # IndexError past the end
        return SpanRows(self.base[k:k + 1], self.hot[k:k + 1], self.crossed).dense()[0]

    def __iter__(self):
        return iter(self.dense())


def span_features(query: Query, text: str, spans: tuple) -> SpanRows:
    """One row of SPAN_FEATURES per candidate span of one sentence (`spans` as
    candidates.span_candidates gives them)."""
    table = _span_table(text, spans)
    q = query.question
    terms, a, b = table.terms, table.a, table.b
    n_tok = len(terms)
    if not len(spans):
        return SpanRows(np.zeros((0, _N_BASE)), np.zeros((0, 0), dtype=np.int64),
                        _WH_CROSSED[q.wh])
    out = table.base.copy()
    col = _SPAN_COL
    own = set(query.terms)
    qwords = set(query.words)
    content = table.content
    is_own = np.array([t is not None and t in own for t in terms], dtype=bool)
    overlaps = np.array([t is not None and (t in own or t in qwords) for t in terms], dtype=bool)
    n_content = table.n_content
    n_overlap = _window(_prefix(overlaps), a, b)
    has = n_content > 0
    share = np.divide(n_overlap, n_content, out=np.zeros(len(spans)), where=has)
    out[:, col["overlap share"]] = share
    out[:, col["overlap any"]] = has & (n_overlap > 0)
    out[:, col["overlap all"]] = has & (n_overlap == n_content)
    out[:, col["partial overlap"]] = has & (n_overlap > 0) & (n_overlap < n_content)
    anchors = np.flatnonzero(is_own)
    if len(anchors):
        idf = dict(zip(query.terms, query.idf))
        weights = np.array([idf.get(terms[k], 0.0) for k in anchors])
        mass = float(weights.sum()) or 1.0
        left = anchors[None, :] < a[:, None]
        right = anchors[None, :] >= b[:, None]
        outside = left | right
        dist = np.where(left, a[:, None] - anchors[None, :], anchors[None, :] - b[:, None] + 1)
        any_out = outside.any(axis=1)
        d = np.where(outside, dist, 10 ** 9).min(axis=1)
        out[:, col["distance"]] = np.where(any_out, np.log1p(np.minimum(d, 10 ** 8)), 0.0)
        out[:, col["adjacent"]] = any_out & (d <= 1)
        out[:, col["before anchors"]] = any_out & ~left.any(axis=1)
        out[:, col["after anchors"]] = any_out & ~right.any(axis=1)
        out[:, col["between anchors"]] = left.any(axis=1) & right.any(axis=1)
        near = outside & (anchors[None, :] >= a[:, None] - 4) & (anchors[None, :] < b[:, None] + 4)
        out[:, col["anchors near"]] = near.sum(axis=1) / len(anchors)
        out[:, col["weighted proximity"]] = (np.where(outside, np.exp(-dist / 4), 0.0)
                                             @ weights) / mass
    if q.focus_term:
        focus = np.array([t == q.focus_term for t in terms], dtype=bool)
        fp = _prefix(focus)
        out[:, col["focus after"]] = (b < n_tok) & focus[np.minimum(b, n_tok - 1)]
        out[:, col["focus inside"]] = _window(fp, a, b) > 0
        lc = table.last_content
        out[:, col["focus head"]] = (lc >= a) & focus[np.maximum(lc, 0)]
        out[:, col["focus near"]] = (_window(fp, a - 3, a) + _window(fp, b, b + 3)) > 0
    if q.verb:
        verb = np.array([t is not None and t == q.verb for t in terms], dtype=bool)
        vp = _prefix(verb)
        out[:, col["verb before"]] = _window(vp, a - 3, a) > 0
        out[:, col["verb after"]] = _window(vp, b, b + 3) > 0
        before1 = verb[np.maximum(a - 1, 0)] & (a > 0)
        before2 = verb[np.maximum(a - 2, 0)] & (a > 1)
        out[:, col["governed by question verb"]] = before1 | before2
    names = set(q.names)
    if names:
        named = np.array([t is not None and t in names for t in terms], dtype=bool)
        out[:, col["question name inside"]] = _window(_prefix(named), a, b) > 0
    new_names = table.propn & np.array([t not in own for t in terms], dtype=bool)
    out[:, col["names new"]] = _window(_prefix(new_names), a, b) > 0
    out[:, col["left in question"]] = (a > 0) & is_own[np.maximum(a - 1, 0)]
    out[:, col["right in question"]] = (b < n_tok) & is_own[np.minimum(b, n_tok - 1)]
    before_wh, after_wh = _sides_of_wh(q)
    sided = len(before_wh) + len(after_wh)
    if sided:
        first, last = table.first, table.last

        def counts(side: set[str], pos: dict[str, int], lo: bool) -> np.ndarray:
            ps = np.array([pos[t] for t in side if t in pos], dtype=np.int64)
            if not len(ps):
                return np.zeros(len(spans))
            return ((ps[None, :] < a[:, None]) if lo else (ps[None, :] >= b[:, None])).sum(axis=1)
        agree = counts(before_wh, first, True) + counts(after_wh, last, False)
        disagree = counts(before_wh, last, False) + counts(after_wh, first, True)
        out[:, col["order agrees"]] = agree / sided
        out[:, col["order disagrees"]] = disagree / sided
    wh, kinds, cats = q.wh, table.kinds, table.categories
    hot = np.hstack([_KIND_COLS[kinds], _WH_KIND[wh][kinds], _TYPE_KIND[q.type][kinds],
                     _WH_GOV[wh][cats[:, 0:1]], _WH_LEN[wh][cats[:, 1:2]],
                     _WH_FIRST[wh][cats[:, 2:3]], _WH_LAST[wh][cats[:, 3:4]],
                     _WH_RIGHT[wh][cats[:, 4:5]]])
    return SpanRows(out, hot, _WH_CROSSED[wh])


_N_BASE = len(SPAN_BASE)  # SPAN_FEATURES opens with SPAN_BASE
_NONE = len(SPAN_FEATURES)  # the column a missing one-hot column points at (weight 0)


def _hot(names: list[str]) -> np.ndarray:
    """Column numbers, with _NONE last for the padding index len(names)."""
    return np.array([_SPAN_COL[n] for n in names] + [_NONE])


def _columns(template: str, values) -> dict[str, np.ndarray]:
    return {w: _hot([template.format(w=w, x=x) for x in values]) for w in qmod.WH}


_KIND_COLS = _hot([f"kind {k}" for k in SPAN_KINDS])
_WH_KIND = _columns("{w} x kind {x}", SPAN_KINDS)
_TYPE_KIND = {t: _hot([f"{t} x kind {k}" for k in SPAN_KINDS]) for t in TYPES}
_WH_GOV = _columns("{w} x gov {x}", GOVERNORS)
_WH_LEN = _columns("{w} x length {x}", LENGTHS)
_WH_FIRST = _columns("{w} x first {x}", TAG_GROUPS)
_WH_LAST = _columns("{w} x last {x}", TAG_GROUPS)
_WH_RIGHT = _columns("{w} x right {x}", RIGHT_WORDS)
_WH_CROSSED = {w: cols[:-1] for w, cols in _columns("{w} x {x}", _CROSSED).items()}
_CROSSED_COLS = np.array([_SPAN_COL[x] for x in _CROSSED])
_STATIC_COLS = np.array([_SPAN_COL[x] for x in _STATIC])


# ---- confidence -----------------------------------------------------------------------------

_NEGATION = re.compile(r"\b(?:not|no|never|none|nor|neither|without|nothing|nobody|cannot|"
                       r"no longer)\b|n't\b", re.IGNORECASE)
# Superlatives and words that single one thing out: an unanswerable question often swaps one
# ("the largest" for "the smallest") and keeps every other word of its sentence.
_SINGLING = re.compile(r"\b(?:most|least|first|last|only|best|worst|\w{3,}est)\b", re.IGNORECASE)

CONFIDENCE_BASE = (
    "sentence logprob", "sentence margin", "sentence logit", "span logprob", "span margin",
    "joint margin", "first sentence chosen", "coverage", "missing idf", "window coverage",
    "bm25 of ideal", "all matched", "name coverage", "number coverage", "negation mismatch",
    "negation both", "singling missing", "missing in text", "missing from text",
    "window missing", "names missing", "numbers missing", "question terms", "candidates",
    "span length", "span overlap", "no span", "span mass", "agreement",
)
CONFIDENCE_FEATURES = (CONFIDENCE_BASE + tuple(f"wh {w}" for w in qmod.WH)
                       + tuple(f"span {k}" for k in SPAN_KINDS))
_CONF_COL = {name: k for k, name in enumerate(CONFIDENCE_FEATURES)}
_SENT_COL = {name: k for k, name in enumerate(SENTENCE_FEATURES)}


def confidence_features(index: Index, query: Query, info: SentenceCache, sentence: int,
                        sentence_row: np.ndarray, logits: np.ndarray, rank: int,
                        span_logprob: float | None, span_margin: float, joint_margin: float,
                        span_row: np.ndarray | None, span_kinds: frozenset[str],
                        span_mass: float = 0.0, agreement: float = 0.0) -> np.ndarray:
    """What says how sure the answer is: the models' margins, how much of the question the
    sentence leaves out, and the marks of a question written to look answerable."""
    row = np.zeros(len(CONFIDENCE_FEATURES))
    c = _CONF_COL
    q = query.question
    top = np.sort(logits)[::-1]
    log_norm = float(top[0] + np.log(np.exp(logits - top[0]).sum()))
    row[c["sentence logprob"]] = float(logits[rank]) - log_norm
    row[c["sentence margin"]] = float(top[0] - top[1]) if len(top) > 1 else 5.0
    row[c["sentence logit"]] = float(logits[rank])
    row[c["first sentence chosen"]] = float(logits[rank] >= top[0])
    if span_logprob is None:
        row[c["no span"]] = 1.0
    else:
        row[c["span logprob"]] = span_logprob
        row[c["span margin"]] = span_margin
        row[c["joint margin"]] = joint_margin
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
    row[c["span mass"]] = span_mass
    row[c["agreement"]] = agreement
    if span_row is not None:
        row[c["span length"]] = span_row[_SPAN_COL["length"]]
        row[c["span overlap"]] = span_row[_SPAN_COL["overlap share"]]
    row[c[f"wh {q.wh}"]] = 1.0
    for k in span_kinds:
        row[c[f"span {k}"]] = 1.0
    return row
