"""A chat's transcript: questions with their answers and reply threads, general chat,
participants, shared links and counts; pure.

`build_transcript` takes the chat, its tweets (archive/chat_rules.py says which
tweets are the chat's and where each goes) and what the archive knows about the
people, and returns a `Transcript` that archive/transcript_formats.py and
archive/transcript_html.py render. Nothing here touches the database
(archive/chat_tweets.py loads the inputs).

Protected accounts' tweets are left out before any rule runs, unless asked for:
a reply to one is then a reply whose parent is missing. Reply threads deeper than
MAX_DEPTH are attached at that depth (their real parent stays in the tweet's
`replied_to`), so every output stays shallow enough for JSON parsers and browsers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from archive.chat_rules import ChatTweet, Placement, Role, assign, order_key, question_numbers

__all__ = [
    "MAX_DEPTH",
    "ChatFrame",
    "ChatTweet",
    "Entry",
    "Gap",
    "Link",
    "Participant",
    "Question",
    "Stats",
    "Transcript",
    "build_transcript",
    "walk",
]

MAX_DEPTH = 50


@dataclass(frozen=True, slots=True)
class ChatFrame:
    """What a transcript says about its chat. `host` is a username without @."""

    id: int
    hashtag: str
    host: str
    starts_at: datetime
    ends_at: datetime
    topic: str | None
    origin: str


@dataclass(frozen=True, slots=True)
class Entry:
    """An answer or a reply, with the replies under it (oldest first)."""

    tweet: ChatTweet
    replies: tuple[Entry, ...] = ()


@dataclass(frozen=True, slots=True)
class Question:
    """Question n: its post (None when the archive lacks it) and its answers, oldest first."""

    number: int
    tweet: ChatTweet | None
    answers: tuple[Entry, ...]


@dataclass(frozen=True, slots=True)
class Participant:
    """Someone who posted in the chat (retweets aside); `first_time`: their first archived tweet
    is in this chat."""

    username: str
    name: str
    author_id: str | None
    tweets: int
    first_time: bool
    host: bool


@dataclass(frozen=True, slots=True)
class Link:
    """A link shared in the chat: where it first appeared."""

    url: str
    tweet_id: str
    author: str


@dataclass(frozen=True, slots=True)
class Gap:
    """A stretch of time collection missed for a hashtag (the tracker records these)."""

    starts_at: datetime
    ends_at: datetime
    hashtag: str


@dataclass(frozen=True, slots=True)
class Stats:
    """Counts: `tweets` is every tweet shown (questions, answers, replies, general chat);
    `answers` counts answer tweets once however many questions they answer."""

    tweets: int
    answers: int
    replies: int
    general: int
    participants: int
    first_time_participants: int
    retweets: int


@dataclass(frozen=True, slots=True)
class Transcript:
    """A chat read as questions with their answers, then general chat; everything oldest first."""

    chat: ChatFrame
    questions: tuple[Question, ...]
    general: tuple[ChatTweet, ...]
    participants: tuple[Participant, ...]
    links: tuple[Link, ...]
    gaps: tuple[Gap, ...]
    stats: Stats
    tweets: tuple[ChatTweet, ...] = field(repr=False)  # every tweet shown, oldest first
    placements: Mapping[str, Placement] = field(repr=False)
    protected_included: bool = False


def build_transcript(
    chat: ChatFrame,
    tweets: Sequence[ChatTweet],
    *,
    question_of: Mapping[str, int],
    headings: Mapping[int, str],
    other_posts: Iterable[str] = (),
    returning: Iterable[str] = (),
    include_protected: bool = False,
    gaps: Sequence[Gap] = (),
) -> Transcript:
    """The transcript of `chat` from its tweets (see `select_chat_tweets`).

    `returning` holds the author ids with an archived tweet before the chat began:
    everyone else is there for the first time.
    """
    shown = sorted((t for t in tweets if include_protected or not t.protected), key=order_key)
    placed = assign(
        shown, question_of=question_of, headings=headings, host=chat.host, other_posts=other_posts
    )
    by_id = {tweet.id: tweet for tweet in shown}
    entries = _entries(shown, placed)
    answered: dict[int, list[Entry]] = {n: [] for n in question_numbers(headings)}
    for tweet in shown:
        if placed[tweet.id].role is Role.ANSWER:
            for n in placed[tweet.id].questions:
                answered[n].append(entries[tweet.id])
    questions = tuple(
        Question(number=n, tweet=by_id.get(headings.get(n, "")), answers=tuple(answers))
        for n, answers in answered.items()
    )
    visible = tuple(t for t in shown if placed[t.id].role is not Role.RETWEET)
    general = tuple(t for t in visible if placed[t.id].role is Role.GENERAL)
    participants = _participants(visible, host=chat.host, returning=frozenset(returning))
    roles = [placed[t.id].role for t in shown]
    stats = Stats(
        tweets=len(visible),
        answers=roles.count(Role.ANSWER),
        replies=roles.count(Role.REPLY),
        general=len(general),
        participants=len(participants),
        first_time_participants=sum(p.first_time for p in participants),
        retweets=roles.count(Role.RETWEET),
    )
    return Transcript(
        chat=chat, questions=questions, general=general, participants=participants,
        links=_links(visible), gaps=tuple(gaps), stats=stats, tweets=visible, placements=placed,
        protected_included=include_protected,
    )  # fmt: skip


def _entries(shown: Sequence[ChatTweet], placed: Mapping[str, Placement]) -> dict[str, Entry]:
    """Every answer's Entry with its reply tree, built bottom-up (no recursion).

    A reply deeper than MAX_DEPTH is attached to its ancestor at MAX_DEPTH - 1, beside
    its parent, so the tree never gets deeper than MAX_DEPTH.
    """
    depth = _depths(shown, placed)
    by_depth = sorted(depth, key=depth.__getitem__)  # parents before their replies
    attach: dict[str, str] = {}
    for tweet_id in by_depth:
        parent = placed[tweet_id].parent
        if parent is not None and placed[tweet_id].role is Role.REPLY:
            attach[tweet_id] = parent if depth[parent] < MAX_DEPTH else attach[parent]
    children: dict[str, list[str]] = {}
    for tweet in shown:  # oldest first
        if tweet.id in attach:
            children.setdefault(attach[tweet.id], []).append(tweet.id)
    by_id = {tweet.id: tweet for tweet in shown}
    built: dict[str, Entry] = {}
    for tweet_id in reversed(by_depth):  # deepest first
        replies = tuple(built[c] for c in children.get(tweet_id, ()))
        built[tweet_id] = Entry(by_id[tweet_id], replies)
    return built


def _depths(shown: Sequence[ChatTweet], placed: Mapping[str, Placement]) -> dict[str, int]:
    """How far below its answer each answer (0) and reply (1, 2, ...) is."""
    depth: dict[str, int] = {}
    for tweet in shown:
        path: list[str] = []
        current = tweet.id
        while current not in depth:
            placement = placed[current]
            if placement.role is Role.ANSWER:
                depth[current] = 0
            elif placement.role is Role.REPLY and placement.parent is not None:
                path.append(current)
                current = placement.parent
            else:
                break
        if current in depth:
            for steps, tweet_id in enumerate(reversed(path), start=1):
                depth[tweet_id] = depth[current] + steps
    return depth


def _participants(
    tweets: Sequence[ChatTweet], *, host: str, returning: frozenset[str]
) -> tuple[Participant, ...]:
    counts: dict[str, int] = {}
    first: dict[str, ChatTweet] = {}
    for tweet in tweets:
        key = tweet.author_id or tweet.username
        counts[key] = counts.get(key, 0) + 1
        first.setdefault(key, tweet)
    people = [
        Participant(
            username=first[key].username,
            name=first[key].name,
            author_id=first[key].author_id,
            tweets=count,
            first_time=key not in returning,
            host=bool(host) and first[key].username.lower() == host.lower(),
        )
        for key, count in counts.items()
    ]
    return tuple(sorted(people, key=lambda p: (-p.tweets, p.username.lower())))


def _links(tweets: Sequence[ChatTweet]) -> tuple[Link, ...]:
    seen: dict[str, Link] = {}
    for tweet in tweets:
        for url in tweet.links:
            seen.setdefault(url, Link(url=url, tweet_id=tweet.id, author=tweet.username))
    return tuple(seen.values())


def walk(entries: Iterable[Entry]) -> Iterator[tuple[int, Entry]]:
    """(depth, entry) for entries and their replies, depth first, oldest first; no recursion."""
    stack = [(0, entry) for entry in reversed(list(entries))]
    while stack:
        depth, entry = stack.pop()
        yield depth, entry
        stack.extend((depth + 1, reply) for reply in reversed(entry.replies))
