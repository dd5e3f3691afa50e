"""Alembic's entry point for tcbot's migrations.

`archive.db.upgrade(engine)` passes an open connection in `config.attributes`
and everything runs inside that connection's transaction. A developer can also
drive these migrations with the `alembic` command and the alembic.ini beside
this file, naming the database with `-x url=...` (or TCBOT_DATABASE_URL):

    alembic -c archive/migrations/alembic.ini -x url=sqlite:///tcbot.db upgrade head
    alembic -c archive/migrations/alembic.ini -x url=sqlite:///tcbot.db \\
        revision --autogenerate --rev-id 0002 -m "add outbox"
"""

from __future__ import annotations

import logging.config
import os

from alembic import context
from sqlalchemy import Connection

import archive.models  # noqa: F401  (registers every table on Base.metadata)
from archive.db import Base, make_engine
from archive.search_index import include_name


def _database_url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or os.environ.get(
        "TCBOT_DATABASE_URL", ""
    )
    if not url:
        raise SystemExit("name the database: alembic -x url=sqlite:///tcbot.db ...")
    return url


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,  # autogenerate leaves the search index alone
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_offline() -> None:
    context.configure(
        url=_database_url(),
        target_metadata=Base.metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    if context.config.config_file_name is not None:
        logging.config.fileConfig(context.config.config_file_name)
    engine = make_engine(_database_url())
    try:
        with engine.begin() as own_connection:
            _run(own_connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    _run_offline()
else:
    _run_online()
