"""A helper process that writes batches of rows to one SQLite file, for imports.

An import is two kinds of work of about the same size: decoding and folding JSON,
which is Python, and inserting rows and growing indexes, which is SQLite's C code.
In one process they take turns. A thread does not help: the decoder holds the GIL,
and sqlite3 gives it up and takes it back for every row. So an import hands its
rows to this process and goes on decoding the next batch while SQLite writes the
last one: two cores, each busy.

Rows travel as MessagePack (msgspec; plain tuples of text, numbers, booleans and
bytes, and nothing else can be in them): half the time of `marshal` to write and
to read, which looks up every shared object in a table as it writes. A thread
receives and decodes the next batch while one is written (`Receiver`). Each batch is
one transaction here (BEGIN IMMEDIATE ... COMMIT), written in the order submitted,
with the search index's note triggers suspended inside it (archive/search_notes.py);
a statement with a shortcut tries that first (archive/ingest_bulk.py's
`user_shortcut`); a thread checkpoints the WAL beside the writing (`Checkpointer`).
At most `depth` batches are in flight, so memory stays bounded and a failure is
noticed within a batch or two; it is raised as a DatabaseError in the importing
process, and what was committed before it stays (imports are idempotent, so running
it again is the remedy). The process imports the standard library, msgspec, this
package's errors and archive/search_notes.py (the search index's notes, taken
set-based), nothing else.
"""

from __future__ import annotations

import gc
import logging
import os
import queue
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Self

import msgspec

from archive.errors import DatabaseError
from archive.search_notes import noted_writes

log = logging.getLogger(__name__)

Statement = tuple[str, tuple[str, ...], str, list[tuple[Any, ...]], str]  # as ingest_bulk's
DEPTH = 2
WAL_FRAMES = 32_768  # 128 MiB of 4 KiB pages: a WAL this big starts over (`Checkpointer`)
_ENCODER = msgspec.msgpack.Encoder()
BUSY_TIMEOUT = 60.0  # seconds to wait for another writer (a running tcbot) to commit
# Foreign keys are not enforced here, unlike on archive.db's connections: the rows
# come from archive.ingest_bulk.rows_to_write, which writes every author before the
# tweets and only facts of the batch's tweets, and tests run PRAGMA foreign_key_check
# after imports this way. Checking them row by row was a third of the writing time.
PRAGMAS = (
    "PRAGMA synchronous=NORMAL",  # safe with WAL: a power cut loses the last commits at worst
    "PRAGMA cache_size=-262144",  # 256 MiB of pages: the indexes stay in memory
    "PRAGMA wal_autocheckpoint=0",  # the Checkpointer thread checkpoints instead
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
            self._pipe.send_bytes(_ENCODER.encode(list(statements)))
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
            self._pipe.send_bytes(_ENCODER.encode(None))
        except OSError:
            pass
        deadline = time.monotonic() + BUSY_TIMEOUT
        self._until_closed(deadline)
        try:
            self._process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._pipe.close()

    def _until_closed(self, deadline: float) -> None:
        """Wait for the process to close its end of the pipe, as it does in exiting;
        answers still on the way are dropped. (Popen.wait with a timeout polls, up to
        50 ms apart: an import's end waited for it.)"""
        try:
            while self._pipe.poll(max(0.0, deadline - time.monotonic())):
                self._pipe.recv_bytes()
        except (EOFError, OSError):
            pass

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
    gc.disable()  # the rows are acyclic tuples, freed by reference counting
    bind_plainly()
    database = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT)
    for pragma in PRAGMAS:
        database.execute(pragma)
    failed: str | None = None
    try:
        with Checkpointer(path) as checkpointer, Receiver(pipe) as received:
            for statements in received:
                if failed is None:
                    checkpointer.settle()
                    failed = _write(database, statements)
                    pipe.send(failed)
                    checkpointer.wake()
                else:  # later batches wait for the failed one: nothing out of order is written
                    pipe.send(f"not written after an earlier failure: {failed}")
    except OSError:
        pass  # the importing process went away
    finally:
        database.close()


