"""The command line: help everywhere, one-line errors with exit 1, secrets never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from tests.test_docs import COMMANDS

SECRETS = {
    "X_API_KEY": "key-AAAA1111",
    "X_API_SECRET": "secret-BBBB2222",
    "X_ACCESS_TOKEN": "123-token-CCCC3333",
    "X_ACCESS_TOKEN_SECRET": "tokensecret-DDDD4444",
    "X_BEARER_TOKEN": "bearer-EEEE5555",
}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out, err = capsys.readouterr()
    code = done.value.code
    return (code if isinstance(code, int) else 1), out, err


def assert_user_error(code: int, out: str, err: str, *expected: str) -> None:
    assert code == 1
    lines = err.splitlines()
    assert lines and lines[-1].startswith("Error: "), err
    assert sum(line.startswith("Error") for line in lines) == 1, err
    assert "Traceback" not in err + out
    for text in expected:
        assert text in err


def test_cli_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.startswith("tcbot 0.")


@pytest.mark.parametrize(
    "path", ["tcbot"] + [path for path, _ in COMMANDS] + ["tcbot db", "tcbot sandbox"]
)
def test_cli_help_on_every_command(capsys: pytest.CaptureFixture[str], path: str) -> None:
    code, out, _ = run(capsys, *path.split()[1:], "--help")
    assert code == 0
    assert out.startswith("Usage: " + path)


def test_cli_unknown_command_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert_user_error(*run(capsys, "chek"), "No such command 'chek'", "tcbot --help")


def test_cli_bad_option_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert_user_error(
        *run(capsys, "sandbox", "serve", "--port", "http"), "'http' is not a valid integer"
    )


def test_cli_bad_setting_names_variable_and_value(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TCBOT_TIMEZONE", "Europe/Londn")
    assert_user_error(*run(capsys, "check"), "TCBOT_TIMEZONE='Europe/Londn'", "Europe/London")


def test_cli_partial_credentials_name_the_missing_one(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    for name, value in SECRETS.items():
        if name != "X_BEARER_TOKEN":
            monkeypatch.setenv(name, value)
    code, out, err = run(capsys, "check")
    assert_user_error(code, out, err, "X_BEARER_TOKEN is not set")
    for secret in SECRETS.values():
        assert secret not in err


def test_cli_malformed_env_line_is_reported_with_its_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("TCBOT_TIMEZONE=Europe/Paris\nthis line is wrong\n")
    assert_user_error(*run(capsys, "check"), ".env:2:", "NAME=value")


def test_cli_check_reads_env_file_and_environment_wins(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(
        "TCBOT_TIMEZONE=Europe/Paris\nTCBOT_HASHTAGS='#One,#Two'\n# a comment\n"
    )
    monkeypatch.setenv("TCBOT_HASHTAGS", "#Three")
    code, out, _ = run(capsys, "check")
    assert code == 0
    assert "Europe/Paris" in out and "#Three" in out and "#One" not in out
    assert "sandbox X API" in out


def test_cli_check_never_shows_secrets_even_at_debug(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    env_lines = [f"{name}={value}" for name, value in SECRETS.items()]
    (tmp_path / ".env").write_text("\n".join([*env_lines, "TCBOT_LOG_LEVEL=DEBUG"]) + "\n")
    code, out, err = run(capsys, "check")
    assert code == 0
    assert "(set, hidden)" in out and "X's API" in out
    for secret in SECRETS.values():
        assert secret not in out + err


def test_cli_demo_rehearses_a_whole_chat(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`make demo` runs this; real time, so the rehearsal is squeezed into seconds."""
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "demo", "--start-in", "0.5", "--interval", "1.5")
    assert code == 0, err
    assert out.count(" sent ") == 5  # intro, Q1-Q3, closing
    assert "    @TraineeTalkBot: Q1 What helps you switch off" in out
    assert "@TraineeTalkBot A1 " in out  # the pretend participants answered
    assert "posts archived" in out
    assert "Welcomes: " in out  # newcomers decided about (and welcomed, time allowing)
    assert (tmp_path / "tcbot-demo.db").exists()
    assert not (tmp_path / "tcbot.db").exists()  # the real archive is never touched


def test_cli_db_upgrade_creates_and_reports_revision(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    from tests.test_db import HEAD

    code, out, _ = run(capsys, "db", "upgrade")
    assert code == 0 and f"Database is up to date (revision {HEAD})" in out
    code, out, _ = run(capsys, "db", "upgrade")
    assert code == 0 and f"revision {HEAD}" in out


def test_cli_db_upgrade_in_a_missing_folder_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TCBOT_DATABASE_URL", "sqlite:///no-such-folder/tcbot.db")
    assert_user_error(*run(capsys, "db", "upgrade"), "no-such-folder")
    assert not (tmp_path / "no-such-folder").exists()


def test_cli_db_upgrade_refuses_a_database_from_a_newer_tcbot(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import sqlite3

    monkeypatch.chdir(tmp_path)
    run(capsys, "db", "upgrade")
    with sqlite3.connect(tmp_path / "tcbot.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    assert_user_error(
        *run(capsys, "db", "upgrade"), "newer version of tcbot", "9999_from_the_future"
    )


def test_cli_sandbox_serve_on_a_port_in_use_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert_user_error(
            *run(capsys, "sandbox", "serve", "--port", str(port)), f"{port}", "--port 0"
        )


def test_cli_sandbox_serve_rejects_unknown_fault(capsys: pytest.CaptureFixture[str]) -> None:
    assert_user_error(
        *run(capsys, "sandbox", "serve", "--fault", "gremlins=1"), "'gremlins'", "--help"
    )


def test_cli_sandbox_serve_rejects_fault_without_value(capsys: pytest.CaptureFixture[str]) -> None:
    assert_user_error(*run(capsys, "sandbox", "serve", "--fault", "unavailable"), "NAME=VALUE")
