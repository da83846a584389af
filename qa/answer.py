"""Question -> candidates -> features -> model -> an Answer value."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from qa import candidates as cand_mod
from qa import extract
from qa import features as feat
from qa import model as model_mod
from qa import question as qmod
from qa import terms as terms_mod
from qa.corpus import blank_controls
from qa.index import Index
from qa.sentences import Sentence
from qa.spelling import Speller

# Pairs further than this below the best (in log-probability) are left out of the agreement.
AGREEMENT_RANGE = 5.0
# A question naming something the text never mentions ("How many moons does Mars have?") is
# about something else: it gets no answer unless its sentence holds this much of it (by IDF).
# A rule, not a feature: SQuAD's unanswerable questions almost never name what their article
# lacks, so no model learns it; dev/Normans figures with and without it are in the README.
UNKNOWN_NAME_COVERAGE = 0.6
# Answer types in the JSON "type" field, besides the question's own (question.answer_type).
SENTENCE, EVIDENCE = qmod.SENTENCE, "evidence"


@dataclass(frozen=True)
class Hit:
    """A ranked sentence and the evidence for it."""

    sentence: Sentence
    score: float  # the ranker's probability that this sentence holds the answer
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
    """Why a sentence ranked where it did: its terms, and each feature's share of its score."""

    terms: tuple[TermWeight, ...]
    features: tuple[Contribution, ...]  # against an average candidate, largest first
    score: float  # the ranker's score (a logit)


@dataclass(frozen=True)
class Explanation:
    """Why the answer is what it is: per sentence shown, the ranker's reasons; for the answer's
    span and confidence, the span scorer's and confidence model's; and the decision taken."""

    sentences: tuple[SentenceWhy, ...] = ()  # aligned with Answer.hits
    span: tuple[Contribution, ...] = ()
    span_text: str | None = None
    confidence: tuple[Contribution, ...] = ()
    answer_confidence: float = 0.0  # P(the best span is right)
    sentence_confidence: float = 0.0  # P(the first sentence holds the answer)
    abstain_below: float = 0.0
    span_from: float = 0.0


@dataclass(frozen=True)
class Answer:
    """The answer to one question; `to_json` is the JSON Lines schema."""

    question: str
    found: bool
    answer: str | None
    type: str
    hits: tuple[Hit, ...]
    spans: tuple[tuple[int, int], ...] = ()  # the answer inside hits[0].sentence.text
    terms: tuple[str, ...] = ()  # the terms searched
    corrections: tuple[tuple[str, str], ...] = ()  # (word typed, word searched)
    notes: tuple[str, ...] = field(default=())
    confidence: float = 0.0  # calibrated probability that `answer` is right
    asked: str = SENTENCE  # the type of answer the question asked for
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
class Reading:
    """Everything one question's answer was worked out from (training reads it too)."""

    question: qmod.Question
    query: feat.Query
    ids: list[int]  # candidate sentences, in candidate order
    rows: np.ndarray  # their sentence features
    logits: np.ndarray  # the ranker's scores
    order: list[int]  # positions in ids, best first
    bm25: np.ndarray  # BM25 of each candidate
    read: list[tuple[int, list[cand_mod.Span], np.ndarray, np.ndarray]] = field(default_factory=list)
    # (position in ids, its spans, their features, their log-probabilities) per sentence read
    best: tuple[int, int] | None = None  # (position in ids, span number) of the best pair
    confidence_row: np.ndarray | None = None
    answer_confidence: float = 0.0
    sentence_confidence: float = 0.0
    joint: list[tuple[float, int, int]] = field(default_factory=list)


