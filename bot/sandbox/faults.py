"""Fault injection: make the sandbox misbehave the ways X does, on purpose and repeatably.

A `Faults` value says what to inject; a `FaultInjector` applies it to each /2/ request
(never /_sandbox/): first the deterministic `queue` ("answer the next N requests with
these"), then a draw from a seeded `random.Random` against the shares of 429, 500, 503 and
dropped connections (before the request is handled, or after: `dropped_after`, the post
is made but the client never hears so, as when X times out mid-write). `latency_ms` delays every /2/ answer. `spent_endpoints` exhausts the
named endpoints' rate-limit windows when the faults are installed (see Limiter.spend).
"""

from __future__ import annotations

import enum
import random
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

__all__ = ["Fault", "FaultInjector", "Faults"]


class Fault(enum.Enum):
    """What an injected fault does to one request."""

    RATE_LIMITED = 429
    SERVER_ERROR = 500
    UNAVAILABLE = 503
    DROP = "drop"  # close the connection without answering (nothing happens)
    DROP_AFTER = "drop_after"  # handle the request, then close without answering

    @classmethod
    def parse(cls, value: object) -> Fault:
        if isinstance(value, Fault):
            return value
        for fault in cls:
            if value == fault.value or (isinstance(value, str) and value == str(fault.value)):
                return fault
        raise ValueError(f"unknown fault {value!r}: use 429, 500, 503, 'drop' or 'drop_after'")


@dataclass(frozen=True, slots=True)
class Faults:
    """What to inject. Shares are probabilities per request (their sum at most 1)."""

    rate_limited: float = 0.0
    server_error: float = 0.0
    unavailable: float = 0.0
    dropped: float = 0.0
    dropped_after: float = 0.0
    latency_ms: int = 0
    spent_endpoints: tuple[str, ...] = ()
    queue: tuple[Fault, ...] = field(default=())
    seed: int = 0

    def __post_init__(self) -> None:
        # Accept 500 / "drop" as well as Fault members, for callers building a Faults by hand.
        object.__setattr__(self, "queue", tuple(Fault.parse(item) for item in self.queue))
        object.__setattr__(self, "spent_endpoints", tuple(self.spent_endpoints))
        shares = (
            self.rate_limited,
            self.server_error,
            self.unavailable,
            self.dropped,
            self.dropped_after,
        )
        if any(not 0.0 <= share <= 1.0 for share in shares) or sum(shares) > 1.0 + 1e-9:
            raise ValueError("fault shares must each be between 0 and 1, and sum to at most 1")
        if self.latency_ms < 0:
            raise ValueError("latency_ms must not be negative")

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Faults:
        """Build from the admin endpoint's JSON (missing keys take their defaults)."""
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault settings {sorted(unknown)}; known: {sorted(known)}")
        try:
            return cls(
                rate_limited=float(data.get("rate_limited", 0.0)),
                server_error=float(data.get("server_error", 0.0)),
                unavailable=float(data.get("unavailable", 0.0)),
                dropped=float(data.get("dropped", 0.0)),
                dropped_after=float(data.get("dropped_after", 0.0)),
                latency_ms=int(data.get("latency_ms", 0)),
                spent_endpoints=tuple(str(e) for e in data.get("spent_endpoints", ())),
                queue=tuple(Fault.parse(item) for item in data.get("queue", ())),
                seed=int(data.get("seed", 0)),
            )
        except (TypeError, ValueError) as exc:
            raise ValueError(f"bad fault settings: {exc}") from None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["spent_endpoints"] = list(self.spent_endpoints)
        data["queue"] = [fault.value for fault in self.queue]
        return data


class FaultInjector:
    """Decides, request by request, which fault (if any) to inject; thread-safe."""

    def __init__(self, faults: Faults | None = None) -> None:
        self._lock = threading.Lock()
        self.install(faults or Faults())

    def install(self, faults: Faults) -> None:
        """Replace the faults; re-seeds the random draws and refills the queue."""
        with self._lock:
            self._faults = faults
            self._random = random.Random(faults.seed)
            self._queue = deque(faults.queue)

    @property
    def faults(self) -> Faults:
        """The installed faults, with the queue as it stands now."""
        with self._lock:
            return replace(self._faults, queue=tuple(self._queue))

    @property
    def latency_seconds(self) -> float:
        with self._lock:
            return self._faults.latency_ms / 1000

    def draw(self) -> Fault | None:
        """The fault for the next /2/ request, or None to answer it normally."""
        with self._lock:
            if self._queue:
                return self._queue.popleft()
            f = self._faults
            if not any(share for share, _ in _shares(f)):
                return None
            roll = self._random.random()
            for share, fault in _shares(f):
                if roll < share:
                    return fault
                roll -= share
            return None


def _shares(faults: Faults) -> list[tuple[float, Fault]]:
    return [
        (faults.rate_limited, Fault.RATE_LIMITED),
        (faults.server_error, Fault.SERVER_ERROR),
        (faults.unavailable, Fault.UNAVAILABLE),
        (faults.dropped, Fault.DROP),
        (faults.dropped_after, Fault.DROP_AFTER),
    ]
