"""Bulk ingest: many X API pages written at once, with `ingest_page`'s results.

An import loads hundreds of thousands of tweets. `ingest_pages` flattens a batch of
pages, reads what the database holds for their ids in a few queries, folds every
copy into final rows in memory (archive/page_batch.py, the same rules as
`ingest_page`) and writes each table with one `executemany` of plain tuples: no
per-row SELECT, no ORM objects, no SQLAlchemy type processing per row (times and
JSON are encoded here, the way the `UTCDateTime` and JSON column types store them).

Loading the same pages again changes nothing. Every write is still an `INSERT ...
ON CONFLICT` guarded by `fetched_at`, so a tracker writing the same tweets at the
same time cannot be overwritten by an older copy. The caller owns the transaction.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import msgspec
from sqlalchemy import Connection, Table, Text, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from archive.db import as_utc
from archive.forgotten import Forgotten, load_forgotten, values_without_forgotten
from archive.models import Tweet, TweetHashtag, TweetMention, TweetReference, User
from archive.page_batch import BatchResult, KnownRecords, PageBatch, Record, batch_ids
from archive.page_values import TWEET_COLUMNS, USER_COLUMNS, PageValues, flatten_page_values
from archive.search_notes import Notes, noted_writes

log = logging.getLogger(__name__)
T = TypeVar("T")


_USER_WRITTEN = ("id", *USER_COLUMNS, "raw", "first_seen_at", "fetched_at", "updated_at")
_TWEET_WRITTEN = ("id", *TWEET_COLUMNS, "raw", "fetched_at", "fetched_from", "updated_at")


@dataclass(frozen=True, slots=True)
class PageCopy:
    """A flattened page, and where and when it was fetched (aware UTC)."""

    values: PageValues
    endpoint: str
    fetched_at: datetime

    @classmethod
    def of(cls, page: Mapping[str, Any], *, endpoint: str, fetched_at: datetime) -> PageCopy:
        """Flatten `page`; IngestError if it is not shaped like an X API page."""
        return cls(flatten_page_values(page), endpoint, as_utc(fetched_at))


def ingest_pages(
    session: Session, pages: Sequence[PageCopy], *, known: KnownRecords | None = None
) -> BatchResult:
    """Store many pages' tweets, users, references, hashtags and mentions. Does not commit.

    The result is what applying `ingest_page` to each page in order would have
    counted, with each id once: tweets new to the archive, stored tweets a newer
    copy replaced, users never seen before. `known` carries what earlier batches
    of the same import wrote, so their rows are not read back (see KnownRecords).
    """
    known = known if known is not None else KnownRecords()
    batch = fold_pages(session, pages, known=known)
    encode = Encoder.for_dialect(session.get_bind().dialect.name)
    connection = session.connection()
    with _search_notes(connection) as notes:
        for table, columns, sql, rows, _ in rows_to_write(batch, encode):
            notes.before(table, columns, rows)
            connection.exec_driver_sql(sql, rows)
    known.remember(batch)
    result = batch.result()
    log.debug(
        "ingested %d pages: %d new tweets, %d updated, %d new users",
        len(pages),
        len(result.new_tweet_ids),
        len(result.updated_tweet_ids),
        len(result.new_user_ids),
    )
    return result


@contextmanager
def _search_notes(connection: Connection) -> Iterator[Notes]:
    """On SQLite, the search index's notes taken set-based (archive/search_notes.py);
    PostgreSQL's index is a generated column, with nothing to note."""
    if connection.dialect.name != "sqlite":
        yield Notes()
        return
    driver = connection.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    with noted_writes(driver) as notes:
        yield notes


def fold_pages(session: Session, pages: Sequence[PageCopy], *, known: KnownRecords) -> PageBatch:
    """Fold pages onto what is stored (read from `known`, else the database); writes nothing.

    `rows_to_write(batch, ...)` gives the statements to store the result; after they
    are written, `known.remember(batch)`. Posts of people who asked to be forgotten
    are left out (archive/forgotten.py) and counted in `batch.skipped_tweets`.
    """
    pages, skipped = _without_forgotten(pages, load_forgotten(session))
    tweet_ids, user_ids = batch_ids(page.values for page in pages)
    batch = PageBatch(
        stored_tweets=_stored(session, Tweet, tweet_ids, known.tweets),
        stored_users=_stored(session, User, user_ids, known.users),
    )
    for page in pages:
        batch.add(page.values, endpoint=page.endpoint, fetched_at=page.fetched_at)
    batch.skipped_tweets += skipped
    return batch


