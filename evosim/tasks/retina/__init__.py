"""The retina: small layered threshold networks (Kashtan & Alon 2005; Clune, Mouret & Lipson 2013).

Eight pixels, +1 (on) or -1 (off): bits 0-3 of a pattern number are the left half, bits 4-7 the
right half. Layers 8-8-4-2-1, connections only between adjacent layers, integer weights in
{-2, -1, 1, 2} (0: no connection) and biases in {-2, ..., 2}. Activation ``threshold`` (K&A: +1 if
the weighted sum is > 0, else -1) or ``tanh`` (Clune: tanh(20 x)); with integer weights, biases
and inputs every weighted sum is an integer, and tanh(20 x) of an integer is exactly -1, 0 or +1
in float64, so both activations run in exact integer arithmetic. The network says "yes" when the
output neuron's weighted sum is > 0; a sum of exactly 0 means "no" (``zero_output = "no"``), or as
in Clune lab code is wrong for either answer (``"wrong"``: under tanh, tanh(20 * 0) = 0 is no
answer). Performance = 1 - errors / 256.

Genome: int16[121]: the weight matrices W0 (8x8), W1 (8x4), W2 (4x2), W3 (2x1) row-major (W[i, k]
connects neuron i of a layer to neuron k of the next), then the 15 biases of layers 1-4.
Nodes of the graph: inputs 0-7, layer 1 8-15, layer 2 16-19, layer 3 20-21, output 22.

The Numba kernels are in ``kernels``, their NumPy twins in ``reference``, the fixed layout in
``layout``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from evosim import costs
from evosim import counter_rng as crng
from evosim.counter_rng import Stream
from evosim.goals import BINARY_FUNCTIONS, GoalFamily, input_bits
from evosim.tasks.protocol import TaskKernels
from evosim.tasks.retina.kernels import (behave, evaluate, functional_network,  # noqa: F401
                                         mutate, mutate_retina, optimal_x, retina_correct,
                                         retina_costs)
from evosim.tasks.retina.layout import (BIAS_MAX, BIAS_MIN, LAYERS, WEIGHT_VALUES,  # noqa: F401
                                        layer_offsets)
from evosim.tasks.retina.reference import (behave_numpy, evaluate_numpy,  # noqa: F401
                                           forward_numpy, layer_outputs_numpy, mutate_numpy,
                                           mutate_retina_numpy, retina_correct_numpy,
                                           retina_costs_numpy)

if TYPE_CHECKING:  # networkx is imported by graph() alone: runs start faster
    import networkx as nx

LEFT_OBJECTS = (15, 7, 5, 13, 1, 11, 4, 14)     # 4-bit values of the left half (Clune lab code)
RIGHT_OBJECTS = (15, 14, 10, 11, 8, 13, 2, 7)   # mirror images: the right-half objects
ACTIVATIONS = ("threshold", "tanh")
ZERO_OUTPUTS = ("no", "wrong")  # what an output of exactly 0 answers
INIT_STREAM = Stream.INIT_RETINA.value


class RetinaConstants(NamedTuple):
    """What the retina kernels read: the patterns, the layers, costs and mutation rates."""

    patterns: np.ndarray         # int16[8, 256] of +-1
    layers: np.ndarray           # int64[5]
    activation: int              # index in ACTIVATIONS
    zero_wrong: bool             # an output of exactly 0 is wrong for either answer
    cost_kind: int               # 0 none, 1 count, 2 length
    sq_dist: np.ndarray          # float64[23, 23]: squared distances of the fixed layout
    optimal: bool                # the length cost with hidden neurons placed optimally
    x_fixed: np.ndarray          # float64[23]: x of every node in the fixed layout
    add: np.uint64               # coin thresholds of the add, delete and bias mutations
    delete: np.uint64
    bias: np.uint64
    weight_scale: float          # expected weight steps per genome
    n_weights: int
    sferes: bool                 # weights and biases change as Clune lab code's sferes does
    evaluate_copies: bool        # False: copies inherit their values (evaluation costs more)

    HOST_FIELDS = ("layers",)    # the batched engine keeps these on the host (shapes, offsets)


def left_object(bits: np.ndarray) -> np.ndarray:
    value = bits[0] + 2 * bits[1] + 4 * bits[2] + 8 * bits[3]
    return np.isin(value, LEFT_OBJECTS).astype(np.uint8)


def right_object(bits: np.ndarray, objects=RIGHT_OBJECTS) -> np.ndarray:
    value = bits[4] + 2 * bits[5] + 4 * bits[6] + 8 * bits[7]
    return np.isin(value, objects).astype(np.uint8)


def retina_goal_family() -> GoalFamily:
    """L = the left half shows a left object, R = the right half a right object.

    ``and``, ``or`` (K&A, Clune) and every F(L, R) of the ten two-input functions that depend on
    both (the RMVG family; AND and OR under their short names). Serial goals, where the left half
    decides what is asked of the right half (source document 000, experiment 5):
    ``serial-xnor`` = if L then R else not R; ``serial-select`` = if L then R else R*, with
    R* = the right half shows one of the *left* objects (L picks which object set counts).
    """
    named = {}
    rmvg = []
    for fname, fn in BINARY_FUNCTIONS.items():
        name = {"AND": "and", "OR": "or"}.get(fname, f"{fname}(L,R)")
        named[name] = lambda b, fn=fn: fn(left_object(b), right_object(b))
        rmvg.append(name)
    named["serial-xnor"] = lambda b: np.where(left_object(b), right_object(b),
                                              1 - right_object(b)).astype(np.uint8)
    named["serial-select"] = lambda b: np.where(left_object(b), right_object(b),
                                                right_object(b, LEFT_OBJECTS)).astype(np.uint8)
    return GoalFamily(8, named, rmvg)


class RetinaTask:
    """The retina task; all arrays it hands out are read-only facts."""

    name = "retina"
    directed_graph = True  # Clune et al. record directed (Leicht-Newman) Q
    behaves = True  # its kernels give the answers behavioural diversity compares
    layouts = ("layered", "optimal")  # optimal: hidden neurons where the wiring is shortest

    def __init__(self, activation: str = "threshold", init_density: float = 0.5,
                 zero_output: str = "no", layout: str = "layered"):
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation {activation!r}; allowed: {', '.join(ACTIVATIONS)}")
        if zero_output not in ZERO_OUTPUTS:
            raise ValueError(f"zero_output {zero_output!r}; allowed: {', '.join(ZERO_OUTPUTS)}")
        self.activation = activation
        self.zero_output = zero_output
        self.layout = layout
        self.init_density = init_density
        self.layers = LAYERS
        self.n_inputs = int(LAYERS[0])
        self.n_nodes = int(LAYERS.sum())
        self.n_rows = 2**self.n_inputs
        self.n_words = self.n_rows // 64
        self.weight_start, self.bias_start, self.node_start = layer_offsets(LAYERS)
        self.n_weights = int(self.weight_start[-1])
        self.genome_length = int(self.bias_start[-1])
        self.goals = retina_goal_family()
        self.patterns = (2 * input_bits(self.n_inputs).astype(np.int16) - 1)  # [8, 256] of +-1
        self.row_mask = np.full(self.n_words, ~np.uint64(0), dtype=np.uint64)

    def goal_names(self) -> list[str]:
        return self.goals.names()

    def supports_rmvg(self) -> bool:
        return True

    def kernel_constants(self, variation, cost) -> RetinaConstants:
        """The kernels' constants from the [variation] and [cost] sections."""
        if cost.layout not in self.layouts:
            raise ValueError(f"{cost.layout!r} is not a retina layout; allowed: "
                             f"{', '.join(self.layouts)}")
        xy = self.positions()
        return RetinaConstants(
            self.patterns, self.layers, ACTIVATIONS.index(self.activation),
            self.zero_output == "wrong", costs.COST_KINDS.index(cost.kind),
            costs.squared_distances(xy), cost.layout == "optimal", xy[:, 0].copy(),
            np.uint64(crng.threshold(variation.add_connection_rate)),
            np.uint64(crng.threshold(variation.delete_connection_rate)),
            np.uint64(crng.threshold(variation.bias_mutation_rate)),
            float(variation.weight_mutation_scale), self.n_weights,
            variation.value_mutation == "sferes", False)

    @staticmethod
    def kernels(backend: str, constants: RetinaConstants) -> TaskKernels:
        """The retina kernels of a backend ("numba" or "numpy")."""
        if backend == "numpy":  # batched but for the optimal layout, whose float lengths
            #                       sum to other bits in another order (a GPU's)
            return TaskKernels("retina", evaluate_numpy, mutate_numpy, behave_numpy,
                               batched=not constants.optimal)
        return TaskKernels("retina", evaluate, mutate, behave)

    def pack(self, tables: np.ndarray) -> np.ndarray:
        """uint8[k, 256] truth tables -> uint64[k, 4] bit-packed (bit r of word r // 64 = row r)."""
        tables = np.atleast_2d(np.asarray(tables, dtype=np.uint8))
        return np.packbits(tables, axis=1, bitorder="little").view(np.uint64)

    def random_genomes(self, n: int, key: np.uint64) -> np.ndarray:
        """Each connection present with probability init_density, with a uniform weight in
        {-2, -1, 1, 2}; biases uniform in {-2, ..., 2} (counter-based, reproducible)."""
        state = crng.stream_state_array(key, 0, INIT_STREAM)
        draws = crng.draw_array(state, np.arange(2 * n * self.genome_length)).reshape(n, -1, 2)
        genomes = np.zeros((n, self.genome_length), dtype=np.int16)
        w = slice(0, self.n_weights)
        present = crng.below_array(draws[:, w, 0], crng.threshold(self.init_density))
        genomes[:, w] = np.where(present, WEIGHT_VALUES[crng.bounded_array(draws[:, w, 1], 4)], 0)
        genomes[:, self.n_weights:] = BIAS_MIN + crng.bounded_array(
            draws[:, self.n_weights:, 1], BIAS_MAX - BIAS_MIN + 1)
        return genomes

    def alleles(self) -> list[np.ndarray]:
        """The values each gene can take: weights -2..2 (0: no connection), biases -2..2."""
        values = np.arange(BIAS_MIN, BIAS_MAX + 1)  # = WEIGHT_VALUES and 0
        return [values] * self.genome_length

    def genome_problem(self, genomes: np.ndarray) -> str | None:
        """What makes these genomes invalid (a weight or bias out of range), or None."""
        genomes = np.asarray(genomes)
        if genomes.ndim != 2 or genomes.shape[1] != self.genome_length:
            return f"genomes of shape {list(genomes.shape)}, not [n, {self.genome_length}]"
        weights, biases = genomes[:, :self.n_weights], genomes[:, self.n_weights:]
        bad = ~np.isin(weights, [0, *WEIGHT_VALUES])
        if bad.any():
            i, g = np.argwhere(bad)[0]
            return (f"weight {g} of genome {i} is {weights[i, g]}; allowed 0 (absent) or "
                    f"{', '.join(map(str, WEIGHT_VALUES))}")
        bad = (biases < BIAS_MIN) | (biases > BIAS_MAX)
        if bad.any():
            i, g = np.argwhere(bad)[0]
            return f"bias {g} of genome {i} is {biases[i, g]}; allowed {BIAS_MIN}..{BIAS_MAX}"
        return None

    def performance(self, genomes: np.ndarray, target_words: np.ndarray) -> np.ndarray:
        correct = np.empty(len(genomes), dtype=np.int64)
        retina_correct(genomes, self.patterns, self.layers, ACTIVATIONS.index(self.activation),
                       self.zero_output == "wrong", target_words, correct)
        return correct / self.n_rows

    def outputs(self, genome: np.ndarray) -> np.ndarray:
        """uint8[256]: the network's answer (1 = yes) for every pattern (plain NumPy)."""
        return forward_numpy(np.asarray(genome)[None], self.patterns, self.layers,
                             ACTIVATIONS.index(self.activation))[0]

    def functional_network(self, genome: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(nodes, edges): neurons with a path to the output and the inputs feeding them; edges
        (source, target) for every nonzero weight into a functional neuron.

        Returns
        -------
        nodes : numpy.ndarray
            int64[k]: sorted ids of the nodes with a path of nonzero weights to the output.
        edges : numpy.ndarray
            int64[m, 2]: (source id, target id) of each nonzero weight into one of those nodes.
        """
        return functional_network(np.asarray(genome, dtype=np.int64), self.layers)

    def unit_outputs(self, genome: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(ids of the functional network's neurons, int8[neurons, 256]: each one's activation on
        every pattern; the output neuron's is its answer, 1 yes and 0 no)."""
        genome = np.asarray(genome, dtype=np.int64)
        *hidden, sums = layer_outputs_numpy(genome[None, :], self.patterns, self.layers,
                                            ACTIVATIONS.index(self.activation))
        every = np.concatenate([self.patterns, *(h[0].T for h in hidden), (sums[0] > 0).T])
        nodes = self.functional_network(genome)[0]
        units = nodes[nodes >= self.n_inputs]
        return units, every[units].astype(np.int8)

    def adjacency(self, genome: np.ndarray, directed: bool = True) -> np.ndarray:
        from evosim.tasks.logic import edges_to_adjacency

        nodes, edges = self.functional_network(genome)
        return edges_to_adjacency(nodes, edges, directed)

    def positions(self, genome: np.ndarray | None = None) -> np.ndarray:
        """float64[23, 2]: node positions, layer l at y = l, centred rows with unit spacing; with
        the optimal layout and a ``genome``, its hidden neurons where its functional network's
        summed squared length is least (``kernels.optimal_x``)."""
        xy = []
        for layer, size in enumerate(self.layers):
            xy += [(k - (size - 1) / 2, float(layer)) for k in range(size)]
        xy = np.array(xy)
        if self.layout == "optimal" and genome is not None:
            _, edges = self.functional_network(genome)
            xy[:, 0] = optimal_x(edges, self.layers, xy[:, 0].copy())
        return xy

    def graph(self, genome: np.ndarray) -> nx.DiGraph:
        genome = np.asarray(genome, dtype=np.int64)
        nodes, edges = self.functional_network(genome)
        layer_of = np.searchsorted(self.node_start, np.arange(self.n_nodes), side="right") - 1
        xy = self.positions(genome)
        import networkx as nx

        g = nx.DiGraph()
        last = len(self.layers) - 1
        for node in nodes:
            layer = int(layer_of[node])
            kind = "input" if layer == 0 else "output" if layer == last else "neuron"
            g.add_node(int(node), kind=kind, layer=layer, position=tuple(xy[node]),
                       label=f"{'LR'[node // 4]}{node % 4}" if layer == 0 else f"n{node}")
        for a, b in edges:
            g.add_edge(int(a), int(b), weight=int(weight_of(genome, self.layers, a, b)))
        return g


def weight_of(genome: np.ndarray, layers: np.ndarray, source: int, target: int) -> int:
    w_start, _, n_start = layer_offsets(layers)
    layer = int(np.searchsorted(n_start, source, side="right") - 1)
    i, k = source - n_start[layer], target - n_start[layer + 1]
    return int(genome[w_start[layer] + i * layers[layer + 1] + k])
