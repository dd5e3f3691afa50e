"""The chat commands end to end through the CLI: schedule check/sync, queue, run, status."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli import assert_user_error, run

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "schedules" / "traineetalk.toml"


@pytest.fixture
def host_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A volunteer's folder: the example schedule, no .env, a fresh database."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "schedules").mkdir()
    shutil.copy(EXAMPLE, tmp_path / "schedules" / "traineetalk.toml")
    return tmp_path


def test_cli_schedule_check_accepts_the_shipped_example(
    capsys: pytest.CaptureFixture[str], host_folder: Path
) -> None:
    code, out, _ = run(capsys, "schedule", "check")
    assert code == 0
    assert out.startswith("OK: 2 chats with 18 posts in 1 file")
    assert not (host_folder / "tcbot.db").exists()  # checking never touches the database


def test_cli_schedule_check_reports_file_and_line_and_exits_1(
    capsys: pytest.CaptureFixture[str], host_folder: Path
) -> None:
    path = host_folder / "schedules" / "traineetalk.toml"
    text = path.read_text().replace("interval_minutes = 10", "intervall_minutes = 10", 1)
    path.write_text(text)
    line = text.splitlines().index("intervall_minutes = 10") + 1
    code, out, err = run(capsys, "schedule", "check")
    assert_user_error(code, out, err, "error in the schedule", "tcbot schedule check")
    assert f"schedules/traineetalk.toml:{line}:" in out
    assert "interval_minutes" in out  # the suggestion


def test_cli_schedule_sync_is_idempotent_and_queue_lists_local_and_utc(
    capsys: pytest.CaptureFixture[str], host_folder: Path
) -> None:
    code, out, _ = run(capsys, "schedule", "sync")
    assert code == 0 and "Added:" in out and "9 posts" in out
    code, out, _ = run(capsys, "schedule", "sync")
    assert code == 0 and "nothing changed" in out
    code, out, _ = run(capsys, "queue", "list")
    assert code == 0
    assert out.count("\n") == 18
    assert "Wed 2 Dec 20:10 GMT (20:10 UTC)" in out and " Q1 " in out


def test_cli_schedule_sync_cancels_a_removed_chat_and_says_so(
    capsys: pytest.CaptureFixture[str], host_folder: Path
) -> None:
    run(capsys, "schedule", "sync")
    path = host_folder / "schedules" / "traineetalk.toml"
    text = path.read_text()
    start = text.index("[[chats]]\ndate = 2026-12-09")
    end = text.index("[[chats]]", start + 1)
    path.write_text(text[:start] + text[end:])  # drop the 2026-12-09 chat
    code, out, _ = run(capsys, "schedule", "sync")
    assert code == 0
    assert "Cancelled (no longer in the file):" in out and "2026-12-09" in out
    assert run(capsys, "queue", "list")[1].count(" queued ") == 9


def test_cli_queue_hold_release_cancel_and_preview(
    capsys: pytest.CaptureFixture[str], host_folder: Path
) -> None:
    run(capsys, "schedule", "sync")
    assert run(capsys, "queue", "hold", "2026-12-02")[1].strip() == "9 posts held."
    assert " held " in run(capsys, "queue", "list")[1]
    assert (
        run(capsys, "queue", "release", "traineetalk:2026-12-02")[1].strip() == "9 posts released."
    )
    assert run(capsys, "queue", "cancel", "#4")[1].strip() == "1 post cancelled."
    code, out, _ = run(capsys, "queue", "preview", "2026-12-02")
    assert code == 0
    assert "-- Q1 · Wed 2 Dec 20:10 GMT (20:10 UTC) · 105/280 · cancelled" in out
    assert_user_error(*run(capsys, "queue", "hold", "#999"), "no post #999", "tcbot queue list")
    assert_user_error(*run(capsys, "queue", "preview", "someday"), "someday")


def test_cli_queue_add_queues_a_chat_from_the_series(
    capsys: pytest.CaptureFixture[str], host_folder: Path
) -> None:
    code, out, err = run(
        capsys, "queue", "add", "--date", "2026-12-16", "--topic", "Winter self-care",
        "--question", "What keeps you going in the dark months?", "--question", "Who do you lean on?",
    )  # fmt: skip
    assert code == 0, err
    assert "Winter self-care" in out
    code, out, _ = run(capsys, "queue", "preview", "2026-12-16")
    assert "Q2 Who do you lean on? #TraineeTalk" in out
    code, out, _ = run(capsys, "schedule", "sync")  # the file never overwrites it
    assert code == 0
    assert_user_error(
        *run(capsys, "queue", "add", "--date", "2020-01-01", "--topic", "Old", "--question", "Q?"),
        "2020-01-01",
    )


def test_cli_status_shows_next_posts_problems_and_cost(
    capsys: pytest.CaptureFixture[str], host_folder: Path
) -> None:
    run(capsys, "schedule", "sync")
    code, out, _ = run(capsys, "status")
    assert code == 0
    assert "Poster: no 'tcbot run' is running" in out
    assert "#1 Tue 1 Dec 20:00 GMT (20:00 UTC) 2026-12-02 reminder" in out
    assert "Problems: none" in out
    assert "about $0.00 at pay-per-use prices" in out


def test_cli_run_stops_cleanly_on_sigterm_and_releases_the_lease(host_folder: Path) -> None:
    """`tcbot run` in a real process: it starts, holds the lease, and SIGTERM ends it with 0."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TCBOT_", "X_"))}
    env["TCBOT_LOG_LEVEL"] = "INFO"
    command = [sys.executable, "-m", "bot", "run"]
    with subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True) as process:
        assert process.stderr is not None
        for line in process.stderr:  # wait for start-up, by reading, not sleeping
            if "now the poster" in line or "taken by" in line:
                break
        process.send_signal(signal.SIGTERM)
        _, rest = process.communicate(timeout=60)
    assert process.returncode == 0, rest
    code = subprocess.run(
        [sys.executable, "-m", "bot", "status"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "Poster: no 'tcbot run' is running" in code.stdout


def test_cli_status_shows_missed_posts_and_posts_waiting_after_an_error(
    capsys: pytest.CaptureFixture[str], host_folder: Path
) -> None:
    from datetime import UTC, datetime, timedelta

    from archive.db import make_engine, make_session_factory
    from bot import outbox

    run(capsys, "schedule", "sync")
    sessions = make_session_factory(make_engine("sqlite:///tcbot.db"))
    after_intro = datetime(2026, 12, 2, 20, 0, tzinfo=UTC) + timedelta(minutes=16)
    with sessions.begin() as session:
        missed = outbox.miss_overdue(session, now=after_intro)
    assert missed  # the reminders and the intro are too late by then
    with sessions.begin() as session:
        claimed = outbox.claim_next(
            session, holder="h", now=after_intro, claim_for=timedelta(minutes=2)
        )
        assert claimed is not None
        outbox.record_retry(
            session, claimed.id, error="authentication failed: X refused the keys",
            not_before=after_intro + timedelta(minutes=5),
        )  # fmt: skip
    code, out, _ = run(capsys, "status")
    assert code == 0
    assert "2026-12-02 intro missed:" in out
    label = outbox.post_label(claimed.kind, claimed.number)
    assert f"#{claimed.id} 2026-12-02 {label} waiting to retry: authentication failed" in out
