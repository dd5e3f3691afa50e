"""Create the archive tables: users, tweets, references, hashtags, mentions, cursors, usage.

Revision ID: 0001
Revises: (none, the first)

Types are spelled out here rather than imported from archive.models, so this
migration keeps creating exactly this schema whatever the models become later.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _raw_json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _kind(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=False, length=16)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("username", sa.Text(), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("protected", sa.Boolean(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("raw", _raw_json(), nullable=True),
        sa.Column("first_seen_at", _timestamp(), nullable=False),
        sa.Column("fetched_at", _timestamp(), nullable=True),
        sa.Column("updated_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    op.create_index(op.f("ix_users_username"), "users", ["username"])

    op.create_table(
        "tweets",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=True),
        sa.Column("conversation_id", sa.Text(), nullable=True),
        sa.Column("in_reply_to_user_id", sa.Text(), nullable=True),
        sa.Column("lang", sa.Text(), nullable=True),
        sa.Column("reply_count", sa.Integer(), nullable=True),
        sa.Column("retweet_count", sa.Integer(), nullable=True),
        sa.Column("like_count", sa.Integer(), nullable=True),
        sa.Column("quote_count", sa.Integer(), nullable=True),
        sa.Column("raw", _raw_json(), nullable=False),
        sa.Column("fetched_at", _timestamp(), nullable=False),
        sa.Column("fetched_from", sa.Text(), nullable=False),
        sa.Column("updated_at", _timestamp(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_tweets_author_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tweets")),
    )
    op.create_index(op.f("ix_tweets_author_id"), "tweets", ["author_id"])
    op.create_index(op.f("ix_tweets_created_at"), "tweets", ["created_at"])
    op.create_index(op.f("ix_tweets_conversation_id"), "tweets", ["conversation_id"])

    op.create_table(
        "tweet_references",
        sa.Column("tweet_id", sa.Text(), nullable=False),
        sa.Column(
            "kind", _kind("reference_kind", "replied_to", "quoted", "retweeted"), nullable=False
        ),
        sa.Column("referenced_id", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tweet_id"],
            ["tweets.id"],
            name=op.f("fk_tweet_references_tweet_id_tweets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tweet_id", "kind", "referenced_id", name=op.f("pk_tweet_references")
        ),
    )
    op.create_index("ix_tweet_references_referenced_id", "tweet_references", ["referenced_id"])

    op.create_table(
        "tweet_hashtags",
        sa.Column("tweet_id", sa.Text(), nullable=False),
        sa.Column("tag", sa.Text(), nullable=False),
        sa.Column("tag_as_written", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tweet_id"],
            ["tweets.id"],
            name=op.f("fk_tweet_hashtags_tweet_id_tweets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tweet_id", "tag", name=op.f("pk_tweet_hashtags")),
    )
    op.create_index("ix_tweet_hashtags_tag", "tweet_hashtags", ["tag"])

    op.create_table(
        "tweet_mentions",
        sa.Column("tweet_id", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("username", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tweet_id"],
            ["tweets.id"],
            name=op.f("fk_tweet_mentions_tweet_id_tweets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tweet_id", "user_id", name=op.f("pk_tweet_mentions")),
    )
    op.create_index("ix_tweet_mentions_user_id", "tweet_mentions", ["user_id"])

    op.create_table(
        "poll_cursors",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("since_id", sa.Text(), nullable=False),
        sa.Column("updated_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_poll_cursors")),
    )

    op.create_table(
        "api_usage",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", _timestamp(), nullable=False),
        sa.Column("method", _kind("http_method", "GET", "POST", "PUT", "DELETE"), nullable=False),
        sa.Column("endpoint", sa.Text(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("posts_read", sa.Integer(), nullable=False),
        sa.Column("users_read", sa.Integer(), nullable=False),
        sa.Column("posts_created", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_usage")),
    )
    op.create_index(op.f("ix_api_usage_at"), "api_usage", ["at"])


def downgrade() -> None:
    op.drop_table("api_usage")
    op.drop_table("poll_cursors")
    op.drop_table("tweet_mentions")
    op.drop_table("tweet_hashtags")
    op.drop_table("tweet_references")
    op.drop_table("tweets")
    op.drop_table("users")
