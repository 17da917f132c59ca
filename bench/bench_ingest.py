"""`hotstar-sync ingest` end to end, against the seed's way of writing and against dlt, in one run.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/bench_ingest.py [--movies 51495] [--small 10000] [--rounds 3]
                                           [--skip-paced] [--skip-dlt]

The simulator runs in a process of its own (`serve_in_process`), the ingest as a child
process (`python -m hotstar_sync ingest`), each case into a fresh scratch database with the
full schema (indexes, trigger, change log) at default durability, dropped afterwards. The
server is DATABASE_URL, else HOTSTAR_TEST_DATABASE_URL, else
postgresql://postgres@127.0.0.1:5432/postgres. The catalogue has no malformed items, so
that every case stores every movie (quarantine is covered by the tests, not timed here).

Measured (issue 5, "Speed"):

1. paced, 1 request/s on both sides: API requests against the floor ceil(N / 1000)
   (target <= 1.1 x) and the run's wall time against requests / rate (target <= 1.1 x);
   about a minute for 51,495 movies (`--skip-paced` skips it);
2. unpaced, `--rounds` times in turn with 3. (the median of each is reported): movies/s
   of the ingest process from start to exit (target >= 10,000/s), and
   its peak RSS (target <= 150 MB), also for a `--small` catalogue, to show that memory
   follows the page size, not the catalogue;
3. the seed's way: the same page requests the ingest made (recorded by running our
   Scanner once), one INSERT ... ON CONFLICT per movie through cursor.execute, a commit per
   page, in a child process too, so both sides count from spawn to exit; our ratio
   (target >= 3 x);
4. dlt (the `bench` extra): its REST API source fed the same page requests, merged on
   contentId into its postgres destination with its default settings; our ratio
   (target >= 5 x);
5. PostgreSQL's floor for the mirror on this machine: the rows our first round stored,
   COPYed (binary, prepared beforehand) into a fresh full-schema database by as many
   sessions as there are cores, with nothing else running: no client work, no staging,
   no change log. No ingest of these rows into this schema can be faster on this machine;
   ours is reported as a share of it.

Figures are printed, never asserted, and every ratio is against a figure of this run.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson
import psycopg
import structlog
from psycopg import sql

# The seed's save_movie and scratch databases, as bench_writer.py measures them.
from bench_writer import SEED_INSERT, scratch_database, seed_params, timed
from hotstar_sync.api.client import PartnerClient
from hotstar_sync.api.scan import Scanner
from hotstar_sync.api.token import TokenProvider, make_token
from hotstar_sync.config import Settings
from hotstar_sync.logging import configure_logging
from hotstar_sync.model import MOVIE
from hotstar_sync.simulator import SimulatorConfig, SimulatorProcess, serve_in_process

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
PAGE = 1000
SEED = 1

Params = dict[str, Any]


@dataclass
class Case:
    name: str
    movies: int  # rows in the mirror afterwards
    seconds: float
    requests: int | None = None
    rss_mb: float | None = None
    note: str = ""
    baseline: bool = False  # a way to compare ours against

    @property
    def rate(self) -> float:
        return self.movies / self.seconds


# -- scratch databases ------------------------------------------------------------------


def server_url() -> str:
    return (
        os.environ.get("DATABASE_URL")
        or os.environ.get("HOTSTAR_TEST_DATABASE_URL")
        or DEFAULT_SERVER
    )


def scalar(url: str, query: str) -> Any:
    with psycopg.connect(url) as conn:
        row = conn.execute(query).fetchone()
    return None if row is None else row[0]


# -- our ingest, as a child process -----------------------------------------------------


@dataclass
class ChildRun:
    wall: float  # from spawn to exit: interpreter start, imports, the run, exit
    run_seconds: float  # the sync log's started_at .. completed_at
    requests: int
    rows: int
    rss_mb: float
    errors: list[str]  # the sync log's: each retried 429, 5xx, timeout, dropped connection
    warnings: list[str]  # the child's warning log lines (slow answers, retries)
    cpu_client: float | None = None  # CPU seconds of the ingest process
    cpu_server: float | None = None  # CPU seconds of its PostgreSQL backends (a local server)
    cpu_simulator: float | None = None  # CPU seconds the simulator spent while the ingest ran


class CpuSampler:
    """CPU seconds (user + system, from /proc) of a process and of the PostgreSQL backends
    serving one database, sampled while they run: a backend's last reading stands when it
    exits. Backends are found by their title (`postgres: ... <database> ...`), so only a
    server on this machine is seen; elsewhere the figures are None."""

    def __init__(self, pid: int, database: str) -> None:
        self.pid, self.database = pid, database
        self.client: float | None = None
        self.backends: dict[int, float] = {}
        self._tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self._checked = 0.0

    def cpu_of(self, pid: int) -> float | None:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return None
        return (int(fields[11]) + int(fields[12])) / self._tick

    def sample(self) -> None:
        self.client = self.cpu_of(self.pid) or self.client
        for pid in self.backends:
            self.backends[pid] = self.cpu_of(pid) or self.backends[pid]
        if time.monotonic() - self._checked > 0.2:  # look for new backends now and then
            self._checked = time.monotonic()
            for entry in os.scandir("/proc") if os.path.isdir("/proc") else ():
                if entry.name.isdigit() and int(entry.name) not in self.backends:
                    try:
                        with open(f"/proc/{entry.name}/cmdline", "rb") as cmd:
                            title = cmd.read().decode(errors="replace")
                    except OSError:
                        continue
                    if title.startswith("postgres") and f" {self.database} " in title:
                        self.backends[int(entry.name)] = self.cpu_of(int(entry.name)) or 0.0

    @property
    def server(self) -> float | None:
        return sum(self.backends.values()) if self.backends else None


def peak_rss(pid: int) -> int:
    """The process's peak RSS so far in bytes (VmHWM), or its current RSS without /proc.

    Not getrusage: a child's ru_maxrss starts at its parent's RSS when it was forked, and
    RUSAGE_CHILDREN also counts the simulator processes.
    """
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        import psutil

        return int(psutil.Process(pid).memory_info().rss)
    except Exception:  # gone already, or psutil is not installed
        return 0


def run_ingest(sim: SimulatorProcess, db_url: str, rps: float) -> ChildRun:
    """`python -m hotstar_sync ingest` into `db_url`, its peak RSS sampled while it runs."""
    api_url = sim.base_url
    env = os.environ | {
        "DATABASE_URL": db_url,
        "HOTSTAR_API_BASE_URL": api_url,
        "HOTSTAR_RATE_LIMIT_RPS": str(rps),
    }
    with tempfile.TemporaryFile("w+") as out:
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "hotstar_sync", "ingest", "--type", "movie"],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
        peak = 0
        cpu = CpuSampler(child.pid, urlsplit(db_url).path.lstrip("/"))
        simulator_before = cpu.cpu_of(sim.process.pid)
        while child.poll() is None:
            peak = max(peak, peak_rss(child.pid))
            cpu.sample()
            time.sleep(0.02)
        wall = time.perf_counter() - started
        simulator_after = cpu.cpu_of(sim.process.pid)
        out.seek(0)
        output = out.read()
        if child.returncode != 0:
            sys.exit(f"ingest exited {child.returncode}:\n{output[-3000:]}")
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT extract(epoch FROM completed_at - started_at), api_requests_made, status,"
            " errors"
            " FROM hotstar_sync_log WHERE sync_type = 'initial' ORDER BY id DESC LIMIT 1"
        ).fetchone()
        assert row is not None and row[2] == "completed", row
        rows = conn.execute("SELECT count(*) FROM hotstar_movies").fetchone()[0]  # type: ignore[index]
    warnings = [line for line in output.splitlines() if "warning" in line.lower()]
    return ChildRun(
        wall,
        float(row[0]),
        int(row[1]),
        int(rows),
        peak / 2**20,
        row[3] or [],
        warnings,
        cpu.client,
        cpu.server,
        None
        if simulator_before is None or simulator_after is None
        else simulator_after - simulator_before,
    )


# -- the page requests of one pass ------------------------------------------------------


def client_settings(api_url: str) -> Settings:
    return Settings(api_base_url=api_url, rate_limit_rps=0, database_url=None)


def warm_up(api_url: str) -> None:
    """One small request, then a second's pause (the simulator's rate allows one a second).

    The simulator makes its catalogue on the first search; that answer can take over the
    5 s after which the client's breaker holds the next request 60 s. A real API has no such
    first answer, so every case starts on a warm simulator.
    """
    settings = client_settings(api_url)
    tokens = TokenProvider(settings.resolved_secret(), settings.token_window_seconds)
    with PartnerClient(settings, tokens) as client:
        client.search(MOVIE.path, {"size": 1})
    time.sleep(1.0)


def record_pages(api_url: str) -> list[Params]:
    """The search parameters of every request a complete pass makes, in order."""
    settings = client_settings(api_url)
    tokens = TokenProvider(settings.resolved_secret(), settings.token_window_seconds)
    requests: list[Params] = []
    with PartnerClient(settings, tokens) as client:

        def fetch(params: Params) -> Any:
            requests.append(dict(params))
            return client.search(MOVIE.path, params)

        scanner = Scanner(fetch, page_size=PAGE)
        for _ in scanner.scan():
            pass
    assert scanner.result.verified, "the recording pass did not verify"
    return requests


# -- the seed's way ---------------------------------------------------------------------


def run_seed(db_url: str, api_url: str, requests: list[Params]) -> float:
    """`seed_ingest` in a child process, like ours: seconds from spawn to exit."""
    with tempfile.NamedTemporaryFile("wb", suffix=".json") as plan:
        plan.write(orjson.dumps(requests))
        plan.flush()
        started = time.perf_counter()
        # The database URL may hold a password: the environment, not the command line.
        subprocess.run(
            [sys.executable, __file__, "--seed-child", plan.name],
            check=True,
            stdin=subprocess.DEVNULL,
            env=os.environ | {"BENCH_SEED_DATABASE_URL": db_url, "BENCH_SEED_API_URL": api_url},
        )
        return time.perf_counter() - started


def seed_ingest(db_url: str, api_url: str, requests: list[Params]) -> int:
    """Fetch each page, then save it movie by movie, a commit per page; returns requests."""
    settings = client_settings(api_url)
    tokens = TokenProvider(settings.resolved_secret(), settings.token_window_seconds)
    with (
        PartnerClient(settings, tokens) as client,
        psycopg.connect(db_url) as conn,
        conn.cursor() as cur,
    ):
        for params in requests:
            for movie in client.search(MOVIE.path, params).items:
                cur.execute(SEED_INSERT, seed_params(movie))
            conn.commit()
    return len(requests)


# -- dlt --------------------------------------------------------------------------------


def dlt_ingest(db_url: str, api_url: str, requests: list[Params], workdir: str) -> int:
    """dlt's REST API source over the same page requests into its postgres destination.

    dlt's own paginators stop at the API's 10,000 offset cap, so one paginator walks the
    recorded list of requests: each page's parameters replace the previous page's.
    """
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    import dlt
    from dlt.sources.helpers.rest_client.paginators import BasePaginator
    from dlt.sources.rest_api import rest_api_source

    settings = client_settings(api_url)
    partner = settings.resolved_partner_id()

    class RecordedPages(BasePaginator):  # type: ignore[misc]
        def __init__(self, pages: list[Params]) -> None:
            super().__init__()
            self._pages = [{"partner": partner, **_strings(p)} for p in pages]
            self._next = 0

        def init_request(self, request: Any) -> None:
            request.params = self._pages[0]
            self._next = 1

        def update_state(self, response: Any, data: Any = None) -> None:
            self._has_next_page = self._next < len(self._pages)

        def update_request(self, request: Any) -> None:
            if self._has_next_page:  # dlt calls this after the last page too
                request.params = self._pages[self._next]
                self._next += 1

    source = rest_api_source(
        {
            "client": {
                "base_url": api_url,
                "headers": {
                    "x-partner-name": partner,
                    "x-country-code": settings.country_code,
                    "x-platform-code": settings.platform_code,
                    "x-region-code": settings.region_code,
                    "x-client-code": settings.client_code,
                    "hdnea": make_token(settings.resolved_secret(), 3600).value,
                },
            },
            "resources": [
                {
                    "name": "movies",
                    "primary_key": "contentId",
                    "write_disposition": "merge",
                    "endpoint": {
                        "path": MOVIE.path,
                        "data_selector": "body.results.items",
                        "paginator": RecordedPages(requests),
                    },
                }
            ],
        }
    )
    pipeline = dlt.pipeline(
        pipeline_name="hs_bench_dlt",
        pipelines_dir=workdir,
        destination=dlt.destinations.postgres(credentials=_with_password(db_url)),
        dataset_name="hotstar",
        progress=None,
    )
    pipeline.run(source)
    return len(requests)


def _with_password(url: str) -> str:
    """dlt insists on a password; under trust auth (as on this project's machines) any will do."""
    parts = urlsplit(url)
    if parts.password is not None or not parts.username:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace("@", ":unused@", 1)))


