"""A logged exception: its traceback, never the frames' local variables (settings, tokens)."""

from __future__ import annotations

import json

import pytest
import structlog

from hotstar_sync.logging import configure_logging

SECRET = "postgresql://sync:hunter2@db/mirror"


def crash() -> None:
    database_url = SECRET  # a local of the failing frame, as in the scheduler's jobs
    raise RuntimeError(f"job failed ({len(database_url)})")


@pytest.mark.parametrize("as_json", [False, True], ids=["console", "json"])
def test_a_logged_exception_shows_its_traceback_but_no_local_variable(
    as_json: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(json=as_json)
    try:
        crash()
    except RuntimeError:
        structlog.get_logger("test").exception("scheduled sync crashed")
    err = capsys.readouterr().err
    assert "hunter2" not in err
    assert "job failed (35)" in err and "crash" in err  # the message and the frame
    if as_json:
        line = json.loads(err.strip().splitlines()[-1])
        (frame_info,) = line["exception"]
        assert frame_info["exc_type"] == "RuntimeError"
        assert frame_info["exc_value"] == "job failed (35)"
