"""The full-text index behind archive/search.py: what is indexed, and keeping it current.

Migration 0003_search makes it. On SQLite, `tweets_fts` is an FTS5 table whose
rowid is the tweet id as a number, with two columns: `text`, the tweet's text
(INDEXED_TEXT), and `meta` (INDEXED_META): its author, whether that account is
hidden (protected or suspended, archive/visibility.py; migration 0005_compliance
made the triggers watch `suspended`), and its hashtags, as tokens nobody can type
(they begin with a private-use character). So `--from`, `--hashtag` and leaving
hidden accounts out narrow a search inside FTS5 instead of row by row, and ranking
weighs `meta` at 0.

Triggers on `tweets`, `tweet_hashtags` and `users` note every tweet inserted,
changed or deleted, or whose author turns protected, suspended or public, in
`tweets_fts_pending`, whoever writes; `refresh_index` re-indexes the noted tweets in
bulk. (FTS5 written row by row from a trigger costs about 100 µs a tweet, eight
times a bulk insert; a note costs far less, so ingest stays fast.) A bulk import
writes over a hundred thousand rows, and there even the notes were most of the
writing time: inside each of its transactions it suspends these triggers and
notes the same tweets set-based (archive/search_notes.py).

On PostgreSQL, `tweets.search_vector` is a generated tsvector with a GIN index:
always current, nothing to refresh.

None of these objects is in `Base.metadata`; `include_name` tells Alembic's schema
comparison to leave them out.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

FTS_TABLE = "tweets_fts"
PENDING_TABLE = "tweets_fts_pending"
VECTOR_COLUMN = "search_vector"
VECTOR_INDEX = "ix_tweets_search_vector"
USERNAME_INDEXES = ("ix_users_username_nocase", "ix_users_username_lower")  # SQLite, PostgreSQL
MARK = "\ue000"  # begins the author and hashtag tokens: a private-use character
AUTHOR_TOKEN = MARK + "a"
TAG_TOKEN = MARK + "t"
PROTECTED_TOKEN = MARK + "p"  # in the meta of every tweet by a protected or suspended account
OPEN_TOKEN = MARK + "o"  # in the others' (so all have the same length, which bm25 weighs)
TAG_JOINER = "\ue001"  # stands for '_' inside a hashtag, which FTS5 would split on

# What is indexed for tweet `t` (as migration 0003_search indexes the tweets already there).
INDEXED_TEXT = "replace(replace(replace(t.text, '&amp;', ' '), '&lt;', ' '), '&gt;', ' ')"
INDEXED_META = (
    "coalesce(char(57344) || 'a' || t.author_id, '')"
    " || ' ' || char(57344) || CASE WHEN (SELECT u.protected OR u.suspended FROM users AS u"
    " WHERE u.id = t.author_id) THEN 'p' ELSE 'o' END"
    " || coalesce((SELECT ' ' || group_concat(char(57344) || 't' || "
    "replace(h.tag, '_', char(57345)), ' ') FROM tweet_hashtags AS h WHERE h.tweet_id = t.id), '')"
)
_INDEX_NOTED = (
    f"INSERT INTO {FTS_TABLE}(rowid, text, meta) SELECT p.rowid, {INDEXED_TEXT}, {INDEXED_META} "
    f"FROM {PENDING_TABLE} AS p JOIN tweets AS t ON t.id = CAST(p.rowid AS TEXT)"
)
_REFRESH = (
    f"DELETE FROM {FTS_TABLE} WHERE rowid IN (SELECT rowid FROM {PENDING_TABLE})",
    _INDEX_NOTED,  # deleted tweets are not found in `tweets`, so they stay out
    f"DELETE FROM {PENDING_TABLE}",
)


def author_token(author_id: str) -> str:
    """The token that stands for "written by this account" in a tweet's document."""
    return AUTHOR_TOKEN + author_id


def tag_token(tag: str) -> str:
    """The token that stands for "carries this hashtag" (`tag` without '#', any case)."""
    return TAG_TOKEN + tag.lower().replace("_", TAG_JOINER)


def pending_count(session: Session) -> int:
    """How many tweets wait to be (re-)indexed: the next search indexes them first."""
    if session.get_bind().dialect.name != "sqlite":
        return 0
    return int(session.scalar(text(f"SELECT count(*) FROM {PENDING_TABLE}")) or 0)


def refresh_index(session: Session) -> int:
    """Re-index the tweets noted as changed (SQLite); return how many there were.

    Cheap when nothing is noted. A big import may call it at its end so the first
    search does not pay for it; every search calls it anyway. Does not commit.
    """
    pending = pending_count(session)
    if pending:
        for statement in _REFRESH:
            session.execute(text(statement))
        log.info("search index: re-indexed %d changed tweets", pending)
    return pending


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic's `include_name` hook: leave the search index out of schema comparisons.

    The FTS5 table (with its shadow tables) and the pending notes on SQLite, the
    generated tsvector column and its index on PostgreSQL, and the case-insensitive
    index of user names are made by migration 0003_search, not in `Base.metadata`.
    """
    if name is None:
        return True
    if type_ == "table":
        return not (name == FTS_TABLE or name.startswith(f"{FTS_TABLE}_"))
    return name not in (VECTOR_COLUMN, VECTOR_INDEX, *USERNAME_INDEXES)
