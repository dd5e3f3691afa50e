"""The `archive import` command: X API pages from twarc2 or tcbot files into the archive."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import click

from bot.cli.app import Runtime, archive_group


@archive_group.command("import")
@click.argument(
    "files", nargs=-1, required=True, metavar="FILE...", type=click.Path(path_type=Path)
)
@click.pass_obj
def archive_import(rt: Runtime, files: tuple[Path, ...]) -> None:
    """Load X API pages from JSON Lines files that twarc2 or tcbot wrote.

    Each line of a FILE is one page of an X API v2 response (data, includes,
    meta), as `twarc2 search` saves them; plain or gzip. Safe to run again: what
    is already archived is not duplicated, and a newer copy of a tweet replaces
    an older one. A line that is not a page is listed with its line number and
    skipped; the rest loads. Everyone imported counts as already known: the
    bot does not welcome them.

    Example: tcbot archive import traineetalk-2025.jsonl more-chats.jsonl.gz
    """
    from archive.importer import check_readable, import_pages
    from bot import import_commands

    check_readable(files)  # before the database is opened (or created)
    sessions = rt.sessions()
    with progress_bar(files, sys.stderr) as progress:
        report = import_pages(sessions, files, progress=progress)
    known = import_commands.mark_imported_known(
        sessions, report, now=rt.clock.now(), bot_username=rt.settings.bot_username
    )
    import_commands.show(report, echo=click.echo, warn=_warn, known=known)  # after the bar


@contextmanager
def progress_bar(files: tuple[Path, ...], stream: TextIO) -> Iterator[Callable[[int], None] | None]:
    """A progress bar over the files' bytes on a terminal; nothing for a pipe or a file."""
    if not stream.isatty():
        yield None
        return
    total = sum(path.stat().st_size for path in files if path.is_file())
    with click.progressbar(length=total, label="Importing", file=stream) as bar:
        yield bar.update


def _warn(message: str) -> None:
    click.echo(message, err=True)
