"""A chat's transcript as the chat page shows it: loading it, filtering it, flattening it; pure
apart from `page_transcript`.

`page_transcript` loads a transcript the way archive/chat_tweets.load_transcript does
(the same functions, in the same order) and also counts the chat's tweets that were
left out because their authors are protected or suspended, so the page can say so.

The page's filters come from the query string: `question` (a number), `person` (a
username, with or without @) and `newcomers` (1: only people here for the first time).
A reply matches on its own author; the question it sits under is always shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from archive.chat_rules import ChatTweet
from archive.chat_tweets import load_transcript_counting_hidden
from archive.models import Chat
from archive.transcripts import Gap, Transcript, walk

__all__ = ["ChatFilters", "Row", "ShownQuestion", "page_transcript", "parse_filters", "shown_rows"]

MAX_INDENT = 8  # deeper replies are drawn at this indent (the CSS has classes depth-0..8)


@dataclass(frozen=True, slots=True)
class ChatFilters:
    question: int | None = None
    person: str | None = None  # lower case, without @
    newcomers: bool = False

    @property
    def active(self) -> bool:
        return self.question is not None or self.person is not None or self.newcomers


@dataclass(frozen=True, slots=True)
class Row:
    """A tweet on the page: how far to indent it, and whether its author is new."""

    depth: int
    indent: int
    tweet: ChatTweet
    new: bool
    time: str


@dataclass(frozen=True, slots=True)
class ShownQuestion:
    number: int
    post: ChatTweet | None
    answers: int
    rows: tuple[Row, ...]


def parse_filters(params: Mapping[str, str]) -> ChatFilters:
    """The filters from a query string; values that make no sense are ignored."""
    question = params.get("question", "").strip()
    person = params.get("person", "").strip().removeprefix("@").strip().lower()
    return ChatFilters(
        question=int(question) if question.isdigit() and 0 < int(question) < 100 else None,
        person=person or None,
        newcomers=params.get("newcomers") == "1",
    )


def page_transcript(
    session: Session, chat: Chat, *, include_protected: bool, gaps: Sequence[Gap] = ()
) -> tuple[Transcript, int]:
    """The chat's transcript, and how many of its tweets were hidden (0 when included)."""
    return load_transcript_counting_hidden(
        session, chat, include_protected=include_protected, gaps=gaps
    )


def newcomer_keys(transcript: Transcript) -> frozenset[str]:
    return frozenset(p.author_id or p.username for p in transcript.participants if p.first_time)


def shown_rows(
    transcript: Transcript, filters: ChatFilters, *, zone: ZoneInfo
) -> tuple[list[ShownQuestion], list[Row]]:
    """The questions (with their answer rows) and the general chat, filtered."""
    new = newcomer_keys(transcript)

    def keep(tweet: ChatTweet) -> bool:
        if filters.person is not None and tweet.username.lower() != filters.person:
            return False
        return not filters.newcomers or (tweet.author_id or tweet.username) in new

    def row(depth: int, tweet: ChatTweet) -> Row:
        local = tweet.created_at.astimezone(zone)
        return Row(depth, min(depth, MAX_INDENT), tweet, (tweet.author_id or tweet.username) in new,
                   f"{local:%H:%M}")  # fmt: skip

    questions = [
        ShownQuestion(
            number=q.number,
            post=q.tweet,
            answers=len(q.answers),
            rows=tuple(row(d, e.tweet) for d, e in walk(q.answers) if keep(e.tweet)),
        )
        for q in transcript.questions
        if filters.question is None or q.number == filters.question
    ]
    general = [] if filters.question is not None else [
        row(0, t) for t in transcript.general if keep(t)
    ]  # fmt: skip
    return questions, general
