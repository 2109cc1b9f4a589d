"""The interactive documentation, served whole by the service: ``/docs`` (Swagger UI) and ``/redoc``.

A hospital intranet has no CDN: the pages load their scripts, styles and
icon from ``/docs/assets/``, which serves the files shipped by the
``fastapi-offline`` package (Swagger UI and ReDoc bundles). Each page
carries a Content-Security-Policy allowing only this origin and, by hash,
its own inline script.

    >>> sorted(ASSETS)
    ['favicon.png', 'redoc.standalone.js', 'swagger-ui-bundle.js', 'swagger-ui.css']
"""

from __future__ import annotations

import base64
import hashlib
import re
from importlib.resources import files

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response

from service.errors import problem

ASSET_PATH = "/docs/assets"
_PACKAGE_ASSETS = files("fastapi_offline") / "static"
ASSETS = {
    "favicon.png": "image/png",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
}
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def page_policy(html: str) -> str:
    """The page's Content-Security-Policy: this origin only, its inline scripts by their hash.

    >>> page_policy("<script>go()</script>").split("; ")[1]
    "script-src 'self' 'sha256-5KYv+PUboo5h+0+YAtGRPbwv5d/QxzHslP4YGnUaxRw='"
    """
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
        for s in _INLINE_SCRIPT.findall(html)
    )
    return "; ".join([
        "default-src 'self'", f"script-src 'self' {hashes}".rstrip(),
        "style-src 'self' 'unsafe-inline'",  # both bundles inject style elements
        "img-src 'self' data:", "worker-src 'self' blob:", "font-src 'self' data:", "frame-ancestors 'none'",
    ])


def _page(response: HTMLResponse) -> HTMLResponse:
    response.headers["Content-Security-Policy"] = page_policy(bytes(response.body).decode())
    return response


def include_docs(app: FastAPI) -> None:
    """Add ``/docs``, ``/redoc`` and their assets to ``app`` (created with ``docs_url=None, redoc_url=None``)."""
    router = APIRouter(include_in_schema=False)
    title = f"{app.title} — API"

    @router.get("/docs")
    async def swagger_ui() -> HTMLResponse:
        return _page(get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json", title=title,
            swagger_js_url=f"{ASSET_PATH}/swagger-ui-bundle.js", swagger_css_url=f"{ASSET_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSET_PATH}/favicon.png",
        ))

    @router.get("/redoc")
    async def redoc() -> HTMLResponse:
        return _page(get_redoc_html(
            openapi_url=app.openapi_url or "/openapi.json", title=title,
            redoc_js_url=f"{ASSET_PATH}/redoc.standalone.js", redoc_favicon_url=f"{ASSET_PATH}/favicon.png",
            with_google_fonts=False,
        ))

    @router.get(ASSET_PATH + "/{name}")
    async def asset(name: str) -> Response:
        media_type = ASSETS.get(name)
        if media_type is None:
            return problem(404, "not-found", "Not found", f"no documentation asset {name[:80]!r}; "
                           f"known: {', '.join(sorted(ASSETS))}")
        return Response((_PACKAGE_ASSETS / name).read_bytes(), media_type=media_type,
                        headers={"Cache-Control": "public, max-age=86400"})

    app.include_router(router)
