"""Commands that keep the archive within X's rules: `archive sweep` and `archive forget`."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click

from bot.cli.app import Runtime, archive_group


@archive_group.command("sweep")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="Check at most this many posts (default: today's share, so the whole"
              " archive is checked every TCBOT_SWEEP_DAYS days).")  # fmt: skip
@click.option("--all", "everything", is_flag=True,
              help="Check every archived post now (X bills each post it returns).")  # fmt: skip
@click.pass_obj
def archive_sweep(rt: Runtime, limit: int | None, everything: bool) -> None:
    """Ask X about archived posts: remove those deleted, hide those no longer public.

    X's rules for archives: a post deleted on X is deleted here; the posts of an
    account that turned protected or was suspended are hidden from transcripts,
    searches, introductions and exports (they stay in the database, and
    --include-protected shows them). Posts checked longest ago go first, 100 to a
    request. The bot runs this daily by itself; run it by hand to catch up.

    Example: tcbot archive sweep --limit 500
    """
    from bot import compliance_commands

    if limit is not None and everything:
        raise click.UsageError("give --limit or --all, not both")
    compliance_commands.run_sweep(
        sessions=rt.sessions(), settings=rt.settings, clock=rt.clock, limit=limit,
        everything=everything, echo=click.echo, progress_bar=_progress_bar,
    )  # fmt: skip


@archive_group.command("forget")
@click.argument("username")
@click.option("--yes", "-y", "assume_yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def archive_forget(rt: Runtime, username: str, assume_yes: bool) -> None:
    """Remove a person's posts and profile from the archive, and never archive them again.

    For someone who asks to be forgotten. USERNAME is their X username, with or
    without @, in any case. Others' retweets of their posts go too; others'
    replies and quotes stay. Someone the archive has never seen is still recorded,
    so nothing of theirs is collected later. Asks before removing anything.

    Example: tcbot archive forget @someone
    """
    from bot import compliance_commands

    compliance_commands.forget(
        username, sessions=rt.sessions(), clock=rt.clock, assume_yes=assume_yes,
        confirm=lambda question: click.confirm(question, default=False), echo=click.echo,
    )  # fmt: skip


@contextmanager
def _progress_bar(total: int) -> Iterator[Callable[[int], None] | None]:
    """A progress bar over the posts to check on a terminal; nothing for a pipe or a file."""
    if not sys.stderr.isatty():
        yield None
        return
    with click.progressbar(length=total, label="Checking", file=sys.stderr) as bar:
        yield bar.update
