"""Flattening X API v2 pages into row values: pure, no database.

A page is the JSON body X returns for search, lookup or create: `data` (a list of
tweets, or one tweet object), `includes.users` and `includes.tweets` (the
expansions), `meta` and `errors`. `flatten_page` turns it into frozen rows for
the archive's tables, so `ingest` only has to write them.

Quirks handled here, so nothing downstream needs to know them:
- an empty search page has no `data` key at all (`{"meta":{"result_count":0}}`);
- a tweet can appear both in `data` and in `includes.tweets`; the `data` copy wins;
- a long post's full text and entities are in `note_tweet`, `text` is truncated;
- an author the page has no profile for still needs a users row (see `User`);
- ids are strings of digits; `created_at` has milliseconds (`...:05:00.000Z`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from archive.errors import IngestError
from archive.models import ReferenceKind

X_ID = re.compile(r"[0-9]{1,20}")
Row = TypeVar("Row")


@dataclass(frozen=True, slots=True)
class UserRow:
    """A user object from `includes.users`."""

    id: str
    username: str | None
    name: str | None
    protected: bool | None
    description: str | None
    raw: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class TweetRow:
    """A tweet object from `data` or `includes.tweets`; absent fields are None."""

    id: str
    author_id: str | None
    text: str
    created_at: datetime | None
    conversation_id: str | None
    in_reply_to_user_id: str | None
    lang: str | None
    reply_count: int | None
    retweet_count: int | None
    like_count: int | None
    quote_count: int | None
    raw: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ReferenceRow:
    tweet_id: str
    kind: ReferenceKind
    referenced_id: str


@dataclass(frozen=True, slots=True)
class HashtagRow:
    """`tag` lower-cased (one row per tag per tweet), `tag_as_written` as first written."""

    tweet_id: str
    tag: str
    tag_as_written: str


@dataclass(frozen=True, slots=True)
class MentionRow:
    tweet_id: str
    user_id: str
    username: str


@dataclass(frozen=True, slots=True)
class FlatPage:
    """Everything one page holds, each row once, in page order.

    `unprofiled_author_ids` are authors of the page's tweets that `users` lacks.
    """

    users: tuple[UserRow, ...]
    tweets: tuple[TweetRow, ...]
    references: tuple[ReferenceRow, ...]
    hashtags: tuple[HashtagRow, ...]
    mentions: tuple[MentionRow, ...]
    unprofiled_author_ids: tuple[str, ...]


def flatten_page(page: Mapping[str, Any]) -> FlatPage:
    """Turn an X API v2 response body into rows; IngestError if it is not shaped like one."""
    if not isinstance(page, Mapping):
        raise IngestError(f"an X API page must be a JSON object, not {type(page).__name__}")
    includes = page.get("includes") or {}
    tweet_objects = [*_data_objects(page.get("data")), *_objects(includes, "tweets")]
    tweets = _unique((flatten_tweet(obj) for obj in tweet_objects), key=lambda row: row.id)
    users = _unique((flatten_user(obj) for obj in _objects(includes, "users")), key=lambda u: u.id)
    profiled = {user.id for user in users}
    unprofiled = (t.author_id for t in tweets if t.author_id and t.author_id not in profiled)
    return FlatPage(
        users=users,
        tweets=tweets,
        references=_unique((r for t in tweets for r in _references(t)), key=lambda r: r),
        hashtags=_unique(
            (h for t in tweets for h in _hashtags(t)), key=lambda h: (h.tweet_id, h.tag)
        ),
        mentions=_unique(
            (m for t in tweets for m in _mentions(t)), key=lambda m: (m.tweet_id, m.user_id)
        ),
        unprofiled_author_ids=tuple(dict.fromkeys(unprofiled)),
    )


def flatten_tweet(obj: Mapping[str, Any]) -> TweetRow:
    """One tweet object to a row; IngestError if it has no usable id or a bad `created_at`."""
    tweet_id = _x_id(obj, "tweet")
    metrics = _mapping(obj.get("public_metrics"))
    note = _mapping(obj.get("note_tweet"))
    return TweetRow(
        id=tweet_id,
        author_id=_optional_str(obj.get("author_id")),
        text=str(note.get("text") or obj.get("text") or ""),
        created_at=parse_x_time(obj.get("created_at"), tweet_id=tweet_id),
        conversation_id=_optional_str(obj.get("conversation_id")),
        in_reply_to_user_id=_optional_str(obj.get("in_reply_to_user_id")),
        lang=_optional_str(obj.get("lang")),
        reply_count=_optional_int(metrics.get("reply_count")),
        retweet_count=_optional_int(metrics.get("retweet_count")),
        like_count=_optional_int(metrics.get("like_count")),
        quote_count=_optional_int(metrics.get("quote_count")),
        raw=obj,
    )


def flatten_user(obj: Mapping[str, Any]) -> UserRow:
    """One user object to a row; IngestError if it has no usable id."""
    protected = obj.get("protected")
    return UserRow(
        id=_x_id(obj, "user"),
        username=_optional_str(obj.get("username")),
        name=_optional_str(obj.get("name")),
        protected=protected if isinstance(protected, bool) else None,
        description=_optional_str(obj.get("description")),
        raw=obj,
    )


def parse_x_time(value: object, *, tweet_id: str = "") -> datetime | None:
    """X's `2026-08-20T12:05:00.000Z` as aware UTC; None when absent."""
    if value is None:
        return None
    where = f" of tweet {tweet_id}" if tweet_id else ""
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise IngestError(f"created_at {value!r}{where} is not an X timestamp") from exc
    if parsed.tzinfo is None:
        raise IngestError(f"created_at {value!r}{where} has no time zone")
    return parsed.astimezone(UTC)


