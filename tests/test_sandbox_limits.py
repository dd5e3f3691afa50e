"""Rate-limit headers and windows on the sandbox, per endpoint and per user or app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
import tweepy

from bot.clock import FakeClock
from bot.sandbox.faults import Faults
from bot.sandbox.limits import Limiter
from bot.sandbox.server import SandboxServer, start_sandbox
from tests.test_sandbox_support import BEARER, BOT_ID, START, Admin, oauth, tweepy_client

pytest_plugins = ["tests.test_sandbox_support"]

TOO_MANY = {
    "title": "Too Many Requests",
    "detail": "Too Many Requests",
    "type": "about:blank",
    "status": 429,
}
EPOCH = int(START.timestamp())


@pytest.mark.parametrize(
    ("method", "path", "headers", "limit"),
    [
        ("GET", "/2/tweets/search/recent?query=%23a", BEARER, 450),
        ("GET", "/2/tweets/search/recent?query=%23a", oauth(), 300),
        ("GET", "/2/tweets?ids=1", BEARER, 3500),
        ("GET", "/2/tweets?ids=1", oauth(), 5000),
        ("GET", "/2/tweets/1", BEARER, 450),
        ("GET", "/2/tweets/1", oauth(), 900),
        ("GET", f"/2/users/{BOT_ID}/mentions", BEARER, 450),
        ("GET", f"/2/users/{BOT_ID}/mentions", oauth(), 300),
        ("GET", "/2/users/me", oauth(), 75),
        ("DELETE", "/2/tweets/1", oauth(), 50),
    ],
)
def test_limits_every_response_carries_the_endpoints_window(
    sandbox_server: SandboxServer, method: str, path: str, headers: dict[str, str], limit: int
) -> None:
    response = requests.request(method, sandbox_server.url + path, headers=headers, timeout=5)
    assert response.headers["x-rate-limit-limit"] == str(limit)
    assert response.headers["x-rate-limit-remaining"] == str(limit - 1)
    assert response.headers["x-rate-limit-reset"] == str(EPOCH + 900)


def test_limits_post_adds_the_24_hour_headers(sandbox_server: SandboxServer) -> None:
    response = requests.post(
        f"{sandbox_server.url}/2/tweets", json={"text": "hi"}, headers=oauth(), timeout=5
    )
    assert response.headers["x-rate-limit-limit"] == "100"
    assert response.headers["x-rate-limit-remaining"] == "99"
    assert response.headers["x-app-limit-24hour-limit"] == "10000"
    assert response.headers["x-app-limit-24hour-remaining"] == "9999"
    assert response.headers["x-app-limit-24hour-reset"] == str(EPOCH + 86_400)
    assert response.headers["x-user-limit-24hour-remaining"] == "2399"
    assert response.headers["x-user-limit-24hour-reset"] == str(EPOCH + 86_400)


def test_limits_errors_also_carry_the_headers(sandbox_server: SandboxServer) -> None:
    for response in (
        requests.get(
            f"{sandbox_server.url}/2/tweets/search/recent",
            params={"query": "#a", "max_results": 1},
            headers=BEARER,
            timeout=5,
        ),
        requests.get(f"{sandbox_server.url}/2/users/me", timeout=5),
    ):
        assert response.status_code in (400, 401)
        assert {"x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset"} <= set(
            response.headers
        )


def test_limits_spent_window_answers_429_with_reset_until_it_passes(
    sandbox_server: SandboxServer, sandbox_clock: FakeClock
) -> None:
    for _ in range(75):
        assert (
            requests.get(f"{sandbox_server.url}/2/users/me", headers=oauth(), timeout=5).status_code
            == 200
        )
    refused = requests.get(f"{sandbox_server.url}/2/users/me", headers=oauth(), timeout=5)
    assert refused.status_code == 429
    assert refused.json() == TOO_MANY
    assert refused.headers["x-rate-limit-remaining"] == "0"
    assert refused.headers["x-rate-limit-reset"] == str(EPOCH + 900)
    sandbox_clock.advance(timedelta(seconds=900))
    again = requests.get(f"{sandbox_server.url}/2/users/me", headers=oauth(), timeout=5)
    assert again.status_code == 200
    assert again.headers["x-rate-limit-remaining"] == "74"


def test_limits_windows_are_per_user_and_per_app(
    sandbox_server: SandboxServer, sandbox_admin: Admin
) -> None:
    ana = sandbox_admin.user("ana")
    requests.get(f"{sandbox_server.url}/2/tweets/1", headers=oauth(), timeout=5)
    requests.get(f"{sandbox_server.url}/2/tweets/1", headers=oauth(), timeout=5)
    hers = requests.get(
        f"{sandbox_server.url}/2/tweets/1", headers=oauth(ana["access_token"]), timeout=5
    )
    app = requests.get(f"{sandbox_server.url}/2/tweets/1", headers=BEARER, timeout=5)
    assert hers.headers["x-rate-limit-remaining"] == "899"
    assert app.headers["x-rate-limit-remaining"] == "449"


def test_limits_tweepy_sees_too_many_requests_with_reset_time(sandbox_clock: FakeClock) -> None:
    faults = Faults(spent_endpoints=("GET /2/tweets/search/recent",))
    with start_sandbox(clock=sandbox_clock.now, faults=faults) as server:
        client = tweepy_client(server.url)
        with pytest.raises(tweepy.TooManyRequests) as caught:
            client.search_recent_tweets("#TraineeTalk")
        assert caught.value.reset_time == EPOCH + 900
        assert caught.value.api_messages == ["Too Many Requests"]
        assert client.get_me().data.username == "tcbot"  # other endpoints unaffected
        sandbox_clock.advance(900)
        assert client.search_recent_tweets("#TraineeTalk").meta == {"result_count": 0}


def test_limits_spend_via_admin_blocks_everyone_on_that_endpoint(
    sandbox_server: SandboxServer, sandbox_admin: Admin
) -> None:
    sandbox_admin.faults(spent_endpoints=["POST /2/tweets"])
    refused = requests.post(
        f"{sandbox_server.url}/2/tweets", json={"text": "x"}, headers=oauth(), timeout=5
    )
    assert refused.status_code == 429
    assert refused.headers["x-rate-limit-reset"] == str(EPOCH + 900)
    unknown = requests.put(
        f"{sandbox_server.url}/_sandbox/faults",
        json={"spent_endpoints": ["GET /nowhere"]},
        timeout=5,
    )
    assert unknown.status_code == 400


def test_limiter_24_hour_app_cap_blocks_until_its_own_reset() -> None:
    limiter = Limiter()
    now = datetime(2026, 8, 20, tzinfo=UTC)
    for n in range(10_000):
        user = f"user:{n % 200}"  # spread over users so only the app cap binds
        assert limiter.check(
            "POST /2/tweets", user, now + timedelta(seconds=n // 20), consume=True
        ).allowed
    later = now + timedelta(hours=1)
    verdict = limiter.check("POST /2/tweets", "user:999", later, consume=True)
    assert not verdict.allowed
    assert verdict.headers["x-app-limit-24hour-remaining"] == "0"
    assert verdict.headers["x-rate-limit-reset"] == str(int((now + timedelta(days=1)).timestamp()))
