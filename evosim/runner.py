"""One run: config -> engine blocks -> modularity of the best -> run file; resume; signals.

The runner is the only place that connects the engine to the recorder. Between two blocks of
generations it measures the best individual's functional network (exact max Q through a cache keyed
on the graph, so an unchanged best costs nothing), and writes the block with a checkpoint.
"""
from __future__ import annotations

import os
import signal
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from evosim import config as cfg
from evosim import counter_rng as crng
from evosim.engine import Block, EngineState, evolve
from evosim.goals import Schedule, make_schedule
from evosim.io import HISTORY_COLUMNS, RunWriter, load
from evosim.modularity import ModularityCache
from evosim.tasks import get_task
from evosim.tasks.logic import edges_to_adjacency


@dataclass(frozen=True)
class Progress:
    """What the progress bar shows after each block."""

    generation: int
    generations: int
    fitness_best: float
    goal: str
    q_best: float


@dataclass(frozen=True)
class RunResult:
    path: Path
    status: str          # 'complete' or 'interrupted'
    generation: int      # the next generation that would run


class RunError(RuntimeError):
    """A run that cannot start (bad output path, nothing to resume); the message is for users."""


def seed_streams(seed: int) -> dict[str, np.random.SeedSequence]:
    """Every source of randomness of a run, spawned from one SeedSequence."""
    engine, schedule, modularity = np.random.SeedSequence(seed).spawn(3)
    return {"engine": engine, "schedule": schedule, "modularity": modularity}


def build_schedule(config: cfg.Config, task) -> Schedule:
    s = config.schedule
    rng = np.random.default_rng(seed_streams(config.run.seed)["schedule"])
    if config.task.name == "digit-pairs":
        from evosim.gradient.data import digit_schedule
        return digit_schedule(s.kind, config.run.generations + 1, s.period, s.goal, s.goals, rng)
    return make_schedule(s.kind, task.goals, config.run.generations + 1, period=s.period,
                         goal=s.goal, goals=s.goals, rng=rng)


def default_path(config: cfg.Config, folder: Path = Path("runs")) -> Path:
    """runs/<task>-<schedule>-seed<S>.h5, numbered so an existing run is never overwritten."""
    stem = f"{config.task.name}-{config.schedule.kind}-seed{config.run.seed}"
    path = folder / f"{stem}.h5"
    n = 2
    while path.exists():
        path, n = folder / f"{stem}-{n}.h5", n + 1
    return path


def run(config: cfg.Config, out: str | Path | None = None, *, force: bool = False,
        progress: Callable[[Progress], None] | None = None,
        timings: dict[str, float] | None = None) -> RunResult:
    """Start a new run and record it; returns where it went and how it ended.

    ``timings``, if given, accumulates seconds spent in the engine, in measuring Q ("q") and in
    writing ("hdf5"): what benchmarks/bench_logic.py reports."""
    task = get_task(config.task)
    schedule = build_schedule(config, task)
    path = Path(out) if out else default_path(config)
    key = crng.key_from_seed_sequence(seed_streams(config.run.seed)["engine"])
    if config.run.mode == "gradient":
        from evosim.gradient.recording import gradient_source
        blocks, meter, shape, dtype, extra, facts, checkpoint = gradient_source(
            config, task, schedule, seed_streams(config.run.seed))
    else:
        blocks = evolve(task, schedule, config, key, None, block_size=config.output.flush_every)
        meter = BestNetworkMeter(task, config)
        shape, dtype, extra, facts = (config.run.population, task.genome_length), np.int16, {}, {}
        checkpoint = None
    with _output_file(path, force) as target:
        writer = RunWriter.create(
            target, task=config.task.name, mode=config.run.mode, seed=config.run.seed,
            config_toml=config.to_toml(), engine=config.run.engine, goal_names=schedule.names,
            goal_targets=schedule.targets, engine_key=int(key), genome_shape=shape,
            genome_dtype=dtype, extra_columns=extra, extra_data=facts,
            checkpoint_shape=checkpoint)
    writer.path = path
    return _record(config, schedule, writer, blocks, meter, progress, timings)


def resume(path: str | Path, progress: Callable[[Progress], None] | None = None) -> RunResult:
    """Continue an interrupted or killed run from its last checkpoint, to the same file an
    uninterrupted run would have written."""
    history = load(path)
    config = cfg.loads(history.config_toml)
    if history.attrs.get("status") == "complete":
        return RunResult(Path(path), "complete", int(history["generation"][-1]) + 1)
    task = get_task(config.task)
    schedule = build_schedule(config, task)
    key = crng.key_from_seed_sequence(seed_streams(config.run.seed)["engine"])
    try:
        writer, generation, genomes = RunWriter.resume(path)
    except OSError as err:
        raise RunError(f"{path}: cannot rebuild the run file to resume it ({err})") from None
    state = EngineState(generation, genomes) if genomes is not None else None
    if config.run.mode == "gradient":
        from evosim.gradient.recording import gradient_source
        blocks, meter, *_ = gradient_source(config, task, schedule,
                                            seed_streams(config.run.seed), state)
    else:
        blocks = evolve(task, schedule, config, key, state, block_size=config.output.flush_every)
        meter = BestNetworkMeter(task, config)
    return _record(config, schedule, writer, blocks, meter, progress, start=generation)


