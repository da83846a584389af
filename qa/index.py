"""The BM25 index over sentences: build, search, and a cache on disk that cannot run code."""

from __future__ import annotations

import hashlib
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qa import terms as terms_mod
from qa.errors import CorpusError
from qa.sentences import Sentence

# The score is rank_bm25's BM25Okapi, reproduced exactly (tests compare with get_scores).
# k1 and b from a sweep (k1 0.6-2.0, b 0.3-0.9) with `qa eval`: Normans top-1 0.708 at
# rank_bm25's 1.5/0.75, 0.740 at 1.2/0.5 (flat for b <= 0.5); the article gold set unchanged.
K1 = 1.2
B = 0.5
# rank_bm25 floors a negative IDF (a term in over half the sentences) at EPSILON x mean IDF.
EPSILON = 0.25
# Bump when the cache layout or anything that changes the index content changes.
CACHE_FORMAT = 3

_LOWER_WORD = re.compile(r"(?<![\w'-])[a-z]{3,}(?![\w'-])")
# The words of terms.WORD, or a newline: the end of a sentence in a chunk of joined sentences.
_TOKEN = re.compile(terms_mod.WORD.pattern + "|\n")
# Sentences tokenised per regex pass: bigger is faster, smaller holds less memory.
CHUNK_SENTENCES = 20_000

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, eq=False)
class Index:
    """Sentences in columns, and BM25 postings: for term t, docs[ptr[t]:ptr[t+1]] with weights."""

    sources: tuple[str, ...]
    texts: str  # every sentence text, concatenated; text_offsets[i]:text_offsets[i+1] is one
    text_offsets: np.ndarray
    source_ids: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    paragraphs: np.ndarray
    vocab: dict[str, int]
    surfaces: tuple[str, ...]  # a word as it appears in the text, for each term
    df: np.ndarray
    idf: np.ndarray
    ptr: np.ndarray
    docs: np.ndarray
    weights: np.ndarray
    tf: np.ndarray
    lowercase: np.ndarray  # per term: the text also writes it in lower case (a common word)
    doc_len: np.ndarray
    avgdl: float
    k1: float = K1
    b: float = B
    # Every word of the text (normalised) and its terms, so that a question made of the text's
    # words is analysed without loading the stemmer (~10 ms of a `qa -q`).
    word_terms: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.doc_len)

    def text(self, i: int) -> str:
        return self.texts[self.text_offsets[i]:self.text_offsets[i + 1]]

    def sentence(self, i: int) -> Sentence:
        return Sentence(text=self.text(i), source=self.sources[self.source_ids[i]], index=i,
                        start=int(self.starts[i]), end=int(self.ends[i]),
                        paragraph=int(self.paragraphs[i]))

    def sentences(self) -> Iterable[Sentence]:
        return (self.sentence(i) for i in range(len(self)))

    def scores(self, query_terms: Iterable[str]) -> np.ndarray:
        """BM25Okapi scores of every sentence; a repeated query term counts again, as in rank_bm25."""
        scores = np.zeros(len(self))
        for term in query_terms:
            t = self.vocab.get(term)
            if t is not None:
                lo, hi = self.ptr[t], self.ptr[t + 1]
                scores[self.docs[lo:hi]] += self.weights[lo:hi]
        return scores

    def term_weights(self, term: str, doc: int) -> tuple[int, float]:
        """(frequency of `term` in sentence `doc`, its BM25 contribution there)."""
        t = self.vocab.get(term)
        if t is None:
            return 0, 0.0
        lo, hi = int(self.ptr[t]), int(self.ptr[t + 1])
        k = lo + int(np.searchsorted(self.docs[lo:hi], doc))
        if k < hi and self.docs[k] == doc:
            return int(self.tf[k]), float(self.weights[k])
        return 0, 0.0

    def is_common(self, word: str) -> bool:
        """The text writes this word in lower case somewhere: a common word, not a name."""
        t = self.vocab.get(terms_mod.term_of(word) or "")
        return t is not None and bool(self.lowercase[t])

    def idf_of(self, term: str) -> float:
        t = self.vocab.get(term)
        return float(self.idf[t]) if t is not None else 0.0

    def neighbours(self, i: int, radius: int = 1) -> range:
        """Sentences around i from the same source."""
        lo, hi = max(0, i - radius), min(len(self), i + radius + 1)
        src = self.source_ids[i]
        while self.source_ids[lo] != src:
            lo += 1
        while self.source_ids[hi - 1] != src:
            hi -= 1
        return range(lo, hi)

    def paragraph_of(self, i: int) -> range:
        """The sentences of sentence i's paragraph."""
        p = self.paragraphs[i]
        lo = int(np.searchsorted(self.paragraphs, p, side="left"))
        hi = int(np.searchsorted(self.paragraphs, p, side="right"))
        return range(lo, hi)


