"""The sentences and spans worth scoring for one question."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from qa import tagger
from qa import question as qmod
from qa.features import Query, coverage_idf
from qa.index import Index

# A sentence's BM25 gains this share of its best neighbour's (same paragraph), and this share of
# the rest of its paragraph's, in the pooled score that picks the candidates.
NEIGHBOUR_WEIGHT = 0.15
PARAGRAPH_WEIGHT = 0.05


def make_query(index: Index, question: qmod.Question, search: tuple[str, ...],
               context: dict[str, float] | None = None) -> Query:
    """The weighted terms to search: the question's own (corrected) terms, then carried ones."""
    extra = {t: float(w) for t, w in (context or {}).items()
             if w > 0 and t in index.vocab and t not in search}
    terms = tuple(search) + tuple(extra)
    weights = (1.0,) * len(search) + tuple(extra.values())
    cues = frozenset(t for t in search if t in qmod.CUE_TERMS | qmod.TYPE_CUE_TERMS) \
        if question.type != qmod.SENTENCE else frozenset(t for t in search
                                                          if t in qmod.TYPE_CUE_TERMS)
    from qa import terms as terms_mod

    words = tuple(t.word for t in terms_mod.tokens(question.text)
                  if t.word not in terms_mod.QUESTION_WORDS)
    return Query(question, terms, weights, cues, tuple(coverage_idf(index, t) for t in terms),
                 words)


def bm25_scores(index: Index, query: Query) -> np.ndarray:
    """BM25 of every sentence for the query's terms, each times its weight."""
    scores = np.zeros(len(index))
    for t, w in zip(query.terms, query.weights):
        k = index.vocab.get(t)
        if k is not None:
            lo, hi = index.ptr[k], index.ptr[k + 1]
            scores[index.docs[lo:hi]] += w * index.weights[lo:hi]
    return scores


def hit_sentences(index: Index, terms: tuple[str, ...]) -> np.ndarray | None:
    """The sentences holding any of the terms, in order, read off the postings; None when
    they are so many that scanning every score is as quick."""
    parts = [index.docs[index.ptr[k]:index.ptr[k + 1]] for k in
             (index.vocab.get(t) for t in dict.fromkeys(terms)) if k is not None]
    if sum(len(p) for p in parts) > len(index) // 16:
        return None
    docs = np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)
    return docs[np.concatenate(([True], docs[1:] != docs[:-1]))] if len(docs) else docs


