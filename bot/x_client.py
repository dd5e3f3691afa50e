"""The X API v2 client: the only module in tcbot that imports tweepy.

Owns every conversation with X (or the sandbox standing in for it): posting and
deleting, bounded recent search, post lookup and `me`. Reads come back as raw JSON
pages, exactly as X sent them plus where and when, for the archive. Every HTTP
request, failed or not, is reported once as an `ApiCall` for the usage log.

Whatever tweepy or requests raise is translated here, once, into bot.errors:

    429                                 RateLimited(reset_at)   (a usage-capped body: XRejected)
    5xx, dropped connection, timeout    XUnavailable            (retry later)
    401, 403, 404, 400, anything else   XRejected(reason)       (see bot/x_answers.py)

tweepy 4.17.0 quirks handled here (X-API-NOTES.md §1):
- The host https://api.twitter.com is hard-coded in `BaseClient.request`; `base_url`
  (the sandbox) is reached by a requests adapter that rewrites that prefix. OAuth 1.0a
  is signed over the original URL.
- tweepy gives its `requests.Session` no timeout; the same adapter applies one.
- `wait_on_rate_limit=True` sleeps inside the request, so it stays False; nothing
  here ever sleeps.
- tweepy logs the Authorization header and oauthlib the signing material at DEBUG,
  so those loggers are held at INFO or above.
- `Paginator` chooses `next_token` by the method's `__name__`, so the bound tweepy
  method is handed to it unwrapped.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

import requests
import tweepy  # type: ignore[import-untyped]
from requests.adapters import HTTPAdapter

from bot.clock import Clock
from bot.errors import XRejected, XRejectReason, XUnavailable
from bot.x_answers import (
    answer_without_data,
    classify_lookup_errors,
    credentials_missing,
    data_object,
    json_body,
    parse_json,
    suspended_lookup_ids,
    translate_http_error,
)
from bot.x_usage import ApiCall, api_call_from_response, failed_call, with_error, with_purpose

__all__ = [
    "AUTHORS_ONLY",
    "EXPANSIONS",
    "FIELD_PARAMS",
    "TWEET_FIELDS",
    "USER_FIELDS",
    "Account",
    "ApiCall",
    "FetchedPage",
    "LookupResult",
    "PostedTweet",
    "SearchResult",
    "TweepyXClient",
    "XClient",
]

log = logging.getLogger(__name__)
T = TypeVar("T")

TWEEPY_HOST = "https://api.twitter.com"  # tweepy sends everything here (§1.2)
MAX_RESULTS = 100  # recent search's maximum page size
LOOKUP_BATCH = 100  # GET /2/tweets?ids= takes at most 100 ids
TWEET_FIELDS = (
    "attachments", "author_id", "conversation_id", "created_at", "edit_history_tweet_ids",
    "entities", "in_reply_to_user_id", "lang", "possibly_sensitive", "public_metrics",
    "referenced_tweets", "reply_settings",
)  # fmt: skip
EXPANSIONS = (
    "author_id", "referenced_tweets.id", "referenced_tweets.id.author_id",
    "in_reply_to_user_id", "entities.mentions.username",
)  # fmt: skip
USER_FIELDS = (
    "created_at", "description", "location", "name", "profile_image_url", "protected",
    "public_metrics", "url", "username", "verified",
)  # fmt: skip
AUTHORS_ONLY = ("author_id",)  # expansions for a poll: no referenced posts, no extra users
FIELD_PARAMS = {
    "tweet.fields": ",".join(TWEET_FIELDS),
    "expansions": ",".join(EXPANSIONS),
    "user.fields": ",".join(USER_FIELDS),
}
SEARCH_ROUTE = "/2/tweets/search/recent"
LOOKUP_ROUTE = "/2/tweets"
_SECRET_LOGGERS = ("tweepy", "oauthlib", "requests_oauthlib")
_POST_ID = re.compile(r"[0-9]{1,19}")


@dataclass(frozen=True, slots=True)
class FetchedPage:
    """One raw JSON page as X sent it, and where and when it came from."""

    payload: dict[str, Any]
    endpoint: str  # e.g. "GET /2/tweets/search/recent"
    params: dict[str, str]  # the query parameters sent, as X received them
    retrieved_at: datetime


@dataclass(frozen=True, slots=True)
class SearchResult:
    """Pages of a recent search, newest first.

    `newest_id` is the first page's `meta.newest_id` (the next poll's since_id);
    `truncated` means the page limit was reached while X still offered a next_token.
    """

    pages: tuple[FetchedPage, ...]
    newest_id: str | None
    truncated: bool


@dataclass(frozen=True, slots=True)
class LookupResult:
    """Pages of a post lookup, with the ids X no longer shows.

    missing = "Not Found Error" (deleted); withheld = "Authorization Error"
    (protected or suspended author); suspended = those of withheld whose error
    says the author is suspended (bot/x_answers.py `suspended_lookup_ids`).
    """

    pages: tuple[FetchedPage, ...]
    missing_ids: tuple[str, ...]
    withheld_ids: tuple[str, ...]
    suspended_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PostedTweet:
    """A post X created: its id and the text X stored."""

    id: str
    text: str


@dataclass(frozen=True, slots=True)
class Account:
    """The account the user-context credentials act as."""

    id: str
    username: str
    name: str


class XClient(Protocol):
    """What the rest of tcbot may ask of X. Raises only bot.errors.XError subclasses."""

    def post(
        self, text: str, *, reply_to: str | None = None, quote_of: str | None = None
    ) -> PostedTweet: ...

    def delete(self, tweet_id: str) -> None: ...

    def search_recent(
        self,
        query: str,
        *,
        since_id: str | None = None,
        start_time: datetime | None = None,
        end_time: datetime | None = None,
        max_pages: int = 10,
        expansions: Sequence[str] = EXPANSIONS,
    ) -> SearchResult: ...

    def lookup(
        self, ids: Sequence[str], *, expansions: Sequence[str] = EXPANSIONS
    ) -> LookupResult: ...

    def me(self) -> Account: ...


class TweepyXClient:
    """XClient over tweepy.Client: OAuth 1.0a user context for writes and `me`, the
    bearer token for reads (or user context when no bearer token is configured).

    If `on_call` raises, the error is logged and the request carries on: losing a
    usage-log line is better than losing a post's id, which would invite a re-send.
    """

    def __init__(
        self,
        *,
        api_key: str,
        api_secret: str,
        access_token: str,
        access_token_secret: str,
        bearer_token: str,
        base_url: str | None = None,
        clock: Clock,
        on_call: Callable[[ApiCall], None] | None = None,
        timeout: float = 30.0,
    ) -> None:
        if timeout <= 0:
            raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
        self._base_url = check_base_url(base_url) if base_url is not None else None
        quiet_secret_loggers()
        self._clock = clock
        self._on_call = on_call
        self._empty_user_credentials = tuple(
            name
            for name, value in (
                ("X_API_KEY", api_key),
                ("X_API_SECRET", api_secret),
                ("X_ACCESS_TOKEN", access_token),
                ("X_ACCESS_TOKEN_SECRET", access_token_secret),
            )
            if not value
        )
        self._has_bearer = bool(bearer_token)
        self._client = tweepy.Client(
            bearer_token=bearer_token or None,
            consumer_key=api_key or None,
            consumer_secret=api_secret or None,
            access_token=access_token or None,
            access_token_secret=access_token_secret or None,
            return_type=dict,
            wait_on_rate_limit=False,
        )
        session: requests.Session = self._client.session
        session.mount(TWEEPY_HOST, _XTransport(base_url=self._base_url, timeout=timeout))
        session.hooks["response"].append(self._on_response)
        if self._base_url is not None:
            session.trust_env = False  # the sandbox is reached directly, never via an env proxy

    def __repr__(self) -> str:
        return f"TweepyXClient(base_url={self._base_url or TWEEPY_HOST!r})"

    def post(
        self, text: str, *, reply_to: str | None = None, quote_of: str | None = None
    ) -> PostedTweet:
        """Create a post (a reply when `reply_to`, a quote when `quote_of`)."""
        for post_id in (reply_to, quote_of):
            if post_id is not None:
                check_post_id(post_id)
        self._require_user_credentials("POST /2/tweets")
        payload = self._call(
            "POST",
            "/2/tweets",
            lambda: self._client.create_tweet(
                text=text, in_reply_to_tweet_id=reply_to, quote_tweet_id=quote_of
            ),
        )
        data = data_object(payload)
        if not data.get("id"):
            raise answer_without_data(
                "POST /2/tweets", "look at the bot's timeline before retrying"
            )
        posted = PostedTweet(id=str(data["id"]), text=str(data.get("text", text)))
        log.info("Posted %s (reply to %s, quote of %s)", posted.id, reply_to, quote_of)
        return posted

    def delete(self, tweet_id: str) -> None:
        """Delete one of the bot's posts."""
        check_post_id(tweet_id)
        self._require_user_credentials("DELETE /2/tweets/:id")
        payload = self._call("DELETE", "/2/tweets/:id", lambda: self._client.delete_tweet(tweet_id))
        if data_object(payload).get("deleted") is not True:
            raise answer_without_data("DELETE /2/tweets/:id", f"check whether {tweet_id} is gone")
        log.info("Deleted %s", tweet_id)

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
        """Search the last 7 days, newest first, reading at most `max_pages` pages of 100.

        X bills every post and user a page returns, expanded ones included: a poll
        that only needs authors passes `expansions=("author_id",)` (AUTHORS_ONLY).

        An error on any page raises and drops the pages already read: the caller's
        cursor has not moved, and X bills a post once per UTC day however often it is
        read (a soft guarantee), so the next poll re-reads them cheaply.
        """
        if max_pages < 1:
            raise ValueError(f"max_pages must be at least 1, not {max_pages}")
        params = {"query": query, "max_results": str(MAX_RESULTS), **FIELD_PARAMS}
        params["expansions"] = ",".join(expansions)
        if since_id is not None:
            params["since_id"] = check_post_id(since_id)
        if start_time is not None:
            params["start_time"] = rfc3339(start_time)
        if end_time is not None:
            params["end_time"] = rfc3339(end_time)
        user_auth = self._read_auth(f"GET {SEARCH_ROUTE}")
        pages = self._call(
            "GET", SEARCH_ROUTE, lambda: self._search_pages(params, max_pages, user_auth)
        )
        last_meta = pages[-1].payload.get("meta") or {}
        result = SearchResult(
            pages=tuple(pages),
            newest_id=(pages[0].payload.get("meta") or {}).get("newest_id"),
            truncated=len(pages) >= max_pages and bool(last_meta.get("next_token")),
        )
        log.info("Searched %r: %d page(s), newest %s", query, len(pages), result.newest_id)
        return result

    def lookup(self, ids: Sequence[str], *, expansions: Sequence[str] = EXPANSIONS) -> LookupResult:
        """Fetch posts by id, 100 per request; report those X says are gone or hidden.

        `expansions=()` asks for the posts alone: no referenced posts, no profiles
        (X bills each of those too), which is all the sweep needs.
        """
        wanted = [check_post_id(post_id) for post_id in dict.fromkeys(ids)]
        if not wanted:
            return LookupResult(pages=(), missing_ids=(), withheld_ids=())
        user_auth = self._read_auth(f"GET {LOOKUP_ROUTE}")
        fields = {"tweet.fields": FIELD_PARAMS["tweet.fields"]}
        if expansions:
            fields |= {"expansions": ",".join(expansions),
                       "user.fields": FIELD_PARAMS["user.fields"]}  # fmt: skip
        pages: list[FetchedPage] = []
        missing: list[str] = []
        withheld: list[str] = []
        suspended: list[str] = []
        for start in range(0, len(wanted), LOOKUP_BATCH):
            batch = wanted[start : start + LOOKUP_BATCH]
            page = self._lookup_page({"ids": ",".join(batch), **fields}, user_auth)
            pages.append(page)
            gone, hidden = classify_lookup_errors(page.payload, batch)
            missing += gone
            withheld += hidden
            suspended += suspended_lookup_ids(page.payload, batch)
        log.info(
            "Looked up %d post(s): %d missing, %d withheld (%d suspended)",
            len(wanted),
            len(missing),
            len(withheld),
            len(suspended),
        )
        return LookupResult(
            pages=tuple(pages),
            missing_ids=tuple(missing),
            withheld_ids=tuple(withheld),
            suspended_ids=tuple(suspended),
        )

    def me(self) -> Account:
        """The bot account the user-context credentials belong to."""
        self._require_user_credentials("GET /2/users/me")
        payload = self._call("GET", "/2/users/me", lambda: self._client.get_me(user_auth=True))
        data = data_object(payload)
        if not data.get("id"):
            raise answer_without_data("GET /2/users/me", "try again later")
        return Account(
            id=str(data["id"]), username=str(data.get("username")), name=str(data.get("name"))
        )

    # -- requests --------------------------------------------------------------------

    def _search_pages(
        self, params: dict[str, str], max_pages: int, user_auth: bool
    ) -> list[FetchedPage]:
        kwargs = {
            name.replace(".", "_"): value for name, value in params.items() if name != "query"
        }
        paginator = tweepy.Paginator(
            self._client.search_recent_tweets,
            params["query"],
            limit=max_pages,
            user_auth=user_auth,
            **kwargs,
        )
        sent = dict(params)
        pages: list[FetchedPage] = []
        for payload in paginator:
            pages.append(self._page(payload, f"GET {SEARCH_ROUTE}", sent))
            next_token = (payload.get("meta") or {}).get("next_token")
            if next_token:
                sent = {**params, "next_token": str(next_token)}  # what Paginator sends next
        return pages

    def _lookup_page(self, params: dict[str, str], user_auth: bool) -> FetchedPage:
        kwargs = {name.replace(".", "_"): value for name, value in params.items()}
        payload = self._call(
            "GET", LOOKUP_ROUTE, lambda: self._client.get_tweets(user_auth=user_auth, **kwargs)
        )
        return self._page(payload, f"GET {LOOKUP_ROUTE}", params)

    def _page(self, payload: Any, endpoint: str, params: dict[str, str]) -> FetchedPage:
        body = payload if isinstance(payload, dict) else {}
        return FetchedPage(body, endpoint, dict(params), self._clock.now())

    def _call(self, method: str, route: str, request: Callable[[], T]) -> T:
        """Run one tweepy call and translate anything it raises into an XError."""
        endpoint = f"{method} {route}"
        try:
            return request()
        except tweepy.HTTPException as exc:
            raise translate_http_error(
                status=exc.response.status_code,
                headers=exc.response.headers,
                body=json_body(exc.response),
                endpoint=endpoint,
            ) from None
        except _AnswerCutOff as exc:
            raise XUnavailable(
                f"the connection dropped while X was answering {endpoint}",
                endpoint=endpoint,
                status=exc.status,
            ) from None
        except requests.JSONDecodeError:
            raise XUnavailable(
                f"X's answer to {endpoint} was not JSON", endpoint=endpoint
            ) from None
        except requests.RequestException as exc:  # no answer at all: the hook never ran
            self._record(failed_call(self._clock.now(), method, route, exc))
            raise XUnavailable(
                f"could not reach X for {endpoint} ({type(exc).__name__})", endpoint=endpoint
            ) from None
        except TypeError as exc:  # tweepy's OAuth1UserHandler on a missing key
            if "must be string or bytes" not in str(exc):
                raise
            raise credentials_missing(("X_API_KEY", "X_API_SECRET"), endpoint) from None
        except tweepy.TweepyException as exc:
            raise XRejected(
                XRejectReason.OTHER,
                f"tweepy failed on {endpoint} ({type(exc).__name__})",
                "this is a tcbot bug worth reporting",
                endpoint=endpoint,
            ) from None

    def _require_user_credentials(self, endpoint: str) -> None:
        if self._empty_user_credentials:
            raise credentials_missing(self._empty_user_credentials, endpoint)

    def _read_auth(self, endpoint: str) -> bool:
        """user_auth for a read: the bearer token if there is one, else user context."""
        if self._has_bearer:
            return False
        if self._empty_user_credentials:
            raise credentials_missing(("X_BEARER_TOKEN",), endpoint)
        return True

    # -- usage log -------------------------------------------------------------------

    def _on_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """requests response hook: one ApiCall per answer X gave, error or not."""
        try:
            content = response.content
        except requests.RequestException as exc:
            call = api_call_from_response(response, None, at=self._clock.now())
            self._record(with_error(call, f"answer cut off ({type(exc).__name__})"))
            raise _AnswerCutOff(response.status_code) from exc
        self._record(api_call_from_response(response, parse_json(content), at=self._clock.now()))

    def _record(self, call: ApiCall) -> None:
        if self._on_call is None:
            return
        try:
            self._on_call(with_purpose(call))
        except Exception:  # the post's result matters more than its log line
            log.warning(
                "Could not record %s %s in the usage log", call.method, call.endpoint, exc_info=True
            )


