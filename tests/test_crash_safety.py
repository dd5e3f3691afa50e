"""Crash safety: `tcbot run --drain` killed with SIGKILL again and again, mid-chat.

The test process runs the sandbox X API on a loopback port and queues a chat in a
tmp_path database; each child is `python -m bot run --drain` against both, with
TCBOT_CRASH_AT naming where it dies (after the claim is committed, between X's answer
and the recording of its id, after finding a post on X, after the record). Children
are started until the chat is drained; then every planned post must be on the sandbox
exactly once, in one intact thread, and recorded with its X id.

The chat's thread posts are all planned for the same moment (interval 0), a little in
the past: each post re-anchors the next to the moment it went out, so every post is due
"now" and a drain posts the whole chat without waiting.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archive.db import make_engine, make_session_factory, upgrade
from archive.models import OutboxPost, PostStatus
from bot import outbox
from bot.sandbox.server import SandboxServer, start_sandbox
from tests.daemon_harness import HASHTAG, make_chat_plan

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(150)]

BOT = "TraineeTalkBot"
REPO = Path(__file__).resolve().parent.parent
# One round of crash points; repeated until the chat is drained. "step:n" kills at the
# n-th time this child passes the step, so n=2 lets a child finish a post first.
CRASH_ROUND = (
    "claimed:1",  # claim committed, X not called: recovery finds nothing, posts it
    "sent_to_x:1",  # on X, id not recorded: recovery must find it, not post it again
    "found_on_x:1",  # found on X, not yet recorded: found again next time
    "recorded:1",  # recorded: the next child goes on with the next post
    "sent_to_x:2",  # the same, one post further into a child's run
    "recorded:2",
    "claimed:2",
)


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with start_sandbox(bot_username=BOT) as running:
        yield running


@pytest.fixture
def database(tmp_path: Path) -> Iterator[tuple[str, sessionmaker[Session]]]:
    url = f"sqlite:///{tmp_path / 'tcbot.db'}"
    engine = make_engine(url)
    upgrade(engine)
    yield url, make_session_factory(engine)
    engine.dispose()


def child_env(tmp_path: Path, *, url: str, x_api: str, crash_at: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TCBOT_", "X_"))}
    schedule = tmp_path / "no-chats.toml"  # a valid file with no chats: syncing changes nothing
    schedule.write_text('[series]\nid = "traineetalk"\nhashtag = "#TraineeTalk"\n')
    env.update(
        TCBOT_DATABASE_URL=url,
        X_API_BASE_URL=x_api,  # and no credentials: the sandbox's own
        TCBOT_BOT_USERNAME=BOT,
        TCBOT_SCHEDULE_FILES=str(schedule),
        TCBOT_LOG_LEVEL="INFO",
    )
    if crash_at is not None:
        env["TCBOT_CRASH_AT"] = crash_at
    return env


def run_child(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """One `tcbot run --drain`, waited for (and so reaped: its pid reads as dead)."""
    return subprocess.run(
        [sys.executable, "-m", "bot", "--env-file", str(tmp_path / "none.env"), "run", "--drain"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def posts(sessions: sessionmaker[Session]) -> list[OutboxPost]:
    with sessions() as session:
        return list(session.scalars(select(OutboxPost).order_by(OutboxPost.due_at, OutboxPost.id)))


def test_crash_safety_sigkill_anywhere_posts_every_post_exactly_once(
    tmp_path: Path, server: SandboxServer, database: tuple[str, sessionmaker[Session]]
) -> None:
    url, sessions = database
    now = datetime.now(UTC)
    plan = make_chat_plan(now - timedelta(seconds=30), questions=14, interval=timedelta(0),
                          reminders=(2, 1))  # fmt: skip
    with sessions.begin() as session:
        outbox.add_chat(session, plan, origin="cli", now=now)

    kills: set[tuple[str, int]] = set()
    for crash_at in itertools.islice(itertools.cycle(CRASH_ROUND), 80):
        done = sum(row.status is PostStatus.SENT for row in posts(sessions))
        if done == len(plan.posts):
            break
        env = child_env(tmp_path, url=url, x_api=server.url, crash_at=crash_at)
        finished = run_child(env, tmp_path)
        if finished.returncode == -signal.SIGKILL:
            kills.add((crash_at, done))  # where in the chat it died
        else:
            assert finished.returncode == 0, finished.stderr
    final = run_child(child_env(tmp_path, url=url, x_api=server.url, crash_at=None), tmp_path)
    assert final.returncode == 0, final.stderr

    assert len(kills) >= 20, sorted(kills)
    assert {point.split(":")[0] for point, _ in kills} == {
        "claimed", "sent_to_x", "found_on_x", "recorded",
    }  # fmt: skip
    assert_posted_once_as_one_thread(server, posts(sessions))


def assert_posted_once_as_one_thread(server: SandboxServer, rows: list[OutboxPost]) -> None:
    bot = server.state.user_by_username(BOT)
    assert bot is not None
    on_x = [t for t in reversed(server.state.newest_first()) if t.author_id == bot.id]
    assert sorted(t.text for t in on_x) == sorted(row.text for row in rows)  # each exactly once
    assert all(row.status is PostStatus.SENT for row in rows)
    assert [row.x_id for row in rows] == [t.id for t in on_x]  # recorded, in order
    thread = [t for t, row in zip(on_x, rows, strict=True) if row.thread]
    intro = thread[0]
    assert intro.in_reply_to_tweet_id is None and intro.conversation_id == intro.id
    for parent, child in itertools.pairwise(thread):
        assert child.in_reply_to_tweet_id == parent.id
        assert child.conversation_id == intro.id
    reminders = [t for t, row in zip(on_x, rows, strict=True) if not row.thread]
    assert len(reminders) == 2 and all(t.in_reply_to_tweet_id is None for t in reminders)
    assert all(HASHTAG in t.text for t in on_x)


def test_two_daemon_processes_on_one_database_post_each_post_once(
    tmp_path: Path, server: SandboxServer, database: tuple[str, sessionmaker[Session]]
) -> None:
    url, sessions = database
    now = datetime.now(UTC)
    plan = make_chat_plan(now - timedelta(seconds=30), questions=4, interval=timedelta(0))
    with sessions.begin() as session:
        outbox.add_chat(session, plan, origin="cli", now=now)
    env = child_env(tmp_path, url=url, x_api=server.url, crash_at=None)
    command = [sys.executable, "-m", "bot", "--env-file", str(tmp_path / "none.env"), "run",
               "--drain"]  # fmt: skip
    children = [
        subprocess.Popen(command, cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    logs = [child.communicate(timeout=60)[1] for child in children]
    assert [child.returncode for child in children] == [0, 0], logs
    posters = [log for log in logs if "posted traineetalk" in log]
    assert len(posters) == 1, logs  # one child posted the whole chat, the other nothing
    assert posters[0].count("posted traineetalk") == len(plan.posts)
    assert_posted_once_as_one_thread_without_reminders(server, posts(sessions))


def assert_posted_once_as_one_thread_without_reminders(
    server: SandboxServer, rows: list[OutboxPost]
) -> None:
    bot = server.state.user_by_username(BOT)
    assert bot is not None
    on_x = [t for t in reversed(server.state.newest_first()) if t.author_id == bot.id]
    assert [t.text for t in on_x] == [row.text for row in rows]
    assert [row.x_id for row in rows] == [t.id for t in on_x]
    for parent, child in itertools.pairwise(on_x):
        assert child.in_reply_to_tweet_id == parent.id
