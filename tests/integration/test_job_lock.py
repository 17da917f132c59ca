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
