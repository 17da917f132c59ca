"""The scanner over catalogues with odd items, against an in-memory API (no I/O).

Each catalogue mixes every quirk the simulator knows (`simulator.quirks`): filter values of
the wrong type under each reading of where an index files them, keyless items, contentIds
served twice, items that are not objects. A small cap (1,000, pages of 100) makes the same
splits, hunts and walks a 10,000 cap would, on catalogues hypothesis can try by the dozen.
"""

from __future__ import annotations

import calendar
import random
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotstar_sync.api import hunt
from hotstar_sync.api.client import SearchPage
from hotstar_sync.api.scan import Scanner
from hotstar_sync.model.windows import ItemMark, Range

CAP, SIZE = 1_000, 100
ODD_NUMBERS = ["2019-05-01", None, 1500000000.5, True, "soon"]
ODD_FLAGS = [None, "yes", 1]


def filed(value: Any, reading: str, flag: bool = False) -> Any:
    """Where the fake index files `value` (None: under no filter), as the simulator does."""
    if flag:
        if isinstance(value, bool):
            return value
    elif isinstance(value, int) and not isinstance(value, bool):
        return value
    if reading == "excluded":
        return None
    if reading == "zero":
        return False if flag else 0
    if isinstance(value, str) and not flag:
        try:
            return calendar.timegm(time.strptime(value, "%Y-%m-%d"))
        except ValueError:
            return None
    return int(value) if isinstance(value, float) and not flag else None


class OddApi:
    """Serves `entries` (served value, its filed start, update and premium, its order)."""

    def __init__(self, items: list[Any], reading: str, bounds: str = "inclusive") -> None:
        self.bounds = bounds
        self.requests = 0
        self.entries = []
        for order, item in enumerate(items):
            get = item.get if isinstance(item, dict) else (lambda _: None)
            self.entries.append(
                (
                    order,
                    item,
                    filed(get("startDate"), reading),
                    filed(get("updateDate"), reading),
                    filed(get("premium"), reading, flag=True),
                )
            )

    def _ok(self, value: Any, lo: int | None, hi: int | None) -> bool:
        if lo is None and hi is None:
            return True
        if value is None:
            return False
        lo_ok = lo is None or (value >= lo if self.bounds != "exclusive" else value > lo)
        hi_ok = hi is None or (value <= hi if self.bounds == "inclusive" else value < hi)
        return lo_ok and hi_ok

    def __call__(self, params: dict[str, Any]) -> SearchPage:
        self.requests += 1
        offset, size = params["offset"], params["size"]
        assert size <= SIZE and offset + size <= CAP
        hits = [
            item
            for _, item, start, update, premium in self.entries
            if self._ok(start, params.get("fromStartDate"), params.get("toStartDate"))
            and self._ok(update, params.get("fromUpdateDate"), params.get("toUpdateDate"))
            and ("premium" not in params or premium == params["premium"])
        ]
        if params["order"] == "desc":
            hits.reverse()
        return SearchPage(hits[offset : offset + size], len(hits), offset, size)


def odd_catalogue(
    n: int, odd: int, seed: int, cluster: int = 0, reachable: bool = False
) -> list[Any]:
    """`n` items in contentId order, `odd` of them odd in one way or another; with
    `reachable`, none that an index which leaves an odd value out of every filter (reading
    `date` or `excluded`) could hide
    from every search but the unfiltered one (a non-object, over 2 x the cap)."""
    rnd = random.Random(seed)
    items: list[Any] = []
    for k in range(n):
        start = 1_500_000_000 if k < cluster else rnd.randrange(-(10**8), 1_800_000_000)
        items.append(
            {
                "id": k,
                "contentId": str(10**9 + 2 * k),
                "startDate": start,
                "updateDate": 1_700_000_000 + rnd.randrange(10**6),
                "premium": rnd.random() < 0.4,
            }
        )
    twins = []
    for k in rnd.sample(range(n), min(n, odd)):
        quirk = rnd.randrange(5 if reachable else 6)
        item = items[k]
        if quirk == 0:
            item["startDate"] = rnd.choice(ODD_NUMBERS)
        elif quirk == 1:
            item["updateDate"] = rnd.choice(ODD_NUMBERS)
        elif quirk == 2:
            item["premium"] = rnd.choice(ODD_FLAGS)
        elif quirk == 3:  # keyless, ordered where it was
            if rnd.random() < 0.5:
                item["contentId"] = None
            else:
                del item["contentId"]
        elif quirk == 4:  # a second item under this contentId, with its own id
            twins.append(k)
        else:
            # Distinct: two equal non-objects in two pages cannot be told apart (one null
            # in each page counts as one answer; the pass is then left unverified).
            items[k] = rnd.choice([f"not an item {k}", k, [1, k]])
    # The API orders by contentId: a twin comes right after the item it copies.
    for k in sorted(twins, reverse=True):
        items.insert(k + 1, {**items[k], "id": 10**7 + k, "title": "twin"})
    return items


