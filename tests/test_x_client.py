"""TweepyXClient against X's recorded answers (tests/fixtures/x), served by `responses`.

Each fixture file holds one answer as X sent it: status, headers and body, with
its source in the notes. An unregistered URL raises, so nothing reaches a network.
Also here: the pure translation helpers, and FakeXClient (tests/fakes.py), which
other tests trust to behave like the real client.
"""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from responses import matchers

from bot.clock import FakeClock
from bot.errors import RateLimited, XError, XRejected, XRejectReason, XUnavailable
from bot.x_answers import classify_lookup_errors, rate_limit_reset, translate_http_error
from bot.x_client import FIELD_PARAMS, Account, PostedTweet, TweepyXClient, XClient, check_base_url
from bot.x_usage import ApiCall, route_template
from tests.fakes import (
    BOT_ACCOUNT,
    FakeXClient,
    make_lookup_page,
    make_page,
    make_tweet,
    make_user,
    x_time,
)

FIXTURES = Path(__file__).parent / "fixtures" / "x"
X = "https://api.twitter.com"
START = datetime(2026, 8, 20, 12, 0, tzinfo=UTC)
WINDOW_RESET = datetime(2026, 8, 20, 12, 15, tzinfo=UTC)  # x-rate-limit-reset in the fixtures
DAY_RESET = datetime(2026, 8, 21, 9, 30, tzinfo=UTC)  # x-user-limit-24hour-reset
SECRETS = {
    "api_key": "tcbotTestApiKeyK7Q2",
    "api_secret": "tcbotTestApiSecretS9W4",
    "access_token": "1072250532645998596-tcbotTestAccessTokenA3",
    "access_token_secret": "tcbotTestAccessSecretT5Z8",
    "bearer_token": "tcbotTestBearerB6X1",
}
SEARCH_URL = f"{X}/2/tweets/search/recent"
QUERY = "#TherapistsConnect -is:retweet"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def serve(
    rsps: responses.RequestsMock,
    method: str,
    url: str,
    name: str,
    *,
    status: int | None = None,
    match: tuple[Any, ...] = (),
) -> dict[str, Any]:
    """Register fixture `name` as X's answer; returns the fixture."""
    answer = fixture(name)
    headers = dict(answer["headers"])
    rsps.add(
        method,
        url,
        body=json.dumps(answer["body"]),
        status=status or answer["status"],
        content_type=headers.pop("content-type", "application/json"),
        headers=headers,
        match=match,
    )
    return answer


def search_params(**extra: str) -> dict[str, str]:
    return {"query": QUERY, "max_results": "100", **FIELD_PARAMS, **extra}


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """The client must never sleep: any time.sleep fails the test."""

    def refuse(seconds: float) -> None:
        raise AssertionError(f"time.sleep({seconds}) called")

    monkeypatch.setattr(time, "sleep", refuse)


@pytest.fixture(autouse=True)
def restore_logger_levels() -> Iterator[None]:
    names = ("tweepy", "oauthlib", "requests_oauthlib")
    saved = {name: logging.getLogger(name).level for name in names}
    yield
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def calls() -> list[ApiCall]:
    return []


@pytest.fixture
def make_client(calls: list[ApiCall]) -> Callable[..., TweepyXClient]:
    def make(**overrides: Any) -> TweepyXClient:
        options: dict[str, Any] = {
            **SECRETS,
            "clock": FakeClock(START),
            "on_call": calls.append,
            **overrides,
        }
        return TweepyXClient(**options)

    return make


@pytest.fixture
def client(make_client: Callable[..., TweepyXClient]) -> TweepyXClient:
    return make_client()


# -- post, delete, me ------------------------------------------------------------------


def test_post_returns_the_created_post_and_records_one_post_created(
    client: TweepyXClient, rsps: responses.RequestsMock, calls: list[ApiCall]
) -> None:
    text = "Q1: What drew you to counselling? #TraineeTalk"
    serve(
        rsps,
        "POST",
        f"{X}/2/tweets",
        "create_tweet_201",
        match=(matchers.json_params_matcher({"text": text}),),
    )

    posted = client.post(text)

    assert posted == PostedTweet(id="1958300000000000001", text=text)
    assert rsps.calls[0].request.headers["Authorization"].startswith("OAuth ")
    assert calls == [
        ApiCall(
            at=START,
            method="POST",
            endpoint="/2/tweets",
            status=201,
            posts_read=0,
            users_read=0,
            posts_created=1,
            rate_limit_remaining=99,
            rate_limit_reset=WINDOW_RESET,
            error=None,
        )
    ]


