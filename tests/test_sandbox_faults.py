"""Fault injection on the sandbox: queued and seeded-random 429/500/503/drops, latency."""

from __future__ import annotations

import time

import pytest
import requests
import tweepy

from bot.clock import FakeClock
from bot.sandbox.faults import Fault, FaultInjector, Faults
from bot.sandbox.server import SandboxServer, start_sandbox
from tests.test_sandbox_support import BEARER, START, Admin, oauth, tweepy_client

pytest_plugins = ["tests.test_sandbox_support"]

SERVER_ERROR_DETAIL = (
    "Something is broken. This is usually a temporary error, for example in a high load "
    "situation or if an endpoint is temporarily having issues. Check in the developer forums "
    "in case others are having similar issues, or try again later. "
)


def me(url: str) -> requests.Response:
    return requests.get(f"{url}/2/users/me", headers=oauth(), timeout=5)


def test_faults_queue_answers_the_next_requests_in_order(sandbox_clock: FakeClock) -> None:
    faults = Faults(queue=(Fault.SERVER_ERROR, Fault.UNAVAILABLE, Fault.DROP, Fault.RATE_LIMITED))
    with start_sandbox(clock=sandbox_clock.now, faults=faults) as server:
        first = me(server.url)
        assert first.status_code == 500
        assert first.json() == {
            "title": "Internal Server Error",
            "detail": SERVER_ERROR_DETAIL,
            "type": "about:blank",
            "status": 500,
        }
        second = me(server.url)
        assert second.status_code == 503
        assert second.json()["title"] == "Service Unavailable"
        with pytest.raises(requests.ConnectionError):
            me(server.url)
        limited = me(server.url)
        assert limited.status_code == 429
        assert limited.headers["x-rate-limit-remaining"] == "0"
        assert int(limited.headers["x-rate-limit-reset"]) == int(START.timestamp()) + 900
        assert me(server.url).status_code == 200
        log = requests.get(f"{server.url}/_sandbox/requests", timeout=5).json()["requests"]
        assert [(e["status"], e["dropped"]) for e in log] == [
            (500, False),
            (503, False),
            (None, True),
            (429, False),
            (200, False),
        ]


def test_faults_reach_tweepy_as_its_exceptions(
    sandbox_server: SandboxServer, sandbox_admin: Admin
) -> None:
    sandbox_admin.faults(queue=[500, 503, "drop"])
    client = tweepy_client(sandbox_server.url)
    with pytest.raises(tweepy.TwitterServerError) as caught:
        client.create_tweet(text="x")
    assert caught.value.response.status_code == 500
    with pytest.raises(tweepy.TwitterServerError):
        client.search_recent_tweets("#a")
    with pytest.raises(requests.ConnectionError):
        client.get_tweets([1])
    assert client.create_tweet(text="x").data["text"] == "x"  # the injected 500 stored nothing


def test_faults_seeded_shares_repeat_run_to_run(sandbox_clock: FakeClock) -> None:
    def statuses() -> list[int]:
        faults = Faults(rate_limited=0.2, server_error=0.2, unavailable=0.2, seed=7)
        with start_sandbox(clock=sandbox_clock.now, faults=faults) as server:
            return [
                requests.get(f"{server.url}/2/tweets/1", headers=BEARER, timeout=5).status_code
                for _ in range(40)
            ]

    first, second = statuses(), statuses()
    assert first == second
    assert {200, 429, 500, 503} <= set(first)


def test_faults_injector_draws_in_proportion_to_the_shares() -> None:
    injector = FaultInjector(Faults(dropped=0.25, server_error=0.25, seed=1))
    draws = [injector.draw() for _ in range(4000)]
    assert 800 < draws.count(Fault.DROP) < 1200
    assert 800 < draws.count(Fault.SERVER_ERROR) < 1200
    assert draws.count(None) > 1600
    assert Fault.RATE_LIMITED not in draws


def test_faults_never_touch_admin_endpoints(
    sandbox_server: SandboxServer, sandbox_admin: Admin
) -> None:
    sandbox_admin.faults(server_error=1.0)
    assert requests.get(f"{sandbox_server.url}/_sandbox/faults", timeout=5).status_code == 200
    assert sandbox_admin.user("ana")["username"] == "ana"
    assert me(sandbox_server.url).status_code == 500


def test_faults_admin_get_set_and_clear(
    sandbox_server: SandboxServer, sandbox_admin: Admin
) -> None:
    installed = sandbox_admin.faults(queue=[503, "drop"], latency_ms=5, seed=3)
    assert installed["queue"] == [503, "drop"]
    me(sandbox_server.url)
    now = requests.get(f"{sandbox_server.url}/_sandbox/faults", timeout=5).json()
    assert now["queue"] == ["drop"] and now["latency_ms"] == 5 and now["seed"] == 3
    cleared = requests.delete(f"{sandbox_server.url}/_sandbox/faults", timeout=5).json()
    assert cleared["queue"] == [] and cleared["latency_ms"] == 0
    bad = requests.put(f"{sandbox_server.url}/_sandbox/faults", json={"server_error": 2}, timeout=5)
    assert bad.status_code == 400
    typo = requests.put(
        f"{sandbox_server.url}/_sandbox/faults", json={"server_errors": 0.1}, timeout=5
    )
    assert typo.status_code == 400 and "server_errors" in typo.json()["error"]


def test_faults_latency_delays_x_answers(
    sandbox_server: SandboxServer, sandbox_admin: Admin
) -> None:
    sandbox_admin.faults(latency_ms=150)
    started = time.monotonic()
    assert me(sandbox_server.url).status_code == 200
    assert time.monotonic() - started >= 0.15


@pytest.mark.parametrize(
    "settings",
    [{"rate_limited": -0.1}, {"server_error": 0.6, "unavailable": 0.6}, {"latency_ms": -1}],
)
def test_faults_reject_impossible_settings(settings: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Faults.from_json(settings)


def test_faults_drop_after_makes_the_post_but_never_answers(
    sandbox_server: SandboxServer, sandbox_admin: Admin
) -> None:
    sandbox_admin.faults(queue=["drop_after"])
    client = tweepy_client(sandbox_server.url)
    with pytest.raises(requests.ConnectionError):
        client.create_tweet(text="did this go out?")
    log = requests.get(f"{sandbox_server.url}/_sandbox/requests", timeout=5).json()["requests"]
    assert [(e["status"], e["dropped"]) for e in log] == [(201, True)]
    with pytest.raises(tweepy.Forbidden):  # it did: a retry is a duplicate
        client.create_tweet(text="did this go out?")
    found = client.search_recent_tweets("from:tcbot")
    assert [t.text for t in found.data] == ["did this go out?"]
