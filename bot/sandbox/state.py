"""The sandbox's world: users, posts, the id sequence, and their persistence.

One `State` per server, shared by its request threads: every method takes `lock` (an RLock,
so a caller can hold it across several calls, e.g. check for a duplicate, then insert).
Indices kept beside the posts: per-author texts (duplicate check), reply/quote/retweet
children (public_metrics), a newest-first order (search) and each post's `Searchable`.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import defaultdict
from dataclasses import replace
from datetime import datetime

from bot.sandbox import text as post_text
from bot.sandbox.credentials import BOT_NAME, BOT_USER_ID
from bot.sandbox.ids import snowflake, to_ms
from bot.sandbox.query import Searchable
from bot.sandbox.records import Tweet, User
from bot.sandbox.store import MemoryStore, Store

__all__ = ["State", "UserError"]

log = logging.getLogger(__name__)

_USERNAME = re.compile(r"[A-Za-z0-9_]{1,15}")
_LAST_ID = "last_id"
_CLOCK_OFFSET = "clock_offset_seconds"


class UserError(ValueError):
    """An account cannot be created as asked (bad or taken username)."""


class State:
    """Users and posts in memory, written through to `store`."""

    def __init__(self, *, store: Store | None = None, bot_username: str, now: datetime) -> None:
        self.lock = threading.RLock()
        self._store: Store = store or MemoryStore()
        self._clear_memory()
        snapshot = self._store.load()
        for user in snapshot.users:
            self._put_user_memory(user)
        for tweet in snapshot.tweets:
            self._index(tweet)
        self._last_id = int(snapshot.meta.get(_LAST_ID, "0"))
        self.clock_offset = float(snapshot.meta.get(_CLOCK_OFFSET, "0"))
        self.ensure_bot(bot_username, now=now)

    def _clear_memory(self) -> None:
        self._users: dict[str, User] = {}
        self._by_username: dict[str, str] = {}
        self._tweets: dict[str, Tweet] = {}
        self._texts: dict[str, set[str]] = defaultdict(set)
        self._children: dict[tuple[str, str], set[str]] = defaultdict(set)
        self._order: list[Tweet] | None = None
        self._searchable: dict[str, Searchable] = {}

    # users -------------------------------------------------------------------------------
    def user(self, user_id: str) -> User | None:
        with self.lock:
            return self._users.get(user_id)

    def user_by_username(self, username: str) -> User | None:
        with self.lock:
            user_id = self._by_username.get(username.lower())
            return self._users.get(user_id) if user_id else None

    def users(self) -> list[User]:
        with self.lock:
            return sorted(self._users.values(), key=lambda u: int(u.id))

    def add_user(self, *, username: str, name: str, protected: bool, now: datetime) -> User:
        """A new account with the next id; UserError if the username is invalid or taken."""
        with self.lock:
            self._check_username(username)
            next_id = str(max(int(uid) for uid in self._users) + 1)
            user = User(next_id, username, name or username, protected, now)
            self._save_user(user)
            return user

    def update_user(
        self, user_id: str, *, protected: bool | None = None, suspended: bool | None = None
    ) -> User | None:
        """Make an account protected or public, suspended or reinstated; None if unknown."""
        with self.lock:
            user = self._users.get(user_id)
            if user is None:
                return None
            changed = replace(
                user,
                protected=user.protected if protected is None else protected,
                suspended=user.suspended if suspended is None else suspended,
            )
            self._save_user(changed)
            return changed

    def ensure_bot(self, username: str, *, now: datetime) -> User:
        """The bot account (fixed id) exists and is called `username`."""
        with self.lock:
            bot = self._users.get(BOT_USER_ID)
            if bot is not None and bot.username == username:
                return bot
            self._check_username(username, allow_id=BOT_USER_ID)
            if bot is None:
                bot = User(BOT_USER_ID, username, BOT_NAME, False, now)
            else:
                log.info("Renaming the sandbox bot from @%s to @%s", bot.username, username)
                self._by_username.pop(bot.username.lower(), None)
                bot = User(bot.id, username, bot.name, bot.protected, bot.created_at)
            self._save_user(bot)
            return bot

    def _check_username(self, username: str, *, allow_id: str | None = None) -> None:
        if not _USERNAME.fullmatch(username):
            raise UserError(
                f"username {username!r} is not valid: use 1-15 letters, digits or underscores"
            )
        taken = self._by_username.get(username.lower())
        if taken is not None and taken != allow_id:
            raise UserError(f"username @{username} is taken; choose another")

    def _save_user(self, user: User) -> None:
        self._put_user_memory(user)
        self._searchable.clear()
        self._store.put_user(user)

    def _put_user_memory(self, user: User) -> None:
        self._users[user.id] = user
        self._by_username[user.username.lower()] = user.id

    # posts -------------------------------------------------------------------------------
    def tweet(self, tweet_id: str) -> Tweet | None:
        with self.lock:
            return self._tweets.get(tweet_id)

    def newest_first(self) -> list[Tweet]:
        """All posts, newest (highest id) first; the list must not be modified."""
        with self.lock:
            if self._order is None:
                self._order = sorted(self._tweets.values(), key=lambda t: -int(t.id))
            return self._order

    def new_id(self, created_at: datetime, *, backdated: bool = False) -> str:
        """The id for a post created at `created_at`: time-derived, unique, and for live
        posts larger than every id handed out before."""
        with self.lock:
            candidate = snowflake(to_ms(created_at), 0)
            if backdated:
                while str(candidate) in self._tweets:
                    candidate += 1
            elif candidate <= self._last_id:
                candidate = self._last_id + 1
            if candidate > self._last_id:
                self._last_id = candidate
                self._store.put_meta(_LAST_ID, str(candidate))
            return str(candidate)

    def insert(self, tweet: Tweet) -> None:
        with self.lock:
            self._index(tweet)
            self._store.put_tweet(tweet)

    def remove(self, tweet_id: str) -> Tweet | None:
        """Delete a post (it then reads as not found everywhere); the removed post or None."""
        with self.lock:
            tweet = self._tweets.pop(tweet_id, None)
            if tweet is None:
                return None
            self._texts[tweet.author_id].discard(tweet.text)
            for kind, parent in _links(tweet):
                self._children[(kind, parent)].discard(tweet.id)
            self._order = None
            self._searchable.pop(tweet_id, None)
            self._store.delete_tweet(tweet_id)
            return tweet

    def _index(self, tweet: Tweet) -> None:
        self._tweets[tweet.id] = tweet
        if tweet.retweeted_tweet_id is None:
            self._texts[tweet.author_id].add(tweet.text)
        for kind, parent in _links(tweet):
            self._children[(kind, parent)].add(tweet.id)
        self._order = None

    def is_duplicate(self, author_id: str, text: str) -> bool:
        """Whether this author already has a (live) post with exactly this text."""
        with self.lock:
            return text in self._texts.get(author_id, ())

    def metrics(self, tweet_id: str) -> dict[str, int]:
        """X's public_metrics; replies, quotes and retweets are counted, the rest are 0."""
        with self.lock:
            return {
                "retweet_count": len(self._children.get(("retweet", tweet_id), ())),
                "reply_count": len(self._children.get(("reply", tweet_id), ())),
                "like_count": 0,
                "quote_count": len(self._children.get(("quote", tweet_id), ())),
                "bookmark_count": 0,
                "impression_count": 0,
            }

    def post_count(self, user_id: str) -> int:
        with self.lock:
            return sum(1 for t in self._tweets.values() if t.author_id == user_id)

    def searchable(self, tweet: Tweet) -> Searchable:
        """The post as the query matcher sees it (cached)."""
        with self.lock:
            found = self._searchable.get(tweet.id)
            if found is None:
                found = self._make_searchable(tweet)
                self._searchable[tweet.id] = found
            return found

    def _make_searchable(self, tweet: Tweet) -> Searchable:
        author = self._users.get(tweet.author_id)
        parent_author = self._users.get(tweet.in_reply_to_user_id or "")
        return Searchable(
            tweet_id=tweet.id,
            text=tweet.text,
            author_id=tweet.author_id,
            author_username=author.username if author else "",
            conversation_id=tweet.conversation_id,
            in_reply_to_username=parent_author.username if parent_author else None,
            in_reply_to_tweet_id=tweet.in_reply_to_tweet_id,
            quoted_tweet_id=tweet.quoted_tweet_id,
            retweeted_tweet_id=tweet.retweeted_tweet_id,
            hashtags=tuple(e.value for e in post_text.hashtags(tweet.text)),
            mentions=tuple(e.value for e in post_text.mentions(tweet.text)),
        )

    # whole state -------------------------------------------------------------------------
    def save_clock_offset(self, seconds: float) -> None:
        with self.lock:
            self.clock_offset = seconds
            self._store.put_meta(_CLOCK_OFFSET, repr(seconds))

    def reset(self, *, bot_username: str, now: datetime) -> None:
        """Forget every user and post but the bot; ids keep growing (clients may cache them)."""
        with self.lock:
            self._store.clear()
            self._clear_memory()
            self._store.put_meta(_LAST_ID, str(self._last_id))
            self.clock_offset = 0.0
            self.ensure_bot(bot_username, now=now)

    def close(self) -> None:
        with self.lock:
            self._store.close()


def _links(tweet: Tweet) -> list[tuple[str, str]]:
    """(kind, parent id) for each post this one replies to, quotes or retweets."""
    pairs = [
        ("reply", tweet.in_reply_to_tweet_id),
        ("quote", tweet.quoted_tweet_id),
        ("retweet", tweet.retweeted_tweet_id),
    ]
    return [(kind, parent) for kind, parent in pairs if parent is not None]
