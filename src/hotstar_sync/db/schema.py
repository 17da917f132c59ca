"""Is the source database's schema the one this version of hotstar-sync writes?

Jobs ask at start. The answer needs only psycopg and a glance at the revision files:
Alembic and SQLAlchemy (about 40 MB of memory) are imported for `hotstar-sync db
upgrade|current`, not by every sync. A test checks `schema_head()` against Alembic's head.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import psycopg

from hotstar_sync.db.connect import connect
from hotstar_sync.errors import DatabaseError

UPGRADE_HINT = "run `hotstar-sync db upgrade`"
VERSIONS = Path(__file__).with_name("migrations") / "versions"
_REVISION = re.compile(r'^(down_revision|revision)\s*=\s*(?:"([^"]*)"|None)', re.MULTILINE)


@functools.cache
def schema_head() -> str:
    """The revision no other revision builds on (revisions form a single line)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in VERSIONS.glob("*.py"):
        for name, value in _REVISION.findall(path.read_text(encoding="utf-8")):
            (revisions if name == "revision" else parents).add(value)
    (head,) = revisions - parents
    return head


def require_head(url: str) -> None:
    """Raise `DatabaseError` (with the command to run) unless the schema is at head."""
    with connect(url) as conn:
        try:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        except psycopg.errors.UndefinedTable:
            row = None
        except psycopg.Error as exc:
            raise DatabaseError(
                f"cannot read the schema version: {exc.diag.message_primary}"
            ) from exc
    if row is None:
        raise DatabaseError("the source database has no schema yet", hint=UPGRADE_HINT)
    if row[0] != schema_head():
        raise DatabaseError(
            f"the source database is at revision {row[0]}, not {schema_head()}",
            hint=UPGRADE_HINT,
        )
