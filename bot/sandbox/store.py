"""Where sandbox state lives between runs: nowhere (memory) or a SQLite file.

`SqliteStore` writes through on every mutation, so a rehearsal can be stopped at any moment
and a new server on the same file sees the same users, posts, id sequence and clock offset.
Tables: users, tweets, meta (key/value: last id, clock offset). The caller (State) serialises
access; the connection is shared between the server's threads under that lock.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from bot.sandbox.ids import from_ms, to_ms
from bot.sandbox.records import Tweet, User

__all__ = ["MemoryStore", "Snapshot", "SqliteStore", "Store"]

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name TEXT NOT NULL,
    protected INTEGER NOT NULL DEFAULT 0,
    created_at_ms INTEGER NOT NULL,
    suspended INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS tweets (
    id INTEGER PRIMARY KEY,
    text TEXT NOT NULL,
    author_id TEXT NOT NULL REFERENCES users(id),
    created_at_ms INTEGER NOT NULL,
    conversation_id TEXT NOT NULL,
    in_reply_to_tweet_id TEXT,
    in_reply_to_user_id TEXT,
    quoted_tweet_id TEXT,
    retweeted_tweet_id TEXT,
    display_start INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_TWEET_COLUMNS = (
    "id, text, author_id, created_at_ms, conversation_id, in_reply_to_tweet_id, "
    "in_reply_to_user_id, quoted_tweet_id, retweeted_tweet_id, display_start"
)


@dataclass(slots=True)
class Snapshot:
    """Everything a store holds, as loaded at start."""

    users: list[User] = field(default_factory=list)
    tweets: list[Tweet] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)


class Store(Protocol):
    def load(self) -> Snapshot: ...
    def put_user(self, user: User) -> None: ...
    def put_tweet(self, tweet: Tweet) -> None: ...
    def delete_tweet(self, tweet_id: str) -> None: ...
    def put_meta(self, key: str, value: str) -> None: ...
    def clear(self) -> None: ...
    def close(self) -> None: ...


class MemoryStore:
    """Keeps nothing: state lives and dies with the server."""

    def load(self) -> Snapshot:
        return Snapshot()

    def put_user(self, user: User) -> None:
        pass

    def put_tweet(self, tweet: Tweet) -> None:
        pass

    def delete_tweet(self, tweet_id: str) -> None:
        pass

    def put_meta(self, key: str, value: str) -> None:
        pass

    def clear(self) -> None:
        pass

    def close(self) -> None:
        pass


class SqliteStore:
    """A SQLite file, written through on every change (each call is one transaction)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.executescript(_SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(users)")}
        if "suspended" not in columns:  # a state file from before suspensions
            self._db.execute("ALTER TABLE users ADD COLUMN suspended INTEGER NOT NULL DEFAULT 0")
        log.info("Sandbox state in %s", path)

    def load(self) -> Snapshot:
        users = [
            User(row[0], row[1], row[2], bool(row[3]), from_ms(row[4]), bool(row[5]))
            for row in self._db.execute(
                "SELECT id, username, name, protected, created_at_ms, suspended FROM users"
            )
        ]
        tweets = [
            Tweet(str(r[0]), r[1], r[2], from_ms(r[3]), r[4], r[5], r[6], r[7], r[8], r[9])
            for r in self._db.execute(f"SELECT {_TWEET_COLUMNS} FROM tweets ORDER BY id")
        ]
        meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        return Snapshot(users=users, tweets=tweets, meta=meta)

    def put_user(self, user: User) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO users (id, username, name, protected, created_at_ms, "
            "suspended) VALUES (?, ?, ?, ?, ?, ?)",
            (
                user.id,
                user.username,
                user.name,
                int(user.protected),
                to_ms(user.created_at),
                int(user.suspended),
            ),
        )

    def put_tweet(self, tweet: Tweet) -> None:
        self._db.execute(
            f"INSERT OR REPLACE INTO tweets ({_TWEET_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                int(tweet.id),
                tweet.text,
                tweet.author_id,
                to_ms(tweet.created_at),
                tweet.conversation_id,
                tweet.in_reply_to_tweet_id,
                tweet.in_reply_to_user_id,
                tweet.quoted_tweet_id,
                tweet.retweeted_tweet_id,
                tweet.display_start,
            ),
        )

    def delete_tweet(self, tweet_id: str) -> None:
        self._db.execute("DELETE FROM tweets WHERE id = ?", (int(tweet_id),))

    def put_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def clear(self) -> None:
        self._db.execute("BEGIN")
        for table in ("tweets", "users", "meta"):
            self._db.execute(f"DELETE FROM {table}")
        self._db.execute("COMMIT")

    def close(self) -> None:
        self._db.close()
