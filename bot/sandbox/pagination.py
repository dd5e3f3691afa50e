"""Pages of newest-first results, and the opaque tokens that continue them.

A token records the boundary post id and which way to go, plus a fingerprint of the request
it belongs to, base32-encoded so it neither looks like nor can be used as an id. Tokens are
stable (the same token replays the same page, as X promises) and are refused with a 400
when used with another query.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.sandbox.problems import invalid_request
from bot.sandbox.records import Tweet

__all__ = [
    "Cursor",
    "Direction",
    "Page",
    "decode_token",
    "encode_token",
    "older_page",
    "paginate",
]

_LAYOUT = struct.Struct(">cQ6s")


class Direction(enum.Enum):
    OLDER = b"n"  # next_token: posts older than the boundary
    NEWER = b"p"  # previous_token: posts newer than the boundary


@dataclass(frozen=True, slots=True)
class Cursor:
    direction: Direction
    boundary: int


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Tweet]
    next_cursor: Cursor | None
    previous_cursor: Cursor | None


def _fingerprint(scope: str) -> bytes:
    return hashlib.sha256(scope.encode()).digest()[:6]


def encode_token(cursor: Cursor, *, scope: str) -> str:
    packed = _LAYOUT.pack(cursor.direction.value, cursor.boundary, _fingerprint(scope))
    return base64.b32encode(packed).decode().rstrip("=").lower()


def decode_token(token: str, *, scope: str, parameter: str) -> Cursor:
    """The cursor in `token`, or X's 400 if it is garbled or belongs to another request."""
    try:
        padded = token.upper() + "=" * (-len(token) % 8)
        direction, boundary, fingerprint = _LAYOUT.unpack(base64.b32decode(padded))
        if fingerprint != _fingerprint(scope):
            raise ValueError("token from another request")
        return Cursor(Direction(direction), boundary)
    except (binascii.Error, struct.error, ValueError):
        raise invalid_request(
            f"The `{parameter}` query parameter value [{token}] is not valid for this request",
            {parameter: [token]},
        ) from None


def paginate(items: Sequence[Tweet], *, size: int, cursor: Cursor | None) -> Page:
    """One page of `items` (newest first) starting where `cursor` points."""
    if cursor is None:
        page = list(items[:size])
        more_older = len(items) > size
        more_newer = False
    elif cursor.direction is Direction.OLDER:
        older = [t for t in items if int(t.id) < cursor.boundary]
        page, more_older = older[:size], len(older) > size
        more_newer = len(older) < len(items)
    else:
        newer = [t for t in items if int(t.id) > cursor.boundary]
        page, more_newer = newer[-size:], len(newer) > size
        more_older = len(newer) < len(items)
    if not page:
        return Page([], None, None)
    return Page(
        page,
        Cursor(Direction.OLDER, int(page[-1].id)) if more_older else None,
        Cursor(Direction.NEWER, int(page[0].id)) if more_newer else None,
    )


def older_page(items: Iterable[Tweet], *, size: int, cursor: Cursor | None) -> Page:
    """Like `paginate` for a first page or a next_token, reading `items` (newest first,
    possibly lazy) only as far as the page needs; never offers a previous cursor."""
    if cursor is not None and cursor.direction is not Direction.OLDER:
        return paginate(list(items), size=size, cursor=cursor)
    page: list[Tweet] = []
    for tweet in items:
        if cursor is not None and int(tweet.id) >= cursor.boundary:
            continue
        page.append(tweet)
        if len(page) > size:
            break
    if not page:
        return Page([], None, None)
    more = len(page) > size
    page = page[:size]
    return Page(page, Cursor(Direction.OLDER, int(page[-1].id)) if more else None, None)
