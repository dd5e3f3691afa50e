"""The single-poster lease: taken when free, expired or orphaned; never held by two."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from archive.db import make_session_factory
from bot.lease import (
    acquire_lease,
    holder_is_dead,
    lease_info,
    make_holder,
    release_lease,
)

NOW = datetime(2026, 12, 2, 19, 0, tzinfo=UTC)
TTL = timedelta(seconds=30)
HOST = socket.gethostname()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


def test_lease_is_taken_when_nobody_holds_it(sessions: sessionmaker[Session]) -> None:
    assert acquire_lease(sessions, holder="a:1:x", now=NOW, ttl=TTL)
    info = lease_info(sessions)
    assert info is not None
    assert (info.name, info.holder, info.acquired_at, info.expires_at) == (
        "poster", "a:1:x", NOW, NOW + TTL,
    )  # fmt: skip


def test_lease_renewal_extends_expiry_and_keeps_acquired_at(
    sessions: sessionmaker[Session],
) -> None:
    assert acquire_lease(sessions, holder="a:1:x", now=NOW, ttl=TTL)
    later = NOW + timedelta(seconds=20)
    assert acquire_lease(sessions, holder="a:1:x", now=later, ttl=TTL)
    info = lease_info(sessions)
    assert info is not None and info.acquired_at == NOW and info.expires_at == later + TTL


def test_lease_held_by_a_live_holder_waits_for_expiry(sessions: sessionmaker[Session]) -> None:
    assert acquire_lease(sessions, holder="otherhost:4242:aa", now=NOW, ttl=TTL)
    assert not acquire_lease(sessions, holder=f"{HOST}:1:bb", now=NOW + TTL, ttl=TTL)
    taken_at = NOW + TTL + timedelta(microseconds=1)
    assert acquire_lease(sessions, holder=f"{HOST}:1:bb", now=taken_at, ttl=TTL)
    info = lease_info(sessions)
    assert info is not None and info.holder == f"{HOST}:1:bb" and info.acquired_at == taken_at
    assert not acquire_lease(sessions, holder="otherhost:4242:aa", now=taken_at, ttl=TTL)


def test_lease_of_a_dead_process_on_this_host_is_taken_at_once(
    sessions: sessionmaker[Session],
) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # reaped: no such process any more
    dead = f"{HOST}:{child.pid}:cafe"
    assert acquire_lease(sessions, holder=dead, now=NOW, ttl=TTL)
    assert acquire_lease(sessions, holder=make_holder(), now=NOW + timedelta(seconds=1), ttl=TTL)
    info = lease_info(sessions)
    assert info is not None and info.holder != dead


def test_lease_of_a_live_process_on_this_host_is_not_taken(
    sessions: sessionmaker[Session],
) -> None:
    live = f"{HOST}:{os.getppid()}:beef"  # the process that started the tests
    assert acquire_lease(sessions, holder=live, now=NOW, ttl=TTL)
    assert not acquire_lease(
        sessions, holder=make_holder(), now=NOW + timedelta(seconds=1), ttl=TTL
    )


def test_lease_release_lets_a_standby_take_it_at_once(sessions: sessionmaker[Session]) -> None:
    assert acquire_lease(sessions, holder="a:1:x", now=NOW, ttl=TTL)
    release_lease(sessions, holder="b:2:y")  # not the holder: nothing happens
    assert not acquire_lease(sessions, holder="b:2:y", now=NOW, ttl=TTL)
    release_lease(sessions, holder="a:1:x")
    assert lease_info(sessions) is None
    assert acquire_lease(sessions, holder="b:2:y", now=NOW, ttl=TTL)


def test_lease_names_are_independent(sessions: sessionmaker[Session]) -> None:
    assert acquire_lease(sessions, name="poster", holder="a:1:x", now=NOW, ttl=TTL)
    assert acquire_lease(sessions, name="poller", holder="b:2:y", now=NOW, ttl=TTL)
    assert not acquire_lease(sessions, name="poster", holder="b:2:y", now=NOW, ttl=TTL)


def test_lease_racing_holders_exactly_one_wins_each_round(
    sessions: sessionmaker[Session],
) -> None:
    contenders = 6
    for round_number in range(5):
        now = NOW + round_number * (TTL + timedelta(seconds=1))  # the last holder has expired
        barrier = threading.Barrier(contenders)
        results: dict[str, bool] = {}

        def contend(
            holder: str,
            now: datetime = now,
            barrier: threading.Barrier = barrier,
            results: dict[str, bool] = results,
        ) -> None:
            barrier.wait(timeout=10)
            results[holder] = acquire_lease(sessions, holder=holder, now=now, ttl=TTL)

        threads = [
            threading.Thread(target=contend, args=(f"host{n}:{n + 1}:r{round_number}",))
            for n in range(contenders)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        winners = [holder for holder, won in results.items() if won]
        assert len(results) == contenders and len(winners) == 1
        info = lease_info(sessions)
        assert info is not None and info.holder == winners[0]


@pytest.mark.parametrize(
    ("holder", "dead"),
    [
        ("not a holder", False),
        (f"{HOST}:abc:x", False),
        (f"{HOST}:0:x", False),  # pid 0 would signal our own process group
        (f"{HOST}:{os.getpid()}:x", False),  # ourselves
        (f"elsewhere:{2**22 + 12345}:x", False),  # another host: cannot tell
    ],
)
def test_holder_is_dead_only_when_sure(holder: str, dead: bool) -> None:
    assert holder_is_dead(holder) is dead


def test_holder_is_dead_for_an_exited_process_on_this_host() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert holder_is_dead(f"{HOST}:{child.pid}:x")
    assert not holder_is_dead(f"{HOST}:{child.pid}:x", hostname="some-other-host")


def test_make_holder_names_host_pid_and_a_random_part() -> None:
    first, second = make_holder(), make_holder()
    host, pid, random_part = first.rsplit(":", 2)
    assert host == HOST and pid == str(os.getpid()) and len(random_part) == 8
    assert first != second
