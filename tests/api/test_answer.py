"""`api.answer`: a body that fails to parse is parsed item by item, so one bad item costs
only itself."""

from __future__ import annotations

import orjson
import pytest

from hotstar_sync.api import answer
from hotstar_sync.model.validate import Unparsed

GOOD = [{"contentId": "1", "title": 'a "quoted" [bracket], {brace}\\'}, {"contentId": "2"}]


def body(*items: bytes, tail: bytes = b',"totalResults":3}},"statusCodeValue":200}') -> bytes:
    return b'{"body":{"results":{"items":[' + b",".join(items) + b"]" + tail


def good(n: int) -> bytes:
    return orjson.dumps(GOOD[n])


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        (b'{"contentId":"3","title":"\\ud800"}', "surrogate"),
        (b'{"contentId":"3","title":"\xff"}', "UTF-8"),
        (b'{"contentId":"3","nested":' + b"[" * 2000 + b"]" * 2000 + b"}", "depth"),
    ],
)
def test_the_bad_item_alone_is_unparsed(bad, why):
    document = answer.loads(body(good(0), bad, good(1)))
    first, odd, last = document["body"]["results"]["items"]
    assert (first, last) == (GOOD[0], GOOD[1])
    assert isinstance(odd, Unparsed) and odd.raw == bad and why in odd.reason
    assert document["body"]["results"]["totalResults"] == 3


def test_a_sound_body_is_parsed_as_it_is():
    assert answer.loads(body(good(0), good(1)))["body"]["results"]["items"] == GOOD


@pytest.mark.parametrize(
    "broken",
    [
        body(good(0), b'{"contentId":"3","title":"\xff"}')[:-30],  # truncated too
        b"<html>502 Bad Gateway</html>",
        b'{"body":{"results":{"count":[1,\xff]}}}',  # no items array to cut at
    ],
)
def test_a_body_that_is_not_the_envelope_still_fails(broken):
    with pytest.raises(orjson.JSONDecodeError):
        answer.loads(broken)


def test_an_items_key_inside_an_item_is_not_taken_for_the_envelope():
    inner = b'{"contentId":"3","extra":{"items":[1,2]},"title":"\xff"}'
    document = answer.loads(b'{"body":{"results":{"totalResults":1,"items":[' + inner + b"]}}}")
    (odd,) = document["body"]["results"]["items"]
    assert isinstance(odd, Unparsed) and odd.raw == inner
