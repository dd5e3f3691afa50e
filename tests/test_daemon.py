"""The daemon: schedule watching and syncing, the post job's lease handling, the crash hook,
whole chats against the sandbox (with faults), two daemons on one database, and a short
run of the real scheduler."""

from __future__ import annotations

import itertools
import logging
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from archive.db import make_session_factory
from archive.models import OutboxPost, PostStatus
from bot import outbox
from bot.clock import FakeClock, SystemClock
from bot.daemon import (
    PostingLoop,
    ScheduleWatcher,
    crash_hook_from_env,
    run_daemon,
    sync_schedule_files,
)
from bot.errors import ConfigError
from bot.lease import acquire_lease, lease_info, make_holder
from bot.sandbox.faults import Faults
from bot.sandbox.remote import SandboxAdmin
from bot.sandbox.server import SandboxServer, start_sandbox
from bot.sender import Sender, SendStatus
from bot.wiring import SANDBOX_CREDENTIALS, make_x_client
from bot.x_client import PostedTweet, XClient
from tests.daemon_harness import HASHTAG, make_chat_plan
from tests.fakes import FakeXClient

START = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)
BOT = "TraineeTalkBot"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START - timedelta(days=2))


def queue(sessions: sessionmaker[Session], now: datetime, **options: Any) -> list[OutboxPost]:
    plan = make_chat_plan(options.pop("starts_at", START), **options)
    with sessions.begin() as session:
        outbox.add_chat(session, plan, origin="cli", now=now)
    return rows(sessions)


def rows(sessions: sessionmaker[Session]) -> list[OutboxPost]:
    with sessions() as session:
        return list(session.scalars(select(OutboxPost).order_by(OutboxPost.due_at, OutboxPost.id)))


def loop_for(
    sessions: sessionmaker[Session],
    client: XClient,
    clock: FakeClock,
    *,
    holder: str | None = None,
    stop: threading.Event | None = None,
) -> PostingLoop:
    sender = Sender(sessions=sessions, client=client, clock=clock, holder=holder or make_holder(),
                    bot_username=BOT)  # fmt: skip
    return PostingLoop(
        sessions=sessions, sender=sender, clock=clock, stop=stop or threading.Event()
    )


# -- schedule files --------------------------------------------------------------------------

SCHEDULE = """\
[series]
id = "traineetalk"
hashtag = "#TraineeTalk"
weekday = "wednesday"
start = "20:00"
timezone = "Europe/London"
interval_minutes = 10
reminders_minutes_before = [60]

[[chats]]
date = 2026-12-02
topic = "Getting the most out of supervision"
questions = ["How do you prepare for supervision?", "What do you bring to it?"]
"""


def test_schedule_watcher_notices_created_changed_and_removed_files(tmp_path: Path) -> None:
    path = tmp_path / "traineetalk.toml"
    watcher = ScheduleWatcher([path])
    assert watcher.changed()  # the first look always counts
    assert not watcher.changed()
    path.write_text(SCHEDULE)
    assert watcher.changed()
    assert not watcher.changed()
    path.write_text(SCHEDULE + "\n# a note\n")
    assert watcher.changed()
    path.unlink()
    assert watcher.changed() and not watcher.changed()
    watcher.forget()  # after a failed sync
    assert watcher.changed()


