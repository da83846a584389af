"""Web pages as sources: fetched with a timeout and a size cap, and kept in the cache so that
asking again works offline."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from qa import cache
from qa.corpus import MAX_FILE_BYTES, READ_CHUNK_BYTES, Source, sniff_format
from qa.errors import CorpusError

# Seconds to wait for a page, in all (connecting, the answer, the whole body).
FETCH_TIMEOUT = 20.0
# A cached page younger than this is used without asking the server; an older one is fetched
# again, and still used (with a warning) when that fails.
PAGE_MAX_AGE = 24 * 3600
# What a response's Content-Type says to read it as.
CONTENT_FORMATS = {"text/html": "html", "application/xhtml+xml": "html",
                   "application/pdf": "pdf", "text/plain": "text",
                   "text/markdown": "markdown", "text/x-markdown": "markdown"}
# Types that say nothing of the content: the first bytes decide (a PDF, an HTML page).
_SNIFFED = ("text/plain", "application/octet-stream", "binary/octet-stream")
PAGE_CACHE_FORMAT = 1


def _user_agent() -> str:
    from qa import __version__

    return f"qa/{__version__} (terminal question answering over a text)"


def fetch_page(url: str, timeout: float | None = None, use_cache: bool = True,
               warn: Callable[[str], None] | None = None) -> Source:
    """The page at `url` as a source: from the cache when fresh, else from the web."""
    path = cache.entry_path("page", url) if use_cache else None
    cached = _load_page(path, url) if path is not None else None
    if cached is not None and time.time() - cached[1] < PAGE_MAX_AGE:
        return cached[0]
    try:
        source = download(url, FETCH_TIMEOUT if timeout is None else timeout)
    except CorpusError as e:
        if cached is None:
            raise
        if warn:
            fetched = time.strftime("%Y-%m-%d %H:%M", time.localtime(cached[1]))
            warn(f"{e}: using the copy fetched {fetched}")
        return cached[0]
    if path is not None:
        try:
            cache.write_entry(path, {
                "meta": np.array([PAGE_CACHE_FORMAT, time.time()], dtype=np.float64),
                "body": np.frombuffer(source.data, dtype=np.uint8),
                **cache.string_arrays("fields", [url, source.format])}, label=url)
        except OSError:
            pass  # an unwritable cache only costs the next run a fetch
    return source


def _load_page(path: Path, url: str) -> tuple[Source, float] | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = z["meta"]
            stored_url, fmt = cache.read_strings(z, "fields", 2)
            if int(meta[0]) != PAGE_CACHE_FORMAT or stored_url != url:
                return None
            return Source(url, url, fmt, bytes(z["body"])), float(meta[1])
    except Exception:  # missing or damaged: fetch it again
        return None


def download(url: str, timeout: float) -> Source:
    """Fetch one page; CorpusError with a one-line reason for every way that can fail."""
    import http.client
    import socket
    import ssl
    import urllib.error
    import urllib.request

    host = urlsplit(url).hostname or url
    request = urllib.request.Request(url, headers={
        "User-Agent": _user_agent(),
        "Accept": "text/html,application/xhtml+xml,application/pdf,text/plain;q=0.9,*/*;q=0.1"})
    deadline = time.monotonic() + timeout
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            ctype = response.headers.get_content_type()
            fmt = CONTENT_FORMATS.get(ctype)
            if fmt is None and ctype not in _SNIFFED:
                raise CorpusError(f"{url}: is not a web page, PDF or text ({ctype})")
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > MAX_FILE_BYTES:
                raise _too_large(url)
            chunks, total = [], 0
            while True:
                chunk = response.read(READ_CHUNK_BYTES)
                if not chunk:
                    break
                total += len(chunk)
                if total > MAX_FILE_BYTES:
                    raise _too_large(url)
                if time.monotonic() > deadline:
                    raise CorpusError(f"{url}: the page took longer than {timeout:g} s to arrive")
                chunks.append(chunk)
    except urllib.error.HTTPError as e:
        if 300 <= e.code < 400:
            raise CorpusError(f"{url}: too many redirects (a redirect loop?)") from None
        raise CorpusError(f"{url}: the server answered {e.code} {e.reason}") from None
    except urllib.error.URLError as e:
        reason = e.reason
        if isinstance(reason, socket.gaierror):
            raise CorpusError(f"{url}: cannot find the host {host} (offline, or a wrong "
                              "address?)") from None
        if isinstance(reason, ConnectionRefusedError):
            raise CorpusError(f"{url}: connection refused by {host}") from None
        if isinstance(reason, (TimeoutError, socket.timeout)):
            raise _timed_out(url, timeout) from None
        if isinstance(reason, ssl.SSLError):
            raise CorpusError(f"{url}: secure connection failed "
                              f"({getattr(reason, 'reason', None) or reason})") from None
        raise CorpusError(f"{url}: cannot fetch: {getattr(reason, 'strerror', None) or reason}") \
            from None
    except (TimeoutError, socket.timeout):
        raise _timed_out(url, timeout) from None
    except http.client.HTTPException as e:
        raise CorpusError(f"{url}: the server's answer is broken ({type(e).__name__})") from None
    except ValueError:
        raise CorpusError(f"{url}: not a web address qa can fetch") from None
    except OSError as e:
        raise CorpusError(f"{url}: cannot fetch: {e.strerror or e}") from None
    data = b"".join(chunks)
    if fmt is None or fmt == "text":
        fmt = sniff_format(urlsplit(url).path, data)
        if fmt not in ("html", "pdf") and ctype != "text/plain":
            raise CorpusError(f"{url}: is not a web page, PDF or text ({ctype})")
    return Source(url, url, fmt, data)


def _too_large(url: str) -> CorpusError:
    return CorpusError(f"{url}: the page is over the {MAX_FILE_BYTES // 2**20} MB limit")


def _timed_out(url: str, timeout: float) -> CorpusError:
    return CorpusError(f"{url}: no answer within {timeout:g} s (the server is slow or down)")
