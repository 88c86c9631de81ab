"""The population engine: plain arrays in, blocks of per-generation statistics out.

``evolve`` is a generator of ``Block`` records so the caller (the runner) decides what to do between
blocks (measure Q, write HDF5, checkpoint) while the generations themselves run in compiled loops.
The engine's whole state is its genomes (``state_rows``) and the next generation's number:
randomness is counter-based (``evosim.counter_rng``), so a run resumed from a checkpoint continues
exactly.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from evosim import costs
from evosim import counter_rng as crng
from evosim.engine.kernels import ELITIST, NSGA2, TOURNAMENT
from evosim.engine.loops import LOOPS
from evosim.engine.nsga2 import ALWAYS
from evosim.goals import Schedule

SCHEMES = {"elitist": ELITIST, "tournament": TOURNAMENT, "nsga2": NSGA2}


@dataclass
class EngineState:
    generation: int          # the next generation to evaluate
    genomes: np.ndarray      # its genomes, int16[state_rows(config), L]


@dataclass(frozen=True)
class Block:
    generation: np.ndarray       # int64[B]
    goal: np.ndarray             # int32[B]: row of the schedule's goal table
    fitness_best: np.ndarray     # float64[B]: performance of the best (fraction of rows right)
    fitness_mean: np.ndarray     # float64[B]
    cost_best: np.ndarray        # float64[B]: connection cost of the best (0 without a cost)
    cost_mean: np.ndarray        # float64[B]
    front0_size: np.ndarray      # int32[B]: NSGA-II's first front in the population (else 0)
    best_genome: np.ndarray      # int16[B, L]
    state: EngineState           # the engine state after the block (a copy: safe to keep)


def state_rows(config) -> int:
    """Genomes in the engine's state: the population, or for NSGA-II 2N, the survivors of the
    last generation followed by their offspring (Deb et al.'s parents + offspring, which the next
    generation sorts; a run starts from 2N random genomes)."""
    return config.run.population * (2 if config.selection.scheme == "nsga2" else 1)


def initial_state(task, rows: int, key: np.uint64) -> EngineState:
    return EngineState(0, task.random_genomes(rows, key))


def evolve(task, schedule: Schedule, config, key: np.uint64, state: EngineState | None = None,
           block_size: int = 100) -> Iterator[Block]:
    """Run generations state.generation .. config.run.generations, one Block per ``block_size``
    generations (blocks end on multiples of block_size, so checkpoints fall on the same rows).

    "Best" is the individual ranked first by selection: the highest (cost-penalised) fitness under
    elitist or tournament selection; under NSGA-II the highest performance, ties broken by the
    lower cost (as in Clune et al.'s code)."""
    run, sel, var, cost = config.run, config.selection, config.variation, config.cost
    if run.engine == "deap" or sel.operator:  # DEAP drives; imported here: it imports this module
        from evosim.engine import deap_engine
        yield from deap_engine.evolve(task, schedule, config, key, state, block_size)
        return
    state = state or initial_state(task, state_rows(config), key)
    if len(state.genomes) != state_rows(config):
        raise ValueError(f"the engine state holds {len(state.genomes)} genomes; this config "
                         f"needs {state_rows(config)}")
    scheme = SCHEMES[sel.scheme]
    loop = LOOPS[run.engine]["nsga2" if scheme == NSGA2 else "truncation"]
    n_elite = round(sel.elite_fraction * run.population) if scheme != NSGA2 else 0
    params = np.array([n_elite, scheme, sel.tournament_size, crng.threshold(var.crossover_rate),
                       crng.threshold(var.mutation_rate), task.n_inputs, task.n_rows,
                       costs.kernel_kind(cost.kind, cost.layout), task.kernel_id,
                       task.activation_id, crng.threshold(var.add_connection_rate),
                       crng.threshold(var.delete_connection_rate),
                       crng.threshold(var.bias_mutation_rate), int(sel.unique),
                       getattr(task, "max_gates", 0),
                       crng.threshold(var.position_mutation_rate)], dtype=np.int64)
    fparams = np.array([cost.weight if cost.kind != "none" and scheme != NSGA2 else 0.0,
                        var.weight_mutation_scale])
    thresholds = np.array([ALWAYS, crng.threshold(cost.p) if cost.kind != "none" else 0],
                          dtype=np.uint64)
    consts = task.kernel_inputs(cost.layout)
    targets = task.pack(schedule.targets)
    genomes = state.genomes.copy()
    spare = np.empty_like(genomes)
    last = run.generations  # inclusive: generation 0 is the initial population
    gen = state.generation
    while gen <= last:
        stop = min(last + 1, (gen // block_size + 1) * block_size)
        count = stop - gen
        goal = schedule.goal_index[gen:stop]
        out = (np.empty(count, dtype=np.int64), np.empty(count, dtype=np.int64),
               np.empty(count), np.empty(count), np.empty(count, dtype=np.int64),
               np.empty((count, genomes.shape[1]), dtype=genomes.dtype))
        loop(genomes, spare, gen, targets[goal], consts, params, fparams, thresholds, key, out)
        yield Block(generation=np.arange(gen, stop, dtype=np.int64), goal=goal,
                    fitness_best=out[0] / task.n_rows,
                    fitness_mean=out[1] / (task.n_rows * run.population),
                    cost_best=out[2], cost_mean=out[3] / run.population,
                    front0_size=out[4].astype(np.int32), best_genome=out[5],
                    state=EngineState(stop, genomes.copy()))
        gen = stop
