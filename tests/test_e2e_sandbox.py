"""End to end: tcbot's real client (real tweepy) against the sandbox X API over loopback.

Post, reply thread, search with pagination and since_id, lookup with a deleted id,
rate limiting honoured without sleeping, faults survived, every request in the
usage log, and the pages archived idempotently.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from archive.cursors import advance_cursor, get_cursor
from archive.db import make_engine, make_session_factory, upgrade
from archive.ingest import ingest_page
from archive.models import ApiUsage, Tweet
from bot.clock import FakeClock
from bot.errors import RateLimited, XRejected, XRejectReason, XUnavailable
from bot.sandbox.remote import SandboxAdmin
from bot.sandbox.server import SandboxServer, start_sandbox
from bot.wiring import SANDBOX_CREDENTIALS, make_x_client, usage_recorder
from bot.x_client import SearchResult, TweepyXClient

pytestmark = pytest.mark.e2e

START = datetime(2026, 12, 2, 19, 55, tzinfo=UTC)


@pytest.fixture(autouse=True)
def no_sleeping(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing on the request path may sleep; fail loudly if anything tries."""

    def refuse(seconds: float) -> None:
        raise AssertionError(f"something slept for {seconds}s on the request path")

    monkeypatch.setattr(time, "sleep", refuse)


def store_search(sessions: sessionmaker[Session], result: SearchResult, *, cursor: str) -> int:
    """Archive every page of `result` and advance `cursor` to its newest id; new posts."""
    new = 0
    with sessions.begin() as session:
        for page in result.pages:
            new += ingest_page(
                session, page.payload, endpoint=page.endpoint, fetched_at=page.retrieved_at
            ).new_tweets
        if result.newest_id is not None:
            advance_cursor(session, cursor, result.newest_id, at=result.pages[0].retrieved_at)
    return new


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def server(clock: FakeClock) -> Iterator[SandboxServer]:
    with start_sandbox(clock=clock.now, bot_username="TraineeTalkBot") as running:
        yield running


@pytest.fixture
def sessions(tmp_path: object) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{tmp_path}/archive.db")
    upgrade(engine)
    return make_session_factory(engine)


@pytest.fixture
def client(
    server: SandboxServer, clock: FakeClock, sessions: sessionmaker[Session]
) -> TweepyXClient:
    return make_x_client(
        SANDBOX_CREDENTIALS, base_url=server.url, clock=clock, on_call=usage_recorder(sessions)
    )


@pytest.fixture
def admin(server: SandboxServer) -> SandboxAdmin:
    return SandboxAdmin(server.url)


def test_e2e_post_thread_and_read_it_back(
    client: TweepyXClient, admin: SandboxAdmin, clock: FakeClock, sessions: sessionmaker[Session]
) -> None:
    me = client.me()
    assert me.username == "TraineeTalkBot"
    intro = client.post("Welcome to #TraineeTalk! Tonight: endings with clients.")
    clock.advance(600)
    q1 = client.post(
        "Q1 How do you prepare a client for an ending? #TraineeTalk", reply_to=intro.id
    )
    clock.advance(600)
    q2 = client.post("Q2 What do endings stir up in you? #TraineeTalk", reply_to=q1.id)
    assert q2.text == "Q2 What do endings stir up in you? #TraineeTalk"
    admin.add_user("ana_trainee")
    answer = admin.post_as(
        "ana_trainee", "@TraineeTalkBot A1 a countdown of sessions", reply_to=q1.id
    )

    result = client.search_recent(f"conversation_id:{intro.id}")
    tweets = {t["id"]: t for page in result.pages for t in page.payload["data"]}
    assert set(tweets) == {q1.id, q2.id, answer["id"]}  # the root is not in conversation search
    assert [t["id"] for t in result.pages[0].payload["data"]] == [answer["id"], q2.id, q1.id]
    assert tweets[q2.id]["conversation_id"] == intro.id
    assert tweets[q2.id]["in_reply_to_user_id"] == me.id
    assert tweets[answer["id"]]["author_id"] == answer["author_id"]
    # the root comes too, as the post Q1 replies to (includes.tweets)
    assert store_search(sessions, result, cursor="conv") == 4
    with sessions() as session:
        assert session.get(Tweet, intro.id) is not None


def test_e2e_search_paginates_within_page_limit_then_resumes_from_since_id(
    client: TweepyXClient, admin: SandboxAdmin, clock: FakeClock, sessions: sessionmaker[Session]
) -> None:
    admin.add_user("community")
    for n in range(250):
        admin.post_as("community", f"#TherapistsConnect hello number {n}")
    clock.advance(60)
    first = client.search_recent("#TherapistsConnect", max_pages=2)
    assert first.truncated and len(first.pages) == 2
    assert sum(len(p.payload["data"]) for p in first.pages) == 200
    full = client.search_recent("#TherapistsConnect", max_pages=5)
    assert not full.truncated and len(full.pages) == 3
    assert store_search(sessions, full, cursor="tc") == 250
    assert store_search(sessions, full, cursor="tc") == 0  # the same pages again change nothing

    with sessions() as session:
        since_id = get_cursor(session, "tc")
    assert since_id == full.newest_id
    for n in range(3):
        admin.post_as("community", f"#TherapistsConnect newer {n}")
    clock.advance(60)
    newer = client.search_recent("#TherapistsConnect", since_id=since_id)
    assert [t["text"] for t in newer.pages[0].payload["data"]] == [
        "#TherapistsConnect newer 2", "#TherapistsConnect newer 1", "#TherapistsConnect newer 0",
    ]  # fmt: skip
    assert store_search(sessions, newer, cursor="tc") == 3
    nothing = client.search_recent("#TherapistsConnect", since_id=newer.newest_id)
    assert nothing.pages[0].payload == {"meta": {"result_count": 0}} and nothing.newest_id is None
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Tweet)) == 253


