"""The OpenAPI 3.1 description of every route; a test keeps it equal to the router."""

from __future__ import annotations

from typing import Any

from moderator.settings import Limits
from moderator.web import openapi_moderation
from moderator.web.page import ASSETS

_PROBLEM = {"$ref": "#/components/responses/Problem"}


def _text(max_length: int, description: str) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": max_length, "description": description}


def _comment_input(limits: Limits) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["article_id", "name", "email", "body"],
        "properties": {
            "article_id": {
                "oneOf": [
                    {
                        "type": "string",
                        "pattern": "^[A-Za-z0-9][A-Za-z0-9._:-]*$",
                        "maxLength": limits.article_id,
                    },
                    {"type": "integer", "minimum": 0},
                ],
                "description": "The article's id on the site (WordPress: comment_post_ID).",
            },
            "name": _text(limits.name, "Shown with the comment (WordPress: author)."),
            "email": _text(limits.email, "Never published and never logged in clear."),
            "body": _text(limits.body, "The comment (WordPress: comment)."),
            "parent_id": {
                "type": "string",
                "description": "The Moderator id of the comment "
                "this replies to, under the same article.",
            },
            "url": {"type": "string", "format": "uri", "maxLength": limits.url},
            "ip": {"type": "string", "description": "The commenter's IP, forwarded by the site."},
            "user_agent": {"type": "string"},
            "referrer": {"type": "string"},
            "honeypot": {
                "type": "string",
                "description": "A field hidden from people; bots fill it.",
            },
            "form_rendered_at": {
                "type": ["string", "number"],
                "description": "When the form was shown: ISO 8601 or seconds since 1970.",
            },
        },
    }


