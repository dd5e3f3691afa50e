"""Add welcomes and opt-outs, and let the outbox hold posts that belong to no chat.

Revision ID: 0006_welcomes
Revises: 0005_compliance

- `welcomes`: one row per person tcbot has decided about (welcomed by a reply,
  listed for organisers, counted in a digest, or already known), unique by X user id.
- `opt_outs`: people who asked never to be contacted. Nothing in tcbot deletes these
  rows, and this migration's downgrade refuses to run while any exist: losing an
  opt-out would mean contacting someone who said no.
- `outbox_posts.chat_id` becomes nullable (welcomes, acknowledgements and digests
  belong to no chat) and `outbox_posts.reply_target` holds the post a welcome or an
  acknowledgement replies to. On SQLite the column change copies `outbox_posts` into a
  new table (batch mode); nothing else refers to it yet and it has no triggers.

As in 0001, types are spelled out here, not imported from archive.models.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006_welcomes"
down_revision: str | None = "0005_compliance"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

NOT_CHAT_POSTS = "('welcome', 'ack', 'digest')"


WELCOME_STATES = ("known", "queued", "sent", "listed", "done", "skipped", "noted", "opted_out")


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _state(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=False, length=16)


def upgrade() -> None:
    with op.batch_alter_table("outbox_posts") as batch:
        batch.alter_column("chat_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("reply_target", sa.Text(), nullable=True))
    op.create_table(
        "welcomes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("username", sa.Text(), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("hashtag", sa.Text(), nullable=True),
        sa.Column("tweet_id", sa.Text(), nullable=True),
        sa.Column("first_at", _timestamp(), nullable=True),
        sa.Column("status", _state("welcome_status", *WELCOME_STATES), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("template", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("outbox_post_id", sa.Integer(), nullable=True),
        sa.Column("in_digest", sa.Boolean(), nullable=False),
        sa.Column("digest_post_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("updated_at", _timestamp(), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_post_id"],
            ["outbox_posts.id"],
            name=op.f("fk_welcomes_outbox_post_id_outbox_posts"),
        ),
        sa.ForeignKeyConstraint(
            ["digest_post_id"],
            ["outbox_posts.id"],
            name=op.f("fk_welcomes_digest_post_id_outbox_posts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_welcomes")),
        sa.UniqueConstraint("user_id", name=op.f("uq_welcomes_user_id")),
    )
    op.create_index(op.f("ix_welcomes_created_at"), "welcomes", ["created_at"])
    op.create_table(
        "opt_outs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Text(), nullable=True),
        sa.Column("username_key", sa.Text(), nullable=False),
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("tweet_id", sa.Text(), nullable=True),
        sa.Column("ack_post_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("removed_at", _timestamp(), nullable=True),
        sa.ForeignKeyConstraint(
            ["ack_post_id"], ["outbox_posts.id"], name=op.f("fk_opt_outs_ack_post_id_outbox_posts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opt_outs")),
        sa.UniqueConstraint("tweet_id", name=op.f("uq_opt_outs_tweet_id")),
    )
    op.create_index(op.f("ix_opt_outs_user_id"), "opt_outs", ["user_id"])
    op.create_index(op.f("ix_opt_outs_username_key"), "opt_outs", ["username_key"])


def downgrade() -> None:
    kept = op.get_bind().scalar(sa.text("SELECT count(*) FROM opt_outs"))
    if kept:
        raise RuntimeError(
            f"the database holds {kept} opt-out(s); going back before 0006_welcomes would "
            "delete them, and the bot could then contact people who asked it not to. "
            "Stay on this version of tcbot."
        )
    op.drop_index(op.f("ix_opt_outs_username_key"), table_name="opt_outs")
    op.drop_index(op.f("ix_opt_outs_user_id"), table_name="opt_outs")
    op.drop_table("opt_outs")
    op.drop_index(op.f("ix_welcomes_created_at"), table_name="welcomes")
    op.drop_table("welcomes")
    op.execute(f"DELETE FROM outbox_posts WHERE kind IN {NOT_CHAT_POSTS}")
    with op.batch_alter_table("outbox_posts") as batch:
        batch.drop_column("reply_target")
        batch.alter_column("chat_id", existing_type=sa.Integer(), nullable=False)
