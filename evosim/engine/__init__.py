"""The population engine: plain arrays in, blocks of per-generation statistics out.

``evolve`` is a generator of ``Block`` records so the caller (the runner) decides what to do between
blocks (measure Q, write HDF5, checkpoint) while the generations themselves run in compiled loops.
The engine's whole state is the population and the next generation's number: randomness is
counter-based (``evosim.counter_rng``), so a run resumed from a checkpoint continues exactly.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from evosim import counter_rng as crng
from evosim.engine.kernels import ELITIST, TOURNAMENT
from evosim.engine.loops import logic_block, logic_block_numpy
from evosim.goals import Schedule

BACKENDS = {"numba": logic_block, "numpy": logic_block_numpy}


@dataclass
class EngineState:
    generation: int          # the next generation to evaluate
    genomes: np.ndarray      # its population, int16[N, L]


@dataclass(frozen=True)
class Block:
    generation: np.ndarray       # int64[B]
    goal: np.ndarray             # int32[B]: row of the schedule's goal table
    fitness_best: np.ndarray     # float64[B]
    fitness_mean: np.ndarray     # float64[B]
    best_genome: np.ndarray      # int16[B, L]
    state: EngineState           # the population after the block (a copy: safe to keep)


def initial_state(task, population: int, key: np.uint64) -> EngineState:
    return EngineState(0, task.random_genomes(population, key))


def evolve(task, schedule: Schedule, config, key: np.uint64, state: EngineState | None = None,
           block_size: int = 100) -> Iterator[Block]:
    """Run generations state.generation .. config.run.generations, one Block per ``block_size``
    generations (blocks end on multiples of block_size, so checkpoints fall on the same rows)."""
    run, sel, var = config.run, config.selection, config.variation
    state = state or initial_state(task, run.population, key)
    loop = BACKENDS[run.engine]
    n_elite = round(sel.elite_fraction * run.population)
    scheme = ELITIST if sel.scheme == "elitist" else TOURNAMENT
    params = np.array([n_elite, scheme, sel.tournament_size, crng.threshold(var.crossover_rate),
                       crng.threshold(var.mutation_rate)], dtype=np.int64)
    targets = task.pack(schedule.targets)
    genomes = state.genomes.copy()
    spare = np.empty_like(genomes)
    last = run.generations  # inclusive: generation 0 is the initial population
    gen = state.generation
    while gen <= last:
        stop = min(last + 1, (gen // block_size + 1) * block_size)
        count = stop - gen
        goal = schedule.goal_index[gen:stop]
        score_best = np.empty(count, dtype=np.int64)
        score_sum = np.empty(count, dtype=np.int64)
        best = np.empty((count, genomes.shape[1]), dtype=genomes.dtype)
        loop(genomes, spare, gen, targets[goal], task.n_inputs, task.input_words, task.row_mask,
             key, params, task.gene_low, task.gene_size, score_best, score_sum, best)
        yield Block(generation=np.arange(gen, stop, dtype=np.int64), goal=goal,
                    fitness_best=score_best / task.n_rows,
                    fitness_mean=score_sum / (task.n_rows * run.population),
                    best_genome=best, state=EngineState(stop, genomes.copy()))
        gen = stop
