from __future__ import annotations

import pytest

from qa.corpus import decode, document_from_text, read_document, read_sources
from qa.errors import CorpusError
from tests.conftest import ARTICLE


def test_bundled_article_is_the_shared_one_byte_for_byte():
    shared = ARTICLE.parent.parent.parent / "shared" / "corpus" / "article.txt"
    if not shared.exists():
        pytest.skip("../shared is not beside the checkout")
    assert ARTICLE.read_bytes() == shared.read_bytes()


def test_boilerplate_lines_are_dropped():
    doc = read_document(ARTICLE)
    assert "Spread the love" not in doc.text
    assert "Leave A Reply" not in doc.text
    assert "Powered By" not in doc.text
    assert "<<" not in doc.text


def test_sentence_broken_by_a_blank_line_is_rejoined():
    doc = read_document(ARTICLE)
    assert "Administration (CNSA) Zhang Keijan signed" in doc.text
    assert "In November 2017, and the CNSA have signed a program cooperation plan" in doc.text


def test_clean_offsets_map_back_to_the_original():
    doc = read_document(ARTICLE)
    for start, end in doc.paragraphs:
        a, b = doc.original_span(start, end)
        assert " ".join(doc.original[a:b].split()) == " ".join(doc.text[start:end].split())


def test_heading_is_not_glued_to_the_next_paragraph():
    doc = document_from_text("Lunar Station Plan Agreed\n\nThe agencies signed a plan.\n", "t")
    assert doc.text == "Lunar Station Plan Agreed\n\nThe agencies signed a plan."


def test_paragraph_ending_in_a_comma_continues():
    doc = document_from_text("In 2017,\n\nthe agencies signed a plan.\n", "t")
    assert doc.text == "In 2017, the agencies signed a plan."


def test_whitespace_is_squeezed_and_offsets_survive():
    text = "A  first\tsentence here.\n\nSecond   one   is here."
    doc = document_from_text(text, "t")
    assert doc.text == "A first sentence here.\n\nSecond one is here."
    i = doc.text.index("one")
    assert text[doc.to_original(i):doc.to_original(i) + 3] == "one"


@pytest.mark.parametrize("data", [
    "caf\u00e9 is here.\n".encode("utf-8-sig"),
    "caf\u00e9 is here.\r\n".encode(),
    "caf\u00e9 is here.\r".encode(),
    "caf\u00e9 is here.\n".encode("latin-1"),
])
def test_encodings_and_line_ends_decode(data):
    assert decode(data) == "caf\u00e9 is here.\n"


def test_missing_empty_and_binary_files_raise_corpus_errors(tmp_path):
    with pytest.raises(CorpusError, match="no such file"):
        read_document(tmp_path / "nope.txt")
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(CorpusError, match="no text"):
        read_document(tmp_path / "empty.txt")
    (tmp_path / "bin.txt").write_bytes(b"\x00" * 100)
    with pytest.raises(CorpusError, match="binary"):
        read_document(tmp_path / "bin.txt")


def test_folder_reads_every_supported_file_and_names_the_others(tmp_path):
    (tmp_path / "b.md").write_text("B.")
    (tmp_path / "a.txt").write_text("A.")
    (tmp_path / "c.png").write_bytes(b"x")
    (tmp_path / "NOTES").write_text("No ending.")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "d.html").write_text("<p>D.</p>")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "e.txt").write_text("hidden")
    warnings: list[str] = []
    sources = read_sources([str(tmp_path)], warn=warnings.append)
    assert [(s.name, s.format) for s in sources] == [
        ("NOTES", "text"), ("a.txt", "text"), ("b.md", "markdown"), ("sub/d.html", "html")]
    assert len(warnings) == 1 and "skipped 1 file(s) of other types (.png)" in warnings[0]
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match="folder has no files qa reads"):
        read_sources([str(tmp_path / "empty")], warn=warnings.append)
