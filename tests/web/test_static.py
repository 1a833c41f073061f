"""The /app/ blueprint: built files with the right content types, nothing outside web/dist."""

from __future__ import annotations

import json

import pytest
from chalice.test import Client

from chalicelib.server import load_app_module


@pytest.fixture
def dist(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>vpbx</title>")
    (tmp_path / "assets" / "index-abc.js").write_text("console.log(1)")
    (tmp_path / "assets" / "index-abc.css").write_text("body{}")
    (tmp_path / "secret.txt").write_text("not an asset")
    monkeypatch.setenv("VPBX_WEB_DIST", str(tmp_path))
    return tmp_path


def test_the_index_and_hashed_assets_are_served_with_their_types(dist):
    with Client(load_app_module().app) as c:
        index = c.http.get("/app/")
        js = c.http.get("/app/assets/index-abc.js")
        css = c.http.get("/app/assets/index-abc.css")
    assert index.status_code == 200 and index.headers["Content-Type"].startswith("text/html")
    assert index.headers["Cache-Control"] == "no-cache" and "frame-ancestors 'none'" in index.headers[
        "Content-Security-Policy"]
    assert js.headers["Content-Type"].startswith("text/javascript") and js.body == b"console.log(1)"
    assert "immutable" in js.headers["Cache-Control"]
    assert css.headers["Content-Type"].startswith("text/css")


def test_nothing_outside_the_assets_folder_is_served(dist):
    with Client(load_app_module().app) as c:
        assert c.http.get("/app/assets/..%2Fsecret.txt").status_code == 404
        assert c.http.get("/app/assets/.hidden").status_code == 404
        assert c.http.get("/app/assets/missing.js").status_code == 404


def test_an_unbuilt_app_says_how_to_build_it(tmp_path, monkeypatch):
    monkeypatch.setenv("VPBX_WEB_DIST", str(tmp_path / "nothing"))
    with Client(load_app_module().app) as c:
        resp = c.http.get("/app")
    assert resp.status_code == 503 and b"make web" in resp.body


def test_the_action_catalogue_lists_each_routing_action_with_its_schema():
    with Client(load_app_module().app) as c:
        body = json.loads(c.http.get("/app/actions.json").body)
    assert body["actions"]["ivr_menu"]["type"] == "object"
    assert "queue" in body["actions"]["queue"]["required"]
