"""The answer-step training command on a small SQuAD-style folder written by the test."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("scipy")  # the training extra; qa itself never imports it

from qa import model  # noqa: E402
from qa.train import answer as train_answer  # noqa: E402

PEOPLE = [("Ada Lovelace", "London", "1815", "mathematician"),
          ("Nikola Tesla", "Smiljan", "1856", "inventor"),
          ("Marie Curie", "Warsaw", "1867", "physicist"),
          ("Alan Turing", "Maida Vale", "1912", "logician"),
          ("Grace Hopper", "New York", "1906", "admiral"),
          ("Emmy Noether", "Erlangen", "1882", "algebraist"),
          ("Carl Gauss", "Brunswick", "1777", "astronomer"),
          ("Rosalind Franklin", "Notting Hill", "1920", "chemist"),
          ("Srinivasa Ramanujan", "Erode", "1887", "number theorist")]


def write_folder(folder, articles: int = 7) -> None:
    rows = ["file\tsource\ttitle\tsplit\tparagraphs\tquestions\tanswerable\timpossible"]
    for k in range(articles):
        name = f"synthetic__Article_{k}"
        paragraphs, questions = [], []
        for j in range(6):
            person, place, year, job = PEOPLE[(k + j) % len(PEOPLE)]
            paragraph = (f"{person} was a {job} of some renown. {person} was born in {place} "
                         f"in {year}. Friends remembered long walks and letters.")
            paragraphs.append(paragraph)
            questions += [
                {"question": f"Where was {person} born?", "answers": [place]},
                {"question": f"When was {person} born?", "answers": [year]},
                {"question": f"What was {person}'s profession?", "answers": [job]},
            ]
            questions = [dict(q, id=str(len(questions)), impossible=False, context=paragraph)
                         for q in questions]
        questions.append({"id": "x", "question": "Who won the lottery in Paris?", "answers": [],
                          "impossible": True, "context": paragraphs[0]})
        (folder / f"{name}.txt").write_text("\n\n".join(paragraphs) + "\n")
        (folder / f"{name}.questions.json").write_text(json.dumps(questions))
        split = "dev" if k == articles - 1 else "train"
        rows.append(f"{name}\tsynthetic\tArticle_{k}\t{split}\t6\t{len(questions)}\t"
                    f"{len(questions) - 1}\t1")
    (folder / "manifest.tsv").write_text("\n".join(rows) + "\n")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("train")
    write_folder(folder)
    out1, out2 = folder / "a.json", folder / "b.json"
    report = train_answer.train(folder, out1, log=lambda m: None)
    train_answer.train(folder, out2, log=lambda m: None)
    return folder, out1, out2, report


def test_training_is_deterministic(trained):
    _, out1, out2, _ = trained
    assert out1.read_bytes() == out2.read_bytes()
    assert model.arrays_path(out1).read_bytes() == model.arrays_path(out2).read_bytes()


def test_the_trained_models_load_and_answer_the_kind_of_question_they_learned(trained):
    from qa.answer import Engine
    from qa.corpus import document_from_text
    from qa.index import build_index
    from qa.sentences import split_sentences

    folder, out1, _, report = trained
    models = model.load.__wrapped__(out1)
    text = (folder / "synthetic__Article_6.txt").read_text()
    engine = Engine(build_index(split_sentences([document_from_text(text, "a.txt")])), models)
    answer = engine.ask("Where was Carl Gauss born?")
    assert answer.hits[0].sentence.text.startswith("Carl Gauss was born")
    assert report["top1"] > report["bm25_top1"] - 0.05
    assert 0 <= report["answered"] <= 1


def test_listwise_fitting_learns_which_feature_marks_the_positive():
    rng = np.random.default_rng(0)
    groups = []
    for _ in range(200):
        x = rng.normal(size=(5, 3))
        y = np.zeros(5)
        y[int(np.argmax(x[:, 1]))] = 1.0  # the row with the largest second feature wins
        groups.append((x, y))
    w, _, _ = train_answer.fit_listwise(groups, l2=0.1, width=3)
    assert w[1] > 3 * max(abs(w[0]), abs(w[2]))


def test_the_hidden_layer_scorer_learns_what_no_single_feature_says():
    # The positive row is the one whose two features agree in sign (an exclusive-or): no
    # weight per feature can say that; hidden units can.
    rng = np.random.default_rng(1)
    groups = []
    for _ in range(400):
        x = rng.normal(size=(4, 2))
        y = (x[:, 0] * x[:, 1] > 0).astype(float)
        if 0 < y.sum() < 4:
            groups.append((x, y))
    fitted = train_answer.fit_hidden(groups, l2=0.0, width=2, units=8, epochs=300)
    scorer = train_answer.hidden(("a", "b"), fitted)
    linear = train_answer.linear(("a", "b"), train_answer.fit_listwise(groups, l2=0.1, width=2))

    def top_right(m) -> float:
        return float(np.mean([y[int(np.argmax(m.score(x)))] for x, y in groups]))

    assert top_right(scorer) > 0.9 > top_right(linear) + 0.2
