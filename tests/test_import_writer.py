"""archive.sqlite_writer's checkpoints beside the writing: what the writer commits reaches
the database file, however little or much was committed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from archive.sqlite_writer import PRAGMAS, Checkpointer


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
