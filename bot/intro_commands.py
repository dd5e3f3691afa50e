"""What `tcbot intros list` does: read `--since`, find introductions, render table, JSON or CSV.

bot/cli/intros.py parses the options and calls `list_command`; the parsing and
rendering here are pure functions that tests call directly. Times are shown in
TCBOT_TIMEZONE; JSON also gives UTC. CSV follows the transcript export's rules:
X ids are 19 digits, more than a spreadsheet keeps in a number, so id cells are
the formula ="1868001234567890123" (shown as that exact text by Excel,
LibreOffice and Google Sheets), and a cell a spreadsheet would run as a formula
gets a leading apostrophe.
"""

from __future__ import annotations

import csv
import enum
import io
import json
import re
import unicodedata
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from archive.intro_queries import IntroRow, list_intros
from archive.transcript_formats import csv_cell, csv_id
from bot.clock import Clock
from bot.config import Settings
from bot.errors import TcbotError

Echo = Callable[[str], None]
DEFAULT_HASHTAG = "#TherapistsConnect"
DEFAULT_SINCE = "7d"
SINCE_HELP = "use a span like 7d, 24h or 2w, a date like 2026-12-01, or 'all'"
CSV_COLUMNS = (
    "tweet_id", "created_at_utc", "date", "username", "name", "role", "place", "text", "link",
)  # fmt: skip
_SPAN = re.compile(r"(\d{1,4})\s*([mhdw])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_HASHTAG = re.compile(r"#?\w+")
_TABLE_WIDTHS = {"name": 20, "role": 28, "place": 22, "text": 60}


class IntroFormat(enum.Enum):
    """How `tcbot intros list` prints its result."""

    TABLE = "table"
    JSON = "json"
    CSV = "csv"


def parse_since(value: str, *, now: datetime, zone: ZoneInfo) -> datetime | None:
    """`--since` as aware UTC: "7d", "24h", "2w", "90m", an ISO date or time, or None for "all".

    A date is midnight in `zone`; a time without an offset is in `zone` too.
    """
    text = value.strip().lower()
    if text == "all":
        return None
    span = _SPAN.fullmatch(text)
    if span:
        return now.astimezone(UTC) - timedelta(**{_UNITS[span[2]]: int(span[1])})
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return datetime.combine(date.fromisoformat(text), time(), zone).astimezone(UTC)
        moment = datetime.fromisoformat(value.strip())  # "Z" is read as UTC (Python 3.11)
    except ValueError:
        raise TcbotError(f"--since {value!r} is not a time tcbot understands", SINCE_HELP) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def check_hashtag(value: str) -> str:
    """The hashtag as given, if it is one ("#TherapistsConnect" or "TherapistsConnect")."""
    if not _HASHTAG.fullmatch(value.strip()):
        raise TcbotError(
            f"--hashtag {value!r} is not a hashtag", "write it like '#TherapistsConnect'"
        )
    return "#" + value.strip().lstrip("#")


def list_command(
    *, open_sessions: Callable[[], sessionmaker[Session]], settings: Settings, clock: Clock,
    since: str, hashtag: str, fmt: IntroFormat, echo: Echo,
) -> list[IntroRow]:  # fmt: skip
    """Find the introductions and print them in `fmt`.

    The options are checked before `open_sessions` is called, so a typo never
    creates or upgrades a database.
    """
    zone = settings.timezone
    tag = check_hashtag(hashtag)
    start = parse_since(since, now=clock.now(), zone=zone)
    with open_sessions()() as session:
        rows = list_intros(session, tag, start)
    if fmt is IntroFormat.JSON:
        echo(render_json(rows, hashtag=tag, since=start, zone=zone))
    elif fmt is IntroFormat.CSV:
        echo(render_csv(rows, zone=zone).rstrip("\r\n"))
    elif rows:
        echo(render_table(rows, zone=zone))
    else:
        when = f" since {local_text(start, zone)}" if start else ""
        echo(f"No introductions on {tag}{when}.")
    return rows


# -- rendering ------------------------------------------------------------------------


def local_text(moment: datetime | None, zone: ZoneInfo) -> str:
    """A time as people in the community read it, e.g. 2026-12-02 20:10 GMT."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") if moment else ""


def utc_text(moment: datetime | None) -> str:
    """A time in UTC, e.g. 2026-12-02T20:10:00Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else ""


def one_line(text: str | None, width: int | None = None) -> str:
    """Text safe for one terminal line: control characters (escapes, newlines) become spaces."""
    cleaned = "".join(
        " " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") and c != "\u200d" else c
        for c in text or ""
    )
    cleaned = " ".join(cleaned.split())
    if width is not None and len(cleaned) > width:
        return cleaned[: width - 1] + "…"
    return cleaned


def render_table(rows: Sequence[IntroRow], *, zone: ZoneInfo) -> str:
    """One line per introduction, newest first, with the link to each post."""
    header = ("Date", "Username", "Name", "Role", "Place", "Text", "Link")
    lines = [header] + [
        (
            local_text(r.created_at, zone),
            "@" + r.username if r.username else "?",
            one_line(r.name, _TABLE_WIDTHS["name"]),
            one_line(r.role, _TABLE_WIDTHS["role"]),
            one_line(r.place, _TABLE_WIDTHS["place"]),
            one_line(r.text, _TABLE_WIDTHS["text"]),
            r.link,
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in lines]
    count = len(rows)
    return "\n".join(out + [f"{count} introduction{'s' if count != 1 else ''}."])


def render_json(
    rows: Sequence[IntroRow], *, hashtag: str, since: datetime | None, zone: ZoneInfo
) -> str:
    """{"hashtag", "since", "timezone", "intros": [...]}: ids as strings, times in UTC and local."""
    document = {
        "hashtag": hashtag,
        "since": utc_text(since) or None,
        "timezone": zone.key,
        "intros": [
            {
                "tweet_id": r.tweet_id,
                "username": r.username,
                "name": r.name,
                "created_at": utc_text(r.created_at) or None,
                "date": r.created_at.astimezone(zone).isoformat() if r.created_at else None,
                "link": r.link,
                "text": r.text,
                "role": r.role,
                "place": r.place,
                "score": r.score,
            }
            for r in rows
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2)


def render_csv(rows: Sequence[IntroRow], *, zone: ZoneInfo) -> str:
    """A header and one row per introduction (see the module docstring for the id cells)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        writer.writerow([
            csv_id(r.tweet_id), utc_text(r.created_at), local_text(r.created_at, zone),
            csv_cell(r.username), csv_cell(r.name), csv_cell(r.role), csv_cell(r.place), csv_cell(r.text), r.link,
        ])  # fmt: skip
    return out.getvalue()
