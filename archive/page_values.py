"""A page as plain tuples, for bulk ingest: `flatten_page`'s rows without row objects.

An import folds hundreds of thousands of tweets (archive/page_batch.py); making a
frozen row object for each, and keeping the parsed dict as its raw value, is a
measurable part of the time. `PageValues` carries the same rows as tuples and each
object as the UTF-8 JSON it came as. The rules are `flatten_page`'s, reusing its
helpers, and tests check both give the same rows for the same pages, odd ones
included. archive/page_json.py makes the same values straight from JSON text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from archive.errors import IngestError
from archive.flatten import (
    _data_objects,
    _entities,
    _list,
    _mapping,
    _objects,
    _optional_int,
    _unique,
    _x_id,
    parse_x_time,
)
from archive.models import ReferenceKind

TWEET_COLUMNS = (
    "author_id",
    "text",
    "created_at",
    "conversation_id",
    "in_reply_to_user_id",
    "lang",
    "reply_count",
    "retweet_count",
    "like_count",
    "quote_count",
)
USER_COLUMNS = ("username", "name", "protected", "description")
ObjectValues = tuple[str, tuple[Any, ...], bytes]  # (id, column values, raw object as JSON)
Fact = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class PageValues:
    """A page as `flatten_page` sees it, in tuples rather than row objects.

    `tweets` and `users` are (id, values in TWEET_COLUMNS or USER_COLUMNS order, the
    object as UTF-8 JSON), each id once (the first copy wins, as in `flatten_page`); references are
    (tweet_id, kind value, referenced_id), hashtags (tweet_id, tag, tag_as_written),
    mentions (tweet_id, user_id, username). Bulk ingest needs no row objects, and
    making 100,000 of them is a measurable part of an import.
    """

    users: tuple[ObjectValues, ...]
    tweets: tuple[ObjectValues, ...]
    unprofiled_author_ids: tuple[str, ...]
    references: tuple[Fact, ...]
    hashtags: tuple[Fact, ...]
    mentions: tuple[Fact, ...]


def flatten_page_values(page: Mapping[str, Any]) -> PageValues:
    """`flatten_page` for bulk ingest: the same rows and errors, as plain tuples."""
    if not isinstance(page, Mapping):
        raise IngestError(f"an X API page must be a JSON object, not {type(page).__name__}")
    includes = page.get("includes") or {}
    tweets: dict[str, ObjectValues] = {}
    objects: dict[str, Mapping[str, Any]] = {}
    for obj in [*_data_objects(page.get("data")), *_objects(includes, "tweets")]:
        found = tweet_values(obj)
        if found[0] not in tweets:
            tweets[found[0]], objects[found[0]] = found, obj
    users: dict[str, ObjectValues] = {}
    for obj in _objects(includes, "users"):
        found = user_values(obj)
        users.setdefault(found[0], found)
    authors = (values[0] for _, values, _ in tweets.values())
    references: list[Fact] = []
    hashtags: list[Fact] = []
    mentions: list[Fact] = []
    for tweet_id, _, raw in tweets.values():
        _add_facts(tweet_id, objects[tweet_id], references=references, hashtags=hashtags,
                   mentions=mentions)  # fmt: skip
    return PageValues(
        users=tuple(users.values()),
        tweets=tuple(tweets.values()),
        unprofiled_author_ids=tuple(dict.fromkeys(a for a in authors if a and a not in users)),
        references=tuple(dict.fromkeys(references)),
        hashtags=_unique(hashtags, key=lambda fact: fact[:2]),
        mentions=_unique(mentions, key=lambda fact: fact[:2]),
    )


def tweet_values(obj: Mapping[str, Any]) -> ObjectValues:
    """`flatten_tweet` as (id, values in TWEET_COLUMNS order, obj); the same errors."""
    tweet_id = _fast_x_id(obj, "tweet")
    metrics = obj.get("public_metrics")
    if not isinstance(metrics, dict):
        metrics = _mapping(metrics)
    note = obj.get("note_tweet")
    text = (note.get("text") if isinstance(note, Mapping) else None) or obj.get("text") or ""
    values = (
        _fast_str(obj.get("author_id")),
        text if type(text) is str else str(text),
        parse_x_time(obj.get("created_at"), tweet_id=tweet_id),
        _fast_str(obj.get("conversation_id")),
        _fast_str(obj.get("in_reply_to_user_id")),
        _fast_str(obj.get("lang")),
        _fast_int(metrics.get("reply_count")),
        _fast_int(metrics.get("retweet_count")),
        _fast_int(metrics.get("like_count")),
        _fast_int(metrics.get("quote_count")),
    )
    return tweet_id, values, json_bytes(obj)


def user_values(obj: Mapping[str, Any]) -> ObjectValues:
    """`flatten_user` as (id, values in USER_COLUMNS order, obj); the same errors."""
    user_id = _fast_x_id(obj, "user")
    protected = obj.get("protected")
    values = (
        _fast_str(obj.get("username")),
        _fast_str(obj.get("name")),
        protected if isinstance(protected, bool) else None,
        _fast_str(obj.get("description")),
    )
    return user_id, values, json_bytes(obj)


def json_bytes(obj: Mapping[str, Any]) -> bytes:
    """An object as UTF-8 JSON (what `raw` columns store, as text)."""
    return _ENCODER.encode(obj)


def reference_kinds() -> frozenset[str]:
    """The `referenced_tweets[].type` values the archive records."""
    return _KINDS


def is_x_id(value: str) -> bool:
    """A string of 1 to 20 ASCII digits (X_ID), without the regex."""
    return value.isascii() and value.isdigit() and len(value) <= 20


def _add_facts(
    tweet_id: str,
    raw: Mapping[str, Any],
    *,
    references: list[Fact],
    hashtags: list[Fact],
    mentions: list[Fact],
) -> None:
    """A tweet's references, hashtags and mentions, by the rules of `flatten_page`."""
    referenced = raw.get("referenced_tweets")
    if referenced:
        for ref in _list(referenced):
            if isinstance(ref, Mapping):
                kind, ref_id = ref.get("type"), ref.get("id")
                if type(kind) is str and kind in _KINDS and isinstance(ref_id, str):
                    if not is_x_id(ref_id):
                        continue
                    references.append((tweet_id, kind, ref_id))
    entities = raw.get("entities")
    note = raw.get("note_tweet")
    if not entities and not note:
        return
    for entity in _entities(raw, "hashtags"):
        tag = entity.get("tag")
        if isinstance(tag, str) and tag:
            hashtags.append((tweet_id, tag.lower(), tag))
    for entity in _entities(raw, "mentions"):
        user_id, username = entity.get("id"), entity.get("username")
        if isinstance(user_id, str) and isinstance(username, str):
            mentions.append((tweet_id, user_id, username))


_KINDS = frozenset(kind.value for kind in ReferenceKind)
_ENCODER = msgspec.json.Encoder()


def _fast_x_id(obj: object, kind: str) -> str:
    """`_x_id`, without the regex for the usual case (a dict with a string of digits)."""
    if type(obj) is dict:
        value = obj.get("id")
        if type(value) is str and is_x_id(value):
            return value
    return _x_id(obj, kind)


def _fast_str(value: object) -> str | None:
    return value if value is None or type(value) is str else str(value)


def _fast_int(value: object) -> int | None:
    return value if type(value) is int else _optional_int(value)
