"""`tcbot archive sweep` and `tcbot archive forget` through the CLI, on SQLite and PostgreSQL:
what they print, what they ask, exit codes and error lines."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.ingest import ingest_page
from archive.models import ForgottenUser, Tweet, User
from bot.clock import SystemClock
from bot.optouts import add_opt_out, is_opted_out
from bot.sandbox.remote import SandboxAdmin
from bot.sandbox.server import SandboxServer, start_sandbox
from bot.wiring import SANDBOX_CREDENTIALS, make_x_client
from tests.fakes import SEARCH_ENDPOINT, make_page
from tests.test_cli import assert_user_error, run
from tests.test_compliance import ALICE, DAVE, FETCHED, post


@pytest.fixture
def folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, db_url: str, dispose_cli_databases: None
) -> Iterator[Path]:
    """An organiser's folder with no .env, TCBOT_DATABASE_URL naming this test's database."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TCBOT_DATABASE_URL", db_url)
    monkeypatch.setenv("TCBOT_LOG_LEVEL", "WARNING")
    yield tmp_path


def alice_and_dave(session: Session) -> None:
    tweets = [post(1, ALICE, "mine #TraineeTalk"), post(2, ALICE, "also mine"),
              post(3, DAVE, "dave's own #TraineeTalk")]  # fmt: skip
    page = make_page(tweets, users=[ALICE, DAVE])
    ingest_page(session, page, endpoint=SEARCH_ENDPOINT, fetched_at=FETCHED)
    session.commit()


def counts(session: Session) -> tuple[int, int, int]:
    session.expire_all()
    return (
        session.scalar(select(func.count()).select_from(Tweet)) or 0,
        session.scalar(select(func.count()).select_from(User)) or 0,
        session.scalar(select(func.count()).select_from(ForgottenUser)) or 0,
    )


def test_cli_forget_with_yes_says_what_it_removed(
    folder: Path, archive_session: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    alice_and_dave(archive_session)
    code, out, err = run(capsys, "archive", "forget", "@ALICE_T", "--yes")
    assert code == 0, err
    assert out.splitlines() == [
        "@alice_t: 2 posts and 1 profile will be removed from the archive.",
        "Forgot @alice_t: removed 2 posts and 1 profile; their posts will not be archived again.",
    ]
    assert counts(archive_session) == (1, 1, 1)


@pytest.mark.parametrize(("answer", "expected"), [("n\n", (3, 2, 0)), ("y\n", (1, 1, 1))])
def test_cli_forget_asks_first(
    folder: Path,
    archive_session: Session,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
    expected: tuple[int, int, int],
) -> None:
    alice_and_dave(archive_session)
    monkeypatch.setattr("sys.stdin", io.StringIO(answer))
    code, out, err = run(capsys, "archive", "forget", "alice_t")
    assert code == 0, err
    assert "never archive @alice_t's posts again? [y/N]" in out
    assert ("Nothing was changed." in out) is (answer == "n\n")
    assert counts(archive_session) == expected


def test_cli_forget_someone_never_archived_still_records_them(
    folder: Path, archive_session: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "archive", "forget", "nobody_yet", "--yes")
    assert code == 0
    assert out.splitlines() == [
        "@nobody_yet is not in the archive: no posts or profile to remove.",
        "Recorded @nobody_yet as forgotten: their posts will not be archived again.",
    ]
    assert counts(archive_session) == (0, 0, 1)
    _, out, _ = run(capsys, "archive", "forget", "Nobody_Yet", "-y")
    assert out.splitlines()[0] == (
        "@nobody_yet is not in the archive (already recorded as forgotten): no posts or"
        " profile to remove."
    )
    assert counts(archive_session) == (0, 0, 1)


def test_cli_forget_refuses_a_bad_username(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "archive", "forget", "two words", "--yes")
    assert_user_error(code, out, err, "'two words' is not an X username", "e.g. @TraineeTalk")


def test_cli_sweep_refuses_the_embedded_sandbox(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "archive", "sweep")
    assert_user_error(code, out, err, "no X credentials are set", "X_API_BASE_URL")


def test_cli_sweep_refuses_limit_with_all(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "archive", "sweep", "--limit", "5", "--all")
    assert_user_error(code, out, err, "give --limit or --all, not both")


@pytest.fixture
def sandbox(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxServer]:
    with start_sandbox(bot_username="TraineeTalkBot") as server:
        monkeypatch.setenv("X_API_BASE_URL", server.url)
        yield server


def sandbox_archive(server: SandboxServer, session: Session) -> dict[str, list[str]]:
    """ana, ben and cat post twice each on the sandbox; the archive has it all."""
    admin = SandboxAdmin(server.url)
    people = {name: admin.add_user(name)["id"] for name in ("ana", "ben", "cat")}
    posted = {
        name: [admin.post_as(name, f"#TraineeTalk {name} says {n}")["id"] for n in range(2)]
        for name in people
    }
    client = make_x_client(SANDBOX_CREDENTIALS, base_url=server.url, clock=SystemClock(),
                           on_call=None)  # fmt: skip
    for page in client.search_recent("#TraineeTalk").pages:
        ingest_page(session, page.payload, endpoint=page.endpoint, fetched_at=page.retrieved_at)
    session.commit()
    admin.remove_tweet(posted["ana"][0])
    admin.change_user(people["ben"], suspended=True)
    return {"people": list(people.values()), **posted}


def test_cli_sweep_says_what_it_removed_and_hid(
    sandbox: SandboxServer, archive_session: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox_archive(sandbox, archive_session)
    code, out, err = run(capsys, "archive", "sweep", "--all")
    assert code == 0, err
    assert out.splitlines() == [
        (
            "Checked 6 posts with X (1 request): removed 1 post deleted on X, hid 2 posts of"
            " 1 account now protected or suspended."
        ),
        "  @ben is suspended: 2 posts hidden",
    ]
    assert counts(archive_session)[0] == 5


def test_cli_sweep_default_is_todays_share(
    sandbox: SandboxServer,
    archive_session: Session,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sandbox_archive(sandbox, archive_session)
    monkeypatch.setenv("TCBOT_SWEEP_DAYS", "4")  # ceil(6 / 4) = 2 posts today
    code, out, err = run(capsys, "archive", "sweep")
    assert code == 0, err
    assert out.startswith("Checked 2 posts with X (1 request)")


def test_cli_sweep_stopped_by_a_rate_limit_keeps_its_work_and_says_so(
    sandbox: SandboxServer, archive_session: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox_archive(sandbox, archive_session)
    SandboxAdmin(sandbox.url).set_faults(queue=[429])
    code, out, err = run(capsys, "archive", "sweep", "--limit", "6")
    assert out.startswith("Checked 0 posts with X (1 request)")
    assert_user_error(code, out, err, "the sweep stopped after 0 of 6 posts: X's rate limit",
                      "run it again later")  # fmt: skip
    assert counts(archive_session)[0] == 6


def test_cli_forget_someone_opted_out_says_they_stay_opted_out(
    folder: Path, archive_session: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    alice_and_dave(archive_session)
    add_opt_out(archive_session, "alice_t", now=FETCHED)
    archive_session.commit()
    code, out, err = run(capsys, "archive", "forget", "alice_t", "--yes")
    assert code == 0, err
    assert out.splitlines()[-1] == "@alice_t stays opted out: the bot will never contact them."
    archive_session.expire_all()
    assert is_opted_out(archive_session, user_id=ALICE["id"], username="alice_t")
    assert "opted out" not in run(capsys, "archive", "forget", "dave_d", "--yes")[1]
