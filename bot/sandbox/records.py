"""The sandbox's stored things: users and posts, as immutable values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["Tweet", "User"]


@dataclass(frozen=True, slots=True)
class User:
    """An account. `protected` accounts' posts are visible only to themselves;
    `suspended` accounts' posts and profile to nobody (X keeps them, unshown)."""

    id: str
    username: str
    name: str
    protected: bool
    created_at: datetime
    suspended: bool = False


@dataclass(frozen=True, slots=True)
class Tweet:
    """A post as stored: the text includes a reply's auto-populated `@parent_author `.

    `display_start` is the length of that prefix (it does not count towards 280 and is
    outside `display_text_range`). A retweet has `retweeted_tweet_id` and X's `RT @x: ` text.
    """

    id: str
    text: str
    author_id: str
    created_at: datetime
    conversation_id: str
    in_reply_to_tweet_id: str | None = None
    in_reply_to_user_id: str | None = None
    quoted_tweet_id: str | None = None
    retweeted_tweet_id: str | None = None
    display_start: int = 0
