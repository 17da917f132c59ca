"""Hostile answers from the simulator over HTTP: a token echoed in an error body in each
encoding a gateway may use, and a gzip answer that inflates far past any page."""

from __future__ import annotations

import re
import tracemalloc

import httpx
import orjson
import psycopg
import pytest
from psycopg.rows import dict_row
from typer.testing import CliRunner

from hotstar_sync.api.client import PartnerClient
from hotstar_sync.api.token import TokenProvider
from hotstar_sync.cli import app
from hotstar_sync.config import DEMO_AKAMAI_SECRET, load_settings
from hotstar_sync.errors import RetriesExhaustedError
from hotstar_sync.ops.health import Limits
from hotstar_sync.ops.web import create_app
from hotstar_sync.simulator import SimulatorConfig, serve_in_thread
from tests.ops.conftest import serving

#: A token's signature (HMAC-SHA256, hex) in any case, or the secret (hex, 64 digits too).
SIGNATURE = re.compile(r"[0-9a-f]{64}", re.IGNORECASE)


@pytest.mark.parametrize("kind", ["echo_plain", "echo_percent", "echo_json"])
def test_a_token_echoed_in_any_encoding_is_redacted_everywhere(db_url: str, kind: str) -> None:
    with serve_in_thread(SimulatorConfig(movies=300, seed=3, rate_limit=0, malformed=0)) as sim:
        env = {"DATABASE_URL": db_url, "HOTSTAR_API_BASE_URL": sim.base_url}
        sim.faults.fail_next(1, kind)  # type: ignore[arg-type]
        result = CliRunner().invoke(app, ["ingest", "--type", "movie"], env=env)
    assert result.exit_code == 1, result.output
    with psycopg.connect(db_url) as conn, conn.cursor(row_factory=dict_row) as cur:
        (run,) = cur.execute("SELECT status, errors FROM hotstar_sync_log").fetchall()
    assert run["status"] == "failed"
    with serving(create_app(db_url, Limits())) as url:
        api = httpx.get(f"{url}/api/runs").text
    for where, text in (
        ("stderr", result.stderr),
        ("the sync log", orjson.dumps(run["errors"]).decode()),
        ("/api/runs", api),
    ):
        assert "HTTP 400" in text and "[redacted]" in text, (where, text)
        assert not SIGNATURE.search(text), (where, text)
        assert DEMO_AKAMAI_SECRET.lower() not in text.lower(), where


def test_an_answer_inflating_past_the_cap_is_retried_then_reported_without_reading_on() -> None:
    with serve_in_thread(SimulatorConfig(movies=300, seed=3, rate_limit=0, malformed=0)) as sim:
        settings = load_settings(
            api_base_url=sim.base_url,
            rate_limit_rps=0,
            circuit_breaker_seconds=0.1,
            max_retries=2,
            max_body_mb=8,
        )
        tokens = TokenProvider(bytes.fromhex(DEMO_AKAMAI_SECRET), settings.token_window_seconds)
        params = {"orderBy": "contentId", "order": "asc", "offset": 0, "size": 10}
        with PartnerClient(settings, tokens) as client:
            sim.faults.fail_next(1, "gzip_bomb")
            tracemalloc.start()
            try:
                page = client.search("/movie/search", params)  # the retry is a sound page
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            assert len(page.items) == 10 and client.stats.retries == 1
            assert client.stats.errors == [
                "/movie/search: answer over 8 MB decoded (HOTSTAR_MAX_BODY_MB); read no further"
            ]
            # 1 GiB inflated: the client stopped within a few MB of the cap.
            assert peak < 64e6, peak
            sim.faults.fail_next(3, "gzip_bomb")
            with pytest.raises(RetriesExhaustedError, match="answer over 8 MB decoded"):
                client.search("/movie/search", params)
