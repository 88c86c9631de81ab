"""Throughput of the batched engine (``--engine cupy``) against a local all-core Numba sweep of
the same runs, measured in the same script (issue 20's targets are ratios and rates on one GPU).

    python benchmarks/bench_gpu.py [--runs 1,64,1024] [--generations 2000] [--population 1000]
                                   [--xp cupy|numpy] [--retina-runs R] [--nsga2-runs R]
                                   [--numba-runs N] [--processes P]
                                   [--json FILE]

For every R in --runs: the main job's configuration (logic-gates, MVG, elitist), R seeds as one
batch, engine only ("q off": evolve_batch, nothing recorded) and whole ("q on": run_batch, exact
Q of every run's best, run files written, by --processes recording processes). The baseline is --numba-runs seeds (default: one per
core) of the same configuration on the Numba engine, one process per core, engine only and
whole (a local ``evosim sweep``). The figure is individual-generations per second:
R x population x (generations + 1) / wall seconds. ``--xp numpy`` runs the batched engine with
NumPy (the CPU path the tests use): a smoke test of this script, not a GPU figure. The retina
(MVG, elitist) runs the same way at R = --retina-runs (default 64), and logic gates under
P&NSGA (NSGA-II, whose selection runs on the host's cores) at R = --nsga2-runs (default 64).
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import multiprocessing
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from evosim import batch, runner
from evosim import sweep as sw
from evosim import xp as arrays
from evosim.config import Config
from evosim.engine import evolve
from evosim.engine.batched import evolve_batch
from evosim.tasks import get_task


JOBS = {"logic-gates": {"task.name": "logic-gates"},  # the main job
        "retina": {"task.name": "retina"},
        "logic-pnsga": {"task.name": "logic-gates", "selection.scheme": "nsga2",
                         "cost.kind": "count", "cost.p": 0.25}}


def job(name: str, generations: int, population: int, engine: str) -> Config:
    """One of ``JOBS`` under MVG: the main job (logic-gates, elitist), the retina, or logic
    gates under P&NSGA (NSGA-II, connection count counted with p = 0.25)."""
    return Config().replace(**{**JOBS[name], "run.generations": generations,
                               "run.population": population, "schedule.kind": "mvg",
                               "run.engine": engine})


def batched_engine_only(configs: list[Config], xp) -> float:
    task = get_task(configs[0].task, configs[0].cost.layout)
    schedules = [runner.build_schedule(c, task) for c in configs]
    keys = [runner.run_key(c) for c in configs]
    start = time.perf_counter()
    for _ in evolve_batch(task, schedules, configs, keys,
                          block_size=configs[0].output.flush_every, xp=xp):
        pass
    return time.perf_counter() - start


def numba_engine_only(config_toml: str) -> None:
    from evosim import config as cfg
    config = cfg.loads(config_toml)
    task = get_task(config.task, config.cost.layout)
    for _ in evolve(task, runner.build_schedule(config, task), config, runner.run_key(config),
                    block_size=config.output.flush_every):
        pass


def numba_sweep(configs: list[Config], whole: bool, folder: Path) -> float:
    """Wall seconds of the runs on every core (one process per core, started and warmed before
    the clock starts: its imports and Numba's cache loads are not the engine's time)."""
    cores = os.cpu_count() or 1
    tiny = configs[0].replace(**{"run.generations": 2, "run.population": 8}).to_toml()
    with cf.ProcessPoolExecutor(cores, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(numba_engine_only, [tiny] * cores))
        start = time.perf_counter()
        if whole:
            plan = sw.expand(configs[0], {}, [c.run.seed for c in configs])
            sw.run_sweep(plan, folder, sw.Backend(pool, cores, "cores"))
        else:
            list(pool.map(numba_engine_only, [c.to_toml() for c in configs]))
        return time.perf_counter() - start


def rate(runs: int, config: Config, seconds: float) -> float:
    return runs * config.run.population * (config.run.generations + 1) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", default="1,64,1024")
    parser.add_argument("--generations", type=int, default=2000)
    parser.add_argument("--population", type=int, default=1000)
    parser.add_argument("--xp", choices=("cupy", "numpy"), default="cupy")
    parser.add_argument("--retina-runs", type=int, default=64)
    parser.add_argument("--nsga2-runs", type=int, default=64)
    parser.add_argument("--processes", type=int, default=None,
                        help="recording processes of a batch (default: run_batch's)")
    parser.add_argument("--numba-runs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    xp = arrays.gpu_module() if args.xp == "cupy" else np
    if args.xp == "numpy":
        arrays.gpu_module = lambda setting="": np  # the cupy engine's code, with NumPy
    rows = []
    jobs = [("logic-gates", list(map(int, args.runs.split(",")))), ("retina", [args.retina_runs]),
            ("logic-pnsga", [args.nsga2_runs])]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for task, batches in jobs:
            base = job(task, args.generations, args.population, "numba")
            numba = [base.replace(**{"run.seed": s}) for s in range(args.numba_runs)]
            numba_engine_only(numba[0].to_toml())  # compile once before timing
            for whole in (False, True):
                seconds = numba_sweep(numba, whole, tmp / f"numba-{task}-{whole}")
                rows.append((task, "numba sweep", args.numba_runs, whole, seconds,
                             rate(args.numba_runs, base, seconds)))
            cupy = job(task, args.generations, args.population, "cupy")
            batched_engine_only([cupy], xp)  # warm-up: CuPy compiles its kernels at first use
            for r in batches:
                configs = [cupy.replace(**{"run.seed": s}) for s in range(r)]
                seconds = batched_engine_only(configs, xp)
                rows.append((task, f"batched {args.xp}", r, False, seconds,
                             rate(r, cupy, seconds)))
                folder = tmp / f"batch-{task}-{r}"
                start = time.perf_counter()
                batch.run_batch(configs, [folder / f"seed{s}.h5" for s in range(r)],
                                processes=args.processes)
                seconds = time.perf_counter() - start
                rows.append((task, f"batched {args.xp}", r, True, seconds,
                             rate(r, cupy, seconds)))
    baseline = {(task, whole): speed for task, name, _, whole, _, speed in rows
                if name == "numba sweep"}
    print(f"{'job':<12} {'engine':<16} {'runs':>5} {'Q':>4} {'seconds':>9} {'ind-gen/s':>11} "
          f"{'vs numba':>9}")
    for task, name, r, whole, seconds, speed in rows:
        print(f"{task:<12} {name:<16} {r:>5} {'on' if whole else 'off':>4} {seconds:>9.2f} "
              f"{speed:>11.3g} {speed / baseline[task, whole]:>8.2f}x")
    if args.json:
        args.json.write_text(json.dumps({
            "machine": platform.platform(), "cores": os.cpu_count(), "args": vars(args) | {
                "json": str(args.json)},
            "rows": [dict(zip(("task", "engine", "runs", "q", "seconds", "ind_gen_per_s"), row))
                     for row in rows]}, indent=1))


if __name__ == "__main__":
    main()
