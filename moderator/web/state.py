"""Typed application state shared by the handlers (`web.AppKey`)."""

from __future__ import annotations

from aiohttp import web

from moderator.settings import Settings
from moderator.storage.comments import Store
from moderator.storage.review import Review
from moderator.web.metrics import Metrics

SETTINGS = web.AppKey("settings", Settings)
STORE = web.AppKey("store", Store)
HASH_KEY = web.AppKey("hash_key", bytes)
REVIEW = web.AppKey("review", Review)
METRICS = web.AppKey("metrics", Metrics)
