"""Crash safety of welcomes: `tcbot run --drain` killed with SIGKILL again and again.

The test process runs the sandbox X API on a loopback port, seeds it with newcomers
whose posts mention the bot, collects them with a Tracker and queues their welcomes
with a Welcomer (a drain runs neither). Each child is `python -m bot run --drain`
with TCBOT_CRASH_AT naming where it dies (after the claim, between X's answer and the
record, after finding the reply on X, after the record). Children are started until
every welcome is sent; then each newcomer must have exactly one welcome reply on the
sandbox, to their own post, recorded with its X id, and nobody else any.

Welcome texts may repeat between people (two Anas), so a recovering sender must match
the reply target too, not only the text (bot/sender.py `find_own_post`): two of the
newcomers share a first name here, and the rotation of texts gives them the same words.
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
from archive.models import OutboxPost, PostKind, PostStatus, Welcome, WelcomeStatus
from bot.clock import FakeClock
from bot.sandbox.remote import SandboxAdmin
from bot.sandbox.server import SandboxServer, start_sandbox
from bot.tracker import Tracker, TrackerSettings
from bot.welcome_texts import default_config
from bot.welcomes import WelcomePolicy, Welcomer
from bot.wiring import SANDBOX_CREDENTIALS, make_x_client
from tests.daemon_harness import HASHTAG

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(150)]

BOT = "TraineeTalkBot"
REPO = Path(__file__).resolve().parent.parent
NEWCOMERS = 12
# One round of crash points, repeated until every welcome is sent; "step:n" kills at
# the n-th time the child passes the step. A round sends four welcomes in eight kills.
CRASH_ROUND = (
    "claimed:1",  # claimed, X not called: the next child finds nothing and sends it
    "sent_to_x:1",  # on X, id not recorded: the next child must find it, not resend it
    "found_on_x:1",  # found on X, not recorded: found again by the next child
    "recorded:1",  # recorded: the next child goes on with the next welcome
    "sent_to_x:2",  # one welcome sent and recorded, the next on X but not recorded
    "found_on_x:1",
    "recorded:1",
    "claimed:2",  # one welcome sent, the next claimed and not sent
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
        TCBOT_QUIET_HOURS="none",  # whatever the time of the run
        TCBOT_WELCOMES_PER_HOUR="100",
        TCBOT_WELCOMES_PER_DAY="1000",
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


def welcome_posts(sessions: sessionmaker[Session]) -> list[OutboxPost]:
    with sessions() as session:
        query = select(OutboxPost).where(OutboxPost.kind == PostKind.WELCOME)
        return list(session.scalars(query.order_by(OutboxPost.id)))


def queue_welcomes(
    server: SandboxServer, sessions: sessionmaker[Session]
) -> tuple[dict[str, str], Welcomer]:
    """Seed newcomers (and a regular), collect and decide as the daemon would; returns
    each newcomer's user id -> the post they mentioned the bot in, and the Welcomer."""
    admin = SandboxAdmin(server.url)
    admin.add_user("regular", name="Rae Gular")
    admin.post_as("regular", f"See you all at {HASHTAG}")
    # The sandbox and the children run on the machine's time; welcomes begin a second ago
    # (surely before the newcomers post) and are queued due now.
    clock = FakeClock(datetime.now(UTC) - timedelta(seconds=1))
    client = make_x_client(SANDBOX_CREDENTIALS, base_url=server.url, clock=clock, on_call=None)
    tracker = Tracker(client=client, sessions=sessions, clock=clock, bot_username=BOT,
                      settings=TrackerSettings(hashtags=(HASHTAG,)))  # fmt: skip
    welcomer = Welcomer(
        sessions=sessions, clock=clock, config=default_config(), hashtags=(HASHTAG,),
        policy=WelcomePolicy(quiet_hours=None, per_hour=100, per_day=1000), me=client.me,
    )  # fmt: skip
    assert tracker.poll_all().new_posts == 1
    assert welcomer.tick().known == 1  # welcomes begin: the regular, archived, is known
    targets = {}
    for n in range(NEWCOMERS):
        name = "Ana Lopez" if n in (0, 2) else f"Person{n} Smith"  # the same words, twice
        user = admin.add_user(f"newcomer{n}", name=name)
        post = admin.post_as(user["username"], f"@{BOT} hello from a first-year trainee {n}! "
                             f"{HASHTAG}")  # fmt: skip
        targets[user["id"]] = post["id"]
    admin.post_as("regular", f"@{BOT} glad to be back {HASHTAG}")
    clock.set(datetime.now(UTC))
    collected = tracker.poll_all().new_posts
    assert collected == NEWCOMERS + 1
    report = welcomer.tick(new_posts=collected)
    assert (report.queued, report.listed) == (NEWCOMERS, 0)
    return targets, welcomer


