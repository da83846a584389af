"""Split cleaned documents into sentences with Punkt, its parameters learned once and shipped."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from qa.corpus import QUOTES_TO_ASCII, Document
from qa.errors import ModelError

# Punkt's parameters (abbreviations, collocations, sentence starters), learned by
# `python -m qa.train punkt` from the treebanks and the train articles: a file's sentences are
# a function of that file alone, not of what else is loaded.
PUNKT_PATH = Path(__file__).resolve().parent / "models" / "punkt.json"
PUNKT_FORMAT = 1
# Punkt reads a paragraph at most this long at a time (nltk bounds each regex search by wall
# clock: a 50 MB paragraph failed); longer ones are cut after a sentence end near this size.
PUNKT_PIECE_CHARS = 100_000
# A "sentence" with fewer words than this (a dateline like "TASS /.") joins the next one.
MIN_SENTENCE_WORDS = 3
# Text with no sentence ends (a scraped table, a log line) is cut into pieces of at most this
# many characters, so one "sentence" cannot be a whole file.
MAX_SENTENCE_CHARS = 2000
_WORD = re.compile(r"[^\W_]{2,}")
# Lone surrogates: bytes of a file name that were not UTF-8 (os.fsdecode's surrogateescape).
_SURROGATES = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence: its text and where it stands in its source."""

    text: str
    source: str
    index: int  # position among all loaded sentences, from 0
    # Character offsets in the source's text (the file as open() reads it, or the text
    # `qa --extract` prints for other formats): text[start:end] is this sentence.
    start: int
    end: int
    paragraph: int  # paragraph number among all loaded paragraphs, from 0
    number: int = 0  # position within its own source, from 1 (0: not known)
    section: str | None = None  # the heading it stands under
    page: int | None = None  # its page, from 1, in a paged format (PDF)
    title: str | None = None  # its web page's title

    @property
    def number_in_source(self) -> int:
        return self.number or self.index + 1

    def to_json(self, score: float | None = None) -> dict:
        """This sentence in the JSON Lines schema (with the hit's score when given)."""
        out: dict = {"text": self.text}
        if score is not None:
            out["score"] = score
        out.update(source=readable_name(self.source), start=self.start, end=self.end,
                   number=self.number_in_source, section=self.section, page=self.page,
                   title=self.title, source_bytes=escaped_name(self.source))
        return out


def _name_bytes(name: str) -> bytes | None:
    """A name's bytes as the file system has them; None when it holds no undecodable bytes."""
    if not _SURROGATES.search(name):
        return None
    try:
        return name.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogatepass")


def readable_name(name: str) -> str:
    """A source name as valid Unicode: bytes that are not UTF-8 become U+FFFD."""
    raw = _name_bytes(name)
    return name if raw is None else raw.decode("utf-8", "replace")


def escaped_name(name: str) -> str | None:
    """A name with undecodable bytes, those bytes as \\xNN escapes; None when it has none."""
    raw = _name_bytes(name)
    return None if raw is None else raw.decode("utf-8", "backslashreplace")


# Distinct Punkt break contexts remembered ("word. Next"); a book has far fewer distinct ones
# than breaks, so most decisions become one dict look-up.
BREAK_CACHE_SIZE = 500_000


def load_punkt(path: Path = PUNKT_PATH):
    """A Punkt splitter with the shipped parameters; ModelError naming the file if it is
    missing or damaged."""
    # Imported here: nltk costs ~0.2 s to import, and only index building needs it.
    from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

    try:
        obj = json.loads(Path(path).read_text(encoding="utf-8"))
        if obj.get("format") != PUNKT_FORMAT:
            raise ValueError("format")
        params = PunktParameters()
        params.abbrev_types = set(obj["abbrev_types"])
        params.collocations = {(a, b) for a, b in obj["collocations"]}
        params.sent_starters = set(obj["sent_starters"])
        for word, flags in obj["ortho_context"].items():
            params.ortho_context[word] = int(flags)
    except FileNotFoundError:
        raise ModelError(f"{path}: the sentence splitter's parameters are missing: "
                         "reinstall qa") from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise ModelError(f"{path}: the sentence splitter's parameters are damaged "
                         f"({type(e).__name__}): reinstall qa") from None
    tokenizer = PunktSentenceTokenizer(params)
    # A pure function of its argument: memoised, it returns the same decisions.
    tokenizer.text_contains_sentbreak = lru_cache(BREAK_CACHE_SIZE)(
        tokenizer.text_contains_sentbreak)
    return tokenizer


@lru_cache(maxsize=1)
def punkt():
    """The shipped splitter, loaded once per process."""
    return load_punkt()


_SENTENCE_END = re.compile(r"""[.!?]["')\]]*\s""")
_SPACE = re.compile(r"\s")


def _pieces(text: str) -> list[tuple[int, int]]:
    """The text in pieces of at most PUNKT_PIECE_CHARS: cut after the last sentence end in a
    piece's last quarter, else at its last space, else (a run with no space) hard."""
    out, start, n = [], 0, len(text)
    while n - start > PUNKT_PIECE_CHARS:
        hi = start + PUNKT_PIECE_CHARS
        lo = hi - PUNKT_PIECE_CHARS // 4
        cut = None
        for pattern in (_SENTENCE_END, _SPACE):
            for m in pattern.finditer(text, lo, hi):
                cut = m.end()
            if cut is not None:
                break
        cut = cut or hi
        out.append((start, cut))
        start = cut
    if start < n:
        out.append((start, n))
    return out


def split_text(tokenizer, text: str) -> list[tuple[int, int]]:
    """Sentence spans of one paragraph: Punkt's (read a bounded piece at a time), with
    fragments joined to their neighbour.

    A piece with too few words (a dateline) joins the next sentence; a piece starting in
    lower case ("... on implementation. technical aspect") continues the previous one.
    """
    raw = [(a + s, a + e) for a, b in _pieces(text)
           for s, e in tokenizer.span_tokenize(text[a:b])]
    spans: list[tuple[int, int]] = []
    pending: tuple[int, int] | None = None
    for start, end in raw:
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
    """Sentences of every document, numbered across them in order and within each document.

    `progress("splitting", characters done, characters in all)` is called now and then.
    """
    sentences: list[Sentence] = []
    paragraph = first_paragraph
    total = sum(len(doc.text) for doc in docs)
    step, done, reported = max(1, total // 100), 0, 0
    if progress:
        progress("splitting", 0, total)
    tokenizer = punkt() if docs else None
    for doc in docs:
        punkt_text = doc.text.translate(QUOTES_TO_ASCII)
        first_of_doc = len(sentences)
        for p_start, p_end in doc.paragraphs:
            for s, e in split_text(tokenizer, punkt_text[p_start:p_end]):
                start, end = doc.original_span(p_start + s, p_start + e)
                sentences.append(Sentence(text=doc.text[p_start + s:p_start + e], source=doc.name,
                                          index=first_index + len(sentences),
                                          start=start, end=end, paragraph=paragraph,
                                          number=len(sentences) - first_of_doc + 1,
                                          section=doc.section_at(start) if doc.sections else None,
                                          page=doc.page_at(start) if doc.pages else None,
                                          title=doc.title))
            paragraph += 1
            if progress and done + p_end - reported >= step:
                reported = done + p_end
                progress("splitting", reported, total)
        done += len(doc.text)
    if progress:
        progress("splitting", total, total)
    return sentences
