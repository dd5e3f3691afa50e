"""Test doubles for X: FakeXClient, the XClient protocol in memory, and builders
for X API v2 page dicts in X's exact shapes.

The builders produce what X sends (X-API-NOTES.md §2): string ids,
`created_at` with milliseconds ("2026-08-20T12:05:00.000Z"),
`edit_history_tweet_ids`, entities with code-point offsets, and no `data` key on an
empty page (`{"meta": {"result_count": 0}}`), so archive tests exercise the same
shapes the real client and the sandbox hand over.
"""

from __future__ import annotations

import itertools
import re
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.clock import Clock, FakeClock
from bot.errors import XError, XRejected, XRejectReason
from bot.x_client import (
    EXPANSIONS,
    FIELD_PARAMS,
    Account,
    FetchedPage,
    LookupResult,
    PostedTweet,
    SearchResult,
)

DEFAULT_TIME = datetime(2026, 8, 20, 12, 0, tzinfo=UTC)
BOT_ACCOUNT = Account(id="1072250532645998596", username="tcbot_chat", name="TraineeTalk bot")
FIRST_POST_ID = 1958300000000000001
SEARCH_ENDPOINT = "GET /2/tweets/search/recent"
LOOKUP_ENDPOINT = "GET /2/tweets"
_HASHTAG = re.compile(r"(?<![\w&#])#(\w*[^\W\d]\w*)")
_MENTION = re.compile(r"(?<![\w@])@(\w{1,15})")

JsonDict = dict[str, Any]


# -- builders: X API v2 shapes ---------------------------------------------------------


