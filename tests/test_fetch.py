from __future__ import annotations

import time

import numpy as np
import pytest

from qa import cache, corpus, fetch
from qa.errors import CorpusError


def test_a_body_without_a_length_stops_at_the_limit(site, monkeypatch):
    monkeypatch.setattr(fetch, "MAX_FILE_BYTES", 2**20)
    with pytest.raises(CorpusError, match="over the 1 MB limit"):
        fetch.download(f"{site.url}/stream", timeout=10)


def test_the_page_is_read_by_its_content_type(site):
    assert fetch.download(f"{site.url}/article.html", 5).format == "html"
    assert fetch.download(f"{site.url}/report.pdf", 5).format == "pdf"
    assert fetch.download(f"{site.url}/notes.md", 5).format == "markdown"


def test_a_stale_page_is_fetched_again_and_kept_when_that_fails(site):
    url = f"{site.url}/once.html?stale"
    site.routes["/once.html?stale"] = site.routes["/article.html"]
    first = fetch.fetch_page(url)
    path = cache.entry_path("page", url)
    with np.load(path) as z:  # the same entry, fetched over a day ago
        arrays = {k: z[k] for k in z.files if not k.startswith(cache.LABEL_KEY)}
    arrays["meta"][1] = time.time() - fetch.PAGE_MAX_AGE - 60
    cache.write_entry(path, arrays, url)
    site.routes["/once.html?stale"] = (503, "text/html", b"down")
    warnings: list[str] = []
    again = fetch.fetch_page(url, warn=warnings.append)
    assert again.data == first.data
    assert len(warnings) == 1 and "the server answered 503" in warnings[0]
    assert "using the copy fetched" in warnings[0]


def test_no_cache_fetches_and_writes_nothing(site):
    fetch.fetch_page(f"{site.url}/article.html", use_cache=False)
    assert not cache.cache_dir().exists()


def test_sniffed_bytes_decide_an_unlabelled_page():
    assert corpus.sniff_format("", b"%PDF-1.7 ...") == "pdf"
    assert corpus.sniff_format("", b"\n  <!DOCTYPE html><html>") == "html"
    assert corpus.sniff_format("", b"Plain words.") == "text"


def test_a_host_that_does_not_resolve_says_so(monkeypatch):
    import socket

    def no_such_host(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)  # no DNS query leaves the machine
    with pytest.raises(CorpusError, match="cannot find the host no-such-host.example"):
        fetch.download("http://no-such-host.example/page", timeout=5)
