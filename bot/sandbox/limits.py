"""Rate-limit windows per (endpoint, user-or-app), with X's current per-endpoint limits.

Limits are those of X-API-NOTES.md §4.2 (docs, 2026-07-24). A window opens at the first
request and lasts its length (15 min; 24 h for the POST daily caps); every counted request
uses one. Every /2/ response carries `x-rate-limit-limit/remaining/reset` (epoch seconds)
for the 15-minute window; POST /2/tweets adds `x-user-limit-24hour-*` and
`x-app-limit-24hour-*`. When a window is spent the answer is 429 and `x-rate-limit-reset`
is the time the blocking window ends (so a client that waits for it gets through).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["ENDPOINT_LIMITS", "EndpointLimits", "Limit", "Limiter", "Verdict"]

_MIN15 = 900
_DAY = 86_400


@dataclass(frozen=True, slots=True)
class Limit:
    count: int
    seconds: int


@dataclass(frozen=True, slots=True)
class EndpointLimits:
    """`user`/`app`: the 15-minute windows (None = that auth type has no such limit);
    `user_day`/`app_day`: the POST daily caps reported in the 24-hour headers."""

    user: Limit | None
    app: Limit | None
    user_day: Limit | None = None
    app_day: Limit | None = None


# The user 24 h cap is not in X's table; 2,400/day is X's account-level posting limit.
ENDPOINT_LIMITS: dict[str, EndpointLimits] = {
    "POST /2/tweets": EndpointLimits(
        user=Limit(100, _MIN15), app=None, user_day=Limit(2400, _DAY), app_day=Limit(10_000, _DAY)
    ),
    "DELETE /2/tweets/:id": EndpointLimits(user=Limit(50, _MIN15), app=None),
    "GET /2/tweets/search/recent": EndpointLimits(user=Limit(300, _MIN15), app=Limit(450, _MIN15)),
    "GET /2/tweets": EndpointLimits(user=Limit(5000, _MIN15), app=Limit(3500, _MIN15)),
    "GET /2/tweets/:id": EndpointLimits(user=Limit(900, _MIN15), app=Limit(450, _MIN15)),
    "GET /2/users/:id/mentions": EndpointLimits(user=Limit(300, _MIN15), app=Limit(450, _MIN15)),
    "GET /2/users/me": EndpointLimits(user=Limit(75, _MIN15), app=None),
}
_FALLBACK = EndpointLimits(user=Limit(900, _MIN15), app=Limit(900, _MIN15))


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether the request may proceed, and the rate-limit headers to send either way."""

    allowed: bool
    headers: dict[str, str]


@dataclass(slots=True)
class _Window:
    start: datetime
    used: int


class Limiter:
    """Fixed windows keyed by (endpoint, caller, kind); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str, str], _Window] = {}
        self._spent_until: dict[str, datetime] = {}

    def check(self, endpoint: str, caller: str, now: datetime, *, consume: bool) -> Verdict:
        """Count one request by `caller` ("user:<id>" or "app") unless `consume` is False.

        Headers describe the state after this request."""
        limits = ENDPOINT_LIMITS.get(endpoint, _FALLBACK)
        is_app = caller == "app"
        short = (limits.app or limits.user) if is_app else (limits.user or limits.app)
        assert short is not None
        kinds = [("15min", short)]
        if not is_app and limits.user_day:
            kinds.append(("user_day", limits.user_day))
        if limits.app_day:
            kinds.append(("app_day", limits.app_day))
        with self._lock:
            states = [
                (kind, limit, self._window(endpoint, caller, kind, limit, now))
                for kind, limit in kinds
            ]
            blocked = [(kind, limit, w) for kind, limit, w in states if w.used >= limit.count]
            spent = self._spent_until.get(endpoint)
            if spent is not None and spent <= now:
                del self._spent_until[endpoint]
                spent = None
            allowed = not blocked and spent is None
            if allowed and consume:
                for _, _, window in states:
                    window.used += 1
            return Verdict(allowed, _headers(states, now, spent=spent, blocked=blocked))

    def spend(self, endpoint: str, now: datetime) -> datetime:
        """Exhaust `endpoint` for everyone for one 15-minute window from `now`; its reset."""
        until = now + timedelta(seconds=_MIN15)
        with self._lock:
            self._spent_until[endpoint] = until
        return until

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()
            self._spent_until.clear()

    def _window(
        self, endpoint: str, caller: str, kind: str, limit: Limit, now: datetime
    ) -> _Window:
        key = (endpoint, "app" if kind == "app_day" else caller, kind)
        window = self._windows.get(key)
        if window is None or now >= window.start + timedelta(seconds=limit.seconds):
            window = _Window(start=now, used=0)
            self._windows[key] = window
        return window


def _epoch(when: datetime) -> str:
    return str(math.ceil(when.timestamp()))


def _headers(
    states: list[tuple[str, Limit, _Window]],
    now: datetime,
    *,
    spent: datetime | None,
    blocked: list[tuple[str, Limit, _Window]],
) -> dict[str, str]:
    headers: dict[str, str] = {}
    resets = [w.start + timedelta(seconds=limit.seconds) for _, limit, w in blocked]
    if spent is not None:
        resets.append(spent)
    for kind, limit, window in states:
        reset = window.start + timedelta(seconds=limit.seconds)
        remaining = max(limit.count - window.used, 0)
        prefix = {
            "15min": "x-rate-limit",
            "user_day": "x-user-limit-24hour",
            "app_day": "x-app-limit-24hour",
        }[kind]
        if kind == "15min" and (spent is not None or blocked):
            remaining = 0
        if kind == "15min" and resets:
            reset = max(resets)
        headers[f"{prefix}-limit"] = str(limit.count)
        headers[f"{prefix}-remaining"] = str(remaining)
        headers[f"{prefix}-reset"] = _epoch(reset)
    return headers
