"""Runs of one batch: started together, evolved as one population by the batched engine
(``evosim.engine.batched``, on the GPU with ``run.engine = "cupy"``), each recorded to its own
run file exactly as ``runner.run`` records it alone.

The engine works a block ahead in a thread of its own while this thread measures Q (on the
host's cores) and writes the block before: the GPU's generations overlap with the host's work.
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
from evosim.engine import batched
from evosim.tasks import get_task
from evosim.validate import validate


def run_batch(configs: Sequence[cfg.Config], paths: Sequence[str | Path], *,
              force: bool = False, skip_locked: bool = False) -> list[runner.RunResult | None]:
    """Start and record new runs that share a batch (``batched.batch_problems``), one file
    each; returns how each ended. Every file equals the one ``runner.run(config, path)`` writes.

    The files are locked for the batch's life; a file another process holds raises RunLocked
    (one that holds generations, RunExists), or with ``skip_locked`` is left to that process
    (its result is None: another sweep driver's run) while the others run. A first
    signal stops every run after the block in flight, checkpointed (each resumable alone with
    ``evosim run --resume``); an error closes every file as interrupted at its last checkpoint."""
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
                              array_module)
            for i, result in zip(mine, ended):
                results[i] = result
    return results


def _run_held(task, configs, paths, array_module) -> list[runner.RunResult]:
    """Record the runs whose files this process holds; each file is closed however it ends."""
    recorders, schedules, keys = [], [], []
    try:
        for config, path in zip(configs, paths):
            schedule = runner.build_schedule(config, task)
            key = runner.run_key(config)
            source = runner.source_of(config, task, schedule, key, None)
            writer = runner.new_writer(config, path, schedule, key, source)
            recorders.append(runner.Recorder(config, schedule, writer, source.meter))
            schedules.append(schedule)
            keys.append(key)
        blocks = batched.evolve_batch(task, schedules, configs, keys,
                                      block_size=configs[0].output.flush_every, xp=array_module)
        with _ahead(blocks) as ahead:
            status = runner.record_until_stopped(ahead, lambda batch: all(
                [recorder.write(block) for recorder, block in zip(recorders, batch)]))
    except BaseException:
        for recorder in recorders:
            recorder.abandon()
        raise
    results, failure = [], None
    for recorder in recorders:
        try:
            results.append(recorder.finish(status))
        except runner.WriteFailed as err:
            failure = failure or err
    if failure is not None:
        raise failure
    return results


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
