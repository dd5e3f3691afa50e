"""Collection gaps: time a hashtag's polling could not cover, kept so nobody trusts a hole.

X's recent search reaches back 7 days. A poll whose cursor has fallen further behind
(the bot was stopped for a week, say) starts from the oldest moment the window
allows, and the time in between is recorded here; so is the time a poll had to
leave unread because it hit its page limit. `tcbot status` lists recent gaps and
a chat's transcript shows those that overlap it.

X ids are snowflakes: the creation time is in the id (`id_time`), which is how a
cursor's age is known without another request.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from archive.db import as_utc
from archive.models import CollectionGap
from archive.transcripts import Gap

log = logging.getLogger(__name__)

__all__ = ["gaps_overlapping", "id_time", "recent_gaps", "record_gap"]

TWITTER_EPOCH_MS = 1288834974657  # X's snowflake epoch (2010-11-04T01:42:54.657Z)
SEQUENCE_BITS = 22


def id_time(x_id: str) -> datetime:
    """When the post with this X id was created (to the millisecond), from the id itself."""
    ms = (int(x_id) >> SEQUENCE_BITS) + TWITTER_EPOCH_MS
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)


def record_gap(
    session: Session, *, hashtag: str, starts_at: datetime, ends_at: datetime, now: datetime
) -> Gap | None:
    """Record that `hashtag` was not collected from `starts_at` to `ends_at`; does not commit.

    Nothing is recorded for an empty or backwards stretch (None then).
    """
    if ends_at <= starts_at:
        return None
    session.add(
        CollectionGap(
            hashtag=hashtag, starts_at=as_utc(starts_at), ends_at=as_utc(ends_at),
            recorded_at=as_utc(now),
        )
    )  # fmt: skip
    session.flush()
    log.warning("collection gap on %s: %s to %s not collected", hashtag, starts_at, ends_at)
    return Gap(starts_at=as_utc(starts_at), ends_at=as_utc(ends_at), hashtag=hashtag)


def gaps_overlapping(
    session: Session, *, hashtag: str | None, starts_at: datetime, ends_at: datetime
) -> list[Gap]:
    """Gaps (of `hashtag`, any case; of every hashtag when None) overlapping the stretch."""
    query = select(CollectionGap).where(
        CollectionGap.starts_at < as_utc(ends_at), CollectionGap.ends_at > as_utc(starts_at)
    )
    gaps = _gaps(session, query)
    if hashtag is None:
        return gaps
    return [gap for gap in gaps if gap.hashtag.lower() == hashtag.lower()]


def recent_gaps(session: Session, *, since: datetime) -> list[Gap]:
    """Gaps recorded since `since`, oldest first (for `tcbot status`)."""
    return _gaps(session, select(CollectionGap).where(CollectionGap.recorded_at >= as_utc(since)))


def _gaps(session: Session, query: Select[CollectionGap]) -> list[Gap]:
    """The gaps `query` selects, oldest first."""
    ordered = query.order_by(CollectionGap.starts_at, CollectionGap.id)
    return [
        Gap(starts_at=row.starts_at, ends_at=row.ends_at, hashtag=row.hashtag)
        for row in session.scalars(ordered)
    ]
