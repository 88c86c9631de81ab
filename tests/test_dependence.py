"""Boolean derivatives, half dependence and mutual information of network units, against
hand-built circuits, direct enumeration and a direct count."""
from collections import Counter

import numpy as np
import pytest
from click.testing import CliRunner

from evosim import config as cfg
from evosim import runner
from evosim.cli import main
from evosim.dependence import (boolean_derivatives, half_dependence, half_information,
                               halves_of, network_dependence)
from evosim.tasks.logic import LogicTask
from evosim.tasks.retina import RetinaTask

# (x0 XOR x1) AND (x2 XOR x3) built as two modules of four gates and a two-gate AND
MODULAR = [0, 1, 0, 4, 1, 4, 5, 6, 2, 3, 2, 8, 3, 8, 9, 10, 7, 11, 12, 12, 0, 0, 0, 0, 13]


def _gate_tables(genome, n_inputs, max_gates):
    """Every gate's output on every row, gate by gate and row by row."""
    tables = np.zeros((max_gates, 2**n_inputs), dtype=np.uint8)
    for row in range(2**n_inputs):
        signal = [(row >> i) & 1 for i in range(n_inputs)]
        for g in range(max_gates):
            signal.append(1 - (signal[genome[2 * g]] & signal[genome[2 * g + 1]]))
        tables[:, row] = signal[n_inputs:]
    return tables


def _information(x_half, y):
    """I(X; Y) in bits from the joint counts."""
    n = len(y)
    joint, px, py = Counter(zip(x_half, y)), Counter(x_half), Counter(y)
    return sum(c / n * np.log2((c / n) / (px[a] / n * py[b] / n)) for (a, b), c in joint.items())


def test_unit_outputs_are_the_gates_truth_tables():
    task = LogicTask()
    units, outputs = task.unit_outputs(np.array(MODULAR))
    assert units.tolist() == list(range(4, 14))
    assert np.array_equal(outputs, _gate_tables(MODULAR, 4, 12)[:10])
    x = np.arange(16)
    expected = ((x & 1) ^ ((x >> 1) & 1)) & (((x >> 2) & 1) ^ ((x >> 3) & 1))
    assert np.array_equal(outputs[-1], expected)


def test_an_xor_depends_on_both_inputs_everywhere_and_a_left_gate_not_on_the_right():
    x = np.arange(16)
    xor = ((x & 1) ^ ((x >> 2) & 1))[None, :]  # x0 (left) XOR x2 (right)
    nand_left = (1 - ((x & 1) & ((x >> 1) & 1)))[None, :]
    assert np.array_equal(boolean_derivatives(xor, 4), [[1, 0, 1, 0]])
    assert np.array_equal(half_dependence(xor, [[0, 1], [2, 3]]), [[1, 1]])
    assert half_dependence(nand_left, [[0, 1], [2, 3]])[0, 1] == 0
    assert np.array_equal(boolean_derivatives(nand_left, 4)[0, 2:], [0, 0])
    # XOR is independent of either input alone: no information about it in either half
    assert np.allclose(half_information(xor, [[0, 1], [2, 3]]), 0)


def test_mutual_information_equals_a_direct_count():
    rng = np.random.default_rng(3)
    outputs = rng.integers(-1, 2, size=(6, 256))
    halves = [[0, 1, 2, 3], [4, 5, 6, 7]]
    x = np.arange(256)
    mine = half_information(outputs, halves)
    for u in range(6):
        assert mine[u, 0] == pytest.approx(_information(x & 15, outputs[u]))
        assert mine[u, 1] == pytest.approx(_information(x >> 4, outputs[u]))


def test_boolean_derivatives_equal_flipping_each_input_of_each_pattern():
    task = RetinaTask()
    genome = task.random_genomes(1, np.uint64(5))[0]
    units, outputs = task.unit_outputs(genome)
    derivatives = boolean_derivatives(outputs, 8)
    for i in (0, 5):
        flips = [[outputs[u, p] != outputs[u, p ^ (1 << i)] for p in range(256)]
                 for u in range(len(units))]
        assert np.allclose(derivatives[:, i], np.mean(flips, axis=1))


def test_a_modular_circuit_has_one_sided_modules():
    task = LogicTask()
    d = network_dependence(task, np.array(MODULAR), halves_of(task))
    assert d.one_sided == pytest.approx(8 / 10)  # the two XOR modules; the AND reads both
    # max Q is at least the Q of the two modules (inputs with their gates; the AND on the left)
    import networkx as nx
    graph = nx.Graph()
    for u, unit in enumerate(d.units):
        for i in range(4):
            if d.derivatives[u, i] > 0:
                graph.add_edge(f"x{i}", int(unit), weight=d.derivatives[u, i])
    left = {"x0", "x1", 4, 5, 6, 7, 12, 13}
    q_modules = nx.community.modularity(graph, [left, set(graph) - left], weight="weight")
    assert d.q_dependency >= q_modules - 1e-12 and q_modules > 0.3


def test_the_command_prints_every_unit_of_evolved_and_trained_networks(tmp_path):
    small = {"run.generations": 50, "run.population": 40, "modularity.qm_epochs": 0}
    run = runner.run(cfg.Config().replace(**small), tmp_path / "r.h5").path
    result = CliRunner().invoke(main, ["dependence", str(run)])
    assert result.exit_code == 0, result.output
    assert "units depending on one half only" in result.output
    gradient = runner.run(cfg.Config().replace(**{**small, "run.mode": "gradient",
                                                  "run.generations": 2}), tmp_path / "g.h5").path
    trained = CliRunner().invoke(main, ["dependence", str(gradient)])
    assert trained.exit_code == 0, trained.output
    assert trained.output.count("nan") == 2 * 13  # 8 + 4 + 1 units, no information measure
