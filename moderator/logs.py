"""structlog set-up, called once by each entry point.

One JSON object per line on stdout (or a readable console format on a
terminal), with `timestamp`, `level`, `event` and `service` on every line.
aiohttp's and redis-py's standard-library records go through the same
processors and renderer. A last processor keeps private fields out of logs
above debug level, whatever a caller passes.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import sys
from typing import Any, TextIO

import orjson
import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

PRIVATE_FIELDS = frozenset({"email", "ip", "body", "token", "authorization"})
_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


def email_hash(key: bytes, email: str) -> str:
    """A keyed hash of a normalised e-mail address: lets logs and counters
    correlate one commenter without ever holding the address."""
    return hmac.digest(key, email.casefold().encode(), "sha256").hex()[:32]


def ip_digest(key: bytes, ip: str) -> str:
    """A keyed hash of an IP for counters (IPv6 by /64, which one subscriber usually
    holds; IPv4-mapped addresses as IPv4): names it without holding it."""
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        network = ip.strip().lower()
    else:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if isinstance(address, ipaddress.IPv6Address):
            network = str(ipaddress.ip_network(f"{address}/64", strict=False))
        else:
            network = str(address)
    return hmac.new(key, network.encode(), hashlib.sha256).hexdigest()[:32]


def _orjson_dumps(value: Any, **kwargs: Any) -> str:
    """structlog's recommended fast serializer: the JSON encoding is much of a log
    line's cost."""
    return orjson.dumps(value, **kwargs).decode()


def _redact_private(_: WrappedLogger, method: str, event: EventDict) -> EventDict:
    if method != "debug":
        for name in PRIVATE_FIELDS.intersection(event):
            event[name] = "[redacted]"
    return event


def _service(name: str) -> Processor:
    def add(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
        event.setdefault("service", name)
        return event

    return add


def configure(
    *,
    service: str,
    fmt: str = "auto",
    level: str = "info",
    stream: TextIO | None = None,
    cache: bool = True,
) -> None:
    """Configure structlog and the standard library's root logger.

    `cache=False` lets tests configure logging again in the same process."""
    out = stream or sys.stdout
    use_json = fmt == "json" or (fmt == "auto" and not out.isatty())
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _service(service),
        _redact_private,
    ]
    renderer: Processor
    if use_json:
        # Tracebacks without local variables: those may hold e-mails and secrets.
        shared.append(
            structlog.processors.ExceptionRenderer(
                structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
            )
        )
        renderer = structlog.processors.JSONRenderer(serializer=_orjson_dumps)
    else:
        renderer = structlog.dev.ConsoleRenderer()
    numeric = _LEVELS[level]
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.WriteLoggerFactory(file=out),
        cache_logger_on_first_use=cache,
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[
                structlog.stdlib.add_logger_name,
                structlog.stdlib.ExtraAdder(),
                *shared,
            ],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    # The service writes its own summary line per request.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


def bind(**values: Any) -> None:
    structlog.contextvars.bind_contextvars(**values)
