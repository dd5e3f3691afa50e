"""Add the outbox: chats, their posts (one row per post, keyed by chat, kind, number), leases.

Revision ID: 0002
Revises: 0001

The outbox is the only queue of what the bot posts (bot/outbox.py); the leases
table holds the single-poster lease (bot/lease.py). As in 0001, types are spelled
out here rather than imported from archive.models, so this migration keeps creating
exactly this schema whatever the models become later.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _state(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=False, length=16)


def upgrade() -> None:
    op.create_table(
        "outbox_chats",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("series", sa.Text(), nullable=False),
        sa.Column("chat_date", sa.Date(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("hashtag", sa.Text(), nullable=False),
        sa.Column("starts_at", _timestamp(), nullable=False),
        sa.Column("timezone", sa.Text(), nullable=False),
        sa.Column("origin", sa.Text(), nullable=False),
        sa.Column("status", _state("chat_status", "active", "cancelled"), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("updated_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_chats")),
        sa.UniqueConstraint("series", "chat_date", name=op.f("uq_outbox_chats_series_chat_date")),
    )

    op.create_table(
        "outbox_posts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("series", sa.Text(), nullable=False),
        sa.Column("chat_date", sa.Date(), nullable=False),
        sa.Column(
            "kind", _state("post_kind", "reminder", "intro", "question", "closing"), nullable=False
        ),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("planned_at", _timestamp(), nullable=False),
        sa.Column("due_at", _timestamp(), nullable=False),
        sa.Column("not_before", _timestamp(), nullable=True),
        sa.Column(
            "status",
            _state(
                "post_status",
                "queued",
                "held",
                "sending",
                "sent",
                "failed",
                "missed",
                "cancelled",
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("x_id", sa.Text(), nullable=True),
        sa.Column("thread", sa.Boolean(), nullable=False),
        sa.Column("replied_to_x_id", sa.Text(), nullable=True),
        sa.Column("lateness_seconds", sa.Integer(), nullable=False),
        sa.Column("acquired_by", sa.Text(), nullable=True),
        sa.Column("acquired_until", _timestamp(), nullable=True),
        sa.Column("sent_at", _timestamp(), nullable=True),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("updated_at", _timestamp(), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"], ["outbox_chats.id"], name=op.f("fk_outbox_posts_chat_id_outbox_chats")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_posts")),
        sa.UniqueConstraint(
            "series",
            "chat_date",
            "kind",
            "number",
            name=op.f("uq_outbox_posts_series_chat_date_kind_number"),
        ),
    )
    op.create_index(op.f("ix_outbox_posts_chat_id"), "outbox_posts", ["chat_id"])
    op.create_index("ix_outbox_posts_status_due_at", "outbox_posts", ["status", "due_at"])

    op.create_table(
        "leases",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("holder", sa.Text(), nullable=False),
        sa.Column("acquired_at", _timestamp(), nullable=False),
        sa.Column("expires_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )


def downgrade() -> None:
    op.drop_table("leases")
    op.drop_table("outbox_posts")
    op.drop_table("outbox_chats")
