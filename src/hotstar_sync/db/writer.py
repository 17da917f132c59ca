"""The writer: one page of validated items -> the mirror, in one transaction.

Per page (design: "Data flow", issue 5 "Writer"):

1. COPY the rows (binary) into a temporary staging table.
2. A page none of whose keys and UNIQUE values the mirror holds (a first load) is INSERTed
   whole, with its change-log rows, in one statement. Any other page, or one whose INSERT
   fails (a key another transaction inserted meanwhile, any other constraint or data
   error), is merged: one statement
   classifies every staged row against the mirror (new, changed, unchanged, clashing with
   another row's UNIQUE value), INSERTs the new rows and UPDATEs the changed ones, and
   appends their change-log rows. Unchanged rows are never touched: their updated_at and
   xmin stay, no index is written. Should another transaction insert one of the new keys
   meanwhile, the merge is redone as INSERT ... ON CONFLICT (content_id) DO UPDATE, which
   settles that race.
3. Rejects (from validation, and the clashes found in 2) are upserted into the quarantine.
4. The run's counters in hotstar_sync_log grow by the page's counts, and the window's
   checkpoint row is written, so a resumed run keeps exact counts.

All of it commits together or not at all. A row that still breaks a constraint the
classification did not foresee rolls the statement back to a savepoint, and the page is
redone row by row: the failures go to the quarantine, the rest commits.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any, Literal, Protocol

import orjson
import psycopg
import structlog
from psycopg import sql
from psycopg.pq import TransactionStatus

from hotstar_sync.db.connect import lost_hint
from hotstar_sync.db.runs import WRITING, JobLock
from hotstar_sync.errors import DatabaseError, DeletionGuardError
from hotstar_sync.model.content import ContentType
from hotstar_sync.model.guard import DeletionBudget
from hotstar_sync.model.validate import Reject, Row, row_columns

log = structlog.get_logger(__name__)

_STAGE_TYPES = {"text": "text", "digits": "text", "int": "int4", "bigint": "int8", "bool": "bool"}


@dataclass(frozen=True, slots=True)
class PageCounts:
    """What one page did to the mirror. added + updated + unchanged + quarantined = items."""

    added: int = 0
    updated: int = 0  # existing rows rewritten: content or deletion state changed
    unchanged: int = 0
    deleted: int = 0  # live rows that became soft-deleted (also counted in updated)
    restored: int = 0  # deleted rows that became live again (also counted in updated)
    quarantined: int = 0

    def __add__(self, other: PageCounts) -> PageCounts:
        return PageCounts(*(getattr(self, name) + getattr(other, name) for name in self.__slots__))


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A finished window of a run (hotstar_sync_windows), written with its last page."""

    window_key: str
    filters: Mapping[str, Any]
    status: Literal["done", "unverified"] = "done"
    total_results: int | None = None
    items_seen: int | None = None
    requests: int | None = None


