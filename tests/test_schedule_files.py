"""Schedule files to chat plans: parsing, timing, DST, every check (bot.schedule_files)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from archive.models import PostKind
from bot.errors import ScheduleError
from bot.schedule_files import (
    ChatPlan,
    Problem,
    Schedule,
    Series,
    Severity,
    load_schedules,
    load_series,
    local_start,
    plan_chat,
)
from bot.thread_text import MAX_WEIGHTED, has_hashtag, weighted_length

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parent.parent
MARK = "# <-"

SERIES = """\
[series]
id = "traineetalk"
hashtag = "#TraineeTalk"
weekday = "wednesday"
start = "20:00"
timezone = "Europe/London"
interval_minutes = 10
reminders_minutes_before = [1440, 60]
"""


def chat(
    day: str = "2026-12-02",
    *,
    topic: str = "Supervision",
    questions: Sequence[str] = ("What helps?", "What hinders?"),
    extra: str = "",
    mark: str = "",
) -> str:
    """A [[chats]] block; `mark` names the key whose line carries the marker comment."""
    lines = {
        "header": "[[chats]]",
        "date": f"date = {day}",
        "topic": f"topic = {toml_text(topic)}",
        "questions": f"questions = [{', '.join(map(toml_text, questions))}]",
    }
    if mark:
        lines[mark] += f"  {MARK}"
    return "\n" + "\n".join(lines.values()) + "\n" + extra


def toml_text(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a TOML basic string


def series_with(**changes: str) -> str:
    """SERIES with some lines replaced (key -> whole new line, '' to drop it)."""
    out = []
    for line in SERIES.splitlines():
        key = line.split("=")[0].strip()
        out.append(changes.pop(key, line))
    return "\n".join([*out, *changes.values()]) + "\n"


def write(tmp_path: Path, text: str, name: str = "traineetalk.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def marker_line(text: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if MARK in line)


def problems_text(schedule: Schedule) -> str:
    return "\n".join(str(p) for p in schedule.problems)


# --- The shipped example ----------------------------------------------------------------


@pytest.fixture
def shipped(monkeypatch: pytest.MonkeyPatch) -> Schedule:
    monkeypatch.chdir(REPO)
    return load_schedules([Path("schedules/traineetalk.toml")], now=NOW)


def test_load_schedules_reads_shipped_example_without_problems(shipped: Schedule) -> None:
    assert shipped.problems == ()
    assert [(p.chat_date, p.skip) for p in shipped.plans] == [
        (date(2026, 12, 2), False),
        (date(2026, 12, 9), False),
        (date(2026, 12, 23), True),
    ]
    assert {p.source for p in shipped.plans} == {"schedules/traineetalk.toml"}


def test_load_schedules_shipped_example_times_in_utc(shipped: Schedule) -> None:
    first, second, _skipped = shipped.plans
    assert first.starts_at == datetime(2026, 12, 2, 20, 0, tzinfo=UTC)  # GMT: UTC+0
    assert second.starts_at == datetime(2026, 12, 9, 20, 0, tzinfo=UTC)
    assert second.interval == timedelta(minutes=5)
    assert [(p.kind, p.number) for p in first.posts] == [
        (PostKind.REMINDER, 1440),
        (PostKind.REMINDER, 60),
        (PostKind.INTRO, 0),
        *[(PostKind.QUESTION, n) for n in range(1, 6)],
        (PostKind.CLOSING, 0),
    ]
    assert [p.number for p in second.posts if p.kind is PostKind.REMINDER] == [1440, 120]


def test_load_schedules_shipped_example_posts_carry_hashtag_and_fit(shipped: Schedule) -> None:
    posts = [post for plan in shipped.plans for post in plan.posts]
    assert len(posts) == 18
    for post in posts:
        assert has_hashtag(post.text, "#TraineeTalk"), post.text
        assert weighted_length(post.text) <= MAX_WEIGHTED
    closing = shipped.plans[0].posts[-1]
    assert "Next time: Endings: finishing the work with clients." in closing.text


def test_load_schedules_summer_chat_starts_at_19_utc(tmp_path: Path) -> None:
    path = write(tmp_path, SERIES + chat("2027-07-07"))
    (plan,) = load_schedules([path], now=NOW).plans
    assert plan.starts_at == datetime(2027, 7, 7, 19, 0, tzinfo=UTC)  # BST: UTC+1
    assert plan.timezone == "Europe/London"
    assert "8pm BST" in plan.posts[0].text


# --- Timing and texts -------------------------------------------------------------------


def test_load_schedules_times_every_post_from_the_start(tmp_path: Path) -> None:
    path = write(tmp_path, SERIES + chat(questions=("One?", "Two?", "Three?")))
    (plan,) = load_schedules([path], now=NOW).plans
    start = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)
    minutes = timedelta(minutes=1)
    expected = [
        (PostKind.REMINDER, 1440, start - 1440 * minutes, False, timedelta(hours=2)),
        (PostKind.REMINDER, 60, start - 60 * minutes, False, timedelta(hours=2)),
        (PostKind.INTRO, 0, start, True, 15 * minutes),
        (PostKind.QUESTION, 1, start + 10 * minutes, True, 15 * minutes),
        (PostKind.QUESTION, 2, start + 20 * minutes, True, 15 * minutes),
        (PostKind.QUESTION, 3, start + 30 * minutes, True, 15 * minutes),
        (PostKind.CLOSING, 0, start + 40 * minutes, True, 15 * minutes),
    ]
    assert [(p.kind, p.number, p.due_at, p.thread, p.lateness) for p in plan.posts] == expected
    assert plan.posts[3].text == "Q1 One? #TraineeTalk"
    assert all(p.due_at.tzinfo is UTC for p in plan.posts)


def test_load_schedules_renders_default_templates(tmp_path: Path) -> None:
    path = write(tmp_path, SERIES + chat(topic="Endings"))
    posts = load_schedules([path], now=NOW).plans[0].posts
    assert posts[0].text == (
        "Coming up in 24 hours: #TraineeTalk on Endings, Wednesday 2 December at 8pm GMT. "
        "All trainees welcome!"
    )
    assert "in 1 hour:" in posts[1].text
    assert "a new question every 10 minutes" in posts[2].text.lower()
    assert posts[-1].text.endswith("Next week's topic is coming soon.")


def test_load_schedules_lateness_limits_come_from_the_series(tmp_path: Path) -> None:
    text = series_with(late_limit_minutes="late_limit_minutes = 5") + chat()
    text = text.replace("[series]", "[series]\nreminder_late_limit_minutes = 30")
    (plan,) = load_schedules([write(tmp_path, text)], now=NOW).plans
    assert {(p.thread, p.lateness) for p in plan.posts} == {
        (True, timedelta(minutes=5)),
        (False, timedelta(minutes=30)),
    }


def test_load_schedules_is_deterministic_whatever_the_file_order(tmp_path: Path) -> None:
    a = write(tmp_path, SERIES + chat("2026-12-09", topic="Later"), "a.toml")
    b = write(tmp_path, SERIES + chat("2026-12-02", topic="Sooner"), "b.toml")
    first = load_schedules([a, b], now=NOW)
    assert first == load_schedules([a, b], now=NOW)
    assert [p.topic for p in first.plans] == ["Sooner", "Later"]
    assert first.plans == load_schedules([b, a], now=NOW).plans


# --- Next topic, skip, overrides --------------------------------------------------------


def test_load_schedules_closing_names_next_non_skipped_chat(tmp_path: Path) -> None:
    text = (
        SERIES
        + chat("2026-12-16", topic="Third")
        + chat("2026-12-02", topic="First")
        + '\n[[chats]]\ndate = 2026-12-09\ntopic = "Week off"\nskip = true\n'
    )
    plans = load_schedules([write(tmp_path, text)], now=NOW).plans
    closings = {p.topic: p.posts[-1].text for p in plans if not p.skip}
    assert "Next time: Third." in closings["First"]
    assert "Next week's topic is coming soon." in closings["Third"]


def test_load_schedules_next_topic_comes_from_any_file_of_the_series(tmp_path: Path) -> None:
    a = write(tmp_path, SERIES + chat("2026-12-02", topic="First"), "a.toml")
    b = write(tmp_path, SERIES + chat("2026-12-09", topic="Second"), "b.toml")
    other = write(
        tmp_path, series_with(id='id = "other"') + chat("2026-12-04", topic="Other"), "c.toml"
    )
    plans = load_schedules([a, b, other], now=NOW).plans
    first = next(p for p in plans if p.topic == "First")
    assert "Next time: Second." in first.posts[-1].text


def test_load_schedules_skip_plans_no_posts(tmp_path: Path) -> None:
    text = SERIES + "\n[[chats]]\ndate = 2026-12-02\nskip = true\n"
    schedule = load_schedules([write(tmp_path, text)], now=NOW)
    assert schedule.problems == ()
    (plan,) = schedule.plans
    assert plan.skip is True
    assert plan.posts == ()
    assert plan.starts_at == datetime(2026, 12, 2, 20, 0, tzinfo=UTC)


def test_load_schedules_overrides_apply_to_one_chat_only(tmp_path: Path) -> None:
    extra = (
        'start = "19:30"\ninterval_minutes = 5\nreminders_minutes_before = [30]\n'
        '[chats.templates]\nquestion = "{hashtag} Q{n}: {question}"\n'
    )
    text = SERIES + chat("2026-12-02", extra=extra) + chat("2026-12-09")
    overridden, plain = load_schedules([write(tmp_path, text)], now=NOW).plans
    assert overridden.starts_at == datetime(2026, 12, 2, 19, 30, tzinfo=UTC)
    assert overridden.interval == timedelta(minutes=5)
    assert [(p.kind, p.number) for p in overridden.posts[:2]] == [
        (PostKind.REMINDER, 30),
        (PostKind.INTRO, 0),
    ]
    assert overridden.posts[2].text == "#TraineeTalk Q1: What helps?"
    assert overridden.posts[2].due_at == datetime(2026, 12, 2, 19, 35, tzinfo=UTC)
    assert plain.starts_at == datetime(2026, 12, 9, 20, 0, tzinfo=UTC)
    assert plain.interval == timedelta(minutes=10)
    assert plain.posts[3].text == "Q1 What helps? #TraineeTalk"


def test_load_schedules_accepts_toml_times_and_dates_as_text(tmp_path: Path) -> None:
    text = series_with(start="start = 19:00:00") + chat('"2026-12-02"')
    (plan,) = load_schedules([write(tmp_path, text)], now=NOW).plans
    assert plan.starts_at == datetime(2026, 12, 2, 19, 0, tzinfo=UTC)


def test_load_schedules_series_defaults_fill_missing_settings(tmp_path: Path) -> None:
    text = '[series]\nid = "traineetalk"\nhashtag = "#TraineeTalk"\n' + chat("2027-07-07")
    (plan,) = load_schedules([write(tmp_path, text)], now=NOW).plans
    assert plan.starts_at == datetime(2027, 7, 7, 19, 0, tzinfo=UTC)
    assert plan.interval == timedelta(minutes=10)
    assert [p.number for p in plan.posts if p.kind is PostKind.REMINDER] == [1440, 60]


# --- Every check, at its line -----------------------------------------------------------

E, W = Severity.ERROR, Severity.WARNING
TEMPLATES = "[series.templates]\n"
CASES = [
    # unknown keys, with a suggestion
    ("series_key", series_with(timezone=f'timezon = "Europe/London"  {MARK}'), E,
     "unknown key 'timezon' in [series]: did you mean 'timezone'?"),
    ("series_key_no_match", series_with(colour=f'colour = "blue"  {MARK}'), E,
     "unknown key 'colour' in [series]: the keys allowed here are id, hashtag"),
    ("chat_key", SERIES + chat(extra=f'topc = "x"  {MARK}\n'), E,
     "unknown key 'topc' in this [[chats]] block: did you mean 'topic'?"),
    ("template_key", SERIES + TEMPLATES + f'intor = "Hi {{hashtag}}"  {MARK}\n', E,
     "unknown key 'intor' in [series.templates]: did you mean 'intro'?"),
    ("top_key", SERIES + f"[chat]  {MARK}\ndate = 2026-12-02\n", E,
     "unknown key 'chat' in the file: did you mean 'chats'?"),
    # missing keys
    ("missing_id", f'[series]  {MARK}\nhashtag = "#TraineeTalk"\n', E, "[series] has no 'id'"),
    ("missing_topic", SERIES + f"[[chats]]  {MARK}\ndate = 2026-12-02\nquestions = ['Q?']\n", E,
     "this [[chats]] block has no 'topic'"),
    ("missing_questions", SERIES + f"[[chats]]  {MARK}\ndate = 2026-12-02\ntopic = 'T'\n", E,
     "has no 'questions'"),
    ("missing_date", SERIES + f"[[chats]]  {MARK}\ntopic = 'T'\nquestions = ['Q?']\n", E,
     "has no 'date'"),
    # wrong types and formats
    ("interval_text", series_with(interval_minutes=f'interval_minutes = "10"  {MARK}'), E,
     'interval_minutes should be a whole number of minutes, at least 1, e.g. 10, not "10"'),
    ("interval_bool", series_with(interval_minutes=f"interval_minutes = true  {MARK}"), E,
     "whole number of minutes"),
    ("interval_zero", series_with(interval_minutes=f"interval_minutes = 0  {MARK}"), E,
     "at least 1"),
    ("late_negative", series_with(late=f"late_limit_minutes = -5  {MARK}"), E,
     "late_limit_minutes should be a whole number"),
    ("reminders_number",
     series_with(reminders_minutes_before=f"reminders_minutes_before = 60  {MARK}"), E,
     "should be a list of whole minutes, e.g. [1440, 60]"),
    ("reminders_twice",
     series_with(reminders_minutes_before=f"reminders_minutes_before = [60, 60]  {MARK}"), E,
     "lists the same time twice"),
    ("start_8pm", series_with(start=f'start = "8pm"  {MARK}'), E,
     'start should be a 24-hour time in quotes, e.g. "20:00", not "8pm"'),
    ("start_24", series_with(start=f'start = "24:00"  {MARK}'), E, "24-hour time"),
    ("date_format", SERIES + chat('"2-12-2026"', mark="date"), E,
     'date should be a date as year-month-day, e.g. 2026-12-02, not "2-12-2026"'),
    ("date_impossible", SERIES + chat('"2026-02-30"', mark="date"), E, "year-month-day"),
    ("date_with_time", SERIES + chat("2026-12-02T20:00:00", mark="date"), E,
     "should be just a date"),
    ("weekday_typo", series_with(weekday=f'weekday = "wensday"  {MARK}'), E,
     'weekday should be a day of the week, e.g. "wednesday", not "wensday"'),
    ("hashtag_no_hash", series_with(hashtag=f'hashtag = "TraineeTalk"  {MARK}'), E,
     'hashtag needs its "#": write "#TraineeTalk"'),
    ("hashtag_two_words", series_with(hashtag=f'hashtag = "#Trainee Talk"  {MARK}'), E,
     "should be one hashtag"),
    ("id_spaces", series_with(id=f'id = "Trainee Talk"  {MARK}'), E,
     "id should be a short name in lower case"),
    ("zone_number", series_with(timezone=f"timezone = 5  {MARK}"), E,
     "timezone should be a time zone name in quotes"),
    ("topic_number", SERIES + chat(extra="").replace('topic = "Supervision"', f"topic = 5  {MARK}"),
     E, "topic should be text in quotes"),
    ("topic_blank", SERIES + chat(topic="   ", mark="topic"), E, "topic is empty"),
    ("questions_text", SERIES + chat().replace('questions = ["What helps?", "What hinders?"]',
     f'questions = "one"  {MARK}'), E, "questions should be a list of texts"),
    ("questions_empty", SERIES + chat(questions=(), mark="questions"), E,
     "questions should be a list of texts"),
    ("question_number", SERIES + chat().replace('"What hinders?"]', f"\n  42,  {MARK}\n]"), E,
     "question 2 should be text in quotes"),
    ("skip_text", SERIES + chat(extra=f'skip = "yes"  {MARK}\n'), E,
     'skip should be true or false, not "yes"'),
    ("templates_text", series_with(templates=f'templates = "x"  {MARK}'), E,
     "put [series.templates] on a line of its own"),
    # time zones
    ("zone_typo", series_with(timezone=f'timezone = "Europe/Londn"  {MARK}'), E,
     'names a time zone tcbot does not know ("Europe/Londn"): did you mean Europe/London'),
    ("zone_case", series_with(timezone=f'timezone = "europe/london"  {MARK}'), E,
     "did you mean Europe/London"),
    ("zone_unknown", series_with(timezone=f'timezone = "Mars/Olympus_Mons"  {MARK}'), E,
     "time zone tcbot does not know"),
    # templates
    ("template_field", SERIES + TEMPLATES + f'intro = "Hi {{topics}} {{hashtag}}"  {MARK}\n', E,
     "the intro template uses {topics}: tcbot has no field {topics} (did you mean {topic}?)"),
    ("template_other_field", SERIES + TEMPLATES + f'intro = "{{question}}"  {MARK}\n', E,
     "{question} only works in the question template"),
    ("template_brace", SERIES + TEMPLATES + f'closing = "{{next_topic"  {MARK}\n', E,
     "stray brace"),
    ("chat_template_field",
     SERIES + chat(extra=f'[chats.templates]\nclosing = "{{nxt}} {{hashtag}}"  {MARK}\n'), E,
     "the closing template uses {nxt}"),
    # rendered posts
    ("question_too_long", SERIES + chat(questions=("Short?", "x" * 290), mark="questions"), E,
     ("chat 2026-12-02, Q2: would be 306 characters as X counts them (links count 23, emoji "
      "and CJK 2); the limit is 280, so shorten the question by 26")),
    ("question_no_hashtag",
     SERIES + chat(mark="questions") + TEMPLATES + 'question = "Q{n} {question}"\n', E,
     "chat 2026-12-02, Q1: would not carry #TraineeTalk; add {hashtag} to the question template"),
    ("intro_no_hashtag", SERIES + chat() + TEMPLATES + f'intro = "Welcome!"  {MARK}\n', E,
     "chat 2026-12-02, intro: would not carry #TraineeTalk; add {hashtag} to its template"),
    ("intro_too_long", SERIES + chat(topic="t" * 270) + TEMPLATES
     + f'intro = "{{topic}} {{hashtag}} and more"  {MARK}\n', E,
     "chat 2026-12-02, intro: would be 292 characters"),
    ("same_text", SERIES + chat(questions=("Same?", "Same?"), mark="questions")
     + TEMPLATES + 'question = "{question} {hashtag}"\n', E,
     "chat 2026-12-02, Q2: has the same text as chat 2026-12-02, Q1, and X refuses a post"),
    ("same_reminders", SERIES + chat()
     + TEMPLATES + f'reminder = "Soon: {{topic}} {{hashtag}}"  {MARK}\n', E,
     "reminder 1 hour before: has the same text as chat 2026-12-02, reminder 24 hours before"),
    # dates
    ("date_past", SERIES + chat("2026-11-18", mark="date"), E,
     "chat 2026-11-18: this chat started at 2026-11-18 20:00 UTC, which has passed; delete its"),
    ("date_weekday", SERIES + chat("2026-12-03", mark="date"), W,
     "chat 2026-12-03: 2026-12-03 is a Thursday, but #TraineeTalk is on Wednesdays"),
    ("date_twice", SERIES + chat("2026-12-02") + chat("2026-12-02", mark="date"), E,
     "chat 2026-12-02: this #TraineeTalk chat is already listed at "),
    # syntax
    ("toml_syntax", series_with(interval_minutes=f"interval_minutes = 10 10  {MARK}"), E,
     ("this is not valid TOML at column 23: Expected newline or end of document after a "
      "statement. Check the quotes")),
    ("toml_duplicate_key", SERIES + chat(extra=f'topic = "again"  {MARK}\n'), E,
     "not valid TOML"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "severity", "fragment"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_load_schedules_reports_problem_at_its_line(
    tmp_path: Path, text: str, severity: Severity, fragment: str
) -> None:
    path = write(tmp_path, text)
    schedule = load_schedules([path], now=NOW)
    line = marker_line(text)
    found = [p for p in schedule.problems if p.line == line and fragment in p.message]
    assert found, f"line {line}:\n{problems_text(schedule)}"
    assert found[0].severity is severity
    assert found[0].where == f"{path}:{line}"
    assert str(found[0]) == f"{path}:{line}: {severity.value}: {found[0].message}"
    chats = text.count("[[chats]]")
    if severity is Severity.ERROR and chats:
        assert len(schedule.plans) < chats  # the chat in error is not planned
    else:
        assert len(schedule.plans) == chats


def test_load_schedules_url_counts_23_however_long(tmp_path: Path) -> None:
    url = "https://example.com/" + "a" * 300
    text = SERIES + chat(questions=(f"Read {url} first?", "b" * 300))
    schedule = load_schedules([write(tmp_path, text)], now=NOW)
    messages = [p.message for p in schedule.errors]
    assert len(messages) == 1
    assert messages[0].startswith("chat 2026-12-02, Q2: would be 316 characters")


@pytest.mark.parametrize(
    ("question", "length"),
    [("😀" * 135, 3 + 270 + 13), ("日本" * 68, 3 + 272 + 13), ("a" * 264, 280)],
)
def test_load_schedules_emoji_and_cjk_count_two(tmp_path: Path, question: str, length: int) -> None:
    text = SERIES + chat(questions=(question, "Other?"))
    schedule = load_schedules([write(tmp_path, text)], now=NOW)
    over = [p for p in schedule.errors if "would be" in p.message]
    if length > MAX_WEIGHTED:
        assert len(over) == 1 and f"would be {length} characters" in over[0].message
    else:
        assert over == [] and schedule.plans[0].posts[3].text.startswith("Q1 aaa")


def test_load_schedules_missing_series_table_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, chat())
    (problem,) = load_schedules([path], now=NOW).problems
    assert problem.where == str(path)
    assert "the file has no [series] table" in problem.message


def test_load_schedules_unreadable_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    schedule = load_schedules([missing], now=NOW)
    assert [str(p) for p in schedule.problems] == [
        f"{missing}: error: cannot be read (No such file or directory); check the name and path"
    ]
    assert schedule.plans == ()


def test_load_schedules_non_utf8_file_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(SERIES.encode() + b"# caf\xe9\n")
    (problem,) = load_schedules([path], now=NOW).problems
    assert problem.message == "is not UTF-8 text; save it as UTF-8 and try again"


def test_load_schedules_syntax_error_at_end_of_file_names_last_line(tmp_path: Path) -> None:
    text = SERIES + 'questions = ["a",\n'
    (problem,) = load_schedules([write(tmp_path, text)], now=NOW).problems
    assert problem.line == text.count("\n") + 1
    assert "is not valid TOML at the end of the file" in problem.message


def test_load_schedules_chat_error_leaves_other_chats_planned(tmp_path: Path) -> None:
    text = SERIES + chat("2026-12-02", questions=("x" * 300,)) + chat("2026-12-09")
    schedule = load_schedules([write(tmp_path, text)], now=NOW)
    assert len(schedule.errors) == 1
    assert [p.chat_date for p in schedule.plans] == [date(2026, 12, 9)]


def test_load_schedules_series_error_plans_nothing_but_checks_chats(tmp_path: Path) -> None:
    text = series_with(timezone='timezone = "Nowhere"') + chat(extra='topc = "x"\n')
    schedule = load_schedules([write(tmp_path, text)], now=NOW)
    assert schedule.plans == ()
    assert [p.message.split(":")[0] for p in schedule.errors] == [
        'timezone names a time zone tcbot does not know ("Nowhere")',
        "unknown key 'topc' in this [[chats]] block",
    ]


def test_load_schedules_chats_at_same_time_in_two_files_clash(tmp_path: Path) -> None:
    a = write(tmp_path, SERIES + chat(), "a.toml")
    other = series_with(id='id = "other"', hashtag='hashtag = "#Other"')
    b = write(tmp_path, other + chat(mark="date"), "b.toml")
    schedule = load_schedules([a, b], now=NOW)
    (error,) = schedule.errors
    line_a = marker_line(SERIES + chat(mark="date"))
    assert str(error) == (
        f"{b}:{marker_line(other + chat(mark='date'))}: error: chat 2026-12-02: starts at the "
        f"same time as the #TraineeTalk chat at {a}:{line_a} (2026-12-02 20:00 UTC); "
        "move one of them"
    )
    assert [p.series for p in schedule.plans] == ["traineetalk"]


def test_load_schedules_overlapping_chats_clash(tmp_path: Path) -> None:
    other = series_with(id='id = "other"', hashtag='hashtag = "#Other"', start='start = "20:15"')
    a = write(tmp_path, SERIES + chat(), "a.toml")
    b = write(tmp_path, other + chat(), "b.toml")
    (error,) = load_schedules([a, b], now=NOW).errors
    assert "would run at the same time as the #TraineeTalk chat at" in error.message
    assert "(20:00 to 20:30 UTC on 2026-12-02)" in error.message


def test_load_schedules_back_to_back_chats_do_not_clash(tmp_path: Path) -> None:
    other = series_with(id='id = "other"', hashtag='hashtag = "#Other"', start='start = "20:31"')
    a = write(tmp_path, SERIES + chat(), "a.toml")
    b = write(tmp_path, other + chat(), "b.toml")
    schedule = load_schedules([a, b], now=NOW)
    assert schedule.errors == ()
    assert len(schedule.plans) == 2


# --- `now`: chats under way and late reminders ------------------------------------------


def test_load_schedules_running_chat_is_kept_with_a_warning(tmp_path: Path) -> None:
    text = SERIES + chat(mark="date")
    now = datetime(2026, 12, 2, 20, 25, tzinfo=UTC)
    schedule = load_schedules([write(tmp_path, text)], now=now)
    assert schedule.errors == ()
    (warning,) = [p for p in schedule.problems if "is still running" in p.message]
    assert warning.severity is Severity.WARNING
    assert warning.line == marker_line(text)
    assert len(schedule.plans) == 1


def test_load_schedules_chat_over_only_after_its_last_lateness(tmp_path: Path) -> None:
    path = write(tmp_path, SERIES + chat())
    closing_limit = datetime(2026, 12, 2, 20, 30 + 15, tzinfo=UTC)
    assert load_schedules([path], now=closing_limit).errors == ()
    late = load_schedules([path], now=closing_limit + timedelta(seconds=1))
    assert "which has passed" in late.errors[0].message
    assert late.plans == ()


def test_load_schedules_leaves_out_reminders_too_late_to_post(tmp_path: Path) -> None:
    now = datetime(2026, 12, 1, 22, 0, 1, tzinfo=UTC)  # 24 h reminder + 2 h, and a second
    schedule = load_schedules([write(tmp_path, SERIES + chat())], now=now)
    (warning,) = schedule.problems
    assert warning.severity is Severity.WARNING
    assert warning.message.startswith(
        "chat 2026-12-02, reminder 24 hours before: was due at 2026-12-01 20:00 UTC"
    )
    assert [p.number for p in schedule.plans[0].posts if p.kind is PostKind.REMINDER] == [60]


def test_load_schedules_past_week_off_is_no_problem(tmp_path: Path) -> None:
    text = SERIES + "\n[[chats]]\ndate = 2026-11-18\nskip = true\n"
    assert load_schedules([write(tmp_path, text)], now=NOW).problems == ()


# --- Clock changes (Europe/London: last Sundays of March and October) -------------------


@pytest.mark.parametrize(
    ("day", "at", "used", "other", "exists"),
    [
        (date(2026, 12, 2), time(20, 0), "20:00", None, True),
        (date(2027, 7, 7), time(20, 0), "19:00", None, True),
        (date(2027, 3, 28), time(0, 59), "00:59", None, True),
        (date(2027, 3, 28), time(1, 30), "01:30", "00:30", False),  # the gap
        (date(2027, 3, 28), time(2, 0), "01:00", None, True),
        (date(2026, 10, 25), time(1, 30), "00:30", "01:30", True),  # twice
        (date(2027, 10, 31), time(1, 0), "00:00", "01:00", True),
        (date(2027, 10, 31), time(2, 0), "02:00", None, True),
    ],
)
def test_local_start_on_clock_change_days(
    day: date, at: time, used: str, other: str | None, exists: bool
) -> None:
    first, second, real = local_start(day, at, ZoneInfo("Europe/London"))
    assert f"{first:%H:%M}" == used
    assert (f"{second:%H:%M}" if second else None) == other
    assert real is exists
    assert first.tzinfo is UTC


def dst_text(day: str, start: str, *, in_chat: bool) -> str:
    sunday = series_with(weekday='weekday = "sunday"')
    if in_chat:
        return sunday + chat(day, extra=f'start = "{start}"  {MARK}\n')
    return series_with(weekday='weekday = "sunday"', start=f'start = "{start}"  {MARK}') + chat(day)


@pytest.mark.parametrize("in_chat", [False, True])
def test_load_schedules_start_in_spring_gap_is_an_error_with_utc_times(
    tmp_path: Path, in_chat: bool
) -> None:
    text = dst_text("2027-03-28", "01:30", in_chat=in_chat)
    schedule = load_schedules([write(tmp_path, text)], now=NOW)
    (error,) = schedule.problems
    assert error.severity is Severity.ERROR
    assert error.line == marker_line(text)
    assert error.message == (
        "chat 2027-03-28: 01:30 on 2027-03-28 in Europe/London does not exist: the clocks go "
        "forward then, so it could mean 00:30 UTC or 01:30 UTC; choose a start outside the "
        'change (for this chat only, add start = "HH:MM" to its block)'
    )
    assert schedule.plans == ()


@pytest.mark.parametrize(
    ("day", "now", "first", "second"),
    [
        ("2026-10-25", datetime(2026, 10, 1, tzinfo=UTC), "00:30", "01:30"),
        ("2027-10-31", NOW, "00:30", "01:30"),
    ],
)
@pytest.mark.parametrize("in_chat", [False, True])
def test_load_schedules_start_in_autumn_overlap_warns_and_uses_the_first(
    tmp_path: Path, day: str, now: datetime, first: str, second: str, in_chat: bool
) -> None:
    text = dst_text(day, "01:30", in_chat=in_chat)
    schedule = load_schedules([write(tmp_path, text)], now=now)
    (warning,) = schedule.problems
    assert warning.severity is Severity.WARNING
    assert warning.line == marker_line(text)
    assert (
        f"01:30 on {day} in Europe/London happens twice (the clocks go back): at {first} UTC "
        f"and again at {second} UTC; tcbot will use the first, {first} UTC"
    ) in warning.message
    (plan,) = schedule.plans
    assert f"{plan.starts_at:%H:%M}" == first
    assert plan.posts[2].kind is PostKind.INTRO and plan.posts[2].due_at == plan.starts_at


def test_load_schedules_reminder_before_clock_change_is_24_real_hours(tmp_path: Path) -> None:
    text = series_with(weekday='weekday = "sunday"') + chat("2027-03-28")
    (plan,) = load_schedules([write(tmp_path, text)], now=NOW).plans
    assert plan.starts_at == datetime(2027, 3, 28, 19, 0, tzinfo=UTC)
    assert plan.posts[0].due_at == datetime(2027, 3, 27, 19, 0, tzinfo=UTC)


# --- load_series and plan_chat (for `tcbot queue add`) -----------------------------------


def test_load_series_reads_settings_and_ignores_chat_problems(tmp_path: Path) -> None:
    text = series_with(interval_minutes="interval_minutes = 7") + chat(extra='topc = "x"\n')
    path = write(tmp_path, text)
    series = load_series(path)
    assert (series.id, series.hashtag, series.timezone) == (
        "traineetalk",
        "#TraineeTalk",
        "Europe/London",
    )
    assert (series.weekday, series.start, series.interval) == (2, time(20), timedelta(minutes=7))
    assert series.reminders_before == (timedelta(hours=24), timedelta(hours=1))
    assert series.source == str(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (series_with(start=f'start = "8pm"  {MARK}'), "start should be a 24-hour time"),
        (series_with(id=f'id = "Trainee Talk"  {MARK}'), "id should be"),
        (series_with(id=""), "[series] has no 'id'"),
        (f"[series  {MARK}\n", "this is not valid TOML"),
    ],
)
def test_load_series_raises_schedule_error_with_file_and_line(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ScheduleError) as caught:
        load_series(path)
    assert caught.value.path == str(path)
    assert str(caught.value).startswith(f"{path}:{caught.value.line}: ")
    assert expected in str(caught.value)


def test_load_series_of_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(ScheduleError, match="cannot be read"):
        load_series(tmp_path / "gone.toml")


def test_plan_chat_matches_the_file_plan(tmp_path: Path) -> None:
    path = write(tmp_path, SERIES + chat() + chat("2026-12-09", topic="Next one"))
    from_file = load_schedules([path], now=NOW).plans[0]
    built = plan_chat(
        load_series(path),
        chat_date=date(2026, 12, 2),
        topic="Supervision",
        questions=[" What helps?", "What hinders?"],
        source=str(path),
        next_topic="Next one",
    )
    assert built == from_file


@pytest.mark.parametrize(
    ("topic", "questions", "expected"),
    [
        ("T", ["x" * 300], "cli: chat 2026-12-02, Q1: would be 316 characters"),
        ("  ", ["Q?"], "cli: chat 2026-12-02: the topic is empty"),
        ("T", [], "cli: chat 2026-12-02: every chat needs questions"),
        ("T", ["Q?", " "], "cli: chat 2026-12-02: every chat needs questions"),
    ],
)
def test_plan_chat_raises_first_error(topic: str, questions: list[str], expected: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        plan_chat(
            Series(id="traineetalk", hashtag="#TraineeTalk", source="x.toml"),
            chat_date=date(2026, 12, 2), topic=topic, questions=questions,
            source="cli", next_topic=None,
        )  # fmt: skip
    assert str(caught.value).startswith(expected)
    assert caught.value.path == "cli" and caught.value.line is None


def test_plan_chat_with_now_rejects_a_chat_already_over() -> None:
    series = Series(id="traineetalk", hashtag="#TraineeTalk", source="x.toml")
    with pytest.raises(ScheduleError, match="which has passed"):
        plan_chat(
            series, chat_date=date(2026, 11, 18), topic="T", questions=["Q?"],
            source="cli", next_topic=None, now=NOW,
        )  # fmt: skip


def test_plan_chat_accepts_seconds_for_a_fast_demo() -> None:
    series = dataclasses.replace(
        Series(id="traineetalk", hashtag="#TraineeTalk", source="demo", timezone="UTC"),
        start=time(12, 0, 5),
        interval=timedelta(seconds=3),
        reminders_before=(),
    )
    plan = plan_chat(
        series, chat_date=date(2026, 12, 2), topic="Demo", questions=["A?", "B?"],
        source="demo", next_topic="Later",
    )  # fmt: skip
    assert isinstance(plan, ChatPlan)
    assert [p.due_at.second for p in plan.posts] == [5, 8, 11, 14]
    assert "a new question every 3 seconds" in plan.posts[0].text.lower()
    assert "Next time: Later." in plan.posts[-1].text


def test_problem_to_error_keeps_its_place() -> None:
    with_line = Problem(Severity.ERROR, "f.toml:3", "chat 2026-12-02, Q1: too long", "f.toml", 3)
    without = Problem(Severity.ERROR, "cli: chat 2026-12-02, Q1", "too long", "cli", None)
    assert str(with_line.to_error()) == "f.toml:3: chat 2026-12-02, Q1: too long"
    assert str(without.to_error()) == "cli: chat 2026-12-02, Q1: too long"
    assert str(without) == "cli: chat 2026-12-02, Q1: error: too long"
