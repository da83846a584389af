"""Part-of-speech tags (UPOS) and phrase chunks from weights trained on UD English treebanks.

The model is a structured averaged perceptron: each word's tag scores are the sum of the
weights of its hashed features (the word, its suffixes, prefixes and shape, two words either
side), and a first-order Viterbi pass adds tag-to-tag transitions. `qa.train.tagger` makes the
weights; this module only loads them (one `.npz`, no pickle) and scores, with numpy.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from qa.errors import ModelError

MODEL_PATH = Path(__file__).resolve().parent / "models" / "tagger.npz"
# Bits of a key that pick its bucket: 2^18 buckets for 150,000 keys, at most a few each; the
# table (1 MB) takes about a millisecond to build at load.
LOOKUP_BITS = 18

# Universal POS tags, in the order of the weight matrix's columns.
TAGS = ("ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON",
        "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X")

# -- Features ---------------------------------------------------------------------------------
# A word type has a fixed vector of base hashes (its case-folded form, suffixes, prefixes,
# shape, case, and its ambiguity class: the tags it took in training); a token's feature keys
# mix the base hashes of the words around it with the template's own hash. zlib.crc32 and
# fixed integer mixing, never Python's hash(): str hashes are randomised per process, and the
# weights must mean the same in every process.
BASES = ("bias", "word", "suf1", "suf2", "suf3", "suf4", "suf5", "pre1", "pre2", "pre3",
         "shape", "case", "amb")
_B = {name: k for k, name in enumerate(BASES)}
# Templates: "OFFSET:BASE" is a base of the word OFFSET places away, "A+B" a conjunction.
# A template's hashes are salted with its own text, so adding one leaves the others' keys alone.
# Chosen on EWT dev (5 passes): the ambiguity-class templates took it from 94.87 to 94.99; more
# case, shape and suffix pairs, or case and shape two words away, gave 94.75-95.01 (noise).
TEMPLATES = (
    "0:bias", "0:word", "0:suf1", "0:suf2", "0:suf3", "0:suf4", "0:suf5",
    "0:pre1", "0:pre2", "0:pre3", "0:shape", "0:case", "0:amb",
    "-1:word", "-1:suf2", "-1:suf3", "-1:shape", "-1:case", "-1:amb",
    "1:word", "1:suf2", "1:suf3", "1:shape", "1:case", "1:amb",
    "-2:word", "-2:suf3", "-2:amb", "2:word", "2:suf3", "2:amb",
    "0:word+0:case",
    "-1:word+0:word", "0:word+1:word", "-1:word+1:word", "-2:word+-1:word", "1:word+2:word",
    "-1:word+0:suf3", "0:suf3+1:word", "-1:case+0:case", "0:case+1:case",
    "-1:amb+0:amb", "0:amb+1:amb", "0:word+1:amb", "-1:amb+0:word",
    "0:suf3+1:amb", "-1:amb+0:suf3",
)
# Templates conjoined with the previous word's tag: lexical tag transitions ("to" after a
# verb, "that" after a noun). EWT dev, 5 passes: 94.92 without, 95.01 with these two, 94.83
# and 94.90 with the next word or shape and case added.
EDGE_TEMPLATES = ("0:word", "0:suf3")
PAD = 2  # words of context on each side
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_MASK = np.uint64(0xFFFFFFFF)


class _Compiled:
    """Templates as index arrays: one gather per side builds every key of a sentence."""

    def __init__(self, templates: tuple[str, ...]) -> None:
        parts = [t.split("+") for t in templates]
        if any(len(p) > 2 for p in parts):
            raise ValueError("a template joins at most two bases")
        def where(part: str) -> tuple[int, int]:
            offset, base = part.split(":")
            if not -PAD <= int(offset) <= PAD or base not in _B:
                raise ValueError(f"bad template part {part!r}")
            return int(offset) + PAD, _B[base]
        first = [where(p[0]) for p in parts]
        # A single base is joined with the bias of its own word: the same code for both kinds.
        second = [where(p[1]) if len(p) == 2 else (PAD, _B["bias"]) for p in parts]
        self.off1 = np.array([o for o, _ in first], dtype=np.intp)
        self.base1 = np.array([b for _, b in first], dtype=np.intp)
        self.off2 = np.array([o for o, _ in second], dtype=np.intp)
        self.base2 = np.array([b for _, b in second], dtype=np.intp)
        self.salt = np.array([zlib.crc32(t.encode()) for t in templates], dtype=np.uint64) * _M2


_DIGIT = re.compile(r"\d")


def _shape(word: str) -> str:
    """A folded word's character classes, runs collapsed: "x", "d.d", "x-x", "$d", "x'x"."""
    out = []
    for ch in word:
        c = "X" if ch.isupper() else "x" if ch.isalpha() else "d" if ch.isdigit() else ch
        if not out or out[-1] != c:
            out.append(c)
    return "".join(out[:6])


