"""The BM25 index over sentences: build, search, and a cache on disk that cannot run code."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from itertools import islice
from pathlib import Path

import numpy as np

from qa import cache
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
CACHE_FORMAT = 5

_LOWER_WORD = re.compile(r"(?<![\w'-])[a-z]{3,}(?![\w'-])")
# The words of terms.WORD, or a newline: the end of a sentence in a chunk of joined sentences.
_TOKEN = re.compile(terms_mod.WORD.pattern + "|\n")
# Sentences tokenised per regex pass: bigger is faster, smaller holds less memory.
CHUNK_SENTENCES = 20_000

Progress = Callable[[str, int, int], None]
Warn = Callable[[str], None]


@dataclass(frozen=True, eq=False)
class Index:
    """Sentences in columns, and BM25 postings: for term t, docs[ptr[t]:ptr[t+1]] with weights.

    `sources` has one name per loaded document (two files may share a name); a document's
    sentences are consecutive, so `source_ids` never decreases.
    """

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
    titles: tuple[str, ...] = ()  # per source: a web page's title, or ""
    sections: tuple[str, ...] = ()  # the headings; section_ids[i] is sentence i's (-1: none)
    section_ids: np.ndarray | None = field(default=None, repr=False)
    pages: np.ndarray | None = field(default=None, repr=False)  # per sentence, from 1 (0: none)
    # Sources left out when this was built, with why: said again whenever it is used.
    skipped: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.doc_len)

    @cached_property
    def source_starts(self) -> np.ndarray:
        """The index of each source's first sentence."""
        return np.searchsorted(self.source_ids, np.arange(len(self.sources)), side="left")

    def text(self, i: int) -> str:
        return self.texts[self.text_offsets[i]:self.text_offsets[i + 1]]

    def number(self, i: int) -> int:
        """Sentence i's number within its own source, from 1."""
        return i - int(self.source_starts[self.source_ids[i]]) + 1

    def find(self, source: int, number: int) -> int | None:
        """The index of a source's sentence by its number there, or None."""
        i = int(self.source_starts[source]) + number - 1
        ok = number >= 1 and i < len(self) and self.source_ids[i] == source
        return i if ok else None

    def sentence(self, i: int) -> Sentence:
        k = int(self.source_ids[i])
        section = int(self.section_ids[i]) if self.section_ids is not None else -1
        page = int(self.pages[i]) if self.pages is not None else 0
        return Sentence(text=self.text(i), source=self.sources[k], index=i,
                        start=int(self.starts[i]), end=int(self.ends[i]),
                        paragraph=int(self.paragraphs[i]), number=self.number(i),
                        section=self.sections[section] if section >= 0 else None,
                        page=page or None, title=(self.titles[k] if self.titles else "") or None)

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

    @cached_property
    def heading_terms(self) -> dict[str, tuple[int, ...]]:
        """Each term of a heading -> the sections (numbers in `sections`) it heads."""
        out: dict[str, list[int]] = {}
        for k, heading in enumerate(self.sections):
            for t in dict.fromkeys(terms_mod.terms(heading)):
                out.setdefault(t, []).append(k)
        return {t: tuple(ks) for t, ks in out.items()}

    def section_members(self, k: int) -> np.ndarray:
        """The sentences under section k's heading."""
        cache = self.__dict__.setdefault("_members", {})
        if k not in cache:
            ids = self.section_ids
            cache[k] = np.flatnonzero(ids == k) if ids is not None else np.zeros(0, np.int64)
        return cache[k]

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


def _columns(sentences: list[Sentence]) -> dict:
    """The per-sentence and per-source fields of an Index, in one pass over the sentences.

    A new source starts where the name changes or a sentence is number 1 of its document.
    """
    sources: list[str] = []
    titles: list[str] = []
    section_names: dict[str, int] = {}
    n = len(sentences)
    source_ids = np.empty(n, dtype=np.int32)
    starts, ends, paragraphs = (np.empty(n, dtype=np.int64) for _ in range(3))
    section_ids = np.full(n, -1, dtype=np.int32)
    pages = np.zeros(n, dtype=np.int32)
    previous = None
    for i, s in enumerate(sentences):
        if s.source != previous or s.number == 1:
            sources.append(s.source)
            titles.append(s.title or "")
            previous = s.source
        source_ids[i] = len(sources) - 1
        starts[i], ends[i], paragraphs[i] = s.start, s.end, s.paragraph
        if s.section is not None:
            section_ids[i] = section_names.setdefault(s.section, len(section_names))
        if s.page:
            pages[i] = s.page
    return dict(sources=tuple(sources), titles=tuple(titles), source_ids=source_ids,
                starts=starts, ends=ends, paragraphs=paragraphs,
                sections=tuple(section_names), section_ids=section_ids, pages=pages)


