"""Loading chat plans into the outbox: the idempotent upsert behind `schedule sync` and `queue add`.

The rules (what a sync may change, what it reports) are in bot/outbox.py's
docstring; import these names from there. Every change is reported as a one-line
sentence a host can read, e.g. "2026-12-02 #TraineeTalk Q3: text updated". A sync
that finds nothing to change writes nothing, so running it twice is harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.db import as_utc
from archive.models import ChatStatus, OutboxChat, OutboxPost, PostStatus, post_label
from bot.outbox_queue import UNSENT, duration_text, lock_for_write, utc_text

if TYPE_CHECKING:
    from bot.schedule_files import ChatPlan, PlannedPost

log = logging.getLogger(__name__)

_ORIGIN_NAMES = {"cli": "'tcbot queue add'", "web": "the web viewer"}


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What a sync did, as one-line sentences; clashes and kept_sent changed nothing."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    cancelled: tuple[str, ...] = ()
    kept_sent: tuple[str, ...] = ()  # sent (or being sent) posts whose text the plan changed
    clashes: tuple[str, ...] = ()  # chats queued from another origin, left alone

    @property
    def changed(self) -> bool:
        """True if the sync wrote anything."""
        return bool(self.added or self.updated or self.cancelled)


@dataclass(slots=True)
class _Lines:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    kept_sent: list[str] = field(default_factory=list)
    clashes: list[str] = field(default_factory=list)

    def report(self) -> SyncReport:
        return SyncReport(
            tuple(self.added),
            tuple(self.updated),
            tuple(self.cancelled),
            tuple(self.kept_sent),
            tuple(self.clashes),
        )


def origin_name(origin: str) -> str:
    """How to name an origin to a host: the file's path, or the command that queued it."""
    if origin.startswith("file:"):
        return origin.removeprefix("file:")
    return _ORIGIN_NAMES.get(origin, origin)


def sync_plans(
    session: Session, plans: Sequence[ChatPlan], *, origin: str, now: datetime
) -> SyncReport:
    """Make the outbox's chats of `origin` match `plans` (all of that origin's chats).

    Adds new chats and posts, updates unsent posts, never changes sent or sending
    ones, cancels the unsent posts of this origin's chats that `plans` no longer
    has (or marks skip), re-activates a cancelled chat that is back, and leaves a
    chat queued from another origin alone (a clash).
    """
    lock_for_write(session)
    lines = _Lines()
    wanted = set()
    for plan in plans:
        wanted.add((plan.series, plan.chat_date))
        _sync_chat(session, plan, origin=origin, now=now, lines=lines)
    active = select(OutboxChat).where(
        OutboxChat.origin == origin, OutboxChat.status == ChatStatus.ACTIVE
    )
    for chat in session.scalars(active.with_for_update()).all():
        if (chat.series, chat.chat_date) not in wanted:
            why = f"no longer in {origin_name(origin)}"
            _cancel_chat(session, chat, why=why, now=now, lines=lines)
    session.flush()
    return _logged(lines.report(), origin)


def add_chat(session: Session, plan: ChatPlan, *, origin: str, now: datetime) -> SyncReport:
    """Add (or update) one chat, as `tcbot queue add` does; other chats are not looked at."""
    lock_for_write(session)
    lines = _Lines()
    _sync_chat(session, plan, origin=origin, now=now, lines=lines)
    session.flush()
    return _logged(lines.report(), origin)


def _logged(report: SyncReport, origin: str) -> SyncReport:
    log.info(
        "synced %s: %d added, %d updated, %d cancelled, %d sent kept, %d clashes",
        origin, len(report.added), len(report.updated), len(report.cancelled),
        len(report.kept_sent), len(report.clashes),
    )  # fmt: skip
    return report


