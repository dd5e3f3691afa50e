"""`tcbot archive import` end to end through the CLI, on SQLite and PostgreSQL; its summary
line, the people it marks as known (never welcomed) and its progress bar."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from archive.db import make_engine, make_session_factory, upgrade
from archive.importer import ImportReport, SkippedLine
from archive.ingest import ingest_page
from archive.models import Tweet, Welcome, WelcomeStatus
from bot.cli.archive_import import progress_bar
from bot.clock import FakeClock
from bot.import_commands import summary
from tests.fakes import SEARCH_ENDPOINT, make_page, make_tweet, make_user
from tests.test_cli import assert_user_error, run
from tests.test_importer import twarc_file, write

NOW = datetime(2026, 12, 2, 21, 0, tzinfo=UTC)
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (DEBUG|INFO) ")


def messages(err: str) -> list[str]:
    """What the command said on stderr, without log lines."""
    return [line for line in err.splitlines() if not LOG_LINE.match(line)]


@pytest.fixture
def folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, db_url: str, dispose_cli_databases: None
) -> Iterator[Path]:
    """An organiser's folder with no .env, the archive at `db_url`; the engines the
    commands open are closed afterwards (PostgreSQL warns about one left to the GC)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TCBOT_DATABASE_URL", db_url)
    yield tmp_path


def test_cli_archive_import_loads_files_and_sums_up(
    capsys: pytest.CaptureFixture[str], folder: Path
) -> None:
    one = twarc_file(folder / "one.jsonl")
    two = twarc_file(folder / "two.jsonl.gz", count=5, gzipped=True)
    code, out, err = run(capsys, "archive", "import", str(one), str(two))
    assert (code, messages(err)) == (0, [])
    assert out.splitlines() == [
        "2 files, 8 pages: 35 new posts, 0 updated, 7 new people",
        "7 people marked as already known: they will not be welcomed.",
    ]
    code, out, _ = run(capsys, "archive", "import", str(one), str(two))
    assert (code, out) == (0, "2 files, 8 pages: nothing new\n")  # all known already


def test_cli_archive_import_lists_skipped_lines_and_still_exits_0(
    capsys: pytest.CaptureFixture[str], folder: Path
) -> None:
    good = twarc_file(folder / "good.jsonl").read_bytes()
    path = write(folder / "mixed.jsonl", [b"not json\n", good, b"[]\n"])
    code, out, err = run(capsys, "archive", "import", str(path))
    assert code == 0
    assert messages(err) == [
        f"Skipped {path}:1: not valid JSON (JSON is malformed: invalid character (byte 4))",
        f"Skipped {path}:5: an X API page must be a JSON object, not list",
    ]
    assert out.splitlines()[0] == (
        "1 file, 3 pages: 21 new posts, 0 updated, 7 new people; 2 lines skipped (listed above)"
    )


