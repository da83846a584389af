"""Web pages as sources: fetched with a timeout and a size cap, and kept in the cache so that
asking again works offline."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from qa import cache
from qa.source import MAX_FILE_BYTES, READ_CHUNK_BYTES, Source, sniff_format
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


# Redirects followed before giving up (browsers allow about 20; a loop hits this quickly).
MAX_REDIRECTS = 10
_REDIRECTS = (301, 302, 303, 307, 308)


def _kind_of_address(ip: str) -> str:
    """"loopback", "link-local", "private" or "public": where an address reaches."""
    import ipaddress

    a = ipaddress.ip_address(ip.split("%")[0])
    if getattr(a, "ipv4_mapped", None):
        a = a.ipv4_mapped
    if a.is_loopback:
        return "loopback"
    if a.is_link_local:
        return "link-local"
    if a.is_private or a.is_reserved or a.is_multicast or a.is_unspecified:
        return "private"
    return "public"


class _Deadline:
    """One time limit for a whole fetch: connects, redirects, headers and body. A timer shuts
    the socket at the deadline, so a server sending a byte at a time cannot hold qa."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.passed = False

    def left(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            self.passed = True
            raise TimeoutError
        return left

    def guard(self, sock):
        import socket
        import threading

        def shut() -> None:
            self.passed = True
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        timer = threading.Timer(self.left(), shut)
        timer.daemon = True
        timer.start()
        return timer


def download(url: str, timeout: float) -> Source:
    """Fetch one page, following redirects by hand: only http and https, every hop's address
    checked, one deadline for everything; CorpusError with a one-line reason naming the hop
    that failed, for every way that can fail."""
    deadline = _Deadline(timeout)
    first_kind: str | None = None
    hop = url
    for redirects in range(MAX_REDIRECTS + 1):
        status, reason, headers, body, kind = _get(hop, url, redirects, deadline, first_kind)
        first_kind = first_kind or kind
        if status in _REDIRECTS:
            location = headers.get("Location")
            if not location:
                raise CorpusError(f"{hop}: the server answered {status} {reason} without "
                                  "saying where to")
            from urllib.parse import urljoin

            hop = urljoin(hop, location.strip())
            continue
        if 300 <= status < 400:
            raise CorpusError(f"{hop}: the server answered {status} {reason}, not a page")
        if status >= 400:
            raise CorpusError(f"{hop}: the server answered {status} {reason}")
        return _page(hop, url, headers, body)
    raise CorpusError(f"{url}: too many redirects (a redirect loop?)")


def _page(hop: str, url: str, headers, body: bytes) -> Source:
    ctype = headers.get_content_type()
    fmt = CONTENT_FORMATS.get(ctype)
    if fmt is None and ctype not in _SNIFFED:
        raise CorpusError(f"{hop}: is not a web page, PDF or text ({ctype})")
    if fmt is None or fmt == "text":
        fmt = sniff_format(urlsplit(hop).path, body)
        if fmt not in ("html", "pdf") and ctype != "text/plain":
            raise CorpusError(f"{hop}: is not a web page, PDF or text ({ctype})")
    return Source(url, url, fmt, body)


def _get(hop: str, url: str, redirects: int, deadline: _Deadline, first_kind: str | None):
    """One request: (status, reason, headers, body or b"" for a redirect, the address kind)."""
    import http.client
    import socket
    import ssl
    import urllib.request

    try:
        parts = urlsplit(hop)
        scheme, host, port = parts.scheme.lower(), parts.hostname, parts.port
    except ValueError:
        raise CorpusError(f"{hop}: not a web address qa can fetch") from None
    if scheme not in ("http", "https"):
        what = f"{scheme}:// addresses" if scheme else "this address"
        raise CorpusError(f"{url}: redirects to {_shown(hop)}: qa follows only http and https, "
                          f"not {what}" if redirects else
                          f"{hop}: qa fetches only http:// and https:// pages")
    if parts.username is not None or parts.password is not None:
        raise CorpusError(f"{_shown(hop)}: a user name or password in a web address is not "
                          "supported: qa sends no credentials")
    if not host:
        raise CorpusError(f"{hop}: not a web address qa can fetch (no host)")
    port = port or (443 if scheme == "https" else 80)
    proxy = None
    proxies = urllib.request.getproxies()
    if scheme in proxies and not urllib.request.proxy_bypass(host):
        proxy = urlsplit(proxies[scheme])
    kind = None
    try:
        if proxy is None:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            ip = infos[0][4][0]
            kind = _kind_of_address(ip)
            if redirects and kind != "public" and kind != first_kind:
                raise CorpusError(f"{url}: redirects to {_shown(hop)}, a {kind} address "
                                  f"({ip}): not followed")
            sock = socket.create_connection((ip, port), deadline.left())
        else:
            sock = socket.create_connection((proxy.hostname, proxy.port or 80), deadline.left())
        timer = deadline.guard(sock)
        try:
            if scheme == "https":
                context = ssl.create_default_context()
                conn = http.client.HTTPSConnection(host, port, timeout=deadline.left(),
                                                   context=context)
                if proxy is not None:
                    conn.sock = sock
                    conn.set_tunnel(host, port)
                    conn._tunnel()  # noqa: SLF001 -- CONNECT over the socket we opened
                    sock = conn.sock
                conn.sock = context.wrap_socket(sock, server_hostname=host)
            else:
                conn = http.client.HTTPConnection(host, port, timeout=deadline.left())
                conn.sock = sock
            target = hop if proxy is not None and scheme == "http" else \
                (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            conn.request("GET", target, headers={
                "User-Agent": _user_agent(), "Accept-Encoding": "identity",
                "Accept": "text/html,application/xhtml+xml,application/pdf,"
                          "text/plain;q=0.9,*/*;q=0.1"})
            response = conn.getresponse()
            if response.status in _REDIRECTS or not 200 <= response.status < 300:
                return response.status, response.reason, response.headers, b"", kind
            body = _body(response, hop, deadline)
            return response.status, response.reason, response.headers, body, kind
        finally:
            timer.cancel()
            sock.close()
    except CorpusError:
        raise
    except socket.gaierror:
        raise CorpusError(f"{hop}: cannot find the host {host} (offline, or a wrong "
                          "address?)") from None
    except ConnectionRefusedError:
        raise CorpusError(f"{hop}: connection refused by {host}") from None
    except ssl.SSLError as e:
        if deadline.passed:
            raise _timed_out(hop, deadline.seconds) from None
        raise CorpusError(f"{hop}: secure connection failed "
                          f"({getattr(e, 'reason', None) or e})") from None
    except (TimeoutError, socket.timeout):
        raise _timed_out(hop, deadline.seconds) from None
    except (http.client.HTTPException, OSError, ValueError) as e:
        if deadline.passed:
            raise _timed_out(hop, deadline.seconds) from None
        if isinstance(e, http.client.HTTPException):
            raise CorpusError(f"{hop}: the server's answer is broken ({type(e).__name__})") \
                from None
        if isinstance(e, ValueError):
            raise CorpusError(f"{hop}: not a web address qa can fetch") from None
        raise CorpusError(f"{hop}: cannot fetch: {e.strerror or e}") from None


def _body(response, hop: str, deadline: _Deadline) -> bytes:
    """The whole body, at most MAX_FILE_BYTES, and all of it: a body shorter than its
    Content-Length is refused (a page cut short must not be indexed and cached as whole)."""
    length = response.headers.get("Content-Length", "").strip()
    expected = int(length) if length.isdigit() else None
    if expected is not None and expected > MAX_FILE_BYTES:
        raise _too_large(hop)
    chunks, total = [], 0
    while True:
        try:
            chunk = response.read(READ_CHUNK_BYTES)
        except Exception as e:  # http.client.IncompleteRead among them
            if deadline.passed:
                raise TimeoutError from None
            if expected is not None:
                break  # reported below as cut short
            raise e
        if not chunk:
            break
        total += len(chunk)
        if total > MAX_FILE_BYTES:
            raise _too_large(hop)
        chunks.append(chunk)
        deadline.left()
    if deadline.passed:
        raise TimeoutError
    if expected is not None and total < expected:
        raise CorpusError(f"{hop}: the page arrived cut short ({total:,} of {expected:,} "
                          "bytes): try again later")
    return b"".join(chunks)


def _shown(url: str) -> str:
    """A web address with any password in it masked."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def _too_large(url: str) -> CorpusError:
    return CorpusError(f"{url}: the page is over the {MAX_FILE_BYTES // 2**20} MB limit")


def _timed_out(url: str, timeout: float) -> CorpusError:
    return CorpusError(f"{url}: no answer within {timeout:g} s (the server is slow or down)")
