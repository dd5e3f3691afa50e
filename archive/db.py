"""The database connection: engines, sessions, UTC timestamps and schema upgrades.

Everything that opens tcbot's database goes through here:

- `make_engine(url)` checks a SQLite path before SQLite can leave a stray file
  behind, and turns on WAL and foreign keys for every SQLite connection;
- `UTCDateTime` stores timezone-aware UTC on SQLite and PostgreSQL alike;
- `upgrade(engine)` runs the Alembic migrations shipped inside this package (no
  alembic.ini needed), after `check_revision` has made sure the database was not
  written by a newer tcbot.

Low-level failures (no such directory, not a SQLite file, server down, a newer
schema) become `DatabaseError`s that say what to do next. Passwords in URLs are
never shown.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy.exc
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Connection,
    DateTime,
    Dialect,
    Engine,
    MetaData,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from archive.errors import DatabaseError

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_MAGIC = b"SQLite format 3\x00"
URL_HELP = "use sqlite:///path/to/tcbot.db or postgresql+psycopg://user@host/dbname"
EXCLUSIVE_OPTION = "tcbot_exclusive"  # a SQLite transaction that takes the write lock at BEGIN
LOCK_KEY = 0x7463626F74  # PostgreSQL advisory lock for schema upgrades ("tcbot")
NEWER_FIX = "upgrade tcbot, or point TCBOT_DATABASE_URL at another database"

# Named constraints, so later migrations (and SQLite batch mode) can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """The declarative base every tcbot table is mapped on."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def as_utc(value: datetime) -> datetime:
    """Return `value` as aware UTC; a naive datetime raises ValueError.

    A naive datetime is ambiguous (local time? UTC?), so it is refused rather than
    guessed at.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()}: pass an aware datetime (UTC)")
    return value.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that goes in and comes out as timezone-aware UTC.

    PostgreSQL stores it as TIMESTAMP WITH TIME ZONE. SQLite has no such type, so
    the value is stored as naive UTC text (fixed width, so comparisons in SQL sort
    correctly) and handed back with UTC attached.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        utc = as_utc(value)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def make_engine(url: str) -> Engine:
    """Create the engine for a database URL, checking what can be checked up front.

    `postgresql://` and `postgres://` select the psycopg 3 driver. For a SQLite
    file, the directory must exist and be writable and an existing file must be a
    SQLite database; otherwise DatabaseError, before any file is created.
    """
    parsed = _parse_url(url)
    shown = _shown(parsed)
    if parsed.get_backend_name() == "sqlite":
        _check_sqlite_path(parsed, shown)
    options: dict[str, Any] = {}
    if parsed.get_backend_name() != "sqlite":
        options["pool_pre_ping"] = True
    try:
        engine = create_engine(parsed, **options)
    except ImportError as exc:
        raise DatabaseError(
            f"the database driver for {shown} is not installed ({exc})",
            "install tcbot with its postgres extra: pip install 'tcbot[postgres]'",
            url=shown,
        ) from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def make_read_only_engine(url: str) -> Engine:
    """An engine that cannot write: every SQLite connection has `PRAGMA query_only`, every
    PostgreSQL transaction is READ ONLY. For the web pages that only read."""
    engine = make_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_query_only)
    else:
        event.listen(engine, "connect", _postgres_read_only)
    return engine


def _sqlite_query_only(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA query_only = ON")


def _postgres_read_only(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.read_only = True  # psycopg 3: every transaction READ ONLY


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to `engine`; objects stay readable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def alembic_config(connection: Connection) -> Config:
    """An Alembic Config for the migrations shipped in this package, using `connection`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def current_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at, or None for a database never upgraded."""
    with _translated(engine), engine.connect() as connection:
        return _revision_of(connection, _shown(engine.url))


def check_revision(engine: Engine) -> str | None:
    """Return the database's revision, after checking this tcbot knows it.

    A revision missing from this package's migrations means a newer tcbot wrote the
    database; running against it could damage data, so it raises DatabaseError.
    """
    with _translated(engine), engine.connect() as connection:
        return _known_revision(connection, _shown(engine.url))


def upgrade(engine: Engine) -> None:
    """Bring the database up to the newest schema (what `tcbot db upgrade` runs).

    Runs in one transaction, so a failed upgrade leaves the schema as it was on
    PostgreSQL and on SQLite alike, and holds the database's write lock (SQLite)
    or an advisory lock (PostgreSQL) so two processes starting together upgrade
    one after the other. Safe to call on every start-up.
    """
    shown = _shown(engine.url)
    with _translated(engine), engine.connect() as connection:
        connection.execution_options(**{EXCLUSIVE_OPTION: True})
        with connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
            before = _known_revision(connection, shown)
            command.upgrade(alembic_config(connection), "head")
            after = _revision_of(connection, shown)
    if before != after:
        log.info("upgraded database schema from %s to %s", before or "empty", after)


def _parse_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except sqlalchemy.exc.ArgumentError as exc:
        raise DatabaseError(f"{url!r} is not a database URL", URL_HELP, url=url) from exc
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseError(
            f"tcbot cannot use a {parsed.get_backend_name()} database ({_shown(parsed)})",
            URL_HELP,
            url=_shown(parsed),
        )
    return parsed


def _shown(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def _check_sqlite_path(url: URL, shown: str) -> None:
    """Refuse a SQLite path that would fail, before SQLite creates anything."""
    database = url.database or ""
    if database in ("", ":memory:") or url.query.get("uri") in ("true", "1"):
        return
    path = Path(database)
    parent = path.parent
    fix = "create the directory, or point TCBOT_DATABASE_URL at a writable place"
    if not parent.is_dir():
        raise DatabaseError(
            f"the directory {parent} for the database does not exist", fix, url=shown
        )
    if not _accessible(parent, write=True):
        raise DatabaseError(
            f"cannot write to the directory {parent} of the database", fix, url=shown
        )
    if not path.exists():
        return
    if not path.is_file() or not _accessible(path, write=True):
        raise DatabaseError(
            f"cannot read and write the database file {path}",
            "check the file's permissions, or point TCBOT_DATABASE_URL at another file",
            url=shown,
        )
    _check_sqlite_header(path, shown)


def _accessible(path: Path, *, write: bool) -> bool:
    mode = os.R_OK | (os.W_OK if write else 0) | (os.X_OK if path.is_dir() else 0)
    return os.access(path, mode)


def _check_sqlite_header(path: Path, shown: str) -> None:
    with path.open("rb") as handle:
        header = handle.read(len(SQLITE_MAGIC))
    if header and header != SQLITE_MAGIC:
        raise DatabaseError(
            f"the file {path} is not a SQLite database",
            "point TCBOT_DATABASE_URL at a tcbot database, or move the file away to start anew",
            url=shown,
        )


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    """WAL and foreign keys on every connection; transactions driven by `_sqlite_on_begin`.

    pysqlite's own transaction handling skips DDL and SAVEPOINTs; taking it over
    (isolation_level=None plus an explicit BEGIN) makes migrations atomic too.
    """
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        if _journal_mode(cursor) != "wal":
            try:
                cursor.execute("PRAGMA journal_mode=WAL")
            except sqlite3.OperationalError:
                # Two connections switching a new file at once: one wins, the other
                # is told "locked" without waiting. WAL persists in the file, so
                # only fail if nobody managed to switch it.
                if _journal_mode(cursor) != "wal":
                    raise
    finally:
        cursor.close()


def _journal_mode(cursor: sqlite3.Cursor) -> str:
    """The file's journal mode; reading the schema first makes SQLite open the file."""
    cursor.execute("SELECT count(*) FROM sqlite_master").fetchone()
    return str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower()


