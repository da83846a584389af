"""The reader: its word pieces, windows, the numpy encoder against torch, and span decoding."""

from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from qa import reader as rd
from qa.errors import ModelError
from tests.conftest import ROOT

SHARED_TRAIN = ROOT.parent / "shared" / "train"


# ---- the numpy forward pass equals torch's --------------------------------------------------

def test_the_numpy_encoder_gives_torchs_logits_on_the_training_fixture():
    """reader-fixture.npz: windows and the logits torch gave them with the shipped weights
    (float32), written at the end of `python -m qa.train reader`."""
    with np.load(rd.FIXTURE_PATH, allow_pickle=False) as fx:
        n = len([k for k in fx.files if k.startswith("ids")])
        assert n >= 3
        windows = [fx[f"ids{k}"] for k in range(n)]
        types = [fx[f"types{k}"] for k in range(n)]
        expected = [(fx[f"start{k}"], fx[f"end{k}"]) for k in range(n)]
    got = rd.load().forward(windows, types)  # all windows in one pass, as qa reads them
    for (s, e), (es, ee) in zip(got, expected):
        assert np.abs(s - es).max() < 1e-3 and np.abs(e - ee).max() < 1e-3
    one = rd.load().forward(windows[:1], types[:1])[0]  # and alone, the same
    assert np.abs(one[0] - got[0][0]).max() < 1e-4


def test_gelu_is_the_exact_erf_form():
    x = np.linspace(-8, 8, 4001).astype(np.float32)
    exact = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x.tolist()])
    assert np.abs(rd.gelu(x) - exact).max() < 1e-5


# ---- word pieces ---------------------------------------------------------------------------

def check_sentences() -> list[str]:
    """The same sentences the training run digested (qa.train.reader.check_sentences)."""
    import csv

    with open(SHARED_TRAIN / "manifest.tsv", encoding="utf-8") as f:
        rows = sorted(csv.DictReader(f, delimiter="\t"), key=lambda r: r["file"])
    out: list[str] = []
    for row in rows:
        if row["split"] != "dev":
            continue
        text = (SHARED_TRAIN / f"{row['file']}.txt").read_text(encoding="utf-8")
        for paragraph in text.split("\n\n"):
            out += [x for x in re.split(r"(?<=[.!?])\s+", paragraph.strip()) if x]
    return out


@pytest.mark.skipif(not SHARED_TRAIN.is_dir(), reason="needs ../shared/train beside the repo")
def test_run_time_pieces_and_offsets_equal_the_training_tokenizers():
    """Thousands of sentences: the ids and character offsets of qa's tokenizer (built from
    reader-vocab.txt) hash to what the training tokenizer (the base model's tokenizer.json)
    gave them."""
    with np.load(rd.FIXTURE_PATH, allow_pickle=False) as fx:
        check = json.loads(str(fx["tokenizer"]))
    sentences = check_sentences()[:check["sentences"]]
    assert len(sentences) == check["sentences"] >= 3000
    h = hashlib.sha256()
    for p in rd.pieces_of(sentences):
        h.update(p.ids.astype(np.int32).tobytes())
        h.update(np.stack([p.starts, p.ends], axis=1).astype(np.int32).tobytes())
        h.update(b"|")
    assert h.hexdigest() == check["sha256"]


def test_pieces_carry_offsets_into_the_text():
    text = "Zhang Keijan signed a memorandum in Moscow, naïvely."
    [p] = rd.pieces_of([text])
    words = [text[a:b] for a, b in zip(p.starts, p.ends)]
    assert words[0] == "Zhang" and "memorandum" in "".join(words)
    assert all(0 <= a < b <= len(text) for a, b in zip(p.starts, p.ends))


def test_the_question_segment_keeps_the_nearest_turns():
    [q, history] = rd.pieces_of(["when did he say it?",
                                 " ".join(f"word{k}" for k in range(200))])
    ids = rd.question_ids(q, history)
    assert len(ids) == rd.HISTORY_PIECES
    assert ids[:len(q)].tolist() == q.ids.tolist() and ids[len(q)] == rd.SEP
    assert ids[-1] == history.ids[-1]  # the end of the history (the last turn) is kept
    assert rd.question_ids(q).tolist() == q.ids.tolist()


