"""Commands for welcoming newcomers and honouring opt-outs: `welcomes ...` and `optout ...`."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli.app import Runtime, optout, welcomes

FORMATS = ["table", "json", "csv"]


@welcomes.command("list")
@click.option("--all", "include_all", is_flag=True,
              help="Also show everyone already welcomed, skipped, counted in the digest or opted"
              " out.")  # fmt: skip
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="table for reading, json or csv for other tools.")  # fmt: skip
@click.pass_obj
def welcomes_list(rt: Runtime, include_all: bool, fmt: str) -> None:
    """List the newcomers waiting for an organiser to welcome them, oldest first.

    For each person: their username and name, the hashtag, when they posted (in
    TCBOT_TIMEZONE), what they said, a link to reply to it on X, a suggested
    welcome and why they are on the list (often: the bot may not reply to them,
    because they did not mention it). Protected and suspended accounts are left
    out. Ends with what the bot's own welcome replies are doing.

    Example: tcbot welcomes list --format csv > to-welcome.csv
    """
    from bot import welcome_commands

    settings = rt.settings
    welcome_commands.list_command(
        sessions=rt.sessions(), zone=settings.timezone, dry_run=settings.welcome_dry_run,
        include_all=include_all, fmt=welcome_commands.Format(fmt), echo=click.echo,
    )  # fmt: skip


def _mark_command(name: str, status: str, summary: str, done: str) -> None:
    @welcomes.command(
        name,
        help=f"""{summary}

    USER is their X username, with or without @, in any case. Only someone on the
    list ('tcbot welcomes list') can be marked.

    Example: tcbot welcomes {name} @ana_k
    """,
    )
    @click.argument("user")
    @click.pass_obj
    def command(rt: Runtime, user: str) -> None:
        from archive.models import WelcomeStatus
        from bot import welcome_commands

        username = welcome_commands.mark(
            user, WelcomeStatus(status), sessions=rt.sessions(), now=rt.clock.now()
        )
        click.echo(f"@{username} {done}.")


_mark_command("done", "done", "Record that you welcomed someone on the list: they leave it.",
              "marked as welcomed; they leave the list")  # fmt: skip
_mark_command("skip", "skipped", "Take someone off the list without welcoming them.",
              "skipped; they leave the list and will not be welcomed")  # fmt: skip


@welcomes.command("check")
@click.pass_obj
def welcomes_check(rt: Runtime) -> None:
    """Check the welcome file (TCBOT_WELCOME_FILE, schedules/welcome.toml by default).

    Lists every problem with its line and what to change, and fails if there is
    one; otherwise shows each hashtag's modes and number of texts and a sample
    welcome. Nothing is posted or saved.

    Example: tcbot welcomes check
    """
    from bot import welcome_commands

    settings = rt.settings
    welcome_commands.check_command(
        Path(settings.welcome_file), zone=settings.timezone, echo=click.echo
    )


@optout.command("add")
@click.argument("user")
@click.pass_obj
def optout_add(rt: Runtime, user: str) -> None:
    """Record that someone asked never to be contacted by the bot (say, by email).

    USER is their X username, with or without @. Any welcome still waiting for
    them is cancelled and they leave the organisers' list and the digest. People
    who reply "stop" (or similar) to the bot are opted out by the bot itself.

    Example: tcbot optout add @ana_k
    """
    from bot import welcome_commands

    click.echo(welcome_commands.optout_add(user, sessions=rt.sessions(), now=rt.clock.now()))


@optout.command("list")
@click.option("--format", "fmt", type=click.Choice(FORMATS[:2]), default="table",
              show_default=True, help="table for reading, json for other tools.")  # fmt: skip
@click.pass_obj
def optout_list(rt: Runtime, fmt: str) -> None:
    """List everyone who opted out, newest first, and how they did it.

    Example: tcbot optout list
    """
    from bot import welcome_commands

    welcome_commands.optout_list(
        sessions=rt.sessions(), zone=rt.settings.timezone, fmt=welcome_commands.Format(fmt),
        echo=click.echo,
    )  # fmt: skip


@optout.command("remove")
@click.argument("user")
@click.option("--yes", "-y", "assume_yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def optout_remove(rt: Runtime, user: str, assume_yes: bool) -> None:
    """End someone's opt-out, only when they asked to hear from the bot again.

    The record of the opt-out is kept. Asks first; --yes does not.

    Example: tcbot optout remove @ana_k
    """
    from bot import welcome_commands

    welcome_commands.optout_remove(
        user, sessions=rt.sessions(), now=rt.clock.now(), assume_yes=assume_yes,
        confirm=lambda question: click.confirm(question, default=False), echo=click.echo,
    )  # fmt: skip
