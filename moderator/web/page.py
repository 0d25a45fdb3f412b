"""GET /moderation: the moderators' web page and its assets, served from `static/`.

Plain files, no templating and no build step: the page's script is ES modules
(`main.js` imports the others), served as they are. The page reads everything
through the moderation API with the token the moderator types in. Every answer
carries a strict Content-Security-Policy (no inline script or style, nothing
from elsewhere); only the assets named below are served.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

STATIC_DIR = Path(__file__).parent / "static"
PAGE = "moderation.html"
# The page's script: `main.js` starts it and imports the rest (same origin, so the
# CSP's script-src 'self' allows them all).
SCRIPT_MODULES = (
    "main.js",
    "strings.js",
    "state.js",
    "format.js",
    "highlight.js",
    "reasons.js",
    "api.js",
    "session.js",
    "queue.js",
    "decisions.js",
    "detail.js",
    "report.js",
    "policy.js",
    "keys.js",
)
ASSETS = {
    **dict.fromkeys(SCRIPT_MODULES, "text/javascript"),
    "moderation.css": "text/css",
}

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


def add_page_routes(app: web.Application) -> None:
    app.router.add_get("/moderation", moderation_page, name="moderation_page")
    app.router.add_get("/moderation/static/{name}", moderation_asset, name="moderation_asset")


async def moderation_page(request: web.Request) -> web.FileResponse:
    """The page itself: never cached, since it is the entry point to a signed-in tool."""
    headers = {**SECURITY_HEADERS, "Cache-Control": "no-store"}
    return web.FileResponse(
        STATIC_DIR / PAGE, headers={**headers, "Content-Type": "text/html; charset=utf-8"}
    )


async def moderation_asset(request: web.Request) -> web.FileResponse:
    """One of the page's assets, by name from a fixed list (no paths from the request)."""
    name = request.match_info["name"]
    content_type = ASSETS.get(name)
    if content_type is None:
        raise web.HTTPNotFound()
    headers = {**SECURITY_HEADERS, "Cache-Control": "no-cache"}
    return web.FileResponse(
        STATIC_DIR / name, headers={**headers, "Content-Type": f"{content_type}; charset=utf-8"}
    )
