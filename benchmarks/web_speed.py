"""How fast are the reading pages on an archive of 100,000 tweets? (target: 200 ms a page)

Builds a temporary archive, ingested page by page as the tracker does: a year of weekly
chats made by benchmarks/transcript_speed.py's generator (questions, labelled and
unlabelled answers, reply threads, quotes, retweets, links, returning people and
newcomers), and the community hashtag's tweets between them, a twentieth of them
introductions. Then it requests each reading page through Starlette's TestClient (the
whole stack: routing, middleware, queries, templates), once to warm up and then --runs
times, and prints the median and best wall time against the target. The chats page's
first request (it counts every chat's transcript, then remembers the counts until the
archive changes) is reported on its own.

Usage: python benchmarks/web_speed.py [--tweets 100000] [--chats 50] [--runs 5] [--postgres URL]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from archive.db import make_engine, make_read_only_engine, make_session_factory, upgrade
from archive.ingest import ingest_page
from archive.models import Chat, ChatOrigin, ChatPost, PostKind, Tweet
from archive.web.app import create_app

try:
    from benchmarks.transcript_speed import BOT_ID, FIRST_ID, START, Chat10k, page
except ModuleNotFoundError:  # run as a script: benchmarks/ itself is on sys.path
    from transcript_speed import BOT_ID, FIRST_ID, START, Chat10k, page  # type: ignore[no-redef]

TARGET = 0.2
WEEK = timedelta(days=7)
ENDPOINT = "GET /2/tweets/search/recent"
INTRO = "Hi everyone! I'm {name}, a trainee counsellor based in Leeds, new here #TherapistsConnect"
NAMES = ("Priya", "Jo", "Sam", "Ana", "Kai", "Ife", "Lucía", "Dana")
Json = dict[str, Any]


def shifted(tweets: list[Json], by: timedelta) -> list[Json]:
    """The generator's tweets moved `by` later (it always starts at transcript_speed.START)."""
    for tweet in tweets:
        at = START.fromisoformat(tweet["created_at"].replace("Z", "+00:00")) + by
        tweet["created_at"] = at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return tweets


def store(session: Session, tweets: list[Json], people: list[str]) -> None:
    fetched = START + timedelta(days=400)
    for start in range(0, len(tweets), 100):
        ingest_page(session, page(tweets[start : start + 100], people), endpoint=ENDPOINT,
                    fetched_at=fetched)  # fmt: skip


def add_chat(session: Session, week: int, size: int) -> None:
    chat = Chat10k(size, seed=100 + week)
    chat.next_id = FIRST_ID + week * 10**12
    intro, questions, closing = chat.build()
    store(session, shifted(chat.tweets, week * WEEK), sorted({*chat.people, BOT_ID}))
    posts = [ChatPost(kind=PostKind.INTRO, number=0, tweet_id=intro),
             ChatPost(kind=PostKind.CLOSING, number=0, tweet_id=closing)]  # fmt: skip
    posts += [ChatPost(kind=PostKind.QUESTION, number=n, tweet_id=q) for n, q in questions.items()]
    begins = START + week * WEEK
    session.add(Chat(hashtag="#TraineeTalk", host="user1000", starts_at=begins - timedelta(minutes=15),
                     ends_at=begins + timedelta(hours=2, minutes=10), topic=f"week {week + 1}",
                     origin=ChatOrigin.BOT, posts=posts))  # fmt: skip