def test_post_sends_reply_and_quote_ids(
    client: TweepyXClient, rsps: responses.RequestsMock
) -> None:
    body = {
        "text": "Welcome!",
        "reply": {"in_reply_to_tweet_id": "1958200000000000003"},
        "quote_tweet_id": "1958100000000000001",
    }
    serve(
        rsps,
        "POST",
        f"{X}/2/tweets",
        "create_tweet_201",
        match=(matchers.json_params_matcher(body),),
    )

    client.post("Welcome!", reply_to="1958200000000000003", quote_of="1958100000000000001")


def test_post_rejects_a_reply_to_that_is_not_a_post_id(client: TweepyXClient) -> None:
    with pytest.raises(ValueError, match="not an X post id"):
        client.post("hi", reply_to="../users/me")


def test_delete_sends_delete_and_records_the_route_template(
    client: TweepyXClient, rsps: responses.RequestsMock, calls: list[ApiCall]
) -> None:
    serve(rsps, "DELETE", f"{X}/2/tweets/1958300000000000001", "delete_tweet_200")

    client.delete("1958300000000000001")

    assert [(c.method, c.endpoint, c.status, c.posts_created) for c in calls] == [
        ("DELETE", "/2/tweets/:id", 200, 0)
    ]


def test_me_returns_the_account_and_counts_one_user_read(
    client: TweepyXClient, rsps: responses.RequestsMock, calls: list[ApiCall]
) -> None:
    serve(rsps, "GET", f"{X}/2/users/me", "users_me_200")
    as_protocol: XClient = client  # mypy checks TweepyXClient against the protocol

    assert as_protocol.me() == Account(
        id="1072250532645998596", username="TweepyDev", name="Tweepy Testing"
    )
    assert rsps.calls[0].request.headers["Authorization"].startswith("OAuth ")
    assert (calls[0].endpoint, calls[0].users_read, calls[0].posts_read) == ("/2/users/me", 1, 0)


# -- search_recent -----------------------------------------------------------------------


def test_search_recent_sends_max_results_and_the_archive_fields(
    client: TweepyXClient, rsps: responses.RequestsMock, calls: list[ApiCall]
) -> None:
    answer = serve(
        rsps,
        "GET",
        SEARCH_URL,
        "search_recent_last",
        match=(matchers.query_param_matcher(search_params()),),
    )

    result = client.search_recent(QUERY)

    assert rsps.calls[0].request.headers["Authorization"] == f"Bearer {SECRETS['bearer_token']}"
    assert [page.payload for page in result.pages] == [answer["body"]]
    page = result.pages[0]
    assert (page.endpoint, page.params, page.retrieved_at) == (
        "GET /2/tweets/search/recent",
        search_params(),
        START,
    )
    assert (result.newest_id, result.truncated) == ("1958180000000000001", False)
    assert (calls[0].endpoint, calls[0].posts_read, calls[0].users_read) == (
        "/2/tweets/search/recent",
        1,
        1,
    )
    assert "author_id" in FIELD_PARAMS["expansions"].split(",")


def test_search_recent_follows_next_token_to_the_last_page(
    client: TweepyXClient, rsps: responses.RequestsMock, calls: list[ApiCall]
) -> None:
    first = "b26v89c19zqg8o3fpzbn1e0ffhxjiofzw6po136rvbnul"
    second = "7140dibdnow9c7btw423i3sy3u5zupmkcpofxcsmxj48j"
    serve(
        rsps,
        "GET",
        SEARCH_URL,
        "search_recent_page1",
        match=(matchers.query_param_matcher(search_params()),),
    )
    serve(
        rsps,
        "GET",
        SEARCH_URL,
        "search_recent_page2",
        match=(matchers.query_param_matcher(search_params(next_token=first)),),
    )
    serve(
        rsps,
        "GET",
        SEARCH_URL,
        "search_recent_last",
        match=(matchers.query_param_matcher(search_params(next_token=second)),),
    )

    result = client.search_recent(QUERY, max_pages=5)

    assert len(result.pages) == 3
    assert result.pages[2].params == search_params(next_token=second)
    assert (result.newest_id, result.truncated) == ("1958200000000000003", False)
    # page 1: 2 posts + 1 included post, 3 users; page 2: 1 + 0, 1 user; page 3: 1 + 0, 1 user
    assert [(c.posts_read, c.users_read) for c in calls] == [(3, 3), (1, 1), (1, 1)]


