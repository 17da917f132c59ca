"""Validation: API items -> rows ready for the writer, or rejects for the quarantine.

Pure, no I/O. A typed model (pydantic-core, built once per content type from its
`ContentType` description) checks only the fields the mirror has columns for: the whole
~2 KB item is not walked, and unknown fields are kept because the raw item is stored whole.
A bad item becomes a `Reject` with a one-line reason naming its fields; it is never fatal
(design: "bad items quarantined, never fatal").

Speed matters (10,000 items/s for the whole pipeline): per item this costs one validation
of the typed fields, one orjson dump (sorted keys, used both as the stored raw item and as
the input of the hash) and one blake2b; `bench/bench_writer.py` prints the figure.
"""

from __future__ import annotations

import functools
import hashlib
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic_core import CoreSchema, SchemaValidator, ValidationError
from pydantic_core import core_schema as cs

from hotstar_sync.model.content import Column, ContentType

#: What the writer receives per good item, in `row_columns()` order: the typed scalar
#: values, then the raw item's JSON text, its content hash and its deletion reason (None:
#: live). JSON columns are not here: the writer takes them from the raw item in SQL.
Row = tuple[Any, ...]

UNPUBLISHED = "UNPUBLISHED"
#: PostgreSQL refuses this escape in jsonb; an item holding it must go to the quarantine
#: rather than fail its page.
_NUL_ESCAPE = b"\\u0000"
_RANGES = {"int": (-(2**31), 2**31 - 1), "bigint": (-(2**63), 2**63 - 1)}


@dataclass(frozen=True, slots=True)
class Reject:
    """One item that cannot be stored in the mirror's columns, and why."""

    item_key: str  # the contentId, or `sha:<hash>` when the item has no usable one
    reason: str  # one line, naming the fields at fault
    raw: bytes  # the item's JSON, storable in jsonb


@dataclass(frozen=True, slots=True)
class Unparsed:
    """An item of an answer that no JSON parser should accept (a lone surrogate, a byte
    that is not UTF-8, nesting too deep): its bytes, and the parser's reason
    (`api.answer`). It goes to the quarantine; the rest of its page is stored."""

    raw: bytes
    reason: str


def row_columns(content_type: ContentType) -> tuple[str, ...]:
    """The names of a `Row`'s values, in order."""
    scalars = tuple(column.column for column in content_type.scalar_columns)
    return (*scalars, "raw_response", "content_hash", "deleted_reason")


def _field_schema(column: Column) -> cs.TypedDictField:
    schema: CoreSchema
    if column.kind == "text":
        # Strict: a number is not silently turned into a title.
        schema = cs.str_schema(
            strict=True,
            min_length=1 if column.required else None,
            max_length=column.max_length,
            pattern=column.pattern,
        )
    elif column.kind == "digits":
        # A key sent as a digit string, or as a number (shows): stored as its digits.
        schema = cs.union_schema(
            [
                cs.str_schema(
                    strict=True, min_length=1, max_length=column.max_length, pattern=r"^\d+$"
                ),
                cs.no_info_after_validator_function(str, cs.int_schema(strict=True, ge=0)),
            ]
        )
    elif column.kind == "bool":
        # Strict: lax mode would read "yes" or 1 as true, which the contract does not allow.
        schema = cs.bool_schema(strict=True)
    elif column.kind == "jsonb":
        schema = cs.list_schema() if column.shape == "array" else cs.dict_schema()
    else:
        # Lax: "2019" is read as 2019; "abc", 19.5 and out-of-range numbers are refused
        # (and booleans, by `prepare`: lax mode would store true as 1).
        low, high = _RANGES[column.kind]
        schema = cs.int_schema(ge=low, le=high)
    if column.required:
        return cs.typed_dict_field(schema, validation_alias=column.field)
    return cs.typed_dict_field(
        cs.with_default_schema(cs.nullable_schema(schema), default=None),
        required=False,
        validation_alias=column.field,
    )


@dataclass(frozen=True, slots=True)
class _Model:
    validator: SchemaValidator
    scalars: Callable[[dict[str, Any]], tuple[Any, ...]]
    #: The item fields of the integer columns, with a getter of their validated values.
    int_fields: tuple[str, ...]
    ints: Callable[[dict[str, Any]], tuple[Any, ...]]

    def boolean_for_number(self, item: dict[str, Any], values: dict[str, Any]) -> str | None:
        """The first integer field that `item` sends as a boolean (lax validation reads
        true as 1), or None. Only an item with a 0 or 1 among those values is looked at."""
        found = self.ints(values)
        if 0 not in found and 1 not in found:  # True == 1 and False == 0
            return None
        return next((f for f in self.int_fields if isinstance(item.get(f), bool)), None)


@functools.cache
def _model(content_type: ContentType) -> _Model:
    """The typed model of `content_type`'s columns, compiled once."""
    fields = {column.column: _field_schema(column) for column in content_type.columns}
    # extra "ignore": unknown fields are neither checked nor copied (the raw item keeps them).
    schema = cs.typed_dict_schema(fields, extra_behavior="ignore", total=True)
    names = [column.column for column in content_type.scalar_columns]
    getter = operator.itemgetter(*names)
    numbers = [c for c in content_type.columns if c.kind in _RANGES]
    return _Model(
        SchemaValidator(schema),
        lambda values: tuple(getter(values)),
        tuple(c.field for c in numbers),
        _tuple_getter([c.column for c in numbers]),
    )


