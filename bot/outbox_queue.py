"""Posting from the outbox: miss what is too late, claim the next due post, record what happened.

The rules these functions carry out (lateness, re-anchoring, reply targets, thread
order) are set out in bot/outbox.py's docstring, which is also where the rest of
tcbot imports them from.

Claims are safe with two processes on one database. On PostgreSQL the candidate row
is read with ``SELECT ... FOR UPDATE SKIP LOCKED``, so a second claimer skips it; on
SQLite `lock_for_write` takes the database's write lock before anything is read, so
claimers run one after the other. Either way the UPDATE that claims a row is guarded
by the status and attempt count just read, and a claim that changed nothing hands
out nothing.

On SQLite, call these first in their transaction (or after other writes): a
transaction that has already read, and then finds another process wrote since,
cannot write any more and fails with "database is locked".
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, CursorResult, Select, and_, exists, or_, select, text, update
from sqlalchemy.orm import Session, aliased

from archive.models import ChatStatus, OutboxPost, PostKind, PostStatus, post_label
from bot.errors import TcbotError

log = logging.getLogger(__name__)

UNSENT = (PostStatus.QUEUED, PostStatus.HELD)
IN_PROGRESS = (PostStatus.QUEUED, PostStatus.HELD, PostStatus.SENDING)
FINISHED = (PostStatus.SENT, PostStatus.FAILED, PostStatus.MISSED, PostStatus.CANCELLED)
LIST_HINT = "'tcbot queue list' shows the posts and their numbers"


class OutboxError(TcbotError):
    """A post or chat that is not in the outbox, or a selector that names none."""


@dataclass(frozen=True, slots=True)
class Claimed:
    """A post claimed for sending: everything the sender needs, read in the claim."""

    id: int
    chat_id: int | None  # None for a welcome, an acknowledgement or a digest
    series: str
    chat_date: date
    kind: PostKind
    number: int
    text: str
    thread: bool
    due_at: datetime
    attempts: int  # including this one
    # A thread post: the latest SENT thread post of the chat before this one. A welcome or
    # an acknowledgement: the person's post it answers (reply_target).
    reply_to_x_id: str | None
    recovering: bool  # its earlier claim expired while SENDING: check X before re-sending
    # due_at + its lateness limit. A recovering post not found on X after this should
    # not be sent: record_retry it, and the next miss_overdue marks it missed.
    miss_after: datetime | None = None


# --- descriptions -------------------------------------------------------------------------


def describe(post: OutboxPost) -> str:
    """'2026-12-02 #TraineeTalk Q3': the chat's date and hashtag, and which post
    ('2026-12-02 welcome #4' for a post of no chat)."""
    if post.chat is None:
        return f"{post.chat_date} {post_label(post.kind, post.number)} #{post.id}"
    return f"{post.chat_date} {post.chat.hashtag} {post_label(post.kind, post.number)}"


def utc_text(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def duration_text(seconds: int) -> str:
    if seconds % 3600 == 0 and seconds:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0 and seconds:
        return f"{seconds // 60} min"
    return f"{seconds} s"


# --- locking --------------------------------------------------------------------------------


def lock_for_write(session: Session) -> None:
    """On SQLite, take the write lock now, as BEGIN IMMEDIATE would.

    What is read afterwards then stays true until the commit, because no other
    connection can write in between (it waits for its turn). A no-op UPDATE is the
    way to take the lock inside a transaction already begun. On PostgreSQL nothing
    is done here: rows are locked as they are read (FOR UPDATE).
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("UPDATE outbox_posts SET id = id WHERE 0"))


