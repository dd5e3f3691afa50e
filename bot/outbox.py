"""The outbox: every post the bot is to make, in the database, and the rules it keeps.

Note on the issue-3 contract: names and semantics are as agreed, with additions.
claim_next also keeps a thread in order (a thread post waits while an earlier
thread post of its chat is queued or sending; see "Order" below). Optional extras:
`at=` on record_retry/hold/release/cancel (becomes updated_at), `measure=` on
list_queue, more QueueRow fields (planned_at, not_before, thread, hashtag,
timezone), and archive.models.ChatStatus for outbox_chats.status.

The outbox is the only queue. A chat (outbox_chats) has its posts (outbox_posts),
each keyed by (series, chat date, kind, number) under a unique constraint, with a
status: queued, held, sending, sent, failed, missed or cancelled. This module
loads schedule plans into it (`sync_plans`, `add_chat`), lists it (`list_queue`)
and lets a host act on it (`select_posts`, `hold`, `release`, `cancel`). Posting
from it (`miss_overdue`, `claim_next`, `record_sent`, `record_retry`,
`record_failed`, `Claimed`) lives in bot/outbox_queue.py and syncing in
bot/outbox_sync.py; import everything from here. Every function works in the
caller's transaction and does not commit.

How a late chat behaves
-----------------------
- Every post has a planned time (what the schedule file says) and a due time (when
  it is due now). They start equal. The planned time changes only when the file
  changes it; the due time also moves when the chat is re-anchored.
- Lateness is measured against the due time. A post still not sent more than its
  lateness limit after its due time (by default 15 minutes for the intro, the
  questions and the closing, 2 hours for reminders) is marked missed and never
  posted. A post deferred after a rate limit or an error is missed the same way
  if the deferral takes it past its limit.
- Re-anchoring: when a thread post (the intro, a question or the closing) goes
  out late, by d = the time it was sent - its due time, every later thread post of
  the same chat not yet sent (queued or held) becomes due d later. The spacing
  from what actually went out is kept: Q3 still comes one interval after Q2 went
  out. Reminders are not thread posts: they never move, and never move others. A
  missed or failed post moves nothing.
- Replies: each thread post replies to the latest thread post of its chat that
  was sent before it in due order. So if Q2 failed or was missed, Q3 replies to
  Q1 (or to the intro); a thread post with nothing sent before it starts a new
  thread.
- Order: a thread post waits while an earlier thread post of its chat is still
  queued (deferred after a rate limit, say) or being sent, so the thread never
  goes out of order. Held posts do not hold up the rest.

Example: Q1 is due 20:10, Q2 20:20, Q3 20:30. X is down from 20:08 and Q1 goes
out at 20:14, 4 minutes late: Q2 becomes due 20:24 and Q3 20:34. Had X stayed
down until 20:26, Q1 would have been missed (more than 15 minutes late), Q2 would
have gone out at 20:26 (6 minutes late, replying to the intro) and Q3 at 20:36.

Syncing a schedule file
-----------------------
`sync_plans` is idempotent: running it again with the same plans changes nothing
(not even updated_at). A post not yet sent follows the file (text, due time; a
held post stays held); a post sent or being sent is never changed, and a changed
text for it is reported. A chat of this origin gone from the plans, or marked
skip, has its unsent posts cancelled (reported); if it comes back, its cancelled
posts are queued again. A chat queued from elsewhere (another file, `tcbot queue
add`) is never touched: it is reported as a clash.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import CursorResult, func, or_, select, update
from sqlalchemy.orm import Session

from archive.models import OutboxChat, OutboxPost, PostKind, PostStatus, post_label
from bot.outbox_queue import (
    FINISHED,
    IN_PROGRESS,
    LIST_HINT,
    UNSENT,
    Claimed,
    OutboxError,
    claim_next,
    lock_for_write,
    miss_overdue,
    record_failed,
    record_retry,
    record_sent,
)
from bot.outbox_sync import SyncReport, add_chat, sync_plans

__all__ = [
    "FINISHED",
    "IN_PROGRESS",
    "RECENTLY_FINISHED",
    "UNSENT",
    "Claimed",
    "OutboxError",
    "QueueRow",
    "SyncReport",
    "add_chat",
    "cancel",
    "claim_next",
    "hold",
    "list_queue",
    "miss_overdue",
    "post_label",
    "record_failed",
    "record_retry",
    "record_sent",
    "release",
    "select_posts",
    "sync_plans",
]

log = logging.getLogger(__name__)

RECENTLY_FINISHED = timedelta(hours=24)  # list_queue shows finished posts this recent
SELECTOR_HELP = (
    "name a chat by its date (2026-12-02), by series and date (traineetalk:2026-12-02), "
    "or one post by its number (#12); " + LIST_HINT
)
_POST_NUMBER = re.compile(r"#?(\d+)")
_CHAT = re.compile(r"(?:(?P<series>[A-Za-z0-9_-]+):)?(?P<day>\d{4}-\d{2}-\d{2})")


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One outbox post as `tcbot queue list` and `tcbot status` show it."""

    id: int
    series: str
    chat_date: date
    kind: PostKind
    number: int
    text: str
    due_at: datetime
    status: PostStatus
    attempts: int
    last_error: str | None
    x_id: str | None
    planned_at: datetime
    not_before: datetime | None
    thread: bool
    hashtag: str  # the chat's; "" for a post of no chat (a welcome, say)
    timezone: str  # the chat's, for showing local times ("UTC" for a post of no chat)
    weighted_length: int | None = None  # filled in when list_queue is given `measure`


