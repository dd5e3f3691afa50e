"""The sender against FakeXClient and a real SQLite outbox: every path of claim, send, record."""

from __future__ import annotations

import random
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archive.models import OutboxPost, PostKind, PostStatus
from bot import outbox
from bot.clock import FakeClock
from bot.errors import RateLimited, XRejected, XRejectReason, XUnavailable
from bot.sender import (
    AUTH_RETRY,
    MAX_ATTEMPTS,
    Backoff,
    Sender,
    SendStatus,
    normalise_text,
)
from tests.daemon_harness import HASHTAG, make_chat_plan
from tests.fakes import BOT_ACCOUNT, FakeXClient, make_tweet

START = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)
HOLDER = f"{socket.gethostname()}:{1}:sender"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START - timedelta(minutes=5))


@pytest.fixture
def fake_x(clock: FakeClock) -> FakeXClient:
    return FakeXClient(clock=clock)


@pytest.fixture
def alerts() -> list[str]:
    return []


@pytest.fixture
def steps() -> list[str]:
    return []


@pytest.fixture
def sender(
    sessions: sessionmaker[Session],
    fake_x: FakeXClient,
    clock: FakeClock,
    alerts: list[str],
    steps: list[str],
) -> Sender:
    return Sender(
        sessions=sessions, client=fake_x, clock=clock, holder=HOLDER,
        bot_username=BOT_ACCOUNT.username, step=steps.append, on_alert=alerts.append,
        rng=random.Random(7),
    )  # fmt: skip


def queue_chat(sessions: sessionmaker[Session], clock: FakeClock, **options: object) -> None:
    plan = make_chat_plan(START, **options)  # type: ignore[arg-type]
    with sessions.begin() as session:
        outbox.add_chat(session, plan, origin="cli", now=clock.now())


def rows(sessions: sessionmaker[Session]) -> list[OutboxPost]:
    with sessions() as session:
        return list(session.scalars(select(OutboxPost).order_by(OutboxPost.due_at, OutboxPost.id)))


def thread_rows(sessions: sessionmaker[Session]) -> list[OutboxPost]:
    return [row for row in rows(sessions) if row.thread]


def send_until_idle(sender: Sender, limit: int = 50) -> list[SendStatus]:
    statuses: list[SendStatus] = []
    for _ in range(limit):
        outcome = sender.send_next()
        if outcome is None:
            return statuses
        statuses.append(outcome.status)
    raise AssertionError("send_next never ran out of posts")


def at_due(clock: FakeClock, row: OutboxPost) -> None:
    clock.set(row.due_at)


# -- the happy path ------------------------------------------------------------------------


def test_sender_sends_nothing_before_due(
    sender: Sender, sessions: sessionmaker[Session], fake_x: FakeXClient, clock: FakeClock
) -> None:
    queue_chat(sessions, clock)
    assert sender.send_next() is None
    assert fake_x.posts == []


def test_sender_posts_a_chat_in_order_as_one_thread(
    sender: Sender,
    sessions: sessionmaker[Session],
    fake_x: FakeXClient,
    clock: FakeClock,
    steps: list[str],
) -> None:
    queue_chat(sessions, clock, questions=3, reminders=(60,))
    for row in rows(sessions):
        at_due(clock, row)
        outcome = sender.send_next()
        assert outcome is not None and outcome.status is SendStatus.SENT
        assert outcome.post_id == row.id and outcome.x_id == fake_x.posts[-1].id
        assert sender.send_next() is None  # one post per due time
    reminder, intro, *rest = fake_x.posts
    assert reminder.reply_to is None and intro.reply_to is None
    parents = [intro.id] + [post.id for post in rest[:-1]]
    assert [post.reply_to for post in rest] == parents
    assert all(HASHTAG in post.text for post in fake_x.posts)
    final = rows(sessions)
    assert [row.status for row in final] == [PostStatus.SENT] * 6
    assert [row.x_id for row in final] == [post.id for post in fake_x.posts]
    assert [row.replied_to_x_id for row in final] == [None, None, *parents]
    assert steps == ["claimed", "sent_to_x", "recorded"] * 6


