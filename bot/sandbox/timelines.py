"""Lists of posts: recent search and a user's mentions, with X's windows and paging.

Recent search covers the last 7 days (a `since_id` or `start_time` older than that is a
400), returns newest first, drops retweets from keyword-based queries (X since 2026-05-04)
and never returns the root of a `conversation_id:` query. Mentions cover the newest 800
posts that @mention the user. Protected authors' posts are left out unless the caller is
their author. An empty result is `{"meta":{"result_count":0}}`, never `"data": []`.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

from bot.sandbox import text as post_text
from bot.sandbox.clock import format_minute
from bot.sandbox.fields import FIELD_PARAMS, Fields
from bot.sandbox.ids import id_time, snowflake, to_ms
from bot.sandbox.pagination import (
    Cursor,
    Direction,
    Page,
    decode_token,
    encode_token,
    older_page,
    paginate,
)
from bot.sandbox.params import Params
from bot.sandbox.problems import invalid_request, not_found_item
from bot.sandbox.query import QueryError, compile_query
from bot.sandbox.records import Tweet
from bot.sandbox.render import Rendered, can_see
from bot.sandbox.state import State

__all__ = [
    "MENTIONS_PARAMS",
    "MENTIONS_REACH",
    "SEARCH_PARAMS",
    "SEARCH_WINDOW",
    "mentions",
    "search_recent",
]

Json = dict[str, Any]
SEARCH_WINDOW = timedelta(days=7)
MENTIONS_REACH = 800
SEARCH_PARAMS = [
    "query",
    "start_time",
    "end_time",
    "since_id",
    "until_id",
    "max_results",
    "next_token",
    "pagination_token",
    "sort_order",
    *FIELD_PARAMS,
]
MENTIONS_PARAMS = [
    "since_id",
    "until_id",
    "max_results",
    "pagination_token",
    "start_time",
    "end_time",
    *FIELD_PARAMS,
]


@dataclass(frozen=True, slots=True)
class _Window:
    since_id: int | None
    until_id: int | None
    start: datetime | None
    end: datetime
    end_inclusive: bool  # the default end (now) includes posts made this very instant

    def holds(self, tweet: Tweet) -> bool:
        post_id = int(tweet.id)
        if self.since_id is not None and post_id <= self.since_id:
            return False
        if self.until_id is not None and post_id >= self.until_id:
            return False
        if self.start is not None and tweet.created_at < self.start:
            return False
        return tweet.created_at < self.end or (self.end_inclusive and tweet.created_at == self.end)


def search_recent(state: State, params: Params, *, viewer_id: str | None, now: datetime) -> Json:
    """GET /2/tweets/search/recent."""
    text = params.get("query")
    if text is None:
        raise invalid_request("The `query` query parameter can not be empty", {"query": []})
    try:
        query = compile_query(text)
    except QueryError as exc:
        raise invalid_request(exc.message, {"query": [text]}) from None
    size = params.max_results(low=10, high=100, default=10)
    params.choice("sort_order", ("recency", "relevancy"))  # both answer newest first
    window = _window(params, now=now, floor=now - SEARCH_WINDOW)
    fields = params.fields()
    token_name = "next_token" if params.get("next_token") else "pagination_token"
    scope = _scope("search", text, params)

    def wanted(tweet: Tweet) -> bool:
        if query.keyword_based and tweet.retweeted_tweet_id is not None:
            return False
        if tweet.id in query.conversation_ids:
            return False
        return query.matches(state.searchable(tweet))

    with state.lock:
        token = params.get(token_name)
        cursor = decode_token(token, scope=scope, parameter=token_name) if token else None
        found = _select(state, _from(state.newest_first(), cursor), window, viewer_id, wanted)
        page = older_page(found, size=size, cursor=cursor)
        return _payload(state, page, fields, viewer_id=viewer_id, scope=scope, previous=False)


def mentions(
    state: State, user_id: str, params: Params, *, viewer_id: str | None, now: datetime
) -> Json:
    """GET /2/users/:id/mentions."""
    size = params.max_results(low=5, high=100, default=10)
    window = _window(params, now=now, floor=None)
    fields = params.fields()
    user = state.user(user_id)
    if user is None:
        return {"errors": [not_found_item(user_id, parameter="id", resource_type="user")]}
    name = user.username.lower()

    def wanted(tweet: Tweet) -> bool:
        if tweet.retweeted_tweet_id is not None:
            return False
        return any(e.value.lower() == name for e in post_text.mentions(tweet.text))

    with state.lock:
        reach = list(
            islice(_select(state, state.newest_first(), None, viewer_id, wanted), MENTIONS_REACH)
        )
        found = [t for t in reach if window.holds(t)]
        scope = _scope("mentions", user_id, params)
        page = _page(params, found, size=size, scope=scope, token_name="pagination_token")
        return _payload(state, page, fields, viewer_id=viewer_id, scope=scope, previous=True)


def _window(params: Params, *, now: datetime, floor: datetime | None) -> _Window:
    since_id, until_id = params.post_id("since_id"), params.post_id("until_id")
    start, end = params.time("start_time"), params.time("end_time")
    if since_id is not None:
        start = None  # X: with both, only since_id is used
        if floor is not None and id_time(since_id) < floor:
            larger = snowflake(to_ms(floor), 0)
            raise invalid_request(
                f"'since_id' must be a tweet id created after {format_minute(floor)}. "
                f"Please use a 'since_id' that is larger than {larger}",
                {"since_id": [str(since_id)]},
            )
    if start is not None and floor is not None and start < floor:
        raise _bad_time("start_time", start, f"must be on or after {format_minute(floor)}")
    if end is not None and end > now - timedelta(seconds=10):
        raise _bad_time(
            "end_time", end, "must be a minimum of 10 seconds prior to the request time."
        )
    if end is not None and start is not None and end <= start:
        raise _bad_time("end_time", end, "must be after 'start_time'")
    return _Window(since_id, until_id, start or floor, end or now, end_inclusive=end is None)


def _bad_time(name: str, value: datetime, rule: str) -> Exception:
    shown = format_minute(value)
    return invalid_request(f"Invalid '{name}':'{shown}'. '{name}' {rule}", {name: [shown]})


def _select(
    state: State,
    tweets: Iterable[Tweet],
    window: _Window | None,
    viewer_id: str | None,
    wanted: Callable[[Tweet], bool],
) -> Iterator[Tweet]:
    for tweet in tweets:
        visible = can_see(state, tweet, viewer_id)
        if visible and (window is None or window.holds(tweet)) and wanted(tweet):
            yield tweet


def _from(newest_first: list[Tweet], cursor: Cursor | None) -> Iterable[Tweet]:
    """The posts a next_token continues with: older than its boundary (binary search)."""
    if cursor is None or cursor.direction is not Direction.OLDER:
        return newest_first
    start = bisect_right(newest_first, -cursor.boundary, key=lambda t: -int(t.id))
    return islice(newest_first, start, None)


def _scope(kind: str, subject: str, params: Params) -> str:
    bounds = [params.get(name) or "" for name in ("since_id", "until_id", "start_time", "end_time")]
    return "\n".join([kind, subject, *bounds])


def _page(params: Params, found: list[Tweet], *, size: int, scope: str, token_name: str) -> Page:
    token = params.get(token_name)
    cursor = decode_token(token, scope=scope, parameter=token_name) if token else None
    return paginate(found, size=size, cursor=cursor)


def _payload(
    state: State, page: Page, fields: Fields, *, viewer_id: str | None, scope: str, previous: bool
) -> Json:
    if not page.items:
        return {"meta": {"result_count": 0}}
    rendered = Rendered(state, fields, viewer_id=viewer_id)
    for tweet in page.items:
        rendered.add(tweet)
    meta: Json = {
        "newest_id": page.items[0].id,
        "oldest_id": page.items[-1].id,
        "result_count": len(page.items),
    }
    if page.next_cursor is not None:
        meta["next_token"] = encode_token(page.next_cursor, scope=scope)
    if previous and page.previous_cursor is not None:
        meta["previous_token"] = encode_token(page.previous_cursor, scope=scope)
    body: Json = {"data": rendered.data}
    if rendered.includes():
        body["includes"] = rendered.includes()
    if rendered.errors:
        body["errors"] = rendered.errors
    body["meta"] = meta
    return body
