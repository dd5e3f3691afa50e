"""archive.ingest_bulk.ingest_pages leaves the database exactly as ingest_page, page by
page, would; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, MetaData, Table, delete, event
from sqlalchemy.orm import Session

from archive.db import Base, UTCDateTime, make_engine
from archive.ingest import ingest_page
from archive.ingest_bulk import PageCopy, ingest_pages, sqlite_time
from archive.page_batch import KnownRecords
from tests.fakes import make_page, make_tweet, make_user
from tests.test_archive_ingest import snapshot

SEARCH = "GET /2/tweets/search/recent"
LOOKUP = "GET /2/tweets"
T1 = datetime(2026, 8, 20, 20, 10, tzinfo=UTC)
T2, T3 = T1 + timedelta(minutes=5), T1 + timedelta(minutes=10)
ADA = make_user("1001", "ada", name="Ada")
BO = make_user("1002", "bo")
Step = tuple[dict[str, Any], str, datetime]


def tweet(tweet_id: str, text: str = "A1 rest #TraineeTalk @bo", **extra: Any) -> dict[str, Any]:
    return make_tweet(tweet_id, text, author_id="1001", mention_ids={"bo": "1002"}, **extra)


def story() -> list[Step]:
    """Pages as a tracker and a lookup would see them, out of order, with every rule at work."""
    question = make_tweet("500", "Q1 What restores you? #TraineeTalk", author_id="1009")
    renamed = make_user("1001", "ada_l", name="Ada L.", description="trainee")
    sparse = {"id": "501", "text": "A1 rest, edited", "edit_history_tweet_ids": ["501"]}
    return [
        (make_page([tweet("501", reply_to="500")], users=[ADA], included_tweets=[question]),
         SEARCH, T1),
        # the same page again, and a newer copy with more likes and a new name
        (make_page([tweet("501", reply_to="500")], users=[ADA], included_tweets=[question]),
         SEARCH, T1),
        (make_page([tweet("501", reply_to="500", like_count=4), tweet("502")], users=[renamed, BO]),
         SEARCH, T3),
        # an older copy arrives late: ignored, but its new hashtag is a fact all the same
        (make_page([tweet("501", text="A1 rest #TraineeTalk #Rest", reply_to="500")],
                   users=[ADA]), SEARCH, T2),
        # a lookup that leaves fields out, an author with no profile, the host's profile later
        ({"data": sparse}, LOOKUP, T3 + timedelta(minutes=1)),
        (make_page([make_tweet("503", "Q2 #TraineeTalk", author_id="1009")]), SEARCH, T2),
        (make_page([make_tweet("504", "closing", author_id="1009")],
                   users=[make_user("1009", "host")]), SEARCH, T3),
    ]  # fmt: skip


def clear(session: Session) -> None:
    for table in reversed(Base.metadata.sorted_tables):
        session.execute(delete(table))
    session.commit()


def one_by_one(session: Session, steps: Sequence[Step]) -> tuple[int, int, int]:
    results = [ingest_page(session, page, endpoint=e, fetched_at=at) for page, e, at in steps]
    session.commit()
    return (
        sum(r.new_tweets for r in results),
        sum(r.updated_tweets for r in results),
        sum(len(r.new_user_ids) for r in results),
    )


def copies(steps: Sequence[Step]) -> list[PageCopy]:
    return [PageCopy.of(page, endpoint=e, fetched_at=at) for page, e, at in steps]


@pytest.mark.parametrize("batch_size", [1, 3, 100])
def test_ingest_pages_leaves_what_ingest_page_leaves(session: Session, batch_size: int) -> None:
    steps = story()
    one_by_one(session, steps)
    expected = snapshot(session)
    clear(session)
    known = KnownRecords()
    for start in range(0, len(steps), batch_size):
        ingest_pages(session, copies(steps[start : start + batch_size]), known=known)
        session.commit()
    assert snapshot(session) == expected
    assert len(expected["tweets"]) == 5 and len(expected["tweet_hashtags"]) == 5


def test_ingest_pages_on_top_of_stored_rows_matches_ingest_page(session: Session) -> None:
    steps = story()
    one_by_one(session, steps[:3])
    one_by_one(session, steps[3:])
    expected = snapshot(session)
    clear(session)
    one_by_one(session, steps[:3])
    ingest_pages(session, copies(steps[3:]))  # reads the stored rows it builds on
    session.commit()
    assert snapshot(session) == expected


def test_ingest_pages_counts_each_tweet_and_person_once(session: Session) -> None:
    steps = story()
    result = ingest_pages(session, copies(steps[:3]))
    assert result.new_tweet_ids == ("501", "500", "502")
    assert result.updated_tweet_ids == ()  # 501 was new in this very batch
    assert result.new_user_ids == ("1001", "1009", "1002")
    later = ingest_pages(session, copies(steps[3:]))
    assert later.new_tweet_ids == ("503", "504")
    assert later.updated_tweet_ids == ("501",)  # the lookup's newer copy; the late one is older
    assert later.new_user_ids == ()


def test_ingest_pages_twice_changes_nothing_and_counts_nothing(session: Session) -> None:
    ingest_pages(session, copies(story()))
    session.commit()
    before = snapshot(session)
    again = ingest_pages(session, copies(story()))
    session.commit()
    assert (again.new_tweet_ids, again.updated_tweet_ids, again.new_user_ids) == ((), (), ())
    assert snapshot(session) == before


def test_ingest_pages_many_pages_take_a_handful_of_statements(session: Session) -> None:
    steps = [
        (make_page([tweet(str(600 + n)), tweet(str(700 + n))], users=[ADA, BO]), SEARCH,
         T1 + timedelta(seconds=n))
        for n in range(50)
    ]  # fmt: skip
    statements: list[str] = []
    engine = session.get_bind()
    listener = lambda *args: statements.append(args[2])
    event.listen(engine, "before_cursor_execute", listener)
    try:
        result = ingest_pages(session, copies(steps))
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert len(result.new_tweet_ids) == 100
    writes = [s for s in statements if s.startswith("INSERT")]
    assert len(writes) == 4  # users, tweets, hashtags, mentions (no references here)
    assert len(statements) <= 8, statements


def test_ingest_pages_does_not_commit(session: Session) -> None:
    ingest_pages(session, copies(story()))
    session.rollback()
    assert snapshot(session)["tweets"] == []


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 8, 20, 12, 5, tzinfo=UTC),
        datetime(2026, 8, 20, 12, 5, 0, 123000, tzinfo=UTC),
        datetime(2026, 8, 20, 13, 5, 59, 999999, tzinfo=UTC),
        datetime(2026, 8, 20, 14, 5, tzinfo=timezone(timedelta(hours=-5))),
    ],
)
def test_sqlite_time_is_the_text_utcdatetime_stores(tmp_path: Path, moment: datetime) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'times.db'}")
    try:
        table = Table("times", MetaData(), Column("at", UTCDateTime))
        table.create(engine)
        with engine.begin() as connection:
            connection.execute(table.insert(), {"at": moment})
            stored = connection.exec_driver_sql("SELECT at FROM times").scalar_one()
    finally:
        engine.dispose()
    assert sqlite_time(moment) == stored
