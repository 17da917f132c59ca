"""The status page in a real headless Chromium, with data: the charts are drawn offline.

Skips where no Chromium is installed, but fails under CI (CI=true), where .ci/run installs
Debian's package: a missing browser must not pass as a skipped test there.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from hotstar_sync.ops.health import Limits
from hotstar_sync.ops.web import create_app
from tests.ops.conftest import add_run, ingest_small, serving

#: Chromium keeps no network besides our server: no updates, sync or background fetches.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    # Virtual time runs until the page is idle (its fetches answered, the charts drawn).
    "--virtual-time-budget=15000",
]


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI") == "true":
        pytest.fail("no chromium on PATH: .ci/run installs Debian's chromium for this test")
    pytest.skip("no chromium on PATH (apt-get install chromium)")


def browse(browser: str, url: str, profile: Path, *extra: str) -> str:
    done = subprocess.run(
        [browser, *FLAGS, f"--user-data-dir={profile}", *extra, url],
        capture_output=True,
        text=True,
        timeout=90,
        check=True,
    )
    return done.stdout


def history(db_url: str) -> int:
    """A real ingest, dated two weeks back, then two weeks of crafted daily syncs and a
    reconcile; returns how many runs there are."""
    ingest_small(db_url)
    import psycopg

    with psycopg.connect(db_url) as conn:
        conn.execute(
            "UPDATE hotstar_sync_log SET started_at = started_at - interval '14 days',"
            " completed_at = completed_at - interval '14 days'"
        )
    for day in range(13, -1, -1):
        add_run(
            db_url,
            "daily",
            "failed" if day == 9 else "completed",
            ago=timedelta(days=day, hours=2),
            seconds=20 + (day * 7) % 30,
            items_added=(day * 5) % 17,
            items_updated=20 + (day * 11) % 40,
            items_deleted=day % 4,
            items_restored=int(day % 3 == 0),
            api_requests_made=2,
        )
        if day == 7:
            add_run(
                db_url,
                "reconcile",
                "completed",
                ago=timedelta(days=day, hours=1),
                seconds=95,
                items_updated=12,
                items_deleted=6,
                api_requests_made=3,
            )
    return 16


def test_the_page_draws_its_charts_from_the_api(db_url: str, tmp_path: Path) -> None:
    browser = chromium()
    runs = history(db_url)
    with serving(create_app(db_url, Limits.for_reconcile_every(7))) as base:
        dom = browse(browser, base + "/", tmp_path / "profile", "--dump-dom")
        shot = tmp_path / "status-page.png"
        browse(
            browser,
            base + "/",
            tmp_path / "profile",
            f"--screenshot={shot}",
            "--window-size=1280,1500",
        )

    html = re.search(r"<html[^>]*>", dom)
    assert html is not None
    assert 'data-rendered="true"' in html.group(0), dom[:2000]
    assert f'data-runs="{runs}"' in html.group(0)
    assert "data-error" not in html.group(0)
    # uPlot draws each chart on a canvas, with a legend naming the series.
    assert dom.count("<canvas") == 3
    for series in ("added", "updated", "deleted", "restored", "daily", "reconcile", "live"):
        assert f">{series}<" in dom, series
    assert re.search(r'id="health"[^>]*data-level="OK"', dom) or 'data-level="OK"' in dom
    assert len(re.findall(r"<li data-run=", dom)) == 15
    assert 'class="status" data-status="failed"' in dom
    assert shot.stat().st_size > 30_000  # a drawn page, not a blank one
    keep = os.environ.get("HOTSTAR_KEEP_SCREENSHOT")
    if keep:
        shutil.copy(shot, keep)
