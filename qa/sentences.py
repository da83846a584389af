"""Split cleaned documents into sentences with Punkt trained on the text itself."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from qa.corpus import QUOTES_TO_ASCII, Document

# Punkt learns abbreviations and sentence starters from the text; a couple of megabytes is
# plenty for that, and training on a whole book-sized corpus would dominate the index build.
PUNKT_TRAIN_CHARS = 2_000_000
# A "sentence" with fewer words than this (a dateline like "TASS /.") joins the next one.
MIN_SENTENCE_WORDS = 3
# Text with no sentence ends (a scraped table, a log line) is cut into pieces of at most this
# many characters, so one "sentence" cannot be a whole file.
MAX_SENTENCE_CHARS = 2000
_WORD = re.compile(r"[^\W_]{2,}")


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence: its text and where it stands in its source file."""

    text: str
    source: str
    index: int  # position among all loaded sentences, from 0
    start: int  # character offsets in the original file: original[start:end] is this sentence
    end: int
    paragraph: int  # paragraph number among all loaded paragraphs, from 0


# Distinct Punkt break contexts remembered per load ("word. Next"); a book has far fewer
# distinct ones than breaks, so most decisions become one dict look-up.
BREAK_CACHE_SIZE = 500_000


def _tokenizer(text: str):
    # Imported here: nltk costs ~0.2 s to import, and only index building needs it.
    from functools import lru_cache

    from nltk.tokenize.punkt import PunktSentenceTokenizer, PunktTrainer

    trainer = PunktTrainer()
    trainer.INCLUDE_ALL_COLLOCS = True
    trainer.train(text[:PUNKT_TRAIN_CHARS], finalize=True)
    tokenizer = PunktSentenceTokenizer(trainer.get_params())
    # A pure function of its argument once trained: memoised, it returns the same decisions.
    tokenizer.text_contains_sentbreak = lru_cache(BREAK_CACHE_SIZE)(
        tokenizer.text_contains_sentbreak)
    return tokenizer


def _training_text(texts: list[str]) -> str:
    """What Punkt learns from: all the text, or an equal share of each document's start."""
    if sum(len(t) for t in texts) <= PUNKT_TRAIN_CHARS:
        return "\n\n".join(texts).translate(QUOTES_TO_ASCII)
    share = max(1, PUNKT_TRAIN_CHARS // len(texts))
    return "\n\n".join(t[:share] for t in texts).translate(QUOTES_TO_ASCII)


def _spans(tokenizer, text: str) -> list[tuple[int, int]]:
    """Punkt spans of a paragraph, with fragments joined to their neighbour.

    A piece with too few words (a dateline) joins the next sentence; a piece starting in
    lower case ("... on implementation. technical aspect") continues the previous one.
    """
    spans: list[tuple[int, int]] = []
    pending: tuple[int, int] | None = None
    for start, end in tokenizer.span_tokenize(text):
        if pending is not None:
            start = pending[0]
            pending = None
        if spans and text[start].islower():
            spans[-1] = (spans[-1][0], end)
        elif len(_WORD.findall(text, start, end)) < MIN_SENTENCE_WORDS:
            pending = (start, end)
        else:
            spans.append((start, end))
    if pending is not None:
        if spans:
            spans[-1] = (spans[-1][0], pending[1])
        else:
            spans.append(pending)
    return [piece for span in spans for piece in _cap(text, *span)]


def _cap(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """A span longer than MAX_SENTENCE_CHARS cut at spaces into pieces no longer than that."""
    pieces = []
    while end - start > MAX_SENTENCE_CHARS:
        cut = text.rfind(" ", start + MAX_SENTENCE_CHARS // 2, start + MAX_SENTENCE_CHARS)
        if cut <= start:
            cut = start + MAX_SENTENCE_CHARS
        piece_end = cut
        while piece_end > start and text[piece_end - 1].isspace():
            piece_end -= 1
        pieces.append((start, piece_end))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if start < end:
        pieces.append((start, end))
    return pieces


def split_sentences(docs: list[Document], first_index: int = 0, first_paragraph: int = 0,
                    progress: Callable[[str, int, int], None] | None = None) -> list[Sentence]:
    """Sentences of every document, numbered across them in order.

    `progress("splitting", characters done, characters in all)` is called now and then.
    """
    sentences: list[Sentence] = []
    paragraph = first_paragraph
    total = sum(len(doc.text) for doc in docs)
    step, done, reported = max(1, total // 100), 0, 0
    if progress:
        progress("splitting", 0, total)
    # One Punkt for the whole load: training once per file made a folder of many files slow,
    # and small files taught Punkt too little on their own.
    tokenizer = _tokenizer(_training_text([doc.text for doc in docs])) if docs else None
    for doc in docs:
        punkt_text = doc.text.translate(QUOTES_TO_ASCII)
        for p_start, p_end in doc.paragraphs:
            for s, e in _spans(tokenizer, punkt_text[p_start:p_end]):
                start, end = doc.original_span(p_start + s, p_start + e)
                sentences.append(Sentence(text=doc.text[p_start + s:p_start + e], source=doc.name,
                                          index=first_index + len(sentences),
                                          start=start, end=end, paragraph=paragraph))
            paragraph += 1
            if progress and done + p_end - reported >= step:
                reported = done + p_end
                progress("splitting", reported, total)
        done += len(doc.text)
    if progress:
        progress("splitting", total, total)
    return sentences
