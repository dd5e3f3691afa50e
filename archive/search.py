"""Full-text search over archived tweets: one function, `search`, on SQLite and PostgreSQL.

The index is archive/search_index.py's: FTS5 on SQLite (brought up to date by
`refresh_index` before every search), a generated tsvector on PostgreSQL. Results
are ranked by bm25 (SQLite) or ts_rank with length normalisation (PostgreSQL),
best first, then newest first.

A search matching more than RANK_WINDOW tweets ranks the newest RANK_WINDOW of
them. Ranking costs time for every row ranked, and in an archive of a million
tweets a common word matches tens of thousands; walking matches newest first is
nearly free, so the window keeps every search fast (more words, or since/until,
reach further back). Filters apply during that walk, so the window holds tweets
that pass them. On SQLite, --from, --hashtag and leaving hidden accounts out
are FTS5 terms (search_index's `meta` column), so they narrow the walk itself; only
since/until look at the tweets table, and only the hits shown are joined to it.

What a person typed is parsed by archive/search_query.py, never run as FTS or
tsquery syntax, and every value reaches the database as a bound parameter. Tweets
of protected or suspended accounts are left out unless asked for (X's policy for
anything shown outside X; archive/visibility.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy.exc
from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Select,
    Text,
    cast,
    column,
    exists,
    func,
    literal,
    literal_column,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import REGCONFIG, TSVECTOR
from sqlalchemy.orm import Session, aliased

from archive.chat_labels import x_text
from archive.db import as_utc
from archive.errors import SearchError
from archive.models import Tweet, TweetHashtag, User
from archive.search_index import (
    FTS_TABLE,
    PROTECTED_TOKEN,
    VECTOR_COLUMN,
    author_token,
    refresh_index,
    tag_token,
)
from archive.search_query import SearchQuery, Span, fts5_match, highlight, mark, parse_query
from archive.search_query import tsquery as tsquery_text
from archive.visibility import shown

log = logging.getLogger(__name__)

Statement = Select[str, str | None, str | None, datetime | None, str, float]

MAX_LIMIT = 1000
RANK_WINDOW = 2000  # a search matching more ranks the newest this many (module docstring)


@dataclass(frozen=True, slots=True)
class Hit:
    """A tweet that matched: who, when, what, where the match is, and how well.

    `text` is the post as its author wrote it (X's `&amp;` etc. undone);
    `highlights` are (start, end) character ranges of it that matched; `rank` is
    the database's relevance score, higher is better (comparable within one search).
    """

    tweet_id: str
    username: str | None
    name: str | None
    created_at: datetime | None
    text: str
    highlights: tuple[Span, ...]
    rank: float

    @property
    def url(self) -> str:
        """The post on X (x.com/i/status/<id> works when the username is unknown)."""
        return f"https://x.com/{self.username or 'i'}/status/{self.tweet_id}"

    def marked(self, style: Callable[[str], str] = lambda words: f"**{words}**") -> str:
        """The text with each highlight passed through `style` (default: **bold**)."""
        return mark(self.text, self.highlights, style)


def search(
    session: Session,
    query: str,
    *,
    from_user: str | None = None,
    hashtag: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 20,
    include_protected: bool = False,
) -> list[Hit]:
    """The tweets matching `query`, best first; SearchError when it cannot be searched.

    `from_user` is a username (with or without @, any case), `hashtag` a tag (with
    or without #, any case); `since` is inclusive and `until` exclusive (aware
    datetimes). On SQLite the index is first brought up to date (`refresh_index`):
    commit the session afterwards to keep that work.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise SearchError(f"cannot show {limit} results", f"ask for 1 to {MAX_LIMIT}")
    parsed = parse_query(query)
    filters = Filters(
        from_user=_name(from_user, "@", "--from"),
        hashtag=_name(hashtag, "#", "--hashtag"),
        since=as_utc(since) if since is not None else None,
        until=as_utc(until) if until is not None else None,
        include_protected=include_protected,
    )
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        refresh_index(session)
        authors = _author_ids(session, filters.from_user)
        if authors == []:
            return []  # nobody of that name is archived
        statement = _sqlite_statement(parsed, filters, authors=authors, limit=limit)
    elif dialect == "postgresql":
        statement = _postgres_statement(parsed, filters, limit=limit)
    else:
        raise NotImplementedError(f"search supports SQLite and PostgreSQL, not {dialect}")
    rows = _run(session, statement, query)
    log.debug("search %r found %d tweets", query[:80], len(rows))
    return [_hit(row, parsed) for row in rows]


def _author_ids(session: Session, username: str | None) -> list[str] | None:
    """The ids of the accounts called `username` (any case), or None for no --from (SQLite)."""
    if username is None:
        return None
    # COLLATE NOCASE (X names are ASCII) so the index migration 0003_search made is used.
    same = User.username.collate("NOCASE") == username
    return list(session.scalars(select(User.id).where(same)))


@dataclass(frozen=True, slots=True)
class Filters:
    """What narrows a search besides its words (names lower-cased, times aware UTC)."""

    from_user: str | None = None
    hashtag: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    include_protected: bool = False

    def time_clauses(self, tweet: Any) -> list[ColumnElement[bool]]:
        """Conditions on a tweet row (entity or alias) for since and until."""
        found: list[ColumnElement[bool]] = []
        if self.since is not None:
            found.append(tweet.created_at >= self.since)
        if self.until is not None:
            found.append(tweet.created_at < self.until)
        return found

    def row_clauses(self, tweet: Any, user: Any) -> list[ColumnElement[bool]]:
        """Conditions as joins (PostgreSQL): protected, since, until, --from, --hashtag."""
        found = self.time_clauses(tweet)
        if not self.include_protected:
            found.append(shown(user))
        if self.from_user is not None:
            found.append(func.lower(user.username) == self.from_user)
        if self.hashtag is not None:
            found.append(
                exists().where(TweetHashtag.tweet_id == tweet.id, TweetHashtag.tag == self.hashtag)
            )
        return found


def _sqlite_statement(
    query: SearchQuery, filters: Filters, *, authors: list[str] | None, limit: int
) -> Statement:
    """Walk the matches newest first through the filters, rank the first RANK_WINDOW."""
    parts = [f"({fts5_match(query)})"]
    if authors is not None:
        parts.append("(" + " OR ".join(_quoted(author_token(a)) for a in authors) + ")")
    if filters.hashtag is not None:
        parts.append(_quoted(tag_token(filters.hashtag)))
    expression = " AND ".join(parts)
    if not filters.include_protected:
        expression = f"({expression}) NOT {_quoted(PROTECTED_TOKEN)}"
    fts = table(FTS_TABLE, column("rowid", Integer), column(FTS_TABLE))
    walked = select(
        fts.c.rowid.label("rowid"),
        (-func.bm25(literal_column(FTS_TABLE), 1.0, 0.0)).cast(Float).label("score"),
    ).where(fts.c[FTS_TABLE].op("MATCH")(literal(expression, Text)))
    if filters.since is not None or filters.until is not None:
        tweet = aliased(Tweet, name="walked_tweet")
        walked = walked.join(tweet, tweet.id == cast(fts.c.rowid, Text)).where(
            *filters.time_clauses(tweet)
        )
    window = walked.order_by(fts.c.rowid.desc()).limit(RANK_WINDOW).subquery("walked")
    best = (  # ranked before the join, so only the hits shown are looked up
        select(window.c.rowid, window.c.score)
        .order_by(window.c.score.desc(), window.c.rowid.desc())
        .limit(limit)
        .subquery("best")
    )
    return (
        _columns(best.c.score)
        .select_from(best)
        .join(Tweet, Tweet.id == cast(best.c.rowid, Text))
        .outerjoin(User, User.id == Tweet.author_id)
        .order_by(best.c.score.desc(), best.c.rowid.desc())
    )


def _quoted(value: str) -> str:
    """An FTS5 string: whatever `value` holds (a typed --hashtag), it is never syntax."""
    return '"' + value.replace('"', '""') + '"'


def _postgres_statement(query: SearchQuery, filters: Filters, *, limit: int) -> Statement:
    """Take the newest RANK_WINDOW matches that pass the filters, rank them (ts_rank)."""
    tweet, user = aliased(Tweet, name="walked_tweet"), aliased(User, name="walked_user")
    vector = literal_column(f"walked_tweet.{VECTOR_COLUMN}", TSVECTOR)
    window = (
        select(tweet.id, tweet.created_at, vector.label("vector"))
        .outerjoin(user, user.id == tweet.author_id)
        .where(vector.op("@@")(_to_tsquery(query)), *filters.row_clauses(tweet, user))
        .order_by(tweet.created_at.desc().nulls_last(), tweet.id.desc())
        .limit(RANK_WINDOW)
        .subquery("walked")
    )
    # Ranked on the wanted words only: a `!word` in the ranked query scales every score to ~0.
    # Normalisation 1 divides by 1 + log(length), as bm25 favours short tweets.
    score = func.ts_rank(window.c.vector, _to_tsquery(SearchQuery(query.groups)), 1)
    newest = (window.c.created_at.desc().nulls_last(), window.c.id.desc())
    best = (  # ranked before the join, so only the hits shown are looked up
        select(window.c.id, window.c.created_at, score.cast(Float).label("score"))
        .order_by(score.desc(), *newest)
        .limit(limit)
        .subquery("best")
    )
    return (
        _columns(best.c.score)
        .select_from(best)
        .join(Tweet, Tweet.id == best.c.id)
        .outerjoin(User, User.id == Tweet.author_id)
        .order_by(best.c.score.desc(), best.c.created_at.desc().nulls_last(), best.c.id.desc())
    )


def _to_tsquery(query: SearchQuery) -> ColumnElement[Any]:
    return func.to_tsquery(literal("simple", REGCONFIG), literal(tsquery_text(query), Text))


def _columns(score: ColumnElement[float]) -> Statement:
    return select(
        Tweet.id, User.username, User.name, Tweet.created_at, Tweet.text, score.label("score")
    )


def _name(value: str | None, sigil: str, option: str) -> str | None:
    """A username or hashtag filter, lower-cased, without its @ or #; empty is a SearchError."""
    if value is None:
        return None
    name = value.strip().removeprefix(sigil).strip()
    if not name:
        what = "username" if sigil == "@" else "hashtag"
        raise SearchError(f"{option} needs a {what}", f"e.g. {option} {sigil}TraineeTalk")
    return name.lower()


def _run(session: Session, statement: Statement, query: str) -> Sequence[Any]:
    """Execute; a query the full-text engine still refuses becomes a SearchError."""
    try:
        return session.execute(statement).all()
    except (sqlalchemy.exc.OperationalError, sqlalchemy.exc.ProgrammingError) as exc:
        detail = str(exc.orig) if exc.orig is not None else str(exc)
        if "fts5" not in detail and "tsquery" not in detail:
            raise
        log.warning("search %r refused by the database: %s", query[:80], detail)
        raise SearchError(f"cannot search for {query.strip()!r}", query=query) from exc


def _hit(row: Any, query: SearchQuery) -> Hit:
    written = x_text(row.text)
    return Hit(
        tweet_id=row.id,
        username=row.username,
        name=row.name,
        created_at=row.created_at,
        text=written,
        highlights=highlight(written, query),
        rank=float(row.score),
    )