def _without_forgotten(
    pages: Sequence[PageCopy], forgotten: Forgotten
) -> tuple[Sequence[PageCopy], int]:
    if not forgotten:
        return pages, 0
    kept: list[PageCopy] = []
    skipped = 0
    for page in pages:
        forgotten = forgotten.learning(page.values)
        values, dropped = values_without_forgotten(page.values, forgotten)
        changed = values is not page.values
        kept.append(PageCopy(values, page.endpoint, page.fetched_at) if changed else page)
        skipped += dropped
    return kept, skipped


@dataclass(frozen=True, slots=True)
class Encoder:
    """How values reach the driver: `?` or `%s`; times as SQLite text or aware datetimes;
    raw JSON as UTF-8 bytes that SQLite is told are text, or as a str for PostgreSQL."""

    mark: str
    raw_mark: str
    time: Callable[[datetime | None], Any]
    raw: Callable[[bytes | None], Any]

    @classmethod
    def for_dialect(cls, name: str) -> Encoder:
        if name == "sqlite":
            return cls("?", "CAST(? AS TEXT)", sqlite_time, _same)
        if name == "postgresql":
            return cls("%s", "%s", _same, _text)
        raise NotImplementedError(f"ingest supports SQLite and PostgreSQL, not {name}")


def sqlite_time(value: datetime | None) -> str | None:
    """What `UTCDateTime` stores on SQLite: naive UTC, `YYYY-MM-DD HH:MM:SS.ffffff`."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = as_utc(value)
    # msgspec writes RFC 3339 in C: a third of the instructions of isoformat, which
    # took a twelfth of an import's decoding process (one call for every tweet)
    text: str = msgspec.to_builtins(value)  # "YYYY-MM-DDTHH:MM:SS[.ffffff]Z"
    if len(text) == 20:
        return f"{text[:10]} {text[11:19]}.000000"
    if len(text) == 27:
        return f"{text[:10]} {text[11:26]}"
    return value.isoformat(" ", "microseconds")[:-6]  # without "+00:00"


def _same(value: T) -> T:
    return value


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode()


# The table, its columns in the rows' order, the SQL, the rows to execute it with
# (plain tuples, so archive/sqlite_writer.py can take them as they are), and a
# shortcut: "" or a cheaper statement to try first with the same rows (`user_shortcut`).
Statement = tuple[str, tuple[str, ...], str, list[tuple[Any, ...]], str]


def rows_to_write(batch: PageBatch, encode: Encoder, *, shortcuts: bool = False) -> list[Statement]:
    """The statements that store a folded batch: users before tweets (a tweet's author
    must exist), facts last; rows sorted by key, so B-trees mostly grow at their end.

    With `shortcuts` (SQLite), people an earlier batch wrote whose copy is the same
    JSON again come in a statement of their own, with a shortcut: see `user_shortcut`."""
    time = _Memo(encode.time)  # a batch has few distinct fetched_at values
    created, raw = encode.time, encode.raw
    users: list[tuple[Any, ...]] = []
    again: list[tuple[Any, ...]] = []
    for key, r in sorted(batch.dirty_users()):
        row = (key, *r.values, raw(r.raw), time[r.first_seen_at], time[r.fetched_at],
               time[r.updated_at])  # fmt: skip
        written_at = r.seen_again() if shortcuts else None
        if written_at is None:
            users.append(row)
        else:
            again.append((*row, time[written_at]))
    tweets = [
        (key, v[0], v[1], created(v[2]), v[3], v[4], v[5], v[6], v[7], v[8], v[9],
         raw(r.raw), time[r.fetched_at], r.fetched_from, time[r.updated_at])
        for key, r in sorted(batch.dirty_tweets())
        for v in (r.values,)
    ]  # fmt: skip
    upsert = _upsert(User, _USER_WRITTEN, encode, keep=("first_seen_at",), rows=users)
    statements: list[Statement] = [
        upsert,
        (*upsert[:3], again, user_shortcut(encode) if again else ""),
        _upsert(Tweet, _TWEET_WRITTEN, encode, keep=(), rows=tweets),
        _insert_or_ignore(TweetReference, encode.mark, sorted(batch.references)),
        _insert_or_ignore(TweetHashtag, encode.mark, sorted(batch.hashtags.values())),
        _insert_or_ignore(TweetMention, encode.mark, sorted(batch.mentions.values())),
    ]
    return [statement for statement in statements if statement[3]]


def user_shortcut(encode: Encoder) -> str:
    """The shortcut for a person's profile again, byte for byte, in a later batch.

    A twarc file repeats its authors' profiles on most pages, so each batch would
    upsert nearly every person again (30,800 upserts for 4,958 people in 100,000
    tweets), raw JSON and all, and note them for the search index, only to move
    `fetched_at`. Such a row carries, after the upsert's columns, the `fetched_at`
    this import wrote before, and the shortcut is an UPDATE of `fetched_at` alone,
    guarded by the stored row being as written: that `fetched_at`, and the same
    `updated_at` and `protected` (the columns other writers change). It changes no
    column the search index watches. If another writer changed some of the rows
    meanwhile, fewer rows change than were given, and the upsert runs for all of
    them (to those already done it is then an older copy, which changes nothing):
    the result is always the upsert's. SQLite only: `?NNN` picks values out of a row.
    """
    if encode.mark != "?":
        raise NotImplementedError("shortcuts are written with SQLite's ?NNN parameters")
    at = {name: f"?{number}" for number, name in enumerate(_USER_WRITTEN, start=1)}
    written = f"?{len(_USER_WRITTEN) + 1}"
    return (
        f"UPDATE users SET fetched_at = {at['fetched_at']} WHERE id = {at['id']}"
        f" AND fetched_at = {written} AND updated_at = {at['updated_at']}"
        f" AND protected IS {at['protected']}"
    )


class _Memo(dict[datetime | None, Any]):
    """Times converted once each: `memo[value]` is a lookup in C, cheaper than calling a
    memoizing function three times for every row."""

    def __init__(self, convert: Callable[[datetime | None], Any]) -> None:
        super().__init__()
        self._convert = convert

    def __missing__(self, value: datetime | None) -> Any:
        converted = self[value] = self._convert(value)
        return converted


def _upsert(
    model: type[Any],
    columns: tuple[str, ...],
    encode: Encoder,
    *,
    keep: Sequence[str],
    rows: list[tuple[Any, ...]],
) -> Statement:
    """INSERT ... ON CONFLICT (id) DO UPDATE, applied only over an older or stub row."""
    name = str(_table(model).name)
    updated = [column for column in columns if column != "id" and column not in keep]
    marks = [encode.raw_mark if column == "raw" else encode.mark for column in columns]
    sql = (
        f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({', '.join(marks)})"
        f" ON CONFLICT (id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in updated)}"
        f" WHERE {name}.fetched_at IS NULL OR excluded.fetched_at > {name}.fetched_at"
    )
    return name, columns, sql, rows, ""


def _insert_or_ignore(model: type[Any], mark: str, rows: list[tuple[Any, ...]]) -> Statement:
    table = _table(model)
    columns = tuple(str(column.name) for column in table.columns)
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)})"
        f" VALUES ({', '.join([mark] * len(columns))}) ON CONFLICT DO NOTHING"
    )
    return str(table.name), columns, sql, rows, ""


def _stored(
    session: Session, model: type[Any], ids: Iterable[str], known: Mapping[str, Record]
) -> dict[str, Record]:
    """What the database holds for `ids` (from `known` where it has them), as records."""
    found = {key: known[key] for key in ids if key in known}
    wanted = sorted(key for key in ids if key not in found)
    table = _table(model)
    tweets = model is Tweet
    columns = TWEET_COLUMNS if tweets else USER_COLUMNS
    query_columns = [
        table.c.id,
        *(table.c[name] for name in columns),
        table.c.fetched_at,
        table.c.fetched_from if tweets else table.c.fetched_at,
        table.c.updated_at if tweets else table.c.first_seen_at,  # tweets have no first_seen_at
        table.c.updated_at,
    ]
    width = len(columns)
    if not wanted:
        return found
    query = select(*query_columns).where(_one_of(session, table.c.id, wanted))
    for row in session.execute(query).all():
        fetched_at, fetched_from, first_seen_at, updated_at = row[1 + width :]
        found[row[0]] = Record(
            tuple(row[1 : 1 + width]),
            None,
            fetched_at,
            fetched_from if tweets else None,
            first_seen_at,
            updated_at,
            stored=True,
        )
    return found


def _one_of(session: Session, column: Any, ids: list[str]) -> Any:
    """`column IN ids` as one bound value, whatever the number of ids: a JSON array
    that SQLite's json_each unpacks, or a PostgreSQL text[] (a plain IN list of
    10,000 ids costs more to build than to run)."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam("ids", ids, type_=ARRAY(Text)))
    listed = func.json_each(msgspec.json.encode(ids).decode()).table_valued("value")
    return column.in_(select(listed.c.value))


def _table(model: type[Any]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table
