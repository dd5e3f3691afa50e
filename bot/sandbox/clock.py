"""Sandbox time: a base clock plus an offset the admin endpoint can move, and X's formats.

Tests and rehearsals fast-forward the sandbox (the 7-day search window, rate-limit windows,
created_at of new posts) without touching the caller's clock. Timestamps go out the way X
writes them, with milliseconds (`2026-08-20T12:05:00.000Z`): tweepy cannot parse them without.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

__all__ = ["SandboxClock", "format_minute", "format_timestamp", "parse_timestamp", "system_now"]


def system_now() -> datetime:
    """The machine's time, aware UTC (the default base clock)."""
    return datetime.now(UTC)


class SandboxClock:
    """`base()` plus an offset; thread-safe. `now()` is always aware UTC."""

    def __init__(self, base: Callable[[], datetime] | None = None, *, offset: float = 0.0):
        self._base = base or system_now
        self._offset = timedelta(seconds=offset)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        current = self._base()
        if current.tzinfo is None:
            raise ValueError("the sandbox clock needs aware datetimes (UTC)")
        with self._lock:
            return (current + self._offset).astimezone(UTC)

    @property
    def offset_seconds(self) -> float:
        with self._lock:
            return self._offset.total_seconds()

    def advance(self, seconds: float) -> datetime:
        """Move sandbox time forward (or back, if negative) by `seconds`."""
        with self._lock:
            self._offset += timedelta(seconds=seconds)
        return self.now()

    def set(self, when: datetime) -> datetime:
        """Make `now()` answer `when` (aware) from this moment on."""
        if when.tzinfo is None:
            raise ValueError("give the time with a zone, e.g. 2026-08-20T12:00:00Z")
        with self._lock:
            self._offset = when - self._base()
        return self.now()

    def reset(self) -> None:
        with self._lock:
            self._offset = timedelta(0)


def format_timestamp(when: datetime) -> str:
    """X's timestamp form: `2026-08-20T12:05:00.000Z` (UTC, milliseconds)."""
    utc = when.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def format_minute(when: datetime) -> str:
    """The minute form X uses inside some error messages: `2026-06-23T10:50Z`."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def parse_timestamp(text: str) -> datetime | None:
    """An RFC 3339 time (`2026-08-20T12:05:00Z`, with or without fraction/offset) or None."""
    if "T" not in text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed.astimezone(UTC)
