"""POST /2/tweets and DELETE /2/tweets/:id on the sandbox: shapes, X's rules, X's refusals."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import requests
import tweepy

from bot.clock import FakeClock
from bot.sandbox.ids import TWITTER_EPOCH_MS, id_time
from bot.sandbox.server import SandboxServer
from tests.test_sandbox_support import BEARER, BOT_ID, START, Admin, oauth, tweepy_client

pytest_plugins = ["tests.test_sandbox_support"]

DUPLICATE = {
    "detail": "You are not allowed to create a Tweet with duplicate content.",
    "type": "about:blank",
    "title": "Forbidden",
    "status": 403,
}
REPLY_GATE = {
    "title": "Forbidden",
    "status": 403,
    "detail": "Reply to this conversation is not allowed because you have not been mentioned or "
    "otherwise engaged by the author of the post you are replying to.",
    "type": "about:blank",
}
REPLY_GONE = {
    "detail": "You attempted to reply to a Tweet that is deleted or not visible to you.",
    "type": "about:blank",
    "title": "Forbidden",
    "status": 403,
}
UNSUPPORTED_AUTH = {
    "title": "Unsupported Authentication",
    "detail": "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  "
    "Supported authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context].",
    "type": "https://api.twitter.com/2/problems/unsupported-authentication",
    "status": 403,
}
UNAUTHORIZED = {
    "title": "Unauthorized",
    "type": "about:blank",
    "status": 401,
    "detail": "Unauthorized",
}


def post(
    sandbox_server: SandboxServer, body: object, headers: dict[str, str] | None = None
) -> requests.Response:
    return requests.post(
        f"{sandbox_server.url}/2/tweets", json=body, headers=headers or oauth(), timeout=5
    )


def lookup(sandbox_server: SandboxServer, tweet_id: str, fields: str) -> dict[str, Any]:
    response = requests.get(
        f"{sandbox_server.url}/2/tweets/{tweet_id}",
        params={"tweet.fields": fields},
        headers=BEARER,
        timeout=5,
    )
    return dict(response.json()["data"])


def test_create_tweet_answers_201_with_location_and_x_shape(sandbox_server: SandboxServer) -> None:
    response = post(sandbox_server, {"text": "Hello #TraineeTalk"})
    assert response.status_code == 201
    body = response.json()
    tweet_id = body["data"]["id"]
    assert body == {
        "data": {"id": tweet_id, "text": "Hello #TraineeTalk", "edit_history_tweet_ids": [tweet_id]}
    }
    assert response.headers["location"] == f"https://api.twitter.com/2/tweets/{tweet_id}"
    assert response.headers["content-type"] == "application/json; charset=utf-8"


def test_create_tweet_ids_are_snowflakes_of_the_creation_time(
    sandbox_server: SandboxServer, sandbox_clock: FakeClock
) -> None:
    first = post(sandbox_server, {"text": "one"}).json()["data"]["id"]
    second = post(sandbox_server, {"text": "two"}).json()["data"]["id"]
    sandbox_clock.advance(timedelta(minutes=5))
    third = post(sandbox_server, {"text": "three"}).json()["data"]["id"]
    assert int(first) < int(second) < int(third)
    start_ms = int(START.timestamp() * 1000)
    assert int(first) >> 22 == start_ms - TWITTER_EPOCH_MS
    assert id_time(int(third)) == START + timedelta(minutes=5)
    created = lookup(sandbox_server, third, "created_at")["created_at"]
    assert created == "2026-08-20T12:05:00.000Z"


def test_create_tweet_with_tweepy_builds_a_thread(
    sandbox_bot: tweepy.Client, sandbox_server: SandboxServer
) -> None:
    root = sandbox_bot.create_tweet(text="#TraineeTalk tonight: Q1 is coming")
    q1 = sandbox_bot.create_tweet(
        text="Q1 What drew you to counselling?", in_reply_to_tweet_id=root.data["id"]
    )
    q2 = sandbox_bot.create_tweet(
        text="Q2 Supervision: what helps?", in_reply_to_tweet_id=q1.data["id"]
    )
    assert q2.data["text"] == "Q2 Supervision: what helps?"  # no @self on a self-reply
    fields = "conversation_id,in_reply_to_user_id,referenced_tweets,public_metrics,author_id"
    reply = lookup(sandbox_server, q2.data["id"], fields)
    assert reply["conversation_id"] == root.data["id"]
    assert reply["in_reply_to_user_id"] == BOT_ID
    assert reply["referenced_tweets"] == [{"type": "replied_to", "id": q1.data["id"]}]
    parent = lookup(sandbox_server, q1.data["id"], fields)
    assert parent["public_metrics"]["reply_count"] == 1


def test_create_tweet_keeps_a_reply_that_already_starts_with_the_parent_mention(
    sandbox_server: SandboxServer, sandbox_admin: Admin
) -> None:
    sandbox_admin.user("ana")
    parent = sandbox_admin.post("ana", "@tcbot hello, I'm new here")
    reply = post(
        sandbox_server, {"text": "@Ana welcome!", "reply": {"in_reply_to_tweet_id": parent["id"]}}
    )
    assert reply.status_code == 201
    assert reply.json()["data"]["text"] == "@Ana welcome!"
    tweet = lookup(sandbox_server, reply.json()["data"]["id"], "display_text_range,entities")
    assert tweet["display_text_range"] == [5, 13]
    assert tweet["entities"]["mentions"][0]["username"] == "ana"


def test_create_tweet_duplicate_text_is_403_with_x_body(sandbox_server: SandboxServer) -> None:
    assert post(sandbox_server, {"text": "same words"}).status_code == 201
    again = post(sandbox_server, {"text": "same words"})
    assert again.status_code == 403
    assert again.json() == DUPLICATE


def test_create_tweet_duplicate_raises_tweepy_forbidden_with_x_message(
    sandbox_bot: tweepy.Client,
) -> None:
    sandbox_bot.create_tweet(text="twice")
    with pytest.raises(tweepy.Forbidden) as caught:
        sandbox_bot.create_tweet(text="twice")
    assert caught.value.api_messages == [DUPLICATE["detail"]]


def test_create_tweet_same_text_by_another_author_is_allowed(
    sandbox_server: SandboxServer, sandbox_admin: Admin
) -> None:
    sandbox_admin.user("ana")
    sandbox_admin.post("ana", "good morning")
    assert post(sandbox_server, {"text": "good morning"}).status_code == 201


def test_create_tweet_reply_gate_refuses_an_unsummoned_reply(
    sandbox_server: SandboxServer, sandbox_admin: Admin
) -> None:
    sandbox_admin.user("ana")
    parent = sandbox_admin.post("ana", "Hello #TherapistsConnect, I'm a new trainee")
    response = post(
        sandbox_server, {"text": "Welcome!", "reply": {"in_reply_to_tweet_id": parent["id"]}}
    )
    assert response.status_code == 403
    assert response.json() == REPLY_GATE


@pytest.mark.parametrize(
    "setup",
    ["mentions the bot", "replies to the bot", "quotes the bot"],
)
def test_create_tweet_reply_gate_allows_a_summoned_reply(
    sandbox_server: SandboxServer, sandbox_admin: Admin, setup: str
) -> None:
    sandbox_admin.user("ana")
    bot_post = post(sandbox_server, {"text": "Tonight's #TraineeTalk"}).json()["data"]
    if setup == "mentions the bot":
        parent = sandbox_admin.post("ana", "Hi @TCBOT, how do I join?")
    elif setup == "replies to the bot":
        parent = sandbox_admin.post("ana", "count me in", reply_to=bot_post["id"])
    else:
        parent = sandbox_admin.post("ana", "see this", quote_of=bot_post["id"])
    response = post(
        sandbox_server, {"text": "Welcome, Ana", "reply": {"in_reply_to_tweet_id": parent["id"]}}
    )
    assert response.status_code == 201, response.text
    assert response.json()["data"]["text"] == "@ana Welcome, Ana"


def test_create_tweet_reply_to_a_missing_or_protected_post_is_403(
    sandbox_server: SandboxServer, sandbox_admin: Admin
) -> None:
    sandbox_admin.user("priv", protected=True)
    hidden = sandbox_admin.post("priv", "@tcbot secret")
    for target in ("1234567890123", hidden["id"]):
        response = post(sandbox_server, {"text": "hi", "reply": {"in_reply_to_tweet_id": target}})
        assert response.status_code == 403
        assert response.json() == REPLY_GONE


def test_create_tweet_quote_gate_refuses_an_unrelated_post(
    sandbox_server: SandboxServer, sandbox_admin: Admin
) -> None:
    sandbox_admin.user("ana")
    other = sandbox_admin.post("ana", "unrelated thoughts")
    response = post(sandbox_server, {"text": "look", "quote_tweet_id": other["id"]})
    assert response.status_code == 403
    assert response.json()["detail"].startswith("Quoting this post is not allowed")


def test_create_tweet_quote_sets_reference_and_quote_count(
    sandbox_server: SandboxServer, sandbox_admin: Admin
) -> None:
    own = post(sandbox_server, {"text": "Q1 is up"}).json()["data"]
    quote = post(sandbox_server, {"text": "Catch up on Q1", "quote_tweet_id": own["id"]}).json()[
        "data"
    ]
    assert lookup(sandbox_server, quote["id"], "referenced_tweets")["referenced_tweets"] == [
        {"type": "quoted", "id": own["id"]}
    ]
    assert lookup(sandbox_server, own["id"], "public_metrics")["public_metrics"]["quote_count"] == 1


def test_create_tweet_over_280_weighted_characters_is_rejected(
    sandbox_server: SandboxServer,
) -> None:
    assert post(sandbox_server, {"text": "a" * 280}).status_code == 201
    too_long = post(sandbox_server, {"text": "b" * 281})
    assert too_long.status_code == 400
    assert too_long.json()["errors"][0]["message"].startswith("Your Tweet text is too long.")
    emoji = post(sandbox_server, {"text": "👋" * 141})  # each emoji weighs 2
    assert emoji.status_code == 400


def test_create_tweet_reply_prefix_does_not_count_towards_280(
    sandbox_server: SandboxServer, sandbox_admin: Admin
) -> None:
    sandbox_admin.user("a_long_username")
    parent = sandbox_admin.post("a_long_username", "@tcbot question")
    body = {"text": "c" * 280, "reply": {"in_reply_to_tweet_id": parent["id"]}}
    response = post(sandbox_server, body)
    assert response.status_code == 201
    assert response.json()["data"]["text"] == "@a_long_username " + "c" * 280


@pytest.mark.parametrize("body", [{"text": ""}, {"text": "   "}, {}])
def test_create_tweet_empty_text_is_400(
    sandbox_server: SandboxServer, body: dict[str, str]
) -> None:
    response = post(sandbox_server, body)
    assert response.status_code == 400
    assert response.json()["title"] == "Invalid Request"


def test_create_tweet_unknown_body_key_is_400_like_x(sandbox_server: SandboxServer) -> None:
    response = post(sandbox_server, {"text": "hi", "status": "v1 habit"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == (
        "$.status: is not defined in the schema and the schema does not allow additional properties"
    )


def test_create_tweet_with_app_only_bearer_is_403_unsupported_authentication(
    sandbox_server: SandboxServer,
) -> None:
    response = post(sandbox_server, {"text": "hi"}, headers=BEARER)
    assert response.status_code == 403
    assert response.json() == UNSUPPORTED_AUTH
    assert "x-rate-limit-remaining" in response.headers


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": 'OAuth oauth_consumer_key="k"'},
        {"Authorization": 'OAuth oauth_consumer_key="k", oauth_token="garbled"'},
        {"Authorization": 'OAuth oauth_consumer_key="k", oauth_token="999-unknown-user"'},
    ],
)
def test_create_tweet_without_usable_credentials_is_401(
    sandbox_server: SandboxServer, headers: dict[str, str]
) -> None:
    response = requests.post(
        f"{sandbox_server.url}/2/tweets", json={"text": "x"}, headers=headers, timeout=5
    )
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


def test_create_tweet_as_another_user_uses_that_users_token(
    sandbox_server: SandboxServer, sandbox_admin: Admin
) -> None:
    ana = sandbox_admin.user("ana")
    client = tweepy_client(sandbox_server.url, access_token=ana["access_token"])
    created = client.create_tweet(text="Ana here")
    author = lookup(sandbox_server, created.data["id"], "author_id")["author_id"]
    assert author == ana["id"]


def test_delete_tweet_answers_200_deleted_and_the_post_is_gone(
    sandbox_bot: tweepy.Client, sandbox_server: SandboxServer
) -> None:
    created = sandbox_bot.create_tweet(text="short-lived")
    assert sandbox_bot.delete_tweet(created.data["id"]).data == {"deleted": True}
    gone = sandbox_bot.get_tweet(created.data["id"])
    assert gone.data is None
    assert gone.errors[0]["title"] == "Not Found Error"
    assert (
        sandbox_bot.create_tweet(text="short-lived").data["text"] == "short-lived"
    )  # no longer a dup


def test_delete_tweet_refuses_missing_and_others_posts(
    sandbox_server: SandboxServer, sandbox_admin: Admin
) -> None:
    sandbox_admin.user("ana")
    hers = sandbox_admin.post("ana", "mine")
    missing = requests.delete(f"{sandbox_server.url}/2/tweets/12345", headers=oauth(), timeout=5)
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["resource_id"] == "12345"
    others = requests.delete(
        f"{sandbox_server.url}/2/tweets/{hers['id']}", headers=oauth(), timeout=5
    )
    assert others.status_code == 403
    bearer = requests.delete(
        f"{sandbox_server.url}/2/tweets/{hers['id']}", headers=BEARER, timeout=5
    )
    assert bearer.json() == UNSUPPORTED_AUTH


def test_delete_tweet_lowers_the_parents_reply_count(
    sandbox_bot: tweepy.Client, sandbox_server: SandboxServer
) -> None:
    root = sandbox_bot.create_tweet(text="root").data["id"]
    reply = sandbox_bot.create_tweet(text="reply", in_reply_to_tweet_id=root).data["id"]
    assert lookup(sandbox_server, root, "public_metrics")["public_metrics"]["reply_count"] == 1
    sandbox_bot.delete_tweet(reply)
    assert lookup(sandbox_server, root, "public_metrics")["public_metrics"]["reply_count"] == 0
