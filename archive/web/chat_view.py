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

from archive.chat_rules import ChatTweet, select_chat_tweets
from archive.chat_tweets import (
    chat_frame,
    found_questions,
    recorded_posts,
    returning_authors,
    window_tweets,
    with_links,
)
from archive.models import Chat, ChatOrigin
from archive.transcripts import Gap, Transcript, build_transcript, walk

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
    candidates = window_tweets(
        session, starts_at=chat.starts_at, ends_at=chat.ends_at, hashtag=chat.hashtag
    )
    posts = (
        recorded_posts(chat)
        if chat.origin is ChatOrigin.BOT
        else found_questions(candidates, host=chat.host)
    )
    tweets = with_links(
        session, select_chat_tweets(candidates, hashtag=chat.hashtag, post_ids=posts.ids)
    )
    authors = {t.author_id for t in tweets if t.author_id is not None}
    returning = returning_authors(session, authors, before=chat.starts_at)
    transcript = build_transcript(
        chat_frame(chat), tweets, question_of=posts.question_of, headings=posts.headings,
        other_posts=posts.others, returning=returning, include_protected=include_protected,
        gaps=gaps,
    )  # fmt: skip
    hidden = 0 if include_protected else sum(t.protected for t in tweets)
    return transcript, hidden


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
