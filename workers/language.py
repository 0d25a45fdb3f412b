"""Which language a comment is in: a fast heuristic you can explain, with no model.

Comments come in French, English, Modern Standard Arabic and Moroccan Darija,
which is written in Arabic script or in Latin letters with digits for Arabic
sounds (3 = ع, 7 = ح, 9 = ق, 2 = ء, 5 = خ: "3afak", "l9anon", "7ta").

`detect` works in three steps:

1. **Script.** Latin and Arabic letters are counted. Text with neither (emoji,
   punctuation, digits, another script) is `und` in script `none`; text with
   fewer than `MIN_LETTERS` letters is `und`.
   When each script has at least `MIXED_SHARE` of the letters the script is
   `mixed` and each part's language is found on its own: the same language in
   both parts (Darija in both scripts) is that language, two languages are
   `mixed`, and a part with no clear language (a name, "Bravo") leaves the other.
2. **Latin words** are compared with French, English and Darija markers (common
   function words; for Darija also words spelt with 3/7/9 and the negation
   "ma…ch"); a word with a French accent counts as French. The language with
   the most markers wins. It is `mixed` when the runner-up has at least
   `MIXED_MIN_MARKERS` markers and half as many as the winner, and `und` when
   no marker is found or two languages tie on one.
3. **Arabic words** are compared with Darija markers (ديال، بزاف، واش …) and
   Modern Standard Arabic markers (هذا، الذي، ليس …). Darija writers borrow MSA
   words far more than the reverse, so a Darija marker counts twice: Darija
   (`ary`) wins when it has markers and twice their number is at least the MSA
   count; otherwise the text is MSA (`ar`).

Words are compared case folded, with Arabic diacritics and the tatweel removed,
أ إ آ ٱ read as ا, ة as ه, ى and ئ as ي, ؤ as و, and letters stretched to three
or more ("bzzzaaaf", "بزااااف") read once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Language codes (ISO 639: "ary" is Moroccan Arabic) and scripts.
FRENCH = "fr"
ENGLISH = "en"
ARABIC = "ar"
DARIJA = "ary"
MIXED = "mixed"
UNDETERMINED = "und"
CODES = (FRENCH, ENGLISH, ARABIC, DARIJA, MIXED, UNDETERMINED)

LATIN_SCRIPT = "latin"
ARABIC_SCRIPT = "arabic"
MIXED_SCRIPT = "mixed"
NO_SCRIPT = "none"
SCRIPTS = (LATIN_SCRIPT, ARABIC_SCRIPT, MIXED_SCRIPT, NO_SCRIPT)

MIN_LETTERS = 3  # fewer Latin and Arabic letters than this: undetermined
MIXED_SHARE = 0.25  # share of the letters each script needs for a mixed script
MIXED_MIN_MARKERS = 2  # markers the second language needs for mixed Latin text


@dataclass(frozen=True, slots=True)
class Language:
    """A comment's language `code` and `script` (one of `CODES` and `SCRIPTS`)."""

    code: str
    script: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "script": self.script}


_LATIN_LETTERS = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff"
# Arabic letters in the Arabic, Arabic Supplement, Extended-A and presentation
# form blocks; not digits, punctuation, diacritics or the tatweel.
_ARABIC_LETTERS = (
    "\u0621-\u063a\u0641-\u064a\u066e\u066f\u0671-\u06d3\u06d5\u06ee\u06ef\u06fa-\u06fc"
    "\u0750-\u077f\u08a0-\u08c9\ufb50-\ufdfb\ufe70-\ufefc"
)
# Diacritics (tashkeel, Quranic marks) and the tatweel.
_ARABIC_MARKS = "\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640"

