"""Speed of the hot-loop kernels of a logic-gate generation, as ratios measured in one process.

    python benchmarks/bench_kernels.py [--population 1000] [--rounds 7]

- evaluation under a count cost: the card's size (4 inputs, 12 gates, compiled with constant sizes)
  against 4 inputs and 13 gates (runtime sizes), per gate;
- the loops' ``evaluate_generation`` (copies inherit their parent's values) against evaluating
  every child when half the children are copies, for circuits of 7 inputs (two words of rows;
  one-word circuits are always evaluated whole);
- ``copy_rows`` against NumPy's ``np.take`` for gathering N genomes out of 2N;
- ``stable_order`` (a radix sort over the bytes that vary) against Numba's
  ``np.argsort(kind="mergesort")`` for 2N keys that vary in their low 16 bits, as a generation's
  ranks and counts do.

Every variant runs interleaved round by round and keeps its best time: drifts of a shared machine
hit every variant alike.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
from numba import njit

from evosim import config as cfg
from evosim.engine import kernels
from evosim.engine.loops import loops_for
from evosim.tasks import logic
from evosim.tasks.logic import LogicTask

_COUNT = cfg.from_dict({}).replace(**{"cost.kind": "count"})
_WIDE = LogicTask(7, 12).kernel_constants(_COUNT.variation, _COUNT.cost)
evaluate_generation = loops_for(LogicTask.kernels("numba", _WIDE), "numba")["evaluate_generation"]


def constants_for(task: LogicTask):
    return task.kernel_constants(_COUNT.variation, _COUNT.cost)


@njit
def _evaluate(genomes, target, constants, reps):
    correct = np.empty(genomes.shape[0], dtype=np.int64)
    cost = np.empty(genomes.shape[0])
    for _ in range(reps):
        if constants.row_mask.size == 1:  # what the loops run: the fused pass where it applies
            logic.evaluate_fused(genomes, target, constants, correct, cost)
        else:
            logic.evaluate(genomes, target, constants, correct, cost)


@njit
def _evaluate_changed(children, parents, sources, target, constants, reps):
    m = children.shape[0]
    correct, parent_correct = np.empty(m, dtype=np.int64), np.zeros(m, dtype=np.int64)
    cost, parent_cost = np.empty(m), np.zeros(m)
    for _ in range(reps):
        evaluate_generation(children, parents, sources, target, True, constants,
                            parent_correct, parent_cost, correct, cost)


@njit
def _copy_rows(source, rows, target, reps):
    for _ in range(reps):
        kernels.copy_rows(source, rows, target)


def _take(source, rows, target, reps):
    for _ in range(reps):
        np.take(source, rows, axis=0, out=target)


@njit
def _stable_order(keys, reps):
    for _ in range(reps):
        kernels.stable_order(keys)


@njit
def _argsort(keys, reps):
    for _ in range(reps):
        np.argsort(keys, kind="mergesort")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--reps", type=int, default=300)
    args = parser.parse_args()
    n, reps = args.population, args.reps
    card, other, wide = LogicTask(4, 12), LogicTask(4, 13), LogicTask(7, 12)
    target = card.pack(np.arange(card.n_rows) % 3 == 0)[0]
    wide_target = wide.pack(np.arange(wide.n_rows) % 3 == 0)[0]
    parents = wide.random_genomes(n, np.uint64(1))
    sources = np.random.default_rng(0).integers(0, n, n)
    children = parents[sources]
    changed = np.random.default_rng(1).random(n) < 0.5
    children[changed, 0] = (children[changed, 0] + 1) % wide.n_inputs  # a changed first gene
    pool, rows = card.random_genomes(2 * n, np.uint64(2)), np.random.default_rng(2).integers(
        0, 2 * n, n)
    out = np.empty((n, card.genome_length), dtype=np.int16)
    keys = np.random.default_rng(3).integers(0, 1 << 16, 2 * n).astype(np.uint64)
    variants = {
        "evaluate, card size (12 gates)": lambda r: _evaluate(
            card.random_genomes(n, np.uint64(4)), target, constants_for(card), r),
        "evaluate, 13 gates": lambda r: _evaluate(
            other.random_genomes(n, np.uint64(3)), target, constants_for(other), r),
        "evaluate all children (7 inputs)": lambda r: _evaluate(
            children, wide_target, constants_for(wide), r),
        "evaluate_changed, half copies": lambda r: _evaluate_changed(
            children, parents, sources, wide_target, constants_for(wide), r),
        "copy_rows": lambda r: _copy_rows(pool, rows, out, r),
        "np.take": lambda r: _take(pool, rows, out, r),
        "stable_order": lambda r: _stable_order(keys, r),
        "np.argsort (mergesort, Numba)": lambda r: _argsort(keys, r),
    }
    best = dict.fromkeys(variants, float("inf"))
    for run in variants.values():
        run(1)  # compile
    for _ in range(args.rounds):
        for name, run in variants.items():
            start = time.perf_counter()
            run(reps)
            best[name] = min(best[name], (time.perf_counter() - start) / reps * 1e6)
    print(f"N = {n}, best of {args.rounds} rounds, microseconds per call")
    for name, us in best.items():
        print(f"  {name:<32} {us:8.1f}")
    per_gate = (best["evaluate, 13 gates"] / 13) / (best["evaluate, card size (12 gates)"] / 12)
    print(f"  runtime sizes cost {per_gate:.1f}x the card's constant sizes, per gate")
    whole = best["evaluate all children (7 inputs)"]
    print(f"  evaluate_changed: {best['evaluate_changed, half copies'] / whole:.2f} x evaluating "
          f"every child")
    print(f"  copy_rows: {best['copy_rows'] / best['np.take']:.2f} x np.take")
    print(f"  stable_order: {best['stable_order'] / best['np.argsort (mergesort, Numba)']:.2f} x "
          "np.argsort")


if __name__ == "__main__":
    main()
