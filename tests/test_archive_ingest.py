"""archive.ingest: idempotent upserts of X API pages, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

import archive.models  # noqa: F401  (registers the tables on Base.metadata)
from archive.db import Base
from archive.errors import IngestError
from archive.ingest import IngestResult, ingest_page
from archive.models import ReferenceKind, Tweet, TweetHashtag, TweetReference, User

SEARCH = "GET /2/tweets/search/recent"
LOOKUP = "GET /2/tweets"
T1 = datetime(2026, 8, 20, 12, 10, tzinfo=UTC)
T2 = T1 + timedelta(minutes=5)
T3 = T2 + timedelta(minutes=5)
POSTED = datetime(2026, 8, 20, 12, 5, tzinfo=UTC)


# --- minimal page builders, in X's exact shapes ---


def x_time(moment: datetime) -> str:
    """X's timestamp: UTC with milliseconds, e.g. 2026-08-20T12:05:00.000Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def tweet(
    tweet_id: str,
    *,
    author_id: str = "1001",
    text: str = "A1 hello #TraineeTalk",
    likes: int = 0,
    hashtags: Sequence[str] = (),
    references: Sequence[tuple[str, str]] = (),
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "edit_history_tweet_ids": [tweet_id],
        "id": tweet_id,
        "text": text,
        "author_id": author_id,
        "created_at": x_time(POSTED),
        "conversation_id": tweet_id,
        "lang": "en",
        "public_metrics": {
            "retweet_count": 0,
            "reply_count": 0,
            "like_count": likes,
            "quote_count": 0,
            "bookmark_count": 0,
            "impression_count": 10,
        },
    }
    if hashtags:
        obj["entities"] = {"hashtags": [{"start": 0, "end": 1, "tag": tag} for tag in hashtags]}
    if references:
        obj["referenced_tweets"] = [{"type": kind, "id": ref} for kind, ref in references]
    return obj


def user(user_id: str, username: str, *, name: str = "") -> dict[str, Any]:
    return {"id": user_id, "name": name or username.title(), "username": username}


