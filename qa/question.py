"""What a question asks: the type of answer it expects and the content terms to search for."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from qa import tagger
from qa import terms as terms_mod

# Answer types, in the JSON "type" field.
PERSON, DATE, PLACE, NUMBER, LIST, MANNER, REASON, SENTENCE = (
    "person", "date", "place", "number", "list", "manner", "reason", "sentence")

_NOUN_PERSON = (r"(?:person|people|man|woman|official|leader|head|chief|director|president|"
                r"minister|author|founder|ceo|spokes(?:man|woman|person)|king|queen|ruler)")
_NOUN_DATE = r"(?:years?|dates?|days?|months?|time|decades?|centur(?:y|ies)|period|season|era|weeks?)"
# "What kind of arches ...": the answer is what the text puts before "arches" ("rounded").
_KIND_OF = re.compile(r"\bwhat (?:kind|kinds|type|types|sort|sorts|style|form) of ([a-z]+)")
# A question after a span of time ("what years does it cover") rather than a moment.
RANGE = "range"
# Longer questions are cut to this many characters in every mode (nobody types more; BM25 and
# the reader need less, and a 500,000-word question must not take minutes).
MAX_QUESTION_CHARS = 2000
_ASKS_RANGE = re.compile(r"\b(?:years|period|span|decades|centuries|months|dates)\b")
# Keywords without a question word that end in a type noun: "signing date", "station location",
# "ceremony format".
_KEYWORD_TYPE = [(DATE, re.compile(r"\b(?:date|year|time|day|when)$")),
                 (PLACE, re.compile(r"\b(?:place|location|venue|where)$")),
                 (MANNER, re.compile(r"\b(?:format|method|manner|means|mode|how)$"))]
_NOUN_PLACE = (r"(?:place|city|country|countries|town|region|location|site|state|continent|"
               r"area|venue|platform|network|website|island|river|province|nation)")
_NOUN_LIST = (r"(?:sections?|parts?|items?|areas|components?|elements?|topics?|kinds|types|"
              r"points|steps|stages|chapters?|fields|things|aspects|goals|tasks|list)")

# Keywords that open with a title: "director of the space administration", "head of X".
_KEYWORD_PERSON = re.compile(rf"^(?:and |or )?(?:the )?{_NOUN_PERSON} of\b")
# "What is the population of China?": the attribute asked about. A text that never names it
# next to the question's other words does not answer the question.
_ATTRIBUTE = re.compile(r"^(?:what|which|how much|how many) (?:is|are|was|were|s) (?:the|a|an) "
                        r"(\w+) (?:of|in|for)\b")

# "What was the naval base called?", "the name of the castle", "another term for X": the answer
# is what the text calls something. A name after the cue ("a town called Caen") is given, not asked.
_NAMING = re.compile(r"\b(?:called|named|dubbed|nicknamed|termed|known as|referred to as)"
                     r"(?=\s*(?:$|\?|what\b|(?-i:[a-z])))|"
                     r"\bwhat (?:other )?(?:name|term)s?\b|"
                     r"\b(?:the|another|other|a|common|general) (?:name|term|word)s? "
                     r"(?:of|for|given|used|that|is|was)\b|\b(?:another|other) (?:name|term)\b",
                     re.IGNORECASE)

# "What is the most used model?", "Which city was ...": the answer is something the text says
# "is" what the question describes.
_COPULAR = re.compile(r"\b(?:what|which)(?: \w+)? (?:is|are|was|were)\b(?! \w+(?:ed|ing)\b)")

# "Name a luxury division of Toyota": asks, like "which division", for one of something.
_IMPERATIVE = re.compile(r"^(?:name|list|give|tell me) (?:a|an|one|two|three|some|the|any) ")
# A question opening with one of these and no question word asks yes or no.
_AUXILIARIES = frozenset("""is are was were am do does did will would can could shall should
may might must has have had""".split())

# Short-answer F1 Huguenot 0.277 -> 0.282 with the relative rule, 1973 oil 0.498 -> 0.494.
_RELATIVE_WORDS = frozenset("who whom whose when where".split())
_WHAT = re.compile(r"\b(?:what|which)\b")

# Ordered rules: the first pattern that matches the normalised question decides its type.
TYPE_RULES: list[tuple[str, re.Pattern[str]]] = [
    (NUMBER, re.compile(r"\bhow (?:many|much|long|old|far|big|large|often)\b|"
                        r"\bwhat (?:number|percentage|percent|amount|proportion)\b|"
                        r"\bnumber of\b")),
    (DATE, re.compile(rf"\bwhen\b|\b(?:what|which|in which|on which) {_NOUN_DATE}\b|"
                      rf"\bwhat time\b")),
    (PLACE, re.compile(rf"\bwhere\b|\b(?:what|which|in which|on which|from which) "
                       rf"(?:\w+ )?{_NOUN_PLACE}\b")),
    (PERSON, re.compile(rf"\bwho(?:m|se)?\b|\b(?:what|which) {_NOUN_PERSON}\b")),
    (REASON, re.compile(r"\bwhy\b|\bfor what (?:reason|purpose)\b|"
                        r"\bwhat (?:is|was|were|are) the (?:aim|goal|purpose|reason|objective)s?\b")),
    (LIST, re.compile(rf"\b(?:what|which)\b.*\b{_NOUN_LIST}\b|"
                      r"\bwhat (?:does|do|did|will)\b.*\b(?:include|consist|comprise|cover|contain)|"
                      # "What were the two districts?": F1 Huguenot 0.282 -> 0.288.
                      r"\b(?:what|which) (?:\w+ ){0,2}(?:two|three|four|five|several|[2-9])\b")),
    (MANNER, re.compile(r"\bhow\b")),
]

# Words that only say what kind of answer is wanted; texts rarely contain them, so coverage
# does not demand them. Written as Snowball stems, so that no stemmer loads at import;
# tests/test_question.py checks them against the words they stand for.
TYPE_CUE_WORDS = ("year date day month time decade century period place location person people "
                  "name number many much kind type way reason purpose happen happened")
TYPE_CUE_TERMS = frozenset("""centuri date day decad happen kind locat mani month much name number
peopl period person place purpos reason time type way year""".split())
# Nouns that name the answer's type ("what country", "which year", "what official"): a text
# says "France", not "country", so they count for little in the search.
CUE_WORDS = ("city country countries town region site state continent area venue platform "
             "network website island river province nation man woman official leader head chief "
             "director president minister author founder ceo king queen ruler season era week "
             "spokesman spokeswoman spokesperson")
CUE_TERMS = TYPE_CUE_TERMS | frozenset("""area author ceo chief citi contin countri director era
founder head island king leader man minist nation network offici platform presid provinc queen
region river ruler season site spokesman spokesperson spokeswoman state town venu websit week
woman""".split())


@dataclass(frozen=True)
class Question:
    """A question: the text typed, the answer type it asks for, and the terms to search."""

    text: str
    type: str
    terms: tuple[str, ...]  # content terms, in order, repeats dropped
    asks: bool = True  # phrased as a question (a question word, or "?"), not bare keywords
    attribute: str | None = None  # "what is the population of X": the term the answer must name
    yes_no: bool = False  # "Does the plan cover remote sensing?": the answer is the evidence
    read: str = ""  # the question in the text's own case (see canonical_case)
    # For the hand rules of qa/extract.py, one feature of the span scorer:
    focus: str | None = None  # the term after "how many" ("sections"), if any
    kind_of: str | None = None  # "what kind of arches": the term whose modifier is the answer
    head: str | None = None  # "which Spanish officer ...": the noun after "what" or "which"
    naming: bool = False  # "What was the base called?": the answer is a name the text gives
    owned: str | None = None  # "On whose behalf ...?": the term whose owner is asked for
    copular: bool = False  # "What is the most used model?": the answer is what "is" it
    tokens: tuple[terms_mod.Token, ...] = ()  # the question's words, tokenised once
    tagged: tuple[tagger.Token, ...] = ()  # the same text as the tagger reads it, tagged
    wh: str = "none"  # the question word that sets what is asked: one of WH
    focus_term: str | None = None  # the noun naming the answer's kind: "which [country]"
    verb: str | None = None  # the term of the question's main verb
    names: tuple[str, ...] = ()  # terms of its proper nouns, read from tags (any case)
    numbers: tuple[str, ...] = ()  # terms of its numbers


def _relative(norm: str, m: re.Match[str]) -> bool:
    """"What were Huguenots who stayed known as?": a bare who, when or where after "what" or
    "which" opens a relative clause; it is not what the question asks."""
    return m.group() in _RELATIVE_WORDS and _WHAT.search(norm, 0, m.start()) is not None


# What a question asks, by its question word; a feature of every learned model.
WH = ("who", "whose", "when", "where", "why", "how", "how many", "how much", "what", "which",
      "yes/no", "none")
_HOW_AMOUNT = {"many": "how many", "much": "how much", "long": "how many", "old": "how many",
               "far": "how many", "big": "how much", "large": "how much", "often": "how many"}


def answer_type(text: str, toks: list[terms_mod.Token] | None = None) -> str:
    if toks is None:
        toks = terms_mod.tokens(text)
    norm = " ".join(w.word for w in toks)
    norm = _IMPERATIVE.sub("which ", norm)  # "name a country that ..." asks "which country"
    # The question word that comes first decides: "Who led them when ..." asks for a person.
    found = [(m.start(), order, kind) for order, (kind, pattern) in enumerate(TYPE_RULES)
             if (m := pattern.search(norm)) and not _relative(norm, m)]
    if found:
        return min(found)[2]
    for kind, pattern in _KEYWORD_TYPE:
        if pattern.search(norm):
            return kind
    if _KEYWORD_PERSON.search(norm):
        return PERSON
    return SENTENCE


def _wh(words: list[str], imperative: bool) -> str:
    """The class of the first question word ("how many" counts as one), else yes/no or none."""
    if imperative:
        return "which"
    for i, w in enumerate(words):
        if w in ("who", "whom"):
            return "who"
        if w in ("whose", "when", "where", "why", "what", "which"):
            return w
        if w == "how":
            nxt = words[i + 1] if i + 1 < len(words) else ""
            return _HOW_AMOUNT.get(nxt, "how")
    if words and words[0] in _AUXILIARIES:
        return "yes/no"
    return "none"


_NOMINAL = frozenset(("NOUN", "PROPN"))
# After "what"/"which": words that only say "a kind of" before the noun that matters.
_KIND_WORDS = frozenset("kind kinds type types sort sorts form forms style".split())


def _focus_and_verb(tagged: tuple[tagger.Token, ...], wh: str) -> tuple[str | None, str | None]:
    """The noun after the question word ("which [country]", "how many [sections]", "what kind
    of [arches]") and the question's main verb, from the tags."""
    focus = verb = None
    low = [t.text.lower() for t in tagged]
    start = next((k for k, w in enumerate(low) if w in ("what", "which", "how", "whose")),
                 0 if wh == "which" else None)  # "name a [division] of ...": after the verb
    if start is not None and wh in ("what", "which", "how many", "how much", "whose"):
        k = start + (2 if wh in ("how many", "how much") else 1)
        while k < len(tagged) and (tagged[k].tag in ("ADJ", "DET", "NUM")
                                   or (low[k] in _KIND_WORDS) or low[k] == "of"):
            k += 1
        # "what kind of arches": the noun after "of"; "which country's": the noun itself.
        while k < len(tagged) and tagged[k].tag in _NOMINAL:
            focus = terms_mod.term_of(tagged[k].text)
            if k + 1 < len(tagged) and tagged[k + 1].tag in _NOMINAL:
                k += 1
                continue
            break
    for t in tagged:
        if t.tag == "VERB":
            verb = terms_mod.term_of(t.text)
            if verb:
                break
    return focus, verb


def canonical_case(text: str, toks: list[terms_mod.Token],
                   spelling: Callable[[str], str | None]) -> str:
    """The question as the tagger should read it, whatever case it was typed in: each word
    as the text spells it (`spelling(word)`: its spelling there, "" for a word the text writes
    in lower case, None for a word it never uses), a word the text never uses capitalised
    only when the tagger knows it as a name or not at all, the first letter capitalised.

    Typed in lower case, in capitals or as usual, a question reads the same: its answer does
    not depend on the case it was typed in.
    """
    out, last = [], 0
    for t in toks:
        word = text[t.start:t.end]
        written = spelling(t.word)
        if written is None:
            ambiguity = tagger.model().features.ambiguity(tagger.fold(word))
            written = word.lower().title() if ambiguity in ("?", "PROPN") \
                and t.word not in terms_mod.STOPWORDS and t.word.isalpha() else word.lower()
        elif not written or len(written) != len(word):
            written = word.lower()
        out += [text[last:t.start].lower(), written]
        last = t.end
    canonical = "".join(out) + text[last:].lower()
    return canonical[:1].upper() + canonical[1:]


def analyze_question(text: str, spelling: Callable[[str], str | None] | None = None
                     ) -> Question:
    """Type the question and keep its content terms (question words and stopwords dropped);
    tokenise and tag it once, for every stage after. With `spelling` (see `canonical_case`),
    the tagger reads the question in the text's own case, not the case it was typed in."""
    toks = terms_mod.tokens(text)
    kind = answer_type(text, toks)
    content = tuple(dict.fromkeys(terms_mod.terms(text)))
    words = [t.word for t in toks]
    focus = None
    for i, w in enumerate(words[:-1]):
        if w == "how" and words[i + 1] in ("many", "much") and i + 2 < len(toks):
            focus = toks[i + 2].term
            break
    kind_of = None
    m = _KIND_OF.search(" ".join(words))
    if m and kind == SENTENCE:
        kind_of = terms_mod.term_of(m.group(1))
    if kind == DATE and _ASKS_RANGE.search(" ".join(words)):
        focus = RANGE
    imperative = _IMPERATIVE.match(" ".join(words))
    head = None
    for i, w in enumerate(words[:-1]):
        if w in ("what", "which") and toks[i + 1].term:
            head = toks[i + 1].term
            break
    if imperative:
        head = next((t.term for t in toks[2:] if t.term), None)
    m = _ATTRIBUTE.match(" ".join(words))
    attribute = terms_mod.term_of(m.group(1)) if m else None
    yes_no = bool(words) and words[0] in _AUXILIARIES and kind == SENTENCE \
        and not any(w in terms_mod.QUESTION_WORDS for w in words)
    asks = text.rstrip().endswith("?") or any(w in terms_mod.QUESTION_WORDS for w in words) \
        or imperative is not None
    read = canonical_case(text, toks, spelling) if spelling else text
    naming = kind == SENTENCE and _NAMING.search(read) is not None
    if naming:
        attribute = None  # "What is the term for X?" asks for a name, not X's "term"
    owned = next((toks[i + 1].term for i, w in enumerate(words[:-1]) if w == "whose"), None)
    copular = _COPULAR.search(" ".join(words)) is not None
    tagged = tuple(tagger.tagged(read))
    wh = _wh(words, imperative is not None)
    focus_term, verb = _focus_and_verb(tagged, wh)
    names = tuple(dict.fromkeys(term for t in tagged if t.tag == "PROPN"
                                and (term := terms_mod.term_of(t.text))
                                and t.text.lower() not in terms_mod.QUESTION_WORDS))
    numbers = tuple(dict.fromkeys(term for t in tagged if t.tag == "NUM"
                                  and (term := terms_mod.term_of(t.text))))
    return Question(text=text, type=kind, terms=content, asks=asks, attribute=attribute,
                    yes_no=yes_no, read=read, focus=focus, kind_of=kind_of, head=head,
                    naming=naming, owned=owned, copular=copular, tokens=tuple(toks),
                    tagged=tagged, wh=wh, focus_term=focus_term, verb=verb, names=names,
                    numbers=numbers)
