"""The sandbox server itself: start/stop, ports, persistence, admin endpoints, any Host."""

from __future__ import annotations

import errno
import socket
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from bot.clock import FakeClock
from bot.sandbox.credentials import SANDBOX_ACCESS_TOKEN
from bot.sandbox.ids import id_time
from bot.sandbox.server import (
    PortInUseError,
    SandboxError,
    SandboxServer,
    serve_forever,
    start_sandbox,
)
from tests.test_sandbox_support import BEARER, BOT_ID, Admin, oauth, tweepy_client

pytest_plugins = ["tests.test_sandbox_support"]


def test_server_port_in_use_raises_a_clear_oserror() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PortInUseError) as caught:
            start_sandbox(port=port)
    assert isinstance(caught.value, OSError)
    assert caught.value.errno == errno.EADDRINUSE
    assert str(caught.value) == (
        f"port {port} on 127.0.0.1 is in use; choose another with --port or use --port 0"
    )


def test_server_unusable_state_path_raises_sandbox_error(tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match="give a writable path"):
        start_sandbox(state_path=tmp_path / "missing-dir" / "state.db")


def test_server_url_and_shutdown(sandbox_clock: FakeClock) -> None:
    server = start_sandbox(clock=sandbox_clock.now)
    assert server.url == f"http://127.0.0.1:{server.port}"
    assert requests.get(f"{server.url}/_sandbox", timeout=5).status_code == 200
    server.shutdown()
    server.shutdown()  # twice is fine
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{server.url}/_sandbox", timeout=5)


def test_server_serve_forever_blocks_until_shut_down(sandbox_clock: FakeClock) -> None:
    ready: list[SandboxServer] = []
    started = threading.Event()

    def on_ready(server: SandboxServer) -> None:
        ready.append(server)
        started.set()

    thread = threading.Thread(
        target=serve_forever, kwargs={"clock": sandbox_clock.now, "on_ready": on_ready}
    )
    thread.start()
    assert started.wait(5)
    assert requests.get(f"{ready[0].url}/2/users/me", headers=oauth(), timeout=5).ok
    ready[0].shutdown()
    thread.join(5)
    assert not thread.is_alive()


def test_server_state_persists_across_restart(tmp_path: Path, sandbox_clock: FakeClock) -> None:
    state = tmp_path / "sandbox_server.db"
    with start_sandbox(state_path=state, clock=sandbox_clock.now) as first:
        ana = Admin(first.url).user("ana", protected=True)
        client = tweepy_client(first.url)
        root = client.create_tweet(text="#TraineeTalk Q1").data["id"]
        reply = client.create_tweet(text="Q2", in_reply_to_tweet_id=root).data["id"]
        gone = client.create_tweet(text="deleted soon").data["id"]
        client.delete_tweet(gone)
        Admin(first.url).advance(3600)
    with start_sandbox(state_path=state, clock=sandbox_clock.now) as second:
        users = requests.get(f"{second.url}/_sandbox/users", timeout=5).json()["users"]
        assert [(u["username"], u["protected"]) for u in users] == [("tcbot", False), ("ana", True)]
        assert users[1]["id"] == ana["id"]
        client = tweepy_client(second.url)
        found = client.get_tweets([root, reply, gone], tweet_fields=["conversation_id"])
        assert [str(t.id) for t in found.data] == [root, reply]
        assert found.data[1].conversation_id == int(root)
        assert [e["resource_id"] for e in found.errors] == [gone]
        clock_now = requests.get(f"{second.url}/_sandbox/clock", timeout=5).json()
        assert clock_now["now"] == "2026-08-20T13:00:00.000Z"
        newer = client.create_tweet(text="after restart").data["id"]
        assert int(newer) > int(gone)
        with pytest.raises(Exception, match="duplicate"):
            client.create_tweet(text="#TraineeTalk Q1")


def test_server_bot_username_option_names_the_bot(tmp_path: Path, sandbox_clock: FakeClock) -> None:
    with start_sandbox(bot_username="traineebot", clock=sandbox_clock.now) as server:
        me = requests.get(f"{server.url}/2/users/me", headers=oauth(), timeout=5).json()
        assert me["data"] == {"id": BOT_ID, "name": "tcbot (sandbox)", "username": "traineebot"}
    with pytest.raises(SandboxError, match="not valid"):
        start_sandbox(bot_username="no spaces allowed")


def test_server_serves_any_host_header(sandbox_server: SandboxServer) -> None:
    for host in ("api.twitter.com", "api.x.com", "example.invalid"):
        response = requests.get(
            f"{sandbox_server.url}/2/users/me", headers={**oauth(), "Host": host}, timeout=5
        )
        assert response.status_code == 200


def test_admin_users_are_listed_with_tokens_and_names_are_unique(
    sandbox_server: SandboxServer, sandbox_admin: Admin
) -> None:
    ana = sandbox_admin.user("ana")
    assert ana["access_token"] == f"{ana['id']}-sandbox"
    again = requests.post(
        f"{sandbox_server.url}/_sandbox/users", json={"username": "ANA"}, timeout=5
    )
    assert again.status_code == 409
    bad = requests.post(f"{sandbox_server.url}/_sandbox/users", json={"username": "a-b"}, timeout=5)
    assert bad.status_code == 400
    listed = requests.get(f"{sandbox_server.url}/_sandbox/users", timeout=5).json()["users"]
    assert listed[0]["access_token"] == SANDBOX_ACCESS_TOKEN


