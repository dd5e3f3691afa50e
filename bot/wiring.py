"""Builds the live objects from Settings: the archive database and the X client.

This is where "no credentials selects the sandbox" happens: with no X credentials
and no X_API_BASE_URL tcbot starts its own sandbox X API on a free loopback port
(state kept in TCBOT_SANDBOX_STATE); with X_API_BASE_URL set it talks to that
server with the sandbox's credentials; with credentials it talks to X.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from archive.db import current_revision, make_engine, make_session_factory, upgrade
from archive.models import HttpMethod
from archive.usage import record_api_call
from bot.clock import Clock
from bot.config import REAL_X_API_URL, Settings, XCredentials
from bot.errors import TcbotError
from bot.sandbox import credentials as sandbox_credentials
from bot.sandbox.faults import Faults
from bot.sandbox.server import start_sandbox
from bot.x_client import ApiCall, TweepyXClient, XClient

log = logging.getLogger(__name__)

SANDBOX_CREDENTIALS = XCredentials(
    api_key=sandbox_credentials.SANDBOX_API_KEY,
    api_secret=sandbox_credentials.SANDBOX_API_SECRET,
    access_token=sandbox_credentials.SANDBOX_ACCESS_TOKEN,
    access_token_secret=sandbox_credentials.SANDBOX_ACCESS_TOKEN_SECRET,
    bearer_token=sandbox_credentials.SANDBOX_BEARER_TOKEN,
)


def open_database(settings: Settings) -> sessionmaker[Session]:
    """Open the archive and bring it up to date (every start-up does this)."""
    engine = make_engine(settings.database_url)
    upgrade(engine)
    return make_session_factory(engine)


def upgrade_database(settings: Settings) -> str:
    """Upgrade the archive to this version's schema; returns the revision it is at."""
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        return current_revision(engine) or "empty"
    finally:
        engine.dispose()


def usage_recorder(sessions: sessionmaker[Session]) -> Callable[[ApiCall], None]:
    """An on_call hook writing each X request to the usage log in its own transaction."""

    def record(call: ApiCall) -> None:
        with sessions.begin() as session:
            record_api_call(
                session,
                at=call.at,
                method=HttpMethod(call.method),
                endpoint=call.endpoint,
                status=call.status,
                posts_read=call.posts_read,
                users_read=call.users_read,
                posts_created=call.posts_created,
                error=call.error,
                purpose=call.purpose,
            )

    return record


def make_x_client(
    credentials: XCredentials,
    *,
    base_url: str | None,
    clock: Clock,
    on_call: Callable[[ApiCall], None] | None,
) -> TweepyXClient:
    """A tweepy-backed client; base_url None (or X's own address) means X itself."""
    if base_url in (REAL_X_API_URL, "https://api.twitter.com"):
        base_url = None
    return TweepyXClient(
        api_key=credentials.api_key,
        api_secret=credentials.api_secret,
        access_token=credentials.access_token,
        access_token_secret=credentials.access_token_secret,
        bearer_token=credentials.bearer_token,
        base_url=base_url,
        clock=clock,
        on_call=on_call,
    )


@contextmanager
def connect_x(
    settings: Settings, *, clock: Clock, sessions: sessionmaker[Session] | None = None
) -> Iterator[XClient]:
    """The X client the settings ask for, with the embedded sandbox running if needed."""
    on_call = usage_recorder(sessions) if sessions is not None else None
    if settings.credentials is not None:
        yield make_x_client(
            settings.credentials, base_url=settings.x_api_base_url, clock=clock, on_call=on_call
        )
        return
    log.info("No X credentials are set: using the sandbox X API, nothing reaches X")
    if settings.x_api_base_url is not None:
        log.info("Using the sandbox X API at %s", settings.x_api_base_url)
        yield make_x_client(
            SANDBOX_CREDENTIALS, base_url=settings.x_api_base_url, clock=clock, on_call=on_call
        )
        return
    state = Path(settings.sandbox_state)
    with start_sandbox(state_path=state, bot_username=settings.bot_username or "tcbot") as server:
        log.info("Started the embedded sandbox X API at %s (state in %s)", server.url, state)
        yield make_x_client(SANDBOX_CREDENTIALS, base_url=server.url, clock=clock, on_call=on_call)


LIST_FAULTS = ("queue", "spent_endpoints")


def parse_faults(items: Sequence[str]) -> Faults:
    """`--fault name=value` options as sandbox Faults; list values are comma-separated."""
    settings: dict[str, object] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise TcbotError(
                f"--fault {item!r} has no value", "write it as NAME=VALUE, e.g. unavailable=0.1"
            )
        settings[name.strip()] = value.split(",") if name.strip() in LIST_FAULTS else value
    try:
        return Faults.from_json(settings)
    except ValueError as exc:
        raise TcbotError(str(exc), "see tcbot sandbox serve --help") from None


def serve_sandbox(
    *, host: str, port: int, state: Path | None, bot_username: str, faults: Faults | None = None
) -> None:
    """Run the sandbox in the foreground until Ctrl-C, printing its address."""
    try:
        server = start_sandbox(
            host=host, port=port, state_path=state, bot_username=bot_username, faults=faults
        )
    except OSError as exc:
        raise TcbotError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc})",
            "choose another port with --port, or --port 0 for any free one",
        ) from None
    print(f"Sandbox X API listening on {server.url}", flush=True)
    print(f"Use it with: X_API_BASE_URL={server.url} (and no X credentials)", flush=True)
    try:
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