def _strings(params: Params) -> dict[str, str]:
    return {
        k: ("true" if v is True else "false" if v is False else str(v)) for k, v in params.items()
    }


# -- the run ----------------------------------------------------------------------------


def simulator(movies: int, rate: float) -> SimulatorConfig:
    return SimulatorConfig(movies=movies, seed=SEED, rate_limit=rate, malformed=0)


def main() -> None:
    configure_logging()  # info and up: library debug lines (one per request) are noise here
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--movies", type=int, default=51_495)
    parser.add_argument("--small", type=int, default=10_000, help="catalogue of the RSS check")
    parser.add_argument("--skip-paced", action="store_true", help="skip the 1 request/s case")
    parser.add_argument("--skip-dlt", action="store_true", help="skip the dlt case")
    parser.add_argument(
        "--rounds", type=int, default=3, help="unpaced runs of ours and the seed's way, in turn"
    )
    parser.add_argument("--seed-child", metavar="PLAN", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_child:  # the seed's way, in a process of its own (see run_seed)
        with open(args.seed_child, "rb") as file:
            plan = orjson.loads(file.read())
        seed_ingest(os.environ["BENCH_SEED_DATABASE_URL"], os.environ["BENCH_SEED_API_URL"], plan)
        return
    # The recording pass logs its window splits; this run prints only its figures.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    server = server_url()
    n = args.movies
    floor = math.ceil(n / PAGE)
    print(f"{n:,} movies, floor {floor} requests; PostgreSQL at {urlsplit(server).hostname}")
    cases: list[Case] = []

    with serve_in_process(simulator(n, 0.0)) as sim:
        warm_up(sim.base_url)
        requests = record_pages(sim.base_url)
        print(f"one pass asks for {len(requests)} pages; every case below fetches those")
        # Ours and the seed's way take turns, so that a machine slowing down or speeding up
        # during the run weighs on both; the table shows the median of each.
        runs: list[ChildRun] = []
        seeds: list[float] = []
        exported = tempfile.TemporaryDirectory()
        shares: list[str] = []
        for turn in range(1, args.rounds + 1):
            with scratch_database(server) as db:
                run = run_ingest(sim, db, 0)
                if not shares:
                    shares = export_rows(db, os.cpu_count() or 1, exported.name)
            with scratch_database(server) as db:
                seconds = run_seed(db, sim.base_url, requests)
                rows = scalar(db, "SELECT count(*) FROM hotstar_movies")
            runs.append(run)
            seeds.append(seconds)
            print(
                f"  round {turn}: ingest {run.wall:.2f} s from spawn to exit "
                f"({run.run_seconds:.2f} s in the sync log, {run.requests} requests, "
                f"{run.rss_mb:.0f} MB peak RSS); the seed's way {seconds:.1f} s: "
                f"{seconds / run.wall:.1f} x",
                flush=True,
            )
        ours = sorted(runs, key=lambda run: run.wall)[len(runs) // 2]
        seconds = sorted(seeds)[len(seeds) // 2]
        cases.append(Case("hotstar-sync ingest", ours.rows, ours.wall, ours.requests, ours.rss_mb))
        cases.append(Case("seed: INSERT per movie", rows, seconds, len(requests), baseline=True))
        if args.rounds > 1:
            print(f"  below: the median round of {args.rounds} for each")
        if not args.skip_dlt:
            cases.append(run_dlt(server, sim.base_url, requests))

    floor_run = storage_floor(server, shares)
    exported.cleanup()

    with serve_in_process(simulator(args.small, 0.0)) as sim, scratch_database(server) as db:
        warm_up(sim.base_url)
        small = run_ingest(sim, db, 0)
    cases.append(
        Case(f"ingest, {args.small:,} movies", small.rows, small.wall, small.requests, small.rss_mb)
    )

    paced = None
    if not args.skip_paced:
        print("paced case: 1 request/s, about a minute ...", flush=True)
        with serve_in_process(simulator(n, 1.0)) as sim, scratch_database(server) as db:
            warm_up(sim.base_url)
            paced = run_ingest(sim, db, 1.0)

    report(cases, ours, paced, floor, len(requests), floor_run)


# -- PostgreSQL's floor: the stored rows, COPYed back with nothing else to do ---------------


@dataclass
class Floor:
    rows: int
    seconds: float
    sessions: int
    cpu_server: float | None  # CPU seconds of the COPYing backends


def export_rows(db_url: str, sessions: int, directory: str) -> list[str]:
    """The mirror's rows, every column, in binary COPY files: one share per session."""
    paths = []
    with psycopg.connect(db_url) as conn:
        for share in range(sessions):
            path = os.path.join(directory, f"movies-{share}.copy")
            query = sql.SQL(
                "COPY (SELECT * FROM hotstar_movies WHERE abs(hashtext(content_id)) % {} = {})"
                " TO STDOUT (FORMAT BINARY)"
            ).format(sessions, share)
            with open(path, "wb") as file, conn.cursor().copy(query) as copy:
                for data in copy:
                    file.write(data)
            paths.append(path)
    return paths


def storage_floor(server: str, paths: list[str]) -> Floor:
    """COPY the exported shares into a fresh mirror, one session each, all at once."""
    with scratch_database(server) as db:
        conns = [psycopg.connect(db, autocommit=True) for _ in paths]
        try:
            for conn in conns:  # compressed as the writer compresses raw_response
                if conn.execute(
                    "SELECT 'lz4' = ANY(enumvals) FROM pg_settings"
                    " WHERE name = 'default_toast_compression'"
                ).fetchone() == (True,):
                    conn.execute("SET default_toast_compression = lz4")
            cpu = CpuSampler(os.getpid(), urlsplit(db).path.lstrip("/"))
            cpu.sample()
            ready = threading.Barrier(len(paths) + 1)

            def load(conn: psycopg.Connection[Any], path: str) -> None:
                with open(path, "rb") as file:
                    ready.wait()
                    with conn.cursor().copy(
                        "COPY hotstar_movies FROM STDIN (FORMAT BINARY)"
                    ) as copy:
                        while data := file.read(1 << 20):
                            copy.write(data)

            threads = [
                threading.Thread(target=load, args=pair) for pair in zip(conns, paths, strict=True)
            ]
            for thread in threads:
                thread.start()
            ready.wait()
            started = time.perf_counter()
            while any(thread.is_alive() for thread in threads):
                cpu.sample()
                time.sleep(0.02)
            seconds = time.perf_counter() - started
            rows = conns[0].execute("SELECT count(*) FROM hotstar_movies").fetchone()
        finally:
            for conn in conns:
                conn.close()
    assert rows is not None
    return Floor(int(rows[0]), seconds, len(paths), cpu.server)


def run_dlt(server: str, api_url: str, requests: list[Params]) -> Case:
    try:
        import dlt  # noqa: F401
    except ImportError:
        print("  dlt: not installed; `.venv/bin/pip install -e '.[bench]'`")
        return Case("dlt: rest_api -> postgres", 0, math.inf, note="not installed", baseline=True)
    with scratch_database(server) as db, tempfile.TemporaryDirectory() as work:
        seconds, made = timed(lambda: dlt_ingest(db, api_url, requests, work))
        rows = scalar(db, "SELECT count(*) FROM hotstar.movies")
        tables = scalar(
            db, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'hotstar'"
        )
    print(f"  dlt: {seconds:.1f} s")
    return Case(
        "dlt: rest_api -> postgres", rows, seconds, made, note=f"{tables} tables", baseline=True
    )


def report(
    cases: list[Case],
    ours: ChildRun,
    paced: ChildRun | None,
    floor: int,
    pages: int,
    storage: Floor,
) -> None:
    own = cases[0].rate
    print()
    print(
        f"{'unpaced':<28} {'rows':>7} {'seconds':>8} {'movies/s':>9} {'requests':>8} "
        f"{'peak RSS':>9} {'ours / it':>9}"
    )
    for case in cases:
        rss = f"{case.rss_mb:.0f} MB" if case.rss_mb is not None else ""
        ratio = f"{own / case.rate:.1f} x" if case.baseline and case.rate > 0 else ""
        requests = "" if case.requests is None else str(case.requests)
        print(
            f"{case.name:<28} {case.movies:>7,} {case.seconds:>8.2f} {case.rate:>9,.0f} "
            f"{requests:>8} {rss:>9} {ratio:>9}  {case.note}"
        )
    print()
    print(
        "targets: ingest >= 10,000 movies/s (x"
        f"{own / 10_000:.2f}); peak RSS <= 150 MB; ours / seed >= 3 x; ours / dlt >= 5 x"
    )
    print(
        f"  ingest's own run (sync log, without interpreter start): "
        f"{ours.rows / ours.run_seconds:,.0f} movies/s"
    )
    if ours.cpu_client is not None and ours.cpu_server is not None:
        # Everything runs on this machine's cores: their sum of CPU seconds, spread evenly,
        # is the shortest the run could be however well fetching and writing overlap.
        cores = os.cpu_count() or 1
        simulator = ours.cpu_simulator or 0.0
        least = (ours.cpu_client + ours.cpu_server + simulator) / cores
        print(
            f"  CPU seconds: the ingest process {ours.cpu_client:.1f}, its PostgreSQL backends "
            f"{ours.cpu_server:.1f}, the simulator {simulator:.1f}; on {cores} cores the run "
            f"cannot take less than {least:.1f} s: at most {ours.rows / least:,.0f} movies/s"
        )
    cpu = "" if storage.cpu_server is None else f", backends {storage.cpu_server:.1f} CPU s"
    best = storage.rows / storage.seconds
    print(
        f"  PostgreSQL's floor here: the same {storage.rows:,} rows COPYed into a fresh mirror"
        f" by {storage.sessions} sessions, nothing else running: {storage.seconds:.2f} s{cpu}"
        f" = {best:,.0f} movies/s; ours reaches {own / best:.0%} of it"
    )
    if best < 10_000:
        print("  (below 10,000 movies/s: no ingest into this schema reaches that on this machine)")
    if paced is not None:
        expected = paced.requests / 1.0
        print()
        print("paced, 1 request/s:")
        print(
            f"  requests {paced.requests} ({pages} pages of a pass, {len(paced.errors)} retried)"
            f" against the floor {floor}: {paced.requests / floor:.2f} x (target <= 1.1)"
        )
        print(
            f"  wall {paced.wall:.1f} s (run {paced.run_seconds:.1f} s) against requests / rate"
            f" {expected:.0f} s: {paced.wall / expected:.2f} x"
            f" (run {paced.run_seconds / expected:.2f} x; target <= 1.1);"
            f" {paced.rows:,} rows, {paced.rss_mb:.0f} MB peak RSS"
        )
        for line in paced.warnings:  # a slow answer (> 5 s) holds the next request 60 s
            print(f"  {line.strip()}")


if __name__ == "__main__":
    main()
