"""The `tcbot` command line (the only package that imports click, reads .env or sets up logging).

app.py holds the group, settings loading and error reporting; the other modules add
commands to it by area.
"""

from bot.cli import chats as _chats  # noqa: F401  (registers schedule, queue and run)
from bot.cli.app import cli, main

__all__ = ["cli", "main"]
