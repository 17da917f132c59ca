"""Logging: readable lines on a terminal, JSON lines (`--log-json`) for machines.

Only structlog is configured here; every module logs through `structlog.get_logger()`.
Nothing logged may hold a token or the secret: log fingerprints, never values.
"""

from __future__ import annotations

import logging
import sys

import structlog
import structlog.tracebacks

_json = False


def json_lines() -> bool:
    """Whether logs are JSON lines (`--log-json`): the CLI's own error lines are then too."""
    return _json


def configure_logging(*, json: bool = False, verbose: bool = False) -> None:
    global _json
    _json = json
    level = logging.DEBUG if verbose else logging.INFO
    # A logged exception's traceback, without the frames' local variables: those hold the
    # settings, URLs and tokens (structlog's default console formatter shows them).
    colors = sys.stderr.isatty()
    ending: list[structlog.typing.Processor] = (
        [
            structlog.processors.ExceptionRenderer(
                structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
            ),
            structlog.processors.JSONRenderer(),
        ]
        if json
        else [
            structlog.dev.ConsoleRenderer(
                colors=colors,
                exception_formatter=structlog.dev.RichTracebackFormatter(
                    show_locals=False, color_system="truecolor" if colors else None
                ),
            )
        ]
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            *ending,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        # stderr is looked up per log call, not bound once: tests (and embedders) swap it.
        logger_factory=lambda *args: structlog.PrintLogger(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