def _data_objects(data: object) -> list[Mapping[str, Any]]:
    if data is None:
        return []
    if isinstance(data, Mapping):
        return [data]
    if isinstance(data, list):
        return list(data)
    raise IngestError(f"the page's data is a {type(data).__name__}, not a list or an object")


def _objects(includes: object, key: str) -> list[Mapping[str, Any]]:
    if not isinstance(includes, Mapping):
        raise IngestError(f"the page's includes is a {type(includes).__name__}, not an object")
    found = includes.get(key) or []
    if not isinstance(found, list):
        raise IngestError(f"the page's includes.{key} is not a list")
    return found


def _x_id(obj: object, kind: str) -> str:
    if not isinstance(obj, Mapping):
        raise IngestError(f"a {kind} in the page is a {type(obj).__name__}, not an object")
    value = obj.get("id")
    if value is None:
        keys = ", ".join(sorted(map(str, obj))) or "none"
        raise IngestError(f"a {kind} object in the page has no id (its fields: {keys})")
    if not isinstance(value, str) or not X_ID.fullmatch(value):
        raise IngestError(f"a {kind} object has id {value!r}, not an X id (a string of digits)")
    return value


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _optional_str(value: object) -> str | None:
    return None if value is None else str(value)


def _optional_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _unique(rows: Iterable[Row], *, key: Callable[[Row], Hashable]) -> tuple[Row, ...]:
    """Rows in order, dropping any whose key an earlier row had (the first copy wins)."""
    kept: dict[Hashable, Row] = {}
    for row in rows:
        kept.setdefault(key(row), row)
    return tuple(kept.values())


def _references(tweet: TweetRow) -> Iterable[ReferenceRow]:
    for ref in _list(tweet.raw.get("referenced_tweets")):
        if not isinstance(ref, Mapping):
            continue
        try:
            kind = ReferenceKind(ref.get("type"))
        except ValueError:
            continue  # a kind X adds later stays in raw until we know what it means
        referenced = ref.get("id")
        if isinstance(referenced, str) and X_ID.fullmatch(referenced):
            yield ReferenceRow(tweet_id=tweet.id, kind=kind, referenced_id=referenced)


def _entities(obj: Mapping[str, Any], key: str) -> Iterable[Mapping[str, Any]]:
    """Entities of `key` from the tweet and from its note_tweet (a long post's full text)."""
    for holder in (obj, _mapping(obj.get("note_tweet"))):
        found = _list(_mapping(holder.get("entities")).get(key))
        yield from (entity for entity in found if isinstance(entity, Mapping))


def _hashtags(tweet: TweetRow) -> Iterable[HashtagRow]:
    for entity in _entities(tweet.raw, "hashtags"):
        tag = entity.get("tag")
        if isinstance(tag, str) and tag:
            yield HashtagRow(tweet_id=tweet.id, tag=tag.lower(), tag_as_written=tag)


def _mentions(tweet: TweetRow) -> Iterable[MentionRow]:
    for entity in _entities(tweet.raw, "mentions"):
        user_id, username = entity.get("id"), entity.get("username")
        if isinstance(user_id, str) and isinstance(username, str):
            yield MentionRow(tweet_id=tweet.id, user_id=user_id, username=username)
