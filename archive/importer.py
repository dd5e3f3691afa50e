"""Importing X API v2 pages from JSON Lines files: twarc2's files and tcbot's own.

One page per line, plain or gzip (told apart by the gzip magic bytes, whatever the
file is called). A page is an X API response body (`data`, `includes`, `meta`),
optionally with where it came from:

- twarc2 adds `"__twarc": {"url", "version", "retrieved_at"}`;
- tcbot's exports add `"__tcbot": {"endpoint", "params", "retrieved_at", "tool_version"}`
  (archive/exporter.py writes them).

`retrieved_at` becomes the tweets' `fetched_at` and the endpoint their
`fetched_from` (twarc's URL as "GET <path>", the way tcbot's own requests are
recorded). A page with neither is dated by its file's modification time, so
importing the same file again still changes nothing.

A line that is not a page (not JSON, not an object, no `data`, a tweet without an
id, the end of a truncated gzip file) is skipped and reported with its file and
line number; the rest loads. Pages are written in batches, each in its own
transaction, so a huge file never holds one giant transaction and an interrupted
import can simply be run again: loading is idempotent.

The pieces, fastest path first: archive/page_json.py decodes a line into rows,
archive/page_batch.py folds a batch of pages by ingest's rules, archive/
import_writing.py writes it (into a SQLite file through a second process,
archive/sqlite_writer.py, while the next batch is decoded), noting the written
tweets for the search index set-based (archive/search_notes.py); the first search
indexes them. benchmarks/import_speed.py measures it against twarc-csv and plain
sqlite3.
"""

from __future__ import annotations

import gc
import gzip
import logging
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, cast
from urllib.parse import urlsplit

import msgspec
from sqlalchemy.orm import Session, sessionmaker

from archive.errors import IngestError
from archive.import_writing import batch_loader
from archive.ingest_bulk import PageCopy
from archive.page_batch import BatchResult
from archive.page_json import DecodedPage, PageDecoder

log = logging.getLogger(__name__)

GZIP_MAGIC = b"\x1f\x8b"
CHUNK_BYTES = 1 << 23  # plain files are read 8 MiB at a time
# Pages a transaction: 200 rather than 100 writes each person, and the index pages
# shared by consecutive batches, half as often (a tenth less writing, measured).
BATCH_PAGES = 200
# The first batches are smaller (doubling up to BATCH_PAGES), so the writing process
# starts on the first pages soon instead of waiting for a whole batch to be decoded.
FIRST_BATCH_PAGES = 10
Progress = Callable[[int], None]  # called with the number of file bytes read since last time


class UnreadableFile(IngestError):
    """An import file that cannot be opened or read at all."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path = path
        super().__init__(f"cannot read {path} ({problem})", "check the path and try again")


@dataclass(frozen=True, slots=True)
class SkippedLine:
    """A line that was not loaded, and why."""

    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import read and what was new to the archive."""

    files: int
    lines: int
    pages: int
    tweets_new: int
    tweets_updated: int
    users_new: int
    skipped: tuple[SkippedLine, ...]
    tweets_forgotten: int = 0  # left out: their authors asked to be forgotten


@dataclass(slots=True)
class _Tally:
    """Running totals of one import (mutable, internal)."""

    lines: int = 0
    pages: int = 0
    users_new: int = 0
    tweets_forgotten: int = 0
    new_tweets: set[str] = field(default_factory=set)
    updated_tweets: set[str] = field(default_factory=set)
    skipped: list[SkippedLine] = field(default_factory=list)

    def add(self, result: BatchResult) -> None:
        self.new_tweets.update(result.new_tweet_ids)
        self.updated_tweets.update(result.updated_tweet_ids)
        self.users_new += len(result.new_user_ids)
        self.tweets_forgotten += result.skipped_tweets


def import_pages(
    session_factory: sessionmaker[Session],
    paths: Sequence[Path],
    *,
    progress: Progress | None = None,
    batch_pages: int = BATCH_PAGES,
    parallel: bool = True,
) -> ImportReport:
    """Load every page of every file; see the module docstring.

    Raises UnreadableFile, before loading anything, if a file cannot be opened.
    `parallel` lets a SQLite file be written by a helper process meanwhile
    (archive/import_writing.py); the results are the same without it.
    """
    check_readable(paths)
    tally = _Tally()
    decoder = PageDecoder()
    size = min(FIRST_BATCH_PAGES, batch_pages)
    with batch_loader(session_factory, parallel=parallel) as loader, _gc_paused():
        for path in paths:
            batch: list[PageCopy] = []
            for copy in _pages(path, decoder, tally, progress or _ignore):
                batch.append(copy)
                if len(batch) >= size:
                    tally.add(loader.load(batch))
                    batch = []
                    size = min(size * 2, batch_pages)
            if batch:
                tally.add(loader.load(batch))
        decoder.forget()
    report = ImportReport(
        files=len(paths),
        lines=tally.lines,
        pages=tally.pages,
        tweets_new=len(tally.new_tweets),
        tweets_updated=len(tally.updated_tweets - tally.new_tweets),
        users_new=tally.users_new,
        skipped=tuple(tally.skipped),
        tweets_forgotten=tally.tweets_forgotten,
    )
    log.debug("imported %d pages from %d files", report.pages, report.files)
    return report


