"""Webhooks to the site: `signing` (the signature scheme), `payload` (what the site
receives), `retry` (backoff, giving up), `delivery` (the deliverer: outbox, aiohttp
client), `task` (one deliverer per service process) and `stats` (what is waiting).
Import the module you need: only `delivery` and `task` bring aiohttp's client."""
