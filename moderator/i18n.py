"""Error messages in English, French and Arabic, chosen by Accept-Language."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

SUPPORTED = ("en", "fr", "ar")

# One entry per error code: the message shown for a field, in each language.
FIELD_MESSAGES: Mapping[str, Mapping[str, str]] = {
    "required": {
        "en": "This field is required.",
        "fr": "Ce champ est obligatoire.",
        "ar": "هذا الحقل إلزامي.",
    },
    "blank": {
        "en": "This field must not be empty.",
        "fr": "Ce champ ne doit pas être vide.",
        "ar": "لا يجوز أن يكون هذا الحقل فارغًا.",
    },
    "too_long": {
        "en": "This field is too long (at most {max} characters).",
        "fr": "Ce champ est trop long ({max} caractères au maximum).",
        "ar": "هذا الحقل طويل جدًا (الحد الأقصى {max} حرفًا).",
    },
    "invalid_type": {
        "en": "This field must be text.",
        "fr": "Ce champ doit être du texte.",
        "ar": "يجب أن يكون هذا الحقل نصًا.",
    },
    "invalid_character": {
        "en": "This field contains a character that is not allowed.",
        "fr": "Ce champ contient un caractère non autorisé.",
        "ar": "يحتوي هذا الحقل على حرف غير مسموح به.",
    },
    "invalid_email": {
        "en": "This is not a valid e-mail address.",
        "fr": "Cette adresse e-mail n'est pas valide.",
        "ar": "عنوان البريد الإلكتروني هذا غير صالح.",
    },
    "undeliverable_email": {
        "en": "This e-mail address cannot receive mail.",
        "fr": "Cette adresse e-mail ne peut pas recevoir de courrier.",
        "ar": "لا يمكن لعنوان البريد الإلكتروني هذا استقبال الرسائل.",
    },
    "confusable_email": {
        "en": "The domain of this e-mail address mixes alphabets (look-alike letters).",
        "fr": "Le domaine de cette adresse mélange des alphabets (lettres trompeuses).",
        "ar": "نطاق هذا البريد الإلكتروني يخلط بين أبجديات مختلفة (حروف متشابهة).",
    },
    "invalid_id": {
        "en": "Use 1 to {max} letters, digits or . _ : - characters.",
        "fr": "Utilisez de 1 à {max} lettres, chiffres ou caractères . _ : -.",
        "ar": "استعمل من 1 إلى {max} من الحروف أو الأرقام أو الرموز . _ : -.",
    },
    "invalid_url": {
        "en": "This is not a valid http or https address.",
        "fr": "Cette adresse http ou https n'est pas valide.",
        "ar": "هذا ليس عنوان http أو https صالحًا.",
    },
    "invalid_ip": {
        "en": "This is not a valid IP address.",
        "fr": "Cette adresse IP n'est pas valide.",
        "ar": "عنوان IP هذا غير صالح.",
    },
    "invalid_time": {
        "en": "Give a time as ISO 8601 or as seconds since 1970.",
        "fr": "Indiquez une heure au format ISO 8601 ou en secondes depuis 1970.",
        "ar": "أدخل الوقت بصيغة ISO 8601 أو بالثواني منذ 1970.",
    },
    "parent_not_found": {
        "en": "There is no comment with this id under this article.",
        "fr": "Aucun commentaire avec cet identifiant sous cet article.",
        "ar": "لا يوجد تعليق بهذا المعرّف تحت هذا المقال.",
    },
    "invalid_cursor": {
        "en": "This cursor is not one this API gave.",
        "fr": "Ce curseur ne vient pas de cette API.",
        "ar": "هذا المؤشر لم يصدر عن هذه الواجهة.",
    },
    "invalid_limit": {
        "en": "Give a whole number from 1 to {max}.",
        "fr": "Indiquez un nombre entier de 1 à {max}.",
        "ar": "أدخل عددًا صحيحًا من 1 إلى {max}.",
    },
    "invalid_choice": {
        "en": "This value is not one of the allowed choices.",
        "fr": "Cette valeur ne fait pas partie des choix possibles.",
        "ar": "هذه القيمة ليست من الخيارات المسموح بها.",
    },
    "invalid_items": {
        "en": "Give a list of 1 to {max} comments.",
        "fr": "Indiquez une liste de 1 à {max} commentaires.",
        "ar": "أدخل قائمة من 1 إلى {max} تعليقًا.",
    },
    "invalid_terms": {
        "en": "Give a list of at most {max} words, each 1 to 100 characters.",
        "fr": "Indiquez une liste d'au plus {max} mots, chacun de 1 à 100 caractères.",
        "ar": "أدخل قائمة من {max} كلمة على الأكثر، كل منها من 1 إلى 100 حرف.",
    },
    "invalid_score": {
        "en": "Give a number from 0 to 1 (a spam reject threshold not below the hold one).",
        "fr": "Indiquez un nombre de 0 à 1 (un seuil de rejet du spam pas sous celui de "
        "mise en attente).",
        "ar": "أدخل عددًا من 0 إلى 1 (وعتبة رفض الرسائل المزعجة ليست أدنى من عتبة الحجز).",
    },
    "unknown_field": {
        "en": "This field is not one that can be set here.",
        "fr": "Ce champ ne peut pas être indiqué ici.",
        "ar": "لا يمكن تحديد هذا الحقل هنا.",
    },
    "redirect_not_allowed": {
        "en": "This return address is not on an allowed host.",
        "fr": "Cette adresse de retour n'est pas sur un hôte autorisé.",
        "ar": "عنوان العودة هذا ليس على مضيف مسموح به.",
    },
}

# What a reader is told of their comment's state: never scores or reasons.
STATUS_MESSAGES: Mapping[str, Mapping[str, str]] = {
    "pending": {
        "en": "Your comment has been received and is being checked.",
        "fr": "Votre commentaire a bien été reçu ; il est en cours de vérification.",
        "ar": "تم استلام تعليقك وهو قيد التحقق.",
    },
    "held": {
        "en": "Your comment is awaiting review by a moderator.",
        "fr": "Votre commentaire attend la relecture d'un modérateur.",
        "ar": "تعليقك في انتظار مراجعة أحد المشرفين.",
    },
    "published": {
        "en": "Your comment is published.",
        "fr": "Votre commentaire est publié.",
        "ar": "تم نشر تعليقك.",
    },
    "rejected": {
        "en": "Your comment was not published.",
        "fr": "Votre commentaire n'a pas été publié.",
        "ar": "لم يُنشر تعليقك.",
    },
}

# Titles of problem types.
TITLES: Mapping[str, Mapping[str, str]] = {
    "validation": {
        "en": "The comment has invalid fields.",
        "fr": "Le commentaire contient des champs invalides.",
        "ar": "يحتوي التعليق على حقول غير صالحة.",
    },
    "malformed": {
        "en": "The request body could not be read.",
        "fr": "Le corps de la requête est illisible.",
        "ar": "تعذرت قراءة محتوى الطلب.",
    },
    "too_large": {
        "en": "The request body is too large.",
        "fr": "Le corps de la requête est trop volumineux.",
        "ar": "محتوى الطلب كبير جدًا.",
    },
    "unsupported_media_type": {
        "en": "Send JSON or a form (application/x-www-form-urlencoded).",
        "fr": "Envoyez du JSON ou un formulaire (application/x-www-form-urlencoded).",
        "ar": "أرسل JSON أو نموذجًا (application/x-www-form-urlencoded).",
    },
    "unavailable": {
        "en": "The service is briefly unavailable; try again shortly.",
        "fr": "Le service est momentanément indisponible ; réessayez bientôt.",
        "ar": "الخدمة غير متاحة مؤقتًا؛ أعد المحاولة بعد قليل.",
    },
    "not_found": {
        "en": "Not found.",
        "fr": "Introuvable.",
        "ar": "غير موجود.",
    },
    "method_not_allowed": {
        "en": "This method is not allowed here.",
        "fr": "Cette méthode n'est pas autorisée ici.",
        "ar": "هذه الطريقة غير مسموح بها هنا.",
    },
    "unauthorized": {
        "en": "A valid key is required.",
        "fr": "Une clé valide est requise.",
        "ar": "مطلوب مفتاح صالح.",
    },
    "request_timeout": {
        "en": "The request body arrived too slowly.",
        "fr": "Le corps de la requête est arrivé trop lentement.",
        "ar": "وصل محتوى الطلب ببطء شديد.",
    },
    "rate_limited": {
        "en": "Too many comments in a short time; try again in a moment.",
        "fr": "Trop de commentaires en peu de temps ; réessayez dans un instant.",
        "ar": "تعليقات كثيرة في وقت قصير؛ أعد المحاولة بعد لحظات.",
    },
    "forbidden": {
        "en": "This token is not allowed here.",
        "fr": "Ce jeton n'est pas autorisé ici.",
        "ar": "هذا الرمز غير مسموح به هنا.",
    },
    "conflict": {
        "en": "The comment changed since you saw it; reload it.",
        "fr": "Le commentaire a changé depuis que vous l'avez vu ; rechargez-le.",
        "ar": "تغيّر التعليق منذ أن رأيته؛ أعد تحميله.",
    },
    "idempotency_conflict": {
        "en": "This Idempotency-Key was already used for a different request.",
        "fr": "Cette Idempotency-Key a déjà servi pour une autre requête.",
        "ar": "استُخدم مفتاح Idempotency-Key هذا لطلب مختلف.",
    },
    "bad_request": {
        "en": "The request is not valid.",
        "fr": "La requête n'est pas valide.",
        "ar": "الطلب غير صالح.",
    },
    "internal": {
        "en": "Something went wrong on our side.",
        "fr": "Une erreur s'est produite de notre côté.",
        "ar": "حدث خطأ من جهتنا.",
    },
}


def negotiate(accept_language: str | None, default: str) -> str:
    """The best of `SUPPORTED` for an Accept-Language header (RFC 9110 weights)."""
    if not accept_language:
        return default
    best, best_q = default, 0.0
    for tag, q in _parse(accept_language):
        primary = tag.split("-", 1)[0].lower()
        if primary in SUPPORTED and q > best_q:
            best, best_q = primary, q
    return best


def _parse(header: str) -> Iterable[tuple[str, float]]:
    for part in header.split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        q = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                q = float(params[2:])
            except ValueError:
                q = 0.0
        if tag and 0 < q <= 1:
            yield tag.strip(), q


def field_message(code: str, language: str, **params: object) -> str:
    return FIELD_MESSAGES[code][language].format(**params)


def title(problem: str, language: str) -> str:
    return TITLES[problem][language]
