"""Properties of the input-output solve on random graphs, cycles included."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from coaltrace.provenance.attribution import origin_rows, taint
from coaltrace.provenance.solve import CLASSES, GROUPED, Network, close_loops, solve
from tests.conftest import examples


@st.composite
def networks(draw: st.DrawFn) -> Network:
    n = draw(st.integers(2, 9))
    pairs = draw(
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), min_size=1, max_size=3 * n, unique=True)
    )
    pairs = [(a, b) for a, b in pairs if a != b] or [(0, 1)]
    tonnes = draw(st.lists(st.floats(1.0, 1000.0), min_size=len(pairs), max_size=len(pairs)))
    sources = np.array(
        draw(
            st.lists(
                st.lists(st.sampled_from([0.0, 0.0, 5.0, 120.0, 999.5]), min_size=len(CLASSES), max_size=len(CLASSES)),
                min_size=n,
                max_size=n,
            )
        )
    )
    y = np.array(draw(st.lists(st.sampled_from([1.0, 1.0, 0.85, 0.75]), min_size=n, max_size=n)))
    seller, buyer = (np.array(c, dtype=np.int64) for c in zip(*pairs, strict=True))
    net = Network(seller=seller, buyer=buyer, tonnes=np.array(tonnes), yield_factor=y, sources=sources)
    # As the mass balance does: whoever ships more than it holds creates the shortfall.
    sources = sources.copy()
    sources[:, 3] += np.maximum(net.outflow() - net.total(), 0.0)
    net = Network(seller=seller, buyer=buyer, tonnes=np.array(tonnes), yield_factor=y, sources=sources)
    sources[:, 3] += close_loops(net)
    return Network(seller=seller, buyer=buyer, tonnes=np.array(tonnes), yield_factor=y, sources=sources)


def dense_shares(net: Network) -> np.ndarray:
    """shares[f, o, c] from the textbook Leontief inverse, in dense numpy."""
    x = net.total()
    safe = np.where(x > 0, x, 1.0)
    q = np.zeros((net.n, net.n))
    np.add.at(q, (net.buyer, net.seller), net.yield_factor[net.buyer] * net.tonnes / safe[net.buyer])
    g = np.linalg.inv(np.eye(net.n) - q)
    out = g[:, :, None] * (net.sources / safe[:, None])[None, :, :]
    out[x <= 0] = 0.0
    return out


def as_cube(net: Network, a) -> np.ndarray:
    cube = np.zeros((net.n, net.n, len(CLASSES)))
    assert not (a.origin == GROUPED).any()
    np.add.at(cube, (a.facility, a.origin, a.origin_class), a.share)
    return cube


@settings(max_examples=examples(120), deadline=None)
@given(networks(), st.booleans())
def test_sparse_solve_agrees_with_dense_numpy(net: Network, direct: bool) -> None:
    a = solve(net, max_origin_nodes=net.n, direct_max_nodes=net.n if direct else 0)
    np.testing.assert_allclose(as_cube(net, a), dense_shares(net), atol=1e-9, rtol=0)


@settings(max_examples=examples(120), deadline=None)
@given(networks())
def test_shares_sum_to_one_under_both_policies(net: Network) -> None:
    a = solve(net, max_origin_nodes=2, min_share=0.05)  # forces grouped rows too
    rows = origin_rows([f"F{i}" for i in range(net.n)], net, a)
    live = {f"F{i}" for i in np.flatnonzero(net.total() > 0)}
    for frame in (rows, taint(rows)):
        sums = frame.group_by("facility_id").agg(pl.col("share").sum())
        assert set(sums["facility_id"]) == live
        np.testing.assert_allclose(sums["share"].to_numpy(), 1.0, atol=1e-9)


@settings(max_examples=examples(120), deadline=None)
@given(networks())
def test_tonnes_are_conserved_at_every_facility(net: Network) -> None:
    # What a facility holds of each origin = what entered there + what its suppliers delivered.
    a = solve(net, max_origin_nodes=net.n)
    held = as_cube(net, a) * a.total[:, None, None]
    x = np.where(a.total > 0, a.total, 1.0)
    delivered = np.zeros_like(held)
    np.add.at(
        delivered,
        net.buyer,
        (net.yield_factor[net.buyer] * net.tonnes / x[net.seller])[:, None, None] * held[net.seller],
    )
    entered = np.zeros_like(held)
    entered[np.arange(net.n), np.arange(net.n)] = net.sources
    np.testing.assert_allclose(held, entered + delivered, atol=1e-6 * max(1.0, held.max()))


@settings(max_examples=examples(80), deadline=None)
@given(networks(), st.randoms(use_true_random=False))
def test_relabelling_facilities_changes_nothing(net: Network, rnd) -> None:
    perm = np.arange(net.n)
    rnd.shuffle(perm)  # new label of old facility i is perm[i]
    inv = np.argsort(perm)
    moved = Network(
        seller=perm[net.seller],
        buyer=perm[net.buyer],
        tonnes=net.tonnes,
        yield_factor=net.yield_factor[inv],
        sources=net.sources[inv],
    )
    before = as_cube(net, solve(net, max_origin_nodes=net.n))
    after = as_cube(moved, solve(moved, max_origin_nodes=moved.n))
    np.testing.assert_allclose(after[np.ix_(perm, perm)], before, atol=1e-9)
