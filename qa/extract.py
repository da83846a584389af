"""Hand rules for the short answer, kept as one feature of the learned span scorer.

They were written and tuned by hand before the scorer was learned; `rule_spans` gives their
pick, which the span scorer weighs as the evidence `features.py` calls "kind rule". Measured on
the dev split: without it the scorer's short-answer F1 is lower (README, "How answers are
found").
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache

from qa import question as qmod
from qa import terms as terms_mod
# The date and list patterns are the candidates' (a date with its preposition is one span).
from qa.candidates import _MONTH, _YEAR, DATE, list_runs

# Case matters for month names ("may", "march" are common words) outside the prepositions.
_CASED_MONTH = re.compile(_MONTH)

_NUMBER_WORDS = ("one two three four five six seven eight nine ten eleven twelve thirteen "
                 "fourteen fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty "
                 "sixty seventy eighty ninety hundred thousand million billion trillion dozen "
                 "dozens hundreds thousands millions billions several")
NUMBER = re.compile(rf"(?:(?:about|around|nearly|almost|over|more than|less than|some|up to) )?"
                    rf"(?:[$€£]\s?)?\d[\d,]*(?:\.\d+)?(?:\s?(?:%|percent|per cent))?"
                    rf"(?: (?:{_NUMBER_WORDS.replace(' ', '|')}))?"
                    rf"|\b(?:{_NUMBER_WORDS.replace(' ', '|')})(?:[ -](?:{_NUMBER_WORDS.replace(' ', '|')}))*\b",
                    re.IGNORECASE)

# A capitalised word, or a connector inside a name ("of", "de", "al-").
# A capitalised word; a possessive "'s" is not part of it ("Edgar's sister" names Edgar).
# An initial ("William E. Simon") is one too, when a capitalised word follows it.
_CAP = r"(?:[A-Z]\.(?=\s+[A-Z])|[A-Z](?:[\w'\u2019.-]*\w)?(?<!['\u2019]s)(?<!['\u2019]S))"
NAME_RUN = re.compile(rf"{_CAP}(?:(?:\s+(?:of|de|del|da|van|von|der|la|le|al|bin|and)"
                      rf"(?=\s+[A-Z]))?\s+{_CAP})*")
# Words that make a capitalised run an organisation, a role or a place rather than a person.
ORG_WORDS = frozenset("""agency administration council company corporation university ministry
department committee organization organisation institute bank group party union association
centre center office service services station court house republic kingdom states government
federation academy society commission authority foundation fund network media news press club
league board bureau command forces army navy program programme project mission parliament senate
assembly congress space national international""".split())
ROLE_WORDS = frozenset("""head deputy chief director president vice minister general secretary
chairman chairwoman chair leader spokesman spokeswoman spokesperson ambassador governor mayor
king queen prince princess emperor pope professor dr mr mrs ms sir lord lady captain commander
senator representative premier chancellor ceo founder""".split())
# Lower-case words inside a person's name: "Guyard de Moulin", "Ludwig van Beethoven".
# Normans short-answer F1 0.489 -> 0.493.
_PARTICLES = frozenset("de del da van von der la le bin al".split())
# Words that open a sentence or clause capitalised ("Since", "Along"), never a name's first word.
# Short-answer F1: 1973 oil 0.488 -> 0.498, Complexity 0.219 -> 0.222.
NON_NAME_WORDS = (terms_mod.STOPWORDS - {"will"}) | frozenset("""
after before since along among amongst although though unless despite unlike across against
around behind below beneath beside besides beyond within without throughout toward towards under
however moreover therefore hence instead indeed meanwhile nevertheless nonetheless whereas
whether once january february march april may june july august september october november
december monday tuesday wednesday thursday friday saturday sunday
""".split())

LOCATIVE = re.compile(r"\b(?:in|at|on|from|to|near|inside|outside|across|into|onto|"
                      r"throughout|within|beyond) ", re.IGNORECASE)
MANNER = re.compile(r"\b(?:by|through|via|using|with the help of|by means of|thanks to) ",
                    re.IGNORECASE)
REASON = re.compile(r"\b(?:because(?: of)?|due to|owing to|as a result of|in order to|so that|"
                    r"with the aim of|aimed at|for the purpose of|in an effort to|since|to) ",
                    re.IGNORECASE)
# A phrase after a manner/reason/place cue ends at punctuation or after this many words.
PHRASE_MAX_WORDS = 8
# Each word between a candidate and the nearest question word costs this much of a perfect
# type fit (1.0): near beats far, but a good fit a few words off beats a poor one next door.
DISTANCE_COST = 0.1
# How well a capitalised adjective ("the Russian space company") fits a who or where question.
# Normans short-answer F1 0.434 -> 0.455 at 0.3 (0.5: 0.444).
MODIFIER_PRIOR = 0.3
# A person gains this times the share of the question's words in the title the sentence gives
# them. Article short answers right 0.750 -> 0.778 (any weight 0.3-1.0), Normans unchanged.
ROLE_WEIGHT = 0.5
# How well a period ("a plan for 2018-2022") answers a question after a moment ("In what year
# ...?"). Article short answers right 0.819 -> 0.833 at 0.3 (from 0.5); SQuAD sets unchanged.
RANGE_PRIOR = 0.3
_COVERS = re.compile(r"\b(?:for|through|covering|spanning) $", re.IGNORECASE)
# A name beside the question's noun ("privileges (Edict of Potsdam)") gains this much.
# Short-answer F1: Huguenot 0.313 -> 0.324, 1973 oil 0.513 -> 0.516 (0.15-0.6 alike).
APPOSITION_BONUS = 0.3
CLAUSE_END = re.compile(r"[,;:.!?\u201d\"()]|\s(?:and|but|which|who|that|while|where)\s")


CommonWord = Callable[[str], bool]


def _never_common(word: str) -> bool:
    return False


@dataclass(frozen=True)
class Candidate:
    start: int
    end: int
    prior: float  # how well the span fits the expected type, 0..1


def _phrase_after(text: str, start: int, stop: re.Pattern[str] | None = None) -> int:
    """End of the phrase that starts at `start`: at a clause break or after a few words."""
    m = CLAUSE_END.search(text, start)
    end = m.start() if m else len(text)
    if stop is not None:
        m = stop.search(text, start, end)
        end = m.start() if m else end
    words = list(re.finditer(r"\S+", text[start:end]))
    if len(words) > PHRASE_MAX_WORDS:
        end = start + words[PHRASE_MAX_WORDS - 1].end()
    return end


# A capitalised word before a lower-case content word describes it ("the Russian space
# company", "Norman conquest"): an adjective, not the name of someone or somewhere. A verb
# after a name ("Rollo agreed", "the Normans were") does not make it one.
_MODIFIES = re.compile(r" (?!(?:%s)\b)[a-z][a-z-]*(?<!ed)(?<!ing)\b(?! (?:the|a|an|to|that)\b)"
                       % "|".join(sorted(terms_mod.STOPWORDS | {"said", "says", "told"})))


_AFTER_DETERMINER = re.compile(r"\b(?:the|a|an)\s+$", re.IGNORECASE)


def _acronym(word: str) -> bool:
    """"CNSA", "U.S": an organisation or a place; an initial ("E.") is part of a person's name."""
    return word.isupper() and not re.fullmatch(r"[A-Z]\.", word)