def test_sender_catches_up_every_due_post_one_per_call_in_due_order(
    sender: Sender, sessions: sessionmaker[Session], fake_x: FakeXClient, clock: FakeClock
) -> None:
    queue_chat(sessions, clock, questions=1, reminders=(90, 60, 30))
    clock.set(START - timedelta(minutes=10))  # three reminders due, none past its lateness
    assert send_until_idle(sender) == [SendStatus.SENT] * 3
    assert [post.text.split(" in ")[1][:10] for post in fake_x.posts] == [
        "90 minutes", "60 minutes", "30 minutes",
    ]  # fmt: skip


def test_sender_asks_x_for_its_username_once_when_not_given(
    sessions: sessionmaker[Session], fake_x: FakeXClient, clock: FakeClock
) -> None:
    sender = Sender(sessions=sessions, client=fake_x, clock=clock, holder=HOLDER,
                    bot_username=None)  # fmt: skip
    queue_chat(sessions, clock, questions=1)
    first = thread_rows(sessions)[0]
    fake_x.post(first.text)  # already on X: the sender must search, as itself
    fake_x.calls.clear()
    at_due(clock, first)
    for _ in range(2):
        outcome = sender.send_next()
        assert outcome is not None
        clock.advance(timedelta(minutes=10))
    assert fake_x.calls.count("me") == 1


# -- rate limits, outages, backoff ------------------------------------------------------


def test_sender_rate_limited_waits_for_the_reset_time(
    sender: Sender, sessions: sessionmaker[Session], fake_x: FakeXClient, clock: FakeClock
) -> None:
    queue_chat(sessions, clock, questions=1)
    clock.set(START)
    reset = START + timedelta(minutes=3)
    fake_x.fail_next(RateLimited(reset_at=reset, endpoint="POST /2/tweets"), method="post")
    outcome = sender.send_next()
    assert outcome is not None and outcome.status is SendStatus.RETRY
    assert outcome.not_before == reset
    clock.set(reset - timedelta(seconds=1))
    assert sender.send_next() is None
    clock.set(reset)
    outcome = sender.send_next()
    assert outcome is not None and outcome.status is SendStatus.SENT
    intro = thread_rows(sessions)[0]
    assert intro.status is PostStatus.SENT and len(fake_x.posts) == 1


def test_sender_rate_limited_without_reset_time_tries_again_soon(
    sender: Sender, sessions: sessionmaker[Session], fake_x: FakeXClient, clock: FakeClock
) -> None:
    queue_chat(sessions, clock, questions=1)
    clock.set(START)
    fake_x.fail_next(RateLimited(reset_at=None), method="post")
    outcome = sender.send_next()
    assert outcome is not None and outcome.not_before == START + timedelta(seconds=1)


def test_sender_outage_backs_off_within_bounds_then_gives_up(
    sender: Sender,
    sessions: sessionmaker[Session],
    fake_x: FakeXClient,
    clock: FakeClock,
    alerts: list[str],
) -> None:
    queue_chat(sessions, clock, questions=1, lateness=timedelta(hours=1))
    clock.set(START)
    delays = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        fake_x.fail_next(XUnavailable("503 Service Unavailable", status=503), method="post")
        outcome = sender.send_next()
        assert outcome is not None
        if attempt == MAX_ATTEMPTS:
            assert outcome.status is SendStatus.FAILED
            break
        assert outcome.status is SendStatus.RETRY and outcome.not_before is not None
        delay = (outcome.not_before - clock.now()).total_seconds()
        assert 1 <= delay <= min(300, 5 * 2 ** (attempt - 1))
        delays.append(delay)
        clock.set(outcome.not_before)
    assert len(delays) == MAX_ATTEMPTS - 1
    intro = thread_rows(sessions)[0]
    assert intro.status is PostStatus.FAILED and intro.attempts == MAX_ATTEMPTS
    assert fake_x.posts == []
    assert len(alerts) == 1 and "failed" in alerts[0] and "8 attempts" in alerts[0]


