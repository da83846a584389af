from __future__ import annotations

import pytest

from qa.answer import Engine
from qa.corpus import Source, document_from_source
from qa.errors import CorpusError
from qa.html_text import html_text
from qa.index import build_index
from qa.sentences import split_sentences
from tests.documents import ARTICLE_TITLE, HTML


def test_main_text_without_navigation_sharing_comments_or_footer():
    ex = html_text(HTML.encode(), "page.html")
    assert "signed a memorandum on an international lunar research station" in ex.text
    for absent in ("World news", "Share on Facebook", "Tweet", "Elon Musk", "Leave a comment",
                   "Copyright", "Jane Doe", "Privacy"):
        assert absent not in ex.text, absent
    assert ex.title == ARTICLE_TITLE
    assert [name for _, name in ex.sections] == [ARTICLE_TITLE, "What comes next"]


def test_answers_come_from_the_article_and_cite_the_title():
    doc = document_from_source(Source("page.html", "page.html", "html", HTML.encode()))
    engine = Engine(build_index(split_sentences([doc])))
    answer = engine.ask("Who signed the memorandum?")
    assert "Elon Musk" not in (answer.answer or "") and "Roscosmos" in answer.answer
    record = answer.to_json()["sentences"][0]
    assert record["title"] == ARTICLE_TITLE and record["section"] == ARTICLE_TITLE
    assert doc.original[record["start"]:record["end"]] == record["text"]
    assert not engine.ask("Who took the station photo?").found  # that was the footer


@pytest.mark.parametrize("page", [b"<html><body><nav><a href='/'>Home</a></nav></body></html>",
                                  b"<html><body><script>x = 1</script></body></html>", b""])
def test_a_page_with_no_main_text_is_refused(page):
    with pytest.raises(CorpusError, match="has no text to answer from"):
        document_from_source(Source("empty.html", "empty.html", "html", page))