@lru_cache(maxsize=4096)
def _names(text: str, is_common: CommonWord) -> tuple[tuple[int, int, str], ...]:
    """Capitalised runs with a guess of their kind: person, org or name.

    `is_common(word)` says the corpus also uses the word in lower case, so capitalised it is
    a title or a sentence start ("International Cooperation"), not part of a person's name.
    """
    out = []
    for m in NAME_RUN.finditer(text):
        words = list(re.finditer(r"\S+", m.group()))
        # Drop leading words that are capitalised only because they start the sentence or clause.
        while words and words[0].group().lower().strip(".,") in NON_NAME_WORDS \
                and not (len(words[0].group()) > 1 and _acronym(words[0].group())):
            words.pop(0)
        if not words:
            continue
        lowered = [w.group().lower().strip(".,'\u2019") for w in words]
        # A person: the longest tail of plain capitalised words after any org or role word.
        tail = len(words)
        while tail > 0 and lowered[tail - 1] not in ORG_WORDS | ROLE_WORDS \
                and (lowered[tail - 1] not in ("of", "and", "de", "la", "le")
                     or (tail < len(words) and lowered[tail - 1] in _PARTICLES)) \
                and not _acronym(words[tail - 1].group()) and not is_common(lowered[tail - 1]):
            tail -= 1
        s0 = m.start()
        end = s0 + words[-1].end()
        if _MODIFIES.match(text, end) and _AFTER_DETERMINER.search(text, 0, s0 + words[0].start()):
            # "the Roman Catholic priest": words describing a noun, not a name of their own.
            out.append((s0 + words[0].start(), end, "modifier"))
            continue
        if len(words) - tail >= 2 and len(words) - tail <= 4:
            ps = s0 + words[tail].start()
            out.append((ps, s0 + words[-1].end(), qmod.PERSON))
            if tail > 0:
                out.append((s0 + words[0].start(), s0 + words[tail - 1].end(), "org"))
            continue
        if len(words) == 1 and (is_common(lowered[0]) or (
                m.start() == 0 and re.search(r"[a-z](?:ing|ed|ly)$", lowered[0]))):
            continue  # a common word, or "Escalating, he ...": capitalised as the first word
        kind = "org" if any(w in ORG_WORDS for w in lowered) or _acronym(words[0].group()) \
            else "name"
        if kind == "name" and _MODIFIES.match(text, end) and len(words) == 1:
            kind = "modifier"
        out.append((s0 + words[0].start(), end, kind))
    return tuple(out)


@lru_cache(maxsize=64)
def _date_spans(text: str) -> tuple[tuple[int, int], ...]:
    return tuple(m.span() for m in DATE.finditer(text))


