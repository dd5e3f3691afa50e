"""archive.usage: counting X API requests and totalling them over a period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.models import ApiUsage, HttpMethod
from archive.usage import UsageSummary, record_api_call, usage_between

START = datetime(2026, 8, 20, 19, 0, tzinfo=UTC)
END = START + timedelta(hours=1)


def _call(
    session: Session,
    at: datetime,
    *,
    method: HttpMethod = HttpMethod.GET,
    posts_read: int = 0,
    users_read: int = 0,
    posts_created: int = 0,
    status: int | None = 200,
    error: str | None = None,
) -> None:
    record_api_call(
        session,
        at=at,
        method=method,
        endpoint="GET /2/tweets/search/recent" if method is HttpMethod.GET else "POST /2/tweets",
        status=status,
        posts_read=posts_read,
        users_read=users_read,
        posts_created=posts_created,
        error=error,
    )


def test_usage_between_totals_the_calls_in_the_period(session: Session) -> None:
    _call(session, START, posts_read=100, users_read=40)
    _call(session, START + timedelta(minutes=30), method=HttpMethod.POST, posts_created=1)
    _call(session, END - timedelta(microseconds=1), posts_read=7, users_read=3)
    _call(session, END, posts_read=1000)  # the end is exclusive
    _call(session, START - timedelta(seconds=1), posts_read=1000)
    assert usage_between(session, START, END) == UsageSummary(
        requests=3, posts_read=107, users_read=43, posts_created=1
    )


def test_usage_between_empty_period_is_all_zero(session: Session) -> None:
    _call(session, START - timedelta(days=1), posts_read=10)
    assert usage_between(session, START, END) == UsageSummary(0, 0, 0, 0)


def test_usage_between_accepts_any_time_zone(session: Session) -> None:
    _call(session, START + timedelta(minutes=1), posts_read=5)
    london = START.astimezone(ZoneInfo("Europe/London"))
    assert usage_between(session, london, END).posts_read == 5


def test_record_api_call_keeps_failures_without_a_status(session: Session) -> None:
    _call(session, START, status=None, error="connection reset")
    session.commit()
    session.expire_all()
    row = session.scalars(select(ApiUsage)).one()
    assert (row.method, row.status, row.error, row.at) == (
        HttpMethod.GET,
        None,
        "connection reset",
        START,
    )
    assert usage_between(session, START, END).requests == 1
