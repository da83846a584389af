"""Load time of the tagger's weights and the time to tag and chunk a 30-word sentence.

Load: fresh processes, the median of several; inside each, the time from after `import numpy`
(qa imports numpy anyway) to a loaded model, the same after what `qa -q` imports anyway, and
the whole process against one that only imports numpy. Tagging: medians over 30-word windows
of the bundled article, each window seen for the first time (its words new to the per-word
cache) and then again.

    python bench/tagger.py [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "corpus" / "tass-roscosmos-cnsa-lunar-station.txt"
LOAD = ("import time, numpy; t = time.perf_counter(); import qa.tagger; qa.tagger.model(); "
        "print(time.perf_counter() - t)")
# The same in a `qa -q` process, which has imported qa.cli and, reading its cached index with
# np.load, zipfile: what the tagger adds there.
LOAD_IN_QA = ("import time, numpy, zipfile, qa.cli; t = time.perf_counter(); import qa.tagger; "
              "qa.tagger.model(); print(time.perf_counter() - t)")
BASELINE = [sys.executable, "-c", "import numpy"]
WINDOW = 30


def wall(cmd: list[str], env: dict) -> tuple[float, str]:
    t = time.perf_counter()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    return time.perf_counter() - t, out


def windows() -> list[list[str]]:
    """30-word stretches of the bundled article, cut where the tokeniser cuts."""
    from qa.tagger import words

    text = re.sub(r"\s+", " ", ARTICLE.read_text(encoding="utf-8"))
    tokens = [text[a:b] for a, b in words(text)]
    return [tokens[k:k + WINDOW] for k in range(0, len(tokens) - WINDOW + 1, WINDOW // 3)]


def ms(xs: list[float]) -> str:
    return f"{statistics.median(xs) * 1000:.2f} ms"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as after pip install, which compiles bytecode
    load_cmd = [sys.executable, "-c", LOAD]
    in_qa_cmd = [sys.executable, "-c", LOAD_IN_QA]
    for cmd in (load_cmd, in_qa_cmd, BASELINE):
        wall(cmd, env)  # warm the OS file cache and write bytecode
    inside, in_qa, whole, base = [], [], [], []
    for _ in range(args.runs):  # interleaved, so drift hits all alike
        t, out = wall(load_cmd, env)
        inside.append(float(out))
        whole.append(t)
        in_qa.append(float(wall(in_qa_cmd, env)[1]))
        base.append(wall(BASELINE, env)[0])

    from qa import tagger

    model = tagger.model()
    chunks_of = [" ".join(w) for w in windows()]
    first, again, chunking = [], [], []
    for window in windows():
        t = time.perf_counter()
        model.tag(window)
        first.append(time.perf_counter() - t)
    for _ in range(max(1, 300 // len(first))):
        for window in windows():
            t = time.perf_counter()
            model.tag(window)
            again.append(time.perf_counter() - t)
        for text in chunks_of:
            t = time.perf_counter()
            tagger._Chunker(text, tagger._tagged(text)).run()
            chunking.append(time.perf_counter() - t)
    size = tagger.MODEL_PATH.stat().st_size
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; weights {size / 1e6:.1f} MB, "
          f"{len(model.keys):,} features")
    print("| measure | median | target |")
    print("|---|---:|---:|")
    print(f"| load: import qa.tagger + read the weights, after import numpy ({args.runs} fresh "
          f"processes) | {ms(inside)} | <= 40 ms |")
    print(f"| the same in a `qa -q` process (qa.cli and zipfile already imported) | "
          f"{ms(in_qa)} | |")
    print(f"| whole process minus one that only imports numpy | "
          f"{(statistics.median(whole) - statistics.median(base)) * 1000:.1f} ms | |")
    print(f"| tag a 30-word sentence, its words new ({len(first)} windows) | {ms(first)} | "
          "<= 1 ms |")
    print(f"| tag a 30-word sentence again ({len(again)} runs) | {ms(again)} | <= 1 ms |")
    print(f"| chunk a tagged 30-word sentence ({len(chunking)} runs) | {ms(chunking)} | |")


if __name__ == "__main__":
    main()
