import dataclasses

import numpy as np
import pytest

from evosim.engine import evolve
from evosim.goals import make_schedule
from evosim.tasks import get_task
from evosim.tasks.logic import LogicTask


def _history(config, seed=3):
    task = get_task(config.task, config.cost.layout)
    s = config.schedule
    schedule = make_schedule(s.kind, task.goals, config.run.generations + 1, period=s.period,
                             goal=s.goal, goals=s.goals, rng=np.random.default_rng(0))
    blocks = list(evolve(task, schedule, config, np.uint64(seed), block_size=64))
    return {name: np.concatenate([getattr(b, name) for b in blocks])
            for name in ("generation", "goal", "fitness_best", "fitness_mean", "cost_best",
                         "cost_mean", "front0_size", "best_genome")}, blocks


@pytest.mark.parametrize("overrides", [
    {},
    {"selection.scheme": "tournament", "selection.tournament_size": 3},
    {"cost.kind": "length", "cost.weight": 0.0005, "cost.layout": "grid"},
    {"selection.scheme": "nsga2", "cost.kind": "count"},
    {"selection.scheme": "nsga2", "cost.kind": "count", "selection.unique": True},
    {"selection.scheme": "nsga2", "cost.kind": "length", "cost.p": 1.0},
    {"cost.kind": "length", "cost.weight": 0.002, "cost.layout": "evolved"},
    {"task.n_inputs": 7, "cost.kind": "count", "cost.weight": 0.002},  # children inherit values
    {"selection.scheme": "nsga2", "cost.kind": "length", "cost.layout": "evolved"},
    {"task.name": "retina", "schedule.kind": "mvg", "run.population": 60},
    {"schedule.kind": "vg0", "schedule.period": 10},
    {"schedule.kind": "vg0", "schedule.period": 10, "selection.scheme": "tournament"},
    {"schedule.kind": "rvg-v", "schedule.period": 10},
    {"task.output": "last-gate"},
    {"task.feedback": True, "task.steps": 8},
    {"task.name": "retina", "selection.scheme": "nsga2", "cost.kind": "length",
     "cost.layout": "optimal", "run.population": 40},
    {"task.name": "retina", "variation.value_mutation": "sferes", "run.population": 40},
    {"task.name": "retina", "selection.scheme": "nsga2", "cost.kind": "count", "cost.p": 0.25,
     "selection.diversity": True, "run.population": 40},
    {"task.name": "retina", "task.activation": "tanh", "task.zero_output": "wrong",
     "selection.scheme": "nsga2", "cost.kind": "count", "run.population": 40},
    {"task.name": "retina", "task.activation": "tanh", "selection.scheme": "nsga2",
     "cost.kind": "length", "run.population": 40, "variation.crossover_rate": 0.3},
    {"task.name": "retina", "selection.scheme": "nsga2", "cost.kind": "length",
     "cost.coins": "per-check", "run.population": 40},
    {"task.name": "retina", "selection.scheme": "nsga2", "cost.kind": "count",
     "cost.coins": "per-check", "selection.diversity": True, "run.population": 40},
    {"selection.scheme": "nsga2", "cost.kind": "count", "cost.coins": "per-check",
     "selection.unique": True},
])
def test_numba_and_numpy_backends_give_identical_histories(small_config, overrides):
    config = small_config.replace(**overrides).replace(**{"run.generations": 150})
    fast, _ = _history(config.replace(**{"run.engine": "numba"}))
    slow, _ = _history(config.replace(**{"run.engine": "numpy"}))
    for name in fast:
        assert np.array_equal(fast[name], slow[name]), name


def test_blocks_cover_every_generation_once_and_evolution_improves(small_config):
    h, blocks = _history(small_config.replace(**{"schedule.kind": "fixed"}))
    assert np.array_equal(h["generation"], np.arange(small_config.run.generations + 1))
    assert all(b.generation[-1] % 64 == 63 for b in blocks[:-1])
    assert np.all(np.diff(h["fitness_best"]) >= 0)  # a fixed goal and an elite: never worse
    assert h["fitness_mean"][-50:].mean() > h["fitness_mean"][0] + 0.1


