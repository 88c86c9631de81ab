"""Recurrent circuits (task.feedback): a clocked evaluation checked against a row-by-row
simulation, feed-forward circuits unchanged, an oscillator read as documented."""
import numpy as np
import pytest

from evosim.tasks.logic import LogicTask
from evosim.tasks.recurrent import count_correct_recurrent, count_correct_recurrent_numpy

from test_logic import MODULAR_G1_GENOME


def _simulate(genome, n_inputs, steps):
    """Oracle: every row on its own, Python ints, all gates from 0, updated together."""
    n_gates = (len(genome) - 1) // 2
    out = []
    for r in range(2**n_inputs):
        signal = [(r >> i) & 1 for i in range(n_inputs)] + [0] * n_gates
        for _ in range(steps):
            signal = signal[:n_inputs] + [1 - (signal[genome[2 * g]] & signal[genome[2 * g + 1]])
                                          for g in range(n_gates)]
        out.append(signal[genome[-1]])
    return np.array(out)


def _correct(task, genomes, target, backend):
    words = task.pack(target)
    if backend == "numpy":
        return count_correct_recurrent_numpy(genomes, task.n_inputs, task.max_gates, task.steps,
                                             task.input_words, words[0], task.row_mask)
    out = np.empty(len(genomes), dtype=np.int64)
    count_correct_recurrent(genomes, task.n_inputs, task.max_gates, task.steps,
                            task.input_words, words[0], task.row_mask, out)
    return out


@pytest.mark.parametrize("backend", ["numba", "numpy"])
@pytest.mark.parametrize("n_inputs,max_gates,steps", [(4, 12, 0), (4, 6, 7), (7, 9, 5)])
def test_clocked_evaluation_matches_a_row_by_row_simulation(backend, n_inputs, max_gates, steps):
    task = LogicTask(n_inputs, max_gates, feedback=True, steps=steps)
    genomes = task.random_genomes(40, np.uint64(n_inputs + steps))
    assert genomes[:, : 2 * max_gates].max() >= n_inputs + max_gates // 2  # reads later gates
    target = np.random.default_rng(1).integers(0, 2, task.n_rows).astype(np.uint8)
    expected = [(_simulate(g, n_inputs, task.steps) == target).sum() for g in genomes]
    assert np.array_equal(_correct(task, genomes, target, backend), expected)


def test_a_feed_forward_circuit_evaluates_as_without_feedback():
    plain, clocked = LogicTask(), LogicTask(feedback=True)
    target = plain.goals.target("G1")
    words = plain.pack(target)[0]
    genome = MODULAR_G1_GENOME[None, :]
    assert plain.performance(genome, words)[0] == clocked.performance(genome, words)[0] == 1.0
    for a, b in zip(plain.functional_network(genome[0]), clocked.functional_network(genome[0])):
        assert np.array_equal(a, b)
    assert LogicTask(feedback=True, steps=3).performance(genome, words)[0] < 1.0  # unsettled


@pytest.mark.parametrize("steps,value", [(12, 0), (13, 1)])
def test_an_inverter_ring_is_read_at_the_last_step(steps, value):
    """Gate 0 reads itself twice (NOT g0) and drives the output: from 0 it reads 1, 0, 1, ...
    so the output is 1 after an odd number of steps and 0 after an even one, in every row."""
    task = LogicTask(feedback=True, steps=steps)
    genome = np.zeros(task.genome_length, dtype=np.int16)
    genome[0] = genome[1] = 4
    genome[-1] = 4
    ones = np.ones(16, dtype=np.uint8)
    assert task.performance(genome[None, :], task.pack(ones)[0])[0] == value
    nodes, edges = task.functional_network(genome)
    assert nodes.tolist() == [4] and edges.shape == (0, 2)  # the self-loop is no connection


def test_a_loop_between_gates_is_in_the_functional_network_and_the_drawing():
    """g0 = NAND(x, g1), g1 = NAND(y, g0), output g1: both gates, a cycle, drawn in layers."""
    task = LogicTask(feedback=True)
    genome = np.zeros(task.genome_length, dtype=np.int16)
    genome[[0, 1, 2, 3]] = [0, 5, 1, 4]
    genome[-1] = 5
    nodes, edges = task.functional_network(genome)
    assert nodes.tolist() == [0, 1, 4, 5]
    assert edges.tolist() == [[0, 4], [5, 4], [1, 5], [4, 5]]
    g = task.graph(genome)
    assert g.nodes[5]["kind"] == "output" and g.has_edge(4, 5) and g.has_edge(5, 4)
    assert {g.nodes[n]["layer"] for n in (4, 5)} <= {1, 2}
