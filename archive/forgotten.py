"""People who asked to be forgotten: removing them, and keeping their posts out from then on.

`tcbot archive forget` calls `forget_user`: it removes a person's posts, others'
retweets of them, their profile and their `welcomes` row (their name and the words
they were welcomed for; a welcome reply still unsent is cancelled), and records them
in `forgotten_users`. Their opt-outs are kept: forgetting someone must never let the
bot contact them again. From then on every way into the
archive drops what they post: `ingest_page` (the tracker's polls, the sweep's
lookups) and bulk imports (archive/ingest_bulk.py) pass each page through
`without_forgotten` or `values_without_forgotten` (pure) first.

A post is dropped when its author's X id is recorded, or when the page's profile of
its author carries a recorded username (a person forgotten before the archive ever
saw them is known by name only; a bulk import learns their id from the profile for
the rest of its batch). Others' retweets of a dropped post go too: a retweet is a
copy of the person's words. Replies and quotes by others stay: their words are
their own.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.orm import Session

from archive.errors import TcbotError
from archive.flatten import FlatPage
from archive.models import (
    ForgottenUser,
    OutboxPost,
    PostKind,
    PostStatus,
    ReferenceKind,
    Tweet,
    TweetReference,
    User,
    Welcome,
)
from archive.page_values import PageValues
from archive.search_index import refresh_index

log = logging.getLogger(__name__)

RETWEETED = ReferenceKind.RETWEETED.value
USERNAME = re.compile(r"[A-Za-z0-9_]{1,50}")  # X allows 15; older accounts may have more
CHUNK = 500  # ids per IN (...) list: well inside SQLite's and PostgreSQL's limits


@dataclass(frozen=True, slots=True)
class Forgotten:
    """Whom to drop: X user ids, and usernames (lower-cased, without '@')."""

    user_ids: frozenset[str] = frozenset()
    usernames: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.user_ids or self.usernames)

    def authors(self, profiles: Iterable[tuple[str, str | None]]) -> set[str]:
        """The ids to drop, given a page's (user id, username) profiles."""
        found = set(self.user_ids)
        found.update(
            user_id for user_id, name in profiles if name and name.lower() in self.usernames
        )
        return found

    def learning(self, page: PageValues) -> Forgotten:
        """This, knowing also the ids of the page's profiles that carry a recorded
        username: later pages of the same batch may carry their posts without a profile."""
        if not self.usernames:
            return self
        found = self.authors((user_id, values[0]) for user_id, values, _ in page.users)
        if found <= self.user_ids:
            return self
        return Forgotten(user_ids=frozenset(found), usernames=self.usernames)


NO_ONE = Forgotten()


def username_key(username: str) -> str:
    """How a username is recorded: without '@' or spaces around it, lower-cased."""
    return username.strip().removeprefix("@").strip().lower()


def load_forgotten(session: Session) -> Forgotten:
    """Everyone recorded in `forgotten_users` (a small table: read it whole)."""
    rows = session.execute(select(ForgottenUser.user_id, ForgottenUser.username_key)).all()
    if not rows:
        return NO_ONE
    return Forgotten(
        user_ids=frozenset(user_id for user_id, _ in rows if user_id),
        usernames=frozenset(name for _, name in rows if name),
    )


def without_forgotten(flat: FlatPage, forgotten: Forgotten) -> tuple[FlatPage, int]:
    """`flat` without forgotten people's posts and profiles; and how many posts were dropped."""
    if not forgotten:
        return flat, 0
    authors = forgotten.authors((user.id, user.username) for user in flat.users)
    dropped = _dropped(
        ((tweet.id, tweet.author_id) for tweet in flat.tweets),
        ((ref.tweet_id, ref.kind.value, ref.referenced_id) for ref in flat.references),
        authors,
    )
    if not dropped and not any(user.id in authors for user in flat.users):
        return flat, 0
    users = tuple(user for user in flat.users if user.id not in authors)
    tweets = tuple(tweet for tweet in flat.tweets if tweet.id not in dropped)
    profiled = {user.id for user in users}
    page = FlatPage(
        users=users,
        tweets=tweets,
        references=tuple(row for row in flat.references if row.tweet_id not in dropped),
        hashtags=tuple(row for row in flat.hashtags if row.tweet_id not in dropped),
        mentions=tuple(row for row in flat.mentions if row.tweet_id not in dropped),
        unprofiled_author_ids=_unprofiled((t.author_id for t in tweets), profiled),
    )
    return page, len(dropped)


def values_without_forgotten(page: PageValues, forgotten: Forgotten) -> tuple[PageValues, int]:
    """`without_forgotten` for bulk ingest's tuples (archive/page_values.py)."""
    if not forgotten:
        return page, 0
    authors = forgotten.authors((user_id, values[0]) for user_id, values, _ in page.users)
    dropped = _dropped(
        ((tweet_id, values[0]) for tweet_id, values, _ in page.tweets), page.references, authors
    )
    if not dropped and not any(user[0] in authors for user in page.users):
        return page, 0
    users = tuple(user for user in page.users if user[0] not in authors)
    tweets = tuple(tweet for tweet in page.tweets if tweet[0] not in dropped)
    profiled = {user[0] for user in users}
    kept = PageValues(
        users=users,
        tweets=tweets,
        unprofiled_author_ids=_unprofiled((values[0] for _, values, _ in tweets), profiled),
        references=tuple(fact for fact in page.references if fact[0] not in dropped),
        hashtags=tuple(fact for fact in page.hashtags if fact[0] not in dropped),
        mentions=tuple(fact for fact in page.mentions if fact[0] not in dropped),
    )
    return kept, len(dropped)