def _case(word: str) -> str:
    letters = [ch for ch in word if ch.isalpha()]
    if not letters:
        return "none"
    if all(ch.islower() for ch in letters):
        return "lower"
    if all(ch.isupper() for ch in letters):
        return "upper" if len(letters) > 1 else "title"
    if letters[0].isupper() and all(ch.islower() for ch in letters[1:]):
        return "title"
    return "mixed"


def _crc(name: str, value: str) -> int:
    return zlib.crc32(f"{name}\x1f{value}".encode("utf-8", "surrogatepass"))


def fold(word: str) -> str:
    """The form a word is known by: case-folded, every digit 0."""
    return _DIGIT.sub("0", word.casefold())


class Features:
    """Feature keys of sentences, given the lexicon of words' ambiguity classes."""

    def __init__(self, templates: tuple[str, ...], edge_templates: tuple[str, ...],
                 lexicon_keys: np.ndarray, lexicon_classes: np.ndarray,
                 class_names: tuple[str, ...], n_tags: int = len(TAGS)) -> None:
        self.templates = templates
        self.edge_templates = edge_templates
        self.compiled = _Compiled(templates + edge_templates)
        # Edge keys are made once per previous tag, plus one for the sentence start.
        self.prev_salt = (np.arange(n_tags + 1, dtype=np.uint64) + 1) * _M1
        # lexicon_keys: sorted crc32 of folded words; lexicon_classes: index into class_names
        self.lexicon_keys = lexicon_keys
        self.lexicon_classes = lexicon_classes
        self.class_names = class_names
        self.base = lru_cache(maxsize=30_000)(self._base)
        self.edges = {side: tuple(_crc(name, side) for name in BASES) for side in ("<s>", "</s>")}

    @classmethod
    def from_lexicon(cls, templates: tuple[str, ...], edge_templates: tuple[str, ...],
                     lexicon: dict[str, str]) -> Features:
        """From folded word -> ambiguity class ("ADJ|NOUN")."""
        names = tuple(sorted(set(lexicon.values())))
        index = {name: k for k, name in enumerate(names)}
        pairs = sorted((zlib.crc32(w.encode("utf-8", "surrogatepass")), index[c])
                       for w, c in lexicon.items())
        return cls(templates, edge_templates, np.array([k for k, _ in pairs], dtype=np.uint32),
                   np.array([c for _, c in pairs], dtype=np.uint16), names)

    def ambiguity(self, low: str) -> str:
        """The tags a folded word was seen with in training, or "?" for a rare word."""
        key = zlib.crc32(low.encode("utf-8", "surrogatepass"))
        at = int(np.searchsorted(self.lexicon_keys, key))
        if at < len(self.lexicon_keys) and self.lexicon_keys[at] == key:
            return self.class_names[self.lexicon_classes[at]]
        return "?"

    def _base(self, word: str) -> tuple[int, ...]:
        """The base hashes of one word type, in the order of BASES."""
        low = fold(word)
        values = ("", low, low[-1:], low[-2:], low[-3:], low[-4:], low[-5:], low[:1], low[:2],
                  low[:3], _shape(low), _case(word), self.ambiguity(low))
        return tuple(_crc(name, value) for name, value in zip(BASES, values))

    def keys(self, words: list[str]) -> np.ndarray:
        """Feature keys of a sentence: (words, templates + edge templates x (tags + 1)) uint32.

        The first len(templates) columns score the word's tag; the rest, edge template by
        edge template and previous tag by previous tag (the last is the sentence start),
        score the pair (previous tag, tag).
        """
        n = len(words)
        rows = ([self.edges["<s>"]] * PAD + [self.base(w) for w in words]
                + [self.edges["</s>"]] * PAD)
        base = np.array(rows, dtype=np.uint64)
        at = np.arange(n, dtype=np.intp)[:, None]
        c = self.compiled
        raw = (base[at + c.off1, c.base1] * _M1) ^ (base[at + c.off2, c.base2] + c.salt)
        t = len(self.templates)
        edge = raw[:, t:, None] ^ self.prev_salt
        return _finish(np.concatenate([raw[:, :t], edge.reshape(n, -1)], axis=1))


