"""The iterative solve: parts upstream of, on and downstream of the cycles, each solved once."""

from __future__ import annotations

import numpy as np

from coaltrace.provenance.solve import CLASSES, LICENSED, UNSOURCED, Network, _parts, _row_normalised, solve


def chain_with_a_ring() -> Network:
    # 0 -> 1 -> {2 <-> 3} -> 4 -> 5, a ring 6 <-> 7 fed by 3 and feeding 5, and 8 -> 9 apart from it all.
    pairs = [(0, 1), (1, 2), (2, 3), (3, 2), (3, 4), (4, 5), (3, 6), (6, 7), (7, 6), (7, 5), (8, 9)]
    seller, buyer = (np.array(c, dtype=np.int64) for c in zip(*pairs, strict=True))
    tonnes = np.array([100.0, 90.0, 80.0, 30.0, 60.0, 50.0, 20.0, 25.0, 5.0, 15.0, 40.0])
    sources = np.zeros((10, len(CLASSES)))
    sources[[0, 8], LICENSED] = [100.0, 40.0]
    sources[[2, 6], UNSOURCED] = [7.0, 3.0]
    y = np.ones(10)
    y[4] = 0.85
    return Network(seller=seller, buyer=buyer, tonnes=tonnes, yield_factor=y, sources=sources)


def test_parts_are_upstream_cycles_and_downstream() -> None:
    net = chain_with_a_ring()
    parts = _parts(_row_normalised(net, net.total()))
    assert [p.tolist() for p in parts] == [[0, 1, 8, 9], [2, 3, 6, 7], [4, 5]]


def test_a_graph_without_cycles_is_one_part() -> None:
    net = chain_with_a_ring()
    keep = ~np.isin(np.arange(len(net.seller)), [3, 8])  # drop 3 -> 2 and 7 -> 6
    dag = Network(net.seller[keep], net.buyer[keep], net.tonnes[keep], net.yield_factor, net.sources)
    parts = _parts(_row_normalised(dag, dag.total()))
    assert [p.tolist() for p in parts] == [list(range(10))]


def test_iterating_part_by_part_agrees_with_the_lu() -> None:
    net = chain_with_a_ring()
    direct = solve(net, max_origin_nodes=10, direct_max_nodes=10)
    iterated = solve(net, max_origin_nodes=10, direct_max_nodes=0)
    np.testing.assert_allclose(iterated.class_share, direct.class_share, rtol=0, atol=1e-14)
    key = np.lexsort((direct.origin_class, direct.origin, direct.facility))
    other = np.lexsort((iterated.origin_class, iterated.origin, iterated.facility))
    for column in ("facility", "origin", "origin_class"):
        assert getattr(iterated, column)[other].tolist() == getattr(direct, column)[key].tolist()
    np.testing.assert_allclose(iterated.share[other], direct.share[key], rtol=0, atol=1e-14)
    # Downstream of the ring, 5 holds coal of all three origins that feed it.
    assert set(direct.origin[direct.facility == 5].tolist()) == {0, 2, 6}
