"""Time one whole recorded run of a config, with where the time goes.

    python benchmarks/bench_run.py configs/ka2005-retina-mvg.toml [--set section.key=value ...]

Prints wall time, generations (or epochs) per second and the split engine / Q / HDF5 / progress,
from ``runner.run(..., timings=...)``. The run file goes to a temporary folder.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from evosim import config as cfg
from evosim import runner


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path)
    parser.add_argument("--set", dest="assignments", action="append", default=[],
                        metavar="KEY=VALUE")
    args = parser.parse_args()
    config = cfg.load(args.config).replace(**dict(map(cfg.parse_assignment, args.assignments)))
    split: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        result = runner.run(config, Path(folder) / "bench.h5", timings=split)
        total = time.perf_counter() - start
    print(f"{args.config}: {result.status}, {total:.1f} s, "
          f"{config.run.generations / total:.0f} generations/s; "
          + ", ".join(f"{k} {v:.1f} s" for k, v in split.items()))


if __name__ == "__main__":
    main()
