"""A page writer for types whose contentId is a JSON number (shows: API contract).

The validator types a contentId as strict text (a number must never pass for a title), so
it refuses a show's numeric contentId. Until the validator learns a "digits from a number"
text column, this writer takes such rejects back: it validates the item again with its
contentId as the digits, and stores the row with the raw item exactly as the API gave it
(the number in `raw_response`, the digits in `content_id`) and the hash of those bytes.
An item that is malformed for any other reason stays a reject, with that reason.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime

import orjson

from hotstar_sync.db.writer import Checkpoint, PageCounts, PageWriter
from hotstar_sync.model.validate import Reject, Row, content_hash, prepare


class NumericIdWriter(PageWriter):
    def write_page(
        self,
        rows: Sequence[Row],
        rejects: Sequence[Reject] = (),
        *,
        checkpoint: Checkpoint | None = None,
        now: datetime | None = None,
    ) -> PageCounts:
        kind = self.content_type
        taken_back: list[Row] = []
        left: list[Reject] = []
        for reject in rejects:
            item = orjson.loads(reject.raw)
            key = item.get(kind.id_field) if isinstance(item, dict) else None
            if not isinstance(key, int) or isinstance(key, bool):
                left.append(reject)
                continue
            good, bad = prepare(kind, [{**item, kind.id_field: str(key)}], time.time())
            if not good:
                left.append(Reject(reject.item_key, bad[0].reason, reject.raw))
                continue
            raw = orjson.dumps(item, option=orjson.OPT_SORT_KEYS)
            # A row ends with the raw item, its hash and its deletion reason (validate.Row).
            taken_back.append((*good[0][:-3], raw.decode(), content_hash(raw), good[0][-1]))
        return super().write_page([*rows, *taken_back], left, checkpoint=checkpoint, now=now)
