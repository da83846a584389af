"""qa eval: SQuAD normalisation and F1, span judgement, gold formats, and the command."""

from __future__ import annotations

import json
import subprocess

import pytest

from qa import eval as ev
from qa.errors import GoldError
from qa.sentences import Sentence
from tests.conftest import DATA, qa_command


def test_normalisation_drops_case_punctuation_and_articles():
    assert ev.normalize_answer("The  Moon, an orbit!") == "moon orbit"


def test_f1_is_the_best_over_gold_answers():
    assert ev.token_f1("Dmitry Rogozin", ["Rogozin", "Dmitry Rogozin"]) == 1.0
    assert ev.token_f1("Rogozin", ["Dmitry Rogozin"]) == pytest.approx(2 / 3)
    assert ev.token_f1("", ["x"]) == 0.0
    assert ev.exact_match("the Tuesday", ["Tuesday"]) == 1.0


def test_answer_right_allows_containment_up_to_twice_the_words():
    assert ev.answer_right("Rogozin", ["Dmitry Rogozin"])
    assert ev.answer_right("in November 2017", ["November 2017"])
    assert not ev.answer_right("the whole long clause around Rogozin here", ["Rogozin"])
    assert not ev.answer_right(None, ["Rogozin"])


def _sentence(start: int, end: int, source: str = "a.txt") -> Sentence:
    return Sentence(text="x", source=source, index=0, start=start, end=end, paragraph=0)


def test_a_sentence_is_right_when_its_span_covers_an_answer_span():
    q = ev.GoldQuestion("q", ("y",), False, spans=(("a.txt", 10, 14),))
    assert ev.sentence_right(q, _sentence(5, 20))
    assert not ev.sentence_right(q, _sentence(12, 20))  # cuts the answer
    assert not ev.sentence_right(q, _sentence(5, 20, "b.txt"))


def test_every_occurrence_of_an_answer_in_its_paragraph_counts():
    text = "Intro.\n\nA cat. Another cat."
    gold = ev.GoldSet("g", ev.SQUAD, (ev.GoldQuestion("q", ("cat",), False,
                                                      context="A cat. Another cat."),))
    spans = ev.answer_spans(gold, {"t.txt": text}).questions[0].spans
    assert spans == (("t.txt", 10, 13), ("t.txt", 23, 26))


def test_jsonl_sentence_match_ignores_case_and_whitespace():
    q = ev.GoldQuestion("q", (), False, sentence="Took  place BY\nvideo")
    s = Sentence("The ceremony took place by video.", "a", 0, 0, 1, 0)
    assert ev.sentence_right(q, s)


@pytest.mark.parametrize("name, fmt, n", [("gold_small.jsonl", ev.JSONL, 3),
                                          ("gold_small.questions.json", ev.SQUAD, 4),
                                          ("gold_nested.json", ev.SQUAD, 4)])
def test_formats_are_detected(name, fmt, n):
    gold = ev.load_gold(DATA / name)
    assert gold.format == fmt and len(gold.questions) == n
    assert sum(q.impossible for q in gold.questions) == 1


def test_squad_corpus_is_the_txt_beside_or_the_paragraphs():
    assert ev.squad_corpus_beside(DATA / "gold_small.questions.json") == DATA / "gold_small.txt"
    assert ev.squad_corpus_beside(DATA / "gold_nested.json") is None
    gold = ev.load_gold(DATA / "gold_nested.json")
    engine, gold = ev.build_engine(gold, [], use_cache=False)
    assert all(q.spans for q in gold.questions if not q.impossible)
    report = ev.evaluate(gold, engine)
    assert report.tallies["qa"].answerable == 3


@pytest.mark.parametrize("content, message", [("{not json\n", "not JSON"),
                                              ('{"answers": []}\n', "question"),
                                              ('{"question": "q?", "answers": []}\n', "sentence"),
                                              ("", "no questions")])
def test_bad_gold_files_raise_gold_error(tmp_path, content, message):
    p = tmp_path / "g.jsonl"
    p.write_text(content)
    with pytest.raises(GoldError, match=message):
        ev.load_gold(p)


def test_missing_gold_file_raises_gold_error(tmp_path):
    with pytest.raises(GoldError, match="no such"):
        ev.load_gold(tmp_path / "none.jsonl")


def test_qa_eval_json_reports_every_system(qa_env):
    out = subprocess.run([qa_command(), "eval", str(DATA / "gold_small.questions.json"),
                          "--json"], capture_output=True, text=True, env=qa_env, timeout=60)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert set(report["systems"]) == {"qa", "qa --fast", "bm25 whitespace", "bm25 stemmed"}
    assert report["answerable"] == 3 and report["unanswerable"] == 1
    assert report["systems"]["qa"]["top1"] == 1.0
    assert report["systems"]["bm25 stemmed"]["f1"] is None  # baselines give no short answer


def test_qa_eval_prints_a_table(qa_env):
    out = subprocess.run([qa_command(), "eval", str(DATA / "gold_small.jsonl"),
                          "--corpus", str(DATA / "gold_small.txt")],
                         capture_output=True, text=True, env=qa_env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "top-1 sentence" in out.stdout and "bm25 whitespace" in out.stdout


def test_qa_eval_missing_gold_exits_2(qa_env, tmp_path):
    out = subprocess.run([qa_command(), "eval", str(tmp_path / "nope.jsonl")],
                         capture_output=True, text=True, env=qa_env, timeout=60)
    assert out.returncode == 2
    assert out.stderr.startswith("qa: ") and len(out.stderr.strip().splitlines()) == 1
