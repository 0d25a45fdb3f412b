"""The workers' exception types, in one place."""

from __future__ import annotations

from moderator.errors import ModeratorError


class ModelUnavailable(ModeratorError):
    """No toxicity model could be loaded; the message says how to provide one."""