# ---- windows -------------------------------------------------------------------------------

def test_a_window_takes_its_paragraph_first_then_crosses_breaks():
    lengths = [10, 10, 10, 10, 10, 10]
    paragraphs = [0, 1, 1, 1, 2, 3]
    sources = [0, 0, 0, 0, 0, 1]
    length = lengths.__getitem__
    assert rd.window(2, length, paragraphs, sources, 30) == (1, 3)
    assert rd.window(2, length, paragraphs, sources, 50) == (0, 4)
    assert rd.window(4, length, paragraphs, sources, 100) == (0, 4)  # never into source 1
    assert rd.window(2, length, paragraphs, sources, 5) == (2, 2)


def test_a_window_reads_question_then_text():
    q, s1, s2 = rd.pieces_of(["who signed?", "Zhang signed it.", "Then he left."])
    w = rd.make_window(rd.question_ids(q), [7, 8], [s1, s2], budget=100)
    assert w.ids[0] == rd.CLS and w.ids[w.text_from - 1] == rd.SEP and w.ids[-1] == rd.SEP
    assert w.types[:w.text_from].sum() == 0 and w.types[w.text_from:].all()
    assert w.sentence.tolist() == [7] * len(s1) + [8] * len(s2)
    cut = rd.make_window(rd.question_ids(q), [7, 8], [s1, s2], budget=3, skip=2)
    both = np.concatenate([s1.starts, s2.starts])
    assert cut.sentence.tolist() == ([7] * len(s1) + [8] * len(s2))[2:5]
    assert cut.starts.tolist() == both[2:5].tolist()


def test_spans_stay_inside_one_sentence_and_are_not_too_long():
    start = np.full(40, -10.0)
    end = np.full(40, -10.0)
    start[5], end[7] = 5.0, 5.0  # the best pair, inside sentence 0
    start[9], end[12] = 9.0, 9.0  # better, but it crosses into sentence 1
    sentence = np.array([0] * 10 + [1] * 30)[3:]  # text starts at position 3
    spans = rd.decode_spans(start, end, 3, 40, sentence)
    assert all(sentence[i] == sentence[j] and j - i < rd.MAX_ANSWER_PIECES
               for _, i, j in spans)
    assert spans[0][1:] == (2, 4)  # positions 5 and 7, relative to the text
    assert [s for s, _, _ in spans] == sorted((s for s, _, _ in spans), reverse=True)


def test_the_reader_reads_each_window_once(article_index):
    reader = rd.Reader(article_index)
    windows = reader.windows_for([5, 5, 6, 0], limit=3, budget=rd.WINDOW_PIECES)
    firsts = [(f, last) for _, f, last, _ in windows]
    assert len(set(firsts)) == len(firsts)
    assert not any(f <= 6 <= last for _, f, last, _ in windows[:1]) or len(windows) <= 2
    got = reader.read("Who signed the memorandum?", [0, 3], limit=2)
    assert len(got.nulls) == len(got.windows) == len(got.centres) <= 2
    assert all(sp.start < sp.end for sp in got.spans)
    scores = [sp.score for sp in got.spans]
    assert scores == sorted(scores, reverse=True)


def test_a_sentence_longer_than_a_window_is_read_in_parts(tmp_path):
    from qa.index import open_index

    long = " ".join(f"Item {k} was shipped to the port." for k in range(80)).replace(". ", ", ")
    (tmp_path / "long.txt").write_text(long + "\n")
    reader = rd.Reader(open_index([str(tmp_path / "long.txt")], use_cache=False))
    windows = reader.windows_for([0], limit=5, budget=64)
    assert len(windows) > 1 and all(c == f == last == 0 for c, f, last, _ in windows)
    skips = [skip for *_, skip in windows]
    assert skips == sorted(skips) and skips[0] == 0


# ---- shipped files -------------------------------------------------------------------------

