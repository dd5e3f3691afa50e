"""A batch of pages folded into the rows to write: ingest's rules, applied in memory.

`ingest_page` applies the archive's rules (archive/ingest.py) in SQL, copy by copy:
a copy fetched later than the stored one wins field by field, `updated_at` moves
only when a column changes, older or same-age copies are ignored. Importing a file
that way writes the same person once per page they appear on (a twarc file repeats
each author on most pages) and costs a round trip per page.

A `PageBatch` applies the same rules to every copy in a batch of pages, in page
order, starting from what the database holds for their ids, so each tweet and user
is written once per batch with the values sequential ingest would have left.
Pure: the caller loads the stored states (`Record(stored=True)`) and writes the
records marked `dirty` and the facts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from archive.page_values import USER_COLUMNS, Fact, ObjectValues, PageValues

TEXT_INDEX = 1  # a tweet's text always follows the newer copy; other columns keep a value
STUB_VALUES: tuple[Any, ...] = (None,) * len(USER_COLUMNS)


@dataclass(slots=True)
class Record:
    """The state of one tweet or user as the batch goes along (mutable, batch-internal).

    `values` are in TWEET_COLUMNS or USER_COLUMNS order. `raw` is None for a user stub,
    a record read from the database and a tweet an earlier batch wrote (only `dirty`
    records are written). Tweets have no `first_seen_at` (it is ignored for them); a
    stub has no `fetched_at`. `written` is the raw JSON and `fetched_at` of the row an
    earlier batch of this import wrote for a user: a later copy with the same JSON only
    moves `fetched_at`, which a cheaper statement can write (archive/ingest_bulk.py).
    """

    values: tuple[Any, ...]
    raw: bytes | None  # UTF-8 JSON
    fetched_at: datetime | None
    fetched_from: str | None
    first_seen_at: datetime
    updated_at: datetime
    stored: bool
    dirty: bool = False
    written: tuple[bytes, datetime] | None = None

    def seen_again(self) -> datetime | None:
        """The `fetched_at` this import last wrote for the record, when all that changed
        since is a later `fetched_at` (the same raw JSON came again); else None."""
        written, raw = self.written, self.raw
        if written is None or raw is None or not (raw is written[0] or raw == written[0]):
            return None
        return written[1]


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What a batch added: tweet ids new to the archive and stored tweets a newer copy
    replaced, and user ids the archive had never seen, each in page order; and how
    many tweets were skipped because their author asked to be forgotten."""

    new_tweet_ids: tuple[str, ...]
    updated_tweet_ids: tuple[str, ...]
    new_user_ids: tuple[str, ...]
    skipped_tweets: int = 0


@dataclass(slots=True)
class KnownRecords:
    """Records earlier batches of one import wrote, so later batches need not read them back.

    A twarc file repeats its authors on most pages; without this every batch would
    read them all again. Valid for one import's batches in a row: another writer
    meanwhile can only make a record stale, and the `fetched_at` guard on every
    write still keeps the database's newer copy.
    """

    tweets: dict[str, Record] = field(default_factory=dict)
    users: dict[str, Record] = field(default_factory=dict)
    limit: int = 300_000  # about 100 MB of records

    @property
    def full(self) -> bool:
        """Holding more than `limit` records: time to `forget` (with nothing in flight)."""
        return len(self.tweets) + len(self.users) > self.limit

    def forget(self) -> None:
        self.tweets.clear()
        self.users.clear()

    def remember(self, batch: PageBatch) -> None:
        """Keep a written batch's records: tweets without their raw JSON, which is not
        needed again; people with theirs, as `written`. A twarc file repeats each
        person's profile, byte for byte, on page after page: the next batch then needs
        to move only their `fetched_at` (and the decoder shares the bytes anyway)."""
        for key, record in batch.tweets.items():
            record.raw, record.dirty, record.stored = None, False, True
            self.tweets[key] = record
        for key, record in batch.users.items():
            if record.dirty and record.raw is not None and record.fetched_at is not None:
                record.written = (record.raw, record.fetched_at)
            record.dirty, record.stored = False, True
            self.users[key] = record