def test_welcomes_crash_sigkill_anywhere_welcomes_each_newcomer_exactly_once(
    tmp_path: Path, server: SandboxServer, database: tuple[str, sessionmaker[Session]]
) -> None:
    url, sessions = database
    targets, welcomer = queue_welcomes(server, sessions)
    texts = [post.text for post in welcome_posts(sessions)]
    assert len(set(texts)) < len(texts)  # the two Anas' welcomes read the same

    kills: set[tuple[str, int]] = set()
    for crash_at in itertools.islice(itertools.cycle(CRASH_ROUND), 60):
        done = sum(row.status is PostStatus.SENT for row in welcome_posts(sessions))
        if done == NEWCOMERS:
            break
        env = child_env(tmp_path, url=url, x_api=server.url, crash_at=crash_at)
        finished = run_child(env, tmp_path)
        if finished.returncode == -signal.SIGKILL:
            kills.add((crash_at, done))  # where in the queue it died
        else:
            assert finished.returncode == 0, finished.stderr
    final = run_child(child_env(tmp_path, url=url, x_api=server.url, crash_at=None), tmp_path)
    assert final.returncode == 0, final.stderr

    assert len(kills) >= 20, sorted(kills)
    assert {point.split(":")[0] for point, _ in kills} == {
        "claimed", "sent_to_x", "found_on_x", "recorded",
    }  # fmt: skip
    assert_welcomed_once_each(server, sessions, targets)
    assert welcomer.tick(new_posts=1).queued == 0  # brings the welcome rows up to date
    with sessions() as session:
        welcomes = {w.user_id: w for w in session.scalars(select(Welcome))}
    assert {uid: welcomes[uid].status for uid in targets} == dict.fromkeys(
        targets, WelcomeStatus.SENT
    )


def assert_welcomed_once_each(
    server: SandboxServer, sessions: sessionmaker[Session], targets: dict[str, str]
) -> None:
    bot = server.state.user_by_username(BOT)
    assert bot is not None
    on_x = [t for t in reversed(server.state.newest_first()) if t.author_id == bot.id]
    assert len(on_x) == NEWCOMERS  # the bot posted nothing but the welcomes
    assert sorted(t.in_reply_to_user_id or "" for t in on_x) == sorted(targets)  # once each
    assert {t.in_reply_to_user_id: t.in_reply_to_tweet_id for t in on_x} == targets
    by_id = {t.id: t for t in on_x}
    rows = welcome_posts(sessions)
    assert all(row.status is PostStatus.SENT for row in rows)
    for row in rows:
        reply = by_id[row.x_id or ""]  # recorded with the id of its reply on X
        assert reply.in_reply_to_tweet_id == row.reply_target
        assert reply.text[reply.display_start :] == row.text
    assert len({row.x_id for row in rows}) == NEWCOMERS
    with sessions() as session:
        welcomes = {w.user_id: w for w in session.scalars(select(Welcome))}
    assert {uid: welcomes[uid].tweet_id for uid in targets} == targets