def test_search_recent_stops_at_max_pages_and_flags_truncated(
    client: TweepyXClient, rsps: responses.RequestsMock
) -> None:
    serve(rsps, "GET", SEARCH_URL, "search_recent_page1")
    serve(rsps, "GET", SEARCH_URL, "search_recent_page2")

    result = client.search_recent(QUERY, max_pages=2)

    assert len(rsps.calls) == 2
    assert (len(result.pages), result.truncated, result.newest_id) == (
        2,
        True,
        "1958200000000000003",
    )


def test_search_recent_with_no_matches_returns_one_empty_page(
    client: TweepyXClient, rsps: responses.RequestsMock, calls: list[ApiCall]
) -> None:
    serve(rsps, "GET", SEARCH_URL, "search_recent_empty")

    result = client.search_recent(QUERY, since_id="1958200000000000003")

    assert [p.payload for p in result.pages] == [{"meta": {"result_count": 0}}]
    assert (result.newest_id, result.truncated) == (None, False)
    assert (calls[0].posts_read, calls[0].users_read) == (0, 0)


def test_search_recent_passes_since_id_and_times_as_utc(
    client: TweepyXClient, rsps: responses.RequestsMock
) -> None:
    expected = search_params(
        since_id="1958100000000000001",
        start_time="2026-08-19T19:00:00Z",
        end_time="2026-08-20T11:59:30Z",
    )
    serve(
        rsps,
        "GET",
        SEARCH_URL,
        "search_recent_empty",
        match=(matchers.query_param_matcher(expected),),
    )

    result = client.search_recent(
        QUERY,
        since_id="1958100000000000001",
        start_time=datetime(2026, 8, 19, 20, 0, tzinfo=timezone(timedelta(hours=1))),
        end_time=datetime(2026, 8, 20, 11, 59, 30, tzinfo=UTC),
    )

    assert result.pages[0].params == expected


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_pages": 0}, "max_pages must be at least 1"),
        ({"start_time": datetime(2026, 8, 19, 20, 0)}, "no time zone"),
        ({"since_id": "12ab"}, "not an X post id"),
    ],
)
def test_search_recent_refuses_bad_arguments_before_any_request(
    client: TweepyXClient, kwargs: dict[str, Any], message: str, calls: list[ApiCall]
) -> None:
    with pytest.raises(ValueError, match=message):
        client.search_recent(QUERY, **kwargs)
    assert calls == []


def test_search_recent_error_on_a_later_page_raises_and_records_both_requests(
    client: TweepyXClient, rsps: responses.RequestsMock, calls: list[ApiCall]
) -> None:
    serve(rsps, "GET", SEARCH_URL, "search_recent_page1")
    serve(rsps, "GET", SEARCH_URL, "rate_limited_429")

    with pytest.raises(RateLimited) as caught:
        client.search_recent(QUERY)

    assert caught.value.reset_at == WINDOW_RESET
    assert [c.status for c in calls] == [200, 429]


def test_search_recent_reads_with_user_context_when_there_is_no_bearer_token(
    make_client: Callable[..., TweepyXClient], rsps: responses.RequestsMock
) -> None:
    serve(rsps, "GET", SEARCH_URL, "search_recent_empty")

    make_client(bearer_token="").search_recent(QUERY)

    assert rsps.calls[0].request.headers["Authorization"].startswith("OAuth ")


# -- lookup ---------------------------------------------------------------------------------


def test_lookup_sorts_error_items_into_missing_and_withheld(
    client: TweepyXClient, rsps: responses.RequestsMock, calls: list[ApiCall]
) -> None:
    ids = ["1958200000000000002", "1276230436478386177", "1958000000000000005"]
    params = {"ids": ",".join(ids), **FIELD_PARAMS}
    answer = serve(
        rsps,
        "GET",
        f"{X}/2/tweets",
        "lookup_partial_200",
        match=(matchers.query_param_matcher(params),),
    )

    result = client.lookup(ids)

    assert result.missing_ids == ("1276230436478386177",)  # not the expansion's error item
    assert result.withheld_ids == ("1958000000000000005",)
    assert [(p.payload, p.endpoint, p.params) for p in result.pages] == [
        (answer["body"], "GET /2/tweets", params)
    ]
    assert (calls[0].endpoint, calls[0].posts_read, calls[0].users_read) == ("/2/tweets", 1, 1)


def test_lookup_asks_for_at_most_100_ids_per_request(
    client: TweepyXClient, rsps: responses.RequestsMock, calls: list[ApiCall]
) -> None:
    ids = [str(1958000000000000000 + n) for n in range(150)]
    for batch in (ids[:100], ids[100:]):
        params = {"ids": ",".join(batch), **FIELD_PARAMS}
        rsps.add(
            "GET",
            f"{X}/2/tweets",
            json=make_lookup_page([], missing_ids=batch),
            match=[matchers.query_param_matcher(params)],
        )

    result = client.lookup(ids + ids[:3])  # repeats are asked for once

    assert len(result.pages) == 2
    assert result.missing_ids == tuple(ids)
    assert len(calls) == 2


