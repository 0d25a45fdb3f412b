"""Reading configuration values: typed reads that name the variable, and the parsers of
the list-like values (URLs, `name:token` pairs, `LANG=DIR` pairs).

`moderator.settings` is the only user: `Settings.from_env` hands `Env` the mapping it
reads, so it stays the one place that reads the environment. A parser raises
ValueError with what was expected; `Env.parse` turns it into a `SettingsError` that
names the variable.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import TypeVar

from moderator.errors import SettingsError

T = TypeVar("T")


class Env:
    """Typed reads of `<prefix><NAME>`; every error names the variable, and shows the
    value given unless the variable is one of `secret`."""

    def __init__(
        self, environ: Mapping[str, str], prefix: str, *, secret: Collection[str] = ()
    ) -> None:
        self._environ = environ
        self._prefix = prefix
        self._secret = frozenset(secret)

    def _raw(self, name: str) -> str | None:
        value = self._environ.get(self._prefix + name)
        if value is None or value.strip() == "":
            return None
        return value.strip()

    def parse(self, name: str, default: T, convert: Callable[[str], T]) -> T:
        raw = self._raw(name)
        if raw is None:
            return default
        try:
            return convert(raw)
        except ValueError as exc:
            shown = "" if name in self._secret else f" (got {raw!r})"
            raise SettingsError(f"{self._prefix}{name}: {exc}{shown}") from None

    def text(
        self, name: str, default: str | None, check: Callable[[str], str] | None = None
    ) -> str | None:
        return self.parse(name, default, check or str)

    def integer(
        self, name: str, default: int, *, minimum: int | None = None, maximum: int | None = None
    ) -> int:
        def convert(raw: str) -> int:
            try:
                value = int(raw)
            except ValueError:
                raise ValueError("expected an integer") from None
            check_range(value, minimum, maximum)
            return value

        return self.parse(name, default, convert)

    def number(self, name: str, default: float, minimum: float, maximum: float) -> float:
        def convert(raw: str) -> float:
            try:
                value = float(raw)
            except ValueError:
                raise ValueError("expected a number") from None
            if value != value:  # NaN
                raise ValueError("expected a number")
            check_range(value, minimum, maximum)
            return value

        return self.parse(name, default, convert)

    def boolean(self, name: str, default: bool) -> bool:
        def convert(raw: str) -> bool:
            lowered = raw.lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError("expected true or false")

        return self.parse(name, default, convert)

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        def convert(raw: str) -> str:
            if raw.lower() not in choices:
                raise ValueError(f"expected one of {', '.join(choices)}")
            return raw.lower()

        return self.parse(name, default, convert)


def check_range(value: float, minimum: float | None, maximum: float | None) -> None:
    if minimum is not None and value < minimum:
        raise ValueError(f"must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise ValueError(f"must be at most {maximum}")


def redis_url(raw: str) -> str:
    if not raw.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError("expected a redis://, rediss:// or unix:// URL")
    return raw


def http_url(raw: str) -> str:
    if not raw.startswith(("http://", "https://")):
        raise ValueError("expected an http:// or https:// URL")
    return raw


def key_prefix(raw: str) -> str:
    if not all(c.isalnum() or c in "-_.:" for c in raw):
        raise ValueError("only letters, digits and - _ . : are allowed")
    return raw


def comma_list(raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def name_token_pairs(raw: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in comma_list(raw):
        name, sep, token = item.partition(":")
        if not sep or not name.strip() or not token.strip():
            raise ValueError("expected comma-separated name:token pairs")
        if len(token.strip()) < 16:
            raise ValueError(f"the token for {name.strip()!r} is shorter than 16 characters")
        pairs.append((name.strip(), token.strip()))
    if len({name for name, _ in pairs}) != len(pairs):
        raise ValueError("a moderator name appears twice")
    if len({token for _, token in pairs}) != len(pairs):
        # Otherwise the audit would name whichever of them comes first.
        raise ValueError("one token is given to two moderators: each needs a token of their own")
    return tuple(pairs)


def language_dirs(raw: str, languages: Collection[str]) -> tuple[tuple[str, str], ...]:
    """`LANG=DIR,LANG=DIR`: a directory per language code, each code one of `languages`
    and given once (one directory may serve several languages)."""
    pairs: list[tuple[str, str]] = []
    for item in comma_list(raw):
        language, sep, directory = item.partition("=")
        language, directory = language.strip().lower(), directory.strip()
        if not sep or not language or not directory:
            raise ValueError(
                f"{item!r} is not LANGUAGE=DIRECTORY; expected comma-separated pairs such "
                "as ar=/srv/moderator/language-models/arabic"
            )
        if language not in languages:
            raise ValueError(
                f"{language!r} is not a language the workers detect; "
                f"expected one of {', '.join(languages)}"
            )
        if any(language == seen for seen, _ in pairs):
            raise ValueError(f"{language} is given twice: one directory per language")
        pairs.append((language, directory))
    return tuple(pairs)