_LATIN_RUN_RE = re.compile(f"[{_LATIN_LETTERS}]+")
_ARABIC_RUN_RE = re.compile(f"[{_ARABIC_LETTERS}]+")
_LATIN_WORD_RE = re.compile(f"[0-9{_LATIN_LETTERS}]+")
_ARABIC_WORD_RE = re.compile(f"[{_ARABIC_LETTERS}{_ARABIC_MARKS}]+")
_ARABIC_MARKS_RE = re.compile(f"[{_ARABIC_MARKS}]")
_ARABIC_FOLD = str.maketrans("أإآٱىةؤئ", "اااايهوي")
_STRETCH_RE = re.compile(r"(.)\1{2,}")  # "bzzzaaaf", "بزااااف"
_FRENCH_ACCENT_RE = re.compile("[àâçéèêëîïôûùüÿœæ]")

# A word spelt with the digits Darija uses for Arabic sounds ("3afak", "l9a7ba",
# "ta3"), a digit between letters or at one end, never two digits in a row.
_DARIJA_DIGITS_RE = re.compile(r"[a-z]*(?:[23579][a-z]+)+|[a-z]+(?:[23579][a-z]+)*[23579]")
# Ordinals and units that would pass for such words: "2eme", "3rd", "5g", "2h".
_ORDINAL_RE = re.compile(r"\d+(?:e|er|ere|eme|em|nd|rd|th|st|h|g|gb|km|kg|mn|min|dh|mad|ans?)")
# The Darija negation around a verb: "makaynch", "mabghitch", "mafhamtch".
_DARIJA_NEGATION_RE = re.compile(r"ma[a-z0-9]{3,}ch")
_DARIJA_ARABIC_NEGATION_RE = re.compile("ما.{2,}ش")


def _word_set(words: str) -> frozenset[str]:
    """The whitespace-separated words of a marker list."""
    return frozenset(words.split())


_FRENCH_WORDS = _word_set(
    """
    le la les un une des du de au aux et est sont pas ne pour par sur dans avec
    que qui quoi qu ce cet cette ces il ils elle elles nous vous je tu leur leurs
    mais ou où donc car très tres tout tous toute toutes aussi comme même meme
    sans sous entre été être etre avoir fait faire peut doit bien bon bonne trop
    notre nos votre vos mon ton son ses mes sa ta lui moi toi ont avait était
    etait sera seront cela ça ca encore toujours jamais rien chez quand alors
    depuis déjà deja après apres avant parce si merci oui non
    """
)
_ENGLISH_WORDS = _word_set(
    """
    the and is are was were you your this that these those not with for have
    has it its of to in what which who they them their there will would should
    could can don doesn didn isn aren we our my but from about just very so if
    do does did because than then thank thanks please yes how why when where he
    she his her him by at up out good great
    """
)
_DARIJA_LATIN_WORDS = _word_set(
    """
    wach dyal dial diyal dyali dyalo dyalna dyalhom dialna bzaf bezaf hadchi
    hadshi hada hadi hadak hadik hadou mashi machi wakha yak khoya khouya khti
    kayn kayna kaynin ghadi ghadin gha daba bghit bghina bghaw mzyan mzyana
    mezyan mezyana mzian mziana zwin zwina chi shi walo safi hna rah raha rahom
    rani homa howa houwa hiya ana nta nti ntoma bach fach kifach kifash walakin
    walaken kolchi kolshi koulchi chwiya chwia zaama drari bnadem wld wlad nass
    lah llah wallah wellah wlah inchallah yallah mskin meskin hchouma ghir dima
    chokran choukran shokran ach bhal
    """
)
_LATIN_MARKERS = {
    **dict.fromkeys(_DARIJA_LATIN_WORDS, DARIJA),
    **dict.fromkeys(_ENGLISH_WORDS, ENGLISH),
    **dict.fromkeys(_FRENCH_WORDS, FRENCH),
}

