from __future__ import annotations

import pytest

from qa.extract import evidence_clause, extract_spans, modifier_candidates

SIGNED = ("The head of the space company Acme, Dmitry Rogozin, and the director of the "
          "Chinese National Space Administration (CNSA) Zhang Keijan signed a memorandum on "
          "Tuesday.")


def spans(text, kind, question_words, anchor_words, focus=None, **options):
    anchors = [text.index(w) for w in anchor_words]
    return [text[a:b] for a, b in extract_spans(text, kind, set(question_words), anchors, focus,
                                                **options)]


def test_who_gives_the_people_who_share_the_verb():
    assert spans(SIGNED, "person", {"sign", "signed", "memorandum"}, ["signed", "memorandum"]) \
        == ["Dmitry Rogozin", "Zhang Keijan"]


def test_who_described_by_the_question_gives_one_person():
    assert spans(SIGNED, "person", {"head", "acme"}, ["head", "Acme"]) == ["Dmitry Rogozin"]


def test_an_answer_never_repeats_the_question():
    got = spans(SIGNED, "person", {"zhang", "keijan", "signed", "sign"}, ["Zhang", "signed"])
    assert got and "Zhang Keijan" not in got


def test_when_gives_the_date_expression():
    assert spans(SIGNED, "date", {"sign", "signed"}, ["signed"]) == ["on Tuesday"]
    text = "In November 2017, the agencies signed a plan for 2018-2022."
    assert spans(text, "date", {"2018-2022", "plan", "signed"}, ["plan"]) == ["In November 2017"]


def test_how_many_prefers_the_number_of_the_counted_thing():
    text = "The 2018 plan includes six sections and 12 annexes."
    assert spans(text, "number", {"plan", "section"}, ["plan"], focus="section") == ["six"]


def test_where_gives_the_place_phrase():
    text = "CNSA said in a statement posted on social media WeChat."
    assert spans(text, "place", {"cnsa", "statement", "posted", "post"}, ["statement", "posted"]) \
        == ["social media WeChat"]


def test_list_gives_the_enumerated_items():
    text = "It includes three parts: the moon, deep space, and materials."
    assert spans(text, "list", {"part", "parts", "includes"}, ["parts"]) \
        == ["the moon, deep space, and materials"]


def test_how_gives_the_means():
    text = "The signing ceremony took place by videoconference."
    assert spans(text, "manner", {"ceremony", "held"}, ["ceremony"]) == ["by videoconference"]


def test_no_span_of_the_type_gives_nothing():
    assert spans("The plan was good.", "date", {"plan"}, ["plan"]) == []


def test_who_prefers_the_person_whose_title_the_question_gives():
    text = ("The head of the Russian space company Acme, Dmitry Rogozin, and the director of "
            "the National Space Administration (CNSA) Zhang Keijan signed.")
    # "space" stands next to Acme's people as well as in the administration's name.
    words = {"run", "runs", "nation", "national", "space", "administr", "administration"}
    anchors = [text.index(w) for w in ("space", "National", "Space", "Administration")]
    got = extract_spans(text, "person", words, anchors)
    assert [text[a:b] for a, b in got] == ["Zhang Keijan"]
    words = {"head", "russian", "space", "compani", "company"}
    assert spans(text, "person", words, ["head", "Russian", "space", "company", "Space"]) \
        == ["Dmitry Rogozin"]


def test_a_capitalised_adjective_is_not_a_person_or_a_place():
    text = "The Norman conquest of England was led by William."
    assert spans(text, "person", {"led", "conquest"}, ["conquest", "led"]) == ["William"]
    assert spans("The French lands lay near Rouen.", "place", {"lands", "lay"}, ["lands"]) \
        == ["Rouen"]


def test_a_yes_no_question_gets_the_clause_that_holds_its_words():
    text = ("It includes six sections: the study of the moon, satellites and their use, "
            "cooperation in remote sensing data and other issues.")
    anchors = [text.index("remote"), text.index("sensing")]
    assert [text[a:b] for a, b in evidence_clause(text, anchors)] \
        == ["cooperation in remote sensing data and other issues"]
    assert evidence_clause("The plan covers remote sensing.", anchors[:0]) == []


def test_a_middle_initial_stays_in_the_name():
    text = "The first administrator of the office was William E. Simon, appointed in 1973."
    assert spans(text, "person", {"first", "administr", "administrator", "offic", "office"},
                 ["administrator", "office"]) == ["William E. Simon"]


def test_what_kind_of_gives_the_modifier_not_the_verb_before_it():
    text = "AC and NC are classes defined using Boolean circuits."
    assert [text[c.start:c.end] for c in modifier_candidates(text, "circuit")] == ["Boolean"]


