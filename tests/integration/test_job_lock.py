"""The database's job lock (db.runs.job_lock) against a real PostgreSQL."""

from __future__ import annotations

import pytest

from hotstar_sync.db.runs import job_lock
from hotstar_sync.errors import DatabaseError, JobLockedError


def test_one_job_at_a_time(db_url: str) -> None:
    with job_lock(db_url), pytest.raises(JobLockedError), job_lock(db_url):
        pass
    with job_lock(db_url):  # released with its connection
        pass


def test_a_database_without_the_schema_is_one_error_not_a_traceback(empty_db_url: str) -> None:
    with pytest.raises(DatabaseError) as caught, job_lock(empty_db_url):
        pass
    assert caught.value.message == (
        'cannot take the job lock: relation "hotstar_sync_log" does not exist'
    )


def test_the_lock_connection_is_named_and_kept_alive_unless_the_url_says_otherwise(
    db_url: str,
) -> None:
    # A firewall that drops an idle connection in silence must not leave the lock (a
    # session's advisory lock) looking held by a dead connection for hours: TCP keepalives.
    with job_lock(db_url) as conn:
        params = conn.info.get_parameters()
        assert params["keepalives"] == "1" and params["keepalives_idle"] == "30"
        (name,) = conn.execute("SHOW application_name").fetchone() or ("",)
        assert name == "hotstar-sync"
    with job_lock(f"{db_url}?application_name=nightly&keepalives_idle=5") as conn:
        params = conn.info.get_parameters()
        assert params["application_name"] == "nightly" and params["keepalives_idle"] == "5"