def _dropped(
    tweets: Iterable[tuple[str, str | None]],
    references: Iterable[tuple[str, str, str]],
    authors: set[str],
) -> set[str]:
    """Ids of the posts by `authors`, and of retweets of those posts."""
    dropped = {tweet_id for tweet_id, author_id in tweets if author_id in authors}
    if dropped:
        dropped.update(
            tweet_id
            for tweet_id, kind, referenced_id in references
            if kind == RETWEETED and referenced_id in dropped
        )
    return dropped


def _unprofiled(author_ids: Iterable[str | None], profiled: set[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(a for a in author_ids if a and a not in profiled))


# -- forgetting a person ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ForgetPlan:
    """What forgetting `username` removes: its accounts' profiles and posts, and others'
    retweets of those posts (copies of their words); `recorded` if already forgotten."""

    username: str  # as recorded: lower-cased, without '@'
    accounts: tuple[str, ...]  # user ids
    posts: int
    retweets: int
    recorded: bool


def plan_forget(session: Session, username: str) -> ForgetPlan:
    """What `forget_user` would remove; TcbotError if `username` is not a username."""
    key = _checked_key(username)
    accounts = tuple(session.scalars(select(User.id).where(_named(session, key))))
    posts = _count(session, select(Tweet.id).where(Tweet.author_id.in_(accounts)))
    recorded = session.scalar(select(ForgottenUser.id).where(ForgottenUser.username_key == key))
    return ForgetPlan(
        username=key,
        accounts=accounts,
        posts=posts,
        retweets=len(_retweets_of(session, accounts)),
        recorded=recorded is not None,
    )


def forget_user(session: Session, username: str, *, at: datetime) -> ForgetPlan:
    """Remove a person's posts, others' retweets of them, and their profile; record them
    in `forgotten_users` so ingest and imports drop their posts from now on.

    Returns what was removed. Forgetting someone the archive never saw still
    records them, by username. Their `welcomes` row goes too (`_forget_welcome`);
    their opt-outs stay.
    """
    plan = plan_forget(session, username)
    _forget_welcome(session, plan, at=at)
    retweets = _retweets_of(session, plan.accounts)
    for start in range(0, len(retweets), CHUNK):
        session.execute(
            delete(Tweet)
            .where(Tweet.id.in_(retweets[start : start + CHUNK]))
            .execution_options(synchronize_session=False)
        )
    session.execute(
        delete(Tweet)
        .where(Tweet.author_id.in_(plan.accounts))
        .execution_options(synchronize_session=False)
    )
    session.execute(
        delete(User).where(User.id.in_(plan.accounts)).execution_options(synchronize_session=False)
    )
    recorded = set(
        session.scalars(
            select(ForgottenUser.user_id).where(ForgottenUser.username_key == plan.username)
        )
    )
    for user_id in plan.accounts or ((None,) if not plan.recorded else ()):
        if user_id not in recorded:
            session.add(ForgottenUser(username_key=plan.username, user_id=user_id, forgotten_at=at))
    session.flush()
    refresh_index(session)
    log.info("forgot @%s: %d accounts, %d posts, %d retweets of them", plan.username,
             len(plan.accounts), plan.posts, plan.retweets)  # fmt: skip
    return plan


def _forget_welcome(session: Session, plan: ForgetPlan, *, at: datetime) -> None:
    """Delete the person's welcome rows (by id, or by the username they had), cancelling
    a welcome reply not yet sent: it would answer a post that is gone, with their name."""
    match = [func.lower(Welcome.username) == plan.username]
    if plan.accounts:
        match.append(Welcome.user_id.in_(plan.accounts))
    rows = session.execute(select(Welcome.id, Welcome.outbox_post_id).where(or_(*match))).all()
    if not rows:
        return
    posts = [post_id for _, post_id in rows if post_id is not None]
    if posts:
        session.execute(
            update(OutboxPost)
            .where(
                OutboxPost.id.in_(posts),
                OutboxPost.kind == PostKind.WELCOME,
                OutboxPost.status.in_((PostStatus.QUEUED, PostStatus.HELD)),
            )
            .values(
                status=PostStatus.CANCELLED,
                last_error="the person asked to be forgotten",
                updated_at=at,
            )
            .execution_options(synchronize_session=False)
        )
    session.execute(
        delete(Welcome)
        .where(Welcome.id.in_([welcome_id for welcome_id, _ in rows]))
        .execution_options(synchronize_session=False)
    )


def _checked_key(username: str) -> str:
    key = username_key(username)
    if not USERNAME.fullmatch(key):
        raise TcbotError(
            f"{username.strip()[:60]!r} is not an X username",
            "give the name as it appears on X, e.g. @TraineeTalk or TraineeTalk",
        )
    return key


def _named(session: Session, key: str) -> ColumnElement[bool]:
    """Accounts called `key`, any case, using the index migration 0003_search made."""
    if session.get_bind().dialect.name == "sqlite":
        return User.username.collate("NOCASE") == key
    return func.lower(User.username) == key


def _retweets_of(session: Session, accounts: Sequence[str]) -> list[str]:
    """Others' retweets of the posts by `accounts`."""
    if not accounts:
        return []
    theirs = select(Tweet.id).where(Tweet.author_id.in_(accounts))
    query = (
        select(TweetReference.tweet_id)
        .join(Tweet, Tweet.id == TweetReference.tweet_id)
        .where(
            TweetReference.kind == ReferenceKind.RETWEETED,
            TweetReference.referenced_id.in_(theirs),
            or_(Tweet.author_id.is_(None), Tweet.author_id.not_in(accounts)),
        )
        .distinct()
    )
    return sorted(session.scalars(query))


def _count(session: Session, query: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