class Receiver:
    """Reads and decodes the next batches while the current one is written.

    A batch is megabytes and a socket buffers a few hundred kilobytes, so without
    this the importing process waited in `send` until the batch before was written
    (a timeline of an import shows it), instead of decoding the next one. The
    importing process keeps at most `depth` batches unacknowledged, which bounds
    what waits here.
    """

    def __init__(self, pipe: Connection) -> None:
        self._pipe = pipe
        self._batches: queue.SimpleQueue[list[Statement] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="receiver", daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if exc_info[0] is None:  # all received; otherwise the thread ends with the process
            self._thread.join()

    def __iter__(self) -> Iterator[list[Statement]]:
        while (statements := self._batches.get()) is not None:
            yield statements

    def _run(self) -> None:
        decoder = msgspec.msgpack.Decoder(list[Statement] | None)  # rows as tuples
        try:
            while (statements := decoder.decode(self._pipe.recv_bytes())) is not None:
                self._batches.put(statements)
        except (EOFError, OSError):
            pass  # the importing process went away: stop after what was received
        finally:
            self._batches.put(None)


class Checkpointer:
    """Copies committed batches from the WAL into the database file beside the writing.

    SQLite's automatic checkpoint runs inside the commit that crosses its threshold,
    so the writer would wait for it: reading the WAL, writing the file and two
    fsyncs, about a third of an import's writing time. Here the writing connection
    leaves checkpoints to a thread with its own connection (PASSIVE: it never blocks
    a writer or a reader); the disk waits overlap the next batch. On leaving, what
    is still in the WAL is checkpointed, as the automatic checkpoint would have.

    SQLite starts the WAL over only when a write begins after a checkpoint that
    copied all of it. The next batch usually begins while the last one is being
    copied, so the WAL would grow by every batch, to the size of the whole import;
    `settle` lets a batch wait for the copy once the WAL holds `wal_frames` pages.
    """

    def __init__(self, path: str, *, wal_frames: int = WAL_FRAMES) -> None:
        self._path = path
        self._wanted = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._stopping = False
        self._wal_frames = wal_frames
        self.frames = 0  # pages in the WAL at the last checkpoint
        self._thread = threading.Thread(target=self._run, name="checkpointer", daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopping = True
        self._wanted.set()
        self._thread.join()

    def wake(self) -> None:
        """A batch was committed: checkpoint it when the last checkpoint is done."""
        self._idle.clear()
        self._wanted.set()

    def settle(self) -> None:
        """Before a batch: if the WAL has grown to `wal_frames` pages, wait until the
        checkpoint under way is done, so that the batch starts the WAL over."""
        if self.frames >= self._wal_frames:
            self._idle.wait()

    def _run(self) -> None:
        database = sqlite3.connect(self._path, isolation_level=None, timeout=BUSY_TIMEOUT)
        try:
            database.execute("PRAGMA synchronous=NORMAL")
            while True:
                self._wanted.wait()
                self._wanted.clear()
                stopping = self._stopping  # then this checkpoint covers every commit
                _, self.frames, _ = database.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                if not self._wanted.is_set():
                    self._idle.set()
                if stopping:
                    break
        except sqlite3.Error as exc:  # the next automatic checkpoint will do it
            log.warning("checkpoint beside the import failed: %s", exc)
        finally:
            self._idle.set()  # nobody waits for a thread that is gone
            self.frames = 0
            database.close()


def bind_plainly() -> None:
    """Bind None and bytes without sqlite3's adaptation protocol (this process only).

    Python 3.11's sqlite3 binds int, float, str and bytearray directly, but looks for
    an adapter for any other value, and finding none for None or bytes costs an
    AttributeError built and thrown away per value: a quarter of the time of writing a
    tweet's row. Registered adapters that hand the value back bind it the same way
    (NULL, BLOB), without the exception.
    """
    sqlite3.register_adapter(type(None), _none)
    sqlite3.register_adapter(bytes, _bytes)


def _none(value: None) -> None:
    return value


def _bytes(value: bytes) -> bytes:
    return value


def _write(database: sqlite3.Connection, statements: list[Statement]) -> str | None:
    try:
        database.execute("BEGIN IMMEDIATE")
        with noted_writes(database) as notes:
            for table, columns, sql, rows, shortcut in statements:
                if shortcut:
                    if database.executemany(shortcut, rows).rowcount == len(rows):
                        continue  # the shortcut did all the statement would have done
                    rows = [row[: len(columns)] for row in rows]
                notes.before(table, columns, rows)
                database.executemany(sql, rows)
        database.execute("COMMIT")
    except sqlite3.Error as exc:
        if database.in_transaction:
            database.execute("ROLLBACK")
        return f"{type(exc).__name__}: {exc}"
    return None


if __name__ == "__main__":
    serve(Connection(int(sys.argv[1])), sys.argv[2])
    # Everything is committed and closed: skip the interpreter's teardown, which the
    # importing process would wait for (30 ms of an import's end, measured).
    sys.stderr.flush()
    os._exit(0)
