"""Keeping the archive within X's rules, on SQLite and PostgreSQL.

The sweep removes posts X reports deleted and hides accounts now protected or
suspended (out of transcripts, search, intros, stats and exports; back with
include_protected), 100 posts a request, spread so the archive is checked once per
period, labelled "sweep" in the usage log, and a rate limit keeps what was done.
Forgetting a person removes their posts, profile and welcome row, keeps their opt-outs,
and keeps them out of every later ingest: polling pages and bulk imports.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from archive.chat_tweets import load_transcript
from archive.chats import add_chat
from archive.db import alembic_config, make_session_factory
from archive.errors import TcbotError
from archive.exporter import export_pages
from archive.forgotten import ForgetPlan, forget_user, plan_forget
from archive.importer import import_pages
from archive.ingest import ingest_page
from archive.intro_queries import list_intros
from archive.models import (
    ApiUsage,
    ForgottenUser,
    OptOut,
    OutboxPost,
    PostKind,
    PostStatus,
    Tweet,
    TweetHashtag,
    TweetMention,
    TweetReference,
    User,
    Welcome,
    WelcomeStatus,
)
from archive.search import search
from archive.stats import weekly_stats
from bot.clock import FakeClock
from bot.errors import RateLimited, XError, XUnavailable
from bot.optouts import add_opt_out, is_opted_out
from bot.sandbox.remote import SandboxAdmin
from bot.sandbox.server import start_sandbox
from bot.sweep import daily_quota, sweep
from bot.wiring import SANDBOX_CREDENTIALS, make_x_client, usage_recorder
from bot.x_answers import classify_lookup_errors, suspended_lookup_ids
from tests.fakes import (
    SEARCH_ENDPOINT,
    FakeXClient,
    make_lookup_page,
    make_page,
    make_tweet,
    make_user,
)

T0 = datetime(2026, 9, 2, 19, 0, tzinfo=UTC)
FETCHED = T0 + timedelta(hours=2)
HOST = make_user("100", "TraineeTalk")
ALICE = make_user("101", "alice_t")  # turns protected: X answers "Authorization Error"
BOB = make_user("102", "bob_s")  # suspended
CAROL = make_user("103", "carol_p")  # X sends her profile, which now says protected
DAVE = make_user("104", "dave_d")  # stays public
PEOPLE = (HOST, ALICE, BOB, CAROL, DAVE)


def post(n: int, author: dict[str, Any], text: str, **extra: Any) -> dict[str, Any]:
    return make_tweet(
        str(5000 + n), text, author_id=author["id"], created_at=T0 + timedelta(minutes=n), **extra
    )


def retweet(n: int, author: dict[str, Any], of: dict[str, Any], username: str) -> dict[str, Any]:
    found = post(n, author, f"RT @{username}: {of['text']}")
    found["referenced_tweets"] = [{"type": "retweeted", "id": of["id"]}]
    return found


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0 + timedelta(days=1))


@pytest.fixture
def fake(clock: FakeClock) -> FakeXClient:
    return FakeXClient(clock=clock)


def archive(
    sessions: sessionmaker[Session],
    fake: FakeXClient | None,
    *tweets: dict[str, Any],
    users: Sequence[dict[str, Any]] = PEOPLE,
) -> None:
    """Ingest the posts as a poll would, and make X (the fake) know them too."""
    for start in range(0, len(tweets), 100):
        page = make_page(list(tweets[start : start + 100]), users=users)
        with sessions.begin() as session:
            ingest_page(session, page, endpoint=SEARCH_ENDPOINT, fetched_at=FETCHED)
    if fake is not None:
        fake.add_tweets(*tweets, users=users)


def ids(session: Session, model: Any = Tweet) -> set[str]:
    column = model.tweet_id if model is not Tweet else Tweet.id
    return set(session.scalars(select(column)))


def indexed(session: Session, tweet_id: str) -> int:
    """Rows the SQLite search index holds for a post, without refreshing it first."""
    if session.get_bind().dialect.name != "sqlite":
        return 0
    query = "SELECT count(*) FROM tweets_fts WHERE rowid = :id"
    return int(session.scalar(text(query), {"id": int(tweet_id)}) or 0)


# -- the sweep -------------------------------------------------------------------------


def test_sweep_removes_posts_x_reports_deleted_with_their_facts_and_index(
    sessions: sessionmaker[Session], fake: FakeXClient, clock: FakeClock
) -> None:
    kept = post(1, DAVE, "keep me #TraineeTalk @alice_t", mention_ids={"alice_t": "101"})
    gone = post(2, DAVE, "delete me #TraineeTalk @alice_t", reply_to=kept["id"],
                mention_ids={"alice_t": "101"})  # fmt: skip
    archive(sessions, fake, kept, gone)
    with sessions() as session:  # indexed by a first search
        assert [hit.tweet_id for hit in search(session, "delete")] == [gone["id"]]
        session.commit()
    del fake.tweets[gone["id"]]

    report = sweep(fake, sessions, clock=clock, limit=10)

    assert (report.checked, report.removed, report.hidden, report.requests) == (2, 1, 0, 1)
    assert report.stopped is None
    with sessions() as session:
        assert ids(session) == {kept["id"]}
        for model in (TweetHashtag, TweetMention, TweetReference):
            assert gone["id"] not in ids(session, model)
        assert indexed(session, gone["id"]) == 0  # gone from the index in the same transaction
        assert search(session, "delete") == []
        checked = session.get(Tweet, kept["id"])
        assert checked is not None and checked.checked_at == clock.now()


def chat_scene(sessions: sessionmaker[Session], fake: FakeXClient) -> int:
    """A chat: the host's Q1, an answer and an introduction from each of four people."""
    tweets = [post(0, HOST, "Q1 What brought you to training? #TraineeTalk")]
    for n, person in enumerate((ALICE, BOB, CAROL, DAVE), start=1):
        name = person["username"]
        tweets.append(post(n, person, f"A1 curiosity, says {name} #TraineeTalk",
                           reply_to=tweets[0]["id"]))  # fmt: skip
        tweets.append(post(10 + n, person, f"Hello everyone! I'm {name}, a trainee counsellor"
                           " in Leeds, new here #TherapistsConnect"))  # fmt: skip
    archive(sessions, fake, *tweets)
    with sessions.begin() as session:
        chat = add_chat(session, hashtag="#TraineeTalk", host="TraineeTalk",
                        starts_at=T0 - timedelta(minutes=5), ends_at=T0 + timedelta(hours=1))  # fmt: skip
        return chat.id


