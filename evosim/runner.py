"""One run: config -> blocks of generations (or epochs) -> measures -> run file; resume; signals.

The runner is the only place that connects the engine (or gradient training) to the recorder:
it takes a ``recording.RunSource`` (``measures.evolution_source`` or
``gradient.recording.gradient_source``) and, between two blocks, has the block measured by the
source's meter and writes it with a checkpoint.
"""
from __future__ import annotations

import errno
import functools
import math
import os
import signal
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from evosim import config as cfg
from evosim import counter_rng as crng
from evosim import warmup
from evosim import xp
from evosim.counter_rng import seed_streams
from evosim.engine import needs_compiling
from evosim.engine.batched import on_gpu
from evosim.goals import Schedule, make_schedule
from evosim.io import RunFileError, RunWriter, load
from evosim.io.lock import RunLock, RunLockedError
from evosim.measures import evolution_source
from evosim.recording import RunSource
from evosim.resources import check_memory
from evosim.tasks import get_task
from evosim.validate import validate


@dataclass(frozen=True)
class Progress:
    """What the progress bar shows after each block."""

    generation: int
    generations: int
    fitness_best: float
    goal: str
    q_best: float
    epochs: bool = False        # a gradient run: rows are training epochs
    loss: float = math.nan      # a gradient run's training loss (of the relaxed network for
    #                             a genome model)


@dataclass(frozen=True)
class RunResult:
    path: Path
    status: str          # 'complete' or 'interrupted'
    generation: int      # the next generation that would run


class RunError(RuntimeError):
    """A run that cannot start (bad output path, nothing to resume); the message is for users."""


_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EIO)  # a disk's trouble, not the folder's


class RunLocked(RunError):
    """Another live process writes the run file."""


class RunExists(RunError):
    """The run file exists and holds generations: it is replaced only with ``force``."""


class WriteFailed(RunError):
    """The run file could not be written; the run stopped at its last checkpoint, resumable."""


def build_schedule(config: cfg.Config, task) -> Schedule:
    """The goal of every row: generations 0..N, or in gradient mode periods over the training
    epochs 1..N (epoch 0, the untrained network, is measured under the first goal)."""
    s = config.schedule
    rng = np.random.default_rng(seed_streams(config.run.seed)["schedule"])
    gradient = config.run.mode == "gradient"
    rows = config.run.generations + (0 if gradient else 1)
    if hasattr(task, "schedule"):  # a task whose goals are not truth tables builds its own
        schedule = task.schedule(s.kind, rows, s.period, s.goal, s.goals, rng)
    else:
        schedule = make_schedule(s.kind, task.goals, rows, period=s.period, goal=s.goal,
                                 goals=s.goals, rng=rng)
    return schedule.after_untrained_row() if gradient else schedule


def default_path(config: cfg.Config, folder: Path = Path("runs"), numbered: bool = True) -> Path:
    """runs/<task>-<schedule>-seed<S>.h5, numbered (-2, -3, ...) so an existing run is never
    overwritten (``numbered=False``: the name without a number)."""
    stem = f"{config.task.name}-{config.schedule.kind}-seed{config.run.seed}"
    path = folder / f"{stem}.h5"
    n = 2
    while numbered and path.exists():
        path, n = folder / f"{stem}-{n}.h5", n + 1
    return path