def x_time(moment: datetime) -> str:
    """X's timestamp format: UTC with milliseconds, e.g. 2026-08-20T12:05:00.000Z."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def make_user(
    user_id: str,
    username: str,
    *,
    name: str | None = None,
    created_at: datetime = datetime(2020, 1, 1, tzinfo=UTC),
    description: str = "",
    location: str | None = None,
    protected: bool = False,
    verified: bool = False,
    followers: int = 0,
) -> JsonDict:
    """A user object with the USER_FIELDS tcbot asks for."""
    user: JsonDict = {
        "id": user_id,
        "name": name if name is not None else username,
        "username": username,
        "created_at": x_time(created_at),
        "description": description,
        "profile_image_url": f"https://pbs.twimg.com/profile_images/{user_id}/p_normal.jpg",
        "protected": protected,
        "public_metrics": {
            "followers_count": followers,
            "following_count": 0,
            "tweet_count": 0,
            "listed_count": 0,
            "like_count": 0,
        },
        "url": "",
        "verified": verified,
    }
    if location is not None:
        user["location"] = location
    return user


def make_tweet(
    tweet_id: str,
    text: str,
    *,
    author_id: str,
    created_at: datetime = DEFAULT_TIME,
    conversation_id: str | None = None,
    reply_to: str | None = None,
    in_reply_to_user_id: str | None = None,
    quote_of: str | None = None,
    mention_ids: Mapping[str, str] | None = None,
    lang: str = "en",
    like_count: int = 0,
    reply_count: int = 0,
) -> JsonDict:
    """A post with the TWEET_FIELDS tcbot asks for; entities are derived from `text`.

    `mention_ids` maps a mentioned username to its user id (X adds the id for
    accounts that exist). A reply's `conversation_id` defaults to `reply_to`, which is
    right for replies to a thread root; pass it explicitly deeper in a thread.
    """
    tweet: JsonDict = {
        "edit_history_tweet_ids": [tweet_id],
        "id": tweet_id,
        "text": text,
        "author_id": author_id,
        "conversation_id": conversation_id or reply_to or tweet_id,
        "created_at": x_time(created_at),
        "lang": lang,
        "possibly_sensitive": False,
        "reply_settings": "everyone",
        "public_metrics": {
            "retweet_count": 0,
            "reply_count": reply_count,
            "like_count": like_count,
            "quote_count": 0,
            "bookmark_count": 0,
            "impression_count": 0,
        },
    }
    referenced = [{"type": "replied_to", "id": reply_to}] if reply_to else []
    referenced += [{"type": "quoted", "id": quote_of}] if quote_of else []
    if referenced:
        tweet["referenced_tweets"] = referenced
    if in_reply_to_user_id is not None:
        tweet["in_reply_to_user_id"] = in_reply_to_user_id
    entities = _entities(text, mention_ids or {})
    if entities:
        tweet["entities"] = entities
    return tweet


def _entities(text: str, mention_ids: Mapping[str, str]) -> JsonDict:
    entities: JsonDict = {}
    hashtags = [{"start": m.start(), "end": m.end(), "tag": m[1]} for m in _HASHTAG.finditer(text)]
    mentions: list[JsonDict] = []
    for match in _MENTION.finditer(text):
        mention: JsonDict = {"start": match.start(), "end": match.end(), "username": match[1]}
        if match[1] in mention_ids:
            mention["id"] = mention_ids[match[1]]
        mentions.append(mention)
    if hashtags:
        entities["hashtags"] = hashtags
    if mentions:
        entities["mentions"] = mentions
    return entities


def make_page(
    tweets: Sequence[JsonDict],
    *,
    users: Sequence[JsonDict] = (),
    included_tweets: Sequence[JsonDict] = (),
    next_token: str | None = None,
    errors: Sequence[JsonDict] = (),
) -> JsonDict:
    """A recent-search page: `tweets` newest first, with includes and meta as X sends them."""
    page: JsonDict = {}
    if tweets:
        page["data"] = list(tweets)
    includes = _includes(users, included_tweets)
    if includes:
        page["includes"] = includes
    if errors:
        page["errors"] = list(errors)
    meta: JsonDict = {"result_count": len(tweets)}
    if tweets:
        ids = sorted((t["id"] for t in tweets), key=int)
        meta = {"newest_id": ids[-1], "oldest_id": ids[0], "result_count": len(tweets)}
    if next_token is not None:
        meta["next_token"] = next_token
    page["meta"] = meta
    return page


def make_lookup_page(
    tweets: Sequence[JsonDict],
    *,
    users: Sequence[JsonDict] = (),
    included_tweets: Sequence[JsonDict] = (),
    missing_ids: Sequence[str] = (),
    withheld_ids: Sequence[str] = (),
    suspended_ids: Sequence[str] = (),
) -> JsonDict:
    """A `GET /2/tweets?ids=` page: found posts, plus an error item per gone or hidden id
    (`suspended_ids`: posts of suspended accounts, see `suspended_error`)."""
    page: JsonDict = {}
    if tweets:
        page["data"] = list(tweets)
    includes = _includes(users, included_tweets)
    if includes:
        page["includes"] = includes
    errors = [not_found_error(i) for i in missing_ids]
    errors += [not_authorized_error(i) for i in withheld_ids]
    errors += [suspended_error(i) for i in suspended_ids]
    if errors:
        page["errors"] = errors
    return page


def _includes(users: Sequence[JsonDict], tweets: Sequence[JsonDict]) -> JsonDict:
    includes: JsonDict = {}
    if users:
        includes["users"] = list(users)
    if tweets:
        includes["tweets"] = list(tweets)
    return includes


def not_found_error(post_id: str, *, parameter: str = "ids") -> JsonDict:
    """X's "Not Found Error" item for a deleted or nonexistent post."""
    return {
        "value": post_id,
        "detail": f"Could not find tweet with {parameter}: [{post_id}].",
        "title": "Not Found Error",
        "resource_type": "tweet",
        "parameter": parameter,
        "resource_id": post_id,
        "type": "https://api.twitter.com/2/problems/resource-not-found",
    }


def not_authorized_error(post_id: str, *, parameter: str = "ids") -> JsonDict:
    """X's "Authorization Error" item for a post of a protected or suspended account."""
    return {
        "resource_id": post_id,
        "parameter": parameter,
        "resource_type": "tweet",
        "section": "data",
        "title": "Authorization Error",
        "value": post_id,
        "detail": f"Sorry, you are not authorized to see the Tweet with {parameter}: [{post_id}].",
        "type": "https://api.twitter.com/2/problems/not-authorized-for-resource",
    }


def suspended_error(post_id: str, *, parameter: str = "ids") -> JsonDict:
    """The item tcbot expects for a post of a suspended account: X's user-lookup wording
    ("User has been suspended"), as the sandbox sends it (bot/sandbox/problems.py)."""
    return {
        "value": post_id,
        "detail": f"User has been suspended: [{post_id}].",
        "title": "Forbidden",
        "resource_type": "tweet",
        "parameter": parameter,
        "resource_id": post_id,
        "type": "https://api.twitter.com/2/problems/resource-not-found",
    }


