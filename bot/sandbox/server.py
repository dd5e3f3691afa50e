"""The sandbox X API's HTTP server: start it, stop it, and what it answers.

A loopback stand-in for X API v2, close enough that unmodified tweepy 4.17.0 works against
it once its session is pointed here (mount a requests adapter that rewrites
https://api.twitter.com to `server.url`; see X-API-NOTES.md §1.2). Any Host header is
served. Start it with `start_sandbox(...)` (background thread) or `serve_forever(...)`.

X endpoints (shapes, errors and headers as X-API-NOTES.md describes them):
    POST   /2/tweets                 text, reply.in_reply_to_tweet_id, quote_tweet_id
    DELETE /2/tweets/:id
    GET    /2/tweets/search/recent   query, since_id, until_id, start_time, end_time, ...
    GET    /2/tweets?ids=            and GET /2/tweets/:id
    GET    /2/users/me
    GET    /2/users/:id/mentions
  Auth: `OAuth ...` user context (the access token `<user_id>-<anything>` names the user;
  signatures are not checked) or `Bearer ...` app-only (reads only; writes and /2/users/me
  answer 403 Unsupported Authentication). Missing, garbled or unknown-user auth: 401.

Admin endpoints (not X's; JSON in and out, no auth, no faults, not logged):
    GET    /_sandbox                 list these endpoints
    GET    /_sandbox/users           every user, with its access token
    POST   /_sandbox/users           {"username", "name"?, "protected"?} -> 201 {"id",
                                     "username", "name", "protected", "suspended",
                                     "access_token"}
    PATCH  /_sandbox/users/:id       {"protected"?, "suspended"?} -> the user: make an
                                     account protected or public, suspend or reinstate
                                     it (a suspended account's posts read as withheld)
    POST   /_sandbox/tweets          {"author": username, "text", "reply_to"?, "quote_of"?,
                                     "retweet_of"?, "created_at"? (past, RFC 3339)} -> 201
                                     {"data": post with every field}; skips the reply gate,
                                     not the length or duplicate checks
    DELETE /_sandbox/tweets/:id      delete as its author -> {"deleted": true}
    GET    /_sandbox/requests        {"requests": [{method, path, query, status, dropped,
                                     time}]} (never the Authorization header);
                                     DELETE clears it
    GET    /_sandbox/faults          the installed Faults as JSON
    PUT    /_sandbox/faults          (or POST) install {"rate_limited", "server_error",
                                     "unavailable", "dropped", "dropped_after" (shares 0-1),
                                     "latency_ms", "spent_endpoints": ["GET /2/tweets/search/
                                     recent"], "queue": [500, 503, "drop", "drop_after", 429],
                                     "seed"}; "drop_after" handles the request, then drops
                                     the connection; missing keys
                                     take defaults; DELETE clears all faults
    GET    /_sandbox/clock           {"now", "offset_seconds"}
    POST   /_sandbox/clock           {"advance": seconds} or {"set": "2026-08-20T12:00:00Z"}
    GET    /_sandbox/community       the simulated community: {"enabled", "seed",
                                     "reply_delay": [soonest, latest] (sandbox seconds),
                                     "follow_up_chance", "hello_chance", "introduce",
                                     "pending", "skipped", "participants"}
    PUT    /_sandbox/community       (or POST) {"enabled"?, "seed"?, "reply_delay"?, ...}:
                                     switch it on or off, change settings; missing keys
                                     keep their values; off drops pending reactions
    POST   /_sandbox/reset           only the bot left, no faults, clock offset 0, log empty,
                                     no pending community reactions (on/off is kept)
  Admin errors are {"error": message} (plus "x_body", X's body, when X's rules refused).

The simulated community (off unless `community=` says otherwise; see community.py):
pretend trainees answer the bot's "Q<n>" posts with "A<n> ... #Tag" replies a little
later in sandbox time, and greet its other posts. Its pending reactions live in memory.
"""

from __future__ import annotations

import errno
import logging
import socket
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Self

from bot.sandbox.clock import SandboxClock, system_now
from bot.sandbox.community import CommunitySettings
from bot.sandbox.faults import Faults
from bot.sandbox.problems import server_error
from bot.sandbox.service import SandboxService, json_outcome
from bot.sandbox.state import State, UserError
from bot.sandbox.store import MemoryStore, SqliteStore, Store

__all__ = ["PortInUseError", "SandboxError", "SandboxServer", "serve_forever", "start_sandbox"]

log = logging.getLogger(__name__)


