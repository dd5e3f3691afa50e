"""Chats in the archive, on SQLite and PostgreSQL: recording the bot's chats from the outbox,
adding chats by hand, reading times, finding chats, and loading transcripts from the archive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.chat_tweets import load_transcript
from archive.chats import add_chat, find_chat, parse_chat_time, record_bot_chats
from archive.errors import TcbotError
from archive.ingest import ingest_page
from archive.models import Chat, ChatOrigin, OutboxPost, PostKind, PostStatus
from archive.transcripts import Transcript, walk
from bot import outbox
from tests.daemon_harness import make_chat_plan
from tests.fakes import SEARCH_ENDPOINT, make_page, make_tweet, make_user

START = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")
BOT_ID, BOT = "900", "TraineeTalkBot"
PEOPLE = {"bob": "901", "cy": "902", "dee": "903", "eve": "904", "priv": "905"}
JsonDict = dict[str, Any]


def users(**protected: bool) -> list[JsonDict]:
    people = [make_user(BOT_ID, BOT, name="TraineeTalk bot")]
    people += [make_user(uid, name, protected=protected.get(name, False)) for name, uid in PEOPLE.items()]  # fmt: skip
    return people


def post(tweet_id: int, text: str, *, by: str, minutes: float, **options: Any) -> JsonDict:
    author = BOT_ID if by == BOT else PEOPLE[by]
    return make_tweet(str(tweet_id), text, author_id=author,
                      created_at=START + timedelta(minutes=minutes), **options)  # fmt: skip


def retweet(tweet_id: int, of: str, *, by: str, minutes: float) -> JsonDict:
    tweet = post(tweet_id, f"RT @bob: copy of {of} #TraineeTalk", by=by, minutes=minutes)
    tweet["referenced_tweets"] = [{"type": "retweeted", "id": of}]
    return tweet


def ingest(session: Session, *tweets: JsonDict, **protected: bool) -> None:
    page = make_page(list(tweets), users=users(**protected))
    ingest_page(session, page, endpoint=SEARCH_ENDPOINT, fetched_at=START + timedelta(days=1))
    session.flush()


def queue_chat(session: Session, *, questions: int = 3) -> list[OutboxPost]:
    """A chat in the outbox: intro at START, Q1.. every 10 minutes, closing."""
    plan = make_chat_plan(START, questions=questions, reminders=(60,))
    outbox.add_chat(session, plan, origin="cli", now=START - timedelta(days=1))
    session.flush()
    return list(session.scalars(select(OutboxPost).order_by(OutboxPost.due_at)))


def mark_sent(rows: list[OutboxPost], ids: dict[tuple[PostKind, int], str]) -> None:
    for row in rows:
        x_id = ids.get((row.kind, row.number))
        if x_id is not None:
            row.x_id, row.status = x_id, PostStatus.SENT
            row.sent_at = row.due_at + timedelta(seconds=3)


THREAD = {
    (PostKind.INTRO, 0): "1000",
    (PostKind.QUESTION, 1): "1010",
    (PostKind.QUESTION, 2): "1020",
    (PostKind.QUESTION, 3): "1030",
    (PostKind.CLOSING, 0): "1090",
}


def bot_thread() -> list[JsonDict]:
    """What the bot posted for THREAD, as X would return it."""
    return [
        post(1000, "Welcome to #TraineeTalk: endings", by=BOT, minutes=0),
        post(1010, "Q1 What drew you? #TraineeTalk", by=BOT, minutes=10, reply_to="1000",
             conversation_id="1000"),
        post(1020, "Q2 How do you rest? #TraineeTalk", by=BOT, minutes=20, reply_to="1010",
             conversation_id="1000"),
        post(1030, "Q3 Supervision? #TraineeTalk", by=BOT, minutes=30, reply_to="1020",
             conversation_id="1000"),
        post(1090, "Thank you all! #TraineeTalk", by=BOT, minutes=40, reply_to="1030",
             conversation_id="1000"),
    ]  # fmt: skip


def recorded_chat(session: Session) -> Chat:
    mark_sent(queue_chat(session), THREAD)
    record_bot_chats(session, host=BOT)
    return session.scalars(select(Chat)).one()


# -- recording the bot's chats ---------------------------------------------------------------


def test_record_bot_chats_records_a_sent_chat_with_its_posts_and_window(session: Session) -> None:
    mark_sent(queue_chat(session), {**THREAD, (PostKind.REMINDER, 60): "999"})
    ingest(session, *bot_thread())
    report = record_bot_chats(session)
    chat = session.scalars(select(Chat)).one()
    assert report.created == (chat.id,) and report.updated == ()
    assert (chat.origin, chat.hashtag, chat.topic) == (ChatOrigin.BOT, "#TraineeTalk", "endings with clients")  # fmt: skip
    assert chat.host == BOT  # the archived author of the intro
    assert chat.starts_at == START + timedelta(seconds=3) - timedelta(minutes=15)
    assert chat.ends_at == START + timedelta(minutes=40, seconds=3) + timedelta(hours=1)
    assert {(p.kind, p.number): p.tweet_id for p in chat.posts} == THREAD  # no reminder


def test_record_bot_chats_is_idempotent(session: Session) -> None:
    mark_sent(queue_chat(session), THREAD)
    first = record_bot_chats(session, host=BOT)
    again = record_bot_chats(session, host=BOT)
    assert len(first.created) == 1 and again.created == again.updated == ()
    assert len(session.scalars(select(Chat)).all()) == 1


def test_record_bot_chats_skips_a_chat_whose_intro_was_not_sent(session: Session) -> None:
    mark_sent(queue_chat(session), {(PostKind.REMINDER, 60): "999"})
    assert record_bot_chats(session, host=BOT).created == ()
    assert session.scalars(select(Chat)).all() == []


def test_record_bot_chats_follows_a_chat_while_it_runs(session: Session) -> None:
    rows = queue_chat(session)
    mark_sent(rows, {k: v for k, v in THREAD.items() if k[0] is not PostKind.CLOSING and k[1] < 2})
    record_bot_chats(session, host=None)
    chat = session.scalars(select(Chat)).one()
    assert chat.host == "" and chat.ends_at == START + timedelta(minutes=70, seconds=3)
    assert len(chat.posts) == 2
    mark_sent(rows, THREAD)
    report = record_bot_chats(session, host=BOT)
    assert report.updated == (chat.id,)
    assert chat.host == BOT and len(chat.posts) == 5
    assert chat.ends_at == START + timedelta(minutes=100, seconds=3)  # closing + 1 h


# -- adding chats by hand --------------------------------------------------------------------


def test_add_chat_normalises_hashtag_and_host(session: Session) -> None:
    chat = add_chat(session, hashtag=" TraineeTalk ", host="@TraineeTalk", starts_at=START,
                    ends_at=START + timedelta(hours=1), topic="  ")  # fmt: skip
    assert (chat.hashtag, chat.host, chat.topic, chat.origin) == (
        "#TraineeTalk", "TraineeTalk", None, ChatOrigin.MANUAL,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"hashtag": "#Trainee Talk"}, "is not a hashtag"),
        ({"hashtag": "#123"}, "is not a hashtag"),
        ({"hashtag": ""}, "'#TraineeTalk'"),
        ({"host": "trainee talk"}, "is not an X username"),
        ({"host": "@a_very_long_username_indeed"}, "is not an X username"),
        ({"ends_at": START}, "is not after --start"),
        ({"ends_at": START - timedelta(minutes=1)}, "later than its start"),
        ({"ends_at": START + timedelta(hours=25)}, "more than 24 hours"),
    ],
)
def test_add_chat_refuses_bad_values_saying_what_to_type(
    session: Session, options: dict[str, Any], message: str
) -> None:
    values: dict[str, Any] = {"hashtag": "#TraineeTalk", "host": "TraineeTalk",
                              "starts_at": START, "ends_at": START + timedelta(hours=1)}  # fmt: skip
    with pytest.raises(TcbotError) as raised:
        add_chat(session, **{**values, **options})
    assert message in str(raised.value)
    assert session.scalars(select(Chat)).all() == []


def test_add_chat_refuses_the_same_chat_twice(session: Session) -> None:
    first = add_chat(session, hashtag="#TraineeTalk", host="TraineeTalk", starts_at=START,
                     ends_at=START + timedelta(hours=1))  # fmt: skip
    with pytest.raises(TcbotError, match=f"chat {first.id} already"):
        add_chat(session, hashtag="#traineetalk", host="traineetalk", starts_at=START,
                 ends_at=START + timedelta(hours=2))  # fmt: skip


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2026-12-02T19:55Z", datetime(2026, 12, 2, 19, 55, tzinfo=UTC)),
        ("2026-12-02T19:55:30+00:00", datetime(2026, 12, 2, 19, 55, 30, tzinfo=UTC)),
        ("2026-12-02T20:55+01:00", datetime(2026, 12, 2, 19, 55, tzinfo=UTC)),
        ("2026-12-02 19:55", datetime(2026, 12, 2, 19, 55, tzinfo=UTC)),  # GMT in winter
        ("2026-06-03T19:55", datetime(2026, 6, 3, 18, 55, tzinfo=UTC)),  # BST in summer
        ("20261202T1955Z", datetime(2026, 12, 2, 19, 55, tzinfo=UTC)),  # basic format
        ("2026-10-25T01:30", datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),  # twice: the first
    ],
)
def test_parse_chat_time_reads_iso_forms_and_local_times(text: str, utc: datetime) -> None:
    assert parse_chat_time(text, zone=LONDON, option="--start") == utc


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-12-02", "has no time of day"),
        ("yesterday", "is not a date and time"),
        ("2026-13-02T19:55Z", "is not a date and time"),
        ("2026-03-29T01:30", "does not exist in Europe/London"),
    ],
)
def test_parse_chat_time_errors_say_what_to_type(text: str, message: str) -> None:
    with pytest.raises(TcbotError) as raised:
        parse_chat_time(text, zone=LONDON, option="--end")
    assert message in str(raised.value) and "--end" in str(raised.value)
    assert "2026-12-02T19:55Z" in str(raised.value) or "offset" in str(raised.value)


def test_find_chat_by_id_or_local_date(session: Session) -> None:
    late = add_chat(session, hashtag="#A", host="h", starts_at=datetime(2026, 6, 3, 23, 30, tzinfo=UTC),
                    ends_at=datetime(2026, 6, 4, 0, 30, tzinfo=UTC))  # fmt: skip
    assert find_chat(session, str(late.id), zone=LONDON) is late
    assert find_chat(session, "2026-06-04", zone=LONDON) is late  # 00:30 BST on the 4th
    with pytest.raises(TcbotError, match="no chat started on 2026-06-03"):
        find_chat(session, "2026-06-03", zone=LONDON)
    add_chat(session, hashtag="#B", host="h", starts_at=datetime(2026, 6, 4, 9, tzinfo=UTC),
             ends_at=datetime(2026, 6, 4, 10, tzinfo=UTC))  # fmt: skip
    with pytest.raises(TcbotError, match="several chats started on 2026-06-04"):
        find_chat(session, "2026-06-04", zone=LONDON)
    with pytest.raises(TcbotError, match="there is no chat 99"):
        find_chat(session, "99", zone=LONDON)
    with pytest.raises(TcbotError, match="'last week' is not a chat"):
        find_chat(session, "last week", zone=LONDON)


# -- transcripts from the archive ------------------------------------------------------------


def answers(transcript: Transcript, number: int) -> list[tuple[int, str]]:
    return [(depth, e.tweet.id) for depth, e in walk(transcript.questions[number - 1].answers)]


def test_load_transcript_of_a_bot_chat(session: Session) -> None:
    chat = recorded_chat(session)
    ingest(
        session, *bot_thread(),
        post(1100, "@TraineeTalkBot A1 curiosity #TraineeTalk", by="bob", minutes=11,
             reply_to="1010", conversation_id="1000"),
        post(1101, "@bob same, no tag", by="cy", minutes=12, reply_to="1100",
             conversation_id="1000"),
        post(1102, "@TraineeTalkBot sleep", by="dee", minutes=21, reply_to="1020",
             conversation_id="1000"),
        post(1103, "A2 &amp; A3 walks #TraineeTalk", by="eve", minutes=31),
        retweet(1104, "1100", by="dee", minutes=13),
        post(1105, "Too early #TraineeTalk", by="eve", minutes=-20),
        post(1106, "Other chat #OtherTag", by="eve", minutes=15),
        post(1107, "Late reply #TraineeTalk", by="cy", minutes=105),
    )  # fmt: skip
    result = load_transcript(session, chat)
    assert answers(result, 1) == [(0, "1100"), (1, "1101")]
    assert answers(result, 2) == [(0, "1102"), (0, "1103")]
    assert answers(result, 3) == [(0, "1103")]
    assert [t.id for t in result.general] == ["1000", "1090"]
    assert result.stats.retweets == 1
    assert result.questions[1].answers[1].tweet.text == "A2 & A3 walks #TraineeTalk"
    assert {t.id for t in result.tweets}.isdisjoint({"1105", "1106", "1107"})


def test_load_transcript_of_a_manual_chat_finds_the_hosts_questions(session: Session) -> None:
    ingest(
        session,
        post(2000, "Hello! #TraineeTalk tonight", by="bob", minutes=0),
        post(2010, "Q1: How do you rest? #TraineeTalk", by="bob", minutes=5),
        post(2011, "@bob walking", by="cy", minutes=6, reply_to="2010"),
        post(2020, "@cy Q2 And supervision? #TraineeTalk", by="bob", minutes=10, reply_to="2011",
             conversation_id="2010"),
        post(2021, "A2 honesty #TraineeTalk", by="dee", minutes=11),
        post(2022, "I liked Q1 #TraineeTalk", by="cy", minutes=12),
    )  # fmt: skip
    chat = add_chat(session, hashtag="#TraineeTalk", host="BOB", starts_at=START,
                    ends_at=START + timedelta(hours=1))  # fmt: skip
    result = load_transcript(session, chat)
    assert [q.tweet.id if q.tweet else None for q in result.questions] == ["2010", "2020"]
    assert answers(result, 1) == [(0, "2011")]
    assert answers(result, 2) == [(0, "2021")]
    assert [t.id for t in result.general] == ["2000", "2022"]


def test_load_transcript_first_time_counts_the_whole_archive(session: Session) -> None:
    week = timedelta(days=7)
    first = add_chat(session, hashtag="#TraineeTalk", host=BOT, starts_at=START,
                     ends_at=START + timedelta(hours=1))  # fmt: skip
    second = add_chat(session, hashtag="#TraineeTalk", host=BOT, starts_at=START + week,
                      ends_at=START + week + timedelta(hours=1))  # fmt: skip
    ingest(
        session,
        post(3000, "hi #TraineeTalk", by="bob", minutes=5),
        post(3001, "back again #TraineeTalk", by="bob", minutes=5 + 7 * 24 * 60),
        post(3002, "first time #TraineeTalk", by="cy", minutes=6 + 7 * 24 * 60),
        post(3003, "said hello elsewhere first #TherapistsConnect", by="dee", minutes=-60 * 24),
        post(3004, "and now here #TraineeTalk", by="dee", minutes=7 + 7 * 24 * 60),
    )
    one = {p.username: p.first_time for p in load_transcript(session, first).participants}
    two = {p.username: p.first_time for p in load_transcript(session, second).participants}
    assert one == {"bob": True}
    assert two == {"bob": False, "cy": True, "dee": False}


def test_load_transcript_leaves_out_protected_accounts_unless_asked(session: Session) -> None:
    chat = recorded_chat(session)
    ingest(
        session, *bot_thread(),
        post(1100, "A1 not public #TraineeTalk", by="priv", minutes=11),
        post(1101, "@priv agreed", by="bob", minutes=12, reply_to="1100", conversation_id="1100"),
        priv=True,
    )  # fmt: skip
    hidden = load_transcript(session, chat)
    assert answers(hidden, 1) == []
    assert "1100" not in {t.id for t in hidden.tweets}
    assert [t.id for t in hidden.general] == ["1000", "1101", "1090"]
    shown = load_transcript(session, chat, include_protected=True)
    assert answers(shown, 1) == [(0, "1100"), (1, "1101")]
