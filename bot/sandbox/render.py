"""Posts and users as X's JSON: default and requested fields, expansions, partial errors.

Defaults are X's: a post is `id`, `text`, `edit_history_tweet_ids`; a user is `id`, `name`,
`username`. Keys come out sorted, as X sends them. Expansions fill `includes.users` and
`includes.tweets` (each de-duplicated, in order of first use); an expanded post that is gone
or protected becomes an `errors[]` item instead, as on X.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.sandbox import text as post_text
from bot.sandbox.clock import format_timestamp
from bot.sandbox.fields import Fields
from bot.sandbox.problems import not_found_item, suspended_item, unauthorized_item
from bot.sandbox.records import Tweet, User
from bot.sandbox.state import State

__all__ = ["Rendered", "can_see", "is_suspended", "tweet_json", "user_json"]

Json = dict[str, Any]
DEFAULT_PROFILE_IMAGE = (
    "https://abs.twimg.com/sticky/default_profile_images/default_profile_normal.png"
)


def can_see(state: State, tweet: Tweet, viewer_id: str | None) -> bool:
    """Protected authors' posts are visible to themselves only, suspended ones' to nobody."""
    author = state.user(tweet.author_id)
    if author is not None and author.suspended:
        return False
    return author is None or not author.protected or author.id == viewer_id


def is_suspended(state: State, tweet: Tweet) -> bool:
    author = state.user(tweet.author_id)
    return author is not None and author.suspended


def tweet_json(state: State, tweet: Tweet, fields: Fields) -> Json:
    """One post with the default fields and those in `fields.tweet` that the sandbox models."""
    data: Json = {"id": tweet.id, "text": tweet.text, "edit_history_tweet_ids": [tweet.id]}
    wanted = fields.tweet
    simple = {
        "author_id": tweet.author_id,
        "conversation_id": tweet.conversation_id,
        "created_at": format_timestamp(tweet.created_at),
        "display_text_range": [tweet.display_start, len(tweet.text)],
        "possibly_sensitive": False,
        "reply_settings": "everyone",
        "public_metrics": state.metrics(tweet.id) if "public_metrics" in wanted else None,
        "in_reply_to_user_id": tweet.in_reply_to_user_id,
        "referenced_tweets": _references(tweet) or None,
        "entities": (_entities(state, tweet.text) or None) if "entities" in wanted else None,
    }
    for name, value in simple.items():
        if name in wanted and value is not None:
            data[name] = value
    if "edit_controls" in wanted:
        data["edit_controls"] = {
            "edits_remaining": 5,
            "is_edit_eligible": tweet.retweeted_tweet_id is None,
            "editable_until": format_timestamp(tweet.created_at + timedelta(minutes=30)),
        }
    return dict(sorted(data.items()))


def user_json(state: State, user: User, fields: Fields) -> Json:
    """One user with the default fields and those in `fields.user` that the sandbox models."""
    data: Json = {"id": user.id, "name": user.name, "username": user.username}
    wanted = fields.user
    extra: dict[str, Any] = {
        "created_at": format_timestamp(user.created_at),
        "description": "",
        "protected": user.protected,
        "verified": False,
        "verified_type": "none",
        "url": "",
        "profile_image_url": DEFAULT_PROFILE_IMAGE,
    }
    for name, value in extra.items():
        if name in wanted:
            data[name] = value
    if "public_metrics" in wanted:
        data["public_metrics"] = {
            "followers_count": 0,
            "following_count": 0,
            "tweet_count": state.post_count(user.id),
            "listed_count": 0,
            "like_count": 0,
            "media_count": 0,
        }
    return dict(sorted(data.items()))


def _references(tweet: Tweet) -> list[Json]:
    refs = [
        ("retweeted", tweet.retweeted_tweet_id),
        ("quoted", tweet.quoted_tweet_id),
        ("replied_to", tweet.in_reply_to_tweet_id),
    ]
    return [{"type": kind, "id": ref} for kind, ref in refs if ref is not None]


def _entities(state: State, text: str) -> Json:
    entities: Json = {}
    tags = post_text.hashtags(text)
    if tags:
        entities["hashtags"] = [{"start": e.start, "end": e.end, "tag": e.value} for e in tags]
    mentioned = []
    for entity in post_text.mentions(text):
        item: Json = {"start": entity.start, "end": entity.end, "username": entity.value}
        user = state.user_by_username(entity.value)
        if user is not None:
            item["id"] = user.id
            item["username"] = user.username
        mentioned.append(item)
    if mentioned:
        entities["mentions"] = mentioned
    return entities


class Rendered:
    """A page of posts with its includes and errors, built up then turned into JSON."""

    def __init__(self, state: State, fields: Fields, *, viewer_id: str | None) -> None:
        self._state = state
        self._fields = fields
        self._viewer_id = viewer_id
        self.data: list[Json] = []
        self.errors: list[Json] = []
        self._users: dict[str, Json] = {}
        self._tweets: dict[str, Json] = {}

    def add(self, tweet: Tweet) -> None:
        """A primary post (the caller has checked that the viewer may see it)."""
        self.data.append(tweet_json(self._state, tweet, self._fields))
        self._expand(tweet)

    def includes(self) -> Json:
        found: Json = {}
        if self._tweets:
            found["tweets"] = list(self._tweets.values())
        if self._users:
            found["users"] = list(self._users.values())
        return found

    def _expand(self, tweet: Tweet) -> None:
        wanted = self._fields.expansions
        if "author_id" in wanted:
            self._add_user(tweet.author_id)
        if "referenced_tweets.id" in wanted or "referenced_tweets.id.author_id" in wanted:
            for ref in _references(tweet):
                self._add_referenced(ref["id"])
        if "in_reply_to_user_id" in wanted and tweet.in_reply_to_user_id:
            self._add_user(tweet.in_reply_to_user_id)
        if "entities.mentions.username" in wanted:
            for entity in post_text.mentions(tweet.text):
                user = self._state.user_by_username(entity.value)
                if user is None:
                    self._error(
                        not_found_item(
                            entity.value,
                            parameter="entities.mentions.username",
                            resource_type="user",
                        )
                    )
                else:
                    self._add_user(user.id)

    def _add_referenced(self, tweet_id: str) -> None:
        wanted = self._fields.expansions
        ref = self._state.tweet(tweet_id)
        parameter = "referenced_tweets.id"
        if ref is None:
            self._error(not_found_item(tweet_id, parameter=parameter))
        elif is_suspended(self._state, ref):
            self._error(suspended_item(tweet_id, parameter=parameter, section="includes"))
        elif not can_see(self._state, ref, self._viewer_id):
            self._error(unauthorized_item(tweet_id, parameter=parameter, section="includes"))
        else:
            if "referenced_tweets.id" in wanted and ref.id not in self._tweets:
                self._tweets[ref.id] = tweet_json(self._state, ref, self._fields)
            if "referenced_tweets.id.author_id" in wanted:
                self._add_user(ref.author_id)

    def _add_user(self, user_id: str) -> None:
        user = self._state.user(user_id)
        if user is not None and not user.suspended and user_id not in self._users:
            self._users[user_id] = user_json(self._state, user, self._fields)

    def _error(self, item: Json) -> None:
        if item not in self.errors:
            self.errors.append(item)
