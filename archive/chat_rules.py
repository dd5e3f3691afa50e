"""Which tweets belong to a chat, and where each one goes: the answer rules; pure.

Which tweets are the chat's (`select_chat_tweets`): those in the window that carry
the chat's hashtag, or are in the conversation of one of the host's chat posts
(intro, questions, closing), or reply to a tweet already in the chat.

Where each tweet goes (`assign`), the first rule that applies wins:

1. A retweet is never an answer; it is counted in the stats and shown nowhere.
   (The host's own chat posts come next: question n heads question n; the intro,
   the closing and a repeated question post are general chat.)
2. An answer label at the start, after leading @mentions ("A2:", "A3/A4", see
   archive/chat_labels.py), makes the tweet an answer to each question it names.
3. A reply to, or a quote of, question n's post answers question n. The host's
   own replies to a question are host comments (rule 5), so a host's thread of
   questions and its closing post are not answers.
4. A reply to an answer, or to a reply under one, sits under it, however deep. A
   reply whose parent is not in the chat (not archived, left out as protected, or
   general chat) was already tried against rules 2-3 and so becomes general chat.
5. Everything else (the intro, the closing, host comments, unlabelled hashtag
   tweets) is general chat.

Labels may name only the chat's questions, or a number below its highest one
(a manual chat whose Q3 was never archived still gets a "question 3" heading).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from archive.chat_labels import answer_labels

__all__ = [
    "ChatTweet",
    "Placement",
    "Role",
    "assign",
    "order_key",
    "question_numbers",
    "select_chat_tweets",
]


@dataclass(frozen=True, slots=True)
class ChatTweet:
    """A tweet as a transcript sees it: `text` already unescaped (chat_labels.x_text),
    `hashtags` lower-cased without '#' (the archive loader fills in only the chat's own),
    `replied_to`/`quoted`/`retweeted` the ids it refers to, `links` the web links it shares.
    `protected` means hidden: the author is protected or suspended (archive/visibility.py)."""

    id: str
    author_id: str | None
    username: str
    name: str
    protected: bool
    text: str
    created_at: datetime
    conversation_id: str | None = None
    replied_to: str | None = None
    quoted: str | None = None
    retweeted: str | None = None
    hashtags: frozenset[str] = frozenset()
    links: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return f"https://x.com/{self.username or 'i'}/status/{self.id}"


class Role(enum.Enum):
    """Where a tweet sits in a transcript."""

    QUESTION = "question"
    ANSWER = "answer"
    REPLY = "reply"
    GENERAL = "general"
    RETWEET = "retweet"


@dataclass(frozen=True, slots=True)
class Placement:
    """A tweet's role, the questions it belongs to, and (for a reply) the tweet it sits under."""

    role: Role
    questions: tuple[int, ...] = ()
    parent: str | None = None


def order_key(tweet: ChatTweet) -> tuple[datetime, int, str]:
    """Oldest first; X ids grow with time, so they break ties (compared as numbers:
    a shorter id is a smaller one)."""
    return (tweet.created_at, len(tweet.id), tweet.id)


def select_chat_tweets(
    candidates: Iterable[ChatTweet], *, hashtag: str, post_ids: Iterable[str]
) -> list[ChatTweet]:
    """The chat's tweets among `candidates` (the window's tweets), oldest first."""
    tag = hashtag.lstrip("#").lower()
    pool = {tweet.id: tweet for tweet in candidates}
    posts = set(post_ids)
    conversations = posts | {
        pool[i].conversation_id or i for i in posts if i in pool and pool[i].conversation_id
    }
    chosen = {
        tweet_id
        for tweet_id, tweet in pool.items()
        if tag in tweet.hashtags or tweet_id in posts or tweet.conversation_id in conversations
    }
    children: dict[str, list[str]] = {}
    for tweet in pool.values():
        if tweet.replied_to is not None:
            children.setdefault(tweet.replied_to, []).append(tweet.id)
    frontier = list(chosen)
    while frontier:
        for child in children.get(frontier.pop(), ()):
            if child not in chosen:
                chosen.add(child)
                frontier.append(child)
    return sorted((pool[i] for i in chosen), key=order_key)


def assign(
    tweets: Sequence[ChatTweet],
    *,
    question_of: Mapping[str, int],
    headings: Mapping[int, str],
    host: str,
    other_posts: Iterable[str] = (),
) -> dict[str, Placement]:
    """Place every tweet by the module's five rules; keyed by tweet id.

    `question_of` maps each question post's id to its number, `headings` each number
    to the post that heads it; `other_posts` are the host's intro and closing.
    """
    rules = _Rules(
        by_id={tweet.id: tweet for tweet in tweets},
        question_of=question_of,
        headings=headings,
        host=host.lower(),
        other_posts=frozenset(other_posts),
        numbers=frozenset(question_numbers(headings)),
    )
    for tweet in tweets:  # any order: a reply's parent is placed first when needed
        rules.resolve(tweet.id)
    return rules.placed


def question_numbers(headings: Mapping[int, str]) -> list[int]:
    """The chat's question numbers: those with a post, and any gap below the highest."""
    return list(range(1, max(headings) + 1)) if headings else []


@dataclass(slots=True)
class _Rules:
    by_id: Mapping[str, ChatTweet]
    question_of: Mapping[str, int]
    headings: Mapping[int, str]
    host: str
    other_posts: frozenset[str]
    numbers: frozenset[int]
    placed: dict[str, Placement] = field(default_factory=dict)

    def resolve(self, tweet_id: str) -> None:
        """Place a tweet, placing its unplaced ancestors first (iteratively: threads can be deep)."""
        stack, on_stack = [tweet_id], {tweet_id}
        while stack:
            current = stack[-1]
            if current in self.placed:
                stack.pop()
                continue
            tweet = self.by_id[current]
            placement = self.direct(tweet)
            parent = tweet.replied_to
            waits = placement is None and parent in self.by_id and parent not in self.placed
            if waits and parent not in on_stack:  # (a reply loop in bad data: parent missing)
                assert parent is not None
                stack.append(parent)
                on_stack.add(parent)
                continue
            self.placed[current] = placement or self.under_parent(parent)
            stack.pop()

    def direct(self, tweet: ChatTweet) -> Placement | None:
        """Rules 1-3 and the host's chat posts; None when only the parent can decide."""
        if tweet.retweeted is not None:
            return Placement(Role.RETWEET)
        number = self.question_of.get(tweet.id)
        if number is not None:
            heads = self.headings.get(number) == tweet.id
            return Placement(Role.QUESTION, (number,)) if heads else Placement(Role.GENERAL)
        if tweet.id in self.other_posts:
            return Placement(Role.GENERAL)
        labels = answer_labels(tweet.text)
        if labels:
            labelled = tuple(sorted(n for n in labels if n in self.numbers))
            if labelled:
                return Placement(Role.ANSWER, labelled)
        if self.host and tweet.username.lower() == self.host:
            return None  # the host's reply to a question is a comment, not an answer
        replied = self.question_of.get(tweet.replied_to) if tweet.replied_to else None
        quoted = self.question_of.get(tweet.quoted) if tweet.quoted else None
        if replied is None and quoted is None:
            return None
        answered = {n for n in (replied, quoted) if n is not None}
        return Placement(Role.ANSWER, tuple(sorted(answered)))

    def under_parent(self, parent: str | None) -> Placement:
        """Rule 4, else rule 5."""
        above = self.placed.get(parent) if parent is not None else None
        if above is not None and above.role in (Role.ANSWER, Role.REPLY):
            return Placement(Role.REPLY, above.questions, parent)
        return Placement(Role.GENERAL)
