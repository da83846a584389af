"""A time-boxed fuzz of the whole pipeline: bytes -> decode -> clean -> split -> index -> ask -> render.

CI spends FUZZ_SECONDS (default 15) on it, in batches of examples from fixed seeds, so a run is
repeatable; `FUZZ_SECONDS=600 FUZZ_SEED=$RANDOM pytest tests/test_fuzz.py -s` fuzzes longer and
elsewhere. `bench/fuzz_atheris.py` is the coverage-guided fuzzer for long runs.
"""

from __future__ import annotations

import io
import os
import re
import time

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from qa import render
from qa.answer import Engine
from qa.corpus import decode, document_from_text
from qa.errors import CorpusError
from qa.index import build_index
from qa.sentences import split_sentences

FUZZ_SECONDS = float(os.environ.get("FUZZ_SECONDS", "15"))
FUZZ_SEED = int(os.environ.get("FUZZ_SEED", "20240601"))
BATCH = 100
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

# Bytes that look like text with traps in them, and bytes with no shape at all.
TRAPS = [b"\x1b[31m", b"\x1b]52;c;eA==\x07", b"\x1b]8;;http://x\x1b\\", b"\x9b", b"\x00",
         b"\xef\xbb\xbf", b"\r\n", b"\r", b"\n\n", b"\xff", b"\xc3\x28", b"\xe2\x80\xae",
         b"[bold]", b":rocket:", b"\\", b". ", b"? ", b"Mr. ", b"2018-2022", b"\xe2\x80\x9c",
         b"<< ", b"Share this\n", b"Powered by X\n", b"\t", b"\x0c"]
WORDS = [b"The", b"rocket", b"was", b"launched", b"in", b"2019", b"by", b"Alice", b"Smith",
         b"Roscosmos", b"signed", b"six", b"sections", b"on", b"Tuesday", b"caf\xc3\xa9", b"\xe9"]
fuzz_bytes = st.one_of(
    st.lists(st.one_of(st.sampled_from(WORDS), st.sampled_from(WORDS), st.sampled_from(TRAPS),
                       st.just(b" ")), max_size=120).map(b"".join),
    st.binary(max_size=600))
fuzz_question = st.one_of(st.text(max_size=120),
                          st.lists(st.sampled_from(["who", "when", "how many", "what", "where",
                                                    "signed", "rocket", "sections", "\x1b[31m",
                                                    "[bold]", "?", "Alice"]),
                                   max_size=8).map(" ".join))


def pipeline(data: bytes, questions: list[str]) -> bool:
    """Run one input end to end; True when it got as far as answering."""
    text = decode(data)
    assert "\r" not in text
    try:
        doc = document_from_text(text, "fuzz.txt")
        index = build_index(split_sentences([doc]))
    except CorpusError:
        return False
    engine = Engine(index)
    from rich.console import Console

    for q in questions:
        answer = engine.ask(q, top=3)
        out = io.StringIO()
        render.rich_answer(answer, Console(file=out, width=40, color_system=None))
        for shown in (out.getvalue(), render.plain(answer, echo_question=True)):
            assert not UNSAFE.search(shown), shown
        assert render.json_line(answer).isascii()
    return True


def test_pipeline_survives_fuzzing_for_a_bounded_time():
    stop = time.monotonic() + FUZZ_SECONDS
    counts = {"inputs": 0, "answered": 0}

    @settings(max_examples=BATCH, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(fuzz_bytes, st.lists(fuzz_question, min_size=1, max_size=3))
    def one(data, questions):
        counts["inputs"] += 1
        counts["answered"] += pipeline(data, questions)

    batch = 0
    while time.monotonic() < stop:
        seed(FUZZ_SEED + batch)(one)()
        batch += 1
    print(f"fuzz: {counts['inputs']} inputs in {batch} batches (seeds {FUZZ_SEED}.."
          f"{FUZZ_SEED + batch - 1}), {counts['answered']} got as far as answering")
    assert counts["answered"] > 0
