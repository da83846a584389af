"""Read corpus files and clean scraped text, keeping a map back to the original characters."""

from __future__ import annotations

import os
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path

from qa.errors import CorpusError

# A file larger than this is refused rather than read whole into memory; split it instead.
MAX_FILE_BYTES = 64 * 1024 * 1024
# How much of the file start is checked for NUL bytes to call it binary.
BINARY_PROBE_BYTES = 8192
# Files are read in pieces of this size, so the limit holds whatever `stat` said.
READ_CHUNK_BYTES = 1024 * 1024
CORPUS_SUFFIXES = (".txt", ".md")

# Control characters (except tab and newline), DEL, C1 controls and bidi overrides become spaces:
# one character for one, so offsets stay valid, and nothing reaches a terminal that could drive it.
_CONTROL_CHARS = [c for c in range(32) if c not in (9, 10)] + [0x7F] + list(range(0x80, 0xA0))
_BIDI_CHARS = [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
CONTROL_TO_SPACE = {c: " " for c in _CONTROL_CHARS + _BIDI_CHARS}

# Windows-1252 differs from Latin-1 only in 0x80-0x9F; 0x81, 0x8D, 0x8F, 0x90, 0x9D are undefined.
_CP1252_FROM_LATIN1 = {b: bytes([b]).decode("cp1252") for b in range(0x80, 0xA0)
                       if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)}

# Typographic quotes become ASCII for sentence splitting and matching (one char for one).
QUOTES_TO_ASCII = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"',
                                 "\u00bb": '"', "\u2018": "'", "\u2019": "'", "\u201a": "'",
                                 "\u2032": "'", "\u2033": '"'})

