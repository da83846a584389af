"""The reader: a fine-tuned transformer encoder run in numpy. Windows in, span scores out.

A window is a candidate sentence with its neighbours (its paragraph's first, then across
paragraph breaks, nearest first) up to a word-piece budget; the question (with the earlier turns
of a chat) and the window are read together as BERT reads a pair, and the encoder gives every
word piece a start and an end logit. A span's score is its start logit plus its end logit; the
no-answer score is the [CLS] piece's, as in SQuAD 2.0 readers.

The weights are made by `python -m qa.train reader` (qa/train/reader.py) from
all-MiniLM-L6-v2 (Apache-2.0) fine-tuned on SQuAD-style questions (CC BY-SA 4.0).
"""

from __future__ import annotations

import contextlib
import io
import math
import mmap
import struct
import threading
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from qa.errors import ModelError

MODELS = Path(__file__).resolve().parent / "models"
WEIGHTS_PATH = MODELS / "reader.npz"
# The encoder's WordPiece vocabulary, one piece a line (line k is id k): built into a tokenizer
# here with the base tokenizer's settings (17 ms, against 27 for its tokenizer.json).
VOCAB_PATH = MODELS / "reader-vocab.txt"
# Windows and the logits torch gave them at training time: tests/test_reader.py checks the
# numpy forward pass against them.
FIXTURE_PATH = MODELS / "reader-fixture.npz"
FORMAT = 1
# Positions kept of the encoder's 512: the longest input qa makes is 3 + HISTORY_PIECES + 160.
MAX_POSITIONS = 256

CLS, SEP, PAD = 101, 102, 0
VOCAB_SIZE = 30522
# Word pieces of the question as asked, and of the question with its earlier turns.
QUESTION_PIECES = 40
HISTORY_PIECES = 64
# Word pieces of text around a candidate sentence. Training mixes TRAIN_WINDOWS so that any of
# them reads well; WINDOW_PIECES is the reader's own default (its dev figures at training time).
# What `qa` reads is the combiner's window_pieces, chosen on dev (qa/train/combiner.py).
TRAIN_WINDOWS = (96, 128, 160)
WINDOW_PIECES = 128
# The longest answer, in word pieces.
MAX_ANSWER_PIECES = 30
# Spans considered per window: the best starts times the best ends.
TOP_STARTS = 20


# ---- word pieces ---------------------------------------------------------------------------