def build_index(sentences: list[Sentence], progress: Progress | None = None,
                k1: float = K1, b: float = B, epsilon: float = EPSILON,
                skipped: Iterable[str] = ()) -> Index:
    """Index sentences for BM25Okapi with rank_bm25's exact IDF and term weights.

    `skipped` says which sources were left out and why, to be said again on each use.
    """
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
    columns = _columns(sentences)
    terms_by_id = sorted(vocab, key=vocab.__getitem__)
    lowercase = np.zeros(len(vocab), dtype=np.bool_)
    for w in lowercase_words:
        t = vocab.get(terms_mod.stem(w))
        if t is not None:
            lowercase[t] = True
    return Index(
        texts=texts, text_offsets=offsets, **columns, skipped=tuple(skipped),
        vocab=vocab, surfaces=tuple(surfaces[t] for t in terms_by_id),
        df=df.astype(np.int64), idf=idf, ptr=ptr, docs=docs, weights=weights,
        lowercase=lowercase, tf=np.minimum(tf, np.iinfo(np.uint16).max).astype(np.uint16),
        doc_len=lengths, avgdl=avgdl, k1=k1, b=b,
        word_terms={w: tuple(terms_by_id[t] for t in words.term_ids[i])
                    for w, i in words.items() if w != "\n"})


# ---- the cache on disk: one .npz of plain arrays (np.load with allow_pickle=False) ----
# Lists of strings are stored as text plus offsets (qa.cache.string_arrays), so no character a
# file name or heading may hold can shift them; counts and offsets are checked on load.

_ARRAYS = ("text_offsets", "source_ids", "starts", "ends", "paragraphs", "df", "idf", "ptr",
           "docs", "weights", "tf", "lowercase", "doc_len", "section_ids", "pages")
_STRING_LISTS = ("sources", "titles", "sections", "vocab", "surfaces", "words", "skipped",
                 "key")


def cache_key(contents: Iterable[tuple[str, bytes]], version: str) -> str:
    """A key for the index built from these (name, bytes) sources by this version of qa."""
    h = hashlib.blake2b(digest_size=20)
    h.update(f"qa {version} format {CACHE_FORMAT} k1 {K1} b {B} eps {EPSILON}\0".encode())
    for name, data in contents:
        h.update(len(name).to_bytes(8, "little") + name.encode("utf-8", "surrogatepass"))
        h.update(len(data).to_bytes(8, "little") + hashlib.blake2b(data).digest())
    return h.hexdigest()


