"""Generation loops for a block of generations, written once for every task and both backends.

The loops call the engine's kernels through the global name ``K`` and the task's kernels through
``evaluate_task`` and ``mutate_task`` (``evosim.tasks.protocol``). ``loops_for`` compiles them
for one task's kernel set: the Numba loops are these functions compiled with ``K`` = ``kernels``
and the task's Numba kernels (cached per task, so a task's kernels are compiled only into its
own loops); the NumPy loops are the very same code objects run with ``K`` = ``reference`` and the
task's NumPy kernels. The backends can therefore differ only in their kernels, which the tests
compare one by one.

Every loop leaves the engine state of the generation after the block in its first argument (the
population; for NSGA-II the survivors and their offspring) and writes one statistics row per
generation into ``out`` (a ``params.Statistics``).
"""
from __future__ import annotations

import functools
from typing import Callable

import numpy as np
from numba import njit

from evosim.engine import kernels, reference
from evosim.engine.rebind import rebind
from evosim.tasks.protocol import TaskKernels

OBJECTIVE_WEIGHTS = np.array([1.0, -1.0, 1.0])  # performance up, cost down, diversity up
K = kernels  # the engine's kernel set: rebound for each backend by ``loops_for``


def evaluate_task(genomes, target, constants, correct, cost) -> None:
    """The task's evaluation: bound for each task by ``loops_for``."""
    raise NotImplementedError("loops run only as built by loops_for")


def mutate_task(genomes, n_fixed, key, generation, constants) -> None:
    """The task's mutation: bound for each task by ``loops_for``."""
    raise NotImplementedError("loops run only as built by loops_for")


def behave_task(genomes, constants, out) -> None:
    """The task's behaviour (answers over all rows): bound for each task by ``loops_for``."""
    raise NotImplementedError("loops run only as built by loops_for")


def no_behaviour(genomes, constants, out) -> None:
    """What a task without a behaviour kernel is bound to (its configs cannot ask for it)."""
    out[:] = 0


def evaluate_generation(genomes, last, sources, target, same_goal, task, last_correct, last_cost,
                        correct, cost) -> None:
    """Rows correct and cost of every genome. Under an unchanged goal a genome equal to the one
    it was copied from (``last[sources[j]]``) inherits that one's values (exact: evaluation is
    deterministic), unless the task evaluates copies anyway (cheaper than comparing them)."""
    if not same_goal or task.evaluate_copies:
        evaluate_task(genomes, target, task, correct, cost)
        return
    changed = K.inherit_unchanged(genomes, last, sources, last_correct, last_cost, correct, cost)
    batch = np.empty((changed.size, genomes.shape[1]), dtype=genomes.dtype)
    K.copy_rows(genomes, changed, batch)
    batch_correct = np.empty(changed.size, dtype=np.int64)
    batch_cost = np.empty(changed.size, dtype=np.float64)
    evaluate_task(batch, target, task, batch_correct, batch_cost)
    K.scatter(changed, batch_correct, batch_cost, correct, cost)


def vary(pop, n_fixed, engine, task, key, generation) -> None:
    """Crossover then the task's mutation of every genome but the first ``n_fixed``."""
    K.crossover(pop, n_fixed, key, generation, engine.crossover)
    mutate_task(pop, n_fixed, key, generation, task)


def next_generation(genomes, spare, order, engine, task, key, generation, parents) -> None:
    """Select from ``genomes`` (ranked by ``order``) into ``spare``, then vary ``spare`` in place;
    ``parents[j]`` is the genome slot j was copied from."""
    K.select_parents(order, engine.n_elite, engine.scheme, engine.tournament_size, key,
                     generation, parents)
    K.copy_rows(genomes, parents, spare)
    vary(spare, engine.n_elite, engine, task, key, generation)


def truncation_generations(genomes, spare, gen0, targets, engine, task, key, out) -> None:
    """Elitist (K&A) or tournament selection on rows correct, or on a cost-penalised fitness;
    in a generation without selection (vg0) on a random order instead (the best is still
    recorded). Under an unchanged goal only the genomes that variation changed are evaluated."""
    n = genomes.shape[0]
    correct, last_correct = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    cost, last_cost = np.empty(n, dtype=np.float64), np.empty(n, dtype=np.float64)
    parents = np.empty(n, dtype=np.int64)
    current, other = genomes, spare
    for b in range(targets.shape[0]):
        generation = gen0 + b
        same_goal = b > 0 and (targets[b] == targets[b - 1]).all()  # other: the last generation
        evaluate_generation(current, other, parents, targets[b], same_goal, task, last_correct,
                            last_cost, correct, cost)
        order = K.rank_by_score(K.scores(correct, cost, engine.n_rows, engine.cost_weight),
                                key, generation)
        K.record(b, order[0], current, correct, cost, out)
        out.front0[b] = 0
        if not engine.selected[generation]:
            order = K.random_order(n, key, generation)
        next_generation(current, other, order, engine, task, key, generation, parents)
        current, other = other, current
        correct, last_correct = last_correct, correct
        cost, last_cost = last_cost, cost
    if targets.shape[0] % 2 == 1:
        genomes[:] = current