def shown_everywhere(session: Session, chat_id: int, *, include: bool) -> dict[str, set[str]]:
    """Who appears in each place tweets are shown."""
    from archive.models import Chat

    chat = session.get(Chat, chat_id)
    assert chat is not None
    out = io.BytesIO()
    export_pages(session, out, tool_version="test", include_protected=include)
    exported = [json.loads(line) for line in out.getvalue().splitlines()]
    weeks = weekly_stats(session, hashtags=["TraineeTalk"], weeks=1, now=T0 + timedelta(days=1),
                         zone=ZoneInfo("Europe/London"), include_protected=include)  # fmt: skip
    places = {
        "transcript": {
            t.username for t in load_transcript(session, chat, include_protected=include).tweets
        },
        "search": {
            h.username or "" for h in search(session, "curiosity", include_protected=include)
        },
        "export": {u["username"] for page in exported for u in page["includes"]["users"]},
        "participants": {str(weeks[-1].counts.participants)},
    }
    if not include:
        places["intros"] = {r.username or "" for r in list_intros(session, "#TherapistsConnect")}
    return places


def test_sweep_hides_protected_and_suspended_accounts_everywhere_until_asked_for(
    sessions: sessionmaker[Session], fake: FakeXClient, clock: FakeClock
) -> None:
    chat_id = chat_scene(sessions, fake)
    everyone = {"TraineeTalk", "alice_t", "bob_s", "carol_p", "dave_d"}
    with sessions() as session:
        assert shown_everywhere(session, chat_id, include=False)["search"] == everyone - {
            "TraineeTalk"
        }
    fake.withheld.update(t for t, v in fake.tweets.items() if v["author_id"] == ALICE["id"])
    fake.suspended.update(t for t, v in fake.tweets.items() if v["author_id"] == BOB["id"])
    fake.users[CAROL["id"]] = make_user(CAROL["id"], "carol_p", protected=True)

    report = sweep(fake, sessions, clock=clock, limit=100)

    assert (report.checked, report.removed, report.hidden) == (9, 0, 6)
    reasons = {a.username: (a.reason, a.posts) for a in report.hidden_accounts}
    assert reasons == {
        "alice_t": ("protected", 2), "bob_s": ("suspended", 2), "carol_p": ("protected", 2),
    }  # fmt: skip
    with sessions() as session:
        flags = {u.username: (u.protected, u.suspended) for u in session.scalars(select(User))}
        assert flags["alice_t"] == (True, None) and flags["bob_s"] == (False, True)
        assert flags["carol_p"][0] is True and not flags["dave_d"][1]
        assert ids(session) == {t for t in fake.tweets}  # hidden, not deleted
        hidden = shown_everywhere(session, chat_id, include=False)
        assert hidden == {
            "transcript": {"TraineeTalk", "dave_d"},
            "search": {"dave_d"},
            "export": {"TraineeTalk", "dave_d"},
            "participants": {"2"},
            "intros": {"dave_d"},
        }
        shown = shown_everywhere(session, chat_id, include=True)
        assert shown["transcript"] == shown["export"] == everyone
        assert shown["search"] == everyone - {"TraineeTalk"}
        assert shown["participants"] == {"5"}


