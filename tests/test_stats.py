"""Activity stats on a hand-built archive: per week (local ISO weeks) and per chat."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from archive.chats import add_chat
from archive.ingest import ingest_page
from archive.stats import Counts, Post, chat_stats, count_week, week_starts, weekly_stats
from tests.fakes import make_page, make_tweet, make_user

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 9, 16, 12, 0, tzinfo=UTC)  # Wednesday of ISO week 38
TAGS = ("#TraineeTalk", "#TherapistsConnect")
USERS = [
    make_user("21", "Alice_T"),
    make_user("22", "bob"),
    make_user("23", "cara"),
    make_user("24", "dev"),
    make_user("25", "pat", protected=True),
    make_user("26", "eve"),
]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def post(tweet_id: int, by: int, when: str, text: str, **options: Any) -> dict[str, Any]:
    return make_tweet(str(tweet_id), text, author_id=str(by), created_at=at(when), **options)


def retweet(tweet_id: int, by: int, when: str, of: int, text: str) -> dict[str, Any]:
    made = post(tweet_id, by, when, text)
    made["referenced_tweets"] = [{"type": "retweeted", "id": str(of)}]
    return made


ARCHIVE = [
    post(1000, 21, "2026-06-01T10:00", "hello, first time here"),  # Alice is not new later
    post(3500, 22, "2026-08-26T19:10", "#TraineeTalk first for bob"),  # week 35
    post(3601, 21, "2026-09-02T19:05", "#TraineeTalk hi all"),  # week 36
    post(3602, 22, "2026-09-02T19:06", "#traineetalk again"),
    post(3603, 23, "2026-09-02T19:10", "a reply without the tag", reply_to="3601"),
    retweet(3604, 24, "2026-09-02T19:12", of=3601, text="RT @Alice_T: #TraineeTalk hi all"),
    post(3605, 25, "2026-09-02T19:15", "#TraineeTalk from a protected account"),
    post(3700, 22, "2026-09-13T22:30", "#TraineeTalk Sunday 23:30 in London"),  # week 37
    post(3800, 23, "2026-09-13T23:30", "#TraineeTalk Monday 00:30 in London"),  # week 38
    post(3801, 24, "2026-09-15T10:00", "#TherapistsConnect hello"),
    post(3802, 26, "2026-09-15T11:00", "#TraineeTalk new here"),
    post(3803, 21, "2026-09-15T12:00", "nothing to do with the community"),
]


@pytest.fixture
def archive(session: Session) -> Session:
    page = make_page(ARCHIVE, users=USERS)
    ingest_page(session, page, endpoint="test", fetched_at=NOW)
    session.flush()
    return session


def C(tweets: int, retweets: int, participants: int, newcomers: int) -> Counts:
    return Counts(tweets=tweets, retweets=retweets, participants=participants, newcomers=newcomers)


def test_weekly_stats_counts_each_local_iso_week(archive: Session) -> None:
    weeks = weekly_stats(archive, hashtags=TAGS, weeks=3, now=NOW, zone=LONDON)
    assert [w.label for w in weeks] == ["2026-W36", "2026-W37", "2026-W38"]
    assert [w.starts_on for w in weeks] == [date(2026, 8, 31), date(2026, 9, 7), date(2026, 9, 14)]
    assert [w.counts for w in weeks] == [C(3, 1, 3, 1), C(1, 0, 1, 0), C(3, 0, 3, 1)]
    assert [w.previous for w in weeks] == [C(1, 0, 1, 1), C(3, 1, 3, 1), C(1, 0, 1, 0)]
    assert [w.counts.returning for w in weeks] == [2, 1, 2]


def test_weekly_stats_includes_protected_accounts_only_when_asked(archive: Session) -> None:
    weeks = weekly_stats(
        archive, hashtags=TAGS, weeks=3, now=NOW, zone=LONDON, include_protected=True
    )
    assert weeks[0].counts == C(4, 1, 4, 2)


def test_weekly_stats_follows_the_configured_hashtags(archive: Session) -> None:
    weeks = weekly_stats(archive, hashtags=("therapistsconnect",), weeks=1, now=NOW, zone=LONDON)
    assert weeks[0].counts == C(1, 0, 1, 0)  # dev retweeted earlier, so he is back, not new


def test_weekly_stats_empty_archive_counts_zero(session: Session) -> None:
    weeks = weekly_stats(session, hashtags=TAGS, weeks=2, now=NOW, zone=LONDON)
    assert [w.counts for w in weeks] == [C(0, 0, 0, 0)] * 2


def test_chat_stats_counts_each_chat_against_the_one_before(archive: Session) -> None:
    for start in ("2026-08-26T18:55", "2026-09-02T18:55"):
        add_chat(archive, hashtag="#TraineeTalk", host="Alice_T", starts_at=at(start),
                 ends_at=at(start) + timedelta(hours=1, minutes=5))  # fmt: skip
    add_chat(archive, hashtag="#OtherChat", host="bob", starts_at=at("2026-09-15T09:00"),
             ends_at=at("2026-09-15T10:00"))  # fmt: skip
    chats = chat_stats(archive, since=at("2026-08-31T00:00"), until=NOW)
    assert [(c.hashtag, c.starts_at) for c in chats] == [
        ("#TraineeTalk", at("2026-09-02T18:55")),
        ("#OtherChat", at("2026-09-15T09:00")),
    ]
    assert chats[0].counts == C(3, 1, 3, 1)  # alice, bob, cara (new); dev retweeted
    assert chats[0].previous == C(1, 0, 1, 1)
    assert chats[1].previous is None  # the first chat on its hashtag


@pytest.mark.parametrize(
    ("posts", "seen_before", "expected"),
    [
        ([], set(), C(0, 0, 0, 0)),
        ([Post("a", NOW, False), Post("a", NOW, False)], set(), C(2, 0, 1, 1)),
        ([Post("a", NOW, False), Post("b", NOW, False)], {"a"}, C(2, 0, 2, 1)),
        ([Post("a", NOW, True)], set(), C(0, 1, 0, 0)),
        ([Post(None, NOW, False)], set(), C(1, 0, 0, 0)),
    ],
)
def test_count_week_counts_tweets_people_and_newcomers(
    posts: list[Post], seen_before: set[str], expected: Counts
) -> None:
    assert count_week(posts, starts_at=NOW, seen_before=seen_before) == expected


@pytest.mark.parametrize(
    ("now", "weeks", "mondays"),
    [
        (NOW, 2, [date(2026, 9, 7), date(2026, 9, 14)]),
        (at("2026-09-13T23:30"), 1, [date(2026, 9, 14)]),  # already Monday in London
        (at("2026-03-29T12:00"), 1, [date(2026, 3, 23)]),  # a Sunday with a clock change
        (at("2027-01-03T12:00"), 1, [date(2026, 12, 28)]),  # ISO week 53 of 2026
    ],
)
def test_week_starts_are_local_mondays(now: datetime, weeks: int, mondays: list[date]) -> None:
    assert week_starts(now, weeks=weeks, zone=LONDON) == mondays