def scan(api: OddApi) -> tuple[set[str], Scanner]:
    scanner = Scanner(api, page_size=SIZE, cap=CAP)
    seen: set[str] = set()
    for page in scanner.scan():
        seen.update(ItemMark.of(item).ident for item in page.items)
    return seen, scanner


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(0, 4_000),
    odd=st.integers(0, 12),
    seed=st.integers(0, 10**6),
    cluster=st.integers(0, 1_500),
    reading=st.sampled_from(["zero", "date", "excluded"]),
    bounds=st.sampled_from(["inclusive", "half-open", "exclusive"]),
)
def test_every_served_answer_is_found_and_the_pass_verifies(n, odd, seed, cluster, reading, bounds):
    items = odd_catalogue(n, odd, seed, min(cluster, n), reachable=reading != "zero")
    seen, scanner = scan(OddApi(items, reading, bounds))
    served = {ItemMark.of(item).ident for item in items}
    assert seen == served  # nothing served is missed: a reconcile would delete nothing live
    assert scanner.result.verified, [r.window.key for r in scanner.unverified]
    assert scanner.result.total == len(items)


@pytest.mark.parametrize("reading", ["zero", "date", "excluded"])
def test_odd_start_dates_cost_a_few_requests_each(reading):
    items = odd_catalogue(5_000, 0, seed=3)
    for k in (10, 900, 2_500, 4_000):
        items[k]["startDate"] = "2019-05-01" if reading != "date" else None
    plain = OddApi(odd_catalogue(5_000, 0, seed=3), reading)
    scan(plain)
    api = OddApi(items, reading)
    seen, scanner = scan(api)
    assert scanner.result.verified and len(seen) == 5_000
    assert api.requests <= plain.requests + 4 * hunt.REQUESTS_PER_ITEM


def test_an_item_no_search_can_reach_is_reported_not_hidden():
    # One whose startDate no range holds, and an updateDate no range holds either.
    items = odd_catalogue(3_000, 0, seed=5)
    items[1_500] |= {"startDate": "soon", "updateDate": "later"}
    seen, scanner = scan(OddApi(items, "excluded"))
    assert not scanner.result.verified
    assert [r.window.key for r in scanner.unverified] == ["start=..;update=..;premium="]
    assert len(seen) == 2_999


def test_halving_covers_every_second_once_and_cuts_where_no_value_lies():
    # The median is 5; seconds 6 and 7, which both halves' widened requests hold, hold none.
    assert hunt.halve([1, 5, 9, 20], Range(0, 30)) == [Range(0, 6), Range(7, 30)]
    assert hunt.halve([1, 5, 6, 7, 20], Range(0, 30)) == [Range(0, 8), Range(9, 30)]
    assert hunt.halve([], Range(None, None)) == [Range(None, 0), Range(1, None)]
    assert hunt.halve([7, 7, 7], Range(7, 8)) == [Range(7, 7), Range(8, 8)]
    assert hunt.halve([3], Range(3, 3)) == []
    assert hunt.count_in([1, 5, 9, 20], Range(5, 20)) == 3