def test_sweep_shows_accounts_again_once_x_does(
    sessions: sessionmaker[Session], fake: FakeXClient, clock: FakeClock
) -> None:
    tweets = [post(1, ALICE, "one #TraineeTalk"), post(2, BOB, "two #TraineeTalk")]
    archive(sessions, fake, *tweets)
    fake.withheld.add(tweets[0]["id"])
    fake.suspended.add(tweets[1]["id"])
    assert len(sweep(fake, sessions, clock=clock, limit=10).hidden_accounts) == 2
    fake.withheld.clear()
    fake.suspended.clear()
    clock.advance(timedelta(days=1))

    report = sweep(fake, sessions, clock=clock, limit=10)

    assert report.hidden_accounts == () and report.checked == 2
    with sessions() as session:
        flags = {u.username: (u.protected, u.suspended) for u in session.scalars(select(User))}
        assert flags["alice_t"] == (False, None) and flags["bob_s"] == (False, False)
        assert {h.tweet_id for h in search(session, "TraineeTalk")} == {t["id"] for t in tweets}


def test_sweep_asks_about_at_most_100_posts_a_request(
    sessions: sessionmaker[Session], fake: FakeXClient, clock: FakeClock
) -> None:
    archive(sessions, fake, *(post(n, DAVE, f"post {n}") for n in range(250)))

    report = sweep(fake, sessions, clock=clock, limit=1000)

    assert [len(batch) for batch in fake.lookups] == [100, 100, 50]
    assert (report.checked, report.requests) == (250, 3)
    assert len({i for batch in fake.lookups for i in batch}) == 250


def test_daily_quota_spreads_the_archive_over_the_sweep_period(
    sessions: sessionmaker[Session], fake: FakeXClient, clock: FakeClock
) -> None:
    archive(sessions, fake, *(post(n, DAVE, f"post {n}") for n in range(250)))
    days: list[set[str]] = []
    for _ in range(6):
        clock.advance(timedelta(days=1))
        with sessions() as session:
            quota = daily_quota(session, 5)
        assert quota == 50
        fake.lookups.clear()
        assert sweep(fake, sessions, clock=clock, limit=quota).checked == 50
        days.append({i for batch in fake.lookups for i in batch})

    assert len(set().union(*days[:5])) == 250  # every post checked once in 5 days
    assert days[5] == days[0]  # then the ones checked longest ago again
    with sessions() as session:
        assert daily_quota(session, 30) == 9  # ceil(250 / 30)
        assert session.scalar(select(func.count()).where(Tweet.checked_at.is_(None))) == 0


def test_daily_quota_of_an_empty_archive_is_nothing(session: Session) -> None:
    assert daily_quota(session, 30) == 0
    with pytest.raises(ValueError):
        daily_quota(session, 0)


@pytest.mark.parametrize(
    "error",
    [RateLimited(reset_at=T0 + timedelta(days=1, minutes=15), endpoint="GET /2/tweets"),
     XUnavailable("X failed on GET /2/tweets (503)", endpoint="GET /2/tweets", status=503)],
)  # fmt: skip
def test_sweep_stopped_by_x_keeps_the_batches_it_finished(
    sessions: sessionmaker[Session], fake: FakeXClient, clock: FakeClock, error: XError
) -> None:
    tweets = [post(n, DAVE, f"post {n}") for n in range(250)]
    archive(sessions, fake, *tweets)
    for tweet in (tweets[3], tweets[150]):
        del fake.tweets[tweet["id"]]
    failures: list[XError] = [error]

    def fail_after_first(count: int) -> None:
        if failures:
            fake.fail_next(failures.pop(), method="lookup")

    report = sweep(fake, sessions, clock=clock, limit=250, progress=fail_after_first)

    assert (report.checked, report.removed, report.requests) == (100, 1, 2)
    assert report.stopped == error.what
    assert report.retry_at == (error.reset_at if isinstance(error, RateLimited) else None)
    with sessions() as session:
        assert session.get(Tweet, tweets[3]["id"]) is None
        assert session.get(Tweet, tweets[150]["id"]) is not None  # not reached
        unchecked = session.scalar(select(func.count()).where(Tweet.checked_at.is_(None)))
        assert unchecked == 150
    first = set(fake.lookups[0])
    clock.advance(timedelta(hours=1))
    fake.lookups.clear()
    again = sweep(fake, sessions, clock=clock, limit=150)  # the unchecked ones come first
    assert (again.checked, again.removed) == (150, 1)
    assert first.isdisjoint(i for batch in fake.lookups for i in batch)


