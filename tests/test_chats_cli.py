"""The chat and transcript commands through the CLI, on SQLite and PostgreSQL:
`archive chat add`, `archive chats`, `archive transcript`, exit codes and error lines."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from archive.gaps import record_gap
from tests.test_chats import (
    THREAD,
    bot_thread,
    ingest,
    mark_sent,
    post,
    queue_chat,
)
from tests.test_cli import assert_user_error, run

ADD = ("archive", "chat", "add", "--hashtag", "#TraineeTalk", "--host", "TraineeTalk")


@pytest.fixture
def folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, db_url: str, dispose_cli_databases: None
) -> Iterator[Path]:
    """An organiser's folder with no .env, TCBOT_DATABASE_URL naming this test's database.

    The engines the commands open are closed afterwards (a PostgreSQL connection left
    to the garbage collector warns, and pytest turns warnings into errors).
    """
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TCBOT_DATABASE_URL", db_url)
    monkeypatch.setenv("TCBOT_LOG_LEVEL", "WARNING")
    yield tmp_path


def bot_chat_with_answers(session: Session) -> None:
    """The bot's chat, sent and archived, with two answers, a reply and a protected answer."""
    mark_sent(queue_chat(session), THREAD)
    ingest(
        session, *bot_thread(),
        post(1100, "@TraineeTalkBot A1 curiosity #TraineeTalk", by="bob", minutes=11,
             reply_to="1010", conversation_id="1000"),
        post(1101, "@bob same <b>here</b>", by="cy", minutes=12, reply_to="1100",
             conversation_id="1000"),
        post(1102, "A2 private #TraineeTalk", by="priv", minutes=21),
        priv=True,
    )  # fmt: skip
    session.commit()


def test_cli_chat_add_then_chats_lists_it(capsys: pytest.CaptureFixture[str], folder: Path) -> None:
    code, out, _ = run(capsys, *ADD, "--start", "2026-12-02T19:55Z", "--end",
                       "2026-12-02T21:00Z", "--topic", "Endings")  # fmt: skip
    assert code == 0
    assert (
        "Added chat 1: #TraineeTalk hosted by @TraineeTalk, Wed 2 Dec 2026 19:55-21:00 GMT" in out
    )
    assert "tcbot archive transcript 1" in out
    code, out, _ = run(capsys, "archive", "chats")
    assert code == 0
    header, row = out.splitlines()
    assert header.split() == ["ID", "DATE", "(Europe/London)", "ORIGIN", "TWEETS", "PEOPLE",
                              "NEW", "TOPIC"]  # fmt: skip
    assert row.split() == ["1", "Wed", "2026-12-02", "19:55", "GMT", "manual", "0", "0", "0",
                           "#TraineeTalk", "Endings"]  # fmt: skip


def test_cli_chat_add_reads_local_times_in_tcbot_timezone(
    capsys: pytest.CaptureFixture[str], folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TCBOT_TIMEZONE", "America/New_York")
    code, out, _ = run(capsys, *ADD, "--start", "2026-12-02 14:55", "--end", "2026-12-02T16:00")
    assert code == 0 and "14:55-16:00 EST" in out
    code, out, _ = run(capsys, "archive", "transcript", "1", "--format", "json")
    chat = json.loads(out)["chat"]
    assert (chat["start"], chat["end"]) == ("2026-12-02T19:55:00Z", "2026-12-02T21:00:00Z")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--start", "2026-12-02", "--end", "2026-12-02T21:00Z"), "has no time of day"),
        (("--start", "tonight", "--end", "2026-12-02T21:00Z"), "write it like 2026-12-02T19:55Z"),
        (("--start", "2026-12-02T21:00Z", "--end", "2026-12-02T20:00Z"), "is not after --start"),
        (("--start", "2026-12-02T19:55Z"), "Missing option '--end'"),
    ],
)
def test_cli_chat_add_errors_say_what_to_type(
    capsys: pytest.CaptureFixture[str], folder: Path, args: tuple[str, ...], expected: str
) -> None:
    assert_user_error(*run(capsys, *ADD, *args), expected)


def test_cli_chat_add_bad_hashtag_is_one_error_line(
    capsys: pytest.CaptureFixture[str], folder: Path
) -> None:
    code, out, err = run(capsys, "archive", "chat", "add", "--hashtag", "Trainee Talk", "--host",
                         "x", "--start", "2026-12-02T19:55Z", "--end", "2026-12-02T21:00Z")  # fmt: skip
    assert_user_error(code, out, err, "is not a hashtag", "--hashtag '#TraineeTalk'")


def test_cli_chats_records_the_bots_chats_with_their_counts(
    capsys: pytest.CaptureFixture[str], folder: Path, archive_session: Session
) -> None:
    bot_chat_with_answers(archive_session)
    code, out, _ = run(capsys, "archive", "chats")
    assert code == 0
    row = out.splitlines()[1].split()
    assert row[:6] == ["1", "Wed", "2026-12-02", "19:45", "GMT", "bot"]
    assert row[6:9] == ["7", "3", "3"]  # 5 bot posts + 2 (protected left out); bot, bob, cy
    assert row[9:] == ["#TraineeTalk", "endings", "with", "clients"]


