"""Opt-outs: people who asked never to be contacted by the bot, and the one reply saying so.

A person opts out by replying to (or mentioning) the bot with a request to stop
(bot/optout_phrases.py decides what counts), or an organiser adds them with `tcbot
optout add USER`. From then on:

- no welcome is queued for them, and any welcome still queued or held is cancelled
  in the same transaction (a welcome already handed to X cannot be called back);
- they leave the organisers' list and the weekly digest;
- when they asked on X, and only then, one acknowledgement replies to their request
  ("Understood, we won't message you again"). Their post addressed the bot, so X
  allows the reply. One person gets one acknowledgement: a second "stop" is noted,
  not answered.

Rows are kept for ever. `tcbot optout remove` sets `removed_at` (an organiser's
decision, after the person asked), and the request post stays recorded, so reading
it again never opts them out a second time. `tcbot archive forget` leaves opt-outs
alone, and migration 0006's downgrade refuses to run while any exist.

An opt-out matches a person by X user id, or by username (lower-cased) when an
organiser named someone the archive does not know yet.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from archive.forgotten import username_key
from archive.models import (
    OptOut,
    OutboxPost,
    PostKind,
    PostStatus,
    Tweet,
    TweetMention,
    User,
    Welcome,
    WelcomeStatus,
)
from bot.errors import TcbotError
from bot.optout_phrases import is_opt_out

__all__ = [
    "ACK_LATENESS",
    "ACK_TEXTS",
    "OptOutRow",
    "add_opt_out",
    "is_opted_out",
    "list_opt_outs",
    "opted_out_keys",
    "record_request",
    "remove_opt_out",
    "scan_requests",
]

log = logging.getLogger(__name__)

ACK_LATENESS = timedelta(days=2)  # an acknowledgement later than this is not sent
ACK_TEXTS = (  # varied: X refuses an account's identical posts
    "Understood, we won't message you again. Thank you for letting us know.",
    "Understood: we won't message you again. Take care.",
    "Thanks for telling us. Understood, we won't message you again.",
)
ORGANISER = "organiser"
REPLY = "reply"


@dataclass(frozen=True, slots=True)
class OptOutRow:
    """One opt-out as `tcbot optout list` shows it."""

    username: str
    user_id: str | None
    source: str
    created_at: datetime
    tweet_id: str | None
    acknowledged: bool


def is_opted_out(session: Session, *, user_id: str | None, username: str | None) -> bool:
    """True when an opt-out in force matches this id or username."""
    match = []
    if user_id:
        match.append(OptOut.user_id == user_id)
    if username:
        match.append(OptOut.username_key == username_key(username))
    if not match:
        return False
    query = select(OptOut.id).where(OptOut.removed_at.is_(None), or_(*match)).limit(1)
    return session.scalar(query) is not None


def opted_out_keys(session: Session) -> tuple[set[str], set[str]]:
    """(user ids, lower-cased usernames) of every opt-out in force."""
    rows = session.execute(
        select(OptOut.user_id, OptOut.username_key).where(OptOut.removed_at.is_(None))
    ).all()
    return {r.user_id for r in rows if r.user_id}, {r.username_key for r in rows}


def record_request(
    session: Session, tweet: Tweet, *, username: str, now: datetime, acknowledge: bool = True
) -> bool:
    """Opt out the author of `tweet`, a request on X; queue the one acknowledgement.

    False (nothing done) when this post was recorded before, or the person is already
    opted out (noted in the log: they are not answered twice). Does not commit.
    """
    if session.scalar(select(OptOut.id).where(OptOut.tweet_id == tweet.id)) is not None:
        return False
    if is_opted_out(session, user_id=tweet.author_id, username=username):
        log.info("@%s asked again not to be contacted (post %s); already noted", username, tweet.id)
        return False
    opt_out = OptOut(
        user_id=tweet.author_id, username_key=username_key(username), username=username,
        source=REPLY, tweet_id=tweet.id, created_at=now,
    )  # fmt: skip
    session.add(opt_out)
    session.flush()
    if acknowledge and not _acknowledged_before(session, tweet.author_id):
        opt_out.ack_post_id = _queue_ack(session, opt_out, tweet_id=tweet.id, now=now)
    _stop_welcoming(session, user_id=tweet.author_id, username=username, now=now)
    log.info("@%s opted out (post %s)", username, tweet.id)
    return True


def add_opt_out(session: Session, username: str, *, now: datetime) -> OptOut:
    """An organiser's opt-out for `username` (no acknowledgement: they asked elsewhere)."""
    key = username_key(username)
    if not key or not key.replace("_", "").isalnum() or len(key) > 15:
        raise TcbotError(
            f"{username!r} is not an X username", "give the username, e.g. tcbot optout add ana_k"
        )
    user = session.scalar(select(User).where(func.lower(User.username) == key))
    user_id = user.id if user is not None else None
    if is_opted_out(session, user_id=user_id, username=key):
        raise TcbotError(f"@{key} has already opted out", "see 'tcbot optout list'")
    shown = user.username if user is not None and user.username else key
    opt_out = OptOut(
        user_id=user_id, username_key=key, username=shown, source=ORGANISER, created_at=now
    )
    session.add(opt_out)
    _stop_welcoming(session, user_id=user_id, username=key, now=now)
    session.flush()
    return opt_out


