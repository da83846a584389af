"""Index build time, query latency, peak memory and cached reload of `qa` at 10k-1M sentences.

Each measurement runs in a fresh subprocess (peak memory is that process's maxrss), with a
private cache folder, on corpora from bench/gen_corpus.py. bm25s, the fastest Python BM25, is
timed on the same sentences and questions in the same run when it is installed
(`pip install -e '.[bench]'`); without it that column says "not installed".

    python bench/scale.py                       # 10k, 100k and 1M sentences (several minutes)
    python bench/scale.py --sizes 10000,100000  # smaller
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

QUESTIONS = 200
RELOADS = 3


def _percentile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q / 100 * (len(xs) - 1))))]


# ---- workers: run in a child process, print one JSON line ----

def worker_build(folder: str) -> dict:
    from qa.index import open_index

    t = time.perf_counter()
    index = open_index([folder], use_cache=True)
    return {"seconds": time.perf_counter() - t, "sentences": len(index),
            "terms": len(index.vocab), "postings": int(len(index.docs))}


def worker_reload(folder: str) -> dict:
    from qa.index import open_index

    t = time.perf_counter()
    index = open_index([folder], use_cache=True)
    return {"seconds": time.perf_counter() - t, "sentences": len(index)}


def worker_query(folder: str) -> dict:
    import numpy as np

    from gen_corpus import questions
    from qa import question as qmod
    from qa.answer import Engine
    from qa.index import open_index

    engine = Engine(open_index([folder], use_cache=True))
    qs = questions(QUESTIONS)
    search, ask = [], []
    for q in qs:
        terms = qmod.analyze_question(q).terms
        t = time.perf_counter()
        scores = engine.index.scores(terms)
        np.argpartition(-scores, 29)[:30]
        search.append(time.perf_counter() - t)
    engine.ask(qs[0])  # the first ask builds the typo-correction table once per session
    for q in qs:
        t = time.perf_counter()
        engine.ask(q)
        ask.append(time.perf_counter() - t)
    return {"search": search, "ask": ask}


def worker_bm25s(folder: str) -> dict:
    try:
        import bm25s
    except ImportError:
        return {"missing": True}
    from gen_corpus import questions
    from qa import question as qmod
    from qa import terms as terms_mod
    from qa.index import B, K1, open_index

    index = open_index([folder], use_cache=True)
    # The same sentences and the same terms as qa, so only the retrieval differs.
    corpus = [terms_mod.terms(index.text(i)) for i in range(len(index))]
    retriever = bm25s.BM25(k1=K1, b=B, method="robertson")
    t = time.perf_counter()
    retriever.index(corpus, show_progress=False)
    build = time.perf_counter() - t
    del corpus
    lat = []
    for q in questions(QUESTIONS):
        terms = [t for t in qmod.analyze_question(q).terms if t in retriever.vocab_dict] or ["a"]
        t = time.perf_counter()
        retriever.retrieve([terms], k=30, show_progress=False, n_threads=1)
        lat.append(time.perf_counter() - t)
    return {"build": build, "query": lat}


WORKERS = {"build": worker_build, "reload": worker_reload, "query": worker_query,
           "bm25s": worker_bm25s}


def run_worker(kind: str, folder: Path, cache: Path) -> tuple[dict, float]:
    """(the worker's JSON, its peak resident memory in MB)."""
    env = dict(os.environ, XDG_CACHE_HOME=str(cache))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    proc = subprocess.Popen([sys.executable, __file__, "--worker", kind, str(folder)],
                            stdout=subprocess.PIPE, env=env)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"worker {kind} failed on {folder} (exit {proc.returncode})")
    return json.loads(out.decode().strip().splitlines()[-1]), usage.ru_maxrss / 1024


def corpus_for(size: int, workdir: Path) -> Path:
    from gen_corpus import generate

    folder = workdir / f"corpus-{size}"
    done = folder / ".complete"
    if not done.exists():
        generate(size, folder)
        done.write_text("ok\n")
    return folder


def ms(x: float) -> str:
    return f"{x * 1000:.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description="qa at scale")
    ap.add_argument("--sizes", default="10000,100000,1000000",
                    help="comma-separated sentence counts (default 10000,100000,1000000)")
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "qa-bench",
                    help="where corpora are generated and kept between runs")
    ap.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        kind, folder = args.worker
        print(json.dumps(WORKERS[kind](folder)))
        return

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; corpora in {args.workdir}")
    header = ("| sentences | build s | build peak MB | reload s | query peak MB | search median ms "
              "| search p95 ms | ask median ms | ask p95 ms | bm25s median ms | bm25s p95 ms |")
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        folder = corpus_for(size, args.workdir)
        with tempfile.TemporaryDirectory() as cache:
            build, build_mb = run_worker("build", folder, Path(cache))
            reloads = [run_worker("reload", folder, Path(cache))[0]["seconds"]
                       for _ in range(RELOADS)]
            query, query_mb = run_worker("query", folder, Path(cache))
            other, _ = run_worker("bm25s", folder, Path(cache))
        if other.get("missing"):
            b_med = b_p95 = "not installed"
        else:
            b_med, b_p95 = ms(statistics.median(other["query"])), ms(_percentile(other["query"], 95))
        row = (f"| {build['sentences']:,} | {build['seconds']:.1f} | {build_mb:.0f} "
               f"| {statistics.median(reloads):.2f} | {query_mb:.0f} "
               f"| {ms(statistics.median(query['search']))} | {ms(_percentile(query['search'], 95))} "
               f"| {ms(statistics.median(query['ask']))} | {ms(_percentile(query['ask'], 95))} "
               f"| {b_med} | {b_p95} |")
        rows.append(row)
        print(row if len(rows) > 1 else header + "\n|" + "---|" * 11 + "\n" + row, flush=True)
    print(f"\n{QUESTIONS} questions per size; reload is the median of {RELOADS} fresh processes; "
          "search = BM25 scores of every sentence + top 30; ask = Engine.ask end to end.")


if __name__ == "__main__":
    main()
