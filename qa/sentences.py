"""Split cleaned documents into sentences with Punkt trained on the text itself."""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.corpus import QUOTES_TO_ASCII, Document

# Punkt learns abbreviations and sentence starters from the text; a couple of megabytes is
# plenty for that, and training on a whole book-sized corpus would dominate the index build.
PUNKT_TRAIN_CHARS = 2_000_000
# A "sentence" with fewer words than this (a dateline like "TASS /.") joins the next one.
MIN_SENTENCE_WORDS = 3
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


def _tokenizer(text: str):
    # Imported here: nltk costs ~0.2 s to import, and only index building needs it.
    from nltk.tokenize.punkt import PunktSentenceTokenizer, PunktTrainer

    trainer = PunktTrainer()
    trainer.INCLUDE_ALL_COLLOCS = True
    trainer.train(text[:PUNKT_TRAIN_CHARS], finalize=True)
    return PunktSentenceTokenizer(trainer.get_params())


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
    return spans


def split_sentences(docs: list[Document], first_index: int = 0,
                    first_paragraph: int = 0) -> list[Sentence]:
    """Sentences of every document, numbered across them in order."""
    sentences: list[Sentence] = []
    paragraph = first_paragraph
    for doc in docs:
        punkt_text = doc.text.translate(QUOTES_TO_ASCII)
        tokenizer = _tokenizer(punkt_text)
        for p_start, p_end in doc.paragraphs:
            for s, e in _spans(tokenizer, punkt_text[p_start:p_end]):
                start, end = doc.original_span(p_start + s, p_start + e)
                sentences.append(Sentence(text=doc.text[p_start + s:p_start + e], source=doc.name,
                                          index=first_index + len(sentences),
                                          start=start, end=end, paragraph=paragraph))
            paragraph += 1
    return sentences
