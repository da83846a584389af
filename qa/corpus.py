"""Read sources (files, folders, stdin, web pages) into documents; clean plain text.

This module finds and reads the bytes and dispatches on the format: plain text is cleaned here,
keeping a map back to the original characters; Markdown, HTML and PDF have a module each
(`markdown_text`, `html_text`, `pdf_text`), which give the extracted text this module cleans.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import sys
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from qa.errors import CorpusError

# A file larger than this is refused rather than read whole into memory; split it instead.
MAX_FILE_BYTES = 64 * 1024 * 1024
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

# Control characters (except tab and newline), DEL, C1 controls and bidi overrides become spaces:
# one character for one, so offsets stay valid, and nothing reaches a terminal that could drive it.
_CONTROL_CHARS = [c for c in range(32) if c not in (9, 10)] + [0x7F] + list(range(0x80, 0xA0))
_BIDI_CHARS = [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
CONTROL_TO_SPACE = {c: " " for c in _CONTROL_CHARS + _BIDI_CHARS}
# A terminal escape sequence (CSI "ESC [ 31 m", OSC "ESC ] 0; title BEL") is blanked whole, so
# that its printable tail ("[31m") is not read as words of the text or of a question.
_ESCAPE_SEQUENCE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?")


def blank_controls(text: str) -> str:
    """Escape sequences and control characters as spaces, one for one (offsets stay valid)."""
    if "\x1b" in text:
        text = _ESCAPE_SEQUENCE.sub(lambda m: " " * len(m.group()), text)
    return text.translate(CONTROL_TO_SPACE)

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
_SPACES = re.compile(r"\s+")
_URL = re.compile(r"https?://", re.IGNORECASE)


@dataclass(frozen=True)
class Document:
    """A source's text (the file, or the text extracted from it) and its cleaned text with a map
    back; sentence offsets are offsets into `original`, which `qa --extract` prints."""

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
    title: str | None = None  # a web page's title
    # (offset in `original` where a heading's section starts, the heading), in order.
    sections: tuple[tuple[int, str], ...] = field(default=(), repr=False)
    # Offset in `original` where each page starts (PDF): page k + 1 starts at pages[k].
    pages: tuple[int, ...] = field(default=(), repr=False)

    def to_original(self, clean_offset: int) -> int:
        k = bisect_right(self.segment_starts, clean_offset) - 1
        return clean_offset + self.segment_deltas[max(k, 0)]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a non-empty span of the cleaned text to the original text."""
        return self.to_original(start), self.to_original(end - 1) + 1

    def section_at(self, offset: int) -> str | None:
        """The heading of the section holding this offset of `original`."""
        k = bisect_right(self.sections, (offset, "\uffff")) - 1
        return self.sections[k][1] if k >= 0 else None

    def page_at(self, offset: int) -> int | None:
        """The page (from 1) holding this offset of `original`, for paged formats."""
        return bisect_right(self.pages, offset) if self.pages else None


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


def is_url(raw: str) -> bool:
    return bool(_URL.match(raw))


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


def refuse_binary(data: bytes, label: str) -> None:
    """CorpusError for data with NUL bytes near its start: UTF-16 text, or not text at all."""
    if b"\x00" in data[:BINARY_PROBE_BYTES]:
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise CorpusError(f"{label}: is UTF-16 text: save it as UTF-8 and try again")
        raise CorpusError(f"{label}: looks like a binary file, not text")


def decode_text(data: bytes, label: str) -> str:
    """`decode`, after refusing binary and UTF-16 data with a message."""
    refuse_binary(data, label)
    return decode(data)


def _over_limit(label: str) -> CorpusError:
    return CorpusError(f"{label}: over the {MAX_FILE_BYTES // 2**20} MB limit per file: "
                       "split it into smaller files")


