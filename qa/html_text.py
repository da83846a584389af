"""The main text of an HTML page, found by trafilatura: the article without navigation, share
buttons, comments or footers; its headings name the sections, its title the page."""

from __future__ import annotations

import logging

from qa.source import CELL_SEPARATOR, BlockText, Extracted, named_cells
from qa.errors import CorpusError

# Elements of trafilatura's output that hold no prose (code) or that are read on their own.
_SKIP_IN_TEXT = frozenset({"list", "table", "code", "graphic"})


def _text(el) -> str:
    """The words of an element, nested lists and tables left to be read on their own; walked
    with a stack of its own, so any depth of nesting reads."""
    parts: list[str] = []
    stack: list = [("el", el)]
    while stack:
        kind, node = stack.pop()
        if kind == "str":
            parts.append(node)
            continue
        parts.append(node.text or "")
        after = []
        for child in node:
            if child.tag == "lb":
                after.append(("str", " "))
            elif child.tag not in _SKIP_IN_TEXT:
                after.append(("el", child))
            after.append(("str", child.tail or ""))
        stack.extend(reversed(after))
    return "".join(parts)


def _lists_in(el):
    """The lists inside an element that are not inside another list within it, in order."""
    stack = list(reversed(list(el)))
    while stack:
        node = stack.pop()
        if node.tag == "list":
            yield node
        else:
            stack.extend(reversed(list(node)))


def _read_list(lst, out: BlockText) -> None:
    """Each item once, its nested lists after it: every element's text is read once."""
    stack = [lst]
    while stack:
        current = stack.pop()
        nested_after = []
        for item in current.iterchildren("item"):
            out.paragraph(_text(item))
            # items of this list first, then the lists nested in them, in document order
            nested_after.extend(_lists_in(item))
        stack.extend(reversed(nested_after))


def _table(table, out: BlockText) -> None:
    """One sentence per row, each cell named by its column's heading ("Venue: Hall B; cost:
    400 EUR"); a heading row gives no sentence of its own."""
    header: list[str] | None = None
    for row in table.iter("row"):
        cells = [" ".join(_text(cell).split()) for cell in row.iterchildren("cell")]
        is_head = any(cell.get("role") == "head" for cell in row.iterchildren("cell"))
        if is_head and header is None:
            header = cells
            continue
        out.paragraph(CELL_SEPARATOR.join(named_cells(header, cells)))


def _read(el, out: BlockText) -> None:
    """Blocks of trafilatura's XML body, in document order."""
    stack = list(reversed(list(el)))
    while stack:
        child = stack.pop()
        tag = child.tag
        if tag == "head":
            out.heading(_text(child))
        elif tag == "list":
            _read_list(child, out)
        elif tag == "table":
            _table(child, out)
        elif tag in ("code", "graphic"):
            continue
        elif tag in ("p", "quote") and not any(c.tag in ("p", "list", "table", "head")
                                                for c in child):
            out.paragraph(_text(child))
        else:
            stack.extend(reversed(list(child)))


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
