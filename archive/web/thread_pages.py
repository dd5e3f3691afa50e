"""`/threads/{tweet_id}`: the conversation a tweet belongs to, as a tree of indented replies.

A conversation is every archived tweet with the tweet's `conversation_id` (X sets it
to the id of the post that began the thread), and that first post. Each reply sits
under the post it replies to; a reply whose parent is not in the archive, or is
hidden (a protected or suspended account's), starts a branch of its own. Nothing is
recursive (threads can be thousands deep) and a reply loop in bad data cannot hang
the page. At most MAX_TWEETS tweets are shown, oldest first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Text, and_, or_, select, type_coerce
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from archive.chat_labels import x_text
from archive.chat_rules import ChatTweet, order_key
from archive.db import as_utc
from archive.models import ReferenceKind, Tweet, TweetReference, User
from archive.visibility import hidden
from archive.web.chat_view import MAX_INDENT
from archive.web.reading import not_found, read_session, render, short_time, viewer

__all__ = ["ThreadRow", "thread_page", "thread_rows"]

MAX_TWEETS = 2000


@dataclass(frozen=True, slots=True)
class ThreadRow:
    depth: int
    indent: int
    tweet: ChatTweet
    orphan: bool  # replies to a post that is not shown
    focus: bool  # the tweet the address names


def load_conversation(session: Session, tweet_id: str) -> list[ChatTweet] | None:
    """The tweets of `tweet_id`'s conversation, oldest first; None when it is not archived."""
    found = session.execute(select(Tweet.conversation_id).where(Tweet.id == tweet_id)).first()
    if found is None:
        return None
    root = found[0] or tweet_id
    query = (
        select(
            Tweet.id,
            Tweet.author_id,
            User.username,
            User.name,
            hidden(User),
            Tweet.text,
            type_coerce(Tweet.created_at, Text).label("created"),
            Tweet.conversation_id,
            TweetReference.referenced_id,
        )
        .outerjoin(User, User.id == Tweet.author_id)
        .outerjoin(
            TweetReference,
            and_(
                TweetReference.tweet_id == Tweet.id, TweetReference.kind == ReferenceKind.REPLIED_TO
            ),
        )
        .where(or_(Tweet.conversation_id == root, Tweet.id == root))
        .order_by(Tweet.created_at, Tweet.id)
        .limit(MAX_TWEETS)
    )
    tweets = [_tweet(*row) for row in session.execute(query)]
    return sorted(tweets, key=order_key)


def _tweet(
    tweet_id: str, author: str | None, username: str | None, name: str | None, is_hidden: object,
    text: str, created: object, conversation: str | None, parent: str | None,
) -> ChatTweet:  # fmt: skip
    return ChatTweet(tweet_id, author, username or "", name or "", bool(is_hidden), x_text(text),
                     _utc(created), conversation, replied_to=parent)  # fmt: skip


def _utc(value: object) -> datetime:
    """created_at read as text on SQLite (naive UTC) or as an aware datetime on PostgreSQL."""
    if isinstance(value, datetime):
        return as_utc(value)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


def thread_rows(tweets: Sequence[ChatTweet], *, focus: str) -> list[ThreadRow]:
    """Depth-first rows (depth, tweet), oldest reply first; orphans start their own branch."""
    by_id = {t.id: t for t in tweets}
    children: dict[str, list[str]] = {}
    roots: list[str] = []
    for tweet in tweets:
        parent = tweet.replied_to
        if parent is not None and parent in by_id and parent != tweet.id:
            children.setdefault(parent, []).append(tweet.id)
        else:
            roots.append(tweet.id)
    rows: list[ThreadRow] = []
    seen: set[str] = set()
    for start in [*roots, *by_id]:  # (then anything a reply loop kept from the roots)
        stack = [(0, start)]
        while stack:
            depth, tweet_id = stack.pop()
            if tweet_id in seen:
                continue
            seen.add(tweet_id)
            tweet = by_id[tweet_id]
            orphan = depth == 0 and tweet.replied_to is not None
            rows.append(ThreadRow(depth, min(depth, MAX_INDENT), tweet, orphan, tweet_id == focus))
            stack.extend((depth + 1, c) for c in reversed(children.get(tweet_id, [])))
    return rows


def thread_page(request: Request) -> Response:
    tweet_id = str(request.path_params["tweet_id"])
    who = viewer(request)
    zone: ZoneInfo = request.app.state.zone
    missing = "That post is not in the archive. Search for it, or open it on X."
    if not tweet_id.isdigit():
        raise not_found(missing)
    with read_session(request) as session:
        tweets = load_conversation(session, tweet_id)
    if tweets is None:
        raise not_found(missing)
    shown = [t for t in tweets if who.include_protected or not t.protected]
    rows = thread_rows(shown, focus=tweet_id)
    return render(request, "thread.html", {
        "rows": rows,
        "times": {r.tweet.id: short_time(r.tweet.created_at, zone) for r in rows},
        "hidden": len(tweets) - len(shown),
        "tweet_id": tweet_id,
        "capped": len(tweets) >= MAX_TWEETS,
        "focus_hidden": all(t.id != tweet_id for t in shown),
    })  # fmt: skip
