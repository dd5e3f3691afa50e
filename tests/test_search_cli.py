"""`tcbot archive search` and `tcbot archive stats`: rendering, option parsing, exit codes."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from archive.chats import add_chat
from archive.db import make_session_factory
from archive.ingest import ingest_page
from archive.search import Hit
from archive.stats import ChatStats, Counts, WeekStats
from bot.cli.archive_search import highlighter, terminal_style
from bot.clock import FakeClock
from bot.config import Settings
from bot.errors import TcbotError
from bot.search_commands import (
    parse_when,
    plain_style,
    printable,
    query_from_words,
    render_hit,
    stats_lines,
)
from bot.wiring import open_database as real_open_database
from tests.fakes import make_page, make_tweet, make_user
from tests.test_cli import assert_user_error, run

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 9, 16, 12, 0, tzinfo=UTC)


def hit(text: str, spans: tuple[tuple[int, int], ...], **fields: object) -> Hit:
    values: dict[str, object] = {
        "tweet_id": "1901",
        "username": "Alice_T",
        "name": "Alice",
        "created_at": datetime(2026, 9, 2, 19, 5, tzinfo=UTC),
        "text": text,
        "highlights": spans,
        "rank": 1.0,
    }
    values.update(fields)
    return Hit(**values)  # type: ignore[arg-type]


# --- rendering (pure) ---


def test_render_hit_shows_local_time_author_link_and_highlights() -> None:
    shown = render_hit(hit("Supervision helps", ((0, 11),)), number=1, zone=LONDON,
                       style=plain_style)  # fmt: skip
    assert shown.splitlines() == [
        "  1. Wed 2026-09-02 20:05 BST  @Alice_T (Alice)",
        "     https://x.com/Alice_T/status/1901",
        "     **Supervision** helps",
    ]


def test_render_hit_in_a_terminal_uses_bold_colour() -> None:
    shown = render_hit(hit("Supervision helps", ((0, 11),)), number=1, zone=LONDON,
                       style=terminal_style)  # fmt: skip
    assert click.style("Supervision", bold=True, fg="yellow") + " helps" in shown
    assert "**" not in shown


def test_render_hit_makes_control_characters_harmless_and_indents_lines() -> None:
    text = "line one \x1b[31mred\nline two \u202eevil burnout"
    start = text.index("burnout")
    shown = render_hit(hit(text, ((start, start + 7),), name="Eve\x07\u202e", username=None),
                       number=12, zone=LONDON, style=plain_style)  # fmt: skip
    assert "\x1b" not in shown and "\u202e" not in shown and "\x07" not in shown
    assert shown.splitlines() == [
        " 12. Wed 2026-09-02 20:05 BST  (account unknown) (Eve\ufffd\ufffd)",
        "     https://x.com/i/status/1901",
        "     line one \ufffd[31mred",
        "     line two \ufffdevil **burnout**",
    ]


def test_render_hit_highlight_across_lines_is_marked_line_by_line() -> None:
    shown = render_hit(hit("self\ncare", ((0, 9),)), number=1, zone=LONDON, style=plain_style)
    assert shown.splitlines()[-2:] == ["     **self**", "     **care**"]


def test_printable_keeps_emoji_joiners_and_offsets() -> None:
    text = "👩\u200d⚕️ hello\tthere"
    assert printable(text) == "👩\u200d⚕️ hello there"
    assert len(printable("\x1b[0m\n")) == len("\x1b[0m\n")


def test_highlighter_is_ansi_only_for_a_terminal() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert highlighter(Terminal()) is terminal_style
    assert highlighter(io.StringIO()) is plain_style
    assert highlighter(object()) is plain_style


@pytest.mark.parametrize(
    ("value", "end", "expected"),
    [
        ("2026-09-02", False, datetime(2026, 9, 1, 23, 0, tzinfo=UTC)),  # local midnight (BST)
        ("2026-09-02", True, datetime(2026, 9, 2, 23, 0, tzinfo=UTC)),  # includes that day
        ("2026-12-02", False, datetime(2026, 12, 2, 0, 0, tzinfo=UTC)),  # GMT
        ("2026-09-02T19:55", False, datetime(2026, 9, 2, 18, 55, tzinfo=UTC)),
        ("2026-09-02T19:55Z", True, datetime(2026, 9, 2, 19, 55, tzinfo=UTC)),
        ("2026-09-02 19:55+02:00", False, datetime(2026, 9, 2, 17, 55, tzinfo=UTC)),
        ("7d", False, NOW - timedelta(days=7)),
        ("12h", True, NOW - timedelta(hours=12)),
        (" 2w ", False, NOW - timedelta(weeks=2)),
    ],
)
def test_parse_when_reads_dates_times_and_ages(value: str, end: bool, expected: datetime) -> None:
    assert parse_when(value, zone=LONDON, now=NOW, option="--since", end=end) == expected


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01", "7 days", "-3d", ""])
def test_parse_when_refuses_what_it_cannot_read(value: str) -> None:
    with pytest.raises(TcbotError) as caught:
        parse_when(value, zone=LONDON, now=NOW, option="--since", end=False)
    assert f"--since {value!r} is not a date or time" in str(caught.value)
    assert "2026-12-02" in caught.value.fix


@pytest.mark.parametrize(
    ("words", "query"),
    [(("burnout",), "burnout"), (("-exam", "study"), "-exam study"), (("a", "--"), "a --")],
)
def test_query_from_words_joins_the_words(words: tuple[str, ...], query: str) -> None:
    assert query_from_words(words) == query


def test_query_from_words_reports_a_mistyped_option() -> None:
    with pytest.raises(TcbotError, match="no such option: --limt"):
        query_from_words(("burnout", "--limt=3"))


def test_stats_lines_show_chats_then_weeks_with_changes() -> None:
    counts, before = Counts(12, 2, 5, 2), Counts(10, 0, 6, 1)
    chat = ChatStats(chat_id=3, hashtag="#TraineeTalk", topic="Endings",
                     starts_at=datetime(2026, 9, 2, 19, 0, tzinfo=UTC), counts=counts,
                     previous=before)  # fmt: skip
    week = WeekStats(starts_on=date(2026, 8, 31), counts=counts, previous=None)
    lines = stats_lines([chat], [week], zone=LONDON, hashtags=("#TraineeTalk",))
    assert lines[0] == "Chats in the last 1 weeks (Europe/London):"
    assert lines[2].split() == ["2026-W36", "Wed", "02", "Sep", "12", "5", "2", "3", "+2",
                                "tweets,", "-1", "people", "#3", "#TraineeTalk", "Endings"]  # fmt: skip
    assert lines[6].split() == ["2026-W36", "31", "Aug", "12", "5", "2", "3", "-", "2"]


def test_stats_lines_without_chats_show_weeks_only() -> None:
    week = WeekStats(starts_on=date(2026, 8, 31), counts=Counts(0, 0, 0, 0), previous=None)
    lines = stats_lines([], [week], zone=LONDON, hashtags=("#A", "#B"))
    assert lines[0].startswith("Weeks on #A, #B and replies in their threads")


# --- through the command line ---


@pytest.fixture
def archive_cli(
    engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[None]:
    """A folder with no .env, the test database in TCBOT_DATABASE_URL, a few tweets, a fixed clock."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TCBOT_DATABASE_URL", db_url)
    monkeypatch.setattr("bot.cli.app.SystemClock", lambda: FakeClock(NOW))
    opened: list[Engine] = []  # the CLI never closes its engine; a test must (PostgreSQL)

    def open_database(settings: Settings) -> sessionmaker[Session]:
        sessions = real_open_database(settings)
        opened.append(sessions.kw["bind"])
        return sessions

    monkeypatch.setattr("bot.wiring.open_database", open_database)
    users = [make_user("21", "Alice_T", name="Alice"), make_user("22", "bob"),
             make_user("25", "pat", protected=True)]  # fmt: skip
    tweets = [
        make_tweet("3601", "#TraineeTalk supervision &amp; burnout", author_id="21",
                   created_at=datetime(2026, 9, 2, 19, 5, tzinfo=UTC)),
        make_tweet("3602", "#TraineeTalk supervision again", author_id="22",
                   created_at=datetime(2026, 9, 9, 19, 5, tzinfo=UTC)),
        make_tweet("3603", "#TraineeTalk supervision, privately", author_id="25",
                   created_at=datetime(2026, 9, 10, 19, 5, tzinfo=UTC)),
    ]  # fmt: skip
    with make_session_factory(engine).begin() as session:
        ingest_page(session, make_page(tweets, users=users), endpoint="test", fetched_at=NOW)
    yield
    for opened_engine in opened:
        opened_engine.dispose()


