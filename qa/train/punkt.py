"""Learn the sentence splitter's Punkt parameters once, from plenty of English, and measure them.

    python -m qa.train punkt ../shared [--out qa/models/punkt.json]

Punkt learns abbreviations ("approx.", "Dr."), collocations and the words that start sentences.
Learned on each load's own text, a file's sentences changed with what was loaded beside it;
learned once here from the UD English treebanks' training text and the train articles, and
shipped, every file is split by the same rules. The evaluation compares the boundaries our
splitter finds (qa.sentences, fragments joined as it joins them) with the treebanks' own, with
these parameters and with Punkt trained on the evaluated text itself (the old way).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

from qa import sentences as sent_mod
from qa.train.data import manifest

TRAIN_FILES = ("en_ewt-train.conllu",)
EVAL_FILES = (("EWT dev", "en_ewt-dev.conllu"), ("EWT test", "en_ewt-test.conllu"),
              ("PUD (news, Wikipedia)", "en_pud-test.conllu"))


def paragraphs(path: Path) -> list[list[str]]:
    """The sentence texts of a CoNLL-U file, grouped in paragraphs (or documents where the
    file marks no paragraphs)."""
    out: list[list[str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith(("# newpar", "# newdoc")) or not out:
            if not out or out[-1]:
                out.append([])
        if line.startswith("# text = "):
            out[-1].append(line[len("# text = "):].strip())
    return [p for p in out if p]


def training_text(shared: Path) -> str:
    parts = [" ".join(p) for name in TRAIN_FILES
             for p in paragraphs(shared / "treebanks" / name)]
    train = shared / "train"
    for row in manifest(train):
        if row["split"] == "train":
            parts.append((train / f"{row['file']}.txt").read_text(encoding="utf-8"))
    return "\n\n".join(parts).translate(sent_mod.QUOTES_TO_ASCII)


def train(text: str):
    from nltk.tokenize.punkt import PunktTrainer

    trainer = PunktTrainer()
    trainer.INCLUDE_ALL_COLLOCS = True
    trainer.train(text, finalize=True)
    return trainer.get_params()


def trained_tokenizer(text: str):
    """Punkt trained on the text itself (how qa split before), memoised as qa's is."""
    from functools import lru_cache

    from nltk.tokenize.punkt import PunktSentenceTokenizer

    tokenizer = PunktSentenceTokenizer(train(text))
    tokenizer.text_contains_sentbreak = lru_cache(sent_mod.BREAK_CACHE_SIZE)(
        tokenizer.text_contains_sentbreak)
    return tokenizer


def to_json(params) -> dict:
    return {"format": sent_mod.PUNKT_FORMAT,
            "abbrev_types": sorted(params.abbrev_types),
            "collocations": sorted([a, b] for a, b in params.collocations),
            "sent_starters": sorted(params.sent_starters),
            "ortho_context": {w: int(v) for w, v in sorted(params.ortho_context.items())}}


def boundaries(tokenizer, paragraph: list[str]) -> tuple[set[int], set[int]]:
    """(gold, found) sentence-end offsets inside the paragraph joined by spaces."""
    text = " ".join(paragraph)
    gold, at = set(), 0
    for s in paragraph[:-1]:
        at += len(s)
        gold.add(at)
        at += 1
    found = {end for _, end in sent_mod.split_text(tokenizer, text.translate(
        sent_mod.QUOTES_TO_ASCII))[:-1]}
    return gold, found


def score(pairs: list[tuple[set[int], set[int]]]) -> dict[str, float]:
    right = sum(len(g & f) for g, f in pairs)
    gold = sum(len(g) for g, _ in pairs)
    found = sum(len(f) for _, f in pairs)
    p = right / found if found else 0.0
    r = right / gold if gold else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
            "paragraphs right": sum(g == f for g, f in pairs) / len(pairs)}


def evaluate(tokenizer_of, shared: Path) -> dict[str, dict[str, float]]:
    """Boundary figures per evaluation file; `tokenizer_of(text)` gives the splitter to use."""
    out = {}
    for label, name in EVAL_FILES:
        paras = paragraphs(shared / "treebanks" / name)
        whole = "\n\n".join(" ".join(p) for p in paras)
        tokenizer = tokenizer_of(whole)
        out[label] = score([boundaries(tokenizer, p) for p in paras])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa.train punkt",
                                     description="Learn the sentence splitter's parameters.")
    parser.add_argument("shared", type=Path, help="the folder holding treebanks/ and train/")
    parser.add_argument("--out", type=Path, default=sent_mod.PUNKT_PATH)
    args = parser.parse_args(argv)
    started = time.time()
    text = training_text(args.shared)
    params = to_json(train(text))
    params["data_sha256"] = hashlib.sha256(text.encode("utf-8")).hexdigest()
    args.out.write_text(json.dumps(params, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({len(text) / 1e6:.1f} M characters learned from, "
          f"{len(params['abbrev_types'])} abbreviations, {time.time() - started:.0f} s)")
    shipped = sent_mod.load_punkt(args.out)
    rows = [("shipped parameters", evaluate(lambda _: shipped, args.shared)),
            ("trained on the evaluated text", evaluate(trained_tokenizer, args.shared))]
    print(f"\n{'sentence boundaries':<32} {'file':<24} {'P':>6} {'R':>6} {'F1':>6} {'paras':>6}")
    for label, figures in rows:
        for name, f in figures.items():
            print(f"{label:<32} {name:<24} {f['precision']:6.3f} {f['recall']:6.3f} "
                  f"{f['f1']:6.3f} {f['paragraphs right']:6.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
