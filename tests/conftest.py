"""Shared fixtures: the bundled article, an engine over it, and the installed `qa` command."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The keys of every JSON Lines answer record (README: JSON Lines).
ANSWER_FIELDS = {"question", "found", "answer", "type", "confidence", "asked", "highlight",
                 "sentences"}
ARTICLE = ROOT / "corpus" / "tass-roscosmos-cnsa-lunar-station.txt"
DATA = Path(__file__).resolve().parent / "data"


def qa_command() -> str:
    """The installed `qa` script: beside this Python, else on PATH."""
    beside = Path(sys.executable).parent / "qa"
    found = str(beside) if beside.exists() else shutil.which("qa")
    if not found:
        pytest.skip("the qa command is not installed")
    return found


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory, monkeypatch):
    """Keep every test away from the real cache and history folders."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("NLTK_DATA", str(home / "nltk_data_empty"))
    yield


@pytest.fixture(scope="session")
def article_index():
    from qa.index import open_index

    return open_index([str(ARTICLE)], use_cache=False)


@pytest.fixture(scope="session")
def engine(article_index):
    from qa.answer import Engine

    return Engine(article_index)


@pytest.fixture
def qa_env(tmp_path):
    """Environment for running the installed command: private HOME, no colour codes."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QA_", "NO_COLOR"))}
    env.update(HOME=str(tmp_path), XDG_CACHE_HOME=str(tmp_path / "cache"),
               XDG_DATA_HOME=str(tmp_path / "data"), NLTK_DATA=str(tmp_path / "nltk_empty"),
               PYTHONIOENCODING="utf-8")
    return env


def wait_for_prompt(child) -> None:
    """Wait until the chat's prompt is drawn (a pexpect child), before sending it keys.

    Between prompts the terminal is back in cooked mode, where the line discipline takes a
    Ctrl-D as end-of-file for a read nobody is making: it never reaches the next prompt.
    """
    child.expect_exact("\x1b[?2004h")  # bracketed paste on: a new prompt, in raw mode
    child.expect_exact("\x1b[?25h")  # the cursor shown: drawn and waiting
def minimal_pdf(pages: list[list[str]]) -> bytes:
    """A PDF with a text layer: one page per list, one line of Helvetica per string."""
    def escape(line: str) -> str:
        return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               f"<< /Type /Pages /Kids [{' '.join(f'{4 + 2 * i} 0 R' for i in range(len(pages)))}]"
               f" /Count {len(pages)} >>".encode(),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    for i, lines in enumerate(pages):
        stream = ("BT /F1 12 Tf 14 TL 72 720 Td "
                  + " ".join(f"({escape(line)}) Tj T*" for line in lines) + " ET").encode("latin-1")
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources "
                       f"<< /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>".encode())
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    out, offsets = b"%PDF-1.4\n", []
    for k, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (k, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


class _Site:
    """Pages served on 127.0.0.1 for the web-page tests, and how often each was asked for."""

    def __init__(self) -> None:
        import collections
        import http.server
        import threading

        from tests.documents import HTML, MARKDOWN, PDF_PAGES

        self.hits: collections.Counter[str] = collections.Counter()
        self.routes = {
            "/article.html": (200, "text/html; charset=utf-8", HTML.encode()),
            "/notes.md": (200, "text/markdown", MARKDOWN.encode()),
            "/report.pdf": (200, "application/pdf", minimal_pdf(PDF_PAGES)),
            "/image.png": (200, "image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),
            "/missing": (404, "text/html", b"<p>Not here</p>"),
        }
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.hits[self.path] += 1
                try:
                    site.answer(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up, as it should

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, h) -> None:
        import time

        path = h.path
        redirects = {"/to-metadata": "http://169.254.169.254/latest/meta-data/",
                     "/to-ftp": "ftp://127.0.0.1:1/x", "/to-file": "file:///etc/passwd",
                     "/to-missing": "/missing", "/to-article": "/article.html"}
        if path in redirects:
            h.send_response(302)
            h.send_header("Location", redirects[path])
            h.end_headers()
        elif path == "/not-modified":
            h.send_response(304)
            h.end_headers()
        elif path == "/cut-short":  # says 1,000 bytes, sends 18
            h.send_response(200)
            h.send_header("Content-Type", "text/plain")
            h.send_header("Content-Length", "1000")
            h.end_headers()
            h.wfile.write(b"Only eighteen byte")
        elif path == "/drip":  # a byte at a time, for a minute
            h.send_response(200)
            h.send_header("Content-Type", "text/plain")
            h.end_headers()
            for _ in range(200):
                h.wfile.write(b"a")
                h.wfile.flush()
                time.sleep(0.3)
        elif path.startswith("/chain"):  # 2 s a hop, redirecting on and on
            n = int(path[len("/chain"):] or 0)
            time.sleep(2)
            h.send_response(302)
            h.send_header("Location", f"/chain{n + 1}")
            h.end_headers()
        elif path == "/loop":
            h.send_response(302)
            h.send_header("Location", "/loop")
            h.end_headers()
        elif path == "/slow":
            time.sleep(3)
            self._send(h, 200, "text/html", b"<p>Too late.</p>")
        elif path == "/huge":  # says it is 200 MB
            h.send_response(200)
            h.send_header("Content-Type", "text/html")
            h.send_header("Content-Length", str(200 * 2**20))
            h.end_headers()
            h.wfile.write(b"<p>" + b"word " * 1000)
        elif path == "/stream":  # no length: goes on until the client stops reading
            h.send_response(200)
            h.send_header("Content-Type", "text/plain")
            h.end_headers()
            for _ in range(100):
                h.wfile.write(b"The rocket was launched. " * 40_000)
        elif path == "/once.html":  # the page the first time, an error after
            if self.hits[path] == 1:
                self._send(h, 200, "text/html", self.routes["/article.html"][2])
            else:
                self._send(h, 500, "text/html", b"<p>down</p>")
        else:
            self._send(h, *self.routes.get(path, (404, "text/plain", b"no such page")))

    @staticmethod
    def _send(h, code: int, ctype: str, body: bytes) -> None:
        h.send_response(code)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)


@pytest.fixture(scope="session")
def site():
    s = _Site()
    yield s
    s.server.shutdown()


@pytest.fixture(autouse=True)
def _no_proxy_for_local_pages(monkeypatch):
    """The local test server is reached directly, whatever proxy the environment names."""
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                 "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