class _AnswerCutOff(Exception):
    """The connection dropped while reading an answer the usage log already has."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _XTransport(HTTPAdapter):
    """Sends tweepy's requests to `base_url` (when set), always with a timeout."""

    def __init__(self, *, base_url: str | None, timeout: float) -> None:
        super().__init__()
        self._base_url = base_url
        self._timeout = timeout

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        url = request.url or ""
        if self._base_url is not None and url.startswith(TWEEPY_HOST):
            request.url = self._base_url + url[len(TWEEPY_HOST) :]
        return super().send(
            request,
            stream=stream,
            timeout=self._timeout if timeout is None else timeout,
            verify=verify,
            cert=cert,
            proxies=proxies,
        )


# -- checks and small conversions ---------------------------------------------------


def check_base_url(base_url: str) -> str:
    """`base_url` as scheme://host[:port], or ValueError saying what is expected."""
    parts = urlsplit(base_url)
    try:
        parts.port  # noqa: B018 - raises ValueError on a malformed port
        port_ok = True
    except ValueError:
        port_ok = False
    if not (
        port_ok
        and parts.scheme in ("http", "https")
        and parts.hostname
        and parts.path in ("", "/")
        and not (parts.query or parts.fragment or "@" in parts.netloc)
    ):
        shown = repr(base_url) if "@" not in base_url else "with user info"
        raise ValueError(
            f"X API base URL {shown} is not http(s)://host[:port]; "
            "use e.g. http://127.0.0.1:8765 for the sandbox, or leave it unset for X"
        )
    return f"{parts.scheme}://{parts.netloc}"


def check_post_id(post_id: str) -> str:
    """`post_id` if it is an X post id (1-19 digits); ValueError otherwise."""
    if not isinstance(post_id, str) or not _POST_ID.fullmatch(post_id):
        raise ValueError(f"{post_id!r} is not an X post id (1 to 19 digits, as a string)")
    return post_id


def rfc3339(moment: datetime) -> str:
    """An aware datetime as X's `YYYY-MM-DDTHH:MM:SSZ` (UTC); naive ones are refused."""
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} has no time zone; pass an aware UTC datetime")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def quiet_secret_loggers() -> None:
    """Hold tweepy, oauthlib and requests_oauthlib at INFO: at DEBUG they log secrets."""
    for name in _SECRET_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.INFO:  # NOTSET (0) is "unset"
            logger.setLevel(logging.INFO)
    for name, child in list(logging.root.manager.loggerDict.items()):
        if (
            isinstance(child, logging.Logger)
            and name.split(".")[0] in _SECRET_LOGGERS
            and logging.NOTSET < child.level < logging.INFO
        ):
            child.setLevel(logging.INFO)
