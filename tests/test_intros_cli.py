"""`tcbot intros list` end to end: table, JSON and CSV, --since forms and one-line errors.

Each database test runs on SQLite and, with TCBOT_TEST_POSTGRES_URL, on PostgreSQL:
the archive is written through the `engine` fixture and the command reads it via
TCBOT_DATABASE_URL, with its clock fixed at NOW. The engines the command opens are
disposed afterwards (a PostgreSQL connection left to the garbage collector warns,
and warnings are errors).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from archive.db import make_session_factory
from archive.ingest import ingest_page
from archive.intro_queries import IntroRow
from bot.clock import FakeClock
from bot.errors import TcbotError
from bot.intro_commands import (
    CSV_COLUMNS,
    IntroFormat,
    check_hashtag,
    one_line,
    parse_since,
    render_csv,
)
from tests.fakes import make_page, make_tweet, make_user
from tests.test_cli import assert_user_error, run

H = "#TherapistsConnect"
NOW = datetime(2026, 12, 2, 21, 0, tzinfo=UTC)
RECENT_ID = "1958300000000000123"
OLD_ID = "1958300000000000045"
LONDON = ZoneInfo("Europe/London")


def _tweets() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    users = [
        make_user("201", "jade_counsels", name='=Jade, "trainee"'),
        make_user("202", "old_timer", name="Olu"),
        make_user("203", "TherapistsConnect", name="Therapists Connect"),
    ]
    tweets = [
        make_tweet(RECENT_ID, f"Hi all! I'm Jade, a trainee counsellor in Leeds. New here {H}",
                   author_id="201", created_at=NOW - timedelta(days=1)),
        make_tweet(OLD_ID, f"Hello! I'm Olu, a psychotherapist in Birmingham. Just joined {H}",
                   author_id="202", created_at=NOW - timedelta(days=10)),
        make_tweet("1958300000000000200", f"Join us tonight at 8pm for {H}! All welcome",
                   author_id="203", created_at=NOW - timedelta(hours=2)),
    ]  # fmt: skip
    return tweets, users


@pytest.fixture
def archive_url(
    db_url: str,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    dispose_cli_databases: None,
) -> Iterator[str]:
    """An archive with two introductions (1 and 10 days old) and an event notice."""
    tweets, users = _tweets()
    with make_session_factory(engine).begin() as session:
        ingest_page(session, make_page(tweets, users=users), endpoint="GET /2/tweets/search/recent",
                    fetched_at=NOW)  # fmt: skip
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TCBOT_DATABASE_URL", db_url)
    monkeypatch.setenv("TCBOT_LOG_LEVEL", "WARNING")
    monkeypatch.setattr("bot.cli.app.SystemClock", lambda: FakeClock(NOW))
    yield db_url


def test_cli_intros_list_table_shows_the_last_week_by_default(
    capsys: pytest.CaptureFixture[str], archive_url: str
) -> None:
    code, out, err = run(capsys, "intros", "list")
    assert code == 0, err
    assert "@jade_counsels" in out and "trainee counsellor" in out and "Leeds" in out
    assert f"https://x.com/jade_counsels/status/{RECENT_ID}" in out
    assert "old_timer" not in out and "Join us" not in out
    assert out.rstrip().endswith("1 introduction.")


def test_cli_intros_list_since_all_and_spans_and_dates(
    capsys: pytest.CaptureFixture[str], archive_url: str
) -> None:
    out = run(capsys, "intros", "list", "--since", "all")[1]
    assert out.index("@jade_counsels") < out.index("@old_timer")  # newest first
    assert "2 introductions." in out
    assert "@old_timer" in run(capsys, "intros", "list", "--since", "2w")[1]
    assert "@old_timer" not in run(capsys, "intros", "list", "--since", "48h")[1]
    day = (NOW - timedelta(days=12)).astimezone(LONDON).date().isoformat()
    assert "2 introductions." in run(capsys, "intros", "list", "--since", day)[1]


def test_cli_intros_list_json_has_ids_as_text_and_local_and_utc_times(
    capsys: pytest.CaptureFixture[str], archive_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TCBOT_TIMEZONE", "America/Toronto")
    code, out, err = run(capsys, "intros", "list", "--since", "all", "--format", "json")
    assert code == 0, err
    document = json.loads(out)
    assert document["hashtag"] == H and document["since"] is None
    assert document["timezone"] == "America/Toronto"
    first = document["intros"][0]
    assert first["tweet_id"] == RECENT_ID and first["username"] == "jade_counsels"
    assert (first["role"], first["place"]) == ("trainee counsellor", "Leeds")
    created = NOW - timedelta(days=1)
    assert first["created_at"] == created.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert first["date"] == created.astimezone(ZoneInfo("America/Toronto")).isoformat()
    assert first["link"] == f"https://x.com/jade_counsels/status/{RECENT_ID}"


def test_cli_intros_list_csv_keeps_all_19_digits_and_defuses_formulas(
    capsys: pytest.CaptureFixture[str], archive_url: str
) -> None:
    code, out, err = run(capsys, "intros", "list", "--since", "all", "--format", "csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [r["tweet_id"] for r in rows] == [f'="{RECENT_ID}"', f'="{OLD_ID}"']
    assert rows[0]["name"] == '\'=Jade, "trainee"'  # a formula start gets an apostrophe
    assert rows[1]["role"] == "psychotherapist" and rows[1]["place"] == "Birmingham"


def test_cli_intros_list_other_hashtag_and_nothing_found(
    capsys: pytest.CaptureFixture[str], archive_url: str
) -> None:
    code, out, _ = run(capsys, "intros", "list", "--hashtag", "TraineeTalk")
    assert code == 0
    assert out.startswith("No introductions on #TraineeTalk since ")
    assert json.loads(run(capsys, "intros", "list", "--hashtag", "#traineetalk",
                          "--format", "json")[1])["intros"] == []  # fmt: skip


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--since", "yesterday"), ("'yesterday'", "7d, 24h or 2w", "2026-12-01")),
        (("--since", "2026-13-45"), ("'2026-13-45'",)),
        (("--hashtag", "two words"), ("'two words'", "#TherapistsConnect")),
        (("--format", "xml"), ("'xml' is not one of",)),
    ],
)
def test_cli_intros_list_bad_options_are_one_line_errors_and_touch_no_database(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    args: tuple[str, ...], expected: tuple[str, ...],
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    assert_user_error(*run(capsys, "intros", "list", *args), *expected)
    assert not (tmp_path / "tcbot.db").exists()


# -- the pure parts ----------------------------------------------------------------------

FIXED_NOW = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7d", FIXED_NOW - timedelta(days=7)),
        ("24h", FIXED_NOW - timedelta(hours=24)),
        ("2w", FIXED_NOW - timedelta(weeks=2)),
        ("90m", FIXED_NOW - timedelta(minutes=90)),
        (" 3D ", FIXED_NOW - timedelta(days=3)),
        ("2026-07-01", datetime(2026, 6, 30, 23, 0, tzinfo=UTC)),  # London midnight in summer
        ("2026-12-01T09:30", datetime(2026, 12, 1, 9, 30, tzinfo=UTC)),
        ("2026-12-01T09:30Z", datetime(2026, 12, 1, 9, 30, tzinfo=UTC)),
        ("2026-12-01T09:30+02:00", datetime(2026, 12, 1, 7, 30, tzinfo=UTC)),
        ("all", None),
    ],
)
def test_parse_since_accepts_spans_dates_and_times(value: str, expected: datetime | None) -> None:
    assert parse_since(value, now=FIXED_NOW, zone=LONDON) == expected


@pytest.mark.parametrize("value", ["", "yesterday", "7", "d7", "1y", "2026/12/01"])
def test_parse_since_refuses_anything_else_and_says_what_to_type(value: str) -> None:
    with pytest.raises(TcbotError, match="use a span like 7d, 24h or 2w"):
        parse_since(value, now=FIXED_NOW, zone=LONDON)


def test_check_hashtag_adds_the_hash_and_refuses_non_hashtags() -> None:
    assert check_hashtag("TherapistsConnect") == H
    assert check_hashtag(H) == H
    with pytest.raises(TcbotError, match="not a hashtag"):
        check_hashtag("#two words")


def test_one_line_removes_terminal_escapes_and_newlines() -> None:
    assert one_line("hi\x1b[2J there\nall\r\u202eevil") == "hi [2J there all evil"
    assert one_line("abcdef", 4) == "abc…"


def test_render_csv_ids_and_formula_cells() -> None:
    row = IntroRow(
        tweet_id="1958300000000000001", author_id="1", username="sam", name="@sam", created_at=None,
        text="-5 reasons", role=None, place=None, score=9,
    )  # fmt: skip
    [header, line] = render_csv([row], zone=LONDON).splitlines()
    assert header.split(",") == list(CSV_COLUMNS)
    assert line.startswith('"=""1958300000000000001""",,,sam,\'@sam,,,\'-5 reasons,')
    assert IntroFormat("csv") is IntroFormat.CSV
