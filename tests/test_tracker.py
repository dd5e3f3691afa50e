"""The scheduled tracker against the sandbox X API: what it reads, when, and what it keeps.

Every test runs real requests (tweepy) against the sandbox over loopback, on a fake
clock shared by the sandbox, the sender and the tracker, so a whole week passes in
milliseconds and nothing sleeps.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from archive.chats import add_chat
from archive.cursors import advance_cursor, get_cursor
from archive.db import make_session_factory
from archive.gaps import gaps_overlapping, id_time, recent_gaps
from archive.models import ApiUsage, OutboxPost, PostKind, RootLookup, TrackerMark, Tweet
from bot import outbox
from bot.clock import FakeClock
from bot.sandbox.remote import SandboxAdmin
from bot.sandbox.server import SandboxServer, start_sandbox
from bot.sender import Sender
from bot.tracker import (
    ChatWindow,
    Tracker,
    TrackerSettings,
    chat_windows,
    conversation_cursor,
    hashtag_cursor,
)
from bot.wiring import SANDBOX_CREDENTIALS, make_x_client, usage_recorder
from bot.x_client import TweepyXClient
from tests.test_outbox import INTERVAL, START, chat_plan

pytestmark = pytest.mark.e2e

BOT = "TraineeTalkBot"
TAG = "#traineetalk"
SETTINGS = TrackerSettings(hashtags=("#TraineeTalk",))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START - timedelta(hours=2))


@pytest.fixture
def server(clock: FakeClock) -> Iterator[SandboxServer]:
    with start_sandbox(clock=clock.now, bot_username=BOT) as running:
        yield running


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    """On SQLite and on PostgreSQL (conftest's `engine`)."""
    return make_session_factory(engine)


@pytest.fixture
def client(
    server: SandboxServer, clock: FakeClock, sessions: sessionmaker[Session]
) -> TweepyXClient:
    return make_x_client(
        SANDBOX_CREDENTIALS, base_url=server.url, clock=clock, on_call=usage_recorder(sessions)
    )


@pytest.fixture
def admin(server: SandboxServer) -> SandboxAdmin:
    admin = SandboxAdmin(server.url)
    for name in ("ana", "ben", "cleo", "dev"):
        admin.add_user(name)
    return admin


@pytest.fixture
def alerts() -> list[str]:
    return []


@pytest.fixture
def tracker(
    client: TweepyXClient, sessions: sessionmaker[Session], clock: FakeClock, alerts: list[str]
) -> Tracker:
    return make_tracker(client, sessions, clock, alerts)


def make_tracker(
    client: TweepyXClient,
    sessions: sessionmaker[Session],
    clock: FakeClock,
    alerts: list[str],
    settings: TrackerSettings = SETTINGS,
) -> Tracker:
    return Tracker(
        client=client, sessions=sessions, clock=clock, settings=settings,
        bot_username=BOT, on_alert=alerts.append,
    )  # fmt: skip


def count(sessions: sessionmaker[Session], model: type) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def reads(sessions: sessionmaker[Session], purpose: str | None = None) -> int:
    query = select(func.coalesce(func.sum(ApiUsage.posts_read), 0))
    if purpose is not None:
        query = query.where(ApiUsage.purpose == purpose)
    with sessions() as session:
        return int(session.scalar(query) or 0)


def queue_chat(sessions: sessionmaker[Session], clock: FakeClock, questions: int = 2) -> int:
    plan = chat_plan(questions=tuple(f"question {n}?" for n in range(1, questions + 1)),
                     reminders=())  # fmt: skip
    with sessions.begin() as session:
        outbox.add_chat(session, plan, origin="test", now=clock.now())
        return int(session.scalar(select(OutboxPost.chat_id).limit(1)) or 0)


def sender(client: TweepyXClient, sessions: sessionmaker[Session], clock: FakeClock) -> Sender:
    return Sender(sessions=sessions, client=client, clock=clock, holder="test:1:a",
                  bot_username=BOT)  # fmt: skip


def sent_id(sessions: sessionmaker[Session], kind: PostKind, number: int = 0) -> str:
    with sessions() as session:
        x_id = session.scalar(
            select(OutboxPost.x_id).where(OutboxPost.kind == kind, OutboxPost.number == number)
        )
    assert x_id is not None
    return x_id


def run_one_question_chat(
    client: TweepyXClient, sessions: sessionmaker[Session], clock: FakeClock, alerts: list[str]
) -> Tracker:
    """Queue and post a one-question chat (intro, Q1, closing), ticking the tracker after
    each post; the tracker."""
    queue_chat(sessions, clock, questions=1)
    poster = sender(client, sessions, clock)
    tracker = make_tracker(client, sessions, clock, alerts)
    for step in range(3):
        clock.set(START + step * INTERVAL)
        poster.send_next()
        tracker.tick()
    return tracker


# -- outside chats ------------------------------------------------------------------------


def test_a_hashtag_is_polled_every_15_minutes_from_its_cursor_reading_each_post_once(
    tracker: Tracker, admin: SandboxAdmin, clock: FakeClock, sessions: sessionmaker[Session]
) -> None:
    admin.post_as("ana", "Hello #TraineeTalk, first year here")
    admin.post_as("ben", "Not on the hashtag at all")
    clock.advance(60)
    first = tracker.tick()
    assert first.polled == [TAG] and first.new_posts == 1
    clock.advance(14 * 60)
    assert tracker.tick().polled == []  # not due yet
    admin.post_as("cleo", "#traineetalk anyone reading about endings?")
    clock.advance(60)
    second = tracker.tick()
    assert (second.polled, second.posts_read, second.new_posts) == ([TAG], 1, 1)
    assert count(sessions, Tweet) == 2
    assert reads(sessions) == reads(sessions, f"hashtag:{TAG}") == 2  # each post read once
    with sessions() as session:
        assert get_cursor(session, hashtag_cursor("#TraineeTalk")) is not None


# -- during a chat ------------------------------------------------------------------------


def test_a_chat_is_polled_every_30_seconds_with_its_conversation_and_nothing_is_read_twice(
    tracker: Tracker,
    client: TweepyXClient,
    admin: SandboxAdmin,
    clock: FakeClock,
    sessions: sessionmaker[Session],
) -> None:
    outbox_chat = queue_chat(sessions, clock)
    poster = sender(client, sessions, clock)
    clock.set(START - timedelta(minutes=25))
    tracker.tick()  # an idle poll
    clock.set(START - timedelta(minutes=16))
    assert tracker.tick().polled == []  # the window opens 15 minutes before the intro
    clock.set(START - timedelta(minutes=15))
    assert tracker.tick().polled == [TAG]
    clock.advance(20)
    assert tracker.tick().polled == []
    clock.advance(10)
    assert tracker.tick().polled == [TAG]  # 30 s later

    clock.set(START)
    poster.send_next()  # the intro
    intro = sent_id(sessions, PostKind.INTRO)
    clock.advance(30)
    assert tracker.tick().polled == [f"{TAG} OR conversation_id:{intro}"]
    posted = 0
    for n in (1, 2):
        clock.set(START + n * INTERVAL)
        poster.send_next()
        question = sent_id(sessions, PostKind.QUESTION, n)
        for person in ("ana", "ben"):
            answer = admin.post_as(person, f"@{BOT} A{n} my answer", reply_to=question)
            reply = admin.post_as("cleo", f"@{person} so true, {n}", reply_to=answer["id"])
            admin.post_as(person, f"A{n} and with the tag #TraineeTalk")
            posted += 3
            assert reply["conversation_id"] == intro
        for _ in range(4):
            clock.advance(30)
            tracker.tick()
    clock.set(START + 3 * INTERVAL)
    poster.send_next()  # the closing
    clock.advance(30)
    tracker.tick()

    bot_posts = 4  # intro, Q1, Q2, closing
    assert count(sessions, Tweet) == posted + bot_posts
    assert reads(sessions) == posted + bot_posts  # every post read exactly once
    assert reads(sessions, f"outbox-chat:{outbox_chat}") == posted + bot_posts
    with sessions() as session:
        posts_purposes = set(
            session.scalars(select(ApiUsage.purpose).where(ApiUsage.method == "POST"))
        )
    assert posts_purposes == {f"outbox-chat:{outbox_chat}"}  # posting counts for the chat


def test_late_sweeps_collect_replies_without_the_hashtag_once_each_after_restarts(
    client: TweepyXClient,
    admin: SandboxAdmin,
    clock: FakeClock,
    sessions: sessionmaker[Session],
    alerts: list[str],
) -> None:
    tracker = run_one_question_chat(client, sessions, clock, alerts)
    q1 = sent_id(sessions, PostKind.QUESTION, 1)
    closes = START + 2 * INTERVAL + timedelta(hours=1)
    clock.set(closes + timedelta(minutes=5))  # the window has closed
    late = admin.post_as("dev", f"@{BOT} A1 sorry I'm late", reply_to=q1)
    clock.advance(60)
    assert late["id"] not in set(tracker.tick().polled)
    with sessions() as session:
        assert session.get(Tweet, late["id"]) is None  # the hashtag poll cannot see it

    clock.set(closes + timedelta(hours=1))
    tracker = make_tracker(client, sessions, clock, alerts)  # a restart changes nothing
    swept = tracker.tick()
    assert f"conversation_id:{sent_id(sessions, PostKind.INTRO)} -{TAG}" in swept.polled
    with sessions() as session:
        assert session.get(Tweet, late["id"]) is not None
    clock.advance(60)
    again = make_tracker(client, sessions, clock, alerts).tick()
    assert not any(q.startswith("conversation_id:") for q in again.polled)  # once only

    later = admin.post_as("ana", f"@{BOT} A1 a day later", reply_to=q1)
    clock.set(closes + timedelta(hours=24))
    tracker.tick()
    with sessions() as session:
        assert session.get(Tweet, later["id"]) is not None
        marks = set(session.scalars(select(TrackerMark.name)))
    assert {m.rsplit(":", 1)[1] for m in marks} == {"1h", "24h"}
    assert alerts == []


def test_a_stopped_daemon_catches_up_with_one_late_sweep_not_two(
    client: TweepyXClient,
    admin: SandboxAdmin,
    clock: FakeClock,
    sessions: sessionmaker[Session],
    alerts: list[str],
) -> None:
    tracker = run_one_question_chat(client, sessions, clock, alerts)
    clock.set(START + 2 * INTERVAL + timedelta(hours=30))  # both sweeps are due at once
    report = tracker.tick()
    assert sum(q.startswith("conversation_id:") for q in report.polled) == 1
    assert count(sessions, TrackerMark) == 2


# -- gaps and limits ----------------------------------------------------------------------


def test_a_cursor_older_than_seven_days_starts_at_the_window_and_records_a_gap(
    tracker: Tracker,
    admin: SandboxAdmin,
    clock: FakeClock,
    sessions: sessionmaker[Session],
    alerts: list[str],
) -> None:
    old = admin.post_as("ana", "#TraineeTalk before the holiday")
    with sessions.begin() as session:
        advance_cursor(session, hashtag_cursor(TAG), old["id"], at=clock.now())
    clock.advance(timedelta(days=9).total_seconds())
    recent = admin.post_as("ben", "#TraineeTalk back again")
    clock.advance(60)
    report = tracker.tick()
    assert report.gaps == 1 and report.new_posts == 1
    with sessions() as session:
        gaps = recent_gaps(session, since=clock.now() - timedelta(days=1))
        assert session.get(Tweet, recent["id"]) is not None
    assert len(gaps) == 1
    gap = gaps[0]
    assert gap.hashtag == TAG and gap.starts_at == id_time(old["id"])
    assert gap.ends_at == clock.now() - timedelta(days=7) + timedelta(minutes=2)
    assert alerts and "could not be collected" in alerts[0]
    with sessions() as session:
        assert gaps_overlapping(
            session, hashtag="#TraineeTalk", starts_at=gap.starts_at, ends_at=gap.ends_at
        ) == [gap]


def test_a_poll_that_hits_its_page_limit_records_what_it_left_unread(
    client: TweepyXClient,
    admin: SandboxAdmin,
    clock: FakeClock,
    sessions: sessionmaker[Session],
    alerts: list[str],
) -> None:
    tracker = make_tracker(
        client, sessions, clock, alerts, TrackerSettings(hashtags=("#TraineeTalk",), max_pages=1)
    )
    tracker.tick()
    clock.advance(60)
    for n in range(150):
        admin.post_as("ana", f"#TraineeTalk busy night {n}")
    clock.advance(15 * 60)
    report = tracker.tick()
    assert report.new_posts == 100 and report.gaps == 1
    with sessions() as session:
        (gap,) = recent_gaps(session, since=START - timedelta(days=1))
        oldest_kept = session.scalar(select(func.min(Tweet.created_at)))
    assert oldest_kept is not None and gap.ends_at <= oldest_kept


def test_conversation_roots_the_search_leaves_out_are_looked_up_once(
    tracker: Tracker, admin: SandboxAdmin, clock: FakeClock, sessions: sessionmaker[Session]
) -> None:
    root = admin.post_as("dev", "Anyone else find process notes hard?")  # no hashtag
    admin.post_as("ana", "@dev yes! #TraineeTalk", reply_to=root["id"])
    clock.advance(60)
    report = tracker.tick()
    assert report.polled == [TAG, "lookup of 1 root(s)"]
    with sessions() as session:
        assert session.get(Tweet, root["id"]) is not None
        assert session.get(RootLookup, root["id"]).found is True  # type: ignore[union-attr]
    assert reads(sessions, f"hashtag:{TAG}") == 2  # the reply and its root
    admin.post_as("ben", "@dev me too #TraineeTalk", reply_to=root["id"])
    clock.advance(15 * 60)
    assert tracker.tick().polled == [TAG]  # the root is archived: no second lookup
    assert reads(sessions) == count(sessions, Tweet) == 3


def test_a_rate_limit_pauses_the_tracker_until_x_resets_it(
    tracker: Tracker, admin: SandboxAdmin, clock: FakeClock, sessions: sessionmaker[Session]
) -> None:
    admin.set_faults(queue=[429])
    assert tracker.tick().polled == []  # logged, not raised
    clock.advance(60)
    assert tracker.tick().polled == []  # still paused (X's reset is 15 minutes away)
    clock.advance(15 * 60)
    assert tracker.tick().polled == [TAG]


# -- which windows ------------------------------------------------------------------------


def test_chat_windows_come_from_the_outbox_and_from_chats_added_by_hand(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    outbox_chat = queue_chat(sessions, clock, questions=2)
    with sessions.begin() as session:
        manual = add_chat(
            session, hashtag="#TherapistsConnect", host="someone",
            starts_at=START + timedelta(hours=1), ends_at=START + timedelta(hours=2),
        )  # fmt: skip
        windows = chat_windows(session, now=START, keep=timedelta(days=2))
    assert windows == [
        ChatWindow(
            purpose=f"outbox-chat:{outbox_chat}", hashtag=TAG,
            opens_at=START - timedelta(minutes=15),
            closes_at=START + 3 * INTERVAL + timedelta(hours=1), conversation_id=None,
        ),
        ChatWindow(
            purpose=f"chat:{manual.id}", hashtag="#therapistsconnect",
            opens_at=START + timedelta(hours=1), closes_at=START + timedelta(hours=2),
            conversation_id=None,
        ),
    ]  # fmt: skip
    with sessions.begin() as session:
        outbox.cancel(session, "2026-12-02", at=clock.now())
        later = chat_windows(session, now=START, keep=timedelta(days=2))
    assert [w.purpose for w in later] == [f"chat:{manual.id}"]


def test_conversation_cursor_names() -> None:
    assert hashtag_cursor("#TraineeTalk") == "hashtag:#traineetalk"
    assert conversation_cursor("123") == "conversation:123"
