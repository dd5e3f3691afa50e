"""GET /2/tweets?ids=, GET /2/tweets/:id and GET /2/users/me on the sandbox."""

from __future__ import annotations

import requests
import tweepy

from bot.sandbox.server import SandboxServer
from tests.test_sandbox_support import BEARER, BOT_ID, Admin, oauth

pytest_plugins = ["tests.test_sandbox_support"]

PROBLEMS = "https://api.twitter.com/2/problems/"


def not_found(tweet_id: str, parameter: str) -> dict[str, str]:
    return {
        "value": tweet_id,
        "detail": f"Could not find tweet with {parameter}: [{tweet_id}].",
        "title": "Not Found Error",
        "resource_type": "tweet",
        "parameter": parameter,
        "resource_id": tweet_id,
        "type": PROBLEMS + "resource-not-found",
    }


def test_get_tweets_with_a_deleted_id_is_200_with_an_errors_item(
    sandbox_bot: tweepy.Client,
) -> None:
    kept = sandbox_bot.create_tweet(text="kept").data["id"]
    gone = sandbox_bot.create_tweet(text="gone").data["id"]
    sandbox_bot.delete_tweet(gone)
    response = sandbox_bot.get_tweets([kept, gone], tweet_fields=["created_at", "author_id"])
    assert [str(t.id) for t in response.data] == [kept]
    assert response.data[0].author_id == int(BOT_ID)
    assert response.errors == [not_found(gone, "ids")]


def test_get_tweets_keeps_the_requested_order(
    sandbox_server: SandboxServer, sandbox_admin: Admin
) -> None:
    sandbox_admin.user("ana")
    first, second = sandbox_admin.post("ana", "one")["id"], sandbox_admin.post("ana", "two")["id"]
    response = requests.get(
        f"{sandbox_server.url}/2/tweets",
        params={"ids": f"{second},{first}"},
        headers=BEARER,
        timeout=5,
    )
    assert [t["id"] for t in response.json()["data"]] == [second, first]
    assert "meta" not in response.json()


def test_get_tweet_of_a_missing_id_is_200_with_only_errors(sandbox_server: SandboxServer) -> None:
    response = requests.get(f"{sandbox_server.url}/2/tweets/123456789", headers=BEARER, timeout=5)
    assert response.status_code == 200
    assert response.json() == {"errors": [not_found("123456789", "id")]}


def test_get_tweets_of_a_protected_author_is_an_authorization_error(
    sandbox_server: SandboxServer, sandbox_admin: Admin
) -> None:
    sandbox_admin.user("priv", protected=True)
    hidden = sandbox_admin.post("priv", "private thoughts")["id"]
    response = requests.get(
        f"{sandbox_server.url}/2/tweets", params={"ids": hidden}, headers=BEARER, timeout=5
    )
    assert response.status_code == 200
    assert response.json() == {
        "errors": [
            {
                "resource_id": hidden,
                "parameter": "ids",
                "resource_type": "tweet",
                "section": "data",
                "title": "Authorization Error",
                "value": hidden,
                "detail": f"Sorry, you are not authorized to see the Tweet with ids: [{hidden}].",
                "type": PROBLEMS + "not-authorized-for-resource",
            }
        ]
    }


def test_get_tweets_id_list_is_checked_like_x(sandbox_server: SandboxServer) -> None:
    many = ",".join(str(n) for n in range(1, 102))
    too_many = requests.get(
        f"{sandbox_server.url}/2/tweets", params={"ids": many}, headers=BEARER, timeout=5
    )
    assert too_many.status_code == 400
    assert too_many.json()["errors"][0]["message"] == (
        "The number of values in the `ids` query parameter list [101] is not between 1 and 100"
    )
    bad = requests.get(
        f"{sandbox_server.url}/2/tweets", params={"ids": "1,x"}, headers=BEARER, timeout=5
    )
    assert bad.json()["errors"][0]["message"] == (
        "The `ids` query parameter value [x] does not match ^[0-9]{1,19}$"
    )
    missing = requests.get(f"{sandbox_server.url}/2/tweets", headers=BEARER, timeout=5)
    assert missing.status_code == 400


def test_get_tweet_expansions_include_the_parent_and_its_author(
    sandbox_bot: tweepy.Client, sandbox_admin: Admin
) -> None:
    sandbox_admin.user("ana")
    parent = sandbox_admin.post("ana", "@tcbot can I join?")
    reply = sandbox_bot.create_tweet(text="Yes!", in_reply_to_tweet_id=parent["id"]).data["id"]
    response = sandbox_bot.get_tweet(
        reply,
        expansions=["referenced_tweets.id", "referenced_tweets.id.author_id", "author_id"],
        tweet_fields=["conversation_id", "created_at"],
    )
    assert response.data.conversation_id == int(parent["id"])
    assert [str(t.id) for t in response.includes["tweets"]] == [parent["id"]]
    assert sorted(u.username for u in response.includes["users"]) == ["ana", "tcbot"]


def test_get_tweet_with_user_context_sees_own_protected_post(
    sandbox_server: SandboxServer, sandbox_admin: Admin
) -> None:
    priv = sandbox_admin.user("priv", protected=True)
    mine = sandbox_admin.post("priv", "note to self")["id"]
    response = requests.get(
        f"{sandbox_server.url}/2/tweets/{mine}", headers=oauth(priv["access_token"]), timeout=5
    )
    assert response.json()["data"]["id"] == mine


def test_get_me_returns_the_bot_and_honours_user_fields(sandbox_bot: tweepy.Client) -> None:
    me = sandbox_bot.get_me(user_fields=["created_at", "protected", "public_metrics"])
    assert me.data.username == "tcbot"
    assert me.data.protected is False
    assert me.data.created_at is not None
    assert me.data.public_metrics["tweet_count"] == 0


def test_get_me_with_bearer_is_403_and_without_auth_is_401(sandbox_server: SandboxServer) -> None:
    bearer = requests.get(f"{sandbox_server.url}/2/users/me", headers=BEARER, timeout=5)
    assert bearer.status_code == 403
    assert bearer.json()["title"] == "Unsupported Authentication"
    nobody = requests.get(f"{sandbox_server.url}/2/users/me", timeout=5)
    assert nobody.status_code == 401


def test_unknown_x_path_is_404(sandbox_server: SandboxServer) -> None:
    response = requests.get(f"{sandbox_server.url}/2/spaces", headers=BEARER, timeout=5)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json; charset=utf-8"
