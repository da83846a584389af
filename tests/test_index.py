from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from qa import index as index_mod
from qa.errors import CorpusError
from qa.cache import cache_dir
from qa.index import build_index, load_index, open_index
from qa.sentences import Sentence
from qa.terms import terms
from tests.conftest import ARTICLE, ROOT

WORDS = ("lunar station rocket orbit moon signing ceremony agency memorandum crew module "
         "launch Beijing Moscow engine fuel dock").split()


def _random_sentences(seed: int, n: int) -> list[Sentence]:
    rng = np.random.default_rng(seed)
    common = ["moon", "station"]  # in most sentences: their IDF falls to the epsilon floor
    out = []
    for i in range(n):
        words = [WORDS[k] for k in rng.integers(0, len(WORDS), rng.integers(1, 12))]
        words += [w for w in common if rng.random() < 0.8]
        out.append(Sentence(text=" ".join(words) + ".", source="r", index=i, start=0,
                            end=1, paragraph=i))
    return out


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_scores_equal_rank_bm25_get_scores(seed):
    sentences = _random_sentences(seed, 40 + 17 * seed)
    index = build_index(sentences)
    reference = BM25Okapi([terms(s.text) for s in sentences], k1=index_mod.K1, b=index_mod.B,
                          epsilon=index_mod.EPSILON)
    rng = np.random.default_rng(100 + seed)
    queries = [["moon"], ["station", "moon"], ["lunar", "lunar", "rocket"], ["zebra"],
               ["zebra", "crew", "moon"], []]
    queries += [list(rng.choice([terms(w)[0] for w in WORDS], 4)) for _ in range(10)]
    for query in queries:
        np.testing.assert_allclose(index.scores(query), reference.get_scores(query),
                                   rtol=0, atol=1e-9)


def test_epsilon_floor_is_exercised():
    sentences = _random_sentences(0, 60)
    df = {}
    for s in sentences:
        for t in set(terms(s.text)):
            df[t] = df.get(t, 0) + 1
    assert df["moon"] > len(sentences) / 2  # so rank_bm25 floors its IDF at epsilon x mean
    reference = BM25Okapi([terms(s.text) for s in sentences], k1=index_mod.K1, b=index_mod.B)
    assert reference.idf["moon"] == pytest.approx(reference.average_idf * index_mod.EPSILON)
    assert build_index(sentences).idf_of("moon") == pytest.approx(reference.idf["moon"],
                                                                  abs=1e-12)


def test_empty_corpus_is_refused():
    with pytest.raises(CorpusError):
        build_index([])


def test_index_of_a_folder_with_newlines_and_hyphens_matches_rank_bm25():
    texts = ["The 2018-2022 plan\nwas signed.", "Don't stop: the U.S. and CNSA agreed.",
             "Ｆｕｌｌｗｉｄｔｈ café words here.", ""]
    sentences = [Sentence(t, "x", i, 0, 1, 0) for i, t in enumerate(texts)]
    index = build_index(sentences)
    reference = BM25Okapi([terms(t) for t in texts], k1=index_mod.K1, b=index_mod.B,
                          epsilon=index_mod.EPSILON)
    for query in (["2018-2022"], ["2018", "plan"], ["cnsa", "u.s"], ["fullwidth", "café"]):
        np.testing.assert_allclose(index.scores(query), reference.get_scores(query), atol=1e-9)
    assert [index.text(i) for i in range(len(index))] == texts


def test_cache_round_trip(tmp_path):
    built = open_index([str(ARTICLE)])
    files = list(cache_dir().glob("*.npz"))
    assert len(files) == 1
    loaded = load_index(files[0])
    assert loaded is not None
    assert loaded.vocab == built.vocab and loaded.surfaces == built.surfaces
    assert [loaded.sentence(i) for i in range(len(loaded))] == list(built.sentences())
    for name in index_mod._ARRAYS:
        assert np.array_equal(getattr(loaded, name), getattr(built, name)), name
    assert open_index([str(ARTICLE)]).vocab == built.vocab


