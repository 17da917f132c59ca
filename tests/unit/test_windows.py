"""Planned windows cover every possible startDate exactly once."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from hotstar_sync.model.windows import (
    MAX_PIECES,
    ItemMark,
    Range,
    Window,
    plan_from_counts,
    split_range,
    split_window,
)

BIG = 2**40
ends = st.one_of(st.none(), st.integers(-BIG, BIG))


def assert_partition(parent: Range, pieces: list[Range]) -> None:
    """Contiguous, disjoint, non-empty, and exactly `parent`'s ends."""
    assert pieces[0].lo == parent.lo and pieces[-1].hi == parent.hi
    for a, b in itertools.pairwise(pieces):
        assert a.hi is not None and b.lo == a.hi + 1
    for p in pieces:
        assert p.lo is None or p.hi is None or p.lo <= p.hi


@st.composite
def ranges(draw):
    lo, hi = draw(ends), draw(ends)
    if lo is not None and hi is not None and lo > hi:
        lo, hi = hi, lo
    return Range(lo, hi)


@given(
    ranges(),
    st.lists(st.integers(-BIG, BIG) | st.sampled_from([0, 32535072000])),
    st.integers(1, 10**6),
)
def test_split_range_is_an_exact_partition(rng, sample, total):
    pieces = split_range(rng, sample, total)
    assert_partition(rng, pieces)
    if not rng.is_single:
        assert len(pieces) >= 2


@given(ranges(), st.lists(st.integers(-BIG, BIG)), st.integers(1, 10**6), st.integers(-BIG, BIG))
def test_every_second_of_the_parent_is_in_exactly_one_piece(rng, sample, total, second):
    pieces = split_range(rng, sample, total)
    assert sum(second in p for p in pieces) == (1 if second in rng else 0)


def test_a_heavy_second_gets_a_window_of_its_own():
    sample = [100] * 500 + list(range(1000, 1500))
    pieces = split_range(Range(None, None), sample, total=20_000)
    assert Range(99, 101) in pieces
    small = split_range(Range(99, 101), [100] * 1000, total=20_000)
    assert Range(100, 100) in small


def test_split_points_follow_the_data_not_the_calendar():
    sample = list(range(0, 1000))  # uniform over 0..999
    pieces = split_range(Range(None, None), sample, total=30_000, target=10_000)
    inner = [p.hi for p in pieces[:-1]]
    assert inner == [333, 666]


@given(
    st.lists(st.tuples(st.integers(-BIG, BIG), st.integers(1, 20_000)), unique_by=lambda t: t[0])
)
def test_plan_from_counts_covers_everything_and_respects_the_target(counts):
    counts = sorted(counts)
    plan = plan_from_counts(counts, target=9_000)
    assert_partition(Range(None, None), plan)
    for piece in plan:
        inside = [n for s, n in counts if s in piece]
        # A heavy second's own window may hold its neighbours' few items too.
        heavy = [s for s, n in counts if s in piece and n > 4_500]
        assert sum(inside) <= 9_000 or len(inside) == 1 or heavy
    # Each heavy second has a window of its own, a second wide on each side (or shared
    # with another heavy second close by), and no other window's request reaches it.
    for second, n in counts:
        if n > 4_500:
            (own,) = [p for p in plan if second in p]
            assert own.lo is not None and own.hi is not None
            assert own.lo <= second - 1 and second + 1 <= own.hi


def test_requests_widen_each_closed_end_by_one_second():
    w = Window(Range(10, 20), Range(None, 99), premium=False)
    assert w.params() == {
        "fromStartDate": 9,
        "toStartDate": 21,
        "toUpdateDate": 100,
        "premium": False,
    }
    assert Window().params() == {}


def test_split_window_falls_back_to_update_date_then_premium():
    sample = [ItemMark(str(i), 5, 1000 + i, i % 2 == 0) for i in range(100)]
    by_update = split_window(Window(Range(5, 5)), sample, 20_000)
    assert all(c.start == Range(5, 5) for c in by_update) and len(by_update) >= 2
    one_second = Window(Range(5, 5), Range(7, 7))
    assert [c.premium for c in split_window(one_second, sample, 20_000)] == [True, False]
    assert split_window(Window(Range(5, 5), Range(7, 7), premium=True), sample, 20_000) == []


def test_window_key_round_trips_through_json():
    w = Window(Range(None, 5), Range(3, None), premium=True)
    assert Window.from_json(w.to_json()) == w
    assert w.key == "start=..5;update=3..;premium=true"


def test_a_huge_window_is_cut_a_few_pieces_at_a_time():
    sample = list(range(0, 100_000, 100))
    pieces = split_range(Range(None, None), sample, total=686_432)
    assert len(pieces) == MAX_PIECES


def test_cuts_fall_between_sampled_seconds_when_there_is_room():
    # Neither neighbour's widened boundary seconds (the cut and the next) hold a sampled
    # item, so each sampled item is plainly inside or outside both children's answers.
    sample = list(range(0, 1000, 10))
    for piece in split_range(Range(None, None), sample, total=30_000, target=10_000)[:-1]:
        assert piece.hi is not None and piece.hi % 10 == 5
        assert {piece.hi, piece.hi + 1}.isdisjoint(sample)


def test_a_window_surely_excludes_only_what_no_bound_rule_would_return():
    window = Window(Range(10, 20), premium=True)
    mark = lambda start, premium=True: ItemMark("1", start, 0, premium)  # noqa: E731
    assert [window.excludes(mark(s)) for s in (8, 9, 10, 20, 21, 22)] == [
        True, False, False, False, False, True,
    ]  # fmt: skip
    assert window.excludes(mark(15, premium=False))
    assert not window.excludes(mark(None)) and not window.excludes(mark(15, premium=None))
