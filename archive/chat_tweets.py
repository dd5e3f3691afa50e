"""Reading a chat's transcript out of the archive: the window's tweets, its questions, newcomers.

`load_transcript(session, chat)` does the I/O for archive/transcripts.py: three
queries for the tweets posted in the chat's window (columns, references,
hashtags; no ORM objects, so a 10,000-tweet chat loads quickly), one for which of
its people had tweeted before the chat began, then the pure core does the rest.

A chat the bot ran knows its posts (chats.posts, from the outbox). For a chat
added by hand the questions are the host's tweets in the window that start with
Q<n> (after leading @mentions); when the host posted Q<n> twice, the first heads
question n and replies to either answer it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Text, and_, exists, select, type_coerce
from sqlalchemy.orm import Session, aliased

from archive.chat_labels import question_number, x_text
from archive.chat_rules import ChatTweet, order_key, select_chat_tweets
from archive.models import (
    Chat,
    ChatOrigin,
    PostKind,
    ReferenceKind,
    Tweet,
    TweetHashtag,
    TweetReference,
    User,
)
from archive.transcripts import ChatFrame, Gap, Transcript, build_transcript
from archive.visibility import hidden

log = logging.getLogger(__name__)

__all__ = [
    "ChatPosts",
    "chat_frame",
    "load_transcript",
    "load_transcript_counting_hidden",
    "tweet_links",
    "window_tweets",
    "with_links",
]

_NO_TAGS: frozenset[str] = frozenset()
X_HOSTS = frozenset({"x.com", "twitter.com", "www.x.com", "www.twitter.com", "mobile.twitter.com"})
_CHUNK = 500  # ids per IN (...) list: well inside SQLite's and PostgreSQL's limits


@dataclass(frozen=True, slots=True)
class ChatPosts:
    """The host's posts that shape a chat: question post ids with their numbers, the post
    heading each number, and the other posts (intro, closing)."""

    question_of: Mapping[str, int]
    headings: Mapping[int, str]
    others: frozenset[str]

    @property
    def ids(self) -> set[str]:
        return set(self.question_of) | set(self.others)


def chat_frame(chat: Chat) -> ChatFrame:
    return ChatFrame(
        id=chat.id, hashtag=chat.hashtag, host=chat.host, starts_at=chat.starts_at,
        ends_at=chat.ends_at, topic=chat.topic, origin=chat.origin.value,
    )  # fmt: skip


def load_transcript(
    session: Session, chat: Chat, *, include_protected: bool = False, gaps: Sequence[Gap] = ()
) -> Transcript:
    """The transcript of `chat` as the archive has it now."""
    return load_transcript_counting_hidden(
        session, chat, include_protected=include_protected, gaps=gaps
    )[0]


def load_transcript_counting_hidden(
    session: Session, chat: Chat, *, include_protected: bool = False, gaps: Sequence[Gap] = ()
) -> tuple[Transcript, int]:
    """The transcript, and how many of its tweets were left out as hidden (0 when
    `include_protected`): a page says so."""
    candidates = window_tweets(
        session, starts_at=chat.starts_at, ends_at=chat.ends_at, hashtag=chat.hashtag
    )
    if chat.origin is ChatOrigin.BOT:
        posts = recorded_posts(chat)
    else:
        posts = found_questions(candidates, host=chat.host)
    tweets = with_links(
        session, select_chat_tweets(candidates, hashtag=chat.hashtag, post_ids=posts.ids)
    )
    authors = {t.author_id for t in tweets if t.author_id is not None}
    returning = returning_authors(session, authors, before=chat.starts_at)
    transcript = build_transcript(
        chat_frame(chat), tweets, question_of=posts.question_of, headings=posts.headings,
        other_posts=posts.others, returning=returning, include_protected=include_protected,
        gaps=gaps,
    )  # fmt: skip
    log.debug(
        "transcript of chat %d: %d of %d window tweets, %d shown",
        chat.id, len(tweets), len(candidates), transcript.stats.tweets,
    )  # fmt: skip
    hidden = 0 if include_protected else sum(t.protected for t in tweets)
    return transcript, hidden


def recorded_posts(chat: Chat) -> ChatPosts:
    """The posts of a chat the bot ran, as recorded from its outbox."""
    questions = {p.tweet_id: p.number for p in chat.posts if p.kind is PostKind.QUESTION}
    return ChatPosts(
        question_of=questions,
        headings={number: tweet_id for tweet_id, number in questions.items()},
        others=frozenset(p.tweet_id for p in chat.posts if p.kind is not PostKind.QUESTION),
    )


def found_questions(candidates: Iterable[ChatTweet], *, host: str) -> ChatPosts:
    """A manual chat's questions: the host's own (not retweeted) posts starting with Q<n>."""
    question_of: dict[str, int] = {}
    headings: dict[int, str] = {}
    for tweet in sorted(candidates, key=order_key):
        if tweet.retweeted is not None or not host or tweet.username.lower() != host.lower():
            continue
        number = question_number(tweet.text)
        if number is not None:
            question_of[tweet.id] = number
            headings.setdefault(number, tweet.id)
    return ChatPosts(question_of=question_of, headings=headings, others=frozenset())


def window_tweets(
    session: Session, *, starts_at: datetime, ends_at: datetime, hashtag: str
) -> list[ChatTweet]:
    """Every archived tweet created in [starts_at, ends_at], with author and references.

    Only `hashtag` is looked up among each tweet's hashtags (it is all a chat needs),
    and `links` are left empty: `with_links` fills them for the few tweets that have any.
    """
    tag = hashtag.lstrip("#").lower()
    replied, quoted, retweeted = (aliased(TweetReference) for _ in range(3))
    tagged = aliased(TweetHashtag)
    columns = (
        Tweet.id, Tweet.author_id, User.username, User.name, hidden(User), Tweet.text,
        type_coerce(Tweet.created_at, Text), Tweet.conversation_id,  # see _utc
        replied.referenced_id, quoted.referenced_id, retweeted.referenced_id, tagged.tag,
    )  # fmt: skip
    query = (
        select(*columns)
        .outerjoin(User, User.id == Tweet.author_id)
        .outerjoin(replied, _reference(replied, ReferenceKind.REPLIED_TO))
        .outerjoin(quoted, _reference(quoted, ReferenceKind.QUOTED))
        .outerjoin(retweeted, _reference(retweeted, ReferenceKind.RETWEETED))
        .outerjoin(tagged, and_(tagged.tweet_id == Tweet.id, tagged.tag == tag))
        .where(Tweet.created_at.between(starts_at, ends_at))
    )
    tags = frozenset({tag})
    # Core, not ORM, execution: plain rows, a third less overhead for a 10,000-tweet chat.
    return [_chat_tweet(row, tags) for row in session.connection().execute(query).all()]


def _chat_tweet(row: Any, tags: frozenset[str]) -> ChatTweet:
    tweet_id, author_id, username, name, hidden, text, created_at, conversation, *refs = row
    reply, quote, retweet, has_tag = refs
    return ChatTweet(
        tweet_id, author_id, username or "", name or "", bool(hidden), x_text(text),
        _utc(created_at), conversation, reply, quote, retweet, tags if has_tag else _NO_TAGS,
    )  # fmt: skip


def _utc(value: str | datetime) -> datetime:
    """A created_at read without SQLAlchemy's per-row conversion (a tenth of a busy chat's
    load time): SQLite's naive UTC text parsed by datetime.fromisoformat, PostgreSQL's
    aware datetime converted to UTC."""
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _reference(alias: Any, kind: ReferenceKind) -> Any:
    """The join condition for one kind of reference (X gives a tweet at most one of each)."""
    return and_(alias.tweet_id == Tweet.id, alias.kind == kind)


def with_links(session: Session, tweets: Sequence[ChatTweet]) -> list[ChatTweet]:
    """`tweets` with their shared links, read from the raw `entities.urls` of only those
    whose text has a link in it (X puts a t.co link in the text for each one)."""
    linked = [tweet.id for tweet in tweets if "://" in tweet.text]
    urls: dict[str, tuple[str, ...]] = {}
    for start in range(0, len(linked), _CHUNK):
        query = select(Tweet.id, Tweet.raw["entities"]["urls"]).where(
            Tweet.id.in_(linked[start : start + _CHUNK])
        )
        urls.update((tweet_id, tweet_links(value)) for tweet_id, value in session.execute(query))
    return [replace(t, links=urls[t.id]) if urls.get(t.id) else t for t in tweets]


def tweet_links(urls: object) -> tuple[str, ...]:
    """The web links in a tweet's `entities.urls`, expanded; links to posts on X left out
    (a quote carries one to the post it quotes), and anything not http(s) dropped."""
    if not isinstance(urls, list):
        return ()
    links: list[str] = []
    for item in urls:
        if not isinstance(item, dict):
            continue
        url = item.get("unwound_url") or item.get("expanded_url") or item.get("url")
        if not isinstance(url, str):
            continue
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            continue
        if parts.hostname in X_HOSTS and "/status/" in parts.path:
            continue
        if url not in links:
            links.append(url)
    return tuple(links)


def returning_authors(session: Session, author_ids: Iterable[str], *, before: datetime) -> set[str]:
    """Those of `author_ids` with an archived tweet created before `before`."""
    ids = sorted(author_ids)
    found: set[str] = set()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        # From each author, one EXISTS that stops at the first earlier tweet: scanning
        # every tweet of the regulars (a DISTINCT over author_id) took 200 ms on 100k.
        query = select(User.id).where(
            User.id.in_(chunk),
            exists().where(Tweet.author_id == User.id, Tweet.created_at < before),
        )
        found.update(session.scalars(query))
    return found
