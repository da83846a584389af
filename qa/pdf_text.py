"""The text layer of a PDF, page by page, with pypdf (pure Python)."""

from __future__ import annotations

import io
import logging
import re
import warnings

from qa.corpus import Extracted
from qa.errors import CorpusError

# A line that is only a number (1 to 4 digits) between pages is a page number, not text.
_PAGE_NUMBER_LINE = re.compile(r"^[ \t]*\d{1,4}[ \t]*$", re.MULTILINE)
PAGE_SEPARATOR = "\n\n"


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
            pages = [page.extract_text() or "" for page in reader.pages]
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
    return Extracted("".join(parts) + "\n", pages=tuple(starts))