# Lines that scraped web pages carry around an article: sharing, comments, footers, ads.
BOILERPLATE = re.compile(
    r"""^(?:
        spread\ the\ love | share(?:\ (?:this|the\ article|on\ \S+|via\ \S+)\S*)? | tweet | pin\ it
      | print(?:\ this(?:\ article|\ page)?)? | e-?mail(?:\ this)? | like\ this:? | loading\.*
      | leave\ a\ (?:reply|comment) | \d*\s*comments? | (?:add|post)\ (?:a\ )?comment | reply
      | .*\bpowered\ by\b.* | .*\ball\ rights\ reserved\b.* | copyright\b.* | \u00a9.*
      | (?:subscribe|sign\ up|follow\ us|read\ more|related(?:\ (?:articles?|posts?|stories|news))?
         |advertisement|sponsored(?:\ content)?|click\ here|you\ must\ be\ logged\ in|we\ use\ cookies
         |skip\ to\ (?:main\ )?content|previous\ (?:article|post)|next\ (?:article|post)|tags?:)\b.*
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
BOILERPLATE_MAX_WORDS = 10
# Stray markers at the start of a line ("<< The Crown", "• item", "## Title").
LEADING_JUNK = re.compile(r"^[<>«»•·|*#=~_^\u2013\u2014-]+\s+")
HAS_WORD = re.compile(r"[^\W_]")
# A paragraph ends a sentence when its last mark is terminal punctuation, closing quotes aside.
ENDS_SENTENCE = re.compile(r"""[.!?\u2026]["'\u201d\u2019\u00bb)\]]*$""")
CONTINUES = re.compile(r"[,;:\u2013\u2014-]$")
HEADING_MAX_WORDS = 12
# Whitespace that the cleaned text squeezes to one plain space.
SQUEEZE = re.compile(r"\s\s|[^\S ]")


@dataclass(frozen=True)
class Document:
    """A corpus file: its original text and the cleaned text with a map back to it."""

    name: str
    path: str
    original: str
    text: str
    # Cleaned text is `original` with spans removed or squeezed; these two lists say where:
    # clean offset i maps to original offset i + deltas[k], k the last segment starting <= i.
    segment_starts: list[int] = field(repr=False)
    segment_deltas: list[int] = field(repr=False)
    # Paragraphs of `text` as (start, end) offsets, blank-line separated, rejoined where broken.
    paragraphs: list[tuple[int, int]] = field(repr=False)

    def to_original(self, clean_offset: int) -> int:
        k = bisect_right(self.segment_starts, clean_offset) - 1
        return clean_offset + self.segment_deltas[max(k, 0)]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a non-empty span of the cleaned text to the original text."""
        return self.to_original(start), self.to_original(end - 1) + 1


def decode(data: bytes) -> str:
    """Bytes to text: UTF-8 (BOM or not), else Windows-1252, else Latin-1; newlines as '\\n'.

    Not UTF-8 means Windows-1252 byte by byte, with the five bytes it leaves undefined read as
    Latin-1: a stray one of them no longer turns every curly quote into a C1 control.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1").translate(_CP1252_FROM_LATIN1)
    # The same as Python's universal newlines, so offsets match `open(path).read()`.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_bytes(path: str | os.PathLike[str]) -> bytes:
    """A corpus file's bytes, never more than MAX_FILE_BYTES read; CorpusError if not usable.

    The limit is enforced on the read itself, not only on the size `stat` reports, so a
    FIFO, /dev/zero or a file that grows while being read cannot take unbounded memory.
    """
    label = str(path)
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > MAX_FILE_BYTES:
                raise CorpusError(f"{label}: {size / 2**20:.0f} MB is over the "
                                  f"{MAX_FILE_BYTES // 2**20} MB limit per file: "
                                  "split it into smaller files")
            chunks, total = [], 0
            while total <= MAX_FILE_BYTES:
                chunk = f.read(min(READ_CHUNK_BYTES, MAX_FILE_BYTES + 1 - total))
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
    except FileNotFoundError:
        raise CorpusError(f"{label}: no such file") from None
    except IsADirectoryError:
        raise CorpusError(f"{label}: is a folder, not a file") from None
    except PermissionError:
        raise CorpusError(f"{label}: permission denied") from None
    except OSError as e:
        raise CorpusError(f"{label}: cannot read: {e.strerror or e}") from None
    if total > MAX_FILE_BYTES:
        raise CorpusError(f"{label}: over the {MAX_FILE_BYTES // 2**20} MB limit per file: "
                          "split it into smaller files")
    data = b"".join(chunks)
    if b"\x00" in data[:BINARY_PROBE_BYTES]:
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise CorpusError(f"{label}: is UTF-16 text: save it as UTF-8 and try again")
        raise CorpusError(f"{label}: looks like a binary file, not text")
    return data


def read_document(path: str | os.PathLike[str], name: str | None = None) -> Document:
    """Read one corpus file and clean it; raise CorpusError with a reason a person can act on."""
    p = Path(path)
    return document_from_text(decode(read_bytes(p)), name or p.name, str(p))


def document_from_text(original: str, name: str, path: str = "") -> Document:
    doc = clean(original, name, path)
    if not HAS_WORD.search(doc.text):
        raise CorpusError(f"{path or name}: has no text to answer from (empty or only boilerplate)")
    return doc


def find_corpus_files(paths: list[str]) -> list[Path]:
    """Expand folders into their .txt/.md files (sorted); keep files as given."""
    files: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted(f for f in p.rglob("*")
                           if f.suffix.lower() in CORPUS_SUFFIXES and f.is_file())
            if not found:
                raise CorpusError(f"{raw}: folder has no .txt or .md files")
            files.extend(found)
        elif p.exists():
            files.append(p)
        else:
            raise CorpusError(f"{raw}: no such file or folder")
    return files


def _is_heading(line: str) -> bool:
    words = line.split()
    if len(words) > HEADING_MAX_WORDS or CONTINUES.search(line):
        return False
    long_words = [w for w in words if len(w) > 3] or words
    capitalised = sum(1 for w in long_words if w[:1].isupper())
    return capitalised / len(long_words) >= 0.6


def _lines(original: str):
    """Yield (start, end) of each line's content, stripped, with junk markers removed."""
    pos = 0
    for line in original.split("\n"):
        start, end = pos, pos + len(line)
        pos = end + 1
        content = line.translate(CONTROL_TO_SPACE)
        stripped = content.strip()
        if not stripped:
            yield None
            continue
        start += len(content) - len(content.lstrip())
        junk = LEADING_JUNK.match(stripped)
        if junk:
            stripped = stripped[junk.end():]
            start += junk.end()
        end = start + len(stripped)
        if not HAS_WORD.search(stripped):
            yield None
        elif len(stripped.split()) <= BOILERPLATE_MAX_WORDS and BOILERPLATE.match(stripped):
            yield None
        else:
            yield start, end


def _paragraphs(original: str) -> list[list[tuple[int, int]]]:
    """Group lines into paragraphs, rejoining a paragraph that breaks off mid-sentence."""
    paragraphs: list[list[tuple[int, int]]] = []
    current: list[tuple[int, int]] = []
    for span in _lines(original):
        if span is None:
            if current:
                paragraphs.append(current)
                current = []
        else:
            current.append(span)
    if current:
        paragraphs.append(current)

    merged: list[list[tuple[int, int]]] = []
    for para in paragraphs:
        if merged:
            last = merged[-1]
            tail = original[last[-1][0]:last[-1][1]].translate(QUOTES_TO_ASCII)
            single_heading = len(last) == 1 and _is_heading(tail)
            if not ENDS_SENTENCE.search(tail) and not single_heading:
                last.extend(para)
                continue
        merged.append(list(para))
    return merged


def clean(original: str, name: str, path: str = "") -> Document:
    """Clean scraped text: drop boilerplate lines, rejoin broken paragraphs, squeeze whitespace."""
    original_for_clean = original.translate(CONTROL_TO_SPACE)
    parts: list[str] = []
    starts: list[int] = [0]
    deltas: list[int] = [0]
    paragraphs: list[tuple[int, int]] = []
    size = 0

    def emit(piece: str, orig_start: int) -> None:
        nonlocal size
        if orig_start - size != deltas[-1]:
            if starts[-1] == size:
                deltas[-1] = orig_start - size
            else:
                starts.append(size)
                deltas.append(orig_start - size)
        parts.append(piece)
        size += len(piece)

    for para in _paragraphs(original):
        if paragraphs:
            parts.append("\n\n")
            size += 2
        para_start = size
        for i, (start, end) in enumerate(para):
            if i:
                parts.append(" ")
                size += 1
            line = original_for_clean[start:end]
            if SQUEEZE.search(line):
                for m in re.finditer(r"\S+", line):
                    if m.start():
                        parts.append(" ")
                        size += 1
                    emit(m.group(), start + m.start())
            else:
                emit(line, start)
        paragraphs.append((para_start, size))
    return Document(name=name, path=path, original=original, text="".join(parts),
                    segment_starts=starts, segment_deltas=deltas, paragraphs=paragraphs)


BUNDLED_NAME = "tass-roscosmos-cnsa-lunar-station.txt"


def bundled_corpus() -> Path:
    """The bundled article: inside the installed package, or in a source checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "bundled" / BUNDLED_NAME, here.parent / "corpus" / BUNDLED_NAME):
        if candidate.is_file():
            return candidate
    raise CorpusError("the bundled article is missing from this installation: reinstall qa, "
                      "or pass --corpus PATH")
