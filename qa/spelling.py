"""Words the text does not contain, read as the nearest word it does: typos, missing accents.

A word is a typo only when neither the text nor English knows it (the reader's WordPiece
vocabulary has 22,500 whole English words): "founded" over a text that says "founder" is a
word, not a typo. A correction adds the corrected term to the search; the word as typed stays.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import numpy as np

from qa import terms as terms_mod
from qa.index import Index

# A query word not in the text, within this edit distance of a text word, is read as that word.
MAX_TYPO_EDITS = {4: 0, 5: 1, 8: 2}  # by word length: shorter words are not corrected
# Beyond this many corrections a question is not a typo but noise: its other words stay as typed
# (bounds the time a 2,000-character question of unknown words can take).
MAX_CORRECTIONS = 8


class Speller:
    """Corrects query words against one index's vocabulary."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self._by_length: dict[int, list[str]] | None = None
        self._folded: dict[str, str] | None = None
        self._letter_counts: dict[int, np.ndarray] = {}

    def correct(self, word: str) -> str | None:
        """The text's term nearest an unknown query word, within a length-aware edit limit."""
        if self._folded is None:
            # Only words with accents can be typed without them: a few, however big the text.
            self._folded = {}
            for surface in self.index.surfaces:
                if not surface.isascii():
                    self._folded.setdefault(_fold(surface), surface)
        same = self._folded.get(_fold(word))
        if same is not None and same != word:
            return same  # "Herve" for "Hervé": the same letters, accents left out
        limit = _typo_limit(word)
        if limit == 0 or not word.isalpha():
            return None
        if self._by_length is None:
            self._by_length = {}
            for surface in self.index.surfaces:
                self._by_length.setdefault(len(surface), []).append(surface)
        best, best_d, best_df = None, limit + 1, -1
        for n in range(len(word) - limit, len(word) + limit + 1):
            for cand in self._near_in_letters(word, n, limit):
                if cand[0] != word[0]:
                    continue  # typos rarely hit the first letter; "father" is not "rather"
                d = _edit_distance(word, cand, limit)
                t = self.index.vocab.get(terms_mod.term_of(cand) or "", -1)
                df = int(self.index.df[t]) if t >= 0 else 0
                if d < best_d or (d == best_d and df > best_df):
                    best, best_d, best_df = cand, d, df
        return best if best_d <= limit else None

    def _near_in_letters(self, word: str, n: int, limit: int) -> list[str]:
        """Text words of length n whose letter counts could be within `limit` edits of word.

        An edit changes at most two letter counts by one, so a word whose counts differ by
        more than 2 x limit cannot be that near: the edit distance then runs on a few words,
        not on the whole vocabulary (which grows with the corpus).
        """
        words = self._by_length.get(n, ())
        if not words:
            return []
        counts = self._letter_counts.get(n)
        if counts is None:
            counts = self._letter_counts[n] = _letter_counts(words, n)
        mine = _letter_counts([word], len(word))[0]
        return [words[i] for i in np.flatnonzero(np.abs(counts - mine).sum(axis=1) <= 2 * limit)]

    def search_terms(self, terms: tuple[str, ...], toks: tuple[terms_mod.Token, ...]
                     ) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
        """The question's terms, each followed by its nearest text word's term when it is a
        typo (unknown to the text and to English), and the (typed, searched) corrections."""
        out, fixes = [], []
        words = {t.term: t.word for t in toks if t.term}
        for term in terms:
            out.append(term)
            if term in self.index.vocab or len(fixes) >= MAX_CORRECTIONS \
                    or (self.index.sections and term in self.index.heading_terms):
                continue
            typed = words.get(term, term)
            if typed in english_words():
                continue
            fixed = self.correct(typed)
            if fixed:
                out.append(terms_mod.term_of(fixed) or term)
                fixes.append((typed, fixed))
        return tuple(dict.fromkeys(out)), tuple(fixes)


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Whole English words (lower case) of the reader's WordPiece vocabulary; empty if that
    file cannot be read (the reader says so when it loads)."""
    from qa.reader import VOCAB_PATH

    try:
        pieces = VOCAB_PATH.read_text(encoding="utf-8").split("\n")
    except (OSError, ValueError):
        return frozenset()
    return frozenset(w for w in pieces if w.isalpha() and len(w) > 1)


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Edit distance with two neighbouring letters swapped as one edit ("bakeyr" is one edit
    from "bakery"; optimal string alignment), giving up (returning limit + 1) once it must
    exceed `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], before[j - 2] + 1)
        if min(cur) > limit and (i == len(a) or min(prev) > limit):
            return limit + 1
        before, prev = prev, cur
    return prev[-1]


def _letter_counts(words: list[str], n: int) -> np.ndarray:
    """Per word of length n: how many of each letter a-z, and of any other character."""
    codes = np.frombuffer("".join(words).encode("utf-32-le"), dtype=np.uint32).reshape(-1, n)
    slots = np.where((codes >= 97) & (codes <= 122), codes - 97, 26).astype(np.int64)
    rows = np.arange(len(words), dtype=np.int64)[:, None] * 27
    return np.bincount((rows + slots).ravel(), minlength=27 * len(words)).reshape(-1, 27)


def _fold(word: str) -> str:
    """A word without its accents: "hervé" -> "herve"."""
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


def _typo_limit(word: str) -> int:
    limit = 0
    for length, edits in MAX_TYPO_EDITS.items():
        if len(word) >= length:
            limit = edits
    return limit