class _Sql:
    """The statements of one content type, composed once from its description."""

    def __init__(self, kind: ContentType) -> None:
        table = sql.Identifier(kind.table)
        self.stage = sql.Identifier(f"hs_stage_{kind.name}")
        names = row_columns(kind)
        idents = [sql.Identifier(n) for n in names]
        types = [_STAGE_TYPES[c.kind] for c in kind.scalar_columns] + ["text"] * 3
        self.copy_types = types
        stage = sql.SQL(
            # A page's CTEs hold a few MB (raw items, parsed once); in memory, not spilled.
            "SET LOCAL work_mem = '64MB';"
            # The planner cannot know the staging table holds one page, guesses thousands
            # of rows, and the merge's estimated cost passes jit_above_cost: compiling it
            # took longer than running it (~200 ms of a page's ~400 ms, EXPLAIN ANALYZE).
            " SET LOCAL jit = off;"
            # ON COMMIT DELETE ROWS: the table outlives the page, its rows do not. The
            # toast_tuple_target keeps a ~3 KB staged row inline and uncompressed: pglz on
            # data read once and thrown away took more time than the COPY itself.
            " CREATE TEMP TABLE IF NOT EXISTS {} ({})"
            " WITH (toast_tuple_target = 8160) ON COMMIT DELETE ROWS"
        ).format(
            self.stage,
            sql.SQL(", ").join(
                sql.SQL("{} {}").format(i, sql.SQL(t)) for i, t in zip(idents, types, strict=True)
            ),
        )
        stage = sql.SQL(WRITING + "; ") + stage
        self.begin = stage
        # raw_response (~3 KB of jsonb) is compressed on every insert; lz4 does it several
        # times faster than the default pglz (+20-40% pages/s measured by bench_writer.py).
        # The columns have no compression of their own, so the session default decides.
        self.begin_lz4 = sql.SQL("SET LOCAL default_toast_compression = lz4; ") + stage
        self.copy = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
            self.stage, sql.SQL(", ").join(idents)
        )
        key = sql.Identifier(kind.id_column)
        scalars = [sql.Identifier(c.column) for c in kind.scalar_columns]
        jsons = [sql.Identifier(c.column) for c in kind.json_columns]
        # JSON columns come out of the raw item; JSON null and an absent field are both NULL.
        json_values = [
            sql.SQL("NULLIF(d.doc -> {}, 'null'::jsonb)").format(sql.Literal(c.field))
            for c in kind.json_columns
        ]
        # A clash: another row already holds this row's value of a UNIQUE column, or
        # another row of the page claims it first. The mirror decides who is first: the
        # row that holds the value already keeps it (and is updated), the newcomer is
        # quarantined; among newcomers alone, the lowest contentId. Only new rows and rows
        # whose value changed can clash, so only they pay for the index probe.
        clashes = []
        for name in kind.unique_fields:
            col = sql.Identifier(kind.by_field[name].column)
            clashes.append(
                sql.SQL(
                    "CASE WHEN m.{key} IS NULL OR m.{col} <> s.{col} THEN"
                    " (SELECT {lit} || ' ' || s.{col} || ' already belongs to {idf} '"
                    "   || o.{key} FROM {table} o WHERE o.{col} = s.{col}) END,"
                    " CASE WHEN first_value(s.{key}) OVER {claim}"
                    "   <> s.{key} THEN {lit} || ' ' || s.{col} || ' is claimed in the same page by"
                    " {idf} ' || first_value(s.{key}) OVER {claim}"
                    " END"
                ).format(
                    key=key,
                    col=col,
                    table=table,
                    lit=sql.Literal(name),
                    idf=sql.SQL(kind.id_field),
                    claim=sql.SQL(
                        "(PARTITION BY s.{col} ORDER BY m.{col} IS NOT DISTINCT FROM s.{col}"
                        " DESC, s.{key})"
                    ).format(col=col, key=key),
                )
            )
        changed = sql.SQL(
            "m.content_hash <> EXCLUDED.content_hash OR (m.is_deleted, m.deleted_reason)"
            " IS DISTINCT FROM (EXCLUDED.is_deleted, EXCLUDED.deleted_reason)"
        )
        values = [*(sql.SQL("s.{}").format(c) for c in scalars), *json_values]
        parts = {
            "table": table,
            "stage": self.stage,
            "key": key,
            "clash": sql.SQL("COALESCE({})").format(sql.SQL(", ").join(clashes)),
            "uniques": sql.SQL(", ").join(
                sql.Identifier(kind.by_field[name].column) for name in kind.unique_fields
            ),
            "columns": sql.SQL(", ").join([*scalars, *jsons]),
            "values": sql.SQL(", ").join(values),
            "assign": sql.SQL(", ").join(
                sql.SQL("{} = {}").format(c, v)
                for c, v in zip([*scalars, *jsons], values, strict=True)
            ),
            "set": sql.SQL(", ").join(
                sql.SQL("{} = EXCLUDED.{}").format(c, c) for c in [*scalars, *jsons]
            ),
            "changed": changed,
        }
        #: Where each UNIQUE value sits in a `Row`; `_ABSENT` takes them as %(unique_<i>)s.
        self.unique_at = [names.index(kind.by_field[name].column) for name in kind.unique_fields]
        taken = [
            sql.SQL("AND NOT EXISTS (SELECT FROM {} WHERE {} = ANY({}::{}[]))").format(
                table, sql.Identifier(names[at]), sql.Placeholder(f"unique_{i}"), sql.SQL(types[at])
            )
            for i, at in enumerate(self.unique_at)
        ]
        self.absent = sql.SQL(_ABSENT).format(**parts, taken=sql.SQL(" ").join(taken))
        self.insert = sql.SQL(_INSERT).format(**parts)
        self.merge = sql.SQL(_MERGE.replace("{up}", _UP_SPLIT)).format(**parts)
        self.upsert = sql.SQL(_MERGE.replace("{up}", _UP_UPSERT)).format(**parts)


