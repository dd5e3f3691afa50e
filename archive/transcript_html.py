"""A transcript as one self-contained HTML page: inline CSS, no scripts, everything escaped.

The page (archive/templates/transcript.html) is rendered by Jinja2 with autoescaping
on, so every tweet text, name, topic and link is HTML-escaped wherever it lands,
in text or in an attribute. Belt and braces: the page's Content-Security-Policy
allows no scripts at all, so even a mistake in a template could not run one. Links
are only ever built from X ids and usernames (percent-encoded) or from http(s) URLs
X expanded (archive/chat_tweets.py drops any other scheme).

The template gets flat rows (depth, tweet) rather than a tree, so a deep reply
thread needs no recursion in the template.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined

from archive.chat_rules import ChatTweet
from archive.transcripts import Transcript, walk

__all__ = ["render_html"]

TEMPLATE = "transcript.html"


@dataclass(frozen=True, slots=True)
class _Row:
    """A tweet as the page shows it."""

    depth: int
    author: str
    name: str
    profile: str
    text: str
    time: str
    utc: str
    url: str
    new: bool


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("archive", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def profile_url(username: str) -> str:
    return f"https://x.com/{quote(username, safe='')}" if username else ""


def _row(tweet: ChatTweet, depth: int, zone: ZoneInfo, newcomers: frozenset[str]) -> _Row:
    local = tweet.created_at.astimezone(zone)
    return _Row(
        depth=depth, author=tweet.username, name=tweet.name or tweet.username,
        profile=profile_url(tweet.username), text=tweet.text, time=f"{local:%H:%M}",
        utc=tweet.created_at.isoformat(), url=_post_url(tweet),
        new=(tweet.author_id or tweet.username) in newcomers,
    )  # fmt: skip


def _post_url(tweet: ChatTweet) -> str:
    return f"https://x.com/{quote(tweet.username or 'i', safe='')}/status/{quote(tweet.id)}"


def render_html(transcript: Transcript, *, zone: ZoneInfo, generated_at: datetime) -> str:
    """The whole page; times local to `zone`; `generated_at` is shown in the footer."""
    newcomers = frozenset(
        p.author_id or p.username for p in transcript.participants if p.first_time
    )
    questions = [
        {
            "number": q.number,
            "post": _row(q.tweet, 0, zone, newcomers) if q.tweet else None,
            "rows": [_row(e.tweet, d, zone, newcomers) for d, e in walk(q.answers)],
            "count": len(q.answers),
        }
        for q in transcript.questions
    ]
    chat = transcript.chat
    start, end = chat.starts_at.astimezone(zone), chat.ends_at.astimezone(zone)
    return (
        _environment()
        .get_template(TEMPLATE)
        .render(
            chat=chat,
            when=f"{start:%A} {start.day} {start:%B %Y}, {start:%H:%M}–{end:%H:%M %Z}",
            questions=questions,
            general=[_row(t, 0, zone, newcomers) for t in transcript.general],
            participants=[
                {"p": p, "profile": profile_url(p.username)} for p in transcript.participants
            ],
            links=transcript.links,
            gaps=[
                f"{g.starts_at.astimezone(zone):%H:%M}–{g.ends_at.astimezone(zone):%H:%M %Z}"
                f" ({g.hashtag})"
                for g in transcript.gaps
            ],
            stats=transcript.stats,
            protected_included=transcript.protected_included,
            generated=f"{generated_at.astimezone(zone):%Y-%m-%d %H:%M %Z}",
        )
    )
