"""The same model driven through DEAP: a ``base.Toolbox`` with DEAP's operators.

This backend is the reference for selection semantics and the way to plug in any selection operator
of ``deap.tools`` (``selection.operator = "deap.tools.selTournament"`` plus its keyword arguments).
Evaluation still uses the task's batched kernels; selection and variation are DEAP's, one Python
generation at a time, so it is much slower than the fused loops.

Randomness: DEAP draws from Python's ``random``; it is reseeded every generation from (run key,
generation), so a run is reproducible and resumable from any checkpoint, like the other backends
(but its numbers differ from theirs: agreement is statistical).

NSGA-II has the fused loops' structure (the state is the survivors and their offspring) and
``tools.selNSGA2``'s selection (``sel_nsga2``). DEAP's sort has plain Pareto dominance only, so
P&NSGA (cost counted in a fraction p < 1 of comparisons) is refused here.
"""
from __future__ import annotations

import importlib
import inspect
import random
from typing import Callable, Iterator

import numpy as np
from deap import base, creator, tools

from evosim import costs
from evosim import counter_rng as crng
from evosim.costs import connection_costs
from evosim.engine import EngineState, initial_state, state_rows
from evosim.recording import Block
from evosim.tasks.logic import count_correct

# Classes DEAP's creator makes once per process (importing this module in a worker makes them
# again there, so individuals pickle): one objective (fitness) or two (performance up, cost down).
for _name, _weights in (("EvosimFitness1", (1.0,)), ("EvosimFitness2", (1.0, -1.0))):
    if not hasattr(creator, _name):
        creator.create(_name, base.Fitness, weights=_weights)
        creator.create(_name.replace("Fitness", "Individual"), list,
                       fitness=getattr(creator, _name))


TASKS = ("logic-gates",)  # DEAP's operators here act on circuit genomes (gene ranges)


def check_config(config) -> None:
    """What the DEAP engine allows of a config that uses it (``engine.check_config`` decides
    that): the tasks it runs, its operators' arguments, P&NSGA; raises ConfigError naming the
    key."""
    from evosim.config import ConfigError

    run, sel = config.run, config.selection
    if config.task.name not in TASKS:
        field = "run.engine: deap" if run.engine == "deap" else f"selection.operator: {sel.operator}"
        raise ConfigError(f"{field} runs the tasks {', '.join(TASKS)} only; for "
                          f"{config.task.name} use run.engine numba or numpy without "
                          "selection.operator")
    if config.selection.diversity:
        raise ConfigError("selection.diversity: behavioural diversity needs run.engine numba or "
                          "numpy without selection.operator")
    if config.task.feedback:
        raise ConfigError("task.feedback: recurrent circuits need run.engine numba or numpy "
                          "without selection.operator")
    if config.schedule.kind == "vg0":
        raise ConfigError("schedule.kind: vg0 (epochs without selection) needs run.engine numba "
                          "or numpy without selection.operator")
    if sel.scheme == "nsga2" and config.cost.coins == "per-check":
        raise ConfigError("cost.coins: per-check coins need run.engine numba or numpy; allowed "
                          "with deap: per-pair")
    if sel.scheme == "nsga2" and config.cost.kind != "none" and config.cost.p < 1:
        raise ConfigError("cost.p: P&NSGA (p < 1) needs run.engine numba or numpy; allowed with "
                          "deap: 1.0")
    if sel.operator:
        try:
            operator = resolve_operator(sel.operator)
        except ValueError as err:
            raise ConfigError(str(err)) from None
        allowed = operator_parameters(operator)
        args = dict(sel.operator_args)
        for key in args:
            if key not in allowed:
                raise ConfigError(f"unknown key 'selection.{key}'; {sel.operator} takes: "
                                  f"{', '.join(allowed) or 'no keyword arguments'}")
        try:
            probe_operator(operator, args)
        except Exception as err:  # whatever DEAP raises for bad arguments
            raise ConfigError(f"selection: {sel.operator} rejects its arguments {args} "
                              f"({type(err).__name__}: {err})") from None


