"""`/status`: is it working? The next posts in the outbox, recent failures and missed posts,
collection gaps, whether a poster is running, and X API usage (and cost) this month.

Read-only, like `tcbot status` (bot/status.py), which it follows: the month is the
calendar month in UTC, as X bills it. The cost is shown only when the app carries
X's prices (`app.state.prices`, bot/config.Prices); otherwise counts alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload
from starlette.requests import Request
from starlette.responses import Response

from archive.gaps import recent_gaps
from archive.models import Lease, OutboxPost, PostStatus, post_label
from archive.usage import UsageSummary, usage_between
from archive.web.reading import current_time, read_session, render, state_value

__all__ = ["status_page"]

NEXT_SHOWN = 10
PROBLEMS_SHOWN = 10
PROBLEMS_SINCE = timedelta(days=30)
GAPS_SINCE = timedelta(days=30)
UNSENT = (PostStatus.QUEUED, PostStatus.HELD, PostStatus.SENDING)
PROBLEMS = (PostStatus.FAILED, PostStatus.MISSED)


@dataclass(frozen=True, slots=True)
class Cost:
    dollars: float


def month_start(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _posts(session: Session, now: datetime) -> tuple[list[OutboxPost], list[OutboxPost]]:
    upcoming = session.scalars(
        select(OutboxPost).options(selectinload(OutboxPost.chat))
        .where(OutboxPost.status.in_(UNSENT))
        .order_by(OutboxPost.due_at, OutboxPost.id).limit(NEXT_SHOWN)
    ).all()  # fmt: skip
    problems = session.scalars(
        select(OutboxPost).options(selectinload(OutboxPost.chat))
        .where(OutboxPost.due_at >= now - PROBLEMS_SINCE)
        .where(or_(OutboxPost.status.in_(PROBLEMS),
                   OutboxPost.status.in_(UNSENT) & OutboxPost.last_error.is_not(None)))
        .order_by(OutboxPost.due_at.desc(), OutboxPost.id.desc()).limit(PROBLEMS_SHOWN)
    ).all()  # fmt: skip
    return list(upcoming), list(problems)


def _cost(request: Request, usage: UsageSummary) -> Cost | None:
    prices = state_value(request, "prices")
    try:
        dollars = (
            usage.posts_read * float(prices.post_read)
            + usage.users_read * float(prices.user_read)
            + usage.posts_created * float(prices.post_create)
        )
    except (AttributeError, TypeError, ValueError):
        return None
    return Cost(dollars)


def status_page(request: Request) -> Response:
    now = current_time(request)
    start = month_start(now)
    with read_session(request) as session:
        upcoming, problems = _posts(session, now)
        usage = usage_between(session, start, (start + timedelta(days=32)).replace(day=1))
        gaps = recent_gaps(session, since=now - GAPS_SINCE)
        lease = session.scalar(select(Lease).where(Lease.name == "poster"))
    return render(request, "status.html", {
        "now": now,
        "upcoming": upcoming,
        "problems": problems,
        "label": post_label,
        "usage": usage,
        "cost": _cost(request, usage),
        "month": f"{start:%B %Y}",
        "gaps": gaps,
        "poster_running": lease is not None and lease.expires_at >= now,
        "poster": lease.holder if lease is not None else "",
        "retrying": PostStatus.QUEUED,
    })  # fmt: skip
