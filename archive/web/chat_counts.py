"""Every chat with its counts and collection gaps, for the chats page; remembered between requests.

The counts are the transcripts' own (archive/stats.chat_stats, which builds each
chat's transcript): an archive of a hundred weekly chats takes seconds to count,
far too long for every page view. So the rows are kept in memory, keyed by a
fingerprint of everything the counts depend on, read in a few cheap queries:

- the chats themselves (id, hashtag, host, window, topic, their posts);
- the tweets: how many there are and the newest `created_at` (both from indexes):
  any tweet added, imported or deleted changes one of them;
- the accounts: how many there are and how many are hidden (protected or suspended):
  an account turning protected changes what every count shows.

A change the fingerprint cannot see (an edit of an already-archived tweet's text
that turns it into an answer, say) shows once the next tweet arrives.

When the fingerprint changes (during a live chat, at every poll), only the chats
whose own counts may have changed are counted again: each chat's counts are also
remembered by a fingerprint of its own: its shape, the hidden accounts, and how many
tweets were created before the horizon (Monday 00:00 UTC of the week 16 days before the
newest tweet: anything older arrives only by import, and is removed only by the sweep
or forget). A chat that ended before the horizon needs nothing more; a recent one adds
the tweets created in its window (how many, and the latest change: a transcript is
made of those) and those between the horizon and its start (newcomers depend on them).
So a poll during a chat recounts that chat only, and the horizon's weekly step
recounts everything once a week.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import partial
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.chat_tweets import load_transcript
from archive.chats import list_chats
from archive.gaps import gaps_overlapping
from archive.models import Chat, Tweet, User
from archive.stats import ChatStats, Counts, chat_stats
from archive.transcripts import Gap
from archive.visibility import hidden

__all__ = ["ChatRow", "CountsCache", "chat_rows"]

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)
KEPT = 4  # fingerprints remembered (with and without protected accounts, and a spare)
KEPT_CHATS = 5000  # per-chat counts remembered


@dataclass(frozen=True, slots=True)
class ChatRow:
    """A chat as the chats page lists it; `previous` is the chat before on its hashtag."""

    chat_id: int
    hashtag: str
    host: str
    topic: str | None
    starts_at: datetime
    ends_at: datetime
    counts: Counts
    previous: Counts | None
    gaps: tuple[Gap, ...]


class CountsCache:
    """A few computed values by key, safe to share between request threads."""

    def __init__(self, kept: int = KEPT) -> None:
        self._lock = threading.Lock()
        self._values: dict[Hashable, Any] = {}
        self._kept = kept
        self.chats: CountsCache | None = CountsCache(KEPT_CHATS) if kept == KEPT else None

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._values:
                return self._values[key]
        value = compute()  # (outside the lock: two threads may both compute; both are right)
        with self._lock:
            self._values[key] = value
            while len(self._values) > self._kept:
                del self._values[next(iter(self._values))]
        return value


def chat_rows(
    session: Session, *, include_protected: bool, cache: CountsCache | None = None
) -> list[ChatRow]:
    """Every chat, oldest first, with its counts, the chat before it and its gaps."""
    chats = list_chats(session)
    if not chats:
        return []
    key = (_fingerprint(session, chats), include_protected)
    per_chat = cache.chats if cache is not None else None
    compute: Callable[[], list[ChatRow]] = lambda: _rows(
        session, chats, include_protected, per_chat
    )
    if cache is None:
        return compute()
    rows: list[ChatRow] = cache.get(key, compute)
    return rows


def _rows(
    session: Session,
    chats: Sequence[Chat],
    include_protected: bool,
    per_chat: CountsCache | None,
) -> list[ChatRow]:
    if per_chat is None:
        stats = {
            s.chat_id: s
            for s in chat_stats(
                session, since=EARLIEST, until=LATEST, include_protected=include_protected
            )
        }
    else:
        stats = _stats_by_chat(session, chats, include_protected, per_chat)
    gaps = gaps_overlapping(
        session, hashtag=None, starts_at=min(c.starts_at for c in chats),
        ends_at=max(c.ends_at for c in chats),
    )  # fmt: skip
    return [_row(chat, stats[chat.id], gaps) for chat in chats if chat.id in stats]


def _stats_by_chat(
    session: Session, chats: Sequence[Chat], include_protected: bool, per_chat: CountsCache
) -> dict[int, ChatStats]:
    """chat_stats' figures, each chat counted again only when its own fingerprint changed."""
    hidden_users = session.scalar(select(func.count(User.id)).where(hidden(User)))
    horizon = _horizon(session)
    # count(*), not count(id): the created_at index answers it alone (4 ms, not 40, on 100k)
    older = session.scalar(
        select(func.count()).select_from(Tweet).where(Tweet.created_at < horizon)
    )
    found: dict[int, ChatStats] = {}
    last: dict[str, Counts] = {}
    for chat in sorted(chats, key=lambda c: (c.starts_at, c.id)):
        recent = () if chat.ends_at < horizon else _chat_tweets(session, chat, horizon)
        key = (_chat_shape(chat), include_protected, hidden_users, older, recent)
        counts: Counts = per_chat.get(key, partial(_count, session, chat, include_protected))
        tag = chat.hashtag.lower()
        found[chat.id] = ChatStats(
            chat_id=chat.id, hashtag=chat.hashtag, topic=chat.topic, starts_at=chat.starts_at,
            counts=counts, previous=last.get(tag),
        )  # fmt: skip
        last[tag] = counts
    return found