def test_missing_or_damaged_weights_are_one_line_naming_the_file(tmp_path):
    with pytest.raises(ModelError, match="reader.npz: the reader's weights are missing"):
        rd.load.__wrapped__(tmp_path / "reader.npz")
    (tmp_path / "reader.npz").write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(ModelError, match="reader.npz: the reader's weights are damaged"):
        rd.load.__wrapped__(tmp_path / "reader.npz")
    arrays = dict(np.load(rd.WEIGHTS_PATH, allow_pickle=False))
    del arrays["layers.3.inner.weight"]
    np.savez(tmp_path / "cut.npz", **arrays)
    with pytest.raises(ModelError, match="cut.npz: the reader's weights are damaged"):
        rd.load.__wrapped__(tmp_path / "cut.npz")


def test_weights_with_a_flipped_byte_or_an_object_array_are_refused(tmp_path):
    """The weights are mapped, not copied out by np.load: the CRCs and np.load's refusal of
    object arrays must still hold."""
    raw = bytearray(rd.WEIGHTS_PATH.read_bytes())
    raw[len(raw) // 2] ^= 0x40  # inside some layer's matrix
    (tmp_path / "flipped.npz").write_bytes(bytes(raw))
    with pytest.raises(ModelError, match="flipped.npz: the reader's weights are damaged"):
        rd.load.__wrapped__(tmp_path / "flipped.npz")
    arrays = dict(np.load(rd.WEIGHTS_PATH, allow_pickle=False))
    arrays["format"] = np.array([rd.FORMAT, None], dtype=object)
    np.savez(tmp_path / "pickled.npz", **arrays)
    with pytest.raises(ModelError, match="pickled.npz: the reader's weights are damaged"):
        rd.load.__wrapped__(tmp_path / "pickled.npz")


def test_the_mapped_weights_are_np_load_s_arrays():
    mapped = rd._mapped_npz(rd.WEIGHTS_PATH)
    with np.load(rd.WEIGHTS_PATH, allow_pickle=False) as arrays:
        assert sorted(mapped) == sorted(arrays.files)
        for name in arrays.files:
            assert mapped[name].dtype == arrays[name].dtype
            assert np.array_equal(mapped[name], arrays[name]), name


def test_a_missing_vocabulary_is_one_line_naming_the_file(tmp_path):
    with pytest.raises(ModelError, match="reader-vocab.txt"):
        rd.tokenizer.__wrapped__(tmp_path / "reader-vocab.txt")
    (tmp_path / "v.txt").write_text("[PAD]\n[UNK]\n")
    with pytest.raises(ModelError, match="v.txt: the reader's vocabulary is damaged"):
        rd.tokenizer.__wrapped__(tmp_path / "v.txt")


def test_the_shipped_weights_are_small_and_int8():
    assert rd.WEIGHTS_PATH.stat().st_size <= 25 * 2**20
    with np.load(rd.WEIGHTS_PATH, allow_pickle=False) as z:
        assert z["layers.0.inner.weight"].dtype == np.int8
        assert z["words.weight"].dtype == np.int8
        assert z["positions.weight"].shape[0] == rd.MAX_POSITIONS


def test_a_prefetch_loads_once_and_leaves_its_errors_to_the_main_thread(monkeypatch):
    """qa starts loading the weights on a thread while it reads the text; the reader waits for
    that thread rather than load twice, and an error meets the user on the main thread."""
    import functools
    import threading
    import time

    calls = []

    def slow(path=rd.WEIGHTS_PATH, fail=False):
        calls.append(threading.current_thread().name)
        time.sleep(0.2)
        if fail:
            raise ModelError("x.npz: the reader's weights are missing: reinstall qa")
        return "encoder"

    monkeypatch.setattr(rd, "_prefetch", None)
    monkeypatch.setattr(rd, "load", functools.lru_cache(maxsize=2)(slow))
    rd.prefetch()
    rd.prefetch()
    assert rd.Reader(None).encoder == "encoder"
    assert calls == ["qa-reader-load"]

    calls.clear()
    monkeypatch.setattr(rd, "_prefetch", None)
    monkeypatch.setattr(rd, "load", functools.partial(slow, fail=True))
    rd.prefetch()
    with pytest.raises(ModelError, match="x.npz: the reader's weights are missing"):
        _ = rd.Reader(None).encoder
    assert calls == ["qa-reader-load", "MainThread"]
