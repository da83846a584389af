"""Follow-up questions: the earlier turns of a chat, read with the question by the reader and
searched with a few of their words.

Only what the user asked and answers given as at least *likely* are carried forward: a wrong
answer must not steer the next question (its words piled up over turns)."""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, replace

from qa import question as qmod
from qa import terms as terms_mod
from qa.answer import Answer, Engine

# An answer is carried forward (its names searched, its text read) only from this confidence
# up: render's "likely".
CARRIED_CONFIDENCE = 0.5
# Weight of a carried term, relative to the follow-up's own words (1.0): low enough that the
# words typed decide the ranking, high enough to pick among sentences they tie on.
QUESTION_WEIGHT = 0.6  # content terms of the previous question
ANSWER_WEIGHT = 0.5  # names in the previous answer
# Each turn further back counts this much less; a standalone question ends the chain.
DECAY = 0.5
# Turns that can still lend words to a follow-up (weights 1, 0.5, 0.25); older ones are
# forgotten, so a long piped --chat takes constant memory.
MAX_TURNS = 3
# Names carried from one answer (the rarest first): a whole-sentence answer holds many.
MAX_ANSWER_TERMS = 4
# Carried terms together weigh (weight x IDF) at most this share of the follow-up's own known
# terms, so "how many lanes does it have?" is about lanes, with the bridge as a tie-breaker.
# Chosen on 1,280 pronoun follow-ups built from the dev split (bench/followups.py), short-answer
# F1 / top-1: 0.5: 0.592 / 0.767; 1.0: 0.598 / 0.779; 1.5: 0.596 / 0.783; 2.0: 0.594 / 0.783
# (as written 0.600 / 0.783, the pronoun alone 0.500 / 0.695). At 0.5, "when did they sign it?"
# after "who signed the memorandum?" weighed the memorandum at 0.09 and drifted to the 2017
# plan. Dev questions chained as written (qa eval --chat, 4 articles): F1 0.6161 -> 0.6146.
# (With the combiner refitted since, at 1.0: chat 0.599 / 0.780, as written 0.602 / 0.782.)
CONTEXT_SHARE = 1.0
# How many carried words the "searched:" line shows.
SHOWN_CONTEXT_WORDS = 6

# Words that point back at something said before.
PRONOUNS = frozenset("he she it they him them his her hers its their theirs this that these "
                     "those there".split())
# Openings that continue the previous question ("and the director of CNSA?").
_CONTINUATION = re.compile(r"^\s*(?:and|but|also|what about|how about|and what about)\b[\s,]*",
                           re.IGNORECASE)


@dataclass(frozen=True)
class Turn:
    """One question of a conversation, what was searched for it, and its answer."""

    question: str  # as typed
    asked: str  # as given to the engine (an elliptical follow-up borrows its question word)
    answer: Answer
    followup: bool
    context: tuple[tuple[str, float], ...] = ()  # carried terms and their weights
    own_terms: tuple[str, ...] = ()  # the terms the question itself searched
    answer_terms: tuple[str, ...] = ()  # names in the answer, for the next turn
    searched: str | None = None  # "when talk tass + Sergei Savelyev", when context was added


def own_content_terms(text: str) -> tuple[str, ...]:
    """The question's content terms, without words that only name the answer type."""
    return tuple(t for t in qmod.analyze_question(text).terms if t not in qmod.TYPE_CUE_TERMS)


def is_followup(text: str) -> bool:
    """A pronoun, a continuation ("and …", "what about …"), or no content words of its own."""
    if _CONTINUATION.match(text):
        return True
    if any(t.word in PRONOUNS for t in terms_mod.tokens(text)):
        return True
    return not own_content_terms(text)


def _type_phrase(text: str) -> str | None:
    """The words that give a question its type ("who", "how many"), if any."""
    norm = " ".join(w.word for w in terms_mod.tokens(text))
    for _, pattern in qmod.TYPE_RULES:
        m = pattern.search(norm)
        if m:
            return m.group()
    return None


