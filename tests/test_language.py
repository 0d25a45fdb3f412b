"""Language detection on realistic comments in the languages and scripts the site receives."""

from __future__ import annotations

import pytest

from workers import language_markers as markers
from workers.language import (
    ARABIC,
    ARABIC_SCRIPT,
    DARIJA,
    ENGLISH,
    FRENCH,
    LATIN_SCRIPT,
    MIXED,
    MIXED_SCRIPT,
    NO_SCRIPT,
    SPANISH,
    UNDETERMINED,
    Language,
    detect,
)


@pytest.mark.parametrize(
    "text",
    [
        "Le gouvernement doit enfin agir contre la hausse des prix, c'est inadmissible.",
        "Très bon article, merci.",
        "Je ne suis pas d'accord avec cette décision du ministère.",
        "tres bien dit, le maroc avance",
        "Le 2eme tour aura lieu en 2026, pas avant.",
    ],
)
def test_french(text: str) -> None:
    assert detect(text) == Language(FRENCH, LATIN_SCRIPT)


@pytest.mark.parametrize(
    "text",
    [
        "Estoy de acuerdo con el gobierno, es una buena noticia para Marruecos.",
        "Con todo respeto, el árbitro se equivocó.",
        "Me encanta Marrakech, la gente es muy amable.",  # Marrakech is no Darija negation
        "Muy buen artículo, gracias por la información.",
    ],
)
def test_spanish(text: str) -> None:
    """Read as French or Darija before, its "con" ("with") was a French insult."""
    assert detect(text) == Language(SPANISH, LATIN_SCRIPT)


@pytest.mark.parametrize(
    "text",
    [
        "Il a marqué un but de la tête, entre deux défenseurs.",  # "un", "de", "entre", é
        "Le bilan de Marrakech est bon.",
    ],
)
def test_words_french_shares_with_spanish_still_count_for_french(text: str) -> None:
    assert detect(text) == Language(FRENCH, LATIN_SCRIPT)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Morocco, España and Portugal will host the 2030 World Cup, what a moment.", ENGLISH),
        ("Les prix à Hay Riad et à Tan-Tan ont doublé.", FRENCH),
        ("I moved from El Jadida to Rabat for work.", ENGLISH),
    ],
)
def test_spanish_names_and_places_do_not_make_a_comment_spanish(text: str, code: str) -> None:
    assert detect(text).code == code


@pytest.mark.parametrize(
    "text",
    [
        "This is a great article, thank you for sharing it with us.",
        "I had no idea the new law was that strict. What do they expect people to do?",
    ],
)
def test_english(text: str) -> None:
    assert detect(text) == Language(ENGLISH, LATIN_SCRIPT)


@pytest.mark.parametrize(
    "text",
    [
        "هذا القرار خطير جدا ويجب على الحكومة أن تتراجع عنه فورا",
        "لقد أصبح الوضع الاقتصادي صعبا، والمواطن هو الذي يدفع الثمن.",
        "شكرا على المقال",
    ],
)
def test_modern_standard_arabic(text: str) -> None:
    assert detect(text) == Language(ARABIC, ARABIC_SCRIPT)


@pytest.mark.parametrize(
    "text",
    [
        "واش هاد الحكومة غادي تدير شي حاجة للشباب ولا غير الهضرة؟",
        "هادشي بزاف، الله يهدي ما خلق",
        "ماكاينش اللي يسمع للمواطن، ديما نفس الشي",
        "بزااااف عليهم",
    ],
)
def test_darija_in_arabic_script(text: str) -> None:
    assert detect(text) == Language(DARIJA, ARABIC_SCRIPT)


@pytest.mark.parametrize(
    "text",
    [
        "wach had l9anon mzyan? 3afak chi wa7ed yfhemni",
        "7ta wa7ed ma 3ndo l7a9 yhder 3la had chi",
        "bzzzzaf 3lihom, khoya",
        "Had la loi machi mzyana, khass l gouvernement ybadlha",
        "mabghitch nhder, daba ghadi tchoufo",
    ],
)
def test_darija_in_latin_letters(text: str) -> None:
    assert detect(text) == Language(DARIJA, LATIN_SCRIPT)


def test_french_and_arabic_sentences_are_mixed() -> None:
    text = "Très bon article, merci pour ce travail. الله يحفظ بلادنا من كل سوء"
    assert detect(text) == Language(MIXED, MIXED_SCRIPT)


def test_french_and_english_sentences_are_mixed() -> None:
    text = "Je suis tout à fait d'accord avec vous. This is exactly what the country needs."
    assert detect(text) == Language(MIXED, LATIN_SCRIPT)


def test_darija_in_both_scripts_is_darija() -> None:
    text = "wach had chi mzyan 3afak? واش هادشي مزيان"
    assert detect(text) == Language(DARIJA, MIXED_SCRIPT)


def test_a_name_in_latin_letters_leaves_the_arabic_part_language() -> None:
    assert detect("Bravo Hespress! الله يحفظكم") == Language(ARABIC, MIXED_SCRIPT)


def test_a_short_arabic_phrase_in_a_french_comment_stays_french() -> None:
    text = "Bravo à toute l'équipe pour cet article très complet sur la réforme. شكرا"
    assert detect(text) == Language(FRENCH, LATIN_SCRIPT)


