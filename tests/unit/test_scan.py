"""The scanner's logic against an in-memory API with each bound rule (no I/O).

The integration tests run the same scanner against the simulator over HTTP; this fake only
lets hypothesis try many catalogues quickly.
"""

from __future__ import annotations

import bisect
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotstar_sync.api.client import SearchPage
from hotstar_sync.api.scan import Scanner, _child_prefix
from hotstar_sync.model.windows import OFFSET_CAP, ItemMark, Range, Window


class FakeApi:
    def __init__(self, items: list[dict[str, Any]], bounds: str = "inclusive") -> None:
        self.items = sorted(items, key=lambda i: int(i["contentId"]))
        self.bounds = bounds
        self.requests: list[dict[str, Any]] = []

    def _ok(self, value: int, lo: int | None, hi: int | None) -> bool:
        lo_ok = lo is None or (value >= lo if self.bounds != "exclusive" else value > lo)
        hi_ok = hi is None or (value <= hi if self.bounds == "inclusive" else value < hi)
        return lo_ok and hi_ok

    def __call__(self, params: dict[str, Any]) -> SearchPage:
        self.requests.append(params)
        offset, size = params["offset"], params["size"]
        assert size <= 1000 and offset + size <= OFFSET_CAP
        hits = [
            i
            for i in self.items
            if self._ok(i["startDate"], params.get("fromStartDate"), params.get("toStartDate"))
            and self._ok(i["updateDate"], params.get("fromUpdateDate"), params.get("toUpdateDate"))
            and ("premium" not in params or i["premium"] == params["premium"])
        ]
        if params["order"] == "desc":
            hits.reverse()
        return SearchPage(hits[offset : offset + size], len(hits), offset, size)


def catalogue(n: int, seed: int = 1, cluster: int = 0, cluster_second: int = 1_500_000_000):
    rnd = random.Random(seed)
    items = []
    for k in range(n):
        roll = rnd.random()
        if k < cluster:
            start = cluster_second
        elif roll < 0.01:
            start = 0
        elif roll < 0.02:
            start = 32535072000
        else:
            start = rnd.randrange(-(10**8), 1_800_000_000)
        items.append(
            {
                "contentId": str(10**9 + k),
                "startDate": start,
                "updateDate": 1_700_000_000 + rnd.randrange(10**6),
                "premium": rnd.random() < 0.4,
            }
        )
    return items


def scan_ids(api: FakeApi) -> tuple[set[str], Scanner]:
    scanner = Scanner(api)
    ids: set[str] = set()
    for page in scanner.scan():
        ids.update(i["contentId"] for i in page.items)
    return ids, scanner


@pytest.mark.parametrize("bounds", ["inclusive", "half-open", "exclusive"])
def test_complete_under_each_bound_rule_with_edges_and_a_cluster(bounds):
    items = catalogue(35_000, cluster=3_000)
    api = FakeApi(items, bounds)
    ids, scanner = scan_ids(api)
    assert ids == {i["contentId"] for i in items}
    assert scanner.result.verified and not scanner.unverified
    assert len(api.requests) <= 1.15 * 35 + 3


@pytest.mark.parametrize("bounds", ["inclusive", "exclusive"])
def test_a_second_holding_more_than_the_cap_falls_back_to_other_filters(bounds):
    items = catalogue(16_000, cluster=12_000)
    api = FakeApi(items, bounds)
    ids, scanner = scan_ids(api)
    assert ids == {i["contentId"] for i in items}
    assert scanner.result.verified


def test_an_unreachable_gap_is_reported_not_hidden():
    # 25,000 items in one second, one update second, one premium value: beyond 2 x cap.
    items = [
        {"contentId": str(10**9 + k), "startDate": 5, "updateDate": 7, "premium": True}
        for k in range(25_000)
    ]
    ids, scanner = scan_ids(FakeApi(items))
    assert not scanner.result.verified
    assert [r.window.key for r in scanner.unverified][-1] == "start=..;update=..;premium="
    assert len(ids) == 20_000


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(0, 25_000),
    seed=st.integers(0, 10**6),
    cluster=st.integers(0, 9_000),
    bounds=st.sampled_from(["inclusive", "half-open", "exclusive"]),
)
def test_every_item_is_found_exactly(n, seed, cluster, bounds):
    items = catalogue(n, seed, cluster=min(cluster, n))
    ids, scanner = scan_ids(FakeApi(items, bounds))
    assert ids == {i["contentId"] for i in items}
    assert scanner.result.verified


@pytest.mark.parametrize("removed", [1, 2, 3, 50])
def test_a_removal_early_and_an_addition_late_keep_the_total_but_lose_nothing(removed):
    items = catalogue(5_000)
    api = FakeApi(items)
    original = api.__call__
    present = {i["contentId"] for i in items[removed:]}

    def churn(params):
        if len(api.requests) == 2:  # after two pages: early items go, as many new ones come
            del api.items[:removed]
            for k in range(removed):
                api.items.append({**items[-1], "contentId": str(2 * 10**9 + k)})
        return original(params)

    scanner = Scanner(churn)
    ids = {i["contentId"] for p in scanner.scan() for i in p.items}
    assert present <= ids, "an item present all along slid past the walk"
    assert scanner.result.verified


