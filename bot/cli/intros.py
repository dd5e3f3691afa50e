"""Commands for introductions on the community hashtag: `intros list`."""

from __future__ import annotations

import click

from bot.cli.app import Runtime, intros


@intros.command("list")
@click.option("--since", default="7d", show_default=True,
              help="How far back: 7d, 24h, 2w, a date (2026-12-01, local time) or 'all'.")  # fmt: skip
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table",
              show_default=True, help="table for reading, json or csv for other tools.")  # fmt: skip
@click.option("--hashtag", default="#TherapistsConnect", show_default=True,
              help="The community hashtag to look in.")  # fmt: skip
@click.pass_obj
def intros_list(rt: Runtime, since: str, fmt: str, hashtag: str) -> None:
    """List people who introduced themselves on the hashtag, newest first.

    Shows each person's username, name, the date (in TCBOT_TIMEZONE), a link to
    the post, its text, and the role and place they gave, if they gave them.
    Retweets and protected accounts are left out. Introductions are recognised
    by a scored list of cues (greetings, "I'm a ...", "new here", ...) described
    in the README; only role and place are taken from the text, as written.

    Example: tcbot intros list --since 2w --format csv > intros.csv
    """
    from bot import intro_commands

    intro_commands.list_command(
        open_sessions=rt.sessions, settings=rt.settings, clock=rt.clock, since=since,
        hashtag=hashtag, fmt=intro_commands.IntroFormat(fmt), echo=click.echo,
    )  # fmt: skip
