"""Add what X's content rules need: forgotten people, sweep times, suspended accounts.

Revision ID: 0005_compliance
Revises: 0004_tracker

- `forgotten_users`: people who asked to be forgotten (`tcbot archive forget`), by
  lower-cased username and, when the archive knew them, by X user id; ingest and
  imports drop their posts.
- `tweets.checked_at`: when the sweep last asked X whether a post still exists;
  the sweep checks the longest-unchecked posts first.
- `users.suspended`: an account X reports suspended. Like a protected one, its
  tweets stay in the database but are hidden wherever tweets are shown.

SQLite's search index records per tweet whether its author is hidden (migration
0003_search, archive/search_index.py): the triggers on `users` that note an author
turning protected or public are re-created to watch `suspended` too. No account is
suspended yet, so no tweet needs re-indexing here.

As in 0001, types are spelled out here, not imported from archive.models.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005_compliance"
down_revision: str | None = "0004_tracker"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _canonical(value: str) -> str:
    """Only ids that are canonical integers have a rowid in the index (as in 0003_search)."""
    return f"CAST(CAST({value} AS INTEGER) AS TEXT) = {value}"


def _user_trigger(name: str, event: str, when: str) -> str:
    """A trigger noting every tweet of an account whose visibility may have changed."""
    return (
        f"CREATE TRIGGER tweets_fts_{name} AFTER {event} ON users WHEN {when} BEGIN "
        "INSERT INTO tweets_fts_pending(rowid) SELECT CAST(t.id AS INTEGER) "
        f"FROM tweets AS t WHERE t.author_id = new.id AND {_canonical('t.id')} AND NOT EXISTS "
        "(SELECT 1 FROM tweets_fts_pending AS p WHERE p.rowid = CAST(t.id AS INTEGER)); END"
    )


DROP_USER_TRIGGERS = (
    "DROP TRIGGER tweets_fts_user_update",
    "DROP TRIGGER tweets_fts_user_insert",
)
HIDDEN_TRIGGERS = (
    _user_trigger("user_insert", "INSERT", "new.protected OR new.suspended"),
    _user_trigger(
        "user_update",
        "UPDATE OF protected, suspended",
        "old.protected IS NOT new.protected OR old.suspended IS NOT new.suspended",
    ),
)
PROTECTED_TRIGGERS = (  # exactly as 0003_search made them
    _user_trigger("user_insert", "INSERT", "new.protected"),
    _user_trigger("user_update", "UPDATE OF protected", "old.protected IS NOT new.protected"),
)


def upgrade() -> None:
    op.create_table(
        "forgotten_users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username_key", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=True),
        sa.Column("forgotten_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forgotten_users")),
    )
    op.create_index(op.f("ix_forgotten_users_username_key"), "forgotten_users", ["username_key"])
    op.create_index(op.f("ix_forgotten_users_user_id"), "forgotten_users", ["user_id"])
    op.add_column("tweets", sa.Column("checked_at", _timestamp(), nullable=True))
    op.create_index(op.f("ix_tweets_checked_at"), "tweets", ["checked_at"])
    op.add_column("users", sa.Column("suspended", sa.Boolean(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        for statement in (*DROP_USER_TRIGGERS, *HIDDEN_TRIGGERS):
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in (*DROP_USER_TRIGGERS, *PROTECTED_TRIGGERS):
            op.execute(statement)
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): batch mode would copy `tweets` and
    # `users` into new tables, losing the search index's triggers on them.
    op.drop_column("users", "suspended")
    op.drop_index(op.f("ix_tweets_checked_at"), table_name="tweets")
    op.drop_column("tweets", "checked_at")
    op.drop_index(op.f("ix_forgotten_users_user_id"), table_name="forgotten_users")
    op.drop_index(op.f("ix_forgotten_users_username_key"), table_name="forgotten_users")
    op.drop_table("forgotten_users")
