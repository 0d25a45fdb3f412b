"""Scoring workers (built on the moderator package; never imported by it)."""