@pytest.mark.usefixtures("archive_cli")
def test_cli_search_prints_ranked_highlighted_results(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "archive", "search", "supervision")
    assert code == 0, err
    assert out.splitlines() == [
        "  1. Wed 2026-09-09 20:05 BST  @bob (bob)",
        "     https://x.com/bob/status/3602",
        "     #TraineeTalk **supervision** again",
        "  2. Wed 2026-09-02 20:05 BST  @Alice_T (Alice)",
        "     https://x.com/Alice_T/status/3601",
        "     #TraineeTalk **supervision** & burnout",
        "2 tweets.",
    ]


@pytest.mark.usefixtures("archive_cli")
@pytest.mark.parametrize(
    ("args", "found"),
    [
        (["supervision", "-burnout"], ["3602"]),
        (["-burnout", "supervision"], ["3602"]),
        (["supervision burnout"], ["3601"]),
        (["supervision", "--from", "@alice_t"], ["3601"]),
        (["supervision", "--hashtag", "#traineetalk", "--limit", "1"], ["3602"]),
        (["supervision", "--since", "2026-09-03"], ["3602"]),
        (["supervision", "--until", "2026-09-02"], ["3601"]),
        (["supervision", "--since", "10d"], ["3602"]),
        (["supervision", "--include-protected"], ["3603", "3602", "3601"]),
    ],
)
def test_cli_search_options(
    capsys: pytest.CaptureFixture[str], args: list[str], found: list[str]
) -> None:
    code, out, err = run(capsys, "archive", "search", *args)
    assert code == 0, err
    assert [line.rsplit("/", 1)[1] for line in out.splitlines() if "/status/" in line] == found


