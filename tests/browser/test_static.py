"""How `xindai serve` serves a built single-page app (api/static.py), with the real app and
a build folder of the test's own: files as they are, hashed assets cached for a year and
index.html never, history-mode fallback for any other path under the prefix, a 404 for a
missing asset, no fallback under /api, and a 503 page saying how to build when nothing is."""

from __future__ import annotations

import warnings
from html import escape
from pathlib import Path

import pytest
from fastapi import FastAPI

from xindai.api.static import BUILD_HINT, mount_spa

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


@pytest.fixture
def built(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><div id=app></div>")
    (tmp_path / "assets" / "index-AbC123.js").write_text("console.log(1)")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    return tmp_path


def client(folder: Path) -> TestClient:
    app = FastAPI()

    @app.get("/api/v1/thing")
    def thing() -> dict[str, str]:
        return {"ok": "yes"}

    mount_spa(app, "/admin", folder, title_zh="管理后台", title_en="console")
    return TestClient(app)


def test_files_assets_and_the_history_fallback(built: Path) -> None:
    c = client(built)
    asset = c.get("/admin/assets/index-AbC123.js")
    assert asset.status_code == 200 and asset.text == "console.log(1)"
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "javascript" in asset.headers["content-type"]
    for path in ("/admin/", "/admin/loans/12", "/admin/system/roles?x=1", "/admin/review/7/"):
        page = c.get(path)
        assert page.status_code == 200 and "<div id=app>" in page.text, path
        assert page.headers["cache-control"] == "no-cache"
        assert page.headers["content-type"].startswith("text/html")
    icon = c.get("/admin/favicon.svg")
    assert icon.status_code == 200 and icon.headers["cache-control"] == "no-cache"
    assert c.head("/admin/loans").status_code == 200


def test_no_fallback_for_a_missing_asset_outside_the_folder_or_under_api(built: Path) -> None:
    c = client(built)
    assert c.get("/admin/assets/index-Old999.js").status_code == 404
    assert c.get("/admin/%2e%2e/%2e%2e/etc/passwd").text.startswith("<!doctype html>")
    assert c.get("/api/v1/thing").json() == {"ok": "yes"}
    assert c.get("/api/v1/nothing").status_code == 404
    assert "<div id=app>" not in c.get("/api/v1/nothing").text
    moved = c.get("/admin?tab=1", follow_redirects=False)
    assert moved.status_code == 308 and moved.headers["location"] == "/admin/?tab=1"


def test_not_built_answers_a_503_page_saying_how_to_build(tmp_path: Path) -> None:
    c = client(tmp_path / "missing")
    for path in ("/admin/", "/admin/loans/1"):
        page = c.get(path)
        assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
        assert escape(BUILD_HINT) in page.text
        assert "尚未构建" in page.text and "not built" in page.text


def test_the_platform_serves_the_console_and_keeps_it_out_of_the_openapi_document() -> None:
    from xindai.api.app import create_app
    from xindai.platform import Platform
    from xindai.settings import Settings

    app = create_app(Platform.from_settings(Settings(database_url="sqlite://")))
    assert not [p for p in app.openapi()["paths"] if p.startswith("/admin")]
    answer = TestClient(app).get("/admin/loans/1")
    assert answer.status_code in (200, 503)  # built or not, never the API's 404
