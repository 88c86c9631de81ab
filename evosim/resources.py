"""What a run will need, estimated before anything is allocated, so a run that cannot fit is
refused with the figure instead of dying (or swapping) half-way."""
from __future__ import annotations

import os

from evosim import config as cfg

GIB = 1 << 30


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity (what SLURM or a cgroup cpuset
    grants), where the system tells it, else every core of the machine."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def memory_needed(config: cfg.Config) -> int:
    """Bytes a run holds at its peak, roughly (an upper estimate of the big arrays): the goal of
    every generation (the schedule, built up front), the population and its copies, and in
    gradient mode the data set, the network and its optimiser state, and the activations of the
    whole training set when each epoch is measured."""
    rows = config.run.generations + 1
    total = 24 * rows  # schedule: epoch numbers (int64), goal index (int32), temporaries
    if config.run.mode == "gradient":
        g = config.gradient
        if config.task.name == "digit-pairs":
            inputs = 2 * 28 * 28 if g.mnist_images else 2 * 8 * 8
            samples = g.n_pairs * (1 + g.test_fraction)
        else:
            inputs = config.task.n_inputs if config.task.name == "logic-gates" else 8
            samples = 2 ** inputs
        sizes = [inputs, *g.hidden, 1]
        params = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))
        total += int(samples * (inputs + 2) * 8 * 3)       # inputs, keys, targets (+ copies)
        total += int(samples * sum(sizes[1:]) * 8 * 3)     # activations of a full pass
        total += params * 8 * 8                            # weights, grads, Adam, mask, packs
    else:
        from evosim.engine import state_rows
        genes = 2 * config.task.max_gates + 1 if config.task.name == "logic-gates" else 200
        total += state_rows(config) * genes * 2 * 6        # state, spare, copies per block
    return total


def available_memory() -> int | None:
    """Bytes of memory available now (Linux: MemAvailable), or None where unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(config: cfg.Config) -> None:
    """Raise ConfigError naming the figures if the run would not fit in memory."""
    needed, free = memory_needed(config), available_memory()
    if free is not None and needed > free:
        raise cfg.ConfigError(
            f"this run needs about {needed / GIB:.1f} GiB of memory (run.generations = "
            f"{config.run.generations}, population {config.run.population}"
            + (f", gradient.hidden = {list(config.gradient.hidden)}, gradient.n_pairs = "
               f"{config.gradient.n_pairs}" if config.run.mode == "gradient" else "")
            + f"); {free / GIB:.1f} GiB are available")
