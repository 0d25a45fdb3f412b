"""Word lists (workers/wordlists.py, wordforms.py, darija.py): normalisation, obfuscations,
whole-word matching, each term in its languages, Darija spellings, emoji and the shipped
seed lists. Their storage in Redis and the API: tests/test_wordlist_storage.py and
tests/test_moderation.py."""

from __future__ import annotations

import pytest

from moderator.storage.wordlists import Term
from workers.language import detect
from workers.wordlists import WORDLIST_KINDS, WordList, normalise, quoted_only, seed_terms

BENIGN_COMMENTS = [
    "Le conseil municipal a voté la classe préparatoire, c'est une bonne nouvelle.",
    "Tu as raison, le Niger et le Mali sont des voisins importants pour la région.",
    "La salle arabe du musée est magnifique. Le train a du retard, comme toujours.",
    "Our assistant manager in Scunthorpe is a lovable rascal; the class was great.",
    "3afak khoya, wach had l9anon mzyan? 7ta wa7ed ma fhem walo.",
    "Mra khra ghadi nchoufou, machi chi 7aja khra: khass l9anon y3awd.",  # khra: other
    "La technique est unique, et le cône de glace coûte 455 dirhams.",
    "الحكومة تقود الإصلاحات، والوالدة بخير. الله يحفظ بلادنا.",
    "واش هاد الحكومة غادي تدير شي حاجة للشباب؟ بالنسبة ليا هادشي مزيان.",
    "Le président Tebboune a parlé; تبون تحدث عن الجزائر.",
    "Pros and cons of the new law: the consensus is constructive.",
    # Words that insult elsewhere, innocent here.
    "He is a con man and the police caught him, good news for the victims.",
    "Nice bite of the apple, thanks for the recipe.",
    "زامل اللاعب الدولي زملاءه في المنتخب لسنوات طويلة.",
    "عزي وفخري هو هذا الوطن الذي نحبه جميعا.",
    "نيك كيريوس فاز بالمباراة أمس.",
    "الشوارع وسخة والمياه قذرة في الحي، أين المجلس الجماعي؟",
    # Animals and people named, not insulted.
    "L7mar dyal jddi mazal kaykhdem f lfla7a.",
    "Lklab f zn9a kaykhl3o drari, la commune khassha tdir chi 7aja.",
    "Les migrants sahraouis et les juifs marocains ont leur place dans ce débat.",
    "المواطنون الأمازيغ واليهود المغاربة جزء من هذا الوطن.",
    "Bravo aux Lions 🦁👏 et bon appétit 🍲",
]


def found(words: WordList, text: str, language: str = "und") -> list[str]:
    """The terms `words` finds in `text`, a comment in `language`."""
    return [term.term for term in words.matches(text, language)]


def in_comment(words: WordList, text: str) -> list[str]:
    """The terms `words` finds in `text`, in the language the detector finds."""
    return found(words, text, detect(text).code)


# --- obfuscations --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Connard!",
        "CONNNNARD",
        "c0nnard",
        "c.o.n.n.a.r.d",
        "c o n n a r d",
        "c-o-n-n-a-r-d",
        "c_o_n_n_a_r_d",
        "conard",
        "Quel c0nn@rd celui-là",
        "co\u200bnnard",
        "con\u2066nard",  # a bidirectional isolate
    ],
)
def test_obfuscated_spellings_match(text: str) -> None:
    assert found(WordList(["connard"]), text) == ["connard"]


@pytest.mark.parametrize("text", ["$alope", "5alope", "sal0pe", "SALOOOOPE", "s a l o p e"])
def test_leetspeak_symbols_and_digits(text: str) -> None:
    assert found(WordList(["salope"]), text) == ["salope"]


def test_one_is_tried_as_i_and_as_l() -> None:
    assert found(WordList(["idiot", "salaud"]), "1d10t et sa1aud") == ["idiot", "salaud"]


def test_accents_fold_both_ways() -> None:
    assert found(WordList(["enculé"]), "ENCULE") == ["enculé"]
    assert found(WordList(["batard"]), "Bâtard !") == ["batard"]
    assert found(WordList(["pétasse"]), "petasse") == ["pétasse"]


def test_arabic_diacritics_and_tatweel_are_removed() -> None:
    assert found(WordList(["شرموطة"]), "يا شَرْمُوطَـــــة") == ["شرموطة"]