def test_a_yes_no_tie_goes_to_the_clause_with_the_questions_later_word():
    text = "It includes six sections: the moon, satellites and their use, other issues."
    includes, satellites = text.index("includes"), text.index("satellites")
    got = evidence_clause(text, [includes, satellites], {includes: 1, satellites: 2})
    assert [text[a:b] for a, b in got] == ["satellites and their use"]


def naming(text, question_words, anchor_words):
    return spans(text, "sentence", question_words, anchor_words, naming=True)


def test_a_naming_question_gets_the_name_after_called_or_in_quotes():
    text = 'After the flood the storm was later called the "Great Gale" by sailors.'
    assert naming(text, {"storm", "flood"}, ["storm", "flood"]) == ["Great Gale"]
    text = "Within a year the harbour, known as Port Vell, was closed to trade."
    assert naming(text, {"harbour", "year"}, ["harbour"]) == ["Port Vell"]


def test_a_name_may_repeat_the_questions_words():
    # "What is the term for ships that carry oil?": "oil tankers" holds a word of the question.
    text = "Ships that carry oil are called oil tankers."
    assert naming(text, {"ship", "ships", "carri", "carry", "oil"}, ["Ships", "carry"]) \
        == ["oil tankers"]


def test_a_definition_names_its_subject():
    text = "A caravel is a small sailing ship of the fifteenth century."
    assert naming(text, {"small", "sail", "sailing", "ship"}, ["small", "sailing", "ship"]) \
        == ["A caravel"]


def test_what_noun_gets_the_words_the_text_puts_before_that_noun():
    text = "The treaty allowed the river to be used for peaceful purposes by all the towns."
    assert spans(text, "sentence", {"purpos", "purposes", "river", "use", "used"},
                 ["river", "used", "purposes"], head="purpos") == ["peaceful purposes"]


def test_a_name_holding_a_name_of_the_question_is_not_its_answer():
    text = "Deputy Head of Trade Anna Petrova told Reuters in May that talks had begun."
    words = {"news", "agenc", "agency", "petrova", "speak"}
    assert spans(text, "sentence", words, ["Petrova"], head="news",
                 question_names={"petrova"}) == ["Reuters"]  # the later of two as near
    # What follows "of" is not the name's own: "Richard of Normandy" answers who ruled it.
    text = "The duchy was ruled by Richard of Normandy after 942."
    assert spans(text, "person", {"rule", "ruled", "duchi", "normandi"}, ["duchy", "ruled"],
                 question_names={"normandi"}) == ["Richard of Normandy"]


def test_a_period_answers_what_year_less_well_than_a_moment():
    text = "In March 1998, the two towns signed a trade plan for 2001-2005."
    assert spans(text, "date", {"year", "trade", "plan", "agre", "agreed"}, ["trade", "plan"]) \
        == ["In March 1998"]


def test_a_verb_asked_as_a_noun_gets_its_of_phrase_up_to_the_next_phrase():
    # "What will be studied?" over "the study of X and the launch of Y": X.
    text = "Next year will see the study of the polar ice and the launch of two probes."
    assert spans(text, "sentence", {"studi", "studied"}, ["study"]) == ["the polar ice"]


def test_whose_asks_for_the_owner_of_its_noun():
    text = "The envoys signed the treaty on behalf of their kings at Tilsit in 1807."
    assert spans(text, "person", {"behalf", "treati", "treaty", "sign", "signed"},
                 ["signed", "treaty", "behalf"], owned="behalf") == ["their kings"]
    text = "In 911 Rollo's son William was born at Rouen."
    assert spans(text, "person", {"son", "born"}, ["son", "born"], owned="son") == ["Rollo"]


def test_what_noun_gets_the_words_after_that_noun_that_say_which_one():
    text = "He announced a treaty between the two cities to share the river, signed in May."
    assert spans(text, "sentence", {"treati", "treaty", "announc", "announced"},
                 ["announced", "treaty"], head="treati") \
        == ["a treaty between the two cities to share the river"]
    text = "The idea of a common market was first raised in 1950."
    assert spans(text, "sentence", {"idea", "first", "rais", "raised"}, ["idea", "raised"],
                 head="idea") == ["a common market"]


def test_an_object_phrase_drops_a_closing_phrase_of_the_questions_words():
    text = "It was called Epidamnos by the Greeks."
    assert spans(text, "sentence", {"greek", "greeks", "call"}, ["called"]) == ["Epidamnos"]


def test_a_clause_opening_word_is_not_a_name():
    # "Since" and "Along" are capitalised only as the first word of the sentence.
    text = "Since Petrov, no director has stayed a year."
    assert spans(text, "person", {"director", "stay", "stayed"}, ["director"]) == ["Petrov"]
    text = "Along the river, Bexley is the largest borough."
    assert spans(text, "sentence", {"largest", "borough"}, ["borough"], head="largest") \
        == ["Bexley"]


