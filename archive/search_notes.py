"""The search index's notes for a bulk write, taken set-based instead of by trigger.

Migration 0003_search's triggers note, row by row, every tweet whose search
document may have changed (archive/search_index.py). For an import that was most
of the writing time: about 25 µs per tweet and 15 µs per hashtag, against 10 µs
for writing the tweet. So, inside the import's own write transaction, `noted_writes`

1. reads the triggers on the tables an import writes from sqlite_master and drops them,
2. lets the batch write (calling `Notes.before` ahead of each statement, which
   reads the few stored values the triggers' conditions look at),
3. notes the tweets the triggers would have noted, in one statement per kind,
4. creates the triggers again from the very SQL it read,

all inside one SAVEPOINT. SQLite's DDL is transactional and a write transaction
holds the database's only write lock, so no other connection (the daemon archiving
through archive/ingest.py) can write while the triggers are gone, and none ever
sees a committed database without them. If anything fails, rolling back to the
savepoint restores the triggers along with the rows.

What the triggers note, and how it is found here. "Applied" is the upsert's guard
(`WHERE fetched_at IS NULL OR excluded.fetched_at > fetched_at`: a stored row is
only replaced by a copy fetched later):

- tweets_fts_insert / tweets_fts_update: a tweet inserted, or applied with
  another text or author;
- tweets_fts_tag_insert: a hashtag row inserted (not one already there);
- tweets_fts_user_insert / tweets_fts_user_update: every tweet of a person inserted
  as protected or suspended, or applied with a different `protected` or `suspended`
  (an import writes `protected` only; since 0005_compliance they also watch `suspended`);
- tweets_fts_delete, tweets_fts_tag_delete: an import deletes nothing.

Only canonical ids are noted (the triggers' CAST test, in SQL here too). These
rules are this module's copy of what the triggers mean, so it acts only on the
triggers it was written for, recognised by the fingerprint of their SQL
(KNOWN_TRIGGERS). Any other set (a later migration changed them, or someone added
a trigger on these tables) stays in place and fires row by row: slower, never
wrong. tests/test_search_notes.py fails when the migrations' triggers and
KNOWN_TRIGGERS part ways.

The standard library and msgspec only: archive/sqlite_writer.py runs it in its own
process.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import msgspec

log = logging.getLogger(__name__)

WRITTEN_TABLES = ("users", "tweets", "tweet_references", "tweet_hashtags", "tweet_mentions")
# `fingerprint`s of the triggers on WRITTEN_TABLES the rules in the module docstring
# are written for, and the migration that left them so.
KNOWN_TRIGGERS = {
    "ccf32a6ea931e67be269206c8796b574": "0003_search",
    "13c764aec246e8a72f89c5a6e3d248ca": "0005_compliance (the user triggers watch suspended)",
}
HIDING = ("protected", "suspended")  # the `users` columns the user triggers watch
SAVEPOINT = "tcbot_import_notes"
PENDING = "tweets_fts_pending"
_CANONICAL = "CAST(CAST({0} AS INTEGER) AS TEXT) = {0}"
_NOTE_IDS = (
    f"INSERT OR IGNORE INTO {PENDING}(rowid) SELECT CAST(value AS INTEGER) "
    f"FROM json_each(?) WHERE {_CANONICAL.format('value')}"
)
_NOTE_AUTHORS = (
    f"INSERT OR IGNORE INTO {PENDING}(rowid) SELECT CAST(t.id AS INTEGER) FROM tweets AS t "
    f"WHERE t.author_id IN (SELECT value FROM json_each(?)) AND {_CANONICAL.format('t.id')}"
)
_STORED = {
    "tweets": "SELECT id, text, author_id, fetched_at FROM tweets WHERE id IN "
    "(SELECT value FROM json_each(?))",
    "tweet_hashtags": "SELECT tweet_id, tag FROM tweet_hashtags WHERE tweet_id IN "
    "(SELECT value FROM json_each(?))",
}
_STORED_USERS = "SELECT id, fetched_at, {} FROM users WHERE id IN (SELECT value FROM json_each(?))"

Trigger = tuple[str, str]  # name, SQL


def fingerprint(triggers: Sequence[Trigger]) -> str:
    """A short digest of triggers' names and SQL, in name order."""
    text = "\n".join(f"{name}\t{sql}" for name, sql in sorted(triggers))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def note_triggers(db: sqlite3.Connection) -> list[Trigger]:
    """The triggers on the tables an import writes, as sqlite_master holds them."""
    marks = ", ".join("?" * len(WRITTEN_TABLES))
    rows = db.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ({marks})"
        " ORDER BY name",
        WRITTEN_TABLES,
    ).fetchall()
    return [(str(name), str(sql)) for name, sql in rows]


