"""tcbot's page files: X API pages as JSON Lines, each with where and when it was fetched.

The format `tcbot archive import` reads besides twarc2's: one X API v2 response
page per line, plus a `__tcbot` key in the manner of twarc's `__twarc`:

    {"data": [...], "includes": {"users": [...]}, "meta": {...},
     "__tcbot": {"endpoint": "GET /2/tweets/search/recent", "params": {...},
                 "retrieved_at": "2026-08-20T12:05:00+00:00", "tool_version": "tcbot 0.4.0"}}

`page_line` writes one such line for a page as fetched; `export_pages` writes the
whole archive that way (tweets grouped by the request they came from, their
authors' profiles in `includes.users`), so another tcbot can import it and get the
same tweets, fetched at the same times. Tweets of protected or suspended accounts
are left out unless asked for (X's policy: they are not public; archive/visibility.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.db import as_utc
from archive.models import Tweet, User
from archive.visibility import shown

log = logging.getLogger(__name__)

PAGE_SIZE = 100  # X's largest page
_ENCODER = msgspec.json.Encoder()


@dataclass(frozen=True, slots=True)
class ExportReport:
    """How many pages and tweets an export wrote."""

    pages: int
    tweets: int


def page_line(
    page: Mapping[str, Any],
    *,
    endpoint: str,
    params: Mapping[str, str],
    retrieved_at: datetime,
    tool_version: str,
) -> bytes:
    """One JSON line: the page and its `__tcbot` key, newline included."""
    source = {
        "endpoint": endpoint,
        "params": dict(params),
        "retrieved_at": as_utc(retrieved_at).isoformat(),
        "tool_version": tool_version,
    }
    return _ENCODER.encode({**page, "__tcbot": source}) + b"\n"


def export_pages(
    session: Session,
    out: IO[bytes],
    *,
    tool_version: str,
    include_protected: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ExportReport:
    """Write every archived tweet as tcbot pages to `out`, oldest fetch first.

    `progress` is called with the number of tweets written for each page.
    """
    pages = tweets = 0
    for group, rows in _groups(session, include_protected=include_protected):
        page = _page([tweet for tweet, _ in rows], [user for _, user in rows])
        out.write(
            page_line(
                page,
                endpoint=group[0],
                params={},
                retrieved_at=group[1],
                tool_version=tool_version,
            )
        )
        pages += 1
        tweets += len(rows)
        if progress is not None:
            progress(len(rows))
    log.info("exported %d tweets in %d pages", tweets, pages)
    return ExportReport(pages=pages, tweets=tweets)


Row = tuple[Mapping[str, Any], Mapping[str, Any] | None]  # (tweet raw, author raw or None)


def _groups(
    session: Session, *, include_protected: bool
) -> Iterator[tuple[tuple[str, datetime], list[Row]]]:
    """Tweets in runs of at most PAGE_SIZE that share `fetched_from` and `fetched_at`."""
    query = (
        select(Tweet.fetched_from, Tweet.fetched_at, Tweet.raw, User.raw)
        .outerjoin(User, User.id == Tweet.author_id)
        .order_by(Tweet.fetched_at, Tweet.fetched_from, Tweet.id)
    )
    if not include_protected:
        query = query.where(shown(User))
    key: tuple[str, datetime] | None = None
    rows: list[Row] = []
    for fetched_from, fetched_at, tweet, author in session.execute(
        query.execution_options(yield_per=1000)
    ):
        if rows and ((fetched_from, fetched_at) != key or len(rows) == PAGE_SIZE):
            assert key is not None
            yield key, rows
            rows = []
        key = (fetched_from, fetched_at)
        rows.append((tweet, author))
    if rows and key is not None:
        yield key, rows


def _page(
    tweets: list[Mapping[str, Any]], authors: Iterable[Mapping[str, Any] | None]
) -> dict[str, Any]:
    users = {str(user.get("id")): user for user in authors if user}
    ids = sorted((str(tweet.get("id")) for tweet in tweets), key=int)
    page: dict[str, Any] = {"data": tweets}
    if users:
        page["includes"] = {"users": list(users.values())}
    page["meta"] = {"result_count": len(tweets), "newest_id": ids[-1], "oldest_id": ids[0]}
    return page
