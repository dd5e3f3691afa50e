"""The queue form: a chat typed in the browser, checked exactly as a schedule file's chat is.

`read_draft` takes the form's fields as typed (kept, so the form can be shown again
with the host's words), `check_draft` plans the chat with the series file's settings
(settings.schedule_files[0]) through the same planner as `tcbot schedule check` and
`tcbot queue add` (bot.schedule_plan.plan_spec), and returns the plan with every
problem, not just the first, so the page can list them all at once. A chat that
would start in the past is refused, as `tcbot queue add` refuses it.

`counter_fields` gives the live counter (static/counter.js) the series' templates and
the values of their fields, so it can count each post as it will be sent; it is an
approximation, and the server's count (twitter-text) is the one that decides.
Everything here is pure apart from reading the series file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from archive.models import post_label
from bot.errors import ScheduleError
from bot.schedule_files import ChatPlan, Problem, Series, Severity, load_series
from bot.schedule_plan import local_start, plan_spec
from bot.schedule_values import ChatSpec, Locator, Spot
from bot.thread_text import (
    MAX_WEIGHTED,
    describe_date,
    describe_duration,
    describe_time,
    weighted_length,
)

__all__ = [
    "SOURCE",
    "ChatDraft",
    "DraftCheck",
    "PreviewPost",
    "check_draft",
    "counter_fields",
    "read_draft",
]

SOURCE = "web"  # where problems say the chat came from
MIN_BOXES = 6  # question boxes shown; two more than the host has filled in
MAX_QUESTIONS = 30


@dataclass(frozen=True, slots=True)
class ChatDraft:
    """The queue form as typed."""

    chat_date: str
    topic: str
    questions: tuple[str, ...]  # every box, blanks included

    @property
    def filled(self) -> tuple[str, ...]:
        return tuple(q.strip() for q in self.questions if q.strip())

    def boxes(self) -> list[str]:
        """The question boxes to show: those filled in, then blanks, at least MIN_BOXES."""
        filled = list(self.filled)
        return filled + [""] * max(2, MIN_BOXES - len(filled))


@dataclass(frozen=True, slots=True)
class PreviewPost:
    """One post of the chat as the preview shows it."""

    label: str  # 'Q3', 'intro', 'reminder 24 h before'
    due_at: datetime
    text: str
    length: int
    thread: bool

    @property
    def too_long(self) -> bool:
        return self.length > MAX_WEIGHTED


@dataclass(frozen=True, slots=True)
class DraftCheck:
    """The plan (None when it could not be made) and every problem found."""

    plan: ChatPlan | None
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity is Severity.ERROR)

    @property
    def ok(self) -> bool:
        return self.plan is not None and not self.errors

    def preview(self) -> list[PreviewPost]:
        if self.plan is None:
            return []
        return [
            PreviewPost(post_label(p.kind, p.number), p.due_at, p.text, weighted_length(p.text),
                        p.thread)
            for p in self.plan.posts
        ]  # fmt: skip

    def messages(self) -> list[tuple[str, str]]:
        """(severity, sentence) per problem, as `tcbot schedule check` words them."""
        return [(p.severity.value, describe_problem(p)) for p in self.problems]


def describe_problem(problem: Problem) -> str:
    """'chat 2026-12-16, Q3: would be 301 characters ...' (the web source left out)."""
    where = problem.where.removeprefix(SOURCE).removeprefix(": ")
    return f"{where}: {problem.message}" if where else problem.message


def read_draft(form_date: str, topic: str, questions: Sequence[str]) -> ChatDraft:
    return ChatDraft(form_date.strip(), topic, tuple(questions[:MAX_QUESTIONS]))


def check_draft(draft: ChatDraft, *, series_file: Path, now: datetime) -> DraftCheck:
    """Plan the draft with the series in `series_file`; every problem, like a file's chat."""
    spot = Spot(SOURCE)
    try:
        day = date.fromisoformat(draft.chat_date)
    except ValueError:
        typed = f" ({draft.chat_date!r})" if draft.chat_date else ""
        return DraftCheck(None, (spot.error(f"give the chat's date{typed} as 2026-12-16"),))
    try:
        series = load_series(series_file)
    except ScheduleError as exc:
        return DraftCheck(None, (spot.error(f"the series file cannot be used: {exc}"),))
    label = Spot(SOURCE, label=f"chat {day.isoformat()}")
    problems: list[Problem] = []
    if not draft.topic.strip():
        problems.append(label.error("the topic is empty; give the chat a topic"))
    if not draft.filled:
        problems.append(label.error("every chat needs questions: write at least one"))
    spec = ChatSpec(chat_date=day, topic=draft.topic.strip(), questions=draft.filled)
    plan, found = plan_spec(series, spec, next_topic=None, locate=Locator(SOURCE), now=now)
    problems += found
    if plan.starts_at <= now and not any(p.severity is Severity.ERROR for p in found):
        problems.append(
            label.error(f"the chat on {day} would start in the past; choose a later date")
        )
    return DraftCheck(plan, tuple(problems))


def counter_fields(series: Series, *, now: datetime) -> dict[str, object]:
    """Templates and field values for the live counter, for the series' next chat day."""
    zone = ZoneInfo(series.timezone)
    day = now.astimezone(zone).date()
    day += timedelta(days=(series.weekday - day.weekday()) % 7 or 7)
    starts_at = local_start(day, series.start, zone)[0]
    values = {
        "series": series.id,
        "hashtag": series.hashtag,
        "date_local": describe_date(day),
        "start_local": describe_time(series.start),
        "zone": starts_at.astimezone(zone).tzname() or "",
        "interval": describe_duration(series.interval),
    }
    templates = {
        "intro": series.templates.intro,
        "question": series.templates.question,
        "closing": series.templates.closing_without_next,
    }
    return {"templates": templates, "values": values, "max": MAX_WEIGHTED}
