"""Each kind of source through the installed `qa`: Markdown, HTML, PDF, web pages, stdin,
folders, and `qa --extract`, which prints the text that citations count characters in."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.conftest import ARTICLE, minimal_pdf, qa_command
from tests.documents import ARTICLE_TITLE, HTML, MARKDOWN, PDF_PAGES


def run(args, env, stdin: bytes | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([qa_command(), *args], input=stdin, capture_output=True, env=env,
                          timeout=timeout, stdin=None if stdin is not None else subprocess.DEVNULL)


def one_error_line(r: subprocess.CompletedProcess, message: str) -> None:
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stdout == b"" and b"Traceback" not in r.stderr
    assert r.stderr.startswith(b"qa: ") and r.stderr.count(b"\n") == 1, r.stderr
    assert message.encode() in r.stderr, r.stderr


def extracted(source: str, env) -> str:
    r = run(["--extract", source], env)
    assert r.returncode == 0, r.stderr
    return r.stdout.decode("utf-8")


def check_offsets(record: dict, text: str) -> None:
    for s in record["sentences"]:
        assert text[s["start"]:s["end"]] == s["text"]


@pytest.fixture
def files(tmp_path):
    (tmp_path / "notes.md").write_text(MARKDOWN, encoding="utf-8")
    (tmp_path / "page.html").write_text(HTML, encoding="utf-8")
    (tmp_path / "report.pdf").write_bytes(minimal_pdf(PDF_PAGES))
    return tmp_path


def test_markdown_answers_cite_the_section(files, qa_env):
    r = run(["-c", str(files / "notes.md"), "-q", "Who signed the memorandum?"], qa_env)
    assert r.returncode == 0, r.stderr
    assert b'-- notes.md, section "Partners", sentence 3, chars' in r.stdout
    r = run(["-c", str(files / "notes.md"), "--json", "-q", "Who signed the memorandum?"], qa_env)
    check_offsets(json.loads(r.stdout), extracted(str(files / "notes.md"), qa_env))


def test_html_file_answers_from_the_article_and_cites_its_title(files, qa_env):
    r = run(["-c", str(files / "page.html"), "-q", "Who signed the memorandum?"], qa_env)
    assert r.returncode == 0, r.stderr
    assert b"Elon Musk" not in r.stdout
    assert f'-- page.html "{ARTICLE_TITLE}", sentence 1, chars'.encode() in r.stdout
    r = run(["-c", str(files / "page.html"), "--json", "-q", "How was the ceremony held?"],
            qa_env)
    record = json.loads(r.stdout)
    assert record["sentences"][0]["title"] == ARTICLE_TITLE
    check_offsets(record, extracted(str(files / "page.html"), qa_env))


def test_pdf_answers_cite_the_page(files, qa_env):
    r = run(["-c", str(files / "report.pdf"), "-q", "Where will the station be built?"], qa_env)
    assert r.returncode == 0, r.stderr
    assert b"-- report.pdf, page 2, sentence 3, chars" in r.stdout
    r = run(["-c", str(files / "report.pdf"), "--json", "-q", "When will the module launch?"],
            qa_env)
    check_offsets(json.loads(r.stdout), extracted(str(files / "report.pdf"), qa_env))


def test_extract_of_plain_text_is_the_file_as_open_reads_it(qa_env):
    assert extracted(str(ARTICLE), qa_env) == ARTICLE.read_text(encoding="utf-8")


def test_web_page_is_fetched_cited_by_title_and_url_and_asked_again_offline(site, qa_env):
    url = f"{site.url}/once.html"
    r = run(["-c", url, "-q", "How was the ceremony held?"], qa_env)
    assert r.returncode == 0, r.stderr
    assert f'-- {url} "{ARTICLE_TITLE}"'.encode() in r.stdout
    again = run(["-c", url, "--json", "-q", "How was the ceremony held?"], qa_env)
    assert again.returncode == 0, again.stderr  # the server now answers 500: the cached page
    assert site.hits["/once.html"] == 1
    record = json.loads(again.stdout)
    assert record["sentences"][0]["source"] == url
    check_offsets(record, extracted(url, qa_env))


@pytest.mark.parametrize("path, format_word", [("/notes.md", b'section "Lunar Station"'),
                                               ("/report.pdf", b"page 2")])
def test_web_markdown_and_pdf_are_read_by_content_type(site, qa_env, path, format_word):
    r = run(["-c", site.url + path, "-q", "Where will the station be built?"], qa_env)
    assert r.returncode == 0, r.stderr
    assert format_word in r.stdout


@pytest.mark.parametrize("path, extra, message", [
    ("/missing", [], "the server answered 404 Not Found"),
    ("/loop", [], "too many redirects (a redirect loop?)"),
    ("/slow", ["--timeout", "1"], "no answer within 1 s"),
    ("/huge", [], "the page is over the 64 MB limit"),
    ("/image.png", [], "is not a web page, PDF or text (image/png)"),
])
def test_every_web_failure_is_one_line_and_exit_2(site, qa_env, path, extra, message):
    r = run(["-c", site.url + path, *extra, "-q", "Who signed?"], qa_env, timeout=30)
    one_error_line(r, message)


def test_a_refused_connection_is_one_line(qa_env):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    one_error_line(run(["-c", f"http://127.0.0.1:{port}/", "-q", "x"], qa_env),
                   "connection refused by 127.0.0.1")


def test_piped_text_is_the_document_for_q(qa_env, tmp_path):
    text = b"Python was created by Guido van Rossum in 1991. It is named after a comedy group.\n"
    r = run(["-q", "Who created Python?"], qa_env, stdin=text)
    assert r.returncode == 0, r.stderr
    assert b"Answer: Guido van Rossum" in r.stdout and b"-- stdin, sentence 1" in r.stdout
    r = run(["--corpus", "-", "--json", "-q", "Who created Python?"], qa_env, stdin=text)
    check_offsets(json.loads(r.stdout), text.decode())


def test_empty_piped_stdin_leaves_the_bundled_article(qa_env):
    r = run(["-q", "Who heads Roscosmos?"], qa_env, stdin=b"")
    assert r.returncode == 0 and b"Dmitry Rogozin" in r.stdout


def test_stdin_cannot_be_both_document_and_questions(qa_env):
    one_error_line(run(["--corpus", "-"], qa_env, stdin=b"Who?\n"),
                   "stdin cannot be both the document (--corpus -) and the questions")
    one_error_line(run(["--corpus", "-", "-q", "x"], qa_env, stdin=b""), "stdin: has no text")


def test_folder_skips_unusable_files_with_one_warning_each(qa_env, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "good.txt").write_bytes(ARTICLE.read_bytes())
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    for attempt in ("built", "cached"):
        r = run(["-c", str(folder), "-q", "Who heads Roscosmos?"], qa_env)
        assert r.returncode == 0, (attempt, r.stderr)
        assert b"-- good.txt, sentence 1" in r.stdout
        lines = r.stderr.decode().splitlines()
        assert sorted(lines) == [f"qa: skipped {folder / 'binary.txt'}: looks like a binary file, "
                                 "not text",
                                 f"qa: skipped {folder / 'empty.txt'}: has no text to answer from "
                                 "(empty or only boilerplate)"], attempt
    (folder / "good.txt").unlink()
    r = run(["-c", str(folder), "-q", "Who heads Roscosmos?"], qa_env)
    assert r.returncode == 2 and r.stdout == b""
    assert r.stderr.decode().splitlines()[-1] == "qa: nothing usable to read: every file was skipped"


def test_leads_from_several_files_name_their_file_and_count_within_it(qa_env, tmp_path):
    (tmp_path / "a.txt").write_text("The new bridge was opened in May 1999. It cost ten million.\n")
    (tmp_path / "b.txt").write_text("Boats were common here. The old bridge was opened in 1950.\n")
    r = run(["-c", str(tmp_path), "-k", "3", "-q", "When was the bridge opened?"], qa_env)
    lines = r.stdout.decode().splitlines()
    cited = [line for line in lines if "bridge was opened" in line or line.startswith("  --")]
    assert any("a.txt, sentence 1" in line for line in cited), lines
    assert any("b.txt, sentence 2" in line for line in cited), lines
    assert all("sentence 3" not in line and "sentence 4" not in line for line in lines)


def test_help_names_the_formats(qa_env):
    out = run(["--help"], qa_env).stdout
    for word in (b".md", b".html", b".pdf", b"http://", b"--extract", b"qa cache"):
        assert word in out