def nsga2_generations(merged, spare, gen0, targets, engine, task, key, out) -> None:
    """NSGA-II (mu + lambda) as Deb et al.: the state is 2N genomes, the previous generation's
    survivors (best first) followed by their N offspring. Each generation keeps the best N of the
    2N (the generation's population, recorded), breeds N offspring from them by binary tournaments
    on the front ranks and crowding distances of that same sort, and varies them.

    Objectives: performance (max), connection cost (min), each counted in a comparison with
    probability ``engine.objective_thresholds[m]`` (P&NSGA), and with ``engine.diversity`` the
    behavioural diversity (max) of each of the 2N among them (always counted). With
    ``engine.per_check`` every dominance check draws its own coins, in the sort and in the mating
    tournaments (Clune lab code's order, ``nsga2.peeling``). Survivors keep
    their evaluation until the goal changes, and so do offspring that variation left equal to
    their parent. With ``engine.unique``, duplicate genomes are kept only if nothing else fills
    the population."""
    n = merged.shape[0] // 2
    correct = np.empty(2 * n, dtype=np.int64)
    cost = np.empty(2 * n, dtype=np.float64)
    n_objectives = 3 if engine.diversity else 2
    weights = OBJECTIVE_WEIGHTS[:n_objectives]
    values = np.empty((n_objectives, 2 * n), dtype=np.float64).T  # columns contiguous
    behaviour = np.empty((2 * n if engine.diversity else 0, (engine.n_rows + 63) // 64),
                         dtype=np.uint64)
    winners = np.empty(n, dtype=np.int64)  # the survivor each offspring was copied from
    current, other = merged, spare
    for b in range(targets.shape[0]):
        generation = gen0 + b
        fresh = n if b > 0 and (targets[b] == targets[b - 1]).all() else 0
        if fresh:
            evaluate_generation(current[n:], current[:n], winners, targets[b], True, task,
                                correct[:n], cost[:n], correct[n:], cost[n:])
        else:
            evaluate_task(current, targets[b], task, correct, cost)
        values[:, 0] = correct  # rows correct: integers sort in fewer passes than fractions
        values[:, 1] = cost
        if engine.diversity:  # of this generation's 2N, so recomputed for every one
            behave_task(current, task, behaviour)
            K.behavioural_diversity(behaviour, engine.n_rows, values[:, 2])
        if engine.unique:  # copies sink below every real solution (Clune et al.'s option)
            worst_cost = cost.max() + 1.0
            for i in np.flatnonzero(K.duplicates(current)):
                values[i, 0] = -1.0
                values[i, 1] = worst_cost
            fresh = 0  # sunk survivors are out of order
        order = K.sweep_order(values, weights, fresh)
        thresholds = engine.objective_thresholds[:n_objectives]
        if engine.per_check:
            chosen, rank, crowd, front0 = K.nsga2_select_per_check(values, weights, thresholds,
                                                                   n, key, generation, order)
        else:
            chosen, rank, crowd, front0 = K.nsga2_select(values, weights, thresholds, n, key,
                                                         generation, order)
        K.copy_rows(current, chosen, other[:n])
        correct[:n] = correct[chosen]
        cost[:n] = cost[chosen]
        K.record(b, K.best_of(correct[:n], cost[:n]), other[:n], correct[:n], cost[:n], out)
        out.front0[b] = front0
        if engine.per_check:  # Clune lab code: by the same stochastic dominance
            winners = K.dominance_tournament(values[chosen], weights, thresholds, crowd[chosen],
                                             n, key, generation)
        else:
            winners = K.binary_tournament(rank[chosen], crowd[chosen], n, key, generation)
        K.copy_rows(other[:n], winners, other[n:])
        vary(other[n:], 0, engine, task, key, generation)
        current, other = other, current
    if targets.shape[0] % 2 == 1:
        merged[:] = current


_CALLEES_FIRST = (evaluate_generation, vary, next_generation, truncation_generations,
                  nsga2_generations)


@functools.lru_cache(maxsize=None)
def loops_for(task_kernels: TaskKernels, backend: str) -> dict[str, Callable]:
    """The loops of one task's kernel set on ``backend``, by name (``truncation_generations``,
    ``nsga2_generations`` and the pieces they call).

    Each function is rebound with ``K``, the task's kernels and the loops it calls already built
    for this task; under Numba each is compiled lazily (at its first call) and cached under a
    name of its own (the task's name and a stamp of its kernels' files, ``TaskKernels.tag``)."""
    tag = task_kernels.tag()
    behave = task_kernels.behave or (njit(cache=True)(no_behaviour) if backend == "numba"
                                     else no_behaviour)
    names = {"K": kernels if backend == "numba" else reference,
             "evaluate_task": task_kernels.evaluate, "mutate_task": task_kernels.mutate,
             "behave_task": behave}
    for func in _CALLEES_FIRST:
        used = set(func.__code__.co_names)
        bound = rebind(func, **{name: value for name, value in names.items() if name in used})
        bound.__qualname__ = f"{func.__name__}[{tag}]"
        names[func.__name__] = njit(cache=True)(bound) if backend == "numba" else bound
    return {func.__name__: names[func.__name__] for func in _CALLEES_FIRST}