@lru_cache(maxsize=1)
def tokenizer(path: Path = VOCAB_PATH):
    """The encoder's WordPiece tokenizer (Hugging Face `tokenizers`, offsets into the text):
    BERT's uncased normaliser (accents stripped, Chinese characters split) and pre-tokeniser,
    exactly as all-MiniLM-L6-v2's tokenizer.json sets them (tests/test_reader.py checks)."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    try:
        wordpiece = models.WordPiece.from_file(str(path), unk_token="[UNK]",
                                               max_input_chars_per_word=100)
    except Exception as e:  # a missing or damaged file: one line naming it
        raise ModelError(f"cannot read the reader's vocabulary {path}: "
                         f"{str(e).splitlines()[0] if str(e) else type(e).__name__}; "
                         "reinstall qa") from None
    tok = Tokenizer(wordpiece)
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                                strip_accents=None, lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    if tok.get_vocab_size() != VOCAB_SIZE or tok.token_to_id("[SEP]") != SEP:
        raise ModelError(f"{path}: the reader's vocabulary is damaged: reinstall qa")
    return tok


@dataclass(frozen=True)
class Pieces:
    """A text's word pieces: ids and each one's character span in the text."""

    ids: np.ndarray  # int32
    starts: np.ndarray  # int32
    ends: np.ndarray  # int32

    def __len__(self) -> int:
        return len(self.ids)


def pieces_of(texts: Sequence[str], tok=None) -> list[Pieces]:
    """Word pieces of each text, without [CLS] or [SEP]."""
    if tok is None:
        _prefetched()
        tok = tokenizer()
    out = []
    for enc in tok.encode_batch(list(texts), add_special_tokens=False):
        offsets = np.array(enc.offsets, dtype=np.int32).reshape(-1, 2)
        out.append(Pieces(np.array(enc.ids, dtype=np.int32), offsets[:, 0], offsets[:, 1]))
    return out


def question_ids(question: Pieces, history: Pieces | None = None) -> np.ndarray:
    """The question segment: the question's pieces, then [SEP] and the earlier turns' last
    pieces (the nearest turns are kept when they do not all fit)."""
    ids = question.ids[:QUESTION_PIECES]
    if history is not None and len(history) and len(ids) + 1 < HISTORY_PIECES:
        room = HISTORY_PIECES - len(ids) - 1
        ids = np.concatenate([ids, [SEP], history.ids[-room:]]).astype(np.int32)
    return ids


# ---- windows -------------------------------------------------------------------------------

def window(i: int, length: Callable[[int], int], paragraphs: Sequence[int],
           sources: Sequence[int], budget: int) -> tuple[int, int]:
    """Sentences first..last (inclusive) read around sentence i: its paragraph's sentences
    nearest first (after, then before, in turn), then, while pieces remain, its neighbours
    across paragraph breaks in the same source, so that a line broken into fragments (a
    dateline, "In November 2017,") is read with the lines that finish it. `length(j)` is
    sentence j's number of word pieces."""
    ends = {1: i, -1: i}  # the last sentence taken after i, the first taken before it
    used = length(i)
    n = len(sources)
    for same_paragraph in (True, False):
        growing = [1, -1]
        while growing:
            for step in list(growing):
                j = ends[step] + step
                if (0 <= j < n and sources[j] == sources[i]
                        and (not same_paragraph or paragraphs[j] == paragraphs[i])
                        and used + length(j) <= budget):
                    ends[step], used = j, used + length(j)
                else:
                    growing.remove(step)
    first, last = ends[-1], ends[1]
    return first, last


@dataclass(frozen=True)
class Window:
    """One encoder input: [CLS] question [SEP] text [SEP], and where each text piece came from."""

    ids: np.ndarray  # int32, the whole input
    types: np.ndarray  # int32, 0 for the question segment, 1 for the text
    text_from: int  # position of the first text piece
    sentence: np.ndarray  # per text piece: its sentence (as numbered by the caller)
    starts: np.ndarray  # per text piece: its character span in its sentence
    ends: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


def make_window(question: np.ndarray, sentences: Sequence[int], pieces: Sequence[Pieces],
                budget: int, skip: int = 0) -> Window:
    """The input for a question segment and the pieces of consecutive sentences (their own
    numbers in `sentences`), cut to `budget` text pieces; `skip` drops that many pieces from
    the front (the later parts of a sentence too long for one window)."""
    ids = np.concatenate([p.ids for p in pieces])[skip:skip + budget]
    sent = np.concatenate([np.full(len(p), s, dtype=np.int32)
                           for s, p in zip(sentences, pieces)])[skip:skip + budget]
    starts = np.concatenate([p.starts for p in pieces])[skip:skip + budget]
    ends = np.concatenate([p.ends for p in pieces])[skip:skip + budget]
    head = np.concatenate([[CLS], question, [SEP]]).astype(np.int32)
    full = np.concatenate([head, ids, [SEP]]).astype(np.int32)
    types = np.concatenate([np.zeros(len(head), np.int32), np.ones(len(ids) + 1, np.int32)])
    return Window(full, types, len(head), sent, starts, ends)


# ---- spans ---------------------------------------------------------------------------------