@pytest.mark.parametrize("attempt", [1, 2, 3, 4, 6, 7, 8, 20])
def test_backoff_delay_is_jittered_between_floor_and_capped_ceiling(attempt: int) -> None:
    backoff = Backoff()
    rng = random.Random(attempt)
    ceiling = min(300.0, 5.0 * 2 ** (attempt - 1))
    delays = [backoff.delay(attempt, rng).total_seconds() for _ in range(200)]
    assert all(1.0 <= delay <= ceiling for delay in delays)
    assert max(delays) - min(delays) > 0.5 * (ceiling - 1.0)  # spread out: full jitter


def test_backoff_is_repeatable_with_a_seeded_random() -> None:
    first = [Backoff().delay(n, random.Random(3)) for n in range(1, 9)]
    second = [Backoff().delay(n, random.Random(3)) for n in range(1, 9)]
    assert first == second


# -- duplicates and recovery --------------------------------------------------------------


def test_sender_duplicate_already_on_x_is_recorded_not_posted_again(
    sender: Sender, sessions: sessionmaker[Session], fake_x: FakeXClient, clock: FakeClock,
    steps: list[str],
) -> None:  # fmt: skip
    queue_chat(sessions, clock, questions=1)
    intro = thread_rows(sessions)[0]
    earlier = fake_x.post(intro.text)  # e.g. the answer to a dropped request
    at_due(clock, intro)
    outcome = sender.send_next()
    assert outcome is not None and outcome.status is SendStatus.RESOLVED
    assert outcome.x_id == earlier.id and len(fake_x.posts) == 1
    assert thread_rows(sessions)[0].x_id == earlier.id
    assert fake_x.searches[-1].query == f"from:{BOT_ACCOUNT.username}"
    assert steps == ["claimed", "found_on_x", "recorded"]


def test_sender_duplicate_not_found_on_x_fails_and_says_change_the_text(
    sender: Sender,
    sessions: sessionmaker[Session],
    fake_x: FakeXClient,
    clock: FakeClock,
    alerts: list[str],
) -> None:
    queue_chat(sessions, clock, questions=1)
    clock.set(START)
    fake_x.fail_next(
        XRejected(XRejectReason.DUPLICATE_CONTENT, "duplicate", "change it", status=403),
        method="post",
    )
    outcome = sender.send_next()
    assert outcome is not None and outcome.status is SendStatus.FAILED
    assert "change the text" in outcome.error
    intro = thread_rows(sessions)[0]
    assert intro.status is PostStatus.FAILED and "change the text" in (intro.last_error or "")
    assert len(alerts) == 1 and "change the text" in alerts[0]


def test_sender_duplicate_whose_search_fails_is_retried(
    sender: Sender, sessions: sessionmaker[Session], fake_x: FakeXClient, clock: FakeClock
) -> None:
    queue_chat(sessions, clock, questions=1)
    intro = thread_rows(sessions)[0]
    fake_x.post(intro.text)
    fake_x.fail_next(XUnavailable("503", status=503), method="search_recent")
    at_due(clock, intro)
    outcome = sender.send_next()
    assert outcome is not None and outcome.status is SendStatus.RETRY
    assert outcome.not_before is not None
    clock.set(outcome.not_before)
    outcome = sender.send_next()
    assert outcome is not None and outcome.status is SendStatus.RESOLVED
    assert len(fake_x.posts) == 1


def claim_as_crashed(sessions: sessionmaker[Session], clock: FakeClock, holder: str) -> int:
    """Claim the next due post as another (crashed) process would have, and commit."""
    with sessions.begin() as session:
        claimed = outbox.claim_next(
            session, holder=holder, now=clock.now(), claim_for=timedelta(minutes=2)
        )
    assert claimed is not None and not claimed.recovering
    return claimed.id


def exited_holder() -> str:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return f"{socket.gethostname()}:{child.pid}:crashed"


def test_sender_recovering_row_found_on_x_is_not_posted_again(
    sender: Sender, sessions: sessionmaker[Session], fake_x: FakeXClient, clock: FakeClock,
    steps: list[str],
) -> None:  # fmt: skip
    queue_chat(sessions, clock, questions=1)
    clock.set(START)
    post_id = claim_as_crashed(sessions, clock, "otherhost:77:crashed")
    on_x = fake_x.post(thread_rows(sessions)[0].text)  # the crash came after X took it
    assert sender.send_next() is None  # a remote holder's claim is waited out
    clock.advance(timedelta(minutes=2, seconds=1))
    outcome = sender.send_next()
    assert outcome is not None and outcome.status is SendStatus.RESOLVED
    assert (outcome.post_id, outcome.x_id) == (post_id, on_x.id)
    assert len(fake_x.posts) == 1 and "post" not in fake_x.calls[1:]
    assert steps == ["claimed", "found_on_x", "recorded"]
    search = fake_x.searches[-1]
    assert search.start_time is not None and search.start_time <= START