class SandboxError(OSError):
    """The sandbox could not start (port taken, state file unusable, bad options)."""

    def __init__(self, message: str, *, code: int = errno.EINVAL) -> None:
        super().__init__(code, message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class PortInUseError(SandboxError):
    def __init__(self, host: str, port: int) -> None:
        super().__init__(
            f"port {port} on {host} is in use; choose another with --port or use --port 0",
            code=errno.EADDRINUSE,
        )
        self.host = host
        self.port = port


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    service: SandboxService


class _HTTP6Server(_HTTPServer):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    server_version = "tcbot-sandbox"
    sys_version = ""

    def _serve(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        body = self.rfile.read(length) if length > 0 else b""
        headers = {key.lower(): value for key, value in self.headers.items()}
        try:
            outcome = self.server.service.handle(self.command, self.path, headers, body)
        except Exception:
            log.exception("Sandbox failed on %s %s", self.command, self.path.split("?")[0])
            error = server_error()
            outcome = json_outcome(error.status, error.body)
        if outcome.delay > 0:
            time.sleep(outcome.delay)
        if outcome.drop:
            self.close_connection = True
            return
        self.send_response(outcome.status)
        for name, value in outcome.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(outcome.body)))
        self.end_headers()
        self.wfile.write(outcome.body)

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _serve

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: object) -> None:
        log.debug("sandbox: " + format, *args)


class SandboxServer:
    """A running sandbox: `.url`, `.state`, `.service`; a context manager."""

    def __init__(self, httpd: _HTTPServer, service: SandboxService) -> None:
        self._httpd = httpd
        self.service = service
        self.state = service.state
        self.clock = service.clock
        host, port = httpd.server_address[:2]
        self.host, self.port = str(host), int(port)
        shown = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"http://{shown}:{self.port}"
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name=f"sandbox-{self.port}",
        )
        self._thread.start()

    def wait(self) -> None:
        """Block until `shutdown()` (Ctrl-C interrupts the wait)."""
        while not self._stopped.wait(0.5):
            pass

    def shutdown(self) -> None:
        """Stop serving, close the socket and the state file. Safe to call twice."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()
        self.state.close()
        log.info("Sandbox X API at %s stopped", self.url)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown()


def start_sandbox(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    state_path: Path | str | None = None,
    bot_username: str = "tcbot",
    faults: Faults | None = None,
    clock: Callable[[], datetime] | None = None,
    community: bool | CommunitySettings = False,
) -> SandboxServer:
    """Serve the sandbox in a background thread; port 0 picks a free one (see `.url`).

    `clock` gives aware UTC times (default: the machine's); the admin endpoint moves an
    offset on top of it. `state_path` keeps users and posts in a SQLite file across runs.
    `community` True (default settings) or a CommunitySettings starts the simulated
    community; it can also be switched at run time (PUT /_sandbox/community).
    Raises PortInUseError (an OSError) when the port is taken, SandboxError otherwise."""
    base = clock or system_now
    store = _open_store(state_path)
    try:
        state = State(store=store, bot_username=bot_username, now=base())
        sandbox_clock = SandboxClock(base, offset=state.clock_offset)
        service = SandboxService(
            state=state,
            clock=sandbox_clock,
            faults=faults,
            bot_username=bot_username,
            community=_community_settings(community),
        )
        httpd = _bind(host, port)
    except UserError as exc:
        store.close()
        raise SandboxError(f"bot username: {exc}") from None
    except BaseException:
        store.close()
        raise
    httpd.service = service
    server = SandboxServer(httpd, service)
    log.info("Sandbox X API listening on %s", server.url)
    return server


def serve_forever(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    state_path: Path | str | None = None,
    bot_username: str = "tcbot",
    faults: Faults | None = None,
    clock: Callable[[], datetime] | None = None,
    community: bool | CommunitySettings = False,
    on_ready: Callable[[SandboxServer], None] | None = None,
) -> None:
    """Serve in the foreground until interrupted; `on_ready(server)` runs once listening."""
    server = start_sandbox(
        host=host,
        port=port,
        state_path=state_path,
        bot_username=bot_username,
        faults=faults,
        clock=clock,
        community=community,
    )
    try:
        if on_ready is not None:
            on_ready(server)
        server.wait()
    finally:
        server.shutdown()


def _community_settings(community: bool | CommunitySettings) -> CommunitySettings | None:
    if isinstance(community, CommunitySettings):
        return community
    return CommunitySettings() if community else None


def _open_store(state_path: Path | str | None) -> Store:
    if state_path is None:
        return MemoryStore()
    try:
        return SqliteStore(Path(state_path))
    except (sqlite3.Error, OSError) as exc:
        raise SandboxError(
            f"cannot use {state_path} as the sandbox state file ({exc}); give a writable path"
        ) from None


def _bind(host: str, port: int) -> _HTTPServer:
    server_class = _HTTP6Server if ":" in host else _HTTPServer
    try:
        return server_class((host, port), _Handler)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise PortInUseError(host, port) from None
        raise SandboxError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); check --host and --port",
            code=exc.errno or errno.EINVAL,
        ) from None
