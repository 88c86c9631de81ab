"""Benchmark: exact max-Q (evosim.modularity.solve_max_q) vs igraph's optimal modularity (GLPK ILP).

    python benchmarks/bench_modularity.py [--circuits 200] [--layered 12] [--seed 0] [--qm 20]

Graphs: random 16-node functional graphs of 4-input / 12-gate feed-forward NAND circuits
(undirected, simple) and random functional graphs of 8-8-4-2-1 layered nets (50 % density,
directed, Leicht-Newman Q).  Both methods run on the same graphs; values are checked to agree.
"""
from __future__ import annotations

import argparse
import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import igraph as ig  # noqa: E402

from evosim.modularity import qm, solve_max_q  # noqa: E402
from evosim.modularity._graphs import random_circuit_graph, random_layered_graph  # noqa: E402


def igraph_max_q(a: np.ndarray, directed: bool) -> float:
    g = ig.Graph.Weighted_Adjacency(a.tolist(), mode="directed" if directed else "undirected")
    cl = g.community_optimal_modularity(weights="weight")
    return g.modularity(cl, weights="weight", directed=directed)


def timeit(fn, *args):
    t = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t


def run(name, graphs, directed):
    ours, theirs, worst = [], [], 0.0
    for a in graphs:
        r, t1 = timeit(solve_max_q, a, directed)
        q_ig, t2 = timeit(igraph_max_q, a, directed)
        assert r.exact and abs(r.q - q_ig) < 1e-9, (r.q, q_ig)
        worst = max(worst, abs(r.q - q_ig))
        ours.append(t1)
        theirs.append(t2)
    ours, theirs = np.array(ours) * 1e3, np.array(theirs) * 1e3
    sizes = [g.shape[0] for g in graphs]
    edges = [int(np.count_nonzero(g) // (1 if directed else 2)) for g in graphs]
    print(f"\n{name}: {len(graphs)} graphs, nodes {min(sizes)}-{max(sizes)}, edges {min(edges)}-{max(edges)}, "
          f"max |dQ| vs igraph = {worst:.1e}")
    print(f"  {'':12s} {'median ms':>10s} {'mean ms':>10s} {'max ms':>10s} {'total s':>10s}")
    for label, t in (("exact-bb", ours), ("igraph ILP", theirs)):
        print(f"  {label:12s} {np.median(t):10.3f} {t.mean():10.3f} {t.max():10.3f} {t.sum() / 1e3:10.3f}")
    print(f"  speed-up (igraph / ours): median of per-graph ratios {np.median(theirs / ours):.0f}x, "
          f"total {theirs.sum() / ours.sum():.0f}x")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--circuits", type=int, default=200)
    ap.add_argument("--layered", type=int, default=12)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--qm", type=int, default=20, help="n_samples for the Qm timing (0: skip)")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    circuits = []
    while len(circuits) < args.circuits:
        a = random_circuit_graph(rng, locality=0.3)
        if a.shape[0] == 16:
            circuits.append(a)
    layered = []
    while len(layered) < args.layered:
        a = random_layered_graph(rng)
        if a.shape[0] >= 16:
            layered.append(a)
    # JIT warm-up (numba kernels are cached on disk after the first run)
    _, t_warm = timeit(solve_max_q, circuits[0], False)
    solve_max_q(layered[0], True)
    print(f"first call (JIT load/compile) {t_warm * 1e3:.0f} ms")
    run("16-node circuit graphs (undirected)", circuits, False)
    run("8-8-4-2-1 layered graphs (directed)", layered, True)
    if args.qm:
        ts = []
        for a in circuits[:20]:
            _, t = timeit(lambda x: qm(x, n_samples=args.qm, rng=0), a)
            ts.append(t)
        print(f"\nqm(n_samples={args.qm}) on 20 circuit graphs: median {np.median(ts) * 1e3:.0f} ms, "
              f"max {max(ts) * 1e3:.0f} ms")
        ts = []
        for a in layered[:3]:
            _, t = timeit(lambda x: qm(x, directed=True, n_samples=args.qm, rng=0), a)
            ts.append(t)
        print(f"qm(n_samples={args.qm}) on 3 layered graphs: median {np.median(ts) * 1e3:.0f} ms, "
              f"max {max(ts) * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