def decode_spans(start: np.ndarray, end: np.ndarray, text_from: int, stop: int,
                 sentence: np.ndarray | None = None, top: int = TOP_STARTS
                 ) -> list[tuple[float, int, int]]:
    """(start + end logit, first piece, last piece) of the best spans of a window's text
    (input positions text_from..stop-1), best first: among the `top` best starts and ends,
    at most MAX_ANSWER_PIECES long and, given `sentence` (each text piece's sentence), inside
    one sentence. Positions returned are relative to the text's first piece."""
    s, e = start[text_from:stop], end[text_from:stop]
    n = len(s)
    if not n:
        return []
    k = min(top, n)
    firsts = np.argpartition(-s, k - 1)[:k]
    lasts = np.argpartition(-e, k - 1)[:k]
    i, j = np.meshgrid(firsts, lasts, indexing="ij")
    i, j = i.ravel(), j.ravel()
    ok = (j >= i) & (j - i < MAX_ANSWER_PIECES)
    if sentence is not None:
        ok &= sentence[i] == sentence[j]
    i, j = i[ok], j[ok]
    scores = s[i] + e[j]
    order = np.lexsort((j, i, -scores))
    return [(float(scores[o]), int(i[o]), int(j[o])) for o in order]


# ---- the encoder in numpy ------------------------------------------------------------------

LAYER_PARTS = ("query", "key", "value", "attention_out", "inner", "out")


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray,
                eps: float = 1e-12) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    x = x - mean
    var = np.einsum("ij,ij->i", x, x)[:, None] / x.shape[-1]
    x *= 1.0 / np.sqrt(var + eps)
    x *= weight
    x += bias
    return x


# Abramowitz and Stegun 7.1.26: |error| < 1.5e-7, against BERT's exact (erf) GELU.
_ERF_P = 0.3275911
_ERF_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


_P_OVER_ROOT2 = np.float32(_ERF_P / math.sqrt(2))
_ROOT_HALF = np.float32(1 / math.sqrt(2))
_A = tuple(np.float32(a) for a in _ERF_A)


def gelu(x: np.ndarray) -> np.ndarray:
    """x * Phi(x) with erf from a polynomial (numpy has no erf), every step in place on two
    buffers: a step that makes a new array costs as much again (and `**` on an array many
    times more), and this runs over every inner unit of every layer."""
    z = np.abs(x)
    t = z * _P_OVER_ROOT2  # t = 1 / (1 + p |x| / sqrt 2)
    t += 1.0
    np.reciprocal(t, out=t)
    poly = t * _A[4]
    for a in _A[3::-1]:
        poly += a
        poly *= t
    z *= _ROOT_HALF
    np.square(z, out=z)
    np.negative(z, out=z)
    np.exp(z, out=z)
    poly *= z  # 1 - erf(|x| / sqrt 2)
    np.subtract(1.0, poly, out=poly)
    np.copysign(poly, x, out=poly)  # erf(x / sqrt 2)
    poly += 1.0
    poly *= x
    poly *= 0.5
    return poly


