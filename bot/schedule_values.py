"""The values a schedule file becomes: a series' settings, chat plans, and problems found.

All frozen and pure. `bot.schedule_files` re-exports the public ones (PlannedPost,
ChatPlan, Severity, Problem, Schedule, Series, Templates); the rest of tcbot imports
them from there. A `Spot` says where a problem is (file, line, which chat or question)
and turns a sentence into a `Problem`; a `Locator` finds Spots from TOML paths.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from archive.models import PostKind
from bot.errors import ScheduleError
from bot.schedule_lines import LineIndex, Path
from bot.thread_text import DEFAULT_TEMPLATES

__all__ = [
    "ChatPlan",
    "ChatSpec",
    "Locator",
    "PlannedPost",
    "Problem",
    "Schedule",
    "Series",
    "Severity",
    "Spot",
    "Templates",
]


@dataclass(frozen=True, slots=True)
class PlannedPost:
    """One post of a chat as the file plans it: what to say and when."""

    kind: PostKind
    number: int  # reminders: minutes before the start; intro and closing 0; questions 1..n
    text: str
    due_at: datetime  # aware UTC
    thread: bool  # intro, questions and closing form one thread; reminders stand alone
    lateness: timedelta  # later than due_at + lateness: marked missed, not posted


@dataclass(frozen=True, slots=True)
class ChatPlan:
    """One chat of a series, every post worked out; `posts` is empty for a week off."""

    series: str
    chat_date: date  # local date
    topic: str
    hashtag: str
    starts_at: datetime  # aware UTC of the intro
    timezone: str
    interval: timedelta
    source: str  # the file the chat came from, as given (or "cli" and the like)
    skip: bool
    posts: tuple[PlannedPost, ...]  # in due order


@dataclass(frozen=True, slots=True)
class Templates:
    """The texts of a series' posts, with {fields} (see bot.thread_text)."""

    reminder: str = DEFAULT_TEMPLATES["reminder"]
    intro: str = DEFAULT_TEMPLATES["intro"]
    question: str = DEFAULT_TEMPLATES["question"]
    closing: str = DEFAULT_TEMPLATES["closing"]
    closing_without_next: str = DEFAULT_TEMPLATES["closing_without_next"]

    def get(self, name: str) -> str:
        text: str = getattr(self, name)
        return text


@dataclass(frozen=True, slots=True)
class Series:
    """A series' settings (a file's [series] table, defaults filled in).

    Durations and times are values, not minutes, so a caller such as the demo can
    `dataclasses.replace` a series with a start a few seconds away and short intervals.
    """

    id: str
    hashtag: str
    source: str
    weekday: int = 2  # 0 = Monday; 2 = Wednesday
    start: time = time(20, 0)  # local, in `timezone`
    timezone: str = "Europe/London"
    interval: timedelta = timedelta(minutes=10)
    reminders_before: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=1))
    late_limit: timedelta = timedelta(minutes=15)  # intro, questions, closing
    reminder_late_limit: timedelta = timedelta(hours=2)
    templates: Templates = Templates()


@dataclass(frozen=True, slots=True)
class ChatSpec:
    """One chat as read from a file (or given on the command line), before planning.

    The optional fields override the series for this chat only; `path` is where the
    chat's block is in the file, None when it came from elsewhere.
    """

    chat_date: date
    topic: str
    questions: tuple[str, ...]
    skip: bool = False
    start: time | None = None
    interval: timedelta | None = None
    reminders_before: tuple[timedelta, ...] | None = None
    templates: tuple[tuple[str, str], ...] = ()
    path: Path | None = None


class Severity(enum.Enum):
    """An error keeps a chat (or a whole file) out of the outbox; a warning does not."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong in a schedule: where, how bad, and what to do about it."""

    severity: Severity
    where: str  # "schedules/traineetalk.toml:14" or "cli: chat 2026-12-02, Q3"
    message: str
    path: str = ""
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.where}: {self.severity.value}: {self.message}"

    def to_error(self) -> ScheduleError:
        """This problem as an exception (its message names the same place)."""
        what = self.message
        if self.line is None and self.where != self.path:
            what = f"{self.where.removeprefix(self.path + ': ')}: {what}"
        return ScheduleError(what, path=self.path, line=self.line)


@dataclass(frozen=True, slots=True)
class Spot:
    """A place in a schedule: a file, maybe a line, maybe a label like "chat 2026-12-02, Q3"."""

    path: str
    line: int | None = None
    label: str = ""

    def problem(self, severity: Severity, text: str) -> Problem:
        if self.line is not None:
            where = f"{self.path}:{self.line}"
            message = f"{self.label}: {text}" if self.label else text
        else:
            where = f"{self.path}: {self.label}" if self.label else self.path
            message = text
        return Problem(severity, where, message, self.path, self.line)

    def error(self, text: str) -> Problem:
        return self.problem(Severity.ERROR, text)

    def warning(self, text: str) -> Problem:
        return self.problem(Severity.WARNING, text)


class Locator:
    """Finds the Spot of a TOML path in one file; without the file's text, just the source."""

    def __init__(self, source: str, lines: LineIndex | None = None) -> None:
        self.source = source
        self._lines = lines

    def spot(self, path: Path | None, label: str = "") -> Spot:
        line = self._lines.line(path) if self._lines is not None and path else None
        return Spot(self.source, line, label)


@dataclass(frozen=True, slots=True)
class Schedule:
    """What `load_schedules` found: the chats it could plan, and every problem."""

    plans: tuple[ChatPlan, ...]
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity is Severity.WARNING)
