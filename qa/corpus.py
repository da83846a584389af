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
from qa.source import (BINARY_PROBE_BYTES, CORPUS_SUFFIXES, FORMATS, HAS_WORD, MAX_FILE_BYTES,
                       MAX_TOTAL_BYTES, READ_CHUNK_BYTES, STDIN_NAME, Extracted,
                       Source, sniff_format)

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
# A paragraph ends a sentence when its last mark is terminal punctuation, closing quotes aside.
ENDS_SENTENCE = re.compile(r"""[.!?\u2026]["'\u201d\u2019\u00bb)\]]*$""")
CONTINUES = re.compile(r"[,;:\u2013\u2014-]$")
HEADING_MAX_WORDS = 12
# Whitespace that the cleaned text squeezes to one plain space.
SQUEEZE = re.compile(r"\s\s|[^\S ]")
_SPACES = re.compile(r"\s+")
_URL = re.compile(r"https?://", re.IGNORECASE)
_OTHER_SCHEME = re.compile(r"([a-z][a-z0-9+.-]*)://", re.IGNORECASE)


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


def is_url(raw: str) -> bool:
    return bool(_URL.match(raw))


# A file that is UTF-8 but for a few stray bytes (at most this share) is read as UTF-8, the
# stray bytes replaced, and the reader told; more than that and it is another encoding.
MAX_STRAY_SHARE = 0.001


