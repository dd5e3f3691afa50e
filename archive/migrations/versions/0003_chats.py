"""Add chats (a hashtag, a host and a time window) and the posts that shape them.

Revision ID: 0003_chats
Revises: 0002

A chat the bot ran is recorded from the outbox with its intro, questions and
closing (archive/chats.py); one added by hand (`tcbot archive chat add`) has only
its window, and its questions are found when a transcript is built. As in 0001,
types are spelled out here, not imported from archive.models.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003_chats"
down_revision: str | None = "0002"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _state(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=False, length=16)


def upgrade() -> None:
    op.create_table(
        "chats",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("hashtag", sa.Text(), nullable=False),
        sa.Column("host", sa.Text(), nullable=False),
        sa.Column("starts_at", _timestamp(), nullable=False),
        sa.Column("ends_at", _timestamp(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=True),
        sa.Column("origin", _state("chat_origin", "bot", "manual"), nullable=False),
        sa.Column("outbox_chat_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["outbox_chat_id"],
            ["outbox_chats.id"],
            name=op.f("fk_chats_outbox_chat_id_outbox_chats"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chats")),
        sa.UniqueConstraint("outbox_chat_id", name=op.f("uq_chats_outbox_chat_id")),
    )
    op.create_index("ix_chats_starts_at", "chats", ["starts_at"])

    op.create_table(
        "chat_posts",
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            _state("chat_post_kind", "reminder", "intro", "question", "closing"),
            nullable=False,
        ),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("tweet_id", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"],
            ["chats.id"],
            name=op.f("fk_chat_posts_chat_id_chats"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("chat_id", "kind", "number", name=op.f("pk_chat_posts")),
    )


def downgrade() -> None:
    op.drop_table("chat_posts")
    op.drop_index("ix_chats_starts_at", table_name="chats")
    op.drop_table("chats")
