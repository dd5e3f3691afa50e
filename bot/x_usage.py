"""The usage log's view of one HTTP request to X: what was asked, what came back, what it cost.

X bills reads per post (and user) returned and writes per post created, so each
request becomes one `ApiCall` with those counts; bot/wiring.py stores them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from bot.x_answers import header_int, header_time, problem_message


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One HTTP request to X, for the usage log and cost reports."""

    at: datetime
    method: str
    endpoint: str  # route template, e.g. "/2/tweets/:id"
    status: int | None  # None when the connection failed
    posts_read: int
    users_read: int
    posts_created: int
    rate_limit_remaining: int | None
    rate_limit_reset: datetime | None
    error: str | None
    purpose: str | None = None  # what the request was for, see `usage_purpose`


_PURPOSE: ContextVar[str | None] = ContextVar("tcbot_usage_purpose", default=None)


@contextmanager
def usage_purpose(purpose: str) -> Iterator[None]:
    """Label every X request made inside the block (in this thread) with `purpose`.

    The usage log keeps it, so costs can be reported per chat ("chat:12"), per
    hashtag poll ("hashtag:#traineetalk"), for the sweep ("sweep") and so on.
    """
    token = _PURPOSE.set(purpose)
    try:
        yield
    finally:
        _PURPOSE.reset(token)


WELCOMES_PURPOSE = "welcomes"  # welcomes, opt-out replies and digests (bot/welcomes.py)


def outbox_chat_purpose(outbox_chat_id: int) -> str:
    """The purpose for requests made for a chat the bot runs (posting, polling)."""
    return f"outbox-chat:{outbox_chat_id}"


def chat_purpose(chat_id: int) -> str:
    """The purpose for requests made for a chat added by hand (polling its window)."""
    return f"chat:{chat_id}"


def with_purpose(call: ApiCall) -> ApiCall:
    """`call` labelled with the purpose in force now (unchanged outside any block)."""
    purpose = _PURPOSE.get()
    return call if purpose is None else replace(call, purpose=purpose)


def route_template(path: str) -> str:
    """`/2/tweets/123` -> `/2/tweets/:id`: ids out of the path, for grouping."""
    head, _, rest = path.lstrip("/").partition("/")  # keep the API version, "2"
    parts = [":id" if part.isdigit() else part for part in rest.split("/")] if rest else []
    return "/" + "/".join([head, *parts])


def api_call_from_response(response: requests.Response, payload: Any, *, at: datetime) -> ApiCall:
    """The usage-log line for one answer from X (`payload` = its parsed JSON, or None)."""
    request = response.request
    method = (request.method or "GET").upper()
    route = route_template(urlsplit(request.url or "").path)
    status = response.status_code
    ok = 200 <= status < 300
    posts_read, users_read = _read_counts(method, route, payload) if ok else (0, 0)
    return ApiCall(
        at=at,
        method=method,
        endpoint=route,
        status=status,
        posts_read=posts_read,
        users_read=users_read,
        posts_created=1 if ok and method == "POST" and route == "/2/tweets" else 0,
        rate_limit_remaining=header_int(response.headers, "x-rate-limit-remaining"),
        rate_limit_reset=header_time(response.headers, "x-rate-limit-reset"),
        error=None if ok else f"{status} {problem_message(payload) or response.reason}",
    )


def _read_counts(method: str, route: str, payload: Any) -> tuple[int, int]:
    """(posts, users) returned by a read: what X bills for."""
    if method != "GET" or not isinstance(payload, dict):
        return 0, 0
    includes = payload.get("includes") or {}
    included_posts = len(includes.get("tweets") or [])
    included_users = len(includes.get("users") or [])
    data = payload.get("data")
    primary = len(data) if isinstance(data, list) else int(isinstance(data, dict))
    if route.startswith("/2/users/"):
        return included_posts, primary + included_users
    return primary + included_posts, included_users


def failed_call(at: datetime, method: str, route: str, exc: Exception) -> ApiCall:
    return ApiCall(
        at, method, route, None, 0, 0, 0, None, None, f"no answer ({type(exc).__name__})"
    )


def with_error(call: ApiCall, error: str) -> ApiCall:
    return replace(call, posts_read=0, users_read=0, posts_created=0, error=error)
