"""A helper process that writes batches of rows to one SQLite file, for imports.

An import is two kinds of work of about the same size: decoding and folding JSON,
which is Python, and inserting rows and growing indexes, which is SQLite's C code.
In one process they take turns. A thread does not help: the decoder holds the GIL,
and sqlite3 gives it up and takes it back for every row. So an import hands its
rows to this process and goes on decoding the next batch while SQLite writes the
last one: two cores, each busy.

Rows travel as `marshal` data (plain tuples of text, numbers and bytes: twice as
fast as pickle, and nothing but those types can be in them). Each batch is one
transaction here (BEGIN IMMEDIATE ... COMMIT), written in the
order submitted. At most `depth` batches are in flight, so memory stays bounded
and a failure is noticed within a batch or two; it is raised as a DatabaseError
in the importing process, and what was committed before it stays (imports are
idempotent, so running it again is the remedy). The process imports the
standard library and this package's errors, nothing else.
"""

from __future__ import annotations

import logging
import marshal
import os
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Self

from archive.errors import DatabaseError

log = logging.getLogger(__name__)

Statement = tuple[str, list[tuple[Any, ...]]]
DEPTH = 2
BUSY_TIMEOUT = 60.0  # seconds to wait for another writer (a running tcbot) to commit
# Foreign keys are not enforced here, unlike on archive.db's connections: the rows
# come from archive.ingest_bulk.rows_to_write, which writes every author before the
# tweets and only facts of the batch's tweets, and tests run PRAGMA foreign_key_check
# after imports this way. Checking them row by row was a third of the writing time.
PRAGMAS = (
    "PRAGMA synchronous=NORMAL",  # safe with WAL: a power cut loses the last commits at worst
    "PRAGMA cache_size=-262144",  # 256 MiB of pages: the indexes stay in memory
)


class SqliteWriter:
    """The writing process for one SQLite file; use as a context manager.

    Started as `python -m archive.sqlite_writer FD PATH` rather than through
    multiprocessing's spawn, which would re-run the importing program's main
    module in the child (a script without an `if __name__ == "__main__"` guard
    would import twice).
    """

    def __init__(self, path: str, *, depth: int = DEPTH) -> None:
        ours, theirs = socket.socketpair()
        package_root = str(Path(__file__).resolve().parent.parent)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([package_root, *sys.path])}
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", __name__, str(theirs.fileno()), path],
                pass_fds=[theirs.fileno()],
                env=env,
                stdin=subprocess.DEVNULL,
            )
        finally:
            theirs.close()
        self._pipe = Connection(ours.detach())
        self._depth = depth
        self._waiting = 0

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def submit(self, statements: Sequence[Statement]) -> None:
        """Queue one transaction; blocks while `depth` earlier ones are unfinished."""
        while self._waiting >= self._depth:
            self._acknowledged()
        try:
            self._pipe.send_bytes(marshal.dumps(list(statements)))
        except OSError:
            self._waiting = 1
            self._acknowledged()  # says why the process is gone
        self._waiting += 1

    def finish(self) -> None:
        """Wait until everything submitted is committed; DatabaseError if any batch failed."""
        while self._waiting:
            self._acknowledged()

    def close(self) -> None:
        """Stop the process (after the batches in flight, unless one failed)."""
        try:
            self._pipe.send_bytes(marshal.dumps(None))
        except OSError:
            pass
        try:
            self._process.wait(timeout=BUSY_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._pipe.close()

    def _acknowledged(self) -> None:
        try:
            problem = self._pipe.recv()
        except (EOFError, OSError):
            problem = f"the writing process stopped (exit code {self._process.poll()})"
        self._waiting -= 1
        if problem is not None:
            self._waiting = 0
            raise DatabaseError(
                f"writing the import to the database failed ({problem})",
                "what was written before is kept; fix the cause and run the import again",
            )


def serve(pipe: Connection, path: str) -> None:
    """The process's body: write each batch received, answer None or what went wrong.

    Ctrl-C is left to the importing process, which stops sending and closes the
    pipe: the batches already sent are finished, so what is committed is whole.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    database = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT)
    for pragma in PRAGMAS:
        database.execute(pragma)
    failed: str | None = None
    try:
        while (statements := marshal.loads(pipe.recv_bytes())) is not None:
            if failed is None:
                failed = _write(database, statements)
                pipe.send(failed)
            else:  # later batches wait for the failed one: nothing out of order is written
                pipe.send(f"not written after an earlier failure: {failed}")
    except EOFError:
        pass  # the importing process went away
    finally:
        database.close()


def _write(database: sqlite3.Connection, statements: list[Statement]) -> str | None:
    try:
        database.execute("BEGIN IMMEDIATE")
        for sql, rows in statements:
            database.executemany(sql, rows)
        database.execute("COMMIT")
    except sqlite3.Error as exc:
        if database.in_transaction:
            database.execute("ROLLBACK")
        return f"{type(exc).__name__}: {exc}"
    return None


if __name__ == "__main__":
    serve(Connection(int(sys.argv[1])), sys.argv[2])