def _pages(
    path: Path, decoder: PageDecoder, tally: _Tally, progress: Progress
) -> Iterator[PageCopy]:
    """The file's pages, skipping (and recording) the lines that are not pages."""
    fallback = _Source(f"import {path.name}", _modified_at(path))
    number = 0
    for number, line, size in _lines(path, tally):
        tally.lines += 1
        progress(size)
        if not line.strip():
            continue
        try:
            page = _page(decoder.decode(line), fallback)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            tally.skipped.append(SkippedLine(str(path), number, _json_problem(exc, line)))
            continue
        except IngestError as exc:
            tally.skipped.append(SkippedLine(str(path), number, exc.what))
            continue
        tally.pages += 1
        if page is not None:
            yield page


@dataclass(frozen=True, slots=True)
class _Source:
    endpoint: str
    fetched_at: datetime


def _page(decoded: DecodedPage, fallback: _Source) -> PageCopy | None:
    """The page with its source, None for an empty result; IngestError if it is not a page."""
    if not decoded.has_data:
        meta = decoded.meta or {}
        if meta.get("result_count") == 0:
            return None  # an empty search result: X leaves `data` out
        raise IngestError("no data: not an X API response page")
    source = _source(decoded, fallback)
    return PageCopy(decoded.values, source.endpoint, source.fetched_at)


def _source(decoded: DecodedPage, fallback: _Source) -> _Source:
    """Where and when the page was fetched, from `__tcbot`, `__twarc` or the file."""
    if decoded.tcbot is not None:
        endpoint = decoded.tcbot.get("endpoint")
        return _Source(
            endpoint if isinstance(endpoint, str) and endpoint else fallback.endpoint,
            _retrieved_at(decoded.tcbot, "__tcbot", fallback),
        )
    if decoded.twarc is not None:
        return _Source(
            twarc_endpoint(decoded.twarc.get("url")) or fallback.endpoint,
            _retrieved_at(decoded.twarc, "__twarc", fallback),
        )
    return fallback


def twarc_endpoint(url: object) -> str | None:
    """twarc's request URL as tcbot records endpoints: "GET /2/tweets/search/recent"."""
    if not isinstance(url, str) or not url:
        return None
    path = urlsplit(url).path
    return f"GET {path}" if path.startswith("/") else url


def _retrieved_at(meta: Any, key: str, fallback: _Source) -> datetime:
    value = meta.get("retrieved_at")
    if value is None:
        return fallback.fetched_at
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise IngestError(f"{key}.retrieved_at {str(value)[:40]!r} is not a time") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _json_problem(exc: Exception, line: bytes) -> str:
    """Why a line is not JSON, in words; a line cut short says so."""
    if isinstance(exc, UnicodeDecodeError):
        return "not valid JSON (the line is not UTF-8 text)"
    try:
        msgspec.json.decode(line.rstrip())  # the newline would hide a truncation
    except (msgspec.DecodeError, UnicodeDecodeError) as again:
        exc = again
    detail = str(exc).rstrip(".")
    if "truncated" in detail:
        return "not valid JSON (the line ends before the page does: cut short?)"
    return f"not valid JSON ({detail[:80]})"


def _lines(path: Path, tally: _Tally) -> Iterator[tuple[int, bytes, int]]:
    """(line number, line, file bytes read for it); a damaged gzip end is recorded as skipped."""
    number = 0
    with _open(path) as (stream, position):
        read = 0
        try:
            if position is None:
                for number, (line, size) in enumerate(_split_lines(stream), start=1):
                    yield number, line, size
                return
            for number, line in enumerate(stream, start=1):
                now = position()
                yield number, line, now - read
                read = now
        except (EOFError, zlib.error, gzip.BadGzipFile, OSError) as exc:
            reason = (
                "the gzip file ends here, cut short: the lines before this one were read"
                if isinstance(exc, EOFError)
                else f"the gzip data is damaged here ({exc}); the rest of the file was not read"
            )
            tally.skipped.append(SkippedLine(str(path), number + 1, reason))


def _split_lines(stream: IO[bytes]) -> Iterator[tuple[bytes, int]]:
    """A plain file's lines (without the newline) and the bytes each took, cut from big
    chunks with find (memchr): readline and split look at a byte at a time, which took
    6% of an import."""
    tail = b""
    while chunk := stream.read(CHUNK_BYTES):
        start, end = 0, chunk.find(b"\n")
        while end >= 0:
            line = tail + chunk[start:end] if tail else chunk[start:end]
            tail = b""
            yield line, len(line) + 1
            start, end = end + 1, chunk.find(b"\n", end + 1)
        tail += chunk[start:]
    if tail:
        yield tail, len(tail)


@contextmanager
def _open(path: Path) -> Iterator[tuple[IO[bytes], Callable[[], int] | None]]:
    """The file's lines as bytes, gunzipped if it starts with the gzip magic bytes.

    Also returns, for gzip, how to tell how many compressed bytes were read.
    """
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise UnreadableFile(path, exc.strerror or type(exc).__name__) from None
    with raw:
        if raw.read(2) == GZIP_MAGIC:
            raw.seek(0)
            with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
                yield cast(IO[bytes], unzipped), raw.tell
        else:
            raw.seek(0)
            yield raw, None


def check_readable(paths: Sequence[Path]) -> None:
    """UnreadableFile for the first of `paths` that cannot be opened for reading."""
    for path in paths:
        if path.is_dir():
            raise UnreadableFile(path, "it is a directory")
        try:
            with path.open("rb"):
                pass
        except OSError as exc:
            raise UnreadableFile(path, exc.strerror or type(exc).__name__) from None


def _modified_at(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while importing.

    The decoded pages are acyclic and freed by reference counting; the collector
    would only scan hundreds of thousands of live tuples again and again (a third
    of the import time when measured).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _ignore(_: int) -> None:
    return None
