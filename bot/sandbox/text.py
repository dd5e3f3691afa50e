"""Post text rules: weighted length, hashtag and mention entities, the reply prefix.

Length is counted with twitter-text (`twitter_text.parse_tweet(...).weightedLength`), the
library X's own docs use: 280 weighted characters, URLs count 23, most emoji and CJK count 2.
Entity offsets are code-point indices into the stored text, `end` exclusive, as in X's JSON.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from twitter_text import parse_tweet  # type: ignore[import-untyped]

__all__ = [
    "MAX_WEIGHTED_LENGTH",
    "Entity",
    "hashtags",
    "mentions",
    "reply_prefix_length",
    "weighted_length",
    "with_reply_prefix",
]

MAX_WEIGHTED_LENGTH = 280
_HASHTAG = re.compile(r"(?<![\w&#＃])[#＃](\w+)")
_MENTION = re.compile(r"(?<![A-Za-z0-9_!@#$%&*＠])[@＠]([A-Za-z0-9_]{1,15})(?![A-Za-z0-9_@＠])")


@dataclass(frozen=True, slots=True)
class Entity:
    """A hashtag (`value` without '#') or a mention (`value` = username without '@')."""

    start: int
    end: int
    value: str


def weighted_length(text: str) -> int:
    """X's weighted length of `text` (what the 280 limit applies to)."""
    length: int = parse_tweet(text).weightedLength
    return length


def hashtags(text: str) -> list[Entity]:
    """Hashtags in `text`; a tag needs at least one letter (`#2026` is not one)."""
    return [
        Entity(m.start(), m.end(), m.group(1))
        for m in _HASHTAG.finditer(text)
        if any(ch.isalpha() for ch in m.group(1))
    ]


def mentions(text: str) -> list[Entity]:
    """@username mentions in `text` (not e-mail addresses, not handles over 15 characters)."""
    return [Entity(m.start(), m.end(), m.group(1)) for m in _MENTION.finditer(text)]


def reply_prefix_length(text: str, parent_username: str) -> int:
    """Length of a leading `@parent_username ` (the auto-populated part of a reply), or 0."""
    pattern = rf"[@＠]{re.escape(parent_username)}(?![A-Za-z0-9_])\s*"
    match = re.match(pattern, text, re.IGNORECASE)
    return match.end() if match else 0


def with_reply_prefix(text: str, parent_username: str) -> str:
    """The stored text of a reply: X puts `@parent_author ` first unless the text starts so."""
    if reply_prefix_length(text, parent_username):
        return text
    return f"@{parent_username} {text}"
