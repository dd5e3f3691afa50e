"""`tcbot welcomes ...` and `tcbot optout ...` end to end, on SQLite and PostgreSQL.

The scene is written through a session on the database the command reads
(TCBOT_DATABASE_URL), with the command's clock fixed at NOW: people on the organisers'
list, a welcome reply queued and one sent, someone known, someone protected.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.ingest import ingest_page
from archive.models import OptOut, OutboxPost, PostKind, PostStatus, Welcome, WelcomeStatus
from bot.clock import FakeClock
from bot.optouts import is_opted_out
from bot.welcome_commands import CSV_COLUMNS
from tests.fakes import SEARCH_ENDPOINT, make_page, make_tweet, make_user
from tests.test_cli import assert_user_error, run

NOW = datetime(2026, 12, 2, 21, 0, tzinfo=UTC)
TAG = "#TherapistsConnect"
PEOPLE = {  # user id: (username, name, status); tweet ids are "9" + user id
    "201": ("ana_k", "Ana Lopez", WelcomeStatus.LISTED),
    "202": ("ben_b", "=Ben", WelcomeStatus.LISTED),
    "203": ("hidden_h", "Hidden", WelcomeStatus.LISTED),  # protected: never shown
    "204": ("cat_c", "Cat", WelcomeStatus.QUEUED),
    "205": ("dan_d", "Dan", WelcomeStatus.SENT),
    "206": ("eve_e", "Eve", WelcomeStatus.KNOWN),
}
ORDER = ("202", "201", "203", "204", "205", "206")  # oldest decision first


def welcome_post(session: Session, number: int, status: PostStatus, *, kind: PostKind,
                 sent_at: datetime | None = None) -> OutboxPost:  # fmt: skip
    """A welcome reply (or digest) in the outbox, as bot/welcomes.py queues them."""
    post = OutboxPost(
        chat_id=None, series=kind.value, chat_date=NOW.date(), kind=kind, number=number,
        text=f"Welcome {number}", planned_at=NOW, due_at=NOW, status=status, attempts=0,
        thread=False, reply_target=None, lateness_seconds=3600, sent_at=sent_at,
        created_at=NOW, updated_at=NOW,
    )  # fmt: skip
    session.add(post)
    session.flush()
    return post


def add_welcome(
    session: Session, user_id: str, status: WelcomeStatus, *, created_at: datetime,
    note: str | None = None, post: PostStatus | None = None,
) -> Welcome:  # fmt: skip
    username, name, _ = PEOPLE[user_id]
    row = Welcome(
        user_id=user_id, username=username, name=name, hashtag=TAG, tweet_id="9" + user_id,
        first_at=created_at, status=status, text=f"Welcome to {TAG}, {name}!", note=note,
        in_digest=False, created_at=created_at, updated_at=created_at,
    )  # fmt: skip
    session.add(row)
    session.flush()
    if post is not None:
        row.outbox_post_id = welcome_post(session, row.id, post, kind=PostKind.WELCOME).id
    return row


def scene(session: Session) -> None:
    users = [
        make_user(uid, username, name=name, protected=uid == "203")
        for uid, (username, name, _) in PEOPLE.items()
    ]
    tweets = [
        make_tweet("9" + uid, f"Hello {TAG}, I'm {name}\x1b[2J and new here", author_id=uid,
                   created_at=NOW - timedelta(hours=10 - int(uid) % 10))
        for uid, (_, name, _) in PEOPLE.items()
    ]  # fmt: skip
    ingest_page(session, make_page(tweets, users=users), endpoint=SEARCH_ENDPOINT,
                fetched_at=NOW)  # fmt: skip
    for place, uid in enumerate(ORDER):
        status = PEOPLE[uid][2]
        post = {WelcomeStatus.QUEUED: PostStatus.QUEUED, WelcomeStatus.SENT: PostStatus.SENT}
        add_welcome(session, uid, status, created_at=NOW - timedelta(hours=6 - place),
                    note="did not mention the bot" if uid == "201" else None,
                    post=post.get(status))  # fmt: skip
    session.commit()


@pytest.fixture
def folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, db_url: str, dispose_cli_databases: None
) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TCBOT_DATABASE_URL", db_url)
    monkeypatch.setenv("TCBOT_LOG_LEVEL", "WARNING")
    monkeypatch.setattr("bot.cli.app.SystemClock", lambda: FakeClock(NOW))
    yield tmp_path


@pytest.fixture
def listed(folder: Path, archive_session: Session) -> Session:
    scene(archive_session)
    return archive_session


def statuses(session: Session) -> dict[str, WelcomeStatus]:
    session.expire_all()
    return {row.username or "": row.status for row in session.scalars(select(Welcome))}


# -- tcbot welcomes list --------------------------------------------------------------------


def test_cli_welcomes_list_shows_the_waiting_people_oldest_first(
    capsys: pytest.CaptureFixture[str], listed: Session
) -> None:
    code, out, err = run(capsys, "welcomes", "list")
    assert code == 0, err
    assert out.index("1. @ben_b (=Ben)") < out.index("2. @ana_k (Ana Lopez)")
    assert "on #TherapistsConnect, 2026-12-02 12:00 GMT" in out  # ana's post, local time
    assert "Reply at:  https://x.com/ana_k/status/9201" in out
    assert f"Suggested: Welcome to {TAG}, Ana Lopez!" in out
    assert "Why:       did not mention the bot" in out
    assert "welcomed by organisers (the welcome file)" in out  # ben: no note, the default
    assert (
        "I'm Ana Lopez [2J and new here" in out and "\x1b" not in out
    )  # escapes never reach a terminal
    assert "hidden_h" not in out and "cat_c" not in out and "eve_e" not in out
    assert "2 people to welcome." in out
    assert "The bot's welcome replies: 1 queued, 0 held, 1 sent." in out
    assert "DRY_RUN" not in out


def test_cli_welcomes_list_all_shows_every_decided_status_but_known(
    capsys: pytest.CaptureFixture[str], listed: Session
) -> None:
    out = run(capsys, "welcomes", "list", "--all")[1]
    assert "@cat_c (Cat)" in out and "[queued]" in out
    assert "@dan_d (Dan)" in out and "[sent]" in out
    assert "eve_e" not in out and "hidden_h" not in out


def test_cli_welcomes_list_json_and_dry_run(
    capsys: pytest.CaptureFixture[str], listed: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TCBOT_WELCOME_DRY_RUN", "true")
    code, out, err = run(capsys, "welcomes", "list", "--format", "json")
    assert code == 0, err
    document = json.loads(out)
    assert [p["username"] for p in document["people"]] == ["ben_b", "ana_k"]
    ana = document["people"][1]
    assert ana["tweet_id"] == "9201" and ana["link"] == "https://x.com/ana_k/status/9201"
    assert ana["at"] == "2026-12-02T12:00:00Z" and ana["status"] == "listed"
    assert document["bot_replies"] == {"queued": 1, "held": 0, "sent": 1}
    assert document["dry_run"] is True
    table = run(capsys, "welcomes", "list")[1]
    assert "TCBOT_WELCOME_DRY_RUN is on" in table and "tcbot queue release #N" in table


def test_cli_welcomes_list_csv_keeps_ids_and_defuses_formulas(
    capsys: pytest.CaptureFixture[str], listed: Session
) -> None:
    code, out, err = run(capsys, "welcomes", "list", "--format", "csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [r["tweet_id"] for r in rows] == ['="9202"', '="9201"']
    assert rows[0]["name"] == "'=Ben"


def test_cli_welcomes_list_empty_says_what_happens_next(
    capsys: pytest.CaptureFixture[str], folder: Path, archive_session: Session
) -> None:
    code, out, _ = run(capsys, "welcomes", "list")
    assert code == 0
    assert out.startswith("Nobody is waiting to be welcomed.")
    assert "after the bot's next look at X" in out
    assert "The bot's welcome replies: 0 queued, 0 held, 0 sent." in out


# -- tcbot welcomes done / skip ---------------------------------------------------------------


def test_cli_welcomes_done_and_skip_take_people_off_the_list(
    capsys: pytest.CaptureFixture[str], listed: Session
) -> None:
    code, out, err = run(capsys, "welcomes", "done", "@ANA_K")
    assert (code, out) == (0, "@ana_k marked as welcomed; they leave the list.\n"), err
    code, out, err = run(capsys, "welcomes", "skip", "ben_b")
    assert code == 0, err
    assert statuses(listed)["ana_k"] is WelcomeStatus.DONE
    assert statuses(listed)["ben_b"] is WelcomeStatus.SKIPPED
    assert run(capsys, "welcomes", "list")[1].startswith("Nobody is waiting")


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("dan_d", "@dan_d is not on the organisers' list: already welcomed by the bot"),
        ("@cat_c", "@cat_c is not on the organisers' list: a welcome reply from the bot is queued"),
        ("eve_e", "@eve_e is not on the organisers' list: not new"),
        ("nobody", "@nobody is not on the organisers' list: tcbot has not seen them arrive"),
        ("two words", "'two words' is not an X username"),
    ],
)
def test_cli_welcomes_done_refuses_people_not_on_the_list(
    capsys: pytest.CaptureFixture[str], listed: Session, user: str, expected: str
) -> None:
    before = statuses(listed)
    code, out, err = run(capsys, "welcomes", "done", user)
    assert_user_error(code, out, err, expected)
    assert statuses(listed) == before


def test_cli_welcomes_done_twice_says_it_was_done(
    capsys: pytest.CaptureFixture[str], listed: Session
) -> None:
    run(capsys, "welcomes", "done", "ana_k")
    code, out, err = run(capsys, "welcomes", "skip", "ana_k")
    assert_user_error(code, out, err, "@ana_k is not on the organisers' list: already marked as"
                      " welcomed", "tcbot welcomes list")  # fmt: skip


# -- tcbot welcomes check -------------------------------------------------------------------


def test_cli_welcomes_check_sums_up_the_shipped_file(
    capsys: pytest.CaptureFixture[str], folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = Path(__file__).resolve().parent.parent / "schedules" / "welcome.toml"
    monkeypatch.setenv("TCBOT_WELCOME_FILE", str(shipped))
    code, out, err = run(capsys, "welcomes", "check")
    assert code == 0, err
    assert "#TraineeTalk: modes reply; 4 texts" in out
    assert "#TherapistsConnect: modes digest, organisers; 4 texts, 3 digest texts" in out
    assert "Weekly digest drafted on Fridays at 12:00 (Europe/London)" in out
    assert "Never welcomed (hosts): @traineetalk" in out
    assert (
        "Sample #TraineeTalk welcome for Ana Lopez: Welcome to #TraineeTalk, Ana! Our next chat"
        " is Wednesday 2 December, 8pm GMT. Do join us." in out
    )


def test_cli_welcomes_check_without_a_file_uses_the_built_in_settings(
    capsys: pytest.CaptureFixture[str], folder: Path
) -> None:
    code, out, err = run(capsys, "welcomes", "check")
    assert code == 0, err
    assert "schedules/welcome.toml does not exist: tcbot uses its built-in welcome settings" in out
    assert "#TraineeTalk: modes reply; 4 texts" in out


def test_cli_welcomes_check_lists_problems_and_fails(
    capsys: pytest.CaptureFixture[str], folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = folder / "welcome.toml"
    bad.write_text('[[hashtags]]\nhashtag = "#TraineeTalk"\nmodes = ["reply", "replies"]\n'
                   'texts = ["Hi {frist_name}!", "Hello {first_name}!"]\n')  # fmt: skip
    monkeypatch.setenv("TCBOT_WELCOME_FILE", str(bad))
    code, out, err = run(capsys, "welcomes", "check")
    assert_user_error(code, out, err, "2 problems in the welcome file (listed above)",
                      "tcbot welcomes check")  # fmt: skip
    assert f"{bad}:3:" in out and "'replies', which is not a mode" in out
    assert f"{bad}:4:" in out and "did you mean {first_name}?" in out


# -- tcbot optout -----------------------------------------------------------------------------


def test_cli_optout_add_cancels_a_queued_welcome_and_delists(
    capsys: pytest.CaptureFixture[str], listed: Session
) -> None:
    code, out, err = run(capsys, "optout", "add", "@Cat_C")
    assert code == 0, err
    assert out == (
        "@cat_c opted out; 1 queued welcome cancelled. The bot will not welcome or reply to them"
        " from now on.\n"
    )
    code, out, err = run(capsys, "optout", "add", "ana_k")
    assert out.startswith("@ana_k opted out; taken off the organisers' list."), err
    code, out, err = run(capsys, "optout", "add", "someone_new")
    assert out.startswith("@someone_new opted out. The bot will not"), err
    listed.expire_all()
    posts = listed.scalars(select(OutboxPost.status).where(OutboxPost.kind == PostKind.WELCOME))
    assert sorted(s.value for s in posts) == ["cancelled", "sent"]
    assert statuses(listed)["ana_k"] is WelcomeStatus.OPTED_OUT
    assert is_opted_out(listed, user_id="204", username=None)
    assert_user_error(*run(capsys, "optout", "add", "CAT_C"), "@cat_c has already opted out")


def test_cli_optout_list_table_and_json(
    capsys: pytest.CaptureFixture[str], listed: Session
) -> None:
    code, out, _ = run(capsys, "optout", "list")
    assert (code, out.split(".")[0]) == (0, "Nobody has opted out")
    run(capsys, "optout", "add", "ana_k")
    code, out, _ = run(capsys, "optout", "list")
    assert out.splitlines() == [
        "@ana_k            since 2026-12-02 21:00 GMT  added by an organiser",
        "1 opt-out in force; opt-outs are kept for ever.",
    ]
    document = json.loads(run(capsys, "optout", "list", "--format", "json")[1])
    assert document == [{"username": "ana_k", "user_id": "201", "source": "organiser",
                         "since": "2026-12-02T21:00:00Z", "tweet_id": None,
                         "acknowledged": False}]  # fmt: skip


@pytest.mark.parametrize(("answer", "in_force"), [("n\n", True), ("y\n", False)])
def test_cli_optout_remove_asks_first_and_keeps_the_record(
    capsys: pytest.CaptureFixture[str],
    listed: Session,
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
    in_force: bool,
) -> None:
    run(capsys, "optout", "add", "ana_k")
    monkeypatch.setattr("sys.stdin", io.StringIO(answer))
    code, out, err = run(capsys, "optout", "remove", "@ana_k")
    assert code == 0, err
    assert (
        "Only do this if @ana_k asked to hear from the bot again. End their opt-out? [y/N]" in out
    )
    listed.expire_all()
    assert is_opted_out(listed, user_id="201", username="ana_k") is in_force
    assert len(listed.scalars(select(OptOut)).all()) == 1  # kept either way


def test_cli_optout_remove_with_yes_and_someone_not_opted_out(
    capsys: pytest.CaptureFixture[str], listed: Session
) -> None:
    assert_user_error(*run(capsys, "optout", "remove", "ana_k", "--yes"),
                      "@ana_k has not opted out", "tcbot optout list")  # fmt: skip
    run(capsys, "optout", "add", "ana_k")
    code, out, _ = run(capsys, "optout", "remove", "ana_k", "--yes")
    assert (code, out) == (0, "@ana_k's opt-out is ended (the record of it is kept).\n")
    assert_user_error(*run(capsys, "optout", "remove", "ana_k", "--yes"), "has not opted out")