def _is_date(text: str, start: int, end: int) -> bool:
    return any(a < end and start < b for a, b in _date_spans(text))


@lru_cache(maxsize=4096)
def candidates(text: str, kind: str, focus: str | None = None,
               is_common: CommonWord = _never_common) -> tuple[Candidate, ...]:
    """Spans of `text` that could answer a question of this kind."""
    out: list[Candidate] = []
    if kind == qmod.PERSON:
        for s, e, k in _names(text, is_common):
            if not _is_date(text, s, e):
                out.append(Candidate(s, e, {"person": 1.0, "org": 0.6, "name": 0.7,
                                            "modifier": MODIFIER_PRIOR}[k]))
    elif kind == qmod.DATE:
        for m in DATE.finditer(text):
            core = m.group()
            if re.fullmatch(r"(?:\w+ )?(?:may|march)", core, re.IGNORECASE) \
                    and not _CASED_MONTH.search(core):
                continue
            prior = 1.0
            # "a plan for 2018-2022": a period something covers, not when it happened, unless
            # the question asks for a period ("what years", focus "range"). A period an event
            # took ("the revolt of 1568-1609", "between 1621 and 1629") does say when.
            if re.match(r"(?i:for|from|through) ", core) \
                    or _COVERS.search(text, max(0, m.start() - 12), m.start()):
                prior = 1.0 if focus == qmod.RANGE else RANGE_PRIOR
            out.append(Candidate(m.start(), m.end(), prior))
    elif kind == qmod.NUMBER:
        for m in NUMBER.finditer(text):
            end, prior = m.end(), 0.8
            if re.fullmatch(_YEAR, m.group()):
                prior = 0.3
            nxt = re.match(r"\s+([\w-]+)", text[end:])
            if nxt and focus and terms_mod.term_of(nxt.group(1)) == focus:
                prior = 1.0
            out.append(Candidate(m.start(), end, prior))
    elif kind == qmod.PLACE:
        for m in LOCATIVE.finditer(text):
            end = _phrase_after(text, m.end(), LOCATIVE)
            phrase = text[m.end():end]
            if not phrase or _is_date(text, m.start(), end):
                continue
            out.append(Candidate(m.end(), end, 1.0 if re.search(r"\b[A-Z]", phrase) else 0.4))
        for s, e, k in _names(text, is_common):
            if k != qmod.PERSON and not _is_date(text, s, e):
                out.append(Candidate(s, e, MODIFIER_PRIOR if k == "modifier" else 0.6))
    elif kind == qmod.MANNER:
        for m in MANNER.finditer(text):
            end = _phrase_after(text, m.end())
            if end > m.end():
                out.append(Candidate(m.start(), end, 1.0))
    elif kind == qmod.REASON:
        for m in REASON.finditer(text):
            end = _phrase_after(text, m.end())
            if end > m.end():
                prior = 0.6 if m.group().strip().lower() == "to" else 1.0
                out.append(Candidate(m.start(), end, prior))
    elif kind == qmod.SENTENCE:
        pass  # phrase_candidates needs the question's words; extract_spans asks for them
    elif kind == qmod.LIST:
        for cue, start, end in list_runs(text):
            out.append(Candidate(start, end, 1.0 if cue.startswith(":") else 0.8))
    return tuple(out)


# Words that start or end no short answer ("was", "the", "and" at the edges of a run).
_EDGE_WORDS = terms_mod.STOPWORDS | {"said", "says", "told", "known", "called", "named"}
_RUN_BREAK = re.compile(r"[,;:()\"\u201c\u201d\u2013\u2014]|\.(?:\s|$)")


def phrase_candidates(text: str, question_terms: set[str]) -> list[Candidate]:
    """Runs of words the question does not contain, between clause marks: for "what" questions.

    The answer to a question is the part of its sentence the question leaves out; a run is cut
    at punctuation and at the question's own words, trimmed of function words at both ends.
    """
    out = []
    toks = terms_mod.tokens(text)
    run: list[terms_mod.Token] = []

    def close() -> None:
        while run and run[0].word in _EDGE_WORDS | _NEGATIONS:
            run.pop(0)
        while run and run[-1].word in _EDGE_WORDS | _NEGATIONS:
            run.pop()
        if run:
            words = run[:PHRASE_MAX_WORDS]
            out.append(Candidate(words[0].start, words[-1].end, 1.0))
        run.clear()

    prev_end = 0
    for t in toks:
        if _RUN_BREAK.search(text, prev_end, t.start):
            close()
        prev_end = t.end
        if (t.term and t.term in question_terms) or t.word in question_terms:
            close()
            continue
        run.append(t)
    close()
    return out


# Words that end a noun phrase read off after a verb: clause openers, auxiliaries, "to".
_PHRASE_STOP = frozenset("""to that which who whom whose when where while because although though
if but is are was were be been being has have had will would can could should may might must
said says told do does did not""".split())
_PREPOSITIONS = frozenset("""in on at for with from by into onto between towards toward under
over through during after before about against among across within without via per since until
like as behind beyond near upon""".split())
_DETERMINERS = frozenset("the a an its their his her our this these those".split())
_NEGATIONS = frozenset("not no never nor".split())
# A tie-break, far below a word of distance: per place later in the question.
QUESTION_ORDER_BONUS = 0.001
# The longest object phrase read off after a verb.
OBJECT_MAX_WORDS = 16


