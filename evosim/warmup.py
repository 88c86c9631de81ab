"""The first run on a machine compiles every Numba kernel it uses (then cached): the engine's
loops in the run's process, the modularity kernels at the same time in a second one.

``start(config)`` is called before a first run's first block; ``python -m evosim.warmup CONFIG`` is
the second process: it measures a few random networks of the run's task as the run would, which
compiles (and caches) the kernels of Q, Q_max and the null models.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np


def start(config) -> subprocess.Popen | None:
    """Compile the modularity kernels in a second process, if the machine has a second core;
    the process is returned (None if none was started)."""
    if config.run.mode != "evolution" or (os.cpu_count() or 1) < 2:
        return None
    path = None
    try:
        fd, path = tempfile.mkstemp(suffix=".toml")
        with os.fdopen(fd, "w") as f:
            f.write(config.to_toml())
        return subprocess.Popen([sys.executable, "-m", "evosim.warmup", path],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:  # only a head start: the run compiles what it needs either way
        if path:
            Path(path).unlink(missing_ok=True)
        return None


def measure_random_networks(config) -> None:
    """Q, Q_max and Qm of a few random networks of the config's task, as a run measures them."""
    from evosim.recording import QmMeter
    from evosim.tasks import get_task

    task = get_task(config.task, config.cost.layout)
    meter = QmMeter(config.replace(**{"modularity.qm_samples": 2}))
    for genome in task.random_genomes(4, np.uint64(1)):
        adjacency = task.adjacency(genome, config.modularity.directed)
        if adjacency.size:
            meter.cache.max_q(adjacency)
            meter.qm(adjacency)


if __name__ == "__main__":
    from evosim import config as cfg

    path = sys.argv[1]
    try:
        measure_random_networks(cfg.load(path))
    finally:
        os.unlink(path)
