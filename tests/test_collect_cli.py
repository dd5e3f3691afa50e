"""`tcbot archive collect`: one poll of the tracked hashtags, through the CLI, against a sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.sandbox.remote import SandboxAdmin
from bot.sandbox.server import SandboxServer, start_sandbox
from tests.test_cli import assert_user_error, run


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with start_sandbox(bot_username="TraineeTalkBot") as running:
        yield running


@pytest.fixture
def folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, server: SandboxServer,
    dispose_cli_databases: None,
) -> Path:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("X_API_BASE_URL", server.url)
    monkeypatch.setenv("TCBOT_LOG_LEVEL", "WARNING")
    return tmp_path


def test_collect_reads_only_what_is_new_each_time(
    capsys: pytest.CaptureFixture[str], folder: Path, server: SandboxServer
) -> None:
    admin = SandboxAdmin(server.url)
    admin.add_user("ana")
    admin.post_as("ana", "Hello #TraineeTalk")
    admin.post_as("ana", "Hi all #TherapistsConnect, counsellor in Leeds")
    admin.post_as("ana", "nothing tracked here")
    code, out, _ = run(capsys, "archive", "collect")
    assert code == 0, out
    assert "Searched #therapistsconnect, #traineetalk." in out
    assert "Read 2 posts in 2 requests; 2 new in the archive." in out
    code, out, _ = run(capsys, "archive", "collect")
    assert "Read 0 posts in 2 requests; 0 new in the archive." in out


def test_collect_when_x_is_down_is_one_error_line(
    capsys: pytest.CaptureFixture[str], folder: Path, server: SandboxServer
) -> None:
    SandboxAdmin(server.url).set_faults(queue=[503, 503, 503, 503, 503, 503])
    code, out, err = run(capsys, "archive", "collect")
    assert_user_error(code, out, err, "Error: ")
