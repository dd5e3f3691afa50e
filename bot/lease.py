"""The single-poster lease: one row in `leases` saying which `tcbot run` may post.

Every running daemon calls `acquire_lease` once a tick. The holder renews it; the
others are standbys that find it taken and wait. The row changes hands only by a
conditional UPDATE (or an INSERT that does nothing on conflict), so however the
calls of two processes interleave, on SQLite or PostgreSQL, at most one of them sees
its statement change the row.

It is free to take when:
- there is no row yet, or the holder released it;
- it has expired (the holder stopped renewing: crashed, hung, lost its network);
- its holder is a process on this host that no longer runs. A holder is named
  "host:pid:random", so a restart after a crash takes over at once instead of
  waiting out the expiry. A holder on another host is only ever waited out.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, case, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from archive.db import EXCLUSIVE_OPTION
from archive.models import Lease

__all__ = [
    "DEFAULT_TTL",
    "POSTER",
    "LeaseInfo",
    "acquire_lease",
    "holder_is_dead",
    "lease_info",
    "make_holder",
    "release_lease",
    "write_transaction",
]

log = logging.getLogger(__name__)

POSTER = "poster"
DEFAULT_TTL = timedelta(seconds=30)


@dataclass(frozen=True, slots=True)
class LeaseInfo:
    """Who holds a lease, since when and until when."""

    name: str
    holder: str
    acquired_at: datetime
    expires_at: datetime


def make_holder() -> str:
    """A holder name for this process: "host:pid:random" (random tells two runs apart)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def holder_is_dead(holder: str, *, hostname: str | None = None) -> bool:
    """True only when `holder` names a process on this host that is no longer running.

    Anything unparseable, on another host, or possibly alive counts as alive: the
    caller then waits for the lease to expire, which is slow but never wrong. A
    killed process stays a zombie until its parent reaps it, and reads as alive.
    """
    parts = holder.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return False
    host, pid = parts[0], int(parts[1])
    if host != (hostname or socket.gethostname()) or pid <= 0 or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # PermissionError: it exists, as another user
        return False
    return False


def acquire_lease(
    sessions: sessionmaker[Session],
    *,
    name: str = POSTER,
    holder: str,
    now: datetime,
    ttl: timedelta = DEFAULT_TTL,
) -> bool:
    """Take or renew the lease `name` for `holder` until now + ttl; True if it is ours.

    Runs in its own transactions. A renewal keeps `acquired_at`; a takeover resets it.
    """
    with write_transaction(sessions) as session:
        if _insert_if_absent(session, name=name, holder=holder, now=now, ttl=ttl):
            log.info("lease %r taken by %s (it was free)", name, holder)
            return True
        free = or_(Lease.holder == holder, Lease.expires_at < now)
        if _take_where(session, free, name=name, holder=holder, now=now, ttl=ttl):
            return True
        current = session.scalar(select(Lease.holder).where(Lease.name == name))
    if current is None or not holder_is_dead(current):
        return False
    with write_transaction(sessions) as session:
        taken = _take_where(
            session, Lease.holder == current, name=name, holder=holder, now=now, ttl=ttl
        )
    if taken:
        log.warning(
            "lease %r taken over by %s from %s, a process on this host that no longer runs",
            name, holder, current,
        )  # fmt: skip
    return taken


def release_lease(sessions: sessionmaker[Session], *, name: str = POSTER, holder: str) -> None:
    """Give the lease up if `holder` has it, so a standby can take over at once."""
    with write_transaction(sessions) as session:
        result = session.execute(
            delete(Lease).where(Lease.name == name, Lease.holder == holder),
            execution_options={"synchronize_session": False},
        )
    if _rowcount(result):
        log.info("lease %r released by %s", name, holder)


def lease_info(sessions: sessionmaker[Session], *, name: str = POSTER) -> LeaseInfo | None:
    """The lease row as it stands (it may have expired), or None if nobody holds it."""
    with sessions() as session:
        row = session.get(Lease, name)
        if row is None:
            return None
        return LeaseInfo(row.name, row.holder, row.acquired_at, row.expires_at)


@contextmanager
def write_transaction(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A transaction that takes SQLite's write lock at BEGIN.

    A plain (deferred) SQLite transaction that reads and then writes fails at once with
    "database is locked" if another connection wrote in between; BEGIN IMMEDIATE waits
    its turn instead. On PostgreSQL it is an ordinary transaction.
    """
    with sessions() as session, session.begin():
        session.connection(execution_options={EXCLUSIVE_OPTION: True})
        yield session


def _insert_if_absent(
    session: Session, *, name: str, holder: str, now: datetime, ttl: timedelta
) -> bool:
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(Lease)
        .values(name=name, holder=holder, acquired_at=now, expires_at=now + ttl)
        .on_conflict_do_nothing(index_elements=[Lease.name])
    )
    return _rowcount(session.execute(statement)) == 1


def _take_where(
    session: Session,
    condition: ColumnElement[bool],
    *,
    name: str,
    holder: str,
    now: datetime,
    ttl: timedelta,
) -> bool:
    """UPDATE the row to `holder` only if `condition` still holds when the row is locked."""
    statement = (
        update(Lease)
        .where(Lease.name == name, condition)
        .values(
            holder=holder,
            acquired_at=case((Lease.holder == holder, Lease.acquired_at), else_=now),
            expires_at=now + ttl,
        )
        .execution_options(synchronize_session=False)
    )
    return _rowcount(session.execute(statement)) == 1


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
