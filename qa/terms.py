"""The one tokeniser for corpus and questions: normalise, split, drop stopwords, stem."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from qa.corpus import QUOTES_TO_ASCII

# Words and numbers, keeping inner hyphens, dots and apostrophes: "2018-2022", "u.s", "don't".
WORD = re.compile(r"[^\W_]+(?:[-'.][^\W_]+)*")

QUESTION_WORDS = frozenset("who whom whose what when where which why how".split())

# Our own list: function words only. Words that carry meaning in a question stay searchable
# (not, no, never, first, last, before, after, over, under, between, against, most, least).
STOPWORDS = frozenset("""
a about above again all also am an and any are aren't as at be because been being both but by
can can't cannot could couldn't did didn't do does doesn't doing don't down during each either
else etc ever for from further had hadn't has hasn't have haven't having he he'd he'll he's her
here here's hers herself him himself his i i'd i'll i'm i've if in into is isn't it it's its
itself just let's me mine more my myself neither of off on once only or other ought our ours
ourselves out own s same shall shan't she she'd she'll she's should shouldn't so some such t
than that that's the their theirs them themselves then there there's these they they'd they'll
they're they've this those through thus to too until up upon us very was wasn't we we'd we'll
we're we've were weren't what what's when when's where where's which while who who's whom whose
why why's will with won't would wouldn't yet you you'd you'll you're you've your yours yourself
yourselves via how many much tell told say said says please know give me list name
""".split()) - frozenset("told said says say tell".split())

_stemmer = None  # loaded on first use: a question made of known words never needs it
# Words whose terms are already known (from a loaded index): see `remember`.
_KNOWN: dict[str, tuple[str, ...]] = {}


@dataclass(frozen=True, slots=True)
class Token:
    """A word of a text: where it stands, how it reads, and its index term (None if stopped)."""

    start: int
    end: int
    word: str  # normalised surface form
    term: str | None


# A text is taken for English when at least this share of the words of its first
# ENGLISH_SAMPLE_CHARS are English stopwords: English prose runs at 40-55%, German, French or
# Spanish under 10%, text in Japanese or Chinese (runs of characters as words) near 0.
ENGLISH_STOPWORD_SHARE = 0.2
ENGLISH_SAMPLE_CHARS = 200_000
# Fewer words than this are too few to tell.
ENGLISH_MIN_WORDS = 20


def looks_english(text: str) -> bool:
    """Whether a text reads as English (by the share of its words that are stopwords)."""
    words = WORD.findall(text[:ENGLISH_SAMPLE_CHARS].lower())
    if len(words) < ENGLISH_MIN_WORDS:
        return True
    return sum(w in STOPWORDS for w in words) / len(words) >= ENGLISH_STOPWORD_SHARE


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    global _stemmer
    if word[0].isdigit() or not word.isascii() or "." in word or not word.isalnum() \
            and not any(c.isalpha() for c in word):
        return word  # as the stemmer would leave it ("-", "(" as the tagger splits them),
        # without importing it for that: 16 ms of a `qa -q`
    if _stemmer is None:
        _stemmer = english_stemmer()
    return _stemmer.stemWord(word)


def english_stemmer():
    """snowballstemmer's English stemmer, loaded without the package's __init__, which imports
    all 36 of its stemmers for the one used here (12 ms of a `qa -q`): its module is imported from
    the same folder as a private package's. Anything unexpected falls back to the plain import."""
    import importlib
    import importlib.util
    import sys
    import types

    private = __name__.rpartition(".")[0] + "._snowball"
    try:
        if private not in sys.modules:
            package = types.ModuleType(private)
            package.__path__ = list(importlib.util.find_spec("snowballstemmer")
                                    .submodule_search_locations)
            sys.modules[private] = package
        return importlib.import_module(private + ".english_stemmer").EnglishStemmer()
    except (ImportError, AttributeError, TypeError):
        sys.modules.pop(private, None)
        import snowballstemmer

        return snowballstemmer.stemmer("english")


def term_of(word: str) -> str | None:
    """The index term of one word as the text writes it (None for a stopword)."""
    found = _word_terms(normalise(word))
    return found[0] if found else None


def remember(word_terms: dict[str, tuple[str, ...]]) -> None:
    """Take these words' terms as known (the same as computing them, only faster)."""
    _KNOWN.update(word_terms)


def normalise(text: str) -> str:
    """Unicode-compatible, case-folded, ASCII quotes; the same length is not guaranteed."""
    return unicodedata.normalize("NFKC", text).translate(QUOTES_TO_ASCII).casefold()


def _word_terms(word: str) -> tuple[str, ...]:
    """Index terms of one normalised word; a hyphenated word also yields its parts."""
    known = _KNOWN.get(word)
    return known if known is not None else _new_word_terms(word)


@lru_cache(maxsize=200_000)
def _new_word_terms(word: str) -> tuple[str, ...]:
    if word.endswith("'s"):
        word = word[:-2]
    word = word.strip("'.")
    if not word or word in STOPWORDS:
        return ()
    if "-" in word:
        parts = [p for p in word.split("-") if p and p not in STOPWORDS]
        return (stem(word),) + tuple(stem(p) for p in parts)
    return (stem(word),)


def tokens(text: str) -> list[Token]:
    """Words of `text` with their offsets in `text` and their first index term."""
    return list(_tokens(text))


@lru_cache(maxsize=4096)  # a question reads its few candidate sentences many times
def _tokens(text: str) -> tuple[Token, ...]:
    out = []
    # Per-character normalisation keeps offsets; NFKC of a whole string could shift them.
    folded = text.translate(QUOTES_TO_ASCII)
    for m in WORD.finditer(folded):
        word = normalise(m.group())
        terms = _word_terms(word)
        out.append(Token(m.start(), m.end(), word, terms[0] if terms else None))
    return tuple(out)


def terms_and_tokens(text: str) -> tuple[list[str], list[Token]]:
    """`terms(text)` and `tokens(text)` in one reading of the text where they must agree: for
    ASCII text, normalising the whole text or each word gives the same words."""
    toks = tokens(text)
    if not text.isascii():
        return terms(text), toks
    return [t for tok in toks for t in _word_terms(tok.word)], toks


def terms(text: str, surfaces: dict[str, str] | None = None) -> list[str]:
    """Index terms of a text, in order, repeats kept (BM25 counts them).

    With `surfaces`, record the first word seen for each new term (to show a term as a word).
    """
    out: list[str] = []
    for m in WORD.finditer(normalise(text)):
        word_terms = _word_terms(m.group())
        out.extend(word_terms)
        if surfaces is not None:
            for k, term in enumerate(word_terms):
                if term not in surfaces:
                    surfaces[term] = m.group() if k == 0 else term
    return out
