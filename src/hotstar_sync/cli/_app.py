"""The Typer application, and how our errors become one line and an exit code."""

from __future__ import annotations

import functools
import gc
import inspect
import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import ParamSpec, TypeVar

import structlog
import typer
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from hotstar_sync.config import Settings, load_settings
from hotstar_sync.errors import HotstarSyncError, Terminated
from hotstar_sync.logging import configure_logging, json_lines

log = structlog.get_logger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

app = typer.Typer(
    name="hotstar-sync",
    help="Mirror the Hotstar partner catalogue into PostgreSQL, completely and exactly.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(
    help="The source database's schema (Alembic migrations).", no_args_is_help=True
)
app.add_typer(db_app, name="db")

err_console = Console(stderr=True, highlight=False, soft_wrap=True)


@app.callback()
def _root(
    log_json: bool = typer.Option(False, "--log-json", help="Log JSON lines to stderr."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug lines too."),
) -> None:
    configure_logging(json=log_json, verbose=verbose)


def fail(exc: HotstarSyncError) -> typer.Exit:
    """Print `exc` as one line (plus its hint) and return the Exit to raise; with
    `--log-json`, as one JSON event instead, so that stderr stays JSON lines."""
    if json_lines():
        extra = {"hint": exc.hint} if exc.hint else {}
        log.error("command failed", error=exc.message, exit_code=exc.exit_code, **extra)
    else:
        err_console.print(f"error: {exc.message}", markup=False)
        if exc.hint:
            err_console.print(f"hint: {exc.hint}", markup=False)
    return typer.Exit(exc.exit_code)


def _stopped(message: str, code: int) -> typer.Exit:
    if json_lines():
        log.error("command stopped", reason=message, exit_code=code)
    else:
        err_console.print(message)
    return typer.Exit(code)


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Map our error tree to the exit codes of the README; never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except HotstarSyncError as exc:
            raise fail(exc) from None
        except Terminated:
            raise _stopped("terminated (SIGTERM)", Terminated.exit_code) from None
        except KeyboardInterrupt:
            raise _stopped("interrupted", 130) from None

    return wrapper


def print_whole(console: Console, table: Table) -> None:
    """Print `table` with every cell whole: where the console (80 columns in a pipe or a
    cron mail) is narrower than the table needs, its lines run longer instead of the
    counts being cut to "1,23…"."""
    needed = Measurement.get(console, console.options.update(width=10_000), table).maximum
    if needed > console.width:
        console = Console(highlight=False, width=needed, file=console.file)
    console.print(table)


def settings() -> Settings:
    """The settings, or a one-line error naming the bad variable (exit 2)."""
    return load_settings()


def summarise_commands(*apps: typer.Typer) -> None:
    """Give every command a one-line summary for its group's command list: the first
    paragraph of its docstring, joined. (Typer's rich help keeps that paragraph's line
    breaks in the list, so a summary wrapped in the source broke mid-sentence there.)"""
    for group in apps:
        for info in group.registered_commands:
            if info.short_help is None and info.help is None and info.callback is not None:
                first = inspect.cleandoc(info.callback.__doc__ or "").split("\n\n")[0]
                info.short_help = " ".join(first.split())


_terminated = False


def _terminate(signum: int, frame: FrameType | None) -> None:
    global _terminated
    _terminated = True
    raise Terminated


#: Click's usage errors (bad or missing options), from the click Typer was built with (its
#: own copy in recent releases): the base class of typer.BadParameter of that name.
_ClickException: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"
)


def _usage_error(error: Exception) -> int:
    """A usage error as one line and a hint (a JSON event with `--log-json`), not Typer's
    box of several lines; with no command given, only the help Typer printed already."""
    message = str(getattr(error, "format_message", error.__str__)()).strip()
    code = int(getattr(error, "exit_code", 2))
    ctx = getattr(error, "ctx", None)
    if not message or message.startswith("Usage:") or ctx is None:
        if message:
            err_console.print(message, markup=False)
        return code
    names = []  # the command's path under the root, whatever the program's name
    while ctx.parent is not None:
        names.append(ctx.info_name)
        ctx = ctx.parent
    hint = f"see `{' '.join(['hotstar-sync', *reversed(names)])} --help`"
    if json_lines():
        log.error("command failed", error=message, hint=hint, exit_code=code)
    else:
        err_console.print(f"error: {message}", markup=False)
        err_console.print(f"hint: {hint}", markup=False)
    return code


def _run_app() -> int:
    try:
        result = app(standalone_mode=False)
    except _ClickException as error:
        return _usage_error(error)
    code = result if isinstance(result, int) else 0
    # SIGTERM where no command caught it (Typer makes any KeyboardInterrupt exit 130).
    return Terminated.exit_code if _terminated and code == 130 else code


def main() -> None:
    # SIGTERM stops a command as Ctrl-C does: the run is marked failed with its reason and
    # everything opened is closed (by default the process just ended, the run 'running').
    # `schedule` and `serve` put their own graceful stop in its place while they run.
    signal.signal(signal.SIGTERM, _terminate)
    try:
        code = _run_app()
    finally:
        # The interpreter's teardown runs the garbage collector over every object the
        # imports made (~60,000): 0.3 s of every command, a tenth of a short one. Frozen,
        # they are skipped; atexit handlers (the embedded server's) and flushes still run,
        # and everything this command opened it has closed by now.
        gc.freeze()
    sys.exit(code)
