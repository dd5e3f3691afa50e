"""Reading a parsed schedule file's tables into a Series and ChatSpecs, checking every key.

tomllib has already turned the text into dicts; this module checks what is in them
(unknown keys with a "did you mean", missing keys, wrong types, bad dates, times, time
zones, hashtags and templates) and reports each problem at its line through a Locator.
It never raises for content: a table with errors yields None (the series) or is left
out (a chat), and the problems say why. Timing and texts are checked later, when a
chat is planned (bot.schedule_plan).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.schedule_lines import Path
from bot.schedule_values import ChatSpec, Locator, Problem, Series
from bot.thread_text import TEMPLATE_NAMES, template_problem

__all__ = ["CHAT_KEYS", "SERIES_KEYS", "FileContents", "read_document"]

T = TypeVar("T")

TOP_KEYS = ("series", "chats")
SERIES_KEYS = (
    "id", "hashtag", "weekday", "start", "timezone", "interval_minutes",
    "reminders_minutes_before", "late_limit_minutes", "reminder_late_limit_minutes", "templates",
)  # fmt: skip
CHAT_KEYS = (
    "date", "topic", "questions", "skip", "start", "interval_minutes",
    "reminders_minutes_before", "templates",
)  # fmt: skip
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class _Bad(Exception):
    """A value that cannot be used; the message ends the sentence "<key> ..."."""


@dataclass(frozen=True, slots=True)
class FileContents:
    """One file's series (None if its table has errors), its readable chats, and problems."""

    series: Series | None
    chats: tuple[ChatSpec, ...]
    problems: tuple[Problem, ...]


def read_document(document: Mapping[str, Any], *, locate: Locator) -> FileContents:
    """Check a parsed file's tables and turn them into values."""
    reader = _Reader(locate)
    reader.check_keys(document, (), allowed=TOP_KEYS, required=(), name="the file")
    if "series" not in document:
        reader.error(
            (), "the file has no [series] table; add one (schedules/traineetalk.toml shows how)"
        )
    series = _read_series(reader, document.get("series"))
    chats: list[ChatSpec] = []
    raw_chats = document.get("chats", [])
    if not isinstance(raw_chats, list):
        reader.error(("chats",), "chats must be [[chats]] blocks, one per chat")
        raw_chats = []
    for index, raw in enumerate(raw_chats):
        chat = _read_chat(reader, raw, ("chats", index))
        if chat is not None:
            chats.append(chat)
    return FileContents(series, tuple(chats), tuple(reader.problems))


class _Reader:
    """Collects problems while reading values at TOML paths."""

    def __init__(self, locate: Locator) -> None:
        self.locate = locate
        self.problems: list[Problem] = []

    def error(self, path: Path, text: str) -> None:
        self.problems.append(self.locate.spot(path).error(text))

    def check_keys(
        self,
        table: Mapping[str, Any],
        path: Path,
        *,
        allowed: Collection[str],
        required: Collection[str],
        name: str,
    ) -> None:
        for key in table:
            if key not in allowed:
                self.error((*path, key), f"unknown key '{key}' in {name}: {_hint(key, allowed)}")
        for key in required:
            if key not in table:
                self.error(path, f"{name} has no '{key}'; add a line {key} = ...")

    def read(
        self, table: Mapping[str, Any], path: Path, key: str, convert: Callable[[Any], T]
    ) -> T | None:
        """The converted value of `key`, or None if it is missing or unusable (reported)."""
        if key not in table:
            return None
        try:
            return convert(table[key])
        except _Bad as exc:
            self.error((*path, key), f"{key} {exc}")
            return None


def _read_series(reader: _Reader, raw: Any) -> Series | None:
    path: Path = ("series",)
    if not isinstance(raw, dict):
        if raw is not None:
            reader.error(path, "series must be a table: put [series] on a line of its own")
        return None
    before = len(reader.problems)
    reader.check_keys(raw, path, allowed=SERIES_KEYS, required=("id", "hashtag"), name="[series]")
    fields: dict[str, Any] = {
        "id": reader.read(raw, path, "id", _series_id),
        "hashtag": reader.read(raw, path, "hashtag", _hashtag),
        "weekday": reader.read(raw, path, "weekday", _weekday),
        "start": reader.read(raw, path, "start", _clock),
        "timezone": reader.read(raw, path, "timezone", _zone),
        "interval": reader.read(raw, path, "interval_minutes", _minutes),
        "reminders_before": reader.read(raw, path, "reminders_minutes_before", _minutes_list),
        "late_limit": reader.read(raw, path, "late_limit_minutes", _minutes),
        "reminder_late_limit": reader.read(raw, path, "reminder_late_limit_minutes", _minutes),
    }
    templates = _read_templates(reader, raw, path)
    if len(reader.problems) > before:
        return None
    series = Series(
        source=reader.locate.source, **{k: v for k, v in fields.items() if v is not None}
    )
    return replace(series, templates=replace(series.templates, **dict(templates)))


def _read_chat(reader: _Reader, raw: Any, path: Path) -> ChatSpec | None:
    if not isinstance(raw, dict):
        reader.error(path, "each chat must be a [[chats]] block")
        return None
    before = len(reader.problems)
    skip = reader.read(raw, path, "skip", _flag) or False
    required = ("date",) if skip else ("date", "topic", "questions")
    reader.check_keys(raw, path, allowed=CHAT_KEYS, required=required, name="this [[chats]] block")
    chat_date = reader.read(raw, path, "date", _day)
    topic = reader.read(raw, path, "topic", _text)
    questions = _read_questions(reader, raw.get("questions"), (*path, "questions"))
    overrides: dict[str, Any] = {
        "start": reader.read(raw, path, "start", _clock),
        "interval": reader.read(raw, path, "interval_minutes", _minutes),
        "reminders_before": reader.read(raw, path, "reminders_minutes_before", _minutes_list),
    }
    templates = _read_templates(reader, raw, path)
    if len(reader.problems) > before or chat_date is None:
        return None
    return ChatSpec(
        chat_date=chat_date,
        topic=topic or "",
        questions=questions,
        skip=skip,
        templates=templates,
        path=path,
        **overrides,
    )