def resolve_operator(name: str) -> Callable:
    """The selection function a config names, e.g. ``deap.tools.selTournament``."""
    module, _, attr = name.rpartition(".")
    if module not in ("deap.tools", "tools") or not attr.startswith("sel"):
        raise ValueError(f"selection.operator: {name!r} is not a selection operator of deap.tools;"
                         f" allowed: {', '.join(selection_operators())}")
    operator = getattr(importlib.import_module("deap.tools"), attr, None)
    if not inspect.isfunction(operator):
        raise ValueError(f"selection.operator: deap.tools has no {attr!r}; allowed: "
                         f"{', '.join(selection_operators())}")
    return operator


def selection_operators() -> list[str]:
    return sorted(f"deap.tools.{n}" for n in dir(tools)
                  if n.startswith("sel") and inspect.isfunction(getattr(tools, n)))


def operator_parameters(operator: Callable) -> list[str]:
    """The keyword arguments a selection operator takes besides (individuals, k)."""
    names = list(inspect.signature(operator).parameters)
    return [n for n in names[2:] if n not in ("fit_attr",)]


def probe_operator(operator: Callable, args: dict) -> None:
    """Call a selection operator once on a toy population, so bad arguments fail at config time."""
    toy = []
    for i in range(6):
        ind = creator.EvosimIndividual1([i])
        ind.fitness.values = (float(i),)
        toy.append(ind)
    operator(toy, 3, **args)


def sel_elitist(individuals: list, k: int, n_elite: int) -> list:
    """Kashtan & Alon's scheme as a DEAP operator: sort by fitness (ties in random order); the top
    n_elite first, then the middle, then copies of the top n_elite in place of the worst."""
    shuffled = random.sample(individuals, len(individuals))
    ranked = sorted(shuffled, key=lambda ind: ind.fitness.wvalues, reverse=True)
    return ranked[:n_elite] + ranked[n_elite: k - n_elite] + ranked[:n_elite]


def sel_rank_crowding_tournament(individuals: list, k: int, rank: dict) -> list:
    """NSGA-II mating: binary tournaments on front rank, then crowding distance."""
    chosen = []
    for _ in range(k):
        a, b = random.choice(individuals), random.choice(individuals)
        key_a = (-rank[id(a)], a.fitness.crowding_dist)
        key_b = (-rank[id(b)], b.fitness.crowding_dist)
        chosen.append(b if key_b > key_a else a)
    return chosen


def rewire_one_gene(individual: list, gene_low: np.ndarray, gene_size: np.ndarray,
                    first: int = 0, stop: int | None = None) -> tuple:
    """The task's mutation as a DEAP operator: one gene of ``first .. stop - 1`` (default: all)
    to a different valid value.

    Returns
    -------
    individual : list
        The same ``individual``, mutated in place: the tuple's only element, as DEAP expects.
    """
    pos = random.randrange(first, len(individual) if stop is None else stop)
    current = individual[pos] - int(gene_low[pos])
    r = random.randrange(int(gene_size[pos]) - 1)
    individual[pos] = int(gene_low[pos]) + r + (r >= current)
    return (individual,)


