"""Every Redis key name and stream field name, in one module.

Nobody else builds a key: call these with the configured prefix.
"""

from __future__ import annotations

from dataclasses import dataclass

# Fields of an entry on the comments stream.
STREAM_FIELD_ID = "id"
STREAM_FIELD_ARTICLE = "article_id"


@dataclass(frozen=True, slots=True)
class Keys:
    prefix: str

    @property
    def comments_stream(self) -> str:
        """The queue of comments waiting for a decision (a Redis Stream)."""
        return f"{self.prefix}:stream:comments"

    @property
    def workers_group(self) -> str:
        """The consumer group the workers share on `comments_stream`."""
        return "workers"

    def comment(self, comment_id: str) -> str:
        """A hash holding one comment and its current state."""
        return f"{self.prefix}:comment:{comment_id}"

    def idempotency(self, key_digest: str) -> str:
        """The first answer given for an Idempotency-Key (digest of site key + header)."""
        return f"{self.prefix}:idem:{key_digest}"