def read_stream(f, label: str) -> bytes:
    """All of a binary stream, but never more than MAX_FILE_BYTES: CorpusError beyond that."""
    chunks, total = [], 0
    while total <= MAX_FILE_BYTES:
        chunk = f.read(min(READ_CHUNK_BYTES, MAX_FILE_BYTES + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    if total > MAX_FILE_BYTES:
        raise _over_limit(label)
    return b"".join(chunks)


_NOT_A_FILE = {stat.S_IFIFO: "is a named pipe (FIFO), not a file: pipe its text to qa instead "
                             "(qa --corpus - < {label})",
               stat.S_IFCHR: "is a device, not a file", stat.S_IFBLK: "is a device, not a file",
               stat.S_IFSOCK: "is a socket, not a file", stat.S_IFDIR: "is a folder, not a file"}


def _os_error(label: str, e: OSError, path: str | os.PathLike[str]) -> CorpusError:
    """A person's message for an OSError met while opening a source."""
    if e.errno == errno.ELOOP:
        return CorpusError(f"{label}: symlink loop: the link points back to itself")
    if e.errno == errno.ENOENT:
        if os.path.islink(path):
            return CorpusError(f"{label}: broken symlink (points to {os.readlink(path)})")
        return CorpusError(f"{label}: no such file or folder")
    if e.errno in (errno.EACCES, errno.EPERM):
        return CorpusError(f"{label}: permission denied")
    if e.errno == errno.ENAMETOOLONG:
        return CorpusError(f"{label}: file name too long")
    return CorpusError(f"{label}: cannot read: {e.strerror or e}")


def read_bytes(path: str | os.PathLike[str]) -> bytes:
    """A regular file's bytes, never more than MAX_FILE_BYTES read; CorpusError if not usable.

    Anything but a regular file (a FIFO with no writer would block forever, a device may never
    end) is refused: the file is opened without blocking and checked before a byte is read.
    The limit is enforced on the read itself too, so a file that grows while read is bounded.
    """
    label = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as e:
        raise _os_error(label, e, path) from None
    try:
        st = os.fstat(fd)
        kind = stat.S_IFMT(st.st_mode)
        if kind != stat.S_IFREG:
            raise CorpusError(f"{label}: " + _NOT_A_FILE.get(kind, "is not a regular file")
                              .format(label=label))
        if st.st_size > MAX_FILE_BYTES:
            raise CorpusError(f"{label}: {st.st_size / 2**20:.0f} MB is over the "
                              f"{MAX_FILE_BYTES // 2**20} MB limit per file: "
                              "split it into smaller files")
        with os.fdopen(fd, "rb") as f:
            fd = -1
            return read_stream(f, label)
    except OSError as e:
        raise CorpusError(f"{label}: cannot read: {e.strerror or e}") from None
    finally:
        if fd >= 0:
            os.close(fd)


def read_stdin() -> bytes:
    """Standard input's bytes, bounded like a file's."""
    try:
        return read_stream(sys.stdin.buffer, STDIN_NAME)
    except (OSError, AttributeError, ValueError) as e:
        raise CorpusError(f"{STDIN_NAME}: cannot read: {getattr(e, 'strerror', None) or e}") \
            from None


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


def walk_folder(folder: Path, onerror: Callable[[OSError], None] | None = None
                ) -> tuple[list[Path], list[str]]:
    """The readable-format files under a folder, sorted, and the endings of the others.

    Hidden files and folders (".git") are passed over; symlinked folders are not followed.
    """
    files: list[Path] = []
    others: list[str] = []
    for root, dirs, names in os.walk(folder, onerror=onerror):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for n in sorted(names):
            if n.startswith("."):
                continue
            suffix = os.path.splitext(n)[1].lower()
            if suffix in FORMATS or not suffix:
                files.append(Path(root) / n)
            else:
                others.append(suffix)
    return files, others


def _suffix_list() -> str:
    return ", ".join(CORPUS_SUFFIXES)


def read_sources(paths: list[str], warn: Callable[[str], None] | None = None,
                 timeout: float | None = None, use_cache: bool = True,
                 stdin: bytes | None = None) -> list[Source]:
    """The bytes of every source: files, folders (every readable file under them), "-" for
    stdin (`stdin`, when already read), and web pages. A file named directly must be usable;
    one found in a folder that is not gets one `warn` line and is skipped. CorpusError when
    nothing usable is left."""
    sources: list[Source] = []
    for raw in paths:
        if raw == "-":
            data = read_stdin() if stdin is None else stdin
            sources.append(Source(STDIN_NAME, STDIN_NAME, sniff_format("", data), data))
        elif is_url(raw):
            from qa.fetch import fetch_page

            sources.append(fetch_page(raw, timeout=timeout, use_cache=use_cache, warn=warn))
        elif _is_dir(raw):
            sources.extend(_folder_sources(Path(raw), raw, warn))
        else:
            data = read_bytes(raw)
            name = os.path.basename(raw.rstrip("/")) or raw
            sources.append(Source(name, raw, sniff_format(name, data), data))
    if not sources:
        raise CorpusError(f"{', '.join(paths)}: nothing usable to read "
                          f"(qa reads {_suffix_list()} and files with no ending)")
    return sources


def _is_dir(raw: str) -> bool:
    try:
        return stat.S_ISDIR(os.stat(raw).st_mode)
    except OSError as e:
        if e.errno in (errno.ENOENT, errno.ELOOP, errno.EACCES, errno.ENAMETOOLONG):
            raise _os_error(raw, e, raw) from None
        return False


def _folder_sources(folder: Path, raw: str, warn: Callable[[str], None] | None) -> list[Source]:
    def unreadable(e: OSError) -> None:
        if warn:
            warn(f"skipped {e.filename}: cannot list the folder: {e.strerror or e}")

    files, others = walk_folder(folder, unreadable)
    if others and warn:
        endings = ", ".join(sorted(set(others)))
        warn(f"{raw}: skipped {len(others)} file(s) of other types ({endings}); qa reads "
             f"{_suffix_list()} and files with no ending")
    out = []
    for f in files:
        name = f.relative_to(folder).as_posix()
        try:
            data = read_bytes(f)
        except CorpusError as e:
            if warn:
                warn(f"skipped {e}")
            continue
        out.append(Source(name, str(f), sniff_format(name, data), data, optional=True))
    if not files and warn:
        warn(f"{raw}: folder has no files qa reads ({_suffix_list()}, or no ending)")
    return out


def extract(source: Source) -> Extracted:
    """The text of a source in its format, as `qa --extract` prints it."""
    if source.format == "pdf":
        from qa.pdf_text import pdf_text

        return pdf_text(source.data, source.path)
    if source.format == "html":
        from qa.html_text import html_text

        refuse_binary(source.data, source.path)
        return html_text(source.data, source.path)
    text = decode_text(source.data, source.path)
    if source.format == "markdown":
        from qa.markdown_text import markdown_text

        return markdown_text(text)
    return Extracted(text)


def document_from_source(source: Source) -> Document:
    """Read one source in its format and clean it; CorpusError with a reason if not usable."""
    ex = extract(source)
    doc = document_from_text(ex.text, source.name, source.path, blocks=ex.blocks)
    return replace(doc, title=ex.title, sections=ex.sections, pages=ex.pages)


def read_document(path: str | os.PathLike[str], name: str | None = None) -> Document:
    """Read one corpus file and clean it; raise CorpusError with a reason a person can act on."""
    p = str(path)
    data = read_bytes(p)
    name = name or os.path.basename(p)
    return document_from_source(Source(name, p, sniff_format(name, data), data))


def document_from_text(original: str, name: str, path: str = "",
                       blocks: list[tuple[int, int]] | None = None) -> Document:
    doc = clean(original, name, path, blocks)
    if not HAS_WORD.search(doc.text):
        raise CorpusError(f"{path or name}: has no text to answer from (empty or only boilerplate)")
    return doc


def original_texts(paths: list[str]) -> dict[str, str]:
    """Each source's name and the text its sentence offsets refer to."""
    return {s.name: extract(s).text for s in read_sources(paths)}


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
        content = blank_controls(line)
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


def clean(original: str, name: str, path: str = "",
          blocks: list[tuple[int, int]] | None = None) -> Document:
    """Clean scraped text: drop boilerplate lines, rejoin broken paragraphs, squeeze whitespace.

    With `blocks` (a structured format's paragraphs, known exactly) those are the paragraphs,
    and only whitespace is squeezed.
    """
    original_for_clean = blank_controls(original)
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

    spans = _paragraphs(original) if blocks is None else [[b] for b in blocks]
    for para in spans:
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
