"""Activity over time: tweets, participants, newcomers and returning people, per chat and per week.

Two views, counted the way the transcripts count (archive/transcripts.py):

- per chat: each chat's transcript counts (`load_transcript`), compared with the
  chat before it on the same hashtag;
- per week: the tweets on the tracked hashtags, and the replies in threads that
  began with one (chat replies often leave the hashtag out), in ISO weeks of the
  community's time zone, compared with the week before.

A tweet is a post that is not a retweet (retweets are counted on their own);
participants are the people who posted; a newcomer is a participant with no
archived tweet (of any kind) from before the chat or week; the others are
returning. Tweets of protected or suspended accounts are left out unless asked
for, as in every transcript. The counting itself (`count_week`) is pure.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from archive.chat_tweets import load_transcript
from archive.db import as_utc
from archive.models import Chat, ReferenceKind, Tweet, TweetHashtag, TweetReference, User
from archive.visibility import shown

log = logging.getLogger(__name__)

_CHUNK = 500  # ids per IN (...) list


@dataclass(frozen=True, slots=True)
class Counts:
    """What happened in one chat or week."""

    tweets: int
    retweets: int
    participants: int
    newcomers: int

    @property
    def returning(self) -> int:
        return self.participants - self.newcomers


@dataclass(frozen=True, slots=True)
class WeekStats:
    """One ISO week (local time), and the week before it for comparison."""

    starts_on: date  # the Monday
    counts: Counts
    previous: Counts | None

    @property
    def label(self) -> str:
        year, week, _ = self.starts_on.isocalendar()
        return f"{year}-W{week:02d}"


@dataclass(frozen=True, slots=True)
class ChatStats:
    """One chat, and the chat before it on the same hashtag (None for the first)."""

    chat_id: int
    hashtag: str
    topic: str | None
    starts_at: datetime
    counts: Counts
    previous: Counts | None


@dataclass(frozen=True, slots=True)
class Post:
    """A tweet as the weekly count sees it."""

    author_id: str | None
    created_at: datetime
    retweet: bool


def week_starts(now: datetime, *, weeks: int, zone: ZoneInfo) -> list[date]:
    """The Mondays of the last `weeks` ISO weeks in `zone`, oldest first, this week last."""
    today = as_utc(now).astimezone(zone).date()
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(weeks=back) for back in range(weeks - 1, -1, -1)]


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """00:00 of `day` in `zone`, as aware UTC."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def count_week(posts: Iterable[Post], *, starts_at: datetime, seen_before: set[str]) -> Counts:
    """Count one week's posts; `seen_before` holds the authors with a tweet before `starts_at`."""
    tweets = retweets = 0
    people: set[str] = set()
    for post in posts:
        if post.retweet:
            retweets += 1
            continue
        tweets += 1
        if post.author_id is not None:
            people.add(post.author_id)
    newcomers = len(people - seen_before)
    return Counts(tweets=tweets, retweets=retweets, participants=len(people), newcomers=newcomers)


def weekly_stats(
    session: Session,
    *,
    hashtags: Sequence[str],
    weeks: int,
    now: datetime,
    zone: ZoneInfo,
    include_protected: bool = False,
) -> list[WeekStats]:
    """The last `weeks` ISO weeks (this one last) of activity on `hashtags` ('#Tag' or 'tag')."""
    mondays = week_starts(now, weeks=weeks + 1, zone=zone)  # one more, for the first comparison
    bounds = [local_midnight(day, zone) for day in mondays]
    bounds.append(local_midnight(mondays[-1] + timedelta(weeks=1), zone))
    tags = sorted({tag.strip().lstrip("#").lower() for tag in hashtags if tag.strip("# ")})
    posts = _hashtag_posts(
        session, tags=tags, since=bounds[0], until=bounds[-1], include_protected=include_protected
    )
    by_week: list[list[Post]] = [[] for _ in mondays]
    for post in posts:
        by_week[bisect.bisect_right(bounds, post.created_at) - 1].append(post)
    first = first_tweet_times(session, {p.author_id for p in posts if p.author_id is not None})
    counts = [
        count_week(
            week,
            starts_at=bounds[index],
            seen_before={author for author, at in first.items() if at < bounds[index]},
        )
        for index, week in enumerate(by_week)
    ]
    return [
        WeekStats(starts_on=mondays[i], counts=counts[i], previous=counts[i - 1])
        for i in range(1, len(mondays))
    ]


def _hashtag_posts(
    session: Session, *, tags: Sequence[str], since: datetime, until: datetime,
    include_protected: bool,
) -> list[Post]:  # fmt: skip
    """Tweets in [since, until) with one of `tags`, or in a thread whose first tweet has one."""
    if not tags:
        return []
    tagged_roots = select(TweetHashtag.tweet_id).where(TweetHashtag.tag.in_(tags))
    has_tag = exists().where(TweetHashtag.tweet_id == Tweet.id, TweetHashtag.tag.in_(tags))
    is_retweet = exists().where(
        TweetReference.tweet_id == Tweet.id, TweetReference.kind == ReferenceKind.RETWEETED
    )
    query = (
        select(Tweet.author_id, Tweet.created_at, is_retweet.label("retweet"))
        .outerjoin(User, User.id == Tweet.author_id)
        .where(Tweet.created_at >= since, Tweet.created_at < until)
        .where(or_(has_tag, Tweet.conversation_id.in_(tagged_roots)))
    )
    if not include_protected:
        query = query.where(shown(User))
    return [
        Post(row.author_id, row.created_at, bool(row.retweet)) for row in session.execute(query)
    ]


def first_tweet_times(session: Session, author_ids: Iterable[str]) -> dict[str, datetime]:
    """When each author's earliest archived tweet (of any kind) was created."""
    ids = sorted(author_ids)
    found: dict[str, datetime] = {}
    for start in range(0, len(ids), _CHUNK):
        query = (
            select(Tweet.author_id, func.min(Tweet.created_at))
            .where(Tweet.author_id.in_(ids[start : start + _CHUNK]), Tweet.created_at.is_not(None))
            .group_by(Tweet.author_id)
        )
        found.update({a: at for a, at in session.execute(query) if a is not None and at})
    return found


def chat_stats(
    session: Session, *, since: datetime, until: datetime, include_protected: bool = False
) -> list[ChatStats]:
    """The chats that started in [since, until), oldest first, each compared with the one
    before it on the same hashtag (which may have started before `since`)."""
    chats = list(
        session.scalars(
            select(Chat).where(Chat.starts_at < as_utc(until)).order_by(Chat.starts_at, Chat.id)
        )
    )
    counted: dict[int, Counts] = {}

    def counts_of(chat: Chat) -> Counts:
        if chat.id not in counted:
            stats = load_transcript(session, chat, include_protected=include_protected).stats
            counted[chat.id] = Counts(
                tweets=stats.tweets,
                retweets=stats.retweets,
                participants=stats.participants,
                newcomers=stats.first_time_participants,
            )
        return counted[chat.id]

    found: list[ChatStats] = []
    last_of: dict[str, Chat] = {}
    for chat in chats:
        before = last_of.get(chat.hashtag.lower())
        last_of[chat.hashtag.lower()] = chat
        if chat.starts_at < as_utc(since):
            continue
        found.append(
            ChatStats(
                chat_id=chat.id, hashtag=chat.hashtag, topic=chat.topic,
                starts_at=chat.starts_at, counts=counts_of(chat),
                previous=counts_of(before) if before is not None else None,
            )
        )  # fmt: skip
    log.debug("counted %d chats since %s", len(found), since.isoformat())
    return found
