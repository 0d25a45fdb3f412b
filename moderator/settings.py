"""Configuration: every `MODERATOR_*` variable, read in one place into a frozen object.

`Settings.from_env()` is the only code that reads the environment. A bad value
raises `SettingsError` naming the variable, and the entry points stop with it.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from moderator import envparse
from moderator.errors import SettingsError

PREFIX = "MODERATOR_"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"

TOXICITY_MODELS = ("original", "unbiased", "multilingual", "original-small", "unbiased-small")
SITE_MODEL_MODES = ("off", "rank", "publish")
SENSITIVE_RANKS = ("likely_fine", "suspect")  # the best a `site_model.sensitive` hold ranks
TOXICITY_RUNTIMES = ("auto", "torch", "onnx", "cascade")
LOG_FORMATS = ("auto", "json", "console")
LOG_LEVELS = ("debug", "info", "warning", "error")
LANGUAGES = ("en", "fr", "ar")
# The languages the workers detect (`workers.language.CODES`) that a model can read:
# not "und" (no words to read). Keys of `MODERATOR_LANGUAGE_MODELS`.
DETECTED_LANGUAGES = ("fr", "en", "ar", "ary", "es", "mixed")

# Starting points from public detoxify deployments (DESIGN.md section 5).
DEFAULT_THRESHOLDS: dict[str, float] = {
    "toxicity": 0.80,
    "severe_toxicity": 0.30,
    "obscene": 0.80,
    "identity_attack": 0.60,
    "insult": 0.60,
    "threat": 0.60,
    "sexual_explicit": 0.60,
}

SECRET_FIELDS = frozenset({"moderator_tokens", "site_keys", "webhook_secret", "hash_key"})

_SECRET_VARIABLES = frozenset({"TOKENS", "SITE_KEYS", "HASH_KEY", "WEBHOOK_SECRET", "REDIS_URL"})


@dataclass(frozen=True, slots=True)
class Limits:
    """Lengths in characters, counted after normalisation; request size in bytes."""

    name: int = 100
    email: int = 254
    body: int = 5000
    url: int = 2048
    article_id: int = 128
    user_agent: int = 512
    referrer: int = 2048
    request_bytes: int = 64 * 1024


@dataclass(frozen=True, slots=True)
class Sentinels:
    """`MODERATOR_REDIS_SENTINELS=MASTER@HOST[:PORT],HOST[:PORT],...`: the Sentinels to ask
    which server is the primary named MASTER (port 26379 when left out)."""

    master: str
    hosts: tuple[tuple[str, int], ...]

    def __str__(self) -> str:
        return f"{self.master}@" + ",".join(f"{host}:{port}" for host, port in self.hosts)


@dataclass(frozen=True, slots=True)
class Settings:
    redis_url: str | None = None
    redis_sentinels: Sentinels | None = None  # failover: the primary as Sentinel names it
    redis_min_replicas: int = 0  # a 202 only once this many replicas have the comment
    host: str = "127.0.0.1"
    port: int = 8080
    key_prefix: str = "moderator"
    moderator_tokens: tuple[tuple[str, str], ...] = ()
    site_keys: tuple[str, ...] = ()
    hash_key: str | None = None
    toxicity_model: str = "multilingual"
    model_dir: str | None = None
    thresholds: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    spam_hold_threshold: float = 0.5
    spam_reject_threshold: float = 0.98
    toxicity_fallback: str = "refuse"
    toxicity_precision: str = "fp32"
    toxicity_runtime: str = "auto"  # the cascade where a model directory can hold it (README)
    private_data_days: int = 30
    rate_limit_ip: int = 10
    rate_limit_email: int = 5
    rate_limit_article: int = 300
    trusted_proxy_header: str | None = None  # e.g. X-Forwarded-For, set by your proxy
    language_not_covered: str = "hold"
    # Per detected language, a local Hugging Face classifier that scores its comments
    # instead of detoxify: (language, directory) pairs.
    language_models: tuple[tuple[str, str], ...] = ()
    worker_batch_size: int = 16
    worker_block_ms: int = 1000
    reclaim_idle_ms: int = 30_000
    max_deliveries: int = 5
    check_budget_ms: int = 250
    site_model: str = "publish"  # off, rank, or publish once proven per language
    site_model_seed: bool = True  # learn the shipped labelled comments once per Redis
    site_model_min_examples: int = 50  # learned in a language before it says anything there
    site_model_toxic_evidence: float = -1.0  # hold at this evidence of toxicity
    site_model_spam_evidence: float = 4.0  # a spam signal from this evidence of spam
    site_model_clean_evidence: float = -3.5  # would publish at or below this (both labels)
    site_model_likely_fine_evidence: float = 1.0  # ranked "likely fine" at or below this
    # "suspect": a comment naming a group or violence is never ranked "likely fine", so
    # never approved in bulk; "likely_fine": ranked as the rest of its language's holds.
    site_model_sensitive_rank: str = "likely_fine"
    site_model_min_decisions: int = 200  # moderators' decisions that measure precision
    site_model_min_would_publish: int = 100  # of them, comments it would have published
    site_model_precision: float = 0.99  # measured precision needed to publish
    site_model_audit_share: float = 0.05  # of what it would publish, held to keep measuring
    # A language's precision is measured again at most this often (all workers together):
    # a window of 500 decisions is ~0.2 s of a worker's CPU to score. 0: every step.
    site_model_remeasure_s: float = 10.0
    spam_window_s: int = 3600
    burst_window_s: int = 600
    burst_limit: int = 5
    webhook_url: str | None = None
    webhook_secret: str | None = None
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "info"
    check_email_deliverability: bool = False
    redirect_hosts: tuple[str, ...] = ()
    default_language: str = "en"
    idempotency_ttl_s: int = 24 * 3600
    redis_timeout_s: float = 0.5
    retry_after_s: int = 2
    shutdown_timeout_s: float = 10.0
    body_timeout_s: float = 10.0
    limits: Limits = field(default_factory=Limits)

    @property
    def effective_redis_url(self) -> str:
        return self.redis_url or DEFAULT_REDIS_URL

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from `MODERATOR_*` variables (`os.environ` by default)."""
        env = envparse.Env(
            os.environ if environ is None else environ, PREFIX, secret=_SECRET_VARIABLES
        )
        default, default_limits = cls(), Limits()
        limits = Limits(
            name=env.integer("MAX_NAME_CHARS", default_limits.name, minimum=1),
            body=env.integer("MAX_BODY_CHARS", default_limits.body, minimum=1),
            url=env.integer("MAX_URL_CHARS", default_limits.url, minimum=1),
            request_bytes=env.integer(
                "MAX_REQUEST_BYTES", default_limits.request_bytes, minimum=1024
            ),
        )
        thresholds = {
            label: env.number(f"THRESHOLD_{label.upper()}", default, 0.0, 1.0)
            for label, default in DEFAULT_THRESHOLDS.items()
        }
        settings = cls(
            redis_url=env.text("REDIS_URL", None, check=envparse.redis_url),
            redis_sentinels=env.parse("REDIS_SENTINELS", None, _sentinels),
            redis_min_replicas=env.integer("REDIS_MIN_REPLICAS", 0, minimum=0, maximum=16),
            host=env.text("HOST", default.host) or default.host,
            port=env.integer("PORT", default.port, minimum=0, maximum=65535),
            key_prefix=env.text("KEY_PREFIX", default.key_prefix, check=envparse.key_prefix)
            or default.key_prefix,
            moderator_tokens=env.parse("TOKENS", (), envparse.name_token_pairs),
            site_keys=env.parse("SITE_KEYS", (), envparse.comma_list),
            hash_key=env.text("HASH_KEY", None),
            toxicity_model=env.choice("TOXICITY_MODEL", default.toxicity_model, TOXICITY_MODELS),
            model_dir=env.text("MODEL_DIR", None),
            thresholds=thresholds,
            spam_hold_threshold=env.number("SPAM_HOLD_THRESHOLD", 0.5, 0.0, 1.0),
            spam_reject_threshold=env.number("SPAM_REJECT_THRESHOLD", 0.98, 0.0, 1.0),
            toxicity_fallback=env.choice("TOXICITY_FALLBACK", "refuse", ("refuse", "hold")),
            toxicity_precision=env.choice("TOXICITY_PRECISION", "fp32", ("fp32", "bf16", "int8")),
            toxicity_runtime=env.choice("TOXICITY_RUNTIME", "auto", TOXICITY_RUNTIMES),
            private_data_days=env.integer("PRIVATE_DATA_DAYS", 30, minimum=1, maximum=3650),
            rate_limit_ip=env.integer("RATE_LIMIT_IP", 10, minimum=0),
            rate_limit_email=env.integer("RATE_LIMIT_EMAIL", 5, minimum=0),
            rate_limit_article=env.integer("RATE_LIMIT_ARTICLE", 300, minimum=0),
            trusted_proxy_header=env.text("TRUSTED_PROXY_HEADER", None),
            language_not_covered=env.choice("LANGUAGE_NOT_COVERED", "hold", ("hold", "score")),
            language_models=env.parse(
                "LANGUAGE_MODELS",
                (),
                functools.partial(envparse.language_dirs, languages=DETECTED_LANGUAGES),
            ),
            worker_batch_size=env.integer("WORKER_BATCH_SIZE", 16, minimum=1, maximum=1024),
            worker_block_ms=env.integer("WORKER_BLOCK_MS", 1000, minimum=1, maximum=60_000),
            reclaim_idle_ms=env.integer("RECLAIM_IDLE_MS", 30_000, minimum=100),
            max_deliveries=env.integer("MAX_DELIVERIES", 5, minimum=1, maximum=100),
            check_budget_ms=env.integer("CHECK_BUDGET_MS", 250, minimum=1, maximum=60_000),
            site_model=env.choice("SITE_MODEL", "publish", SITE_MODEL_MODES),
            site_model_seed=env.boolean("SITE_MODEL_SEED", True),
            site_model_min_examples=env.integer("SITE_MODEL_MIN_EXAMPLES", 50, minimum=1),
            site_model_toxic_evidence=env.number("SITE_MODEL_TOXIC_EVIDENCE", -1.0, -50.0, 50.0),
            site_model_spam_evidence=env.number("SITE_MODEL_SPAM_EVIDENCE", 4.0, -50.0, 50.0),
            site_model_clean_evidence=env.number("SITE_MODEL_CLEAN_EVIDENCE", -3.5, -50.0, 50.0),
            site_model_likely_fine_evidence=env.number(
                "SITE_MODEL_LIKELY_FINE_EVIDENCE", 1.0, -50.0, 50.0
            ),
            site_model_sensitive_rank=env.choice(
                "SITE_MODEL_SENSITIVE_RANK", "likely_fine", SENSITIVE_RANKS
            ),
            site_model_min_decisions=env.integer("SITE_MODEL_MIN_DECISIONS", 200, minimum=1),
            site_model_min_would_publish=env.integer(
                "SITE_MODEL_MIN_WOULD_PUBLISH", 100, minimum=1
            ),
            site_model_precision=env.number("SITE_MODEL_PRECISION", 0.99, 0.5, 1.0),
            site_model_audit_share=env.number("SITE_MODEL_AUDIT_SHARE", 0.05, 0.0, 1.0),
            site_model_remeasure_s=env.number("SITE_MODEL_REMEASURE_S", 10.0, 0.0, 3600.0),
            spam_window_s=env.integer("SPAM_WINDOW_S", 3600, minimum=1),
            burst_window_s=env.integer("BURST_WINDOW_S", 600, minimum=1),
            burst_limit=env.integer("BURST_LIMIT", 5, minimum=1),
            webhook_url=env.text("WEBHOOK_URL", None, check=envparse.http_url),
            webhook_secret=env.text("WEBHOOK_SECRET", None),
            log_format=env.choice("LOG_FORMAT", "auto", LOG_FORMATS),  # type: ignore[arg-type]
            log_level=env.choice("LOG_LEVEL", "info", LOG_LEVELS),
            check_email_deliverability=env.boolean("CHECK_EMAIL_DELIVERABILITY", False),
            redirect_hosts=env.parse("REDIRECT_HOSTS", (), envparse.comma_list),
            default_language=env.choice("DEFAULT_LANGUAGE", "en", LANGUAGES),
            idempotency_ttl_s=env.integer("IDEMPOTENCY_TTL_S", 24 * 3600, minimum=60),
            redis_timeout_s=env.number("REDIS_TIMEOUT_S", 0.5, 0.05, 30.0),
            retry_after_s=env.integer("RETRY_AFTER_S", 2, minimum=1),
            shutdown_timeout_s=env.number("SHUTDOWN_TIMEOUT_S", 10.0, 0.0, 600.0),
            body_timeout_s=env.number("BODY_TIMEOUT_S", 10.0, 0.1, 600.0),
            limits=limits,
        )
        if settings.spam_reject_threshold < settings.spam_hold_threshold:
            raise SettingsError(
                f"{PREFIX}SPAM_REJECT_THRESHOLD must not be below {PREFIX}SPAM_HOLD_THRESHOLD"
            )
        if settings.redis_sentinels and settings.effective_redis_url.startswith("unix://"):
            raise SettingsError(
                f"{PREFIX}REDIS_SENTINELS names servers by address: {PREFIX}REDIS_URL "
                "(which then gives only the database, password and TLS) cannot be unix://"
            )
        if settings.webhook_url and not settings.webhook_secret:
            raise SettingsError(f"{PREFIX}WEBHOOK_SECRET is required with {PREFIX}WEBHOOK_URL")
        runtime = settings.toxicity_runtime
        if runtime in ("onnx", "cascade"):
            if settings.toxicity_precision != "fp32":
                raise SettingsError(
                    f"{PREFIX}TOXICITY_RUNTIME={runtime} decides as the model in fp32: "
                    f"leave {PREFIX}TOXICITY_PRECISION at fp32"
                )
            if settings.model_dir is None:
                raise SettingsError(
                    f"{PREFIX}TOXICITY_RUNTIME={runtime} needs {PREFIX}MODEL_DIR, "
                    "a local model directory where the exported model is kept"
                )
        return settings

    def public_view(self) -> dict[str, Any]:
        """The effective configuration with secrets masked, for `moderator config`."""
        view: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in SECRET_FIELDS:
                value = _mask(value)
            elif isinstance(value, Limits):
                value = dataclasses.asdict(value)
            elif isinstance(value, Mapping):
                value = dict(value)
            elif isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, Sentinels):
                value = str(value)
            view[f.name] = value
        view["redis_url"] = _mask_url_password(self.redis_url)
        return view


def _mask(value: object) -> object:
    if not value:
        return value
    if isinstance(value, tuple) and value and isinstance(value[0], tuple):
        return [f"{name}:***" for name, _ in value]
    if isinstance(value, tuple):
        return ["***" for _ in value]
    return "***"


def _mask_url_password(url: str | None) -> str | None:
    if not url or "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0] if ":" in credentials else ""
    return f"{scheme}://{user}:***@{host}"


def _sentinels(raw: str) -> Sentinels:
    master, sep, hosts = raw.partition("@")
    if not sep or not master.strip() or not envparse.comma_list(hosts):
        raise ValueError("expected MASTER@HOST[:PORT],HOST[:PORT],... (Sentinels' addresses)")
    addresses = []
    for item in envparse.comma_list(hosts):
        host, _, port = item.rpartition(":") if ":" in item else (item, "", "26379")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{item!r} is not HOST or HOST:PORT")
        addresses.append((host.strip("[]"), int(port)))
    return Sentinels(master.strip(), tuple(addresses))
