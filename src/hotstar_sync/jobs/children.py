"""Types searched per parent (seasons: `/season/search` needs a `showId`).

There is no catalogue-wide search to page through, count or poll by updateDate, so:
- a first load asks every parent (every show the mirror knows, quarantined ones included,
  since the API serves their seasons too): one request per show;
- a sync asks only the parents that changed (or are new, or went) since the type's last
  completed run: the parent's runs wrote them to the change log (or the quarantine), and a
  parent's change is what brings its children's (a show's new season, its removal); the
  parents that changed in the lookback before that run are asked again, since a child can
  be indexed after its parent's change was seen;
- each parent asked is walked whole, so its children the walk did not return are gone:
  after a second walk (one sighting proves nothing under churn) they are soft-deleted as
  'vanished', under the same guard as a reconcile;
- a reconcile asks every parent and also lets go the children of parents no longer served.
The count probe does not apply: counting per parent would cost as much as a full pass.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from hotstar_sync.api.scan import Partition
from hotstar_sync.db.lifecycle import vanish
from hotstar_sync.db.runs import Conn, Run
from hotstar_sync.db.writer import PageCounts
from hotstar_sync.errors import ConfigError, DatabaseError
from hotstar_sync.jobs.session import Progress, Session
from hotstar_sync.model.content import CONTENT_TYPES, ContentType
from hotstar_sync.model.guard import DeletionBudget
from hotstar_sync.model.windows import WindowResult

_ALL_PARENTS = """
SELECT {pid} FROM {parent} WHERE deleted_reason IS DISTINCT FROM 'vanished'
UNION
SELECT (raw_item ->> {pfield})::bigint FROM hotstar_quarantine
WHERE content_type = %(parent)s AND resolved_at IS NULL
  AND jsonb_typeof(raw_item -> {pfield}) = 'number'
"""

# Whether the parent type was ever loaded whole: then no parent means no child either.
_PARENT_LOADED = """
SELECT 1 FROM hotstar_sync_log
WHERE content_type = %(parent)s AND status = 'completed'
  AND sync_type IN ('initial', 'reconcile')
LIMIT 1
"""

# Parents the change log holds a change of from a run after the type's last completed one
# (run ids grow; one job at a time, so a parent's run and its children's never interleave),
# or from the lookback before that run started (the search index may serve a parent's
# change before its children's: they are asked once more, the next day; a first load's
# inserts are left out, or the first sync would ask every parent again); and quarantined
# parents first seen, or updated (their updateDate, less the lookback), since. A
# quarantined parent merely seen again by a later pass is not a change.
_CHANGED_PARENTS = """
WITH mark AS (
  SELECT coalesce(max(id), 0) AS id,
         coalesce(extract(epoch FROM max(started_at))::bigint, 0) - %(lookback)s AS since
  FROM hotstar_sync_log
  WHERE id = (SELECT max(id) FROM hotstar_sync_log
              WHERE content_type = %(kind)s AND status = 'completed')
)
SELECT p.{pid} FROM hotstar_change_log c JOIN {parent} p ON p.{pkey} = c.content_id
WHERE c.content_type = %(parent)s
  AND (c.run_id > (SELECT id FROM mark)
       OR (c.changed_at >= to_timestamp((SELECT since FROM mark))
           AND c.run_id IN (SELECT id FROM hotstar_sync_log WHERE sync_type <> 'initial')))
UNION
SELECT (raw_item ->> {pfield})::bigint FROM hotstar_quarantine
WHERE content_type = %(parent)s AND last_run_id > (SELECT id FROM mark)
  AND jsonb_typeof(raw_item -> {pfield}) = 'number'
  AND (first_run_id > (SELECT id FROM mark)
       OR (jsonb_typeof(raw_item -> 'updateDate') = 'number'
           AND (raw_item ->> 'updateDate')::numeric >= (SELECT since FROM mark)))