@pytest.mark.parametrize("overrides", [{}, {"selection.scheme": "nsga2", "cost.kind": "count"}])
def test_resuming_from_a_block_state_continues_identically(small_config, overrides):
    task = LogicTask()
    config = small_config.replace(**{"run.generations": 200, **overrides})
    schedule = make_schedule("mvg", task.goals, 201, period=20)
    full = list(evolve(task, schedule, config, np.uint64(9), block_size=50))
    resumed = list(evolve(task, schedule, config, np.uint64(9), full[1].state, block_size=50))
    assert len(resumed) == len(full) - 2
    for a, b in zip(full[2:], resumed):
        assert np.array_equal(a.best_genome, b.best_genome)
        assert np.array_equal(a.state.genomes, b.state.genomes)


def test_nsga2_history_does_not_depend_on_block_boundaries(small_config):
    """Survivors keep their evaluation and sorted order between generations; a block starts by
    evaluating and sorting everything again, which must change nothing."""
    task = LogicTask()
    config = small_config.replace(**{"selection.scheme": "nsga2", "cost.kind": "count",
                                     "run.generations": 120})
    schedule = make_schedule("mvg", task.goals, 121, period=20)
    histories = []
    for block_size in (7, 64, 200):
        blocks = list(evolve(task, schedule, config, np.uint64(4), block_size=block_size))
        histories.append(np.concatenate([b.best_genome for b in blocks]))
        histories.append(np.concatenate([b.fitness_mean for b in blocks]))
        histories.append(blocks[-1].state.genomes)
    for a, b in zip(histories[:3], histories[3:6]):
        assert np.array_equal(a, b)
    for a, b in zip(histories[:3], histories[6:]):
        assert np.array_equal(a, b)


def test_nsga2_unique_keeps_more_distinct_genomes(small_config):
    config = small_config.replace(**{"selection.scheme": "nsga2", "cost.kind": "count",
                                     "schedule.kind": "fixed", "run.generations": 100})
    _, plain = _history(config)
    _, unique = _history(config.replace(**{"selection.unique": True}))
    n = config.run.population  # the state is the survivors, then their offspring
    n_plain = len(np.unique(plain[-1].state.genomes[:n], axis=0))
    n_unique = len(np.unique(unique[-1].state.genomes[:n], axis=0))
    assert n_unique > n_plain and n_unique == n


def test_evolved_positions_shorten_the_wires_of_the_best(small_config):
    """Under a length penalty the placement evolves with the wiring: the final best circuit's
    wires are shorter at its own positions than at random ones (its wiring kept)."""
    from evosim import costs

    config = small_config.replace(**{"run.generations": 400, "schedule.kind": "fixed",
                                     "cost.kind": "length", "cost.weight": 0.002,
                                     "cost.layout": "evolved"})
    h, _ = _history(config)
    task = get_task(config.task, "evolved")
    best = h["best_genome"][-1]
    placements = np.tile(best, (500, 1))
    wiring = task.wiring_length
    placements[:, wiring:] = task.random_genomes(500, np.uint64(2))[:, wiring:]
    cost = np.empty(500)
    costs.connection_costs(placements, task.n_inputs, task.max_gates, costs.PLACED,
                           np.zeros((1, 1)), cost)
    assert h["cost_best"][-1] < np.quantile(cost, 0.05)


@pytest.mark.parametrize("scheme", ["elitist", "tournament"])
def test_without_selection_the_goal_does_not_steer_survival(small_config, scheme):
    """Generations without selection (vg0) rank at random: the population evolved under G1 and
    under G2 is the same genome for genome, while with selection it is not."""
    config = small_config.replace(**{"run.generations": 60, "selection.scheme": scheme,
                                     "selection.tournament_size": 3})
    task = get_task(config.task, config.cost.layout)

    def final(goal, selected):
        schedule = make_schedule("fixed", task.goals, 61, goal=goal)
        schedule = dataclasses.replace(schedule, selected=np.full(61, selected))
        return list(evolve(task, schedule, config, np.uint64(5), block_size=64))[-1].state.genomes

    assert np.array_equal(final("G1", False), final("G2", False))
    assert not np.array_equal(final("G1", True), final("G2", True))