def _sync_chat(
    session: Session, plan: ChatPlan, *, origin: str, now: datetime, lines: _Lines
) -> None:
    query = select(OutboxChat).where(
        OutboxChat.series == plan.series, OutboxChat.chat_date == plan.chat_date
    )
    chat = session.scalars(
        query.with_for_update().execution_options(populate_existing=True)
    ).one_or_none()
    if chat is not None and chat.origin != origin:
        if chat.status is ChatStatus.ACTIVE or plan.skip:
            lines.clashes.append(
                f"{plan.chat_date} {plan.hashtag}: already queued from {origin_name(chat.origin)},"
                f" so the chat in {origin_name(origin)} is left out; remove one of the two"
            )
            return
        lines.updated.append(
            f"{plan.chat_date} {plan.hashtag}: taken over from {origin_name(chat.origin)},"
            " where it was cancelled"
        )
        chat.origin = origin  # a cancelled chat belongs to nobody: the new plan takes it
    if plan.skip:
        if chat is not None:
            why = f"marked skip in {origin_name(origin)}"
            _cancel_chat(session, chat, why=why, now=now, lines=lines)
        return
    if chat is None:
        _add_new_chat(session, plan, origin=origin, now=now, lines=lines)
        return
    revive = chat.status is ChatStatus.CANCELLED
    _update_chat(chat, plan, revive=revive, now=now, lines=lines)
    requeued = _sync_posts(session, chat, plan, revive=revive, now=now, lines=lines)
    if revive:
        lines.updated.append(
            f"{chat.chat_date} {chat.hashtag}: back in {origin_name(origin)}; "
            f"{requeued} cancelled post(s) queued again"
        )


def _add_new_chat(
    session: Session, plan: ChatPlan, *, origin: str, now: datetime, lines: _Lines
) -> None:
    chat = OutboxChat(
        series=plan.series,
        chat_date=plan.chat_date,
        topic=plan.topic,
        hashtag=plan.hashtag,
        starts_at=plan.starts_at,
        timezone=plan.timezone,
        origin=origin,
        status=ChatStatus.ACTIVE,
        created_at=now,
        updated_at=now,
    )
    session.add(chat)
    for planned in plan.posts:
        session.add(_new_post(chat, planned, now=now))
    lines.added.append(
        f"{plan.chat_date} {plan.hashtag}: new chat {plan.topic!r}, {len(plan.posts)} posts,"
        f" starting {utc_text(plan.starts_at)}"
    )


def _new_post(chat: OutboxChat, planned: PlannedPost, *, now: datetime) -> OutboxPost:
    return OutboxPost(
        chat=chat,
        series=chat.series,
        chat_date=chat.chat_date,
        kind=planned.kind,
        number=planned.number,
        text=planned.text,
        planned_at=as_utc(planned.due_at),
        due_at=as_utc(planned.due_at),
        status=PostStatus.QUEUED,
        attempts=0,
        thread=planned.thread,
        lateness_seconds=_seconds(planned),
        created_at=now,
        updated_at=now,
    )


def _seconds(planned: PlannedPost) -> int:
    return round(planned.lateness.total_seconds())


def _update_chat(
    chat: OutboxChat, plan: ChatPlan, *, revive: bool, now: datetime, lines: _Lines
) -> None:
    changes = []
    if chat.topic != plan.topic:
        chat.topic = plan.topic
        changes.append(f"topic now {plan.topic!r}")
    if chat.hashtag != plan.hashtag:
        chat.hashtag = plan.hashtag
        changes.append(f"hashtag now {plan.hashtag}")
    if chat.starts_at != plan.starts_at:
        chat.starts_at = as_utc(plan.starts_at)
        changes.append(f"starts {utc_text(chat.starts_at)}")
    if chat.timezone != plan.timezone:
        chat.timezone = plan.timezone
        changes.append(f"time zone now {plan.timezone}")
    if revive:
        chat.status = ChatStatus.ACTIVE
    if changes or revive:
        chat.updated_at = now
    if changes:
        lines.updated.append(f"{chat.chat_date} {chat.hashtag}: {', '.join(changes)}")


