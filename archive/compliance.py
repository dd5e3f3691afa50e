"""Keeping the archive within X's rules: what the sweep checks and finds, and forgetting a person.

X's developer agreement asks that stored posts follow what X shows: a post deleted
on X is deleted here, one whose account turned protected or was suspended is no
longer shown (archive/visibility.py). The sweep (bot/sweep.py) asks X about the
posts checked longest ago, a hundred at a time, and hands each answer to
`apply_lookup`; `due_for_check` picks them. (A person who asks to be forgotten is
archive/forgotten.py's business.)

Database work only, no X: the caller owns the transaction (nothing here commits).
Deleting a tweet deletes its references, hashtags and mentions (foreign keys with
ON DELETE CASCADE); on SQLite the search index is brought up to date before
returning, so the deleted text leaves it in the same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from archive.flatten import flatten_page
from archive.ingest import ingest_page
from archive.models import Tweet, User
from archive.search_index import refresh_index
from archive.visibility import is_hidden

log = logging.getLogger(__name__)

CHUNK = 500  # ids per IN (...) list: well inside SQLite's and PostgreSQL's limits


@dataclass(frozen=True, slots=True)
class LookedUpPage:
    """One page of X's answer to a post lookup, as received."""

    payload: Mapping[str, Any]
    endpoint: str
    fetched_at: datetime


@dataclass(frozen=True, slots=True)
class HiddenAccount:
    """An account the sweep found protected or suspended, hiding its posts."""

    user_id: str
    username: str | None
    suspended: bool
    posts: int  # its archived posts, now hidden

    @property
    def reason(self) -> str:
        return "suspended" if self.suspended else "protected"


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    """What one lookup's answer changed: posts removed, accounts newly hidden."""

    removed: int
    hidden: tuple[HiddenAccount, ...]


def archived_count(session: Session) -> int:
    """How many posts the archive holds."""
    return int(session.scalar(select(func.count()).select_from(Tweet)) or 0)


def due_for_check(session: Session, *, limit: int, started: datetime) -> list[str]:
    """Up to `limit` post ids that the sweep checked longest ago, never-checked ones by
    when they were fetched; those checked at or after `started` (this run) are left out."""
    last_known = func.coalesce(Tweet.checked_at, Tweet.fetched_at)
    query = (
        select(Tweet.id)
        .where(or_(Tweet.checked_at.is_(None), Tweet.checked_at < started))
        .order_by(last_known, Tweet.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def apply_lookup(
    session: Session,
    checked: Sequence[str],
    *,
    pages: Sequence[LookedUpPage],
    missing: Iterable[str],
    withheld: Iterable[str],
    suspended: Iterable[str],
    at: datetime,
) -> CheckOutcome:
    """Record X's answer about `checked`: keep what came back, remove what X reports
    deleted (`missing`), hide the accounts of posts X withholds (`withheld`; those in
    `suspended` as suspended, the others as protected), and stamp every checked post.

    The posts that came back are stored like any page (a newer copy updates the
    stored one, and a profile that says protected hides its account); an account X
    sent a profile of is not suspended. A withheld post with no known author cannot
    be hidden, so it is removed.
    """
    withheld_ids, suspended_ids = set(withheld), set(suspended)
    authors = _authors_of(session, withheld_ids)
    profiles = _profiles(pages)
    before = _hidden_now(session, set(authors.values()) | set(profiles))
    for page in pages:
        ingest_page(session, page.payload, endpoint=page.endpoint, fetched_at=page.fetched_at)
    _mark(session, [u for u in profiles if u not in authors.values()], "suspended", False, at)
    now_suspended = {authors[t] for t in withheld_ids & suspended_ids if t in authors}
    _mark(session, sorted(now_suspended), "suspended", True, at)
    now_protected = {authors[t] for t in withheld_ids if t in authors} - now_suspended
    _mark(session, sorted(now_protected), "protected", True, at)
    gone = sorted(set(missing) | (withheld_ids - set(authors)))
    removed = _delete_tweets(session, gone)
    for chunk in _chunks(sorted(set(checked) - set(gone))):
        session.execute(update(Tweet).where(Tweet.id.in_(chunk)).values(checked_at=at))
    hidden = _newly_hidden(session, before)
    refresh_index(session)
    log.info("sweep: checked %d posts, removed %d, hid %d accounts", len(checked), removed,
             len(hidden))  # fmt: skip
    return CheckOutcome(removed=removed, hidden=hidden)


def _authors_of(session: Session, tweet_ids: set[str]) -> dict[str, str]:
    """tweet id -> author id, for those of `tweet_ids` archived with a known author."""
    found: dict[str, str] = {}
    for chunk in _chunks(sorted(tweet_ids)):
        query = select(Tweet.id, Tweet.author_id).where(Tweet.id.in_(chunk))
        found.update((t, a) for t, a in session.execute(query) if a is not None)
    return found


def _profiles(pages: Sequence[LookedUpPage]) -> list[str]:
    """Ids of the accounts X sent profiles or posts of: they are visible on X, so not
    suspended (the sweep asks for posts without profiles; their authors count)."""
    ids: dict[str, None] = {}
    for page in pages:
        flat = flatten_page(page.payload)
        ids.update(dict.fromkeys(user.id for user in flat.users))
        ids.update(dict.fromkeys(t.author_id for t in flat.tweets if t.author_id is not None))
    return list(ids)


def _hidden_now(session: Session, user_ids: set[str]) -> dict[str, bool]:
    state: dict[str, bool] = {}
    for chunk in _chunks(sorted(user_ids)):
        query = select(User.id, User.protected, User.suspended).where(User.id.in_(chunk))
        state.update((u, is_hidden(p, s)) for u, p, s in session.execute(query))
    return state


def _mark(session: Session, user_ids: Sequence[str], flag: str, value: bool, at: datetime) -> None:
    """Set `flag` ("protected" or "suspended") to `value` on those accounts: clearing only
    where it is set, setting only where it is not, so nothing else changes needlessly."""
    column = getattr(User, flag)
    differs = column.is_(True) if not value else or_(column.is_(None), column.is_(False))
    for chunk in _chunks(user_ids):
        session.execute(
            update(User).where(User.id.in_(chunk), differs).values({flag: value, "updated_at": at})
        )


def _newly_hidden(session: Session, before: Mapping[str, bool]) -> tuple[HiddenAccount, ...]:
    shown_before = sorted(user_id for user_id, hidden in before.items() if not hidden)
    found: list[HiddenAccount] = []
    for chunk in _chunks(shown_before):
        posts = (
            select(func.count())
            .select_from(Tweet)
            .where(Tweet.author_id == User.id)
            .scalar_subquery()
        )
        query = select(User.id, User.username, User.protected, User.suspended, posts).where(
            User.id.in_(chunk)
        )
        found += [
            HiddenAccount(user_id, username, bool(suspended), int(count))
            for user_id, username, protected, suspended, count in session.execute(query)
            if is_hidden(protected, suspended)
        ]
    return tuple(found)


def _delete_tweets(session: Session, tweet_ids: Sequence[str]) -> int:
    deleted = 0
    for chunk in _chunks(tweet_ids):
        result = session.execute(
            delete(Tweet).where(Tweet.id.in_(chunk)).execution_options(synchronize_session=False)
        )
        deleted += int(getattr(result, "rowcount", 0) or 0)
    return deleted


def _chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]
