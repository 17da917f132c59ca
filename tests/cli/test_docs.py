"""The public surface is documented: every command has help text and a README entry."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from hotstar_sync.cli import app

README = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")


def commands() -> list[tuple[str, Any]]:
    # Typer ships its own copy of click: groups are told by their `commands`.
    root: Any = typer.main.get_command(app)
    found = []
    for name, command in root.commands.items():
        if hasattr(command, "commands"):
            found += [(f"{name} {sub}", c) for sub, c in command.commands.items()]
        else:
            found.append((name, command))
    return sorted(found)


def test_the_app_has_the_commands_of_the_design():
    names = {name for name, _ in commands()}
    assert {
        "ingest",
        "sync",
        "reconcile",
        "verify",
        "changes",
        "schedule",
        "status",
        "health",
        "serve",
        "simulate",
        "demo",
        "token",
        "db upgrade",
        "db current",
    } <= names


@pytest.mark.parametrize(("name", "command"), commands(), ids=[n for n, _ in commands()])
def test_every_command_has_help_and_a_readme_entry(name, command):
    assert (command.help or "").strip(), f"`hotstar-sync {name}` has no help text"
    assert f"`hotstar-sync {name}" in README, f"README does not mention `hotstar-sync {name}`"


@pytest.mark.parametrize("group", [[], ["db"]], ids=["hotstar-sync", "db"])
def test_the_command_lists_show_each_summary_as_whole_sentences(group: list[str]) -> None:
    # Wide enough that no summary wraps: each command's summary is then one line that
    # ends its sentence (a summary wrapped in its docstring used to break mid-sentence).
    result = CliRunner().invoke(app, [*group, "--help"], env={"COLUMNS": "400"})
    assert result.exit_code == 0
    panel = result.stdout.split("Commands")[1].split("╰")[0]
    rows = [line.strip("│ ") for line in panel.splitlines()[1:]]
    assert len(rows) >= 2
    for row in rows:
        assert row.endswith((".", ")")), row


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["status", "--limit", "0"],
            "error: Invalid value for '--limit': Input should be greater than or equal to 1",
        ),
        (["sync", "--bogus"], "error: No such option: --bogus"),
        (["changes"], "error: Missing option '--since'."),
    ],
)
def test_a_usage_error_is_one_line_and_a_hint_exit_2(args: list[str], message: str) -> None:
    # Through the console script's main(), as a user or cron runs it (not Typer's box).
    done = subprocess.run(
        [sys.executable, "-m", "hotstar_sync", *args], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [message, f"hint: see `hotstar-sync {args[0]} --help`"]
    assert done.stdout == ""


def test_no_command_prints_the_help_alone_and_usage_errors_follow_log_json() -> None:
    bare = subprocess.run(
        [sys.executable, "-m", "hotstar_sync"], capture_output=True, text=True, timeout=60
    )
    assert bare.returncode == 2 and "Usage: " in bare.stdout and "Commands" in bare.stdout
    assert bare.stderr == ""  # no empty "error:" line after the help
    as_json = subprocess.run(
        [sys.executable, "-m", "hotstar_sync", "--log-json", "sync", "--bogus"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert as_json.returncode == 2
    (event,) = [json.loads(line) for line in as_json.stderr.splitlines()]
    assert (event["event"], event["error"], event["exit_code"]) == (
        "command failed",
        "No such option: --bogus",
        2,
    )