def test_sender_recovering_row_not_on_x_is_posted_once(
    sender: Sender, sessions: sessionmaker[Session], fake_x: FakeXClient, clock: FakeClock
) -> None:
    queue_chat(sessions, clock, questions=1)
    clock.set(START)
    claim_as_crashed(sessions, clock, exited_holder())
    clock.advance(5)  # a dead local holder's claim is not waited out
    outcome = sender.send_next()
    assert outcome is not None and outcome.status is SendStatus.SENT
    assert len(fake_x.posts) == 1 and fake_x.calls[:2] == ["search_recent", "post"]
    assert thread_rows(sessions)[0].x_id == fake_x.posts[0].id


def test_sender_recovery_matches_a_reply_that_x_prefixed_with_mentions(
    sender: Sender, sessions: sessionmaker[Session], fake_x: FakeXClient, clock: FakeClock
) -> None:
    queue_chat(sessions, clock, questions=1)
    clock.set(START)
    intro = thread_rows(sessions)[0]
    sender.send_next()
    clock.set(START + timedelta(minutes=10))
    claim_as_crashed(sessions, clock, exited_holder())
    question = thread_rows(sessions)[1]
    reply_id = fake_x.next_id()
    fake_x.add_tweets(
        make_tweet(
            reply_id,
            f"@{BOT_ACCOUNT.username}   {question.text}",
            author_id=BOT_ACCOUNT.id,
            created_at=clock.now(),
            reply_to=fake_x.posts[0].id,
        )
    )
    outcome = sender.send_next()
    assert outcome is not None and outcome.status is SendStatus.RESOLVED
    assert outcome.x_id == reply_id
    recorded = thread_rows(sessions)[1]
    assert recorded.x_id == reply_id and recorded.replied_to_x_id == fake_x.posts[0].id
    assert intro.id != recorded.id


@pytest.mark.parametrize(
    ("ours", "on_x"),
    [
        ("Q1 Hello #TraineeTalk", "Q1 Hello #TraineeTalk"),
        ("Q1 Hello #TraineeTalk", "@TraineeTalkBot Q1 Hello #TraineeTalk"),
        ("Q1 Hello #TraineeTalk", "@a @b_c Q1  Hello\n#TraineeTalk "),
        ("Q1 you & me <3", "Q1 you &amp; me &lt;3"),
        ("See https://example.org/a?b=1 #TraineeTalk", "See https://t.co/xYz12 #TraineeTalk"),
        ("Cafe\u0301 #TraineeTalk", "Caf\u00e9 #TraineeTalk"),
    ],
)
def test_normalise_text_matches_what_x_shows(ours: str, on_x: str) -> None:
    assert normalise_text(ours) == normalise_text(on_x)


def test_normalise_text_keeps_different_texts_apart() -> None:
    assert normalise_text("Q1 Hello #TraineeTalk") != normalise_text("Q2 Hello #TraineeTalk")


# -- threads whose parents failed or vanished ----------------------------------------------


def test_sender_question_whose_parent_failed_replies_to_the_last_post_sent(
    sender: Sender, sessions: sessionmaker[Session], fake_x: FakeXClient, clock: FakeClock
) -> None:
    queue_chat(sessions, clock, questions=2)
    intro, q1, q2, _ = thread_rows(sessions)
    at_due(clock, intro)
    sender.send_next()
    at_due(clock, q1)
    fake_x.fail_next(XRejected(XRejectReason.TOO_LONG, "too long", "shorten it"), method="post")
    outcome = sender.send_next()
    assert outcome is not None and outcome.status is SendStatus.FAILED
    at_due(clock, q2)
    outcome = sender.send_next()
    assert outcome is not None and outcome.status is SendStatus.SENT
    assert fake_x.posts[-1].reply_to == fake_x.posts[0].id
    assert thread_rows(sessions)[2].replied_to_x_id == fake_x.posts[0].id


