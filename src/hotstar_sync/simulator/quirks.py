"""Odd items: what another implementation of the contract, or a broken feed, may serve.

The guide leaves open what a search index does with a value of the wrong type, and a
mirror that runs unwatched must hold under every reading. Each quirk is a count of items
per type (`QuirkSettings`), made from ordinary items when the type's catalogue is made:

- `odd_start_dates`, `odd_update_dates`, `odd_premium`: the served field is not of its
  type ("2019-05-01", null, 1500000000.5, true; premium null, "yes", 1). Where the index
  files such an item under a filter is `odd_reading`: `zero` (as 0, or false), `date` (a
  date string or a number read as what it says; anything else left out), `excluded` (left
  out of every range or flag filter, found only by searches without one);
- `keyless`: no contentId (absent, or null); the index still orders it where it was;
- `duplicate_keys`: a second item served under an existing contentId, with its own `id`;
- `unparseable`: an item no JSON parser accepts, inside a page that is otherwise sound: a
  lone surrogate (`\\ud800`), a byte that is not UTF-8, nesting 2,000 deep;
- `non_objects`: an item that is a string, a number, null or a list.

Such an item is left alone by days of changes (it stays as it is). Its truth says why it
is odd in `malformed`, except where the mirror can store it as served (a null startDate or
premium: both fields are optional in the mirror's model).
"""

from __future__ import annotations

import calendar
import itertools
import random
import time
from collections.abc import Iterator
from typing import Any

import orjson

from hotstar_sync.simulator.config import QuirkSettings
from hotstar_sync.simulator.store import Entry, dumps

#: Served values of the wrong type, in turn, with why each breaks the contract (None: the
#: mirror stores it as served).
ODD_NUMBERS: tuple[tuple[Any, str | None], ...] = (
    ("2019-05-01", "is a date string"),
    (None, None),
    (1500000000.5, "is a fraction"),
    (True, "is a boolean"),
)
ODD_FLAGS: tuple[tuple[Any, str | None], ...] = (
    (None, None),
    ("yes", "is a string"),
    (1, "is a number"),
)
#: Values that are not items at all.
NON_OBJECTS = (b'"not an item"', b"42", b"null", b"[1,2,3]")
DEEP = 2000


def apply(entries: list[Entry], settings: QuirkSettings, rng: random.Random) -> list[Entry]:
    """`entries` with the configured odd items made from some of them (chosen at random
    among the well-formed ones; a duplicate key is an extra item)."""
    if not settings.total or not entries:
        return entries
    healthy = [n for n, e in enumerate(entries) if e.malformed is None]
    picks = iter(rng.sample(healthy, min(len(healthy), settings.total)))
    out = list(entries)
    reading = settings.odd_reading
    for name, field, values in (
        ("odd_start_dates", "startDate", ODD_NUMBERS),
        ("odd_update_dates", "updateDate", ODD_NUMBERS),
        ("odd_premium", "premium", ODD_FLAGS),
    ):
        for n, (value, why) in zip(_take(picks, getattr(settings, name)), itertools.cycle(values)):
            if field in out[n].index:
                out[n] = _odd_value(out[n], field, value, why, reading)
    for k, n in enumerate(_take(picks, settings.keyless)):
        raw = out[n].raw
        if k % 2:
            raw["contentId"] = None
        else:
            del raw["contentId"]
        out[n] = _quirk(out[n], dumps(raw), "contentId is missing")
    for n in _take(picks, settings.duplicate_keys):
        out.append(_duplicate(out[n], rng))
    for k, n in enumerate(_take(picks, settings.unparseable)):
        out[n] = _unparseable(out[n], k)
    for k, n in enumerate(_take(picks, settings.non_objects)):
        out[n] = _quirk(out[n], NON_OBJECTS[k % len(NON_OBJECTS)], "not an object")
    return out


def _take(picks: Iterator[int], count: int) -> list[int]:
    return list(itertools.islice(picks, count))


def _quirk(entry: Entry, data: bytes, why: str | None, **index: Any) -> Entry:
    return Entry(entry.content_id, entry.index | index, data, why, clean=entry.clean or entry.data)


def _odd_value(entry: Entry, field: str, value: Any, why: str | None, reading: str) -> Entry:
    data = dumps(entry.raw | {field: value})
    filed = _filed(value, reading, flag=field == "premium")
    return _quirk(entry, data, None if why is None else f"{field} {why}", **{field: filed})


def _filed(value: Any, reading: str, *, flag: bool) -> Any:
    """Where the index files `value` (None: under no filter)."""
    if reading == "excluded":
        return None
    if reading == "zero":
        return False if flag else 0
    if flag:
        return value if isinstance(value, bool) else None
    if isinstance(value, str):
        try:
            return calendar.timegm(time.strptime(value, "%Y-%m-%d"))
        except ValueError:
            return int(value) if value.lstrip("-").isdigit() else None
    if isinstance(value, float):
        return int(value)
    return None


def _duplicate(entry: Entry, rng: random.Random) -> Entry:
    """A second item under `entry`'s contentId, with an `id` of its own."""
    raw = entry.raw
    numeric = raw["id"] + 10**8 + rng.randrange(10**6)
    raw |= {"id": numeric, "title" if "title" in raw else "name": f"Twin of {raw['id']}"}
    data = dumps(raw)
    index = entry.index | {"id": numeric}
    return Entry(f"{entry.content_id}~twin", index, data, "contentId served twice", clean=data)


def _unparseable(entry: Entry, k: int) -> Entry:
    raw = entry.raw
    text = "title" if "title" in raw else "name"
    if k % 3 == 2:
        data = dumps(raw | {"nested": "@NESTED@"})
        data = data.replace(b'"@NESTED@"', b"[" * DEEP + b"]" * DEEP)
        why = "nested too deep"
    else:
        data = dumps(raw | {text: "@BAD@"})
        bad, why = (b"\\ud800", "a lone surrogate") if k % 3 == 0 else (b"\xff", "not UTF-8")
        data = data.replace(b"@BAD@", bad)
    return _quirk(entry, data, f"unparseable: {why}")


def served(entry: Entry) -> Any:
    """What `entry` serves, parsed; None for bytes no parser accepts."""
    try:
        return orjson.loads(entry.data)
    except orjson.JSONDecodeError:
        return None