@pytest.mark.parametrize("text", ["احمق", "أحمق", "إحمق", "آحمق", "ٱحمق"])
def test_alef_variants_fold(text: str) -> None:
    assert found(WordList(["أحمق"]), text) == ["أحمق"]


def test_hamza_carriers_alef_maqsura_and_ta_marbuta_fold() -> None:
    assert found(WordList(["مؤخرة"]), "موخره") == ["مؤخرة"]
    assert found(WordList(["خائن"]), "خاين") == ["خائن"]
    assert found(WordList(["حقيرة"]), "حقيره") == ["حقيرة"]
    assert found(WordList(["مستشفى"]), "مستشفي") == ["مستشفى"]


def test_stretched_arabic_letters_collapse() -> None:
    assert found(WordList(["قحبة"]), "قحبــــــــة قححححبة") == ["قحبة"]


def test_arabic_article_is_tried_off() -> None:
    words = WordList(["قحبة"])
    assert found(words, "القحبة") == ["قحبة"]
    assert found(words, "والقحبة") == ["قحبة"]


def test_an_arabic_word_is_tried_without_a_joined_conjunction() -> None:
    """و and ف are written joined to the next word ("and", "so"): an insult after them is
    still found, in plural too; the word is read whole as well, and a stem keeps three
    letters."""
    words = WordList([Term.of("عاهرة", ["ar", "ary"]), Term.of("أحمق", ["ar"])])
    assert found(words, "زاملة وعاهرة", "ary") == ["عاهرة"]
    assert found(words, "مدرب غبي وأحمق", "ar") == ["أحمق"]
    assert found(words, "فعاهرات", "ar") == ["عاهرة"]
    assert found(WordList([Term.of("ابن الحرام", ["ar"])]), "لص وابن الحرام", "ar") == [
        "ابن الحرام"
    ]
    assert found(WordList([Term.of("وسخ", ["ar"])]), "الحي وسخ", "ar") == ["وسخ"]  # whole
    assert found(WordList([Term.of("سخ", ["ar"])]), "الحي وسخ", "ar") == []  # two letters
    assert found(WordList([Term.of("مكلخ", ["ary"])]), "ومكلخين", "ary") == ["مكلخ"]  # Darija


def test_arabic_sound_plurals_are_tried_as_singulars() -> None:
    """Modern Standard Arabic's sound plurals (-ون, -ين, -ات), article or not; a stem
    keeps three letters ("بين", "فات" stay words of their own)."""
    words = WordList([Term.of("مهاجر", ["ar", "ary"]), Term.of("خائن", ["ar"])])
    assert found(words, "المهاجرون ليسوا بشرا", "ar") == ["مهاجر"]
    assert found(words, "هؤلاء خائنون", "ar") == ["خائن"]
    assert found(words, "الخاينات", "ar") == ["خائن"]
    assert found(WordList([Term.of("با", ["ar"])]), "بات", "ar") == []


def test_arabic_presentation_forms_fold() -> None:
    assert found(WordList(["كلب"]), "\ufedb\ufee0\ufe8f") == ["كلب"]


def test_look_alike_letters_in_latin_words_are_read_as_latin() -> None:
    assert found(WordList(["connard"]), "quel cоnnard") == ["connard"]  # Cyrillic о
    assert found(WordList(["idiot"]), "ιdiot") == ["idiot"]  # Greek iota
    assert found(WordList(["mir"]), "мир") == []  # a Russian word stays Russian


def test_an_arabic_word_cut_between_tatweels_is_joined() -> None:
    assert found(WordList(["كلب"]), "يا ابن الكلـ.ـب") == ["كلب"]
    assert found(WordList(["كلب"]), "كلـ*ـب") == ["كلب"]


@pytest.mark.parametrize(
    ("term", "text"),
    [
        ("con", "Le conseil a voté"),
        ("con", "une déconvenue"),
        ("ass", "la classe et l'assistant"),
        ("ass", "you rascal"),
        ("cunt", "Scunthorpe United"),
        ("pute", "une dispute, la réputation"),
        ("nique", "la technique unique"),
    ],
)
def test_no_match_inside_other_words(term: str, text: str) -> None:
    assert found(WordList([term]), text) == []


@pytest.mark.parametrize(
    ("term", "innocent", "stretched"),
    [
        ("ass", "tu as raison", "asss"),
        ("nigger", "le Niger", "nigggger"),
        ("sale arabe", "la salle arabe", "saaaale arabe"),
        ("conne", "un cône", "connnne"),
    ],
)
def test_short_terms_need_their_doubled_letters(term: str, innocent: str, stretched: str) -> None:
    """Collapsing runs must not turn everyday words into listed ones; stretching still matches."""
    words = WordList([term])
    assert found(words, innocent) == []
    assert found(words, stretched) == [term]


