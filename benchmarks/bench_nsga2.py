"""NSGA-II selection speed: the Numba kernel vs deap.tools.selNSGA2, and whole NSGA-II runs.

    python benchmarks/bench_nsga2.py [--population 1000] [--generations 2000] [--whole 20000]

Selection is timed on the merged parents + offspring (2N individuals, 2 objectives: performance
and connection count, values as in a logic-gate run) for plain NSGA-II (p = 1) and P&NSGA (cost
counted in a quarter of comparisons), with one coin per pair or a fresh coin at every check. Engine runs are timed against the truncation-selection run of
the same size in the same process; whole ``evosim run`` commands against the main job. Rates are
generations/s, and ratios.
"""
from __future__ import annotations

import argparse
import subprocess
import tempfile
import time

import numpy as np
from deap import creator, tools

from evosim import counter_rng as crng
from evosim.config import Config
from evosim.engine import deap_engine, evolve, nsga2  # noqa: F401 (creates DEAP's classes)
from evosim.goals import make_schedule
from evosim.tasks.logic import LogicTask


def best_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def selection(n: int, repeat: int) -> None:
    rng = np.random.default_rng(0)
    values = np.stack([rng.integers(8, 17, 2 * n) / 16, rng.integers(4, 25, 2 * n)], axis=1)
    weights = np.array([1.0, -1.0])
    population = []
    for i, row in enumerate(values):
        ind = creator.EvosimIndividual2([i])
        ind.fitness.values = tuple(row)
        population.append(ind)
    order = nsga2.sweep_order(values, weights, 0)
    for name, select in (("per-pair", nsga2.select_sorted), ("per-check", nsga2.select_per_check)):
        for p in (1.0, 0.25):
            th = np.array([nsga2.ALWAYS, crng.threshold(p)], dtype=np.uint64)
            select(values, weights, th, n, np.uint64(1), 0, order)  # compile / load
            t = best_time(lambda th=th, select=select: select(values, weights, th, n,
                                                              np.uint64(1), 0, order), repeat)
            print(f"  numba select, {name:<9} coins, p = {p}: {t * 1e3:8.2f} ms")
    t_deap = best_time(lambda: tools.selNSGA2(population, n), max(1, repeat // 3))
    print(f"  deap.tools.selNSGA2:   {t_deap * 1e3:8.2f} ms")


def runs(n: int, generations: int, rounds: int) -> None:
    """Engine only, the variants interleaved round by round (best rate of each): drifts of a shared
    machine hit every variant alike."""
    task = LogicTask()
    schedule = make_schedule("fixed", task.goals, generations + 1)
    base = Config().replace(**{"run.population": n, "run.generations": generations})
    variants = {
        "elitist (K&A), no cost": {},
        "elitist + count penalty": {"cost.kind": "count", "cost.weight": 0.005},
        "nsga2 + count, p = 1": {"selection.scheme": "nsga2", "cost.kind": "count", "cost.p": 1.0},
        "nsga2 + count, p = 0.25": {"selection.scheme": "nsga2", "cost.kind": "count"},
        "nsga2 + count, p = 0.25, per-check": {"selection.scheme": "nsga2", "cost.kind": "count",
                                               "cost.coins": "per-check"},
    }
    rates = dict.fromkeys(variants, 0.0)
    for _ in range(rounds):
        for name, overrides in variants.items():
            config = base.replace(**overrides)
            list(evolve(task, schedule, config.replace(**{"run.generations": 5}), np.uint64(1)))
            start = time.perf_counter()
            for _ in evolve(task, schedule, config, np.uint64(1), block_size=500):
                pass
            rates[name] = max(rates[name], generations / (time.perf_counter() - start))
    reference = rates["elitist (K&A), no cost"]
    for name, rate in rates.items():
        print(f"  {name:<36} {rate:9.0f} gen/s  ({reference / rate:.1f} x the time of K&A)")


def whole_runs(generations: int, rounds: int) -> None:
    """``evosim run`` end to end (start-up, engine, Q of the best, HDF5), best wall time of each."""
    commands = {
        "K&A, MVG (the main job)": ["logic-gates", "--mvg"],
        "NSGA-II + count, p = 0.25": ["logic-gates", "--selection", "nsga2", "--cost", "count",
                                      "--cost-p", "0.25"],
        "NSGA-II + count, p = 0.25, MVG": ["logic-gates", "--mvg", "--selection", "nsga2",
                                           "--cost", "count", "--cost-p", "0.25"],
    }
    seconds = dict.fromkeys(commands, float("inf"))
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(rounds):
            for name, args in commands.items():
                start = time.perf_counter()
                subprocess.run(["evosim", "run", *args, "--generations", str(generations),
                                "--out", f"{folder}/run.h5", "--force", "--quiet"],
                               check=True, capture_output=True)
                seconds[name] = min(seconds[name], time.perf_counter() - start)
    reference = seconds["K&A, MVG (the main job)"]
    for name, wall in seconds.items():
        print(f"  {name:<32} {wall:6.2f} s  ({wall / reference:.2f} x the main job)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=1000)
    parser.add_argument("--generations", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of the runs")
    parser.add_argument("--whole", type=int, default=20000, metavar="G",
                        help="generations of the end-to-end runs (0: skip them)")
    args = parser.parse_args()
    print(f"NSGA-II selection of N = {args.population} from 2N, best of {args.repeat}")
    selection(args.population, args.repeat)
    print(f"engine only, N = {args.population}, {args.generations} generations, fixed goal G1")
    runs(args.population, args.generations, args.rounds)
    if args.whole:
        print(f"evosim run, {args.whole} generations (defaults: N = 1000)")
        whole_runs(args.whole, args.rounds)


if __name__ == "__main__":
    main()