def run(config: cfg.Config, out: str | Path | None = None, *, force: bool = False,
        progress: Callable[[Progress], None] | None = None,
        timings: dict[str, float] | None = None,
        notice: Callable[[str], None] | None = None) -> RunResult:
    """Start a new run and record it; returns where it went and how it ended.

    The run file is locked for the run's life (a second writer is refused). An existing file is
    replaced only with ``force``, or when it holds no generation yet (a run stopped at once).
    ``timings``, if given, accumulates seconds spent in the engine, in measuring Q ("q") and in
    writing ("hdf5"): what benchmarks/bench_logic.py reports. ``notice``, if given, is told of
    a first run's compiling (a second process then compiles the modularity kernels meanwhile:
    ``evosim.warmup``)."""
    validate(config)
    check_fits(config)
    task = get_task(config.task, config.cost.layout)
    schedule = build_schedule(config, task)
    path = Path(out) if out else default_path(config)
    if not out and notice and path != default_path(config, numbered=False):
        notice(f"{default_path(config, numbered=False)} exists: this run goes to {path} "
               "(--out names the file)")
    key = run_key(config)
    with locked(path):
        check_replaceable(path, force)
        source = source_of(config, task, schedule, key, None)
        writer = new_writer(config, path, schedule, key, source)
        if notice and needs_compiling(config, task):
            notice("compiling kernels (first run only: later runs load them)")
            warmup.start(config)
        return _record(config, schedule, writer, source.blocks, source.meter, progress, timings)


def run_key(config: cfg.Config) -> np.uint64:
    """The engine's 64-bit key of a run, from its seed."""
    return crng.key_from_seed_sequence(seed_streams(config.run.seed)["engine"])


def new_writer(config: cfg.Config, path: Path, schedule: Schedule, key: np.uint64,
               source: RunSource) -> RunWriter:
    """A new run file at ``path`` (locked by the caller), written whole under a temporary name
    first so that a stub is never the run file."""
    target = path.with_name(path.name + ".new")
    try:
        target.unlink(missing_ok=True)
        writer = RunWriter.create(
            target, task=config.task.name, mode=config.run.mode, seed=config.run.seed,
            config_toml=config.to_toml(), engine=config.run.engine,
            goal_names=schedule.names, goal_targets=schedule.targets, engine_key=int(key),
            genome_shape=source.genome_shape, genome_dtype=source.genome_dtype,
            extra_columns=source.extra_columns, extra_data=source.extra_data,
            checkpoint=source.checkpoint)
        os.replace(target, path)
    except OSError as err:
        target.unlink(missing_ok=True)
        kind = WriteFailed if err.errno in _FULL else RunError
        raise kind(f"{path}: cannot write here ({err.strerror or err})") from None
    writer.path = path
    return writer


def resume(path: str | Path, progress: Callable[[Progress], None] | None = None,
           generations: int | None = None) -> RunResult:
    """Continue an interrupted or killed run from its last checkpoint, to the same file an
    uninterrupted run would have written; with ``generations``, extend a run (a complete one
    too) to that many generations, to the file a run started with them would have written.

    Everything stored is checked before any compiled kernel sees it: the config as the command
    line would check it, the rows before the checkpoint, and the checkpoint's every gene."""
    path = Path(path)
    with locked(path):
        history = load(path)
        try:
            stored = validate(cfg.loads(history.config_toml))
        except cfg.ConfigError as err:
            raise RunError(f"{path}: its stored config is not valid ({err})") from None
        config = _extended(path, stored, generations)
        check_fits(config)
        if history.attrs.get("status") == "complete" and config == stored:
            return RunResult(path, "complete", int(history["generation"][-1]) + 1)
        task = get_task(config.task, config.cost.layout)
        schedule = build_schedule(config, task)
        key = run_key(config)
        extend = config != stored
        try:
            point = RunWriter.resume(
                path, before=stored.run.generations if extend else None,
                config_toml=config.to_toml() if extend else None,
                goal_names=schedule.names, goal_targets=schedule.targets,
                upgrade=_checkpoint_upgrade(config))
        except ValueError as err:
            raise RunError(str(err)) from None
        except OSError as err:
            raise RunError(f"{path}: cannot rebuild the run file to resume it "
                           f"({err.strerror or err})") from None
        saved = (point.generation, point.state) if point.state is not None else None
        try:
            source = source_of(config, task, schedule, key, saved)
        except ValueError as err:
            raise RunError(f"{path}: {err}") from None
        kept = {name: values[history["generation"] < point.generation]
                for name, values in history.columns.items()}
        source.meter.restore(kept, point.solving_genome)
        return _record(config, schedule, point.writer, source.blocks, source.meter, progress,
                       start=point.generation)