def locked_post(session: Session, post_id: int) -> OutboxPost:
    """The post `post_id`, freshly read and locked for this transaction."""
    query = (
        select(OutboxPost)
        .where(OutboxPost.id == post_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    post = session.scalars(query).one_or_none()
    if post is None:
        raise OutboxError(f"there is no post #{post_id} in the outbox", LIST_HINT)
    return post


def before(other: Any, post: Any) -> ColumnElement[bool]:
    """SQL: `other` comes before `post` in due order, (due_at, id).

    Each is the mapped class (or an alias of it) or one loaded row, whose values
    then become bound parameters (typed by the column they are compared with).
    """
    earlier_due: Any = other.due_at
    return or_(
        earlier_due < post.due_at,
        and_(earlier_due == post.due_at, other.id < post.id),
    )


# --- missing, claiming --------------------------------------------------------------------


def miss_overdue(session: Session, *, now: datetime) -> tuple[str, ...]:
    """Mark MISSED every queued post more than its lateness limit past its due time.

    A post deferred (not_before) past its limit is missed too. Returns one line per
    post missed, e.g. "2026-12-02 #TraineeTalk Q3: due 2026-12-02 20:30 UTC, not sent
    within 15 min", for alerts.
    """
    lock_for_write(session)
    query = (
        select(OutboxPost)
        .where(OutboxPost.status == PostStatus.QUEUED, OutboxPost.due_at < now)
        .order_by(OutboxPost.due_at, OutboxPost.id)
        .with_for_update(skip_locked=True, of=OutboxPost)
        .execution_options(populate_existing=True)
    )
    missed: list[str] = []
    for post in session.scalars(query).all():
        if now <= post.due_at + timedelta(seconds=post.lateness_seconds):
            continue
        limit = duration_text(post.lateness_seconds)
        post.status = PostStatus.MISSED
        post.last_error = f"missed: not sent within {limit} of its due time {utc_text(post.due_at)}"
        post.not_before = None
        post.updated_at = now
        missed.append(f"{describe(post)}: due {utc_text(post.due_at)}, not sent within {limit}")
        log.error("outbox post #%d missed (due %s)", post.id, post.due_at.isoformat())
    session.flush()
    return tuple(missed)


def claim_next(
    session: Session,
    *,
    holder: str,
    now: datetime,
    claim_for: timedelta,
    held_back: Callable[[Session, datetime], Collection[PostKind]] | None = None,
) -> Claimed | None:
    """Claim the earliest due post for `holder` until now + claim_for; None if none is due.

    Candidates, earliest (due_at, id) first: QUEUED posts due by `now` and not
    deferred past it, and SENDING posts whose claim has expired (recovering=True: the
    holder may have posted it before dying). A thread post waits while an earlier
    thread post of its chat is queued or sending. `held_back`, asked after the write
    lock is taken, names kinds of QUEUED post not to claim now (welcomes in quiet
    hours or over their caps). The claim sets SENDING, acquired_by/acquired_until and
    attempts + 1; commit it before calling X.
    """
    lock_for_write(session)
    waiting = tuple(held_back(session, now)) if held_back is not None else ()
    query = (
        _claimable(now, waiting)
        .limit(1)
        .with_for_update(skip_locked=True, of=OutboxPost)
        .execution_options(populate_existing=True)
    )
    post = session.scalars(query).first()
    if post is None:
        return None
    recovering = post.status is PostStatus.SENDING
    if not _take(session, post, holder=holder, now=now, until=now + claim_for):
        log.info("outbox post #%d was claimed elsewhere first", post.id)
        session.expire(post)
        return None
    claimed = Claimed(
        id=post.id,
        chat_id=post.chat_id,
        series=post.series,
        chat_date=post.chat_date,
        kind=post.kind,
        number=post.number,
        text=post.text,
        thread=post.thread,
        due_at=post.due_at,
        attempts=post.attempts + 1,
        reply_to_x_id=_reply_target(session, post) if post.thread else post.reply_target,
        recovering=recovering,
        miss_after=post.due_at + timedelta(seconds=post.lateness_seconds),
    )
    session.expire(post)  # the UPDATE changed it behind the ORM's back
    log.info(
        "outbox post #%d claimed by %s (attempt %d%s)",
        claimed.id, holder, claimed.attempts, ", recovering" if recovering else "",
    )  # fmt: skip
    return claimed


def _take(
    session: Session, post: OutboxPost, *, holder: str, now: datetime, until: datetime
) -> bool:
    """Claim `post` only if it is still as read (same status, same attempt count)."""
    claim = (
        update(OutboxPost)
        .where(
            OutboxPost.id == post.id,
            OutboxPost.status == post.status,
            OutboxPost.attempts == post.attempts,
        )
        .values(
            status=PostStatus.SENDING,
            acquired_by=holder,
            acquired_until=until,
            attempts=OutboxPost.attempts + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    result = session.execute(claim)
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


def _claimable(now: datetime, held_back: Sequence[PostKind] = ()) -> Select[OutboxPost]:
    earlier = aliased(OutboxPost)
    waits = exists().where(
        OutboxPost.thread.is_(True),
        earlier.chat_id == OutboxPost.chat_id,
        earlier.thread.is_(True),
        earlier.status.in_((PostStatus.QUEUED, PostStatus.SENDING)),
        before(earlier, OutboxPost),
    )
    due = and_(
        OutboxPost.status == PostStatus.QUEUED,
        OutboxPost.due_at <= now,
        or_(OutboxPost.not_before.is_(None), OutboxPost.not_before <= now),
    )
    if held_back:
        due = and_(due, OutboxPost.kind.not_in(held_back))
    expired = and_(OutboxPost.status == PostStatus.SENDING, OutboxPost.acquired_until < now)
    return (
        select(OutboxPost)
        .where(or_(due, expired), ~waits)
        .order_by(OutboxPost.due_at, OutboxPost.id)
    )


def _reply_target(session: Session, post: OutboxPost) -> str | None:
    """x_id of the latest SENT thread post of the chat before `post`, in due order."""
    if not post.thread:
        return None
    earlier = aliased(OutboxPost)
    query = (
        select(earlier.x_id)
        .where(
            earlier.chat_id == post.chat_id,
            earlier.thread.is_(True),
            earlier.status == PostStatus.SENT,
            earlier.x_id.is_not(None),
            before(earlier, post),
        )
        .order_by(earlier.due_at.desc(), earlier.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


# --- recording ------------------------------------------------------------------------------


def record_sent(
    session: Session, post_id: int, *, x_id: str, replied_to_x_id: str | None, at: datetime
) -> None:
    """Record that X has the post as `x_id`; then re-anchor the rest of the chat if it was late.

    X is the truth: a post not in SENDING (its claim taken over, say) is recorded as
    sent all the same, with a warning. A post already recorded as sent keeps its
    first x_id (a second x_id means X has it twice: logged as an error).
    """
    lock_for_write(session)
    post = locked_post(session, post_id)
    if post.status is PostStatus.SENT:
        if post.x_id != x_id:
            log.error("outbox post #%d is on X twice: %s and %s", post.id, post.x_id, x_id)
        return
    if post.status is not PostStatus.SENDING:
        log.warning("outbox post #%d was %s, not sending, when X took it", post.id, post.status)
    post.status = PostStatus.SENT
    post.x_id = x_id
    post.replied_to_x_id = replied_to_x_id
    post.sent_at = at
    post.acquired_until = None
    post.not_before = None
    post.updated_at = at
    if post.thread and at > post.due_at:
        _reanchor(session, post, delay=at - post.due_at, at=at)
    session.flush()


def _reanchor(session: Session, sent: OutboxPost, *, delay: timedelta, at: datetime) -> None:
    """Move the chat's later unsent thread posts `delay` later; planned_at stays."""
    later = aliased(OutboxPost)
    query = (
        select(later)
        .where(
            later.chat_id == sent.chat_id,
            later.thread.is_(True),
            later.status.in_(UNSENT),
            before(sent, later),
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    moved = session.scalars(query).all()
    for post in moved:
        post.due_at = post.due_at + delay
        post.updated_at = at
    if moved:
        log.info(
            "outbox post #%d went out %s late: %d later thread posts moved as much",
            sent.id, delay, len(moved),
        )  # fmt: skip


def record_retry(
    session: Session,
    post_id: int,
    *,
    error: str,
    not_before: datetime,
    at: datetime | None = None,
) -> None:
    """Put a SENDING post back in the queue, not to be tried before `not_before`.

    `at` (when the attempt failed) becomes updated_at; left as it was without it. A
    post no longer SENDING is left alone (logged). A post whose chat was cancelled
    while it was being sent is cancelled now rather than queued again.
    """
    lock_for_write(session)
    post = locked_post(session, post_id)
    if post.status is not PostStatus.SENDING:
        log.warning("outbox post #%d is %s, not sending: retry not recorded", post.id, post.status)
        return
    cancelled = post.chat is not None and post.chat.status is ChatStatus.CANCELLED
    post.status = PostStatus.CANCELLED if cancelled else PostStatus.QUEUED
    post.last_error = error
    post.not_before = not_before
    post.acquired_until = None
    if at is not None:
        post.updated_at = at
    session.flush()


def record_failed(session: Session, post_id: int, *, error: str, at: datetime) -> None:
    """Mark a SENDING post FAILED for good; a post no longer SENDING is left alone (logged)."""
    lock_for_write(session)
    post = locked_post(session, post_id)
    if post.status is not PostStatus.SENDING:
        log.warning(
            "outbox post #%d is %s, not sending: failure not recorded", post.id, post.status
        )
        return
    post.status = PostStatus.FAILED
    post.last_error = error
    post.acquired_until = None
    post.updated_at = at
    session.flush()