@contextmanager
def _output_file(path: Path, force: bool) -> Iterator[Path]:
    """Where to create a new run file. An existing file is refused unless ``force``, and then
    replaced only once the new file exists: never a half-overwritten run."""
    if path.exists() and not force:
        raise RunError(f"{path}: exists; choose another --out, --resume it, or add --force")
    if path.exists() and not path.is_file():
        raise RunError(f"{path}: is not a file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        target = path.with_name(path.name + ".new") if path.exists() else path
        target.unlink(missing_ok=True)
        yield target
        if target != path:
            os.replace(target, path)
    except OSError as err:
        raise RunError(f"{path}: cannot write here ({err.strerror or err})") from None


def _record(config, schedule, writer, blocks, meter, progress, timings=None,
            start: int = 0) -> RunResult:
    """Write the blocks as they come (with the meter's measures), until done or stopped."""
    generation = start
    status = "interrupted"
    clock = _Stopwatch(timings if timings is not None else {})
    try:
        with _stop_requests() as stop_requested:
            for block in blocks:
                clock.lap("engine")
                rows = meter.measure(block)
                clock.lap("q")
                snap = block.generation % config.output.snapshot_every == 0
                writer.write_block(rows, block.generation[snap], block.best_genome[snap],
                                   block.state.generation, block.state.genomes)
                clock.lap("hdf5")
                generation = block.state.generation
                if progress:
                    progress(Progress(int(block.generation[-1]), config.run.generations,
                                      float(block.fitness_best[-1]),
                                      schedule.names[block.goal[-1]], float(rows["q_best"][-1])))
                clock.lap("progress")
                if stop_requested():
                    break
            else:
                status = "complete"
    except KeyboardInterrupt:  # a second Ctrl-C, or a caller's: the last checkpoint stands
        pass
    except OSError as err:  # disk full, file system gone: what was flushed is safe
        _close_quietly(writer, meter, "interrupted")
        raise RunError(f"{writer.path}: write failed ({err}); the run is resumable from "
                       f"generation {generation} with --resume") from None
    _close_quietly(writer, meter, status)
    return RunResult(writer.path, status, generation)


def _close_quietly(writer, meter, status: str) -> None:
    try:
        writer.add_to_attr_sets(q_method=meter.q_methods, qm_null_model=meter.null_models)
        writer.close(status)
    except OSError:
        pass


class BestNetworkMeter:
    """Per-generation measures of the best individual: size, exact max Q, and Qm now and then."""

    def __init__(self, task, config: cfg.Config):
        m = config.modularity
        self.task = task
        self.every, self.qm_every, self.qm_samples = m.every, m.qm_every, m.qm_samples
        self.last_generation = config.run.generations
        self.directed = m.directed
        self.cost_kind = config.cost.kind
        self.cache = ModularityCache(directed=m.directed, exact_limit=m.exact_limit)
        self.qm_seed = int(seed_streams(config.run.seed)["modularity"].generate_state(1)[0])
        self.q_methods: set[str] = set()      # recorded in the file: no heuristic goes unnamed
        self.null_models: set[str] = set()
        self._previous: tuple[np.ndarray, tuple] | None = None

    def measure(self, block: Block) -> dict[str, np.ndarray]:
        n = len(block.generation)
        rows = {name: np.empty(n, dtype=dtype) for name, dtype in HISTORY_COLUMNS.items()}
        rows["generation"][:] = block.generation
        rows["goal"][:] = block.goal
        rows["fitness_best"][:] = block.fitness_best
        rows["fitness_mean"][:] = block.fitness_mean
        rows["solved"][:] = block.fitness_best == 1.0
        has_cost = self.cost_kind != "none"
        rows["cost_best"][:] = block.cost_best if has_cost else np.nan
        rows["cost_mean"][:] = block.cost_mean if has_cost else np.nan
        rows["front0_size"][:] = block.front0_size
        # measure only where the best genome changed (about one generation in eight), then fill
        genomes = block.best_genome
        changed = np.ones(n, dtype=bool)
        changed[1:] = (genomes[1:] != genomes[:-1]).any(axis=1)
        if self._previous is not None:
            changed[0] = not np.array_equal(self._previous[0], genomes[0])
        where = np.flatnonzero(changed)
        values = [self._network(genomes[i]) for i in where]
        if self._previous is not None and not changed[0]:
            where, values = np.concatenate([[0], where]), [self._previous[1], *values]
        self._previous = (genomes[-1].copy(), values[-1])
        fill = np.searchsorted(where, np.arange(n), side="right") - 1
        for column, k in (("n_nodes_best", 0), ("n_edges_best", 1), ("q_best", 3),
                          ("q_exact", 4)):
            rows[column][:] = np.array([v[k] for v in values])[fill]
        unmeasured = (block.generation % self.every != 0) if self.every else np.ones(n, bool)
        rows["q_best"][unmeasured] = np.nan
        rows["q_exact"][unmeasured] = False
        rows["qm_best"][:] = np.nan
        if self.qm_every:
            gens = block.generation
            for i in np.flatnonzero((gens % self.qm_every == 0) | (gens == self.last_generation)):
                rows["qm_best"][i] = self._qm(values[fill[i]][2])
        return rows

    def _qm(self, adjacency: np.ndarray) -> float:
        result = self.cache.qm(adjacency, n_samples=self.qm_samples, seed=self.qm_seed)
        self.null_models.add(result.null_model)
        return result.qm

    def _network(self, genome: np.ndarray) -> tuple:
        """(n_nodes, n_edges, adjacency, q, exact) of one genome's functional network."""
        nodes, edges = self.task.functional_network(genome)
        adjacency = edges_to_adjacency(nodes, edges, self.directed)
        result = self.cache.max_q(adjacency) if self.every else None
        if result:
            self.q_methods.add(result.method)
        return (len(nodes), len(edges), adjacency,
                result.q if result else np.nan, bool(result and result.exact))


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
def _stop_requests() -> Iterator[Callable[[], bool]]:
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
