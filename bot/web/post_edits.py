"""Changing the text of one post not yet sent, and reading the posts the hosting pages list.

The rules of an edit:
- only a QUEUED or HELD post changes (a post being sent, sent or finished never does);
- the text is checked as a schedule file's post is: not empty, at most 280 characters
  as X weighs them (bot/thread_text.weighted_length), and a chat's post still carries
  the chat's hashtag;
- a post of a chat loaded from a schedule file is not changed here: the next `tcbot
  schedule sync` would put the file's text back, so the host is told to change the file.

Works in the caller's transaction (call it first: see bot/outbox_queue.lock_for_write).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.models import OutboxPost, PostKind, PostStatus
from bot.errors import TcbotError
from bot.outbox_queue import UNSENT, describe, lock_for_write, locked_post
from bot.outbox_sync import origin_name
from bot.thread_text import MAX_WEIGHTED, has_hashtag, weighted_length

__all__ = ["TextError", "edit_text", "editable_post", "held_digests", "post_name"]


class TextError(TcbotError):
    """The new text cannot be posted as it is (the post itself could be changed)."""


def editable_post(session: Session, post_id: int) -> OutboxPost:
    """The post, if a host may change its text here; TcbotError saying why not otherwise."""
    post = session.get(OutboxPost, post_id)
    if post is None:
        raise TcbotError(f"there is no post #{post_id}", "see the list of posts to come")
    if post.status not in UNSENT:
        raise TcbotError(
            f"post #{post_id} is {post.status.value}, so its text can no longer change",
            "only posts still queued or held can be changed",
        )
    origin = post.chat.origin if post.chat is not None else ""
    if origin.startswith("file:"):
        where = origin_name(origin)
        raise TcbotError(
            f"post #{post_id} comes from {where}: the next 'tcbot schedule sync' would put"
            " the file's text back",
            f"change it in {where}, then run 'tcbot schedule sync'",
        )
    return post


def edit_text(session: Session, post_id: int, text: str, *, now: datetime) -> OutboxPost:
    """Give post `post_id` the text `text` (stripped), after the checks above."""
    lock_for_write(session)
    locked_post(session, post_id)
    post = editable_post(session, post_id)
    text = text.strip()
    if not text:
        raise TextError("the new text is empty", "write the post, or cancel it instead")
    length = weighted_length(text)
    if length > MAX_WEIGHTED:
        raise TextError(
            f"the new text would be {length} characters as X counts them (links count 23,"
            f" emoji and CJK 2); the limit is {MAX_WEIGHTED}",
            f"shorten it by {length - MAX_WEIGHTED}",
        )
    if post.chat is not None and not has_hashtag(text, post.chat.hashtag):
        raise TextError(
            f"the new text does not carry {post.chat.hashtag}",
            f"add {post.chat.hashtag}, so people following the chat see it",
        )
    if text != post.text:
        post.text = text
        post.updated_at = now
    session.flush()
    return post


def held_digests(session: Session) -> list[OutboxPost]:
    """The weekly welcome digests waiting for a host to release them, oldest first."""
    query = select(OutboxPost).where(
        OutboxPost.kind == PostKind.DIGEST, OutboxPost.status == PostStatus.HELD
    )
    return list(session.scalars(query.order_by(OutboxPost.due_at, OutboxPost.id)))


def post_name(post: OutboxPost) -> str:
    """'#12 (2026-12-16 #TraineeTalk Q3)', for messages."""
    return f"#{post.id} ({describe(post)})"
