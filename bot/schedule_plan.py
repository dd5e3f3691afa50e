"""Planning one chat: local date and time to UTC, every post's text and due time, and checks.

`plan_spec` turns a series and one chat into a ChatPlan and the problems found on the
way: a start time that does not exist on a clock-change day (error) or happens twice
(warning, tcbot uses the first), a date that is not the series' weekday (warning), a
post over X's 280 weighted characters or without the hashtag, two posts with the same
text (X refuses the second), and a chat in the past. It always returns a plan; the
caller keeps it out of the outbox if any problem is an error.

Timing: reminders `reminders_before` ahead of the start; the intro at the start;
question n at start + n × interval; the closing one interval after the last question.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from archive.models import PostKind
from bot.schedule_lines import Path
from bot.schedule_values import ChatPlan, ChatSpec, Locator, PlannedPost, Problem, Series, Spot
from bot.thread_text import (
    MAX_WEIGHTED,
    describe_date,
    describe_duration,
    describe_time,
    has_hashtag,
    render,
    weighted_length,
)

__all__ = ["local_start", "plan_spec"]


def plan_spec(
    series: Series,
    chat: ChatSpec,
    *,
    next_topic: str | None,
    locate: Locator,
    now: datetime | None,
) -> tuple[ChatPlan, tuple[Problem, ...]]:
    """Plan `chat` with `series` (overridden by the chat's own settings); check it."""
    settings = _with_overrides(series, chat)
    label = f"chat {chat.chat_date.isoformat()}"
    starts_at, dst_problem = _resolve_start(settings, chat, locate, label)
    problems = [dst_problem] if dst_problem else []
    if chat.chat_date.weekday() != settings.weekday:
        problems.append(_weekday_warning(settings, chat, locate, label))
    placed = [] if chat.skip else _posts(settings, chat, starts_at, next_topic, locate)
    problems += _text_problems(settings, placed)
    if now is not None and placed:
        date_spot = locate.spot((*chat.path, "date") if chat.path else None, label)
        placed, timing = _timing_problems(placed, now=now, spot=date_spot)
        problems += timing
    plan = ChatPlan(
        series=settings.id,
        chat_date=chat.chat_date,
        topic=chat.topic,
        hashtag=settings.hashtag,
        starts_at=starts_at,
        timezone=settings.timezone,
        interval=settings.interval,
        source=locate.source,
        skip=chat.skip,
        posts=tuple(post for post, _spot in placed),
    )
    return plan, tuple(problems)


def local_start(day: date, at: time, zone: ZoneInfo) -> tuple[datetime, datetime | None, bool]:
    """`at` on `day` in `zone` as UTC: (the time tcbot uses, the other reading, exists).

    On a clock-change day a local time can be missing (clocks go forward: `exists` is
    False, and the two readings straddle the gap) or happen twice (clocks go back: the
    other reading is the second occurrence). tcbot uses fold=0: the first.
    """
    naive = datetime.combine(day, at)
    first = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    exists = first.astimezone(zone).replace(tzinfo=None) == naive
    return first, (second if second != first else None), exists


def _with_overrides(series: Series, chat: ChatSpec) -> Series:
    return replace(
        series,
        start=chat.start or series.start,
        interval=chat.interval or series.interval,
        reminders_before=(
            series.reminders_before if chat.reminders_before is None else chat.reminders_before
        ),
        templates=replace(series.templates, **dict(chat.templates)),
    )


def _setting_path(chat: ChatSpec, key: str, *, overridden: bool) -> Path | None:
    if overridden and chat.path is not None:
        return (*chat.path, key)
    return ("series", key) if chat.path is not None else None


def _resolve_start(
    settings: Series, chat: ChatSpec, locate: Locator, label: str
) -> tuple[datetime, Problem | None]:
    zone = ZoneInfo(settings.timezone)
    starts_at, other, exists = local_start(chat.chat_date, settings.start, zone)
    if other is None:
        return starts_at, None
    spot = locate.spot(_setting_path(chat, "start", overridden=chat.start is not None), label)
    local = f"{settings.start:%H:%M} on {chat.chat_date.isoformat()} in {settings.timezone}"
    early, late = sorted((starts_at, other))
    if not exists:
        return starts_at, spot.error(
            f"{local} does not exist: the clocks go forward then, so it could mean "
            f"{_utc(early)} or {_utc(late)}; choose a start outside the change "
            '(for this chat only, add start = "HH:MM" to its block)'
        )
    return starts_at, spot.warning(
        f"{local} happens twice (the clocks go back): at {_utc(early)} and again at "
        f"{_utc(late)}; tcbot will use the first, {_utc(starts_at)}. Choose another start "
        "for this chat if that is not what you meant"
    )


def _utc(moment: datetime) -> str:
    return f"{moment:%H:%M} UTC"


def _weekday_warning(settings: Series, chat: ChatSpec, locate: Locator, label: str) -> Problem:
    day = describe_date(chat.chat_date).split()[0]
    wanted = describe_date(date(2024, 1, 1) + timedelta(days=settings.weekday)).split()[0]
    spot = locate.spot((*chat.path, "date") if chat.path else None, label)
    return spot.warning(
        f"{chat.chat_date.isoformat()} is a {day}, but {settings.hashtag} is on {wanted}s; "
        "check the date (tcbot will still post it on the date given)"
    )


def _posts(
    settings: Series, chat: ChatSpec, starts_at: datetime, next_topic: str | None, locate: Locator
) -> list[tuple[PlannedPost, Spot]]:
    """Every post of the chat in due order, each with the Spot its text problems point to."""
    writer = _Writer(settings, chat, starts_at, locate)
    placed = [writer.reminder(before) for before in settings.reminders_before]
    placed.append(writer.post(PostKind.INTRO, 0, "intro", starts_at, what="intro"))
    for n, question in enumerate(chat.questions, start=1):
        placed.append(writer.question(n, question))
    closing_due = starts_at + (len(chat.questions) + 1) * settings.interval
    if next_topic:
        placed.append(
            writer.post(PostKind.CLOSING, 0, "closing", closing_due, what="closing",
                        next_topic=next_topic)
        )  # fmt: skip
    else:
        placed.append(
            writer.post(PostKind.CLOSING, 0, "closing_without_next", closing_due, what="closing")
        )
    return placed


class _Writer:
    """Renders one chat's posts and knows where each text's problems belong."""

    def __init__(self, settings: Series, chat: ChatSpec, starts_at: datetime, locate: Locator):
        self.settings, self.chat, self.starts_at, self.locate = settings, chat, starts_at, locate
        self.label = f"chat {chat.chat_date.isoformat()}"
        self.common = {
            "series": settings.id,
            "hashtag": settings.hashtag,
            "topic": chat.topic,
            "date_local": describe_date(chat.chat_date),
            "start_local": describe_time(settings.start),
            "zone": starts_at.astimezone(ZoneInfo(settings.timezone)).tzname() or "",
            "interval": describe_duration(settings.interval),
        }

    def reminder(self, before: timedelta) -> tuple[PlannedPost, Spot]:
        minutes = int(before.total_seconds() // 60)
        return self.post(
            PostKind.REMINDER, minutes, "reminder", self.starts_at - before,
            what=f"reminder {describe_duration(before)} before",
            until=f"in {describe_duration(before)}",
        )  # fmt: skip

    def question(self, n: int, question: str) -> tuple[PlannedPost, Spot]:
        due = self.starts_at + n * self.settings.interval
        text = self._render("question", n=str(n), question=question)
        path = (*self.chat.path, "questions", n - 1) if self.chat.path else None
        post = PlannedPost(PostKind.QUESTION, n, text, due, True, self.settings.late_limit)
        return post, self.locate.spot(path, f"{self.label}, Q{n}")

    def post(
        self, kind: PostKind, number: int, name: str, due: datetime, *, what: str, **extra: str
    ) -> tuple[PlannedPost, Spot]:
        """A post from the `name` template; its problems point at that template's line."""
        reminder = kind is PostKind.REMINDER
        late = self.settings.reminder_late_limit if reminder else self.settings.late_limit
        post = PlannedPost(kind, number, self._render(name, **extra), due, not reminder, late)
        overridden = any(key == name for key, _text in self.chat.templates)
        path = _setting_path(self.chat, "templates", overridden=overridden)
        return post, self.locate.spot((*path, name) if path else None, f"{self.label}, {what}")

    def _render(self, name: str, **extra: str) -> str:
        return render(name, self.settings.templates.get(name), {**self.common, **extra})


def _text_problems(settings: Series, placed: list[tuple[PlannedPost, Spot]]) -> list[Problem]:
    """Length and hashtag of each post, and no two posts of the chat with the same text."""
    problems: list[Problem] = []
    seen: dict[str, Spot] = {}
    for post, spot in placed:
        problems += _post_problems(post, spot, hashtag=settings.hashtag)
        if post.text in seen:
            earlier = seen[post.text].label or "another post"
            problems.append(
                spot.error(
                    f"has the same text as {earlier}, and X refuses a post that repeats one; "
                    "make them differ"
                )
            )
        seen.setdefault(post.text, spot)
    return problems


def _post_problems(post: PlannedPost, spot: Spot, *, hashtag: str) -> list[Problem]:
    problems: list[Problem] = []
    question = post.kind is PostKind.QUESTION
    length = weighted_length(post.text)
    if length > MAX_WEIGHTED:
        what = "the question" if question else "the topic or this template"
        problems.append(
            spot.error(
                f"would be {length} characters as X counts them (links count 23, emoji and CJK "
                f"2); the limit is {MAX_WEIGHTED}, so shorten {what} by {length - MAX_WEIGHTED}"
            )
        )
    if not has_hashtag(post.text, hashtag):
        source = "the question template (or the question)" if question else "its template"
        problems.append(spot.error(f"would not carry {hashtag}; add {{hashtag}} to {source}"))
    return problems


def _timing_problems(
    placed: list[tuple[PlannedPost, Spot]], *, now: datetime, spot: Spot
) -> tuple[list[tuple[PlannedPost, Spot]], list[Problem]]:
    """A chat in the past is an error; reminders too late to post now are dropped (warned)."""
    last = placed[-1][0]
    start = next(post for post, _ in placed if post.kind is PostKind.INTRO)
    if now > last.due_at + last.lateness:
        return placed, [
            spot.error(
                f"this chat started at {start.due_at:%Y-%m-%d %H:%M} UTC, which has passed; "
                "delete its block from the file (what was posted stays in the archive)"
            )
        ]
    problems: list[Problem] = []
    if now > start.due_at:
        problems.append(
            spot.warning(
                f"this chat started at {start.due_at:%Y-%m-%d %H:%M} UTC and is still running; "
                "tcbot keeps its posts to come, and never changes a post already sent"
            )
        )
    kept: list[tuple[PlannedPost, Spot]] = []
    for post, post_spot in placed:
        if post.kind is PostKind.REMINDER and now > post.due_at + post.lateness:
            problems.append(
                post_spot.warning(
                    f"was due at {post.due_at:%Y-%m-%d %H:%M} UTC, too long ago to post now; "
                    "tcbot leaves it out"
                )
            )
            continue
        kept.append((post, post_spot))
    return kept, problems
