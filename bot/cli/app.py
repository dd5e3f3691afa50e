"""The `tcbot` group: load .env and settings, set up logging, turn errors into one line.

Nothing else lives here. Every TcbotError becomes one line, ``Error: <what>; <what
to do>``, on stderr with exit status 1; so does every usage mistake (an unknown
option, a missing argument). A traceback means a bug in tcbot, never a user error.
"""

from __future__ import annotations

import io
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import click
from dotenv import dotenv_values
from dotenv.parser import parse_stream
from sqlalchemy.orm import Session, sessionmaker

from bot import __version__
from bot.clock import SystemClock
from bot.config import Settings
from bot.errors import ConfigError, TcbotError

log = logging.getLogger(__name__)

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "--version", prog_name="tcbot", message="%(prog)s %(version)s")
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path(".env"),
    show_default=True,
    help="Read settings from this file; the environment wins over it.",
)
@click.pass_context
def cli(ctx: click.Context, env_file: Path) -> None:
    """tcbot: the #TherapistsConnect bot and archive.

    It posts the weekly #TraineeTalk questions on time, archives every thread
    and lets organisers read, search and export what was said. With no X
    credentials it uses a built-in sandbox, so you can try everything safely.

    Example: tcbot check
    """
    ctx.obj = Runtime(env_file)


class Runtime:
    """What every command shares: the settings, loaded once, on first use."""

    def __init__(self, env_file: Path) -> None:
        self.env_file = env_file
        self.clock = SystemClock()
        self._settings: Settings | None = None
        self._sessions: sessionmaker[Session] | None = None

    def sessions(self) -> sessionmaker[Session]:
        """The archive database, brought up to date on first use."""
        if self._sessions is None:
            from bot import wiring

            self._sessions = wiring.open_database(self.settings)
        return self._sessions

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            env = {**read_env_file(self.env_file), **os.environ}
            self._settings = Settings.from_env(env)
            configure_logging(self._settings.log_level)
        return self._settings


def read_env_file(path: Path) -> dict[str, str]:
    """The settings in a .env file (absent file: none); a malformed line is a ConfigError."""
    if not path.exists():
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            str(path), f"cannot read {path} ({exc.__class__.__name__})", "check the file"
        ) from None
    for binding in parse_stream(_lines(text)):
        if binding.error:
            line = binding.original.string.strip()
            raise ConfigError(
                str(path),
                f"{path}:{binding.original.line}: cannot understand {line[:40]!r}",
                "write each setting as NAME=value (see config.example.env)",
            )
    values = dotenv_values(stream=_lines(text), interpolate=False)
    return {k: v for k, v in values.items() if v is not None}


def _lines(text: str) -> io.StringIO:
    return io.StringIO(text)


def configure_logging(level: str) -> None:
    """Log to stderr at `level`; tweepy and oauthlib stay above DEBUG (they log secrets)."""
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    quiet = max(logging.INFO, logging.getLevelNamesMapping()[level])
    for noisy in ("tweepy", "oauthlib", "requests_oauthlib"):
        logging.getLogger(noisy).setLevel(quiet)
    for chatty in ("urllib3", "alembic"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, quiet))


@cli.command()
@click.pass_obj
def check(rt: Runtime) -> None:
    """Show the effective configuration, with secrets hidden.

    Settings come from the environment and from .env (see config.example.env).

    Example: tcbot check
    """
    settings = rt.settings
    width = max(len(name) for name, _ in settings.describe())
    for name, shown in settings.describe():
        click.echo(f"{name:<{width}}  {shown}")
    mode = (
        "sandbox X API (no X credentials set; nothing reaches X)"
        if settings.uses_sandbox
        else "X's API with the credentials above"
    )
    click.echo(f"\nPosting and reading through: {mode}")


@cli.group()
def db() -> None:
    """Manage the archive database (tcbot upgrades it on every start)."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(rt: Runtime) -> None:
    """Bring the database up to date with this version of tcbot.

    Safe to run again: an up-to-date database is left as it is.

    Example: tcbot db upgrade
    """
    from bot import wiring

    revision = wiring.upgrade_database(rt.settings)
    click.echo(f"Database is up to date (revision {revision}).")


@cli.group("archive")
def archive_group() -> None:
    """Read, search and export what was said: chats, transcripts, imports."""


@cli.group()
def intros() -> None:
    """Introductions on #TherapistsConnect: who said hello, and where they are."""


