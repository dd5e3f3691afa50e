"""The web application's frame: security headers, error pages, the session cookie,
read-only database access, and a real server driven by Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx2 as httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from archive.db import make_read_only_engine, make_session_factory
from archive.web.app import create_app
from archive.web.security import HEADERS
from tests.web_harness import chromium, screenshot, serve

ZONE = ZoneInfo("Europe/London")


async def boom(request: Request) -> PlainTextResponse:
    raise RuntimeError("secret detail /etc/passwd SELECT * FROM users")


async def remember(request: Request) -> PlainTextResponse:
    request.session["seen"] = True
    return PlainTextResponse("ok")


@pytest.fixture
def client(sessions: sessionmaker[Session]) -> Iterator[TestClient]:
    app = create_app(
        read_sessions=sessions, zone=ZONE, secret_key="test-secret",
        extra_routes=[Route("/boom", boom), Route("/remember", remember)],
    )  # fmt: skip
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_web_every_response_carries_the_security_headers(client: TestClient) -> None:
    for path in ("/static/site.css", "/no-such-page", "/boom", "/remember"):
        response = client.get(path)
        for name, value in HEADERS.items():
            assert response.headers[name] == value, (path, name)
    csp = HEADERS["content-security-policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp


def test_web_404_page_is_friendly(client: TestClient) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Page not found" in response.text and "Back to the chats" in response.text


def test_web_500_page_leaks_nothing(client: TestClient) -> None:
    response = client.get("/boom")
    assert response.status_code == 500
    assert "Something went wrong" in response.text
    for secret in ("secret detail", "passwd", "SELECT", "Traceback", "RuntimeError", "boom"):
        assert secret not in response.text


def test_web_session_cookie_is_httponly_and_samesite_strict(client: TestClient) -> None:
    response = client.get("/remember")
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "max-age=" in cookie


def test_web_read_only_engine_cannot_write(db_url: str, engine: object) -> None:
    read_only = make_read_only_engine(db_url)
    try:
        with make_session_factory(read_only)() as session:
            assert session.execute(text("SELECT count(*) FROM tweets")).scalar() == 0
            with pytest.raises(DBAPIError, match="read-only|readonly"):
                session.execute(text("DELETE FROM tweets"))
    finally:
        read_only.dispose()


def test_web_real_server_in_chromium(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    app = create_app(read_sessions=sessions, zone=ZONE, secret_key="test-secret")
    with serve(app) as base, chromium() as browser:
        assert httpx.get(f"{base}/static/site.css").status_code == 200
        page = browser.new_page()
        response = page.goto(f"{base}/nowhere")
        assert response is not None and response.status == 404
        assert page.get_by_role("heading", name="Page not found").is_visible()
        screenshot(page, "error-404")
