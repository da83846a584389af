"""Start-up, throughput, memory and where a question's time goes, on the bundled article.

Whole-process timings are medians over several runs, each against a baseline run interleaved
with it (`python -c "import numpy"`), so that a busy machine slows both alike.

    python bench/startup.py            # 9 runs each; --runs N to change
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "tests" / "gold" / "article.jsonl"
QUESTION = "Who signed the memorandum?"
BASELINE = [sys.executable, "-c", "import numpy"]
BATCH_QUESTIONS = 200
FAST_QUESTIONS = 5000
ASKS = 200


def qa_command() -> list[str]:
    beside = Path(sys.executable).parent / "qa"
    found = str(beside) if beside.exists() else shutil.which("qa")
    return [found] if found else [sys.executable, "-m", "qa"]


def wall(cmd: list[str], env: dict, stdin: bytes | None = None) -> float:
    """Seconds one whole process takes."""
    t = time.perf_counter()
    subprocess.run(cmd, input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=env, stdin=None if stdin is not None else subprocess.DEVNULL, check=False)
    return time.perf_counter() - t


def peak_mb(cmd: list[str], env: dict) -> float:
    """Peak resident memory of one run, in MB (its own getrusage, read through a wrapper)."""
    probe = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], "
             "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", probe, *cmd], capture_output=True, text=True,
                         env=env, check=True).stdout
    return int(out.strip()) / 1024


def questions(n: int) -> list[str]:
    gold = [json.loads(line)["question"] for line in GOLD.read_text().splitlines()
            if line.strip()]
    return [gold[i % len(gold)] for i in range(n)]


LOAD_PROBE = """
import json, time
from qa import reader as rd
t0 = time.perf_counter()
rd.load()
t1 = time.perf_counter()
rd.tokenizer()
t2 = time.perf_counter()
print(json.dumps([1000 * (t1 - t0), 1000 * (t2 - t1)]))
"""


def load_times(runs: int, env: dict) -> tuple[float, float]:
    """Median milliseconds to load the reader's weights, and its vocabulary, each in a fresh
    process (numpy and qa.reader imported before the clock starts)."""
    out = [json.loads(subprocess.run([sys.executable, "-c", LOAD_PROBE], env=env, check=True,
                                     capture_output=True, text=True).stdout)
           for _ in range(runs)]
    return (statistics.median(w for w, _ in out), statistics.median(v for _, v in out))


def split_of_a_question(asked: list[str]) -> dict[str, float]:
    """Mean milliseconds per question of each part of Engine.ask, in this process: tokenising
    (word pieces), the encoder's forward pass, decoding spans, and the rest."""
    from qa import reader as rd
    from qa.answer import Engine
    from qa.cli import default_corpus
    from qa.index import open_index

    rd.load()
    rd.tokenizer()
    engine = Engine(open_index([str(default_corpus())]))
    engine.ask(asked[0])
    spent = {"tokenising": 0.0, "forward pass": 0.0, "decoding spans": 0.0}
    real = {"pieces_of": rd.pieces_of, "decode_spans": rd.decode_spans,
            "forward": rd.Encoder.forward}

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - t
        return wrapper

    rd.pieces_of = timed("tokenising", real["pieces_of"])
    rd.decode_spans = timed("decoding spans", real["decode_spans"])
    rd.Encoder.forward = timed("forward pass", real["forward"])
    engine.reader._pieces.clear()
    latencies = []
    try:
        for q in asked:
            t = time.perf_counter()
            engine.ask(q)
            latencies.append(time.perf_counter() - t)
    finally:
        rd.pieces_of, rd.decode_spans = real["pieces_of"], real["decode_spans"]
        rd.Encoder.forward = real["forward"]
    n = len(asked)
    total = sum(latencies)
    out = {k: 1000 * v / n for k, v in spent.items()}
    out["the rest"] = 1000 * total / n - sum(out.values())
    out["Engine.ask median"] = 1000 * statistics.median(latencies)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=9)
    args = ap.parse_args()
    qa = qa_command()
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, XDG_CACHE_HOME=str(Path(home) / "cache"),
                   XDG_DATA_HOME=str(Path(home) / "data"))
        env.pop("NO_COLOR", None)
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # as after pip install: bytecode is written
        os.environ["XDG_CACHE_HOME"] = env["XDG_CACHE_HOME"]
        single = qa + ["-q", QUESTION]
        wall(single, env)  # warm the index cache and the OS file cache
        wall(BASELINE, env)
        base, shot = [], []
        for _ in range(args.runs):  # interleaved, so drift hits both alike
            base.append(wall(BASELINE, env))
            shot.append(wall(single, env))
        batch = ("\n".join(questions(BATCH_QUESTIONS)) + "\n").encode()
        fast = ("\n".join(questions(FAST_QUESTIONS)) + "\n").encode()
        runs = max(3, args.runs // 3)
        reader_batch = [wall(qa + ["--json"], env, batch) for _ in range(runs)]
        fast_batch = [wall(qa + ["--json", "--fast"], env, fast) for _ in range(runs)]
        memory = max(peak_mb(single, env) for _ in range(3))
        weights_ms, vocab_ms = load_times(args.runs, env)
        split = split_of_a_question(questions(ASKS))

    b, s = statistics.median(base), statistics.median(shot)
    rb, fb = statistics.median(reader_batch), statistics.median(fast_batch)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {args.runs} runs each, "
          "medians, warm cache")
    print("| measure | value | target |")
    print("|---|---|---|")
    print(f"| baseline: `python -c \"import numpy\"` | {b:.3f} s | |")
    print(f"| `qa -q \"{QUESTION}\"` | {s:.3f} s = {s / b:.2f}x the baseline | <= 3x |")
    print(f"| reader weights load, fresh process | {weights_ms:.0f} ms | <= 60 ms |")
    print(f"| reader vocabulary load (tokenizers imported and built) | {vocab_ms:.0f} ms | |")
    print(f"| {BATCH_QUESTIONS} piped questions, --json, whole process | {rb:.2f} s = "
          f"{BATCH_QUESTIONS / rb:.1f} q/s | >= 12 q/s |")
    print(f"| {FAST_QUESTIONS} piped questions, --json --fast, whole process | {fb:.2f} s = "
          f"{FAST_QUESTIONS / fb:.0f} q/s | >= 500 q/s |")
    print(f"| peak memory of `qa -q` | {memory:.0f} MB | <= 350 MB |")
    print(f"| Engine.ask on the article, median of {ASKS} | "
          f"{split['Engine.ask median']:.1f} ms | |")
    print("\nwhere a question's time goes (mean ms per question, Engine.ask in process):")
    for k in ("tokenising", "forward pass", "decoding spans", "the rest"):
        print(f"  {k:<16} {split[k]:7.2f} ms")


if __name__ == "__main__":
    main()
