"""The validation module on its own: text cleaning and field rules."""

from __future__ import annotations

import pytest

from moderator.settings import Limits
from moderator.web.validation import FieldError, Submission, clean_text, from_wordpress, validate

VALID = {"article_id": "a1", "name": "Amina", "email": "amina@example.ma", "body": "Bravo"}


@pytest.mark.parametrize(
    ("raw", "multiline", "expected"),
    [
        ("  a \t b\n c  ", False, "a b c"),
        ("  a \t b\n c  ", True, "a b\nc"),
        ("x\x07y\x1bz", False, "x y z"),
        ("a\r\n\r\n\r\n\r\nb", True, "a\n\nb"),
        ("e\u0301", False, "\u00e9"),  # NFC
        ("مرحبا\u202e abc\u2066", False, "مرحبا abc"),  # bidi overrides dropped
        ("لا\u200fنعم\u200d", False, "لا\u200fنعم\u200d"),  # RLM and ZWJ kept
        ("\ufeffbonjour", False, "bonjour"),
    ],
)
def test_clean_text(raw: str, multiline: bool, expected: str) -> None:
    assert clean_text(raw, multiline=multiline) == expected


def test_darija_and_arabic_are_accepted_as_they_are() -> None:
    body = "wach had l9anon ghadi y7l lmochkil? هاد القانون مزيان"
    result = validate({**VALID, "body": body}, Limits())
    assert isinstance(result, Submission)
    assert result.body == body


def test_lengths_are_counted_after_cleaning() -> None:
    name = "  " + "n" * 99 + "\x07x  "  # the bell becomes a space: 101 characters
    assert isinstance(validate({**VALID, "name": name}, Limits()), list)
    assert isinstance(validate({**VALID, "name": "  " + "n" * 100 + "  "}, Limits()), Submission)


def test_optional_fields() -> None:
    result = validate(
        {
            **VALID,
            "ip": "2001:db8::1",
            "form_rendered_at": 1764331200,
            "url": "https://x.example",
            "user_agent": "U" * 600,
            "honeypot": "",
        },
        Limits(),
    )
    assert isinstance(result, Submission)
    assert result.ip == "2001:db8::1"
    assert result.form_rendered_at == "2025-11-28T12:00:00.000Z"
    assert result.user_agent == "U" * 512  # forwarded metadata is cut, not refused
    assert result.honeypot is None


def test_every_bad_field_is_reported() -> None:
    result = validate({"name": 1, "email": "x"}, Limits())
    assert result == [
        FieldError("article_id", "required"),
        FieldError("name", "invalid_type"),
        FieldError("email", "invalid_email"),
        FieldError("body", "required"),
    ]


def test_wordpress_field_names() -> None:
    assert from_wordpress(
        {
            "author": "A",
            "comment": "B",
            "comment_post_ID": "7",
            "comment_parent": "0",
            "email": "e@example.com",
        }
    ) == {"name": "A", "body": "B", "article_id": "7", "email": "e@example.com"}


@pytest.mark.parametrize(
    "invisible",
    [
        "\u200b\u200b\u200b",  # zero-width spaces
        "\u3164",  # Hangul filler
        "\u115f\u1160",  # Hangul choseong and jungseong fillers
        "\u2800\u2800",  # braille blank
        "\u2060\u200d\ufe0f",  # word joiner, zero-width joiner, variation selector
        "\u034f\u0301",  # combining grapheme joiner, a lone accent
    ],
)
def test_a_name_or_body_of_invisible_characters_is_blank(invisible: str) -> None:
    result = validate({**VALID, "name": invisible, "body": f" {invisible} "}, Limits())
    assert result == [FieldError("name", "blank"), FieldError("body", "blank")]


def test_invisible_characters_beside_visible_text_are_kept() -> None:
    """Zero-width joiners build emoji and Persian words: only an all-invisible text is refused."""
    result = validate({**VALID, "name": "Sara\u200d", "body": "👨\u200d👩\u200d👧 merci"}, Limits())
    assert isinstance(result, Submission)
    assert result.body == "👨\u200d👩\u200d👧 merci"
