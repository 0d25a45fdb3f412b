"""The webhook signature: what the service sends and what the site checks.

Each request carries `X-Moderator-Timestamp` (Unix seconds) and
`X-Moderator-Signature`: `v1=` and the hex HMAC-SHA256, keyed with the shared
secret, of `<timestamp>.<raw body>`.
"""

from __future__ import annotations

import hashlib
import hmac
import time


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """`v1=` and the hex HMAC-SHA256, keyed with `secret`, of `<timestamp>.<body>`."""
    message = f"{timestamp}.".encode() + body
    return "v1=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(
    secret: str,
    timestamp_header: str | None,
    signature_header: str | None,
    body: bytes,
    *,
    tolerance_s: int = 300,
    now: float | None = None,
) -> bool:
    """What the site does: the signature matches the raw body and the timestamp is
    within `tolerance_s` of now (a replayed old request is refused)."""
    if not timestamp_header or not signature_header:
        return False
    if not (timestamp_header.isascii() and timestamp_header.isdigit()):
        return False
    timestamp = int(timestamp_header)
    if abs((time.time() if now is None else now) - timestamp) > tolerance_s:
        return False
    expected = sign(secret, timestamp, body)
    return hmac.compare_digest(expected.encode(), signature_header.encode())