def test_lookup_of_no_ids_makes_no_request(client: TweepyXClient, calls: list[ApiCall]) -> None:
    assert client.lookup([]).pages == ()
    assert calls == []


# -- errors -----------------------------------------------------------------------------------

POST = (
    "POST",
    f"{X}/2/tweets",
    lambda c: c.post("Q1 #TraineeTalk", reply_to="1958200000000000003"),
)
SEARCH = ("GET", SEARCH_URL, lambda c: c.search_recent(QUERY, since_id="100"))
DELETE = ("DELETE", f"{X}/2/tweets/1958000000000000404", lambda c: c.delete("1958000000000000404"))


@pytest.mark.parametrize(
    ("name", "status", "call", "reason", "says"),
    [
        ("usage_capped_429", None, SEARCH, XRejectReason.USAGE_CAPPED, "Monthly product cap"),
        ("unauthorized_401", None, POST, XRejectReason.BAD_CREDENTIALS, "X_ACCESS_TOKEN_SECRET"),
        ("duplicate_403", None, POST, XRejectReason.DUPLICATE_CONTENT, "already posted"),
        (
            "reply_gate_engaged_403",
            None,
            POST,
            XRejectReason.REPLY_NOT_ALLOWED,
            "mentioned or engaged",
        ),
        (
            "reply_gate_mentioned_403",
            None,
            POST,
            XRejectReason.REPLY_NOT_ALLOWED,
            "mentioned or engaged",
        ),
        (
            "unsupported_auth_403",
            None,
            POST,
            XRejectReason.APP_ONLY_TOKEN,
            "X_ACCESS_TOKEN and X_ACCESS_TOKEN_SECRET",
        ),
        (
            "reply_deleted_403",
            None,
            POST,
            XRejectReason.REPLY_TARGET_GONE,
            "deleted or not visible",
        ),
        ("too_long_400", None, POST, XRejectReason.TOO_LONG, "280 weighted characters"),
        ("too_long_400", 403, POST, XRejectReason.TOO_LONG, "280 weighted characters"),
        ("not_found_404", None, DELETE, XRejectReason.NOT_FOUND, "may already be deleted"),
        (
            "invalid_max_results_400",
            None,
            SEARCH,
            XRejectReason.INVALID_REQUEST,
            "is not between 10 and 100",
        ),
        ("stale_since_id_400", None, SEARCH, XRejectReason.INVALID_REQUEST, "clear that cursor"),
    ],
)
def test_error_answers_become_x_rejected_with_reason_and_advice(
    client: TweepyXClient,
    rsps: responses.RequestsMock,
    calls: list[ApiCall],
    name: str,
    status: int | None,
    call: tuple[str, str, Callable[[TweepyXClient], object]],
    reason: XRejectReason,
    says: str,
) -> None:
    method, url, run = call
    answer = serve(rsps, method, url, name, status=status)

    with pytest.raises(XRejected) as caught:
        run(client)

    error = caught.value
    assert (error.reason, error.status, error.retryable) == (
        reason,
        status or answer["status"],
        False,
    )
    assert error.endpoint.startswith(method + " /2/")
    assert says in str(error)
    assert error.what and error.fix
    assert [(c.status, c.posts_created, c.posts_read, c.error is not None) for c in calls] == [
        (status or answer["status"], 0, 0, True)
    ]


def test_invalid_request_carries_xs_own_message(
    client: TweepyXClient, rsps: responses.RequestsMock
) -> None:
    serve(rsps, "GET", SEARCH_URL, "stale_since_id_400")

    with pytest.raises(XRejected) as caught:
        client.search_recent(QUERY, since_id="100")

    assert caught.value.detail.startswith(
        "'since_id' must be a tweet id created after 2026-06-23T10:50Z"
    )


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (
            {"title": "Forbidden", "detail": "Forbidden", "type": "about:blank", "status": 403},
            403,
            XRejectReason.FORBIDDEN,
        ),
        (
            {"title": "Conflict", "detail": "Conflict", "type": "about:blank", "status": 409},
            409,
            XRejectReason.OTHER,
        ),
    ],
)
def test_other_refusals_become_forbidden_or_other(
    client: TweepyXClient,
    rsps: responses.RequestsMock,
    body: dict[str, Any],
    status: int,
    reason: XRejectReason,
) -> None:
    rsps.add("POST", f"{X}/2/tweets", json=body, status=status)

    with pytest.raises(XRejected) as caught:
        client.post("hello")

    assert caught.value.reason is reason
    assert str(status) in str(caught.value)


