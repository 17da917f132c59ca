"""Running the simulator: in a thread of this process, in the foreground, or in a process.

The socket is bound before uvicorn starts, so `port=0` gives a free port whose number is
known at once. Tests and the demo use `serve_in_thread`; benchmarks use `serve_in_process`,
so that the simulator does not share an interpreter (and its GIL) with the client measured.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType

import uvicorn

from hotstar_sync.errors import FatalError
from hotstar_sync.simulator.catalog import Catalog
from hotstar_sync.simulator.config import SimulatorConfig
from hotstar_sync.simulator.faults import Faults
from hotstar_sync.simulator.server import Simulator

READY = "Simulator ready at "
START_TIMEOUT = 120.0  # seconds; a full catalogue takes a few to generate
#: A slow response still asleep when the server stops is not worth waiting for.
GRACEFUL_SHUTDOWN_SECONDS = 1


class _QuietDrops(logging.Filter):
    """Hide uvicorn's complaint about the responses `DroppedResponse` cuts on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "without completing response" not in record.getMessage()


logging.getLogger("uvicorn.error").addFilter(_QuietDrops())


@dataclass(frozen=True, slots=True)
class RunningSimulator:
    """A simulator serving in this process: its URL and its live catalogue and faults."""

    base_url: str
    catalog: Catalog
    faults: Faults
    config: SimulatorConfig


@dataclass(frozen=True, slots=True)
class SimulatorProcess:
    """A simulator serving in a process of its own; reach its admin paths over HTTP."""

    base_url: str
    process: subprocess.Popen[str]


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, on_ready: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self._on_ready()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # Naming the protocol lets asyncio set TCP_NODELAY on each accepted connection; with
    # proto 0 it does not, and every small answer waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise FatalError(f"the simulator cannot listen on {host}:{port} ({exc.strerror})") from exc
    return sock


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _server(simulator: Simulator, on_ready: Callable[[], None]) -> _Server:
    config = uvicorn.Config(
        simulator.app(),
        log_config=None,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    return _Server(config, on_ready)


def build(config: SimulatorConfig) -> Simulator:
    """The simulator's app state for `config`: its catalogue (generated now) and faults."""
    return Simulator(Catalog(config), Faults(config.faults, config.effective_fault_seed))


@contextmanager
def serve_in_thread(
    config: SimulatorConfig | None = None, *, host: str = "127.0.0.1", port: int = 0
) -> Iterator[RunningSimulator]:
    """Serve in a background thread until the block ends; `port=0` picks a free port."""
    config = config or SimulatorConfig()
    simulator = build(config)
    sock = _bind(host, port)
    ready = threading.Event()
    server = _server(simulator, ready.set)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="hotstar-sync-simulator", daemon=True
    )
    thread.start()
    try:
        while not ready.wait(0.05):
            if not thread.is_alive():
                raise FatalError("the simulator's server stopped while starting")
        yield RunningSimulator(_url(sock), simulator.catalog, simulator.faults, config)
    finally:
        server.should_exit = True
        thread.join()
        sock.close()


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def serve_forever(
    config: SimulatorConfig, on_ready: Callable[[str], None], *, host: str, port: int
) -> None:
    """Serve in this (main) thread until SIGINT or SIGTERM; `on_ready(base_url)` once serving.

    uvicorn stops gracefully on either signal and then raises it again; SIGTERM is then
    turned into a normal exit (status 0) rather than death by signal.
    """
    signal.signal(signal.SIGTERM, _exit_cleanly)
    simulator = build(config)
    sock = _bind(host, port)
    url = _url(sock)
    try:
        _server(simulator, lambda: on_ready(url)).run(sockets=[sock])
    finally:
        sock.close()


@contextmanager
def serve_in_process(
    config: SimulatorConfig | None = None, *, host: str = "127.0.0.1", port: int = 0
) -> Iterator[SimulatorProcess]:
    """Run `hotstar-sync simulate` in a child process until the block ends.

    The credentials travel in the child's environment, never on its command line.
    """
    config = config or SimulatorConfig()
    args = [sys.executable, "-m", "hotstar_sync", "simulate", "--host", host, "--port", str(port)]
    env = os.environ | {
        "HOTSTAR_PARTNER_ID": config.partner_id,
        "HOTSTAR_AKAMAI_SECRET": config.secret_hex,
    }
    env.pop("HOTSTAR_AKAMAI_SECRET_FILE", None)
    process = subprocess.Popen(
        [*args, *config.to_args()], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert process.stdout is not None  # stdout=PIPE
        line = process.stdout.readline().strip()
        if not line.startswith(READY):
            raise FatalError("the simulator process stopped before it was ready")
        yield SimulatorProcess(line.removeprefix(READY), process)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
