"""Helpers for the web tests: a real server on a free loopback port, and Chromium.

`serve(app)` runs uvicorn in a thread on 127.0.0.1 with a port the OS chooses and yields
the base URL once it accepts connections (no sleeps: it waits on the server's own
`started` flag). `chromium()` launches Debian's Chromium through Playwright with the
flags the issue names; tests that need it skip with a message saying how to get it when
/usr/bin/chromium is missing (`make test` installs it). `screenshot(page, name)` saves
a PNG under build/test-artifacts/screenshots for people to look at.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "build" / "test-artifacts" / "screenshots"


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Run `app` on a free loopback port in a thread; yield 'http://127.0.0.1:PORT'."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    ready = threading.Event()
    thread = threading.Thread(target=lambda: server.run(sockets=[sock]), daemon=True)

    original_startup = server.startup

    async def startup(sockets: Any = None) -> None:
        await original_startup(sockets=sockets)
        ready.set()

    server.startup = startup  # type: ignore[method-assign]
    thread.start()
    if not ready.wait(timeout=30):
        raise RuntimeError("the web server did not start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


@contextmanager
def chromium() -> Iterator[Any]:
    """A Playwright Browser on Debian's Chromium (skips when it is not installed)."""
    if not CHROMIUM.exists():
        pytest.skip("browser tests need Chromium: run 'make test' or 'apt-get install -y chromium'")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page PNG of `page` as build/test-artifacts/screenshots/NAME.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
