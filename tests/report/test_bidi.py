from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from plugin.report.bidi import has_right_to_left, visual_order


def _letters(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def test_left_to_right_text_is_unchanged() -> None:
    assert visual_order("L4-L5 (8/10) боль 腰痛") == "L4-L5 (8/10) боль 腰痛"
    assert not has_right_to_left("боль")


def test_arabic_word_is_reversed_into_joined_forms() -> None:
    shown = visual_order("ألم")
    names = [unicodedata.name(c) for c in shown]
    assert names == [
        "ARABIC LETTER MEEM FINAL FORM",
        "ARABIC LETTER LAM INITIAL FORM",
        "ARABIC LETTER ALEF WITH HAMZA ABOVE ISOLATED FORM",
    ]
    assert _letters(shown)[::-1] == "ألم"


def test_lam_alef_becomes_the_mandatory_ligature() -> None:
    assert unicodedata.name(visual_order("لا")) == "ARABIC LIGATURE LAM WITH ALEF ISOLATED FORM"


def test_fonts_without_a_form_keep_the_letter() -> None:
    assert visual_order("ألم", covered=lambda _: False) == "ملأ"


def test_hebrew_words_are_reversed_as_a_run_inside_latin_text() -> None:
    assert visual_order("pain כאב גב here") == "pain בג באכ here"


def test_numbers_inside_a_right_to_left_run_keep_their_digit_order() -> None:
    shown = visual_order("כאב 12.5 גב")
    assert shown == "בג 12.5 באכ"


def test_brackets_are_mirrored_inside_a_run() -> None:
    assert visual_order("כאב (גב)") == "(בג) באכ"


@given(st.text(alphabet=st.sampled_from("אבגדה ,.()0123abc")))
def test_reordering_keeps_every_character(text: str) -> None:
    mirrored = str.maketrans("()", ")(")
    shown = visual_order(text)
    assert sorted(shown.translate(mirrored).replace("(", ")")) == sorted(text.replace("(", ")"))
