"""bot.outbox: syncing plans into the outbox, listing it, and a host's selectors.

Posting from the outbox (claims, lateness, re-anchoring) is in test_outbox_queue.py,
which builds its chats with the helpers here.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.models import ChatStatus, OutboxChat, OutboxPost, PostKind, PostStatus
from bot import outbox
from bot.schedule_files import ChatPlan, PlannedPost

DAY = date(2026, 12, 2)
START = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)
NOW = START - timedelta(days=3)
LATER = NOW + timedelta(hours=1)
INTERVAL = timedelta(minutes=10)
FILE = "file:schedules/traineetalk.toml"
QUESTIONS = (
    "What first drew you to counselling training?",
    "How do you look after yourself between placement sessions?",
    "What has supervision taught you so far?",
)


def planned(
    kind: PostKind, number: int, due_at: datetime, text: str, *, thread: bool = True
) -> PlannedPost:
    lateness = timedelta(minutes=15) if thread else timedelta(hours=2)
    return PlannedPost(kind, number, text, due_at, thread, lateness)


def chat_plan(
    chat_date: date = DAY,
    *,
    questions: tuple[str, ...] = QUESTIONS,
    series: str = "traineetalk",
    skip: bool = False,
    reminders: tuple[int, ...] = (1440, 60),
) -> ChatPlan:
    """A chat as bot.schedule_files plans it: reminders, intro, Q1..Qn, closing."""
    start = START + timedelta(days=(chat_date - DAY).days)
    tag = "#TraineeTalk"
    posts = [
        planned(
            PostKind.REMINDER, m, start - timedelta(minutes=m), f"In {m} min {tag}", thread=False
        )
        for m in reminders
    ]
    posts.append(planned(PostKind.INTRO, 0, start, f"Welcome to {tag} on {chat_date}"))
    for n, question in enumerate(questions, start=1):
        posts.append(planned(PostKind.QUESTION, n, start + n * INTERVAL, f"Q{n} {question} {tag}"))
    closing_at = start + (len(questions) + 1) * INTERVAL
    posts.append(planned(PostKind.CLOSING, 0, closing_at, f"Thank you all {tag}"))
    return ChatPlan(
        series=series,
        chat_date=chat_date,
        topic="Self-care on placement",
        hashtag=tag,
        starts_at=start,
        timezone="Europe/London",
        interval=INTERVAL,
        source="schedules/traineetalk.toml",
        skip=skip,
        posts=() if skip else tuple(posts),
    )


def with_post(plan: ChatPlan, kind: PostKind, number: int, **changes: object) -> ChatPlan:
    """`plan` with one post changed (text=..., due_at=...)."""
    posts = tuple(
        replace(p, **changes) if (p.kind, p.number) == (kind, number) else p  # type: ignore[arg-type]
        for p in plan.posts
    )
    return replace(plan, posts=posts)


def post(session: Session, kind: PostKind, number: int = 0, chat_date: date = DAY) -> OutboxPost:
    query = select(OutboxPost).where(
        OutboxPost.chat_date == chat_date, OutboxPost.kind == kind, OutboxPost.number == number
    )
    return session.scalars(query.execution_options(populate_existing=True)).one()


def statuses(session: Session, chat_date: date = DAY) -> dict[str, PostStatus]:
    rows = session.scalars(select(OutboxPost).where(OutboxPost.chat_date == chat_date)).all()
    return {outbox.post_label(p.kind, p.number): p.status for p in rows}


def mark(session: Session, row: OutboxPost, status: PostStatus, x_id: str | None = None) -> None:
    row.status = status
    row.x_id = x_id
    session.commit()


def synced(session: Session, *plans: ChatPlan, origin: str = FILE) -> outbox.SyncReport:
    report = outbox.sync_plans(session, plans, origin=origin, now=NOW)
    session.commit()
    return report


# --- sync: adding, idempotence ---


def test_sync_plans_new_chat_queues_every_post(session: Session) -> None:
    report = synced(session, chat_plan())
    assert report.added == (
        (
            "2026-12-02 #TraineeTalk: new chat 'Self-care on placement', 7 posts,"
            " starting 2026-12-02 20:00 UTC"
        ),
    )
    assert report.changed and not (report.updated or report.cancelled or report.clashes)
    rows = session.scalars(select(OutboxPost).order_by(OutboxPost.due_at)).all()
    assert [outbox.post_label(r.kind, r.number) for r in rows] == [
        "reminder 24 h before", "reminder 1 h before", "intro", "Q1", "Q2", "Q3", "closing",
    ]  # fmt: skip
    assert {r.status for r in rows} == {PostStatus.QUEUED}
    assert all(r.planned_at == r.due_at and r.attempts == 0 for r in rows)
    assert [r.lateness_seconds for r in rows[:3]] == [7200, 7200, 900]
    chat = session.scalars(select(OutboxChat)).one()
    assert (chat.origin, chat.status, chat.timezone) == (FILE, ChatStatus.ACTIVE, "Europe/London")


def test_sync_plans_twice_changes_nothing(session: Session) -> None:
    plans = (chat_plan(), chat_plan(DAY + timedelta(days=7)))
    synced(session, *plans)
    before = {r.id: r.updated_at for r in session.scalars(select(OutboxPost))}
    again = outbox.sync_plans(session, plans, origin=FILE, now=LATER)
    session.commit()
    assert again == outbox.SyncReport()
    assert not again.changed
    after = {r.id: r.updated_at for r in session.scalars(select(OutboxPost))}
    assert after == before and set(after.values()) == {NOW}
    assert {c.updated_at for c in session.scalars(select(OutboxChat))} == {NOW}


# --- sync: editing ---


def test_sync_plans_edited_question_updates_text_and_due_time(session: Session) -> None:
    synced(session, chat_plan())
    outbox.hold(session, f"#{post(session, PostKind.QUESTION, 2).id}")
    session.commit()
    moved = START + timedelta(minutes=25)
    edited = with_post(chat_plan(), PostKind.QUESTION, 2, text="Q2 Rest? #TraineeTalk")
    edited = with_post(edited, PostKind.QUESTION, 3, due_at=moved)
    report = outbox.sync_plans(session, [edited], origin=FILE, now=LATER)
    session.commit()
    assert report.updated == (
        "2026-12-02 #TraineeTalk Q2: text updated",
        "2026-12-02 #TraineeTalk Q3: now due 2026-12-02 20:25 UTC",
    )
    q2, q3 = post(session, PostKind.QUESTION, 2), post(session, PostKind.QUESTION, 3)
    assert (q2.text, q2.status, q2.updated_at) == ("Q2 Rest? #TraineeTalk", PostStatus.HELD, LATER)
    assert q3.planned_at == q3.due_at == moved
    assert post(session, PostKind.QUESTION, 1).updated_at == NOW


def test_sync_plans_new_time_keeps_a_reanchoring_already_applied(session: Session) -> None:
    synced(session, chat_plan())
    q3 = post(session, PostKind.QUESTION, 3)
    q3.due_at += timedelta(minutes=4)  # as record_sent re-anchors it
    session.commit()
    moved = START + timedelta(minutes=35)
    synced(session, with_post(chat_plan(), PostKind.QUESTION, 3, due_at=moved))
    q3 = post(session, PostKind.QUESTION, 3)
    assert (q3.planned_at, q3.due_at) == (moved, moved + timedelta(minutes=4))


@pytest.mark.parametrize(
    ("status", "state"), [(PostStatus.SENT, "already sent"), (PostStatus.SENDING, "being sent")]
)
def test_sync_plans_never_changes_a_sent_or_sending_post(
    session: Session, status: PostStatus, state: str
) -> None:
    synced(session, chat_plan())
    mark(session, post(session, PostKind.QUESTION, 1), status, x_id="1800")
    edited = with_post(chat_plan(), PostKind.QUESTION, 1, text="Q1 changed #TraineeTalk")
    edited = with_post(edited, PostKind.QUESTION, 1, due_at=START + timedelta(minutes=12))
    report = synced(session, edited)
    assert report.kept_sent == (
        f"2026-12-02 #TraineeTalk Q1: {state}, so the changed text is not applied",
    )
    assert not report.changed
    q1 = post(session, PostKind.QUESTION, 1)
    assert (q1.text, q1.status, q1.due_at) == (
        f"Q1 {QUESTIONS[0]} #TraineeTalk",
        status,
        START + INTERVAL,
    )
    assert synced(session, chat_plan()).kept_sent == ()  # same text again: nothing to say


def test_sync_plans_question_removed_from_chat_is_cancelled(session: Session) -> None:
    synced(session, chat_plan())
    report = synced(session, chat_plan(questions=QUESTIONS[:2]))
    assert report.cancelled == (
        "2026-12-02 #TraineeTalk Q3: no longer in schedules/traineetalk.toml; cancelled",
    )
    assert statuses(session)["Q3"] is PostStatus.CANCELLED
    assert synced(session, chat_plan(questions=QUESTIONS[:2])) == outbox.SyncReport()


def test_sync_plans_question_added_to_chat_is_queued(session: Session) -> None:
    synced(session, chat_plan(questions=QUESTIONS[:2]))
    report = synced(session, chat_plan())
    assert report.added == ("2026-12-02 #TraineeTalk Q3: added, due 2026-12-02 20:30 UTC",)
    assert statuses(session)["Q3"] is PostStatus.QUEUED


def test_sync_plans_chat_details_changed_are_updated(session: Session) -> None:
    synced(session, chat_plan())
    report = synced(session, replace(chat_plan(), topic="Endings with clients"))
    assert report.updated == ("2026-12-02 #TraineeTalk: topic now 'Endings with clients'",)
    assert session.scalars(select(OutboxChat.topic)).one() == "Endings with clients"


# --- sync: removal, skip, coming back ---


def test_sync_plans_chat_removed_from_file_cancels_its_unsent_posts(session: Session) -> None:
    next_week = DAY + timedelta(days=7)
    synced(session, chat_plan(), chat_plan(next_week))
    mark(session, post(session, PostKind.REMINDER, 1440), PostStatus.SENT, x_id="1801")
    outbox.hold(session, "#" + str(post(session, PostKind.QUESTION, 1).id))
    report = synced(session, chat_plan(next_week))
    assert report.cancelled == (
        "2026-12-02 #TraineeTalk: no longer in schedules/traineetalk.toml; 6 unsent post(s) cancelled",
    )
    after = statuses(session)
    assert after.pop("reminder 24 h before") is PostStatus.SENT
    assert set(after.values()) == {PostStatus.CANCELLED}
    assert post(session, PostKind.INTRO).chat.status is ChatStatus.CANCELLED
    assert set(statuses(session, next_week).values()) == {PostStatus.QUEUED}
    assert synced(session, chat_plan(next_week)) == outbox.SyncReport()


def test_sync_plans_skip_cancels_the_chat_unsent_posts(session: Session) -> None:
    synced(session, chat_plan())
    report = synced(session, chat_plan(skip=True))
    assert report.cancelled == (
        "2026-12-02 #TraineeTalk: marked skip in schedules/traineetalk.toml; 7 unsent post(s) cancelled",
    )
    assert set(statuses(session).values()) == {PostStatus.CANCELLED}
    assert synced(session, chat_plan(skip=True)) == outbox.SyncReport()


def test_sync_plans_skip_for_an_unknown_chat_adds_nothing(session: Session) -> None:
    assert synced(session, chat_plan(skip=True)) == outbox.SyncReport()
    assert session.scalars(select(OutboxChat)).all() == []


def test_sync_plans_finished_chat_removed_from_file_is_not_reported(session: Session) -> None:
    synced(session, chat_plan())
    for row in session.scalars(select(OutboxPost)):
        row.status = PostStatus.SENT
    session.commit()
    assert synced(session) == outbox.SyncReport()
    assert session.scalars(select(OutboxChat.status)).one() is ChatStatus.ACTIVE


def test_sync_plans_cancelled_chat_back_in_file_is_queued_again(session: Session) -> None:
    synced(session, chat_plan())
    mark(session, post(session, PostKind.REMINDER, 1440), PostStatus.SENT, x_id="1801")
    synced(session)
    edited = with_post(chat_plan(), PostKind.QUESTION, 1, text="Q1 back #TraineeTalk")
    report = synced(session, edited)
    assert report.updated == (
        (
            "2026-12-02 #TraineeTalk: back in schedules/traineetalk.toml;"
            " 6 cancelled post(s) queued again"
        ),
    )
    after = statuses(session)
    assert after.pop("reminder 24 h before") is PostStatus.SENT
    assert set(after.values()) == {PostStatus.QUEUED}
    assert post(session, PostKind.QUESTION, 1).text == "Q1 back #TraineeTalk"
    assert session.scalars(select(OutboxChat.status)).one() is ChatStatus.ACTIVE
    assert synced(session, edited) == outbox.SyncReport()


def test_sync_plans_post_a_host_cancelled_stays_cancelled(session: Session) -> None:
    synced(session, chat_plan())
    assert outbox.cancel(session, f"#{post(session, PostKind.QUESTION, 2).id}") == 1
    session.commit()
    edited = with_post(chat_plan(), PostKind.QUESTION, 2, text="Q2 edited #TraineeTalk")
    assert synced(session, edited) == outbox.SyncReport()
    assert post(session, PostKind.QUESTION, 2).status is PostStatus.CANCELLED


# --- sync: origins ---


def test_sync_plans_chat_queued_from_elsewhere_is_a_clash(session: Session) -> None:
    outbox.add_chat(session, chat_plan(), origin="cli", now=NOW)
    session.commit()
    edited = with_post(chat_plan(), PostKind.QUESTION, 1, text="Q1 from the file #TraineeTalk")
    report = synced(session, edited)
    assert report.clashes == (
        (
            "2026-12-02 #TraineeTalk: already queued from 'tcbot queue add', so the chat in"
            " schedules/traineetalk.toml is left out; remove one of the two"
        ),
    )
    assert not report.changed
    assert post(session, PostKind.QUESTION, 1).text == f"Q1 {QUESTIONS[0]} #TraineeTalk"
    assert synced(session).cancelled == ()  # not the file's chat: removing it cancels nothing
    assert set(statuses(session).values()) == {PostStatus.QUEUED}


def test_sync_plans_chat_cancelled_elsewhere_is_taken_over(session: Session) -> None:
    synced(session, chat_plan(), origin="file:schedules/old.toml")
    synced(session, origin="file:schedules/old.toml")
    report = synced(session, chat_plan())
    assert report.updated[0] == (
        "2026-12-02 #TraineeTalk: taken over from schedules/old.toml, where it was cancelled"
    )
    assert session.scalars(select(OutboxChat.origin)).one() == FILE
    assert set(statuses(session).values()) == {PostStatus.QUEUED}


def test_add_chat_leaves_the_other_chats_alone(session: Session) -> None:
    synced(session, chat_plan())
    report = outbox.add_chat(session, chat_plan(DAY + timedelta(days=7)), origin="cli", now=NOW)
    session.commit()
    assert len(report.added) == 1 and report.cancelled == ()
    assert set(statuses(session).values()) == {PostStatus.QUEUED}
    again = outbox.add_chat(session, chat_plan(DAY + timedelta(days=7)), origin="cli", now=LATER)
    assert again == outbox.SyncReport()


# --- selectors: hold, release, cancel ---


def test_select_posts_by_date_series_and_number(session: Session) -> None:
    synced(session, chat_plan(), chat_plan(series="othertalk"), chat_plan(DAY + timedelta(days=7)))
    assert len(outbox.select_posts(session, "2026-12-02")) == 14
    by_series = outbox.select_posts(session, "othertalk:2026-12-02")
    assert len(by_series) == 7 and {p.series for p in by_series} == {"othertalk"}
    assert [p.due_at for p in by_series] == sorted(p.due_at for p in by_series)
    one = post(session, PostKind.QUESTION, 2, DAY + timedelta(days=7))
    assert outbox.select_posts(session, f"#{one.id}") == [one]
    assert outbox.select_posts(session, f" {one.id} ") == [one]


@pytest.mark.parametrize(
    ("selector", "what"),
    [
        ("#999", "there is no post #999 in the outbox"),
        ("2026-12-09", "no chat on 2026-12-09 is in the outbox"),
        (
            "othertalk:2026-12-02",
            "no chat of the series 'othertalk' on 2026-12-02 is in the outbox",
        ),
        ("2026-13-01", "2026-13-01 in '2026-13-01' is not a date"),
        ("next wednesday", "'next wednesday' names no chat or post"),
        ("", "'' names no chat or post"),
    ],
)
def test_select_posts_unknown_selector_says_what_to_type(
    session: Session, selector: str, what: str
) -> None:
    synced(session, chat_plan())
    with pytest.raises(outbox.OutboxError) as caught:
        outbox.select_posts(session, selector)
    assert caught.value.what == what
    assert "'tcbot queue list' shows the posts and their numbers" in caught.value.fix


def test_hold_release_cancel_change_only_unsent_posts(session: Session) -> None:
    synced(session, chat_plan())
    mark(session, post(session, PostKind.INTRO), PostStatus.SENT, x_id="1802")
    mark(session, post(session, PostKind.QUESTION, 1), PostStatus.SENDING)
    assert outbox.hold(session, "traineetalk:2026-12-02", at=LATER) == 5
    assert outbox.hold(session, "2026-12-02") == 0
    held = statuses(session)
    assert (held["intro"], held["Q1"], held["Q2"]) == (
        PostStatus.SENT, PostStatus.SENDING, PostStatus.HELD,
    )  # fmt: skip
    assert post(session, PostKind.QUESTION, 2).updated_at == LATER
    q3 = post(session, PostKind.QUESTION, 3).id
    assert outbox.release(session, f"#{q3}") == 1
    assert outbox.cancel(session, "2026-12-02") == 5
    session.commit()
    after = statuses(session)
    assert (after["intro"], after["Q1"], after["Q3"]) == (
        PostStatus.SENT, PostStatus.SENDING, PostStatus.CANCELLED,
    )  # fmt: skip
    assert outbox.release(session, "2026-12-02") == 0


def test_hold_unknown_chat_raises_and_changes_nothing(session: Session) -> None:
    synced(session, chat_plan())
    with pytest.raises(outbox.OutboxError):
        outbox.hold(session, "2026-12-09")
    assert set(statuses(session).values()) == {PostStatus.QUEUED}


# --- list_queue ---


def test_list_queue_orders_by_due_time_and_hides_old_finished_posts(session: Session) -> None:
    synced(session, chat_plan(DAY + timedelta(days=7)), chat_plan())
    mark(session, post(session, PostKind.REMINDER, 1440), PostStatus.SENT, x_id="1803")
    rows = outbox.list_queue(session, now=NOW)
    assert [r.due_at for r in rows] == sorted(r.due_at for r in rows)
    assert len(rows) == 14 and rows[0].status is PostStatus.SENT  # sent within the last day
    later = outbox.list_queue(session, now=START + timedelta(seconds=1))
    assert len(later) == 13 and PostStatus.SENT not in {r.status for r in later}
    assert len(outbox.list_queue(session, now=START, include_finished=True)) == 14
    first = later[0]
    assert (first.series, first.chat_date, first.kind, first.number) == (
        "traineetalk", DAY, PostKind.REMINDER, 60,
    )  # fmt: skip
    assert (first.hashtag, first.timezone, first.weighted_length) == (
        "#TraineeTalk", "Europe/London", None,
    )  # fmt: skip


def test_list_queue_measures_each_text_when_asked(session: Session) -> None:
    synced(session, chat_plan())
    rows = outbox.list_queue(session, now=NOW, measure=len)
    assert [r.weighted_length for r in rows] == [len(r.text) for r in rows]
