"""The words of a chat: post templates, the fields they may use, and X's weighted length.

Hosts write templates in the schedule file with fields in braces, e.g.
``"Q{n} {question} {hashtag}"``. Which fields a template may use depends on the post
(only the question template knows {n} and {question}, only the closing template knows
{next_topic}); `template_problem` says, in words a host can act on, what is wrong with a
template, and `render` fills one in. Everything here is pure.

The values of the fields, as a host will see them in a post:

    {series}        the series id from the file, e.g. traineetalk
    {hashtag}       e.g. #TraineeTalk (left out if the rest of the post already has it)
    {topic}         the chat's topic
    {date_local}    the chat's local date, e.g. "Wednesday 2 December"
    {start_local}   the local start time on a 12-hour clock, e.g. "8pm" or "7:30pm"
    {zone}          the zone's abbreviation on that date, e.g. "GMT" or "BST"
    {interval}      time between questions, e.g. "10 minutes"
    {until}         reminders only: how long before the start, e.g. "in 24 hours"
    {n}, {question} questions only: the number (1, 2, ...) and the question's text
    {next_topic}    closing only: the topic of the series' next chat

Length is X's weighted length from twitter-text (the library X's documentation points
to): at most 280, where a link counts 23 whatever its length, and emoji and CJK
characters count 2.
"""

from __future__ import annotations

import difflib
import re
import string
from collections.abc import Mapping
from datetime import date, time, timedelta

from twitter_text import parse_tweet  # type: ignore[import-untyped]

from bot.errors import ScheduleError

__all__ = [
    "DEFAULT_TEMPLATES",
    "MAX_WEIGHTED",
    "TEMPLATE_FIELDS",
    "TEMPLATE_NAMES",
    "describe_date",
    "describe_duration",
    "describe_time",
    "has_hashtag",
    "render",
    "template_problem",
    "weighted_length",
]

MAX_WEIGHTED = 280

TEMPLATE_NAMES = ("reminder", "intro", "question", "closing", "closing_without_next")

_COMMON = ("series", "hashtag", "topic", "date_local", "start_local", "zone", "interval")
TEMPLATE_FIELDS: Mapping[str, tuple[str, ...]] = {
    "reminder": (*_COMMON, "until"),
    "intro": _COMMON,
    "question": (*_COMMON, "n", "question"),
    "closing": (*_COMMON, "next_topic"),
    "closing_without_next": _COMMON,
}

DEFAULT_TEMPLATES: Mapping[str, str] = {
    "reminder": (
        "Coming up {until}: {hashtag} on {topic}, {date_local} at {start_local} {zone}. "
        "All trainees welcome!"
    ),
    "intro": (
        "Welcome to {hashtag}! Tonight's topic: {topic}. A new question every {interval}: "
        "answer with A1, A2… and include {hashtag} so everyone can find your replies."
    ),
    "question": "Q{n} {question} {hashtag}",
    "closing": (
        "That's all for tonight's {hashtag} on {topic}. Thank you for joining in! "
        "Next time: {next_topic}."
    ),
    "closing_without_next": (
        "That's all for tonight's {hashtag} on {topic}. Thank you for joining in! "
        "Next week's topic is coming soon."
    ),
}

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
# Stands in for {hashtag} while rendering; a control character no host types.
_HASHTAG_SLOT = "\x00"


def weighted_length(text: str) -> int:
    """X's weighted length of `text`: what the 280 limit applies to."""
    return int(parse_tweet(text).weightedLength)


def has_hashtag(text: str, hashtag: str) -> bool:
    """True if `text` carries `hashtag` as a whole hashtag (X matches them case-insensitively)."""
    pattern = rf"(?<![\w#]){re.escape(hashtag)}(?!\w)"
    return re.search(pattern, text, flags=re.IGNORECASE) is not None


def template_problem(name: str, template: str) -> str | None:
    """What is wrong with the `name` template (a sentence saying what to fix), or None."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        return (
            f"the {name} template has a stray brace ({exc}); "
            "write fields as {topic}, and a literal brace as {{ or }}"
        )
    known = TEMPLATE_FIELDS[name]
    for _literal, field, spec, conversion in parts:
        if field is None:
            continue
        if spec or conversion:
            return f"the {name} template has {{{field}...}} with extras; write just {{{field}}}"
        if not field:
            return f"the {name} template has an empty {{}}; put a field in it, e.g. {{topic}}"
        if field not in known:
            return _unknown_field(name, field, known)
    return None


def _unknown_field(name: str, field: str, known: tuple[str, ...]) -> str:
    shown = ", ".join(f"{{{each}}}" for each in known)
    elsewhere = [other for other, fields in TEMPLATE_FIELDS.items() if field in fields]
    if elsewhere:
        why = f"{{{field}}} only works in the {' and '.join(elsewhere)} template"
    else:
        close = difflib.get_close_matches(field, known, n=1)
        why = f"tcbot has no field {{{field}}}" + (
            f" (did you mean {{{close[0]}}}?)" if close else ""
        )
    return f"the {name} template uses {{{field}}}: {why}; the fields it can use are {shown}"


def render(name: str, template: str, values: Mapping[str, str]) -> str:
    """Fill in the `name` template; {hashtag} is dropped if the rest already carries it.

    `values` must hold every field `TEMPLATE_FIELDS[name]` lists. A template that
    `template_problem` rejects raises ScheduleError.
    """
    problem = template_problem(name, template)
    if problem is not None:
        raise ScheduleError(problem)
    hashtag = values["hashtag"]
    text = template.format_map({**values, "hashtag": _HASHTAG_SLOT})
    if has_hashtag(text.replace(_HASHTAG_SLOT, ""), hashtag):
        text = re.sub(rf"[ \t]*{_HASHTAG_SLOT}", "", text)
    else:
        text = text.replace(_HASHTAG_SLOT, hashtag)
    return text.strip()


def describe_time(moment: time) -> str:
    """A local time on a 12-hour clock, as hosts write it: "8pm", "7:30pm", "12pm" (noon)."""
    hour = moment.hour % 12 or 12
    suffix = "am" if moment.hour < 12 else "pm"
    minutes = f":{moment.minute:02d}" if moment.minute else ""
    return f"{hour}{minutes}{suffix}"


def describe_date(day: date) -> str:
    """A date as in a post: "Wednesday 2 December" (English, whatever the machine's locale)."""
    return f"{_WEEKDAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]}"


def describe_duration(length: timedelta) -> str:
    """A duration in words: "10 minutes", "1 hour", "24 hours", "1 hour 30 minutes"."""
    total = int(length.total_seconds())
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [
        f"{count} {unit}{'' if count == 1 else 's'}"
        for count, unit in ((hours, "hour"), (minutes, "minute"), (seconds, "second"))
        if count
    ]
    return " ".join(parts) or "0 minutes"
