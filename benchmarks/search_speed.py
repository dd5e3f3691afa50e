"""How fast is `tcbot archive search` on a big archive? (the issue: p95 under 50 ms at 1M tweets)

Builds a SQLite archive of generated tweets in a temporary file with the real
schema (the Alembic migrations; the real triggers note each row for the index as
it is inserted, then `refresh_index` indexes them, as the first search would):
20,000 accounts, 2% of them protected, and tweets of 6 to 40 words drawn from a
Zipf-distributed vocabulary (common English, the community's own words, thousands
of rarer made-up words, some accented) with hashtags, mentions, answer labels,
links and emoji, one every 30 seconds. Rows go in with plain sqlite3 executemany,
in one transaction.

Then it runs a few hundred varied searches through `archive.search.search` (the
whole path: parsing, refreshing the index, SQL, ranking, highlighting): common,
middling and rare words, two and three words, phrases taken from real tweets, OR,
-exclusions, prefixes, and filters by author, hashtag and dates. It runs them twice
(the first pass reads the index from disk) and reports p50, p95 and the slowest of
each pass, overall and per kind of query. Searches matching more than
archive.search.RANK_WINDOW tweets rank the newest that many.

Usage: python benchmarks/search_speed.py [--tweets 1000000] [--queries 200] [--seed 4]
       [--keep FILE]   (build the archive in FILE, or reuse FILE if it exists)
"""

from __future__ import annotations

import argparse
import itertools
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from archive.db import make_engine, make_session_factory, upgrade
from archive.search import search
from archive.search_index import refresh_index

COMMON_WORDS = """
the to and a of i in is it you for that on this was with my be are have so but at not
we just all what your me do can about like from they how if get one out time more up
know there good today think really some people when would been will much also who new
week feel need thanks great love same always sure still help thing many
"""
COMMUNITY_WORDS = """
therapy therapist therapists client clients supervision supervisor placement trainee
training counselling counsellor psychotherapy session sessions burnout selfcare
boundaries reflective practice wellbeing anxiety grief trauma attachment integrative
person centred cbt psychodynamic modality portfolio assessment caseload hours
journal peer group course tutor dissertation ethics consent confidentiality referral
endings beginnings rupture repair alliance transference countertransference
mindfulness compassion shame resilience identity neurodiversity accessibility
"""
ACCENTED_WORDS = "café naïve résumé déjà façade coöperate señora über jalapeño crème"
COMMON = COMMON_WORDS.split()  # most frequent first
COMMUNITY = COMMUNITY_WORDS.split()
ACCENTED = ACCENTED_WORDS.split()
SYLLABLES = [a + b for a in "klmrstnvpdfg" for b in "aeiou"]
EMOJI = ["🙂", "💬", "🧠", "🙏", "✨", "👩\u200d⚕️", "❤️"]
TAGS = ["#TraineeTalk", "#TherapistsConnect", "#CounsellingTraining", "#SelfCare"]
USERS = 20_000
T0 = datetime(2025, 1, 6, tzinfo=UTC)


def vocabulary(rng: random.Random) -> list[str]:
    """Common words first (most frequent), then the community's, then rare made-up ones."""
    made_up = {"".join(rng.choices(SYLLABLES, k=rng.randint(2, 4))) for _ in range(30_000)}
    return COMMON + COMMUNITY + ACCENTED + sorted(made_up - set(COMMON))


def zipf_weights(size: int) -> list[float]:
    return list(itertools.accumulate(1 / (rank + 1) ** 1.07 for rank in range(size)))


def tweet_text(rng: random.Random, words: list[str], weights: list[float], serial: int) -> str:
    body = rng.choices(words, cum_weights=weights, k=rng.randint(6, 40))
    parts = [f"A{rng.randint(1, 8)}:"] if serial % 5 == 0 else []
    parts += body
    if rng.random() < 0.5:
        parts.insert(rng.randrange(len(parts) + 1), rng.choice(TAGS[:2]))
    if rng.random() < 0.15:
        parts.append(rng.choice(TAGS[2:]))
    if rng.random() < 0.3:
        parts.insert(0, f"@user{rng.randrange(USERS)}")
    if rng.random() < 0.1:
        parts.append(f"https://t.co/{serial:x}")
    if rng.random() < 0.2:
        parts.append(rng.choice(EMOJI))
    if rng.random() < 0.05:
        parts.append("&amp; more")
    return " ".join(parts)


def rows(count: int, rng: random.Random) -> Iterator[tuple[tuple[object, ...], list[str]]]:
    words = vocabulary(rng)
    weights = zipf_weights(len(words))
    for serial in range(count):
        text = tweet_text(rng, words, weights, serial)
        created = (T0 + timedelta(seconds=serial * 30)).replace(tzinfo=None)
        stamp = created.isoformat(" ", "microseconds")
        tweet_id = str(1_880_000_000_000_000_000 + serial * 4096)
        author = str(1000 + rng.randrange(USERS))
        row = (tweet_id, author, text, stamp, tweet_id, "en", "{}", stamp, "bench", stamp)
        tags = [part[1:].lower() for part in text.split() if part.startswith("#")]
        yield row, tags


def build(path: Path, count: int, seed: int) -> float:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    rng = random.Random(seed)
    started = time.perf_counter()
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute("BEGIN")
    now = T0.replace(tzinfo=None).isoformat(" ", "microseconds")
    connection.executemany(
        "INSERT INTO users (id, username, name, protected, first_seen_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        ((str(1000 + n), f"user{n}", f"User {n}", n % 50 == 0, now, now) for n in range(USERS)),
    )
    batch: list[tuple[object, ...]] = []
    hashtags: list[tuple[str, str, str]] = []
    for row, tags in rows(count, rng):
        batch.append(row)
        hashtags += [(str(row[0]), tag, tag) for tag in dict.fromkeys(tags)]
        if len(batch) == 50_000:
            _flush(connection, batch, hashtags)
    _flush(connection, batch, hashtags)
    connection.execute("COMMIT")
    connection.close()
    return time.perf_counter() - started


