"""The `tcbot` command line (the only package that imports click, reads .env or sets up logging).

app.py holds the group, settings loading and error reporting; the other modules add
commands to it by area.
"""

from bot.cli import archive_chats as _archive_chats  # noqa: F401  (archive chats, transcripts)
from bot.cli import archive_collect as _archive_collect  # noqa: F401  (archive collect)
from bot.cli import archive_compliance as _archive_compliance  # noqa: F401  (sweep, forget)
from bot.cli import archive_import as _archive_import  # noqa: F401  (archive import)
from bot.cli import archive_search as _archive_search  # noqa: F401  (archive search, stats)
from bot.cli import chats as _chats  # noqa: F401  (registers schedule, queue and run)
from bot.cli import intros as _intros  # noqa: F401  (intros list)
from bot.cli import serve as _serve  # noqa: F401  (serve: the web pages)
from bot.cli import welcomes as _welcomes  # noqa: F401  (welcomes, optout)
from bot.cli.app import cli, main

__all__ = ["cli", "main"]
