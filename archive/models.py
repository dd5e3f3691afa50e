"""The archive's tables: users, tweets and what tweets refer to, poll cursors, API usage,
and the outbox (chats, their posts, and the poster's lease).

X ids are kept as text (they are 64-bit snowflakes and arrive as JSON strings);
code that orders them compares them as integers, never as strings. Every tweet and
user keeps the raw JSON object X sent, where it came from and when: the derived
columns are for querying, the raw object is the record. Timestamps are aware UTC
(`UTCDateTime`). Kinds are enums stored as their string values, not native enums,
so adding a kind later is not a schema change on PostgreSQL.

The schema itself is created by the Alembic migrations in `archive/migrations`;
a test checks that they and these models agree.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Enum, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.db import Base, UTCDateTime

# JSONB on PostgreSQL (queryable, compact), JSON text on SQLite.
RawJSON = JSON().with_variant(JSONB(), "postgresql")


class ReferenceKind(enum.Enum):
    """How a tweet refers to another (X's `referenced_tweets[].type`)."""

    REPLIED_TO = "replied_to"
    QUOTED = "quoted"
    RETWEETED = "retweeted"


class HttpMethod(enum.Enum):
    """The HTTP method of a counted API request."""

    GET = "GET"
    POST = "POST"
    PUT = "PUT"
    DELETE = "DELETE"


def _string_enum(kind: type[enum.Enum], name: str) -> Enum:
    """An enum stored as its values in a VARCHAR: no native type, no CHECK constraint."""
    return Enum(
        kind,
        name=name,
        native_enum=False,
        create_constraint=False,
        length=16,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class User(Base):
    """An X account seen in the archive.

    A tweet's author that the page carried no profile for is stored as a stub
    (only `id`, `fetched_at` and `raw` empty) so the tweet's foreign key holds;
    a later page with the profile fills it in. An account that is `protected` (as
    X says, or as the sweep found) or `suspended` (only the sweep finds that) is
    hidden wherever tweets are shown (archive/visibility.py); its rows stay.
    """

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    username: Mapped[str | None] = mapped_column(Text, index=True)
    name: Mapped[str | None] = mapped_column(Text)
    protected: Mapped[bool | None]
    suspended: Mapped[bool | None]  # set by the sweep (archive/compliance.py); X never sends it
    description: Mapped[str | None] = mapped_column(Text)
    raw: Mapped[dict[str, Any] | None] = mapped_column(RawJSON)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Tweet(Base):
    """A post, from a page's `data` or its `includes.tweets`.

    `fetched_at`/`fetched_from` say which copy is stored (the newest one);
    `updated_at` is when a stored column last changed (a metric, say). Deleting a
    tweet deletes its references, hashtags and mentions; deleting a user whose
    tweets are still archived is refused (forget the tweets first). `checked_at` is
    when the sweep last asked X whether the post still exists (bot/sweep.py).
    """

    __tablename__ = "tweets"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    author_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    conversation_id: Mapped[str | None] = mapped_column(Text, index=True)
    in_reply_to_user_id: Mapped[str | None] = mapped_column(Text)
    lang: Mapped[str | None] = mapped_column(Text)
    reply_count: Mapped[int | None] = mapped_column(Integer)
    retweet_count: Mapped[int | None] = mapped_column(Integer)
    like_count: Mapped[int | None] = mapped_column(Integer)
    quote_count: Mapped[int | None] = mapped_column(Integer)
    raw: Mapped[dict[str, Any]] = mapped_column(RawJSON)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fetched_from: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)  # by the sweep

    author: Mapped[User | None] = relationship()
    references: Mapped[list[TweetReference]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )
    hashtags: Mapped[list[TweetHashtag]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )
    mentions: Mapped[list[TweetMention]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )


class TweetReference(Base):
    """A reply, quote or retweet link; the referenced tweet need not be archived."""

    __tablename__ = "tweet_references"
    __table_args__ = (Index("ix_tweet_references_referenced_id", "referenced_id"),)

    tweet_id: Mapped[str] = mapped_column(
        ForeignKey("tweets.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[ReferenceKind] = mapped_column(
        _string_enum(ReferenceKind, "reference_kind"), primary_key=True
    )
    referenced_id: Mapped[str] = mapped_column(Text, primary_key=True)


class TweetHashtag(Base):
    """A hashtag in a tweet: `tag` lower-cased (for lookups), `tag_as_written` for display."""

    __tablename__ = "tweet_hashtags"
    __table_args__ = (Index("ix_tweet_hashtags_tag", "tag"),)

    tweet_id: Mapped[str] = mapped_column(
        ForeignKey("tweets.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(Text, primary_key=True)
    tag_as_written: Mapped[str] = mapped_column(Text)


class TweetMention(Base):
    """An @mention of an account in a tweet (user id as X resolved it, username as written)."""

    __tablename__ = "tweet_mentions"
    __table_args__ = (Index("ix_tweet_mentions_user_id", "user_id"),)

    tweet_id: Mapped[str] = mapped_column(
        ForeignKey("tweets.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(Text, primary_key=True)
    username: Mapped[str] = mapped_column(Text)


class PollCursor(Base):
    """Where a poll got to: the newest X id it has stored (compared as a number)."""

    __tablename__ = "poll_cursors"

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    since_id: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ApiUsage(Base):
    """One request to the X API and what it cost: posts and users read, posts created."""

    __tablename__ = "api_usage"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    method: Mapped[HttpMethod] = mapped_column(_string_enum(HttpMethod, "http_method"))
    endpoint: Mapped[str] = mapped_column(Text)
    status: Mapped[int | None] = mapped_column(Integer)
    posts_read: Mapped[int] = mapped_column(Integer, default=0)
    users_read: Mapped[int] = mapped_column(Integer, default=0)
    posts_created: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    purpose: Mapped[str | None] = mapped_column(Text)  # "chat:12", "hashtag:#x", "sweep", ...


class ForgottenUser(Base):
    """A person who asked to be forgotten: their posts and profile are never archived again.

    One row per account the archive knew under that username (`user_id`, which
    survives a change of username), or one with `user_id` None when it knew none.
    `username_key` is the username lower-cased, without '@'. Ingest and imports
    drop such a person's posts (archive/forgotten.py); nothing else is keyed on it.
    """

    __tablename__ = "forgotten_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username_key: Mapped[str] = mapped_column(Text, index=True)
    user_id: Mapped[str | None] = mapped_column(Text, index=True)
    forgotten_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --- What the scheduled tracker keeps (bot/tracker.py drives it). ---


class CollectionGap(Base):
    """Time a hashtag's polling could not cover: its cursor had fallen out of X's 7-day window."""

    __tablename__ = "collection_gaps"
    __table_args__ = (Index("ix_collection_gaps_starts_at", "starts_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    hashtag: Mapped[str] = mapped_column(Text)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TrackerMark(Base):
    """A one-off tracker job that is done (a chat's late sweep), by name."""

    __tablename__ = "tracker_marks"

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    done_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RootLookup(Base):
    """A post the search left out (a conversation root, a replied-to post), looked up once."""

    __tablename__ = "root_lookups"

    tweet_id: Mapped[str] = mapped_column(Text, primary_key=True)
    looked_up_at: Mapped[datetime] = mapped_column(UTCDateTime)
    found: Mapped[bool]


# --- The outbox: what the bot will post, and what it did post (bot/outbox.py drives it). ---


class PostKind(enum.Enum):
    """What a chat post is. Its key number: reminders the minutes before the start
    (1440, 60), the intro and the closing 0, questions 1..n."""

    REMINDER = "reminder"
    INTRO = "intro"
    QUESTION = "question"
    CLOSING = "closing"
    # Not chat posts (chat_id is None): bot/welcomes.py queues them, keyed by series
    # "welcome" (number = welcomes.id), "optout" (opt_outs.id), "digest" (hashtag's place).
    WELCOME = "welcome"  # a reply welcoming a newcomer
    ACK = "ack"  # the one reply telling a person who opted out that they will not hear again
    DIGEST = "digest"  # the weekly post welcoming the week's newcomers together


def post_label(kind: PostKind, number: int) -> str:
    """'Q3', 'intro', 'closing', 'reminder 24 h before', 'reminder 90 min before',
    'welcome', 'opt-out reply', 'weekly welcome'."""
    if kind is PostKind.QUESTION:
        return f"Q{number}"
    if kind is PostKind.REMINDER:
        ahead = f"{number // 60} h" if number % 60 == 0 else f"{number} min"
        return f"reminder {ahead} before"
    if kind is PostKind.ACK:
        return "opt-out reply"
    if kind is PostKind.DIGEST:
        return "weekly welcome"
    return str(kind.value)


class PostStatus(enum.Enum):
    """Where an outbox post is in its life.

    QUEUED and HELD are unsent (a host may still change them); SENDING is claimed by
    a poster that may already have called X; SENT, FAILED, MISSED and CANCELLED are
    final.
    """

    QUEUED = "queued"
    HELD = "held"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    MISSED = "missed"
    CANCELLED = "cancelled"


class ChatStatus(enum.Enum):
    """Whether a chat is still planned (CANCELLED: removed from its file, or skipped)."""

    ACTIVE = "active"
    CANCELLED = "cancelled"


class OutboxChat(Base):
    """One chat of a series on one (local) date, and where it was queued from.

    `origin` is "file:<path>" for a schedule file, or "cli"/"web": a sync only ever
    changes the chats of its own origin.
    """

    __tablename__ = "outbox_chats"
    __table_args__ = (UniqueConstraint("series", "chat_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    series: Mapped[str] = mapped_column(Text)
    chat_date: Mapped[date] = mapped_column(Date)
    topic: Mapped[str] = mapped_column(Text)
    hashtag: Mapped[str] = mapped_column(Text)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(Text)
    status: Mapped[ChatStatus] = mapped_column(_string_enum(ChatStatus, "chat_status"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    posts: Mapped[list[OutboxPost]] = relationship(
        back_populates="chat", order_by=lambda: [OutboxPost.due_at, OutboxPost.id]
    )


class OutboxPost(Base):
    """One post the bot is to make, keyed by (series, chat_date, kind, number).

    `planned_at` is the due time the file gave; `due_at` is when it is due now
    (re-anchored after a late thread post). `not_before` defers it (rate limit,
    backoff). `acquired_by`/`acquired_until` are the claim of the poster sending it;
    `attempts` counts claims. `x_id` and `replied_to_x_id` record what X has.
    Welcomes, acknowledgements and digests belong to no chat (`chat_id` None); a
    welcome or acknowledgement replies to `reply_target`, the person's post.
    """

    __tablename__ = "outbox_posts"
    __table_args__ = (
        UniqueConstraint("series", "chat_date", "kind", "number"),
        Index("ix_outbox_posts_status_due_at", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chat_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_chats.id"), index=True)
    series: Mapped[str] = mapped_column(Text)
    chat_date: Mapped[date] = mapped_column(Date)
    kind: Mapped[PostKind] = mapped_column(_string_enum(PostKind, "post_kind"))
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    planned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[PostStatus] = mapped_column(_string_enum(PostStatus, "post_status"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    x_id: Mapped[str | None] = mapped_column(Text)
    thread: Mapped[bool]
    replied_to_x_id: Mapped[str | None] = mapped_column(Text)
    reply_target: Mapped[str | None] = mapped_column(Text)
    lateness_seconds: Mapped[int] = mapped_column(Integer)
    acquired_by: Mapped[str | None] = mapped_column(Text)
    acquired_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    chat: Mapped[OutboxChat | None] = relationship(back_populates="posts")


class Lease(Base):
    """A named lease (e.g. "poster"): only its holder acts until `expires_at` (bot/lease.py)."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    holder: Mapped[str] = mapped_column(Text)
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --- Chats: a hashtag, a host and a time window (archive/chats.py records them). ---


class ChatOrigin(enum.Enum):
    """Where a chat's record came from: the bot's outbox, or `tcbot archive chat add`."""

    BOT = "bot"
    MANUAL = "manual"


class Chat(Base):
    """A chat to read as a transcript: tweets with `hashtag` between `starts_at` and `ends_at`.

    `host` is the host account's username (no @; empty while unknown). A chat the bot
    ran (`origin` BOT) points at its outbox chat and lists its posts in `posts`; a
    manual chat's questions are found in the archive when its transcript is built.
    """

    __tablename__ = "chats"
    __table_args__ = (Index("ix_chats_starts_at", "starts_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    hashtag: Mapped[str] = mapped_column(Text)
    host: Mapped[str] = mapped_column(Text)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    topic: Mapped[str | None] = mapped_column(Text)
    origin: Mapped[ChatOrigin] = mapped_column(_string_enum(ChatOrigin, "chat_origin"))
    outbox_chat_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_chats.id", ondelete="SET NULL"), unique=True
    )

    posts: Mapped[list[ChatPost]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by=lambda: ChatPost.number
    )


class ChatPost(Base):
    """One of the host's posts that shape a chat (intro, question n, closing) and its X id."""

    __tablename__ = "chat_posts"

    chat_id: Mapped[int] = mapped_column(
        ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[PostKind] = mapped_column(
        _string_enum(PostKind, "chat_post_kind"), primary_key=True
    )
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    tweet_id: Mapped[str] = mapped_column(Text)


# --- Welcomes and opt-outs (bot/welcomes.py drives them). ---


class WelcomeStatus(enum.Enum):
    """Where a person is in being welcomed; one row per person, ever.

    KNOWN: in the archive before welcomes began, or imported: never welcomed.
    QUEUED: a welcome reply is in the outbox (`outbox_post_id`); SENT once X has it.
    LISTED: waiting for an organiser (mode `organisers`, or a reply X would not allow).
    DONE / SKIPPED: an organiser welcomed them by hand / decided not to.
    NOTED: only counted in the weekly digest (mode `digest` alone).
    OPTED_OUT: they asked not to be contacted before anything went out.
    """

    KNOWN = "known"
    QUEUED = "queued"
    SENT = "sent"
    LISTED = "listed"
    DONE = "done"
    SKIPPED = "skipped"
    NOTED = "noted"
    OPTED_OUT = "opted_out"


class Welcome(Base):
    """A person tcbot has seen arrive on a tracked hashtag, and what it did about it.

    `user_id` is unique: a person is decided about once. `tweet_id` is the post they
    are welcomed for (the one a reply answers); `in_digest` marks them for the weekly
    digest, `digest_post_id` the digest that counted them.
    """

    __tablename__ = "welcomes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(Text, unique=True)
    username: Mapped[str | None] = mapped_column(Text)
    name: Mapped[str | None] = mapped_column(Text)
    hashtag: Mapped[str | None] = mapped_column(Text)
    tweet_id: Mapped[str | None] = mapped_column(Text)
    first_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[WelcomeStatus] = mapped_column(_string_enum(WelcomeStatus, "welcome_status"))
    text: Mapped[str | None] = mapped_column(Text)
    template: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    outbox_post_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_posts.id"))
    in_digest: Mapped[bool] = mapped_column(default=False)
    digest_post_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_posts.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OptOut(Base):
    """A person who asked never to be contacted by the bot. Kept for ever: `tcbot archive
    forget` leaves it, and `tcbot optout remove` only sets `removed_at`.

    `tweet_id` is their request on X (unique: one post opts out once, even if it is read
    again after a removal); `ack_post_id` the outbox reply telling them so, at most one.
    """

    __tablename__ = "opt_outs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str | None] = mapped_column(Text, index=True)
    username_key: Mapped[str] = mapped_column(Text, index=True)
    username: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)  # "reply" (they asked on X) or "organiser"
    tweet_id: Mapped[str | None] = mapped_column(Text, unique=True)
    ack_post_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_posts.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
