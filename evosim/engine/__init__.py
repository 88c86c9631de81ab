"""The population engine: plain arrays in, blocks of per-generation statistics out.

``evolve`` is a generator of ``Block`` records so the caller (the runner) decides what to do between
blocks (measure Q, write HDF5, checkpoint) while the generations themselves run in compiled loops.
The engine's whole state is its genomes (``state_rows``) and the next generation's number:
randomness is counter-based (``evosim.counter_rng``), so a run resumed from a checkpoint continues
exactly.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from evosim.engine.loops import loops_for
from evosim.engine.params import Statistics, engine_params
from evosim.goals import Schedule
from evosim.recording import Block


@dataclass
class EngineState:
    generation: int          # the next generation to evaluate
    genomes: np.ndarray      # its genomes, int16[state_rows(config), L]

    def arrays(self) -> dict[str, np.ndarray]:
        """The state's arrays, as the run file checkpoints them."""
        return {"genomes": self.genomes}


def restore_state(config, task, generation: int, arrays: dict[str, np.ndarray]) -> EngineState:
    """The engine state a checkpoint holds, refused (ValueError) unless it fits the config: its
    shape, type and every gene."""
    genomes = arrays["genomes"]
    rows = state_rows(config)
    if len(genomes) != rows:
        raise ValueError(f"the checkpoint holds {len(genomes)} genomes where this evosim keeps "
                         f"{rows} for this config (was the run started by an older version?); "
                         "start it again")
    expected = (rows, task.genome_length)
    if genomes.shape != expected or genomes.dtype != np.int16:
        raise ValueError(f"the checkpoint holds {genomes.dtype}{list(genomes.shape)} where this "
                         f"config needs int16{list(expected)}")
    problem = task.genome_problem(genomes)
    if problem:
        raise ValueError(f"the checkpoint is not valid for its config ({problem})")
    return EngineState(generation, genomes)


def state_rows(config) -> int:
    """Genomes in the engine's state: the population, or for NSGA-II 2N, the survivors of the
    last generation followed by their offspring (Deb et al.'s parents + offspring, which the next
    generation sorts; a run starts from 2N random genomes)."""
    return config.run.population * (2 if config.selection.scheme == "nsga2" else 1)


def initial_state(task, rows: int, key: np.uint64) -> EngineState:
    return EngineState(0, task.random_genomes(rows, key))


def check_config(config) -> None:
    """What the engines allow of a config (the DEAP engine's own rules are imported only for a
    run that uses it); raises ConfigError naming the key."""
    if config.run.mode != "evolution":
        return
    if config.run.engine == "deap" or config.selection.operator:
        from evosim.engine import deap_engine
        deap_engine.check_config(config)
    if config.run.engine == "cupy":
        from evosim.engine import batched
        from evosim.tasks import get_task
        problem = batched.batch_problem(config, get_task(config.task, config.cost.layout))
        if problem:
            from evosim.config import ConfigError
            raise ConfigError(problem)
    if config.selection.diversity and config.selection.scheme != "nsga2":
        from evosim.config import ConfigError
        raise ConfigError("selection.diversity: behavioural diversity is an NSGA-II objective; it "
                          "needs selection.scheme nsga2")
    if config.schedule.kind == "vg0" and config.selection.scheme == "nsga2":
        from evosim.config import ConfigError
        raise ConfigError("schedule.kind: vg0 (epochs without selection) needs selection.scheme "
                          "elitist or tournament; allowed with nsga2: the other kinds")


def needs_compiling(config, task) -> bool:
    """Whether the run's engine loop has no compiled copy cached yet (its first run here).
    The check reads Numba's cache index, which is not a public interface: False if it fails."""
    if config.run.mode != "evolution" or config.run.engine != "numba" \
            or config.selection.operator:
        return False
    loop = _loop(config, task, task.kernel_constants(config.variation, config.cost))
    try:
        return not os.path.exists(loop._cache._cache_file._index_path)
    except AttributeError:
        return False


def _loop(config, task, constants):
    """The compiled (or NumPy) loop of a run's engine, scheme and task kernels."""
    kernels = task.kernels(config.run.engine, constants)
    name = "nsga2_generations" if config.selection.scheme == "nsga2" else "truncation_generations"
    return loops_for(kernels, config.run.engine)[name]


def evolve(task, schedule: Schedule, config, key: np.uint64, state: EngineState | None = None,
           block_size: int = 100) -> Iterator[Block]:
    """Run generations state.generation .. config.run.generations, one Block per ``block_size``
    generations (blocks end on multiples of block_size, so checkpoints fall on the same rows).

    "Best" is the individual ranked first by selection: the highest (cost-penalised) fitness under
    elitist or tournament selection; under NSGA-II the highest performance, ties broken by the
    lower cost (as in Clune et al.'s code)."""
    run, sel = config.run, config.selection
    if run.engine == "deap" or sel.operator:  # DEAP drives; imported here: it imports this module
        from evosim.engine import deap_engine
        yield from deap_engine.evolve(task, schedule, config, key, state, block_size)
        return
    if run.engine == "cupy":  # one run: a batch of one, on the GPU
        from evosim import xp
        from evosim.engine import batched
        for blocks in batched.evolve_batch(task, [schedule], [config], [key], [state],
                                           block_size, xp=xp.gpu_module()):
            yield blocks[0]
        return
    state = state or initial_state(task, state_rows(config), key)
    if len(state.genomes) != state_rows(config):
        raise ValueError(f"the engine state holds {len(state.genomes)} genomes; this config "
                         f"needs {state_rows(config)}")
    engine = engine_params(config, task.n_rows, schedule.selected)
    constants = task.kernel_constants(config.variation, config.cost)
    loop = _loop(config, task, constants)
    targets = task.pack(schedule.targets)
    genomes = state.genomes.copy()
    spare = np.empty_like(genomes)
    last = run.generations  # inclusive: generation 0 is the initial population
    gen = state.generation
    while gen <= last:
        stop = min(last + 1, (gen // block_size + 1) * block_size)
        count = stop - gen
        goal = schedule.goal_index[gen:stop]
        out = Statistics.empty(count, genomes.shape[1], genomes.dtype)
        loop(genomes, spare, gen, targets[goal], engine, constants, key, out)
        yield Block(generation=np.arange(gen, stop, dtype=np.int64), goal=goal,
                    fitness_best=out.score_best / task.n_rows,
                    fitness_mean=out.score_sum / (task.n_rows * run.population),
                    cost_best=out.cost_best, cost_mean=out.cost_sum / run.population,
                    front0_size=out.front0.astype(np.int32), best_genome=out.best_genomes,
                    state=EngineState(stop, genomes.copy()))
        gen = stop
