"""The main text of an HTML page, found by trafilatura: the article without navigation, share
buttons, comments or footers; its headings name the sections, its title the page."""

from __future__ import annotations

import logging

from qa.corpus import BlockText, Extracted
from qa.errors import CorpusError

# Cells of a table row are joined with this, so a row reads as one sentence.
CELL_SEPARATOR = "; "
# Elements of trafilatura's output that hold no prose (code) or that are read on their own.
_SKIP_IN_TEXT = frozenset({"list", "table", "code", "graphic"})


def _text(el) -> str:
    """The words of an element, nested lists and tables left to be read on their own."""
    parts = [el.text or ""]
    for child in el:
        if child.tag == "lb":
            parts.append(" ")
        elif child.tag not in _SKIP_IN_TEXT:
            parts.append(_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _read_list(lst, out: BlockText) -> None:
    for item in lst.iterchildren("item"):
        out.paragraph(_text(item))
        for nested in item.iter("list"):
            if nested is not item:
                _read_list(nested, out)


def _read(el, out: BlockText) -> None:
    """Blocks of trafilatura's XML body, in document order."""
    for child in el:
        tag = child.tag
        if tag == "head":
            out.heading(_text(child))
        elif tag == "list":
            _read_list(child, out)
        elif tag == "table":
            for row in child.iter("row"):
                out.paragraph(CELL_SEPARATOR.join(
                    _text(cell).strip() for cell in row.iterchildren("cell")))
        elif tag in ("code", "graphic"):
            continue
        elif tag in ("p", "quote") and not any(c.tag in ("p", "list", "table", "head")
                                                for c in child):
            out.paragraph(_text(child))
        else:
            _read(child, out)


def html_text(data: bytes, label: str) -> Extracted:
    """The page's main text as blocks, its headings as sections, and its title."""
    # trafilatura and its helpers log warnings about odd pages: not for the terminal.
    for name in ("trafilatura", "htmldate", "courlan", "justext", "charset_normalizer"):
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)
    try:
        import trafilatura  # ~0.3 s to import: only when an HTML source is read
    except ImportError as e:
        raise CorpusError(f"{label}: reading HTML needs trafilatura, which failed to load "
                          f"({e}): reinstall qa") from None
    try:
        doc = trafilatura.bare_extraction(data, include_comments=False, include_tables=True,
                                          include_images=False, include_links=False,
                                          with_metadata=True)
    except Exception as e:  # a parser failure on hostile markup is an unreadable page
        raise CorpusError(f"{label}: cannot read this HTML: {type(e).__name__}") from None
    if doc is None or doc.body is None:
        raise CorpusError(f"{label}: has no text to answer from (no main text found in the page)")
    out = BlockText()
    _read(doc.body, out)
    title = " ".join((doc.title or "").split()) or None
    return out.extracted(title=title)
