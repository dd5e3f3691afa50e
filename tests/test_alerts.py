"""Alerts: always logged at ERROR; sent to Apprise addresses when configured."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bot.alerts import make_alert
from bot.errors import ConfigError


@pytest.fixture
def hook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A web hook on a loopback port that records what it is sent."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"json://127.0.0.1:{server.server_address[1]}/", received
    server.shutdown()
    server.server_close()


def test_alert_without_urls_only_logs(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        make_alert(())("Q3 of 2026-12-02 was missed")
    assert [r.getMessage() for r in caplog.records] == ["ALERT: Q3 of 2026-12-02 was missed"]


def test_alert_is_sent_to_an_apprise_web_hook(
    hook: tuple[str, list[dict[str, Any]]], caplog: pytest.LogCaptureFixture
) -> None:
    url, received = hook
    with caplog.at_level(logging.ERROR, logger="bot.alerts"):
        make_alert([url])("authentication failed: X refused the bot's keys")
    assert len(received) == 1
    assert received[0]["title"] == "tcbot needs attention"
    assert received[0]["message"] == "authentication failed: X refused the bot's keys"
    assert "ALERT: authentication failed" in caplog.text


def test_alert_delivery_failure_never_stops_the_bot(caplog: pytest.LogCaptureFixture) -> None:
    import socket

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # nothing listens here once the socket closes
    alert = make_alert([f"json://127.0.0.1:{port}/"])
    with caplog.at_level(logging.WARNING, logger="bot.alerts"):
        alert("Q1 failed")
    assert "could not be delivered" in caplog.text


def test_alert_bad_url_is_a_config_error_without_the_secret() -> None:
    with pytest.raises(ConfigError) as err:
        make_alert(["nonsense://secret-token-123"])
    assert err.value.variable == "TCBOT_ALERT_URLS"
    assert "secret-token-123" not in str(err.value)
