"""Moderator: self-hosted comment moderation for news websites."""