@pytest.mark.parametrize("fmt", ["json", "md", "html", "csv"])
def test_cli_transcript_writes_each_format_to_a_file(
    capsys: pytest.CaptureFixture[str], folder: Path, archive_session: Session, fmt: str
) -> None:
    bot_chat_with_answers(archive_session)
    target = folder / f"chat.{fmt}"
    code, out, _ = run(capsys, "archive", "transcript", "1", "--format", fmt, "-o", str(target))
    assert code == 0
    assert out == f"Wrote chat 1 to {target}: 7 tweets, 1 answers, 3 participants.\n"
    text = target.read_text(encoding="utf-8")
    if fmt == "json":
        assert json.loads(text)["questions"][0]["answers"][0]["replies"][0]["tweet_id"] == "1101"
    elif fmt == "html":
        assert text.startswith("<!DOCTYPE html>") and "&lt;b&gt;here&lt;/b&gt;" in text
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        assert [r["role"] for r in rows if r["tweet_id"] == '="1101"'] == ["reply"]
    else:
        assert text.startswith("# \\#TraineeTalk: endings with clients")
    assert "private" not in text


def test_cli_transcript_by_date_to_stdout_and_with_protected(
    capsys: pytest.CaptureFixture[str], folder: Path, archive_session: Session
) -> None:
    bot_chat_with_answers(archive_session)
    code, out, _ = run(capsys, "archive", "transcript", "2026-12-02", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert [q["number"] for q in data["questions"]] == [1, 2, 3]
    assert data["questions"][1]["answers"] == []
    code, out, _ = run(capsys, "archive", "transcript", "1", "--format", "json",
                       "--include-protected")  # fmt: skip
    answers = json.loads(out)["questions"][1]["answers"]
    assert [a["author"] for a in answers] == ["priv"]


def test_cli_transcript_errors_exit_1_with_one_line(
    capsys: pytest.CaptureFixture[str], folder: Path, archive_session: Session
) -> None:
    bot_chat_with_answers(archive_session)
    assert_user_error(*run(capsys, "archive", "transcript", "9"), "there is no chat 9",
                      "tcbot archive chats")  # fmt: skip
    assert_user_error(*run(capsys, "archive", "transcript", "1", "--format", "pdf"),
                      "'pdf' is not one of", "tcbot archive transcript --help")  # fmt: skip
    missing = folder / "no-such-folder" / "chat.html"
    assert_user_error(*run(capsys, "archive", "transcript", "1", "--format", "html", "-o",
                           str(missing)), f"cannot write {missing}", "choose another -o FILE")  # fmt: skip
    assert not missing.exists()


def test_cli_chats_with_no_chats_says_how_to_add_one(
    capsys: pytest.CaptureFixture[str], folder: Path
) -> None:
    code, out, _ = run(capsys, "archive", "chats")
    assert code == 0 and "No chats yet" in out and "tcbot archive chat add" in out


def test_cli_chat_add_twice_names_the_existing_chat(
    capsys: pytest.CaptureFixture[str], folder: Path
) -> None:
    times = ("--start", "2026-12-02T19:55Z", "--end", "2026-12-02T21:00Z")
    assert run(capsys, *ADD, *times)[0] == 0
    assert_user_error(*run(capsys, *ADD, *times), "chat 1 already", "tcbot archive transcript 1")


def test_cli_screen_output_neutralises_terminal_escapes(
    capsys: pytest.CaptureFixture[str], folder: Path, archive_session: Session
) -> None:
    ingest(archive_session, post(4000, "Q1 \x1b[2J\x1b]0;pwned\x07 cleared? #TraineeTalk",
                                 by="bob", minutes=5))  # fmt: skip
    archive_session.commit()
    code, _, _ = run(capsys, *ADD[:-1], "bob", "--start", "2026-12-02T19:55Z", "--end",
                     "2026-12-02T21:00Z", "--topic", "Endings \x1b[31mred")  # fmt: skip
    assert code == 0
    code, out, _ = run(capsys, "archive", "chats")
    assert code == 0 and "\x1b" not in out and "Endings �[31mred" in out
    for fmt in ("md", "csv", "html"):
        code, out, _ = run(capsys, "archive", "transcript", "1", "--format", fmt)
        assert code == 0 and "\x1b" not in out and "\x07" not in out and "pwned�" in out
    code, out, _ = run(capsys, "archive", "transcript", "1", "--format", "json")
    assert "\x1b" not in out and json.loads(out)["questions"][0]["text"].startswith("Q1 \x1b[2J")


def test_cli_transcript_shows_the_collection_gaps_that_overlap_the_chat(
    capsys: pytest.CaptureFixture[str], folder: Path, archive_session: Session
) -> None:
    bot_chat_with_answers(archive_session)
    start = datetime(2026, 12, 2, 20, 30, tzinfo=UTC)
    record_gap(archive_session, hashtag="#traineetalk", starts_at=start,
               ends_at=start + timedelta(minutes=5), now=start)  # fmt: skip
    record_gap(
        archive_session,
        hashtag="#therapistsconnect",
        starts_at=start,
        ends_at=start + timedelta(minutes=5),
        now=start,
    )  # another hashtag's: not shown
    record_gap(
        archive_session,
        hashtag="#traineetalk",
        starts_at=start - timedelta(days=3),
        ends_at=start - timedelta(days=2),
        now=start,
    )  # before the chat: not shown
    archive_session.commit()
    code, out, _ = run(capsys, "archive", "transcript", "1", "--format", "json")
    assert code == 0
    assert json.loads(out)["gaps"] == [
        {"start": "2026-12-02T20:30:00Z", "end": "2026-12-02T20:35:00Z", "hashtag": "#traineetalk"}
    ]
    code, out, _ = run(capsys, "archive", "transcript", "1", "--format", "md")
    assert "Not collected: 20:30-20:35 GMT" in out
