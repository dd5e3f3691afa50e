"""Add full-text search over tweets: FTS5 on SQLite, a tsvector column on PostgreSQL.

Revision ID: 0003_search
Revises: 0003_chats (for now: written against 0002; chained after the chats migration,
which is being written alongside, so the tree keeps a single head until the merge)

SQLite: `tweets_fts`, an FTS5 table (unicode61, accents removed) whose rowid is
the tweet's id as a number (X ids are 64-bit integers; the implicit rowid of
`tweets` could change on VACUUM, so it cannot be the link). Its `text` column holds
the tweet's text, its `meta` column the author, whether that account is protected,
and the hashtags, as tokens nobody can type (see INDEXED_META). Triggers on `tweets`, `tweet_hashtags` and `users`
note each tweet that is inserted, changed (an `ON CONFLICT DO UPDATE` upsert fires
the update trigger) or deleted, or whose author turns protected or public, in
`tweets_fts_pending`; archive/search.py `refresh_index` re-indexes the noted tweets
in bulk, which every search does first. Writing FTS5 row by row from a trigger was
measured at about 100 µs a tweet, eight times a bulk insert; a note costs about
1 µs, so ingest and imports stay fast. Tweets already archived are indexed here.

PostgreSQL: `tweets.search_vector`, a generated tsvector with a GIN index; adding
it computes it for the rows already there. The 'simple' configuration (no stemming,
no stop words) is used rather than 'english': the community writes in several
languages, and 'simple' finds the same tweets SQLite's unicode61 does, so a search
means the same thing on either database. Before splitting, accents are removed
(NFD, then combining marks dropped: normalize() and regexp_replace() are immutable,
unlike unaccent()) and ASCII punctuation becomes a space, so `x.com`, `3.14`,
`don't` and `a_b` split into words as unicode61 splits them.

As in 0001, everything is spelled out here, so this migration keeps creating exactly
this schema whatever archive/search.py becomes.
"""

from __future__ import annotations

from alembic import op

revision: str = "0003_search"
down_revision: str | None = "0003_chats"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def _canonical(value: str) -> str:
    """Only ids that are canonical integers have a rowid in the index (all X ids are)."""
    return f"CAST(CAST({value} AS INTEGER) AS TEXT) = {value}"


def _note(tweet_id: str) -> str:
    # Not INSERT OR IGNORE: in a trigger, the outer statement's conflict handling (ABORT
    # for ingest's upsert) would override the IGNORE.
    rowid = f"CAST({tweet_id} AS INTEGER)"
    return (
        f"INSERT INTO tweets_fts_pending(rowid) SELECT {rowid} "
        f"WHERE NOT EXISTS (SELECT 1 FROM tweets_fts_pending WHERE rowid = {rowid});"
    )


def _trigger(name: str, event: str, table: str, tweet_id: str, when: str = "") -> str:
    condition = f"{when} AND {_canonical(tweet_id)}" if when else _canonical(tweet_id)
    return (
        f"CREATE TRIGGER {name} AFTER {event} ON {table} WHEN {condition} "
        f"BEGIN {_note(tweet_id)} END"
    )