@cli.group()
def welcomes() -> None:
    """Newcomers: the organisers' list of people to welcome, and the welcome file."""


@cli.group()
def optout() -> None:
    """People who asked never to be contacted by the bot (kept for ever)."""


@cli.group()
def sandbox() -> None:
    """The sandbox X API: a stand-in for X on this computer, for rehearsals and tests."""


@sandbox.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8765,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on; 0 picks a free one.",
)
@click.option(
    "--state",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Keep users and tweets in this SQLite file, so a rehearsal can be resumed.",
)
@click.option("--bot-username", default="tcbot", show_default=True, help="The bot account's name.")
@click.option(
    "--fault", "faults", multiple=True, metavar="NAME=VALUE",
    help="Misbehave on purpose, like X does: rate_limited, server_error, unavailable, dropped or"
    " dropped_after=SHARE (0-1 of requests), latency_ms=N, seed=N, queue=503,drop,...,"
    " spent_endpoints='GET /2/tweets/search/recent'. Repeat for several; change them while it"
    " runs with PUT /_sandbox/faults.",
)  # fmt: skip
def sandbox_serve(
    host: str, port: int, state: Path | None, bot_username: str, faults: tuple[str, ...]
) -> None:
    """Serve the sandbox X API until Ctrl-C.

    Point tcbot at it with X_API_BASE_URL=<the printed URL> and no X credentials.

    Example: tcbot sandbox serve --port 0 --state rehearsal.db --fault unavailable=0.1
    """
    from bot import wiring

    wiring.serve_sandbox(
        host=host, port=port, state=state, bot_username=bot_username,
        faults=wiring.parse_faults(faults),
    )  # fmt: skip


@cli.command()
@click.option("--start-in", default=5.0, show_default=True, type=click.FloatRange(0.5, 600),
              help="Seconds until the rehearsed chat starts.")  # fmt: skip
@click.option("--interval", default=8.0, show_default=True, type=click.FloatRange(1, 600),
              help="Seconds between the chat's posts (a real chat uses 10 minutes).")  # fmt: skip
def demo(start_in: float, interval: float) -> None:
    """Rehearse a whole #TraineeTalk chat on the sandbox, in about a minute.

    Starts a sandbox X API with pretend participants, queues a chat that begins a
    few seconds from now, runs the bot until the closing post, then prints the
    conversation as archived. Nothing reaches X; your real archive is not touched
    (the rehearsal uses tcbot-demo.db, replaced on every run).

    Example: tcbot demo --interval 5
    """
    from bot import demo as demo_module

    result = demo_module.run(echo=click.echo, start_in=start_in, interval=interval)
    if any(status.value != "sent" for status in result.statuses):
        raise TcbotError(
            "some rehearsal posts did not go out (see above)", "run it again with --interval 15"
        )


@cli.command()
@click.pass_obj
def status(rt: Runtime) -> None:
    """Show whether the bot is running, what is next, what went wrong, and this month's X costs.

    Example: tcbot status
    """
    from bot import status as status_report

    with rt.sessions()() as session:
        status_report.show(session, settings=rt.settings, now=rt.clock.now(), echo=click.echo)


def fail(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the `tcbot` console script."""
    try:
        status = cli.main(args=argv, prog_name="tcbot", standalone_mode=False)
    except TcbotError as exc:
        fail(str(exc))
    except click.exceptions.Abort:
        fail("stopped before finishing; run the command again to continue")
    except click.ClickException as exc:
        hint = "run 'tcbot --help' to see the commands and options"
        ctx = getattr(exc, "ctx", None)  # usage errors know their command
        if ctx is not None:
            hint = f"run '{ctx.command_path} --help' to see how to use it"
        fail(f"{exc.format_message()}; {hint}")
    sys.exit(status if isinstance(status, int) else 0)