def _finish(keys: np.ndarray) -> np.ndarray:
    """64-bit mixes to 32-bit keys (splitmix64's finaliser)."""
    keys ^= keys >> np.uint64(31)
    keys *= _M2
    keys ^= keys >> np.uint64(29)
    return (keys & _MASK).astype(np.uint32)


def viterbi(node: np.ndarray, pair: np.ndarray) -> list[int]:
    """The best tag sequence: node[i, tag] scores a tag, pair[i, previous, tag] a transition
    (previous = the last row for the sentence start)."""
    n = len(node)
    if n == 0:
        return []
    tags = node.shape[1]
    back = np.empty((n, tags), dtype=np.intp)
    score = node[0] + pair[0, tags]
    cols = np.arange(tags)
    for i in range(1, n):
        cand = score[:, None] + pair[i, :tags]
        back[i] = cand.argmax(axis=0)
        score = cand[back[i], cols] + node[i]
    best = [int(score.argmax())]
    for i in range(n - 1, 0, -1):
        best.append(int(back[i, best[-1]]))
    return best[::-1]


# -- The model --------------------------------------------------------------------------------
class Model:
    """Weights as the training command saved them: sorted feature keys and their rows."""

    def __init__(self, features: Features, keys: np.ndarray, weights: np.ndarray,
                 row_scale: np.ndarray, trans: np.ndarray, tags: tuple[str, ...]) -> None:
        self.features = features
        self.keys = np.ascontiguousarray(keys, dtype=np.uint32)  # sorted
        # Keys are uniform hashes, so their top bits spread them evenly: where each
        # LOOKUP_BITS-bit prefix starts in the sorted keys leaves a probe or two per look-up
        # (np.searchsorted's dependent loads took 440 us a sentence, this 55 us).
        counts = np.bincount(self.keys >> np.uint32(32 - LOOKUP_BITS), minlength=1 << LOOKUP_BITS)
        self.bucket = np.zeros(len(counts) + 1, dtype=np.int64)  # int64: cumsum's fast path
        np.cumsum(counts, out=self.bucket[1:])
        self.weights = weights  # (keys, tags) int8, times row_scale
        self.row_scale = row_scale
        self.trans = trans  # (tags + 1, tags): previous tag (last row: start) -> tag
        self.tags = tags

    @classmethod
    def from_arrays(cls, data) -> Model:
        """From the arrays the training command saves (a dict, or an open .npz)."""
        tags = tuple(str(t) for t in data["tags"])
        features = Features(tuple(str(t) for t in data["templates"]),
                            tuple(str(t) for t in data["edge_templates"]),
                            data["lexicon_keys"], data["lexicon_classes"],
                            tuple(str(c) for c in data["class_names"]), len(tags))
        model = cls(features, data["keys"], data["weights"],
                    data["row_scale"].astype(np.float32), data["trans"].astype(np.float32), tags)
        n = len(model.keys)
        if (model.weights.shape != (n, len(tags)) or model.row_scale.shape != (n,)
                or model.trans.shape != (len(tags) + 1, len(tags))
                or not np.all(model.keys[1:] > model.keys[:-1])):
            raise ValueError("the arrays do not fit together")
        return model

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> Model:
        try:
            with np.load(path, allow_pickle=False) as data:
                return cls.from_arrays(data)
        except (OSError, KeyError, ValueError, zipfile.BadZipFile) as e:
            raise ModelError(f"cannot read the tagger weights {path}: {e}; reinstall qa, or "
                             "rebuild them with `python -m qa.train tagger`") from e

    def rows(self, keys: np.ndarray) -> np.ndarray:
        """The weight row of each key, -1 for a key the model does not have."""
        prefix = keys >> np.uint32(32 - LOOKUP_BITS)
        pos, end = self.bucket[prefix], self.bucket[prefix + 1]
        found = np.full(keys.size, -1, dtype=np.intp)
        active = np.flatnonzero(pos < end)
        while active.size:
            at = pos[active]
            hit = self.keys[at] == keys[active]
            found[active[hit]] = at[hit]
            active = active[~hit]
            pos[active] += 1
            active = active[pos[active] < end[active]]
        return found

    def scores(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Node (words, tags) and pair (words, tags + 1, tags) scores of a sentence's keys."""
        n, width = keys.shape
        rows = self.rows(keys.ravel())
        known = rows >= 0
        rows = rows[known]
        w = np.zeros((known.size, len(self.tags)), dtype=np.float32)
        w[known] = self.weights[rows] * self.row_scale[rows, None]
        w = w.reshape(n, width, len(self.tags))
        t = len(self.features.templates)
        node = w[:, :t].sum(axis=1)
        pair = w[:, t:].reshape(n, -1, len(self.tags) + 1, len(self.tags)).sum(axis=1)
        return node, pair + self.trans

    def tag_ids(self, words: list[str]) -> list[int]:
        if not words:
            return []
        return viterbi(*self.scores(self.features.keys(words)))

    def tag(self, words: list[str]) -> list[str]:
        return [self.tags[k] for k in self.tag_ids(words)]


@lru_cache(maxsize=1)
def model() -> Model:
    """The shipped model, loaded on first use."""
    return Model.load()


def tag(words: list[str]) -> list[str]:
    """One UPOS tag per word."""
    return model().tag(list(words))


# -- Words of running text --------------------------------------------------------------------
# Split as the UD English treebanks split: clitics ('s n't 're 've 'll 'd 'm) and punctuation
# apart, hyphenated words apart at the hyphen ("Al-Zaman" -> Al - Zaman, "2018-2022" ->
# 2018 - 2022) except after the prefixes EWT keeps joined ("e-mail", "non-white", "co-star").
HYPHEN_PREFIXES = frozenset(
    "e non mid anti re pre co post pro multi ex semi sub cross neo counter vice un socio "
    "intra micro".split())
ABBREVIATIONS = frozenset(
    "Mr Mrs Ms Dr St Jr Sr Prof Gen Lt Col Sgt Capt Rev Gov Sen Rep Inc Corp Co Ltd vs etc "
    "Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec Mt Ft Ave No".split())
# Contractions typed without an apostrophe, split as EWT splits them ("dont" -> do nt).
_JOINED = {"cannot": 3, "gonna": 3, "wanna": 3, "gotta": 3, "dont": 2, "didnt": 3,
           "doesnt": 4, "isnt": 2, "wasnt": 3, "arent": 3, "werent": 4, "havent": 4,
           "hasnt": 3, "couldnt": 5, "wouldnt": 5, "shouldnt": 6, "im": 1, "ive": 1}
_CLITIC = re.compile(r"(?i)(?:n['’]t|['’](?:s|re|ve|ll|d|m))$")
_WORDS = re.compile(r"""
    (?:https?://|www\.)[^\s<>"']*[^\s<>"'.,;:!?)\]]      # a web address
  | (?=[\w.+-]{1,64}@)[\w.+-]+@\w[\w-]*(?:\.\w[\w-]*)+    # an e-mail address (the
                                                           # look-ahead keeps "a-a-a-..." linear)
  | \d{3}-\d{3}-\d{4} | \d{3}-\d{4}(?!\d)                   # a telephone number
  | (?:[^\W\d_]\.){2,}                                     # U.S. e.g.
  | \d+(?:[,.:/]\d+)+(?![^\W_])                             # 1,000 3.5 12:30 1/2
  | [^\W_]+(?:['’_][^\W_]+)*(?:\.[^\W_]+)*(?:['’][^\W_]+)*  # words, clitics, x_y, x.com
  | ([^\w\s])\1+ | [!?]+ | _+                               # runs of punctuation
  | \S                                                      # any other character
""", re.VERBOSE)


def words(text: str) -> list[tuple[int, int]]:
    """(start, end) of each word of `text`, split as the treebanks split them."""
    spans: list[tuple[int, int]] = []
    join_next = False
    for m in _WORDS.finditer(text):
        start, end = m.span()
        word = m.group()
        if join_next:  # the word after "e-", "non-", "co-"
            join_next = False
            first, *rest = _split_clitics(word, start)
            spans[-1] = (spans[-1][0], first[1])
            spans.extend(rest)
        elif word == "." and spans and _keeps_period(text, spans[-1], start):
            spans[-1] = (spans[-1][0], end)
        elif (word == "-" and spans and spans[-1][1] == start and end < len(text)
              and text[end].isalnum() and text[spans[-1][0]:start].casefold() in HYPHEN_PREFIXES):
            spans[-1] = (spans[-1][0], end)
            join_next = True
        else:
            spans.extend(_split_clitics(word, start))
    return spans


_NAME_NEXT = re.compile(r"\s{1,3}[A-Z]")


def _keeps_period(text: str, last: tuple[int, int], at: int) -> bool:
    """Whether the period at `at` belongs to the word before it ("Dr.", "Inc.", "J.")."""
    word = text[last[0]:last[1]]
    if last[1] != at:
        return False
    if word in ABBREVIATIONS:
        return at + 1 < len(text)  # at the very end it ends the sentence
    # An initial: one capital letter followed by a name ("J. Smith").
    return len(word) == 1 and word.isupper() and bool(_NAME_NEXT.match(text, at + 1))


def _split_clitics(word: str, start: int) -> list[tuple[int, int]]:
    low = word.casefold()
    cut = _JOINED.get(low)
    if cut is None:
        m = _CLITIC.search(word)
        if m is None or m.start() == 0:
            return [(start, start + len(word))]
        cut = m.start()  # "can't" -> ca n't, "won't" -> wo n't, as EWT has them
    return [(start, start + cut), (start + cut, start + len(word))]


# -- Tagged words and chunks ------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Token:
    """A word of a text with its place in the text and its UPOS tag."""

    start: int
    end: int
    text: str
    tag: str


@dataclass(frozen=True, slots=True)
class Chunk:
    """A phrase of a text: text[start:end] == text; head is the offset of its head word;
    governor the lower-cased verb, auxiliary or preposition (or infinitive "to") right before
    it, else ""; role says which of these it was."""

    start: int
    end: int
    kind: str  # name, number, noun, adjective, predicate, verb
    text: str
    head: int
    governor: str = ""
    role: str = ""  # "object" after a verb, "pobj" after a preposition, else ""


@lru_cache(maxsize=4096)
def _tagged(text: str) -> tuple[Token, ...]:
    spans = words(text)
    tags = tag([text[a:b] for a, b in spans])
    return tuple(Token(a, b, text[a:b], t) for (a, b), t in zip(spans, tags))


def tagged(text: str) -> list[Token]:
    """The words of `text` with their tags (kept for the last few thousand texts)."""
    return list(_tagged(text))


@lru_cache(maxsize=4096)
def _chunks(text: str) -> tuple[Chunk, ...]:
    return tuple(_Chunker(text, _tagged(text)).run())


def chunks(text: str) -> list[Chunk]:
    """Names, noun phrases, numbers, verb groups and the phrases after verbs and prepositions
    of one sentence, in order of start; they may nest and overlap."""
    return list(_chunks(text))


# Word lists the tags cannot replace, each for a reason the tags do not carry:
# UD tags "their" PRON (Poss=Yes is a feature we do not predict), yet it opens a noun phrase;
POSSESSIVES = frozenset("my your his her its our their whose".split())
# lower-case words inside a name ("University of Chicago", "Guyard de Moulin");
NAME_PARTICLES = frozenset("of de del della der den di du da la le van von y bin ibn al &".split())
# adverbs UD tags ADP when they end a verb group ("set up", "carried out");
PARTICLES = frozenset("up out off down away back over around about on in".split())
# negations inside a verb group ("did *not* sign");
NEGATIONS = frozenset("not n't n’t never".split())
# words that make a number approximate ("about 40", "over 1 million", "more than 300");
NUMBER_MODIFIERS = frozenset(
    "about around approximately nearly almost over under some roughly only just circa".split())
NUMBER_MODIFIER_PAIRS = frozenset({("more", "than"), ("less", "than"), ("fewer", "than"),
                                   ("at", "least"), ("up", "to")})
RANGE_WORDS = frozenset("- – — to".split())
CURRENCY = frozenset("$ € £ ¥".split())
# articles, which SQuAD's normalisation drops anyway: a phrase without one is no new candidate.
ARTICLES = frozenset("a an the".split())
NOMINAL = frozenset(("NOUN", "PROPN"))
# Chunk kinds; a span found as several keeps the first.
KINDS = ("number", "name", "noun", "adjective", "predicate", "clause", "verb")
# Noun phrases joined by "of", at most ("the study of the surface of the moon"), and words in
# each item of a comma list ("France, Germany and Italy"). Gold answers that are chunks
# (bench/chunks.py, train split): 0.8420 with chains of 2, 0.8435 with 3 or 4; 0.8428 with
# items of 2 words, 0.8435 with 3, 0.8434 with 5.
MAX_CHAIN = 3
MAX_LIST_ITEM = 3


_NO_CHUNK = Chunk(0, 0, "", "", 0)


class _Unit:
    """A word, or words joined by hyphens ("two-year-old", "2018-2022"), with one tag."""

    __slots__ = ("start", "end", "tag", "low")

    def __init__(self, start: int, end: int, tag: str, low: str) -> None:
        self.start, self.end, self.tag, self.low = start, end, tag, low


class _Chunker:
    """Chunks of one tagged sentence; `run` returns them sorted by start."""

    def __init__(self, text: str, tokens: tuple[Token, ...]) -> None:
        self.text = text
        self.units = self._units(tokens)
        letters = [ch for ch in text if ch.isalpha()]
        # Capitals are a hint only in ordinarily cased text, not in lower case or ALL CAPS.
        self.cased = any(ch.isupper() for ch in letters) and any(ch.islower() for ch in letters)
        self.found: dict[tuple[int, int], Chunk] = {}

    def _units(self, tokens: tuple[Token, ...]) -> list[_Unit]:
        units: list[_Unit] = []
        k = 0
        while k < len(tokens):
            j = k
            while (j + 2 < len(tokens) and tokens[j + 1].text == "-"
                   and tokens[j].end == tokens[j + 1].start == tokens[j + 2].start - 1
                   and tokens[j].text[-1].isalnum() and tokens[j + 2].text[0].isalnum()):
                j += 2
            start, end = tokens[k].start, tokens[j].end
            units.append(_Unit(start, end, tokens[j].tag, self.text[start:end].casefold()))
            k = j + 1
        return units

    def tag(self, k: int) -> str:
        return self.units[k].tag if 0 <= k < len(self.units) else ""

    def low(self, k: int) -> str:
        return self.units[k].low if 0 <= k < len(self.units) else ""

    def emit(self, kind: str, i: int, j: int, head: int | None = None) -> None:
        """A chunk over units i..j-1 with its head unit (default the last); one per span,
        of the first kind in KINDS that found it."""
        if i >= j:
            return
        u = self.units
        start, end = u[i].start, u[j - 1].end
        old = self.found.get((start, end))
        if old is not None and KINDS.index(old.kind) <= KINDS.index(kind):
            return
        before = self.tag(i - 1)
        governor = role = ""
        if before == "ADP":
            governor, role = u[i - 1].low, "pobj"
        elif before in ("VERB", "AUX") and u[i].tag not in ("VERB", "AUX"):
            governor, role = u[i - 1].low, "object"  # not "was" for "[opened] by ..."
        elif before == "PART" and u[i - 1].low == "to":
            governor = "to"
        self.found[start, end] = Chunk(start, end, kind, self.text[start:end],
                                       u[j - 1 if head is None else head].start, governor, role)

    def run(self) -> list[Chunk]:
        self.names()
        self.numbers()
        self.adjectives()
        phrases = self.noun_phrases()
        self.verbs(phrases)
        return sorted(self.found.values(), key=lambda c: (c.start, -c.end))

    # -- names, numbers, adjectives ---------------------------------------------------------
    def capitalised(self, k: int) -> bool:
        """A capital that says something: in cased text, and not the text's first word."""
        return self.cased and k > 0 and self.text[self.units[k].start].isupper()

    def name_word(self, k: int) -> bool:
        # "the *Chinese National* Space Administration", "explorer *Adriaen Block*": the
        # tagger's PROPN, or capitalised words it took for adjectives or nouns.
        return self.tag(k) == "PROPN" or (self.tag(k) in ("ADJ", "NOUN", "NUM", "X")
                                          and self.capitalised(k))

    def acronym(self, k: int) -> bool:
        word = self.text[self.units[k].start:self.units[k].end]
        return self.cased and len(word) > 1 and word.isupper() and word.isalpha()

    def particle(self, k: int) -> bool:
        return (self.low(k) in NAME_PARTICLES and self.name_word(k + 1)
                and not (self.cased and self.text[self.units[k].start].isupper()))

    def names(self) -> None:
        u, k = self.units, 0
        while k < len(u):
            if not self.name_word(k):
                k += 1
                continue
            parts, j = [k], k + 1  # parts: where each particle-free piece starts
            while j < len(u):
                if self.name_word(j):
                    j += 1
                elif self.particle(j):
                    parts.append(j + 1)
                    j += 2
                else:
                    break
            words = [m for m in range(k, j) if self.name_word(m)]
            # One word is a name if tagged so, or an acronym in cased text ("told [TASS]").
            if (any(u[m].tag == "PROPN" for m in words) or len(words) > 1
                    or self.acronym(k)):
                self.emit("name", k, j)
                ends = [p - 1 for p in parts[1:]] + [j]
                for p, e in zip(parts, ends):
                    self.emit("name", p, e)  # "Prime Minister of [Thailand]"
                    # A name after a title, a surname: "Senator [Milton Latham]", "[Latham]".
                    for q in range(p + 1, e):
                        self.emit("name", q, e)
            k = j

    def numbers(self) -> None:
        u, k = self.units, 0
        while k < len(u):
            if u[k].tag != "NUM":
                k += 1
                continue
            i = k - 1 if self.low(k - 1) in CURRENCY else k
            j = k
            while self.tag(j) == "NUM" or (self.low(j) in RANGE_WORDS and self.tag(j + 1) == "NUM"
                                           and j > k):
                j += 1
            if self.low(j) == "%":
                j += 1
            self.emit("number", i, j, k)
            n = j
            while self.tag(n) == "NOUN":
                n += 1
            if n > j:  # "12 finalists", "six sections", "40 percent"
                self.emit("number", i, j + 1, j)
                self.emit("number", i, n, n - 1)
            # "about 40", "more than 300 people"
            m = i - 1 if self.low(i - 1) in NUMBER_MODIFIERS else (
                i - 2 if (self.low(i - 2), self.low(i - 1)) in NUMBER_MODIFIER_PAIRS else i)
            if m < i:
                self.emit("number", m, j, k)
                if n > j:
                    self.emit("number", m, n, n - 1)
            k = j

    def adjectives(self) -> None:
        """Adjective phrases: "inconclusive", "very large", "free or low-cost"."""
        u, k = self.units, 0
        while k < len(u):
            if u[k].tag not in ("ADJ", "ADV") or u[k].tag == "ADV" and self.tag(k + 1) != "ADJ":
                k += 1
                continue
            j = k
            while self.tag(j) == "ADV" and self.tag(j + 1) in ("ADV", "ADJ"):
                j += 1
            while self.tag(j) == "ADJ" or (self.low(j) in ("and", "or", ",")
                                           and self.tag(j + 1) == "ADJ" and j > k):
                j += 1
            if j > k and self.tag(j - 1) == "ADJ":
                self.emit("adjective", k, j)
            k = max(j, k + 1)

    # -- noun phrases -------------------------------------------------------------------------
    def base_phrase(self, i: int) -> tuple[int, int] | None:
        """(end, head) of the base noun phrase starting at unit i, if one does."""
        u = self.units
        k = i
        if u[k].tag == "DET" or u[k].low in POSSESSIVES and u[k].tag in ("PRON", "DET"):
            k += 1
        head = None
        while k < len(u):
            t = u[k].tag
            if t in NOMINAL or t == "NUM":
                head = k
            elif t == "ADJ" or (t == "ADV" and self.tag(k + 1) in ("ADJ", "NUM")):
                pass
            elif (t == "VERB" and self.tag(k - 1) in ("DET", "ADJ", "ADV") and k > i
                  and self.tag(k + 1) in ("NOUN", "PROPN", "ADJ")):
                pass  # "the *signed* memorandum", "a *growing* number"
            elif u[k].low in CURRENCY and self.tag(k + 1) == "NUM":
                pass
            elif u[k].low == "%" and self.tag(k - 1) == "NUM":
                pass
            elif (t == "PART" and u[k].low in ("'s", "’s", "'", "’") and head == k - 1
                  and self.tag(k + 1) in ("NOUN", "PROPN", "ADJ", "NUM")):
                self.emit_base(i, k, head)  # the owner: "[Rollo]'s son"
            else:
                break
            k += 1
        if head is None:
            return None
        return head + 1, head

    def emit_base(self, i: int, j: int, head: int) -> None:
        """A base noun phrase and its shorter readings: without a determiner or adverb
        ("those domestic Islamists" -> "domestic Islamists"), its nouns alone ("valleys",
        "ground depressions"), and its nouns before a trailing name ("the Dutch explorer")."""
        u = self.units
        content = [m for m in range(i, j) if u[m].tag not in ("DET", "PART")
                   and u[m].low not in POSSESSIVES]
        if content and all(u[m].tag == "PROPN" for m in content):
            kind = "name" if j - i == len(content) else "noun"
        elif u[head].tag == "NUM":
            kind = "number"
        else:
            kind = "noun"
        self.emit(kind, i, j, head)
        first = i
        while first < head and (u[first].tag in ("DET", "ADV", "PRON")
                                or u[first].low in POSSESSIVES):
            first += 1
        if first > i and not (first == i + 1 and u[i].low in ARTICLES):
            self.emit(kind, first, j, head)
        core = head
        while core > first and u[core - 1].tag in NOMINAL:
            core -= 1
        if core > first:
            self.emit("noun", core, j, head)
        if core < head:  # the nouns before the head: "[research] universities"
            self.emit("noun", core, head, head - 1)
        if u[head].tag == "PROPN":
            name = head
            while name > first and u[name - 1].tag == "PROPN":
                name -= 1
            if name > first and u[name - 1].tag == "NOUN":
                self.emit("noun", i, name, name - 1)

    def noun_phrases(self) -> dict[int, tuple[int, int]]:
        """Every noun phrase by its first unit: (end of the longest one, head)."""
        u = self.units
        base: dict[int, tuple[int, int]] = {}
        k = 0
        while k < len(u):
            found = self.base_phrase(k)
            if found is None:
                k += 1
                continue
            base[k] = found
            self.emit_base(k, *found)
            k = found[0]
        longest: dict[int, tuple[int, int]] = {}
        for i, (j, head) in base.items():
            end, links = j, 0
            # "X of Y (of Z)": each longer phrase is a chunk too.
            while links < MAX_CHAIN - 1 and self.low(end) == "of" and end + 1 in base:
                end = base[end + 1][0]
                links += 1
                self.emit("noun", i, end, head)
            end = max(end, self.conjoined(base, i, end, head))
            # "reciprocity [in nature]": one attached prepositional phrase.
            if self.tag(end) == "ADP" and self.low(end) != "of" and end + 1 in base:
                self.emit("noun", i, base[end + 1][0], head)
            longest[i] = (end, head)
        return longest

    def conjoined(self, base: dict[int, tuple[int, int]], i: int, end: int, head: int) -> int:
        """The end of "X and Y", "X, Y or Z" starting with the phrase i..end, else end."""
        u = self.units
        items, at = [(i, end)], end
        while self.low(at) in (",", "and", "or") and at + 1 in base:
            conj = self.low(at)
            items.append((at + 1, base[at + 1][0]))
            at = base[at + 1][0]
            if conj in ("and", "or"):
                if len(items) > 2 and any(e - s > MAX_LIST_ITEM for s, e in items):
                    return end
                names = all(self.found.get((u[s].start, u[e - 1].end), _NO_CHUNK).kind == "name"
                            for s, e in items)
                self.emit("name" if names else "noun", i, at, head)
                return at
        return end

    # -- verbs ------------------------------------------------------------------------------------
    def verbs(self, phrases: dict[int, tuple[int, int]]) -> None:
        u, k = self.units, 0
        ends = {}
        for i, (j, _) in sorted(phrases.items(), reverse=True):
            ends[j] = i
        while k < len(u):
            if u[k].tag not in ("AUX", "VERB"):
                k += 1
                continue
            j, main = k, None
            while j < len(u) and (u[j].tag in ("AUX", "VERB") or u[j].low in NEGATIONS
                                  or u[j].tag == "ADV" and self.tag(j + 1) == "VERB"):
                if u[j].tag == "VERB":
                    main = j
                j += 1
            while u[j - 1].tag not in ("AUX", "VERB"):
                j -= 1
            if (main is not None and self.tag(j) == "ADP" and u[j].low in PARTICLES
                    and j + 1 not in phrases):
                j += 1  # "set up", "carried out" ending a clause
            if main is not None:
                self.emit("verb", k, j, main)
                end = phrases[j][0] if j in phrases else j
                if end > j:
                    self.emit("predicate", main, end, main)
                # "caused [by the weight of ice]", "kept indexed collections [for collective use]"
                if self.tag(end) == "ADP" and end + 1 in phrases:
                    end = phrases[end + 1][0]
                    self.emit("predicate", main, end, main)
                subject = ends.get(k)
                if subject is not None and end > j:
                    self.emit("clause", subject, end, main)
            k = j
