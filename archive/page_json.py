"""Decoding X API pages straight from JSON text: the fast path of `flatten`, for imports.

A twarc file is mostly repetition: every page carries full profiles of its authors
(the same people, page after page) and copies of the tweets it refers to. Parsing
it all into dicts and then flattening them costs more than writing the rows.
`PageDecoder` instead decodes only the fields the archive's columns need (msgspec
typed structs skip the rest without building objects), keeps each tweet and user
as the exact JSON X sent (its `raw`, stored as is), and remembers the objects
it has already decoded, so a profile seen on an earlier page costs one lookup.

It gives exactly what `flatten_page_values` gives for the same page. Anything the
fast path does not expect (a number where a string should be, `null` for a list,
bytes that are not UTF-8) is handed to the general path, which raises the same
IngestError it always does; JSON that does not parse raises `msgspec.DecodeError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec

from archive.page_values import (
    USER_COLUMNS,
    Fact,
    ObjectValues,
    PageValues,
    flatten_page_values,
    is_x_id,
    reference_kinds,
)

# Decoded objects remembered before the memory is given back: a tweet recurs on the
# next pages that refer to it, a person all through a file.
TWEET_CACHE = 20_000
USER_CACHE = 100_000
ABSENT = msgspec.Raw(b"")


class _Includes(msgspec.Struct, gc=False):
    users: list[msgspec.Raw] = []
    tweets: list[msgspec.Raw] = []


class _Page(msgspec.Struct, gc=False):
    # a single object (a lookup by one id) fails validation: the general path takes it
    data: list[msgspec.Raw] | None | msgspec.UnsetType = msgspec.UNSET
    includes: _Includes | None = None
    meta: msgspec.Raw = ABSENT
    twarc: msgspec.Raw = msgspec.field(default=ABSENT, name="__twarc")
    tcbot: msgspec.Raw = msgspec.field(default=ABSENT, name="__tcbot")


class _Metrics(msgspec.Struct, gc=False):
    reply_count: int | None = None
    retweet_count: int | None = None
    like_count: int | None = None
    quote_count: int | None = None


class _Tag(msgspec.Struct, gc=False):
    tag: str | None = None


class _Mention(msgspec.Struct, gc=False):
    id: str | None = None
    username: str | None = None


class _Entities(msgspec.Struct, gc=False):
    hashtags: list[_Tag] = []
    mentions: list[_Mention] = []


class _Reference(msgspec.Struct, gc=False):
    type: str | None = None
    id: str | None = None


class _Note(msgspec.Struct, gc=False):
    text: str | None = None
    entities: _Entities | None = None


class _Tweet(msgspec.Struct, gc=False):
    id: str
    author_id: str | None = None
    text: str | None = None
    created_at: datetime | None = None  # RFC 3339; msgspec parses it
    conversation_id: str | None = None
    in_reply_to_user_id: str | None = None
    lang: str | None = None
    public_metrics: _Metrics | None = None
    referenced_tweets: list[_Reference] | None = None
    entities: _Entities | None = None
    note_tweet: _Note | None = None


class _User(msgspec.Struct, gc=False):
    id: str
    username: str | None = None
    name: str | None = None
    protected: bool | None = None
    description: str | None = None


class _Unexpected(Exception):
    """Something the fast path leaves to the general one."""


@dataclass(frozen=True, slots=True)
class DecodedPage:
    """A page's rows, whether it had a `data` key, and its small extra objects
    (`meta`, `__twarc`, `__tcbot`: None when absent or not objects)."""

    values: PageValues
    has_data: bool
    meta: Mapping[str, Any] | None
    twarc: Mapping[str, Any] | None
    tcbot: Mapping[str, Any] | None


# A tweet decoded once: its row values, and its references, hashtags and mentions (a
# plain tuple: a frozen dataclass costs a microsecond more to make, for each tweet).
_Decoded = tuple[ObjectValues, tuple[Fact, ...], tuple[Fact, ...], tuple[Fact, ...]]


class PageDecoder:
    """Decodes JSON lines into pages, remembering the objects it has decoded."""

    def __init__(self) -> None:
        self._page = msgspec.json.Decoder(_Page)
        self._tweet = msgspec.json.Decoder(_Tweet)
        self._user = msgspec.json.Decoder(_User)
        self._any = msgspec.json.Decoder()
        self._tweets: dict[bytes, _Decoded] = {}
        self._users: dict[bytes, ObjectValues] = {}

    def forget(self) -> None:
        """Drop the objects remembered (freeing them takes a moment: an import does it
        while its writing process finishes)."""
        self._tweets.clear()
        self._users.clear()

    def decode(self, line: bytes) -> DecodedPage:
        """Decode one page; msgspec.DecodeError (or UnicodeDecodeError) if it is not
        JSON, IngestError if it is JSON but not an X API page."""
        if len(self._tweets) > TWEET_CACHE:
            self._tweets.clear()
        if len(self._users) > USER_CACHE:
            self._users.clear()
        try:
            page = self._page.decode(line)
            values = self._fast(page)
        except (msgspec.ValidationError, UnicodeDecodeError, _Unexpected):
            return self._general(line)
        return DecodedPage(
            values=values,
            has_data=page.data is not msgspec.UNSET,
            meta=self._small(page.meta),
            twarc=self._small(page.twarc),
            tcbot=self._small(page.tcbot),
        )

    def _fast(self, page: _Page) -> PageValues:
        includes = page.includes or _NO_INCLUDES
        known_tweets, decode_tweet = self._tweets, self._tweet.decode
        tweets: dict[str, _Decoded] = {}
        data = page.data if isinstance(page.data, list) else []
        for raw in [*data, *includes.tweets]:
            key = bytes(raw)  # hashing bytes is cheaper than decoding them to text
            decoded = known_tweets.get(key)
            if decoded is None:
                _check_utf8(key)  # msgspec skips the fields it is not asked for unchecked
                decoded = known_tweets[key] = _decode_tweet(decode_tweet(raw), key)
            tweets.setdefault(decoded[0][0], decoded)
        users: dict[str, ObjectValues] = {}
        user_of = self._user_of
        for raw in includes.users:
            found = user_of(raw)
            users.setdefault(found[0], found)
        references: list[Fact] = []
        hashtags: list[Fact] = []
        mentions: list[Fact] = []
        authors: dict[str, None] = {}
        for values, refs, tags, names in tweets.values():
            if refs:
                references += refs
            if tags:
                hashtags += tags
            if names:
                mentions += names
            author = values[1][0]
            if author and author not in users:
                authors[author] = None
        return PageValues(
            users=tuple(users.values()),
            tweets=tuple(d[0] for d in tweets.values()),
            unprofiled_author_ids=tuple(authors),
            references=tuple(references),
            hashtags=tuple(hashtags),
            mentions=tuple(mentions),
        )

    def _user_of(self, raw: msgspec.Raw) -> ObjectValues:
        key = bytes(raw)
        known = self._users.get(key)
        if known is None:
            user = self._user.decode(raw)
            if not is_x_id(user.id):
                raise _Unexpected
            _check_utf8(key)
            values = (user.username, user.name, user.protected, user.description)
            known = self._users[key] = (user.id, values, key)
        return known

    def _general(self, line: bytes) -> DecodedPage:
        page = self._any.decode(line)
        values = flatten_page_values(page)  # IngestError for a page of the wrong shape
        return DecodedPage(
            values=values,
            has_data="data" in page,
            meta=_mapping_or_none(page.get("meta")),
            twarc=_mapping_or_none(page.get("__twarc")),
            tcbot=_mapping_or_none(page.get("__tcbot")),
        )

    def _small(self, raw: msgspec.Raw) -> Mapping[str, Any] | None:
        return None if raw is ABSENT else _mapping_or_none(self._any.decode(raw))


def _decode_tweet(tweet: _Tweet, raw: bytes) -> _Decoded:
    """Row values and facts, by the rules of `flatten.tweet_values` and `flatten._add_facts`."""
    tweet_id, created_at = tweet.id, tweet.created_at
    if not (tweet_id.isascii() and tweet_id.isdigit() and len(tweet_id) <= 20):
        raise _Unexpected  # the general path says what is wrong
    if created_at is not None and created_at.tzinfo is not UTC:
        if created_at.tzinfo is None:
            raise _Unexpected
        created_at = created_at.astimezone(UTC)
    metrics = tweet.public_metrics or _NO_METRICS
    note = tweet.note_tweet
    values = (
        tweet.author_id,
        (note.text if note else None) or tweet.text or "",
        created_at,
        tweet.conversation_id,
        tweet.in_reply_to_user_id,
        tweet.lang,
        metrics.reply_count,
        metrics.retweet_count,
        metrics.like_count,
        metrics.quote_count,
    )
    references: tuple[Fact, ...] = ()
    if tweet.referenced_tweets:
        references = tuple(
            dict.fromkeys(
                (tweet_id, ref.type, ref.id)
                for ref in tweet.referenced_tweets
                if ref.type in _KINDS and ref.id is not None and is_x_id(ref.id)
            )
        )
    entities = tweet.entities
    if note is not None and note.entities is not None:
        return ((tweet_id, values, raw), references, *_facts(tweet_id, [entities, note.entities]))
    if entities is None:
        return (tweet_id, values, raw), references, (), ()
    return (tweet_id, values, raw), references, *_facts(tweet_id, [entities])


def _facts(
    tweet_id: str, holders: list[_Entities | None]
) -> tuple[tuple[Fact, ...], tuple[Fact, ...]]:
    """Hashtags (one per tag, any case) and mentions (one per account) of a tweet."""
    hashtags: dict[str, Fact] = {}
    mentions: dict[str, Fact] = {}
    for holder in holders:
        if holder is None:
            continue
        for entity in holder.hashtags:
            tag = entity.tag
            if tag and (lowered := tag.lower()) not in hashtags:
                hashtags[lowered] = (tweet_id, lowered, tag)
        for mention in holder.mentions:
            user_id, username = mention.id, mention.username
            if user_id is not None and username is not None and user_id not in mentions:
                mentions[user_id] = (tweet_id, user_id, username)
    return tuple(hashtags.values()), tuple(mentions.values())


def _check_utf8(raw: bytes) -> None:
    """UnicodeDecodeError unless `raw` is UTF-8 (ASCII is, and is told apart far faster)."""
    if not raw.isascii():
        raw.decode()


_NO_METRICS = _Metrics()
_NO_INCLUDES = _Includes()
_KINDS = reference_kinds()
assert USER_COLUMNS == ("username", "name", "protected", "description")


def _mapping_or_none(value: object) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None
