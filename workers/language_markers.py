"""The words `workers.language` counts as markers of each language it tells apart.

Function words and very common words of one language only, folded as the detector
folds them (case; for Arabic, no diacritics, ا for أ إ آ ٱ, ه for ة, ي for ى and ئ,
و for ؤ). A word two of the languages share is no marker, or a weak one
(`FRENCH_SPANISH_WORDS`). Kept apart from the detector's rules: the lists grow,
the rules rarely change.
"""

from __future__ import annotations


def word_set(words: str) -> frozenset[str]:
    """The whitespace-separated words of a marker list."""
    return frozenset(words.split())


# Function words and very common words of one language only: a word two of these
# languages share ("la": French "the", Darija "no"; "que": French and Spanish) is no
# marker.
FRENCH_WORDS = word_set(
    """
    le les un une des du de au aux et est sont pas ne pour par sur dans avec
    qui quoi qu ce cet cette ces il ils elle elles nous vous je tu leur leurs
    mais ou où donc car très tres tout tous toute toutes aussi comme même meme
    sans sous entre été être etre avoir fait faire peut doit bien bon bonne trop
    notre nos votre vos mon ton son ses mes sa ta lui moi toi ont avait était
    etait sera seront cela ça ca encore toujours jamais rien chez quand alors
    depuis déjà deja après apres avant parce si merci oui non quel quelle quels
    quelles j c suis ai va vont faut peu plus moins ici comment pourquoi enfin
    vraiment beaucoup autre autres chaque contre vers selon ceux celle celui
    quelqu aucun aucune personne chose choses
    """
)
# French markers that are Spanish words too: French only in a text with no Spanish
# marker ("un", "de", "son", "entre"...), as is a word whose only accent is é.
FRENCH_SPANISH_WORDS = word_set("de un son entre bien si tu va")
ENGLISH_WORDS = word_set(
    """
    the and is are was were you your this that these those not with for have
    has it its of to in what which who they them their there will would should
    could can don doesn didn isn aren we our my but from about just very so if
    do does did because than then thank thanks please yes how why when where he
    she his her him by at up out good great well said nice one all really
    another also more most only now still never always every people think know
    been being had some any much many us i im ive cant wont doesnt into
    after before nobody anyone someone everyone something nothing
    """
)
DARIJA_LATIN_WORDS = word_set(
    """
    wach dyal dial diyal dyali dyalo dyalna dyalhom dialna bzaf bezaf bzf hadchi
    hadshi hada hadi hadak hadik hadou hadok mashi machi wakha yak khoya khouya
    khti kayn kayna kaynin ghadi ghadin gha daba bghit bghina bghaw bgha bghiti
    mzyan mzyana mezyan mezyana mzian mziana zwin zwina chi shi walo safi hna rah
    raha rahom rani rak raki homa howa houwa hiya ana nta nti ntoma bach bash fach
    kifach kifash walakin walaken kolchi kolshi koulchi kulchi chwiya chwia zaama
    drari bnadem wld wlad wldi wladi nass lah llah wallah wellah wlah inchallah
    nchallah yallah mskin meskin hchouma ghir dima chokran choukran shokran
    ach bhal chno chnou chnu chkoun chkon chkun mnin imta ila dak dik khass
    khasso khassek khassha khassna khasshom khassni khas li lia lik lih liha
    lina lihom mn f o w wla wlat wlina khayb khayba ghali ghalya flous sbitar
    khedma khdma khdam hamdoullah hamdullah hamdolah tbarkallah tbarkellah
    """
)
# Spanish: not the words it shares with French ("de", "la", "que", "en", "se", "es",
# "y", "son", "mis", "su", "sobre"), English ("no", "sin", "solo", "yo", "lo") or
# Darija ("ya"), nor "con"; nor "hay" and "tan" of Moroccan places ("Hay Riad",
# "Tan-Tan"). "el" stays: "El Jadida" in a French or English sentence is one marker
# among many.
SPANISH_WORDS = word_set(
    """
    el los las del una unos unas pero porque muy también tambien está esta están
    estan fue ser estar como cuando donde dónde quien quién por para todos toda
    todas esto eso este estos ese esa esos mucho muchos mucha gracias hola
    siempre nunca aquí aqui ahora hoy bueno buena buenos mejor sus mi usted
    ustedes nosotros ellos ellas él qué cómo hace tiene tienen puede pueden hasta
    desde más otro otra otros soy eres somos estoy estamos cada
    """
)

# In the folded spelling `_arabic_words` gives: no diacritics, ا for أ إ آ ٱ,
# ه for ة, ي for ى and ئ, و for ؤ.
DARIJA_ARABIC_WORDS = word_set(
    """
    ديال ديالي ديالك ديالو ديالنا ديالهم ديالها ديالكم بزاف واش كنبغي كانبغي
    بغيت بغينا بغا بغاو بغيتي ماشي هادشي هاد هادا هادي هادو هاداك هاديك هادوك
    داك ديك دوك دابا غادي غادين غادا مزيان مزيانه زوين زوينه خايب خايبه خويا
    واخا شي والو علاش كيفاش فين فاش منين امتى ملي حيت راه راهم راها راني راك
    راكي كاين كاينه كاينين دغيا زعما ديما خاصنا خاصهم خاصك خاصو خاصها خاصني نتا
    نتي نتوما حنا هوما شنو شكون شحال بشحال عافاك حشومه بنادم دراري الدراري ولاد
    يالاه اللي باش كلشي كاع ڭاع بحال ماكاين ياك قالو جات جاو ولات ولينا بقا
    بقات بقينا ليا ليك ليها لينا ليهم معايا معاك عندو شويه فلوس الفلوس سبيطار
    السبيطار طوبيس الطوبيس الماتش ماتش الخلصه هضره الهضره بلاصه راجل مرا
    """
)
MSA_WORDS = word_set(
    """
    هذا هذه ذلك تلك هولاء الذي التي الذين ليس ليست لقد ان عن لم لن سوف
    هناك قد ايضا يجب لكن نحن انتم ماذا لماذا كيف جدا الان يريد اريد حيث
    هل اين متى كم الى حول خلال منذ عندما بل ثم اذا لكي مثل فقط كذلك نعم لدى
    لديه لدينا تم يتم سيتم اصبح اصبحت هم فهو فهي انها انه لانه نريد يريدون
    """
)