def batch_ids(pages: Iterable[PageValues]) -> tuple[set[str], set[str]]:
    """The tweet ids and user ids (profiles and authors) the pages mention."""
    tweet_ids: set[str] = set()
    user_ids: set[str] = set()
    for page in pages:
        tweet_ids.update(tweet_id for tweet_id, _, _ in page.tweets)
        user_ids.update(user_id for user_id, _, _ in page.users)
        user_ids.update(page.unprofiled_author_ids)
    return tweet_ids, user_ids


class PageBatch:
    """Copies from pages applied in order on top of stored states; see the module docstring."""

    def __init__(
        self, *, stored_tweets: Mapping[str, Record], stored_users: Mapping[str, Record]
    ) -> None:
        self.tweets: dict[str, Record] = dict(stored_tweets)
        self.users: dict[str, Record] = dict(stored_users)
        self.references: dict[Fact, None] = {}
        self.hashtags: dict[tuple[str, str], Fact] = {}
        self.mentions: dict[tuple[str, str], Fact] = {}
        self._new_tweets: list[str] = []
        self._updated_tweets: dict[str, None] = {}
        self._new_users: list[str] = []
        self.skipped_tweets = 0  # set by the caller that left forgotten people's posts out

    def add(self, page: PageValues, *, endpoint: str, fetched_at: datetime) -> None:
        """Apply one page fetched from `endpoint` at `fetched_at` (aware UTC)."""
        users = self.users
        for copy in page.users:
            record = users.get(copy[0])
            if record is not None and record.raw is copy[2] and record.fetched_at is not None:
                # the very copy applied before (the decoder hands out one object per
                # distinct JSON): only a newer fetch time to note
                if fetched_at > record.fetched_at:
                    record.fetched_at, record.dirty = fetched_at, True
            elif self._apply(users, copy, fetched_at=fetched_at, endpoint=None, text=False):
                self._new_users.append(copy[0])
        for author_id in page.unprofiled_author_ids:
            if author_id not in self.users:
                self.users[author_id] = Record(
                    STUB_VALUES, None, None, None, fetched_at, fetched_at, False, True
                )
                self._new_users.append(author_id)
        for copy in page.tweets:
            if self._apply(self.tweets, copy, fetched_at=fetched_at, endpoint=endpoint, text=True):
                self._new_tweets.append(copy[0])
        self.references.update(dict.fromkeys(page.references))
        for fact in page.hashtags:
            self.hashtags.setdefault((fact[0], fact[1]), fact)
        for fact in page.mentions:
            self.mentions.setdefault((fact[0], fact[1]), fact)

    def result(self) -> BatchResult:
        return BatchResult(
            new_tweet_ids=tuple(self._new_tweets),
            updated_tweet_ids=tuple(self._updated_tweets),
            new_user_ids=tuple(self._new_users),
            skipped_tweets=self.skipped_tweets,
        )

    def dirty_tweets(self) -> list[tuple[str, Record]]:
        return [(key, record) for key, record in self.tweets.items() if record.dirty]

    def dirty_users(self) -> list[tuple[str, Record]]:
        return [(key, record) for key, record in self.users.items() if record.dirty]

    def _apply(
        self,
        records: dict[str, Record],
        copy: ObjectValues,
        *,
        fetched_at: datetime,
        endpoint: str | None,
        text: bool,
    ) -> bool:
        """Apply one copy; True when it is the first the archive sees of its id."""
        key, values, raw = copy
        record = records.get(key)
        if record is None:
            records[key] = Record(values, raw, fetched_at, endpoint, fetched_at, fetched_at, False)
            records[key].dirty = True
            return True
        if record.fetched_at is not None and fetched_at <= record.fetched_at:
            return False  # an older or same-age copy changes nothing
        if values != record.values:
            merged = merge_values(record.values, values, text=text)
            if merged != record.values:
                record.values = merged
                record.updated_at = fetched_at
        record.raw, record.fetched_at, record.fetched_from = raw, fetched_at, endpoint
        record.dirty = True
        if text and record.stored:
            self._updated_tweets[key] = None
        return False


def merge_values(old: tuple[Any, ...], new: tuple[Any, ...], *, text: bool) -> tuple[Any, ...]:
    """A newer copy's values over the stored ones: a value it lacks (None) keeps the stored
    one, except a tweet's text, which always follows the newer copy."""
    merged = [old_value if value is None else value for old_value, value in zip(old, new)]
    if text:
        merged[TEXT_INDEX] = new[TEXT_INDEX]
    return tuple(merged)
