"""The X API v2 client: the only module in tcbot that imports tweepy.

Owns every conversation with X (or the sandbox standing in for it): posting and
deleting, bounded recent search, post lookup and `me`. Reads come back as raw JSON
pages, exactly as X sent them plus where and when, for the archive. Every HTTP
request, failed or not, is reported once as an `ApiCall` for the usage log.

Whatever tweepy or requests raise is translated here, once, into bot.errors:

    429                                 RateLimited(reset_at)   (a usage-capped body: XRejected)
    5xx, dropped connection, timeout    XUnavailable            (retry later)
    401, 403, 404, 400, anything else   XRejected(reason)       (see `translate_http_error`)

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

import json
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
from bot.errors import RateLimited, XError, XRejected, XRejectReason, XUnavailable

__all__ = [
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
    (protected or suspended author).
    """

    pages: tuple[FetchedPage, ...]
    missing_ids: tuple[str, ...]
    withheld_ids: tuple[str, ...]


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


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One HTTP request to X, for the usage log and cost reports."""

    at: datetime
    method: str
    endpoint: str  # route template, e.g. "/2/tweets/:id"
    status: int | None  # None when the connection failed
    posts_read: int
    users_read: int
    posts_created: int
    rate_limit_remaining: int | None
    rate_limit_reset: datetime | None
    error: str | None


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
    ) -> SearchResult: ...

    def lookup(self, ids: Sequence[str]) -> LookupResult: ...

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
        data = _data_object(payload)
        if not data.get("id"):
            raise _answer_without_data(
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
        if _data_object(payload).get("deleted") is not True:
            raise _answer_without_data("DELETE /2/tweets/:id", f"check whether {tweet_id} is gone")
        log.info("Deleted %s", tweet_id)

    def search_recent(
        self,
        query: str,
        *,
        since_id: str | None = None,
        start_time: datetime | None = None,
        end_time: datetime | None = None,
        max_pages: int = 10,
    ) -> SearchResult:
        """Search the last 7 days, newest first, reading at most `max_pages` pages of 100.

        An error on any page raises and drops the pages already read: the caller's
        cursor has not moved, and X bills a post once per UTC day however often it is
        read (a soft guarantee), so the next poll re-reads them cheaply.
        """
        if max_pages < 1:
            raise ValueError(f"max_pages must be at least 1, not {max_pages}")
        params = {"query": query, "max_results": str(MAX_RESULTS), **FIELD_PARAMS}
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

    def lookup(self, ids: Sequence[str]) -> LookupResult:
        """Fetch posts by id, 100 per request; report those X says are gone or hidden."""
        wanted = [check_post_id(post_id) for post_id in dict.fromkeys(ids)]
        if not wanted:
            return LookupResult(pages=(), missing_ids=(), withheld_ids=())
        user_auth = self._read_auth(f"GET {LOOKUP_ROUTE}")
        pages: list[FetchedPage] = []
        missing: list[str] = []
        withheld: list[str] = []
        for start in range(0, len(wanted), LOOKUP_BATCH):
            batch = wanted[start : start + LOOKUP_BATCH]
            page = self._lookup_page({"ids": ",".join(batch), **FIELD_PARAMS}, user_auth)
            pages.append(page)
            gone, hidden = classify_lookup_errors(page.payload, batch)
            missing += gone
            withheld += hidden
        log.info(
            "Looked up %d post(s): %d missing, %d withheld",
            len(wanted),
            len(missing),
            len(withheld),
        )
        return LookupResult(
            pages=tuple(pages), missing_ids=tuple(missing), withheld_ids=tuple(withheld)
        )

    def me(self) -> Account:
        """The bot account the user-context credentials belong to."""
        self._require_user_credentials("GET /2/users/me")
        payload = self._call("GET", "/2/users/me", lambda: self._client.get_me(user_auth=True))
        data = _data_object(payload)
        if not data.get("id"):
            raise _answer_without_data("GET /2/users/me", "try again later")
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
                body=_json_body(exc.response),
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
            self._record(_failed_call(self._clock.now(), method, route, exc))
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
            self._record(_with_error(call, f"answer cut off ({type(exc).__name__})"))
            raise _AnswerCutOff(response.status_code) from exc
        self._record(api_call_from_response(response, _parse_json(content), at=self._clock.now()))

    def _record(self, call: ApiCall) -> None:
        if self._on_call is None:
            return
        try:
            self._on_call(call)
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


def route_template(path: str) -> str:
    """`/2/tweets/123` -> `/2/tweets/:id`: ids out of the path, for grouping."""
    head, _, rest = path.lstrip("/").partition("/")  # keep the API version, "2"
    parts = [":id" if part.isdigit() else part for part in rest.split("/")] if rest else []
    return "/" + "/".join([head, *parts])


def _parse_json(content: bytes | None) -> Any:
    try:
        return json.loads(content) if content else None
    except ValueError:
        return None


def _json_body(response: requests.Response) -> Any:
    try:
        return _parse_json(response.content)
    except requests.RequestException:
        return None


def _header_int(headers: Mapping[str, str], name: str) -> int | None:
    try:
        return int(headers[name])
    except (KeyError, ValueError):
        return None


def _header_time(headers: Mapping[str, str], name: str) -> datetime | None:
    epoch = _header_int(headers, name)
    return datetime.fromtimestamp(epoch, UTC) if epoch is not None else None


# -- the usage log ------------------------------------------------------------------


def api_call_from_response(response: requests.Response, payload: Any, *, at: datetime) -> ApiCall:
    """The usage-log line for one answer from X (`payload` = its parsed JSON, or None)."""
    request = response.request
    method = (request.method or "GET").upper()
    route = route_template(urlsplit(request.url or "").path)
    status = response.status_code
    ok = 200 <= status < 300
    posts_read, users_read = _read_counts(method, route, payload) if ok else (0, 0)
    return ApiCall(
        at=at,
        method=method,
        endpoint=route,
        status=status,
        posts_read=posts_read,
        users_read=users_read,
        posts_created=1 if ok and method == "POST" and route == "/2/tweets" else 0,
        rate_limit_remaining=_header_int(response.headers, "x-rate-limit-remaining"),
        rate_limit_reset=_header_time(response.headers, "x-rate-limit-reset"),
        error=None if ok else f"{status} {problem_message(payload) or response.reason}",
    )


def _read_counts(method: str, route: str, payload: Any) -> tuple[int, int]:
    """(posts, users) returned by a read: what X bills for."""
    if method != "GET" or not isinstance(payload, dict):
        return 0, 0
    includes = payload.get("includes") or {}
    included_posts = len(includes.get("tweets") or [])
    included_users = len(includes.get("users") or [])
    data = payload.get("data")
    primary = len(data) if isinstance(data, list) else int(isinstance(data, dict))
    if route.startswith("/2/users/"):
        return included_posts, primary + included_users
    return primary + included_posts, included_users


def _failed_call(at: datetime, method: str, route: str, exc: Exception) -> ApiCall:
    return ApiCall(
        at, method, route, None, 0, 0, 0, None, None, f"no answer ({type(exc).__name__})"
    )


def _with_error(call: ApiCall, error: str) -> ApiCall:
    return ApiCall(
        call.at, call.method, call.endpoint, call.status, 0, 0, 0,
        call.rate_limit_remaining, call.rate_limit_reset, error,
    )  # fmt: skip


# -- X's answers -> our errors ------------------------------------------------------

_CREDENTIALS_FIX = (
    "check X_API_KEY, X_API_SECRET, X_ACCESS_TOKEN, X_ACCESS_TOKEN_SECRET and X_BEARER_TOKEN "
    "in .env against the app's 'Keys and tokens' page in the X developer console "
    "(regenerate them there if they were revoked)"
)
_REASONS: dict[XRejectReason, tuple[str, str]] = {  # reason -> (what, fix)
    XRejectReason.BAD_CREDENTIALS: (
        "X did not accept tcbot's credentials ({status} on {endpoint})",
        _CREDENTIALS_FIX,
    ),
    XRejectReason.APP_ONLY_TOKEN: (
        "X refused an app-only token on {endpoint}, which must act as the bot account",
        "set X_ACCESS_TOKEN and X_ACCESS_TOKEN_SECRET (the bot's user-context token) in .env",
    ),
    XRejectReason.DUPLICATE_CONTENT: (
        "X refused the post: the bot account already posted exactly this text",
        "change the text (add the date or the question number, say) and queue it again",
    ),
    XRejectReason.REPLY_NOT_ALLOWED: (
        "X lets the bot reply to or quote only posts whose author mentioned or engaged it",
        "post it without replying or quoting, or leave this one for an organiser to answer",
    ),
    XRejectReason.REPLY_TARGET_GONE: (
        "the post being replied to is deleted or not visible to the bot",
        "skip this reply, or post it without replying",
    ),
    XRejectReason.TOO_LONG: (
        "X refused the post as longer than 280 weighted characters",
        "shorten the text (a link counts 23, an emoji 2) and queue it again",
    ),
    XRejectReason.NOT_FOUND: (
        "X has no such post ({endpoint}, 404)",
        "check the id; the post may already be deleted",
    ),
    XRejectReason.FORBIDDEN: (
        "X refused {endpoint} (403): {message}",
        "check the app has Read and Write permission and the bot account is not locked",
    ),
    XRejectReason.INVALID_REQUEST: (
        "X rejected {endpoint} as invalid: {message}",
        "check the query and parameters; if they look right, this is a tcbot bug worth reporting",
    ),
    XRejectReason.USAGE_CAPPED: (
        "X's usage cap is spent ({message})",
        "raise the spending limit in the X developer console or wait for the next billing period",
    ),
    XRejectReason.OTHER: (
        "X answered {status} to {endpoint}: {message}",
        "read X's message; retrying as it is will not help",
    ),
}
_STALE_CURSOR_FIX = (
    "the stored since_id is older than recent search's 7 days: clear that cursor so the next "
    "poll starts from the last 7 days (older posts cannot be fetched)"
)
_FORBIDDEN_TEXTS = (  # lower-cased fragments of X's 403 details, checked in order
    ("is too long", XRejectReason.TOO_LONG),
    ("duplicate content", XRejectReason.DUPLICATE_CONTENT),
    ("deleted or not visible", XRejectReason.REPLY_TARGET_GONE),
    ("reply to this conversation is not allowed", XRejectReason.REPLY_NOT_ALLOWED),
    ("you can only reply to or quote posts", XRejectReason.REPLY_NOT_ALLOWED),
    ("quoting this post is not allowed", XRejectReason.REPLY_NOT_ALLOWED),
)


def problem_message(body: Any) -> str:
    """X's own words from an error body: per-item messages, else `detail`, else `title`."""
    if not isinstance(body, dict):
        return ""
    errors = body.get("errors")
    items: list[Any] = errors if isinstance(errors, list) else []
    texts = [str(i.get("message") or i.get("detail") or "") for i in items if isinstance(i, dict)]
    texts += [i for i in items if isinstance(i, str)]
    return "; ".join(t for t in texts if t) or str(body.get("detail") or body.get("title") or "")


