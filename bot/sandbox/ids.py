"""Snowflake-like post ids, derived from the creation time as X does.

An id is `((ms - TWITTER_EPOCH_MS) << 22) | sequence`: ids grow with time, and the time a
post was created can be read back from its id. That is what lets the sandbox answer a stale
`since_id` with X's 400, and what makes `since_id` cursors behave as they do on X.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

__all__ = [
    "ID_PATTERN",
    "TWITTER_EPOCH_MS",
    "id_time",
    "is_valid_id",
    "snowflake",
    "to_ms",
]

TWITTER_EPOCH_MS = 1288834974657
SEQUENCE_BITS = 22
MAX_SEQUENCE = (1 << SEQUENCE_BITS) - 1
ID_PATTERN = "^[0-9]{1,19}$"
_ID = re.compile(r"[0-9]{1,19}")


def to_ms(when: datetime) -> int:
    """Milliseconds since the Unix epoch (floor)."""
    delta = when.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC).replace(microsecond=(ms % 1000) * 1000)


def snowflake(ms: int, sequence: int) -> int:
    """The id of the `sequence`-th post created in millisecond `ms`."""
    if not 0 <= sequence <= MAX_SEQUENCE:
        raise ValueError(f"sequence {sequence} out of range")
    return (max(ms - TWITTER_EPOCH_MS, 0) << SEQUENCE_BITS) | sequence


def id_time(post_id: int) -> datetime:
    """When the post with this id was created (to the millisecond)."""
    return from_ms((post_id >> SEQUENCE_BITS) + TWITTER_EPOCH_MS)


def is_valid_id(text: str) -> bool:
    """Whether `text` has the form X accepts for an id (`^[0-9]{1,19}$`)."""
    return _ID.fullmatch(text) is not None and int(text) < 2**63
