"""The part-of-speech tagger: training, the shipped weights, tagging, words and chunks."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa import tagger
from qa.errors import ModelError, QAError
from qa.tagger import TAGS, Model, chunks, tag, tagged, words

# A tiny treebank: enough for the perceptron to learn its own sentences.
TINY = [
    [("The", "DET"), ("cat", "NOUN"), ("sat", "VERB"), ("on", "ADP"), ("the", "DET"),
     ("mat", "NOUN"), (".", "PUNCT")],
    [("A", "DET"), ("dog", "NOUN"), ("ran", "VERB"), ("to", "ADP"), ("Paris", "PROPN"),
     (".", "PUNCT")],
    [("Anna", "PROPN"), ("saw", "VERB"), ("the", "DET"), ("big", "ADJ"), ("dog", "NOUN"),
     ("today", "NOUN"), (".", "PUNCT")],
    [("She", "PRON"), ("can", "AUX"), ("run", "VERB"), ("fast", "ADV"), ("!", "PUNCT")],
]


def write_conllu(path: Path, sentences) -> None:
    lines = []
    for k, s in enumerate(sentences):
        lines += [f"# sent_id = {k}", "# text = " + " ".join(w for w, _ in s)]
        lines += [f"{i}\t{w}\t_\t{t}\t_\t_\t0\t_\t_\t_" for i, (w, t) in enumerate(s, 1)]
        lines.append("")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def tiny_treebank(tmp_path) -> Path:
    folder = tmp_path / "treebanks"
    folder.mkdir()
    write_conllu(folder / "en_ewt-train.conllu", TINY * 3)
    write_conllu(folder / "en_atis-train.conllu", [[(w.lower(), t) for w, t in TINY[1]]])
    write_conllu(folder / "en_eslspok-train.conllu", TINY[2:])
    write_conllu(folder / "en_ewt-dev.conllu", TINY)
    return folder


def train_tiny(folder: Path, out: Path) -> bytes:
    from qa.train.tagger import main

    assert main([str(folder), "--out", str(out), "--no-baseline"]) == 0
    return out.read_bytes()


# -- training ---------------------------------------------------------------------------------
def test_training_on_a_tiny_treebank_learns_its_sentences(tiny_treebank, tmp_path, capsys):
    out = tmp_path / "tiny.npz"
    train_tiny(tiny_treebank, out)
    model = Model.load(out)
    for sentence in TINY:
        assert model.tag([w for w, _ in sentence]) == [t for _, t in sentence]
    table = capsys.readouterr().out
    assert "| EWT dev | 25 | 100.00 |" in table  # the evaluation table is printed


def test_training_twice_writes_the_same_bytes(tiny_treebank, tmp_path):
    first = train_tiny(tiny_treebank, tmp_path / "a.npz")
    second = train_tiny(tiny_treebank, tmp_path / "b.npz")
    assert hashlib.sha256(first).digest() == hashlib.sha256(second).digest()


def test_the_weights_file_loads_without_pickle_and_names_its_features(tiny_treebank, tmp_path):
    out = tmp_path / "tiny.npz"
    train_tiny(tiny_treebank, out)
    with np.load(out, allow_pickle=False) as data:
        assert all(data[name].dtype != object for name in data.files)
        assert "0:word" in list(data["templates"])
        assert list(data["data_files"]) == ["en_ewt-train.conllu", "en_atis-train.conllu",
                                            "en_eslspok-train.conllu"]
        expected = hashlib.sha256((tiny_treebank / "en_ewt-train.conllu").read_bytes()).hexdigest()
        assert data["data_sha256"][0] == expected


def test_training_without_treebanks_is_a_usage_error(tmp_path, capsys):
    from qa.train.__main__ import main

    with pytest.raises(SystemExit) as exit_:
        main(["tagger", str(tmp_path)])
    assert exit_.value.code == 2
    assert "en_ewt-train.conllu" in capsys.readouterr().err
    assert main(["no-such-command"]) == 2


# -- the shipped weights ----------------------------------------------------------------------
def test_the_shipped_weights_load_and_stay_small():
    assert tagger.MODEL_PATH.stat().st_size <= 8_000_000
    model = Model.load()
    assert model.tags == TAGS
    assert len(model.keys) == len(model.weights)


def test_damaged_weights_raise_a_model_error(tmp_path):
    bad = tmp_path / "tagger.npz"
    bad.write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(ModelError) as err:
        Model.load(bad)
    assert isinstance(err.value, QAError)
    with pytest.raises(ModelError):
        Model.load(tmp_path / "missing.npz")


def test_the_installed_package_holds_the_weights_and_no_pickle():
    dist = importlib.metadata.distribution("qa")
    direct = dist.read_text("direct_url.json")
    if direct and json.loads(direct).get("dir_info", {}).get("editable"):
        pytest.skip("an editable install lists no package files; CI installs a wheel")
    files = {str(f) for f in dist.files or ()}
    assert "qa/models/tagger.npz" in files
    assert "qa/models/NOTICE" in files
    assert not [f for f in files if f.endswith((".pkl", ".pickle"))]
    path = Path(dist.locate_file("qa/models/tagger.npz"))
    with np.load(path, allow_pickle=False) as data:
        assert data["weights"].dtype == np.int8


def test_importing_the_tagger_does_not_import_nltk():
    code = ("import sys, qa.tagger; qa.tagger.chunks('Roscosmos signed it.'); "
            "print('nltk' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- tagging ----------------------------------------------------------------------------------
def test_tag_gives_one_universal_tag_per_word():
    sentence = "The head of Roscosmos , Dmitry Rogozin , signed a memorandum in 2021 .".split()
    tags = tag(sentence)
    assert len(tags) == len(sentence) and set(tags) <= set(TAGS)
    assert tags[:4] == ["DET", "NOUN", "ADP", "PROPN"]
    assert tags[5:7] == ["PROPN", "PROPN"] and tags[8] == "VERB" and tags[12] == "NUM"
    assert tag([]) == []


def test_tagging_is_the_same_every_time():
    sentence = "who is sergei savelyev".split()
    assert tag(sentence) == tag(list(sentence)) == tag(tuple(sentence))


@pytest.mark.parametrize("text", [
    "Dmitry Rogozin signed the memorandum on Tuesday.",
    "Who is Sergei Savelyev?",
    "The bridge was opened by Queen Elizabeth in 1962.",
])
def test_names_are_found_whatever_the_case(text):
    def names(t: str) -> list[str]:
        return [c.text.lower() for c in chunks(t) if c.kind == "name"]

    assert names(text) == names(text.lower()) == names(text.upper())
    assert names(text)


# -- words ------------------------------------------------------------------------------------
def test_words_split_as_the_treebanks_do():
    text = "Don't Al-Zaman's e-mails cost $5? We can't go to the U.S. (Dr. J. Smith), 2018-2022."
    assert [text[a:b] for a, b in words(text)] == [
        "Do", "n't", "Al", "-", "Zaman", "'s", "e-mails", "cost", "$", "5", "?", "We", "ca",
        "n't", "go", "to", "the", "U.S.", "(", "Dr.", "J.", "Smith", ")", ",", "2018", "-",
        "2022", "."]


def test_words_keep_numbers_addresses_and_runs_of_punctuation_whole():
    text = "1,000.5 people visited www.example.com/a?b=1 ... a@b.org!!"
    assert [text[a:b] for a, b in words(text)] == [
        "1,000.5", "people", "visited", "www.example.com/a?b=1", "...", "a@b.org", "!!"]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_words_cover_every_character_but_spaces(text):
    spans = words(text)
    assert all(a < b for a, b in spans)
    assert all(b1 <= a2 for (_, b1), (a2, _) in zip(spans, spans[1:]))
    assert "".join(text[a:b] for a, b in spans) == "".join(text.split())


def test_tagged_words_carry_their_offsets_and_tags():
    text = "Roscosmos and CNSA signed it."
    toks = tagged(text)
    assert [t.text for t in toks] == ["Roscosmos", "and", "CNSA", "signed", "it", "."]
    assert all(text[t.start:t.end] == t.text and t.tag in TAGS for t in toks)
    assert tagged(text) == toks  # cached, and a fresh list each time
    assert tagged(text) is not toks


# -- chunks -----------------------------------------------------------------------------------
ARTICLE_SENTENCE = (
    "The head of the Russian space company Roscosmos, Dmitry Rogozin, and the director of the "
    "Chinese National Space Administration (CNSA) Zhang Keijan signed a mutual memorandum of "
    "understanding on behalf of their governments, Roscosmos and CNSA said on Tuesday.")


def by_text(text: str) -> dict[str, tagger.Chunk]:
    return {c.text: c for c in chunks(text)}


def test_chunks_are_spans_of_their_text():
    for text in (ARTICLE_SENTENCE, ARTICLE_SENTENCE.lower(), "It includes six sections."):
        found = chunks(text)
        assert found
        for c in found:
            assert text[c.start:c.end] == c.text
            assert c.start <= c.head < c.end
            assert c.kind in tagger.KINDS
        assert len({(c.start, c.end) for c in found}) == len(found)  # one chunk per span


def test_chunks_find_names_noun_phrases_and_of_attachments():
    found = by_text(ARTICLE_SENTENCE)
    for name in ("Dmitry Rogozin", "Zhang Keijan", "Roscosmos", "CNSA",
                 "Chinese National Space Administration"):
        assert found[name].kind == "name"
    assert found["a mutual memorandum"].kind == "noun"
    assert found["a mutual memorandum of understanding"].kind == "noun"
    assert found["the director of the Chinese National Space Administration"].kind == "noun"
    head = found["a mutual memorandum of understanding"].head
    assert ARTICLE_SENTENCE[head:].startswith("memorandum")


def test_chunks_find_numbers_with_their_nouns():
    found = by_text("It includes six sections and cost $5 million, about 40 percent more.")
    assert found["six sections"].kind == "number"
    assert found["$5 million"].kind == "number"
    assert found["40 percent"].kind == "number"
    assert found["about 40 percent"].kind == "number"


def test_chunks_know_the_verb_or_preposition_that_governs_them():
    found = by_text("The bridge was opened by Queen Elizabeth in 1962.")
    assert (found["Queen Elizabeth"].governor, found["Queen Elizabeth"].role) == ("by", "pobj")
    assert found["was opened"].kind == "verb"
    assert found["opened by Queen Elizabeth"].governor == ""
    found = by_text("The agency asked them to form a joint team.")
    assert found["form a joint team"].kind == "predicate"
    assert found["form a joint team"].governor == "to"
    assert (found["a joint team"].governor, found["a joint team"].role) == ("form", "object")


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(
    ["the", "The", "Roscosmos", "of", "signed", "a", "memo", "in", "2020", "$", "5", "-", ",",
     "and", "'s", "very", "big", "did", "not", "go", "up", "Mr.", "(", ")", "x", "%"]),
    max_size=25))
def test_chunks_of_any_word_salad_are_well_formed(pieces):
    text = " ".join(pieces)
    for c in chunks(text):
        assert text[c.start:c.end] == c.text and c.start <= c.head < c.end
