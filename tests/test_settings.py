"""Settings.from_env: defaults, typed values, errors that name the variable, masking."""

from __future__ import annotations

import pytest

from moderator.errors import SettingsError
from moderator.settings import DEFAULT_THRESHOLDS, Settings


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.redis_url is None
    assert settings.effective_redis_url == "redis://127.0.0.1:6379/0"
    assert (settings.host, settings.port) == ("127.0.0.1", 8080)
    assert settings.toxicity_model == "multilingual"
    assert dict(settings.thresholds) == DEFAULT_THRESHOLDS
    assert settings.check_email_deliverability is False
    assert settings.site_keys == ()
    assert (settings.toxicity_runtime, settings.toxicity_precision) == ("auto", "fp32")


def test_values_are_parsed() -> None:
    settings = Settings.from_env(
        {
            "MODERATOR_PORT": "9000",
            "MODERATOR_TOKENS": "amina:0123456789abcdef, karim:fedcba9876543210",
            "MODERATOR_SITE_KEYS": "k1,k2",
            "MODERATOR_THRESHOLD_INSULT": "0.7",
            "MODERATOR_CHECK_EMAIL_DELIVERABILITY": "true",
            "MODERATOR_LOG_FORMAT": "JSON",
            "MODERATOR_MAX_BODY_CHARS": "2000",
            "UNRELATED": "ignored",
        }
    )
    assert settings.port == 9000
    assert settings.moderator_tokens == (
        ("amina", "0123456789abcdef"),
        ("karim", "fedcba9876543210"),
    )
    assert settings.site_keys == ("k1", "k2")
    assert settings.thresholds["insult"] == 0.7
    assert settings.check_email_deliverability is True
    assert settings.log_format == "json"
    assert settings.limits.body == 2000


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"MODERATOR_PORT": "eighty"}, "MODERATOR_PORT: expected an integer (got 'eighty')"),
        ({"MODERATOR_PORT": "70000"}, "MODERATOR_PORT: must be at most 65535"),
        ({"MODERATOR_REDIS_URL": "localhost:6379"}, "MODERATOR_REDIS_URL: expected a redis://"),
        ({"MODERATOR_TOXICITY_MODEL": "huge"}, "MODERATOR_TOXICITY_MODEL: expected one of"),
        ({"MODERATOR_THRESHOLD_INSULT": "1.5"}, "MODERATOR_THRESHOLD_INSULT: must be at most"),
        ({"MODERATOR_THRESHOLD_THREAT": "nan"}, "MODERATOR_THRESHOLD_THREAT: expected a number"),
        (
            {"MODERATOR_CHECK_EMAIL_DELIVERABILITY": "maybe"},
            "MODERATOR_CHECK_EMAIL_DELIVERABILITY: expected true or false",
        ),
        ({"MODERATOR_TOKENS": "amina"}, "MODERATOR_TOKENS: expected comma-separated name:token"),
        ({"MODERATOR_TOKENS": "amina:short"}, "MODERATOR_TOKENS: the token for 'amina' is shorter"),
        (
            {"MODERATOR_TOKENS": "amina:0123456789abcdef,karim:0123456789abcdef"},
            "MODERATOR_TOKENS: one token is given to two moderators",
        ),
        ({"MODERATOR_KEY_PREFIX": "a b"}, "MODERATOR_KEY_PREFIX: only letters"),
        ({"MODERATOR_WEBHOOK_URL": "https://site.example/hook"}, "MODERATOR_WEBHOOK_SECRET is"),
        (
            {"MODERATOR_SPAM_HOLD_THRESHOLD": "0.9", "MODERATOR_SPAM_REJECT_THRESHOLD": "0.5"},
            "MODERATOR_SPAM_REJECT_THRESHOLD must not be below",
        ),
        ({"MODERATOR_TOXICITY_RUNTIME": "tensorrt"}, "MODERATOR_TOXICITY_RUNTIME: expected one"),
        (
            {"MODERATOR_TOXICITY_RUNTIME": "onnx", "MODERATOR_MODEL_DIR": "/srv/models"}
            | {"MODERATOR_TOXICITY_PRECISION": "bf16"},
            "MODERATOR_TOXICITY_RUNTIME=onnx decides as the model in fp32",
        ),
        ({"MODERATOR_TOXICITY_RUNTIME": "onnx"}, "MODERATOR_TOXICITY_RUNTIME=onnx needs"),
        (
            {"MODERATOR_SITE_MODEL_REMEASURE_S": "-1"},
            "MODERATOR_SITE_MODEL_REMEASURE_S: must be at least 0",
        ),
    ],
)
def test_bad_values_name_the_variable(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(environ)
    assert message in str(caught.value)


def test_errors_never_echo_secrets() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"MODERATOR_TOKENS": "amina:tooshort-secret"})
    assert "tooshort-secret" not in str(caught.value)


def test_public_view_masks_secrets() -> None:
    settings = Settings.from_env(
        {
            "MODERATOR_REDIS_URL": "redis://user:hunter2@redis.internal:6379/0",
            "MODERATOR_TOKENS": "amina:0123456789abcdef",
            "MODERATOR_SITE_KEYS": "site-secret",
            "MODERATOR_HASH_KEY": "hash-secret",
            "MODERATOR_WEBHOOK_URL": "https://site.example/hook",
            "MODERATOR_WEBHOOK_SECRET": "hook-secret",
        }
    )
    view = settings.public_view()
    text = repr(view)
    for secret in ("hunter2", "0123456789abcdef", "site-secret", "hash-secret", "hook-secret"):
        assert secret not in text
    assert view["moderator_tokens"] == ["amina:***"]
    assert view["redis_url"] == "redis://user:***@redis.internal:6379/0"
    assert view["webhook_url"] == "https://site.example/hook"
