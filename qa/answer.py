"""Question -> ranked sentences -> short answer -> an Answer value."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from qa import question as qmod
from qa import terms as terms_mod
from qa.extract import extract_spans
from qa.index import Index
from qa.sentences import Sentence

# How many BM25 candidates are re-ranked with the slower signals.
CANDIDATES = 30
# Final score = BM25 / best BM25 + these weights times each signal in 0..1.
COVERAGE_WEIGHT = 1.0  # IDF-weighted share of the question's terms the sentence contains
TYPE_WEIGHT = 0.35  # the sentence holds a span of the expected answer type
# Abstain when the best sentence covers less than this IDF-weighted share of the question.
MIN_COVERAGE = 0.5
# A query word not in the text, within this edit distance of a text word, is read as that word.
MAX_TYPO_EDITS = {4: 0, 5: 1, 8: 2}  # by word length: shorter words are not corrected


@dataclass(frozen=True)
class Hit:
    """A ranked sentence and the evidence for it."""

    sentence: Sentence
    score: float
    bm25: float
    coverage: float
    matched: tuple[str, ...]  # question terms the sentence contains


@dataclass(frozen=True)
class Answer:
    """The answer to one question; `to_json` is the JSON Lines schema."""

    question: str
    found: bool
    answer: str | None
    type: str
    hits: tuple[Hit, ...]
    spans: tuple[tuple[int, int], ...] = ()  # the short answer inside hits[0].sentence.text
    terms: tuple[str, ...] = ()  # the terms searched
    corrections: tuple[tuple[str, str], ...] = ()  # (word typed, word searched)
    notes: tuple[str, ...] = field(default=())

    def to_json(self) -> dict:
        return {
            "question": self.question,
            "found": self.found,
            "answer": self.answer,
            "type": self.type,
            "sentences": [{"text": h.sentence.text, "score": round(h.score, 4),
                           "source": h.sentence.source, "start": h.sentence.start,
                           "end": h.sentence.end} for h in self.hits],
        }


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, giving up (returning limit + 1) once it must exceed `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
        if min(cur) > limit:
            return limit + 1
        prev = cur
    return prev[-1]


def _typo_limit(word: str) -> int:
    limit = 0
    for length, edits in MAX_TYPO_EDITS.items():
        if len(word) >= length:
            limit = edits
    return limit


class Engine:
    """Answers questions over one index."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self._by_length: dict[int, list[str]] | None = None

    def correct(self, word: str) -> str | None:
        """The text's term nearest an unknown query word, within a length-aware edit limit."""
        limit = _typo_limit(word)
        if limit == 0 or not word.isalpha():
            return None
        if self._by_length is None:
            self._by_length = {}
            for surface in self.index.surfaces:
                self._by_length.setdefault(len(surface), []).append(surface)
        best, best_d, best_df = None, limit + 1, -1
        for n in range(len(word) - limit, len(word) + limit + 1):
            for cand in self._by_length.get(n, ()):
                d = _edit_distance(word, cand, limit)
                t = self.index.vocab.get(terms_mod.stem(cand), -1)
                df = int(self.index.df[t]) if t >= 0 else 0
                if d < best_d or (d == best_d and df > best_df):
                    best, best_d, best_df = cand, d, df
        return best if best_d <= limit else None

    def search_terms(self, q: qmod.Question) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
        """The question's terms with unknown words replaced by their nearest text word."""
        out, fixes = [], []
        words = {t.term: t.word for t in terms_mod.tokens(q.text) if t.term}
        for term in q.terms:
            if term in self.index.vocab:
                out.append(term)
                continue
            fixed = self.correct(words.get(term, term))
            if fixed:
                out.append(terms_mod.stem(fixed))
                fixes.append((words.get(term, term), fixed))
            else:
                out.append(term)
        return tuple(dict.fromkeys(out)), tuple(fixes)

    def ask(self, text: str, top: int = 3) -> Answer:
        """Answer one question: rank sentences, extract a short answer, or abstain."""
        text = text.strip()
        q = qmod.analyze_question(text)
        search, fixes = self.search_terms(q)
        index = self.index
        if not search:
            return Answer(question=text, found=False, answer=None, type=q.type, hits=(),
                          notes=("the question has no words to search for",))
        bm25 = index.scores(search)
        k = min(CANDIDATES, len(bm25))
        cand = np.argpartition(-bm25, k - 1)[:k] if k < len(bm25) else np.arange(len(bm25))
        cand = [int(i) for i in cand if bm25[i] > 0]
        if not cand:
            return Answer(question=text, found=False, answer=None, type=q.type, hits=(),
                          terms=search, corrections=fixes)
        best_bm25 = max(float(bm25[i]) for i in cand)
        # Known terms weigh by IDF; a term the text never uses weighs as the rarest term would.
        weights = {t: (index.idf_of(t) if t in index.vocab else float(index.idf.max()))
                   for t in search if t not in qmod.TYPE_CUE_TERMS}
        total = sum(max(w, 0.0) for w in weights.values()) or 1.0

        hits = []
        for i in cand:
            s = index.sentence(i)
            present = set(terms_mod.terms(s.text))
            matched = tuple(t for t in search if t in present)
            coverage = sum(max(weights.get(t, 0.0), 0.0) for t in matched) / total \
                if weights else 1.0
            typed = 0.0
            if q.type != qmod.SENTENCE and self._spans(s.text, q, matched):
                typed = 1.0
            score = (float(bm25[i]) / best_bm25 + COVERAGE_WEIGHT * coverage
                     + TYPE_WEIGHT * typed)
            hits.append(Hit(sentence=s, score=score, bm25=float(bm25[i]), coverage=coverage,
                            matched=matched))
        hits.sort(key=lambda h: (-h.score, h.sentence.index))
        best = hits[0]
        shown = tuple(hits[:max(1, top)])
        if best.coverage < MIN_COVERAGE:
            return Answer(question=text, found=False, answer=None, type=q.type, hits=shown,
                          terms=search, corrections=fixes)
        spans = self._spans(best.sentence.text, q, best.matched)
        answer = " and ".join(best.sentence.text[a:b] for a, b in spans) if spans \
            else best.sentence.text
        return Answer(question=text, found=True, answer=answer, type=q.type, hits=shown,
                      spans=tuple(spans), terms=search, corrections=fixes)

    def _spans(self, sentence: str, q: qmod.Question,
               matched: tuple[str, ...]) -> list[tuple[int, int]]:
        toks = terms_mod.tokens(sentence)
        anchors = [t.start for t in toks if t.term in matched]
        question_words = set(q.terms) | {t.word for t in terms_mod.tokens(q.text)}
        return extract_spans(sentence, q.type, question_words, anchors, q.focus,
                             self.index.is_common)