def _read_questions(reader: _Reader, raw: Any, path: Path) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw:
        reader.error(path, 'questions should be a list of texts: questions = ["...", "..."]')
        return ()
    questions: list[str] = []
    for index, item in enumerate(raw):
        try:
            questions.append(_text(item))
        except _Bad as exc:
            reader.error((*path, index), f"question {index + 1} {exc}")
    return tuple(questions)


def _read_templates(
    reader: _Reader, raw: Mapping[str, Any], path: Path
) -> tuple[tuple[str, str], ...]:
    table = raw.get("templates")
    where: Path = (*path, "templates")
    if table is None:
        return ()
    name = f"[{path[0]}.templates]"
    if not isinstance(table, dict):
        reader.error(
            where, f"templates should be a table of texts: put {name} on a line of its own"
        )
        return ()
    reader.check_keys(table, where, allowed=TEMPLATE_NAMES, required=(), name=name)
    found: list[tuple[str, str]] = []
    for key in TEMPLATE_NAMES:
        text = reader.read(table, where, key, _text)
        problem = template_problem(key, text) if text is not None else None
        if problem is not None:
            reader.error((*where, key), problem)
        elif text is not None:
            found.append((key, text))
    return tuple(found)


def _hint(key: str, allowed: Collection[str]) -> str:
    close = difflib.get_close_matches(key, list(allowed), n=1)
    if close:
        return f"did you mean '{close[0]}'?"
    return "the keys allowed here are " + ", ".join(allowed)


def _show(raw: Any) -> str:
    return json.dumps(raw, ensure_ascii=False) if isinstance(raw, str) else str(raw)


def _text(raw: Any) -> str:
    if not isinstance(raw, str):
        raise _Bad(f'should be text in quotes, e.g. "...", not {_show(raw)}')
    if not raw.strip():
        raise _Bad("is empty; write the text between the quotes")
    return raw.strip()


def _flag(raw: Any) -> bool:
    if not isinstance(raw, bool):
        raise _Bad(f"should be true or false, not {_show(raw)}")
    return raw


def _minutes(raw: Any) -> timedelta:
    if type(raw) is not int or raw < 1:
        raise _Bad(f"should be a whole number of minutes, at least 1, e.g. 10, not {_show(raw)}")
    return timedelta(minutes=raw)


def _minutes_list(raw: Any) -> tuple[timedelta, ...]:
    if not isinstance(raw, list) or any(type(x) is not int or x < 1 for x in raw):
        raise _Bad(f"should be a list of whole minutes, e.g. [1440, 60], not {_show(raw)}")
    if len(set(raw)) != len(raw):
        raise _Bad(f"lists the same time twice ({_show(raw)}); give each reminder once")
    return tuple(timedelta(minutes=x) for x in sorted(raw, reverse=True))


def _clock(raw: Any) -> time:
    if isinstance(raw, time):
        return raw
    match = (
        re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", raw.strip()) if isinstance(raw, str) else None
    )
    if match is None:
        raise _Bad(f'should be a 24-hour time in quotes, e.g. "20:00", not {_show(raw)}')
    return time(int(match[1]), int(match[2]))


def _day(raw: Any) -> date:
    if isinstance(raw, datetime):
        raise _Bad(
            f"should be just a date, e.g. 2026-12-02, not {_show(raw)}; set the time with start"
        )
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw.strip()):
        try:
            return date.fromisoformat(raw.strip())
        except ValueError:
            pass
    raise _Bad(f"should be a date as year-month-day, e.g. 2026-12-02, not {_show(raw)}")


def _weekday(raw: Any) -> int:
    name = raw.strip().lower() if isinstance(raw, str) else ""
    for number, day in enumerate(_WEEKDAYS):
        if name in (day, day[:3]):
            return number
    raise _Bad(f'should be a day of the week, e.g. "wednesday", not {_show(raw)}')


def _zone(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise _Bad(f'should be a time zone name in quotes, e.g. "Europe/London", not {_show(raw)}')
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        close = _close_zones(raw.lower())
        hint = f"did you mean {' or '.join(close)}?" if close else 'e.g. "Europe/London"'
        raise _Bad(f"names a time zone tcbot does not know ({_show(raw)}): {hint}") from None
    return raw


@lru_cache(maxsize=1)
def _zones_by_lower_name() -> dict[str, str]:
    return {name.lower(): name for name in sorted(available_timezones())}


def _close_zones(name: str) -> list[str]:
    zones = _zones_by_lower_name()
    return [zones[m] for m in difflib.get_close_matches(name, list(zones), n=2)]


def _series_id(raw: Any) -> str:
    if not isinstance(raw, str) or not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", raw):
        raise _Bad(f'should be a short name in lower case, e.g. "traineetalk", not {_show(raw)}')
    return raw


def _hashtag(raw: Any) -> str:
    text = raw.strip() if isinstance(raw, str) else ""
    if re.fullmatch(r"#\w*[^\W\d]\w*", text):
        return text
    if re.fullmatch(r"\w*[^\W\d]\w*", text):
        raise _Bad(f'needs its "#": write "#{text}"')
    raise _Bad(f'should be one hashtag in quotes, e.g. "#TraineeTalk", not {_show(raw)}')