def index(path: Path) -> float:
    """Apply the index notes the triggers left (what the first search would do)."""
    engine = make_engine(f"sqlite:///{path}")
    started = time.perf_counter()
    with make_session_factory(engine).begin() as session:
        refresh_index(session)
    engine.dispose()
    return time.perf_counter() - started


def _flush(
    connection: sqlite3.Connection,
    batch: list[tuple[object, ...]],
    tags: list[tuple[str, str, str]],
) -> None:
    connection.executemany(
        "INSERT INTO tweets (id, author_id, text, created_at, conversation_id, lang, raw,"
        " fetched_at, fetched_from, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        batch,
    )
    connection.executemany(
        "INSERT INTO tweet_hashtags (tweet_id, tag, tag_as_written) VALUES (?, ?, ?)", tags
    )
    batch.clear()
    tags.clear()


Query = tuple[str, str, dict[str, object]]  # kind, query, filters


def queries(count: int, rng: random.Random, sample_texts: list[str]) -> list[Query]:
    words = vocabulary(random.Random(0))
    community = COMMUNITY + ACCENTED
    middling = words[len(COMMON) + len(community) : len(COMMON) + len(community) + 2000]
    rare = words[-20_000:]
    span = timedelta(days=30)

    def phrase() -> str:
        parts = [p for p in rng.choice(sample_texts).split() if p.isalpha()]
        start = rng.randrange(max(1, len(parts) - 2))
        return '"' + " ".join(parts[start : start + rng.randint(2, 3)]) + '"'

    makers: list[tuple[str, Callable[[], tuple[str, dict[str, object]]]]] = [
        ("common word", lambda: (rng.choice(COMMON[:40]), {})),
        ("community word", lambda: (rng.choice(community), {})),
        ("middling word", lambda: (rng.choice(middling), {})),
        ("rare word", lambda: (rng.choice(rare), {})),
        ("two words", lambda: (f"{rng.choice(community)} {rng.choice(COMMON)}", {})),
        ("three words", lambda: (" ".join(rng.sample(community, 3)), {})),
        ("phrase", lambda: (phrase(), {})),
        ("OR", lambda: (f"{rng.choice(community)} OR {rng.choice(middling)}", {})),
        ("exclusion", lambda: (f"{rng.choice(community)} -{rng.choice(COMMON)}", {})),
        ("prefix", lambda: (rng.choice(community)[: rng.randint(3, 5)] + "*", {})),
        ("from user", lambda: (rng.choice(community), {"from_user": f"user{rng.randrange(USERS)}"})),
        ("hashtag", lambda: (rng.choice(community), {"hashtag": "TraineeTalk"})),
        ("date range", lambda: (rng.choice(community),
                                {"since": T0 + span * rng.randint(0, 10), "until": T0 + span * 12})),
    ]  # fmt: skip
    chosen = []
    for n in range(count):
        kind, make = makers[n % len(makers)]
        text, filters = make()
        chosen.append((kind, text, filters))
    return chosen


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tweets", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--keep", type=Path, default=None, metavar="FILE",
                        help="Build the archive in FILE and keep it; if FILE exists, reuse it.")  # fmt: skip
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = args.keep or Path(folder) / "search-bench.db"
        if not path.exists():
            built = build(path, args.tweets, args.seed)
            print(f"built {args.tweets:,} tweets in {built:.1f} s ({args.tweets / built:,.0f}/s)")
            indexed = index(path)
            print(f"indexed them (refresh_index) in {indexed:.1f} s "
                  f"({args.tweets / indexed:,.0f}/s), file {path.stat().st_size / 2**20:,.0f} MiB")  # fmt: skip
        report(path, queries_for(args.queries, args.seed))


def queries_for(count: int, seed: int) -> list[Query]:
    samples = [text for (_, _, text, *_), _ in rows(2000, random.Random(seed + 1))]
    return queries(count, random.Random(seed), samples)


def report(path: Path, plan: list[Query]) -> None:
    """Run the plan twice (the first pass reads the index from disk) and print both."""
    engine = make_engine(f"sqlite:///{path}")
    with make_session_factory(engine)() as session:
        for label in ("first pass", "second pass"):
            timings, found = run_plan(session, plan)
            everything = [t for values in timings.values() for t in values]
            print(f"{label}: {len(everything)} searches, {found} with results: "
                  f"p50 {percentile(everything, 0.5) * 1000:.1f} ms, "
                  f"p95 {percentile(everything, 0.95) * 1000:.1f} ms, "
                  f"slowest {max(everything) * 1000:.1f} ms (target: p95 under 50 ms)")  # fmt: skip
            for kind, values in timings.items():
                print(f"  {kind:<15} p50 {statistics.median(values) * 1000:7.1f} ms"
                      f"   max {max(values) * 1000:7.1f} ms")  # fmt: skip
    engine.dispose()


def run_plan(session: Session, plan: list[Query]) -> tuple[dict[str, list[float]], int]:
    timings: dict[str, list[float]] = {}
    found = 0
    for kind, text, filters in plan:
        started = time.perf_counter()
        hits = search(session, text, **filters)  # type: ignore[arg-type]
        timings.setdefault(kind, []).append(time.perf_counter() - started)
        found += bool(hits)
    return timings, found


if __name__ == "__main__":
    main()