def list_queue(
    session: Session,
    *,
    now: datetime,
    include_finished: bool = False,
    measure: Callable[[str], int] | None = None,
) -> list[QueueRow]:
    """The outbox in due order (due_at, id).

    Without include_finished: every post not finished (queued, held, sending), and
    finished ones (sent, failed, missed, cancelled) due in the last 24 hours, so a
    host sees how today's chat went. `measure` (e.g. thread_text.weighted_length)
    fills in each row's weighted_length.
    """
    query = (
        select(
            OutboxPost,
            func.coalesce(OutboxChat.hashtag, ""),
            func.coalesce(OutboxChat.timezone, "UTC"),
        )
        .outerjoin(OutboxPost.chat)
        .order_by(OutboxPost.due_at, OutboxPost.id)
    )
    if not include_finished:
        query = query.where(
            or_(
                OutboxPost.status.in_(IN_PROGRESS),
                OutboxPost.due_at >= now - RECENTLY_FINISHED,
            )
        )
    return [
        _queue_row(post, hashtag=hashtag, timezone=timezone, measure=measure)
        for post, hashtag, timezone in session.execute(query)
    ]


def _queue_row(
    post: OutboxPost, *, hashtag: str, timezone: str, measure: Callable[[str], int] | None
) -> QueueRow:
    return QueueRow(
        id=post.id,
        series=post.series,
        chat_date=post.chat_date,
        kind=post.kind,
        number=post.number,
        text=post.text,
        due_at=post.due_at,
        status=post.status,
        attempts=post.attempts,
        last_error=post.last_error,
        x_id=post.x_id,
        planned_at=post.planned_at,
        not_before=post.not_before,
        thread=post.thread,
        hashtag=hashtag,
        timezone=timezone,
        weighted_length=measure(post.text) if measure is not None else None,
    )


def select_posts(session: Session, selector: str) -> list[OutboxPost]:
    """The posts a host names, in due order; OutboxError if it names none.

    "2026-12-02": every post of the chats on that date (any series; not the welcomes,
    acknowledgements or digests queued that day); "traineetalk:2026-12-02": that series'
    chat ("welcome:2026-12-02": the welcomes queued that day); "#12" (or "12"): post 12.
    """
    wanted = selector.strip()
    if number := _POST_NUMBER.fullmatch(wanted):
        post = session.get(OutboxPost, int(number.group(1)))
        if post is None:
            raise OutboxError(f"there is no post #{number.group(1)} in the outbox", LIST_HINT)
        return [post]
    chat = _CHAT.fullmatch(wanted)
    if chat is None:
        raise OutboxError(f"{selector!r} names no chat or post", SELECTOR_HELP)
    try:
        day = date.fromisoformat(chat.group("day"))
    except ValueError as exc:
        raise OutboxError(
            f"{chat.group('day')} in {selector!r} is not a date", SELECTOR_HELP
        ) from exc
    query = select(OutboxPost).where(OutboxPost.chat_date == day)
    series = chat.group("series")
    if series is not None:
        query = query.where(OutboxPost.series == series)
    else:  # a date names chats: welcomes and digests are named by number or series
        query = query.where(OutboxPost.chat_id.is_not(None))
    posts = list(session.scalars(query.order_by(OutboxPost.due_at, OutboxPost.id)))
    if not posts:
        which = f"of the series {series!r} " if series else ""
        raise OutboxError(f"no chat {which}on {day} is in the outbox", LIST_HINT)
    return posts


def hold(session: Session, selector: str, *, at: datetime | None = None) -> int:
    """Hold the queued posts `selector` names (not posted until released); returns how many."""
    return _change(session, selector, only=(PostStatus.QUEUED,), to=PostStatus.HELD, at=at)


def release(session: Session, selector: str, *, at: datetime | None = None) -> int:
    """Queue again the held posts `selector` names; returns how many."""
    return _change(session, selector, only=(PostStatus.HELD,), to=PostStatus.QUEUED, at=at)


def cancel(session: Session, selector: str, *, at: datetime | None = None) -> int:
    """Cancel the unsent (queued or held) posts `selector` names; returns how many.

    A sync does not bring them back while their chat stays in its file.
    """
    return _change(session, selector, only=UNSENT, to=PostStatus.CANCELLED, at=at)


def _change(
    session: Session,
    selector: str,
    *,
    only: Sequence[PostStatus],
    to: PostStatus,
    at: datetime | None,
) -> int:
    """Set status `to` on the named posts that are in a status of `only`; `at` -> updated_at."""
    lock_for_write(session)
    ids = [post.id for post in select_posts(session, selector)]
    values: dict[str, object] = {"status": to}
    if at is not None:
        values["updated_at"] = at
    statement = (
        update(OutboxPost)
        .where(OutboxPost.id.in_(ids), OutboxPost.status.in_(only))
        .values(values)
        .execution_options(synchronize_session="fetch")
    )
    result = session.execute(statement)
    assert isinstance(result, CursorResult)
    log.info("%s: %d of %d posts set %s", selector, result.rowcount, len(ids), to.value)
    return result.rowcount