def test_cli_archive_import_marks_everyone_imported_as_known(
    capsys: pytest.CaptureFixture[str], folder: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.cli.app.SystemClock", lambda: FakeClock(NOW))
    engine = make_engine(db_url)
    upgrade(engine)
    try:
        with make_session_factory(engine).begin() as session:  # one person decided already
            page = make_page(
                [make_tweet("1", "hi", author_id="42")], users=[make_user("42", "ana_k")]
            )
            ingest_page(session, page, endpoint=SEARCH_ENDPOINT, fetched_at=NOW)
            session.add(Welcome(user_id="42", username="ana_k", status=WelcomeStatus.LISTED,
                                in_digest=False, created_at=NOW, updated_at=NOW))  # fmt: skip
        code, out, err = run(capsys, "archive", "import", str(twarc_file(folder / "one.jsonl")))
        assert code == 0, err
        assert out.splitlines()[1] == "7 people marked as already known: they will not be welcomed."
        with make_session_factory(engine)() as session:
            rows = session.execute(select(Welcome.user_id, Welcome.status, Welcome.created_at))
            decided = {user_id: (status, at) for user_id, status, at in rows}
            authors = set(session.scalars(select(Tweet.author_id)))
    finally:
        engine.dispose()
    assert decided.pop("42") == (WelcomeStatus.LISTED, NOW)  # a decision is never changed
    assert set(decided) == authors - {"42"} and len(decided) == 7
    assert set(decided.values()) == {(WelcomeStatus.KNOWN, NOW)}


def test_cli_archive_import_nothing_loadable_is_an_error(
    capsys: pytest.CaptureFixture[str], folder: Path
) -> None:
    path = write(folder / "notes.txt", [b"Q1 notes from the chat\n"] * 25)
    code, out, err = run(capsys, "archive", "import", str(path))
    assert_user_error(code, out, err, "nothing was loaded: 25 lines skipped (listed above)",
                      "X API pages, one per line")  # fmt: skip
    lines = messages(err)
    assert lines[0].startswith(f"Skipped {path}:1: not valid JSON")
    assert lines[20] == "... and 5 more lines skipped"
    assert out == ""


def test_cli_archive_import_unreadable_file_is_an_error_and_loads_nothing(
    capsys: pytest.CaptureFixture[str], folder: Path, db_url: str
) -> None:
    good = twarc_file(folder / "good.jsonl")
    code, out, err = run(capsys, "archive", "import", str(good), "missing.jsonl")
    assert_user_error(code, out, err, "cannot read missing.jsonl (No such file or directory)",
                      "check the path")  # fmt: skip
    if db_url.startswith("sqlite"):
        assert not Path(db_url.removeprefix("sqlite:///")).exists()  # checked before opening it
    code, out, _ = run(capsys, "archive", "import", str(good))
    assert "21 new posts" in out  # the first attempt loaded nothing


def test_cli_archive_import_needs_a_file(capsys: pytest.CaptureFixture[str], folder: Path) -> None:
    code, out, err = run(capsys, "archive", "import")
    assert_user_error(code, out, err, "Missing argument 'FILE...'", "tcbot archive import --help")


def test_cli_archive_import_help_has_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "archive", "import", "--help")
    assert code == 0 and "Example: tcbot archive import " in out and "twarc2" in out


def report(**changes: object) -> ImportReport:
    values: dict[str, object] = {
        "files": 3, "lines": 1030, "pages": 1024, "tweets_new": 98112, "tweets_updated": 1201,
        "users_new": 8433, "skipped": (),
    }  # fmt: skip
    values.update(changes)
    return ImportReport(**values)  # type: ignore[arg-type]


SKIPPED = SkippedLine("a.jsonl", 3, "not valid JSON")


@pytest.mark.parametrize(
    ("changes", "line"),
    [
        ({}, "3 files, 1,024 pages: 98,112 new posts, 1,201 updated, 8,433 new people"),
        ({"skipped": (SKIPPED, SKIPPED)},
         ("3 files, 1,024 pages: 98,112 new posts, 1,201 updated, 8,433 new people;"
         " 2 lines skipped (listed above)")),
        ({"files": 1, "pages": 1, "tweets_new": 1, "tweets_updated": 0, "users_new": 1,
          "skipped": (SKIPPED,)},
         "1 file, 1 page: 1 new post, 0 updated, 1 new person; 1 line skipped (listed above)"),
        ({"tweets_new": 0, "tweets_updated": 0, "users_new": 0}, "3 files, 1,024 pages: nothing new"),
        ({"files": 1, "pages": 0, "tweets_new": 0, "tweets_updated": 0, "users_new": 0},
         "1 file, 0 pages: nothing new"),
    ],
)  # fmt: skip
def test_import_summary(changes: dict[str, object], line: str) -> None:
    assert summary(report(**changes)) == line


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal(tmp_path: Path) -> None:
    path = twarc_file(tmp_path / "chat.jsonl")
    with progress_bar((path,), io.StringIO()) as quiet:
        assert quiet is None
    screen = Terminal()
    with progress_bar((path,), screen) as update:
        assert update is not None
        update(path.stat().st_size)
    assert "Importing" in screen.getvalue() and "100%" in screen.getvalue()
