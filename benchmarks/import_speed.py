"""How fast does `tcbot archive import` load a twarc2 file? (the issue asks: 100,000 tweets
into SQLite in 4 s or less, and at least 3x the throughput of twarc-csv on the same file)

Generates a seeded twarc2-format JSON Lines file: one X API v2 search page per line,
100 tweets each, with includes.users, includes.tweets, meta and a `__twarc` key, as
`twarc2 search` writes them. The community is modelled on a hashtag like
#TraineeTalk: a few thousand accounts whose activity is heavy-tailed (hosts and
regulars post most), replies, quotes and retweets of tweets mostly in the
collection, some outside it; mentions, hashtags, links, emoji, CJK and Arabic text.

Then it measures, in rounds (each figure once per round, so a slow spell of a
shared machine slows a whole round alike; it reports medians, and ratios within
rounds):

1. tcbot's import: `import_pages`, the call `tcbot archive import` makes, with
   its writing process, into a fresh SQLite file, until the engine is closed (so
   the final WAL checkpoint is counted); then, timed apart, `refresh_index`, which
   indexes the imported tweets for search (the first search does it if nothing
   else has: it is not part of the import);
2. the raw floor: the same rows tcbot writes, inserted with plain sqlite3
   executemany (its defaults, one transaction) into the same schema, with the
   search index's note triggers dropped and re-created in that transaction as
   the import does (archive/search_notes.py): no reading, no decoding, no
   conflict handling, no counting, no notes;
3. twarc-csv converting the same file to CSV, in its own virtual environment under
   build/ (made on first use; twarc-csv is never a tcbot dependency; it needs
   pandas < 3, whose DataFrame.applymap it uses), or a clear NOT MEASURED when it
   cannot be installed.

Usage: python benchmarks/import_speed.py [--tweets 100000] [--repeat 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

import msgspec

from archive.db import make_engine, make_session_factory, upgrade
from archive.importer import import_pages
from archive.ingest_bulk import Encoder, PageCopy, rows_to_write
from archive.page_batch import PageBatch
from archive.page_json import PageDecoder
from archive.search_index import refresh_index
from archive.search_notes import note_triggers

ROOT = Path(__file__).resolve().parent.parent
TWARC_VENV = ROOT / "build" / "twarc-csv-venv"
TWARC_PACKAGES = ("twarc-csv==0.7.2", "pandas>=2,<3")
# X added users' public_metrics.like_count after twarc-csv 0.7.2; it asks to be told.
TWARC_EXTRA_COLUMNS = "author.public_metrics.like_count"
LIMIT_SECONDS = 4.0
LIMIT_TWEETS = 100_000
LIMIT_RATIO = 3.0
SEARCH_URL = "https://api.twitter.com/2/tweets/search/recent"
Json = dict[str, Any]

WORDS = [
    "therapy",
    "supervision",
    "trainee",
    "placement",
    "reflective",
    "practice",
    "boundaries",
    "burnout",
    "caseload",
    "wellbeing",
    "CBT",
    "DBT",
    "EMDR",
    "formulation",
    "attachment",
    "trauma",
    "grief",
    "anxiety",
    "self-care",
    "journal",
    "club",
    "research",
    "ethics",
    "consent",
    "outcome",
    "measures",
    "rupture",
    "repair",
    "alliance",
    "countertransference",
    "group",
    "work",
    "family",
    "systems",
    "play",
    "therapy",
    "school",
    "counselling",
    "NHS",
    "waiting",
    "list",
]
PHRASES = (
    "ありがとうございます 今日のチャット",
    "心理咨询 实习生 督导",
    "شكرا على هذا النقاش",
    "Gracias por la conversación de hoy",
    "ça fait du bien de lire ça",
    "🙏🏽 so true",
    "💜🧠✨",
    "👩🏾‍⚕️ placement week 3",
    "this 👇",
)
TAGS = ("TraineeTalk", "TherapistsConnect", "mentalhealth", "CBT", "selfcare", "PsychTwitter")
NAMES = ("Ada", "Bo", "Chidi", "Dana", "Eun-ji", "Farah", "Gus", "Hana", "Ife", "José", "Kai")
DECORATIONS = ("", "", " 🌱", " (she/her)", " 🏳️‍🌈", " | 心理", " • MSc", " 🇳🇬")
KINDS = ("post", "reply", "quote", "retweet")
KIND_WEIGHTS = (35, 40, 12, 13)
IN_COLLECTION = 0.75  # share of replies, quotes and retweets whose target the search also found


@dataclass
class Generator:
    """Seeded twarc2 pages: ids grow with time; each page lists its tweets newest first."""

    rng: random.Random
    users: list[Json]
    activity: list[float]  # cumulative weights: a few accounts post most
    start: datetime
    next_id: int = 1700000000000000000
    made: int = 0
    recent: list[Json] = field(default_factory=list)

    @classmethod
    def seeded(cls, seed: int, *, user_count: int) -> Generator:
        rng = random.Random(seed)
        users = [_user(rng, index) for index in range(user_count)]
        activity = list(accumulate(1 / (rank + 5) ** 1.1 for rank in range(user_count)))
        return cls(rng, users, activity, start=datetime(2025, 3, 4, 19, 0, tzinfo=UTC))

    def page(self, size: int, retrieved_at: datetime, number: int) -> Json:
        """One search page of `size` tweets, with the includes X would send."""
        tweets: list[Json] = []
        included: dict[str, Json] = {}
        for _ in range(size):
            tweet, target = self._tweet()
            tweets.append(tweet)
            if target is not None:
                included[target["id"]] = target
        tweets.reverse()
        everything = [*tweets, *included.values()]
        user_ids = {t["author_id"] for t in everything}
        for t in everything:
            user_ids.update(m["id"] for m in t.get("entities", {}).get("mentions", []))
        ids = sorted(user_ids, key=int)
        return {
            "data": tweets,
            "includes": {"users": [self._by_id(i) for i in ids], "tweets": list(included.values())},
            "meta": {"newest_id": tweets[0]["id"], "oldest_id": tweets[-1]["id"],
                     "result_count": len(tweets), "next_token": f"b26v89c19zqg8o3f{number:06d}"},
            "__twarc": {"url": f"{SEARCH_URL}?query=%23TraineeTalk&max_results=100",
                        "version": "2.14.0", "retrieved_at": retrieved_at.isoformat()},
        }  # fmt: skip

    def _someone(self) -> Json:
        return self.rng.choices(self.users, cum_weights=self.activity)[0]

    def _by_id(self, user_id: str) -> Json:
        return self.users[int(user_id) - 1000000]

    def _tweet(self) -> tuple[Json, Json | None]:
        rng = self.rng
        kind = rng.choices(KINDS, weights=KIND_WEIGHTS)[0]
        if kind == "post":
            return self._remember(self._make(self._someone(), self._text())), None
        if self.recent and rng.random() < IN_COLLECTION:
            target = rng.choice(self.recent)
        else:
            target = self._make(self._someone(), self._text(), minutes_back=90)
        name = self._by_id(target["author_id"])["username"]
        if kind == "reply":
            text = f"@{name} {self._text()}"
            tweet = self._make(self._someone(), text, ref=("replied_to", target))
            tweet["conversation_id"] = target["conversation_id"]
            tweet["in_reply_to_user_id"] = target["author_id"]
            return self._remember(tweet), target
        if kind == "quote":
            return self._remember(
                self._make(self._someone(), self._text(), ref=("quoted", target))
            ), target
        text = f"RT @{name}: {target['text']}"
        return self._make(self._someone(), text, ref=("retweeted", target)), target

    def _remember(self, tweet: Json) -> Json:
        self.recent.append(tweet)
        del self.recent[:-300]
        return tweet

    def _make(
        self, author: Json, text: str, *, ref: tuple[str, Json] | None = None, minutes_back: int = 0
    ) -> Json:
        self.next_id += self.rng.randrange(1, 4096) << 22
        self.made += 1
        moment = self.start + timedelta(seconds=self.made * 3 - minutes_back * 60)
        stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        tweet_id = str(self.next_id)
        tweet: Json = {
            "edit_history_tweet_ids": [tweet_id], "id": tweet_id, "text": text,
            "author_id": author["id"], "conversation_id": tweet_id, "created_at": stamp,
            "lang": "en", "possibly_sensitive": False, "reply_settings": "everyone",
            "edit_controls": {"edits_remaining": 5, "is_edit_eligible": True,
                              "editable_until": stamp},
            "public_metrics": {
                "retweet_count": self.rng.randrange(20), "reply_count": self.rng.randrange(9),
                "like_count": self.rng.randrange(80), "quote_count": self.rng.randrange(3),
                "bookmark_count": 0, "impression_count": self.rng.randrange(5000),
            },
        }  # fmt: skip
        if ref is not None:
            tweet["referenced_tweets"] = [{"type": ref[0], "id": ref[1]["id"]}]
        entities = _entities(self, text)
        if entities:
            tweet["entities"] = entities
        return tweet

    def _text(self) -> str:
        rng = self.rng
        parts = rng.sample(WORDS, rng.randrange(4, 14))
        if rng.random() < 0.45:
            parts.insert(rng.randrange(len(parts)), f"@{self._someone()['username']}")
        if rng.random() < 0.4:
            parts.insert(rng.randrange(len(parts)), rng.choice(PHRASES))
        if rng.random() < 0.2:
            parts.append(f"https://t.co/{rng.randrange(16**10):010x}")
        parts.append(f"#{rng.choice(TAGS)}")
        if rng.random() < 0.3:
            parts.append(f"#{rng.choice(TAGS)}")
        return " ".join(parts)


def _user(rng: random.Random, index: int) -> Json:
    user_id = str(1000000 + index)
    first = rng.choice(NAMES)
    return {
        "id": user_id,
        "username": f"{first.lower().replace('-', '')}_{index}",
        "name": f"{first} {rng.choice(('Okafor', 'Smith', '山田', 'Núñez', 'Ali'))}"
        + rng.choice(DECORATIONS),
        "created_at": f"20{rng.randrange(9, 25):02d}-0{rng.randrange(1, 10)}-1{index % 10}"
        "T08:00:00.000Z",
        "description": " ".join(rng.sample(WORDS, 8)) + rng.choice(DECORATIONS),
        "location": rng.choice(("London", "Lagos", "東京", "Toronto", "", "Manchester, UK")),
        "profile_image_url": f"https://pbs.twimg.com/profile_images/{user_id}/p_normal.jpg",
        "protected": rng.random() < 0.02,
        "public_metrics": {"followers_count": rng.randrange(5000),
                           "following_count": rng.randrange(900),
                           "tweet_count": rng.randrange(20000), "listed_count": rng.randrange(40),
                           "like_count": rng.randrange(9000)},
        "url": "",
        "verified": False,
    }  # fmt: skip


def _entities(gen: Generator, text: str) -> Json:
    """X's entities for `text`, with code-point offsets."""
    hashtags, mentions, urls, start = [], [], [], 0
    for word in text.split(" "):
        end = start + len(word)
        if word.startswith("#"):
            hashtags.append({"start": start, "end": end, "tag": word[1:]})
        elif word.startswith("@"):
            name = word[1:].rstrip(":")
            user = gen.users[int(name.rsplit("_", 1)[1])]
            mentions.append({"start": start, "end": start + 1 + len(name), "username": name,
                             "id": user["id"]})  # fmt: skip
        elif word.startswith("https://t.co/"):
            urls.append({"start": start, "end": end, "url": word,
                         "expanded_url": "https://therapistsconnect.example/post",
                         "display_url": "therapistsconnect.example/post"})  # fmt: skip
        start = end + 1
    found = {"hashtags": hashtags, "mentions": mentions, "urls": urls}
    return {key: value for key, value in found.items() if value}