def translate_http_error(
    *, status: int, headers: Mapping[str, str], body: Any, endpoint: str
) -> XError:
    """The XError for X's non-2xx answer (`body` = parsed JSON or None). Pure."""
    message = problem_message(body) or f"HTTP {status}"
    problem_type = str(body.get("type", "")) if isinstance(body, dict) else ""
    text = f"{message} {problem_type}".lower()
    if status == 429 and not problem_type.endswith("/2/problems/usage-capped"):
        return RateLimited(reset_at=rate_limit_reset(headers), endpoint=endpoint)
    if status >= 500:
        return XUnavailable(
            f"X failed on {endpoint} ({status}: {message})", endpoint=endpoint, status=status
        )
    reason = _rejection_reason(status, problem_type, text)
    what, fix = _REASONS[reason]
    if reason is XRejectReason.INVALID_REQUEST and "since_id" in text:
        fix = _STALE_CURSOR_FIX
    return XRejected(
        reason,
        what.format(status=status, endpoint=endpoint, message=message),
        fix,
        endpoint=endpoint,
        status=status,
        detail=message,
    )


def _rejection_reason(status: int, problem_type: str, text: str) -> XRejectReason:
    if status == 429:
        return XRejectReason.USAGE_CAPPED
    if status == 401:
        return XRejectReason.BAD_CREDENTIALS
    if status == 403 and problem_type.endswith("/2/problems/unsupported-authentication"):
        return XRejectReason.APP_ONLY_TOKEN
    if status in (400, 403):
        for fragment, reason in _FORBIDDEN_TEXTS:
            if fragment in text and (status == 403 or reason is XRejectReason.TOO_LONG):
                return reason
        return XRejectReason.FORBIDDEN if status == 403 else XRejectReason.INVALID_REQUEST
    return XRejectReason.NOT_FOUND if status == 404 else XRejectReason.OTHER