def page(
    tweets: Sequence[dict[str, Any]],
    *,
    users: Sequence[dict[str, Any]] = (),
    included: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    body: dict[str, Any] = {"data": list(tweets)}
    includes = {key: list(value) for key, value in (("users", users), ("tweets", included))}
    if any(includes.values()):
        body["includes"] = {key: value for key, value in includes.items() if value}
    ids = sorted((t["id"] for t in tweets), key=int)
    body["meta"] = {"newest_id": ids[-1], "oldest_id": ids[0], "result_count": len(ids)}
    return body


ADA = user("1001", "ada")


def snapshot(session: Session) -> dict[str, list[dict[str, Any]]]:
    """Every row of every archive table, in primary-key order."""
    session.expire_all()
    return {
        table.name: [
            dict(row)
            for row in session.execute(
                select(table).order_by(*table.primary_key.columns)
            ).mappings()
        ]
        for table in Base.metadata.sorted_tables
    }


def stored(session: Session, tweet_id: str) -> Tweet:
    session.expire_all()
    found = session.get(Tweet, tweet_id)
    assert found is not None
    return found


def count(session: Session, model: type[Any]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


# --- tests ---


def test_ingest_page_stores_tweets_and_users_and_counts_them(session: Session) -> None:
    body = page([tweet("11"), tweet("12", author_id="1002")], users=[ADA, user("1002", "bo")])
    result = ingest_page(session, body, endpoint=SEARCH, fetched_at=T1)
    assert result == IngestResult(new_tweets=2, updated_tweets=0, new_user_ids=("1001", "1002"))
    row = stored(session, "11")
    assert (row.author_id, row.text, row.created_at, row.like_count) == (
        "1001",
        "A1 hello #TraineeTalk",
        POSTED,
        0,
    )
    assert (row.fetched_at, row.fetched_from, row.updated_at) == (T1, SEARCH, T1)
    assert row.raw == body["data"][0]
    ada = session.get(User, "1001")
    assert ada is not None and (ada.username, ada.first_seen_at, ada.raw) == ("ada", T1, ADA)


def test_ingest_page_same_page_twice_changes_nothing(session: Session) -> None:
    body = page(
        [tweet("11", hashtags=["TraineeTalk"], references=[("replied_to", "10")])],
        users=[ADA],
        included=[tweet("10", author_id="1009")],
    )
    ingest_page(session, body, endpoint=SEARCH, fetched_at=T1)
    session.commit()
    before = snapshot(session)
    again = ingest_page(session, body, endpoint=SEARCH, fetched_at=T1)
    session.commit()
    assert again == IngestResult(new_tweets=0, updated_tweets=0, new_user_ids=())
    assert snapshot(session) == before
    assert len(before["tweets"]) == 2 and len(before["tweet_references"]) == 1


def test_ingest_page_newer_copy_updates_metrics_text_and_fetched_at(session: Session) -> None:
    ingest_page(session, page([tweet("11", likes=1)], users=[ADA]), endpoint=SEARCH, fetched_at=T1)
    newer = page([tweet("11", likes=5, text="A1 hello again")], users=[ADA])
    result = ingest_page(session, newer, endpoint=LOOKUP, fetched_at=T2)
    assert (result.new_tweets, result.updated_tweets) == (0, 1)
    row = stored(session, "11")
    assert (row.like_count, row.text, row.raw) == (5, "A1 hello again", newer["data"][0])
    assert (row.fetched_at, row.fetched_from, row.updated_at) == (T2, LOOKUP, T2)


def test_ingest_page_newer_identical_copy_moves_fetched_at_not_updated_at(session: Session) -> None:
    body = page([tweet("11", likes=1)], users=[ADA])
    ingest_page(session, body, endpoint=SEARCH, fetched_at=T1)
    ingest_page(session, body, endpoint=SEARCH, fetched_at=T2)
    row = stored(session, "11")
    assert (row.fetched_at, row.updated_at) == (T2, T1)


def test_ingest_page_older_copy_never_overwrites_newer(session: Session) -> None:
    ingest_page(session, page([tweet("11", likes=5)], users=[ADA]), endpoint=SEARCH, fetched_at=T2)
    session.commit()
    before = snapshot(session)
    older = page([tweet("11", likes=1)], users=[user("1001", "ada_old", name="Old Ada")])
    result = ingest_page(session, older, endpoint=SEARCH, fetched_at=T1)
    assert result == IngestResult(new_tweets=0, updated_tweets=0, new_user_ids=())
    assert snapshot(session) == before


def test_ingest_page_newer_sparse_copy_keeps_what_it_leaves_out(session: Session) -> None:
    ingest_page(session, page([tweet("11", likes=5)], users=[ADA]), endpoint=SEARCH, fetched_at=T1)
    sparse = {
        "data": {"id": "11", "text": "A1 hello #TraineeTalk", "edit_history_tweet_ids": ["11"]}
    }
    ingest_page(session, sparse, endpoint=LOOKUP, fetched_at=T2)
    row = stored(session, "11")
    assert (row.author_id, row.created_at, row.like_count, row.lang) == ("1001", POSTED, 5, "en")
    assert (row.raw, row.fetched_at, row.updated_at) == (sparse["data"], T2, T1)


def test_ingest_page_newer_user_copy_updates_profile(session: Session) -> None:
    ingest_page(session, page([tweet("11")], users=[ADA]), endpoint=SEARCH, fetched_at=T1)
    renamed = user("1001", "ada_l", name="Ada L.")
    ingest_page(session, page([tweet("12")], users=[renamed]), endpoint=SEARCH, fetched_at=T2)
    ingest_page(session, page([tweet("13")], users=[ADA]), endpoint=SEARCH, fetched_at=T1)
    session.expire_all()
    ada = session.get(User, "1001")
    assert ada is not None
    assert (ada.username, ada.name, ada.raw) == ("ada_l", "Ada L.", renamed)
    assert (ada.first_seen_at, ada.fetched_at, ada.updated_at) == (T1, T2, T2)


def test_ingest_page_stores_included_tweets_and_their_authors(session: Session) -> None:
    question = tweet("10", author_id="1009", text="Q1 What brought you to training?")
    answer = tweet("11", references=[("quoted", "10"), ("replied_to", "9")])
    body = page([answer], users=[ADA, user("1009", "host")], included=[question])
    result = ingest_page(session, body, endpoint=SEARCH, fetched_at=T1)
    assert result.new_tweets == 2
    assert stored(session, "10").text == "Q1 What brought you to training?"
    assert stored(session, "10").author_id == "1009"
    references = session.execute(select(TweetReference.kind, TweetReference.referenced_id))
    assert {tuple(row) for row in references} == {
        (ReferenceKind.REPLIED_TO, "9"),
        (ReferenceKind.QUOTED, "10"),
    }


def test_ingest_page_references_and_hashtags_are_stored_once(session: Session) -> None:
    answer = tweet(
        "11",
        hashtags=["TraineeTalk", "traineetalk", "TherapistsConnect"],
        references=[("replied_to", "10")],
    )
    ingest_page(session, page([answer], users=[ADA]), endpoint=SEARCH, fetched_at=T1)
    ingest_page(session, page([answer], users=[ADA]), endpoint=SEARCH, fetched_at=T2)
    ingest_page(session, page([answer], users=[ADA]), endpoint=LOOKUP, fetched_at=T3)
    assert count(session, TweetReference) == 1
    tags = session.execute(
        select(TweetHashtag.tag, TweetHashtag.tag_as_written).order_by(TweetHashtag.tag)
    ).all()
    assert tags == [("therapistsconnect", "TherapistsConnect"), ("traineetalk", "TraineeTalk")]


def test_ingest_page_author_without_profile_is_a_stub_until_one_arrives(session: Session) -> None:
    first = ingest_page(
        session, page([tweet("11", author_id="1005")]), endpoint=SEARCH, fetched_at=T1
    )
    assert first.new_user_ids == ("1005",)
    session.expire_all()
    stub = session.get(User, "1005")
    assert stub is not None and (stub.username, stub.raw, stub.fetched_at) == (None, None, None)
    profile = user("1005", "cy")
    later = ingest_page(
        session,
        page([tweet("12", author_id="1005")], users=[profile]),
        endpoint=SEARCH,
        fetched_at=T1,
    )
    assert later.new_user_ids == ()
    session.expire_all()
    filled = session.get(User, "1005")
    assert filled is not None
    assert (filled.username, filled.raw, filled.first_seen_at, filled.fetched_at) == (
        "cy",
        profile,
        T1,
        T1,
    )


def test_ingest_page_does_not_commit(session: Session) -> None:
    ingest_page(session, page([tweet("11")], users=[ADA]), endpoint=SEARCH, fetched_at=T1)
    session.rollback()
    assert count(session, Tweet) == 0
    assert count(session, User) == 0


def test_ingest_page_empty_search_page_stores_nothing(session: Session) -> None:
    result = ingest_page(session, {"meta": {"result_count": 0}}, endpoint=SEARCH, fetched_at=T1)
    assert result == IngestResult(new_tweets=0, updated_tweets=0, new_user_ids=())
    assert count(session, Tweet) == 0


def test_ingest_page_tweet_without_id_raises_and_writes_nothing(session: Session) -> None:
    broken = page([tweet("11")], users=[ADA])
    broken["data"].append({"text": "no id here", "edit_history_tweet_ids": []})
    with pytest.raises(IngestError, match="a tweet object in the page has no id"):
        ingest_page(session, broken, endpoint=SEARCH, fetched_at=T1)
    assert count(session, Tweet) == 0
    assert count(session, User) == 0


def test_ingest_page_naive_fetched_at_raises_value_error(session: Session) -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        ingest_page(session, page([tweet("11")]), endpoint=SEARCH, fetched_at=datetime(2026, 8, 20))


@contextmanager
def counted_statements(session: Session) -> Iterator[list[str]]:
    """Collect every statement sent to the database (an executemany counts once)."""
    statements: list[str] = []
    engine = session.get_bind()

    def record(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_ingest_page_hundred_tweets_take_a_handful_of_statements(session: Session) -> None:
    authors = [user(str(2000 + n), f"user{n}") for n in range(50)]
    tweets = [
        tweet(str(3000 + n), author_id=str(2000 + n % 50), hashtags=["TraineeTalk"])
        for n in range(100)
    ]
    with counted_statements(session) as statements:
        result = ingest_page(session, page(tweets, users=authors), endpoint=SEARCH, fetched_at=T1)
    assert result.new_tweets == 100 and len(result.new_user_ids) == 50
    assert count(session, Tweet) == 100 and count(session, TweetHashtag) == 100
    assert len(statements) <= 7, statements  # 7: reading who asked to be forgotten