def object_candidates(text: str, question_terms: set[str], anchors: list[int],
                      question_end: str = "",
                      anchor_order: dict[int, int] | None = None) -> list[Candidate]:
    """Noun phrases right after a question word in the sentence: "What did they sign?" ->
    "...signed [a memorandum of understanding] on behalf...".

    A phrase takes any "of" and one other prepositional phrase ("tasks for the lunar base"),
    and stops at punctuation, a clause word, "to", or a second preposition. If the question
    ends in a preposition ("what is it for?"), a phrase may start with that preposition.
    Between two phrases the one after the later question word wins, as the question's verb
    follows its subject ("What did the chief discuss?": after "discussed", not "chief").
    """
    toks = terms_mod.tokens(text)
    anchor_set = set(anchors)
    out = []
    for k, tok in enumerate(toks):
        if tok.start not in anchor_set:
            continue
        j = k + 1
        if j < len(toks) and question_end and toks[j].word == question_end \
                and not re.search(r"[^\w\s-]", text[tok.end:toks[j].start]):
            j += 1
        elif j < len(toks) and toks[j].word == "of" and k > 0 \
                and toks[k - 1].word in ("the", "a", "an") \
                and not re.search(r"[^\w\s-]", text[tok.end:toks[j].start]):
            j += 1  # "the study of [the lunar surface]" for "What will be studied?"
        phrase: list[terms_mod.Token] = []
        preps = 0
        prev_end = toks[j - 1].end if j - 1 >= 0 else 0
        while j < len(toks) and len(phrase) < OBJECT_MAX_WORDS:
            t = toks[j]
            if re.search(r"[^\w\s'-]", text[prev_end:t.start]):
                break
            w = t.word
            if not phrase and (w in _PREPOSITIONS or w in ("of", "and", "or")):
                break
            if w in _PHRASE_STOP:
                break
            if w == "and" and j + 1 < len(toks) and toks[j + 1].word in _DETERMINERS:
                break  # "the study of [the surface] and the launch of ...": a second phrase
            if w in _PREPOSITIONS:
                # One prepositional phrase, unless an "of" phrase already closed the noun.
                if preps or any(p.word == "of" for p in phrase):
                    break
                preps += 1
            phrase.append(t)
            prev_end = t.end
            j += 1
        while phrase and (phrase[-1].word in _PREPOSITIONS or phrase[-1].word in _EDGE_WORDS):
            phrase.pop()
        # "called [Epidamnos] by the Greeks" for "What did the Greeks call it?": a closing
        # phrase of the question's own words adds nothing.
        cut = max((i for i, t in enumerate(phrase) if t.word in _PREPOSITIONS), default=0)
        if cut and all(t.term in question_terms or t.word in question_terms
                       for t in phrase[cut + 1:] if t.term):
            del phrase[cut:]
        content = [t for t in phrase if t.term]
        if not content or (content[0].term in question_terms or content[0].word in question_terms):
            continue
        if len(phrase) == 1 and re.search(r"[a-z]{2}ed$", phrase[0].word):
            continue  # "Isaac [surrendered]": a verb after the subject, not its object
        if all(t.term in question_terms or t.word in question_terms for t in content):
            continue
        later = (anchor_order or {}).get(tok.start, 0)
        out.append(Candidate(phrase[0].start, phrase[-1].end, 1.0 + QUESTION_ORDER_BONUS * later))
    return out


# "What is X?" answered by the other side of the text's "is". Short-answer F1: Complexity
# 0.222 -> 0.243, Huguenot 0.271 -> 0.277; with "which X is" below, 1973 oil 0.503 -> 0.513.
_COPULAS = frozenset("is are was were".split())
# Words before a copula that open its clause, so are not part of its subject.
_SUBJECT_STOP = _PHRASE_STOP | _COPULAS | {"since", "as", "than", "then", "whether", "so"}
_VERB_FORM = re.compile(r"[a-z]{2}(?:ing|ed)$")
# The longest subject read off before a copula.
SUBJECT_MAX_WORDS = 10


