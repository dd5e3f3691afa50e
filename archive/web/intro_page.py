"""`/intros`: introductions on the community hashtag, newest first, a page at a time.

The classifier is archive/intros.classify_intro and the rules are those of
archive/intro_queries.list_intros (no retweets; protected and suspended accounts
hidden unless the viewer may and asks to see them). list_intros classifies every
tweet since a date, which is too much for one page of an archive with years of
hashtag tweets, so this page walks the hashtag's tweets newest first in batches,
classifying as it goes, and stops when the page is full. The next page starts
before the last tweet looked at (`?before=<tweet id>`), so paging never classifies
a tweet twice; one request looks at no more than MAX_LOOKED_AT tweets.

Classifying costs about half a millisecond a tweet, and on a hashtag where one tweet
in twenty is an introduction a page means classifying hundreds. Verdicts are kept in
memory (`VerdictCache`, by tweet id and text, up to MAX_VERDICTS), so only the first
view of a stretch of the hashtag pays for it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from archive.chat_labels import x_text
from archive.intro_queries import IntroRow, hashtag_key
from archive.intros import IntroVerdict, classify_intro
from archive.models import ReferenceKind, Tweet, TweetHashtag, TweetReference, User
from archive.visibility import hidden
from archive.web.reading import read_session, render, short_time, state_value, viewer

__all__ = ["intros_page"]

DEFAULT_HASHTAG = "#TherapistsConnect"
PER_PAGE = 20
BATCH = 250
MAX_LOOKED_AT = 5000
MAX_VERDICTS = 200_000


class VerdictCache:
    """classify_intro's verdicts by (tweet id, text), shared between request threads."""

    def __init__(self, size: int = MAX_VERDICTS) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._verdicts: dict[tuple[str, str], IntroVerdict] = {}

    def verdict(self, tweet_id: str, text: str, lang: str | None) -> IntroVerdict:
        key = (tweet_id, text)
        with self._lock:
            found = self._verdicts.get(key)
        if found is not None:
            return found
        verdict = classify_intro(text, lang=lang)
        with self._lock:
            if len(self._verdicts) >= self._size:
                del self._verdicts[next(iter(self._verdicts))]
            self._verdicts[key] = verdict
        return verdict


@dataclass(frozen=True, slots=True)
class IntroPage:
    rows: list[IntroRow]
    hidden: int
    next_before: str | None  # where the next page starts, None at the end
    looked_at: int


def _batch(session: Session, tag: str, before: tuple[object, str] | None) -> list[Any]:
    retweet = exists().where(
        TweetReference.tweet_id == Tweet.id, TweetReference.kind == ReferenceKind.RETWEETED
    )
    on_hashtag = exists().where(TweetHashtag.tweet_id == Tweet.id, TweetHashtag.tag == tag)
    query = (
        select(
            Tweet.id,
            Tweet.author_id,
            User.username,
            User.name,
            Tweet.created_at,
            Tweet.text,
            Tweet.lang,
            hidden(User),
        )
        .outerjoin(User, User.id == Tweet.author_id)
        # Walk the tweets newest first and test each for the hashtag: a join from the
        # hashtag's index sorted all of its tweets for every batch (83 ms on 100k; 1 ms).
        .where(on_hashtag, ~retweet)
        .order_by(Tweet.created_at.desc(), Tweet.id.desc())
        .limit(BATCH)
    )
    if before is not None:
        at, tweet_id = before
        query = query.where(
            or_(Tweet.created_at < at, and_(Tweet.created_at == at, Tweet.id < tweet_id))
        )
    return list(session.execute(query))


def find_intros(
    session: Session,
    hashtag: str,
    *,
    before: str | None,
    include_protected: bool,
    verdicts: VerdictCache | None = None,
) -> IntroPage:
    """Up to PER_PAGE introductions older than tweet `before` (newest first)."""
    verdicts = verdicts or VerdictCache(BATCH)
    cursor: tuple[object, str] | None = None
    if before is not None:
        at = session.scalar(select(Tweet.created_at).where(Tweet.id == before))
        cursor = (at, before) if at is not None else None
    rows: list[IntroRow] = []
    hidden_count = looked_at = 0
    while len(rows) < PER_PAGE and looked_at < MAX_LOOKED_AT:
        batch = _batch(session, hashtag_key(hashtag), cursor)
        used = 0
        for tweet_id, author, username, name, created, text, lang, is_hidden in batch:
            used += 1
            cursor = (created, tweet_id)
            verdict = verdicts.verdict(tweet_id, text, lang)
            if verdict.is_intro and is_hidden and not include_protected:
                hidden_count += 1
            elif verdict.is_intro:
                rows.append(IntroRow(tweet_id, author, username, name, created, x_text(text),
                                     verdict.role, verdict.place, verdict.score))  # fmt: skip
                if len(rows) == PER_PAGE:
                    break
        looked_at += used
        if len(batch) < BATCH and used == len(batch):
            return IntroPage(rows, hidden_count, None, looked_at)  # nothing older
    return IntroPage(rows, hidden_count, cursor[1] if cursor else None, looked_at)


def _cache(request: Request) -> VerdictCache:
    cache = state_value(request, "reading_intro_verdicts")
    if not isinstance(cache, VerdictCache):
        cache = VerdictCache()
        request.app.state.reading_intro_verdicts = cache
    return cache


def intros_page(request: Request) -> Response:
    who = viewer(request)
    before = request.query_params.get("before", "").strip()
    hashtag = str(state_value(request, "intro_hashtag") or DEFAULT_HASHTAG)
    with read_session(request) as session:
        found = find_intros(session, hashtag, before=before if before.isdigit() else None,
                            include_protected=who.include_protected, verdicts=_cache(request))  # fmt: skip
    zone = request.app.state.zone
    times = {r.tweet_id: short_time(r.created_at, zone) for r in found.rows}
    return render(request, "intros.html", {
        "found": found, "hashtag": hashtag, "times": times, "first_page": not before,
    })  # fmt: skip