@pytest.mark.usefixtures("archive_cli")
def test_cli_search_without_matches_says_so_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "archive", "search", "; DROP TABLE tweets; --")
    assert code == 0
    assert out.startswith("No archived tweets match '; DROP TABLE tweets; --'.")
    code, out, _ = run(capsys, "archive", "search", "supervision")
    assert code == 0 and "2 tweets." in out


@pytest.mark.usefixtures("archive_cli")
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (['"'], "there are no words to search for in '\"'"),
        (["OR OR"], "there are no words to search for"),
        ([")("], "there are no words"),
        (["-burnout"], "only says what to leave out"),
        (["su*"], "type at least 3 letters before the *"),
        (["x" * 600], "too long (600 characters)"),
        (["burnout", "--since", "someday"], "--since 'someday' is not a date or time"),
        (["burnout", "--since", "2026-09-10", "--until", "2026-09-01"], "is not after --since"),
        (["burnout", "--limit", "0"], "0 is not in the range 1<=x<=1000"),
        (["burnout", "--limt", "3"], "no such option: --limt"),
        (["burnout", "--from", "@"], "--from needs a username"),
        ([], "Missing argument 'QUERY'"),
    ],
)
def test_cli_search_mistakes_are_one_line_errors(
    capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    assert_user_error(*run(capsys, "archive", "search", *args), expected)


@pytest.mark.usefixtures("archive_cli")
def test_cli_stats_prints_weeks_with_newcomers(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "archive", "stats", "--weeks", "2")
    assert code == 0, err
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.startswith("2026-W")}
    assert rows["2026-W37"][3:7] == ["1", "1", "1", "0"]  # bob: 1 tweet, 1 person, new
    assert rows["2026-W38"][3:7] == ["0", "0", "0", "0"]
    assert "Chats in the last" not in out  # no chats recorded


@pytest.mark.usefixtures("archive_cli")
def test_cli_stats_refuses_zero_weeks(capsys: pytest.CaptureFixture[str]) -> None:
    assert_user_error(*run(capsys, "archive", "stats", "--weeks", "0"), "--weeks")


@pytest.mark.usefixtures("archive_cli")
def test_cli_search_says_when_it_indexes_many_new_tweets_first(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, db_url: str
) -> None:
    monkeypatch.setattr("bot.search_commands.SLOW_INDEXING", 3)
    code, out, _ = run(capsys, "archive", "search", "supervision")
    assert code == 0
    noted = db_url.startswith("sqlite")  # PostgreSQL's index is always current
    assert (out.splitlines()[0] == "Indexing 3 newly archived tweets for search first...") is noted
    code, out, _ = run(capsys, "archive", "search", "supervision")
    assert code == 0 and "Indexing" not in out  # the first search kept its work


@pytest.mark.usefixtures("archive_cli")
def test_cli_stats_lists_recorded_chats_first(
    capsys: pytest.CaptureFixture[str], engine: Engine
) -> None:
    with make_session_factory(engine).begin() as session:
        add_chat(session, hashtag="#TraineeTalk", host="bob", topic="Endings",
                 starts_at=datetime(2026, 9, 9, 18, 55, tzinfo=UTC),
                 ends_at=datetime(2026, 9, 9, 20, 0, tzinfo=UTC))  # fmt: skip
    code, out, err = run(capsys, "archive", "stats", "--weeks", "2")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "Chats in the last 2 weeks (Europe/London):"
    assert lines[2].split() == ["2026-W37", "Wed", "09", "Sep", "1", "1", "1", "0", "-",
                                "#1", "#TraineeTalk", "Endings"]  # fmt: skip