def make_toolbox(task, config) -> base.Toolbox:
    sel, var = config.selection, config.variation
    toolbox = base.Toolbox()
    toolbox.register("mate", tools.cxOnePoint)
    wiring = task.wiring_length
    toolbox.register("mutate", rewire_one_gene, gene_low=task.gene_low, gene_size=task.gene_size,
                     stop=task.rewired_length)
    toolbox.register("move", rewire_one_gene, gene_low=task.gene_low, gene_size=task.gene_size,
                     first=wiring)  # evolved gate positions (an empty range otherwise)
    n_elite = round(sel.elite_fraction * config.run.population)
    if sel.operator:
        toolbox.register("select", resolve_operator(sel.operator), **dict(sel.operator_args))
    elif sel.scheme == "tournament":
        toolbox.register("select", tools.selTournament, tournsize=sel.tournament_size)
    elif sel.scheme == "elitist":
        toolbox.register("select_all", sel_elitist, n_elite=n_elite)
    toolbox.n_elite = 0 if sel.scheme == "nsga2" else n_elite
    toolbox.cxpb, toolbox.mutpb = var.crossover_rate, var.mutation_rate
    toolbox.movepb = var.position_mutation_rate if task.genome_length > wiring else 0.0
    return toolbox


def evolve(task, schedule, config, key: np.uint64, state: EngineState | None = None,
           block_size: int = 100) -> Iterator[Block]:
    """The engine's ``evolve`` (same Blocks, same checkpoints), driven by DEAP."""
    run, cost = config.run, config.cost
    if config.selection.scheme == "nsga2" and cost.kind != "none" and cost.p < 1.0:
        raise ValueError("cost.p < 1 (P&NSGA) needs the numba or numpy engine: DEAP's "
                         "sortNondominated has no per-comparison objectives")
    toolbox = make_toolbox(task, config)
    state = state or initial_state(task, state_rows(config), key)
    measure = _Evaluator(task, config)
    targets = task.pack(schedule.targets)
    genomes = state.genomes.copy()
    gen = state.generation
    while gen <= run.generations:
        stop = min(run.generations + 1, (gen // block_size + 1) * block_size)
        rows = []
        for generation in range(gen, stop):
            random.seed(int(crng.mix64_array(np.array([key ^ np.uint64(generation)]))[0]))
            target = targets[schedule.goal_index[generation]]
            genomes, row = _generation(toolbox, config, measure, genomes, target)
            rows.append(row)
        best, correct, cost_best, cost_mean, front0, fitness_mean = map(np.array, zip(*rows))
        yield Block(generation=np.arange(gen, stop, dtype=np.int64),
                    goal=schedule.goal_index[gen:stop], fitness_best=correct / task.n_rows,
                    fitness_mean=fitness_mean, cost_best=cost_best, cost_mean=cost_mean,
                    front0_size=front0.astype(np.int32), best_genome=best.astype(np.int16),
                    state=EngineState(stop, genomes.copy()))
        gen = stop


class _Evaluator:
    """Batched evaluation with the task's kernels, results written into DEAP fitnesses."""

    def __init__(self, task, config):
        self.task = task
        self.kind = costs.kernel_kind(config.cost.kind, config.cost.layout)
        self.weight = config.cost.weight if config.cost.kind != "none" else 0.0
        self.sq = task.kernel_constants(config.variation, config.cost).sq_dist
        self.objectives = 2 if config.selection.scheme == "nsga2" else 1

    def __call__(self, genomes: np.ndarray, target: np.ndarray) -> list:
        n = len(genomes)
        correct, cost = np.empty(n, dtype=np.int64), np.empty(n)
        n_inputs, n_gates = self.task.n_inputs, self.task.max_gates
        count_correct(genomes, n_inputs, n_gates, self.task.input_words, target,
                      self.task.row_mask, correct)
        connection_costs(genomes, n_inputs, n_gates, self.kind, self.sq, cost)
        perf = correct / self.task.n_rows
        cls = creator.EvosimIndividual2 if self.objectives == 2 else creator.EvosimIndividual1
        population = []
        for i in range(n):
            ind = cls(genomes[i].tolist())
            ind.fitness.values = ((perf[i], cost[i]) if self.objectives == 2
                                  else (perf[i] - self.weight * cost[i],))
            ind.correct, ind.cost = int(correct[i]), float(cost[i])
            population.append(ind)
        return population


def _generation(toolbox, config, evaluate, genomes, target) -> tuple[np.ndarray, tuple]:
    """One generation from the engine state ``genomes``; returns the next state and the row."""
    if config.selection.scheme == "nsga2":
        return _nsga2_generation(toolbox, config, evaluate, genomes, target)
    population = evaluate(genomes, target)
    n = len(population)
    if hasattr(toolbox, "select_all"):
        ordered = toolbox.select_all(population, n)
    else:
        ordered = sorted(random.sample(population, n), key=lambda ind: ind.fitness.wvalues,
                         reverse=True)[:toolbox.n_elite]
        ordered += toolbox.select(population, n - toolbox.n_elite)
    best = max(population, key=lambda ind: ind.fitness.wvalues)
    survivors = ordered[:toolbox.n_elite] + _vary(toolbox, ordered[toolbox.n_elite:])
    return np.array(survivors, dtype=genomes.dtype), _row(population, best, 0, evaluate.task)


def _nsga2_generation(toolbox, config, evaluate, genomes, target) -> tuple[np.ndarray, tuple]:
    """The state is the last survivors followed by their offspring (2N): keep N by
    ``sel_nsga2``, breed N offspring by tournaments on the fronts and crowding of that sort."""
    merged = evaluate(genomes, target)
    n = len(merged) // 2
    survivors, rank = sel_nsga2(merged, n)
    best = max(survivors, key=lambda ind: (ind.correct, -ind.cost))
    front0 = sum(rank[id(ind)] == 0 for ind in survivors)
    offspring = _vary(toolbox, sel_rank_crowding_tournament(survivors, n, rank))
    state = np.array([list(ind) for ind in survivors] + offspring, dtype=genomes.dtype)
    return state, _row(survivors, best, front0, evaluate.task)


def sel_nsga2(individuals: list, k: int) -> tuple[list, dict]:
    """``tools.selNSGA2`` (DEAP's sort and crowding distances), with ties of crowding distance at
    the cut in random order instead of DEAP's parents-first order; also returns the fronts.

    Returns
    -------
    chosen : list
        The ``k`` individuals selected, whole fronts first, then the most crowding-distant of the
        front at the cut.
    rank : dict
        ``id(individual)`` -> index of its non-dominated front (0 = the first), for every
        individual of the fronts sorted.
    """
    fronts = tools.sortNondominated(individuals, k)
    rank = {id(ind): f for f, front in enumerate(fronts) for ind in front}
    chosen = []
    for front in fronts:
        tools.emo.assignCrowdingDist(front)
        if len(chosen) + len(front) <= k:
            chosen += front
        else:
            shuffled = random.sample(front, len(front))
            shuffled.sort(key=lambda ind: ind.fitness.crowding_dist, reverse=True)
            chosen += shuffled[: k - len(chosen)]
            break
    return chosen, rank


def _row(population: list, best, front0: int, task) -> tuple:
    """The statistics row of a generation's population."""
    return (np.array(best), best.correct, best.cost,
            float(np.mean([i.cost for i in population])), front0,
            float(np.mean([i.correct for i in population])) / task.n_rows)


def _vary(toolbox, parents: list) -> list:
    """Clone, pair at random, one-point crossover with probability cxpb, then each offspring
    rewired with probability mutpb, then (evolved layout) one gate moved with probability movepb:
    the same operators, rates and order as the fused loops."""
    offspring = [list(p) for p in parents]
    order = random.sample(range(len(offspring)), len(offspring))
    for a, b in zip(order[0::2], order[1::2]):
        if random.random() < toolbox.cxpb:
            offspring[a], offspring[b] = toolbox.mate(offspring[a], offspring[b])
    for i, child in enumerate(offspring):
        if random.random() < toolbox.mutpb:
            offspring[i], = toolbox.mutate(child)
        if toolbox.movepb and random.random() < toolbox.movepb:
            offspring[i], = toolbox.move(offspring[i])
    return offspring