# One page's merge. `{up}` writes the rows `todo` holds and returns, per row written, its key,
# whether it was inserted, and an updated row's new raw item; the rest (change log,
# quarantine, counts) is the same whichever of the two ways below does it.
_MERGE = """
WITH cand AS MATERIALIZED (
  -- Narrow on purpose: the classification of each staged row, not the row. The ~3 KB raw
  -- items are read from the staging table once, by the INSERT below, and only for the rows
  -- it writes (carrying them through CTEs copied each one twice, a tenth of a page's time).
  SELECT s.{key}, s.content_hash, s.deleted_reason, m.{key} IS NULL AS is_new,
         m.content_hash AS old_hash, m.is_deleted AS old_deleted, m.deleted_reason AS old_reason,
         {clash} AS clash
  FROM {stage} s LEFT JOIN LATERAL (
    -- LIMIT 1 keeps this a probe of the key's index per staged row: blind to the staging
    -- table's size, the planner would otherwise hash the whole mirror for every page.
    SELECT {key}, {uniques}, content_hash, is_deleted, deleted_reason
    FROM {table} WHERE {key} = s.{key} LIMIT 1
  ) m ON true
  WHERE %(only)s::text[] IS NULL OR s.{key} = ANY(%(only)s::text[])
),
todo AS MATERIALIZED (
  SELECT c.* FROM cand c
  WHERE c.clash IS NULL AND (c.is_new OR c.old_hash <> c.content_hash
    OR (c.old_deleted, c.old_reason)
       IS DISTINCT FROM (c.deleted_reason IS NOT NULL, c.deleted_reason))
),
{up}events AS (
  SELECT t.{key} AS key, e.change, e.fields, e.reason, up.inserted, t.old_deleted,
         t.deleted_reason
  FROM todo t JOIN up ON up.key = t.{key}
  CROSS JOIN LATERAL (
    SELECT 'insert' AS change, NULL::text[] AS fields, NULL::text AS reason WHERE up.inserted
    UNION ALL
    -- The changed top-level fields: old raw item (this statement's snapshot) against new.
    SELECT 'update', ARRAY(
        SELECT COALESCE(n.key, o.key)
        FROM jsonb_each(up.doc) n
        FULL JOIN jsonb_each((SELECT x.raw_response FROM {table} x WHERE x.{key} = t.{key})) o
          ON o.key = n.key
        WHERE n.value IS DISTINCT FROM o.value ORDER BY 1), NULL
    WHERE NOT up.inserted AND t.old_hash <> t.content_hash
    UNION ALL
    SELECT 'delete', NULL, t.deleted_reason
    WHERE t.deleted_reason IS NOT NULL
      AND (up.inserted OR t.old_reason IS DISTINCT FROM t.deleted_reason)
    UNION ALL
    SELECT 'restore', NULL, t.old_reason
    WHERE NOT up.inserted AND t.old_deleted AND t.deleted_reason IS NULL
  ) e
),
logged AS (
  INSERT INTO hotstar_change_log (run_id, content_type, content_id, change, changed_fields,
                                  reason, changed_at)
  SELECT %(run)s, %(kind)s, key, change, fields, reason, %(now)s::timestamptz FROM events
),
resolved AS (
  -- An item that was quarantined and is now stored again is resolved.
  UPDATE hotstar_quarantine q SET resolved_at = %(now)s::timestamptz
  FROM cand c
  WHERE q.content_type = %(kind)s AND q.item_key = c.{key} AND c.clash IS NULL
    AND q.resolved_at IS NULL
)
SELECT 'counts', NULL,
       (SELECT count(*) FROM up WHERE inserted),
       (SELECT count(*) FROM up WHERE NOT inserted),
       (SELECT count(*) FROM cand WHERE clash IS NULL) - (SELECT count(*) FROM up),
       (SELECT count(*) FROM events WHERE change = 'delete' AND NOT inserted
                                      AND NOT COALESCE(old_deleted, false)),
       (SELECT count(*) FROM events WHERE change = 'restore')
UNION ALL
SELECT 'clash', c.{key}::text || chr(31) || c.clash, NULL, NULL, NULL, NULL, NULL
FROM cand c WHERE c.clash IS NOT NULL
"""

