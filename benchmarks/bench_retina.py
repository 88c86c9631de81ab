"""Speed of the retina's evaluation under each connection cost, as ratios measured in one process.

    python benchmarks/bench_retina.py [--population 2000] [--rounds 7]

Evaluates a population of random networks (performance and cost of every one) with no cost,
the connection count, the squared length with the fixed layout, and the squared length with
each network's hidden neurons placed optimally (a linear solve per network), interleaved round
by round, best time of each; prints the ratios to the cost-free evaluation.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from evosim.config import Config
from evosim.tasks.retina import RetinaTask

VARIANTS = {"none": ("none", "layered"), "count": ("count", "layered"),
            "length, fixed layout": ("length", "layered"),
            "length, optimal placement": ("length", "optimal")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    runs = {}
    for name, (kind, layout) in VARIANTS.items():
        config = Config().replace(**{"task.name": "retina", "cost.kind": kind,
                                     "cost.layout": layout})
        task = RetinaTask(layout=layout)
        constants = task.kernel_constants(config.variation, config.cost)
        evaluate = task.kernels("numba", constants).evaluate
        genomes = task.random_genomes(args.population, np.uint64(1))
        target = task.pack(task.goals.target("and"))[0]
        correct = np.empty(args.population, dtype=np.int64)
        cost = np.empty(args.population)
        runs[name] = (evaluate, genomes, target, constants, correct, cost)
        evaluate(genomes, target, constants, correct, cost)  # compile
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(args.rounds):
        for name, (evaluate, *arguments) in runs.items():
            start = time.perf_counter()
            evaluate(*arguments)
            best[name] = min(best[name], time.perf_counter() - start)
    print(f"N = {args.population}, best of {args.rounds} rounds")
    for name, seconds in best.items():
        print(f"  {name:<28} {seconds * 1e3:8.2f} ms  {seconds / best['none']:5.2f} x no cost")


if __name__ == "__main__":
    main()