class Engine:
    """Answers questions over one index with the learned models."""

    def __init__(self, index: Index, models: model_mod.Models | None = None) -> None:
        self.index = index
        self._models = models
        terms_mod.remember(index.word_terms)
        self.speller = Speller(index)
        self.info = feat.SentenceCache(index)
        self._spellings: dict[str, str | None] = {}

    @property
    def models(self) -> model_mod.Models:
        if self._models is None:
            self._models = model_mod.load()
        return self._models

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

    def read(self, q: qmod.Question, search: tuple[str, ...],
             context: Mapping[str, float] | None = None) -> Reading | None:
        """Rank candidate sentences, score the spans of the best few, say how sure; None when no
        sentence holds any of the searched words."""
        index, models = self.index, self.models
        found = self.candidates(q, search, context, models.candidates)
        if found is None:
            return None
        return self.reading_of(q, *found)

    def spans_for(self, q: qmod.Question, query: feat.Query, i: int) -> tuple[cand_mod.Span, ...]:
        """Sentence i's candidate spans, the hand rules' pick among them."""
        text = self.index.text(i)
        present = self.info(i).present
        matched = tuple(t for t in query.terms if t in present)
        rule = () if q.yes_no else extract.rule_spans(text, q, matched, self.index.is_common)
        return cand_mod.spans_with(text, rule)

    def reading_of(self, q: qmod.Question, query: feat.Query, ids: list[int], rows: np.ndarray,
                   bm25: np.ndarray) -> Reading:
        """The models' reading of a question's candidates (see `read`)."""
        index, models = self.index, self.models
        logits = models.ranker.score(rows)
        order = sorted(range(len(ids)), key=lambda k: (-logits[k], ids[k]))
        reading = Reading(q, query, ids, rows, logits, order, bm25)
        log_norm = float(np.logaddexp.reduce(logits))
        joint = []
        for r in order[:models.read]:
            text = index.text(ids[r])
            spans = self.spans_for(q, query, ids[r])
            if not spans:
                continue
            zrows = feat.span_features(query, text, spans)
            z = models.spans.score(zrows)
            logp = z - float(np.logaddexp.reduce(z))
            reading.read.append((r, spans, zrows, logp))
            for k in range(len(spans)):
                joint.append((float(logits[r]) - log_norm + float(logp[k]), r, k))
        joint.sort(key=lambda x: (-x[0], ids[x[1]], x[2]))
        reading.joint = joint
        self._confidence(reading)
        return reading

    def _confidence(self, reading: Reading) -> None:
        models = self.models
        if reading.joint:
            best_joint, r, k = reading.joint[0]
            spans, zrows, logp = next((s, z, p) for rr, s, z, p in reading.read if rr == r)
            reading.best = (r, k)
            second = sorted(logp, reverse=True)
            span_margin = float(second[0] - second[1]) if len(second) > 1 else 5.0
            joint_margin = best_joint - reading.joint[1][0] if len(reading.joint) > 1 else 5.0
            chosen = spans[k]
            span_mass = float(np.exp(logp[[j for j, o in enumerate(spans)
                                          if o.start < chosen.end and chosen.start < o.end]]
                                     ).sum())
            row = feat.confidence_features(
                self.index, reading.query, self.info, reading.ids[r], reading.rows[r],
                reading.logits, r, float(logp[k]), span_margin, joint_margin, zrows[k],
                chosen.kinds, span_mass, self._agreement(reading, r, chosen))
        else:
            r = reading.order[0]
            row = feat.confidence_features(
                self.index, reading.query, self.info, reading.ids[r], reading.rows[r],
                reading.logits, r, None, 0.0, 0.0, None, frozenset())
        reading.confidence_row = row
        reading.answer_confidence = models.answer_confidence.probability(row)
        reading.sentence_confidence = models.sentence_confidence.probability(row)

    def _agreement(self, reading: Reading, r: int, chosen: cand_mod.Span) -> float:
        """The share of the read (sentence, span) pairs' probability on spans that say what
        the chosen one says (sharing a content word with it): answers that agree across
        sentences and span boundaries are surer."""
        words = {t.term for t in terms_mod.tokens(self.index.text(reading.ids[r])[
            chosen.start:chosen.end]) if t.term}
        if not words:
            return 0.0
        joint = np.array([j for j, _, _ in reading.joint])
        total = float(np.exp(joint - joint.max()).sum())
        agree = 0.0
        texts = {rr: (self.index.text(reading.ids[rr]), s) for rr, s, _, _ in reading.read}
        for j, rr, kk in reading.joint:
            if j < joint.max() - AGREEMENT_RANGE:
                break  # sorted best first: the rest weigh too little to matter
            text, spans = texts[rr]
            sp = spans[kk]
            if any(t.term in words for t in terms_mod.tokens(text[sp.start:sp.end])):
                agree += float(np.exp(j - joint.max()))
        return agree / total

    # -- answering ----------------------------------------------------------------------------

    def ask(self, text: str, top: int = 3, context: Mapping[str, float] | None = None,
            explain: bool = False) -> Answer:
        """Answer one question: the short answer, the sentence with a highlighted span, or no
        answer, each with a calibrated confidence.

        `context` maps terms carried over from a conversation to weights in 0..1: each adds
        weight x its BM25, counts toward coverage at weight x its IDF, and is never the answer.
        With `explain`, the answer carries an Explanation (what /why shows).
        """
        text = text.strip()
        q = self.analyze(blank_controls(text))
        search, fixes = self.speller.search_terms(q.terms, q.tokens)
        reading = self.read(q, search, context)
        if reading is None:
            note = ("the question has no words to search for",) if not search and not context \
                else self._never_mentions(q, fixes)
            return Answer(question=text, found=False, answer=None, type=q.type, asked=q.type,
                          hits=(), terms=search, corrections=fixes, notes=note)
        return self._answer(text, reading, fixes, top, explain)

    def _answer(self, text: str, reading: Reading, fixes: tuple[tuple[str, str], ...],
                top: int, explain: bool = False) -> Answer:
        q, index, models = reading.question, self.index, self.models
        r, k = reading.best if reading.best else (reading.order[0], -1)
        first = [r] + [x for x in reading.order if x != r]
        hits = tuple(self._hit(reading, x) for x in first[:max(1, top)])
        sentence = hits[0].sentence
        span_list: list[tuple[int, int]] = []
        if k >= 0:
            spans = next(s for rr, s, _, _ in reading.read if rr == r)
            span_list = self._coordinated(reading, sentence.text, spans, k)
        common = dict(question=text, hits=hits, terms=reading.query.terms, corrections=fixes,
                      asked=q.type)
        if explain:
            common["explanation"] = self._explain(reading, first[:len(hits)], r, k, span_list)
        unknown = self._never_mentions(q, fixes) if hits[0].coverage < UNKNOWN_NAME_COVERAGE \
            else ()
        missing = self._lacks_attribute(q, r, reading)
        if reading.sentence_confidence < models.abstain_below or unknown or missing:
            return Answer(found=False, answer=None, type=q.type,
                          confidence=reading.sentence_confidence,
                          notes=unknown or missing or self._never_mentions(q, fixes), **common)
        if q.yes_no:
            # Yes/no questions ask for a verdict no training question asks for: the clause that
            # holds the question's words is the evidence (or the sentence).
            anchors = [t.start for t in terms_mod.tokens(sentence.text) if t.term in hits[0].matched]
            order = {t: n for n, t in enumerate(q.terms)}
            clause = cand_mod.evidence_clause(sentence.text, anchors,
                                             {t.start: order.get(t.term, 0)
                                              for t in terms_mod.tokens(sentence.text)
                                              if t.term in hits[0].matched})
            return Answer(found=True, answer=" ".join(sentence.text[a:b] for a, b in clause)
                          or sentence.text, type=EVIDENCE if clause else SENTENCE,
                          spans=tuple(clause), confidence=reading.sentence_confidence, **common)
        if not q.asks or not span_list or reading.answer_confidence < models.span_from:
            # Keywords, or a sentence more likely right than any span of it: the sentence,
            # with the best span highlighted rather than stated.
            return Answer(found=True, answer=sentence.text, type=SENTENCE,
                          highlight=tuple(span_list) if q.asks else (),
                          confidence=reading.sentence_confidence, **common)
        answer = " and ".join(sentence.text[a:b] for a, b in span_list)
        return Answer(found=True, answer=answer, type=q.type, spans=tuple(span_list),
                      confidence=reading.answer_confidence, **common)

    def _hit(self, reading: Reading, r: int) -> Hit:
        i = reading.ids[r]
        present = self.info(i).present
        p = float(np.exp(reading.logits[r] - np.logaddexp.reduce(reading.logits)))
        col = feat.SENTENCE_FEATURES.index("coverage")
        return Hit(sentence=self.index.sentence(i), score=p, bm25=float(reading.bm25[r]),
                   coverage=float(reading.rows[r][col]),
                   matched=tuple(t for t in reading.query.terms if t in present))

    def _coordinated(self, reading: Reading, text: str, spans: tuple[cand_mod.Span, ...],
                     k: int) -> list[tuple[int, int]]:
        """People joined to the best one by "and" who share the question's predicate:
        "X, and the director of Y (Z) W signed" answers "Who signed?" with X and W."""
        best = spans[k]
        alone = [(best.start, best.end)]
        if reading.question.wh != "who" or "name" not in best.kinds:
            return alone
        own = set(reading.query.terms)
        words = len(text[best.start:best.end].split())
        # Names like the best one (as many words, or more: "Zhang Keijan", not "CNSA").
        # A name joined by "and" must be written as one in the text (a capitalised word):
        # the text's own case, not the question's, so this cannot make answers case-dependent.
        people = sorted({(s.start, s.end) for s in spans if "name" in s.kinds
                         and len(text[s.start:s.end].split()) >= min(words, 2)
                         and any(w[:1].isupper() for w in text[s.start:s.end].split())
                         and not any(t.term in own for t in terms_mod.tokens(text[s.start:s.end]))})
        if (best.start, best.end) not in people:
            return alone
        group = [(best.start, best.end)]
        while True:  # leftwards: the nearest name the words between join to the group
            left = [p for p in people if p[1] <= group[0][0]
                    and cand_mod.joined(text[p[1]:group[0][0]])]
            if not left:
                break
            group.insert(0, max(left))
        while True:
            right = [p for p in people if p[0] >= group[-1][1]
                     and cand_mod.joined(text[group[-1][1]:p[0]])]
            if not right:
                break
            group.append(min(right))
        anchors = [t.start for t in terms_mod.tokens(text) if t.term in own]
        if len(group) == 1 or not anchors:
            return alone
        nearest = min(anchors, key=lambda a: min(abs(a - best.start), abs(a - best.end)))
        return alone if nearest < group[-1][1] else group

    def _explain(self, reading: Reading, shown: list[int], r: int, k: int,
                 span_list: list[tuple[int, int]]) -> Explanation:
        models, index = self.models, self.index
        weights = dict(zip(reading.query.terms, reading.query.weights))
        whys = []
        for x in shown:
            i = reading.ids[x]
            terms = []
            for t in reading.query.terms:
                tf, bm25 = index.term_weights(t, i)
                known = t in index.vocab
                terms.append(TermWeight(index.surfaces[index.vocab[t]] if known else t,
                                        weights[t], index.idf_of(t) if known else None, tf,
                                        bm25 * weights[t]))
            whys.append(SentenceWhy(tuple(terms),
                                    tuple(models.ranker.contributions(reading.rows[x])),
                                    float(reading.logits[x])))
        span: tuple = ()
        text = None
        if k >= 0:
            zrows = next(z for rr, _, z, _ in reading.read if rr == r)
            span = tuple(models.spans.contributions(zrows[k]))
            sentence = index.text(reading.ids[r])
            text = " and ".join(sentence[a:b] for a, b in span_list)
        return Explanation(tuple(whys), span, text,
                           tuple(models.answer_confidence.linear.contributions(
                               reading.confidence_row)),
                           reading.answer_confidence, reading.sentence_confidence,
                           models.abstain_below, models.span_from)

    # -- notes on an abstention --------------------------------------------------------------

    def unknown_names(self, q: qmod.Question, fixes: tuple[tuple[str, str], ...] = ()) -> list[str]:
        """Names in a question (proper nouns, whatever their case) that the text never uses,
        even misspelt, adjacent words joined: "Mars", "Mona Lisa"."""
        fixed = {typed for typed, _ in fixes}
        names: list[str] = []
        last_end = -2
        for t in q.tagged:
            term = terms_mod.term_of(t.text) if t.tag == "PROPN" else None
            if not term or term in self.index.vocab or t.text.lower() in fixed \
                    or t.text.lower() in terms_mod.QUESTION_WORDS:
                continue
            if names and q.text[last_end:t.start].strip() == "":
                names[-1] += " " + t.text
            else:
                names.append(t.text)
            last_end = t.end
        return list(dict.fromkeys(names))

    def _never_mentions(self, q: qmod.Question, fixes: tuple[tuple[str, str], ...]
                        ) -> tuple[str, ...]:
        names = self.unknown_names(q, fixes)
        return ("it never mentions " + ", ".join(names),) if names else ()

    def _lacks_attribute(self, q: qmod.Question, r: int, reading: Reading) -> tuple[str, ...]:
        """"What is the population of X?" over a text that names X but says nothing of its
        population, in the sentence or beside it."""
        a = q.attribute
        if a is None or a in qmod.CUE_TERMS:
            return ()
        i = reading.ids[r]
        if any(a in self.info(j).present for j in self.index.neighbours(i)):
            return ()
        word = next((q.text[t.start:t.end] for t in q.tokens if t.term == a), a)
        return (f"it never mentions the {word}",)

