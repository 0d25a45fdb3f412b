"""The project's exception types, in one place."""

from __future__ import annotations


class ModeratorError(Exception):
    """Base class for the errors this project raises on purpose."""


class SettingsError(ModeratorError):
    """A configuration value is missing or invalid; the message names the variable."""


class StoreUnavailable(ModeratorError):
    """Redis could not be reached or answered too late."""


class IdempotencyConflict(ModeratorError):
    """An Idempotency-Key was reused with a different request body."""
