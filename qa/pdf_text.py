"""The text layer of a PDF, page by page, with pypdf (pure Python)."""

from __future__ import annotations

import io
import logging
import re
import warnings

from qa.source import Extracted
from qa.errors import CorpusError

# A line that is only a number (1 to 4 digits) between pages is a page number, not text.
_PAGE_NUMBER_LINE = re.compile(r"^[ \t]*\d{1,4}[ \t]*$", re.MULTILINE)
PAGE_SEPARATOR = "\n\n"
# Work per PDF is bounded: a page whose content streams decompress to more than this is
# skipped (text extraction runs over every operator: ten 5 MB pages took 224 s of CPU), and
# pages after this many seconds are skipped too; the pages skipped are said.
MAX_PAGE_CONTENT_BYTES = 2 * 1024 * 1024
MAX_PDF_SECONDS = 60.0


def pdf_text(data: bytes, label: str) -> Extracted:
    """Every page's text, pages separated by a blank line, with where each page starts."""
    logging.getLogger("pypdf").setLevel(logging.CRITICAL + 1)  # it logs about odd files
    from pypdf import PdfReader

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted and not reader.decrypt(""):
                raise CorpusError(f"{label}: the PDF is encrypted with a password: "
                                  "save a copy without one")
            pages, skipped = _page_texts(reader)
    except CorpusError:
        raise
    except Exception as e:  # pypdf raises many kinds on damaged files
        raise CorpusError(f"{label}: cannot read this PDF ({type(e).__name__}): "
                          "it may be damaged") from None
    parts: list[str] = []
    starts: list[int] = []
    size = 0
    for text in pages:
        text = _PAGE_NUMBER_LINE.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()
        if parts:
            parts.append(PAGE_SEPARATOR)
            size += len(PAGE_SEPARATOR)
        starts.append(size)
        parts.append(text)
        size += len(text)
    if not any(c.isalnum() for p in parts for c in p):
        raise CorpusError(f"{label}: the PDF has no text layer (a scanned document?): "
                          "run OCR on it first, e.g. with ocrmypdf")
    notes = (f"{label}: skipped page(s) {_ranges(skipped)} (over "
             f"{MAX_PAGE_CONTENT_BYTES // 2**20} MB of drawing instructions, or past "
             f"{MAX_PDF_SECONDS:.0f} s of reading)",) if skipped else ()
    return Extracted("".join(parts) + "\n", pages=tuple(starts), notes=notes)


def _page_texts(reader) -> tuple[list[str], list[int]]:
    """Each page's text ("" for a page skipped), and the numbers (from 1) of those skipped."""
    import time

    texts, skipped = [], []
    deadline = time.monotonic() + MAX_PDF_SECONDS
    for number, page in enumerate(reader.pages, 1):
        contents = page.get_contents()
        size = len(contents.get_data()) if contents is not None else 0
        if size > MAX_PAGE_CONTENT_BYTES or time.monotonic() > deadline:
            texts.append("")
            skipped.append(number)
            continue
        texts.append(page.extract_text() or "")
    return texts, skipped


def _ranges(numbers: list[int]) -> str:
    """[1, 2, 3, 7] -> "1-3, 7"."""
    out, start = [], None
    for k, n in enumerate(numbers):
        if start is None:
            start = n
        if k + 1 == len(numbers) or numbers[k + 1] != n + 1:
            out.append(str(start) if start == n else f"{start}-{n}")
            start = None
    return ", ".join(out)