class Notes:
    """What a batch's writes change in the search index; this base class notes nothing
    (the triggers stay and note each row, or PostgreSQL's generated column needs none)."""

    def before(self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        """Call right before writing `rows` (in `columns` order) into `table` by ingest's
        upsert (users, tweets) or insert-or-ignore (the facts)."""
        return

    def note(self) -> None:
        """Note what was gathered (after the writes)."""
        return


class _TakenNotes(Notes):
    """The tweets the suspended triggers would have noted, gathered as the batch writes."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self.tweet_ids: dict[str, None] = {}
        self.author_ids: dict[str, None] = {}

    def before(self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        if table == "tweets":
            self._tweets(columns, rows)
        elif table == "users":
            self._users(columns, rows)
        elif table == "tweet_hashtags":
            self._hashtags(columns, rows)
        elif table not in WRITTEN_TABLES:
            raise ValueError(f"the search index's notes for writes into {table} are not known")

    def note(self) -> None:
        if self.tweet_ids:
            self._db.execute(_NOTE_IDS, (_json_array(self.tweet_ids),))
        if self.author_ids:
            self._db.execute(_NOTE_AUTHORS, (_json_array(self.author_ids),))

    def _stored(self, table: str, ids: Sequence[str]) -> list[tuple[Any, ...]]:
        return self._db.execute(_STORED[table], (_json_array(ids),)).fetchall()

    def _tweets(self, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        at = [columns.index(name) for name in ("id", "text", "author_id", "fetched_at")]
        key, text, author, fetched = at
        stored = {row[0]: row[1:] for row in self._stored("tweets", [r[key] for r in rows])}
        for row in rows:
            old = stored.get(row[key])
            if old is None or (
                _applied(old[2], row[fetched]) and (old[0], old[1]) != (row[text], row[author])
            ):
                self.tweet_ids[row[key]] = None
            if old is None or _applied(old[2], row[fetched]):
                stored[row[key]] = (row[text], row[author], row[fetched])

    def _users(self, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        # Columns the import does not write keep their value (or their default, NULL).
        key, fetched = columns.index("id"), columns.index("fetched_at")
        flags = [columns.index(name) for name in HIDING if name in columns]
        if not flags:
            return
        query = _STORED_USERS.format(", ".join(name for name in HIDING if name in columns))
        found = self._db.execute(query, (_json_array([r[key] for r in rows]),)).fetchall()
        stored = {row[0]: (row[1], *map(_flag, row[2:])) for row in found}
        for row in rows:
            new = tuple(_flag(row[at]) for at in flags)
            old = stored.get(row[key])
            if old is None:
                changed = any(new)
            elif _applied(old[0], row[fetched]):
                changed = old[1:] != new
            else:
                continue
            if changed:
                self.author_ids[row[key]] = None
            stored[row[key]] = (row[fetched], *new)

    def _hashtags(self, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        # A tweet already noted (new, or with another text) needs no look at its tags:
        # in an import that is nearly every tweet, and reading their tags took as long
        # as writing them.
        key, tag = columns.index("tweet_id"), columns.index("tag")
        noted = self.tweet_ids
        rows = [row for row in rows if row[key] not in noted]
        ids = list(dict.fromkeys(row[key] for row in rows))
        stored = set(self._stored("tweet_hashtags", ids)) if ids else set()
        for row in rows:
            pair = (row[key], row[tag])
            if pair not in stored:
                stored.add(pair)
                self.tweet_ids[row[key]] = None


@contextmanager
def noted_writes(db: sqlite3.Connection) -> Iterator[Notes]:
    """Write with the search index's note triggers suspended; see the module docstring.

    Call inside a write transaction on `db` (a sqlite3 connection in autocommit mode
    driven by explicit BEGIN, as archive.db makes them). The triggers are back
    before this returns or raises.
    """
    triggers = note_triggers(db)
    if fingerprint(triggers) not in KNOWN_TRIGGERS:
        if triggers:
            log.info("search index triggers not the ones the import knows: kept, row by row")
        yield Notes()
        return
    db.execute(f"SAVEPOINT {SAVEPOINT}")
    try:
        for name, _ in triggers:
            db.execute(f'DROP TRIGGER "{name}"')
        notes = _TakenNotes(db)
        yield notes
        notes.note()
        for _, sql in triggers:
            db.execute(sql)
    except BaseException:
        _roll_back(db)
        raise
    db.execute(f"RELEASE {SAVEPOINT}")


def _json_array(ids: Iterable[str]) -> str:
    """Ids as a JSON array for json_each (msgspec: a tenth of the time of json.dumps)."""
    return _ENCODE(list(ids)).decode()


_ENCODE = msgspec.json.Encoder().encode


def _roll_back(db: sqlite3.Connection) -> None:
    """Back to the savepoint: the triggers return with the rows. (An error that ended the
    whole transaction already undid everything, the dropped triggers included.)"""
    if not db.in_transaction:
        return
    try:
        db.execute(f"ROLLBACK TO {SAVEPOINT}")
        db.execute(f"RELEASE {SAVEPOINT}")
    except sqlite3.Error as exc:  # the savepoint went with the transaction: nothing to undo
        log.debug("rolling back to %s: %s", SAVEPOINT, exc)


def _applied(stored_fetched_at: Any, fetched_at: Any) -> bool:
    """The upsert's guard: the stored row has no fetch time, or this copy is newer
    (both SQLite text in one fixed-width format, so text order is time order)."""
    return stored_fetched_at is None or (fetched_at is not None and fetched_at > stored_fetched_at)


def _flag(value: Any) -> int | None:
    """`protected` as SQLite stores a boolean: 1, 0 or NULL."""
    return None if value is None else int(bool(value))
