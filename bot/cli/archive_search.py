"""Commands for reviewing the archive: `archive search` and `archive stats`."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click

from bot.cli.app import Runtime, archive_group


def terminal_style(words: str) -> str:
    """Highlight for a terminal: bold yellow."""
    return click.style(words, bold=True, fg="yellow")


def highlighter(stream: object) -> Callable[[str], str]:
    """Bold yellow on a terminal; **word** for a file or a pipe, where colour codes are noise."""
    from bot.search_commands import plain_style

    isatty = getattr(stream, "isatty", None)
    return terminal_style if callable(isatty) and isatty() else plain_style


@archive_group.command("search", context_settings={"ignore_unknown_options": True})
@click.argument("words", nargs=-1, required=True, metavar="QUERY")
@click.option("--from", "from_user", metavar="USER", default=None,
              help="Only tweets by this account, e.g. --from TraineeTalk.")  # fmt: skip
@click.option("--hashtag", metavar="TAG", default=None,
              help="Only tweets with this hashtag, e.g. --hashtag TraineeTalk.")  # fmt: skip
@click.option("--since", metavar="DATE", default=None,
              help="From this date or time (2026-12-02, 2026-12-02T19:55, or 7d for 7 days ago).")  # fmt: skip
@click.option("--until", metavar="DATE", default=None,
              help="Up to and including this date, or before this time.")  # fmt: skip
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000),
              help="How many tweets to show, best first.")  # fmt: skip
@click.option("--include-protected", is_flag=True,
              help="Also show tweets from protected or suspended accounts (left out by default:"
              " they are not public, and X's rules ask that they are not republished).")  # fmt: skip
@click.pass_obj
def search(
    rt: Runtime,
    words: tuple[str, ...],
    from_user: str | None,
    hashtag: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    include_protected: bool,
) -> None:
    """Search archived tweets: best matches first, matching words highlighted.

    QUERY is words to find (all of them, in any order, any case, accents
    ignored); "a phrase" in quotes; this OR that; -word to leave tweets with
    that word out; begin* for words that begin so (3 letters or more). Quote
    the query so the shell leaves it alone. Times are shown in TCBOT_TIMEZONE.
    When more than 2,000 tweets match, the newest 2,000 are ranked: add words,
    or --since and --until, to reach further back.

    Example: tcbot archive search 'supervision "self care" -exam' --hashtag TraineeTalk --since 2026-09-01
    """
    from bot import search_commands

    style = highlighter(sys.stdout)
    search_commands.run_search(
        search_commands.query_from_words(words), sessions=rt.sessions(), settings=rt.settings, clock=rt.clock, echo=click.echo,
        style=style, from_user=from_user, hashtag=hashtag, since=since, until=until, limit=limit,
        include_protected=include_protected,
    )  # fmt: skip


@archive_group.command("stats")
@click.option("--weeks", default=12, show_default=True, type=click.IntRange(1, 520),
              help="How many weeks to show, this week last.")  # fmt: skip
@click.option("--include-protected", is_flag=True,
              help="Also count tweets from protected or suspended accounts (left out by default, as in"
              " transcripts).")  # fmt: skip
@click.pass_obj
def stats(rt: Runtime, weeks: int, include_protected: bool) -> None:
    """Show activity week on week: tweets, participants, newcomers and returning people.

    First each recorded chat, compared with the chat before it on its hashtag;
    then each week (Monday to Sunday in TCBOT_TIMEZONE) on the tracked hashtags
    (TCBOT_HASHTAGS), replies in their threads included, compared with the week
    before. A newcomer is someone whose first archived tweet is in that chat or week.

    Example: tcbot archive stats --weeks 8
    """
    from bot import search_commands

    search_commands.show_stats(
        sessions=rt.sessions(), settings=rt.settings, clock=rt.clock, echo=click.echo,
        weeks=weeks, include_protected=include_protected,
    )  # fmt: skip
