"""Creating and deleting posts under X's rules: length, duplicates, the 2026 reply gate.

Shared by POST /2/tweets and the admin endpoint (which bypasses only the reply/quote gate).
Every refusal is an `ApiError` with X's status and body (X-API-NOTES.md §2.1, §3).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.sandbox import text as post_text
from bot.sandbox.problems import (
    ApiError,
    duplicate_content,
    invalid_request,
    not_found_item,
    problem,
    quote_not_allowed,
    reply_not_allowed,
    reply_target_gone,
)
from bot.sandbox.records import Tweet, User
from bot.sandbox.state import State

__all__ = ["Draft", "create_post", "delete_post", "may_engage"]

_TOO_LONG = (
    "Your Tweet text is too long. For more information on how Twitter determines text length "
    "see https://github.com/twitter/twitter-text."
)


@dataclass(frozen=True, slots=True)
class Draft:
    """What a client asked to post. `gate` False skips the reply/quote gate (admin only)."""

    author: User
    text: str
    created_at: datetime
    reply_to: str | None = None
    quote_of: str | None = None
    retweet_of: str | None = None
    gate: bool = True
    backdated: bool = False


def create_post(state: State, draft: Draft) -> Tweet:
    """Store the post `draft` describes, or raise X's error for it."""
    with state.lock:
        if draft.retweet_of is not None:
            return _retweet(state, draft, draft.retweet_of)
        if not draft.text.strip():
            raise invalid_request("Post text must not be empty", {"text": [draft.text]})
        parent = _visible_parent(state, draft)
        quoted = _quoted(state, draft)
        text, display_start = draft.text, 0
        if parent is not None and parent.author_id != draft.author.id:
            # X adds the parent author's @name to a reply, but not to a self-reply (threads)
            parent_author = state.user(parent.author_id)
            assert parent_author is not None
            text = post_text.with_reply_prefix(draft.text, parent_author.username)
            display_start = post_text.reply_prefix_length(text, parent_author.username)
        if post_text.weighted_length(text[display_start:]) > post_text.MAX_WEIGHTED_LENGTH:
            raise invalid_request(_TOO_LONG, {"text": [draft.text]})
        if state.is_duplicate(draft.author.id, text):
            raise duplicate_content()
        post_id = state.new_id(draft.created_at, backdated=draft.backdated)
        tweet = Tweet(
            id=post_id,
            text=text,
            author_id=draft.author.id,
            created_at=draft.created_at,
            conversation_id=parent.conversation_id if parent else post_id,
            in_reply_to_tweet_id=parent.id if parent else None,
            in_reply_to_user_id=parent.author_id if parent else None,
            quoted_tweet_id=quoted.id if quoted else None,
            display_start=display_start,
        )
        state.insert(tweet)
        return tweet


def _visible_parent(state: State, draft: Draft) -> Tweet | None:
    if draft.reply_to is None:
        return None
    parent = _visible(state, draft.reply_to, draft.author)
    if parent is None:
        raise reply_target_gone()
    if draft.gate and not may_engage(state, parent, draft.author):
        raise reply_not_allowed()
    return parent


def _quoted(state: State, draft: Draft) -> Tweet | None:
    if draft.quote_of is None:
        return None
    quoted = _visible(state, draft.quote_of, draft.author)
    if quoted is None:
        raise problem(
            403,
            "Forbidden",
            "You attempted to quote a Tweet that is deleted or not visible to you.",
        )
    if draft.gate and not may_engage(state, quoted, draft.author):
        raise quote_not_allowed()
    return quoted


def _visible(state: State, tweet_id: str, viewer: User) -> Tweet | None:
    tweet = state.tweet(tweet_id)
    if tweet is None:
        return None
    author = state.user(tweet.author_id)
    if author is not None and (author.suspended or (author.protected and author.id != viewer.id)):
        return None
    return tweet


def may_engage(state: State, target: Tweet, actor: User) -> bool:
    """X's 2026 gate: `actor` may reply to (or quote) `target` only if it is the author,
    is @mentioned in it, or `target` quotes one of the actor's posts."""
    if target.author_id == actor.id:
        return True
    if any(e.value.lower() == actor.username.lower() for e in post_text.mentions(target.text)):
        return True
    quoted = state.tweet(target.quoted_tweet_id) if target.quoted_tweet_id else None
    return quoted is not None and quoted.author_id == actor.id


def _retweet(state: State, draft: Draft, original_id: str) -> Tweet:
    original = _visible(state, original_id, draft.author)
    if original is None or original.retweeted_tweet_id is not None:
        raise problem(404, "Not Found Error", f"Could not find tweet with id: [{original_id}].")
    author = state.user(original.author_id)
    assert author is not None
    post_id = state.new_id(draft.created_at, backdated=draft.backdated)
    tweet = Tweet(
        id=post_id,
        text=f"RT @{author.username}: {original.text}",
        author_id=draft.author.id,
        created_at=draft.created_at,
        conversation_id=post_id,
        retweeted_tweet_id=original.id,
    )
    state.insert(tweet)
    return tweet


def delete_post(state: State, tweet_id: str, *, actor: User) -> None:
    """Delete `actor`'s post `tweet_id`, or raise X's error (not found / not theirs)."""
    with state.lock:
        tweet = state.tweet(tweet_id)
        if tweet is None:
            item = not_found_item(tweet_id, parameter="id")
            raise ApiError(404, {**item, "status": 404, "errors": [item]})
        if tweet.author_id != actor.id:
            raise problem(403, "Forbidden", "You are not allowed to delete this Tweet.")
        state.remove(tweet_id)