def test_numbers_and_prices_are_not_de_leeted() -> None:
    assert found(WordList(["ass"]), "455 dirhams, 455$") == []
    assert found(WordList(["ass"]), "a$$") == ["ass"]


@pytest.mark.parametrize(
    "text",
    ["espèce de fils de pute", "FILS  DE  PUTE", "fils-de-pute", "fils.de.p.u.t.e", "filsdepute"],
)
def test_multi_word_terms(text: str) -> None:
    assert found(WordList(["fils de pute"]), text) == ["fils de pute"]


@pytest.mark.parametrize("text", ["fils de", "de pute fils", "fils de putain", "fils, de la pute"])
def test_multi_word_terms_need_every_word_in_order(text: str) -> None:
    assert found(WordList(["fils de pute", "Pute!"]), text) == (
        ["Pute!"] if "pute" in text.split() else []
    )


# --- languages -----------------------------------------------------------------------


def test_a_term_is_found_only_in_its_languages() -> None:
    """A French insult: "con" is also Spanish "with" and English "swindle"."""
    words = WordList([Term.of("con", ["fr"])])
    assert in_comment(words, "Quel con, ce type.") == ["con"]
    assert in_comment(words, "He is a con man, everybody knows it.") == []
    assert in_comment(words, "Una idea con sentido, gracias.") == []  # detected as Spanish
    assert in_comment(words, "Estoy de acuerdo con el gobierno.") == []
    assert in_comment(WordList([Term.of("con", ["es"])]), "Qué partido, jugó con garra.") == ["con"]


def test_a_french_vulgarity_that_is_an_english_word_does_not_hold_english() -> None:
    words = WordList([Term.of("bite", ["fr"])])
    assert in_comment(words, "Il a une bite de cheval") == ["bite"]
    assert in_comment(words, "Nice bite of the apple, thanks for the recipe.") == []


def test_a_darija_insult_that_is_a_standard_arabic_word_is_found_in_darija_only() -> None:
    """عزي is a racist slur in Darija, "my pride" in Modern Standard Arabic."""
    words = WordList([Term.of("عزي", ["ary"])])
    assert in_comment(words, "هاد العزي ديال الجيران") == ["عزي"]
    assert in_comment(words, "عزي وفخري هو هذا الوطن الذي نحبه") == []


def test_a_term_in_every_language_is_found_in_any() -> None:
    words = WordList([Term.of("connard", ["*"])])
    for text, language in [("quel connard", "fr"), ("had connard", "ary"), ("a connard", "en")]:
        assert found(words, text, language) == ["connard"]


def test_a_comment_in_no_language_is_matched_against_every_term() -> None:
    """A short insult has no word that tells its language ("und"): holding it is safer."""
    words = WordList([Term.of("con", ["fr"]), Term.of("zamel", ["ary"])])
    assert detect("Con!").code == "und"
    assert in_comment(words, "Con!") == ["con"]
    assert in_comment(words, "zamel") == ["zamel"]


def test_the_script_tells_the_language_of_a_word() -> None:
    """Arabic letters in a French comment are Arabic or Darija; a word spelt as only
    Darija spells is Darija whatever the comment's language."""
    words = WordList([Term.of("يا حمار", ["ar", "ary"]), Term.of("7mar", ["ary"])])
    assert in_comment(words, "Très bon article, merci. يا حمار") == ["يا حمار"]
    assert in_comment(words, "Ce ministre est un 7mar") == ["7mar"]
    assert in_comment(WordList([Term.of("kelb", ["ary"])]), "Ce ministre est un kelb") == []


def test_a_mixed_comment_is_matched_clause_by_clause() -> None:
    words = WordList([Term.of("con", ["fr"]), Term.of("7mar", ["ary"])])
    text = (
        "Franchement le ministre est nul et il ne fait rien pour nous, "
        "had lwazir khasso ymchi f halo 7maaar. He is a con and a liar, nobody believes him."
    )
    assert detect(text).code == "mixed"
    assert in_comment(words, text) == ["7mar"]  # "con" is in an English clause
    assert in_comment(words, "Franchement ce ministre est un con, had lwazir 7mar.") == [
        "7mar",
        "con",
    ]


def test_matches_carry_the_languages_and_meaning() -> None:
    term = Term.of("7mar", ["ary"], "« âne », insulte")
    assert WordList([term]).matches("a l7mar", "ary") == [term]


