"""Introductions from the archive: hashtag, since, newest first; no retweets or protected accounts.

Runs on SQLite and, with TCBOT_TEST_POSTGRES_URL, on PostgreSQL (the `session` fixture).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from archive.ingest import ingest_page
from archive.intro_queries import hashtag_key, list_intros
from tests.fakes import make_page, make_tweet, make_user

H = "#TherapistsConnect"
T0 = datetime(2026, 11, 2, 19, 0, tzinfo=UTC)
PRIYA = make_user("101", "PriyaCounsels", name="Priya K")
TOM = make_user("102", "tom_psychotherapy", name="Tom")
LOCKED = make_user("103", "private_pat", name="Pat", protected=True)
BOT = make_user("104", "TherapistsConnect", name="Therapists Connect")


def store(session: Session, tweets: list[dict[str, Any]], users: list[dict[str, Any]]) -> None:
    page = make_page(tweets, users=users)
    ingest_page(
        session, page, endpoint="GET /2/tweets/search/recent", fetched_at=T0 + timedelta(days=30)
    )
    session.flush()


def tweet(
    tweet_id: int, text: str, author: dict[str, Any], minutes: int, **kw: Any
) -> dict[str, Any]:
    return make_tweet(
        str(tweet_id),
        text,
        author_id=author["id"],
        created_at=T0 + timedelta(minutes=minutes),
        **kw,
    )


def retweet_of(
    original: dict[str, Any], tweet_id: int, author: dict[str, Any], minutes: int, *, prefix: str
) -> dict[str, Any]:
    copy = tweet(tweet_id, prefix + original["text"], author, minutes)
    copy["referenced_tweets"] = [{"type": "retweeted", "id": original["id"]}]
    return copy


INTRO_PRIYA = tweet(
    1958300000000000011,
    f"Hi everyone! I'm Priya, a trainee counsellor in Leeds. New here {H}",
    PRIYA,
    0,
)
INTRO_TOM = tweet(
    1958300000000000022,
    f"Hello {H} 👋 My name is Tom and I'm a psychotherapist based in Toronto.",
    TOM,
    60,
)
EVENT = tweet(
    1958300000000000033, f"Join us tonight at 8pm for {H} chat on endings! All welcome", BOT, 90
)


def test_list_intros_finds_introductions_newest_first_with_role_and_place(session: Session) -> None:
    store(session, [INTRO_PRIYA, INTRO_TOM, EVENT], [PRIYA, TOM, BOT])
    rows = list_intros(session, H)
    assert [r.username for r in rows] == ["tom_psychotherapy", "PriyaCounsels"]
    tom = rows[0]
    assert (tom.tweet_id, tom.name, tom.role, tom.place) == (
        "1958300000000000022", "Tom", "psychotherapist", "Toronto"
    )  # fmt: skip
    assert tom.created_at == T0 + timedelta(minutes=60)
    assert tom.link == "https://x.com/tom_psychotherapy/status/1958300000000000022"
    assert tom.text == INTRO_TOM["text"]


def test_list_intros_leaves_out_retweets_and_protected_accounts(session: Session) -> None:
    by_reference = retweet_of(INTRO_PRIYA, 1958300000000000044, TOM, 120, prefix="")
    by_text = retweet_of(INTRO_PRIYA, 1958300000000000055, BOT, 130, prefix="RT @PriyaCounsels: ")
    locked = tweet(
        1958300000000000066, f"Hi all! I'm Pat, a counsellor in Hull. New here {H}", LOCKED, 140
    )
    store(session, [INTRO_PRIYA, by_reference, by_text, locked], [PRIYA, TOM, BOT, LOCKED])
    assert [r.tweet_id for r in list_intros(session, H)] == [INTRO_PRIYA["id"]]


def test_list_intros_keeps_an_author_without_a_profile_with_a_generic_link(
    session: Session,
) -> None:
    stranger = make_tweet("1958300000000000077", f"Hi {H}, I'm new here 👋", author_id="999")
    store(session, [stranger], [])
    [row] = list_intros(session, H)
    assert (row.username, row.name) == (None, None)
    assert row.link == "https://x.com/i/web/status/1958300000000000077"


def test_list_intros_since_keeps_only_later_tweets(session: Session) -> None:
    store(session, [INTRO_PRIYA, INTRO_TOM], [PRIYA, TOM])
    assert [r.username for r in list_intros(session, H, T0 + timedelta(minutes=30))] == [
        "tom_psychotherapy"
    ]
    assert len(list_intros(session, H, T0)) == 2  # "since" includes the moment itself
    assert list_intros(session, H, T0 + timedelta(days=1)) == []


def test_list_intros_matches_the_hashtag_in_any_case_and_only_that_hashtag(
    session: Session,
) -> None:
    other = tweet(
        1958300000000000088, "Hi all! I'm Sam, a trainee counsellor, new here #TraineeTalk", TOM, 5
    )
    lower = tweet(
        1958300000000000099,
        "Hi! I'm Bo, an art therapist in Hull, just joined #therapistsconnect",
        TOM,
        6,
    )
    store(session, [INTRO_PRIYA, other, lower], [PRIYA, TOM])
    ids = [r.tweet_id for r in list_intros(session, "therapistsCONNECT")]
    assert ids == [lower["id"], INTRO_PRIYA["id"]]
    assert hashtag_key(" #TherapistsConnect ") == "therapistsconnect"


def test_list_intros_orders_same_second_tweets_by_id_as_a_number(session: Session) -> None:
    short_id = tweet(999999999999999999, f"Hi! I'm Al, a counsellor in Ely. New here {H}", TOM, 0)
    long_id = tweet(
        1000000000000000001, f"Hi! I'm Bea, a counsellor in Ely. New here {H}", PRIYA, 0
    )
    store(session, [short_id, long_id], [PRIYA, TOM])
    assert [r.tweet_id for r in list_intros(session, H)] == [long_id["id"], short_id["id"]]