def copula_candidates(text: str, question_terms: set[str],
                      anchors: list[int]) -> list[Candidate]:
    """"What is the most common model?" over "[the Turing machine] is the most commonly used
    model": of the two sides of an "is", the one the question's words do not describe.

    A side runs from the copula to punctuation or a clause word; the subject side to at most
    SUBJECT_MAX_WORDS words. The answer side must hold a word the question does not.
    """
    toks = terms_mod.tokens(text)
    anchor_set = set(anchors)
    out = []
    for k, tok in enumerate(toks):
        if tok.word not in _COPULAS or (k + 1 < len(toks) and _VERB_FORM.search(toks[k + 1].word)):
            continue  # "are using", "was founded": an auxiliary, not a copula
        i = k
        while i > 0 and k - i < SUBJECT_MAX_WORDS and toks[i - 1].word not in _SUBJECT_STOP \
                and not re.search(r"[^\w\s'#-]", text[toks[i - 1].end:toks[i].start]):
            i -= 1
        subject = toks[i:k]
        while subject and subject[0].word in _EDGE_WORDS and subject[0].word not in _DETERMINERS:
            subject.pop(0)
        predicate: list[terms_mod.Token] = []
        j = k + 1
        while j < len(toks) and len(predicate) < OBJECT_MAX_WORDS \
                and toks[j].word not in _SUBJECT_STOP - {"not"} \
                and not re.search(r"[^\w\s'#-]", text[toks[j - 1].end:toks[j].start]):
            predicate.append(toks[j])
            j += 1
        while predicate and predicate[-1].word in _EDGE_WORDS | _PREPOSITIONS:
            predicate.pop()
        for asked, answer in ((predicate, subject), (subject, predicate)):
            if any(t.start in anchor_set for t in asked) \
                    and not any(t.start in anchor_set for t in answer) \
                    and any(t.term and t.term not in question_terms
                            and t.word not in question_terms for t in answer):
                out.append(Candidate(answer[0].start, answer[-1].end, 1.0))
    return out


# Where a text gives something's name: "a fortress called [Afranji]", "known as [the Camisards]".
_NAMING_CUE = re.compile(r"\b(?:called|named|dubbed|nicknamed|termed|titled|entitled|known as|"
                         r"referred to as|known by the name(?: of)?)\s+", re.IGNORECASE)
_QUOTED = re.compile(r"[\"\u201c\u2018]([^\"\u201d\u2019]{2,60})[\"\u201d\u2019]")
_NAMED_QUOTED = re.compile(r"(?:(?:the|a|an) )?" + _QUOTED.pattern)  # called the "first shock"
# A definition names its subject: "[A Turing machine] is a mathematical model of ...".
_DEFINED = re.compile(r"([A-Z][^,;:()]{0,60}?)\s+(?:is|are|was|were)\s+(?:a|an|the|any|one)\s")


_NEXT_WORD = re.compile(r"\W*\w[\w'-]*")
_NOUN_PHRASE_STOP = _PHRASE_STOP | _PREPOSITIONS | {"and", "or"}
_PHRASE_MARK = re.compile(r"[,;:.!?()\"\u201c\u201d]")


def _word_end(text: str, pos: int) -> int:
    """The end of the word after `pos`."""
    m = _NEXT_WORD.match(text, pos)
    return m.end() if m else pos


def _noun_phrase(text: str, toks: list[terms_mod.Token], j: int) -> list[terms_mod.Token]:
    """The words from toks[j] to the next punctuation, clause word or preposition."""
    phrase: list[terms_mod.Token] = []
    while j < len(toks) and toks[j].word not in _NOUN_PHRASE_STOP \
            and not (phrase and re.search(r"[^\w\s'-]", text[phrase[-1].end:toks[j].start])):
        phrase.append(toks[j])
        j += 1
    return phrase


_POSTMOD_START = frozenset("between of for with to in on from that which who against".split())


def postmodifier_candidates(text: str, noun: str) -> list[Candidate]:
    """The noun with the words after it that say which one: "What agreement did he mention?"
    -> "[an agreement between the parties to start ...]"."""
    toks = terms_mod.tokens(text)
    out = []
    for k, tok in enumerate(toks):
        if tok.term != noun or k + 1 >= len(toks) or toks[k + 1].word not in _POSTMOD_START:
            continue
        if toks[k + 1].word == "of":  # "the concept of [a reduction]": the of-phrase names it
            phrase = _noun_phrase(text, toks, k + 2)
            if phrase:
                out.append(Candidate(phrase[0].start, phrase[-1].end, 1.0))
            continue
        m = _PHRASE_MARK.search(text, tok.end)
        end = m.start() if m else len(text)
        words = list(re.finditer(r"\S+", text[tok.end:end]))[:OBJECT_MAX_WORDS]
        start = toks[k - 1].start if k and toks[k - 1].word in _DETERMINERS else tok.start
        if words:
            out.append(Candidate(start, tok.end + words[-1].end(), 1.0))
    return out


def owner_candidates(text: str, noun: str) -> list[Candidate]:
    """Whose the noun is, for "Whose son was he?" or "On whose behalf was it signed?":
    "[Rollo]'s son", "the son of [Rollo]", "on behalf of [their governments]"."""
    toks = terms_mod.tokens(text)
    out = []
    for k, tok in enumerate(toks):
        if tok.term != noun:
            continue
        if k + 1 < len(toks) and toks[k + 1].word == "of" \
                and not re.search(r"[^\w\s-]", text[tok.end:toks[k + 1].start]):
            phrase = _noun_phrase(text, toks, k + 2)
            if phrase:
                out.append(Candidate(phrase[0].start, phrase[-1].end, 1.0))
        owner = re.search(r"((?:[A-Z][\w-]*\s+)*[A-Z][\w-]*)['\u2019]s?\s+$", text[:tok.start])
        if owner:
            out.append(Candidate(owner.start(1), owner.end(1), 1.0))
    return out


