"""A task defined here, outside the package, runs on the engine with no edit of ``engine/``: the
plug-in interface of ``evosim.tasks.protocol`` is all a task needs."""
from typing import NamedTuple

import numpy as np
import pytest
from numba import njit

from evosim import config as cfg
from evosim import counter_rng as crng
from evosim.engine import evolve
from evosim.goals import GoalFamily, make_schedule
from evosim.tasks.protocol import TaskKernels

FLIP_STREAM = 40  # draws of the toy mutation: whether (40) and which gene (41)


class MatchConstants(NamedTuple):
    flip: np.uint64          # coin threshold of a one-gene flip
    evaluate_copies: bool


@njit(cache=False)
def _evaluate(genomes, target, c, correct, cost) -> None:
    for i in range(genomes.shape[0]):
        same, ones = 0, 0
        for j in range(genomes.shape[1]):
            same += genomes[i, j] == target[j]
            ones += genomes[i, j]
        correct[i] = same
        cost[i] = ones


def _evaluate_numpy(genomes, target, c, correct, cost) -> None:
    correct[:] = (genomes == target).sum(axis=1)
    cost[:] = genomes.sum(axis=1)


@njit(cache=False)
def _mutate(pop, n_fixed, key, generation, c) -> None:
    s_do = crng.stream_state(key, generation, FLIP_STREAM)
    s_at = crng.stream_state(key, generation, FLIP_STREAM + 1)
    for j in range(pop.shape[0] - n_fixed):
        if crng.below(crng.draw(s_do, j), c.flip):
            at = crng.bounded(crng.draw(s_at, j), pop.shape[1])
            pop[n_fixed + j, at] = 1 - pop[n_fixed + j, at]


def _mutate_numpy(pop, n_fixed, key, generation, c) -> None:
    m = pop.shape[0] - n_fixed
    do = crng.below_array(crng.draw_array(crng.stream_state_array(key, generation, FLIP_STREAM),
                                          np.arange(m)), c.flip)
    at = crng.bounded_array(crng.draw_array(
        crng.stream_state_array(key, generation, FLIP_STREAM + 1), np.arange(m)), pop.shape[1])
    rows = n_fixed + np.flatnonzero(do)
    pop[rows, at[do]] = 1 - pop[rows, at[do]]


class MatchTask:
    """Genomes of 16 bits that should equal a goal's truth table over 4 inputs."""

    name = "toy-match"
    n_rows = genome_length = 16

    def __init__(self):
        self.goals = GoalFamily(4, {"x": lambda b: b[0], "x^y": lambda b: b[0] ^ b[1]})

    def pack(self, tables):
        return np.atleast_2d(np.asarray(tables)).astype(np.int16)

    def random_genomes(self, n, key):
        draws = crng.draw_array(crng.stream_state_array(key, 0, 0xB19), np.arange(16 * n))
        return crng.bounded_array(draws, 2).reshape(n, 16).astype(np.int16)

    def kernel_constants(self, variation, cost):
        return MatchConstants(np.uint64(crng.threshold(variation.mutation_rate)), False)

    @staticmethod
    def kernels(backend, constants):
        if backend == "numpy":
            return TaskKernels("toy-match", _evaluate_numpy, _mutate_numpy)
        return TaskKernels("toy-match", _evaluate, _mutate)


def _run(engine, **settings):
    config = cfg.from_dict({}).replace(**{"run.population": 60, "run.generations": 150,
                                          "run.engine": engine, **settings})
    task = MatchTask()
    kind = config.schedule.kind
    schedule = make_schedule(kind, task.goals, 151, period=20, goal="x", goals=("x", "x^y"))
    return list(evolve(task, schedule, config, np.uint64(9), block_size=50))


@pytest.mark.parametrize("settings", [
    {"schedule.kind": "fixed"},
    {"schedule.kind": "mvg", "selection.scheme": "tournament", "cost.kind": "count",
     "cost.weight": 0.001},
    {"schedule.kind": "mvg", "selection.scheme": "nsga2", "cost.kind": "count", "cost.p": 0.5},
], ids=["elitist-fixed", "tournament-mvg-cost", "nsga2-mvg"])
def test_a_task_from_outside_runs_the_same_on_both_backends(settings):
    numba_blocks, numpy_blocks = _run("numba", **settings), _run("numpy", **settings)
    for a, b in zip(numba_blocks, numpy_blocks, strict=True):
        for field in ("fitness_best", "fitness_mean", "cost_best", "cost_mean", "front0_size",
                      "best_genome"):
            assert np.array_equal(getattr(a, field), getattr(b, field)), field
        assert np.array_equal(a.state.genomes, b.state.genomes)
    if settings["schedule.kind"] == "fixed":  # and it evolves: the goal's table is found
        assert numba_blocks[0].fitness_best[0] < 1.0 == numba_blocks[-1].fitness_best[-1]
        assert np.array_equal(numba_blocks[-1].best_genome[-1], MatchTask().goals.target("x"))