# What is indexed for a tweet: its text (X's entities as spaces); and its author,
# whether the author's account is protected (p) or not (o), and its hashtags, as tokens no typed word
# can be (they begin with a private-use character), so --from, --hashtag and leaving
# protected accounts out all happen inside FTS5.
INDEXED_TEXT = "replace(replace(replace(t.text, '&amp;', ' '), '&lt;', ' '), '&gt;', ' ')"
INDEXED_META = (
    "coalesce(char(57344) || 'a' || t.author_id, '')"
    " || ' ' || char(57344) || CASE WHEN (SELECT u.protected FROM users AS u"
    " WHERE u.id = t.author_id) THEN 'p' ELSE 'o' END"
    " || coalesce((SELECT ' ' || group_concat(char(57344) || 't' || "
    "replace(h.tag, '_', char(57345)), ' ') FROM tweet_hashtags AS h WHERE h.tweet_id = t.id), '')"
)
# An account that becomes protected (or public) changes the document of all its tweets.
PROTECTED_TRIGGERS = tuple(
    f"CREATE TRIGGER tweets_fts_{name} AFTER {event} ON users WHEN {when} BEGIN "
    "INSERT INTO tweets_fts_pending(rowid) SELECT CAST(t.id AS INTEGER) "
    f"FROM tweets AS t WHERE t.author_id = new.id AND {_canonical('t.id')} AND NOT EXISTS "
    "(SELECT 1 FROM tweets_fts_pending AS p WHERE p.rowid = CAST(t.id AS INTEGER)); END"
    for name, event, when in (
        ("user_insert", "INSERT", "new.protected"),
        ("user_update", "UPDATE OF protected", "old.protected IS NOT new.protected"),
    )
)
INDEX_EXISTING = (
    "INSERT INTO tweets_fts(rowid, text, meta) "
    f"SELECT CAST(t.id AS INTEGER), {INDEXED_TEXT}, {INDEXED_META} "
    f"FROM tweets AS t WHERE {_canonical('t.id')}"
)
SQLITE_UPGRADE = (
    "CREATE VIRTUAL TABLE tweets_fts USING fts5(text, meta, tokenize='unicode61 remove_diacritics 2')",
    "CREATE TABLE tweets_fts_pending (rowid INTEGER PRIMARY KEY)",
    _trigger("tweets_fts_insert", "INSERT", "tweets", "new.id"),
    _trigger(
        "tweets_fts_update",
        "UPDATE OF text, author_id",
        "tweets",
        "new.id",
        when="(old.text IS NOT new.text OR old.author_id IS NOT new.author_id)",
    ),
    _trigger("tweets_fts_delete", "DELETE", "tweets", "old.id"),
    _trigger("tweets_fts_tag_insert", "INSERT", "tweet_hashtags", "new.tweet_id"),
    _trigger("tweets_fts_tag_delete", "DELETE", "tweet_hashtags", "old.tweet_id"),
    *PROTECTED_TRIGGERS,
    INDEX_EXISTING,
)
SQLITE_DOWNGRADE = (
    "DROP TRIGGER tweets_fts_user_update",
    "DROP TRIGGER tweets_fts_user_insert",
    "DROP TRIGGER tweets_fts_tag_delete",
    "DROP TRIGGER tweets_fts_tag_insert",
    "DROP TRIGGER tweets_fts_update",
    "DROP TRIGGER tweets_fts_delete",
    "DROP TRIGGER tweets_fts_insert",
    "DROP TABLE tweets_fts_pending",
    "DROP TABLE tweets_fts",
)
# --from compares user names case-insensitively: index that, on either database (on
# SQLite by collation: an index on lower(username) would make every reflection of
# `users` warn; X user names are ASCII, which NOCASE folds).
SQLITE_USERNAME_INDEX = "CREATE INDEX ix_users_username_nocase ON users (username COLLATE NOCASE)"
POSTGRES_USERNAME_INDEX = "CREATE INDEX ix_users_username_lower ON users (lower(username))"

# Accents off (NFD, combining marks dropped), X's entities and ASCII punctuation to spaces.
POSTGRES_DOCUMENT = (
    r"regexp_replace(regexp_replace(normalize(text, NFD), '[\u0300-\u036f]+', '', 'g'), "
    r"'&(amp|lt|gt);|[\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]+', ' ', 'g')"
)
VECTOR_COLUMN = (
    "ALTER TABLE tweets ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
    f"(to_tsvector('simple'::regconfig, {POSTGRES_DOCUMENT})) STORED"
)
POSTGRES_UPGRADE = (
    VECTOR_COLUMN,
    "CREATE INDEX ix_tweets_search_vector ON tweets USING gin (search_vector)",
)
POSTGRES_DOWNGRADE = (
    "DROP INDEX ix_tweets_search_vector",
    "ALTER TABLE tweets DROP COLUMN search_vector",
)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    statements = (
        (*SQLITE_UPGRADE, SQLITE_USERNAME_INDEX)
        if sqlite
        else (*POSTGRES_UPGRADE, POSTGRES_USERNAME_INDEX)
    )
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.execute(f"DROP INDEX ix_users_username_{'nocase' if sqlite else 'lower'}")
    for statement in SQLITE_DOWNGRADE if sqlite else POSTGRES_DOWNGRADE:
        op.execute(statement)
