"""The X API v2 endpoints the sandbox serves, as plain functions of a parsed request.

Each handler gets a `Call` (state, caller, path arguments, query, body, sandbox time) and
returns a `Reply` or raises `ApiError`. Routing, auth, rate limits and faults are the
server's business (bot/sandbox/service.py); this module is what each endpoint does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.sandbox import timelines
from bot.sandbox.fields import FIELD_PARAMS, USER_EXPANSIONS
from bot.sandbox.params import Params, check_id
from bot.sandbox.posting import Draft, create_post, delete_post
from bot.sandbox.problems import (
    ApiError,
    invalid_request,
    not_found_item,
    suspended_item,
    unauthorized_item,
)
from bot.sandbox.records import User
from bot.sandbox.render import Rendered, can_see, is_suspended, user_json
from bot.sandbox.state import State

__all__ = ["ROUTES", "Call", "Reply", "Route", "find_route"]

Json = dict[str, Any]
_CREATE_KEYS = {
    "card_uri", "community_id", "direct_message_deep_link", "edit_options",
    "for_super_followers_only", "geo", "made_with_ai", "media", "nullcast", "paid_partnership",
    "poll", "quote_tweet_id", "reply", "reply_settings", "share_with_followers", "text",
}  # fmt: skip
_REPLY_KEYS = {"in_reply_to_tweet_id", "exclude_reply_user_ids", "auto_populate_reply_metadata"}
_UNSUPPORTED_KEYS = ("media", "poll", "card_uri", "edit_options", "direct_message_deep_link")


@dataclass(frozen=True, slots=True)
class Call:
    """One authenticated request, parsed. `user` is the caller in user context, else None."""

    state: State
    user: User | None
    args: tuple[str, ...]
    query: Mapping[str, Sequence[str]]
    body: bytes
    now: datetime

    @property
    def viewer_id(self) -> str | None:
        return self.user.id if self.user else None


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: Json
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Route:
    """`endpoint` names the route in rate limits, faults and logs ("GET /2/tweets/:id")."""

    method: str
    pattern: re.Pattern[str]
    endpoint: str
    user_only: bool  # OAuth 1.0a user context required (app-only bearer gets 403)
    handler: Callable[[Call], Reply]


def create_tweet(call: Call) -> Reply:
    assert call.user is not None
    body = _json_body(call.body)
    reply = body.get("reply")
    reply_to = _reply_target(reply) if reply is not None else None
    quote_of = body.get("quote_tweet_id")
    if quote_of is not None:
        check_id("quote_tweet_id", _string(quote_of, "$.quote_tweet_id"), where="field")
    text = body.get("text", "")
    draft = Draft(
        author=call.user,
        text=_string(text, "$.text"),
        created_at=call.now,
        reply_to=reply_to,
        quote_of=quote_of,
    )
    tweet = create_post(call.state, draft)
    data = {"edit_history_tweet_ids": [tweet.id], "id": tweet.id, "text": tweet.text}
    location = f"https://api.twitter.com/2/tweets/{tweet.id}"
    return Reply(201, {"data": data}, {"location": location})


def _json_body(raw: bytes) -> Json:
    try:
        body = json.loads(raw or b"null")
    except (UnicodeDecodeError, json.JSONDecodeError):
        body = None
    if not isinstance(body, dict):
        raise invalid_request("Requests with bodies must have content-type of application/json.")
    for key in body:
        if key not in _CREATE_KEYS:
            raise invalid_request(
                f"$.{key}: is not defined in the schema and the schema does not allow additional "
                "properties"
            )
        if key in _UNSUPPORTED_KEYS:
            raise invalid_request(f"$.{key}: the sandbox X API does not support {key}; post text")
    return body


def _reply_target(reply: object) -> str:
    if not isinstance(reply, dict):
        raise invalid_request("$.reply: object expected")
    for key in reply:
        if key not in _REPLY_KEYS:
            raise invalid_request(
                f"$.reply.{key}: is not defined in the schema and the schema does not allow "
                "additional properties"
            )
    if "in_reply_to_tweet_id" not in reply:
        raise invalid_request("$.reply.in_reply_to_tweet_id: is missing but it is required")
    target = _string(reply["in_reply_to_tweet_id"], "$.reply.in_reply_to_tweet_id")
    return check_id("in_reply_to_tweet_id", target, where="field")


def _string(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise invalid_request(f"{where}: {type(value).__name__} found, string expected")
    return value


def delete_tweet(call: Call) -> Reply:
    assert call.user is not None
    tweet_id = check_id("id", call.args[0], where="query parameter")
    delete_post(call.state, tweet_id, actor=call.user)
    return Reply(200, {"data": {"deleted": True}})


def search_recent(call: Call) -> Reply:
    params = Params(call.query, allowed=timelines.SEARCH_PARAMS)
    body = timelines.search_recent(call.state, params, viewer_id=call.viewer_id, now=call.now)
    return Reply(200, body)


def user_mentions(call: Call) -> Reply:
    user_id = check_id("id", call.args[0], where="query parameter")
    params = Params(call.query, allowed=timelines.MENTIONS_PARAMS)
    body = timelines.mentions(call.state, user_id, params, viewer_id=call.viewer_id, now=call.now)
    return Reply(200, body)


def lookup_tweets(call: Call) -> Reply:
    params = Params(call.query, allowed=["ids", *FIELD_PARAMS])
    ids = params.id_list("ids", most=100)
    return Reply(200, _lookup(call, params, ids, parameter="ids", single=False))


def lookup_tweet(call: Call) -> Reply:
    tweet_id = check_id("id", call.args[0], where="query parameter")
    params = Params(call.query, allowed=list(FIELD_PARAMS))
    return Reply(200, _lookup(call, params, [tweet_id], parameter="id", single=True))


def _lookup(call: Call, params: Params, ids: list[str], *, parameter: str, single: bool) -> Json:
    fields = params.fields()
    rendered = Rendered(call.state, fields, viewer_id=call.viewer_id)
    missing: list[Json] = []
    with call.state.lock:
        for tweet_id in ids:
            tweet = call.state.tweet(tweet_id)
            if tweet is None:
                missing.append(not_found_item(tweet_id, parameter=parameter))
            elif is_suspended(call.state, tweet):
                missing.append(suspended_item(tweet_id, parameter=parameter, section="data"))
            elif not can_see(call.state, tweet, call.viewer_id):
                missing.append(unauthorized_item(tweet_id, parameter=parameter, section="data"))
            else:
                rendered.add(tweet)
    body: Json = {}
    if rendered.data:
        body["data"] = rendered.data[0] if single else rendered.data
    if rendered.includes():
        body["includes"] = rendered.includes()
    if missing or rendered.errors:
        body["errors"] = missing + rendered.errors
    return body


def users_me(call: Call) -> Reply:
    assert call.user is not None
    params = Params(call.query, allowed=["user.fields", "expansions", "tweet.fields"])
    fields = params.fields(expansions=USER_EXPANSIONS)
    return Reply(200, {"data": user_json(call.state, call.user, fields)})


def _route(method: str, path: str, handler: Callable[[Call], Reply], *, user_only: bool) -> Route:
    pattern = re.compile("^" + re.sub(r":id", r"([^/]+)", path) + "/?$")
    return Route(method, pattern, f"{method} {path}", user_only, handler)


ROUTES: tuple[Route, ...] = (
    _route("POST", "/2/tweets", create_tweet, user_only=True),
    _route("GET", "/2/tweets", lookup_tweets, user_only=False),
    _route("GET", "/2/tweets/search/recent", search_recent, user_only=False),
    _route("GET", "/2/tweets/:id", lookup_tweet, user_only=False),
    _route("DELETE", "/2/tweets/:id", delete_tweet, user_only=True),
    _route("GET", "/2/users/me", users_me, user_only=True),
    _route("GET", "/2/users/:id/mentions", user_mentions, user_only=False),
)


def find_route(method: str, path: str) -> tuple[Route, tuple[str, ...]] | None:
    """The route serving `method path` and its path arguments, or None."""
    for route in ROUTES:
        match = route.pattern.match(path)
        if route.method == method and match:
            return route, match.groups()
    return None


def route_not_found() -> ApiError:
    return ApiError(
        404,
        {
            "title": "Not Found Error",
            "detail": "Sorry, that page does not exist.",
            "type": "about:blank",
            "status": 404,
        },
    )
