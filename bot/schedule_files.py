"""The hosts' schedule files (schedules/*.toml) turned into checked, frozen chat plans.

This is the entry point the CLI and the daemon call; everything here is pure apart from
reading the files. `load_schedules` reads every file given, checks each (the line of each
problem found by bot.schedule_lines, the tables by bot.schedule_check), plans each chat
(bot.schedule_plan), then checks the chats against each other: a chat given twice, or two
chats whose threads would run at the same time. It never raises for what is in a file:
a chat with an error gets no plan (so a sync never loads it) while the others still do.

`load_series` and `plan_chat` let `tcbot queue add` build a chat from a file's series
settings without editing the file; they raise ScheduleError instead.

The next chat's topic, for a closing post, is the topic of the next chat of the same
series (by date, weeks off left out) in any of the files given.
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from bot.schedule_check import FileContents, read_document
from bot.schedule_lines import LineIndex
from bot.schedule_plan import local_start, plan_spec
from bot.schedule_values import (
    ChatPlan,
    ChatSpec,
    Locator,
    PlannedPost,
    Problem,
    Schedule,
    Series,
    Severity,
    Spot,
    Templates,
)

__all__ = [
    "ChatPlan",
    "PlannedPost",
    "Problem",
    "Schedule",
    "Series",
    "Severity",
    "Templates",
    "load_schedules",
    "load_series",
    "local_start",
    "plan_chat",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _File:
    locate: Locator
    contents: FileContents


@dataclass(slots=True)
class _Candidate:
    """A chat on its way to a plan, with the problems that concern it alone."""

    series: Series
    spec: ChatSpec
    plan: ChatPlan
    spot: Spot  # its date line: where clashes with other chats are reported
    problems: list[Problem]


def load_schedules(paths: Sequence[Path], *, now: datetime) -> Schedule:
    """Read and check every file; plan each chat that has no error.

    Plans come in start order; problems in file order, a file's own problems first.
    """
    files = [_read_file(path) for path in paths]
    problems = [problem for file in files for problem in file.contents.problems]
    chats = [
        (file, file.contents.series, spec)
        for file in files
        if file.contents.series is not None
        for spec in file.contents.chats
    ]
    candidates: list[_Candidate] = []
    for file, series, spec in chats:
        assert series is not None  # filtered above; narrows the type
        next_topic = _next_topic(series.id, spec.chat_date, [(s, c) for _, s, c in chats])
        plan, found = plan_spec(series, spec, next_topic=next_topic, locate=file.locate, now=now)
        spot = file.locate.spot((*spec.path, "date") if spec.path else None)
        candidates.append(_Candidate(series, spec, plan, spot, list(found)))
    _check_clashes(candidates)
    plans = []
    for candidate in candidates:
        problems += candidate.problems
        if not any(p.severity is Severity.ERROR for p in candidate.problems):
            plans.append(candidate.plan)
    plans.sort(key=lambda plan: (plan.starts_at, plan.series, plan.chat_date))
    log.debug("schedule files read: %d plans, %d problems", len(plans), len(problems))
    return Schedule(tuple(plans), tuple(problems))


def load_series(path: Path) -> Series:
    """A file's series settings; raises ScheduleError if the file or its [series] has errors.

    Problems in the file's chats do not matter here.
    """
    contents = _read_file(path).contents
    if contents.series is None:
        errors = [p for p in contents.problems if p.severity is Severity.ERROR]
        raise errors[0].to_error()
    return contents.series


def plan_chat(
    series: Series,
    *,
    chat_date: date,
    topic: str,
    questions: Sequence[str],
    source: str,
    next_topic: str | None,
    now: datetime | None = None,
) -> ChatPlan:
    """Plan one chat with `series`' settings, checked as a file's chat would be.

    With `now`, a chat already over is an error too. Raises ScheduleError for the
    first error; warnings are logged.
    """
    texts = [question.strip() for question in questions]
    spot = Spot(source, label=f"chat {chat_date.isoformat()}")
    problems: list[Problem] = []
    if not topic.strip():
        problems.append(spot.error("the topic is empty; give the chat a topic"))
    if not texts or any(not text for text in texts):
        problems.append(spot.error("every chat needs questions, and no question may be empty"))
    spec = ChatSpec(chat_date=chat_date, topic=topic.strip(), questions=tuple(texts))
    plan, found = plan_spec(series, spec, next_topic=next_topic, locate=Locator(source), now=now)
    problems += found
    for problem in problems:
        if problem.severity is Severity.ERROR:
            raise problem.to_error()
        log.warning("%s", problem)
    return plan


def _read_file(path: Path) -> _File:
    locate = Locator(str(path))
    spot = locate.spot(None)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return _broken(locate, spot.error("is not UTF-8 text; save it as UTF-8 and try again"))
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return _broken(locate, spot.error(f"cannot be read ({reason}); check the name and path"))
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return _broken(locate, _syntax_problem(str(path), text, exc))
    locate = Locator(str(path), LineIndex(text))
    return _File(locate, read_document(document, locate=locate))


def _broken(locate: Locator, problem: Problem) -> _File:
    return _File(locate, FileContents(None, (), (problem,)))


def _syntax_problem(path: str, text: str, exc: tomllib.TOMLDecodeError) -> Problem:
    """tomllib's message, with its "(at line L, column C)" turned into file:line."""
    message = str(exc)
    found = re.search(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)$", message)
    line, column = text.count("\n") + 1, None
    if found:
        message = message[: found.start()]
        if found[1]:
            line, column = int(found[1]), int(found[2])
    at = f" at column {column}" if column else " at the end of the file"
    return Spot(path, line).error(
        f"this is not valid TOML{at}: {message}. Check the quotes, brackets and '=' here "
        "(or just above); a key given twice in one block also causes this"
    )


