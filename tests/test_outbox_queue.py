"""bot.outbox, posting side: claims, lateness, re-anchoring, reply targets, racing holders."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from archive.db import make_engine, make_session_factory
from archive.models import OutboxChat, OutboxPost, PostKind, PostStatus
from bot import outbox
from bot.outbox import Claimed
from bot.schedule_files import ChatPlan
from tests.test_outbox import DAY, INTERVAL, START, chat_plan, post, statuses, synced

HOLDER = "host-a:101:aaaa"
OTHER = "host-b:202:bbbb"
CLAIM = timedelta(minutes=2)
MINUTE = timedelta(minutes=1)


def claim(session: Session, now: datetime, holder: str = HOLDER) -> Claimed | None:
    claimed = outbox.claim_next(session, holder=holder, now=now, claim_for=CLAIM)
    session.commit()
    return claimed


def claim_one(session: Session, now: datetime, holder: str = HOLDER) -> Claimed:
    claimed = claim(session, now, holder)
    assert claimed is not None
    return claimed


def sent(session: Session, claimed: Claimed, *, x_id: str, at: datetime) -> None:
    outbox.record_sent(session, claimed.id, x_id=x_id, replied_to_x_id=claimed.reply_to_x_id, at=at)
    session.commit()


def send(session: Session, now: datetime, *, x_id: str) -> Claimed:
    claimed = claim_one(session, now)
    sent(session, claimed, x_id=x_id, at=now)
    return claimed


def label(claimed: Claimed | None) -> str | None:
    return None if claimed is None else outbox.post_label(claimed.kind, claimed.number)


def due_times(session: Session) -> dict[str, datetime]:
    rows = session.scalars(select(OutboxPost).execution_options(populate_existing=True)).all()
    return {outbox.post_label(p.kind, p.number): p.due_at for p in rows}


# --- claim order ---


def test_claim_next_nothing_due_returns_none(session: Session) -> None:
    synced(session, chat_plan())
    assert claim(session, START - timedelta(hours=25)) is None
    assert set(statuses(session).values()) == {PostStatus.QUEUED}


def row_chat_id(session: Session) -> int:
    return session.scalars(select(OutboxChat.id)).one()


def test_claim_next_marks_the_earliest_due_post_sending(session: Session) -> None:
    synced(session, chat_plan())
    now = START - timedelta(hours=23)
    claimed = claim_one(session, now)
    assert claimed == Claimed(
        id=claimed.id,
        chat_id=row_chat_id(session),
        series="traineetalk",
        chat_date=DAY,
        kind=PostKind.REMINDER,
        number=1440,
        text="In 1440 min #TraineeTalk",
        thread=False,
        due_at=START - timedelta(hours=24),
        attempts=1,
        reply_to_x_id=None,
        recovering=False,
        miss_after=START - timedelta(hours=22),
    )
    row = post(session, PostKind.REMINDER, 1440)
    assert (row.status, row.acquired_by, row.acquired_until, row.attempts, row.updated_at) == (
        PostStatus.SENDING, HOLDER, now + CLAIM, 1, now,
    )  # fmt: skip
    assert claim(session, now) is None  # the 1 h reminder is not due yet


def test_claim_next_thread_post_waits_for_the_one_before_it(session: Session) -> None:
    synced(session, chat_plan())
    now = START + 2 * INTERVAL + MINUTE  # reminders, intro, Q1 and Q2 all due
    order = [label(claim(session, now)) for _ in range(4)]
    assert order == ["reminder 24 h before", "reminder 1 h before", "intro", None]
    intro = post(session, PostKind.INTRO)
    outbox.record_sent(session, intro.id, x_id="2000", replied_to_x_id=None, at=START)
    session.commit()
    q1 = claim_one(session, now)
    assert (label(q1), q1.reply_to_x_id) == ("Q1", "2000")
    assert claim(session, now) is None  # Q2 waits while Q1 is being sent


def test_claim_next_deferred_post_waits_and_holds_up_its_thread(session: Session) -> None:
    synced(session, chat_plan(reminders=()))
    send(session, START, x_id="2000")
    q1 = claim_one(session, START + INTERVAL)
    retry_at = START + 2 * INTERVAL + 3 * MINUTE  # 20:23, within Q1's limit (20:25)
    outbox.record_retry(
        session, q1.id, error="X is unavailable (503)", not_before=retry_at, at=START + INTERVAL
    )
    session.commit()
    row = post(session, PostKind.QUESTION, 1)
    assert (row.status, row.not_before, row.last_error, row.updated_at) == (
        PostStatus.QUEUED, retry_at, "X is unavailable (503)", START + INTERVAL,
    )  # fmt: skip
    assert claim(session, retry_at - timedelta(seconds=1)) is None  # Q2 is due, Q1 before it
    again = claim_one(session, retry_at)
    assert (label(again), again.attempts, again.recovering) == ("Q1", 2, False)


def test_claim_next_reminder_is_not_held_up_by_a_thread(session: Session) -> None:
    synced(session, chat_plan(), chat_plan(DAY + timedelta(days=1)))
    tomorrow_reminder = START + timedelta(days=1) - timedelta(hours=24)
    assert tomorrow_reminder == START
    now = START + MINUTE
    labels = [label(claim(session, now)) for _ in range(4)]
    assert labels == [
        "reminder 24 h before",
        "reminder 1 h before",
        "intro",
        "reminder 24 h before",
    ]


def test_claim_next_held_post_is_skipped_and_does_not_hold_up_the_thread(session: Session) -> None:
    synced(session, chat_plan(reminders=()))
    send(session, START, x_id="2000")
    assert outbox.hold(session, f"#{post(session, PostKind.QUESTION, 1).id}") == 1
    session.commit()
    q2 = claim_one(session, START + 2 * INTERVAL)
    assert (label(q2), q2.reply_to_x_id) == ("Q2", "2000")
    assert post(session, PostKind.QUESTION, 1).status is PostStatus.HELD


def test_claim_next_recovers_a_sending_post_whose_claim_expired(session: Session) -> None:
    synced(session, chat_plan(reminders=()))
    first = claim_one(session, START, holder=HOLDER)
    assert claim(session, START + CLAIM, holder=OTHER) is None  # the claim still runs
    now = START + CLAIM + timedelta(seconds=1)
    recovered = claim_one(session, now, holder=OTHER)
    assert (recovered.id, recovered.recovering, recovered.attempts) == (first.id, True, 2)
    assert recovered.miss_after == START + timedelta(minutes=15)
    row = post(session, PostKind.INTRO)
    assert (row.status, row.acquired_by, row.acquired_until) == (
        PostStatus.SENDING, OTHER, now + CLAIM,
    )  # fmt: skip


# --- lateness ---


def test_miss_overdue_measures_each_post_against_its_own_limit(session: Session) -> None:
    synced(session, chat_plan())
    assert outbox.hold(session, f"#{post(session, PostKind.QUESTION, 1).id}") == 1
    limit = START + timedelta(minutes=15)  # the intro's due time + 15 min
    missed = outbox.miss_overdue(session, now=limit)
    session.commit()
    assert missed == (
        (
            "2026-12-02 #TraineeTalk reminder 24 h before: due 2026-12-01 20:00 UTC,"
            " not sent within 2 h"
        ),
    )
    assert outbox.miss_overdue(session, now=limit + timedelta(microseconds=1)) == (
        "2026-12-02 #TraineeTalk intro: due 2026-12-02 20:00 UTC, not sent within 15 min",
    )
    session.commit()
    after = statuses(session)
    assert after["reminder 1 h before"] is PostStatus.QUEUED  # 2 h limit: until 21:00
    assert after["Q1"] is PostStatus.HELD  # held posts are not missed
    assert after["Q2"] is PostStatus.QUEUED
    intro = post(session, PostKind.INTRO)
    assert intro.last_error == "missed: not sent within 15 min of its due time 2026-12-02 20:00 UTC"
    assert claim_one(session, limit + MINUTE).kind is PostKind.REMINDER


def test_miss_overdue_deferred_past_its_limit_is_missed(session: Session) -> None:
    synced(session, chat_plan(reminders=()))
    intro = claim_one(session, START)
    outbox.record_retry(
        session, intro.id, error="rate limited", not_before=START + timedelta(minutes=20)
    )
    session.commit()
    assert claim(session, START + timedelta(minutes=16)) is None
    assert len(outbox.miss_overdue(session, now=START + timedelta(minutes=16))) == 1
    session.commit()
    assert post(session, PostKind.INTRO).status is PostStatus.MISSED
    assert post(session, PostKind.INTRO).not_before is None


# --- re-anchoring ---


def test_record_sent_late_thread_post_moves_the_rest_of_the_thread(session: Session) -> None:
    synced(session, chat_plan())
    planned = due_times(session)
    send(session, planned["reminder 24 h before"], x_id="1998")
    send(session, planned["reminder 1 h before"], x_id="1999")
    send(session, START, x_id="2000")  # the intro, on time: nothing moves
    assert due_times(session) == planned
    assert outbox.hold(session, f"#{post(session, PostKind.QUESTION, 3).id}") == 1
    session.commit()
    late = START + INTERVAL + 4 * MINUTE
    q1 = send(session, late, x_id="2001")
    assert q1.number == 1
    moved = due_times(session)
    for name in ("Q2", "Q3", "closing"):
        assert moved[name] == planned[name] + 4 * MINUTE, name
    for name in ("reminder 24 h before", "reminder 1 h before", "intro", "Q1"):
        assert moved[name] == planned[name], name
    rows = session.scalars(select(OutboxPost)).all()
    assert all(r.planned_at == planned[outbox.post_label(r.kind, r.number)] for r in rows)
    q1_row = post(session, PostKind.QUESTION, 1)
    assert (q1_row.status, q1_row.x_id, q1_row.replied_to_x_id, q1_row.sent_at) == (
        PostStatus.SENT, "2001", "2000", late,
    )  # fmt: skip


def test_record_sent_lateness_is_then_measured_from_the_new_due_time(session: Session) -> None:
    synced(session, chat_plan(reminders=()))
    send(session, START + 5 * MINUTE, x_id="2000")  # intro 5 min late: Q1 now due 20:15
    q1_due = START + INTERVAL + 5 * MINUTE
    assert post(session, PostKind.QUESTION, 1).due_at == q1_due
    assert outbox.miss_overdue(session, now=q1_due + timedelta(minutes=15)) == ()
    assert claim(session, q1_due - timedelta(seconds=1)) is None
    missed = outbox.miss_overdue(session, now=q1_due + timedelta(minutes=15, seconds=1))
    assert missed == (
        "2026-12-02 #TraineeTalk Q1: due 2026-12-02 20:15 UTC, not sent within 15 min",
    )


def test_record_sent_late_reminder_moves_nothing(session: Session) -> None:
    synced(session, chat_plan())
    planned = due_times(session)
    reminder = claim_one(session, START - timedelta(hours=23))
    sent(session, reminder, x_id="1999", at=START - timedelta(hours=23))
    assert due_times(session) == planned


def test_record_sent_missed_post_moves_nothing_and_next_replies_to_last_sent(
    session: Session,
) -> None:
    synced(session, chat_plan(reminders=()))
    planned = due_times(session)
    send(session, START, x_id="2000")
    q1 = claim_one(session, START + INTERVAL)
    outbox.record_failed(session, q1.id, error="X refused it", at=START + INTERVAL)
    session.commit()
    q2 = claim_one(session, START + 2 * INTERVAL)
    assert (label(q2), q2.reply_to_x_id) == ("Q2", "2000")  # Q1 failed: reply to the intro
    sent(session, q2, x_id="2002", at=START + 2 * INTERVAL)
    assert outbox.miss_overdue(session, now=START + 3 * INTERVAL + 16 * MINUTE) != ()
    session.commit()
    assert statuses(session)["Q3"] is PostStatus.MISSED
    closing = claim_one(session, START + 3 * INTERVAL + 16 * MINUTE)
    assert (label(closing), closing.reply_to_x_id) == ("closing", "2002")  # Q3 was missed
    assert due_times(session) == planned  # nothing went out late
    failed = post(session, PostKind.QUESTION, 1)
    assert (failed.status, failed.last_error) == (PostStatus.FAILED, "X refused it")


def test_claim_next_first_thread_post_with_nothing_sent_replies_to_nothing(
    session: Session,
) -> None:
    synced(session, chat_plan(reminders=()))
    assert outbox.cancel(session, f"#{post(session, PostKind.INTRO).id}") == 1
    session.commit()
    q1 = claim_one(session, START + INTERVAL)
    assert (label(q1), q1.reply_to_x_id) == ("Q1", None)


# --- recording: guards ---


def test_record_sent_twice_keeps_the_first_x_id(session: Session) -> None:
    synced(session, chat_plan(reminders=()))
    intro = send(session, START, x_id="2000")
    sent(session, intro, x_id="2000", at=START + MINUTE)
    sent(session, intro, x_id="2099", at=START + MINUTE)
    row = post(session, PostKind.INTRO)
    assert (row.x_id, row.sent_at) == ("2000", START)


def test_record_retry_and_failed_leave_a_post_not_sending_alone(session: Session) -> None:
    synced(session, chat_plan(reminders=()))
    intro = send(session, START, x_id="2000")
    outbox.record_retry(session, intro.id, error="late 503", not_before=START + MINUTE)
    outbox.record_failed(session, intro.id, error="late 400", at=START + MINUTE)
    session.commit()
    row = post(session, PostKind.INTRO)
    assert (row.status, row.last_error, row.not_before) == (PostStatus.SENT, None, None)


def test_record_retry_post_of_a_chat_cancelled_meanwhile_is_cancelled(session: Session) -> None:
    synced(session, chat_plan(reminders=()))
    intro = claim_one(session, START)
    synced(session)  # the chat is removed from the file while its intro is being sent
    assert statuses(session)["intro"] is PostStatus.SENDING
    outbox.record_retry(session, intro.id, error="X is unavailable (503)", not_before=START)
    session.commit()
    assert set(statuses(session).values()) == {PostStatus.CANCELLED}
    assert claim(session, START + MINUTE) is None


@pytest.mark.parametrize(
    "record",
    [
        lambda s: outbox.record_sent(s, 999, x_id="1", replied_to_x_id=None, at=START),
        lambda s: outbox.record_failed(s, 999, error="x", at=START),
        lambda s: outbox.record_retry(s, 999, error="x", not_before=START),
    ],
)
def test_record_unknown_post_raises_outbox_error(
    session: Session, record: Callable[[Session], None]
) -> None:
    with pytest.raises(outbox.OutboxError, match="there is no post #999 in the outbox"):
        record(session)


# --- two holders on one database ---


def _reminder_chats(count: int) -> list[ChatPlan]:
    """`count` chats on consecutive days with only their (non-thread) reminders."""
    plans = []
    for day in range(count):
        plan = chat_plan(DAY + timedelta(days=day))
        reminders = tuple(p for p in plan.posts if p.kind is PostKind.REMINDER)
        plans.append(replace(plan, posts=reminders))
    return plans


def _race(db_url: str, work: Callable[[Session, str], list[int]]) -> dict[str, list[int]]:
    """Run `work` for two holders at once, each on its own engine (as two processes)."""
    holders = [HOLDER, OTHER]
    engines = [make_engine(db_url) for _ in holders]
    start = threading.Barrier(len(holders))

    def run(engine: Engine, holder: str) -> list[int]:
        with make_session_factory(engine)() as session:
            start.wait(timeout=30)
            return work(session, holder)

    try:
        with ThreadPoolExecutor(max_workers=len(holders)) as pool:
            futures = [pool.submit(run, e, h) for e, h in zip(engines, holders, strict=True)]
            return {h: f.result(timeout=60) for h, f in zip(holders, futures, strict=True)}
    finally:
        for engine in engines:
            engine.dispose()


def test_claim_next_two_holders_draining_never_share_a_post(
    db_url: str, engine: Engine, session: Session
) -> None:
    synced(session, *_reminder_chats(20))
    everything = set(session.scalars(select(OutboxPost.id)))
    now = START + timedelta(days=30)

    def drain(worker: Session, holder: str) -> list[int]:
        ids = []
        while (claimed := claim(worker, now, holder)) is not None:
            ids.append(claimed.id)
        return ids

    session.rollback()  # end the read above, so what follows sees the holders' commits
    got = _race(db_url, drain)
    claims = got[HOLDER] + got[OTHER]
    assert len(claims) == len(set(claims)) == len(everything) == 40
    assert set(claims) == everything
    rows = session.scalars(select(OutboxPost).execution_options(populate_existing=True)).all()
    by_id = {row.id: row for row in rows}
    for holder, ids in got.items():
        assert {(by_id[i].acquired_by, by_id[i].attempts) for i in ids} <= {(holder, 1)}


def test_claim_next_two_holders_one_due_post_exactly_one_wins(
    db_url: str, engine: Engine, session: Session
) -> None:
    synced(session, *_reminder_chats(6))
    rows = session.scalars(
        select(OutboxPost).where(OutboxPost.number == 1440).order_by(OutboxPost.due_at)
    ).all()
    for row in session.scalars(select(OutboxPost).where(OutboxPost.number != 1440)):
        row.status = PostStatus.CANCELLED
    session.commit()
    for row in rows:  # one round per post: only it is due

        def once(worker: Session, holder: str, now: datetime = row.due_at) -> list[int]:
            claimed = claim(worker, now, holder)
            return [] if claimed is None else [claimed.id]

        got = _race(db_url, once)
        assert sorted(got[HOLDER] + got[OTHER]) == [row.id]
        outbox.record_sent(session, row.id, x_id=f"30{row.id}", replied_to_x_id=None, at=row.due_at)
        session.commit()
