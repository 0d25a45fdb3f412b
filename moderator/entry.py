"""What every entry point does first: read the settings once, say plainly what is wrong
with them, configure logging once.

    settings = entry.start("moderator worker", service="moderator-worker")
    if settings is None:
        return entry.CONFIG_ERROR

Services log to stdout; one-shot commands pass `stream=sys.stderr`, so that their
output on stdout stays theirs.
"""

from __future__ import annotations

import sys
from typing import TextIO

from moderator import logs
from moderator.errors import SettingsError
from moderator.settings import Settings

CONFIG_ERROR = 2  # the exit code of a usage or configuration error


def start(
    prog: str,
    *,
    service: str,
    stream: TextIO | None = None,
    level: str | None = None,
    cache: bool = True,
) -> Settings | None:
    """The settings, with logging configured for `service`; None when the settings are
    invalid, after printing `PROG: configuration error: …` (exit with CONFIG_ERROR)."""
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        fail(prog, f"configuration error: {exc}")
        return None
    configure_logging(settings, service=service, stream=stream, level=level, cache=cache)
    return settings


def configure_logging(
    settings: Settings,
    *,
    service: str,
    stream: TextIO | None = None,
    level: str | None = None,
    cache: bool = True,
) -> None:
    """`logs.configure` with the settings' format and level (or `level`, when given).
    `cache=False` lets a command that may run in-process (tests) configure again."""
    logs.configure(
        service=service,
        fmt=settings.log_format,
        level=level or settings.log_level,
        stream=stream,
        cache=cache,
    )


def fail(prog: str, message: object, code: int = 1) -> int:
    """Tell the operator what went wrong, on stderr, as `PROG: message`; returns `code`."""
    print(f"{prog}: {message}", file=sys.stderr)
    return code
