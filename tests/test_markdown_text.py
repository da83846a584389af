from __future__ import annotations

from qa.answer import Engine
from qa.corpus import Source, document_from_source
from qa.index import build_index
from qa.markdown_text import markdown_text
from qa.sentences import split_sentences
from tests.documents import MARKDOWN


def test_prose_is_kept_and_markup_code_and_html_are_not():
    text = markdown_text(MARKDOWN).text
    assert "The station will be built near the south pole of the Moon." in text
    assert "See the plan for details." in text  # the link's words, not its target
    for absent in ("example.com", "logo", "![", "](", "secret launch code", "indented",
                   "Subscribe", "title: Station notes", "```", "**", "|"):
        assert absent not in text, absent


def test_table_rows_list_items_and_headings_are_blocks():
    ex = markdown_text(MARKDOWN)
    blocks = [ex.text[a:b] for a, b in ex.blocks]
    assert "Agency: Roscosmos; Country: Russia" in blocks and "Agency: CNSA; Country: China" in blocks
    assert "The first module will launch in 2026." in blocks
    assert [name for _, name in ex.sections] == ["Lunar Station", "Partners"]
    assert all(ex.text[start:].startswith(name) for start, name in ex.sections)
    assert "Partners" not in blocks  # a heading names a section; it is not a sentence


def test_sentences_know_their_section_and_offsets_point_into_the_extracted_text():
    doc = document_from_source(Source("notes.md", "notes.md", "markdown", MARKDOWN.encode()))
    sentences = split_sentences([doc])
    by_text = {s.text: s for s in sentences}
    signed = by_text["Roscosmos and CNSA signed the memorandum in March 2021."]
    assert signed.section == "Partners" and signed.number == 3
    assert by_text["The station will be built near the south pole of the Moon."].section \
        == "Lunar Station"
    for s in sentences:
        assert doc.original[s.start:s.end] == s.text


def test_an_answer_from_markdown_cites_its_section():
    doc = document_from_source(Source("notes.md", "notes.md", "markdown", MARKDOWN.encode()))
    answer = Engine(build_index(split_sentences([doc]))).ask("Who signed the memorandum?")
    assert answer.found and answer.answer == "Roscosmos and CNSA"
    record = answer.to_json()["sentences"][0]
    assert record["section"] == "Partners" and record["number"] == 3