def _tuple_getter(names: list[str]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    if len(names) > 1:
        return operator.itemgetter(*names)
    if names:
        get = operator.itemgetter(names[0])
        return lambda values: (get(values),)
    return lambda values: ()


def _reason(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in error["loc"]) or "item"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def content_hash(raw: bytes) -> str:
    """The hash the writer compares to decide whether an item changed."""
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def _item_key(item: Any, raw: bytes) -> str:
    key = item.get("contentId") if isinstance(item, dict) else None
    if isinstance(key, str | int) and not isinstance(key, bool) and 0 < len(str(key)) <= 200:
        return str(key)
    return "sha:" + content_hash(raw)


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _storable(item: Any) -> bytes:
    """JSON of a rejected item that jsonb will accept, whatever the item holds."""
    try:
        raw = orjson.dumps(item, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    except (orjson.JSONEncodeError, TypeError):
        raw = orjson.dumps(repr(item)[:100_000])
    # U+FFFD for U+0000: still valid JSON, even after an escaped backslash.
    return raw.replace(_NUL_ESCAPE, b"\\ufffd")


def deletion_reason(content_type: ContentType, values: dict[str, Any], now: float) -> str | None:
    """Why the item is soft-deleted in the mirror, or None when it is live."""
    if content_type.status_field is not None:
        column = content_type.by_field[content_type.status_field].column
        if values[column] == UNPUBLISHED:
            return "unpublished"
    if content_type.end_field is not None:
        end = values[content_type.by_field[content_type.end_field].column]
        # endDate 0 is taken for "not set", like startDate 0 (API contract, "Values seen").
        if end is not None and 0 < end < now:
            return "expired"
    return None


def prepare(
    content_type: ContentType, items: Iterable[Any], now: float
) -> tuple[list[Row], list[Reject]]:
    """Split one page of API items into writer rows and quarantine rejects.

    `now` (epoch seconds) decides expiry: an item whose endDate has passed is stored
    soft-deleted ('expired'). A key the page serves under two numeric ids (two items
    claiming one contentId) is one item for the mirror: the one with the lowest id is kept
    (not the first: an API may serve the two in either order, and the mirror must not flap
    between them), the other quarantined under its key and id, with the reason.
    """
    model = _model(content_type)
    key_column = content_type.id_column
    rows: list[Row] = []
    rejects: list[Reject] = []
    valid: list[tuple[Any, Any, dict[str, Any], bytes]] = []
    kept: dict[Any, Any] = {}  # key -> the lowest id served for it
    for item in items:
        checked = _check(model, item)
        if isinstance(checked, Reject):
            rejects.append(checked)
            continue
        values, raw = checked
        key, numeric = values[key_column], item.get("id")
        valid.append((key, numeric, values, raw))
        if key not in kept or _id_order(numeric) < _id_order(kept[key]):
            kept[key] = numeric
    for key, numeric, values, raw in valid:
        if kept[key] != numeric:  # the same item twice (same id) is the writer's to settle
            why = (
                f"{content_type.id_field}: {key} served twice in one answer (ids {kept[key]} "
                f"and {numeric}); the lower id is kept"
            )
            rejects.append(Reject(f"{key}#id={numeric}", why, raw))
            continue
        deleted = deletion_reason(content_type, values, now)
        rows.append((*model.scalars(values), raw.decode(), content_hash(raw), deleted))
    return rows, rejects


def _id_order(numeric: Any) -> tuple[bool, Any]:
    """Ids in order, a missing one last (an id is an int once validated)."""
    return (not isinstance(numeric, int), numeric if isinstance(numeric, int) else 0)


def _check(model: _Model, item: Any) -> tuple[dict[str, Any], bytes] | Reject:
    """`item`'s validated values and its stored JSON, or its quarantine row."""
    if isinstance(item, Unparsed):
        text = item.raw.decode("utf-8", "replace")
        return _reject(text, f"item: not valid JSON ({item.reason})", item.raw)
    try:
        values = model.validator.validate_python(item)
    except ValidationError as exc:
        return _reject(item, _reason(exc))
    boolean = model.boolean_for_number(item, values)
    if boolean is not None:
        return _reject(item, f"{boolean}: Input should be a valid integer, not a boolean")
    try:
        # Sorted keys: the same item always gives the same bytes, hence the same hash.
        raw = orjson.dumps(item, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError as exc:  # e.g. an integer beyond 64 bits
        return _reject(item, f"item: cannot be stored as JSON ({exc})")
    if _NUL_ESCAPE in raw and _has_nul(item):
        return _reject(item, "item: holds a NUL character (U+0000), which jsonb refuses")
    return values, raw


def _reject(item: Any, reason: str, served: bytes | None = None) -> Reject:
    """`item`'s quarantine row; an unparsed one (`served`: its bytes) is kept as text,
    under the hash of what was served."""
    raw = _storable(item)
    key = _item_key(item, raw) if served is None else "sha:" + content_hash(served)
    return Reject(key, reason, raw)