def test_admin_post_tweet_checks_length_and_past_time(
    sandbox_server: SandboxServer, sandbox_admin: Admin
) -> None:
    sandbox_admin.user("ana")
    too_long = requests.post(
        f"{sandbox_server.url}/_sandbox/tweets",
        json={"author": "ana", "text": "x" * 281},
        timeout=5,
    )
    assert too_long.status_code == 400
    assert too_long.json()["error"].startswith("Your Tweet text is too long.")
    future = requests.post(
        f"{sandbox_server.url}/_sandbox/tweets",
        json={"author": "ana", "text": "later", "created_at": "2027-01-01T00:00:00Z"},
        timeout=5,
    )
    assert future.status_code == 400
    nobody = requests.post(
        f"{sandbox_server.url}/_sandbox/tweets", json={"author": "zed", "text": "x"}, timeout=5
    )
    assert nobody.status_code == 404
    past = sandbox_admin.post("ana", "earlier", created_at="2026-08-19T08:00:00Z")
    assert past["created_at"] == "2026-08-19T08:00:00.000Z"
    assert id_time(int(past["id"])) == datetime(2026, 8, 19, 8, 0, tzinfo=UTC)


def test_admin_request_log_never_holds_the_authorization_header(
    sandbox_server: SandboxServer, sandbox_admin: Admin
) -> None:
    requests.get(
        f"{sandbox_server.url}/2/tweets/search/recent",
        params={"query": "#a"},
        headers=BEARER,
        timeout=5,
    )
    sandbox_admin.user("ana")  # admin calls are not logged
    log = requests.get(f"{sandbox_server.url}/_sandbox/requests", timeout=5)
    entries = log.json()["requests"]
    assert entries == [
        {
            "method": "GET",
            "path": "/2/tweets/search/recent",
            "query": {"query": "#a"},
            "status": 200,
            "dropped": False,
            "time": "2026-08-20T12:00:00.000Z",
        }
    ]
    assert "sandbox-bearer-token" not in log.text and "Bearer" not in log.text
    requests.delete(f"{sandbox_server.url}/_sandbox/requests", timeout=5)
    assert requests.get(f"{sandbox_server.url}/_sandbox/requests", timeout=5).json() == {
        "requests": []
    }


def test_admin_clock_advances_and_sets_sandbox_time(
    sandbox_server: SandboxServer, sandbox_admin: Admin
) -> None:
    sandbox_admin.advance(90)
    now = requests.get(f"{sandbox_server.url}/_sandbox/clock", timeout=5).json()
    assert now == {"now": "2026-08-20T12:01:30.000Z", "offset_seconds": 90.0}
    moved = requests.post(
        f"{sandbox_server.url}/_sandbox/clock", json={"set": "2026-09-01T00:00:00Z"}, timeout=5
    )
    assert moved.json()["now"] == "2026-09-01T00:00:00.000Z"
    created = requests.post(
        f"{sandbox_server.url}/2/tweets", json={"text": "x"}, headers=oauth(), timeout=5
    )
    tweet = requests.get(
        f"{sandbox_server.url}/2/tweets/{created.json()['data']['id']}",
        params={"tweet.fields": "created_at"},
        headers=BEARER,
        timeout=5,
    ).json()
    assert tweet["data"]["created_at"] == "2026-09-01T00:00:00.000Z"
    bad = requests.post(f"{sandbox_server.url}/_sandbox/clock", json={"set": "tomorrow"}, timeout=5)
    assert bad.status_code == 400


def test_admin_reset_leaves_only_the_bot(
    sandbox_server: SandboxServer, sandbox_admin: Admin
) -> None:
    sandbox_admin.user("ana")
    kept_id = sandbox_admin.post("ana", "hello")["id"]
    sandbox_admin.faults(server_error=1.0)
    assert requests.post(f"{sandbox_server.url}/_sandbox/reset", timeout=5).json() == {
        "reset": True
    }
    users = requests.get(f"{sandbox_server.url}/_sandbox/users", timeout=5).json()["users"]
    assert [u["username"] for u in users] == ["tcbot"]
    lookup = requests.get(f"{sandbox_server.url}/2/tweets/{kept_id}", headers=BEARER, timeout=5)
    assert lookup.status_code == 200 and "data" not in lookup.json()
    created = requests.post(
        f"{sandbox_server.url}/2/tweets", json={"text": "fresh"}, headers=oauth(), timeout=5
    )
    assert int(created.json()["data"]["id"]) > int(kept_id)


def test_admin_unknown_endpoint_is_404_with_a_hint(sandbox_server: SandboxServer) -> None:
    response = requests.get(f"{sandbox_server.url}/_sandbox/nope", timeout=5)
    assert response.status_code == 404
    assert "GET /_sandbox lists them" in response.json()["error"]


def test_server_handles_concurrent_posts_with_unique_increasing_ids(
    sandbox_server: SandboxServer,
) -> None:
    made: list[str] = []
    lock = threading.Lock()

    def poster(worker: int) -> None:
        session = requests.Session()
        for n in range(25):
            response = session.post(
                f"{sandbox_server.url}/2/tweets",
                json={"text": f"worker {worker} post {n}"},
                headers=oauth(),
                timeout=5,
            )
            assert response.status_code == 201
            with lock:
                made.append(response.json()["data"]["id"])

    threads = [threading.Thread(target=poster, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(made) == len(set(made)) == 100
    listed = requests.get(
        f"{sandbox_server.url}/2/tweets/search/recent",
        params={"query": "from:tcbot", "max_results": 100},
        headers=BEARER,
        timeout=5,
    ).json()["data"]
    assert [t["id"] for t in listed] == sorted(made, key=int, reverse=True)
