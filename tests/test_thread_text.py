"""Post templates, their fields, and X's weighted length (bot.thread_text)."""

from __future__ import annotations

import re
from datetime import date, time, timedelta

import pytest

from bot.errors import ScheduleError
from bot.thread_text import (
    DEFAULT_TEMPLATES,
    MAX_WEIGHTED,
    TEMPLATE_FIELDS,
    TEMPLATE_NAMES,
    describe_date,
    describe_duration,
    describe_time,
    has_hashtag,
    render,
    template_problem,
    weighted_length,
)

VALUES = {
    "series": "traineetalk",
    "hashtag": "#TraineeTalk",
    "topic": "Endings",
    "date_local": "Wednesday 2 December",
    "start_local": "8pm",
    "zone": "GMT",
    "interval": "10 minutes",
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a" * 280, 280),
        ("https://example.com", 23),
        ("see https://example.com/" + "x" * 200, 4 + 23),
        ("😀", 2),
        ("a😀b", 4),
        ("日本語", 6),
        ("한국어", 6),
        ("café", 4),
        ("", 0),
    ],
)
def test_weighted_length_counts_as_x_does(text: str, expected: int) -> None:
    assert weighted_length(text) == expected


def test_weighted_length_limit_is_280() -> None:
    assert MAX_WEIGHTED == 280


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What helps you?", "Q3 What helps you? #TraineeTalk"),
        ("What helps you? #TraineeTalk", "Q3 What helps you? #TraineeTalk"),
        ("Is #traineetalk helping?", "Q3 Is #traineetalk helping?"),
        ("#TraineeTalk what helps?", "Q3 #TraineeTalk what helps?"),
        ("What about #TraineeTalks?", "Q3 What about #TraineeTalks? #TraineeTalk"),
    ],
)
def test_render_question_adds_hashtag_once(question: str, expected: str) -> None:
    values = {**VALUES, "n": "3", "question": question}
    assert render("question", "Q{n} {question} {hashtag}", values) == expected


def test_render_hashtag_at_start_is_dropped_cleanly_when_present_elsewhere() -> None:
    values = {**VALUES, "n": "1", "question": "Why #TraineeTalk?"}
    assert render("question", "{hashtag} Q{n} {question}", values) == "Q1 Why #TraineeTalk?"


def test_render_fills_every_common_field_and_literal_braces() -> None:
    template = "{series}|{topic}|{date_local}|{start_local}|{zone}|{interval}|{{x}} {hashtag}"
    assert render("intro", template, VALUES) == (
        "traineetalk|Endings|Wednesday 2 December|8pm|GMT|10 minutes|{x} #TraineeTalk"
    )


def test_render_strips_surrounding_blank_lines() -> None:
    assert render("intro", "\n{topic} {hashtag}\n", VALUES) == "Endings #TraineeTalk"


def test_render_does_not_interpret_braces_in_values() -> None:
    values = {**VALUES, "topic": "{hashtag} {oops}"}
    assert render("intro", "{topic} {hashtag}", values) == "{hashtag} {oops} #TraineeTalk"


def test_render_rejects_a_bad_template_naming_it() -> None:
    with pytest.raises(ScheduleError, match=r"the intro template uses \{question\}"):
        render("intro", "{question}", VALUES)


@pytest.mark.parametrize(
    ("name", "template", "expected"),
    [
        (
            "intro",
            "Hi {topc} {hashtag}",
            r"\{topc\}: tcbot has no field \{topc\} \(did you mean \{topic\}\?\)",
        ),
        ("intro", "{question}", r"\{question\} only works in the question template"),
        ("reminder", "{next_topic}", r"only works in the closing template"),
        ("question", "{until}", r"only works in the reminder template"),
        (
            "closing",
            "{wibble}",
            r"tcbot has no field \{wibble\}; the fields it can use are \{series\}",
        ),
        ("intro", "{topic", r"stray brace"),
        ("intro", "topic}", r"stray brace"),
        ("question", "Q{n:02}", r"\{n\.\.\.\} with extras; write just \{n\}"),
        ("intro", "{topic!r}", r"write just \{topic\}"),
        ("intro", "{}", r"an empty \{\}"),
    ],
)
def test_template_problem_names_template_field_and_known_fields(
    name: str, template: str, expected: str
) -> None:
    problem = template_problem(name, template)
    assert problem is not None
    assert problem.startswith(f"the {name} template")
    assert re.search(expected, problem), problem


def test_template_problem_lists_every_known_field_for_an_unknown_one() -> None:
    problem = template_problem("question", "{nope}")
    assert problem is not None
    for field in TEMPLATE_FIELDS["question"]:
        assert f"{{{field}}}" in problem


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_default_templates_are_valid_and_carry_the_hashtag(name: str) -> None:
    template = DEFAULT_TEMPLATES[name]
    assert template_problem(name, template) is None
    values = {**VALUES, "until": "in 1 hour", "n": "1", "question": "Q?", "next_topic": "Next"}
    text = render(name, template, {k: values[k] for k in TEMPLATE_FIELDS[name]})
    assert has_hashtag(text, "#TraineeTalk")
    assert weighted_length(text) <= MAX_WEIGHTED


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Join #TraineeTalk tonight", True),
        ("join #traineetalk", True),
        ("#TraineeTalk", True),
        ("#TraineeTalk.", True),
        ("#TraineeTalks tonight", False),
        ("word#TraineeTalk", False),
        ("TraineeTalk", False),
    ],
)
def test_has_hashtag_matches_whole_hashtags_ignoring_case(text: str, expected: bool) -> None:
    assert has_hashtag(text, "#TraineeTalk") is expected


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (time(20, 0), "8pm"),
        (time(19, 30), "7:30pm"),
        (time(12, 0), "12pm"),
        (time(0, 0), "12am"),
        (time(9, 5), "9:05am"),
        (time(23, 59), "11:59pm"),
    ],
)
def test_describe_time_uses_a_twelve_hour_clock(moment: time, expected: str) -> None:
    assert describe_time(moment) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 12, 2), "Wednesday 2 December"),
        (date(2027, 1, 6), "Wednesday 6 January"),
        (date(2027, 3, 28), "Sunday 28 March"),
    ],
)
def test_describe_date_reads_like_a_post(day: date, expected: str) -> None:
    assert describe_date(day) == expected


@pytest.mark.parametrize(
    ("length", "expected"),
    [
        (timedelta(minutes=10), "10 minutes"),
        (timedelta(minutes=1), "1 minute"),
        (timedelta(hours=1), "1 hour"),
        (timedelta(minutes=1440), "24 hours"),
        (timedelta(minutes=90), "1 hour 30 minutes"),
        (timedelta(seconds=5), "5 seconds"),
        (timedelta(0), "0 minutes"),
    ],
)
def test_describe_duration_in_words(length: timedelta, expected: str) -> None:
    assert describe_duration(length) == expected