def test_sweep_stamps_an_id_x_would_refuse_without_asking(
    sessions: sessionmaker[Session], fake: FakeXClient, clock: FakeClock
) -> None:
    odd = make_tweet("12345678901234567890", "twenty digits", author_id=DAVE["id"])
    archive(sessions, fake, odd)
    report = sweep(fake, sessions, clock=clock, limit=10)
    assert (report.checked, report.requests, fake.lookups) == (1, 0, [])


def test_lookup_errors_tell_suspended_posts_from_deleted_ones() -> None:
    page = make_lookup_page([], missing_ids=["1"], withheld_ids=["2"], suspended_ids=["3"])
    assert classify_lookup_errors(page, ["1", "2", "3"]) == (["1"], ["2", "3"])
    assert suspended_lookup_ids(page, ["1", "2", "3"]) == ["3"]
    assert suspended_lookup_ids(page, ["1", "2"]) == []  # only the ids asked about


def test_sweep_through_the_sandbox_logs_its_reads_as_sweep(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    with start_sandbox(clock=clock.now, bot_username="TraineeTalkBot") as server:
        admin = SandboxAdmin(server.url)
        people = {name: admin.add_user(name) for name in ("ana", "ben", "cat")}
        posted = {
            name: [admin.post_as(name, f"#TraineeTalk {name} says {n}")["id"] for n in range(2)]
            for name in people
        }
        client = make_x_client(
            SANDBOX_CREDENTIALS, base_url=server.url, clock=clock, on_call=usage_recorder(sessions)
        )
        clock.advance(60)
        found = client.search_recent("#TraineeTalk")
        with sessions.begin() as session:
            for page in found.pages:
                ingest_page(session, page.payload, endpoint=page.endpoint,
                            fetched_at=page.retrieved_at)  # fmt: skip
        admin.remove_tweet(posted["ana"][0])
        assert admin.change_user(people["ben"]["id"], suspended=True)["suspended"] is True
        admin.change_user(people["cat"]["id"], protected=True)

        report = sweep(client, sessions, clock=clock, limit=100)

    assert (report.checked, report.removed, report.requests) == (6, 1, 1)
    assert {(a.username, a.reason) for a in report.hidden_accounts} == {
        ("ben", "suspended"), ("cat", "protected"),
    }  # fmt: skip
    with sessions() as session:
        rows = session.scalars(select(ApiUsage).where(ApiUsage.purpose == "sweep")).all()
        assert [(r.endpoint, r.status, r.posts_read, r.users_read) for r in rows] == [
            ("/2/tweets", 200, 1, 0)  # ana's remaining post; no profile (not paid for)
        ]
        assert [h.username for h in search(session, "says")] == ["ana"]


# -- forgetting a person -----------------------------------------------------------------


def forget_scene(sessions: sessionmaker[Session]) -> dict[str, dict[str, Any]]:
    first = post(1, ALICE, "my own words #TraineeTalk")
    scene = {
        "first": first,
        "second": post(2, ALICE, "more of mine #TraineeTalk"),
        "reply": post(
            3,
            DAVE,
            "@alice_t I agree #TraineeTalk",
            reply_to=first["id"],
            mention_ids={"alice_t": ALICE["id"]},
        ),
        "quote": post(4, DAVE, "worth reading #TraineeTalk", quote_of=first["id"]),
        "retweet": retweet(5, BOB, first, "alice_t"),
    }
    archive(sessions, None, *scene.values())
    return scene


def test_forget_removes_posts_retweets_and_profile_and_keeps_others_words(
    sessions: sessionmaker[Session],
) -> None:
    scene = forget_scene(sessions)
    with sessions.begin() as session:
        preview = plan_forget(session, " @Alice_T ")
        done = forget_user(session, "@Alice_T", at=T0)

    assert (
        preview
        == done
        == ForgetPlan(
            username="alice_t", accounts=(ALICE["id"],), posts=2, retweets=1, recorded=False
        )
    )
    with sessions() as session:
        assert ids(session) == {scene["reply"]["id"], scene["quote"]["id"]}
        assert session.get(User, ALICE["id"]) is None
        assert scene["first"]["id"] not in ids(session, TweetHashtag)
        assert indexed(session, scene["first"]["id"]) == 0
        rows = session.scalars(select(ForgottenUser)).all()
        assert [(r.username_key, r.user_id, r.forgotten_at) for r in rows] == [
            ("alice_t", ALICE["id"], T0)
        ]


def test_forget_twice_removes_nothing_more_and_records_once(
    sessions: sessionmaker[Session],
) -> None:
    forget_scene(sessions)
    with sessions.begin() as session:
        forget_user(session, "alice_t", at=T0)
    with sessions.begin() as session:
        again = forget_user(session, "ALICE_T", at=T0 + timedelta(days=1))
    assert again == ForgetPlan("alice_t", (), 0, 0, recorded=True)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(ForgottenUser)) == 1


