"""Add what the scheduled tracker keeps: collection gaps, one-off marks, root lookups, purposes.

Revision ID: 0004_tracker
Revises: 0003_search

- `collection_gaps`: a stretch of time a hashtag's polling could not cover (its
  cursor had fallen out of X's 7-day search window); `tcbot status` and the
  transcripts of chats it overlaps show it.
- `tracker_marks`: names of one-off jobs done (a chat's late sweeps), so a restart
  neither repeats nor skips them.
- `root_lookups`: conversation roots and replied-to posts the search left out,
  looked up once each (found or not), so none is paid for twice.
- `api_usage.purpose`: what a request was for ("chat:12", "hashtag:#traineetalk",
  "roots", "sweep", "post"), so `tcbot status` can say what each chat cost.

As in 0001, types are spelled out here, not imported from archive.models.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004_tracker"
down_revision: str | None = "0003_search"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "collection_gaps",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("hashtag", sa.Text(), nullable=False),
        sa.Column("starts_at", _timestamp(), nullable=False),
        sa.Column("ends_at", _timestamp(), nullable=False),
        sa.Column("recorded_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collection_gaps")),
    )
    op.create_index("ix_collection_gaps_starts_at", "collection_gaps", ["starts_at"])
    op.create_table(
        "tracker_marks",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("done_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_tracker_marks")),
    )
    op.create_table(
        "root_lookups",
        sa.Column("tweet_id", sa.Text(), nullable=False),
        sa.Column("looked_up_at", _timestamp(), nullable=False),
        sa.Column("found", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("tweet_id", name=op.f("pk_root_lookups")),
    )
    op.add_column("api_usage", sa.Column("purpose", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_usage") as batch:
        batch.drop_column("purpose")
    op.drop_table("root_lookups")
    op.drop_table("tracker_marks")
    op.drop_index("ix_collection_gaps_starts_at", table_name="collection_gaps")
    op.drop_table("collection_gaps")
