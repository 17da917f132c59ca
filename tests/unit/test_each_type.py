"""`jobs.session.each_type`: which failures stop the types after them."""

from __future__ import annotations

from typing import Any, cast

import pytest

from hotstar_sync.errors import AuthError, DatabaseError
from hotstar_sync.jobs.session import each_type
from hotstar_sync.model.content import CONTENT_TYPES

KINDS = [CONTENT_TYPES[name] for name in ("movie", "show", "channel")]


class Resets:
    """What each_type asks of the session: a rollback after a failed type."""

    def __init__(self) -> None:
        self.count = 0

    def reset(self) -> None:
        self.count += 1


def run(failure: Exception, session: Resets, ran: list[str], reported: list[str]) -> None:
    def run_one(kind: Any) -> str:
        ran.append(kind.name)
        if kind.name == "movie":
            raise failure
        return kind.name

    each_type(cast(Any, session), KINDS, run_one, reported.append)


def test_a_failed_type_lets_the_next_run_and_is_raised_at_the_end() -> None:
    session, ran, reported = Resets(), [], []
    with pytest.raises(AuthError):
        run(AuthError("/movie/search: refused"), session, ran, reported)
    assert ran == ["movie", "show", "channel"] and reported == ["show", "channel"]
    assert session.count == 1


def test_a_database_error_stops_at_once() -> None:
    session, ran, reported = Resets(), [], []
    with pytest.raises(DatabaseError):
        run(DatabaseError("cannot connect"), session, ran, reported)
    assert ran == ["movie"] and reported == [] and session.count == 0
