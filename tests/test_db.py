"""archive.db: engines, SQLite pragmas, UTC timestamps, migrations and the errors around them."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

import archive.models  # noqa: F401  (registers the tables on Base.metadata)
from archive.db import (
    Base,
    UTCDateTime,
    alembic_config,
    check_revision,
    current_revision,
    make_engine,
    make_session_factory,
    upgrade,
)
from archive.errors import DatabaseError
from archive.models import PollCursor
from archive.search_index import include_name

ARCHIVE_TABLES = {
    "users",
    "tweets",
    "tweet_references",
    "tweet_hashtags",
    "tweet_mentions",
    "poll_cursors",
    "api_usage",
}


def _head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from archive.db import MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


HEAD = _head()  # the newest migration: these tests hold for every schema version
NEWER = (
    "was written by a newer version of tcbot (revision 9999_future); "
    "upgrade tcbot, or point TCBOT_DATABASE_URL at another database"
)


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    return tmp_path / "tcbot.db"


@pytest.fixture
def bare_engine(db_url: str) -> Iterator[Engine]:
    """An engine on an empty, never-upgraded database."""
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def _files(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


# --- SQLite connections ---


def test_make_engine_sqlite_connections_use_wal_and_foreign_keys(sqlite_path: Path) -> None:
    engine = make_engine(f"sqlite:///{sqlite_path}")
    try:
        for _ in range(2):  # every pooled connection, not just the first
            with engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


def test_make_engine_sqlite_savepoint_rolls_back_only_the_nested_part(engine: Engine) -> None:
    at = datetime(2026, 8, 20, 12, 0, tzinfo=UTC)
    with make_session_factory(engine)() as session, session.begin():
        session.add(PollCursor(name="kept", since_id="1", updated_at=at))
        nested = session.begin_nested()
        session.add(PollCursor(name="dropped", since_id="2", updated_at=at))
        nested.rollback()
    with make_session_factory(engine)() as session:
        assert session.scalars(select(PollCursor.name)).all() == ["kept"]


# --- migrations ---


def test_upgrade_creates_every_archive_table(engine: Engine) -> None:
    assert ARCHIVE_TABLES <= _tables(engine)
    assert current_revision(engine) == HEAD


def test_upgrade_twice_changes_nothing(engine: Engine) -> None:
    before = _tables(engine)
    upgrade(engine)
    assert _tables(engine) == before
    assert check_revision(engine) == HEAD


def test_current_revision_of_empty_database_is_none(bare_engine: Engine) -> None:
    assert current_revision(bare_engine) is None
    assert check_revision(bare_engine) is None


def test_downgrade_to_base_drops_every_table_and_upgrade_restores_them(engine: Engine) -> None:
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "base")
    assert _tables(engine) & ARCHIVE_TABLES == set()
    assert current_revision(engine) is None
    upgrade(engine)
    assert ARCHIVE_TABLES <= _tables(engine)


def test_upgrade_two_processes_starting_together_both_succeed(db_url: str) -> None:
    engines = [make_engine(db_url) for _ in range(2)]
    start = threading.Barrier(len(engines))

    def start_up(engine: Engine) -> None:
        start.wait(timeout=30)
        upgrade(engine)

    try:
        with ThreadPoolExecutor(max_workers=len(engines)) as pool:
            for done in [pool.submit(start_up, engine) for engine in engines]:
                done.result(timeout=30)  # re-raises a failed start-up here
        assert current_revision(engines[0]) == HEAD
    finally:
        for engine in engines:
            engine.dispose()


def test_migrations_match_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": include_name}
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_upgrade_database_from_newer_tcbot_raises_database_error(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    shown = engine.url.render_as_string(hide_password=True)
    for call in (upgrade, check_revision):
        with pytest.raises(DatabaseError) as caught:
            call(engine)
        assert str(caught.value) == f"the database at {shown} {NEWER}"
        assert caught.value.url == shown


# --- UTC timestamps ---


def test_utc_datetime_comes_back_aware_utc(engine: Engine) -> None:
    written = datetime(2026, 8, 20, 13, 5, 0, 123456, tzinfo=timezone(timedelta(hours=1)))
    with make_session_factory(engine)() as session, session.begin():
        session.add(PollCursor(name="search", since_id="1", updated_at=written))
    with make_session_factory(engine)() as session:
        read = session.scalars(select(PollCursor.updated_at)).one()
    assert read.tzinfo is UTC
    assert read == written
    assert read.hour == 12 and read.microsecond == 123456


def test_utc_datetime_rejects_naive_datetime_on_write(session: Session) -> None:
    naive = datetime(2026, 8, 20, 12, 5)
    with pytest.raises(ValueError, match="naive datetime"):
        UTCDateTime().process_bind_param(naive, session.get_bind().dialect)
    session.add(PollCursor(name="search", since_id="1", updated_at=naive))
    with pytest.raises(StatementError) as caught:
        session.flush()
    assert isinstance(caught.value.orig, ValueError)


# --- what make_engine refuses, before SQLite can leave a file behind ---


def test_make_engine_missing_directory_raises_and_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir" / "tcbot.db"
    with pytest.raises(DatabaseError) as caught:
        make_engine(f"sqlite:///{missing}")
    assert str(missing.parent) in caught.value.what
    assert "does not exist" in caught.value.what
    assert "create the directory" in caught.value.fix
    assert _files(tmp_path) == []


def test_make_engine_parent_that_is_a_file_raises(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a directory")
    with pytest.raises(DatabaseError, match="does not exist"):
        make_engine(f"sqlite:///{tmp_path / 'notes.txt' / 'tcbot.db'}")
    assert _files(tmp_path) == ["notes.txt"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to any directory")
def test_make_engine_unwritable_directory_raises_and_creates_nothing(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        with pytest.raises(DatabaseError) as caught:
            make_engine(f"sqlite:///{locked / 'tcbot.db'}")
        assert f"cannot write to the directory {locked}" in caught.value.what
        assert _files(locked) == []
    finally:
        locked.chmod(0o700)


def test_make_engine_file_that_is_not_sqlite_raises_and_leaves_it_alone(sqlite_path: Path) -> None:
    sqlite_path.write_text("name,text\nada,hello\n")
    with pytest.raises(DatabaseError) as caught:
        make_engine(f"sqlite:///{sqlite_path}")
    assert caught.value.what == f"the file {sqlite_path} is not a SQLite database"
    assert sqlite_path.read_text() == "name,text\nada,hello\n"
    assert _files(sqlite_path.parent) == ["tcbot.db"]


def test_upgrade_corrupt_sqlite_file_raises_database_error(sqlite_path: Path) -> None:
    sqlite_path.write_bytes(b"SQLite format 3\x00" + b"\xa5" * 4080)
    engine = make_engine(f"sqlite:///{sqlite_path}")
    try:
        with pytest.raises(DatabaseError) as caught:
            upgrade(engine)
    finally:
        engine.dispose()
    assert "is not a SQLite database, or it is corrupt" in caught.value.what
    assert "restore it from a backup" in caught.value.fix


def test_make_engine_empty_file_is_a_new_database(sqlite_path: Path) -> None:
    sqlite_path.touch()
    engine = make_engine(f"sqlite:///{sqlite_path}")
    try:
        upgrade(engine)
        assert ARCHIVE_TABLES <= _tables(engine)
    finally:
        engine.dispose()


# --- URLs ---


@pytest.mark.parametrize(
    ("url", "what"),
    [
        ("tcbot.db", "'tcbot.db' is not a database URL"),
        ("mysql://db.invalid/tcbot", "tcbot cannot use a mysql database"),
    ],
)
def test_make_engine_unusable_url_raises_database_error(url: str, what: str) -> None:
    with pytest.raises(DatabaseError) as caught:
        make_engine(url)
    assert caught.value.what.startswith(what)
    assert "sqlite:///path/to/tcbot.db" in caught.value.fix


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_make_engine_postgres_url_without_driver_uses_psycopg(scheme: str) -> None:
    engine = make_engine(f"{scheme}://tcbot@localhost/tcbot")
    assert engine.dialect.name == "postgresql"
    assert engine.dialect.driver == "psycopg"
    engine.dispose()


def test_upgrade_unreachable_server_raises_without_showing_the_password() -> None:
    with socket.socket() as closed:  # bound but not listening: connections are refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        engine = make_engine(f"postgresql+psycopg://tcbot:s3cret@127.0.0.1:{port}/tcbot")
        with pytest.raises(DatabaseError) as caught:
            upgrade(engine)
        engine.dispose()
    assert "s3cret" not in str(caught.value)
    assert caught.value.url == f"postgresql+psycopg://tcbot:***@127.0.0.1:{port}/tcbot"
    assert str(caught.value).startswith(f"cannot use the database at {caught.value.url}")
    assert "the database server is running" in caught.value.fix
