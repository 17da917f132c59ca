"""`--type movie|show|season|episode|match|channel|all`, shared by ingest, sync and reconcile."""

from __future__ import annotations

import typer

from hotstar_sync.errors import ConfigError
from hotstar_sync.model.content import CONTENT_TYPES, ContentType

ALL = "all"
CHOICES = (*CONTENT_TYPES, ALL)


def type_option() -> str:
    option: str = typer.Option(
        ALL,
        "--type",
        help=f"Which catalogue: {', '.join(CHOICES)} (all: every type, parents first).",
    )
    return option


def resolve(value: str) -> list[ContentType]:
    """The content types named by `--type`, in `CONTENT_TYPES` order (shows before seasons)."""
    if value == ALL:
        return list(CONTENT_TYPES.values())
    if value not in CONTENT_TYPES:
        raise ConfigError(f"--type: must be one of {', '.join(CHOICES)}")
    return [CONTENT_TYPES[value]]


def label(kinds: list[ContentType]) -> str:
    return "every type" if len(kinds) > 1 else f"{kinds[0].name} items"
