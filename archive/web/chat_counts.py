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
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

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

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[Hashable, Any] = {}

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._values:
                return self._values[key]
        value = compute()  # (outside the lock: two threads may both compute; both are right)
        with self._lock:
            self._values[key] = value
            while len(self._values) > KEPT:
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
    compute: Callable[[], list[ChatRow]] = lambda: _rows(session, chats, include_protected)
    if cache is None:
        return compute()
    rows: list[ChatRow] = cache.get(key, compute)
    return rows


def _rows(session: Session, chats: Sequence[Chat], include_protected: bool) -> list[ChatRow]:
    stats = {
        s.chat_id: s
        for s in chat_stats(
            session, since=EARLIEST, until=LATEST, include_protected=include_protected
        )
    }
    gaps = gaps_overlapping(
        session, hashtag=None, starts_at=min(c.starts_at for c in chats),
        ends_at=max(c.ends_at for c in chats),
    )  # fmt: skip
    return [_row(chat, stats[chat.id], gaps) for chat in chats if chat.id in stats]


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
    shape = tuple(
        (c.id, c.hashtag, c.host, c.starts_at, c.ends_at, c.topic,
         tuple((p.kind.value, p.number, p.tweet_id) for p in c.posts))
        for c in chats
    )  # fmt: skip
    tweets = session.execute(select(func.count(Tweet.id), func.max(Tweet.created_at))).one()
    users = session.execute(
        select(func.count(User.id), func.count(User.id).filter(hidden(User)))
    ).one()
    return (shape, tuple(tweets), tuple(users))