def _sync_posts(
    session: Session,
    chat: OutboxChat,
    plan: ChatPlan,
    *,
    revive: bool,
    now: datetime,
    lines: _Lines,
) -> int:
    """Bring the chat's posts in line with the plan; returns how many were queued again."""
    query = select(OutboxPost).where(OutboxPost.chat_id == chat.id)
    rows = session.scalars(query.with_for_update().execution_options(populate_existing=True))
    existing = {(post.kind, post.number): post for post in rows}
    name = f"{chat.chat_date} {chat.hashtag}"
    requeued = 0
    for planned in plan.posts:
        label = f"{name} {post_label(planned.kind, planned.number)}"
        post = existing.pop((planned.kind, planned.number), None)
        if post is None:
            session.add(_new_post(chat, planned, now=now))
            lines.added.append(f"{label}: added, due {utc_text(planned.due_at)}")
        elif revive and post.status is PostStatus.CANCELLED:
            _requeue(post, planned, now=now)
            requeued += 1
        else:
            _sync_post(post, planned, label=label, now=now, lines=lines)
    for post in existing.values():
        if post.status in UNSENT:
            post.status = PostStatus.CANCELLED
            post.updated_at = now
            lines.cancelled.append(
                f"{name} {post_label(post.kind, post.number)}: no longer in"
                f" {origin_name(chat.origin)}; cancelled"
            )
    return requeued


def _requeue(post: OutboxPost, planned: PlannedPost, *, now: datetime) -> None:
    post.status = PostStatus.QUEUED
    post.text = planned.text
    post.planned_at = as_utc(planned.due_at)
    post.due_at = as_utc(planned.due_at)
    post.not_before = None
    post.thread = planned.thread
    post.lateness_seconds = _seconds(planned)
    post.updated_at = now


def _sync_post(
    post: OutboxPost, planned: PlannedPost, *, label: str, now: datetime, lines: _Lines
) -> None:
    """Update an unsent post from its plan; report (and keep) a changed text of a sent one."""
    if post.status in (PostStatus.SENT, PostStatus.SENDING):
        if post.text != planned.text:
            state = "already sent" if post.status is PostStatus.SENT else "being sent"
            lines.kept_sent.append(f"{label}: {state}, so the changed text is not applied")
        return
    if post.status not in UNSENT:  # failed, missed, or cancelled by a host: final
        return
    changes = []
    if post.text != planned.text:
        post.text = planned.text
        changes.append("text updated")
    if post.planned_at != planned.due_at:
        shift = post.due_at - post.planned_at  # keep a re-anchoring already applied
        post.planned_at = as_utc(planned.due_at)
        post.due_at = post.planned_at + shift
        changes.append(f"now due {utc_text(post.due_at)}")
    if post.lateness_seconds != _seconds(planned):
        post.lateness_seconds = _seconds(planned)
        changes.append(f"lateness limit now {duration_text(post.lateness_seconds)}")
    if post.thread != planned.thread:
        post.thread = planned.thread
        changes.append("now in the thread" if planned.thread else "now outside the thread")
    if changes:
        post.updated_at = now
        lines.updated.append(f"{label}: {', '.join(changes)}")


def _cancel_chat(
    session: Session, chat: OutboxChat, *, why: str, now: datetime, lines: _Lines
) -> None:
    """Cancel the chat's unsent posts; a chat with nothing left to send is left as it is."""
    query = select(OutboxPost).where(OutboxPost.chat_id == chat.id, OutboxPost.status.in_(UNSENT))
    posts = session.scalars(query.with_for_update().execution_options(populate_existing=True)).all()
    if not posts:
        return
    for post in posts:
        post.status = PostStatus.CANCELLED
        post.updated_at = now
    chat.status = ChatStatus.CANCELLED
    chat.updated_at = now
    lines.cancelled.append(
        f"{chat.chat_date} {chat.hashtag}: {why}; {len(posts)} unsent post(s) cancelled"
    )
