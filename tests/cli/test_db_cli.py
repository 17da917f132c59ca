"""`hotstar-sync db upgrade|current` through the real CLI app, against a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog
from typer.testing import CliRunner

from hotstar_sync.cli import app
from hotstar_sync.db.schema import schema_head

runner = CliRunner()

#: The newest revision: these messages name it, whichever revision is newest.
HEAD = schema_head()


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    # The app's callback points structlog at the runner's stderr, which is closed once the
    # command returns; later tests that log would then fail on a closed file.
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


def _run(database_url: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["db", *args], env={"DATABASE_URL": database_url})
    return result.exit_code, result.stdout, result.stderr


def test_upgrade_creates_the_schema_then_does_nothing(empty_db_url: str) -> None:
    assert _run(empty_db_url, "upgrade") == (
        0,
        f"database upgraded from empty to revision {HEAD} (head)\n",
        "",
    )
    assert _run(empty_db_url, "upgrade") == (0, f"database already at revision {HEAD} (head)\n", "")


def test_current_prints_the_revision(db_url: str) -> None:
    assert _run(db_url, "current") == (0, f"database at revision {HEAD} (head)\n", "")


def test_current_on_an_empty_database_names_the_command_to_run(empty_db_url: str) -> None:
    assert _run(empty_db_url, "current") == (
        1,  # not at head: `db current || alert` alerts
        f"database has no schema yet (head is {HEAD})\nrun `hotstar-sync db upgrade`\n",
        "",
    )


@pytest.mark.parametrize("command", ["upgrade", "current"])
def test_an_unreachable_database_exits_1_with_one_line(command: str) -> None:
    code, out, err = _run("postgresql://nobody:pw-never-shown@127.0.0.1:1/x", command)

    assert code == 1
    assert out == ""
    first, hint = err.splitlines()
    assert first.startswith("error: cannot connect to the source database: ")
    assert hint == "hint: check DATABASE_URL, or unset it to use the embedded PostgreSQL"
    assert "pw-never-shown" not in err


def test_a_database_url_of_another_scheme_exits_2_naming_the_variable() -> None:
    assert _run("mysql://user:pw@127.0.0.1/db", "upgrade") == (
        2,
        "",
        "error: DATABASE_URL: must be a postgresql:// URL\n",
    )


@pytest.mark.parametrize("command", ["upgrade", "current"])
def test_every_db_command_has_help(command: str) -> None:
    result = runner.invoke(app, ["db", command, "--help"])
    assert result.exit_code == 0
    assert "revision" in result.stdout
