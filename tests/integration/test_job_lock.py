"""The database's job lock (db.runs.job_lock) against a real PostgreSQL."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import psycopg
import pytest

from hotstar_sync.db.runs import JobLock, job_lock, start_run
from hotstar_sync.errors import DatabaseError, JobLockedError, JobLockLostError


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
    with job_lock(db_url) as lock:
        conn = lock.conn
        params = conn.info.get_parameters()
        assert params["keepalives"] == "1" and params["keepalives_idle"] == "30"
        (name,) = conn.execute("SHOW application_name").fetchone() or ("",)
        assert name == "hotstar-sync"
    with job_lock(f"{db_url}?application_name=nightly&keepalives_idle=5") as lock:
        params = lock.conn.info.get_parameters()
        assert params["application_name"] == "nightly" and params["keepalives_idle"] == "5"


def terminate(db_url: str, pid: int) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
    time.sleep(0.1)


def quiet_lock(db_url: str) -> JobLock:
    """A job lock without its heartbeat, so a test decides when it is checked."""
    lock = JobLock(db_url)
    lock.take()
    return lock


def test_a_lock_whose_connection_was_closed_is_taken_again_before_the_next_write(db_url):
    lock = quiet_lock(db_url)
    try:
        first = lock.conn.info.backend_pid
        terminate(db_url, first)
        lock.ensure()  # nobody took it meanwhile: taken again, on a new connection
        assert lock.conn.info.backend_pid != first
        with pytest.raises(JobLockedError), job_lock(db_url):
            pass
    finally:
        lock.close()


def test_a_lock_lost_to_another_job_stops_this_one_before_its_next_write(db_url):
    lock = quiet_lock(db_url)
    try:
        terminate(db_url, lock.conn.info.backend_pid)
        with job_lock(db_url):  # another job takes the free lock
            with pytest.raises(JobLockLostError, match="another job holds it now"):
                lock.ensure()
            with pytest.raises(JobLockLostError):  # and for good
                lock.ensure()
    finally:
        lock.close()


def test_a_lock_lost_while_another_job_ran_is_not_taken_again(db_url):
    lock = quiet_lock(db_url)
    try:
        lock.runs.add(start_run(lock.conn, "daily", "movie").id)
        terminate(db_url, lock.conn.info.backend_pid)
        with job_lock(db_url) as other:  # runs, and ends, while this job's lock is gone
            start_run(other.conn, "daily", "movie")
        with pytest.raises(JobLockLostError, match="another job has run meanwhile"):
            lock.ensure()
    finally:
        lock.close()


def test_the_lock_outlives_idle_session_timeout(db_url):
    with psycopg.connect(db_url, autocommit=True) as conn:
        name = conn.info.dbname
        conn.execute(f"ALTER DATABASE {name} SET idle_session_timeout = '3s'")
    with job_lock(db_url) as lock:
        first = lock.conn.info.backend_pid
        time.sleep(4.5)  # a job scanning, writing nothing on the lock's connection
        with pytest.raises(JobLockedError), job_lock(db_url):
            pass
        assert lock.conn.info.backend_pid == first  # never lost


def test_a_run_whose_process_is_alive_is_not_marked_abandoned(db_url):
    child = subprocess.Popen(  # a live hotstar-sync process (its lock lost, say)
        [sys.executable, "-c", "import time, hotstar_sync; time.sleep(30)"]
    )
    try:
        with psycopg.connect(db_url, autocommit=True) as conn:
            ids = [
                conn.execute(
                    "INSERT INTO hotstar_sync_log (sync_type, status, pid, hostname)"
                    " VALUES ('daily', 'running', %s, %s) RETURNING id",
                    (pid, socket.gethostname()),
                ).fetchone()[0]  # type: ignore[index]
                for pid in (child.pid, 2**22 + 7)  # alive; no such process
            ]
        with job_lock(db_url) as lock:
            status = dict(lock.conn.execute("SELECT id, status FROM hotstar_sync_log").fetchall())
        assert status == {ids[0]: "running", ids[1]: "abandoned"}
    finally:
        child.kill()
        child.wait()