# --- Darija ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["7mar", "l7mar", "el7mar", "al7mar", "l-7mar", "l'7mar", "el-7mar", "L7MAR"]
)
def test_darija_article_joined_or_apart(text: str) -> None:
    assert found(WordList([Term.of("7mar", ["ary"])]), text, "ary") == ["7mar"]


@pytest.mark.parametrize("text", ["7maaar", "7maar", "hmaaar", "hmar", "l7mmar", "lhmar"])
def test_darija_doubled_letters_and_digits_for_sounds(text: str) -> None:
    assert found(WordList([Term.of("7mar", ["ary"])]), text, "ary") == ["7mar"]


@pytest.mark.parametrize("text", ["9a7ba", "qahba", "kahba", "9ahba", "l9a7ba", "9a7bat"])
def test_darija_9_q_k_and_plurals(text: str) -> None:
    assert found(WordList([Term.of("9a7ba", ["ary"])]), text, "ary") == ["9a7ba"]


@pytest.mark.parametrize("text", ["zamel", "zaml", "zamlin", "zamlat", "zzamel", "z4mel"])
def test_darija_with_or_without_its_short_e(text: str) -> None:
    """Latin Darija writes the short vowel e or leaves it out: "zamel", plural "zamlin"."""
    assert found(WordList([Term.of("zamel", ["ary"])]), text, "ary") == (
        [] if text == "z4mel" else ["zamel"]
    )


def test_darija_3_is_a_letter_not_leetspeak() -> None:
    """3 is ع in Darija, read like "a": "3azzi" is "azzi", and "z3bi" is not "zebi"."""
    assert found(WordList([Term.of("3azzi", ["ary"])]), "azzi", "ary") == ["3azzi"]
    assert found(WordList([Term.of("zebi", ["ary"])]), "z3bi", "ary") == []


def test_a_number_stays_a_number_in_darija_too() -> None:
    assert found(WordList([Term.of("a kelb", ["ary"])]), "3 kelb", "ary") == []
    assert found(WordList([Term.of("a kelb", ["ary"])]), "a lkelb", "ary") == ["a kelb"]


def test_darija_plurals_in_both_scripts() -> None:
    words = WordList([Term.of("mkelkh", ["ary"]), Term.of("مكلخ", ["ary"])])
    assert found(words, "mkelkhin", "ary") == ["mkelkh"]
    assert found(words, "المكلخين", "ary") == ["مكلخ"]


def test_darija_arabic_script_article_and_stretching() -> None:
    assert found(WordList([Term.of("حمار", ["ary"])]), "الحماااار", "ary") == ["حمار"]


def test_a_darija_term_of_several_words_is_found_with_or_without_the_article() -> None:
    words = WordList([Term.of("wld l9a7ba", ["ary"])])
    assert found(words, "wld 9a7ba", "ary") == ["wld l9a7ba"]
    assert found(words, "ya weld l9a7ba", "ary") == ["wld l9a7ba"]  # the short e or not
    assert found(words, "ya ould l9a7ba", "ary") == []  # another spelling, another term


def test_darija_spellings_are_tried_for_darija_terms_only() -> None:
    """Loose runs would make "Niger" the slur; they are for Darija terms."""
    assert found(WordList(["nigger"]), "Niger", "ary") == []
    assert found(WordList(["kelb"]), "lkelb", "ary") == []  # in every language: not Darija


# --- emoji ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["🖕", "🖕🏽", "🖕🖕🖕", "t'es un 🖕 voilà", "bravo🖕"])
def test_emoji_are_words(text: str) -> None:
    assert found(WordList(["🖕", "🐷"]), text) == ["🖕"]


def test_other_emoji_and_spelt_out_letters_are_left_alone() -> None:
    assert found(WordList(["🐷"]), "👍😂 🦁") == []
    assert found(WordList(["con"]), "c 👍 o n") == []
    assert found(WordList(["con"]), "c o n 👍") == ["con"]


# --- the list -------------------------------------------------------------------------


def test_matches_are_the_terms_as_listed_sorted_and_unique() -> None:
    words = WordList(["Salope", "connard", "fils de pute"])
    assert found(words, "connard, CONNARD, fils de pute, salope") == [
        "Salope",
        "connard",
        "fils de pute",
    ]


def test_terms_are_sorted_deduplicated_and_stripped() -> None:
    words = WordList(["merde", " connard ", "merde", "", "  "])
    assert words.terms == ("connard", "merde")


