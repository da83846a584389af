"""Coverage-guided fuzzing of qa's pipeline with atheris (libFuzzer), for long developer runs.

Each input is split into corpus bytes and a question; the bytes go through decode -> clean ->
split -> index, the question through ask, and the answer through every renderer. A crash, an
exception other than CorpusError, or a control character in rendered output is a finding.

    .venv/bin/pip install atheris          # not a dependency of qa; needs a clang toolchain
    mkdir -p bench/out/fuzz-corpus
    .venv/bin/python bench/fuzz_atheris.py bench/out/fuzz-corpus tests/data \\
        -max_total_time=1800 -max_len=4096 -timeout=20 -rss_limit_mb=4096

libFuzzer writes a crashing input to ./crash-<sha1>; replay it with
`python bench/fuzz_atheris.py crash-<sha1>`. CI runs the shorter hypothesis fuzz instead
(tests/test_fuzz.py), which needs no compiler.
"""

from __future__ import annotations

import io
import re
import sys

import atheris

with atheris.instrument_imports(include=["qa"]):
    from qa import render
    from qa.answer import Engine
    from qa.corpus import decode, document_from_text
    from qa.errors import CorpusError
    from qa.index import build_index
    from qa.sentences import split_sentences

from rich.console import Console  # noqa: E402 -- not instrumented: only qa is under test

UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    question = fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 300))
    corpus = fdp.ConsumeBytes(fdp.remaining_bytes())
    text = decode(corpus)
    try:
        doc = document_from_text(text, "fuzz.txt")
        index = build_index(split_sentences([doc]))
    except CorpusError:
        return
    answer = Engine(index).ask(question, top=3)
    out = io.StringIO()
    render.rich_answer(answer, Console(file=out, width=40, color_system=None))
    for shown in (out.getvalue(), render.plain(answer, echo_question=True)):
        if UNSAFE.search(shown):
            raise AssertionError(f"control character reached the output: {shown!r}")
    if not render.json_line(answer).isascii():
        raise AssertionError("JSON line is not ASCII")


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