def test_e2e_lookup_reports_deleted_ids(client: TweepyXClient, admin: SandboxAdmin) -> None:
    kept = client.post("Kept #TraineeTalk")
    gone = client.post("Deleted #TraineeTalk")
    admin.add_user("someone")
    theirs = admin.post_as("someone", "mine, then gone")
    client.delete(gone.id)
    admin._call("DELETE", f"/tweets/{theirs['id']}", {})
    result = client.lookup([kept.id, gone.id, theirs["id"], "1999999999999999999"])
    found = [t["id"] for page in result.pages for t in page.payload.get("data", [])]
    assert found == [kept.id]
    assert sorted(result.missing_ids) == sorted([gone.id, theirs["id"], "1999999999999999999"])


def test_e2e_rate_limit_is_honoured_without_sleeping(
    client: TweepyXClient, admin: SandboxAdmin, clock: FakeClock
) -> None:
    admin.set_faults(spent_endpoints=["GET /2/tweets/search/recent"])
    with pytest.raises(RateLimited) as limited:
        client.search_recent("#TraineeTalk")
    reset_at = limited.value.reset_at
    assert reset_at is not None and START < reset_at <= START + timedelta(minutes=15)
    clock.set(reset_at + timedelta(seconds=1))
    assert client.search_recent("#TraineeTalk").newest_id is None  # allowed again, nothing there


def test_e2e_faults_are_survived_and_nothing_is_posted_twice(
    client: TweepyXClient, admin: SandboxAdmin, sessions: sessionmaker[Session]
) -> None:
    admin.set_faults(queue=[503, "drop", 500])
    for _ in range(3):
        with pytest.raises(XUnavailable):
            client.post("Q1 Who supports you on placement? #TraineeTalk")
    posted = client.post("Q1 Who supports you on placement? #TraineeTalk")

    admin.set_faults(queue=["drop_after"])  # X posts it, but the answer never arrives
    with pytest.raises(XUnavailable):
        client.post("Q2 What would you tell your first-year self? #TraineeTalk", reply_to=posted.id)
    with pytest.raises(XRejected) as again:
        client.post("Q2 What would you tell your first-year self? #TraineeTalk", reply_to=posted.id)
    assert again.value.reason is XRejectReason.DUPLICATE_CONTENT
    mine = client.search_recent(f"conversation_id:{posted.id}")
    assert len(mine.pages[0].payload["data"]) == 1  # Q2 exists exactly once

    with sessions() as session:
        statuses = session.scalars(select(ApiUsage.status).order_by(ApiUsage.id)).all()
    assert statuses == [503, None, 500, 201, None, 403, 200]


def test_e2e_usage_log_counts_posts_read_and_created(
    client: TweepyXClient, admin: SandboxAdmin, sessions: sessionmaker[Session]
) -> None:
    root = client.post("#TraineeTalk starts now")
    admin.add_user("bea")
    admin.post_as("bea", "@TraineeTalkBot A1 hello #TraineeTalk", reply_to=root.id)
    client.search_recent("#TraineeTalk")
    with sessions() as session:
        rows = session.execute(
            select(ApiUsage.endpoint, ApiUsage.posts_read, ApiUsage.posts_created).order_by(
                ApiUsage.id
            )
        ).all()
    # the search returns both posts, plus the root again as an expanded referenced post
    assert [tuple(r) for r in rows] == [("/2/tweets", 0, 1), ("/2/tweets/search/recent", 3, 0)]


def test_e2e_sandbox_serve_command_prints_url_and_injects_start_faults(tmp_path: object) -> None:
    import subprocess
    import sys

    command = [sys.executable, "-m", "bot", "sandbox", "serve", "--port", "0",
               "--state", f"{tmp_path}/sandbox.db", "--fault", "queue=503"]  # fmt: skip
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            first_line = process.stdout.readline()
            assert first_line.startswith("Sandbox X API listening on http://127.0.0.1:")
            url = first_line.rsplit(" ", 1)[1].strip()
            client = make_x_client(
                SANDBOX_CREDENTIALS, base_url=url, clock=FakeClock(START), on_call=None
            )
            with pytest.raises(XUnavailable):
                client.me()  # the queued 503 from --fault
            assert client.me().username == "tcbot"
        finally:
            process.terminate()