# The rows to write, as every INSERT below takes them: the raw item is parsed
# once per row (OFFSET 0 keeps the planner from copying the cast into each JSON column's
# expression), and only for rows that are written.
_COLUMNS = """({columns}, raw_response, content_hash, is_deleted, deleted_reason, deleted_at,
 first_seen_run_id, last_changed_run_id, last_synced_at)"""
_PARSED = """
  CROSS JOIN LATERAL (SELECT s.raw_response::jsonb AS doc OFFSET 0) d"""
_SOURCE = (
    """
  FROM {stage} s JOIN todo t ON t.{key} = s.{key}"""
    + _PARSED
)
_VALUES = """
  SELECT {values}, d.doc, s.content_hash, s.deleted_reason IS NOT NULL, s.deleted_reason,
         CASE WHEN s.deleted_reason IS NOT NULL THEN %(now)s::timestamptz END,
         %(run)s, %(run)s, %(now)s::timestamptz"""
_ROWS = _VALUES + _SOURCE

# A page whose keys and UNIQUE values are all new (`_ABSENT` says so, once per page; the
# writer checks the values are distinct within the page): every staged row is inserted,
# without the classification's per-row lookups, window sort and joins (5 to 8% of a first
# load's PostgreSQL CPU, medians of two A/B runs of 3 and 4 rounds). Should another
# transaction insert one of the keys meanwhile, the INSERT fails and the page is merged.
# An inserted row is a change-log 'insert', then a 'delete' when it is stored deleted.
_ABSENT = """
SELECT NOT EXISTS (SELECT FROM {table} WHERE {key} = ANY(%(keys)s::text[]))
   {taken}
   -- A quarantined item stored now is resolved: the merge does that.
   AND NOT EXISTS (SELECT FROM hotstar_quarantine WHERE content_type = %(kind)s
                   AND item_key = ANY(%(keys)s::text[]) AND resolved_at IS NULL)
"""
_INSERT = (
    """
WITH ins AS (
  INSERT INTO {table} """
    + _COLUMNS
    + _VALUES
    + """
  FROM {stage} s"""
    + _PARSED
    + """
  RETURNING {key} AS key, deleted_reason
),
logged AS (
  INSERT INTO hotstar_change_log (run_id, content_type, content_id, change, changed_fields,
                                  reason, changed_at)
  SELECT %(run)s, %(kind)s, i.key, e.change, NULL, e.reason, %(now)s::timestamptz
  FROM ins i CROSS JOIN LATERAL (
    SELECT 'insert' AS change, NULL::text AS reason
    UNION ALL
    SELECT 'delete', i.deleted_reason WHERE i.deleted_reason IS NOT NULL
  ) e
)
SELECT count(*) FROM ins
"""
)

