"""Running the web site: `tcbot serve` binds an address and hands the app to uvicorn.

Only 127.0.0.1 (this computer) by default. Any other address lets other computers
reach the pages, so it is refused unless TCBOT_WEB_PASSWORD is set: without it the
hosting pages are off, but the reading pages would be open to anyone who can reach
the address. The socket is bound here, before uvicorn starts, so a port in use is
one clear error and `--port 0` prints the port the system chose.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Callable

from bot.clock import Clock
from bot.config import Settings
from bot.errors import TcbotError

__all__ = ["check_bind", "is_loopback", "serve"]

log = logging.getLogger(__name__)


def is_loopback(host: str) -> bool:
    """True for addresses only this computer can reach (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, settings: Settings) -> None:
    """TcbotError for an address other computers can reach while no password is set."""
    if is_loopback(host) or settings.web_password is not None:
        return
    raise TcbotError(
        f"tcbot serve --host {host} would let other computers reach the pages, and"
        " TCBOT_WEB_PASSWORD is not set",
        "set TCBOT_WEB_PASSWORD in .env (tcbot serve --hash-password makes one), or leave out"
        " --host to serve this computer only (127.0.0.1)",
    )


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise TcbotError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc})",
            "choose another port with --port, or --port 0 for any free one",
        ) from None
    return sock


def serve(
    settings: Settings, *, host: str, port: int, clock: Clock, echo: Callable[[str], None]
) -> None:
    """Serve the site until Ctrl-C, printing its address first."""
    import uvicorn

    from archive.web.chat_pages import warm_counts
    from bot.web.site import create_site

    check_bind(host, settings)
    app = create_site(settings, clock=clock)
    sock = bind(host, port)
    warm_counts(app)  # the chats page's counts, before anyone asks
    shown = f"[{host}]" if ":" in host else host
    echo(f"tcbot web pages: http://{shown}:{sock.getsockname()[1]}/ (Ctrl-C stops them)")
    if settings.web_password is None:
        echo("Hosting pages are off: set TCBOT_WEB_PASSWORD to queue chats from the browser.")
    config = uvicorn.Config(
        app, log_level=settings.log_level.lower(), lifespan="off", server_header=False,
        proxy_headers=False,
    )  # fmt: skip
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
