"""The daemon's collecting jobs: the tracker runs under the real scheduler while the
daemon holds the poster lease, and the daily sweep checks a share of the archive once a
UTC day (through the sandbox X API, on a fake clock)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from archive.db import make_session_factory
from archive.models import ApiUsage, TrackerMark, Tweet
from bot.clock import FakeClock
from bot.daemon import DailySweep, run_daemon
from bot.lease import make_holder
from bot.sandbox.remote import SandboxAdmin
from bot.sandbox.server import SandboxServer, start_sandbox
from bot.tracker import PollReport, Tracker, TrackerSettings
from bot.wiring import SANDBOX_CREDENTIALS, make_x_client, usage_recorder
from bot.x_client import TweepyXClient

START = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
BOT = "TraineeTalkBot"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


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


class CountingTracker(Tracker):
    """A real tracker that also says when it has ticked."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ticked = threading.Event()

    def tick(self) -> PollReport:
        report = super().tick()
        self.ticked.set()
        return report


def test_the_daemon_runs_the_tracker_and_archives_the_hashtag(
    client: TweepyXClient, sessions: sessionmaker[Session], server: SandboxServer,
    clock: FakeClock,
) -> None:  # fmt: skip
    admin = SandboxAdmin(server.url)
    admin.add_user("ana")
    admin.post_as("ana", "Hello #TraineeTalk")
    clock.advance(60)
    tracker = CountingTracker(
        client=client, sessions=sessions, clock=clock, bot_username=BOT,
        settings=TrackerSettings(hashtags=("#TraineeTalk",)),
    )  # fmt: skip
    stop = threading.Event()
    bot = partial(
        run_daemon, sessions=sessions, client=client, clock=clock, holder=make_holder(),
        schedule_paths=(), stop=stop, bot_username=BOT, tracker=tracker,
        post_every=0.05, track_every=0.05,
    )  # fmt: skip
    daemon = threading.Thread(target=bot)
    daemon.start()
    try:
        assert tracker.ticked.wait(timeout=30)
    finally:
        stop.set()
        daemon.join(timeout=30)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Tweet)) == 1


def collect(client: TweepyXClient, sessions: sessionmaker[Session], clock: FakeClock) -> None:
    """One round of polling #TraineeTalk into the archive."""
    Tracker(
        client=client, sessions=sessions, clock=clock,
        settings=TrackerSettings(hashtags=("#TraineeTalk",)),
    ).poll_all()  # fmt: skip


def sweep_requests(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(ApiUsage).where(ApiUsage.purpose == "sweep")
            )
            or 0
        )


def test_the_daily_sweep_checks_a_share_once_a_day_and_removes_what_x_deleted(
    client: TweepyXClient, sessions: sessionmaker[Session], server: SandboxServer,
    clock: FakeClock,
) -> None:  # fmt: skip
    admin = SandboxAdmin(server.url)
    admin.add_user("ana")
    posts = [admin.post_as("ana", f"#TraineeTalk note {n}") for n in range(150)]
    clock.advance(60)
    collect(client, sessions, clock)
    gone = client.post("a post of the bot's own, deleted below #TraineeTalk")
    clock.advance(60)
    collect(client, sessions, clock)
    client.delete(gone.id)
    clock.advance(60)
    alerts: list[str] = []
    daily = DailySweep(client=client, sessions=sessions, clock=clock, sweep_days=2,
                       on_alert=alerts.append)  # fmt: skip

    assert daily.tick() is True  # 151 posts over 2 days: 76 today, in one request of 76
    assert sweep_requests(sessions) == 1
    assert daily.tick() is False  # done for today
    clock.advance(timedelta(hours=20).total_seconds())  # the next UTC day
    assert daily.tick() is True
    assert sweep_requests(sessions) == 2
    with sessions() as session:
        assert session.get(Tweet, gone.id) is None  # deleted on X: removed here
        assert session.get(Tweet, posts[0]["id"]) is not None
        marks = set(session.scalars(select(TrackerMark.name)))
    assert marks == {"sweep:2026-12-02", "sweep:2026-12-03"}
    assert alerts == []


def test_a_sweep_stopped_by_x_is_tried_again_later_the_same_day(
    client: TweepyXClient, sessions: sessionmaker[Session], server: SandboxServer,
    clock: FakeClock,
) -> None:  # fmt: skip
    admin = SandboxAdmin(server.url)
    admin.add_user("ana")
    admin.post_as("ana", "#TraineeTalk one")
    clock.advance(60)
    collect(client, sessions, clock)
    daily = DailySweep(client=client, sessions=sessions, clock=clock, sweep_days=30)
    admin.set_faults(queue=[503])
    assert daily.tick() is False
    clock.advance(3600)
    assert daily.tick() is True
