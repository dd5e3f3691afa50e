"""The docs stay honest: every command is in the README, every setting in config.example.env."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from bot.cli import cli
from bot.config import SETTINGS

ROOT = Path(__file__).resolve().parent.parent


def command_paths(group: click.Group, prefix: str = "tcbot") -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            found.extend(command_paths(command, path))
        else:
            found.append((path, command))
    return found


COMMANDS = command_paths(cli)


def test_docs_command_list_is_not_empty() -> None:
    assert "tcbot check" in [path for path, _ in COMMANDS]


@pytest.mark.parametrize("path", [path for path, _ in COMMANDS])
def test_docs_readme_lists_every_command(path: str) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"`{path}" in readme, f"{path} is missing from README.md's command list"


@pytest.mark.parametrize(("path", "command"), COMMANDS)
def test_docs_every_command_has_help_with_an_example(path: str, command: click.Command) -> None:
    assert command.help and "Example: tcbot" in command.help, f"{path} needs help with an example"


@pytest.mark.parametrize("name", [s.name for s in SETTINGS])
def test_docs_example_env_documents_every_setting_with_its_default(name: str) -> None:
    example = (ROOT / "config.example.env").read_text(encoding="utf-8")
    default = next(s.default for s in SETTINGS if s.name == name)
    match = re.search(rf"^# {name}=(.*)$", example, re.MULTILINE)
    assert match, f"{name} is missing from config.example.env"
    assert match.group(1) == (default or ""), (
        f"config.example.env shows the wrong default for {name}"
    )


def test_docs_readme_gives_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme
