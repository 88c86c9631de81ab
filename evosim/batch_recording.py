"""The recording of a batch's runs, spread over host processes: each owns the run files of some
runs (its ``runner.Recorder``s: exact Q of each block's best networks, then the HDF5 write) and
records their blocks as the engine hands them out, so R runs' recording takes the host's cores,
not one. One process (``processes = 1``) records in this one.

Recording is the same code either way, so every file is the one ``runner.run`` writes alone.
The processes ignore Ctrl-C and SIGTERM (this process decides when the runs stop) and close
their files as interrupted when this one dies (their pipe closes).
"""
from __future__ import annotations

import math
import multiprocessing
import signal
import subprocess
import sys
import traceback
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Sequence

from evosim import config as cfg
from evosim import runner
from evosim.resources import usable_cores
from evosim.tasks import get_task

RUNS_PER_PROCESS = 32  # a process costs a second or two to start, which 32 runs repay at once


def default_processes(runs: int) -> int:
    """A process per ``RUNS_PER_PROCESS`` runs, at most one per core this process may use."""
    return max(1, min(usable_cores(), math.ceil(runs / RUNS_PER_PROCESS)))


class Recorders:
    """The recorders of runs ``configs`` (new files at ``paths``, locked by the caller), in
    ``processes`` processes; ``schedules`` and ``keys`` are what the engine needs of them."""

    def __init__(self, configs: Sequence[cfg.Config], paths: Sequence[Path], processes: int = 1):
        task = get_task(configs[0].task, configs[0].cost.layout)
        self.schedules = [runner.build_schedule(c, task) for c in configs]
        self.keys = [runner.run_key(c) for c in configs]
        bounds = [round(i * len(configs) / processes) for i in range(processes + 1)]
        self._slices = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
        self._shards: list = []
        try:
            for part in self._slices:
                shard = (_Here if len(self._slices) == 1 else _Process)(configs[part],
                                                                       paths[part])
                self._shards.append(shard)
            for shard in self._shards:
                shard.wait_ready()
        except BaseException:
            self.abandon()
            raise

    def write(self, batch: list) -> bool:
        """Record every run's block of the batch (in the order of the configs); False if a
        write failed (the runs then stop)."""
        for shard, part in zip(self._shards, self._slices):
            shard.send("write", batch[part])
        return all([all(shard.reply()) for shard in self._shards])

    def finish(self, status: str) -> list[runner.RunResult]:
        """Close every file as ``status``; raises the first WriteFailed, once all are closed."""
        for shard in self._shards:
            shard.send("finish", status)
        results, failure = [], None
        for shard in self._shards:
            ended, error = shard.reply()
            results += ended
            failure = failure or error
        for shard in self._shards:
            shard.close()
        if failure is not None:
            raise failure
        return results

    def abandon(self) -> None:
        """Close every file as interrupted after an error (their last checkpoints stand)."""
        for shard in self._shards:
            shard.abandon()


def _open(configs, paths) -> list[runner.Recorder]:
    recorders = []
    try:
        task = get_task(configs[0].task, configs[0].cost.layout)
        for config, path in zip(configs, paths):
            schedule = runner.build_schedule(config, task)
            key = runner.run_key(config)
            source = runner.source_of(config, task, schedule, key, None)
            writer = runner.new_writer(config, path, schedule, key, source)
            recorders.append(runner.Recorder(config, schedule, writer, source.meter))
    except BaseException:
        for recorder in recorders:
            recorder.abandon()
        raise
    return recorders


def _handle(recorders, message: str, payload):
    """What a shard does with a message: the reply to send back."""
    if message == "write":
        return [recorder.write(block) for recorder, block in zip(recorders, payload)]
    results, failure = [], None
    for recorder in recorders:
        try:
            results.append(recorder.finish(payload))
        except runner.WriteFailed as err:
            failure = failure or err
    return results, failure


class _Here:
    """A shard recorded in this process."""

    def __init__(self, configs, paths):
        self._recorders = _open(configs, paths)
        self._reply = None

    def wait_ready(self) -> None:
        pass

    def send(self, message: str, payload) -> None:
        self._reply = _handle(self._recorders, message, payload)

    def reply(self):
        return self._reply

    def abandon(self) -> None:
        for recorder in self._recorders:
            recorder.abandon()

    def close(self) -> None:
        pass


class _Process:
    """A shard recorded in a process of its own (``python -m evosim.batch_recording FD``: a
    fresh interpreter, which runs nothing of the caller's script), spoken to through a pipe."""

    def __init__(self, configs, paths):
        self._pending = 1  # the reply to the opening of the files
        self._conn, theirs = multiprocessing.Pipe()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "evosim.batch_recording", str(theirs.fileno())],
            pass_fds=[theirs.fileno()])
        theirs.close()
        self._conn.send(([c.to_toml() for c in configs], [str(p) for p in paths]))

    def wait_ready(self) -> None:
        self.reply()

    def send(self, message: str, payload) -> None:
        self._conn.send((message, payload))
        self._pending += 1

    def reply(self):
        """The reply to the last message sent (the replies to earlier ones, which an
        interruption left unread, are passed over)."""
        while self._pending:
            try:
                ok, value = self._conn.recv()
            except EOFError:
                raise runner.RunError("a recording process died (its runs' files stand at "
                                      "their last checkpoints)") from None
            self._pending -= 1
            if not ok:
                raise value
        return value

    def abandon(self) -> None:
        try:
            self._conn.send(("abandon", None))
        except OSError:
            pass
        self.close()

    def close(self) -> None:
        """Wait for the process to end (it ends after finishing or abandoning its runs)."""
        try:
            self._process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._conn.close()


def _serve(conn: Connection) -> None:
    """A recording process: open the runs' files it is sent, then answer messages until
    finished."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    recorders: list[runner.Recorder] = []
    try:
        config_tomls, paths = conn.recv()
        recorders = _open([cfg.loads(t) for t in config_tomls], [Path(p) for p in paths])
        conn.send((True, None))
        while True:
            message, payload = conn.recv()
            if message == "abandon":
                break
            conn.send((True, _handle(recorders, message, payload)))
            if message == "finish":
                return
    except EOFError:  # the engine's process died: the last checkpoints stand
        pass
    except BaseException as err:  # noqa: BLE001 - handed to the engine's process
        try:
            conn.send((False, _portable(err)))
        except OSError:
            pass
    for recorder in recorders:
        recorder.abandon()


def _portable(err: BaseException) -> BaseException:
    """The error as it can cross the pipe: itself if it pickles, else its traceback's text."""
    import pickle

    try:
        pickle.dumps(err)
        return err
    except Exception:  # noqa: BLE001 - whatever pickling refuses
        return RuntimeError("".join(traceback.format_exception(err)))


if __name__ == "__main__":
    _serve(Connection(int(sys.argv[1])))
