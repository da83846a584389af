from __future__ import annotations

import pytest

from qa.answer import Engine
from qa.corpus import Source, document_from_source
from qa.errors import CorpusError
from qa.index import build_index
from qa.pdf_text import pdf_text
from qa.sentences import split_sentences
from tests.conftest import minimal_pdf
from tests.documents import PDF_PAGES


def test_each_page_is_read_and_sentences_know_their_page():
    data = minimal_pdf(PDF_PAGES)
    ex = pdf_text(data, "report.pdf")
    assert len(ex.pages) == 2 and ex.text[ex.pages[1]:].startswith("The station will be built")
    doc = document_from_source(Source("report.pdf", "report.pdf", "pdf", data))
    pages = {s.text: s.page for s in split_sentences([doc])}
    assert pages["The ceremony took place by videoconference."] == 1
    assert pages["The station will be built near the south pole of the Moon."] == 2


def test_an_answer_from_a_pdf_cites_its_page():
    doc = document_from_source(Source("report.pdf", "report.pdf", "pdf", minimal_pdf(PDF_PAGES)))
    answer = Engine(build_index(split_sentences([doc]))).ask("Where will the station be built?")
    record = answer.to_json()["sentences"][0]
    assert record["page"] == 2 and record["number"] == 3
    assert doc.original[record["start"]:record["end"]] == record["text"]


@pytest.mark.parametrize("data, message", [
    (minimal_pdf([[], []]), "no text layer"),
    (b"%PDF-1.4\nnot really a PDF at all", "cannot read this PDF"),
])
def test_scanned_and_damaged_pdfs_are_refused_with_a_reason(data, message):
    with pytest.raises(CorpusError, match=message):
        pdf_text(data, "scan.pdf")