def naming_candidates(text: str, question_terms: set[str]) -> list[Candidate]:
    """Names a sentence gives, for "What was it called?" and "What is the term for ...?": the
    phrase after "called" or "known as" (prior 1.0, 0.6 if the question has all its words),
    quoted words (0.8), and the subject of a definition (0.8)."""
    out = []
    for m in _NAMING_CUE.finditer(text):
        start = m.end()
        if quoted := _NAMED_QUOTED.match(text, start):
            start, end = quoted.start(1), quoted.end(1)
        elif run := NAME_RUN.match(text, start):
            end = run.end()
        else:
            end = _phrase_after(text, start)
            words = list(re.finditer(r"\S+", text[start:end]))[:4]
            end = start + words[-1].end() if words else start
        if end > start:
            c = Candidate(start, end, 1.0)
            out.append(replace(c, prior=0.6) if _overlaps_question(text, c, question_terms) else c)
    for m in _QUOTED.finditer(text):
        c = Candidate(m.start(1), m.end(1), 0.8)
        if not text[m.start() - 1:m.start()].isalnum() \
                and not _overlaps_question(text, c, question_terms):
            out.append(c)
    m = _DEFINED.match(text)
    if m and any(t.term for t in terms_mod.tokens(m.group(1))):
        c = Candidate(m.start(1), m.end(1), 0.8)
        if not _overlaps_question(text, c, question_terms):
            out.append(c)
    return out


# How many words before a noun can describe its kind ("rounded", "Early Gothic").
MODIFIER_MAX_WORDS = 3


def modifier_candidates(text: str, term: str) -> list[Candidate]:
    """The words just before `term` that say what kind it is: "...characterised by [rounded]
    arches" for "What kind of arches...?"."""
    toks = terms_mod.tokens(text)
    out = []
    for k, tok in enumerate(toks):
        if tok.term != term:
            continue
        j = k
        # A modifier is not a verb form ("defined using [Boolean] circuits").
        while j > 0 and k - j < MODIFIER_MAX_WORDS and toks[j - 1].term \
                and not toks[j - 1].word.endswith("ing") and toks[j - 1].word not in _NEGATIONS \
                and not re.search(r"[^\w\s-]", text[toks[j - 1].end:toks[j].start]):
            j -= 1
        if j < k:
            out.append(Candidate(toks[j].start, toks[k - 1].end, 1.0))
    return out


_ROLE_BREAK = re.compile(r"(?:^|[.;:!?]\s+|,\s+(?:and\s+)?|\s+(?:and|by|with|said|told|says)\s+)",
                         re.IGNORECASE)


def role_of(text: str, start: int, end: int) -> tuple[int, int] | None:
    """What a name is called in its sentence: the title before it ("the director of X Zhang
    Keijan", "The head of Y, Dmitry Rogozin,") or an appositive after it ("Ralph, earl of Z,")."""
    before = text[:start].rstrip()
    had_comma = before.endswith(",")
    before = before.rstrip(",").rstrip()
    breaks = list(_ROLE_BREAK.finditer(before))
    lo = breaks[-1].end() if breaks else 0
    phrase = before[lo:]
    if phrase and 1 <= len(phrase.split()) <= 12 and (had_comma or phrase[-1:].isalpha()
                                                      or phrase.endswith(")")):
        return lo, lo + len(phrase)
    after = re.match(r",\s+((?:the|a|an)\s+[^,;.]{3,80}?),", text[end:])
    if after:
        return end + after.start(1), end + after.end(1)
    return None


def _shares_a_name(text: str, start: int, end: int, question_names: set[str]) -> bool:
    """A name that holds a name of the question is the question's subject, not its answer:
    "Sergei Savelyev" for "What agency did Savelyev speak to?". What follows "of" ("Richard I
    of Normandy" for "Who ruled Normandy?") does not count."""
    head = re.split(r"\s+of\s+", text[start:end], maxsplit=1)[0]
    return any(t.term in question_names for t in terms_mod.tokens(head) if t.term)


def _describes_question_word(text: str, c: Candidate, question_words: set[str]) -> bool:
    """"a [French] version" for "Who translated this version?": an adjective of the question's
    own noun says what kind it is, not who or where."""
    m = _NEXT_WORD.match(text, c.end)
    return bool(m) and _is_question_word(m.group().strip(), question_words)


def _is_question_word(word: str, question_words: set[str]) -> bool:
    word = word.lower()
    return word in question_words or terms_mod.term_of(word) in question_words


def _overlaps_question(text: str, span: Candidate, question_words: set[str]) -> bool:
    """True when every content word of the span is already in the question."""
    words = [t for t in terms_mod.tokens(text[span.start:span.end]) if t.term]
    return bool(words) and all(t.term in question_words or t.word in question_words for t in words)


