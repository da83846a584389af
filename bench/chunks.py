"""How often a gold SQuAD answer is one of the tagger's chunks, on the train split only.

For every answerable question of the train-split articles of ../shared/train (manifest.tsv),
the gold answers are found in their paragraph, the sentences holding them are chunked, and we
count the questions whose gold answer equals some chunk after SQuAD normalisation (lower case,
no punctuation, no articles), the mean best token F1 of a chunk against the gold, and the
chunks per sentence. Never run on ../shared/eval: that is a test set.

    python bench/chunks.py [--data ../shared/train] [--limit N] [--case lower]
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import statistics
import time
from collections import Counter
from pathlib import Path

from qa.eval import normalize_answer, token_f1
from qa.tagger import chunks, tagged

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "train"
# A plain splitter is enough to find the sentence that holds an answer.
SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
# What the lead's date rules find, roughly: to report recall with dates as candidates too.
MONTH = (r"(?:January|February|March|April|May|June|July|August|September|October|November|"
         r"December|Jan\.?|Feb\.?|Mar\.?|Apr\.?|Jun\.?|Jul\.?|Aug\.?|Sept?\.?|Oct\.?|Nov\.?"
         r"|Dec\.?)")
ORDINAL = r"\d{1,2}(?:st|nd|rd|th)"
DATE = re.compile(rf"""
    (?:\d{{1,2}}\s+)?{MONTH}(?:\s+\d{{1,2}}(?:st|nd|rd|th)?)?(?:,?\s+\d{{3,4}})?
  | (?:(?:early|mid|late)[- ])?(?:the\s+)?{ORDINAL}(?:\s+(?:and|or|to)\s+{ORDINAL})?
    \s+centur(?:y|ies)
  | (?:the\s+)?\d{{3,4}}s
  | \d{{3,4}}\s*(?:-|–|to|and)\s*\d{{2,4}}
  | (?:in|since|by|until|before|after)\s+\d{{3,4}}
""", re.VERBOSE | re.IGNORECASE)


def sentences(paragraph: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for m in SENTENCE_END.finditer(paragraph):
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(paragraph)))
    return spans


def train_articles(data: Path) -> list[Path]:
    with (data / "manifest.tsv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return [data / f"{row['file']}.questions.json" for row in rows if row["split"] == "train"]


def measure(data: Path, limit: int | None = None, recase=None) -> dict:
    exact = exact_dates = 0
    f1s: list[float] = []
    per_sentence: dict[str, int] = {}
    words: dict[str, int] = {}
    by_kind: Counter[str] = Counter()
    asked = 0
    for path in train_articles(data):
        for q in json.loads(path.read_text(encoding="utf-8")):
            if q["impossible"] or not q["answers"]:
                continue
            if limit is not None and asked >= limit:
                break
            asked += 1
            context, golds = q["context"], q["answers"]
            texts = []
            for gold in golds:
                at = context.find(gold)
                held = [context[s:e] for s, e in sentences(context)
                        if s < at + len(gold) and at < e]
                texts.append(recase(" ".join(held)) if recase else " ".join(held))
            candidates: dict[str, set[str]] = {}
            for text in dict.fromkeys(texts):
                found = chunks(text)
                per_sentence[text] = len(found)
                words[text] = len(tagged(text))
                for c in found:
                    candidates.setdefault(normalize_answer(c.text), set()).add(c.kind)
            normal = {normalize_answer(g) for g in golds}
            hit = [candidates[g] for g in normal if g in candidates]
            exact += bool(hit)
            for kinds in hit[:1]:
                by_kind.update(kinds)
            dates = {normalize_answer(m.group()) for t in texts for m in DATE.finditer(t)}
            exact_dates += bool(hit) or bool(normal & dates)
            f1s.append(max((token_f1(c, golds) for c in candidates), default=0.0))
    return {"questions": asked, "exact": exact / asked, "exact_with_dates": exact_dates / asked,
            "best_f1": statistics.fmean(f1s), "sentences": len(per_sentence),
            "chunks_per_sentence": statistics.fmean(per_sentence.values()),
            "words_per_sentence": statistics.fmean(words.values()),
            "by_kind": {k: v / asked for k, v in by_kind.most_common()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--limit", type=int, default=None, help="stop after N questions")
    ap.add_argument("--case", choices=("as-is", "lower", "upper"), default="as-is",
                    help="change the sentences' case first (to see what case costs)")
    args = ap.parse_args()
    t0 = time.perf_counter()
    recase = {"lower": str.lower, "upper": str.upper}.get(args.case)
    r = measure(args.data, args.limit, recase)
    print(f"{r['questions']:,} answerable train-split questions, {r['sentences']:,} sentences "
          f"({args.case}), {time.perf_counter() - t0:.0f} s")
    print("| measure | value |")
    print("|---|---:|")
    print(f"| gold answer equals a chunk (SQuAD-normalised) | {r['exact']:.3f} |")
    print(f"| ... or a date the bench's date pattern finds | {r['exact_with_dates']:.3f} |")
    print(f"| mean best token F1 of a chunk | {r['best_f1']:.3f} |")
    print(f"| chunks per sentence (mean; {r['words_per_sentence']:.1f} words) | "
          f"{r['chunks_per_sentence']:.1f} |")
    kinds = ", ".join(f"{k} {v:.3f}" for k, v in r["by_kind"].items())
    print(f"exact matches by chunk kind (a span may have several kinds): {kinds}")


if __name__ == "__main__":
    main()
