"""What the population engine asks of a task: its compiled kernels and a record of constants.

A task hands the engine a NamedTuple of its constants (arrays and numbers the kernels read, built
by ``task.kernel_constants(variation, cost)`` from the config sections it owns) and, from
``task.kernels(backend, constants)``, a ``TaskKernels`` for that backend (it may pick among
variants for the constants: a run then compiles only the kernels it uses).  The engine compiles its
generation loops once per task kernel set (``evosim.engine.loops``), so it names no task and a
task's kernels are compiled only into its own loops.

Kernel signatures (``constants`` is the task's record; every array is written in place):

- ``evaluate(genomes, target, constants, correct, cost)``: rows correct (int64) and connection
  cost (float64) of every genome, for one goal's packed target.
- ``mutate(genomes, n_fixed, key, generation, constants)``: the task's mutation of every genome
  but the first ``n_fixed``, drawing from counter-based streams of (key, generation).
- A task's NumPy kernels marked ``batched`` also take genomes [R, N, L] of R runs, a target per
  run [R, W], correct and cost [R, N], keys uint64[R, 1], and constants whose numbers may be one
  per run ([R, 1]), as NumPy or CuPy arrays (``evosim.engine.batched``).
- ``behave(genomes, constants, out)`` (optional): every genome's answers over all rows, packed
  in uint64 words ``out[N, n_rows // 64]``: the behaviour that NSGA-II's diversity objective
  compares (``selection.diversity``).

The constants record has a field ``evaluate_copies``: True where evaluating a genome costs less
than comparing it with the one it was copied from (the engine then evaluates every genome instead
of letting copies inherit their values; the results are the same).
"""
from __future__ import annotations

import hashlib
import inspect
import os
from typing import Callable, NamedTuple


class TaskKernels(NamedTuple):
    """One backend's kernels of a task (see the module docstring for their signatures)."""

    name: str                 # the task's name: it names the engine loops compiled for it
    evaluate: Callable
    mutate: Callable
    behave: Callable | None = None  # a task without it cannot run selection.diversity
    batched: bool = False     # NumPy kernels that take a batch of runs [R, N, L] (and keys
    #                           uint64[R, 1]), on NumPy or CuPy: the batched engine can run it

    def tag(self) -> str:
        """The task's name and a stamp of its kernels' source files (path, size, mtime): a
        compiled loop cached for these kernels is not reused after they are edited."""
        stamps = []
        for kernel in (self.evaluate, self.mutate, *([self.behave] if self.behave else [])):
            path = inspect.getfile(getattr(kernel, "py_func", kernel))
            try:
                info = os.stat(path)
                stamps.append(f"{path}:{info.st_size}:{info.st_mtime_ns}")
            except OSError:  # not from a file (typed in): nothing to stamp
                stamps.append(path)
        return f"{self.name}-{hashlib.sha256('|'.join(stamps).encode()).hexdigest()[:10]}"
