"""Properties that hold for any text and any question: well-formed answers, safe renderings.

CI runs a bounded number of examples; `HYPOTHESIS_PROFILE=long pytest tests/test_properties.py`
runs fifty times as many.
"""

from __future__ import annotations

import io
import json
import math
import os
import re

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from qa import render
from qa.answer import Answer, Engine
from qa.corpus import HAS_WORD, blank_controls, document_from_text
from qa.errors import CorpusError
from qa.index import build_index
from qa.sentences import split_sentences

LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"


def examples(n: int) -> settings:
    """n examples in CI, 50 x n under HYPOTHESIS_PROFILE=long; no per-example deadline."""
    return settings(max_examples=n * 50 if LONG else n, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# Anything that can drive a terminal: C0 (but tab and newline), DEL, C1, bidi controls.
TERMINAL_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e"
                             "\u2066-\u2069\ud800-\udfff]")
SGR = re.compile("\x1b\\[[0-9;]*m")  # rich's own colour codes, in a colour console only

HOSTILE_PIECES = [
    "\x1b[31m", "\x1b[0m", "\x1b]8;;https://evil.example/\x1b\\", "\x1b]52;c;cm0gLXJm\x07",
    "\x1b[2J", "\x1b[H", "\x1b[6n", "\x07", "\x00", "\x08", "\x7f", "\x9b", "\x9b31m", "\x85",
    "\u202e", "\u202c", "\u2066", "\u200f", "\ufeff", "\u200b", "\x0c", "\x0b", "\r", "\r\n",
    "[bold]", "[/]", "[link=x]", "\\", "\\[", ":rocket:", ":smile:", "%s", "{0}", "<<", ">>",
    "\u2014", "\u201c", "\u201d", "\u2019", "...", "\u2026", "#", "*", "\u2022",
]
WORDS = ["The", "rocket", "was", "launched", "in", "2019", "by", "Alice", "Smith", "from",
         "Baikonur", "Roscosmos", "and", "CNSA", "signed", "a", "memorandum", "on", "Tuesday",
         "six", "sections", "station", "Zhang", "Keijan", "2018-2022", "U.S.", "Mr.", "don't",
         "caf\u00e9", "\u6708\u7403", "\u041c\u043e\u0441\u043a\u0432\u0430", "x", "Share this",
         "Powered By WordPress", "Leave a reply", "\u00a9 2021"]
SEPARATORS = [" ", " ", " ", ". ", ", ", "? ", "! ", "\n", "\n\n", "\t", "  ", ": ", "; "]

piece = st.one_of(st.sampled_from(WORDS), st.sampled_from(SEPARATORS),
                  st.sampled_from(HOSTILE_PIECES), st.text(max_size=8))
word = st.one_of(st.sampled_from(WORDS), st.sampled_from(WORDS), st.sampled_from(HOSTILE_PIECES),
                 st.text(min_size=1, max_size=8))
sentence = st.tuples(st.lists(word, min_size=1, max_size=14).map(" ".join),
                     st.sampled_from([".", "?", "!", "", ".\u201d", "...", ":"]),
                     st.sampled_from([" ", " ", "\n", "\n\n", "\r\n", "\r\n\r\n", "\t", "\x0c"])
                     ).map("".join)
# Prose-shaped text with hostile pieces in it, bytes-level junk, and text with no shape at all.
scraped = st.one_of(st.lists(sentence, min_size=1, max_size=14).map("".join),
                    st.lists(piece, max_size=80).map("".join))
corpus_text = st.one_of(scraped, scraped, st.text(max_size=300))
QUESTION_WORDS = ["who", "when", "where", "how many", "how much", "what", "why", "how",
                  "which sections", "what year", "in which city"]
ARTICLE_WORDS = ["Roscosmos", "CNSA", "signed", "memorandum", "lunar", "station", "Rogozin",
                 "videoconference", "sections", "2017", "ceremony", "WeChat", "head", "plan"]
