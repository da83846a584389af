from __future__ import annotations

import subprocess
import sys

import pytest

from qa import terms as terms_mod
from qa.terms import STOPWORDS, WORD, stem, terms, tokens


def test_terms_are_lowercased_stemmed_and_stopped():
    assert terms("The Signing of the Memorandums") == ["sign", "memorandum"]


def test_compound_numbers_and_names_stay_findable():
    assert terms("plan for 2018-2022") == ["plan", "2018-2022", "2018", "2022"]
    assert "cnsa" in terms("CNSA said")
    assert "wechat" in terms("posted on WeChat")


def test_unicode_is_normalised():
    assert terms("\uff37\uff45\uff23\uff48\uff41\uff54") == terms("WeChat")  # full-width letters
    assert terms("Russia\u2019s") == terms("Russia's") == ["russia"]


def test_meaning_bearing_words_are_kept():
    for word in ("not", "no", "before", "after", "first", "never"):
        assert word not in STOPWORDS


def test_question_words_are_not_terms():
    assert terms("who when where why how which what") == []


def test_tokens_keep_offsets():
    text = "Rogozin signed it."
    toks = tokens(text)
    assert [text[t.start:t.end] for t in toks] == ["Rogozin", "signed", "it"]
    assert toks[1].term == stem("signed") and toks[2].term is None


@pytest.mark.parametrize("text", ["The 2018-2022 plan's co-chairs met at 3.5 p.m. in O'Brien's e-mail.",
                                  "Zhang Keijan (CNSA) said: \u201cit's done\u201d \u2014 in Stra\u00dfe"])
def test_terms_and_tokens_agree_with_terms_and_tokens(text):
    assert terms_mod.terms_and_tokens(text) == (terms_mod.terms(text), terms_mod.tokens(text))


def test_the_english_stemmer_is_snowball_s_without_its_other_languages():
    import snowballstemmer

    from qa.terms import english_stemmer

    from qa.reader import VOCAB_PATH

    # the reader's vocabulary: 20,000 and more English words and word pieces
    words = [w for w in VOCAB_PATH.read_text(encoding="utf-8").split() if WORD.fullmatch(w)]
    words += ["sky's", "generously", "dying", "cañada"]
    theirs = snowballstemmer.stemmer("english")
    ours = english_stemmer()
    assert len(words) > 20_000
    assert [ours.stemWord(w) for w in words] == [theirs.stemWord(w) for w in words]
    # the point of it: a fresh process stems without importing the 35 other languages
    probe = ("import sys; from qa.terms import stem; assert stem('signing') == 'sign'; "
             "print(sorted(m for m in sys.modules if 'stemmer' in m))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout
    assert "english_stemmer" in out and "french" not in out and "'snowballstemmer'" not in out
