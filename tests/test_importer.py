"""archive.importer: JSON Lines files of X API pages (twarc2's and tcbot's) into the archive,
on SQLite and PostgreSQL; and archive.exporter's files back in."""

from __future__ import annotations

import gzip
import io
import os
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import msgspec
import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker

from archive.db import Base, make_session_factory
from archive.errors import DatabaseError
from archive.exporter import export_pages, page_line
from archive.forgotten import forget_user
from archive.importer import ImportReport, SkippedLine, UnreadableFile, import_pages
from archive.ingest import ingest_page
from archive.models import Tweet, User
from tests.fakes import make_page, make_tweet, make_user
from tests.test_archive_ingest import snapshot

SEARCH = "GET /2/tweets/search/recent"
RETRIEVED = datetime(2026, 8, 20, 21, 0, tzinfo=UTC)
HOST = make_user("1009", "TraineeTalk", name="Trainee Talk 🎓")
PEOPLE = [make_user(str(1100 + n), f"person{n}", name=f"Person {n} 心") for n in range(6)]


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture(params=[False, True], ids=["inline", "writer"])
def parallel(request: pytest.FixtureRequest, db_url: str) -> bool:
    """Both ways an import writes: in its own transactions, or through the writer process."""
    if request.param and not db_url.startswith("sqlite"):
        pytest.skip("the writer process is for SQLite files")
    return bool(request.param)


def chat_pages(count: int, *, first_id: int = 2000) -> list[dict[str, Any]]:
    """`count` search pages of a chat: each has a question, answers that reply to it, a
    quote and a retweet, with the host and the people in includes."""
    pages = []
    for n in range(count):
        base = first_id + n * 10
        question = make_tweet(str(base), f"Q{n + 1} How do you rest? #TraineeTalk",
                              author_id="1009")  # fmt: skip
        answers = [
            make_tweet(str(base + k), f"@TraineeTalk A{n + 1} {'🌿' * k} 休む #TraineeTalk",
                       author_id=PEOPLE[k]["id"], reply_to=str(base),
                       in_reply_to_user_id="1009", mention_ids={"TraineeTalk": "1009"})
            for k in range(1, 5)
        ]  # fmt: skip
        quote = make_tweet(str(base + 5), "So true #traineetalk", author_id="1105",
                           quote_of=str(base))  # fmt: skip
        retweet = make_tweet(str(base + 6), f"RT @TraineeTalk: Q{n + 1}", author_id="1100")
        retweet["referenced_tweets"] = [{"type": "retweeted", "id": str(base)}]
        pages.append(make_page([retweet, quote, *reversed(answers)], users=[HOST, *PEOPLE],
                               included_tweets=[question]))  # fmt: skip
    return pages


def twarc_line(page: dict[str, Any], n: int) -> bytes:
    twarc = {
        "url": "https://api.twitter.com/2/tweets/search/recent?query=%23TraineeTalk",
        "version": "2.14.0",
        "retrieved_at": (RETRIEVED + timedelta(seconds=n)).isoformat(),
    }
    return msgspec.json.encode({**page, "__twarc": twarc}) + b"\n"


def write(path: Path, lines: Sequence[bytes], *, gzipped: bool = False) -> Path:
    data = b"".join(lines)
    path.write_bytes(gzip.compress(data) if gzipped else data)
    return path


def twarc_file(path: Path, count: int = 3, **options: Any) -> Path:
    return write(path, [twarc_line(p, n) for n, p in enumerate(chat_pages(count))], **options)


def counts(report: ImportReport) -> tuple[int, ...]:
    return (
        report.files, report.lines, report.pages,
        report.tweets_new, report.tweets_updated, report.users_new,
    )  # fmt: skip


def stored(session: Session, tweet_id: str) -> Tweet:
    session.expire_all()
    found = session.get(Tweet, tweet_id)
    assert found is not None
    return found