question_text = st.one_of(
    st.lists(st.one_of(st.sampled_from(QUESTION_WORDS), st.sampled_from(ARTICLE_WORDS),
                       st.sampled_from(ARTICLE_WORDS), piece), max_size=12).map(" ".join),
    st.lists(st.one_of(st.sampled_from(QUESTION_WORDS), piece), max_size=12).map(" ".join),
    st.text(max_size=200))
# Prose with control characters and markup but no line the cleaner drops whole.
PLAIN_WORDS = [w for w in WORDS if w[0].isalnum() and " " not in w]
CONTROL_PIECES = [p for p in HOSTILE_PIECES if not p[0].isalnum() and p not in
                  ("<<", ">>", "\u2014", "#", "*", "\u2022", "...", "\u2026")]
plain_sentence = st.tuples(
    st.lists(st.one_of(st.sampled_from(PLAIN_WORDS), st.sampled_from(PLAIN_WORDS),
                       st.sampled_from(CONTROL_PIECES)), min_size=1, max_size=14).map(" ".join),
    st.sampled_from([".", "?", "!", "", ":"]),
    st.sampled_from([" ", "\n", "\n\n", "\r\n", "\r", "\t", "\x0c", "\x85"])).map("".join)
plain_prose = st.lists(plain_sentence, min_size=1, max_size=14).map("".join)


@st.composite
def corpus_and_question(draw):
    """A text and a question that often uses the text's own words, so answers get found."""
    text = draw(corpus_text)
    words = text.split()
    if words and draw(st.booleans()):
        question = " ".join([draw(st.sampled_from(QUESTION_WORDS)),
                             *draw(st.lists(st.sampled_from(words), min_size=1, max_size=6))])
        question += draw(st.sampled_from(["?", "", " ?", "\x1b[31m?"]))
    else:
        question = draw(question_text)
    return text, question


def _index(text: str):
    """The index over one document of `text`, or None when there is nothing to index."""
    try:
        doc = document_from_text(text, "t.txt")
        sentences = split_sentences([doc])
        return doc, sentences, build_index(sentences)
    except CorpusError:  # no words, or no sentences: the one refusal the library may give
        return None


def _words(text: str) -> list[str]:
    return blank_controls(text).split()


def _is_subsequence(small: list[str], big: list[str]) -> bool:
    it = iter(big)
    return all(any(w == b for b in it) for w in small)


@examples(150)
@given(corpus_text)
def test_sentences_point_back_into_the_original_text(text):
    """original[start:end] is the sentence: the same words, control characters as spaces.

    Exactly: the sentence's words are the span's words (after control characters become
    spaces) in order, first and last alike; whole lines the cleaner drops (boilerplate,
    leading `<<`/bullet markers) may be missing from the middle. Whitespace is squeezed.
    """
    built = _index(text)
    event("indexed" if built else "refused (no words)")
    if built is None:
        return
    doc, sentences, _ = built
    assert not TERMINAL_UNSAFE.search(doc.text)
    for s in sentences:
        assert 0 <= s.start < s.end <= len(doc.original)
        assert not TERMINAL_UNSAFE.search(s.text)
        assert s.text == s.text.strip() and "  " not in s.text
        span, words = _words(doc.original[s.start:s.end]), s.text.split()
        assert words and span[0] == words[0] and span[-1] == words[-1], (s, span)
        assert _is_subsequence(words, span), (s, span)


@examples(60)
@given(plain_prose)
def test_sentences_of_plain_prose_equal_their_span_whitespace_aside(text):
    """With no boilerplate or junk-marker lines, the span is the sentence, whitespace aside.

    Lines with no letter or digit ("." alone) are dropped by the cleaner, so they are left
    out of the comparison; every other word of the span is in the sentence, in order.
    """
    built = _index(text)
    if built is None:
        return
    doc, sentences, _ = built
    event(f"{min(len(sentences), 5)}+ sentences" if len(sentences) >= 5
          else f"{len(sentences)} sentence(s)")
    clean = blank_controls(doc.original)
    for s in sentences:
        kept, pos = [], 0
        for line in clean.split("\n"):
            lo, hi = max(pos, s.start), min(pos + len(line), s.end)
            if lo < hi and HAS_WORD.search(line):
                kept += clean[lo:hi].split()
            pos += len(line) + 1
        assert kept == s.text.split()