class _WordTerms(dict):
    """Normalised word -> its number; a new word's term ids are worked out once, on first sight."""

    def __init__(self, vocab: dict[str, int], surfaces: dict[str, str]) -> None:
        super().__init__()
        self.vocab, self.surfaces = vocab, surfaces
        self.term_ids: list[tuple[int, ...]] = []

    def __missing__(self, word: str) -> int:
        # terms() of a single normalised word is exactly what terms() gives it inside a sentence.
        ts = terms_mod.terms(word, self.surfaces) if word != "\n" else []
        self.term_ids.append(tuple(self.vocab.setdefault(t, len(self.vocab)) for t in ts))
        self[word] = len(self)
        return len(self) - 1


def _chunk_terms(texts: list[str], words: _WordTerms) -> tuple[np.ndarray, np.ndarray]:
    """(term ids, sentence number within the chunk) of every term of these sentence texts."""
    joined = "\n".join(texts)
    if joined.count("\n") != len(texts) - 1:  # a newline inside a sentence: a space to terms
        joined = "\n".join(t.replace("\n", " ") for t in texts)
    # One regex pass over the whole chunk, "\n" marking the end of each sentence: the same
    # words as terms() per sentence, without a Python loop per word.
    found = _TOKEN.findall(terms_mod.normalise(joined) + "\n")
    wids = np.fromiter(map(words.__getitem__, found), dtype=np.int64, count=len(found))
    del found
    counts = np.fromiter(map(len, words.term_ids), dtype=np.int64, count=len(words.term_ids))
    first = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=first[1:])
    flat = np.fromiter((t for ts in words.term_ids for t in ts), dtype=np.int64,
                       count=int(first[-1]))
    per_token = counts[wids]
    sentence_of_token = np.cumsum(wids == words["\n"]) - (wids == words["\n"])
    total = int(per_token.sum())
    # Token k contributes terms flat[first[w]:first[w] + counts[w]] for its word w, in order.
    shift = np.repeat(first[wids] - (np.cumsum(per_token) - per_token), per_token)
    term_ids = flat[shift + np.arange(total)]
    return term_ids.astype(np.int32), np.repeat(sentence_of_token, per_token).astype(np.int32)


