"""Finding introductions in the archive: the community hashtag's tweets, classified on the fly.

Nothing is stored: each call reads the hashtag's tweets since a time and runs
`archive.intros.classify_intro` on them, so improving the classifier improves
every past list at once and no migration is needed. Retweets (by reference or by
"RT @" text) and tweets of hidden accounts (protected or suspended,
archive/visibility.py) are never listed (X's policy: such posts stay in the
database but out of every export).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from archive.db import as_utc
from archive.intros import IntroVerdict, classify_intro
from archive.models import ReferenceKind, Tweet, TweetHashtag, TweetReference, User
from archive.visibility import shown

log = logging.getLogger(__name__)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class IntroRow:
    """One introduction: who, when, the tweet, and the role and place it states."""

    tweet_id: str
    author_id: str | None
    username: str | None
    name: str | None
    created_at: datetime | None
    text: str
    role: str | None
    place: str | None
    score: int

    @property
    def link(self) -> str:
        """The post on X (the /i/web form when the author's username is unknown)."""
        if self.username:
            return f"https://x.com/{self.username}/status/{self.tweet_id}"
        return f"https://x.com/i/web/status/{self.tweet_id}"


def hashtag_key(hashtag: str) -> str:
    """How a hashtag is stored in tweet_hashtags: without '#', lower-cased."""
    return hashtag.strip().lstrip("#").lower()


def list_intros(session: Session, hashtag: str, since: datetime | None = None) -> list[IntroRow]:
    """Introductions among `hashtag`'s archived tweets created at or after `since`, newest first.

    `hashtag` may be written with or without '#', in any case. Retweets and
    tweets of protected or suspended accounts are left out.
    """
    rows = [
        _row(tweet, author, verdict)
        for tweet, author in _candidates(session, hashtag_key(hashtag), since)
        if (verdict := classify_intro(tweet.text, lang=tweet.lang)).is_intro
    ]
    rows.sort(key=lambda r: (r.created_at or EPOCH, int(r.tweet_id)), reverse=True)
    log.debug("found %d introductions on #%s", len(rows), hashtag_key(hashtag))
    return rows


def _candidates(
    session: Session, tag: str, since: datetime | None
) -> list[tuple[Tweet, User | None]]:
    retweet = exists().where(
        TweetReference.tweet_id == Tweet.id, TweetReference.kind == ReferenceKind.RETWEETED
    )
    query = (
        select(Tweet, User)
        .join(TweetHashtag, TweetHashtag.tweet_id == Tweet.id)
        .outerjoin(User, User.id == Tweet.author_id)
        .where(TweetHashtag.tag == tag, ~retweet)
        .where(shown(User))
    )
    if since is not None:
        query = query.where(Tweet.created_at >= as_utc(since))
    return [(tweet, author) for tweet, author in session.execute(query)]


def _row(tweet: Tweet, author: User | None, verdict: IntroVerdict) -> IntroRow:
    return IntroRow(
        tweet_id=tweet.id,
        author_id=tweet.author_id,
        username=author.username if author else None,
        name=author.name if author else None,
        created_at=tweet.created_at,
        text=tweet.text,
        role=verdict.role,
        place=verdict.place,
        score=verdict.score,
    )
