"""archive.models: constraints and column types, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive.models import (
    ApiUsage,
    HttpMethod,
    ReferenceKind,
    Tweet,
    TweetHashtag,
    TweetReference,
    User,
)

AT = datetime(2026, 8, 20, 12, 5, tzinfo=UTC)


def _user(user_id: str = "1001") -> User:
    return User(id=user_id, username="ada", name="Ada", first_seen_at=AT, updated_at=AT)


def _tweet(tweet_id: str = "2001", author_id: str | None = "1001") -> Tweet:
    return Tweet(
        id=tweet_id,
        author_id=author_id,
        text="hello #TraineeTalk",
        raw={"id": tweet_id, "text": "hello #TraineeTalk"},
        fetched_at=AT,
        fetched_from="GET /2/tweets/search/recent",
        updated_at=AT,
    )


def test_tweet_with_unknown_author_violates_foreign_key(session: Session) -> None:
    session.add(_tweet(author_id="404"))
    with pytest.raises(IntegrityError):
        session.flush()


def test_tweet_with_known_author_is_stored_with_raw_json(session: Session) -> None:
    session.add(_user())
    session.flush()
    session.add(_tweet())
    session.commit()
    session.expire_all()
    stored = session.get(Tweet, "2001")
    assert stored is not None
    assert stored.raw == {"id": "2001", "text": "hello #TraineeTalk"}
    assert stored.fetched_at == AT


def test_reference_kind_is_stored_as_x_word(session: Session) -> None:
    session.add_all([_user(), _tweet()])
    session.flush()
    session.add(TweetReference(tweet_id="2001", kind=ReferenceKind.QUOTED, referenced_id="7"))
    session.flush()
    stored = session.execute(text("SELECT kind FROM tweet_references")).scalar_one()
    assert stored == "quoted"
    assert session.scalars(select(TweetReference.kind)).one() is ReferenceKind.QUOTED


def test_http_method_is_stored_as_its_name(session: Session) -> None:
    session.add(
        ApiUsage(
            at=AT,
            method=HttpMethod.POST,
            endpoint="POST /2/tweets",
            status=201,
            posts_read=0,
            users_read=0,
            posts_created=1,
            error=None,
        )
    )
    session.flush()
    assert session.execute(text("SELECT method FROM api_usage")).scalar_one() == "POST"


def test_deleting_a_tweet_deletes_its_references_and_hashtags(session: Session) -> None:
    session.add_all([_user(), _tweet()])
    session.flush()
    session.add_all(
        [
            TweetReference(tweet_id="2001", kind=ReferenceKind.REPLIED_TO, referenced_id="9"),
            TweetHashtag(tweet_id="2001", tag="traineetalk", tag_as_written="TraineeTalk"),
        ]
    )
    session.flush()
    session.execute(delete(Tweet).where(Tweet.id == "2001"))
    assert session.scalar(select(func.count()).select_from(TweetReference)) == 0
    assert session.scalar(select(func.count()).select_from(TweetHashtag)) == 0


def test_deleting_a_user_with_archived_tweets_is_refused(session: Session) -> None:
    session.add_all([_user(), _tweet()])
    session.flush()
    with pytest.raises(IntegrityError):
        session.execute(delete(User).where(User.id == "1001"))
