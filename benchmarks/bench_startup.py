"""Warm start-up of ``evosim run``: a one-generation run as a whole process, against the floor
of any program built on Numba's cache, measured side by side in the same run.

The floor is a process that imports what a run needs (NumPy, h5py, click, Numba) and loads one
cached ``@njit`` function: Numba's import and its first cache load (its type registries, and
SciPy's BLAS, which Numba checks for on first use) are paid by every such program.

    python benchmarks/bench_startup.py [--repeats 5]

Prints the best wall time of each and the ratio of evosim's to the floor."""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FLOOR = """
import click, h5py, numpy as np
from numba import njit

@njit(cache=True)
def total(x):
    return x.sum()

total(np.zeros(3))
"""


def best_time(command: list[str], repeats: int, cwd: Path) -> float:
    """The best wall time of ``repeats`` runs of ``command`` (after one untimed run that fills
    caches)."""
    subprocess.run(command, cwd=cwd, check=True, capture_output=True)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, cwd=cwd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "floor.py").write_text(FLOOR)
        evosim = [sys.executable, "-m", "evosim", "run", "logic-gates", "--mvg",
                  "--generations", "1", "--quiet", "--force", "--out", str(folder / "r.h5")]
        results = {"python -c pass": [sys.executable, "-c", "pass"],
                   "floor (numpy, h5py, click, numba + one cached function)":
                       [sys.executable, "floor.py"],
                   "evosim run logic-gates --mvg --generations 1": evosim}
        times = {name: best_time(cmd, args.repeats, folder) for name, cmd in results.items()}
    for name, seconds in times.items():
        print(f"{seconds:6.2f} s  {name}")
    floor = times["floor (numpy, h5py, click, numba + one cached function)"]
    print(f"evosim / floor: {times['evosim run logic-gates --mvg --generations 1'] / floor:.2f}x")


if __name__ == "__main__":
    main()
