"""GET /2/tweets/search/recent and GET /2/users/:id/mentions on the sandbox."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import requests
import tweepy

from bot.clock import FakeClock
from bot.sandbox.server import SandboxServer
from tests.test_sandbox_support import BEARER, BOT_ID, Admin, oauth

pytest_plugins = ["tests.test_sandbox_support"]

INVALID = {
    "title": "Invalid Request",
    "detail": "One or more parameters to your request was invalid.",
    "type": "https://api.twitter.com/2/problems/invalid-request",
}


def search(sandbox_server: SandboxServer, **params: Any) -> requests.Response:
    return requests.get(
        f"{sandbox_server.url}/2/tweets/search/recent", params=params, headers=BEARER, timeout=5
    )


def test_search_recent_paginates_newest_first_with_tweepy(
    sandbox_bot: tweepy.Client, sandbox_admin: Admin, sandbox_clock: FakeClock
) -> None:
    sandbox_admin.user("ana")
    ids = []
    for n in range(25):
        ids.append(sandbox_admin.post("ana", f"#TraineeTalk answer {n}")["id"])
        sandbox_clock.advance(1)
    pages = list(
        tweepy.Paginator(sandbox_bot.search_recent_tweets, "#TraineeTalk", max_results=10, limit=5)
    )
    assert [page.meta["result_count"] for page in pages] == [10, 10, 5]
    seen = [str(t.id) for page in pages for t in page.data]
    assert seen == list(reversed(ids))
    token = pages[0].meta["next_token"]
    assert not token.isdigit() and token not in ids


def test_search_recent_polls_with_since_id_like_the_tracker(
    sandbox_bot: tweepy.Client, sandbox_admin: Admin, sandbox_clock: FakeClock
) -> None:
    sandbox_admin.user("ana")
    for n in range(12):
        sandbox_admin.post("ana", f"#TherapistsConnect hello {n}")
        sandbox_clock.advance(1)
    first = list(
        tweepy.Paginator(
            sandbox_bot.search_recent_tweets, "#TherapistsConnect", max_results=10, limit=5
        )
    )
    newest = first[0].meta["newest_id"]
    new = [sandbox_admin.post("ana", f"#TherapistsConnect later {n}")["id"] for n in range(11)]
    sandbox_clock.advance(1)
    pages = list(
        tweepy.Paginator(
            sandbox_bot.search_recent_tweets,
            "#TherapistsConnect",
            since_id=newest,
            max_results=10,
            limit=5,
        )
    )
    got = [str(t.id) for page in pages for t in page.data]
    assert got == list(reversed(new))
    assert len(pages) == 2


def test_search_recent_empty_result_is_meta_only(sandbox_server: SandboxServer) -> None:
    response = search(sandbox_server, query="#nothing")
    assert response.status_code == 200
    assert response.json() == {"meta": {"result_count": 0}}


def test_search_recent_next_token_is_stable_and_tied_to_its_query(
    sandbox_server: SandboxServer, sandbox_admin: Admin
) -> None:
    sandbox_admin.user("ana")
    for n in range(15):
        sandbox_admin.post("ana", f"#a post {n}")
    token = search(sandbox_server, query="#a").json()["meta"]["next_token"]
    again = search(sandbox_server, query="#a", next_token=token).json()
    assert again == search(sandbox_server, query="#a", next_token=token).json()
    assert again["meta"]["result_count"] == 5
    assert search(sandbox_server, query="#a", pagination_token=token).json() == again
    wrong = search(sandbox_server, query="#b", next_token=token)
    assert wrong.status_code == 400
    garbled = search(sandbox_server, query="#a", next_token="not-a-token")
    assert garbled.status_code == 400


@pytest.mark.parametrize("value", ["5", "101", "ten"])
def test_search_recent_max_results_out_of_range_is_x_400(
    sandbox_server: SandboxServer, value: str
) -> None:
    response = search(sandbox_server, query="#a", max_results=value)
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {
                "parameters": {"max_results": [value]},
                "message": f"The `max_results` query parameter value [{value}] is not between 10 and 100",
            }
        ],
        **INVALID,
    }


def test_search_recent_since_id_older_than_7_days_is_x_400(sandbox_server: SandboxServer) -> None:
    response = search(sandbox_server, query="#a", since_id="100")
    assert response.status_code == 400
    body = response.json()
    assert body["title"] == INVALID["title"] and body["type"] == INVALID["type"]
    message = body["errors"][0]["message"]
    assert re.fullmatch(
        r"'since_id' must be a tweet id created after 2026-08-13T12:00Z\. "
        r"Please use a 'since_id' that is larger than \d+",
        message,
    )
    assert body["errors"][0]["parameters"] == {"since_id": ["100"]}


def test_search_recent_cursor_goes_stale_after_7_days(
    sandbox_bot: tweepy.Client, sandbox_admin: Admin, sandbox_clock: FakeClock
) -> None:
    sandbox_admin.user("ana")
    cursor = sandbox_admin.post("ana", "#TraineeTalk last week")["id"]
    assert search_ok(sandbox_bot, cursor)
    sandbox_clock.advance(timedelta(days=7, seconds=1))
    with pytest.raises(tweepy.BadRequest) as caught:
        sandbox_bot.search_recent_tweets("#TraineeTalk", since_id=cursor)
    assert "'since_id' must be a tweet id created after" in caught.value.api_messages[0]


def search_ok(client: tweepy.Client, since_id: str) -> bool:
    return client.search_recent_tweets("#TraineeTalk", since_id=since_id).meta == {
        "result_count": 0
    }


def test_search_recent_start_time_older_than_7_days_is_400(sandbox_server: SandboxServer) -> None:
    response = search(sandbox_server, query="#a", start_time="2026-08-01T00:00:00Z")
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == (
        "Invalid 'start_time':'2026-08-01T00:00Z'. 'start_time' must be on or after 2026-08-13T12:00Z"
    )


def test_search_recent_only_covers_7_days(
    sandbox_server: SandboxServer, sandbox_admin: Admin
) -> None:
    sandbox_admin.user("ana")
    sandbox_admin.post("ana", "#a old", created_at="2026-08-12T12:00:00Z")
    recent = sandbox_admin.post("ana", "#a recent", created_at="2026-08-19T12:00:00Z")
    body = search(sandbox_server, query="#a").json()
    assert [t["id"] for t in body["data"]] == [recent["id"]]


def test_search_recent_time_window_and_until_id(
    sandbox_server: SandboxServer, sandbox_admin: Admin
) -> None:
    sandbox_admin.user("ana")
    early = sandbox_admin.post("ana", "#a early", created_at="2026-08-19T10:00:00Z")
    middle = sandbox_admin.post("ana", "#a middle", created_at="2026-08-19T11:00:00Z")
    late = sandbox_admin.post("ana", "#a late", created_at="2026-08-19T12:00:00Z")
    window = search(
        sandbox_server,
        query="#a",
        start_time="2026-08-19T10:30:00Z",
        end_time="2026-08-19T12:00:00Z",
    ).json()
    assert [t["id"] for t in window["data"]] == [middle["id"]]
    below = search(sandbox_server, query="#a", until_id=late["id"]).json()
    assert [t["id"] for t in below["data"]] == [middle["id"], early["id"]]
    future = search(sandbox_server, query="#a", end_time="2026-08-20T12:00:00Z")
    assert future.status_code == 400


def test_search_recent_keyword_query_leaves_out_retweets(
    sandbox_server: SandboxServer, sandbox_admin: Admin
) -> None:
    sandbox_admin.user("ana")
    sandbox_admin.user("ben")
    original = sandbox_admin.post("ana", "#TraineeTalk is tonight")
    retweet = sandbox_admin.post("ben", "", retweet_of=original["id"])
    assert retweet["text"] == "RT @ana: #TraineeTalk is tonight"
    keyword = search(sandbox_server, query="#TraineeTalk").json()
    assert [t["id"] for t in keyword["data"]] == [original["id"]]
    by_author = search(sandbox_server, query="from:ben").json()
    assert [t["id"] for t in by_author["data"]] == [retweet["id"]]


def test_search_recent_conversation_id_never_returns_the_root(
    sandbox_bot: tweepy.Client, sandbox_server: SandboxServer
) -> None:
    root = sandbox_bot.create_tweet(text="#TraineeTalk Q1").data["id"]
    reply = sandbox_bot.create_tweet(text="A1", in_reply_to_tweet_id=root).data["id"]
    body = search(sandbox_server, query=f"conversation_id:{root}").json()
    assert [t["id"] for t in body["data"]] == [reply]


def test_search_recent_leaves_out_protected_authors(
    sandbox_server: SandboxServer, sandbox_admin: Admin
) -> None:
    sandbox_admin.user("priv", protected=True)
    sandbox_admin.post("priv", "#a hidden")
    assert search(sandbox_server, query="#a").json() == {"meta": {"result_count": 0}}


def test_search_recent_fields_and_expansions_fill_includes_once(
    sandbox_server: SandboxServer, sandbox_admin: Admin
) -> None:
    sandbox_admin.user("ana")
    root = sandbox_admin.post("ana", "#a Q1 @tcbot")
    first = sandbox_admin.post("ana", "#a one", reply_to=root["id"])
    second = sandbox_admin.post("ana", "#a two", reply_to=root["id"])
    body = search(
        sandbox_server,
        query="#a",
        **{
            "post.fields": "created_at,author_id,entities,conversation_id",
            "user.fields": "created_at,protected",
            "expansions": "author_id,referenced_tweets.id,referenced_tweets.id.author_id,"
            "in_reply_to_user_id,entities.mentions.username",
        },
    ).json()
    assert [t["id"] for t in body["data"]] == [second["id"], first["id"], root["id"]]
    assert body["data"][0]["created_at"].endswith(".000Z")
    # a self-reply carries no @ana prefix, so the hashtag starts the text
    assert body["data"][0]["entities"]["hashtags"] == [{"start": 0, "end": 2, "tag": "a"}]
    assert "mentions" not in body["data"][0]["entities"]
    assert body["data"][2]["entities"]["mentions"][0]["username"] == "tcbot"
    users = body["includes"]["users"]
    assert sorted(u["username"] for u in users) == ["ana", "tcbot"]
    assert all(set(u) == {"id", "name", "username", "created_at", "protected"} for u in users)
    assert [t["id"] for t in body["includes"]["tweets"]] == [root["id"]]


def test_search_recent_expanded_deleted_post_becomes_an_error_item(
    sandbox_server: SandboxServer, sandbox_admin: Admin
) -> None:
    sandbox_admin.user("ana")
    root = sandbox_admin.post("ana", "@tcbot root")
    sandbox_admin.post("ana", "#a reply", reply_to=root["id"])
    assert requests.delete(f"{sandbox_server.url}/_sandbox/tweets/{root['id']}", timeout=5).ok
    body = search(sandbox_server, query="#a", expansions="referenced_tweets.id").json()
    assert "includes" not in body
    assert body["errors"] == [
        {
            "value": root["id"],
            "detail": f"Could not find tweet with referenced_tweets.id: [{root['id']}].",
            "title": "Not Found Error",
            "resource_type": "tweet",
            "parameter": "referenced_tweets.id",
            "resource_id": root["id"],
            "type": "https://api.twitter.com/2/problems/resource-not-found",
        }
    ]


@pytest.mark.parametrize(
    ("params", "message_start"),
    [
        (
            {"query": "#a", "tweet.fields": "colour"},
            "The `tweet.fields` query parameter value [colour]",
        ),
        (
            {"query": "#a", "expansions": "author"},
            "The `expansions` query parameter value [author]",
        ),
        ({"query": "#a", "flavour": "x"}, "The query parameter [flavour] is not one of [query,"),
        (
            {"query": "#a", "since_id": "abc"},
            "The `since_id` query parameter value [abc] does not match",
        ),
        ({"query": "is:reply"}, "There were errors processing your request"),
        ({}, "The `query` query parameter can not be empty"),
        (
            {"query": "#a", "sort_order": "oldest"},
            "The `sort_order` query parameter value [oldest]",
        ),
    ],
)
def test_search_recent_bad_parameters_are_x_400s(
    sandbox_server: SandboxServer, params: dict[str, str], message_start: str
) -> None:
    response = search(sandbox_server, **params)
    assert response.status_code == 400
    body = response.json()
    assert {k: body[k] for k in INVALID} == INVALID
    assert body["errors"][0]["message"].startswith(message_start)


def test_search_recent_with_user_context_sees_own_protected_posts(
    sandbox_server: SandboxServer, sandbox_admin: Admin
) -> None:
    priv = sandbox_admin.user("priv", protected=True)
    mine = sandbox_admin.post("priv", "#a my own")
    response = requests.get(
        f"{sandbox_server.url}/2/tweets/search/recent",
        params={"query": "#a"},
        headers=oauth(priv["access_token"]),
        timeout=5,
    )
    assert [t["id"] for t in response.json()["data"]] == [mine["id"]]


def test_mentions_lists_posts_mentioning_the_user_newest_first(
    sandbox_bot: tweepy.Client, sandbox_admin: Admin, sandbox_clock: FakeClock
) -> None:
    sandbox_admin.user("ana")
    made = []
    for n in range(7):
        made.append(sandbox_admin.post("ana", f"@tcbot question {n}")["id"])
        sandbox_clock.advance(1)
    sandbox_admin.post("ana", "no mention here")
    pages = list(tweepy.Paginator(sandbox_bot.get_users_mentions, BOT_ID, max_results=5, limit=3))
    got = [str(t.id) for page in pages for t in page.data]
    assert got == list(reversed(made))
    assert "previous_token" in pages[1].meta
    assert "previous_token" not in pages[0].meta


def test_mentions_of_an_unknown_user_is_a_not_found_item(sandbox_server: SandboxServer) -> None:
    response = requests.get(f"{sandbox_server.url}/2/users/42/mentions", headers=BEARER, timeout=5)
    assert response.status_code == 200
    assert response.json()["errors"][0]["detail"] == "Could not find user with id: [42]."


def test_mentions_max_results_below_5_is_400(sandbox_server: SandboxServer) -> None:
    response = requests.get(
        f"{sandbox_server.url}/2/users/{BOT_ID}/mentions",
        params={"max_results": 4},
        headers=BEARER,
        timeout=5,
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == (
        "The `max_results` query parameter value [4] is not between 5 and 100"
    )
