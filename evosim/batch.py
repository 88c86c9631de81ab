"""Runs of one batch: started together, evolved as one population by the batched engine
(``evosim.engine.batched``, on the GPU with ``run.engine = "cupy"``), each recorded to its own
run file exactly as ``runner.run`` records it alone.

The engine works a block ahead in a thread of its own while the block before is recorded
(exact Q of each run's best, the files) by host processes (``batch_recording``): the GPU's
generations overlap with the host's work, and the recording takes the host's cores.
"""
from __future__ import annotations

import queue
import threading
from contextlib import ExitStack
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from evosim import config as cfg
from evosim import runner
from evosim import xp
from evosim.batch_recording import Recorders, default_processes
from evosim.engine import batched
from evosim.tasks import get_task
from evosim.validate import validate


def run_batch(configs: Sequence[cfg.Config], paths: Sequence[str | Path], *,
              force: bool = False, skip_locked: bool = False,
              processes: int | None = None) -> list[runner.RunResult | None]:
    """Start and record new runs that share a batch (``batched.batch_problems``), one file
    each; returns how each ended. Every file equals the one ``runner.run(config, path)`` writes.

    The files are locked for the batch's life; a file another process holds raises RunLocked
    (one that holds generations, RunExists), or with ``skip_locked`` is left to that process
    (its result is None: another sweep driver's run) while the others run. A first
    signal stops every run after the block in flight, checkpointed (each resumable alone with
    ``evosim run --resume``); an error closes every file as interrupted at its last checkpoint.
    The runs are recorded (exact Q, the files) by ``processes`` host processes (default:
    ``batch_recording.default_processes``; 1: this one)."""
    if len(configs) != len(paths) or not configs:
        raise ValueError("run_batch: one path per config, and at least one")
    for config in configs:
        validate(config)
        runner.check_fits(config)
    task = get_task(configs[0].task, configs[0].cost.layout)
    problem = batched.batch_problems(task, configs)
    if problem:
        raise runner.RunError(problem)
    array_module = xp.gpu_module() if batched.on_gpu(configs[0]) else np
    results: list[runner.RunResult | None] = [None] * len(configs)
    with ExitStack() as locks:
        mine = []  # the runs this call holds the lock of
        for i, path in enumerate(map(Path, paths)):
            held = ExitStack()
            try:
                held.enter_context(runner.locked(path))
                runner.check_replaceable(path, force)
            except (runner.RunLocked, runner.RunExists):
                held.close()
                if not skip_locked:
                    raise
                continue
            locks.push(held)
            mine.append(i)
        if mine:
            ended = _run_held(task, [configs[i] for i in mine], [Path(paths[i]) for i in mine],
                              array_module, processes or default_processes(len(mine)))
            for i, result in zip(mine, ended):
                results[i] = result
    return results


def _run_held(task, configs, paths, array_module, processes: int) -> list[runner.RunResult]:
    """Record the runs whose files this process holds; each file is closed however it ends."""
    recorders = Recorders(configs, paths, processes)
    try:
        blocks = batched.evolve_batch(task, recorders.schedules, configs, recorders.keys,
                                      block_size=configs[0].output.flush_every, xp=array_module)
        with _ahead(blocks) as ahead:
            status = runner.record_until_stopped(ahead, recorders.write)
    except BaseException:
        recorders.abandon()
        raise
    return recorders.finish(status)


class _ahead:
    """Iterate ``items`` one item ahead in a daemon thread (its exceptions re-raised here).
    Leaving the ``with`` does not wait for the item in the making: the thread drops it."""

    _DONE = object()

    def __init__(self, items: Iterator):
        self._items = items
        self._queue: queue.Queue = queue.Queue(maxsize=1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._produce, daemon=True)

    def __enter__(self) -> Iterator:
        self._thread.start()
        return self._consume()

    def __exit__(self, *exc) -> None:
        self._stop.set()

    def _put(self, entry) -> bool:
        """Hand ``entry`` over, or give up (False) once the consumer has gone."""
        while not self._stop.is_set():
            try:
                self._queue.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> None:
        try:
            for item in self._items:
                if not self._put((item, None)) or self._stop.is_set():
                    return  # no further item once the consumer has gone
        except BaseException as err:  # noqa: BLE001 - handed to the consumer
            self._put((None, err))
            return
        self._put((self._DONE, None))

    def _consume(self) -> Iterator:
        while True:
            item, err = self._queue.get()
            if err is not None:
                raise err
            if item is self._DONE:
                return
            yield item
