"""Speed of a K&A logic-gate MVG run: numba vs numpy backends, with and without exact Q.

    python benchmarks/bench_logic.py [--generations 20000] [--repeat 2]

With ``--whole-process``: instead, the main job's whole process (``evosim run logic-gates --mvg
--generations G``, start-up, Q and the file included) against ``fused_reference.py`` (the same
generations in one compiled function, nothing else), side by side, warm, best of --repeat.

Prints generations/s per variant, the time split of the full run (engine / Q / HDF5) and ratios
against the numba engine alone measured in the same process (absolute times drift on shared
machines; ratios are what to compare). The numpy backend runs fewer generations (it is the slow
reference) and is scaled to generations/s.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path


from evosim import counter_rng as crng
from evosim import runner
from evosim.config import Config
from evosim.engine import evolve
from evosim.tasks import get_task


def engine_only(config: Config) -> float:
    """Seconds for the generations alone (no Q, no file)."""
    task = get_task(config.task, config.cost.layout)
    schedule = runner.build_schedule(config, task)
    key = crng.key_from_seed_sequence(runner.seed_streams(config.run.seed)["engine"])
    start = time.perf_counter()
    for _ in evolve(task, schedule, config, key, block_size=config.output.flush_every):
        pass
    return time.perf_counter() - start


def full_run(config: Config, folder: Path) -> tuple[float, dict[str, float]]:
    """Seconds for a whole recorded run, and where they went."""
    split: dict[str, float] = {}
    start = time.perf_counter()
    runner.run(config, folder / f"bench-{time.monotonic_ns()}.h5", timings=split)
    total = time.perf_counter() - start
    split["other"] = total - sum(split.values())
    return total, split


def whole_process(generations: int, repeat: int) -> None:
    """Seconds of the main job's process and of the fused reference loop's, interleaved."""
    with tempfile.TemporaryDirectory() as tmp:
        commands = {
            "evosim run (main job)": [sys.executable, "-m", "evosim", "run", "logic-gates",
                                      "--mvg", "--generations", str(generations), "--quiet",
                                      "--force", "--out", str(Path(tmp) / "run.h5")],
            "fused reference loop": [sys.executable, str(Path(__file__).with_name(
                "fused_reference.py")), "--generations", str(generations)],
        }
        best = dict.fromkeys(commands, float("inf"))
        for _ in range(repeat + 1):  # the first round loads (or compiles) the caches
            for name, command in commands.items():
                start = time.perf_counter()
                subprocess.run(command, check=True, capture_output=True)
                best[name] = min(best[name], time.perf_counter() - start)
    print(f"whole processes, {generations} generations, best of {repeat} (warm)")
    for name, seconds in best.items():
        print(f"  {name:<24} {seconds:6.2f} s")
    ratio = best["evosim run (main job)"] / best["fused reference loop"]
    print(f"  main job / fused loop: {ratio:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generations", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=2, help="best of this many")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--whole-process", action="store_true",
                        help="time the main job's process against the fused reference loop")
    args = parser.parse_args()
    if args.whole_process:
        whole_process(args.generations, args.repeat)
        return
    g = args.generations
    base = Config().replace(**{"schedule.kind": "mvg", "run.generations": g, "run.seed": args.seed})
    no_q = base.replace(**{"modularity.every": 0, "modularity.qm_epochs": 0})
    engine_only(base.replace(**{"run.generations": 200}))  # load the JIT cache
    rows = []
    t_engine = min(engine_only(base) for _ in range(args.repeat))
    rows.append(("numba engine only", g / t_engine, None))
    small = max(g // 20, 200)
    t_numpy = engine_only(base.replace(**{"run.engine": "numpy", "run.generations": small}))
    rows.append(("numpy engine only", small / t_numpy, None))
    with tempfile.TemporaryDirectory() as tmp:
        t_noq, split_noq = min((full_run(no_q, Path(tmp)) for _ in range(args.repeat)),
                               key=lambda r: r[0])
        rows.append(("numba run + HDF5, no Q", g / t_noq, split_noq))
        t_q, split_q = min((full_run(base, Path(tmp)) for _ in range(args.repeat)),
                           key=lambda r: r[0])
        rows.append(("numba run + HDF5 + exact Q (+ Qm every 1000)", g / t_q, split_q))
    print(f"K&A logic MVG, N = {base.run.population}, {g} generations, best of {args.repeat}")
    for name, rate, split in rows:
        line = f"  {name:<48} {rate:>9.0f} gen/s  ({rate * t_engine / g:.2f} x numba engine)"
        if split:
            line += "  split: " + ", ".join(f"{k} {v:.2f} s" for k, v in split.items())
        print(line)
    print(f"  numba engine / numpy engine: {t_numpy / small * g / t_engine:.1f} x faster")
    print(f"  run with Q / run without Q: {t_q / t_noq:.2f}")


if __name__ == "__main__":
    main()
