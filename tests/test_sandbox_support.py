"""Shared helpers for the sandbox tests: a server on a fake clock, real tweepy pointed at it.

Other tests/test_sandbox_*.py modules load the fixtures with
`pytest_plugins = ["tests.test_sandbox_support"]` (names prefixed `sandbox_` so they cannot
clash with other areas' fixtures) and import the helpers. The tests at the bottom check the
helpers themselves (the redirect adapter, both X hosts).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
import tweepy

from bot.clock import FakeClock
from bot.sandbox.credentials import (
    SANDBOX_ACCESS_TOKEN,
    SANDBOX_ACCESS_TOKEN_SECRET,
    SANDBOX_API_KEY,
    SANDBOX_API_SECRET,
    SANDBOX_BEARER_TOKEN,
)
from bot.sandbox.server import SandboxServer, start_sandbox

START = datetime(2026, 8, 20, 12, 0, tzinfo=UTC)
BOT_ID = "1000000000000000001"


class Redirect(requests.adapters.HTTPAdapter):
    """Sends requests meant for X's host to the sandbox instead (X-API-NOTES.md §1.2)."""

    def __init__(self, base: str, *, host: str = "https://api.twitter.com") -> None:
        super().__init__()
        self.base = base
        self.host = host

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        assert request.url is not None
        request.url = request.url.replace(self.host, self.base, 1)
        return super().send(request, **kwargs)


def tweepy_client(url: str, *, access_token: str = SANDBOX_ACCESS_TOKEN) -> tweepy.Client:
    """Unmodified tweepy with the sandbox credentials, its session redirected to `url`."""
    client = tweepy.Client(
        bearer_token=SANDBOX_BEARER_TOKEN,
        consumer_key=SANDBOX_API_KEY,
        consumer_secret=SANDBOX_API_SECRET,
        access_token=access_token,
        access_token_secret=SANDBOX_ACCESS_TOKEN_SECRET,
        wait_on_rate_limit=False,
    )
    client.session.mount("https://api.twitter.com", Redirect(url))
    return client


def oauth(token: str = SANDBOX_ACCESS_TOKEN) -> dict[str, str]:
    """An OAuth 1.0a header as tweepy sends it (signature not checked by the sandbox)."""
    return {
        "Authorization": f'OAuth oauth_nonce="1", oauth_timestamp="1", oauth_version="1.0", '
        f'oauth_signature_method="HMAC-SHA1", oauth_consumer_key="{SANDBOX_API_KEY}", '
        f'oauth_token="{token}", oauth_signature="x"'
    }


BEARER = {"Authorization": f"Bearer {SANDBOX_BEARER_TOKEN}"}


class Admin:
    """The /_sandbox/ endpoints, for arranging a scene."""

    def __init__(self, url: str) -> None:
        self.url = url + "/_sandbox"

    def user(self, username: str, *, protected: bool = False) -> dict[str, Any]:
        response = requests.post(
            f"{self.url}/users", json={"username": username, "protected": protected}, timeout=5
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    def post(self, author: str, text: str, **extra: Any) -> dict[str, Any]:
        response = requests.post(
            f"{self.url}/tweets", json={"author": author, "text": text, **extra}, timeout=5
        )
        assert response.status_code == 201, response.text
        return dict(response.json()["data"])

    def advance(self, seconds: float) -> None:
        response = requests.post(f"{self.url}/clock", json={"advance": seconds}, timeout=5)
        assert response.status_code == 200, response.text

    def faults(self, **settings: Any) -> dict[str, Any]:
        response = requests.put(f"{self.url}/faults", json=settings, timeout=5)
        assert response.status_code == 200, response.text
        return dict(response.json())


@pytest.fixture
def sandbox_clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def sandbox_server(sandbox_clock: FakeClock) -> Iterator[SandboxServer]:
    with start_sandbox(clock=sandbox_clock.now) as server:
        yield server


@pytest.fixture
def sandbox_admin(sandbox_server: SandboxServer) -> Admin:
    return Admin(sandbox_server.url)


@pytest.fixture
def sandbox_bot(sandbox_server: SandboxServer) -> tweepy.Client:
    return tweepy_client(sandbox_server.url)


def test_support_redirect_reaches_the_sandbox_from_both_x_hosts(
    sandbox_server: SandboxServer,
) -> None:
    session = requests.Session()
    session.mount("https://api.twitter.com", Redirect(sandbox_server.url))
    session.mount("https://api.x.com", Redirect(sandbox_server.url, host="https://api.x.com"))
    for host in ("https://api.twitter.com", "https://api.x.com"):
        response = session.get(f"{host}/2/users/me", headers=oauth(), timeout=5)
        assert response.status_code == 200
        assert response.json()["data"]["id"] == BOT_ID


def test_support_tweepy_client_acts_as_the_bot(sandbox_bot: tweepy.Client) -> None:
    me = sandbox_bot.get_me()
    assert (me.data.id, me.data.username, me.data.name) == (int(BOT_ID), "tcbot", "tcbot (sandbox)")