def blend_scores(index: Index, bm25: np.ndarray, hits: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The sentences of every paragraph with a hit, and their BM25 blended with their
    neighbours' and paragraph's (sentence numbers, scores).

    Working on that pool, not on every sentence, keeps a question's cost proportional to the
    postings it touches (3 ms rather than 20 ms at a million sentences). `hits`, when known
    (`hit_sentences`), spares a scan of every score.
    """
    hit = np.flatnonzero(bm25) if hits is None else hits[bm25[hits] != 0]
    if not len(hit):
        return hit, np.zeros(0)
    # np.unique, without its first-call import of numpy.ma (17 ms of every `qa -q`)
    paras = np.sort(index.paragraphs[hit])
    paras = paras[np.concatenate(([True], paras[1:] != paras[:-1]))]
    lo = np.searchsorted(index.paragraphs, paras, side="left")
    lengths = np.searchsorted(index.paragraphs, paras, side="right") - lo
    seg = np.repeat(np.arange(len(paras)), lengths)
    pool = lo[seg] + (np.arange(len(seg)) - np.repeat(np.cumsum(lengths) - lengths, lengths))
    s = bm25[pool]
    near = np.zeros_like(s)
    same = seg[1:] == seg[:-1]
    near[1:] = np.where(same, s[:-1], 0.0)
    near[:-1] = np.maximum(near[:-1], np.where(same, s[1:], 0.0))
    paragraph = np.bincount(seg, weights=s)[seg]
    return pool, s + NEIGHBOUR_WEIGHT * near + PARAGRAPH_WEIGHT * (paragraph - s)


def sentence_candidates(index: Index, scores: np.ndarray, n: int,
                        hits: np.ndarray | None = None) -> tuple[list[int], np.ndarray]:
    """The n sentences with the best pooled score (sentence numbers, pooled scores), best
    first; `hits` as for `blend_scores`."""
    pool, pooled = blend_scores(index, scores, hits)
    keep = pooled > 0
    pool, pooled = pool[keep], pooled[keep]
    if len(pool) > n:
        first = np.argpartition(-pooled, n - 1)[:n]
        pool, pooled = pool[first], pooled[first]
    order = np.lexsort((pool, -pooled))
    return [int(i) for i in pool[order]], pooled[order]


# Dates: a rule that stays, as the tagger does not know which numbers are years or days. A
# date with its preposition ("in November 2017") is one span; so is a span of years.
_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
          r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
_DAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
# A year, a decade ("1970s") or a span of years ("1568-1609", "1759–60", "1973–74").
# Spans of years read whole: short-answer F1 1973 oil 0.494 -> 0.503, Huguenot 0.290 -> 0.307.
_YEAR = r"(?:1[0-9]{3}|20[0-9]{2})(?:s|[-–](?:1[0-9]{3}|20[0-9]{2}|[0-9]{2}(?![0-9])))?"
_ORD = r"\d{1,2}(?:st|nd|rd|th)?"
_DATE_CORE = (rf"(?:{_DAY}(?:,? {_MONTH} {_ORD})?(?:,? {_YEAR})?"
              rf"|(?:early |late |mid-?)?{_MONTH}(?: {_ORD})?(?:,? {_YEAR})?"
              rf"|{_ORD} {_MONTH}(?:,? {_YEAR})?"
              rf"|between {_YEAR} and {_YEAR}|{_YEAR} (?:to|and) {_YEAR}"
              rf"|(?:the )?(?:spring|summer|autumn|fall|winter) of {_YEAR}"
              rf"|(?:the )?(?:early |late |mid-?)?{_YEAR}"
              rf"|(?:the )?(?:\d{{1,2}}(?:st|nd|rd|th)|first|second|third|[a-z]+th) centur(?:y|ies)"
              rf"|(?:last|next|this|that) (?:week|month|year|decade|spring|summer|autumn|fall|winter)"
              rf"|yesterday|today|tomorrow|tonight|\d{{1,2}}:\d{{2}}(?: ?[ap]\.?m\.?)?)")
DATE = re.compile(rf"\b(?:in|by|since|until|from|around|about) (?:the )?[1-9][0-9]{{2,3}}s?\b"
                  rf"(?![-\u2013]\d| (?:to|and) \d)|"
                  rf"\b(?:(?:on|in|at|by|since|until|from|during|before|after|around) "
                  rf"(?:the )?)?(?:early |late |mid-)?{_DATE_CORE}\b", re.IGNORECASE)
# Case matters for month names ("may", "march" are common words) outside the prepositions.
# Lists: the items after a colon or "including" answer "what does it include?".
LIST_START = re.compile(r":\s*|\b(?:including|such as|includes|include|included|comprises|"
                        r"consists of|covers|namely)\s+", re.IGNORECASE)

def list_runs(text: str):
    """(cue, start, end) of each run of items after a colon or "including", up to the end of
    the sentence or clause, when it holds several ("a, b and c")."""
    for m in LIST_START.finditer(text):
        end = len(text.rstrip().rstrip(".!?"))
        stop = re.search(r"[.;!?](?:\s|$)", text[m.end():])
        if stop:
            end = m.end() + stop.start()
        if "," in text[m.end():end] or " and " in text[m.end():end]:
            yield m.group(), m.end(), end


_DATE_PREPOSITION = re.compile(r"(?i:on|in|at|by|since|until|from|during|before|after|around) "
                               r"(?:the )?")


def containing(index: Index, terms: tuple[str, ...]) -> list[int]:
    """Sentences that contain any of these terms, in text order."""
    found: set[int] = set()
    for t in terms:
        k = index.vocab.get(t)
        if k is not None:
            found.update(int(d) for d in index.docs[index.ptr[k]:index.ptr[k + 1]])
    return sorted(found)


# ---- spans ----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True, eq=False)  # compared by identity: a cheap cache key
class Span:
    """A phrase of a sentence that could be the short answer, and what kind of phrase it is."""

    start: int
    end: int
    kinds: frozenset[str]  # the tagger's chunk kinds, "date", "list", "rule" (the hand rules' pick)
    governor: str = ""  # the verb or preposition right before it, lower-cased


@lru_cache(maxsize=4096)
def span_candidates(text: str) -> tuple[Span, ...]:
    """The tagger's chunks of a sentence, its dates and its lists; one Span per distinct
    (start, end), with every kind that found it (kept for the last few thousand sentences)."""
    found: dict[tuple[int, int], tuple[set[str], str]] = {}

    def add(a: int, b: int, kind: str, governor: str = "") -> None:
        while b > a and text[b - 1] in " ,.;:":
            b -= 1
        if b <= a:
            return
        kinds, gov = found.setdefault((a, b), (set(), governor))
        kinds.add(kind)
        if governor and not gov:
            found[(a, b)] = (kinds, governor)

    for c in tagger.chunks(text):
        add(c.start, c.end, c.kind, c.governor)
        if c.role:
            add(c.start, c.end, c.role, c.governor)
    for m in DATE.finditer(text):
        a = m.start()
        lead = _DATE_PREPOSITION.match(text, a)  # "in 1066" answers as "1066"
        add(lead.end() if lead else a, m.end(), "date")
    for _, start, end in list_runs(text):
        add(start, end, "list")
    return tuple(Span(a, b, frozenset(k), g) for (a, b), (k, g) in sorted(found.items()))


@lru_cache(maxsize=4096)
def spans_with(text: str, rule: tuple[tuple[int, int], ...]) -> tuple[Span, ...]:
    """The sentence's spans with the hand rules' pick marked "rule" (added if no chunk has it)."""
    if not rule:
        return span_candidates(text)
    out, seen = [], set()
    for s in span_candidates(text):
        if (s.start, s.end) in rule:
            s = Span(s.start, s.end, s.kinds | {"rule"}, s.governor)
            seen.add((s.start, s.end))
        out.append(s)
    out += [Span(a, b, frozenset({"rule"})) for a, b in rule if (a, b) not in seen and b > a]
    return tuple(sorted(out, key=lambda s: (s.start, s.end)))


# ---- yes/no evidence and groups of people -------------------------------------------------------

# A clause longer than this is shown from the question's first word in it.
CLAUSE_MAX_WORDS = 12
_CLAUSE_SPLIT = re.compile(r"[,;:]\s+|\s+[\u2013\u2014-]\s+")
# A tie-break, far below a word: per place later in the question.
QUESTION_ORDER_BONUS = 0.001


def evidence_clause(text: str, anchors: list[int],
                    anchor_order: dict[int, int] | None = None) -> list[tuple[int, int]]:
    """For a yes/no question, the clause of the sentence that holds most of the question's
    words ("..., cooperation in terrestrial remote sensing data and other issues"). Between
    clauses that hold as many, the one with the question's later word wins ("Does the plan
    include [satellites]?")."""
    bounds = [0] + [m.end() for m in _CLAUSE_SPLIT.finditer(text)] + [len(text)]
    if not anchors or len(bounds) == 2:
        return []  # nothing matched, or one clause: the sentence itself
    order = anchor_order or {}

    def held(b: tuple[int, int]) -> float:
        inside = [a for a in anchors if b[0] <= a < b[1]]
        return len(inside) + QUESTION_ORDER_BONUS * max((order.get(a, 0) for a in inside),
                                                        default=0)

    lo, hi = max(zip(bounds, bounds[1:]), key=held)
    if len(text[lo:hi].split()) > CLAUSE_MAX_WORDS:
        lo = min(a for a in anchors if lo <= a < hi)  # a long clause, from its first match
    piece = text[lo:hi]
    end = lo + len(piece.rstrip().rstrip(",;:.!?\u2013\u2014-").rstrip())
    return [(lo, end)] if end > lo else []


def joined(between: str) -> bool:
    """The words between two names join them as one group ("X, and the director of Y, Z")."""
    return bool(re.search(r"\band\b", between)) and len(between.split()) <= 20 \
        and not re.search(r"[;.!?]|\b(?:said|told|says|while|but)\b", between)