def test_sync_schedule_files_loads_the_chats_and_is_idempotent(
    tmp_path: Path, sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    path = tmp_path / "traineetalk.toml"
    path.write_text(SCHEDULE)
    report = sync_schedule_files(sessions, [path], clock=clock, on_alert=None)
    assert report is not None and len(report.added) >= 1
    posted = rows(sessions)
    assert [(row.kind.value, row.number) for row in posted] == [
        ("reminder", 60), ("intro", 0), ("question", 1), ("question", 2), ("closing", 0),
    ]  # fmt: skip
    again = sync_schedule_files(sessions, [path], clock=clock, on_alert=None)
    assert again is not None and not again.changed


def test_sync_schedule_files_with_an_error_changes_nothing_and_alerts(
    tmp_path: Path, sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    path = tmp_path / "traineetalk.toml"
    path.write_text(SCHEDULE)
    sync_schedule_files(sessions, [path], clock=clock, on_alert=None)
    before = [(row.id, row.status) for row in rows(sessions)]
    path.write_text(SCHEDULE.replace('topic = "Getting', 'topick = "Getting'))
    alerts: list[str] = []
    assert sync_schedule_files(sessions, [path], clock=clock, on_alert=alerts.append) is None
    assert [(row.id, row.status) for row in rows(sessions)] == before  # nothing cancelled
    assert len(alerts) == 1 and "tcbot schedule check" in alerts[0]


def test_run_daemon_drain_syncs_the_files_and_posts_what_is_due(
    tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    path = tmp_path / "traineetalk.toml"
    path.write_text(SCHEDULE)
    clock = FakeClock(START + timedelta(seconds=5))  # the intro (20:00 UTC = 20:00 GMT) is due
    fake = FakeXClient(clock=clock)
    run_daemon(sessions=sessions, client=fake, clock=clock, holder=make_holder(),
               schedule_paths=[path], stop=threading.Event(), drain=True,
               bot_username=BOT)  # fmt: skip
    statuses = [(row.kind.value, row.status) for row in rows(sessions)]
    assert statuses[:3] == [
        ("reminder", PostStatus.SENT), ("intro", PostStatus.SENT), ("question", PostStatus.QUEUED),
    ]  # fmt: skip
    assert len(fake.posts) == 2 and fake.posts[1].text.startswith("Welcome")
    assert lease_info(sessions) is None  # released on the way out


# -- the crash hook --------------------------------------------------------------------------


def test_crash_hook_is_off_without_the_variable() -> None:
    assert crash_hook_from_env({}) is None
    assert crash_hook_from_env({"TCBOT_CRASH_AT": "  "}) is None


@pytest.mark.parametrize("value", ["sent_to_x:0", "sent_to_x:x", ":2", "claimed:1,:3"])
def test_crash_hook_refuses_a_malformed_value(value: str) -> None:
    with pytest.raises(ConfigError) as raised:
        crash_hook_from_env({"TCBOT_CRASH_AT": value})
    assert raised.value.variable == "TCBOT_CRASH_AT" and "step:n" in str(raised.value)


def test_crash_hook_kills_the_process_at_the_nth_time_a_step_is_passed() -> None:
    script = (
        "from bot.daemon import crash_hook_from_env\n"
        "step = crash_hook_from_env({'TCBOT_CRASH_AT': 'sent_to_x:2'})\n"
        "step('sent_to_x'); step('claimed'); step('claimed')\n"
        "print('still alive', flush=True)\n"
        "step('sent_to_x')\n"
        "print('not reached', flush=True)\n"
    )
    finished = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert finished.returncode == -9
    assert finished.stdout == "still alive\n"


# -- the post job and the lease ----------------------------------------------------------------


def test_posting_loop_standby_posts_nothing_until_the_holder_stops_renewing(
    sessions: sessionmaker[Session], clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.daemon")
    queue(sessions, clock.now(), questions=1)
    clock.set(START)
    fake = FakeXClient(clock=clock)
    assert acquire_lease(sessions, holder="otherhost:99:live", now=clock.now())
    standby = loop_for(sessions, fake, clock)
    assert standby.tick() == [] and not standby.holding
    clock.advance(29)
    assert standby.tick() == [] and fake.posts == []
    standby_lines = [r.getMessage() for r in caplog.records if "standby" in r.getMessage()]
    assert standby_lines == [
        "standby: otherhost:99:live holds the poster lease; taking over if it stops"
    ]
    clock.advance(2)  # the other daemon last renewed 31 s ago: its lease has run out
    outcomes = standby.tick()
    assert [outcome.status for outcome in outcomes] == [SendStatus.SENT] and standby.holding
    info = lease_info(sessions)
    assert info is not None and info.holder == standby._sender.holder
    assert any("is now the poster" in r.getMessage() for r in caplog.records)


def test_posting_loop_stops_between_posts_when_asked(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    queue(sessions, clock.now(), questions=1, reminders=(90, 60, 30))
    clock.set(START - timedelta(minutes=5))  # three reminders due
    stop = threading.Event()
    fake = FakeXClient(clock=clock)

    class StopAfterFirst(FakeXClient):
        def post(self, text: str, **kwargs: Any) -> PostedTweet:
            stop.set()
            return fake.post(text, **kwargs)

    loop = loop_for(sessions, StopAfterFirst(clock=clock), clock, stop=stop)
    assert len(loop.tick()) == 1 and len(fake.posts) == 1
    loop.release()
    assert lease_info(sessions) is None


def test_run_daemon_drain_posts_nothing_while_another_daemon_holds_the_lease(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    queue(sessions, clock.now(), questions=1)
    clock.set(START)
    assert acquire_lease(sessions, holder="otherhost:99:live", now=clock.now())
    fake = FakeXClient(clock=clock)
    run_daemon(sessions=sessions, client=fake, clock=clock, holder=make_holder(),
               schedule_paths=[], stop=threading.Event(), drain=True)  # fmt: skip
    assert fake.calls == []
    info = lease_info(sessions)
    assert info is not None and info.holder == "otherhost:99:live"


# -- whole chats against the sandbox ----------------------------------------------------------


@pytest.fixture
def server(clock: FakeClock) -> Iterator[SandboxServer]:
    with start_sandbox(clock=clock.now, bot_username=BOT) as running:
        yield running


def sandbox_client(server: SandboxServer, clock: FakeClock) -> XClient:
    return make_x_client(SANDBOX_CREDENTIALS, base_url=server.url, clock=clock, on_call=None)


def run_until_done(loop: PostingLoop, sessions: sessionmaker[Session], clock: FakeClock) -> None:
    """Tick like the daemon, once a (fake) second, skipping ahead when nothing can happen."""
    for _ in range(5000):
        loop.tick()
        waiting = [row for row in rows(sessions) if row.status is PostStatus.QUEUED]
        if not waiting:
            return
        # a post due already but still queued waits for an earlier one: skip to what comes next
        events = [max(row.due_at, row.not_before or row.due_at) for row in waiting]
        later = [event for event in events if event > clock.now()]
        clock.set(max(clock.now() + timedelta(seconds=1), min(later, default=clock.now())))
    raise AssertionError("the chat never finished")


@dataclass(frozen=True, slots=True)
class Posted:
    id: str
    text: str
    conversation_id: str
    in_reply_to: str | None


def bot_posts(server: SandboxServer) -> list[Posted]:
    """Every post of the bot on the sandbox, oldest first."""
    bot = server.state.user_by_username(BOT)
    assert bot is not None
    return [
        Posted(t.id, t.text, t.conversation_id, t.in_reply_to_tweet_id)
        for t in reversed(server.state.newest_first())
        if t.author_id == bot.id
    ]


def assert_chat_posted_once_as_one_thread(
    server: SandboxServer, sessions: sessionmaker[Session]
) -> None:
    planned = rows(sessions)
    posted = bot_posts(server)
    assert sorted(p.text for p in posted) == sorted(row.text for row in planned)  # each once
    assert all(row.status is PostStatus.SENT for row in planned)
    assert [row.x_id for row in planned] == [p.id for p in posted]  # in due order
    thread = [p for p, row in zip(posted, planned, strict=True) if row.thread]
    intro = thread[0]
    assert intro.in_reply_to is None and intro.conversation_id == intro.id
    for parent, child in itertools.pairwise(thread):
        assert child.in_reply_to == parent.id and child.conversation_id == intro.id
    assert all(HASHTAG in p.text for p in posted)


@pytest.mark.e2e
def test_sandbox_chat_goes_out_once_in_order_as_one_thread(
    server: SandboxServer, sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    queue(sessions, clock.now(), questions=5, reminders=(1440, 60))
    loop = loop_for(sessions, sandbox_client(server, clock), clock)
    run_until_done(loop, sessions, clock)
    assert_chat_posted_once_as_one_thread(server, sessions)
    for row in rows(sessions):
        assert row.sent_at is not None and row.sent_at - row.planned_at <= timedelta(seconds=1)


@pytest.mark.e2e
@pytest.mark.parametrize(
    "faults",
    [
        Faults(unavailable=0.2, rate_limited=0.05, seed=8),
        Faults(unavailable=0.2, rate_limited=0.05, seed=28),
        Faults(unavailable=0.2, rate_limited=0.05, seed=31),
        # answers lost on the way back too: X posted, the bot never heard
        Faults(unavailable=0.15, rate_limited=0.05, dropped=0.05, dropped_after=0.05, seed=13),
    ],
    ids=["seed8", "seed28", "seed31", "with-drops"],
)
def test_sandbox_chat_survives_outages_and_rate_limits_within_lateness(
    server: SandboxServer, sessions: sessionmaker[Session], clock: FakeClock, faults: Faults
) -> None:
    queue(sessions, clock.now(), questions=6, reminders=(1440, 60))
    server.service.install_faults(faults)
    loop = loop_for(sessions, sandbox_client(server, clock), clock)
    run_until_done(loop, sessions, clock)
    assert_chat_posted_once_as_one_thread(server, sessions)
    for row in rows(sessions):
        assert row.sent_at is not None
        assert row.sent_at <= row.due_at + timedelta(seconds=row.lateness_seconds)
    answers = [r for r in server.service.requests() if r["path"].startswith("/2/tweets")]
    statuses = [r["status"] for r in answers]
    assert statuses.count(503) >= 2 and statuses.count(429) >= 1  # the faults did happen


@pytest.mark.e2e
def test_sandbox_post_whose_answer_was_lost_is_not_posted_twice(
    server: SandboxServer, sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    queue(sessions, clock.now(), questions=2)
    SandboxAdmin(server.url).set_faults(queue=["drop_after"])  # X posts it, the bot never hears
    loop = loop_for(sessions, sandbox_client(server, clock), clock)
    run_until_done(loop, sessions, clock)
    assert_chat_posted_once_as_one_thread(server, sessions)
    intro = rows(sessions)[0]
    assert intro.attempts == 2  # dropped, then a duplicate 403 resolved by searching


# -- two daemons on one database --------------------------------------------------------------


class RecordingClient:
    """An XClient that remembers which daemon posted what."""

    def __init__(self, inner: XClient, log: list[tuple[str, str]], name: str) -> None:
        self._inner = inner
        self._log = log
        self._name = name

    def post(self, text: str, **kwargs: Any) -> PostedTweet:
        posted = self._inner.post(text, **kwargs)
        self._log.append((self._name, text))
        return posted

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@pytest.mark.e2e
def test_two_daemons_on_one_database_only_the_lease_holder_posts(
    engine: Engine, clock: FakeClock, server: SandboxServer
) -> None:
    sessions = make_session_factory(engine)
    posted_by: list[tuple[str, str]] = []
    loops = {
        name: loop_for(
            sessions,
            RecordingClient(sandbox_client(server, clock), posted_by, name),
            clock,
            holder=f"{name}-host:{n + 1}:x",
        )
        for n, name in enumerate(("first", "second"))
    }
    for week in range(3):
        starts_at = START + timedelta(weeks=week)
        queue(sessions, clock.now(), starts_at=starts_at, questions=1, reminders=(30, 20, 10))
        clock.set(starts_at)  # three reminders and the intro are due
        barrier = threading.Barrier(2)
        results: dict[str, int] = {}

        def run(
            name: str,
            barrier: threading.Barrier = barrier,
            results: dict[str, int] = results,
        ) -> None:
            barrier.wait(timeout=10)
            sent = loops[name].tick()
            assert all(outcome.status is SendStatus.SENT for outcome in sent)
            results[name] = len(sent)

        threads = [threading.Thread(target=run, args=(name,)) for name in loops]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        week_posts = [entry for entry in posted_by if f"({starts_at.date()})" in entry[1]]
        posters = {name for name, _ in week_posts}
        assert len(posters) == 1, posters
        (winner,) = posters
        assert sorted(results.values()) == [0, 4] and len(week_posts) == 4
        info = lease_info(sessions)
        assert info is not None and info.holder == loops[winner]._sender.holder
        for loop in loops.values():
            loop.release()
    texts = [text for _, text in posted_by]
    assert len(texts) == len(set(texts)) == len(bot_posts(server)) == 12
    sent = [row for row in rows(sessions) if row.status is PostStatus.SENT]
    assert sorted(row.text for row in sent) == sorted(texts)


# -- the real scheduler, briefly ------------------------------------------------------------------


def test_run_daemon_with_the_real_scheduler_posts_due_posts_and_stops_cleanly(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    clock = SystemClock()
    now = clock.now()
    next_week = (now + timedelta(days=7)).date()
    schedule = tmp_path / "traineetalk.toml"
    schedule.write_text(SCHEDULE.replace("date = 2026-12-02", f"date = {next_week}"))
    queue(sessions, now, starts_at=now - timedelta(seconds=2), questions=1, reminders=(30,))
    all_posted = threading.Event()
    fake = FakeXClient(clock=clock)

    class Signalling(FakeXClient):
        def post(self, text: str, **kwargs: Any) -> PostedTweet:
            posted = fake.post(text, **kwargs)
            if len(fake.posts) == 2:
                all_posted.set()
            return posted

    stop = threading.Event()
    daemon = threading.Thread(
        target=run_daemon,
        kwargs={"sessions": sessions, "client": Signalling(clock=clock), "clock": clock,
                "holder": make_holder(), "schedule_paths": [schedule], "stop": stop,
                "bot_username": BOT},
    )  # fmt: skip
    daemon.start()
    try:
        assert all_posted.wait(timeout=20)
        info = lease_info(sessions)
        assert info is not None and info.expires_at > now
    finally:
        stop.set()
        daemon.join(timeout=20)
    assert not daemon.is_alive()
    assert lease_info(sessions) is None  # released, so a standby can take over at once
    statuses = [row.status for row in rows(sessions) if row.chat_date != next_week]
    assert statuses == [PostStatus.SENT, PostStatus.SENT, PostStatus.QUEUED, PostStatus.QUEUED]
    synced = [row for row in rows(sessions) if row.chat_date == next_week]
    assert len(synced) == 5  # the file was synced at start-up
    assert fake.posts[0].text.startswith("Reminder") and fake.posts[1].text.startswith("Welcome")
