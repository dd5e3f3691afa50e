"""Helpers shared by the posting tests (sender, daemon, crash safety): a chat plan builder.

The crash-safety test runs the real `python -m bot run --drain` in its subprocesses,
so no separate daemon entry point is needed here.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from archive.models import PostKind
from bot.schedule_files import ChatPlan, PlannedPost

HASHTAG = "#TraineeTalk"
QUESTIONS = (
    "What first drew you to counselling training?",
    "How do you look after yourself between placement sessions?",
    "What has supervision taught you this term?",
    "Which theory speaks to you most, and why?",
    "How do you handle a client who misses sessions?",
    "What do you wish you had known in your first year?",
    "How do you prepare for an ending with a client?",
    "What helps you write up process notes?",
)


def make_chat_plan(
    starts_at: datetime,
    *,
    questions: int = 3,
    interval: timedelta = timedelta(minutes=10),
    reminders: tuple[int, ...] = (),
    lateness: timedelta = timedelta(minutes=15),
    reminder_lateness: timedelta = timedelta(hours=2),
    chat_date: date | None = None,
    topic: str = "endings with clients",
    series: str = "traineetalk",
) -> ChatPlan:
    """A chat: reminders (minutes before), intro, Q1..Qn every `interval`, closing."""
    day = chat_date or starts_at.date()
    posts = [
        PlannedPost(
            PostKind.REMINDER,
            minutes,
            f"Reminder: {HASHTAG} on {topic} starts in {minutes} minutes ({day})",
            starts_at - timedelta(minutes=minutes),
            False,
            reminder_lateness,
        )
        for minutes in sorted(reminders, reverse=True)
    ]
    posts.append(
        PlannedPost(
            PostKind.INTRO,
            0,
            f"Welcome to {HASHTAG} ({day}): tonight, {topic}. Answer with A1, A2... and {HASHTAG}",
            starts_at,
            True,
            lateness,
        )
    )
    for n in range(1, questions + 1):
        text = f"Q{n} {QUESTIONS[(n - 1) % len(QUESTIONS)]} {HASHTAG} ({day})"
        posts.append(
            PlannedPost(PostKind.QUESTION, n, text, starts_at + n * interval, True, lateness)
        )
    posts.append(
        PlannedPost(
            PostKind.CLOSING,
            0,
            f"Thank you for joining {HASHTAG} ({day})! See you next week.",
            starts_at + (questions + 1) * interval,
            True,
            lateness,
        )
    )
    return ChatPlan(
        series=series, chat_date=day, topic=topic, hashtag=HASHTAG, starts_at=starts_at,
        timezone="Europe/London", interval=interval, source="cli", skip=False,
        posts=tuple(posts),
    )  # fmt: skip
