"""`tcbot status`: what ran, what is next, what went wrong, and what X cost this month.

Reads only; built for a host who wants to know "is it working?" at a glance.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.gaps import recent_gaps
from archive.models import Chat, Lease, OptOut, OutboxPost, PostKind, PostStatus
from archive.usage import usage_between, usage_for
from bot import outbox
from bot.chat_commands import when
from bot.config import Settings
from bot.outbox import post_label
from bot.welcome_commands import bot_welcomes, waiting_count
from bot.x_usage import chat_purpose, outbox_chat_purpose

Echo = Callable[[str], None]
NEXT_SHOWN = 5
RECENT_SHOWN = 5
CHAT_COSTS_SINCE = timedelta(days=35)
GAPS_SINCE = timedelta(days=30)
PROBLEMS = (PostStatus.FAILED, PostStatus.MISSED)


def month_start(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month(start: datetime) -> datetime:
    return (start + timedelta(days=32)).replace(day=1)


def show(session: Session, *, settings: Settings, now: datetime, echo: Echo) -> None:
    """Print the whole status report."""
    zone = settings.timezone
    echo(f"tcbot status at {when(now, zone)}")
    _poster(session, now=now, echo=echo)
    rows = outbox.list_queue(session, now=now, include_finished=True)
    upcoming = [
        r for r in rows if r.status in (PostStatus.QUEUED, PostStatus.HELD, PostStatus.SENDING)
    ]
    sent = [r for r in rows if r.status is PostStatus.SENT]
    problems = [r for r in rows if r.status in PROBLEMS or (r.last_error and r in upcoming)]
    echo("\nNext posts:" if upcoming else "\nNext posts: none queued")
    for row in upcoming[:NEXT_SHOWN]:
        echo(f"  #{row.id} {when(row.due_at, zone)} {row.chat_date} {post_label(row.kind, row.number)}"
             f" ({row.status.value})")  # fmt: skip
    if sent:
        echo("\nRecently sent:")
        for row in sent[-RECENT_SHOWN:]:
            echo(
                f"  #{row.id} {row.chat_date} {post_label(row.kind, row.number)} -> X id {row.x_id}"
            )
    echo("\nProblems:" if problems else "\nProblems: none")
    for row in problems:
        state = "waiting to retry" if row in upcoming else row.status.value
        echo(f"  #{row.id} {row.chat_date} {post_label(row.kind, row.number)} {state}:"
             f" {row.last_error or 'no details'}")  # fmt: skip
    _usage(session, settings=settings, now=now, echo=echo)
    _chat_costs(session, settings=settings, now=now, echo=echo)
    _gaps(session, settings=settings, now=now, echo=echo)
    _welcomes(session, settings=settings, now=now, echo=echo)


def _poster(session: Session, *, now: datetime, echo: Echo) -> None:
    lease = session.scalar(select(Lease).where(Lease.name == "poster"))
    if lease is None or lease.expires_at < now:
        echo("Poster: no 'tcbot run' is running; start one to post on time.")
    else:
        echo(f"Poster: 'tcbot run' is running ({lease.holder}).")


def _usage(session: Session, *, settings: Settings, now: datetime, echo: Echo) -> None:
    start = month_start(now)
    usage = usage_between(session, start, next_month(start))
    cost = settings.prices.cost(
        posts_read=usage.posts_read, users_read=usage.users_read, posts_created=usage.posts_created
    )
    echo(
        f"\nX API since {start:%d %b %Y}: {usage.requests} requests, {usage.posts_read} posts"
        f" read, {usage.users_read} profiles read, {usage.posts_created} posts created;"
        f" about ${cost:.2f} at pay-per-use prices"
    )


def _chat_costs(session: Session, *, settings: Settings, now: datetime, echo: Echo) -> None:
    """What each recent chat cost: its posts, its polls during the window and late sweeps."""
    chats = session.scalars(
        select(Chat).where(Chat.starts_at >= now - CHAT_COSTS_SINCE).order_by(Chat.starts_at)
    ).all()
    if not chats:
        return
    echo("\nWhat each chat cost (posting, collecting during the chat, late replies):")
    for chat in chats:
        purposes = [chat_purpose(chat.id)]
        if chat.outbox_chat_id is not None:
            purposes.append(outbox_chat_purpose(chat.outbox_chat_id))
        usage = usage_for(session, purposes)
        cost = settings.prices.cost(
            posts_read=usage.posts_read, users_read=usage.users_read,
            posts_created=usage.posts_created,
        )  # fmt: skip
        echo(
            f"  chat {chat.id} {when(chat.starts_at, settings.timezone)} {chat.hashtag}:"
            f" {usage.requests} requests, {usage.posts_read} posts read,"
            f" {usage.posts_created} posts created; about ${cost:.2f}"
        )


def _gaps(session: Session, *, settings: Settings, now: datetime, echo: Echo) -> None:
    """Time the tracker could not collect, recorded in the last 30 days."""
    gaps = recent_gaps(session, since=now - GAPS_SINCE)
    if not gaps:
        echo("\nCollection: no gaps in the last 30 days")
        return
    echo("\nCollection gaps (posts from these times could not be read from X):")
    for gap in gaps:
        zone = settings.timezone
        echo(f"  {gap.hashtag}: {when(gap.starts_at, zone)} to {when(gap.ends_at, zone)}")


WELCOME_KINDS = (PostKind.WELCOME, PostKind.ACK, PostKind.DIGEST)


def _welcomes(session: Session, *, settings: Settings, now: datetime, echo: Echo) -> None:
    """This month's welcome posts and their cost, the organisers' list, the replies
    waiting, opt-outs in force, and whether the dry run holds replies back."""
    start = month_start(now)
    sent = session.scalar(
        select(func.count()).where(
            OutboxPost.kind.in_(WELCOME_KINDS), OutboxPost.status == PostStatus.SENT,
            OutboxPost.sent_at >= start, OutboxPost.sent_at < next_month(start),
        )
    )  # fmt: skip
    posts = int(sent or 0)
    cost = settings.prices.cost(posts_read=0, users_read=0, posts_created=posts)
    bot = bot_welcomes(session)
    opt_outs = session.scalar(select(func.count()).where(OptOut.removed_at.is_(None)))
    dry_run = "on: welcome replies are held for review" if settings.welcome_dry_run else "off"
    echo(f"\nWelcomes (dry run {dry_run}):")
    echo(f"  since {start:%d %b %Y}: {_count(posts, 'welcome post')} sent (welcomes, replies to"
         f" opt-outs, digests); about ${cost:.2f}")  # fmt: skip
    waiting = _count(waiting_count(session), "person", "people")
    echo(f"  {waiting} waiting on the organisers' list (tcbot welcomes list)")
    digests = ""
    if bot.digests_held:
        digests = f"; {_count(bot.digests_held, 'weekly digest')} held for review"
    echo(f"  welcome replies: {bot.queued} queued, {bot.held} held{digests}")
    echo(f"  {_count(int(opt_outs or 0), 'opt-out')} in force (tcbot optout list)")


def _count(number: int, singular: str, plural: str = "") -> str:
    return f"{number:,} {singular if number == 1 else plural or singular + 's'}"
