"""`python -m qa.train COMMAND ARGS...`: one entry point for every training command."""

from __future__ import annotations

import sys
from collections.abc import Callable


def _tagger(argv: list[str]) -> int:
    from qa.train.tagger import main

    return main(argv)


def _ranker(argv: list[str]) -> int:
    from qa.train.ranker import main

    return main(argv)


def _combiner(argv: list[str]) -> int:
    from qa.train.combiner import main

    return main(argv)


def _punkt(argv: list[str]) -> int:
    from qa.train.punkt import main

    return main(argv)


def _reader(argv: list[str]) -> int:
    from qa.train.reader import main

    return main(argv)


# name -> (handler taking the remaining arguments, one line of help)
COMMANDS: dict[str, tuple[Callable[[list[str]], int], str]] = {
    "punkt": (_punkt, "learn the sentence splitter's parameters: punkt SHARED [--out PATH]"),
    "tagger": (_tagger, "train the part-of-speech tagger: tagger TREEBANKS [--out PATH]"),
    "ranker": (_ranker, "train the sentence ranker and its confidence: ranker TRAIN [--out PATH]"),
    "reader": (_reader, "fine-tune the transformer reader: reader TRAIN [--out PATH] [--work DIR]"),
    "combiner": (_combiner, "weigh ranker and reader, calibrate: combiner TRAIN [--out PATH]"),
}


def usage() -> str:
    lines = ["usage: python -m qa.train COMMAND [ARGS...]", "", "commands:"]
    lines += [f"  {name:<10} {help_}" for name, (_, help_) in COMMANDS.items()]
    lines.append("\n`python -m qa.train COMMAND --help` for a command's options.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(usage(), file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    command = COMMANDS.get(argv[0])
    if command is None:
        print(f"qa.train: unknown command {argv[0]!r}; choose from {', '.join(COMMANDS)}",
              file=sys.stderr)
        return 2
    return command[0](argv[1:])


if __name__ == "__main__":
    sys.exit(main())