def test_sender_reply_target_gone_replies_to_the_post_before_it(
    sender: Sender, sessions: sessionmaker[Session], fake_x: FakeXClient, clock: FakeClock
) -> None:
    queue_chat(sessions, clock, questions=2)
    intro, q1, q2, _ = thread_rows(sessions)
    for row in (intro, q1):
        at_due(clock, row)
        sender.send_next()
    q1_id = fake_x.posts[1].id
    at_due(clock, q2)
    fake_x.fail_next(
        XRejected(XRejectReason.REPLY_TARGET_GONE, "deleted", "nothing", status=403), method="post"
    )
    outcome = sender.send_next()
    assert outcome is not None and outcome.status is SendStatus.SENT
    assert fake_x.posts[-1].reply_to == fake_x.posts[0].id != q1_id
    assert thread_rows(sessions)[2].replied_to_x_id == fake_x.posts[0].id


def test_sender_reply_target_gone_with_nothing_left_posts_on_its_own(
    sender: Sender, sessions: sessionmaker[Session], fake_x: FakeXClient, clock: FakeClock
) -> None:
    queue_chat(sessions, clock, questions=1)
    intro, q1, _ = thread_rows(sessions)
    at_due(clock, intro)
    sender.send_next()
    at_due(clock, q1)
    gone = XRejected(XRejectReason.REPLY_TARGET_GONE, "deleted", "nothing", status=403)
    fake_x.fail_next(gone, method="post")
    outcome = sender.send_next()
    assert outcome is not None and outcome.status is SendStatus.SENT
    assert fake_x.posts[-1].reply_to is None


# -- refusals, alerts, lateness --------------------------------------------------------------


@pytest.mark.parametrize(
    "reason",
    [XRejectReason.BAD_CREDENTIALS, XRejectReason.APP_ONLY_TOKEN, XRejectReason.USAGE_CAPPED],
)
def test_sender_auth_failure_keeps_the_post_queued_and_alerts_once(
    sender: Sender,
    sessions: sessionmaker[Session],
    fake_x: FakeXClient,
    clock: FakeClock,
    alerts: list[str],
    caplog: pytest.LogCaptureFixture,
    reason: XRejectReason,
) -> None:
    queue_chat(sessions, clock, questions=1)
    clock.set(START)
    for _ in range(2):
        fake_x.fail_next(XRejected(reason, "401 Unauthorized", "check the keys"), method="post")
        outcome = sender.send_next()
        assert outcome is not None and outcome.status is SendStatus.RETRY
        assert outcome.not_before == clock.now() + AUTH_RETRY
        clock.set(outcome.not_before)
    assert len(alerts) == 1 and alerts[0].startswith("authentication failed")
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert sum("authentication failed" in r.getMessage() for r in errors) >= 2
    assert thread_rows(sessions)[0].status is PostStatus.QUEUED
    clock.set(START + timedelta(minutes=15, seconds=1))  # still failing past the lateness
    fake_x.fail_next(XRejected(reason, "401 Unauthorized", "check the keys"), method="post")
    assert send_until_idle(sender) == [SendStatus.RETRY]  # Q1 waits too
    assert thread_rows(sessions)[0].status is PostStatus.MISSED
    assert any(alert.startswith("missed") for alert in alerts)


def test_sender_other_refusal_fails_the_post_and_alerts(
    sender: Sender,
    sessions: sessionmaker[Session],
    fake_x: FakeXClient,
    clock: FakeClock,
    alerts: list[str],
) -> None:
    queue_chat(sessions, clock, questions=1)
    clock.set(START)
    fake_x.fail_next(
        XRejected(XRejectReason.TOO_LONG, "the text is over 280 characters", "shorten it"),
        method="post",
    )
    outcome = sender.send_next()
    assert outcome is not None and outcome.status is SendStatus.FAILED
    assert "over 280" in outcome.error
    assert thread_rows(sessions)[0].status is PostStatus.FAILED
    assert len(alerts) == 1 and "over 280" in alerts[0]


