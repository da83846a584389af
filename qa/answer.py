"""Question -> candidates -> ranker -> reader -> a decided Answer with its confidence."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from qa import candidates as cand_mod
from qa import features as feat
from qa import model as model_mod
from qa import question as qmod
from qa import reader as reader_mod
from qa import terms as terms_mod
from qa.corpus import blank_controls
from qa.index import Index
from qa.reader import Reader, Reading, Span
from qa.sentences import Sentence
from qa.spelling import Speller

# A question naming something the text never mentions ("How many moons does Mars have?") is
# about something else: it gets no answer unless its sentence holds this much of it (by IDF).
# A rule, not a feature: SQuAD's unanswerable questions almost never name what their article
# lacks, so no model learns it; dev/Normans figures with and without it are in the README.
UNKNOWN_NAME_COVERAGE = 0.6
# Over a text that is mostly not English, no answer is shown as more than "unsure": the
# models learned from English (README: Known limits).
FOREIGN_CONFIDENCE = 0.49
# What the JSON "type" says the answer is.
SPAN, SENTENCE, NONE = "span", "sentence", "none"
YES_NO = "yes/no"
# Said of a question with nothing to search ("when?" with no chat before it).
NO_WORDS = "the question has no words to search for"
# The next-best spans /why lists.
WHY_SPANS = 4


@dataclass(frozen=True)
class Hit:
    """A candidate sentence and the evidence for it."""

    sentence: Sentence
    score: float  # the chance it holds the answer: ranker and reader together (--fast: ranker)
    bm25: float
    coverage: float
    matched: tuple[str, ...]  # question terms the sentence contains


Contribution = tuple[str, float, float]  # (feature, its value, its share of the score)


@dataclass(frozen=True)
class TermWeight:
    """One searched term in one sentence: how much it weighs and what it earned there."""

    word: str  # as the text writes it
    weight: float  # 1 for the question's own words, less for words carried from a chat
    idf: float | None  # None: the text never uses it
    tf: int
    bm25: float


@dataclass(frozen=True)
class SentenceWhy:
    """Why a sentence ranked where it did: its terms, the ranker's features, and how the
    combiner weighed the ranker against the reader for it."""

    terms: tuple[TermWeight, ...]
    features: tuple[Contribution, ...]  # the ranker's, against an average candidate
    score: float  # the ranker's score (a logit)
    combined: tuple[Contribution, ...] = ()  # the combiner's (empty under --fast)


@dataclass(frozen=True)
class Explanation:
    """Why the answer is what it is (what /why shows)."""

    sentences: tuple[SentenceWhy, ...] = ()  # aligned with Answer.hits
    spans: tuple[tuple[str, float], ...] = ()  # the reader's best spans and their chances
    no_answer: float = 0.0  # the reader's chance that the windows hold no answer
    windows: int = 0  # windows read
    confidence: tuple[Contribution, ...] = ()
    answer_confidence: float = 0.0  # P(the best span is right)
    sentence_confidence: float = 0.0  # P(the first sentence holds the answer)
    abstain_below: float = 0.0
    span_from: float = 0.0
    fast: bool = False


@dataclass(frozen=True)
class Answer:
    """The answer to one question; `to_json` is the JSON Lines schema."""

    question: str
    found: bool
    answer: str | None
    type: str  # SPAN, SENTENCE or NONE: what the answer is
    hits: tuple[Hit, ...]
    spans: tuple[tuple[int, int], ...] = ()  # the answer inside hits[0].sentence.text
    terms: tuple[str, ...] = ()  # the terms searched
    corrections: tuple[tuple[str, str], ...] = ()  # (word typed, word searched)
    notes: tuple[str, ...] = field(default=())
    confidence: float = 0.0  # calibrated probability that `answer` is right
    asked: str = qmod.SENTENCE  # what the question asks for (question types, or YES_NO)
    highlight: tuple[tuple[int, int], ...] = ()  # the best span, when the answer is the sentence
    explanation: Explanation = field(default_factory=Explanation, compare=False, repr=False)

    def to_json(self) -> dict:
        best = self.hits[0].sentence.text if self.hits else ""
        return {
            "question": self.question,
            "found": self.found,
            "answer": self.answer,
            "type": self.type,
            "confidence": round(self.confidence, 3),
            "asked": self.asked,
            "highlight": " and ".join(best[a:b] for a, b in self.highlight) or None,
            "sentences": [h.sentence.to_json(score=round(h.score, 4)) for h in self.hits],
        }


@dataclass
class Decision:
    """Everything one question's answer was worked out from (the combiner's training reads
    it too)."""

    question: qmod.Question
    query: feat.Query
    ids: list[int]  # candidate sentences, in candidate order
    rows: np.ndarray  # their sentence features
    logits: np.ndarray  # the ranker's scores
    bm25: np.ndarray
    reading: Reading | None = None  # None: the lexical engine alone
    combiner_rows: np.ndarray | None = None
    combined: np.ndarray | None = None  # the combiner's scores (the ranker's under --fast)
    order: list[int] = field(default_factory=list)  # positions in ids, best first
    span: Span | None = None  # the reader's best span in the first sentence
    span_text: str = ""
    confidence_row: np.ndarray | None = None
    answer_confidence: float = 0.0
    sentence_confidence: float = 0.0


class Engine:
    """Answers questions over one index: BM25 candidates, the learned ranker, the reader, and
    a learned combination of the two; `fast`: the ranker alone."""

    def __init__(self, index: Index, models: model_mod.Models | None = None,
                 fast: bool = False) -> None:
        self.index = index
        self.fast = fast
        self._models = models
        terms_mod.remember(index.word_terms)
        self.speller = Speller(index)
        self.info = feat.SentenceCache(index)
        self.reader = Reader(index)
        if not fast:
            reader_mod.prefetch()
        self._spellings: dict[str, str | None] = {}
        self._foreign: bool | None = None

    @property
    def models(self) -> model_mod.Models:
        if self._models is None:
            self._models = model_mod.load(fast=self.fast)
        return self._models

    @property
    def foreign(self) -> bool:
        """Whether the text is mostly not English (its answers are unreliable)."""
        if self._foreign is None:
            self._foreign = not terms_mod.looks_english(self.index.texts)
        return self._foreign

    def spelling(self, word: str) -> str | None:
        """How the text writes a (normalised) word: "" when it writes it in lower case
        somewhere, else its spelling there ("Savelyev", "CNSA"); None when it never uses it."""
        if word in self._spellings:
            return self._spellings[word]
        index = self.index
        t = index.vocab.get(terms_mod.term_of(word) or "")
        found: str | None = None
        if t is not None:
            if index.lowercase[t]:
                found = ""
            else:
                text = index.text(int(index.docs[index.ptr[t]]))
                m = re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE)
                found = m.group() if m else None
        if len(self._spellings) < 100_000:
            self._spellings[word] = found
        return found

    def analyze(self, text: str) -> qmod.Question:
        """The question analysed, read in the text's own case (see question.canonical_case)."""
        return qmod.analyze_question(text, self.spelling)

    # -- reading ------------------------------------------------------------------------------

    def candidates(self, q: qmod.Question, search: tuple[str, ...],
                   context: Mapping[str, float] | None, n: int
                   ) -> tuple[feat.Query, list[int], np.ndarray, np.ndarray] | None:
        """The query, the n candidate sentences, their features and their BM25; None when no
        sentence holds any of the searched words."""
        index = self.index
        query = cand_mod.make_query(index, q, search, dict(context or {}))
        if not query.terms:
            return None
        scores = cand_mod.bm25_scores(index, query)
        ids, pooled = cand_mod.sentence_candidates(index, scores, n,
                                                   cand_mod.hit_sentences(index, query.terms))
        if not ids:
            # On a tiny text BM25Okapi's IDF is zero or below for every term (a term in half
            # the sentences or more); any sentence holding a query term is still a candidate.
            ids = cand_mod.containing(index, query.terms)[:n]
            pooled = np.ones(len(ids))
        if not ids:
            return None
        rows = feat.sentence_features(index, query, ids, scores, pooled, self.info)
        return query, ids, rows, scores[ids]

    def decide(self, q: qmod.Question, query: feat.Query, ids: list[int], rows: np.ndarray,
               bm25: np.ndarray, history: str | None = None) -> Decision:
        """Rank the candidates, read the best windows, weigh ranker and reader together, and
        say how sure the answer is."""
        models = self.models
        lexical, combiner = models.lexical, models.combiner
        logits = lexical.ranker.score(rows)
        d = Decision(q, query, ids, rows, logits, bm25)
        if self.fast or combiner is None:
            d.combined = logits
            d.order = sorted(range(len(ids)), key=lambda k: (-logits[k], ids[k]))
            r = d.order[0]
            d.confidence_row = feat.lexical_confidence(self.index, query, self.info, ids[r],
                                                       rows[r], logits, r)
            d.sentence_confidence = lexical.confidence.probability(d.confidence_row)
            return d
        ranked = sorted(range(len(ids)), key=lambda k: (-logits[k], ids[k]))
        d.reading = self.reader.read(q.text, [ids[k] for k in ranked], combiner.windows,
                                     combiner.window_pieces, history)
        return self.weigh(d, combiner)

    def weigh(self, d: Decision, combiner: model_mod.Combiner) -> Decision:
        """The combiner's order of the candidates and the confidence of its first, from the
        ranker's logits and the reader's reading (set on `d`)."""
        ids, rows, logits = d.ids, d.rows, d.logits
        d.combiner_rows = feat.combiner_features(ids, logits, d.reading)
        d.combined = combiner.sentences.score(d.combiner_rows)
        d.order = sorted(range(len(ids)), key=lambda k: (-d.combined[k], ids[k]))
        r = d.order[0]
        d.span = next((sp for sp in d.reading.spans if sp.sentence == ids[r]), None)
        text = self.index.text(ids[r])
        d.span_text = text[d.span.start:d.span.end] if d.span else ""
        lexical_row = feat.lexical_confidence(self.index, d.query, self.info, ids[r], rows[r],
                                              logits, r)
        d.confidence_row = feat.answer_confidence(
            lexical_row, d.combined, r, d.reading, d.span, d.span_text, d.question.text,
            self._agreement(d.reading, d.span_text))
        d.answer_confidence = combiner.answer_confidence.probability(d.confidence_row)
        d.sentence_confidence = combiner.sentence_confidence.probability(d.confidence_row)
        return d

    def _agreement(self, reading: Reading, said: str) -> float:
        """The share of the reading's probability (its spans and no-answer scores) on spans
        that share a content word with the one said: answers read the same way in several
        windows, or with several boundaries, are surer."""
        words = {t.term for t in terms_mod.tokens(said) if t.term}
        if not words or not reading.spans:
            return 0.0
        scores = np.array([sp.score for sp in reading.spans])
        total = float(np.logaddexp.reduce(np.concatenate([reading.nulls, scores])))
        agree = 0.0
        for sp, score in zip(reading.spans, scores):
            text = self.index.text(sp.sentence)[sp.start:sp.end]
            if any(t.term in words for t in terms_mod.tokens(text)):
                agree += float(np.exp(score - total))
        return agree

    # -- answering ----------------------------------------------------------------------------

    def ask(self, text: str, top: int = 3, context: Mapping[str, float] | None = None,
            explain: bool = False, history: str | None = None) -> Answer:
        """Answer one question: the short answer, the sentence with a highlighted span, or no
        answer, each with a calibrated confidence.

        `context` maps terms carried over from a conversation to weights in 0..1: each adds
        weight x its BM25, counts toward coverage at weight x its IDF, and is never the answer.
        `history`, the conversation's earlier turns as text, is read by the reader with the
        question. With `explain`, the answer carries an Explanation (what /why shows).
        """
        text = text.strip()
        q = self.analyze(blank_controls(text))
        search, fixes = self.speller.search_terms(q.terms, q.tokens)
        asked = YES_NO if q.yes_no else q.type
        lexical = self.models.lexical
        found = self.candidates(q, search, context, lexical.candidates)
        if found is None:
            note = (NO_WORDS,) if not search and not context \
                else self._never_mentions(q)
            return Answer(question=text, found=False, answer=None, type=NONE, asked=asked,
                          hits=(), terms=search, corrections=fixes, notes=note)
        d = self.decide(q, *found, history=history)
        return self._answer(text, d, fixes, top, asked, explain)

    def _answer(self, text: str, d: Decision, fixes: tuple[tuple[str, str], ...], top: int,
                asked: str, explain: bool) -> Answer:
        q, models = d.question, self.models
        probs = np.exp(d.combined - np.logaddexp.reduce(d.combined))
        hits = tuple(self._hit(d, r, float(probs[r])) for r in d.order[:max(1, top)])
        sentence = hits[0].sentence
        common = dict(question=text, hits=hits, terms=d.query.terms, corrections=fixes,
                      asked=asked)
        if explain:
            common["explanation"] = self._explain(d, d.order[:len(hits)])
        foreign = self.foreign
        unknown = self._never_mentions(q) \
            if hits[0].coverage < UNKNOWN_NAME_COVERAGE and not foreign else ()
        fast = self.fast or models.combiner is None
        abstain_below = models.lexical.abstain_below if fast else models.combiner.abstain_below
        cap = FOREIGN_CONFIDENCE if foreign else 1.0
        if d.sentence_confidence < abstain_below or unknown:
            # An attribute the text never names beside the sentence ("the population of China")
            # says why an abstention abstained; it no longer decides one: with the reader, that
            # veto cost 39 answerable dev questions for 3 unanswerable (F1 0.633 -> 0.638).
            return Answer(found=False, answer=None, type=NONE,
                          confidence=min(d.sentence_confidence, cap),
                          notes=unknown or self._lacks_attribute(q, d.ids[d.order[0]])
                          or self._never_mentions(q), **common)
        span = ((d.span.start, d.span.end),) if d.span is not None else ()
        if fast or q.yes_no or not q.asks or not span \
                or d.answer_confidence < models.combiner.span_from:
            # Keywords, a yes/no question (the sentence is the evidence), or a sentence more
            # likely right than any span of it: the sentence, with the best span highlighted
            # rather than stated.
            return Answer(found=True, answer=sentence.text, type=SENTENCE,
                          highlight=span if q.asks and not q.yes_no else (),
                          confidence=min(d.sentence_confidence, cap), **common)
        return Answer(found=True, answer=d.span_text, type=SPAN, spans=span,
                      confidence=min(d.answer_confidence, cap), **common)

    def _hit(self, d: Decision, r: int, score: float) -> Hit:
        i = d.ids[r]
        present = self.info(i).present
        col = feat.SENTENCE_FEATURES.index("coverage")
        return Hit(sentence=self.index.sentence(i), score=score, bm25=float(d.bm25[r]),
                   coverage=float(d.rows[r][col]),
                   matched=tuple(t for t in d.query.terms if t in present))

    def _explain(self, d: Decision, shown: list[int]) -> Explanation:
        models, index = self.models, self.index
        weights = dict(zip(d.query.terms, d.query.weights))
        whys = []
        for x in shown:
            i = d.ids[x]
            terms = []
            for t in d.query.terms:
                tf, bm25 = index.term_weights(t, i)
                known = t in index.vocab
                terms.append(TermWeight(index.surfaces[index.vocab[t]] if known else t,
                                        weights[t], index.idf_of(t) if known else None, tf,
                                        bm25 * weights[t]))
            combined = () if d.combiner_rows is None else tuple(
                models.combiner.sentences.contributions(d.combiner_rows[x]))
            whys.append(SentenceWhy(tuple(terms),
                                    tuple(models.lexical.ranker.contributions(d.rows[x])),
                                    float(d.logits[x]), combined))
        if d.reading is None:
            return Explanation(tuple(whys), confidence=tuple(
                models.lexical.confidence.linear.contributions(d.confidence_row)),
                sentence_confidence=d.sentence_confidence,
                abstain_below=models.lexical.abstain_below, fast=True)
        reading = d.reading
        scores = np.array([sp.score for sp in reading.spans])
        total = float(np.logaddexp.reduce(np.concatenate([reading.nulls, scores])))
        spans = []
        for sp in reading.spans:
            said = index.text(sp.sentence)[sp.start:sp.end]
            if all(said != s for s, _ in spans):
                spans.append((said, float(np.exp(sp.score - total))))
            if len(spans) > WHY_SPANS:
                break
        no_answer = float(np.exp(np.logaddexp.reduce(reading.nulls) - total)) \
            if len(reading.nulls) else 0.0
        combiner = models.combiner
        return Explanation(tuple(whys), tuple(spans), no_answer, len(reading.nulls),
                           tuple(combiner.answer_confidence.linear.contributions(
                               d.confidence_row)),
                           d.answer_confidence, d.sentence_confidence, combiner.abstain_below,
                           combiner.span_from)

    # -- notes on an abstention --------------------------------------------------------------

    def unknown_names(self, q: qmod.Question) -> list[str]:
        """Names in a question that the text never uses (nor a near spelling of), adjacent
        ones joined, echoed as typed: "Mars", "Mona Lisa". Names are words the tagger tags
        as proper nouns in the question as the other stages read it (question.canonical_case:
        the words the text uses in the text's own case), and, when it was typed in mixed
        case, as typed too ("app" in "What app did CNSA use?" is a common noun; "Royal Navy"
        over a text that says "royal" is not a name in every case alike)."""
        from qa import tagger

        typed = blank_controls(q.text)
        read = q.read if len(q.read) == len(typed) else typed
        letters = [c for c in typed if c.isalpha()]
        caseless = all(c.islower() for c in letters) or all(c.isupper() for c in letters)
        # Typed in mixed case, a name is also a proper noun as typed ("app" is not).
        typed_names = None if caseless or read == typed else {
            (t.start, t.end) for t in tagger.tagged(typed) if t.tag == "PROPN"}
        names: list[str] = []
        last_end = -2
        for t in tagger.tagged(read):
            word = typed[t.start:t.end]
            term = terms_mod.term_of(word) if t.tag == "PROPN" and (
                typed_names is None or (t.start, t.end) in typed_names) else None
            if not term or term in self.index.vocab \
                    or word.lower() in terms_mod.QUESTION_WORDS \
                    or self.speller.correct(word.lower()) is not None:
                continue
            if names and typed[last_end:t.start].strip() == "":
                names[-1] += " " + word
            else:
                names.append(word)
            last_end = t.end
        return list(dict.fromkeys(names))

    def _never_mentions(self, q: qmod.Question) -> tuple[str, ...]:
        if self.foreign:
            return ()
        names = self.unknown_names(q)
        return ("it never mentions " + ", ".join(names),) if names else ()

    def _lacks_attribute(self, q: qmod.Question, i: int) -> tuple[str, ...]:
        """"What is the population of X?" over a text that names X but says nothing of its
        population, in the sentence or beside it."""
        a = q.attribute
        if a is None or a in qmod.CUE_TERMS:
            return ()
        if any(a in self.info(j).present for j in self.index.neighbours(i)):
            return ()
        word = next((q.text[t.start:t.end] for t in q.tokens if t.term == a), a)
        return (f"it never mentions the {word}",)
