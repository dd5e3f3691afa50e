"""Commands for the weekly chats: `schedule check/sync`, `queue ...` and `run`."""

from __future__ import annotations

import signal
import threading
from datetime import date
from pathlib import Path
from types import FrameType

import click

from bot.cli.app import Runtime, cli


def _paths(rt: Runtime, files: tuple[Path, ...]) -> list[Path]:
    return list(files) if files else [Path(f) for f in rt.settings.schedule_files]


FILES = click.argument(
    "files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path), metavar="[FILE]..."
)


@cli.group()
def schedule() -> None:
    """Check the hosts' schedule files and load them into the queue of posts."""


@schedule.command("check")
@FILES
@click.pass_obj
def schedule_check(rt: Runtime, files: tuple[Path, ...]) -> None:
    """Check schedule files without touching the database.

    FILE defaults to TCBOT_SCHEDULE_FILES (schedules/traineetalk.toml). Each
    problem names the file and line, or the chat and question, and what to fix.

    Example: tcbot schedule check schedules/traineetalk.toml
    """
    from bot import chat_commands

    chat_commands.check(_paths(rt, files), clock=rt.clock, echo=click.echo)


@schedule.command("sync")
@FILES
@click.pass_obj
def schedule_sync(rt: Runtime, files: tuple[Path, ...]) -> None:
    """Load schedule files into the queue of posts (safe to run again).

    Unsent posts are updated to match the files; posts already sent are never
    changed; a chat removed from its file has its unsent posts cancelled. Nothing
    is loaded while any file has an error.

    Example: tcbot schedule sync
    """
    from bot import chat_commands

    chat_commands.sync(_paths(rt, files), sessions=rt.sessions(), clock=rt.clock, echo=click.echo)


@cli.group()
def queue() -> None:
    """See and change what the bot will post, without editing files."""


@queue.command("list")
@click.option("--all", "show_all", is_flag=True, help="Also show posts already sent or cancelled.")
@click.pass_obj
def queue_list(rt: Runtime, show_all: bool) -> None:
    """Show what will be posted when, in local time and UTC.

    Example: tcbot queue list
    """
    from bot import chat_commands

    chat_commands.list_queue(
        sessions=rt.sessions(), settings=rt.settings, clock=rt.clock, echo=click.echo,
        show_all=show_all,
    )  # fmt: skip


@queue.command("preview")
@click.argument("chat")
@click.pass_obj
def queue_preview(rt: Runtime, chat: str) -> None:
    """Show a chat as its thread will read, with each post's length.

    CHAT is the chat's date (2026-12-02) or series:date (traineetalk:2026-12-02).

    Example: tcbot queue preview 2026-12-02
    """
    from bot import chat_commands

    chat_commands.preview(chat, sessions=rt.sessions(), settings=rt.settings, echo=click.echo)


@queue.command("add")
@click.option("--date", "chat_date", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="The chat's date, e.g. 2026-12-16.")  # fmt: skip
@click.option("--topic", required=True, help="The chat's topic.")
@click.option("--question", "questions", multiple=True, required=True,
              help="A question; repeat for Q1, Q2, ... in order.")  # fmt: skip
@click.option("--file", "series_file", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Take the series settings from this schedule file "
              "[default: the first of TCBOT_SCHEDULE_FILES].")  # fmt: skip
@click.pass_obj
def queue_add(
    rt: Runtime,
    chat_date: object,
    topic: str,
    questions: tuple[str, ...],
    series_file: Path | None,
) -> None:
    """Queue a chat from the command line, using a series' times and texts.

    The chat lives in the database: `tcbot schedule sync` never overwrites it.

    Example: tcbot queue add --date 2026-12-16 --topic "Endings" --question "How do you..."
    """
    from bot import chat_commands

    assert hasattr(chat_date, "date")
    day: date = chat_date.date()
    chat_commands.add(
        series_file or _paths(rt, ())[0], chat_date=day, topic=topic, questions=questions,
        sessions=rt.sessions(), settings=rt.settings, clock=rt.clock, echo=click.echo,
    )  # fmt: skip


def _selector_command(action: str, summary: str) -> None:
    @queue.command(
        action,
        help=f"""{summary}

    WHAT is a chat's date (2026-12-02), series:date (traineetalk:2026-12-02) or one
    post's number from `tcbot queue list` (#12). Posts already sent never change.

    Example: tcbot queue {action} 2026-12-02
    """,
    )
    @click.argument("what")
    @click.pass_obj
    def command(rt: Runtime, what: str) -> None:
        from bot import chat_commands

        chat_commands.change(action, what, sessions=rt.sessions(), clock=rt.clock, echo=click.echo)


_selector_command("hold", "Hold posts: they wait, unsent, until released.")
_selector_command("release", "Release held posts so they go out when due.")
_selector_command("cancel", "Cancel posts that have not been sent.")


@cli.command()
@click.option("--drain", is_flag=True,
              help="Post everything that is due now, then stop (for catching up and tests).")  # fmt: skip
@click.pass_obj
def run(rt: Runtime, drain: bool) -> None:
    """Run the bot: post each queued post on time, re-reading the schedule files.

    Only one `tcbot run` posts at a time; a second one waits as a standby and
    takes over if the first stops. Ctrl-C stops it cleanly.

    Example: tcbot run
    """
    from bot import chat_commands

    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        chat_commands.run(settings=rt.settings, sessions=rt.sessions(), clock=rt.clock,
                          stop=stop, drain=drain, echo=click.echo)  # fmt: skip
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
