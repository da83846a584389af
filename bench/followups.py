"""Follow-ups with pronouns, built from the dev split: is "it" read as what came before?

SQuAD's questions are written to stand alone, so chaining them (`qa eval --chat`) measures
only that context does no harm. Here, of each two consecutive answerable questions of a dev
article where the second repeats a noun phrase of the first ("When did the Apollo program
begin?" after "Who named the Apollo program?"), the second is rewritten with a pronoun in its
place ("When did it begin?") and asked three ways:

  as written     the original question, alone: the ceiling
  pronoun alone  the rewritten one with no context: the floor (what "it" gives by itself)
  chat           the rewritten one after the first, as `qa --chat` asks it

    python bench/followups.py ../shared/train              # all dev articles
    python bench/followups.py ../shared/train --limit 4    # the first four
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa import tagger  # noqa: E402
from qa import terms as terms_mod  # noqa: E402
from qa.answer import Engine  # noqa: E402
from qa.conversation import Conversation  # noqa: E402
from qa.eval import token_f1  # noqa: E402
from qa.train.data import load_split  # noqa: E402


def shared_phrase(first: str, second: str) -> tagger.Chunk | None:
    """The longest whole noun phrase or name of `second` whose content words all occur in
    `first` (and that leaves `second` a content word of its own)."""
    said = set(terms_mod.terms(first))
    own = terms_mod.terms(second)
    phrases = [c for c in tagger.chunks(second) if c.kind in ("name", "noun")]
    best = None
    for c in phrases:
        if any(o.start <= c.start and c.end <= o.end and o != c for o in phrases):
            continue  # a part of a longer phrase ("Apollo" of "the Apollo 1 incident")
        words = terms_mod.terms(c.text)
        if not words or not set(words) <= said or set(own) <= set(words):
            continue
        if best is None or len(c.text) > len(best.text):
            best = c
    return best


def pronoun(second: str, c: tagger.Chunk) -> str:
    """`second` with the phrase `c` replaced by it, they, its or their."""
    head = c.text.split()[-1]
    plural = head.lower().endswith("s") and not head[:1].isupper() and len(head) > 3
    rest = second[c.end:]
    if rest.startswith("'s") or rest.startswith("’s"):
        word, rest = ("their" if plural else "its"), rest[2:]
    else:
        word = "they" if plural else "it"
    start = c.start
    before = second[:start].rstrip().split()
    if before and before[-1].lower() in tagger.ARTICLES:  # "the" left outside the chunk
        start = second.rfind(before[-1], 0, start)
    return second[:start] + word + rest


def pairs(article):
    """(first, second, rewritten second) for consecutive answerable questions."""
    items = [it for it in article.items if not it.impossible]
    for a, b in zip(items, items[1:]):
        c = shared_phrase(a.question, b.question)
        if c is not None:
            yield a, b, pronoun(b.question, c)


def score(answer, item) -> tuple[float, bool]:
    f1 = token_f1(answer.answer, item.answers) if answer.found and answer.answer else 0.0
    top1 = bool(answer.hits) and answer.hits[0].sentence.index in item.gold
    return f1, top1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("train", type=Path)
    ap.add_argument("--limit", type=int, default=0, help="only the first N dev articles")
    ap.add_argument("--fast", action="store_true", help="the lexical engine alone")
    ap.add_argument("--show", type=int, default=0, help="print N rewritten questions")
    args = ap.parse_args()
    articles = load_split(args.train, "dev")[:args.limit or None]
    ways = ("as written", "pronoun alone", "chat")
    f1s = {w: [] for w in ways}
    top1s = {w: [] for w in ways}
    shown = 0
    t0 = time.perf_counter()
    for article in articles:
        engine = Engine(article.index, fast=args.fast)
        for a, b, rewritten in pairs(article):
            chat = Conversation(engine)
            chat.ask(a.question)
            answers = {"as written": engine.ask(b.question),
                       "pronoun alone": engine.ask(rewritten),
                       "chat": chat.ask(rewritten)}
            for w, ans in answers.items():
                f1, top1 = score(ans, b)
                f1s[w].append(f1)
                top1s[w].append(top1)
            if shown < args.show:
                shown += 1
                print(f"{a.question}\n  -> {rewritten}   [{b.question}]\n"
                      f"     chat: {answers['chat'].answer!r}  gold: {b.answers[0]!r}")
    n = len(f1s["chat"])
    print(f"{len(articles)} dev articles, {n} follow-ups ({time.perf_counter() - t0:.0f} s)"
          f"{', lexical engine (--fast)' if args.fast else ''}")
    print("| asked | short-answer F1 | top-1 sentence |")
    print("|---|---|---|")
    for w in ways:
        print(f"| {w} | {statistics.fmean(f1s[w]):.3f} | {statistics.fmean(top1s[w]):.3f} |")


if __name__ == "__main__":
    main()