def save_index(index: Index, path: Path, key: str = "", label: str = "") -> None:
    """Write atomically (temp file + rename) with user-only permissions."""
    meta = np.array([CACHE_FORMAT, index.avgdl, index.k1, index.b], dtype=np.float64)
    n = len(index)
    arrays = {k: getattr(index, k) for k in _ARRAYS}
    if arrays["section_ids"] is None:
        arrays["section_ids"] = np.full(n, -1, dtype=np.int32)
    if arrays["pages"] is None:
        arrays["pages"] = np.zeros(n, dtype=np.int32)
    strings = {
        "sources": index.sources, "titles": index.titles or ("",) * len(index.sources),
        "sections": index.sections, "vocab": sorted(index.vocab, key=index.vocab.__getitem__),
        "surfaces": index.surfaces, "words": list(index.word_terms),
        "skipped": index.skipped, "key": [key]}
    framed = {}
    for name, values in strings.items():
        framed.update(cache.string_arrays(name, values))
    word_term_ids = np.fromiter((index.vocab[t] for ts in index.word_terms.values() for t in ts),
                                dtype=np.int32)
    word_term_counts = np.fromiter(map(len, index.word_terms.values()), dtype=np.int32,
                                   count=len(index.word_terms))
    texts = np.frombuffer(index.texts.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    cache.write_entry(path, {"meta": meta, "texts": texts, **arrays, **framed,
                             "word_term_ids": word_term_ids,
                             "word_term_counts": word_term_counts},
                      label or f"{len(index)} sentences")


def load_index(path: Path, key: str | None = None) -> Index | None:
    """The cached index, or None when it is missing, corrupt, from another format, or (with
    `key`) built from other content."""
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = z["meta"]
            if int(meta[0]) != CACHE_FORMAT:
                return None
            if key is not None and cache.read_strings(z, "key", 1)[0] != key:
                return None
            arrays = {k: z[k] for k in _ARRAYS}
            strings = {k: cache.read_strings(z, k) for k in _STRING_LISTS}
            texts = bytes(z["texts"]).decode("utf-8", "surrogatepass")
            word_term_ids, word_term_counts = z["word_term_ids"], z["word_term_counts"]
    except Exception:  # any damage at all means: rebuild
        return None
    if not _valid(meta, arrays, strings, texts, word_term_ids, word_term_counts):
        return None
    vocab_list = strings["vocab"]
    flat = iter([vocab_list[t] for t in word_term_ids.tolist()])
    word_terms = {w: tuple(islice(flat, c))
                  for w, c in zip(strings["words"], word_term_counts.tolist())}
    return Index(sources=tuple(strings["sources"]), titles=tuple(strings["titles"]),
                 sections=tuple(strings["sections"]), skipped=tuple(strings["skipped"]),
                 texts=texts, vocab={t: i for i, t in enumerate(vocab_list)},
                 surfaces=tuple(strings["surfaces"]), avgdl=float(meta[1]), k1=float(meta[2]),
                 b=float(meta[3]), word_terms=word_terms, **arrays)


_INTEGER_ARRAYS = ("text_offsets", "source_ids", "starts", "ends", "paragraphs", "df", "ptr",
                   "docs", "tf", "doc_len", "section_ids", "pages")


def _valid(meta, arrays, strings, texts, word_term_ids, word_term_counts) -> bool:
    """Whether a cached index is whole and sane: lengths that agree, integers where integers
    belong, offsets and ids in range and in order, postings sorted, weights finite. Anything
    else (a damaged or crafted entry) is rebuilt rather than trusted."""
    try:
        n, vocab_list = len(arrays["doc_len"]), strings["vocab"]
        if any(arrays[k].ndim != 1 or arrays[k].dtype.kind not in "iu" for k in _INTEGER_ARRAYS) \
                or any(a.dtype.kind != "f" or a.ndim != 1
                       for a in (arrays["idf"], arrays["weights"])) \
                or arrays["lowercase"].dtype != np.bool_ \
                or word_term_ids.dtype.kind not in "iu" or word_term_counts.dtype.kind not in "iu":
            return False
        if not (np.all(np.isfinite(meta[1:4])) and float(meta[1]) > 0 and float(meta[2]) > 0
                and 0 <= float(meta[3]) <= 1):
            return False
        per_sentence = ("source_ids", "starts", "ends", "paragraphs", "section_ids", "pages")
        per_term = ("surfaces", "df", "idf", "lowercase")
        ptr, docs = arrays["ptr"], arrays["docs"]
        ok = not (n == 0 or any(len(arrays[k]) != n for k in per_sentence)
                  or len(arrays["text_offsets"]) != n + 1
                  or int(arrays["text_offsets"][0]) != 0
                  or int(arrays["text_offsets"][-1]) != len(texts)
                  or np.any(np.diff(arrays["text_offsets"]) < 0)
                  or int(arrays["starts"].min()) < 0
                  or np.any(arrays["ends"] < arrays["starts"])
                  or int(arrays["paragraphs"].min()) < 0
                  or np.any(np.diff(arrays["paragraphs"]) < 0)
                  or int(arrays["pages"].min()) < 0 or int(arrays["doc_len"].min()) < 0
                  or len(strings["titles"]) != len(strings["sources"])
                  or int(arrays["source_ids"][0]) != 0 or np.any(np.diff(arrays["source_ids"]) < 0)
                  or int(arrays["source_ids"][-1]) >= len(strings["sources"])
                  or int(arrays["section_ids"].min()) < -1
                  or int(arrays["section_ids"].max()) >= len(strings["sections"])
                  or len(ptr) != len(vocab_list) + 1 or int(ptr[0]) != 0
                  or np.any(np.diff(ptr) < 0) or np.any(np.diff(ptr) != arrays["df"])
                  or any(len(strings[k] if k in strings else arrays[k]) != len(vocab_list)
                         for k in per_term)
                  or not int(ptr[-1]) == len(docs) == len(arrays["weights"]) == len(arrays["tf"])
                  or (len(docs) and (int(docs.min()) < 0 or int(docs.max()) >= n
                                     or int(arrays["tf"].min()) < 1))
                  or not np.all(np.isfinite(arrays["weights"]))
                  or not np.all(np.isfinite(arrays["idf"]))
                  or len(word_term_counts) != len(strings["words"])
                  or (len(word_term_counts) and int(word_term_counts.min()) < 0)
                  or int(word_term_counts.sum()) != len(word_term_ids)
                  or (len(word_term_ids) and (int(word_term_ids.min()) < 0
                                              or int(word_term_ids.max()) >= len(vocab_list))))
        if ok and len(docs) > 1:
            # each term's sentences in increasing order (a term's postings start at ptr[t])
            rising = np.diff(docs.astype(np.int64)) > 0
            starts_term = np.zeros(len(docs), dtype=bool)
            starts_term[ptr[:-1][np.diff(ptr) > 0]] = True
            ok = bool(np.all(rising | starts_term[1:]))
        return ok
    except (KeyError, ValueError, TypeError, IndexError):
        return False


def _where(paths: list[str]) -> list[str]:
    """What the sources are (not what they hold): their cache entry is named for this, and
    replaced when their content changes."""
    return [p if p == "-" or re.match(r"https?://", p, re.IGNORECASE) else os.path.abspath(p)
            for p in paths]


def open_index(paths: list[str], use_cache: bool = True, progress: Progress | None = None,
               warn: Warn | None = None, timeout: float | None = None,
               stdin: bytes | None = None) -> Index:
    """Read, clean, split and index the given sources (files, folders, "-" for stdin, URLs),
    through the cache if allowed. `warn` gets one line per source skipped."""
    from qa import __version__
    from qa.corpus import read_sources

    sources = read_sources(paths, warn=warn, timeout=timeout, use_cache=use_cache, stdin=stdin)
    key = cache_key(((f"{s.format}:{s.name}", s.data) for s in sources), __version__)
    path = cache.entry_path("index", "\0".join(_where(paths))) if use_cache else None
    if path is None:
        return _build(sources, progress, warn)
    cache.remove_stale(path.parent)
    cached = load_index(path, key)
    if cached is None:
        def waiting() -> None:
            if progress:
                progress("waiting for another qa building this index", 0, 0)

        with cache.build_lock(path, on_wait=waiting, on_long_wait=warn):
            cached = load_index(path, key)  # built by the process we waited for
            if cached is None:
                index = _build(sources, progress, warn)
                names = ("stdin" if p == "-" else p for p in _where(paths))
                label = (f"{', '.join(names)} "
                         f"({len(index.sources)} file(s), {len(index)} sentences)")
                try:
                    save_index(index, path, key, label)
                except OSError:
                    pass  # an unwritable cache folder only costs the next start its time
                return index
    for line in cached.skipped:
        if warn:
            warn(line)
    return cached


def _build(sources: list, progress: Progress | None, warn: Warn | None) -> Index:
    from qa.corpus import document_from_source
    from qa.sentences import split_sentences

    docs, skipped = [], []
    for k, source in enumerate(sources):
        if progress:
            progress("reading", k, len(sources))
        sources[k] = None  # the bytes are hashed already: let them go as we extract
        try:
            docs.append(document_from_source(source, warn))
        except CorpusError as e:
            if not source.optional:
                raise
            skipped.append(f"skipped {e}")
            if warn:
                warn(skipped[-1])
        del source
    if progress:
        progress("reading", len(sources), len(sources))
    if not docs:
        raise CorpusError("nothing usable to read: every file was skipped")
    sentences = split_sentences(docs, progress=progress)
    del docs  # at a million sentences the texts weigh hundreds of megabytes
    index = build_index(sentences, progress, skipped=skipped)
    del sentences
    return index