# -- FakeXClient -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FakePost:
    """A post made through FakeXClient."""

    id: str
    text: str
    reply_to: str | None
    quote_of: str | None
    posted_at: datetime


@dataclass(frozen=True, slots=True)
class SearchCall:
    """The arguments of one FakeXClient.search_recent call."""

    query: str
    since_id: str | None
    start_time: datetime | None
    end_time: datetime | None
    max_pages: int


class FakeXClient:
    """The XClient protocol in memory.

    - `post` assigns increasing snowflake-like ids, records a FakePost in `posts`, and
      adds the post to `tweets` so `lookup` and searches find it. Like X, it refuses a
      text the account already has live (XRejected DUPLICATE_CONTENT).
    - `fail_next(error, method=...)` makes the next call (of that method, or any) raise.
    - `search_recent` returns scripted pages (`queue_search`) if any are queued, else
      searches `tweets`: every plain term of the query (words, #tags, @names; terms with
      ":" or a leading "-" are ignored) must appear in the text, case-insensitively;
      since_id/start_time/end_time filter, newest first, 100 per page.
    - `lookup` finds `tweets`; ids in `withheld` come back as Authorization Errors,
      ids in `suspended` as suspended-account errors, unknown ids as Not Found Errors.
    """

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        account: Account = BOT_ACCOUNT,
        first_id: int = FIRST_POST_ID,
    ) -> None:
        self.clock: Clock = clock or FakeClock(DEFAULT_TIME)
        self.account = account
        self.posts: list[FakePost] = []
        self.deleted: list[str] = []
        self.searches: list[SearchCall] = []
        self.lookups: list[tuple[str, ...]] = []
        self.calls: list[str] = []
        self.tweets: dict[str, JsonDict] = {}
        self.users: dict[str, JsonDict] = {
            account.id: make_user(account.id, account.username, name=account.name)
        }
        self.withheld: set[str] = set()
        self.suspended: set[str] = set()
        self._ids = itertools.count(first_id)
        self._scripted: deque[list[JsonDict]] = deque()
        self._failures: deque[tuple[str | None, XError]] = deque()

    # -- steering ----------------------------------------------------------------------

    def fail_next(self, error: XError, *, method: str | None = None) -> None:
        """Raise `error` on the next call (of `method`, e.g. "post", or of any method)."""
        self._failures.append((method, error))

    def queue_search(self, *pages: JsonDict) -> None:
        """The next search_recent returns these pages (cut to its max_pages)."""
        self._scripted.append(list(pages) or [make_page([])])

    def add_tweets(self, *tweets: JsonDict, users: Iterable[JsonDict] = ()) -> None:
        """Make posts (and their authors) visible to searches and lookups."""
        for tweet in tweets:
            self.tweets[tweet["id"]] = tweet
        for user in users:
            self.users[user["id"]] = user

    def next_id(self) -> str:
        """The id the next post will get (ids only grow)."""
        return str(next(self._ids))

    # -- XClient -----------------------------------------------------------------------

    def post(
        self, text: str, *, reply_to: str | None = None, quote_of: str | None = None
    ) -> PostedTweet:
        self._enter("post")
        live = {p.text for p in self.posts}
        if text in live:
            raise XRejected(
                XRejectReason.DUPLICATE_CONTENT,
                "X refused the post: the bot account already posted exactly this text",
                "change the text and queue it again",
                endpoint="POST /2/tweets",
                status=403,
            )
        now = self.clock.now()
        post_id = self.next_id()
        self.posts.append(FakePost(post_id, text, reply_to, quote_of, now))
        parent = self.tweets.get(reply_to or "")
        self.tweets[post_id] = make_tweet(
            post_id,
            text,
            author_id=self.account.id,
            created_at=now,
            conversation_id=parent["conversation_id"] if parent else None,
            reply_to=reply_to,
            in_reply_to_user_id=parent["author_id"] if parent else None,
            quote_of=quote_of,
        )
        return PostedTweet(id=post_id, text=text)

    def delete(self, tweet_id: str) -> None:
        self._enter("delete")
        kept = [p for p in self.posts if p.id != tweet_id]
        if len(kept) == len(self.posts):
            raise XRejected(
                XRejectReason.NOT_FOUND,
                "X has no such post (DELETE /2/tweets/:id, 404)",
                "check the id; the post may already be deleted",
                endpoint="DELETE /2/tweets/:id",
                status=404,
            )
        self.posts = kept
        self.deleted.append(tweet_id)
        self.tweets.pop(tweet_id, None)

    def search_recent(
        self,
        query: str,
        *,
        since_id: str | None = None,
        start_time: datetime | None = None,
        end_time: datetime | None = None,
        max_pages: int = 10,
        expansions: Sequence[str] = EXPANSIONS,
    ) -> SearchResult:
        self._enter("search_recent")
        if max_pages < 1:
            raise ValueError(f"max_pages must be at least 1, not {max_pages}")
        self.searches.append(SearchCall(query, since_id, start_time, end_time, max_pages))
        payloads = (
            self._scripted.popleft()
            if self._scripted
            else self._search_store(
                query, since_id=since_id, start_time=start_time, end_time=end_time
            )
        )
        params = {"query": query, "max_results": "100", **FIELD_PARAMS}
        for name, value in (
            ("since_id", since_id),
            (
                "start_time",
                start_time and start_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            ),
            ("end_time", end_time and end_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")),
        ):
            if value:
                params[name] = value
        pages: list[FetchedPage] = []
        for payload in payloads[:max_pages]:
            pages.append(FetchedPage(payload, SEARCH_ENDPOINT, dict(params), self.clock.now()))
            token = payload.get("meta", {}).get("next_token")
            if token:
                params["next_token"] = token
        last_token = pages[-1].payload.get("meta", {}).get("next_token")
        return SearchResult(
            pages=tuple(pages),
            newest_id=pages[0].payload.get("meta", {}).get("newest_id"),
            truncated=len(pages) == max_pages and bool(last_token),
        )

    def lookup(self, ids: Sequence[str], *, expansions: Sequence[str] = EXPANSIONS) -> LookupResult:
        self._enter("lookup")
        wanted = list(dict.fromkeys(ids))
        self.lookups.append(tuple(wanted))
        pages: list[FetchedPage] = []
        missing: list[str] = []
        withheld: list[str] = []
        suspended: list[str] = []
        for start in range(0, len(wanted), 100):
            batch = wanted[start : start + 100]
            banned = [i for i in batch if i in self.suspended]
            hidden = [i for i in batch if i in self.withheld and i not in self.suspended]
            unseen = self.withheld | self.suspended
            gone = [i for i in batch if i not in self.tweets and i not in unseen]
            found = [self.tweets[i] for i in batch if i in self.tweets and i not in unseen]
            payload = make_lookup_page(
                found, users=self._authors(found), missing_ids=gone, withheld_ids=hidden,
                suspended_ids=banned,
            )  # fmt: skip
            params = {"ids": ",".join(batch), **FIELD_PARAMS}
            pages.append(FetchedPage(payload, LOOKUP_ENDPOINT, params, self.clock.now()))
            missing += gone
            withheld += hidden + banned
            suspended += banned
        return LookupResult(tuple(pages), tuple(missing), tuple(withheld), tuple(suspended))

    def me(self) -> Account:
        self._enter("me")
        return self.account

    # -- internals ---------------------------------------------------------------------

    def _enter(self, method: str) -> None:
        self.calls.append(method)
        if self._failures and self._failures[0][0] in (None, method):
            raise self._failures.popleft()[1]

    def _search_store(
        self,
        query: str,
        *,
        since_id: str | None,
        start_time: datetime | None,
        end_time: datetime | None,
    ) -> list[JsonDict]:
        terms = [t.lower() for t in query.split() if not t.startswith("-") and ":" not in t]
        hits = [
            t
            for t in self.tweets.values()
            if all(term in t["text"].lower() for term in terms)
            and (since_id is None or int(t["id"]) > int(since_id))
            and (start_time is None or _parse_x_time(t["created_at"]) >= start_time)
            and (end_time is None or _parse_x_time(t["created_at"]) < end_time)
        ]
        hits.sort(key=lambda t: int(t["id"]), reverse=True)
        chunks = [hits[i : i + 100] for i in range(0, len(hits), 100)] or [[]]
        return [
            make_page(
                chunk,
                users=self._authors(chunk),
                next_token=f"fake-next-{n + 1}" if n + 1 < len(chunks) else None,
            )
            for n, chunk in enumerate(chunks)
        ]

    def _authors(self, tweets: Sequence[JsonDict]) -> list[JsonDict]:
        author_ids = dict.fromkeys(t["author_id"] for t in tweets)
        return [self.users[a] for a in author_ids if a in self.users]


def _parse_x_time(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")
