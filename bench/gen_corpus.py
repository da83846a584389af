"""Write a seeded, English-like synthetic corpus of N sentences into a folder of .txt files.

No download: words are made from syllables, drawn with a Zipfian law, with the function words
of English at the top of the ranking, capitalised names, numbers, abbreviations and paragraphs.

    python bench/gen_corpus.py 100000 /tmp/qa-bench/100k
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

SEED = 20240501
VOCABULARY = 60_000
ZIPF_S = 1.07  # the exponent of word frequencies in English text is close to 1
MEAN_WORDS, SIGMA_WORDS = 2.9, 0.45  # log-normal sentence length: median ~18 words
PARAGRAPH_SENTENCES = (2, 9)
SENTENCES_PER_FILE = 50_000  # about 7 MB of text, well under the 64 MB per-file limit
FUNCTION_WORDS = """the of and to a in is that for it as was with be by on not he this are or
his from at which but have an they you were had her she there been one all we their has would
when if so its no more out up said what about who into them than can only other new some could
time these two may then do first any my now such like our over man me even most made after also
did many before must through back years where much your way well down should because each just
those people how too little state good very make world still own see men work long here get both
between life being under never day same another know while last might us great old year off come
since against go came right used take three""".split()
SYLLABLES = ("ka ri to men sa lo vi ne da po ter ul an is or ba gi mo su ran el tu fa de ko ri "
             "ston bel mar vin cal dor pe li ga ser tho rim nal pa zo qui ve ra ti").split()
ABBREVIATIONS = ["Dr.", "Mr.", "Mrs.", "St.", "Prof.", "Gen.", "Inc.", "U.S.", "e.g.", "etc."]


def vocabulary(rng: np.random.Generator, size: int = VOCABULARY) -> list[str]:
    """Function words first, then made-up words whose length grows with their rank."""
    words = list(dict.fromkeys(FUNCTION_WORDS))
    seen = set(words)
    while len(words) < size:
        n = 1 + min(4, int(rng.integers(1, 3) + len(words) / size * 3))
        w = "".join(SYLLABLES[k] for k in rng.integers(0, len(SYLLABLES), n))
        if w not in seen:
            seen.add(w)
            words.append(w)
    return words


def zipf_probabilities(size: int, s: float = ZIPF_S) -> np.ndarray:
    p = 1.0 / np.arange(1, size + 1) ** s
    return p / p.sum()


def _sentence(rng: np.random.Generator, words: list[str], names: list[str], ids) -> str:
    out = [words[i] for i in ids]
    for k in range(len(out)):
        r = rng.random()
        if r < 0.05:
            out[k] = names[int(rng.integers(len(names)))]
        elif r < 0.065:
            out[k] = str(int(rng.integers(1, 3000)))
        elif r < 0.068:
            out[k] = ABBREVIATIONS[int(rng.integers(len(ABBREVIATIONS)))] + " " + \
                names[int(rng.integers(len(names)))]
        elif r < 0.09 and k < len(out) - 1:
            out[k] += ","
    out[0] = out[0][0].upper() + out[0][1:]
    end = "." if rng.random() < 0.93 else ("?" if rng.random() < 0.6 else "!")
    return " ".join(out) + end


def generate(n: int, folder: Path, seed: int = SEED) -> list[Path]:
    """Write n sentences in paragraphs into folder/part-NNNN.txt; the files written."""
    rng = np.random.default_rng(seed)
    words = vocabulary(rng)
    names = [w.capitalize() for w in vocabulary(np.random.default_rng(seed + 1), 5000)[300:]]
    p = zipf_probabilities(len(words))
    folder.mkdir(parents=True, exist_ok=True)
    lengths = np.clip(rng.lognormal(MEAN_WORDS, SIGMA_WORDS, n).astype(int), 4, 80)
    all_ids = rng.choice(len(words), size=int(lengths.sum()), p=p)
    files, pos, written = [], 0, 0
    while written < n:
        count = min(SENTENCES_PER_FILE, n - written)
        paragraphs, sentences = [], []
        target = int(rng.integers(*PARAGRAPH_SENTENCES))
        for i in range(written, written + count):
            ids = all_ids[pos:pos + lengths[i]]
            pos += lengths[i]
            sentences.append(_sentence(rng, words, names, ids))
            if len(sentences) >= target:
                paragraphs.append(" ".join(sentences))
                sentences, target = [], int(rng.integers(*PARAGRAPH_SENTENCES))
        if sentences:
            paragraphs.append(" ".join(sentences))
        path = folder / f"part-{len(files):04d}.txt"
        path.write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
        files.append(path)
        written += count
    return files


def questions(count: int, seed: int = SEED) -> list[str]:
    """Questions made of 2-4 mid-frequency corpus words, with a question word in front."""
    rng = np.random.default_rng(seed)
    words = vocabulary(rng)
    rng = np.random.default_rng(seed + 2)
    starts = ["Who", "What", "When", "Where", "How many", "Why did", "Which"]
    out = []
    for _ in range(count):
        k = int(rng.integers(2, 5))
        picked = [words[int(r)] for r in rng.integers(200, 20_000, k)]
        out.append(f"{starts[int(rng.integers(len(starts)))]} {' '.join(picked)}?")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sentences", type=int)
    ap.add_argument("folder", type=Path)
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args()
    files = generate(args.sentences, args.folder, args.seed)
    size = sum(f.stat().st_size for f in files)
    print(f"{args.sentences} sentences, {len(files)} files, {size / 2**20:.1f} MB in {args.folder}")


if __name__ == "__main__":
    main()