def type_fit(text: str, kind: str, question_terms: set[str], focus: str | None = None,
             is_common: CommonWord = _never_common) -> float:
    """How well the best span of the expected type fits (0..1); 0 when there is none."""
    return max((c.prior for c in candidates(text, kind, focus, is_common)
                if not _overlaps_question(text, c, question_terms)), default=0.0)


def extract_spans(text: str, kind: str, question_terms: set[str], anchors: list[int],
                  focus: str | None = None, is_common: CommonWord = _never_common,
                  question_end: str = "", identity: bool = False,
                  kind_of: str | None = None,
                  anchor_order: dict[int, int] | None = None,
                  head: str | None = None, naming: bool = False,
                  question_names: set[str] = frozenset(),
                  owned: str | None = None, copular: bool = False) -> list[tuple[int, int]]:
    """The short answer's spans in `text`, best first; empty when no span of that type is there.

    `anchors` are character offsets of the question's words in the sentence; a candidate near
    them wins. A candidate that only repeats the question is never the answer. `identity` marks
    "Who is NAME?": the answer is what the sentence calls that name.
    """
    if kind == qmod.SENTENCE:
        # The most specific reading that finds something: a kind, an object, any new phrase.
        cands = modifier_candidates(text, kind_of) if kind_of else []
        if not cands and naming:
            cands = naming_candidates(text, question_terms)
        if not cands and anchors and copular:
            cands = copula_candidates(text, question_terms, anchors)
        if not cands and head:
            # "For what purposes is it used?" over "...for peaceful purposes": the words the
            # text puts before the asked noun, with the noun.
            cands = [Candidate(c.start, _word_end(text, c.end), 1.0)
                     for c in modifier_candidates(text, head)
                     if not _overlaps_question(text, c, question_terms)]
        if not cands and (head or naming):
            # "Which Spanish officer founded it?": a name the question does not give.
            cands = [Candidate(s, e, 1.0) for s, e, k in _names(text, is_common)
                     if k != "modifier" and not _is_date(text, s, e)
                     and not _overlaps_question(text, Candidate(s, e, 1.0), question_terms)
                     and not _shares_a_name(text, s, e, question_names)]
        if not cands and head:
            cands = postmodifier_candidates(text, head)
        if not cands and anchors:
            cands = (object_candidates(text, question_terms, anchors, question_end, anchor_order)
                     or phrase_candidates(text, question_terms))
    elif kind == qmod.PERSON and identity:
        roles = [role_of(text, s, e) for s, e, k in _names(text, is_common)
                 if _overlaps_question(text, Candidate(s, e, 1.0), question_terms)]
        cands = [Candidate(r[0], r[1], 1.0) for r in roles if r]
    else:
        # "On whose behalf ...?": the noun's owner; otherwise any span of the type.
        cands = owner_candidates(text, owned) if kind == qmod.PERSON and owned else []
        cands = cands or [c for c in candidates(text, kind, focus, is_common)
                          if not _overlaps_question(text, c, question_terms)
                          and not (kind == qmod.PERSON
                                   and _shares_a_name(text, c.start, c.end, question_names))
                          and not (kind == qmod.PERSON and c.prior == MODIFIER_PRIOR
                                   and _describes_question_word(text, c, question_terms))]
        if copular and cands and anchors:
            # "Which country is the most dependent?" over "[Japan] was the country most
            # dependent": a span of the type inside the side of an "is" that answers.
            sides = copula_candidates(text, question_terms, anchors)
            cands = [c for c in cands if any(o.start <= c.start and c.end <= o.end
                                             for o in sides)] or cands
    if not cands:
        return []

    distances = _Distances(text, anchors)
    described = _described(text, cands, question_terms) if kind == qmod.PERSON else {}

    apposed = _Apposed(text, anchors, question_terms) if kind == qmod.SENTENCE else None

    def score(c: Candidate) -> float:
        return c.prior - DISTANCE_COST * distances.to(c) + ROLE_WEIGHT * described.get(c, 0.0) \
            + (APPOSITION_BONUS if apposed and apposed(c) else 0.0)

    # Between equals the later wins: an answer tends to follow the words it is asked by ("Savelyev
    # told [TASS]"). Short answers right: article 0.833 -> 0.847, 1973 oil 0.462 -> 0.472.
    best = max(cands, key=lambda c: (score(c), c.start))
    spans = [(best.start, best.end)]
    if kind == qmod.PERSON:
        spans = _coordinated(text, best, cands, anchors, spans)
    return spans


def _described(text: str, cands: list[Candidate], question_terms: set[str]) -> dict:
    """Per candidate person, the share of the question's words in the title the sentence gives
    them: "Who runs the space administration?" finds "the director of the National Space
    Administration, Z", whatever other names stand nearer a lone "space"."""
    content = {t for t in question_terms if t and t not in terms_mod.STOPWORDS}
    if not content:
        return {}
    out = {}
    for c in cands:
        role = role_of(text, c.start, c.end)
        if role:
            have = {t.term for t in terms_mod.tokens(text[role[0]:role[1]]) if t.term}
            out[c] = len(have & content) / len(content)
    return out