def test_forgotten_person_is_dropped_from_later_polls(sessions: sessionmaker[Session]) -> None:
    forget_scene(sessions)
    with sessions.begin() as session:
        forget_user(session, "alice_t", at=T0)
    later = [
        post(20, ALICE, "back again #TraineeTalk"),
        post(21, DAVE, "welcome back @alice_t", mention_ids={"alice_t": ALICE["id"]}),
    ]
    with sessions.begin() as session:
        result = ingest_page(session, make_page(later, users=[ALICE, DAVE]),
                             endpoint=SEARCH_ENDPOINT, fetched_at=FETCHED + timedelta(days=1))  # fmt: skip
    assert (result.new_tweets, result.skipped_tweets, result.new_user_ids) == (1, 1, ())
    with sessions() as session:
        assert later[0]["id"] not in ids(session)
        assert session.get(User, ALICE["id"]) is None


def write_pages(path: Path, *pages: dict[str, Any]) -> Path:
    stamp = {"__tcbot": {"endpoint": SEARCH_ENDPOINT, "retrieved_at": FETCHED.isoformat()}}
    path.write_text("".join(json.dumps({**page, **stamp}) + "\n" for page in pages))
    return path


@pytest.mark.parametrize("parallel", [True, False])
def test_forgotten_person_is_dropped_from_imports(
    sessions: sessionmaker[Session], tmp_path: Path, parallel: bool
) -> None:
    with sessions.begin() as session:
        forget_user(session, "alice_t", at=T0)  # known by id through the page below
        forget_user(session, "@Newcomer", at=T0)  # never seen: known by name only
    newcomer = make_user("999", "NewComer")
    theirs = post(1, ALICE, "mine #TraineeTalk")
    pages = [
        make_page([theirs, post(2, DAVE, "hi #TraineeTalk")], users=[ALICE, DAVE]),
        make_page(
            [post(3, newcomer, "hello"), retweet(4, DAVE, theirs, "alice_t")],
            users=[newcomer, DAVE],
            included_tweets=[theirs],
        ),
    ]
    source = write_pages(tmp_path / "pages.jsonl", *pages)

    report = import_pages(sessions, [source], parallel=parallel)

    assert (report.tweets_new, report.tweets_forgotten, report.users_new) == (1, 4, 1)
    with sessions() as session:
        assert ids(session) == {"5002"}
        assert set(session.scalars(select(User.username))) == {"dave_d"}


