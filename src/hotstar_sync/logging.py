"""Logging: readable lines on a terminal, JSON lines (`--log-json`) for machines.

Only structlog is configured here; every module logs through `structlog.get_logger()`.
Nothing logged may hold a token or the secret: log fingerprints, never values.
"""

from __future__ import annotations

import logging
import sys

import structlog


def configure_logging(*, json: bool = False, verbose: bool = False) -> None:
    level = logging.DEBUG if verbose else logging.INFO
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        # stderr is looked up per log call, not bound once: tests (and embedders) swap it.
        logger_factory=lambda *args: structlog.PrintLogger(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