def _only_cache_file() -> Path:
    (path,) = cache_dir().glob("*.npz")
    return path


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_corrupt_cache_is_rebuilt_silently(damage):
    expected = open_index([str(ARTICLE)], use_cache=False)
    open_index([str(ARTICLE)])
    path = _only_cache_file()
    data = path.read_bytes()
    path.write_bytes({"truncate": data[:len(data) // 2], "garbage": b"PK\x03\x04" + os.urandom(300),
                      "empty": b""}[damage])
    index = open_index([str(ARTICLE)])
    assert [s.text for s in index.sentences()] == [s.text for s in expected.sentences()]
    assert load_index(path) is not None  # rewritten whole


def test_cache_of_another_format_is_ignored(monkeypatch):
    open_index([str(ARTICLE)])
    path = _only_cache_file()
    monkeypatch.setattr(index_mod, "CACHE_FORMAT", index_mod.CACHE_FORMAT + 1)
    assert load_index(path) is None
    assert len(open_index([str(ARTICLE)])) > 0


def test_cache_key_follows_content_and_version():
    a = [("a.txt", b"one")]
    assert index_mod.cache_key(a, "1.0") == index_mod.cache_key(list(a), "1.0")
    assert index_mod.cache_key(a, "1.0") != index_mod.cache_key(a, "1.1")
    assert index_mod.cache_key(a, "1.0") != index_mod.cache_key([("a.txt", b"one!")], "1.0")


def test_cache_with_pickled_objects_is_not_loaded(tmp_path):
    path = tmp_path / "x.npz"
    np.savez(path, meta=np.array([index_mod.CACHE_FORMAT, 1, 1, 1], dtype=np.float64),
             texts=np.array([object()], dtype=object))
    assert load_index(path) is None


def test_atomic_write_leaves_no_temp_files_and_is_user_only():
    open_index([str(ARTICLE)])
    folder = cache_dir()
    assert [p.suffix for p in folder.iterdir()] == [".npz"]
    assert stat.S_IMODE(_only_cache_file().stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) & 0o077 == 0


def test_failed_write_removes_its_temp_file(monkeypatch):
    index = open_index([str(ARTICLE)], use_cache=False)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken)
    with pytest.raises(OSError):
        index_mod.save_index(index, cache_dir() / "x.npz")
    assert list(cache_dir().iterdir()) == []


def test_no_cache_writes_nothing():
    open_index([str(ARTICLE)], use_cache=False)
    assert not cache_dir().exists() or not any(cache_dir().iterdir())


def test_two_processes_building_the_same_cache_both_succeed(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.txt").write_text(ARTICLE.read_text(encoding="utf-8") * 20, encoding="utf-8")
    code = ("import sys; from qa.index import open_index; "
            "print(len(open_index([sys.argv[1]])))")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    procs = [subprocess.Popen([sys.executable, "-c", code, str(corpus)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert outs[0][0] == outs[1][0]
    assert [p.suffix for p in cache_dir().iterdir()] == [".npz"]
    assert load_index(_only_cache_file()) is not None


def test_progress_reports_every_stage(tmp_path):
    seen: dict[str, list[tuple[int, int]]] = {}
    open_index([str(ARTICLE)], use_cache=False,
               progress=lambda stage, done, total: seen.setdefault(stage, []).append((done, total)))
    assert set(seen) == {"reading", "splitting", "indexing"}
    for calls in seen.values():
        assert calls[-1][0] == calls[-1][1]


def test_no_progress_output_when_stderr_is_not_a_terminal(tmp_path, qa_env):
    from tests.conftest import qa_command

    corpus = tmp_path / "c.txt"
    corpus.write_text(ARTICLE.read_text(encoding="utf-8"), encoding="utf-8")
    done = subprocess.run([qa_command(), "--no-cache", "-c", str(corpus), "-q", "Who signed?"],
                          env=qa_env, capture_output=True, timeout=60)
    assert done.returncode in (0, 1)
    assert done.stderr == b""
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").rglob("*.npz"))