def test_forget_unknown_username_records_it_and_drops_its_posts_by_name(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        plan = forget_user(session, "@Someone_New", at=T0)
    assert plan == ForgetPlan("someone_new", (), 0, 0, recorded=False)
    stranger = make_user("777", "someone_NEW")
    with sessions.begin() as session:
        result = ingest_page(session, make_page([post(1, stranger, "hi")], users=[stranger]),
                             endpoint=SEARCH_ENDPOINT, fetched_at=FETCHED)  # fmt: skip
        assert result.skipped_tweets == 1
    with sessions() as session:
        assert ids(session) == set() and session.get(User, "777") is None
        rows = session.execute(select(ForgottenUser.username_key, ForgottenUser.user_id)).all()
        assert [tuple(row) for row in rows] == [("someone_new", None)]


def test_forget_deletes_the_welcome_row_and_cancels_an_unsent_reply(
    sessions: sessionmaker[Session],
) -> None:
    forget_scene(sessions)
    with sessions.begin() as session:
        for person, status in ((ALICE, WelcomeStatus.QUEUED), (DAVE, WelcomeStatus.LISTED)):
            welcome = add_welcome(session, person["id"], person["username"], status)
            if person is ALICE:
                welcome.outbox_post_id = queued_welcome(session, welcome.id)
        add_welcome(session, "999", "ALICE_T", WelcomeStatus.KNOWN)  # her name, another id
    with sessions.begin() as session:
        forget_user(session, "alice_t", at=T0 + timedelta(days=1))
    with sessions() as session:
        assert set(session.scalars(select(Welcome.user_id))) == {DAVE["id"]}
        post = session.scalars(select(OutboxPost)).one()
        assert (post.status, post.last_error, post.updated_at) == (
            PostStatus.CANCELLED, "the person asked to be forgotten", T0 + timedelta(days=1)
        )  # fmt: skip


def test_forget_keeps_opt_outs_by_id_and_by_username(sessions: sessionmaker[Session]) -> None:
    forget_scene(sessions)
    with sessions.begin() as session:
        add_welcome(session, ALICE["id"], "alice_t", WelcomeStatus.LISTED)
        add_opt_out(session, "alice_t", now=T0)  # known: by id and username
        add_opt_out(session, "@Alice_Old", now=T0)  # a name the archive never saw
    with sessions.begin() as session:
        forget_user(session, "alice_t", at=T0 + timedelta(days=1))
        forget_user(session, "alice_old", at=T0 + timedelta(days=1))
    with sessions() as session:
        assert session.scalars(select(Welcome)).all() == []
        rows = session.execute(
            select(OptOut.username_key, OptOut.user_id, OptOut.removed_at).order_by(OptOut.id)
        )
        assert [tuple(row) for row in rows] == [
            ("alice_t", ALICE["id"], None),
            ("alice_old", None, None),
        ]
        assert is_opted_out(session, user_id=ALICE["id"], username=None)
        assert is_opted_out(session, user_id=None, username="ALICE_T")
        assert is_opted_out(session, user_id=None, username="alice_old")


def add_welcome(session: Session, user_id: str, username: str, status: WelcomeStatus) -> Welcome:
    welcome = Welcome(
        user_id=user_id, username=username, name="Alice", hashtag="#TraineeTalk",
        tweet_id="5001", status=status, text="Welcome, Alice!", in_digest=False,
        created_at=T0, updated_at=T0,
    )  # fmt: skip
    session.add(welcome)
    session.flush()
    return welcome


def queued_welcome(session: Session, number: int) -> int:
    post = OutboxPost(
        chat_id=None, series="welcome", chat_date=T0.date(), kind=PostKind.WELCOME, number=number,
        text="Welcome, Alice!", planned_at=T0, due_at=T0, status=PostStatus.QUEUED, attempts=0,
        thread=False, reply_target="5001", lateness_seconds=3600, created_at=T0, updated_at=T0,
    )  # fmt: skip
    session.add(post)
    session.flush()
    return post.id


@pytest.mark.parametrize("name", ["", "@", "two words", "https://x.com/someone", "a" * 51])
def test_forget_refuses_what_is_not_a_username(session: Session, name: str) -> None:
    with pytest.raises(TcbotError, match="is not an X username"):
        forget_user(session, name, at=T0)


# -- the migration -----------------------------------------------------------------------


@pytest.fixture
def downgraded(engine: Engine) -> Iterator[Engine]:
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0004_tracker")
    yield engine


def test_compliance_migration_downgrades_and_upgrades_again(downgraded: Engine) -> None:
    columns = {c["name"] for c in inspect(downgraded).get_columns("users")}
    assert "suspended" not in columns
    assert "forgotten_users" not in inspect(downgraded).get_table_names()
    with downgraded.begin() as connection:
        command.upgrade(alembic_config(connection), "head")
    sessions = make_session_factory(downgraded)
    archive(sessions, None, post(1, DAVE, "still searchable #TraineeTalk"))
    with sessions.begin() as session:
        session.execute(text("UPDATE users SET suspended = true WHERE id = :id"), {"id": "104"})
    with sessions() as session:
        assert search(session, "searchable") == []  # the re-made triggers watch `suspended`
        assert len(search(session, "searchable", include_protected=True)) == 1
