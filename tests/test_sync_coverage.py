"""Coverage: the interval set behind order-sync checkpoints, against a plain set of seconds."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from temu_async.sync.coverage import Coverage
from temu_async.sync.records import ShopState

spans = st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), max_size=12)


def _seconds(cov: Coverage) -> set[int]:
    return {s for a, b in cov for s in range(a, b + 1)}


def test_touching_intervals_merge_and_empty_ones_are_ignored() -> None:
    cov = Coverage([(1, 4), (5, 9), (20, 22), (7, 6)])
    assert cov.spans() == [(1, 9), (20, 22)]
    assert cov.missing(0, 25) == [(0, 0), (10, 19), (23, 25)]
    assert cov.covers(2, 9) and not cov.covers(2, 10)


def test_cut_after_drops_the_tail() -> None:
    cov = Coverage([(1, 9), (20, 30)])
    assert cov.cut_after(25).spans() == [(1, 9), (20, 25)]
    assert cov.cut_after(5).spans() == [(1, 5)]
    assert cov.cut_after(0).spans() == []


@given(spans, st.integers(0, 60), st.integers(0, 60))
def test_matches_a_set_of_seconds(added: list[tuple[int, int]], lo: int, hi: int) -> None:
    cov = Coverage()
    model: set[int] = set()
    for a, b in added:
        cov.add(a, b)
        model |= set(range(a, b + 1))
    assert _seconds(cov) == model
    # Disjoint, sorted, and never touching (else they would have merged).
    pairs = cov.spans()
    assert all(pairs[i][1] + 1 < pairs[i + 1][0] for i in range(len(pairs) - 1))
    missing = {s for a, b in cov.missing(lo, hi) for s in range(a, b + 1)}
    assert missing == set(range(lo, hi + 1)) - model


def test_state_round_trips_through_json() -> None:
    state = ShopState(synced_through=None, run_start=10, run_end=99, covered=[(10, 20), (30, 40)])
    again = ShopState.decode(state.encode())
    assert again == state and again.in_progress
    assert ShopState.decode(b"{}") == ShopState() and not ShopState().in_progress