@pytest.mark.parametrize(
    ("name", "reset_at"),
    [("rate_limited_429", WINDOW_RESET), ("rate_limited_24hour_429", DAY_RESET)],
)
def test_429_becomes_rate_limited_with_reset_at_and_never_sleeps(
    client: TweepyXClient,
    rsps: responses.RequestsMock,
    calls: list[ApiCall],
    name: str,
    reset_at: datetime,
) -> None:
    serve(rsps, "POST", f"{X}/2/tweets", name)

    with pytest.raises(RateLimited) as caught:
        client.post("Q2 #TraineeTalk")

    error = caught.value
    assert (error.reset_at, error.endpoint, error.retryable) == (reset_at, "POST /2/tweets", True)
    assert error.reset_at is not None and error.reset_at.tzinfo is UTC
    assert "POST /2/tweets" in str(error)
    assert (calls[0].status, calls[0].rate_limit_remaining, calls[0].rate_limit_reset) == (
        429,
        int(fixture(name)["headers"]["x-rate-limit-remaining"]),
        WINDOW_RESET,
    )


@pytest.mark.parametrize("name", ["server_error_500", "service_unavailable_503"])
def test_server_errors_become_x_unavailable(
    client: TweepyXClient, rsps: responses.RequestsMock, calls: list[ApiCall], name: str
) -> None:
    answer = serve(rsps, "GET", SEARCH_URL, name)

    with pytest.raises(XUnavailable) as caught:
        client.search_recent(QUERY)

    assert (caught.value.status, caught.value.retryable) == (answer["status"], True)
    assert answer["body"]["detail"] in str(caught.value)
    assert [c.status for c in calls] == [answer["status"]]


def test_a_non_json_error_page_becomes_x_unavailable(
    client: TweepyXClient, rsps: responses.RequestsMock
) -> None:
    rsps.add(
        "GET", SEARCH_URL, body="<html>502 Bad Gateway</html>", status=502, content_type="text/html"
    )

    with pytest.raises(XUnavailable, match="502"):
        client.search_recent(QUERY)


def test_a_200_that_is_not_json_becomes_x_unavailable_and_is_recorded_once(
    client: TweepyXClient, rsps: responses.RequestsMock, calls: list[ApiCall]
) -> None:
    rsps.add(
        "GET",
        f"{X}/2/users/me",
        body="<html>captive portal</html>",
        status=200,
        content_type="text/html",
    )

    with pytest.raises(XUnavailable, match="not JSON"):
        client.me()

    assert [(c.status, c.users_read) for c in calls] == [(200, 0)]


@pytest.mark.parametrize(
    "failure",
    [requests.ConnectionError("connection refused"), requests.ReadTimeout("read timed out")],
)
def test_connection_failures_become_x_unavailable_and_are_recorded(
    client: TweepyXClient, rsps: responses.RequestsMock, calls: list[ApiCall], failure: Exception
) -> None:
    rsps.add("POST", f"{X}/2/tweets", body=failure)

    with pytest.raises(XUnavailable) as caught:
        client.post("Q3 #TraineeTalk")

    assert (caught.value.status, caught.value.endpoint) == (None, "POST /2/tweets")
    assert type(failure).__name__ in str(caught.value)
    assert [(c.method, c.endpoint, c.status, c.posts_created) for c in calls] == [
        ("POST", "/2/tweets", None, 0)
    ]
    assert calls[0].error is not None and type(failure).__name__ in calls[0].error


