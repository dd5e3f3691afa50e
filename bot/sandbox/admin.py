"""The /_sandbox/ admin endpoints: steer the sandbox from tests, rehearsals and the demo.

Not part of X's API: JSON in and out, no auth, no faults, no rate limits, not logged.
The endpoints are listed in bot/sandbox/server.py's module docstring.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.sandbox.clock import format_timestamp, parse_timestamp
from bot.sandbox.credentials import access_token_for
from bot.sandbox.faults import Faults
from bot.sandbox.fields import TWEET_FIELDS, USER_FIELDS, Fields
from bot.sandbox.posting import Draft, create_post, delete_post
from bot.sandbox.problems import ApiError
from bot.sandbox.records import User
from bot.sandbox.render import tweet_json
from bot.sandbox.state import UserError

if TYPE_CHECKING:
    from bot.sandbox.service import SandboxService

__all__ = ["handle"]

Json = dict[str, Any]
_ALL = Fields(tweet=frozenset(TWEET_FIELDS), user=frozenset(USER_FIELDS))


class AdminError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def handle(
    service: SandboxService, method: str, path: str, query: dict[str, list[str]], body: bytes
) -> tuple[int, Json]:
    """The status and JSON answer of one admin request."""
    try:
        handler, args = _find(method, path.rstrip("/") or "/")
        status, answer = handler(service, _body(body, method), *args)
    except AdminError as error:
        status, answer = error.status, {"error": error.message}
    except ApiError as error:
        items = error.body.get("errors") or [{}]
        message = items[0].get("message") or error.body.get("detail")
        status, answer = error.status, {"error": message, "x_body": error.body}
    return status, answer


def _body(raw: bytes, method: str) -> Json:
    if method in ("GET", "DELETE") or not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AdminError(400, f"the body is not JSON ({exc}); send a JSON object") from None
    if not isinstance(data, dict):
        raise AdminError(400, "the body must be a JSON object")
    return data


def _user_out(user: User) -> Json:
    return {
        "id": user.id,
        "username": user.username,
        "name": user.name,
        "protected": user.protected,
        "suspended": user.suspended,
        "access_token": access_token_for(user.id),
    }


def list_users(service: SandboxService, body: Json) -> tuple[int, Json]:
    return 200, {"users": [_user_out(u) for u in service.state.users()]}


def add_user(service: SandboxService, body: Json) -> tuple[int, Json]:
    username = body.get("username")
    if not isinstance(username, str):
        raise AdminError(400, "give 'username' (and optionally 'name', 'protected')")
    try:
        user = service.state.add_user(
            username=username,
            name=str(body.get("name") or username),
            protected=bool(body.get("protected", False)),
            now=service.clock.now(),
        )
    except UserError as exc:
        raise AdminError(409 if "taken" in str(exc) else 400, str(exc)) from None
    return 201, _user_out(user)


def change_user(service: SandboxService, body: Json, user_id: str) -> tuple[int, Json]:
    flags: dict[str, bool] = {}
    for key in ("protected", "suspended"):
        if key in body:
            if not isinstance(body[key], bool):
                raise AdminError(400, f"'{key}' must be true or false")
            flags[key] = body[key]
    if not flags:
        raise AdminError(400, "give 'protected' and/or 'suspended' (true or false)")
    user = service.state.update_user(user_id, **flags)
    if user is None:
        raise AdminError(404, f"no user {user_id}; GET /_sandbox/users lists them")
    return 200, _user_out(user)


def add_tweet(service: SandboxService, body: Json) -> tuple[int, Json]:
    author = service.state.user_by_username(str(body.get("author", "")))
    if author is None:
        raise AdminError(404, f"no user @{body.get('author')}; add it with POST /_sandbox/users")
    now = service.clock.now()
    created_at = _past_time(body.get("created_at"), now)
    draft = Draft(
        author=author,
        text=str(body.get("text", "")),
        created_at=created_at or now,
        reply_to=_optional_id(body, "reply_to"),
        quote_of=_optional_id(body, "quote_of"),
        retweet_of=_optional_id(body, "retweet_of"),
        gate=False,
        backdated=created_at is not None,
    )
    tweet = create_post(service.state, draft)
    return 201, {"data": tweet_json(service.state, tweet, _ALL)}


def _past_time(value: object, now: datetime) -> datetime | None:
    if value is None:
        return None
    when = parse_timestamp(str(value))
    if when is None or when > now:
        raise AdminError(400, f"created_at {value!r} must be a past time like 2026-08-20T12:00:00Z")
    return when


def _optional_id(body: Json, key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not re.fullmatch(r"[0-9]{1,19}", str(value)):
        raise AdminError(400, f"{key} must be a post id (digits)")
    return str(value)


def remove_tweet(service: SandboxService, body: Json, tweet_id: str) -> tuple[int, Json]:
    tweet = service.state.tweet(tweet_id)
    author = service.state.user(tweet.author_id) if tweet else None
    if tweet is None or author is None:
        raise AdminError(404, f"no post {tweet_id}")
    delete_post(service.state, tweet_id, actor=author)
    return 200, {"deleted": True}


def get_requests(service: SandboxService, body: Json) -> tuple[int, Json]:
    return 200, {"requests": service.requests()}


def clear_requests(service: SandboxService, body: Json) -> tuple[int, Json]:
    service.clear_requests()
    return 200, {"requests": []}


def get_faults(service: SandboxService, body: Json) -> tuple[int, Json]:
    return 200, service.injector.faults.to_json()


def set_faults(service: SandboxService, body: Json) -> tuple[int, Json]:
    try:
        service.install_faults(Faults.from_json(body))
    except ValueError as exc:
        raise AdminError(400, str(exc)) from None
    return 200, service.injector.faults.to_json()


def clear_faults(service: SandboxService, body: Json) -> tuple[int, Json]:
    service.install_faults(Faults())
    return 200, service.injector.faults.to_json()


def get_clock(service: SandboxService, body: Json) -> tuple[int, Json]:
    return 200, {
        "now": format_timestamp(service.clock.now()),
        "offset_seconds": service.clock.offset_seconds,
    }


def move_clock(service: SandboxService, body: Json) -> tuple[int, Json]:
    if "advance" in body:
        try:
            service.clock.advance(float(body["advance"]))
        except (TypeError, ValueError):
            raise AdminError(400, "'advance' must be a number of seconds") from None
    elif "set" in body:
        when = parse_timestamp(str(body["set"]))
        if when is None:
            raise AdminError(400, "'set' must be a time like 2026-08-20T12:00:00Z")
        service.clock.set(when)
    else:
        raise AdminError(400, "give 'advance' (seconds) or 'set' (a time with a zone)")
    service.save_clock()
    return get_clock(service, body)


def get_community(service: SandboxService, body: Json) -> tuple[int, Json]:
    return 200, service.community.to_json()


def set_community(service: SandboxService, body: Json) -> tuple[int, Json]:
    try:
        service.community.update(service.state, body)
    except ValueError as exc:
        raise AdminError(400, str(exc)) from None
    return 200, service.community.to_json()


def reset(service: SandboxService, body: Json) -> tuple[int, Json]:
    service.reset()
    return 200, {"reset": True}


def index(service: SandboxService, body: Json) -> tuple[int, Json]:
    return 200, {"endpoints": [f"{m} {p}" for m, p, _ in _ROUTES]}


Handler = Callable[..., tuple[int, Json]]
_ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", "/_sandbox", index),
    ("GET", "/_sandbox/users", list_users),
    ("POST", "/_sandbox/users", add_user),
    ("PATCH", "/_sandbox/users/{id}", change_user),
    ("POST", "/_sandbox/tweets", add_tweet),
    ("DELETE", "/_sandbox/tweets/{id}", remove_tweet),
    ("GET", "/_sandbox/requests", get_requests),
    ("DELETE", "/_sandbox/requests", clear_requests),
    ("GET", "/_sandbox/faults", get_faults),
    ("PUT", "/_sandbox/faults", set_faults),
    ("POST", "/_sandbox/faults", set_faults),
    ("DELETE", "/_sandbox/faults", clear_faults),
    ("GET", "/_sandbox/clock", get_clock),
    ("POST", "/_sandbox/clock", move_clock),
    ("GET", "/_sandbox/community", get_community),
    ("PUT", "/_sandbox/community", set_community),
    ("POST", "/_sandbox/community", set_community),
    ("POST", "/_sandbox/reset", reset),
]


def _find(method: str, path: str) -> tuple[Handler, tuple[str, ...]]:
    for route_method, pattern, handler in _ROUTES:
        match = re.fullmatch(pattern.replace("{id}", "([0-9]{1,19})"), path)
        if match and route_method == method:
            return handler, match.groups()
    raise AdminError(404, f"no admin endpoint {method} {path}; GET /_sandbox lists them")