def test_a_term_given_twice_insults_in_the_languages_of_both() -> None:
    words = WordList([Term.of("con", ["fr"], "imbécile"), Term.of("con", ["en"])])
    assert words.entries == (Term("con", ("fr", "en"), "imbécile"),)


def test_a_term_without_letters_never_matches() -> None:
    words = WordList(["!!!"])
    assert words.terms == ("!!!",)
    assert found(words, "!!!") == []


def test_one_string_is_refused() -> None:
    with pytest.raises(TypeError):
        WordList("connard")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("C.O.N.N.A.R.D, très  CON", "conard tres con"),
        ("Ça, c'est ÉNORME", "ca c est enorme"),
        ("أَحْمَـــد  إسلام", "احمد اسلام"),
        ("مدرسةٌ على", "مدرسه علي"),
        ("$alope", "alope"),
        ("👍 !!!", ""),
    ],
)
def test_normalise(text: str, expected: str) -> None:
    assert normalise(text) == expected


# --- the shipped lists ----------------------------------------------------------------


@pytest.mark.parametrize("kind", WORDLIST_KINDS)
def test_seed_lists_load_with_languages_and_meanings(kind: str) -> None:
    terms = seed_terms(kind)
    assert len(terms) >= 30
    assert len({term.term for term in terms}) == len(terms)
    for term in terms:
        assert term.term == term.term.strip() and not term.term.startswith("#"), term
        assert term.meaning, term


@pytest.mark.parametrize("kind", WORDLIST_KINDS)
def test_each_seed_term_matches_itself_in_its_languages(kind: str) -> None:
    words = WordList(seed_terms(kind))
    for term in seed_terms(kind):
        language = "und" if term.languages == ("*",) else term.languages[0]
        assert term in words.matches(term.term, language), term
        assert term in words.matches(f"Quel {term.term.upper()} !", language), term


def test_seed_lists_do_not_overlap() -> None:
    banned = {normalise(term.term) for term in seed_terms("banned")}
    suspect = {normalise(term.term) for term in seed_terms("suspect")}
    assert banned.isdisjoint(suspect)


def test_no_emoji_is_banned_and_insulting_emoji_are_suspect() -> None:
    assert not [term for term in seed_terms("banned") if term.wordless]
    emoji = {term.term for term in seed_terms("suspect") if term.wordless}
    assert {"🖕", "🐷", "🐀", "🐒", "💩", "🤡"} <= emoji


@pytest.mark.parametrize("kind", ["banned", "suspect"])  # sensitive names groups on purpose
@pytest.mark.parametrize("text", BENIGN_COMMENTS)
def test_seed_lists_leave_everyday_comments_alone(kind: str, text: str) -> None:
    assert in_comment(WordList(seed_terms(kind)), text) == []


def test_unknown_seed_list() -> None:
    with pytest.raises(ValueError, match="unknown word list"):
        seed_terms("allowed")


@pytest.mark.parametrize(
    "text",
    [
        "Il m'a traité de « connard » devant tout le monde.",
        'Il m\'a traité de "connard" devant tout le monde.',
        "Il m'a traité de “connard” devant tout le monde.",
        "Il m'a traité de 'connard' devant tout le monde.",
        "Il m'a traité de „connard“ devant tout le monde.",
    ],
)
def test_a_banned_word_only_inside_quotation_marks_is_reported_speech(text: str) -> None:
    words = WordList([Term.of("connard", ["fr"])])
    assert quoted_only(words, text, "fr") == ((), (Term.of("connard", ["fr"]),))


def test_a_banned_word_outside_quotation_marks_is_not_reported_speech() -> None:
    words = WordList([Term.of("connard", ["fr"]), Term.of("salaud", ["fr"])])
    connard, salaud = words.entries
    # An elision is not a quotation mark: "l'arbitre … c'est" quotes nothing.
    assert quoted_only(words, "l'arbitre est un connard, c'est tout", "fr") == ((connard,), ())
    # Quoted once and said once more outside: said.
    assert quoted_only(words, "« connard » ? oui, connard", "fr") == ((connard,), ())
    assert quoted_only(words, "« connard », salaud", "fr") == ((salaud,), (connard,))
    # A term that holds quotation marks itself is not cut out as reported speech.
    markup = Term.of('<img onerror="x">')
    listed = WordList([markup])
    assert quoted_only(listed, 'voici <img onerror="x"> ici', "fr") == ((markup,), ())