def test_sender_alert_channel_failing_does_not_stop_posting(
    sessions: sessionmaker[Session], fake_x: FakeXClient, clock: FakeClock
) -> None:
    def broken(message: str) -> None:
        raise RuntimeError("apprise is down")

    sender = Sender(sessions=sessions, client=fake_x, clock=clock, holder=HOLDER,
                    bot_username="TraineeTalkBot", on_alert=broken)  # fmt: skip
    queue_chat(sessions, clock, questions=1)
    clock.set(START + timedelta(minutes=16))  # the intro is past its lateness
    assert send_until_idle(sender) == [SendStatus.SENT]  # Q1 still goes out
    assert thread_rows(sessions)[0].status is PostStatus.MISSED


def test_sender_late_post_reanchors_the_rest_of_the_chat(
    sender: Sender, sessions: sessionmaker[Session], fake_x: FakeXClient, clock: FakeClock
) -> None:
    queue_chat(sessions, clock, questions=2)
    late = timedelta(minutes=4)
    clock.set(START + late)  # the intro goes out four minutes late
    assert send_until_idle(sender) == [SendStatus.SENT]
    clock.set(START + timedelta(minutes=10))  # Q1's planned time: not due any more
    assert sender.send_next() is None
    clock.set(START + timedelta(minutes=10) + late)
    outcome = sender.send_next()
    assert outcome is not None and outcome.status is SendStatus.SENT
    assert fake_x.posts[-1].text.startswith("Q1")
    due = [row.due_at - START for row in thread_rows(sessions)]
    assert due == [timedelta(0), timedelta(minutes=14), timedelta(minutes=24),
                   timedelta(minutes=34)]  # fmt: skip


def test_sender_missed_post_is_reported_and_not_posted(
    sender: Sender,
    sessions: sessionmaker[Session],
    fake_x: FakeXClient,
    clock: FakeClock,
    alerts: list[str],
) -> None:
    queue_chat(sessions, clock, questions=1, reminders=(60,))
    clock.set(START + timedelta(minutes=16))
    statuses = send_until_idle(sender)
    by_kind = {row.kind: row.status for row in rows(sessions)}
    assert by_kind[PostKind.INTRO] is PostStatus.MISSED
    assert by_kind[PostKind.REMINDER] is PostStatus.SENT  # within its 2 h
    assert all("Welcome" not in post.text for post in fake_x.posts)
    assert SendStatus.SENT in statuses
    assert any(alert.startswith("missed") for alert in alerts)


def test_sender_rate_limits_do_not_count_towards_the_attempt_cap(
    sender: Sender, sessions: sessionmaker[Session], fake_x: FakeXClient, clock: FakeClock
) -> None:
    queue_chat(sessions, clock, questions=1)
    clock.set(START)
    for _ in range(MAX_ATTEMPTS + 2):
        reset = clock.now() + timedelta(seconds=30)
        fake_x.fail_next(RateLimited(reset_at=reset), method="post")
        outcome = sender.send_next()
        assert outcome is not None and outcome.status is SendStatus.RETRY
        clock.set(reset)
    outcome = sender.send_next()
    assert outcome is not None and outcome.status is SendStatus.SENT
    assert thread_rows(sessions)[0].attempts == 1


def test_sender_recovering_row_not_on_x_and_too_late_is_missed_not_posted(
    sender: Sender,
    sessions: sessionmaker[Session],
    fake_x: FakeXClient,
    clock: FakeClock,
    alerts: list[str],
) -> None:
    queue_chat(sessions, clock, questions=1)
    clock.set(START)
    claim_as_crashed(sessions, clock, exited_holder())
    clock.set(START + timedelta(minutes=16))  # restarted long after the crash
    assert send_until_idle(sender) == [SendStatus.RETRY, SendStatus.SENT]
    intro, q1, _ = thread_rows(sessions)
    assert intro.status is PostStatus.MISSED and q1.status is PostStatus.SENT
    assert [post.text for post in fake_x.posts] == [q1.text]
    assert fake_x.posts[0].reply_to is None  # nothing before it went out
    assert any(alert.startswith("missed") and "intro" in alert for alert in alerts)