def spec(limits: Limits | None = None) -> dict[str, Any]:
    limits = limits or Limits()
    comment_input = _comment_input(limits)
    form_input = {
        "type": "object",
        "description": "WordPress field names (author, email, url, comment, comment_post_ID, "
        "comment_parent) or ours; redirect_to on an allowed host answers 303.",
        "properties": {"redirect_to": {"type": "string", "format": "uri"}},
        "additionalProperties": {"type": "string"},
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Moderator",
            "version": "1",
            "description": "Self-hosted comment "
            "moderation. Errors are application/problem+json (RFC 9457).",
        },
        "paths": {
            "/v1/comments": {
                "post": {
                    "operationId": "submitComment",
                    "summary": "Submit a comment for moderation.",
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "schema": {"type": "string"},
                            "description": "The same key and body return the first answer.",
                        },
                        {
                            "name": "X-Site-Key",
                            "in": "header",
                            "schema": {"type": "string"},
                            "description": "Required when MODERATOR_SITE_KEYS is set.",
                        },
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": comment_input},
                            "application/x-www-form-urlencoded": {"schema": form_input},
                        },
                    },
                    "responses": {
                        "202": {
                            "description": "Accepted and queued.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Accepted"}
                                }
                            },
                        },
                        "303": {"description": "Form post with an allowed redirect_to."},
                        **{
                            code: _PROBLEM
                            for code in (
                                "400",
                                "401",
                                "408",
                                "409",
                                "413",
                                "415",
                                "422",
                                "429",
                                "503",
                            )
                        },
                    },
                }
            },
            "/v1/comments/{comment_id}": {
                "get": {
                    "operationId": "getComment",
                    "summary": "A comment's public status.",
                    "parameters": [
                        {
                            "name": "comment_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "The status.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/CommentStatus"}
                                }
                            },
                        },
                        "404": _PROBLEM,
                        "503": _PROBLEM,
                    },
                }
            },
            "/v1/articles/{article_id}/comments": {
                "get": {
                    "operationId": "listPublishedComments",
                    "summary": "An article's published comments, oldest first.",
                    "parameters": [
                        {
                            "name": "article_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": 100,
                                "default": 20,
                            },
                        },
                        {
                            "name": "cursor",
                            "in": "query",
                            "schema": {"type": "string"},
                            "description": "next_cursor of the previous page.",
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "A page of comments.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/FeedPage"}
                                }
                            },
                        },
                        "400": _PROBLEM,
                        "503": _PROBLEM,
                    },
                }
            },
            **openapi_moderation.paths(),
            "/healthz": {
                "get": {
                    "operationId": "healthz",
                    "summary": "Liveness.",
                    "responses": {"200": {"description": "Alive."}},
                }
            },
            "/readyz": {
                "get": {
                    "operationId": "readyz",
                    "summary": "Readiness: Redis answers.",
                    "responses": {
                        "200": {"description": "Ready."},
                        "503": {"description": "Redis unreachable."},
                    },
                }
            },
            "/moderation": {
                "get": {
                    "operationId": "moderationPage",
                    "summary": "The moderators' web page (HTML).",
                    "responses": {
                        "200": {"description": "The page.", "content": {"text/html": {}}}
                    },
                }
            },
            "/moderation/static/{name}": {
                "get": {
                    "operationId": "moderationAsset",
                    "summary": "The page's style sheet and script modules (main.js imports "
                    "the others).",
                    "parameters": [
                        {
                            "name": "name",
                            "in": "path",
                            "required": True,
                            "schema": {"enum": sorted(ASSETS)},
                        }
                    ],
                    "responses": {"200": {"description": "The asset."}, "404": _PROBLEM},
                }
            },
            "/metrics": {
                "get": {
                    "operationId": "metrics",
                    "summary": "Prometheus metrics of the service and of the workers.",
                    "responses": {"200": {"description": "Prometheus text format 0.0.4."}},
                }
            },
            "/v1/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document.",
                    "responses": {"200": {"description": "OpenAPI 3.1."}},
                }
            },
        },
        "components": {
            "securitySchemes": openapi_moderation.SECURITY_SCHEMES,
            "schemas": {
                "Accepted": {
                    "type": "object",
                    "required": ["id", "status", "links"],
                    "properties": {
                        "id": {"type": "string"},
                        "status": {"const": "pending"},
                        "links": {"type": "object", "properties": {"self": {"type": "string"}}},
                    },
                },
                "CommentStatus": {
                    "type": "object",
                    "required": ["id", "article_id", "status", "created_at", "decided_at"],
                    "properties": {
                        "id": {"type": "string"},
                        "article_id": {"type": "string"},
                        "status": {"enum": ["pending", "published", "held", "rejected"]},
                        "created_at": {"type": "string", "format": "date-time"},
                        "decided_at": {"type": ["string", "null"], "format": "date-time"},
                        "message": {
                            "type": "string",
                            "description": "For the reader, in "
                            "their language (Accept-Language: fr, ar, en).",
                        },
                    },
                },
                "FeedPage": {
                    "type": "object",
                    "required": ["items", "next_cursor"],
                    "properties": {
                        "items": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/PublishedComment"},
                        },
                        "next_cursor": {"type": ["string", "null"]},
                    },
                },
                "PublishedComment": {
                    "type": "object",
                    "required": [
                        "id",
                        "article_id",
                        "parent_id",
                        "name",
                        "body",
                        "created_at",
                        "published_at",
                    ],
                    "properties": {
                        "id": {"type": "string"},
                        "article_id": {"type": "string"},
                        "parent_id": {"type": ["string", "null"]},
                        "name": {"type": "string"},
                        "body": {"type": "string"},
                        "created_at": {"type": "string", "format": "date-time"},
                        "published_at": {"type": ["string", "null"], "format": "date-time"},
                    },
                },
                "Problem": {
                    "type": "object",
                    "required": ["type", "title", "status"],
                    "properties": {
                        "type": {"type": "string"},
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                        "errors": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["field", "code", "message"],
                                "properties": {
                                    "field": {"type": "string"},
                                    "code": {"type": "string"},
                                    "message": {"type": "string"},
                                },
                            },
                        },
                    },
                },
            },
            "responses": {
                "Problem": {
                    "description": "An error, as problem+json.",
                    "content": {
                        "application/problem+json": {
                            "schema": {"$ref": "#/components/schemas/Problem"}
                        }
                    },
                },
            },
        },
    }