# The fast way: a plain INSERT of the rows classified new, an UPDATE of the rows classified
# changed. ON CONFLICT's speculative insertion (one more probe of the key's index and one
# more WAL record per row) cost ~10% of a first load's page (bench A/B), and nothing here
# needs it: the classification found these keys absent, and the pipeline never has two of
# its pages in flight write a common row. Only another transaction inserting one of the
# new keys meanwhile makes the INSERT fail (a unique violation); the page is then merged
# again the safe way, `_UP_UPSERT`. The UPDATE needs no such care: a row changed meanwhile
# is re-checked against its newest version (READ COMMITTED), so an equal row is left alone.
_UP_SPLIT = (
    """
ins AS (
  INSERT INTO {table} """
    + _COLUMNS
    + _ROWS
    + """
  WHERE t.is_new
  RETURNING {key} AS key
),
upd AS (
  UPDATE {table} m SET {assign},
    raw_response = d.doc, content_hash = s.content_hash,
    is_deleted = s.deleted_reason IS NOT NULL, deleted_reason = s.deleted_reason,
    deleted_at = CASE WHEN s.deleted_reason IS NULL THEN NULL
                      WHEN m.is_deleted THEN m.deleted_at ELSE %(now)s::timestamptz END,
    last_changed_run_id = %(run)s, last_synced_at = %(now)s::timestamptz"""
    + _SOURCE
    + """
  WHERE NOT t.is_new AND m.{key} = s.{key}
    AND (m.content_hash <> s.content_hash OR (m.is_deleted, m.deleted_reason)
         IS DISTINCT FROM (s.deleted_reason IS NOT NULL, s.deleted_reason))
  -- The new raw item, for the list of changed fields.
  RETURNING m.{key} AS key, m.raw_response AS doc
),
up AS (
  SELECT key, true AS inserted, NULL::jsonb AS doc FROM ins
  UNION ALL
  SELECT key, false, doc FROM upd
),
"""
)

# The safe way: one INSERT ... ON CONFLICT (content_id) DO UPDATE, right whatever another
# transaction writes meanwhile (it waits for a row being inserted, then compares with it).
_UP_UPSERT = (
    """
up AS (
  INSERT INTO {table} AS m """
    + _COLUMNS
    + _ROWS
    + """
  ON CONFLICT ({key}) DO UPDATE SET {set},
    raw_response = EXCLUDED.raw_response, content_hash = EXCLUDED.content_hash,
    is_deleted = EXCLUDED.is_deleted, deleted_reason = EXCLUDED.deleted_reason,
    deleted_at = CASE WHEN NOT EXCLUDED.is_deleted THEN NULL
                      WHEN m.is_deleted THEN m.deleted_at ELSE EXCLUDED.deleted_at END,
    last_changed_run_id = EXCLUDED.last_changed_run_id, last_synced_at = EXCLUDED.last_synced_at
  -- The classification above already left unchanged rows out; this repeats it against the
  -- row as ON CONFLICT sees it, so a concurrent change cannot make us rewrite an equal row.
  WHERE {changed}
  -- An updated row's new raw item, for the list of changed fields below.
  RETURNING m.{key} AS key, (m.xmax = 0) AS inserted,
            CASE WHEN m.xmax <> 0 THEN m.raw_response END AS doc
),
"""
)

_QUARANTINE = """
INSERT INTO hotstar_quarantine AS q (content_type, item_key, reason, raw_item, first_run_id,
                                     last_run_id, first_seen_at, last_seen_at, times_seen)
SELECT %(kind)s, k, r, j::jsonb, %(run)s, %(run)s, %(now)s::timestamptz, %(now)s::timestamptz, 1
FROM unnest(%(keys)s::text[], %(reasons)s::text[], %(raws)s::text[]) AS u(k, r, j)
ON CONFLICT (content_type, item_key) DO UPDATE SET
  -- Quarantined again after it was resolved (stored meanwhile): held since now.
  first_run_id = CASE WHEN q.resolved_at IS NULL THEN q.first_run_id ELSE EXCLUDED.first_run_id END,
  first_seen_at = CASE WHEN q.resolved_at IS NULL THEN q.first_seen_at
                       ELSE EXCLUDED.first_seen_at END,
  reason = EXCLUDED.reason, raw_item = EXCLUDED.raw_item, last_run_id = EXCLUDED.last_run_id,
  last_seen_at = EXCLUDED.last_seen_at, times_seen = q.times_seen + 1, resolved_at = NULL
"""

_SYNC_LOG = """
UPDATE hotstar_sync_log SET
  total_items_fetched = COALESCE(total_items_fetched, 0) + %(fetched)s,
  items_added = COALESCE(items_added, 0) + %(added)s,
  items_updated = COALESCE(items_updated, 0) + %(updated)s,
  items_deleted = COALESCE(items_deleted, 0) + %(deleted)s,
  items_restored = COALESCE(items_restored, 0) + %(restored)s,
  items_quarantined = COALESCE(items_quarantined, 0) + %(quarantined)s,
  api_requests_made = COALESCE(api_requests_made, 0) + %(requests)s
WHERE id = %(run)s
RETURNING id
"""