def add_community(session: Session, count: int, weeks: int) -> None:
    rng = random.Random(11)
    gen = Chat10k(count, seed=12)
    gen.next_id = FIRST_ID - 10**15
    people = [str(9000 + n) for n in range(max(50, count // 10))]
    for k in range(count):
        at = START - WEEK + timedelta(seconds=k * (weeks + 1) * 7 * 86400 // count)
        text = INTRO.format(name=rng.choice(NAMES)) if k % 20 == 0 else (
            f"{gen.body()} #TherapistsConnect"
        )  # fmt: skip
        tweet_id = gen.tweet(text, rng.choice(people), at)
        if "#TherapistsConnect" in text:
            start = text.index("#TherapistsConnect")
            gen.tweets[-1]["entities"] = {
                "hashtags": [{"start": start, "end": start + 18, "tag": "TherapistsConnect"}]
            }
        assert tweet_id
    store(session, gen.tweets, people)


def fill(session: Session, *, tweets: int, chats: int) -> None:
    per_chat = int(tweets * 0.8) // chats
    for week in range(chats):
        add_chat(session, week, per_chat)
        session.commit()
    add_community(session, tweets - per_chat * chats, chats)
    session.commit()


def timed(client: TestClient, path: str, runs: int) -> tuple[float, float, float]:
    """(first, median, best) seconds for GET path; the first request is the warm-up."""
    times = []
    for _ in range(runs + 1):
        started = time.perf_counter()
        response = client.get(path)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, (path, response.status_code)
    return times[0], statistics.median(times[1:]), min(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tweets", type=int, default=100_000)
    parser.add_argument("--chats", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--postgres", default=None, help="a PostgreSQL URL instead of SQLite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.postgres or f"sqlite:///{Path(folder) / 'bench.db'}"
        engine = make_engine(url)
        upgrade(engine)
        writer = make_session_factory(engine)
        started = time.perf_counter()
        with writer() as session:
            fill(session, tweets=args.tweets, chats=args.chats)
        print(f"archive of {args.tweets:,} tweets, {args.chats} chats, filled in "
              f"{time.perf_counter() - started:.0f} s ({'PostgreSQL' if args.postgres else 'SQLite'})")  # fmt: skip
        read_only = make_read_only_engine(url)
        app = create_app(read_sessions=make_session_factory(read_only), write_sessions=writer,
                         zone=ZoneInfo("Europe/London"), secret_key="benchmark")  # fmt: skip
        with TestClient(app) as client:
            report(client, runs=args.runs, chats=args.chats)
            after_a_poll(client, writer)
        read_only.dispose()
        engine.dispose()


def report(client: TestClient, *, runs: int, chats: int) -> None:
    last_chat = chats
    answer = client.get(f"/chats/{last_chat}.json").json()["questions"][0]["answers"][0]
    paths = [
        "/", f"/chats/{last_chat}", f"/chats/{last_chat}?question=3&newcomers=1",
        f"/chats/{last_chat}.json", f"/chats/{last_chat}.html", f"/threads/{answer['tweet_id']}",
        f"/people/{answer['author']}", "/intros", "/search?q=supervision",
        "/search?q=supervision&page=5", '/search?q="reflective practice"', "/status",
    ]  # fmt: skip
    print(f"{'page':<44} {'first':>8} {'median':>8} {'best':>8}  target {TARGET * 1000:.0f} ms")
    for path in paths:
        first, median, best = timed(client, path, runs)
        verdict = "met" if median < TARGET else "MISSED"
        print(f"{path[:44]:<44} {first * 1000:6.0f} ms {median * 1000:6.0f} ms"
              f" {best * 1000:6.0f} ms  {verdict}")  # fmt: skip


def after_a_poll(client: TestClient, writer: Any) -> None:
    """The chats page's first request after one new answer in the latest chat, as after
    every poll during a live chat: only that chat is counted again."""
    with writer.begin() as session:
        chat = session.scalars(select(Chat).order_by(Chat.starts_at.desc()).limit(1)).one()
        author = session.scalars(select(Tweet.author_id).where(Tweet.author_id.is_not(None))
                                 .limit(1)).one()  # fmt: skip
        newest = session.scalar(select(func.max(Tweet.id)))
        tweet_id = str(int(newest or FIRST_ID) + 1)
        moment = chat.starts_at + (chat.ends_at - chat.starts_at) / 2
        tweet = {"id": tweet_id, "text": "A1 one more thought #TraineeTalk", "author_id": author,
                 "conversation_id": tweet_id, "edit_history_tweet_ids": [tweet_id],
                 "created_at": moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")}  # fmt: skip
        ingest_page(session, {"data": [tweet], "meta": {"result_count": 1}}, endpoint=ENDPOINT,
                    fetched_at=moment)  # fmt: skip
    started = time.perf_counter()
    assert client.get("/").status_code == 200
    seconds = time.perf_counter() - started
    verdict = "met" if seconds < TARGET else "MISSED"
    print(f"{'/ after a poll added an answer':<44} {seconds * 1000:6.0f} ms"
          f"  (one chat counted again)  {verdict}")  # fmt: skip


if __name__ == "__main__":
    main()