class _BrokenRaw(io.RawIOBase):
    """A socket that dies after the status line: reading the body fails."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        raise ConnectionResetError(104, "Connection reset by peer")


def test_an_answer_cut_off_mid_body_is_recorded_once_and_is_unavailable(
    client: TweepyXClient, rsps: responses.RequestsMock, calls: list[ApiCall]
) -> None:
    rsps.add("POST", f"{X}/2/tweets", body=io.BufferedReader(_BrokenRaw()), status=201)

    with pytest.raises(XUnavailable, match="connection dropped"):
        client.post("Q4 #TraineeTalk")

    assert [(c.status, c.posts_created) for c in calls] == [(201, 0)]
    assert calls[0].error is not None and "cut off" in calls[0].error


@pytest.mark.parametrize(
    ("method", "url", "body", "run"),
    [
        ("POST", f"{X}/2/tweets", {"data": []}, lambda c: c.post("Q5")),
        (
            "DELETE",
            f"{X}/2/tweets/1958300000000000001",
            {"data": {"deleted": False}},
            lambda c: c.delete("1958300000000000001"),
        ),
    ],
)
def test_a_success_without_the_expected_data_is_refused(
    client: TweepyXClient,
    rsps: responses.RequestsMock,
    method: str,
    url: str,
    body: dict[str, Any],
    run: Callable[[TweepyXClient], object],
) -> None:
    rsps.add(method, url, json=body, status=200)

    with pytest.raises(XRejected) as caught:
        run(client)

    assert caught.value.reason is XRejectReason.OTHER
    assert "without the expected data" in str(caught.value)


def test_empty_user_credentials_are_refused_before_any_request(
    make_client: Callable[..., TweepyXClient], calls: list[ApiCall]
) -> None:
    client = make_client(api_key="", access_token_secret="")

    with pytest.raises(XRejected) as caught:
        client.post("hello")

    assert caught.value.reason is XRejectReason.BAD_CREDENTIALS
    assert "X_API_KEY, X_ACCESS_TOKEN_SECRET are not set" in str(caught.value)
    assert calls == []


# -- usage log, transport, secrets --------------------------------------------------------


def test_a_failing_usage_recorder_is_logged_and_the_post_still_returns(
    make_client: Callable[..., TweepyXClient],
    rsps: responses.RequestsMock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(call: ApiCall) -> None:
        raise RuntimeError("database is locked")

    serve(rsps, "POST", f"{X}/2/tweets", "create_tweet_201")

    posted = make_client(on_call=broken).post("Q1")

    assert posted.id == "1958300000000000001"
    assert "Could not record POST /2/tweets in the usage log" in caplog.text


def test_base_url_sends_requests_to_the_sandbox(
    make_client: Callable[..., TweepyXClient], rsps: responses.RequestsMock, calls: list[ApiCall]
) -> None:
    sandbox = "http://127.0.0.1:54321"
    serve(rsps, "GET", f"{sandbox}/2/tweets/search/recent", "search_recent_empty")
    serve(rsps, "DELETE", f"{sandbox}/2/tweets/1958300000000000001", "delete_tweet_200")
    client = make_client(base_url=sandbox + "/")

    client.search_recent(QUERY)
    client.delete("1958300000000000001")

    assert [str(r.request.url).split("/2/")[0] for r in rsps.calls] == [sandbox, sandbox]
    assert repr(client) == f"TweepyXClient(base_url='{sandbox}')"
    assert [c.endpoint for c in calls] == ["/2/tweets/search/recent", "/2/tweets/:id"]


@pytest.mark.parametrize(
    "base_url",
    [
        "127.0.0.1:8765",
        "ftp://127.0.0.1",
        "http://127.0.0.1:8765/api",
        "http://127.0.0.1:99999",
        "http://h?x=1",
        "http://",
    ],
)
def test_base_url_that_is_not_scheme_host_port_is_refused(
    make_client: Callable[..., TweepyXClient], base_url: str
) -> None:
    with pytest.raises(ValueError, match=r"is not http\(s\)://host\[:port\]"):
        make_client(base_url=base_url)


def test_base_url_with_a_password_is_refused_without_echoing_it() -> None:
    with pytest.raises(ValueError) as caught:
        check_base_url("http://admin:hunter2secret@127.0.0.1:8765")
    assert "hunter2secret" not in str(caught.value)


def test_every_request_carries_the_timeout(
    make_client: Callable[..., TweepyXClient], rsps: responses.RequestsMock
) -> None:
    serve(rsps, "GET", f"{X}/2/users/me", "users_me_200")

    make_client(timeout=7.5).me()

    sent_with: dict[str, Any] = rsps.calls[0].request.req_kwargs  # type: ignore[attr-defined]
    assert sent_with["timeout"] == 7.5


def test_loggers_that_print_secrets_are_held_at_info(
    make_client: Callable[..., TweepyXClient],
) -> None:
    logging.getLogger("tweepy").setLevel(logging.DEBUG)
    logging.getLogger("oauthlib").setLevel(logging.NOTSET)
    logging.getLogger("requests_oauthlib").setLevel(logging.WARNING)

    make_client()

    assert logging.getLogger("tweepy").level == logging.INFO
    assert logging.getLogger("oauthlib").level == logging.INFO
    assert logging.getLogger("requests_oauthlib").level == logging.WARNING


def test_secrets_never_reach_logs_reprs_or_errors(
    make_client: Callable[..., TweepyXClient],
    rsps: responses.RequestsMock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("tweepy").setLevel(logging.DEBUG)  # as a careless caller might
    client = make_client()
    serve(rsps, "POST", f"{X}/2/tweets", "create_tweet_201")
    serve(rsps, "DELETE", f"{X}/2/tweets/1958300000000000001", "delete_tweet_200")
    serve(rsps, "GET", SEARCH_URL, "search_recent_page1")
    serve(rsps, "GET", SEARCH_URL, "search_recent_last")
    serve(rsps, "GET", f"{X}/2/tweets", "lookup_partial_200")
    serve(rsps, "GET", f"{X}/2/users/me", "users_me_200")
    serve(rsps, "POST", f"{X}/2/tweets", "unauthorized_401")
    rsps.add("GET", f"{X}/2/users/me", body=requests.ConnectionError("refused"))
    client.post("Q1")
    client.delete("1958300000000000001")
    client.search_recent(QUERY)
    client.lookup(["1958200000000000002"])
    client.me()
    errors: list[XError] = []
    for failing in (lambda: client.post("Q2"), client.me):
        with pytest.raises(XError) as caught:
            failing()
        errors.append(caught.value)

    seen = [caplog.text, repr(client), *(r.getMessage() for r in caplog.records), *map(str, errors)]
    assert len(caplog.records) > 0
    leaks = [(name, text) for text in seen for name, secret in SECRETS.items() if secret in text]
    assert leaks == []


# -- pure helpers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/2/tweets", "/2/tweets"),
        ("/2/tweets/1958300000000000001", "/2/tweets/:id"),
        ("/2/tweets/search/recent", "/2/tweets/search/recent"),
        ("/2/users/1072250532645998596/mentions", "/2/users/:id/mentions"),
        ("/2/users/me", "/2/users/me"),
    ],
)
def test_route_template_replaces_ids_but_not_the_version(path: str, template: str) -> None:
    assert route_template(path) == template


def test_rate_limit_reset_is_none_without_headers_and_takes_a_spent_app_cap() -> None:
    assert rate_limit_reset({}) is None
    headers = {
        "x-rate-limit-reset": "1787228100",
        "x-app-limit-24hour-remaining": "0",
        "x-app-limit-24hour-reset": "1787304600",
    }
    assert rate_limit_reset(headers) == DAY_RESET


def test_translate_http_error_429_without_reset_header_has_unknown_reset() -> None:
    error = translate_http_error(status=429, headers={}, body=None, endpoint="GET /2/users/me")
    assert isinstance(error, RateLimited)
    assert error.reset_at is None
    assert "an unknown time" in str(error)


def test_classify_lookup_errors_matches_problem_types_by_suffix() -> None:
    page = {
        "errors": [
            {
                "resource_id": "1",
                "parameter": "ids",
                "type": "https://api.x.com/2/problems/resource-not-found",
            },
            {
                "resource_id": "2",
                "parameter": "ids",
                "type": "https://api.twitter.com/2/problems/not-authorized-for-resource",
            },
            {
                "resource_id": "3",
                "parameter": "ids",
                "type": "https://api.x.com/2/problems/something-else",
            },
            {
                "resource_id": "4",
                "parameter": "ids",
                "type": "https://api.x.com/2/problems/resource-not-found",
            },
        ]
    }
    assert classify_lookup_errors(page, ["1", "2", "3"]) == (["1"], ["2"])


# -- FakeXClient and the builders ---------------------------------------------------------


def test_fake_x_client_satisfies_the_protocol_and_assigns_increasing_ids() -> None:
    fake: XClient = FakeXClient()

    first = fake.post("Q1")
    second = fake.post("Q2", reply_to=first.id)

    assert int(second.id) > int(first.id)
    assert isinstance(fake, FakeXClient)
    assert [(p.text, p.reply_to) for p in fake.posts] == [("Q1", None), ("Q2", first.id)]
    assert fake.tweets[second.id]["conversation_id"] == first.id
    assert fake.me() == BOT_ACCOUNT


def test_fake_x_client_raises_a_queued_error_once_for_the_named_method() -> None:
    fake = FakeXClient()
    fake.fail_next(RateLimited(reset_at=WINDOW_RESET), method="post")

    fake.me()
    with pytest.raises(RateLimited):
        fake.post("Q1")
    assert fake.post("Q1").text == "Q1"
    assert fake.calls == ["me", "post", "post"]


def test_fake_x_client_refuses_duplicate_text_and_unknown_deletes() -> None:
    fake = FakeXClient()
    posted = fake.post("Q1")
    with pytest.raises(XRejected) as duplicate:
        fake.post("Q1")
    fake.delete(posted.id)
    with pytest.raises(XRejected) as gone:
        fake.delete(posted.id)

    assert (duplicate.value.reason, gone.value.reason) == (
        XRejectReason.DUPLICATE_CONTENT,
        XRejectReason.NOT_FOUND,
    )


def test_fake_x_client_search_filters_by_terms_and_since_id_newest_first() -> None:
    fake = FakeXClient()
    alex = make_user("1100000000000000001", "alex_counsels")
    tweets = [
        make_tweet(
            str(1958000000000000000 + n), f"hello {n} #TherapistsConnect", author_id=alex["id"]
        )
        for n in range(150)
    ]
    fake.add_tweets(
        *tweets, make_tweet("1959000000000000000", "unrelated", author_id=alex["id"]), users=[alex]
    )

    full = fake.search_recent(QUERY)
    later = fake.search_recent(QUERY, since_id="1958000000000000147")
    capped = fake.search_recent(QUERY, max_pages=1)

    assert [len(p.payload["data"]) for p in full.pages] == [100, 50]
    assert (full.newest_id, full.truncated) == ("1958000000000000149", False)
    assert full.pages[1].params["next_token"] == "fake-next-1"
    assert [t["id"] for t in later.pages[0].payload["data"]] == [
        "1958000000000000149",
        "1958000000000000148",
    ]
    assert later.pages[0].payload["includes"]["users"] == [alex]
    assert capped.truncated is True


def test_fake_x_client_lookup_reports_missing_and_withheld_like_x() -> None:
    fake = FakeXClient()
    kept = make_tweet("1958000000000000001", "still here", author_id="1100000000000000001")
    hidden = make_tweet("1958000000000000002", "protected now", author_id="1100000000000000001")
    fake.add_tweets(kept, hidden)
    fake.withheld.add(hidden["id"])

    result = fake.lookup([kept["id"], hidden["id"], "1958000000000000003"])

    assert (result.missing_ids, result.withheld_ids) == (("1958000000000000003",), (hidden["id"],))
    assert classify_lookup_errors(result.pages[0].payload, fake.lookups[0]) == (
        ["1958000000000000003"],
        [hidden["id"]],
    )


def test_builders_produce_xs_exact_shapes() -> None:
    tweet = make_tweet(
        "1958200000000000003",
        "@tcbot_chat Hello! First time joining #TraineeTalk tonight",
        author_id="1100000000000000002",
        created_at=datetime(2026, 8, 20, 11, 5, 0, 250000, tzinfo=UTC),
        reply_to="1958100000000000001",
        in_reply_to_user_id=BOT_ACCOUNT.id,
        mention_ids={"tcbot_chat": BOT_ACCOUNT.id},
    )
    recorded = fixture("search_recent_page1")["body"]["data"][0]

    assert tweet["created_at"] == "2026-08-20T11:05:00.250Z"
    assert datetime.strptime(tweet["created_at"], "%Y-%m-%dT%H:%M:%S.%f%z") == datetime(
        2026, 8, 20, 11, 5, 0, 250000, tzinfo=UTC
    )
    assert tweet["edit_history_tweet_ids"] == [tweet["id"]]
    assert set(tweet) == set(recorded)
    assert tweet["entities"] == recorded["entities"]
    assert tweet["referenced_tweets"] == recorded["referenced_tweets"]
    assert make_page([]) == {"meta": {"result_count": 0}}
    assert (
        x_time(datetime(2026, 8, 20, 13, 0, tzinfo=timezone(timedelta(hours=1))))
        == "2026-08-20T12:00:00.000Z"
    )


def test_builder_pages_pass_through_the_real_client(
    client: TweepyXClient, rsps: responses.RequestsMock, calls: list[ApiCall]
) -> None:
    alex = make_user("1100000000000000001", "alex_counsels", name="Alex")
    newer = make_tweet("1958000000000000002", "Hi #TherapistsConnect", author_id=alex["id"])
    older = make_tweet("1958000000000000001", "Hello #TherapistsConnect", author_id=alex["id"])
    page = make_page([newer, older], users=[alex], next_token="t1")
    rsps.add("GET", SEARCH_URL, json=page)
    rsps.add(
        "GET",
        SEARCH_URL,
        json=make_page([]),
        match=[matchers.query_param_matcher(search_params(next_token="t1"))],
    )

    result = client.search_recent(QUERY)

    assert result.pages[0].payload == page
    assert result.newest_id == "1958000000000000002"
    assert [(c.posts_read, c.users_read) for c in calls] == [(2, 1), (0, 0)]