def _sqlite_on_begin(connection: Connection) -> None:
    exclusive = connection.get_execution_options().get(EXCLUSIVE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if exclusive else "BEGIN")


def _revision_of(connection: Connection, shown: str) -> str | None:
    heads = MigrationContext.configure(connection).get_current_heads()
    if len(heads) > 1:
        raise DatabaseError(
            f"the database at {shown} is at several revisions at once ({', '.join(heads)})",
            "restore it from a backup, or point TCBOT_DATABASE_URL at another database",
            url=shown,
        )
    return heads[0] if heads else None


def _known_revision(connection: Connection, shown: str) -> str | None:
    revision = _revision_of(connection, shown)
    if revision is None:
        return None
    scripts = ScriptDirectory.from_config(alembic_config(connection))
    known = {script.revision for script in scripts.walk_revisions()}
    if revision not in known:
        raise DatabaseError(
            f"the database at {shown} was written by a newer version of tcbot "
            f"(revision {revision})",
            NEWER_FIX,
            url=shown,
        )
    return revision


@contextmanager
def _translated(engine: Engine) -> Iterator[None]:
    """Turn driver errors into DatabaseErrors that say what to do next."""
    shown = _shown(engine.url)
    try:
        yield
    except sqlalchemy.exc.DBAPIError as exc:
        raise _database_error(exc, engine, shown) from exc


def _database_error(exc: sqlalchemy.exc.DBAPIError, engine: Engine, shown: str) -> DatabaseError:
    detail = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
    if engine.dialect.name == "sqlite" and ("not a database" in detail or "malformed" in detail):
        return DatabaseError(
            f"the file at {shown} is not a SQLite database, or it is corrupt ({detail})",
            "restore it from a backup, or point TCBOT_DATABASE_URL at another file",
            url=shown,
        )
    if isinstance(exc, sqlalchemy.exc.OperationalError):
        return DatabaseError(
            f"cannot use the database at {shown} ({detail})",
            "check TCBOT_DATABASE_URL and that the database server is running",
            url=shown,
        )
    return DatabaseError(
        f"the database at {shown} failed ({detail})",
        "check TCBOT_DATABASE_URL; if the file is damaged, restore it from a backup",
        url=shown,
    )