def decode(data: bytes, notes: list[str] | None = None) -> str:
    """Bytes to text: UTF-8 (BOM or not; a few stray bytes replaced, said in `notes`), else
    Windows-1252, else Latin-1; newlines as '\\n'.

    Not UTF-8 means Windows-1252 byte by byte, with the five bytes it leaves undefined read as
    Latin-1: a stray one of them no longer turns every curly quote into a C1 control.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        text = None
        if e.start > 0 or len(data) > 1:
            replaced = data.decode("utf-8-sig", errors="replace")
            stray = replaced.count("\ufffd") - data.decode("utf-8-sig", "ignore").count("\ufffd")
            if 0 < stray <= max(1, MAX_STRAY_SHARE * len(data)) and _mostly_multibyte_ok(data):
                text = replaced
                if notes is not None:
                    notes.append(f"{stray} byte(s) are not UTF-8 and were replaced with \ufffd")
        if text is None:
            text = data.decode("latin-1").translate(_CP1252_FROM_LATIN1)
    # The same as Python's universal newlines, so offsets match `open(path).read()`.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _mostly_multibyte_ok(data: bytes) -> bool:
    """Whether the data holds UTF-8 multi-byte characters or is plain ASCII but for the stray
    bytes: text in Windows-1252 has high bytes that never pair up as UTF-8 does."""
    valid = len(_UTF8_MULTIBYTE.findall(data))
    high = sum(1 for b in data if b >= 0x80) if len(data) < 1 << 20 else \
        len(data) - len(data.translate(None, bytes(range(0x80, 0x100))))
    return valid * 2 >= high - valid  # most high bytes belong to well-formed characters


_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}"
                             rb"|[\xf0-\xf4][\x80-\xbf]{3}")


def refuse_binary(data: bytes, label: str) -> None:
    """CorpusError for data with NUL bytes near its start: UTF-16 or UTF-32 text, or not text
    at all."""
    if b"\x00" in data[:BINARY_PROBE_BYTES]:
        if data[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"):
            raise CorpusError(f"{label}: is UTF-32 text: save it as UTF-8 and try again")
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise CorpusError(f"{label}: is UTF-16 text: save it as UTF-8 and try again")
        raise CorpusError(f"{label}: looks like a binary file, not text")


def decode_text(data: bytes, label: str, notes: list[str] | None = None) -> str:
    """`decode`, after refusing binary, UTF-16 and UTF-32 data with a message."""
    refuse_binary(data, label)
    return decode(data, notes)


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


def walk_folder(folder: Path, onerror: Callable[[OSError], None] | None = None
                ) -> tuple[list[Path], list[str], int]:
    """The readable-format files under a folder, sorted, the endings of the others, and how
    many symlinks were passed over.

    Hidden files and folders (".git") are passed over. Symlinks met while walking are not
    followed, to files or folders alike (as ripgrep does): a link inside a folder must not
    bring in what lies outside it. The walk keeps its own stack: no recursion, so a folder
    nested thousands deep is walked like any other.
    """
    files: list[Path] = []
    others: list[str] = []
    links = 0
    stack = [folder]
    while stack:
        here = stack.pop()
        try:
            with os.scandir(here) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as e:
            if onerror:
                onerror(e)
            continue
        subfolders = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_symlink():
                    links += 1
                    continue
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError as e:
                if onerror:
                    onerror(e)
                continue
            if is_dir:
                subfolders.append(Path(entry.path))
                continue
            suffix = os.path.splitext(entry.name)[1].lower()
            if suffix in FORMATS or not suffix:
                files.append(Path(entry.path))
            else:
                others.append(suffix)
        stack.extend(reversed(subfolders))  # the first subfolder is walked next: os.walk's order
    return files, others, links


def _suffix_list() -> str:
    return ", ".join(CORPUS_SUFFIXES)


class _Budget:
    """Files read once each (by device and inode, whatever the path's spelling), and the total
    read kept under MAX_TOTAL_BYTES."""

    def __init__(self) -> None:
        self.seen: set[tuple[int, int]] = set()
        self.total = 0

    def first_time(self, path: str | os.PathLike[str]) -> bool:
        try:
            st = os.stat(path)
        except OSError:
            return True  # reading it will say what is wrong
        key = (st.st_dev, st.st_ino)
        if key in self.seen:
            return False
        self.seen.add(key)
        return True

    def add(self, data: bytes) -> None:
        self.total += len(data)
        if self.total > MAX_TOTAL_BYTES:
            raise CorpusError(f"the sources are over the {MAX_TOTAL_BYTES // 2**20} MB limit "
                              "for all of them together: ask of fewer files at a time")


def read_sources(paths: list[str], warn: Callable[[str], None] | None = None,
                 timeout: float | None = None, use_cache: bool = True,
                 stdin: bytes | None = None) -> list[Source]:
    """The bytes of every source: files, folders (every readable file under them), "-" for
    stdin (`stdin`, when already read), and web pages. A file named directly must be usable;
    one found in a folder that is not gets one `warn` line and is skipped. A file named twice
    (or met again in a folder) is read once. CorpusError when nothing usable is left."""
    sources: list[Source] = []
    budget = _Budget()
    for raw in paths:
        if raw == "-":
            data = read_stdin() if stdin is None else stdin
            sources.append(Source(STDIN_NAME, STDIN_NAME, sniff_format("", data), data))
        elif is_url(raw):
            from qa.fetch import fetch_page

            sources.append(fetch_page(raw, timeout=timeout, use_cache=use_cache, warn=warn))
        elif (m := _OTHER_SCHEME.match(raw)) and not os.path.exists(raw):
            raise CorpusError(f"{raw}: qa reads http:// and https:// pages, not "
                              f"{m.group(1).lower()}:// addresses (download it, then name the "
                              "file)")
        elif _is_dir(raw):
            sources.extend(_folder_sources(Path(raw), raw, warn, budget))
            continue
        else:
            if not budget.first_time(raw):
                continue
            data = read_bytes(raw)
            name = os.path.basename(raw.rstrip("/")) or raw
            sources.append(Source(name, raw, sniff_format(name, data), data))
        budget.add(sources[-1].data)
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


def _folder_sources(folder: Path, raw: str, warn: Callable[[str], None] | None,
                    budget: _Budget) -> list[Source]:
    def unreadable(e: OSError) -> None:
        if warn:
            warn(f"skipped {e.filename}: cannot list the folder: {e.strerror or e}")

    files, others, links = walk_folder(folder, unreadable)
    if not files:
        raise CorpusError(f"{raw}: folder has no files qa reads ({_suffix_list()}, or no "
                          "ending)")
    if others and warn:
        endings = ", ".join(sorted(set(others)))
        warn(f"{raw}: skipped {len(others)} file(s) of other types ({endings}); qa reads "
             f"{_suffix_list()} and files with no ending")
    if links and warn:
        warn(f"{raw}: skipped {links} symlink(s) inside the folder (name a link on the command "
             "line to read what it points to)")
    out = []
    for f in files:
        if not budget.first_time(f):
            continue
        name = f.relative_to(folder).as_posix()
        try:
            data = read_bytes(f)
        except CorpusError as e:
            if warn:
                warn(f"skipped {e}")
            continue
        budget.add(data)
        out.append(Source(name, str(f), sniff_format(name, data), data, optional=True))
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
    notes: list[str] = []
    text = decode_text(source.data, source.path, notes)
    notes = [f"{source.path}: {n}" for n in notes]
    if source.format == "markdown":
        from qa.markdown_text import markdown_text

        return replace(markdown_text(text), notes=tuple(notes))
    return Extracted(text, notes=tuple(notes))


def document_from_source(source: Source, warn: Callable[[str], None] | None = None
                         ) -> Document:
    """Read one source in its format and clean it; CorpusError with a reason if not usable.
    `warn` hears what was odd about reading it (stray bytes, skipped pages)."""
    ex = extract(source)
    if warn:
        for note in ex.notes:
            warn(note)
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