class _Apposed:
    """A span set beside a question word as its other name: "special privileges [(Edict of
    Potsdam)]", "[Huguon], the gate of King Hugo"."""

    def __init__(self, text: str, anchors: list[int], question_words: set[str]) -> None:
        self.text = text
        self.ends = {_word_end(text, a) for a in anchors}
        self.question_words = question_words

    def __call__(self, c: Candidate) -> bool:
        if not self.text[c.start].isupper():
            return False  # "Camp (former captain of ...)": a description, not a name
        before = re.search(r"\s*[(,]\s*$", self.text[max(0, c.start - 8):c.start])
        if before and c.start - len(before.group()) in self.ends:
            return True
        after = re.match(r"\s*,\s+(?:the|a|an)\s+([\w-]+)", self.text[c.end:])
        return bool(after) and _is_question_word(after.group(1), self.question_words)


class _Distances:
    """Words (and clause marks) between spans of one sentence, by bisection: linear in the
    sentence once, then logarithmic per candidate, however long the sentence."""

    def __init__(self, text: str, anchors: list[int]) -> None:
        self.words = [m.start() for m in re.finditer(r"\S+", text)]
        self.marks = [m.start() for m in _CLAUSE_MARK.finditer(text)]
        self.anchors = sorted(anchors)

    def _between(self, lo: int, hi: int) -> int:
        words = bisect_left(self.words, hi) - bisect_right(self.words, lo)
        return max(0, words) + bisect_left(self.marks, hi) - bisect_left(self.marks, lo)

    def to(self, c: Candidate) -> int:
        """From a candidate to the nearest anchor; 0 when an anchor lies inside it."""
        if not self.anchors:
            return 0
        k = bisect_left(self.anchors, c.start)
        if k < len(self.anchors) and self.anchors[k] < c.end:
            return 0
        gaps = []
        if k > 0:
            gaps.append(self._between(self.anchors[k - 1], c.start))
        if k < len(self.anchors):
            gaps.append(self._between(c.end, self.anchors[k]))
        return min(gaps)


_CLAUSE_MARK = re.compile(r"[,;:()\"\u201c\u201d]")


def _coordinated(text: str, best: Candidate, cands: list[Candidate], anchors: list[int],
                 spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """People joined to the best one by "and" who share the question's predicate.

    "X, and the director of Y, Z signed": both signed, when the question's words come after
    the whole group. When they come before ("head of Roscosmos, X"), X alone is described.
    """
    people = sorted((c for c in cands if c.prior == 1.0), key=lambda c: c.start)
    if best not in people or not anchors:
        return spans
    i = people.index(best)
    group = [best]
    for j in range(i - 1, -1, -1):
        if not _joined(text[people[j].end:group[0].start]):
            break
        group.insert(0, people[j])
    for j in range(i + 1, len(people)):
        if not _joined(text[group[-1].end:people[j].start]):
            break
        group.append(people[j])
    nearest = min(anchors, key=lambda a: min(abs(a - best.start), abs(a - best.end)))
    if len(group) == 1 or nearest < group[-1].end:
        return spans
    return [(c.start, c.end) for c in group]


def _joined(between: str) -> bool:
    return bool(re.search(r"\band\b", between)) and len(between.split()) <= 20 \
        and not re.search(r"[;.!?]|\b(?:said|told|says|while|but)\b", between)


# A question ending in one of these ("what is it for?") asks for the phrase after it.
PREPOSITION_ENDS = frozenset("for about with to from on in at of by".split())
# "Who is Zhang Keijan?": the answer is the name's title or role, not another name.
IDENTITY = re.compile(r"\s*(?i:and\s+)?(?i:who)\s+(?i:is|was|are|were)\s+"
                      r"(?:[A-Z][a-z][\w'.-]*\s*){1,4}\??\s*$")


def rule_spans(sentence: str, q: qmod.Question, matched: tuple[str, ...],
               is_common: CommonWord = _never_common) -> tuple[tuple[int, int], ...]:
    """The hand rules' short answer in a sentence, as one feature of the span scorer; they
    read the question in the text's own case (Question.read), so typing case changes nothing."""
    text = q.read or q.text
    toks = terms_mod.tokens(sentence)
    anchors = [t.start for t in toks if t.term in matched]
    order = {t: k for k, t in enumerate(q.terms)}
    anchor_order = {t.start: order.get(t.term, 0) for t in toks if t.term in matched}
    words = set(q.terms) | {t.word for t in q.tokens}
    end = q.tokens[-1].word if q.tokens and q.tokens[-1].word in PREPOSITION_ENDS else ""
    names = {t.term for k, t in enumerate(terms_mod.tokens(text))
             if k and t.term and text[t.start].isupper()}
    return tuple(extract_spans(sentence, q.type, words, anchors, q.focus, is_common,
                               question_end=end, identity=IDENTITY.match(text) is not None,
                               kind_of=q.kind_of, anchor_order=anchor_order, head=q.head,
                               naming=q.naming, question_names=names, owned=q.owned,
                               copular=q.copular))
