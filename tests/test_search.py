"""Full-text search on SQLite (FTS5) and PostgreSQL (tsvector): ranking, filters, hostile
input, and the index kept current by ingest, upserts, deletes and the migration."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, delete, func, select, text
from sqlalchemy.orm import Session, sessionmaker

import archive.ingest
from archive.db import alembic_config, make_engine, make_session_factory, upgrade
from archive.errors import SearchError
from archive.forgotten import NO_ONE
from archive.ingest import ingest_page
from archive.ingest_bulk import PageCopy, ingest_pages
from archive.models import Tweet
from archive.search import Hit, search, x_text
from archive.search_index import include_name, refresh_index
from tests.conftest import POSTGRES_ENV, POSTGRES_SKIP, PostgresSchema
from tests.fakes import make_page, make_tweet, make_user
from tests.test_search_query import HOSTILE

T0 = datetime(2026, 9, 2, 19, 0, tzinfo=UTC)
ALICE = make_user("11", "Alice_T", name="Alice Therapist")
BOB = make_user("12", "bob", name="Bob")
PRIVATE = make_user("13", "private_pat", name="Pat", protected=True)


def put(
    session: Session,
    *tweets: dict[str, Any],
    users: Sequence[dict[str, Any]] = (ALICE, BOB, PRIVATE),
    fetched_at: datetime = T0 + timedelta(days=1),
) -> None:
    ingest_page(
        session, make_page(list(tweets), users=users), endpoint="test", fetched_at=fetched_at
    )
    session.flush()


def tweet(tweet_id: int, text: str, *, by: str = "11", minutes: int = 0) -> dict[str, Any]:
    return make_tweet(str(tweet_id), text, author_id=by, created_at=T0 + timedelta(minutes=minutes))


def ids(hits: Sequence[Hit]) -> list[str]:
    return [hit.tweet_id for hit in hits]


SEEDED = (
    tweet(301, "Supervision helped", minutes=1),
    tweet(302, "Supervision and burnout", minutes=2),
    tweet(303, "Self-care matters", minutes=3),
    tweet(304, "self care, every day", minutes=4),
    tweet(305, "My placement starts", minutes=5),
    tweet(306, "Internship news", minutes=6),
    tweet(307, "Ask your supervisor", minutes=7),
    tweet(308, "Un café naïve", minutes=8),
    tweet(309, "A4 &amp; A5: both", minutes=9),
    tweet(310, "日本語 and Привет", minutes=10),
    tweet(311, "care for the self", minutes=11),
    tweet(601, "chat one #TraineeTalk", by="11", minutes=0),
    tweet(602, "chat two #traineetalk", by="12", minutes=60 * 24),
    tweet(603, "chat three #TherapistsConnect", by="11", minutes=60 * 48),
    tweet(604, "chat four, quietly", by="13", minutes=60 * 48),
    tweet(702, "kettle 🧠 Ünïcödé gâteau 東京 Здравствуйте text", minutes=30),
)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[sessionmaker[Session]]:
    """One archive of SEEDED tweets per backend, shared by the read-only tests below."""
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('search') / 'tcbot.db'}"
    else:
        if not os.environ.get(POSTGRES_ENV):
            pytest.skip(POSTGRES_SKIP)
        schema = PostgresSchema(os.environ[POSTGRES_ENV])
        url = schema.url
    engine = make_engine(url)
    try:
        upgrade(engine)
        sessions = make_session_factory(engine)
        with sessions.begin() as session:
            put(session, *SEEDED)
        yield sessions
    finally:
        engine.dispose()
        if schema is not None:
            schema.drop()


@pytest.fixture
def reader(seeded: sessionmaker[Session]) -> Iterator[Session]:
    with seeded() as session:
        yield session


# --- matching and ranking ---


def test_search_ranks_denser_shorter_matches_first(session: Session) -> None:
    put(
        session,
        tweet(101, "A long day of placements, notes, supervision, reading and then some burnout"),
        tweet(102, "Burnout, burnout: how do you notice burnout early?"),
        tweet(103, "Supervision today"),
    )
    hits = search(session, "burnout")
    assert ids(hits) == ["102", "101"]
    assert hits[0].rank > hits[1].rank


def test_search_ties_are_newest_first(session: Session) -> None:
    put(session, tweet(201, "same words here", minutes=0), tweet(202, "same words here", minutes=5))
    assert ids(search(session, "words")) == ["202", "201"]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("supervision burnout", ["302"]),
        ("SUPERVISION", ["302", "301"]),
        ('"self care"', ["304", "303"]),
        ("self-care", ["304", "303"]),
        ("placement OR internship", ["306", "305"]),
        ("supervision -burnout", ["301"]),
        ("superv*", ["307", "302", "301"]),
        ("cafe", ["308"]),
        ("CAFÉ", ["308"]),
        ("naive", ["308"]),
        ("amp", []),  # X's &amp; is not a word
        ("A4 A5", ["309"]),
        ("日本語", ["310"]),
        ("привет", ["310"]),
    ],
)
def test_search_language_finds_the_right_tweets(
    reader: Session, typed: str, expected: list[str]
) -> None:
    assert sorted(ids(search(reader, typed)), reverse=True) == expected


def test_search_highlights_matches_in_unescaped_text(session: Session) -> None:
    put(session, tweet(401, "Burnout &amp; <b>self-care</b>: burnout again"))
    [hit] = search(session, 'burnout "self care"')
    assert hit.text == "Burnout & <b>self-care</b>: burnout again"
    assert hit.marked() == "**Burnout** & <b>**self-care**</b>: **burnout** again"
    assert [hit.text[a:b] for a, b in hit.highlights] == ["Burnout", "self-care", "burnout"]


def test_search_ranks_only_the_newest_window_of_matches(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("archive.search.RANK_WINDOW", 3)
    put(
        session,
        tweet(551, "grief grief grief", minutes=1),  # the best match, but the oldest
        tweet(552, "grief and a long list of other words to dilute it", minutes=2),
        tweet(553, "grief and a long list of other words to dilute it", minutes=3),
        tweet(554, "grief, briefly", minutes=4),
    )
    assert ids(search(session, "grief")) == ["554", "553", "552"]
    early = T0 + timedelta(minutes=3)
    assert ids(search(session, "grief", until=early)) == ["551", "552"]


def test_search_hit_carries_author_time_and_link(session: Session) -> None:
    put(session, tweet(501, "hello archive", minutes=3))
    [hit] = search(session, "archive")
    assert (hit.tweet_id, hit.username, hit.name) == ("501", "Alice_T", "Alice Therapist")
    assert hit.created_at == T0 + timedelta(minutes=3)
    assert hit.url == "https://x.com/Alice_T/status/501"


# --- filters ---


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, ["603", "602", "601"]),
        ({"from_user": "alice_t"}, ["603", "601"]),
        ({"from_user": "@ALICE_T"}, ["603", "601"]),
        ({"from_user": "nobody"}, []),
        ({"hashtag": "#TRAINEETALK"}, ["602", "601"]),
        ({"hashtag": "traineetalk", "from_user": "bob"}, ["602"]),
        ({"since": T0 + timedelta(days=1)}, ["603", "602"]),  # since is inclusive
        ({"until": T0 + timedelta(days=1)}, ["601"]),  # until is exclusive
        ({"since": T0, "until": T0 + timedelta(days=2)}, ["602", "601"]),
        ({"include_protected": True}, ["604", "603", "602", "601"]),
        ({"from_user": "private_pat"}, []),
        ({"limit": 1}, ["603"]),
    ],
)
def test_search_filters(reader: Session, options: dict[str, Any], expected: list[str]) -> None:
    assert ids(search(reader, "chat", **options)) == expected


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"limit": 0}, "cannot show 0 results"),
        ({"limit": 1001}, "cannot show 1001 results"),
        ({"from_user": " @ "}, "--from needs a username"),
        ({"hashtag": "#"}, "--hashtag needs a hashtag"),
    ],
)
def test_search_bad_filters_are_search_errors(
    reader: Session, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(SearchError, match=message):
        search(reader, "chat", **options)


# --- hostile input ---


@pytest.mark.parametrize("typed", HOSTILE)
def test_search_hostile_input_returns_hits_or_a_search_error(reader: Session, typed: str) -> None:
    try:
        hits = search(reader, typed)
    except SearchError as error:
        assert error.fix
    else:
        assert set(ids(hits)) <= {seed["id"] for seed in SEEDED}
    reader.rollback()
    assert reader.scalar(select(func.count()).select_from(Tweet)) == len(SEEDED)
    assert ids(search(reader, "kettle")) == ["702"]


@pytest.mark.parametrize(
    "options",
    [
        {"hashtag": '"'},
        {"hashtag": 'x" OR "chat'},
        {"hashtag": "x) OR (y"},
        {"hashtag": "NEAR(a b)"},
        {"from_user": '" OR 1=1 --'},
        {"from_user": "alice_t'; DROP TABLE users; --"},
    ],
)
def test_search_hostile_filters_find_nothing_and_break_nothing(
    reader: Session, options: dict[str, Any]
) -> None:
    assert search(reader, "chat", **options) == []
    assert ids(search(reader, "chat", hashtag="traineetalk")) == ["602", "601"]


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("🧠💬 kettle 🫶", True),
        ("Ünïcödé GATEAU", True),
        ("東京 здравствуйте", True),
        ("; DROP TABLE tweets; --", False),
        ("kettle) OR (nothing", True),  # OR is ours; the brackets separate words
        ("kettle AND nothing", False),  # AND is a word like any other
        ('kettle" OR "text', False),  # in quotes, OR is a word the tweet lacks
    ],
)
def test_search_odd_input_is_searched_as_words(reader: Session, typed: str, found: bool) -> None:
    assert ("702" in ids(search(reader, typed))) is found


# --- keeping the index current ---


def test_search_index_follows_an_upserted_newer_copy(session: Session) -> None:
    put(session, tweet(801, "first wording: apples"))
    assert ids(search(session, "apples")) == ["801"]
    put(session, tweet(801, "edited wording: pears"), fetched_at=T0 + timedelta(days=2))
    assert ids(search(session, "pears")) == ["801"]
    assert search(session, "apples") == []
    assert ids(search(session, "wording")) == ["801"]


def test_search_index_follows_an_upsert_before_any_search(session: Session) -> None:
    put(session, tweet(806, "first wording: apples"))
    put(session, tweet(806, "edited wording: pears"), fetched_at=T0 + timedelta(days=2))
    put(session, tweet(806, "edited again: plums"), fetched_at=T0 + timedelta(days=3))
    assert ids(search(session, "plums")) == ["806"]
    assert search(session, "apples OR pears") == []


def test_search_index_ignores_an_older_copy(session: Session) -> None:
    put(session, tweet(802, "current text: pears"), fetched_at=T0 + timedelta(days=2))
    put(session, tweet(802, "stale text: apples"), fetched_at=T0 + timedelta(days=1))
    assert ids(search(session, "pears")) == ["802"]
    assert search(session, "apples") == []


def test_search_index_follows_bulk_ingest(session: Session) -> None:
    pages = [
        PageCopy.of(make_page([tweet(803, "bulk apples")], users=[ALICE]), endpoint="import",
                    fetched_at=T0 + timedelta(days=1)),
        PageCopy.of(make_page([tweet(803, "bulk pears")], users=[ALICE]), endpoint="import",
                    fetched_at=T0 + timedelta(days=2)),
    ]  # fmt: skip
    ingest_pages(session, pages[:1])
    assert ids(search(session, "apples")) == ["803"]
    ingest_pages(session, pages[1:])
    assert ids(search(session, "pears")) == ["803"]
    assert search(session, "apples") == []


def test_search_index_drops_deleted_tweets(session: Session) -> None:
    put(session, tweet(804, "soon gone"), tweet(805, "stays here, not gone"))
    session.execute(delete(Tweet).where(Tweet.id == "804"))
    assert ids(search(session, "gone")) == ["805"]
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            text("INSERT INTO tweets_fts(tweets_fts, rank) VALUES ('integrity-check', 0)")
        )


def test_search_index_holds_each_tweets_document_after_any_change(session: Session) -> None:
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL's generated column needs no refresh")
    put(session, tweet(810, "one #first"), tweet(811, "two"), tweet(812, "three #trainee_talk"))
    refresh_index(session)
    put(session, tweet(811, "two, edited #new"), fetched_at=T0 + timedelta(days=2))
    session.execute(delete(Tweet).where(Tweet.id == "810"))
    put(session, tweet(813, "four", by="12"))
    assert refresh_index(session) == 3  # 811 changed, 810 deleted, 813 new
    indexed = session.execute(text("SELECT rowid, text, meta FROM tweets_fts ORDER BY rowid"))
    assert [tuple(row) for row in indexed] == [
        (811, "two, edited #new", "\ue000a11 \ue000o \ue000tnew"),
        (812, "three #trainee_talk", "\ue000a11 \ue000o \ue000ttrainee\ue001talk"),
        (813, "four", "\ue000a12 \ue000o"),
    ]
    assert refresh_index(session) == 0


def test_search_index_follows_an_account_turning_protected(session: Session) -> None:
    put(session, tweet(840, "visible words", by="12"))
    assert ids(search(session, "visible")) == ["840"]
    private_bob = make_user("12", "bob", name="Bob", protected=True)
    put(session, users=[private_bob], fetched_at=T0 + timedelta(days=2))
    assert search(session, "visible") == []
    assert ids(search(session, "visible", include_protected=True)) == ["840"]
    put(session, users=[BOB], fetched_at=T0 + timedelta(days=3))
    assert ids(search(session, "visible")) == ["840"]


def test_search_refreshes_the_index_first(session: Session) -> None:
    put(session, tweet(820, "noted, not yet indexed"))
    pending = "SELECT count(*) FROM tweets_fts_pending"
    if session.get_bind().dialect.name == "sqlite":
        assert session.scalar(text(pending)) == 1
    assert ids(search(session, "noted")) == ["820"]
    if session.get_bind().dialect.name == "sqlite":
        assert session.scalar(text(pending)) == 0


def test_search_hashtag_filter_tells_underscores_apart(session: Session) -> None:
    put(session, tweet(830, "a #trainee_talk b"), tweet(831, "a #TraineeTalk b"))
    assert ids(search(session, "a", hashtag="trainee_talk")) == ["830"]
    assert ids(search(session, "a", hashtag="#TRAINEETALK")) == ["831"]


def test_search_migration_indexes_tweets_already_archived(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archive.ingest, "load_forgotten", lambda session: NO_ONE)  # no table yet
    engine = make_engine(db_url)
    try:
        with engine.begin() as connection:
            before = ScriptDirectory.from_config(alembic_config(connection))
            command.upgrade(
                alembic_config(connection), before.get_revision("0003_search").down_revision
            )
        with make_session_factory(engine).begin() as session:
            put(session, tweet(901, "archived before search existed"), tweet(902, "also older"))
        upgrade(engine)
        with make_session_factory(engine)() as session:
            assert ids(search(session, "archived")) == ["901"]
            assert ids(search(session, "older")) == ["902"]
    finally:
        engine.dispose()


def test_search_migration_downgrade_removes_the_index(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archive.ingest, "load_forgotten", lambda session: NO_ONE)  # no table yet
    with engine.begin() as connection:
        script = ScriptDirectory.from_config(alembic_config(connection))
        command.downgrade(
            alembic_config(connection), script.get_revision("0003_search").down_revision
        )
    with make_session_factory(engine).begin() as session:
        put(session, tweet(903, "written without an index"))  # no trigger left behind
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "head")
    with make_session_factory(engine)() as session:
        assert ids(search(session, "index")) == ["903"]


@pytest.mark.parametrize(
    ("name", "type_", "included"),
    [
        ("tweets_fts", "table", False),
        ("tweets_fts_data", "table", False),
        ("tweets_fts_pending", "table", False),
        ("ix_users_username_lower", "index", False),
        ("ix_users_username_nocase", "index", False),
        ("ix_users_username", "index", True),
        ("tweets", "table", True),
        ("search_vector", "column", False),
        ("ix_tweets_search_vector", "index", False),
        ("text", "column", True),
        (None, "schema", True),
    ],
)
def test_include_name_leaves_the_search_index_out_of_schema_comparisons(
    name: str | None, type_: str, included: bool
) -> None:
    assert include_name(name, type_, {}) is included


def test_x_text_undoes_x_escapes_once() -> None:
    assert x_text("a &amp; b &lt;i&gt; &amp;lt;") == "a & b <i> &lt;"