@dataclass(frozen=True, eq=False)
class Encoder:
    """The fine-tuned encoder and its start/end head, float32 for the layers."""

    words: np.ndarray  # (vocab, width) int8 or float32
    word_scales: np.ndarray | None  # (vocab,) per row, for int8
    positions: np.ndarray
    types: np.ndarray
    norm: tuple[np.ndarray, np.ndarray]
    layers: tuple[dict[str, np.ndarray], ...]
    head: tuple[np.ndarray, np.ndarray]  # (width, 2), (2,)
    heads: int = 12

    def embed(self, ids: np.ndarray) -> np.ndarray:
        rows = self.words[ids].astype(np.float32)
        if self.word_scales is not None:
            rows *= self.word_scales[ids][:, None]
        return rows

    def forward(self, windows: Sequence[np.ndarray], types: Sequence[np.ndarray]
                ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Start and end logits of every piece of each input. The inputs are read together:
        their pieces stacked for every dense layer (no padding), attention within each."""
        lengths = [len(w) for w in windows]
        if max(lengths) > len(self.positions):
            raise ValueError(f"an input of {max(lengths)} pieces is longer than "
                             f"{len(self.positions)}")
        ids = np.concatenate(windows)
        pos = np.concatenate([np.arange(n) for n in lengths])
        x = self.embed(ids) + self.positions[pos] + self.types[np.concatenate(types)]
        x = _layer_norm(x, *self.norm)
        bounds = np.cumsum([0] + lengths)
        h = self.heads
        d = x.shape[1] // h
        scale = np.float32(1 / math.sqrt(d))
        for layer in self.layers:
            qkv = x @ layer["qkv"]
            qkv += layer["qkv_bias"]
            context = np.empty_like(x)
            for a, b in zip(bounds[:-1], bounds[1:]):
                part = qkv[a:b].reshape(b - a, 3, h, d).transpose(1, 2, 0, 3)
                scores = (part[0] * scale) @ part[1].transpose(0, 2, 1)
                scores -= scores.max(axis=-1, keepdims=True)
                np.exp(scores, out=scores)
                scores /= scores.sum(axis=-1, keepdims=True)
                context[a:b] = (scores @ part[2]).transpose(1, 0, 2).reshape(b - a, h * d)
            x = _layer_norm(x + context @ layer["attention_out"] + layer["attention_out_bias"],
                            layer["attention_norm"], layer["attention_norm_bias"])
            inner = x @ layer["inner"]
            inner += layer["inner_bias"]
            inner = gelu(inner)
            x = _layer_norm(x + inner @ layer["out"] + layer["out_bias"],
                            layer["out_norm"], layer["out_norm_bias"])
        logits = x @ self.head[0] + self.head[1]
        return [(logits[a:b, 0], logits[a:b, 1]) for a, b in zip(bounds[:-1], bounds[1:])]


def _matrix(arrays, *names: str) -> np.ndarray:
    """Float32 weights: the named (in, out) matrices side by side, int8 ones times their
    columns' scales, in one pass into the result."""
    parts = [arrays[name] for name in names]
    out = np.empty((parts[0].shape[0], sum(m.shape[1] for m in parts)), np.float32)
    at = 0
    for name, m in zip(names, parts):
        target = out[:, at:at + m.shape[1]]
        if m.dtype == np.int8:
            np.multiply(m, arrays[name + ".scale"][None, :], out=target)
        else:
            target[...] = m
        at += m.shape[1]
    return out


def _mapped_npz(path: Path) -> dict[str, np.ndarray]:
    """The arrays of an uncompressed .npz as read-only views of the file mapped into memory.

    np.load copies every member out of the zip; here nothing is copied, so the word embeddings
    (half the weights) stay int8 in the mapping and only a question's rows are converted. Each
    member's CRC is checked as zipfile would (a damaged file must say so). Object arrays are
    refused, as np.load(allow_pickle=False) refuses them."""
    with open(path, "rb") as f, zipfile.ZipFile(f) as z:
        infos = z.infolist()
        data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    view = memoryview(data)
    out = {}
    for info in infos:
        if info.compress_type != zipfile.ZIP_STORED or not info.filename.endswith(".npy"):
            raise ValueError(f"{info.filename}: not a stored .npy member")
        at = info.header_offset
        if view[at:at + 4] != b"PK\x03\x04":
            raise zipfile.BadZipFile(f"{info.filename}: no local header")
        name_len, extra_len = struct.unpack("<HH", view[at + 26:at + 30])
        start = at + 30 + name_len + extra_len
        member = view[start:start + info.file_size]
        if len(member) != info.file_size or zlib.crc32(member) != info.CRC:
            raise zipfile.BadZipFile(f"{info.filename}: bad CRC")
        head = io.BytesIO(member[:min(len(member), 65536)])
        version = np.lib.format.read_magic(head)
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, fortran, dtype = read_header(head)
        if dtype.hasobject:
            raise ValueError(f"{info.filename}: an object array")
        count = math.prod(shape)
        if head.tell() + count * dtype.itemsize != len(member):
            raise ValueError(f"{info.filename}: size does not match its header")
        array = np.frombuffer(member, dtype, count, head.tell())
        array = array.reshape(shape[::-1]).T if fortran else array.reshape(shape)
        out[info.filename[:-4]] = array
    return out


def _check_format(arrays, path: Path) -> None:
    if "format" not in arrays or int(arrays["format"]) != FORMAT:
        raise ModelError(f"{path}: the reader's weights are of another format: reinstall qa")


@lru_cache(maxsize=2)
def load(path: Path = WEIGHTS_PATH) -> Encoder:
    """The shipped encoder (read once per process); one line naming the file if it is missing
    or damaged."""
    try:
        arrays = _mapped_npz(path)
        _check_format(arrays, path)
        layers = []
        n = 0
        while f"layers.{n}.query.weight" in arrays:
            p = f"layers.{n}."
            layer = {"qkv": _matrix(arrays, *(p + k + ".weight"
                                              for k in ("query", "key", "value"))),
                     "qkv_bias": np.concatenate([arrays[p + k + ".bias"]
                                                 for k in ("query", "key", "value")])}
            for part in ("attention_out", "inner", "out"):
                layer[part] = _matrix(arrays, p + part + ".weight")
                layer[part + "_bias"] = arrays[p + part + ".bias"]
            for part in ("attention_norm", "out_norm"):
                layer[part] = arrays[p + part + ".weight"]
                layer[part + "_bias"] = arrays[p + part + ".bias"]
            layers.append(layer)
            n += 1
        if not layers:
            raise KeyError("layers.0.query.weight")
        words = arrays["words.weight"]
        encoder = Encoder(
            words=words, word_scales=arrays["words.weight.scale"]
            if words.dtype == np.int8 else None,
            positions=arrays["positions.weight"], types=arrays["types.weight"],
            norm=(arrays["norm.weight"], arrays["norm.bias"]), layers=tuple(layers),
            head=(_matrix(arrays, "head.weight"), arrays["head.bias"]))
    except FileNotFoundError:
        raise ModelError(f"{path}: the reader's weights are missing: reinstall qa") from None
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile, EOFError) as e:
        raise ModelError(f"{path}: the reader's weights are damaged ({type(e).__name__}): "
                         "reinstall qa") from None
    if encoder.words.ndim != 2 or encoder.head[0].shape != (encoder.words.shape[1], 2):
        raise ModelError(f"{path}: the reader's weights are damaged (shapes): reinstall qa")
    return encoder


