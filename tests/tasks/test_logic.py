import networkx as nx
import numpy as np
import pytest

from evosim.tasks.logic import LogicTask, count_correct_numpy

# x, y, z, w are addresses 0..3; gate g is address 4 + g.
# XOR(a, b) from four NANDs: n = a NAND b; XOR = (a NAND n) NAND (b NAND n).
MODULAR_G1 = [(0, 1), (0, 4), (1, 4), (5, 6),        # gates 0-3: x XOR y  -> address 7
              (2, 3), (2, 8), (3, 8), (9, 10),       # gates 4-7: z XOR w  -> address 11
              (7, 11), (12, 12),                     # gates 8-9: AND = NOT(NAND)
              (0, 0), (1, 2)]                        # gates 10-11: unused
MODULAR_G1_GENOME = np.array([a for pair in MODULAR_G1 for a in pair] + [13], dtype=np.int16)


def _evaluate_by_rows(genome, n_inputs):
    """Oracle: simulate the circuit row by row with Python ints."""
    n_gates = (len(genome) - 1) // 2
    out = []
    for r in range(2**n_inputs):
        signal = [(r >> i) & 1 for i in range(n_inputs)]
        for g in range(n_gates):
            signal.append(1 - (signal[genome[2 * g]] & signal[genome[2 * g + 1]]))
        out.append(signal[genome[-1]])
    return np.array(out)


def test_hand_built_modular_circuit_solves_g1_and_not_g2():
    task = LogicTask()
    g1 = task.pack(task.goals.target("G1"))[0]
    g2 = task.pack(task.goals.target("G2"))[0]
    assert task.performance(MODULAR_G1_GENOME[None], g1)[0] == 1.0
    assert task.performance(MODULAR_G1_GENOME[None], g2)[0] == 0.5  # AND vs OR differ on 8 rows


def test_graph_of_modular_circuit():
    task = LogicTask()
    g = task.graph(MODULAR_G1_GENOME)
    assert set(g.nodes) == set(range(14))  # 4 inputs and gates 0-9; gates 10, 11 do not count
    xor_edges = [(0, 4), (1, 4), (0, 5), (4, 5), (1, 6), (4, 6), (5, 7), (6, 7)]
    expected = set(xor_edges) | {(a + 2 if a < 4 else a + 4, b + 4) for a, b in xor_edges}
    expected |= {(7, 12), (11, 12), (12, 13)}
    assert set(g.edges) == expected
    assert g.nodes[13]["kind"] == "output" and g.nodes[0]["kind"] == "input"
    assert g.nodes[13]["layer"] == 5 and g.nodes[7]["layer"] == 3
    assert nx.is_directed_acyclic_graph(g)


@pytest.mark.parametrize("n_inputs,max_gates", [(4, 12), (2, 5), (6, 20), (7, 15), (8, 10)])
def test_bit_parallel_evaluation_matches_row_by_row(n_inputs, max_gates):
    task = LogicTask(n_inputs, max_gates)
    genomes = task.random_genomes(40, np.uint64(n_inputs))
    target = np.random.default_rng(0).integers(0, 2, 2**n_inputs).astype(np.uint8)
    words = task.pack(target)[0]
    expected = np.array([(_evaluate_by_rows(g, n_inputs) == target).sum() for g in genomes])
    assert np.array_equal(task.performance(genomes, words) * task.n_rows, expected)
    assert np.array_equal(count_correct_numpy(genomes, n_inputs, max_gates, task.input_words,
                                              words, task.row_mask), expected)


def test_random_genomes_respect_feed_forward_ranges():
    task = LogicTask(4, 12)
    genomes = task.random_genomes(5000, np.uint64(7))
    low, size = task.gene_low, task.gene_size
    assert np.all(genomes >= low) and np.all(genomes < low + size)
    assert np.array_equal(genomes.min(axis=0), low)
    assert np.array_equal(genomes.max(axis=0), low + size - 1)  # every value is reachable
    assert np.array_equal(task.random_genomes(5, np.uint64(7)), genomes[:5])


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_a_last_gate_output_is_fixed_and_mutation_rewires_only_gates(backend):
    """task.output = last-gate: the output gene has the one value n_inputs + max_gates - 1,
    and each mutated circuit changes exactly one gate input (never the output)."""
    from evosim.config import Config

    task = LogicTask(4, 12, output="last-gate")
    genomes = task.random_genomes(2000, np.uint64(3))
    assert (genomes[:, 24] == 15).all() and task.genome_problem(genomes) is None
    assert "gene 24" in task.genome_problem(np.where(np.arange(25) == 24, 14, genomes[:1]))
    config = Config().replace(**{"variation.mutation_rate": 1.0})
    constants = task.kernel_constants(config.variation, config.cost)
    mutated = genomes.copy()
    task.kernels(backend, constants).mutate(mutated, 0, np.uint64(9), 4, constants)
    changed = mutated != genomes
    assert (changed.sum(axis=1) == 1).all() and not changed[:, 24].any()
    assert task.genome_problem(mutated) is None


def test_evolved_layout_genomes_carry_gate_positions_for_the_drawing():
    task = LogicTask(layout="evolved")
    genome = np.concatenate([MODULAR_G1_GENOME, np.tile([3, 2], 12)]).astype(np.int16)
    genome[25:27] = [0, 1]  # gate 0 at (0, 1); every other gate shares the cell (3, 2)
    assert np.array_equal(task.functional_network(genome)[1],
                          LogicTask().functional_network(MODULAR_G1_GENOME)[1])
    position = dict(task.graph(genome).nodes(data="position"))
    assert position[0] == (0, 0) and position[3] == (3, 0) and position[4] == (0, 1)
    shared = sorted(position[n] for n in range(5, 14))  # spread around x = 3 in row 2
    assert all(y == 2 for _, y in shared) and len(set(shared)) == 9
    assert np.mean([x for x, _ in shared]) == pytest.approx(3.0)
    assert "position" not in next(iter(LogicTask().graph(MODULAR_G1_GENOME).nodes.values()))


def test_functional_network_drops_unreached_parts():
    task = LogicTask()
    genome = MODULAR_G1_GENOME.copy()
    genome[-1] = 7  # output = the first XOR: only x, y and its 4 gates remain
    nodes, edges = task.functional_network(genome)
    assert list(nodes) == [0, 1, 4, 5, 6, 7]
    assert len(edges) == 8
    adjacency = task.adjacency(genome)
    assert adjacency.shape == (6, 6) and (adjacency == adjacency.T).all() and adjacency.sum() == 16
