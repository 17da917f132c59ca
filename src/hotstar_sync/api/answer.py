"""A search answer's body, parsed so that one bad item cannot cost the page.

A body that parses is taken as it is. One that does not may still be a sound envelope
with one item inside that no JSON parser should accept (a lone surrogate `\\ud800`, a byte
that is not UTF-8, nesting deeper than the parser allows): such a body is cut at the
envelope's `items` array, the envelope parsed with an empty array in its place, and each
item parsed on its own. An item that still fails comes back as an `Unparsed` (its bytes
and why), which the validator quarantines; every other item of the page is kept. Only a
body that is not the envelope at all (truncated, not JSON) fails, as before.

The cut needs no second parser: a small scanner over the structural bytes (quotes,
backslashes, brackets, commas), which are ASCII and so never part of a UTF-8 sequence.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from hotstar_sync.model.validate import Unparsed

#: The bytes that can open, close or separate a JSON value, or open or escape a string.
_STRUCTURE = re.compile(rb'[\\"\[\]{},]')
_ITEMS_KEY = re.compile(rb'"items"\s*:\s*\[')
_QUOTE, _BACKSLASH, _COMMA = 0x22, 0x5C, 0x2C
_OPENS, _CLOSES = (0x5B, 0x7B), (0x5D, 0x7D)


def loads(body: bytes) -> Any:
    """The answer's JSON; see the module docstring. Raises orjson.JSONDecodeError when the
    body is not a JSON envelope holding an items array."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        document = _item_by_item(body)
        if document is None:
            raise exc from None
        return document


def _item_by_item(body: bytes) -> Any:
    found = _ITEMS_KEY.search(body)
    if found is None:
        return None
    start = found.end() - 1  # the array's "["
    cut = _array_items(body, start)
    if cut is None:
        return None
    spans, end = cut
    try:
        document = orjson.loads(body[:start] + b"[]" + body[end + 1 :])
        results = document["body"]["results"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None
    if not isinstance(results, dict) or results.get("items") != []:
        return None  # the cut was not at the envelope's own items array
    results["items"] = [_item(body[a:b]) for a, b in spans]
    return document


def _item(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return Unparsed(raw.strip(), str(exc))


def _array_items(body: bytes, start: int) -> tuple[list[tuple[int, int]], int] | None:
    """The (start, end) byte spans of the values of the array opening at `start`, and the
    position of its closing bracket; None when it never closes (a truncated body)."""
    depth, in_string, skip = 0, False, -1
    spans: list[tuple[int, int]] = []
    item_start = start + 1
    for match in _STRUCTURE.finditer(body, start):
        at = match.start()
        if at == skip:  # the character after a backslash, in a string
            continue
        byte = body[at]
        if in_string:
            if byte == _BACKSLASH:
                skip = at + 1
            elif byte == _QUOTE:
                in_string = False
        elif byte == _QUOTE:
            in_string = True
        elif byte in _OPENS:
            depth += 1
        elif byte in _CLOSES:
            depth -= 1
            if depth == 0:
                if body[item_start:at].strip():
                    spans.append((item_start, at))
                return spans, at
        elif byte == _COMMA and depth == 1:
            spans.append((item_start, at))
            item_start = at + 1
    return None
