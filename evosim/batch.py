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
              force: bool = False) -> list[runner.RunResult]:
    """Start and record new runs that share a batch (``batched.batch_signature``), one file
    each; returns how each ended. Every file equals the one ``runner.run(config, path)`` writes.

    All the files are locked for the batch's life. A first signal stops every run after the
    block in flight, checkpointed (each resumable alone with ``evosim run --resume``)."""
    if len(configs) != len(paths) or not configs:
        raise ValueError("run_batch: one path per config, and at least one")
    for config in configs:
        validate(config)
        runner.check_fits(config)
    if len({batched.batch_signature(c) for c in configs}) > 1:
        raise runner.RunError("these runs differ in more than seeds, schedules and rates: they "
                              "cannot share a batch")
    first = configs[0]
    array_module = xp.gpu_module() if first.run.engine == "cupy" else np
    task = get_task(first.task, first.cost.layout)
    paths = [Path(p) for p in paths]
    with ExitStack() as locks:
        recorders, schedules, keys = [], [], []
        for path in paths:
            locks.enter_context(runner.locked(path))
            runner.check_replaceable(path, force)
        for config, path in zip(configs, paths):
            schedule = runner.build_schedule(config, task)
            key = runner.run_key(config)
            source = runner.source_of(config, task, schedule, key, None)
            writer = runner.new_writer(config, path, schedule, key, source)
            recorders.append(runner.Recorder(config, schedule, writer, source.meter))
            schedules.append(schedule)
            keys.append(key)
        blocks = batched.evolve_batch(task, schedules, configs, keys,
                                      block_size=first.output.flush_every, xp=array_module)
        status = _record_all(recorders, blocks)
        results, failure = [], None
        for recorder in recorders:
            try:
                results.append(recorder.finish(status))
            except runner.WriteFailed as err:
                failure = failure or err
        if failure is not None:
            raise failure
        return results


def _record_all(recorders: list[runner.Recorder], blocks: Iterator[list]) -> str:
    """Write every run's block as the batch yields them; 'complete', or 'interrupted' after a
    signal or a failed write (which stops every run of the batch)."""
    with runner.stop_requests() as stop_requested, _ahead(blocks) as ahead:
        try:
            for batch in ahead:
                written = [recorder.write(block) for recorder, block in zip(recorders, batch)]
                if not all(written) or stop_requested():
                    return "interrupted"
        except KeyboardInterrupt:  # a second signal: the last checkpoints stand
            return "interrupted"
    return "complete"


class _ahead:
    """Iterate ``items`` one item ahead in a daemon thread (its exceptions re-raised here)."""

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
        while self._thread.is_alive():  # unblock a producer waiting to put
            try:
                self._queue.get(timeout=0.1)
            except queue.Empty:
                pass

    def _produce(self) -> None:
        try:
            for item in self._items:
                self._queue.put((item, None))
                if self._stop.is_set():
                    return
        except BaseException as err:  # noqa: BLE001 - handed to the consumer
            self._queue.put((None, err))
            return
        self._queue.put((self._DONE, None))

    def _consume(self) -> Iterator:
        while True:
            item, err = self._queue.get()
            if err is not None:
                raise err
            if item is self._DONE:
                return
            yield item