_prefetch: threading.Thread | None = None
_prefetch_lock = threading.Lock()


def prefetch() -> None:
    """Start loading the shipped weights and vocabulary on a thread of their own, so that they
    load while the text is read and the question searched: most of the work (the CRCs, the int8
    to float32 products) leaves the GIL free for the main thread. Errors are not reported here:
    the main thread meets them again when it needs the reader, and says them there."""
    global _prefetch
    with _prefetch_lock:
        if _prefetch is None:
            _prefetch = threading.Thread(target=_warm, name="qa-reader-load", daemon=True)
            _prefetch.start()


def _warm() -> None:
    with contextlib.suppress(Exception):
        load()
        tokenizer()


def _prefetched() -> None:
    """Wait for a prefetch under way (the cached loaders are not to be entered twice)."""
    if _prefetch is not None:
        _prefetch.join()


# ---- reading a question over an index ------------------------------------------------------

# Spans kept per window (the best by start + end logit).
SPANS_PER_WINDOW = 8
# Sentences whose word pieces are remembered per text (a chat asks of the same few often).
PIECE_CACHE_SIZE = 50_000


@dataclass(frozen=True)
class Span:
    """A span the reader proposes: in sentence `sentence`, characters start:end of its text."""

    sentence: int
    start: int
    end: int
    score: float  # start logit + end logit
    window: int  # the window it was read in


