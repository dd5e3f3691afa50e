"""What the chat and transcript commands do: add a chat, list chats, write a transcript.

bot/cli/archive_chats.py parses the arguments and calls these; they print through
`echo` and raise TcbotError for anything the organiser must fix. Before reading
chats they record the chats the bot ran (archive.chats.record_bot_chats), so a
chat shows up as soon as its intro has gone out.
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from archive.chat_tweets import load_transcript
from archive.chats import add_chat as add_chat_row
from archive.chats import find_chat, list_chats, parse_chat_time, record_bot_chats
from archive.gaps import gaps_overlapping
from archive.models import Chat
from archive.transcript_formats import render_csv, render_json, render_markdown
from archive.transcript_html import render_html
from archive.transcripts import Transcript
from bot.clock import Clock
from bot.config import Settings
from bot.errors import TcbotError

Echo = Callable[[str], None]


class TranscriptFormat(enum.Enum):
    """The formats `tcbot archive transcript` writes."""

    JSON = "json"
    MD = "md"
    HTML = "html"
    CSV = "csv"


def terminal_safe(text: str) -> str:
    """Text fit for a terminal line: control and format characters (escape sequences,
    newlines, bidi overrides) shown as a visible placeholder instead of acting."""
    return "".join(
        "�" if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text
    )


def without_controls(text: str) -> str:
    """A document fit for the screen: control characters other than newlines and tabs
    (a tweet could carry a terminal escape sequence) shown as a placeholder."""
    return "".join(
        "�" if ch not in "\n\r\t" and unicodedata.category(ch) == "Cc" else ch for ch in text
    )


def record(sessions: sessionmaker[Session], settings: Settings) -> None:
    """Record the chats the bot ran (idempotent), in its own transaction."""
    with sessions.begin() as session:
        record_bot_chats(session, host=settings.bot_username)


def add_chat(
    *,
    sessions: sessionmaker[Session],
    settings: Settings,
    hashtag: str,
    host: str,
    start: str,
    end: str,
    topic: str | None,
    echo: Echo,
) -> int:
    """Parse the times (local ones in TCBOT_TIMEZONE), add the chat, say how to read it."""
    zone = settings.timezone
    starts_at = parse_chat_time(start, zone=zone, option="--start")
    ends_at = parse_chat_time(end, zone=zone, option="--end")
    with sessions.begin() as session:
        chat = add_chat_row(
            session, hashtag=hashtag, host=host, starts_at=starts_at, ends_at=ends_at, topic=topic
        )
        chat_id, tag, name = chat.id, chat.hashtag, chat.host
    local = starts_at.astimezone(zone)
    echo(
        f"Added chat {chat_id}: {tag} hosted by @{name}, {local:%a} {local.day} "
        f"{local:%b %Y %H:%M}-{ends_at.astimezone(zone):%H:%M %Z}."
    )
    echo(f"Read it with: tcbot archive transcript {chat_id} --format html -o chat-{chat_id}.html")
    return chat_id


def show_chats(*, sessions: sessionmaker[Session], settings: Settings, echo: Echo) -> int:
    """List every chat with its counts (protected accounts' tweets not counted)."""
    record(sessions, settings)
    zone = settings.timezone
    with sessions() as session:
        chats = list_chats(session)
        if not chats:
            echo("No chats yet. Chats the bot runs appear here once their intro is posted;")
            echo("add another with: tcbot archive chat add --hashtag '#TraineeTalk' --host ...")
            return 0
        echo(_chat_line("ID", f"DATE ({zone.key})", "ORIGIN", "TWEETS", "PEOPLE", "NEW", "TOPIC"))
        for chat in chats:
            stats = load_transcript(session, chat).stats
            local = chat.starts_at.astimezone(zone)
            topic = terminal_safe(f"{chat.hashtag} {chat.topic or ''}".strip())
            echo(
                _chat_line(
                    str(chat.id),
                    f"{local:%a %Y-%m-%d %H:%M %Z}",
                    chat.origin.value,
                    str(stats.tweets),
                    str(stats.participants),
                    str(stats.first_time_participants),
                    topic,
                )
            )
    return len(chats)


def _chat_line(*cells: str) -> str:
    chat_id, date, origin, tweets, people, new, topic = cells
    return f"{chat_id:>4}  {date:<25} {origin:<6} {tweets:>6} {people:>6} {new:>4}  {topic}"


def render(
    transcript: Transcript, fmt: TranscriptFormat, *, settings: Settings, clock: Clock
) -> str:
    """The transcript in `fmt`."""
    if fmt is TranscriptFormat.JSON:
        return render_json(transcript)
    if fmt is TranscriptFormat.MD:
        return render_markdown(transcript, zone=settings.timezone)
    if fmt is TranscriptFormat.CSV:
        return render_csv(transcript)
    return render_html(transcript, zone=settings.timezone, generated_at=clock.now())


def write_transcript(
    chat_ref: str,
    *,
    sessions: sessionmaker[Session],
    settings: Settings,
    clock: Clock,
    fmt: TranscriptFormat,
    output: Path | None,
    include_protected: bool,
    echo: Echo,
    out: Echo,
) -> Transcript:
    """Build the chat's transcript and write it to `output`, or to `out` (stdout)."""
    record(sessions, settings)
    with sessions() as session:
        chat: Chat = find_chat(session, chat_ref, zone=settings.timezone)
        gaps = gaps_overlapping(
            session, hashtag=chat.hashtag, starts_at=chat.starts_at, ends_at=chat.ends_at
        )
        transcript = load_transcript(session, chat, include_protected=include_protected, gaps=gaps)
    text = render(transcript, fmt, settings=settings, clock=clock)
    if output is None:
        out(text if fmt is TranscriptFormat.JSON else without_controls(text))
        return transcript
    try:
        output.write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        raise TcbotError(
            f"cannot write {output} ({exc.strerror or exc})",
            "check that its folder exists and you may write there, or choose another -o FILE",
        ) from None
    stats = transcript.stats
    echo(
        f"Wrote chat {transcript.chat.id} to {output}: {stats.tweets} tweets, "
        f"{stats.answers} answers, {stats.participants} participants."
    )
    return transcript
