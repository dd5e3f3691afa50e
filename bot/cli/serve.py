"""`tcbot serve`: the web pages for organisers and hosts (and making their password)."""

from __future__ import annotations

import click

from bot.cli.app import Runtime, cli
from bot.errors import TcbotError

MIN_PASSWORD = 10


@cli.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; anything but 127.0.0.1 needs TCBOT_WEB_PASSWORD.",
)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on; 0 picks a free one.")  # fmt: skip
@click.option(
    "--hash-password",
    "make_hash",
    is_flag=True,
    help="Ask for a password, print its hashed form for TCBOT_WEB_PASSWORD, and stop.",
)
@click.pass_obj
def serve(rt: Runtime, host: str, port: int, make_hash: bool) -> None:
    """Serve the web pages: read the archive, and (after logging in) host.

    Hosts log in with TCBOT_WEB_PASSWORD to queue a chat, hold, release, change or
    cancel posts, see who waits to be welcomed, and manage opt-outs. The pages listen
    on this computer only (127.0.0.1) unless --host says otherwise, which needs the
    password set. Posting is still done by 'tcbot run'.

    Example: tcbot serve --port 8080
    """
    if make_hash:
        line = hashed_password_line()
        click.echo("Put this line in .env (the password itself is not kept anywhere):", err=True)
        click.echo(line)
        return
    from bot.web import server

    server.serve(rt.settings, host=host, port=port, clock=rt.clock, echo=click.echo)


def hashed_password_line() -> str:
    """Ask for the password twice (hidden); the .env line holding its hashed form."""
    from bot.web.passwords import hash_password

    password = click.prompt(
        "Password for the hosting pages", hide_input=True, confirmation_prompt=True
    )
    if len(password) < MIN_PASSWORD:
        raise TcbotError(
            f"that password has {len(password)} characters; it needs at least {MIN_PASSWORD}",
            "choose a longer one: a few unrelated words make a good password",
        )
    return f"TCBOT_WEB_PASSWORD='{hash_password(password)}'"
