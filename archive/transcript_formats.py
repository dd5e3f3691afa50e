"""A transcript as JSON, Markdown and CSV, each escaped for its format; pure.

- JSON keeps the issue's field names (`chat`, `questions[].answers[].replies`,
  `general`, `participants`, `gaps`, `stats`) and adds a few (`url`, `name`,
  `links`, ...). Ids are strings; times are UTC, e.g. "2026-12-02T20:05:00Z".
- Markdown escapes every character Markdown could read as markup, so tweet text
  and names show as written and no HTML gets through: `& < > | ~` become entities
  (`&amp;` ...), which every Markdown dialect decodes; `\\ ` * _ [ ]` and, at the
  start of a line, `# + -` and "1." / "1)" get a backslash; a leading `=` becomes
  `&#61;`.
- CSV has one row per tweet shown, oldest first, with its role, question number(s)
  ("3;4" for an answer to both) and the tweet it sits under. X ids are 19 digits,
  more than a spreadsheet keeps in a number (15), so id cells are written as the
  formula ="1868001234567890123", which Excel, LibreOffice and Google Sheets all
  show as that exact text; to read the file with a program, strip the leading =" and
  the trailing ". Any other cell that a spreadsheet would run as a formula (starting
  with = + - @, a tab or a carriage return) gets a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from archive.chat_rules import ChatTweet, Role
from archive.transcripts import Entry, Transcript, walk

__all__ = ["CSV_COLUMNS", "csv_cell", "csv_id", "md_escape", "render_csv", "render_json", "render_markdown",
           "transcript_json", "utc_text"]  # fmt: skip

CSV_COLUMNS = (
    "tweet_id", "created_at", "author", "name", "role", "question", "parent_id",
    "in_reply_to", "text", "url",
)  # fmt: skip
_MD_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "|": "&#124;", "~": "&#126;"}
_MD_ANYWHERE = re.compile(r"[&<>|~]|([\\`*_\[\]])")
_MD_LINE_START = re.compile(r"^([#+\-])|^(=)|^(\d+)([.)])")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- JSON ---------------------------------------------------------------------------------


def transcript_json(transcript: Transcript) -> dict[str, Any]:
    """The transcript as JSON-ready data, in the issue's schema (plus extra fields)."""
    chat = transcript.chat
    return {
        "chat": {
            "id": chat.id, "hashtag": chat.hashtag, "host": chat.host,
            "start": utc_text(chat.starts_at), "end": utc_text(chat.ends_at),
            "topic": chat.topic, "origin": chat.origin,
        },
        "questions": [
            {
                "number": q.number,
                "tweet_id": q.tweet.id if q.tweet else None,
                "text": q.tweet.text if q.tweet else None,
                "created_at": utc_text(q.tweet.created_at) if q.tweet else None,
                "author": q.tweet.username if q.tweet else None,
                "url": q.tweet.url if q.tweet else None,
                "answers": [_entry_json(entry, transcript) for entry in q.answers],
            }
            for q in transcript.questions
        ],
        "general": [_tweet_json(tweet) for tweet in transcript.general],
        "participants": [
            {"username": p.username, "name": p.name, "tweets": p.tweets,
             "first_time": p.first_time, "host": p.host}
            for p in transcript.participants
        ],
        "links": [{"url": k.url, "tweet_id": k.tweet_id, "author": k.author}
                  for k in transcript.links],
        "gaps": [{"start": utc_text(g.starts_at), "end": utc_text(g.ends_at), "hashtag": g.hashtag}
                 for g in transcript.gaps],
        "stats": {
            "tweets": transcript.stats.tweets, "answers": transcript.stats.answers,
            "participants": transcript.stats.participants,
            "first_time_participants": transcript.stats.first_time_participants,
            "retweets": transcript.stats.retweets, "replies": transcript.stats.replies,
            "general": transcript.stats.general,
        },
    }  # fmt: skip


def _tweet_json(tweet: ChatTweet) -> dict[str, Any]:
    return {
        "tweet_id": tweet.id, "author": tweet.username, "name": tweet.name, "text": tweet.text,
        "created_at": utc_text(tweet.created_at), "url": tweet.url,
        "in_reply_to": tweet.replied_to,
    }  # fmt: skip


def _entry_json(entry: Entry, transcript: Transcript) -> dict[str, Any]:
    """An answer or reply with its replies (the tree is at most MAX_DEPTH deep)."""
    data = _tweet_json(entry.tweet)
    data["questions"] = list(transcript.placements[entry.tweet.id].questions)
    data["replies"] = [_entry_json(reply, transcript) for reply in entry.replies]
    return data


def render_json(transcript: Transcript) -> str:
    return json.dumps(transcript_json(transcript), ensure_ascii=False, indent=2) + "\n"


# -- Markdown -----------------------------------------------------------------------------


def md_escape(text: str) -> str:
    """`text` as Markdown that shows exactly these characters, on one or more lines."""
    lines = []
    for line in text.splitlines():
        line = _MD_ANYWHERE.sub(_anywhere, line.strip())
        lines.append(_MD_LINE_START.sub(_line_start, line))
    return "  \n".join(line for line in lines if line)