def remove_opt_out(session: Session, username: str, *, now: datetime) -> int:
    """End the opt-outs in force for `username`; returns how many. The rows stay."""
    key = username_key(username)
    rows = session.scalars(
        select(OptOut).where(OptOut.username_key == key, OptOut.removed_at.is_(None))
    ).all()
    if not rows:
        raise TcbotError(f"@{key} has not opted out", "see 'tcbot optout list'")
    for row in rows:
        row.removed_at = now
    return len(rows)


def list_opt_outs(session: Session) -> list[OptOutRow]:
    """Opt-outs in force, newest first."""
    rows = session.scalars(
        select(OptOut).where(OptOut.removed_at.is_(None)).order_by(OptOut.created_at.desc())
    ).all()
    return [
        OptOutRow(
            r.username, r.user_id, r.source, r.created_at, r.tweet_id, r.ack_post_id is not None
        )
        for r in rows
    ]


def scan_requests(
    session: Session,
    *,
    bot_id: str,
    bot_username: str,
    since: datetime | None,
    now: datetime,
    acknowledge: bool = True,
) -> int:
    """Record every archived request to stop among posts that address the bot (reply to it
    or mention it), created since `since` (None: all of them). Returns how many were new.

    Posts already recorded as requests are skipped by the query, so a scan costs a
    look at the posts addressing the bot, nothing more. `acknowledge=False` (requests
    found in imported history) records them without replying.
    """
    mentions_bot = select(TweetMention.tweet_id).where(
        or_(
            TweetMention.user_id == bot_id,
            func.lower(TweetMention.username) == bot_username.lower(),
        )
    )
    query = (
        select(Tweet, User.username)
        .join(User, User.id == Tweet.author_id)
        .where(
            or_(Tweet.in_reply_to_user_id == bot_id, Tweet.id.in_(mentions_bot)),
            Tweet.author_id != bot_id,
            ~Tweet.id.in_(select(OptOut.tweet_id).where(OptOut.tweet_id.is_not(None))),
        )
        .order_by(Tweet.created_at, Tweet.id)
    )
    if since is not None:
        query = query.where(Tweet.created_at >= since)
    recorded = 0
    for tweet, username in _requests((row[0], row[1]) for row in session.execute(query)):
        who = username or tweet.author_id or ""
        if record_request(session, tweet, username=who, now=now, acknowledge=acknowledge):
            recorded += 1
    return recorded


def _requests(rows: Iterable[tuple[Tweet, str | None]]) -> Iterable[tuple[Tweet, str | None]]:
    for tweet, username in rows:
        if tweet.author_id and is_opt_out(tweet.text):
            yield tweet, username


def _acknowledged_before(session: Session, user_id: str | None) -> bool:
    if not user_id:
        return False
    query = select(OptOut.id).where(OptOut.user_id == user_id, OptOut.ack_post_id.is_not(None))
    return session.scalar(query.limit(1)) is not None


def _queue_ack(session: Session, opt_out: OptOut, *, tweet_id: str, now: datetime) -> int:
    text = ACK_TEXTS[opt_out.id % len(ACK_TEXTS)]
    post = OutboxPost(
        chat_id=None, series="optout", chat_date=now.date(), kind=PostKind.ACK,
        number=opt_out.id, text=text, planned_at=now, due_at=now, status=PostStatus.QUEUED,
        attempts=0, thread=False, reply_target=tweet_id,
        lateness_seconds=int(ACK_LATENESS.total_seconds()), created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(post)
    session.flush()
    return post.id


def _stop_welcoming(session: Session, *, user_id: str | None, username: str, now: datetime) -> None:
    """Cancel the person's unsent welcome and take them off the list and the digest."""
    match = [func.lower(Welcome.username) == username_key(username)]
    if user_id:
        match.append(Welcome.user_id == user_id)
    for welcome in session.scalars(select(Welcome).where(or_(*match))).all():
        post = session.get(OutboxPost, welcome.outbox_post_id) if welcome.outbox_post_id else None
        if post is not None and post.status in (PostStatus.QUEUED, PostStatus.HELD):
            post.status = PostStatus.CANCELLED
            post.last_error = "the person opted out"
            post.updated_at = now
        on_its_way = post is not None and post.status in (PostStatus.SENDING, PostStatus.SENT)
        pending = (WelcomeStatus.QUEUED, WelcomeStatus.LISTED, WelcomeStatus.NOTED)
        if welcome.status in pending and not on_its_way:
            welcome.status = WelcomeStatus.OPTED_OUT
            welcome.note = "opted out"
            welcome.updated_at = now
        if welcome.digest_post_id is None:
            welcome.in_digest = False
