"""What a source is before and after a format reader: its bytes (Source), the text a reader
extracts (Extracted, built block by block with BlockText), the formats and the size limits.

Shared by `corpus` and the format readers it calls (`fetch`, `html_text`, `markdown_text`,
`pdf_text`); imports nothing of qa's, so data flows one way: readers below `corpus`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

# A file larger than this is refused rather than read whole into memory; split it instead.
MAX_FILE_BYTES = 64 * 1024 * 1024
# All sources of one load together (a folder of many files): the index build holds several
# times this in memory (1.1 GB at the 108 MB, 1M-sentence bench corpus).
MAX_TOTAL_BYTES = 128 * 1024 * 1024
# How much of the file start is checked for NUL bytes to call it binary.
BINARY_PROBE_BYTES = 8192
# Files are read in pieces of this size, so the limit holds whatever `stat` said.
READ_CHUNK_BYTES = 1024 * 1024

# The formats, by file name ending; a name with no ending is read as text.
FORMATS = {".txt": "text", ".text": "text", ".rst": "text",
           ".md": "markdown", ".markdown": "markdown",
           ".html": "html", ".htm": "html", ".xhtml": "html",
           ".pdf": "pdf"}
CORPUS_SUFFIXES = tuple(FORMATS)
STDIN_NAME = "stdin"

# Cells of a table row are joined with this, so a row reads as one sentence.
CELL_SEPARATOR = "; "
_SPACES = re.compile(r"\s+")
HAS_WORD = re.compile(r"[^\W_]")


@dataclass(frozen=True)
class Source:
    """The bytes of one source and how to read them."""

    name: str  # shown in citations: the file name (its path under a folder), the URL, "stdin"
    path: str  # where it was read from: a file path, the URL, or "-"
    format: str  # one of FORMATS' values
    data: bytes = field(repr=False)
    optional: bool = False  # found in a folder: skipped with a warning when it cannot be used


@dataclass(frozen=True)
class Extracted:
    """What a format reader gives: the extracted text and where its parts are."""

    text: str
    # Paragraph spans in `text` for structured formats (Markdown, HTML), where the reader knows
    # them; None for text that needs plain-text rules (blank lines, broken paragraphs rejoined).
    blocks: list[tuple[int, int]] | None = None
    sections: tuple[tuple[int, str], ...] = ()
    pages: tuple[int, ...] = ()
    title: str | None = None
    # What a person should know about how it was read (bytes replaced, pages skipped): one
    # line each, said as a warning wherever the source is used.
    notes: tuple[str, ...] = ()


class BlockText:
    """Extracted text built block by block: paragraphs (sentences come from these) and
    headings (which name the section of the paragraphs after them), blank-line separated."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.blocks: list[tuple[int, int]] = []
        self.sections: list[tuple[int, str]] = []

    def _add(self, text: str) -> int | None:
        text = _SPACES.sub(" ", text).strip()
        if not HAS_WORD.search(text):
            return None
        if self.parts:
            self.parts.append("\n\n")
            self.size += 2
        start = self.size
        self.parts.append(text)
        self.size += len(text)
        return start

    def paragraph(self, text: str) -> None:
        start = self._add(text)
        if start is not None:
            self.blocks.append((start, self.size))

    def heading(self, text: str) -> None:
        start = self._add(text)
        if start is not None:
            self.sections.append((start, self.parts[-1]))

    def extracted(self, title: str | None = None) -> Extracted:
        text = "".join(self.parts) + "\n" if self.parts else ""
        return Extracted(text, self.blocks, tuple(self.sections), title=title)


def sniff_format(name: str, data: bytes) -> str:
    """The format by file name ending; a PDF or an HTML page is known by its first bytes too."""
    if data[:5] == b"%PDF-":
        return "pdf"
    suffix = os.path.splitext(name)[1].lower()
    if suffix in FORMATS:
        return FORMATS[suffix]
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return "html"
    return "text"


def named_cells(header: list[str] | None, cells: list[str]) -> list[str]:
    """A table row's cells with their column's heading before them, where it has one:
    "cost: 400 EUR" (Markdown and HTML tables)."""
    out = []
    for k, cell in enumerate(cells):
        if not cell:
            continue
        name = header[k] if header and k < len(header) else ""
        out.append(f"{name}: {cell}" if name and name.lower() != cell.lower() else cell)
    return out