def families(n: int, seed: int = 3) -> list[dict[str, Any]]:
    """Items that come in families, as a season's episodes do: consecutive contentIds, and
    startDates a day or a week apart from the family's first. A page of contentIds
    samples a dozen families, not the catalogue."""
    rnd = random.Random(seed)
    items: list[dict[str, Any]] = []
    while len(items) < n:
        start, gap = rnd.randrange(-(10**8), 1_800_000_000), rnd.choice((86_400, 604_800))
        for episode in range(min(rnd.randrange(10, 80), n - len(items))):
            items.append(
                {
                    "contentId": str(10**9 + len(items)),
                    "startDate": start + episode * gap,
                    "updateDate": 1_700_000_000 + rnd.randrange(10**6),
                    "premium": rnd.random() < 0.4,
                }
            )
    return items


class IndexedApi(FakeApi):
    """FakeApi for big catalogues: startDate filters by bisection, answers cached."""

    def __init__(self, items: list[dict[str, Any]], bounds: str = "inclusive") -> None:
        super().__init__(items, bounds)
        self.by_start = sorted(items, key=lambda i: i["startDate"])
        self.starts = [i["startDate"] for i in self.by_start]
        self.answers: dict[tuple[Any, ...], list[dict[str, Any]]] = {}

    def __call__(self, params: dict[str, Any]) -> SearchPage:
        assert not {"fromUpdateDate", "toUpdateDate", "premium"} & params.keys()
        self.requests.append(params)
        offset, size = params["offset"], params["size"]
        assert size <= 1000 and offset + size <= OFFSET_CAP
        lo, hi = params.get("fromStartDate"), params.get("toStartDate")
        hits = self.answers.get((lo, hi))
        if hits is None:
            left = bisect.bisect_left if self.bounds != "exclusive" else bisect.bisect_right
            right = bisect.bisect_right if self.bounds == "inclusive" else bisect.bisect_left
            a = 0 if lo is None else left(self.starts, lo)
            b = len(self.starts) if hi is None else right(self.starts, hi)
            hits = sorted(self.by_start[a:b], key=lambda i: int(i["contentId"]))
            self.answers[(lo, hi)] = hits
        if params["order"] == "desc":
            hits = hits[::-1]
        return SearchPage(hits[offset : offset + size], len(hits), offset, size)


@pytest.mark.parametrize("bounds", ["inclusive", "half-open", "exclusive"])
def test_a_catalogue_of_families_costs_at_most_a_tenth_over_the_floor(bounds):
    # A probe page's quantiles are rough here: cutting 100,000 items into a dozen windows
    # from one page left many windows half full and others over the cap (1.17 x the floor).
    n = 100_000
    api = IndexedApi(families(n), bounds)
    ids, scanner = scan_ids(api)
    assert len(ids) == n and scanner.result.verified
    assert len(api.requests) <= 1.1 * n / 1000


def test_children_do_not_read_their_parents_probe_items_again():
    n = 40_000
    api = FakeApi(catalogue(n, seed=5))
    scanner = Scanner(api)
    pages = list(scanner.scan())  # every page fetched comes out once
    ids = {i["contentId"] for page in pages for i in page.items}
    assert len(ids) == n and scanner.result.verified
    assert sum(1 for p in api.requests if "toStartDate" in p and "fromStartDate" in p) >= 3
    # Each page re-reads OVERLAP items of the one before; nothing else is read twice
    # but the boundary seconds neighbouring windows share.
    fetched = sum(len(page.items) for page in pages)
    assert fetched <= n * 1.01 + 50


@pytest.mark.parametrize("removed", [1, 3, 400])
def test_a_probe_page_gone_stale_before_its_children_are_walked_loses_nothing(removed):
    # Removals among the lowest contentIds after the root's probe page: the children's
    # known prefixes are out of date, and their first pages must notice.
    items = catalogue(30_000, seed=11)
    api = FakeApi(items)
    original = api.__call__
    present = {i["contentId"] for i in items[removed:]}

    def churn(params):
        if len(api.requests) == 1:
            del api.items[:removed]
        return original(params)

    scanner = Scanner(churn)
    ids = {i["contentId"] for p in scanner.scan() for i in p.items}
    assert present <= ids, "an item present all along was skipped"
    assert scanner.result.verified


@settings(max_examples=200, deadline=None)
@given(
    starts=st.lists(st.integers(-5, 60), min_size=1, max_size=120),
    lowest=st.integers(1, 120),
    cut=st.integers(-5, 60),
    bounds=st.sampled_from(["inclusive", "half-open", "exclusive"]),
)
def test_a_childs_known_prefix_is_the_start_of_its_answer(starts, lowest, cut, bounds):
    # The parent (every startDate) has read its `lowest` lowest contentIds; each child
    # of a cut at `cut` may skip its share of them whatever the bound rule.
    items = [
        {"contentId": str(100 + k), "startDate": s, "updateDate": 0, "premium": False}
        for k, s in enumerate(starts)
    ]
    api = FakeApi(items, bounds)
    marks = [ItemMark.of(i) for i in items[:lowest]]
    for child in (Window(Range(None, cut)), Window(Range(cut + 1, None))):
        answer = api(
            {"orderBy": "contentId", "order": "asc", "offset": 0, "size": 1000, **child.params()}
        ).items
        prefix = _child_prefix(child, marks)
        assert [m.content_id for m in prefix] == [i["contentId"] for i in answer[: len(prefix)]]
