"""Reading X's answers: JSON bodies, rate-limit headers and refusals turned into bot.errors.

No tweepy here: plain functions over a status, headers and a parsed body, so the
client (bot/x_client.py) and the tests share one translation table.

    429                                 RateLimited(reset_at)   (a usage-capped body: XRejected)
    5xx                                 XUnavailable            (retry later)
    401, 403, 404, 400, anything else   XRejected(reason)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import requests

from bot.errors import RateLimited, XError, XRejected, XRejectReason, XUnavailable


def parse_json(content: bytes | None) -> Any:
    try:
        return json.loads(content) if content else None
    except ValueError:
        return None


def json_body(response: requests.Response) -> Any:
    try:
        return parse_json(response.content)
    except requests.RequestException:
        return None


def header_int(headers: Mapping[str, str], name: str) -> int | None:
    try:
        return int(headers[name])
    except (KeyError, ValueError):
        return None


def header_time(headers: Mapping[str, str], name: str) -> datetime | None:
    epoch = header_int(headers, name)
    return datetime.fromtimestamp(epoch, UTC) if epoch is not None else None


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
    resets = [header_time(headers, "x-rate-limit-reset")]
    for cap in ("x-user-limit-24hour", "x-app-limit-24hour"):
        if header_int(headers, f"{cap}-remaining") == 0:
            resets.append(header_time(headers, f"{cap}-reset"))
    known = [reset for reset in resets if reset is not None]
    return max(known) if known else None


def classify_lookup_errors(payload: Any, requested: Sequence[str]) -> tuple[list[str], list[str]]:
    """(missing, withheld) among `requested`, from a lookup page's partial `errors`.

    Problem types are matched by suffix: both api.twitter.com and api.x.com prefixes
    occur. Errors about expansions (a quoted post deleted, say) are not about the
    requested ids and are left to the archive. An item whose detail says "suspended"
    is withheld whatever its type: X answers a suspended account's user lookup with
    "User has been suspended" typed resource-not-found, and a suspended author's post
    is not gone, only hidden (see `suspended_lookup_ids`).
    """
    missing: list[str] = []
    withheld: list[str] = []
    for post_id, problem_type, suspended in _lookup_errors(payload, requested):
        if suspended or problem_type.endswith("/2/problems/not-authorized-for-resource"):
            if post_id not in withheld:
                withheld.append(post_id)
        elif problem_type.endswith("/2/problems/resource-not-found") and post_id not in missing:
            missing.append(post_id)
    return missing, withheld


def suspended_lookup_ids(payload: Any, requested: Sequence[str]) -> list[str]:
    """Those of `requested` X withholds because their author is suspended.

    X's documentation shows no lookup of a suspended author's post; its user lookup
    says "User has been suspended: [...]". So an item about a requested post whose
    detail mentions "suspended" counts; a plain "Authorization Error" (protected, or
    a suspension X does not name) stays merely withheld, which hides it all the same.
    """
    found: list[str] = []
    for post_id, _, suspended in _lookup_errors(payload, requested):
        if suspended and post_id not in found:
            found.append(post_id)
    return found


def _lookup_errors(payload: Any, requested: Sequence[str]) -> list[tuple[str, str, bool]]:
    """(post id, problem type, says suspended) for each error item about a requested id."""
    wanted = set(requested)
    errors = payload.get("errors") if isinstance(payload, dict) else None
    found: list[tuple[str, str, bool]] = []
    for item in errors if isinstance(errors, list) else []:
        if not isinstance(item, dict):
            continue
        post_id = str(item.get("resource_id") or item.get("value") or "")
        if post_id not in wanted or item.get("parameter", "ids") != "ids":
            continue
        suspended = "suspended" in str(item.get("detail") or "").lower()
        found.append((post_id, str(item.get("type", "")), suspended))
    return found


def credentials_missing(names: Sequence[str], endpoint: str) -> XRejected:
    """BAD_CREDENTIALS for settings that are empty, before any request is made."""
    listed = ", ".join(names)
    return XRejected(
        XRejectReason.BAD_CREDENTIALS,
        f"{listed} {'is' if len(names) == 1 else 'are'} not set, so tcbot cannot call {endpoint}",
        f"set {listed} in .env (from the app's 'Keys and tokens' page in the X developer console)",
        endpoint=endpoint,
    )


def data_object(payload: Any) -> dict[str, Any]:
    """A single-object answer's `data` ({} when X sent something else)."""
    data = payload.get("data") if isinstance(payload, dict) else None
    return data if isinstance(data, dict) else {}


def answer_without_data(endpoint: str, fix: str) -> XRejected:
    return XRejected(
        XRejectReason.OTHER,
        f"X answered {endpoint} with success but without the expected data",
        fix,
        endpoint=endpoint,
    )