def test_what_is_asks_for_the_other_side_of_the_texts_is():
    text = "Being cheap to build, the steam drum is the most widely used boiler in mills."
    assert spans(text, "sentence", {"most", "wide", "wide", "use", "used", "boiler", "mill"},
                 ["most", "widely", "used", "boiler", "mills"], copular=True) == ["the steam drum"]
    text = "The capital of the province is Tarragona, a port."
    assert spans(text, "sentence", {"capit", "capital", "provinc", "province"},
                 ["capital", "province"], copular=True) == ["Tarragona"]


def test_an_auxiliary_is_not_a_copula():
    # "What are the farmers building a bridge for?": "are building", not "are [a thing]".
    text = "The farmers are using old boats and new nets to build a bridge for crossing the river."
    assert spans(text, "sentence", {"farmer", "farmers", "build", "building", "bridg", "bridge"},
                 ["farmers", "bridge"], copular=True, question_end="for") \
        == ["crossing the river"]


def test_a_negation_alone_is_no_answer():
    text = "The cloth is not a carpet but a work of embroidery."
    got = spans(text, "sentence", {"kind", "carpet", "cloth"}, ["cloth", "carpet"],
                kind_of="needlework", head="kind")
    assert got and got != ["not"]


def test_a_verb_after_the_subject_is_not_its_object():
    text = "Isaac surrendered and was confined with silver chains."
    assert spans(text, "sentence", {"isaac", "chain", "chains", "made"},
                 ["Isaac", "chains"], question_end="of") != ["surrendered"]


@pytest.mark.parametrize("text, want", [
    ("The revolt lasted 1568\u20131609 in the north.", "1568\u20131609"),
    ("The colony fell in 1759-60 to the British.", "in 1759-60"),
    ("The uprisings were put down between 1702 and 1709 by troops.", "between 1702 and 1709"),
    ("Strikes spread in the winter of 1973\u201374 across the mines.",
     "in the winter of 1973\u201374"),
])
def test_a_span_of_years_is_one_date(text, want):
    assert spans(text, "date", {"revolt", "colony", "uprisings", "strikes"},
                 [w for w in ("revolt", "colony", "uprisings", "Strikes") if w in text]) == [want]


def test_a_period_an_event_took_says_when_but_a_period_covered_does_not():
    text = "The rebels rose between 1621 and 1629, and a truce for 1630-1640 was signed in 1629."
    assert spans(text, "date", {"rebel", "rebels", "rose"}, ["rebels"]) \
        == ["between 1621 and 1629"]
    assert spans(text, "date", {"truce", "sign", "signed"}, ["truce", "signed"]) == ["in 1629"]


def test_a_particle_inside_a_persons_name_belongs_to_it():
    text = "Pierre Vaux said the book was put into French by the parish priest, Guyard de Moulin."
    assert spans(text, "person", {"french", "put"}, ["French"]) == ["Guyard de Moulin"]


def test_capitalised_words_after_the_describing_a_noun_are_no_name():
    # "the Roman Catholic priest": an adjective run, not a person called "Roman Catholic".
    text = "The hymns were written by the Roman Catholic priest of the parish, Jean Morel."
    got = spans(text, "person", {"hymn", "hymns", "written", "write"}, ["hymns", "written"])
    assert got == ["Jean Morel"]


def test_who_is_not_answered_by_an_adjective_of_the_questions_noun():
    text = ("In 1350, a Dutch version of the Psalms was produced in the abbey by the Benedictine "
            "monk, Pieter Verhoef.")
    assert spans(text, "person", {"translat", "version", "psalm", "psalms"},
                 ["version", "Psalms"]) == ["Pieter Verhoef"]


def test_which_noun_is_takes_the_span_of_the_type_on_the_answering_side_of_is():
    text = "Bolivia was the country most dependent on rail after Peru."
    assert spans(text, "place", {"countri", "country", "most", "depend", "dependent", "rail"},
                 ["country", "most", "dependent", "rail"], copular=True) == ["Bolivia"]


def test_a_name_set_beside_the_questions_noun_names_it():
    text = ("The towns won new rights (the Charter of Ghent) from Count Louis of Flanders and "
            "Duke Philip of Burgundy.")
    assert spans(text, "sentence", {"charter", "rights", "right", "town", "towns", "flander"},
                 ["towns", "rights"], head="charter") == ["Charter of Ghent"]
    text = "Legend held that Porta Nigra, the gate of King Ulric, was haunted by a ghost."
    assert spans(text, "sentence", {"gate", "known"}, ["gate"], naming=True) == ["Porta Nigra"]


def test_a_description_in_brackets_is_not_a_name_beside_the_noun():
    text = "Walter Camp (former captain of the Yale football team) wanted a wider field."
    assert spans(text, "sentence", {"school", "walter", "camp", "captain", "footbal", "team"},
                 ["Walter", "Camp", "captain", "football", "team"], head="school") == ["Yale"]
