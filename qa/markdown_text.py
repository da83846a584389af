"""The prose of a Markdown document, parsed with markdown-it-py: paragraphs, list items, table
rows and headings (the sections), without link targets, images, HTML or code blocks."""

from __future__ import annotations

import re

from qa.source import CELL_SEPARATOR, BlockText, Extracted, named_cells

# YAML front matter ("---\ntitle: x\n---") at the very start is metadata, not prose.
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n[\w-]+[ \t]*:.*?\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)",
                           re.DOTALL)


def _inline_text(children) -> str:
    """The words of an inline token: link and emphasis markers dropped, images and HTML too."""
    parts = []
    for c in children or ():
        if c.type in ("text", "text_special", "code_inline"):
            parts.append(c.content)
        elif c.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts)


def markdown_text(source: str) -> Extracted:
    """The extracted text of Markdown source: blocks separated by blank lines, headings kept as
    section names (and in the text, but not as sentences). Code blocks are left out."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(_FRONT_MATTER.sub("", source))
    out = BlockText()
    row: list[str] | None = None
    header: list[str] | None = None
    in_head = False
    for k, tok in enumerate(tokens):
        if tok.type == "inline":
            text = _inline_text(tok.children)
            opener = tokens[k - 1].type if k else ""
            if opener == "heading_open":
                out.heading(text)
            elif row is not None:
                row.append(" ".join(text.split()))
            else:
                out.paragraph(text)
        elif tok.type == "table_open":
            header = None
        elif tok.type in ("thead_open", "thead_close"):
            in_head = tok.type == "thead_open"
        elif tok.type == "tr_open":
            row = []
        elif tok.type == "tr_close" and row is not None:
            # The heading row names the columns of every row after it (no sentence of its own).
            if in_head:
                header = row
            else:
                out.paragraph(CELL_SEPARATOR.join(named_cells(header, row)))
            row = None
    return out.extracted()