@dataclass(frozen=True)
class Reading:
    """What the reader made of one question's windows."""

    windows: tuple[tuple[int, int], ...]  # (first, last) sentence of each window read
    centres: tuple[int, ...]  # the candidate sentence each window was read for
    nulls: np.ndarray  # each window's no-answer score ([CLS] start + end logit)
    spans: tuple[Span, ...]  # the best spans of every window, best first
    pieces: int  # word pieces read in all


class Reader:
    """The encoder reading windows of one indexed text."""

    def __init__(self, index, encoder: Encoder | None = None) -> None:
        self.index = index
        self._encoder = encoder
        self._pieces: dict[int, Pieces] = {}

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            _prefetched()
            self._encoder = load()
        return self._encoder

    def pieces(self, ids: Sequence[int]) -> list[Pieces]:
        """The word pieces of these sentences (tokenised once, then remembered)."""
        missing = [i for i in dict.fromkeys(ids) if i not in self._pieces]
        if missing:
            if len(self._pieces) + len(missing) > PIECE_CACHE_SIZE:
                self._pieces.clear()
            for i, p in zip(missing, pieces_of([self.index.text(i) for i in missing])):
                self._pieces[i] = p
        return [self._pieces[i] for i in ids]

    def length(self, i: int) -> int:
        return len(self.pieces([i])[0])

    def windows_for(self, centres: Sequence[int], limit: int, budget: int
                    ) -> list[tuple[int, int, int, int]]:
        """(centre, first, last, skip) of up to `limit` windows for the centres in order; a
        centre inside an earlier window is read there, not again. A sentence longer than the
        budget is read in parts (skip: the pieces of it passed over)."""
        index, out = self.index, []
        for c in centres:
            if len(out) >= limit:
                break
            if any(first <= c <= last for _, first, last, _ in out):
                continue
            n = self.length(c)
            if n > budget:
                for skip in range(0, n, budget // 2):
                    if len(out) >= limit:
                        break
                    out.append((c, c, c, skip))
                    if skip + budget >= n:
                        break
                continue
            first, last = window(c, self.length, index.paragraphs, index.source_ids, budget)
            out.append((c, first, last, 0))
        return out

    def read(self, question: str, centres: Sequence[int], limit: int,
             budget: int = WINDOW_PIECES, history: str | None = None) -> Reading:
        """Read the windows around the centres (best first) with the question (and the earlier
        turns of a chat); one forward pass for all of them."""
        q_pieces, *h = pieces_of([question] + ([history] if history else []))
        qids = question_ids(q_pieces, h[0] if h else None)
        chosen = self.windows_for(centres, limit, budget)
        inputs = []
        for _, first, last, skip in chosen:
            ids = list(range(first, last + 1))
            inputs.append(make_window(qids, ids, self.pieces(ids), budget, skip))
        if not inputs:
            return Reading((), (), np.zeros(0), (), 0)
        logits = self.encoder.forward([w.ids for w in inputs], [w.types for w in inputs])
        nulls, spans = np.zeros(len(inputs)), []
        for k, (w, (start, end)) in enumerate(zip(inputs, logits)):
            nulls[k] = float(start[0] + end[0])
            found = decode_spans(start, end, w.text_from, len(w) - 1, w.sentence)
            for score, i, j in found[:SPANS_PER_WINDOW]:
                spans.append(Span(int(w.sentence[i]), int(w.starts[i]), int(w.ends[j]),
                                  score, k))
        spans.sort(key=lambda x: (-x.score, x.sentence, x.start, x.end))
        return Reading(tuple((f, last) for _, f, last, _ in chosen),
                       tuple(c for c, _, _, _ in chosen), nulls, tuple(spans),
                       sum(len(w) for w in inputs))