def build_index(sentences: list[Sentence], progress: Progress | None = None,
                k1: float = K1, b: float = B, epsilon: float = EPSILON) -> Index:
    """Index sentences for BM25Okapi with rank_bm25's exact IDF and term weights."""
    if not sentences:
        raise CorpusError("no sentences to index")
    n = len(sentences)
    vocab: dict[str, int] = {}
    surfaces: dict[str, str] = {}
    words = _WordTerms(vocab, surfaces)
    words["\n"]  # noqa: B018 -- the sentence separator takes number 0, with no terms
    lowercase_words: set[str] = set()
    postings: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (term, doc, tf) per chunk
    lengths = np.zeros(n, dtype=np.int64)
    for lo in range(0, n, CHUNK_SENTENCES):
        if progress:
            progress("indexing", lo, n)
        texts = [s.text for s in sentences[lo:lo + CHUNK_SENTENCES]]
        lowercase_words.update(_LOWER_WORD.findall("\n".join(texts)))
        term_ids, doc_ids = _chunk_terms(texts, words)
        lengths[lo:lo + len(texts)] = np.bincount(doc_ids, minlength=len(texts))
        keys, counts = np.unique(term_ids.astype(np.int64) * len(texts) + doc_ids,
                                 return_counts=True)
        postings.append(((keys // len(texts)).astype(np.int32),
                         (keys % len(texts) + lo).astype(np.int32), counts.astype(np.int32)))
    if progress:
        progress("indexing", n, n)
    term_of = np.concatenate([t for t, _, _ in postings])
    # Chunks are in sentence order, so a stable sort by term lists each term's sentences in order.
    order = np.argsort(term_of, kind="stable")
    term_of = term_of[order]
    docs = np.concatenate([d for _, d, _ in postings])[order]
    tf = np.concatenate([c for _, _, c in postings])[order]
    del postings, order
    df = np.bincount(term_of, minlength=len(vocab))
    ptr = np.zeros(len(vocab) + 1, dtype=np.int64)
    np.cumsum(df, out=ptr[1:])

    # IDF exactly as rank_bm25.BM25Okapi._calc_idf computes it.
    idf = np.log(n - df + 0.5) - np.log(df + 0.5)
    floor = epsilon * (idf.sum() / len(idf)) if len(idf) else 0.0
    idf[idf < 0] = floor
    avgdl = float(lengths.sum()) / n
    # No sentence has a term (avgdl 0): nothing is posted, and no weight needs the norm.
    norm = k1 * (1 - b + b * lengths / avgdl) if avgdl else np.zeros(n)
    weights = np.empty(len(docs))
    for lo in range(0, len(docs), 1 << 22):  # in blocks: whole-array temporaries cost memory
        t, d = tf[lo:lo + (1 << 22)], docs[lo:lo + (1 << 22)]
        weights[lo:lo + len(t)] = idf[term_of[lo:lo + len(t)]] * (t * (k1 + 1) / (t + norm[d]))
    del term_of

    texts = "".join(s.text for s in sentences)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum([len(s.text) for s in sentences], out=offsets[1:])
    sources = tuple(dict.fromkeys(s.source for s in sentences))
    src_id = {name: k for k, name in enumerate(sources)}
    terms_by_id = sorted(vocab, key=vocab.__getitem__)
    lowercase = np.zeros(len(vocab), dtype=np.bool_)
    for w in lowercase_words:
        t = vocab.get(terms_mod.stem(w))
        if t is not None:
            lowercase[t] = True
    return Index(
        sources=sources, texts=texts, text_offsets=offsets,
        source_ids=np.array([src_id[s.source] for s in sentences], dtype=np.int32),
        starts=np.array([s.start for s in sentences], dtype=np.int64),
        ends=np.array([s.end for s in sentences], dtype=np.int64),
        paragraphs=np.array([s.paragraph for s in sentences], dtype=np.int64),
        vocab=vocab, surfaces=tuple(surfaces[t] for t in terms_by_id),
        df=df.astype(np.int64), idf=idf, ptr=ptr, docs=docs, weights=weights,
        lowercase=lowercase, tf=np.minimum(tf, np.iinfo(np.uint16).max).astype(np.uint16),
        doc_len=lengths, avgdl=avgdl, k1=k1, b=b,
        word_terms={w: tuple(terms_by_id[t] for t in words.term_ids[i])
                    for w, i in words.items() if w != "\n"})


# ---- the cache on disk: one .npz of plain arrays (np.load with allow_pickle=False) ----

_STRINGS = ("texts", "sources", "vocab", "surfaces", "words", "word_terms")
_ARRAYS = ("text_offsets", "source_ids", "starts", "ends", "paragraphs", "df", "idf", "ptr",
           "docs", "weights", "tf", "lowercase", "doc_len")


def cache_dir() -> Path | None:
    """The user's cache folder for qa (XDG on Linux, ~/Library/Caches on macOS); None when
    there is no home folder to put it in."""
    try:
        return _cache_dir()
    except (RuntimeError, KeyError, OSError):  # no HOME and no passwd entry
        return None


def _cache_dir() -> Path:
    if sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    elif os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "qa"


def cache_key(contents: Iterable[tuple[str, bytes]], version: str) -> str:
    """A key for the index built from these (name, bytes) files by this version of qa."""
    h = hashlib.blake2b(digest_size=20)
    h.update(f"qa {version} format {CACHE_FORMAT} k1 {K1} b {B} eps {EPSILON}\0".encode())
    for name, data in contents:
        h.update(name.encode("utf-8", "surrogatepass") + b"\0")
        h.update(len(data).to_bytes(8, "little") + hashlib.blake2b(data).digest())
    return h.hexdigest()


def save_index(index: Index, path: Path) -> None:
    """Write atomically (temp file + rename) with user-only permissions."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    meta = np.array([CACHE_FORMAT, index.avgdl, index.k1, index.b], dtype=np.float64)
    strings = {
        "texts": index.texts,
        "sources": "\n".join(index.sources),
        "vocab": "\n".join(sorted(index.vocab, key=index.vocab.__getitem__)),
        "surfaces": "\n".join(index.surfaces),
        "words": "\n".join(index.word_terms),
        "word_terms": "\n".join(" ".join(ts) for ts in index.word_terms.values()),
    }
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, meta=meta, **{k: getattr(index, k) for k in _ARRAYS},
                     **{k: np.frombuffer(v.encode("utf-8", "surrogatepass"), dtype=np.uint8)
                        for k, v in strings.items()})
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def load_index(path: Path) -> Index | None:
    """The cached index, or None when it is missing, corrupt or from another format."""
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = z["meta"]
            if int(meta[0]) != CACHE_FORMAT:
                return None
            arrays = {k: z[k] for k in _ARRAYS}
            strings = {k: bytes(z[k]).decode("utf-8", "surrogatepass")
                       for k in _STRINGS}
    except Exception:  # any damage at all means: rebuild
        return None
    vocab_list = strings["vocab"].split("\n") if strings["vocab"] else []
    surfaces = strings["surfaces"].split("\n") if strings["surfaces"] else []
    words = strings["words"].split("\n") if strings["words"] else []
    word_terms = strings["word_terms"].split("\n") if strings["word_terms"] else []
    n = len(arrays["doc_len"])
    if (len(words) != len(word_terms) or len(arrays["ptr"]) != len(vocab_list) + 1 or len(surfaces) != len(vocab_list)
            or len(arrays["text_offsets"]) != n + 1 or n == 0
            or int(arrays["text_offsets"][-1]) != len(strings["texts"])
            or not int(arrays["ptr"][-1]) == len(arrays["docs"]) == len(arrays["weights"])
            == len(arrays["tf"])):
        return None
    return Index(sources=tuple(strings["sources"].split("\n")), texts=strings["texts"],
                 vocab={t: i for i, t in enumerate(vocab_list)}, surfaces=tuple(surfaces),
                 avgdl=float(meta[1]), k1=float(meta[2]), b=float(meta[3]),
                 word_terms={w: tuple(ts.split()) for w, ts in zip(words, word_terms)}, **arrays)


def open_index(paths: list[str], use_cache: bool = True,
               progress: Progress | None = None) -> Index:
    """Read, clean, split and index the given files or folders, through the cache if allowed."""
    from qa import __version__
    from qa.corpus import decode, document_from_text, find_corpus_files, read_bytes

    files = find_corpus_files(paths)
    contents: list[tuple[str, bytes]] = []
    for f in files:
        contents.append((f.name, read_bytes(f)))  # bounded read; binary files refused

    folder = cache_dir()
    path = folder / f"{cache_key(contents, __version__)}.npz" if folder else None
    use_cache = use_cache and path is not None
    if use_cache:
        cached = load_index(path)
        if cached is not None:
            return cached

    from qa.sentences import split_sentences

    docs = []
    for k, f in enumerate(files):
        if progress:
            progress("reading", k, len(files))
        name, data = contents[k]
        contents[k] = (name, b"")  # the bytes are hashed already: let them go as we decode
        docs.append(document_from_text(decode(data), name, str(f)))
        del data
    if progress:
        progress("reading", len(files), len(files))
    sentences = split_sentences(docs, progress=progress)
    del docs, contents  # at a million sentences the texts weigh hundreds of megabytes
    index = build_index(sentences, progress)
    del sentences
    if use_cache:
        try:
            save_index(index, path)
        except OSError:
            pass  # an unwritable cache folder only costs the next start its time
    return index
