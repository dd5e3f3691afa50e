"""Imports and SQLite's search index: the import suspends the note triggers inside its own
transactions (archive/search_notes.py), notes what they would have noted, puts them back as
they were (after a failure too), and the index stays right beside another writer."""

from __future__ import annotations

import copy
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

import archive.search_notes
from archive.db import EXCLUSIVE_OPTION, alembic_config, make_engine, make_session_factory, upgrade
from archive.errors import DatabaseError
from archive.importer import import_pages
from archive.ingest import ingest_page
from archive.ingest_bulk import PageCopy, ingest_pages
from archive.models import Tweet
from archive.search_index import INDEXED_META, INDEXED_TEXT, refresh_index
from archive.search_notes import KNOWN_TRIGGERS, fingerprint, note_triggers
from tests.fakes import make_page, make_tweet, make_user
from tests.test_importer import chat_pages, twarc_file, twarc_line, write

T0 = datetime(2026, 9, 2, 19, 0, tzinfo=UTC)
ALICE = make_user("11", "alice", name="Alice")
BOB = make_user("12", "bob", name="Bob")
# A trigger that changes nothing but the fingerprint: the import then leaves the note
# triggers alone and they fire row by row, which is what the set-based notes must match.
BYSTANDER = "CREATE TRIGGER test_bystander AFTER INSERT ON tweet_mentions BEGIN SELECT 1; END"
# An index that fails to take tweet 2035 (json() of text that is not JSON), whatever
# the triggers: an import that fails half-way, on either way of writing.
REFUSE_2035 = (
    "CREATE INDEX test_refuse ON tweets "
    "(CASE WHEN id = '2035' THEN json('refused for the test') ELSE 0 END)"
)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """A SQLite file at the newest schema (the search notes are SQLite's alone)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'tcbot.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture(params=[False, True], ids=["inline", "writer"])
def parallel(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def schema(sessions: sessionmaker[Session]) -> list[tuple[Any, ...]]:
    with sessions() as session:
        rows = session.execute(text("SELECT type, name, tbl_name, sql FROM sqlite_master"))
        return sorted(tuple(row) for row in rows)


def run_sql(sessions: sessionmaker[Session], statement: str) -> None:
    with sessions.begin() as session:
        session.connection().exec_driver_sql(statement)


def pending(session: Session) -> set[int]:
    return set(session.scalars(text("SELECT rowid FROM tweets_fts_pending")))


def index_is_current(session: Session) -> None:
    """After refresh_index, the index holds exactly each tweet's document."""
    refresh_index(session)
    indexed = session.execute(text("SELECT rowid, text, meta FROM tweets_fts ORDER BY rowid"))
    expected = session.execute(
        text(
            f"SELECT CAST(t.id AS INTEGER), {INDEXED_TEXT}, {INDEXED_META} "
            "FROM tweets AS t ORDER BY 1"
        )
    )
    assert [tuple(row) for row in indexed] == [tuple(row) for row in expected]


def test_search_notes_know_the_triggers_the_migrations_make(tmp_path: Path) -> None:
    database = tmp_path / "fresh.db"
    engine = make_engine(f"sqlite:///{database}")
    try:
        upgrade(engine)
        with sqlite3.connect(database) as db:
            found = fingerprint(note_triggers(db))
        with engine.begin() as connection:  # back to the triggers 0003_search made
            command.downgrade(alembic_config(connection), "0004_tracker")
        with sqlite3.connect(database) as db:
            first = fingerprint(note_triggers(db))
    finally:
        engine.dispose()
    assert found in KNOWN_TRIGGERS and first in KNOWN_TRIGGERS, (
        f"the search index's triggers changed (fingerprints {found}, {first}): check that "
        "archive/search_notes.py still notes what they note, then add the fingerprint to "
        "KNOWN_TRIGGERS"
    )


def hashtag_added(tweet: dict[str, Any], tag: str) -> dict[str, Any]:
    """The same text with one more hashtag entity (as a note_tweet's entities can add)."""
    changed = copy.deepcopy(tweet)
    tags = changed.setdefault("entities", {}).setdefault("hashtags", [])
    tags.append({"start": 0, "end": len(tag) + 1, "tag": tag})
    return changed


def steps() -> list[tuple[dict[str, Any], datetime]]:
    """Pages exercising every note: insert, text and author changes, newer copies that change
    nothing the index holds, older copies, a new hashtag, accounts turning protected."""
    one = make_tweet("101", "first #TraineeTalk", author_id="11")
    two = make_tweet("102", "second @bob", author_id="12", mention_ids={"bob": "12"})
    three = make_tweet("103", "third", author_id="11")
    stub = make_tweet("104", "by someone without a profile", author_id="77")
    return [
        (make_page([one, two, three, stub], users=[ALICE, BOB]), T0),
        # 101's text changes; 102 is only liked more; 103 moves to another author
        (make_page([make_tweet("101", "first, edited", author_id="11"),
                    make_tweet("102", "second @bob", author_id="12", like_count=5,
                               mention_ids={"bob": "12"}),
                    make_tweet("103", "third", author_id="12")],
                   users=[ALICE, BOB]), T0 + timedelta(hours=1)),
        # an older copy with other text: ignored; a hashtag 102 did not have
        (make_page([make_tweet("101", "stale words", author_id="11"),
                    hashtag_added(two, "NewTag")], users=[ALICE]), T0 + timedelta(minutes=30)),
        # Bob turns protected; the stub's author gets a profile, protected too
        (make_page([make_tweet("105", "fifth", author_id="11")],
                   users=[make_user("12", "bob", protected=True),
                          make_user("77", "seventy", protected=True), ALICE]),
         T0 + timedelta(hours=2)),
        # an older copy of Alice, protected: ignored; Bob public again, a newer copy
        (make_page([], users=[make_user("11", "alice", protected=True)]), T0),
        (make_page([], users=[BOB]), T0 + timedelta(hours=3)),
        # the same page again: nothing to note
        (make_page([], users=[BOB]), T0 + timedelta(hours=3)),
    ]  # fmt: skip


