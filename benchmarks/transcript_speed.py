"""How long does the transcript of a 10,000-tweet chat take? (the issue asks: under 0.5 s)

Generates a busy chat in a temporary SQLite archive, ingested page by page like the
tracker does: the bot's thread (intro, questions, closing), labelled and unlabelled
answers, multi-labels, quotes, reply threads several deep, retweets, general chat,
links and non-ASCII text, from a few hundred people, half of whom tweeted in the
weeks before (so newcomers are worked out against a longer history), plus other
hashtags' tweets in the same window that the chat must leave out. Then it times
`load_transcript` (the queries and the pure build) and each renderer, reporting the
median and best wall time and the CPU time, beside a fixed baseline workload timed in
the same run (on a shared machine, compare the transcript's time to the baseline's).

Usage: python benchmarks/transcript_speed.py [--tweets 10000] [--runs 5] [--postgres URL]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from archive.chat_tweets import load_transcript
from archive.db import make_engine, make_session_factory, upgrade
from archive.ingest import ingest_page
from archive.models import Chat, ChatOrigin, ChatPost, PostKind
from archive.transcript_formats import render_csv, render_json, render_markdown
from archive.transcript_html import render_html

START = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)
BOT_ID = "1000"
QUESTIONS = 10
FIRST_ID = 1_868_000_000_000_000_000
Json = dict[str, Any]
WORDS = (
    "supervision", "placement", "boundaries", "ritual", "process", "group", "reflective",
    "practice", "empathy", "ruptures", "endings", "self-care", "café", "naïve", "😊", "résumé",
)  # fmt: skip


class Chat10k:
    """Builds the chat's tweets, oldest first, with ids that grow with time."""

    def __init__(self, size: int, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.size = size
        self.next_id = FIRST_ID
        self.tweets: list[Json] = []
        self.people = [str(5000 + n) for n in range(max(50, size // 25))]
        self.answers: list[tuple[str, str, int]] = []  # (id, author, question)

    def tweet(self, text: str, author: str, at: datetime, *, conversation: str | None = None,
              refs: tuple[tuple[str, str], ...] = (), link: bool = False) -> str:  # fmt: skip
        self.next_id += self.rng.randint(1, 9) * 1000
        tweet_id = str(self.next_id)
        tweet: Json = {
            "id": tweet_id, "text": text, "author_id": author,
            "created_at": at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "conversation_id": conversation or tweet_id, "lang": "en",
            "edit_history_tweet_ids": [tweet_id],
            "public_metrics": {"retweet_count": 0, "reply_count": 0, "like_count": 0,
                               "quote_count": 0},
        }  # fmt: skip
        if refs:
            tweet["referenced_tweets"] = [{"type": kind, "id": ref} for kind, ref in refs]
        entities: Json = {}
        if "#TraineeTalk" in text:
            start = text.index("#TraineeTalk")
            entities["hashtags"] = [{"start": start, "end": start + 12, "tag": "TraineeTalk"}]
        if link:
            entities["urls"] = [{"start": 0, "end": 23, "url": "https://t.co/x",
                                 "expanded_url": f"https://example.org/{self.rng.randint(1, 50)}"}]  # fmt: skip
        if entities:
            tweet["entities"] = entities
        self.tweets.append(tweet)
        return tweet_id

    def body(self) -> str:
        return " ".join(self.rng.choice(WORDS) for _ in range(self.rng.randint(6, 30)))

    def build(self) -> tuple[str, dict[int, str], str]:
        """The chat: returns (intro id, question ids by number, closing id)."""
        intro = self.tweet("Welcome to #TraineeTalk, answer with A1, A2...", BOT_ID, START)
        questions: dict[int, str] = {}
        per_question = (self.size - QUESTIONS - 2) // QUESTIONS
        for n in range(1, QUESTIONS + 1):
            at = START + timedelta(minutes=6 * n)
            questions[n] = self.tweet(f"Q{n} {self.body()} #TraineeTalk", BOT_ID, at,
                                      conversation=intro, refs=(("replied_to", intro),))  # fmt: skip
            for k in range(per_question):
                self.react(
                    n, questions[n], intro, at + timedelta(seconds=1 + k * 300 / per_question)
                )
        closing = self.tweet("Thank you all! #TraineeTalk", BOT_ID, START + timedelta(hours=1, minutes=10),
                             conversation=intro, refs=(("replied_to", questions[QUESTIONS]),))  # fmt: skip
        return intro, questions, closing

    def react(self, n: int, question: str, intro: str, at: datetime) -> None:
        who = self.rng.choice(self.people)
        roll = self.rng.random()
        text = self.body()
        if roll < 0.35:
            label = f"A{n}" if self.rng.random() < 0.9 else f"A{n}/A{min(n + 1, QUESTIONS)}"
            tid = self.tweet(f"@bot {label}: {text} #TraineeTalk", who, at, conversation=intro,
                             refs=(("replied_to", question),), link=self.rng.random() < 0.1)  # fmt: skip
            self.answers.append((tid, who, n))
        elif roll < 0.5:
            tid = self.tweet(f"@bot {text}", who, at, conversation=intro,
                             refs=(("replied_to", question),))  # fmt: skip
            self.answers.append((tid, who, n))
        elif roll < 0.55:
            self.tweet(f"{text} #TraineeTalk", who, at, refs=(("quoted", question),))
        elif roll < 0.85 and self.answers:
            parent, _, _ = self.rng.choice(self.answers[-40:])
            tid = self.tweet(f"@someone {text}", who, at, conversation=intro,
                             refs=(("replied_to", parent),))  # fmt: skip
            self.answers.append((tid, who, n))  # later replies may nest under it
        elif roll < 0.9 and self.answers:
            parent, _, _ = self.rng.choice(self.answers[-40:])
            self.tweet(f"RT @x: {text} #TraineeTalk", who, at, refs=(("retweeted", parent),))
        else:
            self.tweet(f"{text} #TraineeTalk", who, at)


def page(tweets: list[Json], people: list[str]) -> Json:
    users = [{"id": uid, "username": f"user{uid}", "name": f"Person {uid} ☕"} for uid in people]
    return {"data": tweets, "includes": {"users": users}, "meta": {"result_count": len(tweets)}}


def fill(session: Session, size: int) -> int:
    """Store the chat, the noise around it and the history before it; returns the chat id."""
    chat = Chat10k(size)
    intro, questions, closing = chat.build()
    noise = Chat10k(size // 5, seed=8)  # other hashtags, same window: not the chat's
    noise.next_id = FIRST_ID + 1
    for k in range(size // 5):
        noise.tweet(f"{noise.body()} #TherapistsConnect", noise.rng.choice(noise.people),
                    START + timedelta(seconds=k * 4000 / (size // 5)))  # fmt: skip
    history = Chat10k(size // 2, seed=9)
    history.next_id = FIRST_ID - 10**15
    for k in range(size // 2):
        history.tweet(f"{history.body()} #TraineeTalk", chat.people[k % (len(chat.people) // 2)],
                      START - timedelta(days=30) + timedelta(minutes=k))  # fmt: skip
    fetched = START + timedelta(days=1)
    everyone = sorted(set(chat.people + noise.people + [BOT_ID]))
    for tweets in (chat.tweets, noise.tweets, history.tweets):
        for start in range(0, len(tweets), 100):
            ingest_page(session, page(tweets[start : start + 100], everyone),
                        endpoint="GET /2/tweets/search/recent", fetched_at=fetched)  # fmt: skip
    posts = [ChatPost(kind=PostKind.INTRO, number=0, tweet_id=intro),
             ChatPost(kind=PostKind.CLOSING, number=0, tweet_id=closing)]  # fmt: skip
    posts += [ChatPost(kind=PostKind.QUESTION, number=n, tweet_id=q) for n, q in questions.items()]
    row = Chat(hashtag="#TraineeTalk", host="user1000", starts_at=START - timedelta(minutes=15),
               ends_at=START + timedelta(hours=2, minutes=10), topic="benchmark",
               origin=ChatOrigin.BOT, posts=posts)  # fmt: skip
    session.add(row)
    session.commit()
    return row.id


def baseline() -> int:
    """A fixed pure-Python workload, timed in the same run: how fast this machine is right
    now (other processes slow both it and the transcript), to compare figures as ratios."""
    table = {str(n): n * 7 % 1013 for n in range(100_000)}
    return sum(sorted(table.values(), reverse=True)[:10]) + len("".join(table))


def timed(runs: int, work: Callable[[], object]) -> list[tuple[float, float]]:
    """(wall, CPU) seconds of each run. On a shared machine other processes stretch the
    wall time; the best run and the CPU time show what the code itself costs."""
    times = []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        times.append((time.perf_counter() - wall, time.process_time() - cpu))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tweets", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--postgres", default=None, help="a PostgreSQL URL to use instead of SQLite"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.postgres or f"sqlite:///{Path(folder) / 'bench.db'}"
        engine = make_engine(url)
        upgrade(engine)
        sessions = make_session_factory(engine)
        with sessions() as session:
            started = time.perf_counter()
            chat_id = fill(session, args.tweets)
            print(f"archive filled in {time.perf_counter() - started:.1f} s")
        with sessions() as session:
            chat = session.get(Chat, chat_id)
            assert chat is not None
            transcript = load_transcript(session, chat)
            build = timed(args.runs, lambda: load_transcript(session, chat))
        stats = transcript.stats
        print(f"chat: {stats.tweets} tweets shown + {stats.retweets} retweets, {stats.answers} "
              f"answers, {stats.replies} replies, {stats.participants} participants "
              f"({stats.first_time_participants} new)")  # fmt: skip
        report("transcript build (load + assign)", build, target=0.5)
        report("baseline: fixed Python workload", timed(args.runs, baseline), target=None)
        zone = ZoneInfo("Europe/London")
        for name, render in (
            ("render json", lambda: render_json(transcript)),
            ("render md", lambda: render_markdown(transcript, zone=zone)),
            ("render csv", lambda: render_csv(transcript)),
            ("render html", lambda: render_html(transcript, zone=zone, generated_at=START)),
        ):
            report(name, timed(args.runs, render), target=None)
        engine.dispose()


def report(name: str, times: list[tuple[float, float]], *, target: float | None) -> None:
    wall = [w for w, _ in times]
    cpu = statistics.median(c for _, c in times)
    verdict = ""
    if target is not None:
        met = "met" if min(wall) < target else "MISSED"
        verdict = f"  (target < {target} s, best run: {met})"
    print(
        f"{name:<34} median {statistics.median(wall) * 1000:6.0f} ms, best {min(wall) * 1000:6.0f}"
        f" ms, CPU {cpu * 1000:6.0f} ms{verdict}"
    )


if __name__ == "__main__":
    main()