def _check_answer(answer: Answer, question: str, index, top: int) -> None:
    assert isinstance(answer, Answer)
    assert answer.question == question.strip()
    assert isinstance(answer.found, bool)
    assert len(answer.hits) <= max(1, top)
    scores = [h.score for h in answer.hits]
    assert all(math.isfinite(x) for x in scores)
    assert all(math.isfinite(h.bm25) and math.isfinite(h.coverage) for h in answer.hits)
    # The first sentence is the one the answer comes from (sentence and span chosen together);
    # the leads after it are in the ranker's order.
    assert scores[1:] == sorted(scores[1:], reverse=True)
    assert 0.0 <= answer.confidence <= 1.0
    for h in answer.hits:
        assert index.sentence(h.sentence.index) == h.sentence
        assert 0 <= h.sentence.start < h.sentence.end
    if answer.found:
        best = answer.hits[0].sentence.text
        assert answer.answer
        for a, b in answer.spans:
            assert 0 <= a < b <= len(best)
        expected = " and ".join(best[a:b] for a, b in answer.spans) if answer.spans else best
        assert answer.answer == expected
    else:
        assert answer.answer is None
    line = render.json_line(answer)
    assert line.isascii() and "\n" not in line
    record = json.loads(line)
    assert list(record) == ["question", "found", "answer", "type", "confidence", "asked",
                            "highlight", "sentences"]
    assert record == json.loads(json.dumps(answer.to_json()))
    for s in record["sentences"]:
        assert list(s) == ["text", "score", "source", "start", "end", "number", "section",
                           "page", "title", "source_bytes"]
        assert math.isfinite(s["score"])


def _check_renderings(answer: Answer, width: int) -> None:
    for echo in (False, True):
        out = render.plain(answer, echo_question=echo)
        assert not TERMINAL_UNSAFE.search(out)
        if echo:
            first = out.split("\n")[0]
            assert first == "Q: " + render.safe_line(answer.question)
            assert first.splitlines() == [first]  # one line, for any reader of lines
    buf = io.StringIO()
    from rich.console import Console

    render.rich_answer(answer, Console(file=buf, width=width, color_system=None))
    assert not TERMINAL_UNSAFE.search(buf.getvalue())
    wide = io.StringIO()  # wide enough not to wrap: markup in the data must print literally
    render.rich_answer(answer, Console(file=wide, width=100_000, color_system=None))
    if answer.found:
        assert render.safe(answer.answer) in wide.getvalue()
    colour = io.StringIO()
    render.rich_answer(answer, Console(file=colour, width=width, force_terminal=True,
                                       color_system="truecolor"))
    assert not TERMINAL_UNSAFE.search(SGR.sub("", colour.getvalue()))


@examples(120)
@given(corpus_and_question(), st.integers(1, 5), st.integers(20, 120))
def test_any_text_and_question_give_a_well_formed_answer(text_and_question, top, width):
    text, question = text_and_question
    built = _index(text)
    if built is None:
        return
    _, _, index = built
    answer = Engine(index).ask(question, top=top)
    event(("answered" if answer.found else "abstained")
          + (" (several sentences)" if len(index) > 1 else " (one sentence)"))
    _check_answer(answer, question, index, top)
    _check_renderings(answer, width)


@examples(80)  # each one is read by the reader: ~80 ms
@given(question_text, st.integers(1, 5), st.integers(20, 120))
def test_any_question_about_the_article_gives_a_well_formed_answer(engine, question, top,
                                                                   width):
    answer = engine.ask(question, top=top)
    event("answered" if answer.found else "abstained")
    _check_answer(answer, question, engine.index, top)
    _check_renderings(answer, width)


@examples(200)
@given(st.text(max_size=200))
def test_safe_leaves_nothing_that_drives_a_terminal(text):
    out = render.safe(text)
    assert not TERMINAL_UNSAFE.search(out)
    assert "\n" not in render.safe_line(text)
    if not TERMINAL_UNSAFE.search(text):
        assert out == text  # ordinary text is shown as it is
