"""The SQuAD-style training articles of ../shared/train: texts, indexes and gold sentences."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.corpus import document_from_text
from qa.index import Index, build_index
from qa.sentences import split_sentences


@dataclass(frozen=True)
class Item:
    """One question with what makes an answer right: gold strings and gold sentences."""

    question: str
    answers: tuple[str, ...]
    impossible: bool
    gold: frozenset[int]  # sentences whose span covers a gold answer's span


@dataclass(frozen=True)
class Article:
    name: str
    split: str
    index: Index
    items: tuple[Item, ...]


def manifest(folder: Path) -> list[dict[str, str]]:
    with open(folder / "manifest.tsv", encoding="utf-8") as f:
        return sorted(csv.DictReader(f, delimiter="\t"), key=lambda r: r["file"])


def gold_spans(text: str, q: dict) -> list[tuple[int, int]]:
    """Every occurrence of every gold answer inside the question's paragraph, in `text`."""
    base = text.find(q["context"])
    spans = []
    if base < 0:
        return spans
    for a in q["answers"]:
        k = q["context"].find(a) if a else -1
        while k >= 0:
            spans.append((base + k, base + k + len(a)))
            k = q["context"].find(a, k + 1)
    return spans


def load_article(folder: Path, name: str, split: str, paragraphs: str = "as-is") -> Article:
    """An article indexed as `qa` indexes a text; `paragraphs="short"` re-paragraphs it into
    one- and two-sentence paragraphs, as news is written."""
    text = (folder / f"{name}.txt").read_text(encoding="utf-8")
    questions = json.loads((folder / f"{name}.questions.json").read_text(encoding="utf-8"))
    sentences = split_sentences([document_from_text(text, name + ".txt")])
    if paragraphs == "short":
        sentences = _short_paragraphs(sentences, name)
    index = build_index(sentences)
    items = []
    for q in questions:
        gold = set()
        for a, b in gold_spans(text, q):
            lo = int(np.searchsorted(index.ends, b, side="left"))
            if lo < len(index) and index.starts[lo] <= a:
                gold.add(lo)
        items.append(Item(q["question"], tuple(q["answers"]), bool(q["impossible"]),
                          frozenset(gold)))
    return Article(name, split, index, tuple(items))


def _short_paragraphs(sentences, name: str):
    """The same sentences with paragraphs of one or two sentences (alternating, seeded by name)."""
    from dataclasses import replace
    import zlib

    out, para, left = [], -1, 0
    toggle = zlib.crc32(name.encode()) & 1
    prev_para = None
    for s in sentences:
        if left == 0 or s.paragraph != prev_para:
            para += 1
            toggle ^= 1
            left = 1 + toggle
        prev_para = s.paragraph
        out.append(replace(s, paragraph=para))
        left -= 1
    return out


def load_split(folder: Path, split: str, paragraphs: str = "as-is") -> list[Article]:
    return [load_article(folder, r["file"], r["split"], paragraphs)
            for r in manifest(folder) if r["split"] == split]


# News-sized documents cut from the articles: the bundled article has 12 sentences.
EXCERPT_SENTENCES = 12
# Every how-many-th answerable question is also asked of the next excerpt, which does not hold
# its answer.
ELSEWHERE_EVERY = 3


def load_excerpts(folder: Path, split: str) -> list[Article]:
    """Every article cut into excerpts of EXCERPT_SENTENCES sentences in one- and two-sentence
    paragraphs, each indexed alone, as a short news story is. A question is asked of the
    excerpt that holds its answer (or, unanswerable, its paragraph); every ELSEWHERE_EVERY-th
    answerable one is asked of the next excerpt too, where it has no answer: a question in the
    text's own words that the text does not answer, as off-topic questions about a short
    story are. Excerpts keep their article's name, so folds still split whole articles."""
    import zlib
    from dataclasses import replace

    out = []
    for row in manifest(folder):
        if row["split"] != split:
            continue
        whole = load_article(folder, row["file"], split, paragraphs="short")
        sentences = list(whole.index.sentences())
        text = (folder / f"{row['file']}.txt").read_text(encoding="utf-8")
        questions = json.loads((folder / f"{row['file']}.questions.json").read_text("utf-8"))
        cuts = list(range(0, len(sentences), EXCERPT_SENTENCES))
        groups: list[list[Item]] = [[] for _ in cuts]
        for item, q in zip(whole.items, questions):
            if item.gold:
                home = {g // EXCERPT_SENTENCES for g in item.gold}
                for e in sorted(home):
                    lo = cuts[e]
                    groups[e].append(replace(item, gold=frozenset(
                        g - lo for g in item.gold if g // EXCERPT_SENTENCES == e)))
                other = (max(home) + 1) % len(cuts)
                if len(cuts) > 1 and other not in home \
                        and zlib.crc32(item.question.encode("utf-8")) % ELSEWHERE_EVERY == 0:
                    groups[other].append(Item(item.question, (), True, frozenset()))
            elif item.impossible:
                at = text.find(q["context"])
                if at >= 0:
                    e = int(np.searchsorted(whole.index.ends, at, side="right"))
                    groups[min(e, len(sentences) - 1) // EXCERPT_SENTENCES].append(item)
        for e, lo in enumerate(cuts):
            part = [replace(x, index=j) for j, x in enumerate(sentences[lo:lo + EXCERPT_SENTENCES])]
            if groups[e]:
                out.append(Article(row["file"], split, build_index(part), tuple(groups[e])))
    return out
