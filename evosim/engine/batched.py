"""The batched array engine: many runs of one shape evolve as one population [R, N, L], on a GPU
with CuPy (``run.engine = "cupy"``) or on the CPU with NumPy, and each run's history is the one
the Numba engine gives it alone, bit for bit.

Runs batch together when their configs differ only in what can differ row by row: the seed (the
run key), the goal schedule (each run's targets), and rates (a task constant or engine parameter
that differs becomes one value per run, [R, 1]). One generation of all R runs is a fixed number
of array operations, whatever R: the kernels are ``array_kernels`` and the task's array kernels
(``TaskKernels.batched``), written once for NumPy and CuPy.

Selection is elitist or tournament (the loops' ``truncation_generations``), or NSGA-II with
P&NSGA's coins, per pair or per check (``nsga2_generations``): its sort visits a run's
individuals one after another, so each generation's objectives go to the host, where every
run's selection is the Numba kernels' for that run alone (``nsga2.runs``), and the picks come
back. Every generation evaluates every genome (the Numba loops let unchanged copies inherit
their values: the same numbers). Summed costs are exact in any order where they are integers (connection counts,
squared lengths on an integer grid), so a GPU's parallel sums equal the CPU's sequential ones.
"""
from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator, NamedTuple, Sequence

import numpy as np

from evosim import counter_rng as crng
from evosim.engine import EngineState, initial_state, state_rows
from evosim.engine import array_kernels as AK
from evosim.engine.nsga2.runs import select_runs
from evosim.engine.params import NSGA2, Statistics, engine_params
from evosim.goals import Schedule
from evosim.recording import Block
from evosim.resources import usable_cores
from evosim.xp import array_module, to_host

# Keys that may differ between the runs of one batch (the rest must be equal).
PER_RUN_KEYS = ("run.seed", "variation.mutation_rate", "variation.crossover_rate",
                "variation.position_mutation_rate", "variation.add_connection_rate",
                "variation.delete_connection_rate", "variation.weight_mutation_scale",
                "variation.bias_mutation_rate", "cost.weight")
PER_RUN_SECTIONS = ("schedule",)


class PerRun(NamedTuple):
    """What differs between the runs of a batch, one row per run (on the batch's device)."""

    keys: object         # uint64[R, 1]
    crossover: object    # uint64[R, 1]: coin thresholds of a pair's crossover
    cost_weight: object  # float64[R, 1]: the cost penalty's weight (0: none)
    selected: np.ndarray  # bool[R, generations + 1] (host): False where nothing selects (vg0)


def on_gpu(config) -> bool:
    """The run evolves on the batched engine on a GPU: ``run.engine = "cupy"`` in evolution mode
    (gradient mode does not read ``run.engine``)."""
    return config.run.engine == "cupy" and config.run.mode == "evolution"


def batch_problem(config, task) -> str | None:
    """Why this config cannot run on the batched engine (one line naming the key), or None."""
    if config.run.mode != "evolution":
        return "run.mode: the batched engine evolves; gradient runs train one at a time"
    if config.selection.operator:
        return ("selection.operator: the cupy engine runs evosim's own selection; DEAP "
                "operators run on the deap engine")
    if config.selection.scheme == "nsga2":
        for name in ("unique", "diversity"):  # Clune et al.'s options: whole genomes compared
            if getattr(config.selection, name):
                return (f"selection.{name}: the cupy engine's NSGA-II runs without it; allowed "
                        "on the cupy engine: false (the numba and numpy engines run it)")
    kernels = task.kernels("numpy", task.kernel_constants(config.variation, config.cost))
    if not kernels.batched:
        return (f"task: {kernels.name} has no batched array kernels, so the cupy engine cannot "
                "run it; the numba and numpy engines can")
    return None


def batch_problems(task, configs: Sequence) -> str | None:
    """Why these configs cannot evolve as one batch (one line), or None: each must run on the
    batched engine, and all must share a batch signature."""
    for config in configs:
        problem = batch_problem(config, task)
        if problem:
            return problem
    if len({batch_signature(c) for c in configs}) > 1:
        return ("these runs differ in more than seeds, schedules and rates: they cannot share "
                "a batch")
    return None


def batch_signature(config) -> str:
    """Equal for configs that can share a batch: the config with its per-run keys set aside."""
    defaults = type(config)()
    shared = config.replace(**{key: _get(defaults, key) for key in PER_RUN_KEYS})
    for section in PER_RUN_SECTIONS:
        shared = shared.replace(**{f"{section}.{name}": value
                                   for name, value in vars(getattr(defaults, section)).items()})
    return shared.to_toml()