_CHECKPOINT = """
INSERT INTO hotstar_sync_windows (run_id, content_type, window_key, filters, status,
                                  total_results, items_seen, requests, completed_at)
VALUES (%(run)s, %(kind)s, %(key)s, %(filters)s::jsonb, %(status)s, %(total)s, %(seen)s,
        %(requests)s, %(now)s::timestamptz)
ON CONFLICT (run_id, window_key) DO UPDATE SET
  filters = EXCLUDED.filters, status = EXCLUDED.status, total_results = EXCLUDED.total_results,
  items_seen = EXCLUDED.items_seen, requests = EXCLUDED.requests,
  completed_at = EXCLUDED.completed_at
"""


class RequestBook(Protocol):
    """A run's API requests not yet in its row (`jobs.session.RequestBook`)."""

    def take(self) -> int: ...

    def give_back(self, count: int) -> None: ...


class _Refused(Exception):
    """Rolls a page back when its deletions would pass the run's guard."""

    def __init__(self, count: int) -> None:
        self.count = count


def _reason(exc: psycopg.Error) -> str:
    """psycopg's primary message (never the statement or its parameters), and the constraint."""
    diag = exc.diag
    text = diag.message_primary or str(exc).strip().splitlines()[0] or type(exc).__name__
    return f"{text} ({diag.constraint_name})" if diag.constraint_name else text