def test_import_pages_loads_a_twarc2_file_with_its_source_and_time(
    sessions: sessionmaker[Session], tmp_path: Path, parallel: bool
) -> None:
    report = import_pages(sessions, [twarc_file(tmp_path / "chat.jsonl")], parallel=parallel)
    assert counts(report) == (1, 3, 3, 21, 0, 7)
    assert report.skipped == ()
    with sessions() as session:
        answer = stored(session, "2011")
        assert (answer.fetched_from, answer.fetched_at) == (
            SEARCH,
            RETRIEVED + timedelta(seconds=1),
        )
        assert answer.text == "@TraineeTalk A2 🌿 休む #TraineeTalk"
        assert answer.raw["referenced_tweets"] == [{"type": "replied_to", "id": "2010"}]
        host = session.get(User, "1009")
        assert host is not None and host.name == "Trainee Talk 🎓"


def test_import_pages_loads_tcbot_files_by_their_endpoint_and_time(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    moment = datetime(2026, 8, 20, 22, 0, 0, 250000, tzinfo=UTC)
    line = page_line(chat_pages(1)[0], endpoint="GET /2/tweets", params={"ids": "2000"},
                     retrieved_at=moment, tool_version="tcbot 0.4.0")  # fmt: skip
    report = import_pages(sessions, [write(tmp_path / "lookup.jsonl", [line])], parallel=False)
    assert counts(report) == (1, 1, 1, 7, 0, 7)
    with sessions() as session:
        row = stored(session, "2000")
        assert (row.fetched_from, row.fetched_at) == ("GET /2/tweets", moment)


def test_import_pages_dates_bare_pages_by_the_file_time(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    path = write(tmp_path / "bare.jsonl", [msgspec.json.encode(p) + b"\n" for p in chat_pages(2)])
    modified = datetime(2026, 8, 21, 9, 30, tzinfo=UTC)
    os.utime(path, (modified.timestamp(), modified.timestamp()))
    assert counts(import_pages(sessions, [path], parallel=False))[3] == 14
    with sessions() as session:
        row = stored(session, "2013")
        assert (row.fetched_from, row.fetched_at) == ("import bare.jsonl", modified)
    again = import_pages(sessions, [path], parallel=False)
    assert (again.tweets_new, again.tweets_updated) == (0, 0)


@pytest.mark.parametrize("name", ["chat.jsonl", "chat.jsonl.gz", "chat.data"])
def test_import_pages_reads_gzip_by_its_magic_bytes_whatever_the_name(
    sessions: sessionmaker[Session], tmp_path: Path, name: str
) -> None:
    report = import_pages(sessions, [twarc_file(tmp_path / name, gzipped=True)], parallel=False)
    assert counts(report) == (1, 3, 3, 21, 0, 7)


def test_import_pages_a_plain_file_named_gz_is_read_as_plain(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    assert (
        import_pages(sessions, [twarc_file(tmp_path / "chat.jsonl.gz")], parallel=False).pages == 3
    )


def test_import_pages_truncated_gzip_loads_what_came_before_and_says_where_it_ends(
    sessions: sessionmaker[Session], tmp_path: Path, parallel: bool
) -> None:
    whole = gzip.compress(b"".join(twarc_line(p, n) for n, p in enumerate(chat_pages(40))))
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(whole[: len(whole) * 2 // 3])
    report = import_pages(sessions, [path], parallel=parallel)
    assert 0 < report.pages < 40
    assert report.skipped == (
        SkippedLine(str(path), report.lines + 1,
                    "the gzip file ends here, cut short: the lines before this one were read"),
    )  # fmt: skip
    assert report.tweets_new == report.pages * 7


def test_import_pages_skips_malformed_lines_by_number_and_loads_the_rest(
    sessions: sessionmaker[Session], tmp_path: Path, parallel: bool
) -> None:
    good = [twarc_line(p, n) for n, p in enumerate(chat_pages(3))]
    no_id = msgspec.json.encode({"data": [{"text": "where is my id"}]}) + b"\n"
    bad_time = twarc_line(chat_pages(1, first_id=3000)[0], 0).replace(
        b'"retrieved_at":"2026', b'"retrieved_at":"yesterday 2026'
    )
    lines = [
        good[0],
        b"\n",  # a blank line is not an error
        b'{"data": [{"id": "1", "text": "cut off here\n',  # 3
        b"[1, 2, 3]\n",  # 4
        b'{"meta": {"result_count": 0}}\n',  # 5: an empty search result, nothing to load
        good[1],
        b'{"errors": [{"title": "Not Found Error"}]}\n',  # 7
        no_id,  # 8
        bad_time,  # 9
        b'{"data": [{"id": "5", "text": "caf\xe9 in Latin-1"}]}\n',  # 10
        good[2][:-1],  # 11, the last line without its newline
    ]
    path = write(tmp_path / "mixed.jsonl", lines)
    report = import_pages(sessions, [path], parallel=parallel)
    assert [(s.line, s.reason) for s in report.skipped] == [
        (3, "not valid JSON (the line ends before the page does: cut short?)"),
        (4, "an X API page must be a JSON object, not list"),
        (7, "no data: not an X API response page"),
        (8, "a tweet object in the page has no id (its fields: text)"),
        (9, "__twarc.retrieved_at 'yesterday 2026-08-20T21:00:00+00:00' is not a time"),
        (10, "not valid JSON (the line is not UTF-8 text)"),
    ]
    assert str(report.skipped[0]) == f"{path}:3: {report.skipped[0].reason}"
    assert counts(report) == (1, 11, 4, 21, 0, 7)


def test_import_pages_twice_changes_nothing_and_finds_nothing_new(
    sessions: sessionmaker[Session], tmp_path: Path, parallel: bool
) -> None:
    paths = [twarc_file(tmp_path / "a.jsonl"), twarc_file(tmp_path / "b.jsonl.gz", gzipped=True)]
    first = import_pages(sessions, paths, parallel=parallel)
    with sessions() as session:
        before = snapshot(session)
    second = import_pages(sessions, paths, parallel=parallel)
    assert counts(first) == (2, 6, 6, 21, 0, 7)
    assert counts(second) == (2, 6, 6, 0, 0, 0)
    with sessions() as session:
        assert snapshot(session) == before


def test_import_pages_newer_copies_count_as_updated(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    import_pages(sessions, [twarc_file(tmp_path / "first.jsonl")], parallel=False)
    pages = chat_pages(3)
    pages[0]["data"][0]["public_metrics"]["like_count"] = 9
    later = [twarc_line(p, 3600 + n) for n, p in enumerate(pages)]
    report = import_pages(sessions, [write(tmp_path / "later.jsonl", later)], parallel=False)
    assert (report.tweets_new, report.tweets_updated, report.users_new) == (0, 21, 0)
    with sessions() as session:
        assert stored(session, "2006").like_count == 9


def test_import_pages_in_small_batches_leaves_what_one_batch_leaves(
    sessions: sessionmaker[Session], tmp_path: Path, parallel: bool
) -> None:
    path = twarc_file(tmp_path / "chat.jsonl", count=7)
    whole = import_pages(sessions, [path], parallel=parallel)
    with sessions() as session:
        expected = snapshot(session)
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(delete(table))
        session.commit()
    batched = import_pages(sessions, [path], batch_pages=2, parallel=parallel)
    assert counts(batched) == counts(whole)
    with sessions() as session:
        assert snapshot(session) == expected


def test_import_pages_an_interrupted_import_resumes_harmlessly(
    sessions: sessionmaker[Session], tmp_path: Path, parallel: bool
) -> None:
    lines = [twarc_line(p, n) for n, p in enumerate(chat_pages(6))]
    import_pages(
        sessions, [write(tmp_path / "part.jsonl", lines[:4])], batch_pages=2, parallel=parallel
    )
    report = import_pages(
        sessions, [write(tmp_path / "all.jsonl", lines)], batch_pages=2, parallel=parallel
    )
    assert (report.pages, report.tweets_new, report.tweets_updated) == (6, 14, 0)
    with sessions() as session:
        assert len(session.scalars(select(Tweet.id)).all()) == 42


def test_import_pages_reports_progress_in_file_bytes(
    sessions: sessionmaker[Session], tmp_path: Path, parallel: bool
) -> None:
    plain = twarc_file(tmp_path / "plain.jsonl")
    packed = twarc_file(tmp_path / "packed.jsonl.gz", count=30, gzipped=True)
    seen: list[int] = []
    import_pages(sessions, [plain, packed], progress=seen.append, parallel=parallel)
    assert len(seen) >= 33 and all(step >= 0 for step in seen)
    assert sum(seen) == plain.stat().st_size + packed.stat().st_size


@pytest.mark.parametrize("problem", ["missing", "directory"])
def test_import_pages_unreadable_file_raises_before_loading_anything(
    sessions: sessionmaker[Session], tmp_path: Path, problem: str
) -> None:
    good = twarc_file(tmp_path / "good.jsonl")
    bad = tmp_path / "nope.jsonl"
    if problem == "directory":
        bad.mkdir()
    with pytest.raises(UnreadableFile, match="cannot read .*nope.jsonl") as caught:
        import_pages(sessions, [good, bad], parallel=False)
    assert caught.value.path == bad
    with sessions() as session:
        assert session.scalars(select(Tweet.id)).all() == []


def test_export_pages_then_import_gives_the_same_tweets(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    import_pages(sessions, [twarc_file(tmp_path / "chat.jsonl", count=4)], parallel=False)
    out = io.BytesIO()
    with sessions() as session:
        before = snapshot(session)
        exported = export_pages(session, out, tool_version="tcbot test")
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(delete(table))
        session.commit()
    assert (exported.pages, exported.tweets) == (4, 28)  # one page per fetch
    path = write(tmp_path / "export.jsonl", [out.getvalue()])
    report = import_pages(sessions, [path], parallel=False)
    assert (report.pages, report.tweets_new, report.skipped) == (4, 28, ())
    with sessions() as session:
        after = snapshot(session)
    assert after["tweets"] == before["tweets"]
    assert after["tweet_hashtags"] == before["tweet_hashtags"]
    assert [u["raw"] for u in after["users"]] == [u["raw"] for u in before["users"]]


def test_export_pages_leaves_out_protected_accounts_unless_asked(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    locked = make_user("1200", "locked", protected=True)
    page = make_page([make_tweet("4001", "hi #TraineeTalk", author_id="1200"),
                      make_tweet("4002", "hello #TraineeTalk", author_id="1009")],
                     users=[locked, HOST])  # fmt: skip
    import_pages(sessions, [write(tmp_path / "p.jsonl", [twarc_line(page, 0)])], parallel=False)
    with sessions() as session:
        public, everything = io.BytesIO(), io.BytesIO()
        export_pages(session, public, tool_version="t")
        export_pages(session, everything, tool_version="t", include_protected=True)
    shown = [t["id"] for t in msgspec.json.decode(public.getvalue())["data"]]
    assert shown == ["4002"]
    assert len(msgspec.json.decode(everything.getvalue())["data"]) == 2


def test_import_pages_a_person_in_every_batch_ends_as_ingest_page_leaves_them(
    sessions: sessionmaker[Session], tmp_path: Path, parallel: bool
) -> None:
    """One page a batch, the host's profile on each: the same again (the writer only moves
    fetched_at), a newer profile, that again, then a copy fetched before it, late."""
    renamed = {**HOST, "name": "Trainee Talk (new name)"}
    pages = chat_pages(5)
    for page, profile in zip(pages, [HOST, HOST, renamed, renamed, HOST]):
        page["includes"]["users"] = [profile, *PEOPLE]
    seconds = [0, 1, 2, 3, 1]
    lines = [twarc_line(page, s) for page, s in zip(pages, seconds)]
    import_pages(sessions, [write(tmp_path / "chat.jsonl", lines)], batch_pages=1,
                 parallel=parallel)  # fmt: skip
    with sessions.begin() as session:
        imported = snapshot(session)
        host = session.get(User, HOST["id"])
        assert host is not None
        assert (host.name, host.fetched_at, host.updated_at) == (
            "Trainee Talk (new name)", RETRIEVED + timedelta(seconds=3),
            RETRIEVED + timedelta(seconds=2),
        )  # fmt: skip
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(delete(table))
    with sessions.begin() as session:
        for page, s in zip(pages, seconds):
            ingest_page(session, page, endpoint=SEARCH, fetched_at=RETRIEVED + timedelta(seconds=s))
    with sessions() as session:
        assert snapshot(session) == imported


def test_import_pages_forgotten_person_stays_out_of_every_batch(
    sessions: sessionmaker[Session], tmp_path: Path, parallel: bool
) -> None:
    with sessions.begin() as session:
        forget_user(session, "@person2", at=RETRIEVED)  # known by name: the import learns the id
    lines = [twarc_line(p, n) for n, p in enumerate(chat_pages(4))]
    report = import_pages(sessions, [write(tmp_path / "chat.jsonl", lines)], batch_pages=1,
                          parallel=parallel)  # fmt: skip
    assert (report.tweets_new, report.tweets_forgotten, report.users_new) == (24, 4, 6)
    with sessions() as session:
        forgotten = PEOPLE[2]["id"]
        assert session.get(User, forgotten) is None
        assert session.scalars(select(Tweet.id).where(Tweet.author_id == forgotten)).all() == []
        host = session.get(User, HOST["id"])
        assert host is not None and host.fetched_at == RETRIEVED + timedelta(seconds=3)


def test_import_pages_leaves_no_dangling_references(
    sessions: sessionmaker[Session], tmp_path: Path, parallel: bool, db_url: str
) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL enforces foreign keys on every write anyway")
    pages = chat_pages(5)
    pages[2]["includes"]["users"] = []  # authors without profiles: stubs
    lines = [twarc_line(p, n) for n, p in enumerate(pages)]
    import_pages(sessions, [write(tmp_path / "chat.jsonl", lines)], batch_pages=2,
                 parallel=parallel)  # fmt: skip
    with sessions() as session:
        problems = session.connection().exec_driver_sql("PRAGMA foreign_key_check").all()
    assert problems == []


def test_import_pages_writer_failure_is_a_database_error_and_keeps_earlier_batches(
    sessions: sessionmaker[Session], tmp_path: Path, db_url: str
) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("the writer process is for SQLite files")
    with sessions.begin() as session:  # the database refuses one tweet of the fourth page
        session.connection().exec_driver_sql(
            "CREATE TRIGGER refuse BEFORE INSERT ON tweets WHEN NEW.id = '2035'"
            " BEGIN SELECT RAISE(ABORT, 'refused for the test'); END"
        )
    path = twarc_file(tmp_path / "chat.jsonl", count=6)
    with pytest.raises(DatabaseError, match="IntegrityError: refused for the test") as caught:
        import_pages(sessions, [path], batch_pages=1, parallel=True)
    assert "run the import again" in str(caught.value)
    with sessions() as session:
        kept = set(session.scalars(select(Tweet.id)))
    assert {"2000", "2010", "2020"} <= kept and "2030" not in kept and "2050" not in kept


def test_page_line_is_the_page_with_its_tcbot_source_on_one_line() -> None:
    page = {"data": [{"id": "1", "text": "hé 🌱"}], "meta": {"result_count": 1}}
    line = page_line(page, endpoint=SEARCH, params={"query": "#TraineeTalk"},
                     retrieved_at=datetime(2026, 8, 20, 22, 0, tzinfo=timezone(timedelta(hours=1))),
                     tool_version="tcbot 0.4.0")  # fmt: skip
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert msgspec.json.decode(line) == {
        **page,
        "__tcbot": {"endpoint": SEARCH, "params": {"query": "#TraineeTalk"},
                    "retrieved_at": "2026-08-20T21:00:00+00:00", "tool_version": "tcbot 0.4.0"},
    }  # fmt: skip