def _get(config, key: str):
    section, name = key.split(".")
    return getattr(getattr(config, section), name)


def evolve_batch(task, schedules: Sequence[Schedule], configs: Sequence, keys: Sequence,
                 states: Sequence[EngineState | None] | None = None, block_size: int = 100,
                 xp=np) -> Iterator[list[Block]]:
    """Run the generations of every run together, one list of Blocks (a Block per run, in the
    order of ``configs``) per ``block_size`` generations, as ``engine.evolve`` yields for one run.

    The runs must share a batch signature (``batch_signature``) and their states a generation;
    ``xp`` is the array module (numpy, or cupy: the population then lives on the GPU)."""
    problem = batch_problems(task, configs)
    if problem:
        raise ValueError(problem)
    first = configs[0]
    states = [s or initial_state(task, state_rows(c), k)
              for s, c, k in zip(states or [None] * len(configs), configs, keys)]
    if len({s.generation for s in states}) > 1:
        raise ValueError("the runs of a batch must start from the same generation")
    engine = engine_params(first, task.n_rows)
    per_run = _per_run(configs, schedules, keys, xp)
    constants = _batch_constants(task, configs, xp)
    kernels = task.kernels("numpy", constants)
    packed = [task.pack(s.targets) for s in schedules]
    genomes = xp.asarray(np.stack([s.genomes for s in states]))
    population, last = first.run.population, first.run.generations
    gen = states[0].generation
    while gen <= last:
        stop = min(last + 1, (gen // block_size + 1) * block_size)
        goals = np.stack([s.goal_index[gen:stop] for s in schedules])  # [R, B]
        targets = xp.asarray(np.stack([p[g] for p, g in zip(packed, goals)], axis=1))
        out = Statistics.empty((stop - gen, len(configs)), genomes.shape[2], genomes.dtype, xp)
        generations = _nsga2_generations if engine.scheme == NSGA2 else _truncation_generations
        genomes = generations(genomes, gen, targets, engine, per_run, kernels, constants, out)
        host, state = Statistics(*map(to_host, out)), to_host(genomes)
        yield [Block(generation=np.arange(gen, stop, dtype=np.int64), goal=goals[r],
                     fitness_best=host.score_best[:, r] / task.n_rows,
                     fitness_mean=host.score_sum[:, r] / (task.n_rows * population),
                     cost_best=host.cost_best[:, r], cost_mean=host.cost_sum[:, r] / population,
                     front0_size=host.front0[:, r].astype(np.int32),
                     best_genome=host.best_genomes[:, r], state=EngineState(stop, state[r].copy()))
               for r in range(len(configs))]
        gen = stop


def _truncation_generations(genomes, gen0, targets, engine, per_run, kernels, constants, out):
    """``loops.truncation_generations`` for every run at once: evaluate, rank, record, select
    (a random order where nothing selects), cross over and mutate. Returns the genomes of the
    generation after the block."""
    xp = array_module(genomes)
    runs, n = genomes.shape[:2]
    correct = xp.empty((runs, n), dtype=np.int64)
    cost = xp.empty((runs, n), dtype=np.float64)
    for b in range(targets.shape[0]):
        generation = gen0 + b
        kernels.evaluate(genomes, targets[b], constants, correct, cost)
        order = AK.rank_by_score(AK.scores(correct, cost, engine.n_rows, per_run.cost_weight),
                                 per_run.keys, generation)
        _record(out, b, genomes, correct, cost, order[:, 0], 0)
        selects = per_run.selected[:, generation]
        if not selects.all():
            neutral = AK.random_order(per_run.keys, n, generation)
            order = xp.where(xp.asarray(selects)[:, None], order, neutral)
        parents = AK.select_parents(order, engine.n_elite, engine.scheme, engine.tournament_size,
                                    per_run.keys, generation)
        genomes = AK.gather_rows(genomes, parents)
        AK.crossover(genomes, engine.n_elite, per_run.keys, generation, per_run.crossover)
        kernels.mutate(genomes, engine.n_elite, per_run.keys, generation, constants)
    return genomes


def _nsga2_generations(genomes, gen0, targets, engine, per_run, kernels, constants, out):
    """``loops.nsga2_generations`` for every run at once: evaluate the 2N (survivors and
    offspring), select on the host (``nsga2.runs``), record the survivors, breed and vary N
    offspring. Returns the state after the block: the survivors, then their offspring."""
    threads = min(len(genomes), usable_cores())
    with ThreadPoolExecutor(threads) as pool:
        select = functools.partial(select_runs, thresholds=engine.objective_thresholds[:2],
                                   n=genomes.shape[1] // 2, keys=to_host(per_run.keys)[:, 0],
                                   per_check=engine.per_check, pool=pool, threads=threads)
        for b in range(targets.shape[0]):
            genomes = _nsga2_generation(genomes, gen0 + b, targets[b], select, per_run, kernels,
                                        constants, out, b)
    return genomes


def _nsga2_generation(genomes, generation, target, select, per_run, kernels, constants, out, b):
    """One generation of ``_nsga2_generations`` (``select``: ``select_runs`` with the batch's
    settings), recorded in row b of ``out``."""
    xp = array_module(genomes)
    rows = xp.arange(len(genomes))[:, None]
    correct = xp.empty(genomes.shape[:2], dtype=np.int64)
    cost = xp.empty(genomes.shape[:2], dtype=np.float64)
    kernels.evaluate(genomes, target, constants, correct, cost)
    chosen, winners, front0 = select(to_host(correct), to_host(cost), generation=generation)
    chosen, winners = xp.asarray(chosen), xp.asarray(winners)
    survivors = AK.gather_rows(genomes, chosen)
    kept_correct, kept_cost = correct[rows, chosen], cost[rows, chosen]
    _record(out, b, survivors, kept_correct, kept_cost, AK.best_of(kept_correct, kept_cost),
            xp.asarray(front0))
    offspring = AK.gather_rows(survivors, winners)
    AK.crossover(offspring, 0, per_run.keys, generation, per_run.crossover)
    kernels.mutate(offspring, 0, per_run.keys, generation, constants)
    return xp.concatenate([survivors, offspring], axis=1)


def _record(out, b, genomes, correct, cost, best, front0) -> None:
    """Row b of every run's statistics (``kernels.record``), its best at index ``best[r]``.

    Costs are summed in index order on NumPy, as the kernels sum; a GPU's parallel scan adds in
    another order, which gives the same sum only because the batched engine's costs are
    integers (``batch_problem`` refuses tasks whose kernels sum float lengths)."""
    xp = array_module(genomes)
    every_run = xp.arange(len(genomes))
    out.score_best[b], out.score_sum[b] = correct[every_run, best], correct.sum(axis=1)
    out.cost_best[b] = cost[every_run, best]
    out.cost_sum[b] = xp.cumsum(cost, axis=1)[:, -1]
    out.front0[b] = front0
    out.best_genomes[b] = genomes[every_run, best]


def _per_run(configs, schedules, keys, xp) -> PerRun:
    def column(values, dtype):
        return xp.asarray(np.array(values, dtype=dtype).reshape(-1, 1))

    generations = configs[0].run.generations + 1
    return PerRun(
        keys=column(keys, np.uint64),
        crossover=column([crng.threshold(c.variation.crossover_rate) for c in configs],
                         np.uint64),
        cost_weight=column([c.cost.weight if c.cost.kind != "none" else 0.0 for c in configs],
                           np.float64),
        selected=np.stack([np.ones(generations, dtype=bool) if s.selected is None
                           else np.asarray(s.selected, dtype=bool) for s in schedules]))


def _batch_constants(task, configs, xp):
    """The task's constants for the batch, on its device (but the record's ``HOST_FIELDS``): a
    field equal in every run as it is, a number that differs as one value per run [R, 1]."""
    each = [task.kernel_constants(c.variation, c.cost) for c in configs]
    host = getattr(type(each[0]), "HOST_FIELDS", ())  # arrays the kernels read on the host
    fields = {}
    for name in each[0]._fields:
        values = [getattr(c, name) for c in each]
        if all(np.array_equal(values[0], v) for v in values[1:]):
            value = values[0]
            on_device = isinstance(value, np.ndarray) and name not in host
            fields[name] = xp.asarray(value) if on_device else value
        elif np.ndim(values[0]) == 0:
            fields[name] = xp.asarray(np.array(values).reshape(-1, 1))
        else:
            raise ValueError(f"the task's {name} differs between the runs of a batch")
    return type(each[0])(**fields)
