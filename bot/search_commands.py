"""What `tcbot archive search` and `tcbot archive stats` do: read the options, ask the
archive, print the answer.

bot/cli/archive_search.py parses the arguments and calls `run_search` and
`show_stats`; they print through `echo` and raise TcbotError for anything the
organiser must fix. Rendering is pure (`render_hit`, `stats_lines`) so tests call
it directly; highlighting is a `style` function the CLI picks: bold colour for a
terminal, `**word**` for a file or a pipe. Times are shown in TCBOT_TIMEZONE.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from archive.chats import record_bot_chats
from archive.search import Hit, search
from archive.search_index import pending_count
from archive.stats import ChatStats, Counts, WeekStats, chat_stats, local_midnight, weekly_stats
from bot.clock import Clock
from bot.config import Settings
from bot.errors import TcbotError

Echo = Callable[[str], None]
Style = Callable[[str], str]

SLOW_INDEXING = 20_000  # tweets: about a second of indexing, worth saying so
AGE = re.compile(r"(\d{1,4})([hdw])")
AGE_UNITS = {"h": "hours", "d": "days", "w": "weeks"}
WHEN_FIX = "use a date like 2026-12-02, a local time like 2026-12-02T19:55, or an age like 7d"
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


def plain_style(words: str) -> str:
    """Highlight for files and pipes: Markdown bold."""
    return f"**{words}**"


def parse_when(value: str, *, zone: ZoneInfo, now: datetime, option: str, end: bool) -> datetime:
    """A --since/--until value as aware UTC.

    A date means local midnight in `zone`; for the end of a range (`end`) it means
    the midnight after, so `--until 2026-12-02` includes that day. A time without an
    offset is local; `7d`, `12h`, `2w` count back from `now`.
    """
    text = value.strip()
    age = AGE.fullmatch(text)
    if age:
        return now - timedelta(**{AGE_UNITS[age[2]]: int(age[1])})
    try:
        day = date.fromisoformat(text)
    except ValueError:
        pass
    else:
        return local_midnight(day + timedelta(days=1) if end else day, zone)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise TcbotError(f"{option} {value!r} is not a date or time", WHEN_FIX) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).astimezone(UTC)


def query_from_words(words: tuple[str, ...]) -> str:
    """The query from the command line's words; `--name` there is a mistyped option.

    Unknown options reach the query so that `-word` (leave out) needs no `--` first.
    """
    for word in words:
        if word.startswith("--") and len(word) > 2:
            raise TcbotError(
                f"no such option: {word.split('=')[0]}",
                "run 'tcbot archive search --help' to see the options",
            )
    return " ".join(words)


def run_search(
    query: str,
    *,
    sessions: sessionmaker[Session],
    settings: Settings,
    clock: Clock,
    echo: Echo,
    style: Style = plain_style,
    from_user: str | None = None,
    hashtag: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int = 20,
    include_protected: bool = False,
) -> list[Hit]:
    """Search the archive and print the hits, best first."""
    zone, now = settings.timezone, clock.now()
    start = parse_when(since, zone=zone, now=now, option="--since", end=False) if since else None
    stop = parse_when(until, zone=zone, now=now, option="--until", end=True) if until else None
    if start is not None and stop is not None and stop <= start:
        raise TcbotError(
            f"--until {until} is not after --since {since}", "give --until a later date or time"
        )
    with sessions.begin() as session:  # committed: searching first indexes what is new
        waiting = pending_count(session)
        if waiting >= SLOW_INDEXING:
            echo(f"Indexing {waiting:,} newly archived tweets for search first...")
        hits = search(
            session, query, from_user=from_user, hashtag=hashtag, since=start, until=stop,
            limit=limit, include_protected=include_protected,
        )  # fmt: skip
    if not hits:
        echo(f"No archived tweets match {printable(query.strip())!r}.")
        echo("Try fewer words, an OR between alternatives, or word* for words that begin so.")
        return hits
    for number, hit in enumerate(hits, start=1):
        echo(render_hit(hit, number=number, zone=zone, style=style))
    more = " (the best ones; --limit shows more)" if len(hits) == limit else ""
    echo(f"{len(hits)} tweet{'s' if len(hits) != 1 else ''}{more}.")
    return hits


def render_hit(hit: Hit, *, number: int, zone: ZoneInfo, style: Style) -> str:
    """One result: number, local time and author, the link, then the text, highlighted."""
    when = (
        f"{hit.created_at.astimezone(zone):%a %Y-%m-%d %H:%M %Z}"
        if hit.created_at is not None
        else "(time unknown)"
    )
    author = f"@{printable(hit.username)}" if hit.username else "(account unknown)"
    if hit.name:
        author += f" ({printable(hit.name)})"
    indent = " " * 5
    body = mark_text(printable(hit.text, keep_newlines=True), hit.highlights, style)
    lines = [f"{number:>3}. {when}  {author}", f"{indent}{hit.url}"]
    lines += [f"{indent}{line}" for line in body.split("\n")]
    return "\n".join(lines)


def mark_text(text: str, spans: tuple[tuple[int, int], ...], style: Style) -> str:
    """`text` with each span styled; a span across lines is styled line by line."""
    pieces: list[str] = []
    position = 0
    for start, end in spans:
        pieces.append(text[position:start])
        pieces.append(
            "\n".join(style(part) if part else part for part in text[start:end].split("\n"))
        )
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def printable(text: str, *, keep_newlines: bool = False) -> str:
    """Text safe to print: control characters and direction overrides become �, tabs spaces.

    One character in, one out, so highlight offsets still fit. Joiners stay (emoji
    such as 👩‍⚕️ need them).
    """
    return "".join(_printable_char(char, keep_newlines) for char in text)


def _printable_char(char: str, keep_newlines: bool) -> str:
    if char == "\n" and keep_newlines:
        return char
    if char == "\t":
        return " "
    if unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in _BIDI:
        return "\ufffd"
    return char


# --- stats ---


def show_stats(
    *,
    sessions: sessionmaker[Session],
    settings: Settings,
    clock: Clock,
    echo: Echo,
    weeks: int = 12,
    include_protected: bool = False,
) -> tuple[list[ChatStats], list[WeekStats]]:
    """Print activity per chat (when chats are recorded) and per week, each compared with the one before."""
    zone, now = settings.timezone, clock.now()
    with (
        sessions.begin() as session
    ):  # chats the bot ran are recorded first, as `archive chats` does
        record_bot_chats(session, host=settings.bot_username)
    with sessions() as session:
        weekly = weekly_stats(
            session, hashtags=settings.hashtags, weeks=weeks, now=now, zone=zone,
            include_protected=include_protected,
        )  # fmt: skip
        since = local_midnight(weekly[0].starts_on, zone)
        until = local_midnight(weekly[-1].starts_on + timedelta(weeks=1), zone)
        chats = chat_stats(session, since=since, until=until, include_protected=include_protected)
    for line in stats_lines(chats, weekly, zone=zone, hashtags=settings.hashtags):
        echo(line)
    return chats, weekly


def stats_lines(
    chats: list[ChatStats], weekly: list[WeekStats], *, zone: ZoneInfo, hashtags: tuple[str, ...]
) -> list[str]:
    """The stats report: a table of chats (if any), then a table of weeks."""
    lines: list[str] = []
    if chats:
        lines.append(f"Chats in the last {len(weekly)} weeks ({zone.key}):")
        lines.append(_row("WEEK", "DATE", "TWEETS", "PEOPLE", "NEW", "BACK", "VS PREVIOUS", "CHAT"))
        for chat in chats:
            local = chat.starts_at.astimezone(zone)
            label = printable(f"#{chat.chat_id} {chat.hashtag} {chat.topic or ''}".strip())
            lines.append(_counts_row(_week_label(local.date()), f"{local:%a %d %b}", chat.counts,
                                     chat.previous, label))  # fmt: skip
        lines.append("")
    lines.append(
        f"Weeks on {', '.join(hashtags)} and replies in their threads ({zone.key}, Monday to Sunday):"
    )
    lines.append(_row("WEEK", "FROM", "TWEETS", "PEOPLE", "NEW", "BACK", "VS WEEK BEFORE", "RTS"))
    for week in weekly:
        lines.append(_counts_row(week.label, f"{week.starts_on:%d %b}", week.counts, week.previous,
                                 str(week.counts.retweets)))  # fmt: skip
    lines.append("")
    lines.append(
        "NEW: first archived tweet; BACK: returning people; retweets are counted apart from tweets."
    )
    return lines


def _week_label(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _counts_row(label: str, when: str, counts: Counts, previous: Counts | None, last: str) -> str:
    change = (
        f"{_signed(counts.tweets - previous.tweets)} tweets, "
        f"{_signed(counts.participants - previous.participants)} people"
        if previous is not None
        else "-"
    )
    return _row(label, when, str(counts.tweets), str(counts.participants),
                str(counts.newcomers), str(counts.returning), change, last)  # fmt: skip


def _row(*cells: str) -> str:
    week, when, tweets, people, new, back, change, last = cells
    return (
        f"{week:<9} {when:<11} {tweets:>6} {people:>6} {new:>4} {back:>4}  {change:<24} {last}"
    ).rstrip()


def _signed(number: int) -> str:
    return f"{number:+d}" if number else "±0"
