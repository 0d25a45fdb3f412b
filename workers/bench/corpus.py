"""The bench's comments: made here from a seed, the same for the same seed.

Comments of `MIN_WORDS` to `MAX_WORDS` words (log-uniform, so half are under 40
words) in French, English, Arabic and Darija in both scripts, common words with a
tail of rarer made-up ones. Mixed lengths matter: batching equal lengths flatters it.
"""

from __future__ import annotations

import math
import random

WORDS = {
    "fr": """merci pour cet article je ne suis pas d'accord avec l'auteur le gouvernement doit
    agir vite les communes rurales méritent mieux que ça franchement c'est une honte encore une
    fois on nous promet des routes des écoles et des hôpitaux mais rien ne change depuis des
    années bravo au journaliste pour ce travail sérieux la réforme touche surtout les jeunes qui
    cherchent un emploi stable les prix augmentent chaque mois alors que les salaires restent
    bloqués il faudrait investir dans la formation et la santé publique on attend des réponses
    claires du ministre pas des discours""",
    "en": """thank you for this article i completely disagree with the author the government
    should act now rural towns deserve better than this honestly it is a shame once again we
    are promised roads schools and hospitals but nothing changes year after year great reporting
    the reform mostly affects young people looking for a stable job prices keep rising every
    month while wages stay frozen we need investment in training and public health clear answers
    from the minister not speeches people are tired of waiting""",
    "ar": """شكرا على هذا المقال المفيد أنا لا أتفق مع الكاتب يجب على الحكومة أن تتحرك بسرعة
    القرى تستحق أفضل من هذا للأسف مرة أخرى يعدوننا بالطرق والمدارس والمستشفيات لكن لا شيء يتغير
    منذ سنوات تحية للصحفي على هذا العمل الجاد الإصلاح يمس الشباب الذين يبحثون عن عمل مستقر
    الأسعار ترتفع كل شهر بينما الأجور مجمدة نحتاج إلى الاستثمار في التكوين والصحة العمومية""",
    "darija": """chokran 3la had lmaqal zwin bzaf ana ma mtaf9ch m3a lkatib lhokoma khassha
    tkhdem daba lbadiya tstahel ktar mn hadchi walakin walo ma tbdel mn sninat tbarkellah 3la
    sa7afi lkhedma mzyana chbab kaydour 3la khedma l2as3ar tal3in kol chher f souk o lkhlass
    wa9ef bghina ajwiba wad7a machi lhedra""",
    "darija-ar": """شكرا على هاد المقال زوين بزاف أنا ما متافقش مع الكاتب الحكومة خاصها تخدم
    دابا البادية تستاهل كثر من هادشي ولكن والو ما تبدل من سنين تبارك الله على الصحفي الخدمة
    مزيانة الشباب كيقلبو على خدمة الأسعار طالعين كل شهر فالسوق والخلاص واقف بغينا أجوبة واضحة""",
}
SCRIPTS = {"fr": "latin", "en": "latin", "ar": "arabic", "darija": "latin", "darija-ar": "arabic"}
SYLLABLES = {
    "latin": [
        "ba",
        "be",
        "bi",
        "bo",
        "da",
        "di",
        "du",
        "ka",
        "ki",
        "ko",
        "la",
        "le",
        "li",
        "lo",
        "ma",
        "mi",
        "mo",
        "na",
        "ne",
        "no",
        "ou",
        "an",
        "en",
        "on",
        "ra",
        "re",
        "ri",
        "ro",
        "sa",
        "se",
        "si",
        "so",
        "ta",
        "te",
        "ti",
        "to",
        "va",
        "vi",
        "za",
        "zi",
        "ch",
        "tr",
        "pl",
        "gr",
    ],
    "arabic": [
        "با",
        "بي",
        "بو",
        "تا",
        "تي",
        "سا",
        "سي",
        "دا",
        "دي",
        "را",
        "ري",
        "ما",
        "مي",
        "نا",
        "ني",
        "لا",
        "لي",
        "كا",
        "كي",
        "قا",
        "فا",
        "عا",
        "حا",
        "خا",
        "وا",
        "يا",
        "ها",
    ],
}
MIN_WORDS, MAX_WORDS = 5, 300
RARE_WORDS = 0.15  # share of made-up words: names, places, typos


def corpus(count: int, seed: int) -> list[str]:
    """`count` comments, the same for the same seed: each in one language, its length
    log-uniform between MIN_WORDS and MAX_WORDS, some punctuation, some rare words."""
    rng = random.Random(seed)  # noqa: S311 - synthetic text, not secrets
    languages = [(words.split(), SCRIPTS[code]) for code, words in WORDS.items()]
    comments = []
    for _ in range(count):
        words, script = rng.choice(languages)
        length = round(math.exp(rng.uniform(math.log(MIN_WORDS), math.log(MAX_WORDS))))
        picked = [
            _made_up(rng, script) if rng.random() < RARE_WORDS else rng.choice(words)
            for _ in range(length)
        ]
        comments.append(
            " ".join(w + rng.choice(".,!?") if rng.random() < 0.08 else w for w in picked)
        )
    return comments


def _made_up(rng: random.Random, script: str) -> str:
    return "".join(rng.choice(SYLLABLES[script]) for _ in range(rng.choice((2, 3, 3, 4))))
