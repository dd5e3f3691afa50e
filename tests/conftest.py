"""Shared fixtures: a clean environment for every test, and real databases.

Fixture sections are owned by area; add yours in your own test module unless it is
shared across areas.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

import archive.db


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No TCBOT_* or X_* variable from the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith(("TCBOT_", "X_")) and name != "TCBOT_TEST_POSTGRES_URL":
            monkeypatch.delenv(name, raising=False)


# --- Database fixtures (archive): SQLite always, PostgreSQL when a server is named. ---

POSTGRES_ENV = "TCBOT_TEST_POSTGRES_URL"
POSTGRES_SKIP = (
    f"set {POSTGRES_ENV}=postgresql+psycopg://postgres@127.0.0.1:5432/test to run PostgreSQL tests"
)


class PostgresSchema:
    """A schema with a random name, private to this test run, emptied after each test.

    Engines reach it through the URL's `options=-csearch_path=<schema>`, so every
    table, Alembic's version table included, lands there and parallel runs never
    see each other's rows.
    """

    def __init__(self, base_url: str) -> None:
        self.name = f"tcbot_test_{secrets.token_hex(6)}"
        self._admin = archive.db.make_engine(base_url)
        self.url = (
            self._admin.url.update_query_dict({"options": f"-csearch_path={self.name}"})
        ).render_as_string(hide_password=False)
        self._run(f'CREATE SCHEMA "{self.name}"')

    def reset(self) -> None:
        """Drop everything a test left in the schema (its engines must be disposed)."""
        self._run(f'DROP SCHEMA "{self.name}" CASCADE', f'CREATE SCHEMA "{self.name}"')

    def drop(self) -> None:
        self._run(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE')
        self._admin.dispose()

    def _run(self, *statements: str) -> None:
        with self._admin.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.exec_driver_sql("SET lock_timeout = '10s'")
            for statement in statements:
                connection.exec_driver_sql(statement)


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[PostgresSchema | None]:
    """This run's PostgreSQL schema, or None when TCBOT_TEST_POSTGRES_URL is unset."""
    base_url = os.environ.get(POSTGRES_ENV, "")
    if not base_url:
        yield None
        return
    schema = PostgresSchema(base_url)
    try:
        yield schema
    finally:
        schema.drop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_schema: PostgresSchema | None
) -> Iterator[str]:
    """An empty database's URL: a tmp_path SQLite file, or this run's PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tcbot.db'}"
        return
    if postgres_schema is None:
        pytest.skip(POSTGRES_SKIP)
    yield postgres_schema.url
    postgres_schema.reset()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on an empty database, upgraded to the newest schema."""
    engine = archive.db.make_engine(db_url)
    try:
        archive.db.upgrade(engine)
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on the upgraded database; whatever the test left uncommitted is rolled back."""
    with archive.db.make_session_factory(engine)() as session:
        yield session


@pytest.fixture
def archive_session(db_url: str) -> Iterator[Session]:
    """A session on the database the CLI uses, to set the scene (commit to share it)."""
    engine = archive.db.make_engine(db_url)
    archive.db.upgrade(engine)
    try:
        with archive.db.make_session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


@pytest.fixture
def dispose_cli_databases(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Close every database the CLI opens during a test (PostgreSQL counts connections)."""
    from bot import wiring

    opened: list[sessionmaker[Session]] = []
    open_database = wiring.open_database

    def tracked(settings: Any) -> sessionmaker[Session]:
        opened.append(open_database(settings))
        return opened[-1]

    monkeypatch.setattr(wiring, "open_database", tracked)
    yield
    for sessions in opened:
        sessions.kw["bind"].dispose()


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """A fresh, upgraded SQLite archive in tmp_path (modules may define their own)."""
    engine = archive.db.make_engine(f"sqlite:///{tmp_path / 'tcbot.db'}")
    archive.db.upgrade(engine)
    yield archive.db.make_session_factory(engine)
    engine.dispose()