def check_fits(config: cfg.Config) -> None:
    """The run fits this machine: its memory, and with --engine cupy a GPU to run on."""
    try:
        check_memory(config)
        if on_gpu(config):
            xp.gpu_module()
    except (cfg.ConfigError, xp.GPUUnavailable) as err:
        raise RunError(str(err)) from None


def _extended(path: Path, config: cfg.Config, generations: int | None) -> cfg.Config:
    """The stored config, extended to ``generations`` if that is more."""
    if generations is None or generations == config.run.generations:
        return config
    if generations < config.run.generations:
        raise RunError(f"--generations {generations}: {path} has {config.run.generations}; a run "
                       "can be extended, not shortened")
    if config.task.name == "digit-pairs" and config.schedule.kind == "rmvg":
        raise RunError(f"--generations: {path} cannot be extended: digit-pairs rmvg trains its "
                       "last period on x + y, which a longer run would not")
    if config.run.mode == "gradient" and config.gradient.model != "mlp" and (
            config.gradient.temperature_end):
        raise RunError(f"--generations: {path} cannot be extended: its temperature anneals over "
                       "its run length (gradient.temperature_end), which a longer run would "
                       "stretch")
    try:
        return config.replace(**{"run.generations": generations})
    except cfg.ConfigError as err:
        raise RunError(str(err)) from None


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold the run file's lock: one writer per file."""
    lock = RunLock(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except RunLockedError as err:
        raise RunLocked(str(err)) from None
    except OSError as err:
        raise RunError(f"{path}: cannot write here ({err.strerror or err})") from None
    try:
        yield
    finally:
        lock.release()


def check_replaceable(path: Path, force: bool) -> None:
    """An existing file is replaced only with ``force``, or if it holds no generation yet."""
    if not path.exists():
        return
    if not path.is_file():
        raise RunError(f"{path}: is not a file")
    if force:
        return
    try:
        empty = len(load(path)) == 0
    except RunFileError:
        empty = False
    if not empty:
        raise RunExists(f"{path}: exists; choose another --out, --resume it, or add --force")


def _checkpoint_upgrade(config):
    """How a checkpoint written by an older evosim maps to today's named arrays (None: as is)."""
    if config.run.mode == "gradient":
        from evosim.gradient.trainer import named_arrays
        return functools.partial(named_arrays, config)
    return None


def source_of(config, task, schedule, key, saved: tuple[int, dict] | None) -> RunSource:
    """Evolution (the engine's blocks, the best network's measures) or gradient training, from
    a checkpoint's generation and named arrays (``saved``; None: the start).  A checkpoint that
    does not fit the config is refused with ValueError."""
    if config.run.mode == "gradient":
        from evosim.gradient.recording import gradient_source
        return gradient_source(config, task, schedule, seed_streams(config.run.seed), saved)
    return evolution_source(config, task, schedule, key, saved)


def _record(config, schedule, writer, blocks, meter, progress, timings=None,
            start: int = 0) -> RunResult:
    """Write the blocks as they come (with the meter's measures), until done or stopped.

    A failed write (a full disk, a vanished folder) ends the run at its last checkpoint with
    ``WriteFailed``; a first signal stops after the block in flight, a second at once; any
    other error closes the file as interrupted (its last checkpoint stands) and propagates."""
    recorder = Recorder(config, schedule, writer, meter, progress, timings, start)
    try:
        status = record_until_stopped(blocks, recorder.write)
    except BaseException:
        recorder.abandon()
        raise
    return recorder.finish(status)


def record_until_stopped(items: Iterable, write: Callable[[Any], bool]) -> str:
    """``write`` each item as it comes: 'complete' when the items run out, 'interrupted' when a
    write fails (returns False) or a signal stops it (a first after the item in flight, a second
    at once)."""
    with stop_requests() as stop_requested:
        try:
            for item in items:
                if not write(item) or stop_requested():
                    return "interrupted"
        except KeyboardInterrupt:  # a second signal, or a caller's: the last checkpoint stands
            return "interrupted"
        except SystemError:  # a second signal while a compiled kernel returned
            if not stop_requested():
                raise
            return "interrupted"
    return "complete"


class Recorder:
    """One run's file between blocks: each block measured by the run's meter and written with
    its checkpoint; ``finish`` closes the file and raises WriteFailed if a write failed."""

    def __init__(self, config, schedule, writer, meter, progress=None, timings=None,
                 start: int = 0):
        self.config, self.schedule, self.writer, self.meter = config, schedule, writer, meter
        self.progress = progress
        self.generation = start
        self.failure: Exception | None = None
        self.clock = _Stopwatch(timings if timings is not None else {})

    def write(self, block) -> bool:
        """Measure and write one block; False if the write failed (the run then stops)."""
        clock, meter, writer = self.clock, self.meter, self.writer
        last = self.config.run.generations
        clock.lap("engine")
        measured = meter.measure(block)
        clock.lap("q")
        gens = block.generation
        snap = (self.schedule.phase_end(gens, self.config.output.snapshot_every) | (gens == 0)
                | (gens == last))
        try:
            writer.add_to_attr_sets(q_method=meter.q_methods, qm_null_model=meter.null_models)
            writer.write_block(measured.rows, gens[snap], block.best_genome[snap],
                               measured.epochs, block.state.generation, block.state.arrays(),
                               measured.solving_genome)
        except (OSError, RuntimeError) as err:  # h5py reports write errors as either
            self.failure = err
            return False
        clock.lap("hdf5")
        self.generation = block.state.generation
        if self.progress:
            rows = measured.rows
            loss = rows.get("loss_train", rows.get("relaxed_loss"))
            self.progress(Progress(int(gens[-1]), last, float(block.fitness_best[-1]),
                                   self.schedule.names[block.goal[-1]],
                                   float(rows["q_best"][-1]), self.config.run.mode == "gradient",
                                   float(loss[-1]) if loss is not None else math.nan))
        clock.lap("progress")
        return True

    def abandon(self) -> None:
        """Close the file as interrupted after an error (its last checkpoint stands); raises
        nothing, so that the error itself propagates."""
        _close_quietly(self.writer, self.meter, "interrupted")

    def finish(self, status: str) -> RunResult:
        """Close the file as ``status`` (interrupted if a write failed)."""
        _close_quietly(self.writer, self.meter, status if self.failure is None else "interrupted")
        if self.failure is not None:
            reason = getattr(self.failure, "strerror", None) or str(self.failure).split("\n")[0]
            raise WriteFailed(f"{self.writer.path}: write failed ({reason}); the run is "
                              f"resumable from generation {self.generation}, its checkpoint: "
                              f"free space or fix the folder, then evosim run --resume "
                              f"{self.writer.path}")
        return RunResult(self.writer.path, status, self.generation)


def _close_quietly(writer, meter, status: str) -> None:
    try:
        writer.add_to_attr_sets(q_method=meter.q_methods, qm_null_model=meter.null_models)
        writer.close(status)
    except (OSError, RuntimeError):
        pass


class _Stopwatch:
    """Adds the seconds since the previous lap to a named total."""

    def __init__(self, totals: dict[str, float]):
        self.totals = totals
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.totals[name] = self.totals.get(name, 0.0) + now - self.last
        self.last = now


@contextmanager
def stop_requests() -> Iterator[Callable[[], bool]]:
    """Turn SIGINT and SIGTERM (Ctrl-C, a cluster's kill) into a request to stop after the block
    in flight, which is then written and checkpointed; a second signal stops at once."""
    requested = []

    def handler(signum, frame):
        if requested:
            raise KeyboardInterrupt
        requested.append(signum)

    try:
        previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # not the main thread: leave signals alone
        yield lambda: False
        return
    try:
        yield lambda: bool(requested)
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
