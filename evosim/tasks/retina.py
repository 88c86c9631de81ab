"""The retina: small layered threshold networks (Kashtan & Alon 2005; Clune, Mouret & Lipson 2013).

Eight pixels, +1 (on) or -1 (off): bits 0-3 of a pattern number are the left half, bits 4-7 the
right half. Layers 8-8-4-2-1, connections only between adjacent layers, integer weights in
{-2, -1, 1, 2} (0: no connection) and biases in {-2, ..., 2}. Activation ``threshold`` (K&A: +1 if
the weighted sum is > 0, else -1) or ``tanh`` (Clune: tanh(20 x)); with integer weights, biases
and inputs every weighted sum is an integer, and tanh(20 x) of an integer is exactly -1, 0 or +1
in float64, so both activations run in exact integer arithmetic. The network says "yes" when the
output neuron's weighted sum is > 0. Performance = 1 - errors / 256.

Genome: int16[121]: the weight matrices W0 (8x8), W1 (8x4), W2 (4x2), W3 (2x1) row-major (W[i, k]
connects neuron i of a layer to neuron k of the next), then the 15 biases of layers 1-4.
Nodes of the graph: inputs 0-7, layer 1 8-15, layer 2 16-19, layer 3 20-21, output 22.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from numba import njit

from evosim import counter_rng as crng
from evosim.counter_rng import Stream, below, bounded, draw, stream_state
from evosim.goals import BINARY_FUNCTIONS, GoalFamily, input_bits
from evosim import costs
from evosim.bits import popcount64
from evosim.tasks.protocol import TaskKernels

if TYPE_CHECKING:  # networkx is imported by graph() alone: runs start faster
    import networkx as nx

LAYERS = np.array([8, 8, 4, 2, 1], dtype=np.int64)
LEFT_OBJECTS = (15, 7, 5, 13, 1, 11, 4, 14)     # 4-bit values of the left half (Clune lab code)
RIGHT_OBJECTS = (15, 14, 10, 11, 8, 13, 2, 7)   # mirror images: the right-half objects
WEIGHT_VALUES = np.array([-2, -1, 1, 2], dtype=np.int64)
BIAS_MIN, BIAS_MAX = -2, 2
ACTIVATIONS = ("threshold", "tanh")
INIT_STREAM = Stream.INIT_RETINA.value


class RetinaConstants(NamedTuple):
    """What the retina kernels read: the patterns, the layers, costs and mutation rates."""

    patterns: np.ndarray         # int16[8, 256] of +-1
    layers: np.ndarray           # int64[5]
    activation: int              # index in ACTIVATIONS
    cost_kind: int               # 0 none, 1 count, 2 length
    sq_dist: np.ndarray          # float64[23, 23]
    add: np.uint64               # coin thresholds of the add, delete and bias mutations
    delete: np.uint64
    bias: np.uint64
    weight_scale: float          # expected weight steps per genome
    n_weights: int
    evaluate_copies: bool        # False: copies inherit their values (evaluation costs more)


def layer_offsets(layers: np.ndarray = LAYERS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(first weight gene of each layer's matrix, first bias gene of each layer, first node id of
    each layer); arrays of length len(layers) (+1 for the end)."""
    sizes = layers[:-1] * layers[1:]
    weight_start = np.concatenate([[0], np.cumsum(sizes)])
    bias_start = weight_start[-1] + np.concatenate([[0], np.cumsum(layers[1:])])
    node_start = np.concatenate([[0], np.cumsum(layers)])
    return weight_start.astype(np.int64), bias_start.astype(np.int64), node_start.astype(np.int64)


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
    layouts = ("layered",)

    def __init__(self, activation: str = "threshold", init_density: float = 0.5):
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation {activation!r}; allowed: {', '.join(ACTIVATIONS)}")
        self.activation = activation
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
            raise ValueError(f"{cost.layout!r} is not a retina layout; allowed: layered")
        return RetinaConstants(
            self.patterns, self.layers, ACTIVATIONS.index(self.activation),
            costs.COST_KINDS.index(cost.kind), costs.squared_distances(self.positions()),
            np.uint64(crng.threshold(variation.add_connection_rate)),
            np.uint64(crng.threshold(variation.delete_connection_rate)),
            np.uint64(crng.threshold(variation.bias_mutation_rate)),
            float(variation.weight_mutation_scale), self.n_weights, False)

    @staticmethod
    def kernels(backend: str, constants: RetinaConstants) -> TaskKernels:
        """The retina kernels of a backend ("numba" or "numpy")."""
        if backend == "numpy":
            return TaskKernels("retina", evaluate_numpy, mutate_numpy)
        return TaskKernels("retina", evaluate, mutate)

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
                       target_words, correct)
        return correct / self.n_rows

    def outputs(self, genome: np.ndarray) -> np.ndarray:
        """uint8[256]: the network's answer (1 = yes) for every pattern (plain NumPy)."""
        return forward_numpy(np.asarray(genome)[None], self.patterns, self.layers,
                             ACTIVATIONS.index(self.activation))[0]

    def functional_network(self, genome: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(nodes, edges): neurons with a path to the output and the inputs feeding them; edges
        (source, target) for every nonzero weight into a functional neuron."""
        return functional_network(np.asarray(genome, dtype=np.int64), self.layers)

    def adjacency(self, genome: np.ndarray, directed: bool = True) -> np.ndarray:
        from evosim.tasks.logic import edges_to_adjacency

        nodes, edges = self.functional_network(genome)
        return edges_to_adjacency(nodes, edges, directed)

    def positions(self) -> np.ndarray:
        """float64[23, 2]: node positions, layer l at y = l, centred rows with unit spacing."""
        xy = []
        for layer, size in enumerate(self.layers):
            xy += [(k - (size - 1) / 2, float(layer)) for k in range(size)]
        return np.array(xy)

    def graph(self, genome: np.ndarray) -> nx.DiGraph:
        genome = np.asarray(genome, dtype=np.int64)
        nodes, edges = self.functional_network(genome)
        layer_of = np.searchsorted(self.node_start, np.arange(self.n_nodes), side="right") - 1
        xy = self.positions()
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


@njit(cache=True)
def retina_correct(genomes, patterns, layers, activation, target_words, out) -> None:
    """out[i] = patterns network i classifies as the target says (all 256, in int16: every sum
    is at most 8 * 2 + 2 in size). Each neuron sums into one contiguous buffer, which the
    compiler vectorises over the 256 patterns."""
    n_rows = patterns.shape[1]
    widest = layers.max()
    act = np.empty((widest, n_rows), dtype=np.int16)
    nxt = np.empty((widest, n_rows), dtype=np.int16)
    h = np.empty(n_rows, dtype=np.int16)
    hidden_end = layers.size - 2
    for g in range(genomes.shape[0]):
        genome = genomes[g]
        for i in range(layers[0]):
            for p in range(n_rows):
                act[i, p] = patterns[i, p]
        w = 0
        b = genome.size - layers[1:].sum()
        for layer in range(layers.size - 1):
            n_in, n_out = layers[layer], layers[layer + 1]
            for k in range(n_out):
                bias = np.int16(genome[b + k])
                for p in range(n_rows):
                    h[p] = bias
                for i in range(n_in):
                    weight = np.int16(genome[w + i * n_out + k])
                    if weight != 0:
                        for p in range(n_rows):
                            h[p] += weight * act[i, p]
                if layer == hidden_end:  # the output neuron keeps its sum
                    for p in range(n_rows):
                        nxt[k, p] = h[p]
                elif activation == 0:  # threshold
                    for p in range(n_rows):
                        nxt[k, p] = 1 if h[p] > 0 else -1
                else:  # tanh(20 h) of an integer h: its sign
                    for p in range(n_rows):
                        nxt[k, p] = (h[p] > 0) - (h[p] < 0)
            w += n_in * n_out
            b += n_out
            for k in range(n_out):
                for p in range(n_rows):
                    act[k, p] = nxt[k, p]
        total = 0
        for word in range(target_words.size):
            bits = np.uint64(0)
            for j in range(64):
                if act[0, word * 64 + j] > 0:
                    bits |= np.uint64(1) << np.uint64(j)
            total += popcount64(~(bits ^ target_words[word]))
        out[g] = total


def forward_numpy(genomes, patterns, layers, activation) -> np.ndarray:
    """uint8[N, 256]: the answers of every network, with matrix products (the NumPy reference)."""
    w_start, b_start, _ = layer_offsets(layers)
    genomes = np.asarray(genomes, dtype=np.int64)
    act = np.broadcast_to(patterns.T, (len(genomes), *patterns.T.shape)).astype(np.int64)
    for layer in range(len(layers) - 1):
        n_in, n_out = layers[layer], layers[layer + 1]
        weights = genomes[:, w_start[layer]: w_start[layer + 1]].reshape(-1, n_in, n_out)
        bias = genomes[:, b_start[layer]: b_start[layer + 1]]
        h = act @ weights + bias[:, None, :]
        if layer < len(layers) - 2:
            h = np.where(h > 0, 1, -1) if activation == 0 else np.sign(h)
        act = h
    return (act[:, :, 0] > 0).astype(np.uint8)


def retina_correct_numpy(genomes, patterns, layers, activation, target_words) -> np.ndarray:
    answers = forward_numpy(genomes, patterns, layers, activation)
    targets = np.unpackbits(target_words.view(np.uint8), bitorder="little")[: answers.shape[1]]
    return (answers == targets).sum(axis=1).astype(np.int64)


@njit(cache=True)
def functional_network(genome, layers) -> tuple[np.ndarray, np.ndarray]:
    n_nodes = layers.sum()
    node_start = np.zeros(layers.size + 1, dtype=np.int64)
    weight_start = np.zeros(layers.size, dtype=np.int64)
    for layer in range(layers.size):
        node_start[layer + 1] = node_start[layer] + layers[layer]
        if layer + 1 < layers.size:
            weight_start[layer + 1] = weight_start[layer] + layers[layer] * layers[layer + 1]
    reached = np.zeros(n_nodes, dtype=np.bool_)
    reached[n_nodes - 1] = True
    n_edges = 0
    for layer in range(layers.size - 2, -1, -1):  # back from the output, one layer at a time
        n_in, n_out = layers[layer], layers[layer + 1]
        for i in range(n_in):
            for k in range(n_out):
                if genome[weight_start[layer] + i * n_out + k] != 0 \
                        and reached[node_start[layer + 1] + k]:
                    reached[node_start[layer] + i] = True
                    n_edges += 1
    edges = np.empty((n_edges, 2), dtype=np.int64)
    e = 0
    for layer in range(layers.size - 1):
        n_in, n_out = layers[layer], layers[layer + 1]
        for i in range(n_in):
            for k in range(n_out):
                if genome[weight_start[layer] + i * n_out + k] != 0 \
                        and reached[node_start[layer + 1] + k]:
                    edges[e, 0] = node_start[layer] + i
                    edges[e, 1] = node_start[layer + 1] + k
                    e += 1
    return np.flatnonzero(reached), edges


# --- mutation (Clune lab code's operators) -----------------------------------------------------
S_ADD_DO, S_DEL_DO, S_WEIGHT, S_BIAS = (Stream.ADD.value, Stream.DELETE.value,
                                       Stream.WEIGHT.value, Stream.BIAS.value)
S_ADD_WHICH, S_ADD_VAL, S_DEL_WHICH = S_ADD_DO + 1, S_ADD_DO + 2, S_DEL_DO + 1
S_WEIGHT_DIR, S_BIAS_DIR = S_WEIGHT + 1, S_BIAS + 1


@njit(cache=True)
def _nth(genome, n_weights, n, present) -> int:
    """Index of the n-th weight gene that is present (or absent)."""
    for q in range(n_weights):
        if (genome[q] != 0) == present:
            if n == 0:
                return q
            n -= 1
    return -1


@njit(cache=True)
def _step(value, low, high, up) -> int:
    """A neighbouring value in low..high (the only one at either end)."""
    if value == low:
        return value + 1
    if value == high:
        return value - 1
    return value + 1 if up else value - 1


@njit(cache=True)
def mutate_retina(pop, n_fixed, key, generation, add_th, del_th, weight_scale, bias_th,
                  n_weights) -> None:
    """Per genome: add a connection (p_add), delete one (p_delete), then step each weight to a
    neighbouring value in {-2, -1, 1, 2} with probability weight_scale / #connections and each
    bias to a neighbouring value in {-2..2} with probability p_bias."""
    s_add = stream_state(key, generation, S_ADD_DO)
    s_add_which = stream_state(key, generation, S_ADD_WHICH)
    s_add_val = stream_state(key, generation, S_ADD_VAL)
    s_del = stream_state(key, generation, S_DEL_DO)
    s_del_which = stream_state(key, generation, S_DEL_WHICH)
    s_w = stream_state(key, generation, S_WEIGHT)
    s_wdir = stream_state(key, generation, S_WEIGHT_DIR)
    s_b = stream_state(key, generation, S_BIAS)
    s_bdir = stream_state(key, generation, S_BIAS_DIR)
    length = pop.shape[1]
    n_bias = length - n_weights
    for j in range(pop.shape[0] - n_fixed):
        g = pop[n_fixed + j]
        present = 0
        for q in range(n_weights):
            present += g[q] != 0
        if below(draw(s_add, j), add_th) and present < n_weights:
            q = _nth(g, n_weights, bounded(draw(s_add_which, j), n_weights - present), False)
            g[q] = WEIGHT_VALUES[bounded(draw(s_add_val, j), 4)]
            present += 1
        if below(draw(s_del, j), del_th) and present > 0:
            g[_nth(g, n_weights, bounded(draw(s_del_which, j), present), True)] = 0
            present -= 1
        if present > 0:
            w_th = np.uint64(min(1.0, weight_scale / present) * crng.UNIT)
            for q in range(n_weights):
                if g[q] != 0 and below(draw(s_w, j * n_weights + q), w_th):
                    up = (draw(s_wdir, j * n_weights + q) >> np.uint64(63)) == 1
                    index = _weight_index(g[q])
                    g[q] = WEIGHT_VALUES[_step(index, 0, 3, up)]
        for q in range(n_bias):
            if below(draw(s_b, j * n_bias + q), bias_th):
                up = (draw(s_bdir, j * n_bias + q) >> np.uint64(63)) == 1
                g[n_weights + q] = _step(g[n_weights + q], BIAS_MIN, BIAS_MAX, up)


@njit(cache=True)
def _weight_index(value) -> int:
    return value + 2 if value < 0 else value + 1  # -2, -1, 1, 2 -> 0, 1, 2, 3


def mutate_retina_numpy(pop, n_fixed, key, generation, add_th, del_th, weight_scale, bias_th,
                        n_weights) -> None:
    """The vectorised twin of ``mutate_retina`` (same draws, same results)."""
    def draws(stream, n):
        return crng.draw_array(crng.stream_state_array(key, generation, stream), np.arange(n))

    m, length = pop.shape[0] - n_fixed, pop.shape[1]
    n_bias = length - n_weights
    g = pop[n_fixed:]
    rows = np.arange(m)
    weights = g[:, :n_weights]  # a view: edits land in pop
    present = (weights != 0).sum(axis=1)
    add = crng.below_array(draws(S_ADD_DO, m), add_th) & (present < n_weights)
    which = crng.bounded_array(draws(S_ADD_WHICH, m), np.maximum(n_weights - present, 1))
    value = WEIGHT_VALUES[crng.bounded_array(draws(S_ADD_VAL, m), 4)]
    q = _nth_numpy(weights == 0, which)
    weights[rows[add], q[add]] = value[add]
    present = present + add
    delete = crng.below_array(draws(S_DEL_DO, m), del_th) & (present > 0)
    which = crng.bounded_array(draws(S_DEL_WHICH, m), np.maximum(present, 1))
    q = _nth_numpy(weights != 0, which)
    weights[rows[delete], q[delete]] = 0
    present = present - delete
    w_th = (np.minimum(1.0, weight_scale / np.maximum(present, 1)) * crng.UNIT)
    hit = (weights != 0) & (present[:, None] > 0) & (
        (draws(S_WEIGHT, m * n_weights).reshape(m, n_weights) >> np.uint64(11))
        < w_th.astype(np.uint64)[:, None])
    up = (draws(S_WEIGHT_DIR, m * n_weights).reshape(m, n_weights) >> np.uint64(63)) == 1
    index = np.where(weights < 0, weights + 2, weights + 1)
    stepped = np.where(index == 0, 1, np.where(index == 3, 2, np.where(up, index + 1, index - 1)))
    weights[hit] = WEIGHT_VALUES[stepped[hit]]
    biases = g[:, n_weights:]
    hit = crng.below_array(draws(S_BIAS, m * n_bias).reshape(m, n_bias), bias_th)
    up = (draws(S_BIAS_DIR, m * n_bias).reshape(m, n_bias) >> np.uint64(63)) == 1
    stepped = np.where(biases == BIAS_MIN, BIAS_MIN + 1, np.where(
        biases == BIAS_MAX, BIAS_MAX - 1, np.where(up, biases + 1, biases - 1)))
    biases[hit] = stepped[hit]


def _nth_numpy(mask: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Per row, the index of the n-th True of mask (0 where there is none)."""
    return np.argmax(np.cumsum(mask, axis=1) == (n + 1)[:, None], axis=1)


# --- the engine's kernels (see evosim.tasks.protocol) -----------------------------------------------

@njit(cache=True)
def evaluate(genomes, target, c, correct, cost) -> None:
    retina_correct(genomes, c.patterns, c.layers, c.activation, target, correct)
    retina_costs(genomes, c.layers, c.cost_kind, c.sq_dist, cost)


def evaluate_numpy(genomes, target, c, correct, cost) -> None:
    correct[:] = retina_correct_numpy(genomes, c.patterns, c.layers, c.activation, target)
    cost[:] = retina_costs_numpy(genomes, c.layers, c.cost_kind, c.sq_dist)


@njit(cache=True)
def mutate(pop, n_fixed, key, generation, c) -> None:
    mutate_retina(pop, n_fixed, key, generation, c.add, c.delete, c.weight_scale, c.bias,
                  c.n_weights)


def mutate_numpy(pop, n_fixed, key, generation, c) -> None:
    mutate_retina_numpy(pop, n_fixed, key, generation, c.add, c.delete, c.weight_scale, c.bias,
                        c.n_weights)


# --- connection costs -----------------------------------------------------------------------------

@njit(cache=True)
def retina_costs(genomes, layers, kind, sq_dist, out) -> None:
    """out[i] = connections of network i's functional part (kind 1) or their summed squared
    lengths (kind 2); 0 for kind 0."""
    for i in range(genomes.shape[0]):
        if kind == 0:
            out[i] = 0.0
            continue
        nodes, edges = functional_network(genomes[i].astype(np.int64), layers)
        total = 0.0
        for e in range(edges.shape[0]):
            total += 1.0 if kind == 1 else sq_dist[edges[e, 0], edges[e, 1]]
        out[i] = total


def retina_costs_numpy(genomes, layers, kind, sq_dist) -> np.ndarray:
    """The NumPy twin of ``retina_costs``: reachability layer by layer on the whole population."""
    n = len(genomes)
    if kind == 0:
        return np.zeros(n)
    w_start, _, n_start = layer_offsets(layers)
    reached_next = np.ones((n, 1), dtype=bool)  # the output
    total = np.zeros(n)
    for layer in range(len(layers) - 2, -1, -1):
        n_in, n_out = layers[layer], layers[layer + 1]
        w = genomes[:, w_start[layer]: w_start[layer + 1]].reshape(n, n_in, n_out) != 0
        live = w & reached_next[:, None, :]
        if kind == 1:
            total += live.sum(axis=(1, 2))
        else:
            block = sq_dist[n_start[layer]: n_start[layer + 1], n_start[layer + 1]: n_start[layer + 2]]
            total += (live * block[None]).sum(axis=(1, 2))
        reached_next = live.any(axis=2)
    return total