def rate_limit_reset(headers: Mapping[str, str]) -> datetime | None:
    """When a 429 ends: `x-rate-limit-reset`, or a later spent 24-hour cap's reset."""
    resets = [_header_time(headers, "x-rate-limit-reset")]
    for cap in ("x-user-limit-24hour", "x-app-limit-24hour"):
        if _header_int(headers, f"{cap}-remaining") == 0:
            resets.append(_header_time(headers, f"{cap}-reset"))
    known = [reset for reset in resets if reset is not None]
    return max(known) if known else None


def classify_lookup_errors(payload: Any, requested: Sequence[str]) -> tuple[list[str], list[str]]:
    """(missing, withheld) among `requested`, from a lookup page's partial `errors`.

    Problem types are matched by suffix: both api.twitter.com and api.x.com prefixes
    occur. Errors about expansions (a quoted post deleted, say) are not about the
    requested ids and are left to the archive.
    """
    missing: list[str] = []
    withheld: list[str] = []
    wanted = set(requested)
    errors = payload.get("errors") if isinstance(payload, dict) else None
    for item in errors if isinstance(errors, list) else []:
        if not isinstance(item, dict):
            continue
        post_id = str(item.get("resource_id") or item.get("value") or "")
        problem_type = str(item.get("type", ""))
        if post_id not in wanted or item.get("parameter", "ids") != "ids":
            continue
        if problem_type.endswith("/2/problems/resource-not-found") and post_id not in missing:
            missing.append(post_id)
        elif (
            problem_type.endswith("/2/problems/not-authorized-for-resource")
            and post_id not in withheld
        ):
            withheld.append(post_id)
    return missing, withheld


def credentials_missing(names: Sequence[str], endpoint: str) -> XRejected:
    """BAD_CREDENTIALS for settings that are empty, before any request is made."""
    listed = ", ".join(names)
    return XRejected(
        XRejectReason.BAD_CREDENTIALS,
        f"{listed} {'is' if len(names) == 1 else 'are'} not set, so tcbot cannot call {endpoint}",
        f"set {listed} in .env (from the app's 'Keys and tokens' page in the X developer console)",
        endpoint=endpoint,
    )


def _data_object(payload: Any) -> dict[str, Any]:
    """A single-object answer's `data` ({} when X sent something else)."""
    data = payload.get("data") if isinstance(payload, dict) else None
    return data if isinstance(data, dict) else {}


def _answer_without_data(endpoint: str, fix: str) -> XRejected:
    return XRejected(
        XRejectReason.OTHER,
        f"X answered {endpoint} with success but without the expected data",
        fix,
        endpoint=endpoint,
    )