def _anywhere(match: re.Match[str]) -> str:
    return "\\" + match.group(1) if match.group(1) else _MD_ENTITIES[match.group(0)]


def _line_start(match: re.Match[str]) -> str:
    if match.group(1):
        return "\\" + match.group(1)
    if match.group(2):
        return "&#61;"
    return f"{match.group(3)}\\{match.group(4)}"


def _md_url(url: str) -> str:
    """A URL safe inside Markdown's (...): spaces, brackets and parentheses percent-encoded."""
    return quote(url, safe=":/?#@!$&'*+,;=%~-._")


def _md_tweet(tweet: ChatTweet, zone: ZoneInfo, indent: str) -> list[str]:
    who = f"**{md_escape(tweet.name or tweet.username)}** (@{md_escape(tweet.username)})"
    when = f"[{tweet.created_at.astimezone(zone):%H:%M}]({_md_url(tweet.url)})"
    body = md_escape(tweet.text).replace("  \n", "  \n" + indent + "  ")
    return [f"{indent}- {who} · {when}  ", f"{indent}  {body}" if body else f"{indent}  "]


def render_markdown(transcript: Transcript, *, zone: ZoneInfo) -> str:
    """The transcript as a Markdown document; times local to `zone`."""
    lines = _md_header(transcript, zone)
    for question in transcript.questions:
        text = md_escape(question.tweet.text) if question.tweet else "(not in the archive)"
        lines += [f"## Q{question.number}", "", text, ""]
        for depth, entry in walk(question.answers):
            lines += _md_tweet(entry.tweet, zone, "  " * depth)
        lines.append("")
    lines += _md_section("General chat", transcript.general, zone)
    lines += ["## Participants", ""]
    for p in transcript.participants:
        notes = (" (host)" if p.host else "") + (" (first time)" if p.first_time else "")
        plural = "s" if p.tweets != 1 else ""
        who = f"{md_escape(p.name or p.username)} (@{md_escape(p.username)})"
        lines.append(f"- {who}, {p.tweets} tweet{plural}{notes}")
    if transcript.links:
        lines += ["", "## Links shared", ""]
        for link in transcript.links:
            shown = f"[{md_escape(link.url)}]({_md_url(link.url)})"
            lines.append(f"- {shown} (@{md_escape(link.author)})")
    return "\n".join(lines).rstrip() + "\n"


def _md_header(transcript: Transcript, zone: ZoneInfo) -> list[str]:
    chat, stats = transcript.chat, transcript.stats
    start, end = chat.starts_at.astimezone(zone), chat.ends_at.astimezone(zone)
    title = md_escape(chat.hashtag) + (f": {md_escape(chat.topic)}" if chat.topic else "")
    host = md_escape(chat.host or "unknown")
    when = f"{start:%a} {start.day} {start:%b %Y %H:%M}-{end:%H:%M %Z}"
    counts = (
        f"{stats.tweets} tweets, {stats.answers} answers, {stats.participants} participants"
        f" ({stats.first_time_participants} here for the first time), {stats.retweets} retweets"
    )
    lines = [f"# {title}", "", f"Chat {chat.id}, hosted by @{host}, {when}", "", counts, ""]
    for gap in transcript.gaps:
        missed = f"{gap.starts_at.astimezone(zone):%H:%M}-{gap.ends_at.astimezone(zone):%H:%M %Z}"
        lines += [f"> Not collected: {missed} ({md_escape(gap.hashtag)})", ""]
    return lines


def _md_section(title: str, tweets: Iterable[ChatTweet], zone: ZoneInfo) -> list[str]:
    lines = [f"## {title}", ""]
    for tweet in tweets:
        lines += _md_tweet(tweet, zone, "")
    return lines + [""]


# -- CSV ----------------------------------------------------------------------------------


def csv_id(tweet_id: str | None) -> str:
    """An X id as a cell every spreadsheet keeps as text: ="1868001234567890123"."""
    return f'="{tweet_id}"' if tweet_id else ""


def csv_cell(text: str | None) -> str:
    """Text for a CSV cell; a leading =, +, - or @ is quoted so no spreadsheet runs it."""
    value = text or ""
    return "'" + value if value.startswith(_FORMULA_START) else value


def render_csv(transcript: Transcript) -> str:
    """One row per tweet shown, oldest first (see the module docstring for the id cells)."""
    headings = {q.number: q.tweet.id for q in transcript.questions if q.tweet}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for tweet in transcript.tweets:
        placed = transcript.placements[tweet.id]
        parent = placed.parent
        if placed.role is Role.ANSWER:
            parent = headings.get(placed.questions[0])
        writer.writerow([
            csv_id(tweet.id), utc_text(tweet.created_at), csv_cell(tweet.username),
            csv_cell(tweet.name), placed.role.value, ";".join(map(str, placed.questions)),
            csv_id(parent), csv_id(tweet.replied_to), csv_cell(tweet.text), tweet.url,
        ])  # fmt: skip
    return out.getvalue()
