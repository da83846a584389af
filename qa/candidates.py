"""The sentences and spans worth scoring for one question."""

from __future__ import annotations


import numpy as np

from qa import question as qmod
from qa.features import Query, coverage_idf
from qa.index import Index

# A sentence's BM25 gains this share of its best neighbour's (same paragraph), and this share of
# the rest of its paragraph's, in the pooled score that picks the candidates.
NEIGHBOUR_WEIGHT = 0.15
PARAGRAPH_WEIGHT = 0.05
# A question word in a section's heading counts for every sentence under it as this share of
# one occurrence in the sentence itself (at its IDF, or the highest IDF for a word only the
# headings use): "What is the budget?" finds the sentences under "Budget", ranked by their own
# words.
HEADING_WEIGHT = 0.5


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
    if index.sections:
        add_heading_scores(index, query, scores)
    return scores


def add_heading_scores(index: Index, query: Query, scores: np.ndarray) -> None:
    """Add HEADING_WEIGHT of a term's IDF to the sentences under a heading holding it."""
    headed = index.heading_terms
    top_idf = float(np.log((len(index) + 0.5) / 0.5))
    for t, w in zip(query.terms, query.weights):
        for k in headed.get(t, ()):
            idf = index.idf_of(t) if t in index.vocab else top_idf
            scores[index.section_members(k)] += w * HEADING_WEIGHT * idf


def hit_sentences(index: Index, terms: tuple[str, ...]) -> np.ndarray | None:
    """The sentences holding any of the terms, in order, read off the postings; None when
    they are so many that scanning every score is as quick."""
    parts = [index.docs[index.ptr[k]:index.ptr[k + 1]] for k in
             (index.vocab.get(t) for t in dict.fromkeys(terms)) if k is not None]
    headed = index.heading_terms if index.sections else {}
    parts += [index.section_members(k) for t in dict.fromkeys(terms) for k in headed.get(t, ())]
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


def containing(index: Index, terms: tuple[str, ...]) -> list[int]:
    """Sentences that contain any of these terms, in text order."""
    found: set[int] = set()
    for t in terms:
        k = index.vocab.get(t)
        if k is not None:
            found.update(int(d) for d in index.docs[index.ptr[k]:index.ptr[k + 1]])
    return sorted(found)