@pytest.mark.parametrize("text", ["👍👍", "!!!", "", "2024", "؟؟"])
def test_no_letters_is_undetermined_without_script(text: str) -> None:
    assert detect(text) == Language(UNDETERMINED, NO_SCRIPT)


@pytest.mark.parametrize(
    ("text", "script"),
    [("ok", LATIN_SCRIPT), ("لا", ARABIC_SCRIPT), ("Bravo Hamid", LATIN_SCRIPT)],
)
def test_too_short_or_markerless_text_is_undetermined(text: str, script: str) -> None:
    assert detect(text) == Language(UNDETERMINED, script)


def test_one_marker_each_is_undetermined() -> None:
    assert detect("the le") == Language(UNDETERMINED, LATIN_SCRIPT)


def test_arabic_diacritics_and_tatweel_do_not_hide_darija_markers() -> None:
    assert detect("وَاشْ هَـادْشِي مْزْيَـــانْ") == Language(DARIJA, ARABIC_SCRIPT)


def test_links_and_mentions_are_not_words() -> None:
    assert detect("https://bit.ly/3xYzQ") == Language(UNDETERMINED, NO_SCRIPT)
    text = "الرابط الرسمي للتسجيل: https://www.tawjihi.ma — نرجو التأكد قبل النشر"
    assert detect(text) == Language(ARABIC, ARABIC_SCRIPT)


@pytest.mark.parametrize(
    ("text", "script"), [("hhhhhhh", LATIN_SCRIPT), ("ههههههه", ARABIC_SCRIPT)]
)
def test_laughter_has_a_script_but_no_language(text: str, script: str) -> None:
    assert detect(text) == Language(UNDETERMINED, script)


@pytest.mark.parametrize(
    "text",
    [
        "Had lwazir khasso ymchi f halo",  # article joined to a noun, y- verb, "f"
        "kolchi kaydir li bgha, makayn la mora9aba la walo",  # "la" is Darija "no" here
        "hamdoullah wldi dkhl l'ecole dyal les ingenieurs",  # French loans in Darija
    ],
)
def test_darija_word_shapes_and_loanwords_stay_darija(text: str) -> None:
    assert detect(text) == Language(DARIJA, LATIN_SCRIPT)


@pytest.mark.parametrize(
    "text",
    [
        "كنتسنى البطاقة من شهرين ومازال ما جاتش",  # كـ present, negation written apart
        "الركراكي راجل معقول، الله يحفظو",  # object ending -و
        "راك غالط فهادشي",  # "ف" joined to a marker
    ],
)
def test_darija_verb_forms_and_joined_prepositions(text: str) -> None:
    assert detect(text) == Language(DARIJA, ARABIC_SCRIPT)


@pytest.mark.parametrize(
    "text",
    [
        "سيتم الإعلان عن النتائج في يونيو المقبل",  # a month in -يو is no Darija verb
        "كيفية التسجيل غير واضحة في الموقع",  # an MSA noun in كي- is no Darija verb
        "تألق بونو في المباراة وأنقذ فريقه",  # one name in -و is not enough
    ],
)
def test_msa_lookalikes_of_darija_verb_forms_stay_msa(text: str) -> None:
    assert detect(text) == Language(ARABIC, ARABIC_SCRIPT)


@pytest.mark.parametrize(
    "text",
    [
        "Great game tonight! Quelle ambiance au stade, c'était magnifique.",
        "Les prix des moutons sont délirants cette année, 7na makanqdroch nchriw",
        "ana m3ak, mais il faut aussi parler du chômage des jeunes diplômés.",
    ],
)
def test_a_clause_in_each_language_is_mixed(text: str) -> None:
    assert detect(text) == Language(MIXED, LATIN_SCRIPT)


@pytest.mark.parametrize(
    "text",
    [
        "Wallah, c'est la vérité.",
        "Hamdoullah pour la pluie, enfin un peu d'espoir pour les agriculteurs.",
    ],
)
def test_a_single_darija_word_in_its_own_clause_leaves_french(text: str) -> None:
    assert detect(text) == Language(FRENCH, LATIN_SCRIPT)


def test_unmarked_arabic_beside_latin_darija_is_darija() -> None:
    assert detect("had lmatch kan zwin bzaf, الله يعطيكم الصحة") == Language(DARIJA, MIXED_SCRIPT)
    assert detect("Quel match ! الله يحفظ المغرب") == Language(MIXED, MIXED_SCRIPT)


def test_to_dict() -> None:
    assert detect("Merci beaucoup").to_dict() == {"code": "fr", "script": "latin"}


def test_marker_lists_share_no_word() -> None:
    """A word in two lists would silently count for only one language."""
    latin = [
        markers.FRENCH_WORDS,
        markers.ENGLISH_WORDS,
        markers.DARIJA_LATIN_WORDS,
        markers.SPANISH_WORDS,
    ]
    assert sum(map(len, latin)) == len(frozenset().union(*latin))
    assert markers.DARIJA_ARABIC_WORDS.isdisjoint(markers.MSA_WORDS)
    # French markers that Spanish shares count for French only without Spanish around
    assert markers.FRENCH_SPANISH_WORDS <= markers.FRENCH_WORDS
