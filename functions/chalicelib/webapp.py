"""Serves the single-page web app (web/dist, built by infra/build-web.sh) at /app/.

The app routes with the URL hash (``/app/#/dashboard``), so the server only needs the index and
the hashed files under /app/assets/. Names are checked against the built files; nothing outside
web/dist is ever read.
"""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path

from chalice import Blueprint, Response

bp = Blueprint(__name__)
ROOT = Path(__file__).resolve().parents[2]
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".html": "text/html; charset=utf-8", ".svg": "image/svg+xml", ".json": "application/json",
         ".map": "application/json", ".txt": "text/plain; charset=utf-8", ".ico": "image/x-icon"}
SECURITY = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
            "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                                       # recordings live at the gateway (https) or a local media server
                                       "media-src 'self' blob: https: http://127.0.0.1:* http://localhost:*; "
                                       "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"}
NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>vpbx</title>
<p>The web app is not built yet. Run <code>make web</code> (or <code>bash infra/build-web.sh</code>).</p>"""


def dist_dir() -> Path:
    return Path(os.environ.get("VPBX_WEB_DIST") or ROOT / "web" / "dist")


def _file(path: Path, cache: str) -> Response:
    ctype = TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    body: str | bytes = path.read_text() if ctype.startswith(("text/", "application/json", "image/svg")) \
        else path.read_bytes()
    return Response(body=body, status_code=200, headers={"Content-Type": ctype, "Cache-Control": cache, **SECURITY})


@bp.route("/app", methods=["GET"])
def index() -> Response:
    page = dist_dir() / "index.html"
    if not page.is_file():
        return Response(body=NOT_BUILT, status_code=503, headers={"Content-Type": "text/html; charset=utf-8"})
    return _file(page, "no-cache")


@bp.route("/app/assets/{name}", methods=["GET"])
def asset(name: str) -> Response:
    assets = dist_dir() / "assets"
    if "/" in name or "\\" in name or name.startswith(".") or not (assets / name).is_file():
        return Response(body="not found", status_code=404, headers={"Content-Type": "text/plain"})
    return _file(assets / name, "public, max-age=31536000, immutable")


@bp.route("/app/actions.json", methods=["GET"])
def action_catalogue() -> Response:
    """The routing actions and their JSON schemas (product data, no tenant data): the plan editor builds
    one form per action from these."""
    import json

    from domain.actions import REGISTRY

    body = {"actions": {name: dict(getattr(action, "schema", {}) or {}) for name, action in sorted(REGISTRY.items())}}
    return Response(body=json.dumps(body, sort_keys=True), status_code=200,
                    headers={"Content-Type": "application/json", "Cache-Control": "no-cache", **SECURITY})
