"""Peak memory of a run against its length: max RSS of whole runs of increasing length, each in
a fresh process, as ratios to the shortest (it should stay flat: nothing grows with generations
but the goal schedule, 4 bytes a generation).

    python benchmarks/bench_memory.py [--generations 10000 100000 400000] [--population 200]
"""
from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
from pathlib import Path


def peak_rss_kib(generations: int, population: int, folder: Path) -> int:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run([sys.executable, "-m", "evosim", "run", "logic-gates", "--mvg",
                    "--generations", str(generations), "--population", str(population),
                    "--out", str(folder / f"g{generations}.h5"), "--quiet"], check=True,
                   capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(after, before)  # ru_maxrss of children is the largest child so far


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generations", type=int, nargs="+", default=[10_000, 100_000, 400_000])
    parser.add_argument("--population", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        # one process per length, shortest first, so each child's peak is its own
        peaks = [peak_rss_kib(g, args.population, Path(folder))
                 for g in sorted(args.generations)]
    base = peaks[0]
    for g, peak in zip(sorted(args.generations), peaks):
        print(f"{g:>9} generations: max RSS {peak / 1024:7.1f} MiB  ({peak / base:.3f}x)")


if __name__ == "__main__":
    main()
