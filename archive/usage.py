"""API usage: one row per request to X, and totals over a period.

Reads are paid per post returned and posts per post created, so every request is
counted with what it read and created; `usage_between` answers "what did this
chat (or this month) cost?". Recording happens in the caller's transaction: to
count a request whose other writes roll back, record it in a transaction of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from archive.db import as_utc
from archive.models import ApiUsage, HttpMethod


@dataclass(frozen=True, slots=True)
class UsageSummary:
    """Totals over a period: requests made, posts and users read, posts created."""

    requests: int
    posts_read: int
    users_read: int
    posts_created: int


def record_api_call(
    session: Session,
    *,
    at: datetime,
    method: HttpMethod,
    endpoint: str,
    status: int | None,
    posts_read: int,
    users_read: int,
    posts_created: int,
    error: str | None,
    purpose: str | None = None,
) -> None:
    """Count one request; `status` is None when no response came back. Does not commit."""
    session.add(
        ApiUsage(
            at=as_utc(at),
            method=method,
            endpoint=endpoint,
            status=status,
            posts_read=posts_read,
            users_read=users_read,
            posts_created=posts_created,
            error=error,
            purpose=purpose,
        )
    )
    session.flush()


def usage_between(session: Session, start: datetime, end: datetime) -> UsageSummary:
    """Totals for requests made at or after `start` and before `end`."""
    return _totals(session, ApiUsage.at >= as_utc(start), ApiUsage.at < as_utc(end))


def usage_for(session: Session, purposes: Sequence[str]) -> UsageSummary:
    """Totals for the requests made for any of `purposes` ("outbox-chat:3", ...), ever."""
    return _totals(session, ApiUsage.purpose.in_(list(purposes)))


def _totals(session: Session, *conditions: ColumnElement[bool]) -> UsageSummary:
    query = select(
        func.count(ApiUsage.id),
        func.coalesce(func.sum(ApiUsage.posts_read), 0),
        func.coalesce(func.sum(ApiUsage.users_read), 0),
        func.coalesce(func.sum(ApiUsage.posts_created), 0),
    ).where(*conditions)
    requests, posts_read, users_read, posts_created = session.execute(query).one()
    return UsageSummary(
        requests=int(requests),
        posts_read=int(posts_read),
        users_read=int(users_read),
        posts_created=int(posts_created),
    )
