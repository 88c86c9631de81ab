"""The DEAP-driven engine: the same model as the fused loops, checked statistically."""
import random

import numpy as np
import pytest
from deap import creator, tools
from scipy.stats import ks_2samp, mannwhitneyu

from evosim.config import Config
from evosim.engine import deap_engine, evolve
from evosim.goals import make_schedule
from evosim.tasks.logic import LogicTask

BUDGET = 300


def _solve_time(engine, seed, **overrides):
    """Generations until the best circuit first solves XOR (BUDGET + 1 if never)."""
    config = Config().replace(**{"run.generations": BUDGET, "run.population": 100,
                                 "schedule.goal": "XOR", "run.engine": engine, **overrides})
    task = LogicTask()
    schedule = make_schedule("fixed", task.goals, BUDGET + 1, goal="XOR")
    for block in evolve(task, schedule, config, np.uint64(seed), block_size=10):
        hit = np.flatnonzero(block.fitness_best == 1)
        if hit.size:
            return int(block.generation[hit[0]])
    return BUDGET + 1


@pytest.mark.slow
def test_deap_and_numba_engines_agree_on_generations_to_solve():
    """25 seeds each; two-sided Mann-Whitney U and Kolmogorov-Smirnov tests at the 1% level
    (the seeds are fixed, so the verdict is deterministic)."""
    fast = [_solve_time("numba", s) for s in range(25)]
    slow = [_solve_time("deap", s + 1000) for s in range(25)]
    assert sum(t <= BUDGET for t in fast) >= 10 and sum(t <= BUDGET for t in slow) >= 10
    assert mannwhitneyu(fast, slow).pvalue > 0.01
    assert ks_2samp(fast, slow).pvalue > 0.01


@pytest.mark.slow
def test_deap_and_numba_nsga2_agree_on_generations_to_solve():
    """NSGA-II with the connection count as a second objective (p = 1: DEAP's own dominance):
    the fused loop against sortNondominated / assignCrowdingDist and DEAP's tournaments, 25
    seeds each, the same two tests at the 1% level."""
    nsga2 = {"selection.scheme": "nsga2", "cost.kind": "count", "cost.p": 1.0}
    fast = [_solve_time("numba", s, **nsga2) for s in range(25)]
    slow = [_solve_time("deap", s + 1000, **nsga2) for s in range(25)]
    assert sum(t <= BUDGET for t in fast) >= 5 and sum(t <= BUDGET for t in slow) >= 5
    assert mannwhitneyu(fast, slow).pvalue > 0.01
    assert ks_2samp(fast, slow).pvalue > 0.01


def test_the_engines_differ_when_the_model_does():
    """The comparison above has power: no crossover and a tenth of the mutation is detected."""
    fast = [_solve_time("numba", s) for s in range(25)]
    crippled = [_solve_time("numba", s + 2000, **{"variation.mutation_rate": 0.03,
                                                   "variation.crossover_rate": 0.0})
                for s in range(25)]
    assert mannwhitneyu(fast, crippled).pvalue < 0.01


def test_deap_engine_is_deterministic_and_resumable():
    task = LogicTask()
    config = Config().replace(**{"run.generations": 60, "run.population": 40,
                                 "schedule.kind": "mvg", "run.engine": "deap"})
    schedule = make_schedule("mvg", task.goals, 61, period=20)
    first = list(evolve(task, schedule, config, np.uint64(4), block_size=20))
    again = list(evolve(task, schedule, config, np.uint64(4), block_size=20))
    resumed = list(evolve(task, schedule, config, np.uint64(4), first[1].state, block_size=20))
    for a, b in zip(first, again):
        assert np.array_equal(a.best_genome, b.best_genome)
    for a, b in zip(first[2:], resumed):
        assert np.array_equal(a.state.genomes, b.state.genomes)


def test_elitist_operator_keeps_the_elite_and_copies_it_over_the_worst():
    population = []
    for i in range(10):
        ind = creator.EvosimIndividual1([i])
        ind.fitness.values = (float(i),)
        population.append(ind)
    random.seed(0)
    chosen = deap_engine.sel_elitist(population, 10, 3)
    assert [ind[0] for ind in chosen] == [9, 8, 7, 6, 5, 4, 3, 9, 8, 7]


def test_sel_nsga2_is_deap_sel_nsga2_up_to_ties_at_the_cut():
    rng = np.random.default_rng(5)
    population = []
    for i, row in enumerate(rng.integers(0, 8, size=(120, 2)).astype(float)):
        ind = creator.EvosimIndividual2([i])
        ind.fitness.values = tuple(row)
        population.append(ind)
    random.seed(3)
    chosen, rank = deap_engine.sel_nsga2(population, 50)
    theirs = tools.selNSGA2(population, 50)
    assert len(chosen) == 50 and max(rank[id(ind)] for ind in chosen) == \
        max(rank[id(ind)] for ind in theirs)
    mine, deap_only = set(map(id, chosen)) - set(map(id, theirs)), \
        set(map(id, theirs)) - set(map(id, chosen))
    crowding = {id(ind): getattr(ind.fitness, "crowding_dist", None) for ind in population}
    assert sorted(crowding[i] for i in mine) == sorted(crowding[i] for i in deap_only)


def test_rewire_mutation_as_a_deap_operator():
    task = LogicTask()
    random.seed(1)
    for genome in task.random_genomes(200, np.uint64(3)):
        child, = deap_engine.rewire_one_gene(list(genome), task.gene_low, task.gene_size)
        child = np.array(child)
        assert (child != genome).sum() == 1
        assert np.all(child >= task.gene_low) and np.all(child < task.gene_low + task.gene_size)


def test_deap_toolbox_rewires_wiring_and_moves_positions_apart():
    task = LogicTask(layout="evolved")
    config = Config().replace(**{"cost.kind": "length", "cost.layout": "evolved"})
    toolbox = deap_engine.make_toolbox(task, config)
    wiring = task.wiring_length
    random.seed(2)
    for genome in task.random_genomes(100, np.uint64(4)):
        rewired, = toolbox.mutate(list(genome))
        moved, = toolbox.move(list(genome))
        assert (np.array(rewired)[:wiring] != genome[:wiring]).sum() == 1
        assert np.array_equal(np.array(rewired)[wiring:], genome[wiring:])
        assert np.array_equal(np.array(moved)[:wiring], genome[:wiring])
        assert (np.array(moved)[wiring:] != genome[wiring:]).sum() == 1
    assert toolbox.movepb == config.variation.position_mutation_rate
    assert deap_engine.make_toolbox(LogicTask(), Config()).movepb == 0.0


def test_deap_toolbox_leaves_a_last_gate_output_alone():
    task = LogicTask(output="last-gate")
    toolbox = deap_engine.make_toolbox(task, Config())
    random.seed(3)
    for genome in task.random_genomes(300, np.uint64(5)):
        rewired = np.array(toolbox.mutate(list(genome))[0])
        assert (rewired != genome).sum() == 1 and rewired[-1] == genome[-1] == 15


def test_any_deap_selection_operator_can_drive_the_run():
    task = LogicTask()
    config = Config().replace(**{"run.generations": 30, "run.population": 50,
                                 "selection.operator": "deap.tools.selTournament",
                                 "selection.tournsize": 5})
    schedule = make_schedule("fixed", task.goals, 31)
    blocks = list(evolve(task, schedule, config, np.uint64(2), block_size=10))
    best = np.concatenate([b.fitness_best for b in blocks])
    assert len(best) == 31 and best[-1] >= best[0]
