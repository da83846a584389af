"""Start-up and throughput of `qa` on the bundled article, against a baseline in the same run.

The baseline is a Python process that only imports nltk, numpy, rank_bm25, rich and
prompt_toolkit: what the whole stack would cost if every mode imported everything.

    python bench/startup.py            # 15 runs each; --runs N to change
"""

from __future__ import annotations

import argparse
import json
import os
import pty
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
BASELINE = [sys.executable, "-c", "import nltk, numpy, rank_bm25, rich, prompt_toolkit"]
BATCH_QUESTIONS = 1000
ASKS = 1000


def qa_command() -> list[str]:
    beside = Path(sys.executable).parent / "qa"
    found = str(beside) if beside.exists() else shutil.which("qa")
    return [found] if found else [sys.executable, "-m", "qa"]


def wall(cmd: list[str], env: dict, stdin: bytes | None = None) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, input=stdin, env=env, stdout=subprocess.DEVNULL, check=False,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def batch_questions() -> list[str]:
    gold = [json.loads(line)["question"] for line in GOLD.read_text().splitlines() if line.strip()]
    gold = gold or [QUESTION]
    return [gold[i % len(gold)] for i in range(BATCH_QUESTIONS)]


def ask_latencies(questions: list[str]) -> list[float]:
    """Engine.ask in this process, as the chat calls it: one question at a time."""
    from qa.answer import Engine
    from qa.cli import default_corpus
    from qa.index import open_index

    engine = Engine(open_index([str(default_corpus())]))
    engine.ask(questions[0])
    out = []
    for q in questions[:ASKS]:
        t = time.perf_counter()
        engine.ask(q)
        out.append(time.perf_counter() - t)
    return out


def chat_turn_latencies(questions: list[str]) -> list[float]:
    """What the chat does per question: Engine.ask, then the rich rendering of the answer."""
    import io

    from rich.console import Console

    from qa import render
    from qa.answer import Engine
    from qa.cli import default_corpus
    from qa.index import open_index

    engine = Engine(open_index([str(default_corpus())]))
    console = Console(file=io.StringIO(), width=100, force_terminal=True)
    render.rich_answer(engine.ask(questions[0]), console)
    out = []
    for q in questions[:ASKS]:
        t = time.perf_counter()
        render.rich_answer(engine.ask(q), console)
        out.append(time.perf_counter() - t)
    return out


def wall_tty(cmd: list[str], env: dict) -> float:
    """Wall time with stdout on a pseudo-terminal, as typed at a shell prompt (rich output)."""
    t = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the child: run the command on the terminal
        os.execvpe(cmd[0], cmd, env)
    try:
        while os.read(fd, 65536):
            pass
    except OSError:  # EIO: the child closed the terminal
        pass
    os.waitpid(pid, 0)
    os.close(fd)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    qa = qa_command()
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, XDG_CACHE_HOME=str(Path(home) / "cache"),
                   XDG_DATA_HOME=str(Path(home) / "data"))
        env.pop("NO_COLOR", None)
        # As after `pip install`, which compiles bytecode: let the warm-up run write it.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        os.environ["XDG_CACHE_HOME"] = env["XDG_CACHE_HOME"]
        single = qa + ["-q", QUESTION]
        wall(single, env)  # warm the index cache and the OS file cache
        wall(BASELINE, env)
        base, shot, base_tty, shot_tty = [], [], [], []
        for _ in range(args.runs):  # interleaved, so drift hits both alike
            base.append(wall(BASELINE, env))
            shot.append(wall(single, env))
            base_tty.append(wall_tty(BASELINE, env))
            shot_tty.append(wall_tty(single, env))
        questions = batch_questions()
        lines = ("\n".join(questions) + "\n").encode()
        batch = [wall(qa, env, stdin=lines) for _ in range(max(3, args.runs // 3))]
        asks = ask_latencies(questions)
        turns = chat_turn_latencies(questions)

    b, s, bt = statistics.median(base), statistics.median(shot), statistics.median(batch)
    bty, sty = statistics.median(base_tty), statistics.median(shot_tty)
    a = sorted(asks)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {args.runs} runs each, "
          "medians, warm cache")
    print("| measure | value | target |")
    print("|---|---|---|")
    print(f"| baseline: import nltk, numpy, rank_bm25, rich, prompt_toolkit | {b:.3f} s | |")
    print(f"| `qa -q \"{QUESTION}\"` | {s:.3f} s | <= 0.45 s |")
    print(f"| ratio single shot / baseline | {s / b:.0%} | <= 50% |")
    print(f"| on a terminal (rich output): baseline {bty:.3f} s, `qa -q` {sty:.3f} s | "
          f"{sty / bty:.0%} | <= 50% |")
    print(f"| batch: {len(questions)} piped questions, whole process | {bt:.2f} s = "
          f"{len(questions) / bt:.0f} q/s | >= 300 q/s |")
    print(f"| Engine.ask on the article ({len(asks)} asks) | median {statistics.median(a) * 1000:.2f} ms, "
          f"p95 {a[int(0.95 * (len(a) - 1))] * 1000:.2f} ms | < 20 ms |")
    c = sorted(turns)
    print(f"| chat turn: Engine.ask + rich rendering ({len(c)} turns) | median "
          f"{statistics.median(c) * 1000:.2f} ms, p95 {c[int(0.95 * (len(c) - 1))] * 1000:.2f} ms "
          "| < 20 ms |")


if __name__ == "__main__":
    main()
