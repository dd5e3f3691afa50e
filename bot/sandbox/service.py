"""One request in, one answer out: routing, auth, faults, rate limits and the request log.

`SandboxService.handle()` knows nothing of sockets: the HTTP layer (server.py) hands it the
method, target, headers and body and writes back the `Outcome` (or drops the connection).
Order for /2/ paths: injected fault, route (404), credentials (401), user-context
requirement (403), rate-limit window (429), then the endpoint itself. /_sandbox/ paths go
to the admin endpoints, untouched by faults and limits and absent from the log. Before
any of that, every request first lets the simulated community (community.py) post the
reactions that have fallen due.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bot.sandbox import admin
from bot.sandbox.api import Call, Reply, find_route, route_not_found
from bot.sandbox.auth import AuthKind, Caller, parse_authorization
from bot.sandbox.clock import SandboxClock, format_timestamp
from bot.sandbox.community import Community, CommunitySettings
from bot.sandbox.faults import Fault, FaultInjector, Faults
from bot.sandbox.limits import ENDPOINT_LIMITS, Limiter
from bot.sandbox.problems import (
    ApiError,
    rate_limited,
    server_error,
    service_unavailable,
    unauthorized,
    unsupported_authentication,
)
from bot.sandbox.records import User
from bot.sandbox.state import State

__all__ = ["CONTENT_TYPE", "Outcome", "SandboxService"]

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/json; charset=utf-8"
LOG_SIZE = 10_000
_INJECTED = {
    Fault.RATE_LIMITED: rate_limited,
    Fault.SERVER_ERROR: server_error,
    Fault.UNAVAILABLE: service_unavailable,
}


@dataclass(frozen=True, slots=True)
class Outcome:
    """What to send back: a JSON answer, or (`drop`) nothing at all; `delay` first."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    delay: float = 0.0


def json_outcome(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Outcome:
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return Outcome(status, payload, {"content-type": CONTENT_TYPE, **(headers or {})})


class SandboxService:
    """The sandbox's behaviour, shared by the server's threads."""

    def __init__(
        self,
        *,
        state: State,
        clock: SandboxClock,
        faults: Faults | None,
        bot_username: str,
        community: CommunitySettings | None = None,
    ) -> None:
        """`community` switches the simulated community on with those settings."""
        self.state = state
        self.clock = clock
        self.bot_username = bot_username
        self.community = Community(community, state=state, enabled=community is not None)
        self.limiter = Limiter()
        self.injector = FaultInjector()
        self._log: deque[dict[str, Any]] = deque(maxlen=LOG_SIZE)
        self._log_lock = threading.Lock()
        self.install_faults(faults or Faults())

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Outcome:
        self.community.flush(self.state, self.clock.now())
        url = urlsplit(target)
        query = parse_qs(url.query, keep_blank_values=True)
        if url.path.startswith("/_sandbox"):
            return json_outcome(*admin.handle(self, method, url.path, query, body))
        authorization = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
        outcome = self._api(method, url.path, query, authorization, body)
        self._record(method, url.path, url.query, outcome)
        return outcome

    def _api(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        authorization: str | None,
        body: bytes,
    ) -> Outcome:
        now = self.clock.now()
        found = find_route(method, path)
        endpoint = found[0].endpoint if found else f"{method} {path}"
        caller = parse_authorization(authorization)
        key = caller.limit_key if caller else "anonymous"
        fault = self.injector.draw() if path.startswith("/2/") else None
        delay = self.injector.latency_seconds if path.startswith("/2/") else 0.0
        if fault is Fault.DROP:
            return Outcome(0, drop=True, delay=delay)
        rate_headers = self.limiter.check(endpoint, key, now, consume=False).headers
        try:
            if fault is not None and fault is not Fault.DROP_AFTER:
                if fault is Fault.RATE_LIMITED:
                    rate_headers["x-rate-limit-remaining"] = "0"
                raise _INJECTED[fault]()
            if found is None:
                raise route_not_found()
            route, args = found
            user = self._user(caller)
            if route.user_only and user is None:
                raise unsupported_authentication()
            assert caller is not None
            verdict = self.limiter.check(endpoint, caller.limit_key, now, consume=True)
            rate_headers = verdict.headers
            if not verdict.allowed:
                raise rate_limited()
            reply = route.handler(Call(self.state, user, args, query, body, now))
        except ApiError as error:
            reply = Reply(error.status, error.body)
        outcome = json_outcome(reply.status, reply.body, {**rate_headers, **reply.headers})
        drop = fault is Fault.DROP_AFTER
        return Outcome(outcome.status, outcome.body, outcome.headers, drop=drop, delay=delay)

    def _user(self, caller: Caller | None) -> User | None:
        """The calling user (None for app-only), or 401 when there is no usable credential."""
        if caller is None:
            raise unauthorized()
        if caller.kind is AuthKind.APP:
            return None
        user = self.state.user(caller.user_id or "")
        if user is None:
            raise unauthorized()
        return user

    def install_faults(self, faults: Faults) -> None:
        """Switch to `faults`; exhausts the windows of its `spent_endpoints` from now."""
        unknown = [e for e in faults.spent_endpoints if e not in ENDPOINT_LIMITS]
        if unknown:
            raise ValueError(f"unknown endpoints {unknown}; known: {sorted(ENDPOINT_LIMITS)}")
        self.injector.install(faults)
        for endpoint in faults.spent_endpoints:
            self.limiter.spend(endpoint, self.clock.now())

    def _record(self, method: str, path: str, query: str, outcome: Outcome) -> None:
        entry = {
            "method": method,
            "path": path,
            "query": {k: v[0] if len(v) == 1 else v for k, v in parse_qs(query).items()},
            "status": None if outcome.status == 0 else outcome.status,
            "dropped": outcome.drop,
            "time": format_timestamp(self.clock.now()),
        }
        with self._log_lock:
            self._log.append(entry)

    def requests(self) -> list[dict[str, Any]]:
        """The request log, oldest first (never the Authorization header)."""
        with self._log_lock:
            return list(self._log)

    def clear_requests(self) -> None:
        with self._log_lock:
            self._log.clear()

    def save_clock(self) -> None:
        self.state.save_clock_offset(self.clock.offset_seconds)

    def reset(self) -> None:
        """Back to a fresh sandbox: only the bot, no faults, real-time clock, empty log,
        nothing pending in the community (which stays on or off, with its settings)."""
        self.clock.reset()
        self.state.reset(bot_username=self.bot_username, now=self.clock.now())
        self.community.reset()
        self.limiter.reset()
        self.install_faults(Faults())
        self.clear_requests()
