"""The built front ends, served by the API process: the back-office console at /admin/
(built from frontend/console into xindai/web/console) and the borrower app (H5) at /app/
(built from frontend/app into xindai/web/app); the wheel carries both.

History-mode fallback: any /admin/... path that is not a file of the build answers the
console's index.html, so that a reloaded or bookmarked page opens; a missing file under
assets/ is a 404 (a stale page asking for an old chunk must not get HTML for its script),
and /api/... never falls back. Hashed assets are cached for a year, index.html never.
Without a build, /admin/ (or /app/) answers a 503 page saying how to build it.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

WEB = Path(__file__).resolve().parent.parent / "web"
"""Where the front-end builds land (git-ignored, packaged)."""
CONSOLE = WEB / "console"
APP = WEB / "app"

IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"
BUILD_HINT = "cd frontend && npm ci && npm run build"


def _not_built(title_zh: str, title_en: str, folder: Path) -> HTMLResponse:
    body = f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title_zh)}未构建 / {escape(title_en)} not built</title>
<style>body{{font:15px/1.6 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;
color:#303133}}code{{background:#f4f4f5;padding:.15rem .4rem;border-radius:4px}}</style>
</head><body>
<h1>{escape(title_zh)}尚未构建</h1>
<p>前端资源不在 <code>{escape(str(folder))}</code>。在仓库根目录执行
<code>{escape(BUILD_HINT)}</code>（或 <code>python3 dev.py start</code>）后刷新本页。</p>
<h1 lang="en">The {escape(title_en)} is not built</h1>
<p lang="en">Its files are not in <code>{escape(str(folder))}</code>. From the repository root run
<code>{escape(BUILD_HINT)}</code> (or <code>python3 dev.py start</code>), then reload this page.</p>
</body></html>
"""
    return HTMLResponse(body, status_code=503, headers={"Cache-Control": NO_CACHE})


def _inside(root: Path, relative: str) -> Path | None:
    """The file `relative` names inside `root`, or None (missing, a folder, or outside)."""
    if not relative or "\x00" in relative:
        return None
    candidate = (root / relative).resolve()
    try:
        candidate.relative_to(root.resolve())
    except ValueError:
        return None
    return candidate if candidate.is_file() else None


def mount_spa(app: FastAPI, prefix: str, folder: Path, *, title_zh: str, title_en: str) -> None:
    """Serve the single-page app built into `folder` at `prefix`/ (e.g. "/admin")."""

    def serve(path: str = "") -> Response:
        index = folder / "index.html"
        if not index.is_file():
            return _not_built(title_zh, title_en, folder)
        found = _inside(folder, path)
        if found is not None:
            hashed = path.startswith("assets/")
            return FileResponse(found, headers={"Cache-Control": IMMUTABLE if hashed else NO_CACHE})
        if path.startswith("assets/"):
            return Response(status_code=404, headers={"Cache-Control": NO_CACHE})
        return FileResponse(index, media_type="text/html", headers={"Cache-Control": NO_CACHE})

    def redirect(request: Request) -> RedirectResponse:
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(f"{prefix}/{query}", status_code=308)

    app.add_api_route(prefix, redirect, methods=["GET", "HEAD"], include_in_schema=False)
    app.add_api_route(f"{prefix}/", serve, methods=["GET", "HEAD"], include_in_schema=False)
    app.add_api_route(
        f"{prefix}/{{path:path}}", serve, methods=["GET", "HEAD"], include_in_schema=False
    )


def mount_frontends(app: FastAPI) -> None:
    """The console at /admin/ and the borrower app at /app/."""
    mount_spa(app, "/admin", CONSOLE, title_zh="管理后台", title_en="console")
    mount_spa(app, "/app", APP, title_zh="借款 App", title_en="borrower app")
