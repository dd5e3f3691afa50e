"""Commands for chats and transcripts: `archive chat add`, `archive chats`, `archive transcript`."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli.app import Runtime, archive_group


@archive_group.group("chat")
def chat_group() -> None:
    """Record chats the bot did not run, so they get transcripts too."""


@chat_group.command("add")
@click.option("--hashtag", required=True, help="The chat's hashtag, in quotes: '#TraineeTalk'.")
@click.option("--host", required=True, help="The host account's username, e.g. TraineeTalk.")
@click.option("--start", required=True,
              help="When the chat began: 2026-12-02T19:55Z, or local time 2026-12-02 19:55.")  # fmt: skip
@click.option("--end", required=True, help="When it ended, in the same forms as --start.")
@click.option("--topic", default=None, help="What the chat was about.")
@click.pass_obj
def chat_add(rt: Runtime, hashtag: str, host: str, start: str, end: str, topic: str | None) -> None:
    """Add a chat: a hashtag, a host account and a time window.

    Times may be in any ISO 8601 form; without a zone or offset they are local
    time in TCBOT_TIMEZONE. The chat's questions are the host's tweets in the
    window that start with Q1, Q2, ... (after any @mentions). Chats the bot runs
    are recorded by themselves: no need to add them.

    \b
    Example: tcbot archive chat add --hashtag '#TraineeTalk' --host TraineeTalk \\
               --start 2026-12-02T19:55Z --end 2026-12-02T21:00Z
    """
    from bot import archive_commands

    archive_commands.add_chat(
        sessions=rt.sessions(), settings=rt.settings, hashtag=hashtag, host=host, start=start,
        end=end, topic=topic, echo=click.echo,
    )  # fmt: skip


@archive_group.command("chats")
@click.pass_obj
def chats(rt: Runtime) -> None:
    """List the chats: id, date, topic, tweets, participants and newcomers.

    Newcomers are people whose first archived tweet is in that chat. Counts leave
    out protected accounts, as the transcripts do.

    Example: tcbot archive chats
    """
    from bot import archive_commands

    archive_commands.show_chats(sessions=rt.sessions(), settings=rt.settings, echo=click.echo)


@archive_group.command("transcript")
@click.argument("chat")
@click.option("--format", "fmt", type=click.Choice(["json", "md", "html", "csv"]),
              default="md", show_default=True, help="What to write.")  # fmt: skip
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of the screen.")  # fmt: skip
@click.option("--include-protected", is_flag=True,
              help="Also include tweets from protected or suspended accounts (left out by default:"
              " they are not public, and X's rules ask that they are not republished).")  # fmt: skip
@click.pass_obj
def transcript(
    rt: Runtime, chat: str, fmt: str, output: Path | None, include_protected: bool
) -> None:
    """Write a chat's transcript: each question with its answers and replies, oldest first.

    CHAT is the chat's id from `tcbot archive chats`, or its date (2026-12-02) when
    only one chat was on that day. html is one self-contained page to open or
    publish; csv has one row per tweet (ids written as ="..." so spreadsheets keep
    all 19 digits); json keeps the structure for other programs.

    \b
    Example: tcbot archive transcript 3 --format html -o traineetalk-2026-12-02.html
    """
    from bot import archive_commands

    archive_commands.write_transcript(
        chat, sessions=rt.sessions(), settings=rt.settings, clock=rt.clock,
        fmt=archive_commands.TranscriptFormat(fmt), output=output,
        include_protected=include_protected, echo=click.echo,
        out=lambda text: click.echo(text, nl=False),
    )  # fmt: skip
