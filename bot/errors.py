"""tcbot's errors: one small tree, translated at the edges.

    TcbotError (archive.errors)       every error a user can cause or fix
    ├── DatabaseError (archive.errors)
    ├── IngestError (archive.errors)
    ├── ConfigError                   a setting is missing or malformed (names the variable)
    └── XError                        anything X (or the sandbox) said no to
        ├── RateLimited               429: carries reset_at; try again after it
        ├── XUnavailable              5xx, timeouts, dropped connections: retryable
        └── XRejected                 any other refusal; `reason` says which (XRejectReason)

tweepy's exceptions become these inside bot/x_client.py and nowhere else; the CLI
turns any TcbotError into "Error: ..." on stderr and exit status 1.
"""

from __future__ import annotations

import enum
from datetime import datetime

from archive.errors import DatabaseError, IngestError, TcbotError

__all__ = [
    "ConfigError",
    "DatabaseError",
    "IngestError",
    "RateLimited",
    "TcbotError",
    "XError",
    "XRejectReason",
    "XRejected",
    "XUnavailable",
]


class ConfigError(TcbotError):
    """A setting is missing, partial or malformed; names the variable (and its value)."""

    def __init__(self, variable: str, what: str, fix: str) -> None:
        self.variable = variable
        super().__init__(what, fix)


class XError(TcbotError):
    """X (or the sandbox standing in for it) did not do what was asked."""

    retryable = False

    def __init__(self, what: str, fix: str = "", *, endpoint: str = "", status: int | None = None):
        self.endpoint = endpoint
        self.status = status
        super().__init__(what, fix)


class RateLimited(XError):
    """X answered 429: the window for this endpoint is spent until `reset_at` (UTC).

    Callers never sleep on this: they record `reset_at` (an outbox row's
    `not_before`, a tracker's next poll) and let the next tick try again.
    """

    retryable = True

    def __init__(self, *, reset_at: datetime | None, endpoint: str = "", detail: str = ""):
        self.reset_at = reset_at
        when = reset_at.strftime("%Y-%m-%d %H:%M:%S UTC") if reset_at else "an unknown time"
        what = f"X's rate limit for {endpoint or 'this request'} is spent until {when}"
        if detail:
            what += f" ({detail})"
        super().__init__(what, "tcbot will try again after that", endpoint=endpoint, status=429)


class XUnavailable(XError):
    """X failed or could not be reached (5xx, timeout, dropped connection). Safe to retry."""

    retryable = True

    def __init__(self, what: str, *, endpoint: str = "", status: int | None = None):
        super().__init__(
            what, "X may be having trouble; tcbot will try again", endpoint=endpoint, status=status
        )


class XRejectReason(enum.Enum):
    """Why X refused a request; decides what the caller does next."""

    BAD_CREDENTIALS = "bad_credentials"  # 401
    APP_ONLY_TOKEN = "app_only_token"  # 403 unsupported-authentication on a write
    DUPLICATE_CONTENT = "duplicate_content"  # 403: same text already posted by this account
    REPLY_NOT_ALLOWED = "reply_not_allowed"  # 403: 2026 reply gate (not mentioned/quoted)
    REPLY_TARGET_GONE = "reply_target_gone"  # 403: replying to a deleted/invisible post
    TOO_LONG = "too_long"  # 400 or 403: over 280 weighted characters
    NOT_FOUND = "not_found"  # 404
    FORBIDDEN = "forbidden"  # any other 403
    INVALID_REQUEST = "invalid_request"  # 400 (bad parameter, stale since_id, ...)
    USAGE_CAPPED = "usage_capped"  # 429 usage-capped: the monthly/daily cap, not a window
    OTHER = "other"


class XRejected(XError):
    """X refused the request for a reason retrying will not fix; `reason` says which."""

    def __init__(
        self,
        reason: XRejectReason,
        what: str,
        fix: str,
        *,
        endpoint: str = "",
        status: int | None = None,
        detail: str = "",
    ):
        self.reason = reason
        self.detail = detail
        super().__init__(what, fix, endpoint=endpoint, status=status)


class ScheduleError(TcbotError):
    """A schedule file, or a chat given on the command line, that tcbot cannot use.

    `path` is the file (or where the chat came from) and `line` its line when known;
    the message starts with them, as in "schedules/traineetalk.toml:14: ...".
    """

    def __init__(self, what: str, fix: str = "", *, path: str = "", line: int | None = None):
        self.path = path
        self.line = line
        where = f"{path}:{line}" if path and line is not None else path
        super().__init__(f"{where}: {what}" if where else what, fix)


__all__ += ["ScheduleError"]