class Conversation:
    """An Engine that remembers the chat so far and reads follow-ups in its light."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.turns: deque[Turn] = deque(maxlen=MAX_TURNS)  # the recent turns, oldest first
        self._written: dict[str, str] = {}  # term -> a word for it as the user or text wrote it

    def new(self) -> None:
        """Forget the conversation so far."""
        self.turns.clear()
        self._written.clear()

    @property
    def last(self) -> Turn | None:
        return self.turns[-1] if self.turns else None

    @property
    def searched(self) -> str | None:
        """What the last question searched, when context was added to it."""
        return self.turns[-1].searched if self.turns else None

    def context_terms(self) -> dict[str, float]:
        """Terms carried from recent turns, back to the last standalone one, with weights."""
        carried: dict[str, float] = {}
        weight = 1.0
        for turn in reversed(self.turns):
            for terms, base in ((turn.own_terms, QUESTION_WEIGHT),
                                (turn.answer_terms, ANSWER_WEIGHT)):
                for t in terms:
                    carried[t] = max(carried.get(t, 0.0), base * weight)
            if not turn.followup:
                break
            weight *= DECAY
        return carried

    def ask(self, text: str, top: int = 3) -> Answer:
        """Answer a question, with context from earlier turns when it is a follow-up."""
        return self.ask_turn(text, top).answer

    def history(self) -> str | None:
        """The earlier turns as the reader reads them, oldest first, back to the last standalone
        question: each question, and its answer when it was given as at least likely."""
        said: list[str] = []
        for turn in reversed(self.turns):
            a = turn.answer
            if a.found and a.answer and a.confidence >= CARRIED_CONFIDENCE:
                said.append(a.answer)
            said.append(turn.question)
            if not turn.followup:
                break
        return " ".join(reversed(said)) or None

    def ask_turn(self, text: str, top: int = 3, explain: bool = False) -> Turn:
        text = text.strip()
        followup = bool(self.turns) and is_followup(text)
        asked, context, history = text, {}, None
        if followup:
            asked = self._borrow_type(text)
            context = self._scaled(self.context_terms(), own_content_terms(asked))
            history = self.history()
        answer = self.engine.ask(asked, top=top, context=context or None, explain=explain,
                                 history=history)
        if asked != text:
            answer = replace(answer, question=text)
        carried = tuple((t, w) for t, w in context.items() if t in answer.terms)
        for said in (answer.answer or "", text):  # the user's own spelling wins
            for tok in terms_mod.tokens(said):
                if tok.term:
                    self._written[tok.term] = said[tok.start:tok.end]
        own = tuple(t for t in answer.terms if t not in dict(carried))
        turn = Turn(question=text, asked=asked, answer=answer, followup=followup,
                    context=carried, own_terms=own, answer_terms=self._answer_names(answer),
                    searched=self._describe(asked, own, carried) if carried else None)
        self.turns.append(turn)
        kept = {t for old in self.turns for t in old.own_terms + old.answer_terms}
        self._written = {t: w for t, w in self._written.items() if t in kept}
        return turn

    def _scaled(self, context: dict[str, float], own: tuple[str, ...]) -> dict[str, float]:
        """The carried weights, scaled down when they would outweigh the question's own words."""
        index = self.engine.index
        context = {t: w for t, w in context.items() if t not in own}
        own_mass = sum(index.idf_of(t) for t in own if t in index.vocab)
        carried_mass = sum(w * index.idf_of(t) for t, w in context.items())
        if own_mass > 0 and carried_mass > CONTEXT_SHARE * own_mass:
            scale = CONTEXT_SHARE * own_mass / carried_mass
            context = {t: w * scale for t, w in context.items()}
        return context

    def _borrow_type(self, text: str) -> str:
        """An elliptical follow-up with no question word asks what the previous one asked."""
        rest = _CONTINUATION.sub("", text, count=1)
        words = {t.word for t in terms_mod.tokens(rest)}
        if words & terms_mod.QUESTION_WORDS or qmod.answer_type(rest) != qmod.SENTENCE:
            return text
        phrase = _type_phrase(self.turns[-1].asked)
        return f"{phrase} {rest}" if phrase else text

    def _answer_names(self, answer: Answer) -> tuple[str, ...]:
        """Names (words the text never writes in lower case) in the short answer, rarest first;
        none from an answer given as less than likely."""
        if not answer.found or not answer.answer or answer.confidence < CARRIED_CONFIDENCE:
            return ()
        index = self.engine.index
        names = {t.term for t in terms_mod.tokens(answer.answer)
                 if t.term and t.term in index.vocab
                 and (answer.answer[t.start].isupper() or answer.answer[t.start].isdigit())
                 and not index.is_common(t.word)}
        return tuple(sorted(names, key=lambda t: -index.idf_of(t))[:MAX_ANSWER_TERMS])

    def _describe(self, asked: str, own: tuple[str, ...],
                  carried: tuple[tuple[str, float], ...]) -> str:
        """'when talk tass + Sergei Savelyev': the words searched, then the words carried."""
        typed = [t.word for t in terms_mod.tokens(asked)
                 if t.word in terms_mod.QUESTION_WORDS or (t.term and t.term in own)]
        index = self.engine.index
        shown = sorted(carried, key=lambda tw: -tw[1])[:SHOWN_CONTEXT_WORDS]
        added = [self._written.get(t) or index.surfaces[index.vocab[t]] for t, _ in shown]
        return " ".join(dict.fromkeys(typed)) + " + " + " ".join(added)
