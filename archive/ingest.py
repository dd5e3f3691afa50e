"""Ingest: writing a flattened X API page into the archive, idempotently.

Every write is an `INSERT ... ON CONFLICT` keyed on X ids (the SQLite or the
PostgreSQL form, by the session's dialect), one bulk statement per table, so a
100-tweet page costs a handful of round trips and loading a page again changes
nothing. The rules:

- a tweet or user copy fetched later than the stored one wins, field by field:
  fields it carries replace the stored ones, fields it lacks keep their stored
  values, and `raw` becomes the newer object; an older or same-age copy is ignored;
- `updated_at` moves (to the copy's `fetched_at`) only when a stored column changes;
- references, hashtags and mentions are facts that never change: insert or ignore;
- posts and profiles of people who asked to be forgotten are dropped before
  anything is written (archive/forgotten.py), and counted as skipped.

The caller owns the transaction: nothing here commits, so a poller can advance
its cursor in the same transaction as the rows it covers (STYLE rule 13).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Table, case, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from archive.db import as_utc
from archive.flatten import FlatPage, flatten_page
from archive.forgotten import load_forgotten, without_forgotten
from archive.models import Tweet, TweetHashtag, TweetMention, TweetReference, User

log = logging.getLogger(__name__)

# Columns a newer copy may leave out; the stored value is kept when it does.
TWEET_KEPT_IF_ABSENT = (
    "author_id",
    "created_at",
    "conversation_id",
    "in_reply_to_user_id",
    "lang",
    "reply_count",
    "retweet_count",
    "like_count",
    "quote_count",
)
USER_KEPT_IF_ABSENT = ("username", "name", "protected", "description")


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What a page added: tweets new to the archive, tweets a newer copy updated,
    and the ids of users the archive had never seen (in page order); and the
    tweets skipped because their author asked to be forgotten."""

    new_tweets: int
    updated_tweets: int
    new_user_ids: tuple[str, ...]
    skipped_tweets: int = 0


def ingest_page(
    session: Session, page: Mapping[str, Any], *, endpoint: str, fetched_at: datetime
) -> IngestResult:
    """Store an X API page's tweets, users, references, hashtags and mentions.

    `endpoint` is where the page came from (e.g. "GET /2/tweets/search/recent"),
    `fetched_at` when it was received (aware). Raises IngestError for a page that
    is not shaped like one, before writing anything. Does not commit.
    """
    fetched_at = as_utc(fetched_at)
    flat, skipped = without_forgotten(flatten_page(page), load_forgotten(session))
    new_user_ids = _write_users(session, flat, fetched_at=fetched_at)
    new, updated = _write_tweets(session, flat, endpoint=endpoint, fetched_at=fetched_at)
    _insert_or_ignore(session, _table(TweetReference), flat.references)
    _insert_or_ignore(session, _table(TweetHashtag), flat.hashtags)
    _insert_or_ignore(session, _table(TweetMention), flat.mentions)
    log.info(
        "ingested %d tweets from %s: %d new, %d updated, %d new users, %d skipped (forgotten)",
        len(flat.tweets),
        endpoint,
        new,
        updated,
        len(new_user_ids),
        skipped,
    )
    return IngestResult(
        new_tweets=new, updated_tweets=updated, new_user_ids=new_user_ids, skipped_tweets=skipped
    )


def _write_users(session: Session, flat: FlatPage, *, fetched_at: datetime) -> tuple[str, ...]:
    """Upsert profiled users, then add stubs for authors without a profile."""
    ids = [user.id for user in flat.users] + list(flat.unprofiled_author_ids)
    if not ids:
        return ()
    table = _table(User)
    known = _stored_fetched_at(session, table, ids)
    profiles = [
        {
            **_values(user),
            "first_seen_at": fetched_at,
            "fetched_at": fetched_at,
            "updated_at": fetched_at,
        }
        for user in flat.users
    ]
    stubs = [
        {"id": user_id, "first_seen_at": fetched_at, "updated_at": fetched_at}
        for user_id in flat.unprofiled_author_ids
    ]
    if profiles:
        session.execute(
            _newer_copy_upsert(session, table, kept_if_absent=USER_KEPT_IF_ABSENT, replaced=()),
            profiles,
        )
    if stubs:
        session.execute(_insert(session, table).on_conflict_do_nothing(), stubs)
    return tuple(user_id for user_id in ids if user_id not in known)


def _write_tweets(
    session: Session, flat: FlatPage, *, endpoint: str, fetched_at: datetime
) -> tuple[int, int]:
    """Upsert the page's tweets; return (new, updated) counts."""
    if not flat.tweets:
        return 0, 0
    table = _table(Tweet)
    known = _stored_fetched_at(session, table, [tweet.id for tweet in flat.tweets])
    rows = [
        {
            **_values(tweet),
            "fetched_at": fetched_at,
            "fetched_from": endpoint,
            "updated_at": fetched_at,
        }
        for tweet in flat.tweets
    ]
    session.execute(
        _newer_copy_upsert(session, table, kept_if_absent=TWEET_KEPT_IF_ABSENT, replaced=("text",)),
        rows,
    )
    new = sum(1 for tweet in flat.tweets if tweet.id not in known)
    updated = sum(
        1 for tweet in flat.tweets if tweet.id in known and _older(known[tweet.id], fetched_at)
    )
    return new, updated


def _newer_copy_upsert(
    session: Session, table: Table, *, kept_if_absent: Sequence[str], replaced: Sequence[str]
) -> Any:
    """INSERT ... ON CONFLICT (id) DO UPDATE, applied only when the incoming copy is newer.

    `kept_if_absent` columns take the new value unless it is NULL, `replaced` ones
    always take it; `updated_at` moves only if one of those actually changes. `raw`,
    `fetched_at` and any other column in `bookkeeping` always follow the newer copy.
    """
    stmt = _insert(session, table)
    new, old = stmt.excluded, table.c
    merged = {name: func.coalesce(new[name], old[name]) for name in kept_if_absent}
    merged.update({name: new[name] for name in replaced})
    changed = or_(*(value.is_distinct_from(old[name]) for name, value in merged.items()))
    bookkeeping = [name for name in ("raw", "fetched_at", "fetched_from") if name in old]
    updates: dict[str, Any] = {
        **merged,
        **{name: new[name] for name in bookkeeping},
        "updated_at": case((changed, new.fetched_at), else_=old.updated_at),
    }
    return stmt.on_conflict_do_update(
        index_elements=[old.id],
        set_=updates,
        where=or_(old.fetched_at.is_(None), new.fetched_at > old.fetched_at),
    )


def _insert_or_ignore(session: Session, table: Table, rows: Iterable[Any]) -> None:
    values = [_values(row) for row in rows]
    if values:
        session.execute(_insert(session, table).on_conflict_do_nothing(), values)


def _stored_fetched_at(
    session: Session, table: Table, ids: Sequence[str]
) -> dict[str, datetime | None]:
    """The stored `fetched_at` of those of `ids` already in `table` (None for a stub)."""
    query = select(table.c.id, table.c.fetched_at).where(table.c.id.in_(ids))
    return {row.id: row.fetched_at for row in session.execute(query)}


def _older(stored: datetime | None, fetched_at: datetime) -> bool:
    return stored is None or stored < fetched_at


def _insert(session: Session, table: Table) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"ingest supports SQLite and PostgreSQL, not {dialect}")


def _table(model: type[Any]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _values(row: Any) -> dict[str, Any]:
    """A flattened row's fields as a dict of column values (no deep copy of `raw`)."""
    return {field.name: getattr(row, field.name) for field in fields(row)}
