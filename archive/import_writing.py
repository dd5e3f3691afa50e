"""How an import's batches of pages reach the database.

Two ways, with the same results (tests run both):

- inline: each batch is folded and written in its own transaction on one
  connection (PostgreSQL, an in-memory SQLite database, or when asked);
- parallel (a SQLite file): the importing process folds each batch and hands the
  rows to a `SqliteWriter` process, then goes on decoding while SQLite writes.

Either way a batch is one transaction, and what earlier batches wrote is kept in a
`KnownRecords`, so a person who appears on every page is read from the database
at most once per import.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from archive.db import EXCLUSIVE_OPTION
from archive.ingest_bulk import Encoder, PageCopy, fold_pages, ingest_pages, rows_to_write
from archive.page_batch import BatchResult, KnownRecords
from archive.sqlite_writer import SqliteWriter

log = logging.getLogger(__name__)

IMPORT_CACHE = "-262144"  # SQLite page cache while importing: 256 MiB


class BatchLoader(Protocol):
    def load(self, pages: list[PageCopy]) -> BatchResult: ...


@contextmanager
def batch_loader(
    session_factory: sessionmaker[Session], *, parallel: bool = True
) -> Iterator[BatchLoader]:
    """A loader for one import; on leaving without an error, everything is committed."""
    engine: Engine = session_factory.kw["bind"]
    path = sqlite_file(engine)
    with _bulk_connection(engine) as connection:
        if parallel and path is not None:
            with SqliteWriter(str(path)) as writer:
                loader = _ParallelLoader(session_factory, connection, writer)
                yield loader
                loader.forget()  # freeing the records takes a while: the writer is busy anyway
                writer.finish()
        else:
            yield _InlineLoader(session_factory, connection)


def sqlite_file(engine: Engine) -> Path | None:
    """The file of a SQLite database, None for PostgreSQL or an in-memory one."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    if url.query.get("uri") in ("true", "1"):
        return None
    return Path(url.database)


class _InlineLoader:
    def __init__(self, session_factory: sessionmaker[Session], connection: Connection) -> None:
        self._sessions = session_factory
        # On SQLite, each batch takes the write lock at BEGIN, so what it reads to fold
        # on is what it writes over (EXCLUSIVE_OPTION only changes SQLite's BEGIN).
        self._connection = connection.execution_options(**{EXCLUSIVE_OPTION: True})
        self._known = KnownRecords()

    def load(self, pages: list[PageCopy]) -> BatchResult:
        if self._known.full:
            self._known.forget()
        with self._sessions(bind=self._connection) as session, session.begin():
            return ingest_pages(session, pages, known=self._known)


class _ParallelLoader:
    def __init__(
        self, session_factory: sessionmaker[Session], connection: Connection, writer: SqliteWriter
    ) -> None:
        self._sessions = session_factory
        self._connection = connection
        self._writer = writer
        self._known = KnownRecords()
        self._encode = Encoder.for_dialect("sqlite")

    def forget(self) -> None:
        """Drop what was kept for later batches: there are none."""
        self._known.forget()

    def load(self, pages: list[PageCopy]) -> BatchResult:
        if self._known.full:
            self._writer.finish()  # nothing in flight may be read back stale
            self._known.forget()
        with self._sessions(bind=self._connection) as session:
            batch = fold_pages(session, pages, known=self._known)
        self._writer.submit(rows_to_write(batch, self._encode, shortcuts=True))
        self._known.remember(batch)
        return batch.result()


@contextmanager
def _bulk_connection(engine: Engine) -> Iterator[Connection]:
    """One connection for the whole import; on SQLite, tuned for bulk work meanwhile.

    synchronous=NORMAL is safe with WAL (a power cut can lose the last batches,
    never corrupt the file; running the import again restores them). A bigger page
    cache keeps the indexes in memory. Both are put back afterwards.
    """
    with engine.connect() as connection:
        if connection.dialect.name != "sqlite":
            yield connection
            return
        driver = connection.connection.driver_connection
        assert driver is not None
        saved = {
            name: driver.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("synchronous", "cache_size")
        }
        driver.execute("PRAGMA synchronous=NORMAL")
        driver.execute(f"PRAGMA cache_size={IMPORT_CACHE}")
        try:
            yield connection
        finally:
            for name, value in saved.items():
                driver.execute(f"PRAGMA {name}={int(value)}")