def _count(session: Session, chat: Chat, include_protected: bool) -> Counts:
    stats = load_transcript(session, chat, include_protected=include_protected).stats
    return Counts(
        tweets=stats.tweets, retweets=stats.retweets, participants=stats.participants,
        newcomers=stats.first_time_participants,
    )  # fmt: skip


def _horizon(session: Session) -> datetime:
    """Monday 00:00 UTC of the week 16 days before the newest tweet (see the docstring)."""
    newest = session.scalar(select(func.max(Tweet.created_at)))
    if newest is None:
        return EARLIEST
    back = newest.astimezone(UTC) - timedelta(days=16)
    monday = back.date() - timedelta(days=back.weekday())
    return datetime.combine(monday, time(), tzinfo=UTC)


def _chat_tweets(session: Session, chat: Chat, horizon: datetime) -> tuple[Any, ...]:
    """What a recent chat's counts depend on among the tweets since the horizon."""
    near = session.execute(
        select(func.count(Tweet.id), func.max(Tweet.updated_at)).where(
            Tweet.created_at >= chat.starts_at, Tweet.created_at <= chat.ends_at
        )
    ).one()
    between = session.scalar(
        select(func.count())
        .select_from(Tweet)
        .where(Tweet.created_at >= horizon, Tweet.created_at < chat.starts_at)
    )
    return (*near, between)


def _chat_shape(chat: Chat) -> tuple[Any, ...]:
    return (
        chat.id, chat.hashtag, chat.host, chat.starts_at, chat.ends_at, chat.topic,
        tuple((p.kind.value, p.number, p.tweet_id) for p in chat.posts),
    )  # fmt: skip


def _row(chat: Chat, stats: ChatStats, gaps: Sequence[Gap]) -> ChatRow:
    overlapping = tuple(
        g for g in gaps
        if g.hashtag.lower() == chat.hashtag.lower()
        and g.starts_at < chat.ends_at and g.ends_at > chat.starts_at
    )  # fmt: skip
    return ChatRow(
        chat_id=chat.id, hashtag=chat.hashtag, host=chat.host, topic=chat.topic,
        starts_at=chat.starts_at, ends_at=chat.ends_at, counts=stats.counts,
        previous=stats.previous, gaps=overlapping,
    )  # fmt: skip


def _fingerprint(session: Session, chats: Sequence[Chat]) -> Hashable:
    shape = tuple(_chat_shape(c) for c in chats)
    tweets = session.execute(
        select(func.count(), func.max(Tweet.created_at)).select_from(Tweet)
    ).one()
    users = session.execute(
        select(func.count(User.id), func.count(User.id).filter(hidden(User)))
    ).one()
    return (shape, tuple(tweets), tuple(users))