# In the folded spelling `_arabic_words` gives: no diacritics, ا for أ إ آ ٱ,
# ه for ة, ي for ى and ئ, و for ؤ.
_DARIJA_ARABIC_WORDS = _word_set(
    """
    ديال ديالي ديالك ديالو ديالنا ديالهم ديالها بزاف واش كنبغي كانبغي بغيت بغينا
    بغا ماشي هادشي هاد هادا هاداك هاديك هادوك دابا غادي غادين غادا مزيان مزيانه
    خويا واخا شي والو علاش كيفاش فين حيت راه راهم راها راني كاين كاينه كاينين
    دغيا زعما ديما خاصنا خاصهم خاصك نتا نتوما حنا هوما شنو عافاك حشومه بنادم
    دراري ولاد يالاه اللي باش كلشي بحال ماكاين
    """
)
_MSA_WORDS = _word_set(
    """
    هذا هذه ذلك تلك هولاء الذي التي الذين ليس ليست لقد ان عن لم لن سوف
    هناك قد ايضا يجب لكن نحن انتم ماذا لماذا كيف جدا الان يريد اريد حيث
    """
)


def detect(text: str) -> Language:
    """The language and script of a comment (see the module docstring)."""
    latin = _letter_count(_LATIN_RUN_RE, text)
    arabic = _letter_count(_ARABIC_RUN_RE, text)
    letters = latin + arabic
    if letters == 0:
        return Language(UNDETERMINED, NO_SCRIPT)
    script = _script(latin, arabic)
    if letters < MIN_LETTERS:
        return Language(UNDETERMINED, script)
    folded = _STRETCH_RE.sub(r"\1", text.casefold())
    if script == LATIN_SCRIPT:
        return Language(_latin_language(folded), script)
    if script == ARABIC_SCRIPT:
        return Language(_arabic_language(folded), script)
    return Language(_combine(_latin_language(folded), _arabic_language(folded)), script)


def _letter_count(pattern: re.Pattern[str], text: str) -> int:
    return sum(map(len, pattern.findall(text)))


def _script(latin: int, arabic: int) -> str:
    if min(latin, arabic) >= MIXED_SHARE * (latin + arabic):
        return MIXED_SCRIPT
    return LATIN_SCRIPT if latin > arabic else ARABIC_SCRIPT


def _latin_language(folded: str) -> str:
    counts = {FRENCH: 0, ENGLISH: 0, DARIJA: 0}
    for word in _LATIN_WORD_RE.findall(folded):
        marker = _latin_marker(word)
        if marker is not None:
            counts[marker] += 1
    (best_code, best), (_, second) = sorted(counts.items(), key=lambda item: -item[1])[:2]
    if best == 0:
        return UNDETERMINED
    if second >= MIXED_MIN_MARKERS and 2 * second >= best:
        return MIXED
    return UNDETERMINED if second == best else best_code


def _latin_marker(word: str) -> str | None:
    marker = _LATIN_MARKERS.get(word)
    if marker is not None:
        return marker
    if _is_darija_spelling(word):
        return DARIJA
    if _FRENCH_ACCENT_RE.search(word):
        return FRENCH
    return None


def _is_darija_spelling(word: str) -> bool:
    if _DARIJA_NEGATION_RE.fullmatch(word):
        return True
    return (
        _DARIJA_DIGITS_RE.fullmatch(word) is not None
        and sum(char.isalpha() for char in word) >= 2
        and _ORDINAL_RE.fullmatch(word) is None
    )


def _arabic_language(folded: str) -> str:
    darija = msa = 0
    for word in _arabic_words(folded):
        # "و" (and) is written joined to the next word: try the word without it.
        bare = word[1:] if word.startswith("و") and len(word) > 3 else word
        if {word, bare} & _DARIJA_ARABIC_WORDS or _DARIJA_ARABIC_NEGATION_RE.fullmatch(word):
            darija += 1
        elif {word, bare} & _MSA_WORDS:
            msa += 1
    return DARIJA if darija and 2 * darija >= msa else ARABIC


def _arabic_words(folded: str) -> list[str]:
    return [
        _ARABIC_MARKS_RE.sub("", word).translate(_ARABIC_FOLD)
        for word in _ARABIC_WORD_RE.findall(folded)
    ]


def _combine(latin: str, arabic: str) -> str:
    """The language of a text in two scripts, from the language of each part."""
    codes = {latin, arabic} - {UNDETERMINED}
    if not codes:
        return UNDETERMINED
    return codes.pop() if len(codes) == 1 else MIXED
