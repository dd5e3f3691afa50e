"""archive.sqlite_writer: checkpoints beside the writing (what the writer commits reaches
the database file, however little or much was committed), and statements with a
shortcut (people an import wrote before, byte for byte again) leave what the upsert
leaves, another writer or not."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from archive.db import make_engine, make_session_factory, upgrade
from archive.ingest_bulk import Encoder, PageCopy, fold_pages, rows_to_write
from archive.page_batch import KnownRecords
from archive.sqlite_writer import PRAGMAS, Checkpointer, Statement, _write
from tests.fakes import SEARCH_ENDPOINT as SEARCH
from tests.fakes import make_page, make_tweet, make_user


def test_checkpointer_copies_every_commit_into_the_database_file(tmp_path: Path) -> None:
    path = tmp_path / "wal.db"
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    for pragma in PRAGMAS:
        writer.execute(pragma)
    writer.execute("CREATE TABLE t (x TEXT)")
    empty = path.stat().st_size
    with Checkpointer(str(path)) as checkpointer:
        for batch in range(5):
            writer.execute("BEGIN IMMEDIATE")
            writer.executemany("INSERT INTO t VALUES (?)", [("x" * 1000,)] * 200)
            writer.execute("COMMIT")
            checkpointer.wake()
        assert writer.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
    # everything committed is in the file itself: a reader of the file alone sees it
    assert path.stat().st_size > empty + 5 * 200 * 1000
    busy, frames, done = writer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert (busy, frames) == (0, done)
    writer.close()


def test_checkpointer_settle_waits_for_the_copy_so_the_wal_starts_over(tmp_path: Path) -> None:
    path = tmp_path / "wal.db"
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    for pragma in PRAGMAS:
        writer.execute(pragma)
    writer.execute("CREATE TABLE t (x TEXT)")
    empty = path.stat().st_size
    frames = []
    with Checkpointer(str(path), wal_frames=0) as checkpointer:  # settle every time
        for batch in range(1, 6):
            checkpointer.settle()
            writer.execute("BEGIN IMMEDIATE")
            writer.executemany("INSERT INTO t VALUES (?)", [("x" * 1000,)] * 200)
            writer.execute("COMMIT")
            checkpointer.wake()
            checkpointer.settle()
            # the checkpoint is done: the file itself holds every batch so far
            assert path.stat().st_size > empty + batch * 200 * 1000
            frames.append(checkpointer.frames)
    # each batch began a fresh WAL: it never held more than one batch's pages
    assert max(frames) < 2 * frames[0]
    writer.close()


# -- the shortcut for people written again ------------------------------------------------

T1 = datetime(2026, 9, 2, 19, 0, tzinfo=UTC)
ADA = make_user("11", "ada", name="Ada")
# what compliance does behind an import's back: another writer changes the stored row
COMPLIANCE = "UPDATE users SET protected = 1, updated_at = '2026-09-03 08:00:00.000000'"


Archived = tuple[list[tuple[Any, ...]], ...]


def import_in_batches(
    path: Path, pages: list[dict[str, Any]], *, shortcuts: bool, meanwhile: str = ""
) -> list[tuple[list[Statement], Archived]]:
    """Each page its own batch through the writer's `_write`, folded as an import folds
    them; `meanwhile` runs after the first batch. The statements and tables after each."""
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    known = KnownRecords()
    done: list[tuple[list[Statement], Archived]] = []
    database = sqlite3.connect(path, isolation_level=None)
    try:
        for n, page in enumerate(pages):
            copy = PageCopy.of(page, endpoint=SEARCH, fetched_at=T1 + timedelta(minutes=n))
            with make_session_factory(engine)() as session:
                batch = fold_pages(session, [copy], known=known)
            statements = rows_to_write(batch, Encoder.for_dialect("sqlite"), shortcuts=shortcuts)
            assert _write(database, statements) is None
            known.remember(batch)
            if n == 0 and meanwhile:
                database.execute(meanwhile)
            done.append((statements, archived(path)))
    finally:
        database.close()
        engine.dispose()
    return done


def archived(path: Path) -> Archived:
    with sqlite3.connect(path) as db:
        return tuple(
            db.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
            for table in ("users", "tweets", "tweets_fts_pending")
        )


def shortcut_rows(statements: list[Statement]) -> list[str]:
    return [row[0] for table, _, _, rows, shortcut in statements if shortcut for row in rows]


@pytest.mark.parametrize("meanwhile", ["", COMPLIANCE], ids=["alone", "another-writer"])
def test_shortcut_leaves_what_the_upsert_leaves(tmp_path: Path, meanwhile: str) -> None:
    tweet = make_tweet("101", "first #TraineeTalk", author_id="11")
    renamed = make_user("11", "ada", name="Ada L.")
    pages = [
        make_page([tweet], users=[ADA]),
        make_page([], users=[ADA]),  # the same profile again: only fetched_at moves
        make_page([], users=[renamed]),  # another profile: the full upsert
        make_page([], users=[renamed]),
    ]
    upserts = import_in_batches(tmp_path / "a.db", pages, shortcuts=False, meanwhile=meanwhile)
    taken = import_in_batches(tmp_path / "b.db", pages, shortcuts=True, meanwhile=meanwhile)
    assert [shortcut_rows(s) for s, _ in upserts] == [[], [], [], []]
    assert [shortcut_rows(s) for s, _ in taken] == [[], ["11"], [], ["11"]]
    assert [tables for _, tables in taken] == [tables for _, tables in upserts]
    users, _, noted = taken[1][1]
    assert [(u[2], u[7]) for u in users] == [("Ada", "2026-09-02 19:01:00.000000")]
    if meanwhile:  # the upsert made the profile public again: Ada's posts are noted again
        assert users[0][3] == 0 and noted == [(101,)]
    users, _, _ = taken[-1][1]
    assert [(u[2], u[7]) for u in users] == [("Ada L.", "2026-09-02 19:03:00.000000")]


def test_shortcut_changes_nothing_but_fetched_at(tmp_path: Path) -> None:
    pages = [make_page([make_tweet("101", "hi", author_id="11")], users=[ADA])] * 2
    (_, (before, _, _)), (_, (after, _, _)) = import_in_batches(
        tmp_path / "a.db", pages, shortcuts=True
    )
    changed = [i for i, (old, new) in enumerate(zip(before[0], after[0])) if old != new]
    assert changed == [7]  # fetched_at