def _next_topic(
    series_id: str, after: date, chats: Sequence[tuple[Series, ChatSpec]]
) -> str | None:
    later = [
        (spec.chat_date, index, spec.topic)
        for index, (series, spec) in enumerate(chats)
        if series.id == series_id and spec.chat_date > after and not spec.skip and spec.topic
    ]
    return min(later)[2] if later else None


def _check_clashes(candidates: Sequence[_Candidate]) -> None:
    """A chat given twice, or one whose thread overlaps an earlier-listed chat's: error."""
    for position, later in enumerate(candidates):
        for earlier in candidates[:position]:
            problem = _clash(earlier, later)
            if problem is not None:
                later.problems.append(problem)
                break


def _clash(earlier: _Candidate, later: _Candidate) -> Problem | None:
    a, b = earlier.plan, later.plan
    other = f"{earlier.spot.path}:{earlier.spot.line}" if earlier.spot.line else earlier.spot.path
    label = f"chat {b.chat_date.isoformat()}"
    spot = Spot(later.spot.path, later.spot.line, label)
    if a.series == b.series and a.chat_date == b.chat_date:
        return spot.error(f"this {b.hashtag} chat is already listed at {other}; keep only one")
    if a.skip or b.skip or not a.posts or not b.posts:
        return None
    a_end, b_end = _thread_end(a), _thread_end(b)
    if a.starts_at == b.starts_at:
        return spot.error(
            f"starts at the same time as the {a.hashtag} chat at {other} "
            f"({a.starts_at:%Y-%m-%d %H:%M} UTC); move one of them"
        )
    if a.starts_at <= b_end and b.starts_at <= a_end:
        return spot.error(
            f"would run at the same time as the {a.hashtag} chat at {other} ({a.starts_at:%H:%M} "
            f"to {a_end:%H:%M} UTC on {a.starts_at:%Y-%m-%d}); move one of them"
        )
    return None


def _thread_end(plan: ChatPlan) -> datetime:
    return max(post.due_at for post in plan.posts if post.thread)