def generate(path: Path, *, tweets: int, seed: int) -> int:
    """Write `tweets` tweets in pages of 100 to `path`; return the number of pages."""
    gen = Generator.seeded(seed, user_count=max(200, tweets // 20))
    retrieved = datetime(2025, 3, 5, 9, 0, tzinfo=UTC)
    encoder = msgspec.json.Encoder()
    pages = 0
    with path.open("wb") as out:
        while pages * 100 < tweets:
            size = min(100, tweets - pages * 100)
            page = gen.page(size, retrieved + timedelta(milliseconds=750 * pages), pages)
            out.write(encoder.encode(page) + b"\n")
            pages += 1
    return pages


# --- the three measurements ---


def fresh_database(folder: Path, name: str) -> Path:
    """An empty database at the newest schema (not timed)."""
    path = folder / name
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


def time_tcbot(source: Path, folder: Path) -> tuple[float, float, str]:
    """`tcbot archive import`'s call (import_pages, with its writing process) until the
    engine is closed; then, timed apart, the search index refresh the first search does."""
    database = fresh_database(folder, "tcbot.db")
    engine = make_engine(f"sqlite:///{database}")
    started = time.perf_counter()
    report = import_pages(make_session_factory(engine), [source])
    engine.dispose()
    seconds = time.perf_counter() - started
    engine = make_engine(f"sqlite:///{database}")
    started = time.perf_counter()
    with make_session_factory(engine).begin() as session:
        indexed = refresh_index(session)
    engine.dispose()
    refresh = time.perf_counter() - started
    note = (
        f"{report.pages:,} pages: {report.tweets_new:,} tweets (data and includes),"
        f" {report.users_new:,} people, {len(report.skipped)} lines skipped;"
        f" then {indexed:,} tweets indexed for search"
    )
    return seconds, refresh, note


Rows = list[tuple[str, list[tuple[Any, ...]]]]


def floor_rows(source: Path) -> Rows:
    """The statements and rows tcbot writes for the file, without ON CONFLICT (not timed)."""
    batch = PageBatch(stored_tweets={}, stored_users={})
    decoder = PageDecoder()
    with source.open("rb") as lines:
        for line in lines:
            decoded = decoder.decode(line)
            copy = PageCopy(decoded.values, "GET /2/tweets/search/recent", _retrieved(decoded))
            batch.add(copy.values, endpoint=copy.endpoint, fetched_at=copy.fetched_at)
    statements = rows_to_write(batch, Encoder.for_dialect("sqlite"))
    return [(_plain_insert(sql), rows) for _, _, sql, rows, _ in statements]


def time_floor(statements: Rows, folder: Path) -> float:
    """Plain sqlite3 (its defaults) executemany of those rows in one transaction, with the
    search index's note triggers dropped and re-created in it, as the import does."""
    connection = sqlite3.connect(fresh_database(folder, "floor.db"), isolation_level=None)
    started = time.perf_counter()
    connection.execute("BEGIN")
    triggers = note_triggers(connection)
    for name, _ in triggers:
        connection.execute(f'DROP TRIGGER "{name}"')
    for sql, rows in statements:
        connection.executemany(sql, rows)
    for _, sql in triggers:
        connection.execute(sql)
    connection.execute("COMMIT")
    connection.close()
    return time.perf_counter() - started


def _plain_insert(sql: str) -> str:
    return sql.split(" ON CONFLICT")[0]


def _retrieved(decoded: Any) -> datetime:
    return datetime.fromisoformat(decoded.twarc["retrieved_at"])


TWARC_SCRIPT = """
import sys, time
from twarc_csv import CSVConverter, DataFrameConverter
source, target, extra = sys.argv[1:4]
with open(source, encoding="utf8") as infile, open(target, "w", encoding="utf8") as outfile:
    started = time.perf_counter()
    converter = DataFrameConverter(extra_input_columns=extra)
    CSVConverter(infile, outfile, converter=converter, hide_progress=True).process()
    print(time.perf_counter() - started, converter.counts["rows"])
"""


def twarc_python() -> Path | None:
    """The Python of a virtual environment with twarc-csv, made on first use; None (having
    said why) if it cannot be made."""
    python = TWARC_VENV / "bin" / "python"
    try:
        if not python.exists():
            print(f"(installing {', '.join(TWARC_PACKAGES)} into {TWARC_VENV.relative_to(ROOT)})")
            venv.create(TWARC_VENV, with_pip=True)
        check = subprocess.run(
            [python, "-c", "import twarc_csv, pandas; assert pandas.__version__ < '3'"],
            capture_output=True, check=False,
        )  # fmt: skip
        if check.returncode != 0:
            install = subprocess.run(
                [python, "-m", "pip", "install", "--quiet", *TWARC_PACKAGES],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            if install.returncode != 0:
                raise OSError(install.stderr.strip()[-300:] or "pip install failed")
    except (OSError, subprocess.SubprocessError) as exc:
        print(f"twarc-csv NOT MEASURED: it could not be installed into {TWARC_VENV} ({exc});"
              f" install {' '.join(TWARC_PACKAGES)} there by hand to compare")  # fmt: skip
        return None
    return python


def time_twarc_csv(python: Path, source: Path, folder: Path) -> tuple[float, str] | None:
    target = folder / "twarc.csv"
    done = subprocess.run(
        [python, "-W", "ignore", "-c", TWARC_SCRIPT, source, target, TWARC_EXTRA_COLUMNS],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    target.unlink(missing_ok=True)
    if done.returncode != 0:
        print(f"twarc-csv failed: {done.stderr.strip()[-500:]}")
        return None
    seconds, rows = done.stdout.split()
    return float(seconds), f"{int(rows):,} CSV rows"


@dataclass
class Rounds:
    """Each measurement once per round, rounds one after another, so that a slow spell
    of the machine slows every figure of a round alike; medians over the rounds."""

    tcbot: list[float] = field(default_factory=list)
    refresh: list[float] = field(default_factory=list)
    floor: list[float] = field(default_factory=list)
    twarc: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def measure(source: Path, folder: Path, *, rounds: int) -> Rounds:
    statements = floor_rows(source)
    python = twarc_python()
    found = Rounds()
    for number in range(1, rounds + 1):
        seconds, refresh, note = time_tcbot(source, folder)
        found.tcbot.append(seconds)
        found.refresh.append(refresh)
        found.floor.append(time_floor(statements, folder))
        twarc = time_twarc_csv(python, source, folder) if python is not None else None
        if twarc is not None:
            found.twarc.append(twarc[0])
            note += f"; twarc-csv wrote {twarc[1]}"
        found.notes.append(note)
        print(f"round {number}: tcbot {seconds:.2f} s (+ search index {refresh:.2f} s),"
              f" floor {found.floor[-1]:.2f} s"
              + (f", twarc-csv {twarc[0]:.2f} s" if twarc else "")
              + f"; load average {os.getloadavg()[0]:.2f}", flush=True)  # fmt: skip
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tweets", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3, help="Rounds of measurements.")
    parser.add_argument("--keep", type=Path, default=None, help="Leave the files in this folder.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        source = folder / "twarc2.jsonl"
        pages = generate(source, tweets=args.tweets, seed=args.seed)
        size = source.stat().st_size / 1e6
        print(f"{args.tweets:,} tweets in {pages:,} twarc2 pages, {size:,.0f} MB ({source.name})")
        print(f"This machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
              " (other work running slows every figure; compare within a round)")  # fmt: skip
        report(args.tweets, measure(source, folder, rounds=args.repeat))


def report(tweets: int, found: Rounds) -> None:
    tcbot, refresh = statistics.median(found.tcbot), statistics.median(found.refresh)
    floor = statistics.median(found.floor)
    both = statistics.median(a + b for a, b in zip(found.tcbot, found.refresh))

    def line(label: str, seconds: float, extra: str = "") -> None:
        print(f"{label:<36} {seconds:6.2f} s  ({tweets / seconds:,.0f} tweets/s){extra}")

    print(f"Medians of {len(found.tcbot)} rounds:")
    line("tcbot archive import", tcbot)
    print(f"{'':<36} {found.notes[-1]}")
    line("  + search index refresh", both, f"  (the refresh alone {refresh:.2f} s, paid by"
         " the first search, not by the import)")  # fmt: skip
    line("raw floor (sqlite3 executemany)", floor, f"  tcbot takes {tcbot / floor:.2f}x it")
    limit = LIMIT_SECONDS * tweets / LIMIT_TWEETS
    verdict = "met" if tcbot <= limit else "MISSED"
    print(f"Target {LIMIT_SECONDS:.0f} s for {LIMIT_TWEETS:,} tweets ({limit:.2f} s for"
          f" {tweets:,}): {verdict} ({tcbot:.2f} s; the floor alone takes {floor:.2f} s"
          " here)")  # fmt: skip
    if not found.twarc:
        print("twarc-csv: NOT MEASURED (see above), so the 3x target is not checked")
        return
    twarc = statistics.median(found.twarc)
    ratio = statistics.median(t / c for t, c in zip(found.twarc, found.tcbot))
    line("twarc-csv to CSV", twarc)
    verdict = "met" if ratio >= LIMIT_RATIO else "MISSED"
    print(f"Target {LIMIT_RATIO:.0f}x twarc-csv's throughput: {verdict} ({ratio:.1f}x,"
          " the median of the rounds' ratios)")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