def test_import_notes_what_the_triggers_would_have_noted(tmp_path: Path) -> None:
    """The same pages into two archives: one with the triggers suspended and the notes
    taken set-based, one with a bystander trigger, so its note triggers fire row by row."""
    engines = [make_engine(f"sqlite:///{tmp_path / name}") for name in ("fast.db", "slow.db")]
    for engine in engines:
        upgrade(engine)
    with engines[1].begin() as connection:
        connection.exec_driver_sql(BYSTANDER)
    noted: list[tuple[set[int], set[int]]] = []
    try:
        fast, slow = (make_session_factory(engine)() for engine in engines)
        for page, moment in steps():
            for session in (fast, slow):
                ingest_pages(session, [PageCopy.of(page, endpoint="test", fetched_at=moment)])
                session.commit()
            noted.append((pending(fast), pending(slow)))
            for session in (fast, slow):
                refresh_index(session)
                session.commit()
        index_is_current(fast)
        fast.close()
        slow.close()
    finally:
        for engine in engines:
            engine.dispose()
    assert [f for f, _ in noted] == [s for _, s in noted]
    assert [s for _, s in noted] == [
        {101, 102, 103, 104},  # new
        {101, 103},  # new text, new author (102 only has more likes)
        {102},  # the new hashtag (101's copy is older)
        {102, 103, 104, 105},  # Bob's tweets, the stub author's tweet, and 105 itself
        set(),  # an older copy of Alice
        {102, 103},  # Bob is public again
        set(),
    ]


def test_ingest_pages_takes_the_notes_set_based(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    taken: list[set[str]] = []
    original = archive.search_notes._TakenNotes.note

    def note(self: archive.search_notes._TakenNotes) -> None:
        taken.append(set(self.tweet_ids))
        original(self)

    monkeypatch.setattr(archive.search_notes._TakenNotes, "note", note)
    page, moment = steps()[0]
    with sessions.begin() as session:
        ingest_pages(session, [PageCopy.of(page, endpoint="test", fetched_at=moment)])
    assert taken == [{"101", "102", "103", "104"}]


def test_import_leaves_the_triggers_as_they_were(
    sessions: sessionmaker[Session], tmp_path: Path, parallel: bool
) -> None:
    before = schema(sessions)
    import_pages(sessions, [twarc_file(tmp_path / "chat.jsonl", count=4)], batch_pages=1,
                 parallel=parallel)  # fmt: skip
    assert schema(sessions) == before
    with sessions() as session:
        assert len(pending(session)) == 4 * 7
        index_is_current(session)


def test_import_failing_half_way_leaves_the_triggers_and_notes_what_it_kept(
    sessions: sessionmaker[Session], tmp_path: Path, parallel: bool
) -> None:
    run_sql(sessions, REFUSE_2035)
    before = schema(sessions)
    path = twarc_file(tmp_path / "chat.jsonl", count=6)
    with pytest.raises(Exception, match="malformed JSON") as caught:
        import_pages(sessions, [path], batch_pages=1, parallel=parallel)
    if parallel:
        assert caught.type is DatabaseError
    assert schema(sessions) == before
    with sessions() as session:
        kept = set(session.scalars(select(Tweet.id)))
        assert {"2000", "2010", "2020"} <= kept and "2030" not in kept
        assert pending(session) == {int(tweet_id) for tweet_id in kept}
        index_is_current(session)


def beside(
    sessions: sessionmaker[Session], write: Callable[[Session], None]
) -> Callable[[int], None]:
    """A progress callback that, at the fourth line, writes as the daemon would meanwhile."""
    calls: list[int] = []

    def progress(_: int) -> None:
        calls.append(1)
        if len(calls) == 4:
            with sessions() as session, session.begin():
                session.connection(execution_options={EXCLUSIVE_OPTION: True})
                write(session)

    return progress


def test_search_index_is_right_after_an_import_beside_ingest(
    sessions: sessionmaker[Session], tmp_path: Path, parallel: bool
) -> None:
    pages = chat_pages(8)
    path = write(tmp_path / "chat.jsonl", [twarc_line(p, n) for n, p in enumerate(pages)])
    late = datetime(2026, 8, 21, tzinfo=UTC)  # after every page of the file

    def daemon(session: Session) -> None:
        edited = make_tweet("2001", "edited by its author #Edited", author_id="1101")
        newer_copy_of_later_page = make_tweet("2061", "changed before the import got here",
                                              author_id="1101")  # fmt: skip
        page = make_page([edited, newer_copy_of_later_page, make_tweet("9001", "new", author_id="1102")],
                         users=[make_user("1102", "person2", protected=True)])  # fmt: skip
        ingest_page(session, page, endpoint="GET /2/tweets/search/recent", fetched_at=late)

    report = import_pages(sessions, [path], batch_pages=1, parallel=parallel,
                          progress=beside(sessions, daemon))  # fmt: skip
    assert report.pages == 8
    with sessions() as session:
        assert session.scalar(select(Tweet.text).where(Tweet.id == "2061")) == (
            "changed before the import got here"
        )
        index_is_current(session)