class PageWriter:
    """Writes pages of one content type for one run (a hotstar_sync_log row).

    `conn` must not be inside a transaction: each page is a transaction of its own, which
    commits when `write_page` returns.
    """

    def __init__(
        self,
        conn: psycopg.Connection[Any],
        content_type: ContentType,
        run_id: int,
        guard: DeletionBudget | None = None,
        lock: JobLock | None = None,
        book: RequestBook | None = None,
    ):
        self.conn = conn
        self.content_type = content_type
        self.run_id = run_id
        #: The job lock, checked (or taken again) before each page commits: a job that lost
        #: it to another job writes nothing more (`db.runs.JobLock`).
        self.lock = lock
        #: The run's requests, added to its row with each page (`jobs.session.RequestBook`).
        self.book = book
        #: The run's deletion guard: a page whose deletions (items served UNPUBLISHED or
        #: expired) would pass it commits nothing and raises `DeletionGuardError`.
        self.guard = guard
        self._sql = _statements(content_type)
        self._key_index = row_columns(content_type).index(content_type.id_column)
        self._lz4: bool | None = None  # whether the server was built with lz4; asked once
        self._booked = 0  # requests the page at hand booked (given back if it fails)

    def write_page(
        self,
        rows: Sequence[Row],
        rejects: Sequence[Reject] = (),
        *,
        checkpoint: Checkpoint | None = None,
        now: datetime | None = None,
        settled: Collection[str] = (),
    ) -> PageCounts:
        """Store one page; returns what it did. Raises `DatabaseError`, committing nothing.

        `settled`: keys whose row, exactly as `rows` holds it, an earlier page of the same
        pass writes (the scanner's overlap between consecutive pages): counted unchanged,
        not written again, so two pages in flight at once never write a common row.

        `now` stamps last_synced_at, deleted_at, the change log and the quarantine; by
        default the transaction's time on the server.
        """
        self._booked = 0
        try:
            return self._write_page(rows, rejects, checkpoint, now, settled)
        except BaseException:
            if self.book is not None:  # the page's requests go with the run's next page
                self.book.give_back(self._booked)
            raise

    def _write_page(
        self,
        rows: Sequence[Row],
        rejects: Sequence[Reject],
        checkpoint: Checkpoint | None,
        now: datetime | None,
        settled: Collection[str],
    ) -> PageCounts:
        kind = self.content_type
        if self.conn.info.transaction_status != TransactionStatus.IDLE:
            raise DatabaseError(
                "the writer needs a connection outside any transaction: a page commits alone",
                content_type=kind.name,
                run_id=self.run_id,
            )
        # The last sighting of a contentId in the page wins; a second one in one upsert would
        # be refused ("cannot affect row a second time").
        key = self._key_index
        last_seen = {row[key]: row for row in rows}
        unique = [row for row in last_seen.values() if row[key] not in settled]
        try:
            with self.conn.transaction(), self.conn.cursor() as cur:
                if now is None or self._lz4 is None:
                    server_now, self._lz4 = _server_facts(cur)
                    now = now or server_now
                params = {"run": self.run_id, "kind": kind.name, "now": now}
                cur.execute(self._sql.begin_lz4 if self._lz4 else self._sql.begin)
                with cur.copy(self._sql.copy) as copy:
                    copy.set_types(self._sql.copy_types)
                    for row in unique:
                        copy.write_row(row)
                counts, failed = self._merge(cur, unique, params)
                if self.guard is not None and not self.guard.take(counts.deleted):
                    raise _Refused(counts.deleted)
                quarantine = _unique_rejects([*rejects, *failed])
                if quarantine:
                    cur.execute(
                        _QUARANTINE,
                        params
                        | {
                            "keys": [r.item_key for r in quarantine],
                            "reasons": [r.reason for r in quarantine],
                            "raws": [r.raw.decode() for r in quarantine],
                        },
                    )
                counts = replace(
                    counts,
                    unchanged=counts.unchanged + len(rows) - len(unique),
                    quarantined=counts.quarantined + len(rejects),
                )
                self._booked = self._count(cur, params, counts, fetched=len(rows) + len(rejects))
                if checkpoint is not None:
                    self._checkpoint(cur, params, checkpoint)
                if self.lock is not None:
                    self.lock.ensure()  # JobLockLostError rolls the page back
        except psycopg.Error as exc:
            raise DatabaseError(
                f"cannot write a page of {kind.name} items for run {self.run_id}: {_reason(exc)}",
                hint=lost_hint(exc),
                content_type=kind.name,
                run_id=self.run_id,
            ) from exc
        except _Refused as refused:
            assert self.guard is not None
            raise DeletionGuardError(
                f"{kind.name} run {self.run_id} would soft-delete more than "
                f"{self.guard.fraction:.0%} of {self.guard.live_rows:,} live rows in one run "
                f"({self.guard.used:,} so far, {refused.count:,} more in the page at hand: "
                "items served UNPUBLISHED or expired); the page was not written",
                content_type=kind.name,
                run_id=self.run_id,
                would_delete=self.guard.used + refused.count,
                live_rows=self.guard.live_rows,
            ) from None
        return counts

    def _merge(
        self, cur: psycopg.Cursor[Any], rows: list[Row], params: dict[str, Any]
    ) -> tuple[PageCounts, list[Reject]]:
        """The staged page into the mirror: a page of new keys and values by `_INSERT`;
        otherwise, or if that fails, the merge: the fast way; on a unique violation (another
        transaction may have inserted one of the new keys meanwhile) the safe way,
        `_UP_UPSERT`; if a row breaks a constraint the classification did not foresee, row
        by row."""
        if self._all_new(cur, rows, params):
            try:
                with self.conn.transaction():
                    added = cur.execute(self._sql.insert, params).fetchone()
                return PageCounts(added=added[0] if added else 0), []
            except (psycopg.IntegrityError, psycopg.DataError) as exc:
                log.info(
                    "new page merged instead",
                    type=self.content_type.name,
                    run=self.run_id,
                    reason=_reason(exc),
                )
        everything = params | {"only": None}
        try:
            try:
                with self.conn.transaction():
                    counts, clashes = self._merge_some(cur, self._sql.merge, everything)
            except psycopg.errors.UniqueViolation as exc:
                log.info(
                    "page merged again as an upsert",
                    type=self.content_type.name,
                    run=self.run_id,
                    reason=_reason(exc),
                )
                with self.conn.transaction():
                    counts, clashes = self._merge_some(cur, self._sql.upsert, everything)
        except (psycopg.IntegrityError, psycopg.DataError):
            counts, clashes = self._merge_each(cur, rows, params)
        if not clashes:
            return counts, []
        by_key = {row[self._key_index]: row for row in rows}
        failed = [_row_reject(by_key[key], key, reason) for key, reason in clashes]
        return replace(counts, quarantined=len(failed)), failed

    def _all_new(self, cur: psycopg.Cursor[Any], rows: list[Row], params: dict[str, Any]) -> bool:
        """Whether no row of the page shares its key or a UNIQUE value with a stored row, or
        a UNIQUE value with another row of the page, and none is in the quarantine."""
        if not rows:
            return False
        values: dict[str, Any] = {"keys": [row[self._key_index] for row in rows]}
        for i, at in enumerate(self._sql.unique_at):
            column = [row[at] for row in rows if row[at] is not None]
            if len(set(column)) < len(column):
                return False  # a clash within the page: the merge quarantines it
            values[f"unique_{i}"] = column
        return cur.execute(self._sql.absent, params | values).fetchone() == (True,)

    def _merge_each(
        self, cur: psycopg.Cursor[Any], rows: list[Row], params: dict[str, Any]
    ) -> tuple[PageCounts, list[tuple[str, str]]]:
        """Rolled back to the savepoint, staged rows kept: find the culprits one by one."""
        counts, clashes = PageCounts(), list[tuple[str, str]]()
        for row in rows:
            key = row[self._key_index]
            try:
                with self.conn.transaction():
                    one, found = self._merge_some(cur, self._sql.upsert, params | {"only": [key]})
            except (psycopg.IntegrityError, psycopg.DataError) as exc:
                one, found = PageCounts(), [(key, _reason(exc))]
            counts, clashes = counts + one, clashes + found
        return counts, clashes

    def _merge_some(
        self, cur: psycopg.Cursor[Any], statement: sql.Composed, params: dict[str, Any]
    ) -> tuple[PageCounts, list[tuple[str, str]]]:
        cur.execute(statement, params)
        counts, clashes = PageCounts(), []
        for tag, clash, added, updated, unchanged, deleted, restored in cur.fetchall():
            if tag == "counts":
                counts = PageCounts(added, updated, unchanged, deleted, restored)
            else:
                key, reason = clash.split("\x1f", 1)
                clashes.append((key, reason))
        return counts, clashes

    def _count(
        self, cur: psycopg.Cursor[Any], params: dict[str, Any], counts: PageCounts, fetched: int
    ) -> int:
        """The page's counts into the run's row; returns the requests booked with them."""
        requests = self.book.take() if self.book is not None else 0
        cur.execute(_SYNC_LOG, params | asdict(counts) | {"fetched": fetched, "requests": requests})
        if cur.fetchone() is None:
            raise DatabaseError(
                f"run {self.run_id} is not in hotstar_sync_log; nothing was written",
                content_type=self.content_type.name,
                run_id=self.run_id,
            )
        return requests

    def _checkpoint(
        self, cur: psycopg.Cursor[Any], params: dict[str, Any], checkpoint: Checkpoint
    ) -> None:
        cur.execute(
            _CHECKPOINT,
            params
            | {
                "key": checkpoint.window_key,
                "filters": orjson.dumps(dict(checkpoint.filters)).decode(),
                "status": checkpoint.status,
                "total": checkpoint.total_results,
                "seen": checkpoint.items_seen,
                "requests": checkpoint.requests,
            },
        )


@functools.cache
def _statements(kind: ContentType) -> _Sql:
    return _Sql(kind)


def _server_facts(cur: psycopg.Cursor[Any]) -> tuple[datetime, bool]:
    """The transaction's time on the server (as now() gives it), and whether it has lz4."""
    cur.execute(
        "SELECT now(), 'lz4' = ANY(enumvals) FROM pg_settings"
        " WHERE name = 'default_toast_compression'"
    )
    row = cur.fetchone()
    assert row is not None
    return row[0], bool(row[1])


def _row_reject(row: Row, key: str, reason: str) -> Reject:
    # The raw item sits third from the end of a row (see validate.row_columns).
    return Reject(key, reason, row[-3].encode())


def _unique_rejects(rejects: Sequence[Reject]) -> list[Reject]:
    """One reject per key (the last): the quarantine upsert may touch each row only once."""
    return list({reject.item_key: reject for reject in rejects}.values())
