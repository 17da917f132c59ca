"""`hotstar-sync simulate`: the ready line, requests from another process, a clean SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx
import pytest
from typer.testing import CliRunner

from hotstar_sync.api.token import make_token
from hotstar_sync.cli import app
from hotstar_sync.config import DEMO_AKAMAI_SECRET, DEMO_PARTNER_ID
from hotstar_sync.simulator import FaultSettings, SimulatorConfig, serve_in_process

ARGS = ["--port", "0", "--movies", "300", "--cluster-size", "30", "--rate-limit", "0"]


def _headers(secret_hex: str, partner: str) -> dict[str, str]:
    return {
        "x-country-code": "in",
        "x-platform-code": "PCTV",
        "x-region-code": "DL",
        "x-partner-name": partner,
        "hdnea": make_token(bytes.fromhex(secret_hex), 60).value,
    }


def test_it_prints_one_ready_line_serves_and_stops_on_sigterm() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTSTAR_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "hotstar_sync", "simulate", *ARGS],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("Simulator ready at http://127.0.0.1:")
        url = line.split(" at ")[1].strip()
        response = httpx.get(
            f"{url}/movie/search",
            params={"partner": DEMO_PARTNER_ID},
            headers=_headers(DEMO_AKAMAI_SECRET, DEMO_PARTNER_ID),
        )
        assert response.json()["body"]["results"]["totalResults"] == 300
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0
        assert process.stdout.read() == ""  # exactly one line
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_serve_in_process_passes_config_and_credentials() -> None:
    config = SimulatorConfig(
        movies=200,
        cluster_size=20,
        rate_limit=0.0,
        bounds="exclusive",
        faults=FaultSettings(error_rate=1.0),
        partner_id="partner-x",
        secret_hex="abcd",
    )
    with serve_in_process(config) as sim:
        response = httpx.get(
            f"{sim.base_url}/movie/search",
            params={"partner": "partner-x"},
            headers=_headers("abcd", "partner-x"),
        )
        assert response.status_code == 503
        faults = httpx.delete(f"{sim.base_url}/_sim/faults").json()
        assert faults["forced"] == 0
        truth = httpx.get(f"{sim.base_url}/_sim/truth").json()
        assert len(truth["items"]) == 200
    assert sim.process.returncode == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bounds", "open"], "bounds must be one of inclusive, half-open, exclusive"),
        (["--movies", "-1"], "movies must not be negative"),
        (["--error-rate", "2"], "error_rate must be between 0 and 1"),
        (["--shows", "0"], "episodes need shows to belong to: set shows above 0"),
        (
            ["--more-clusters", "2000,x"],
            "--more-clusters: '2000,x' is not a list of sizes such as 2000,9000",
        ),
        (["--more-clusters", "-5"], "more_clusters must not be negative"),
    ],
)
def test_bad_options_exit_2_with_one_line(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["simulate", *ARGS, *args])
    assert result.exit_code == 2
    assert f"error: {message}" in result.output


def test_help_names_every_option() -> None:
    result = CliRunner().invoke(app, ["simulate", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for option in SimulatorConfig(movies=0).to_args()[::2]:
        assert option in result.output
    assert "--eager" in result.output
    args = SimulatorConfig(eager=True).to_args()
    assert args[args.index("--eager") + 1].startswith("--")  # a flag, without a value