"""

_PRESENT = """
SELECT {key}, {ref}, NOT is_deleted FROM {table}
WHERE deleted_reason IS DISTINCT FROM 'vanished'
"""


@dataclass
class ChildrenReport:
    parents: int  # parents asked
    verified: bool
    counts: PageCounts
    vanished: int = 0
    would_vanish: int = 0
    live_rows: int = 0
    refused: bool = False
    unverified: list[str] = field(default_factory=list)


def _parent(kind: ContentType) -> ContentType:
    assert kind.parent is not None
    return CONTENT_TYPES[kind.parent]


def _query(conn: Conn, template: str, kind: ContentType, params: dict[str, Any]) -> list[Any]:
    parent = _parent(kind)
    statement = sql.SQL(template).format(
        parent=sql.Identifier(parent.table),
        pid=sql.Identifier(parent.by_field[kind.parent_field].column),
        pkey=sql.Identifier(parent.id_column),
        pfield=sql.Literal(kind.parent_field),
        table=sql.Identifier(kind.table),
        key=sql.Identifier(kind.id_column),
        ref=sql.Identifier(kind.by_field[kind.parent_ref].column if kind.parent_ref else "id"),
    )
    try:
        with conn.cursor() as cur:
            cur.execute(statement, {"kind": kind.name, "parent": parent.name} | params)
            rows = cur.fetchall()
        conn.commit()
        return rows
    except psycopg.Error as exc:
        raise DatabaseError(
            f"cannot read the {parent.name} items of the mirror: {exc.diag.message_primary}"
        ) from exc


def all_parents(conn: Conn, kind: ContentType) -> list[int]:
    """Every parent the mirror knows. None at all is an empty catalogue once the parent
    type was loaded (an endpoint with no items is complete and empty, and so are its
    children); before that, a usage error."""
    ids = sorted(row[0] for row in _query(conn, _ALL_PARENTS, kind, {}) if row[0] is not None)
    if not ids and not _query(conn, _PARENT_LOADED, kind, {}):
        raise ConfigError(
            f"{kind.name} items are searched per {kind.parent}, and the mirror holds no "
            f"{kind.parent} yet",
            hint=f"run `hotstar-sync ingest --type {kind.parent}` first",
        )
    return ids


def changed_parents(conn: Conn, kind: ContentType, lookback: int) -> list[int]:
    rows = _query(conn, _CHANGED_PARENTS, kind, {"lookback": lookback})
    return sorted(row[0] for row in rows if row[0] is not None)


def partitions(kind: ContentType, parents: Collection[int]) -> list[Partition]:
    assert kind.parent_param is not None
    return [((kind.parent_param, parent),) for parent in parents]


def refresh(
    s: Session,
    run: Run,
    kind: ContentType,
    parents: list[int],
    *,
    everything: bool,
    guard: DeletionBudget,
    known: dict[str, WindowResult] | None = None,
    progress: Progress | None = None,
) -> ChildrenReport:
    """Fetch every child of `parents` and soft-delete the children they no longer have
    (with `everything`, also the children of parents not asked: a reconcile); every
    deletion counts against the run's `guard`."""
    present = {key: (ref, live) for key, ref, live in _query(s.conn, _PRESENT, kind, {})}
    first = s.scan(
        run,
        kind,
        known=known,
        progress=progress,
        collect_ids=True,
        partitions=partitions(kind, parents),
        guard=guard,
    )
    report = ChildrenReport(len(parents), first.verified, first.totals.counts)
    report.unverified = first.unverified
    asked = set(parents)
    candidates = {
        key for key, (ref, _) in present.items() if everything or ref in asked
    } - first.seen
    again = sorted({present[c][0] for c in candidates} & asked)
    if candidates and report.verified and again:
        second = s.scan(
            run, kind, collect_ids=True, partitions=partitions(kind, again), guard=guard
        )
        candidates -= second.seen
        report.counts = report.counts + second.totals.counts
        report.verified = report.verified and second.verified
        report.unverified += second.unverified
    report.live_rows = sum(live for _, live in present.values())
    report.would_vanish = sum(present[c][1] for c in candidates)
    if not report.verified:
        return report  # nothing deleted on an incomplete pass
    if not guard.take(report.would_vanish):
        report.refused = True
        return report
    s.lock.ensure()
    report.vanished = vanish(s.conn, kind, run.id, candidates)
    return report
