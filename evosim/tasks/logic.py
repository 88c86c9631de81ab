"""NAND logic circuits (Kashtan & Alon 2005): genomes, bit-parallel evaluation, functional graphs.

Genome: int16[2 * max_gates + 1]. Genes 2g and 2g + 1 are the source addresses of gate g; the last
gene is the address of the gate that drives the output: evolved (the default), or with
``output = "last-gate"`` fixed at the last gate (a gene of one value, which mutation leaves
alone). Addresses 0 .. n_inputs - 1 are the inputs, n_inputs + g is gate g. Circuits are
feed-forward: gate g reads inputs or gates below g, so every gene has a fixed range of valid
values (``gene_low`` + 0 .. ``gene_size`` - 1) and any gene-wise crossover keeps a genome valid.
With ``feedback`` a gate may read any gate (``evosim.tasks.recurrent``: evaluated as a clocked
circuit). With the ``evolved`` layout of connection costs (``evosim.costs``) the genome goes on
with 2 * max_gates position genes, (x, y) of every gate, each over its own range too.

Evaluation is bit-parallel: the truth table of every signal over all 2**n_inputs rows is packed into
uint64 words (bit r of word r // 64 is row r), so one gate over all rows is ``~(a & b)``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from numba import njit, uintp

from evosim import costs
from evosim import counter_rng as crng
from evosim.bits import CARD_GATES, CARD_INPUTS, popcount64
from evosim.counter_rng import Stream, below, bounded, draw, stream_state
from evosim.goals import GoalFamily, input_bits, logic_goal_family
from evosim.tasks import recurrent
from evosim.tasks.protocol import TaskKernels
from evosim.xp import array_module

if TYPE_CHECKING:  # networkx is imported by graph() alone: runs start faster
    import networkx as nx

INPUT_NAMES = "xyzwuv"
OUTPUTS = ("evolved", "last-gate")  # what drives the output: an evolved gene, or the last gate
INIT_STREAM = Stream.INIT_LOGIC.value
# Streams of mutation: whether, where and to what a wiring gene changes; the moves of evolved
# gate positions use the three streams from S_MOVE on, in the same way.
S_MUT_DO, S_MOVE = Stream.REWIRE.value, Stream.MOVE.value


class LogicConstants(NamedTuple):
    """What the circuit kernels read: sizes, packed inputs, gene ranges, costs, mutation rates."""

    n_inputs: int
    n_gates: int
    cost_kind: int               # evosim.costs kernel kind
    input_words: np.ndarray      # uint64[n_inputs, n_words]
    row_mask: np.ndarray         # uint64[n_words]
    gene_low: np.ndarray         # int64[L]
    gene_size: np.ndarray        # int64[L]
    sq_dist: np.ndarray          # float64[A, A] (unused with evolved positions)
    rewire: np.uint64            # coin threshold of variation.mutation_rate
    rewired: int                 # genes rewiring may change: the gates' (and an evolved output)
    steps: int                   # synchronous updates of a recurrent circuit (0: feed-forward)
    move: np.uint64              # coin threshold of variation.position_mutation_rate
    evaluate_copies: bool        # one word of rows: evaluating costs less than comparing


class LogicTask:
    """The logic-gate task for one circuit size; all arrays it hands out are read-only facts."""

    name = "logic-gates"
    directed_graph = False  # K&A record Q of the undirected circuit graph
    layouts = costs.LAYOUTS

    def __init__(self, n_inputs: int = 4, max_gates: int = 12, layout: str = "line",
                 output: str = "evolved", feedback: bool = False, steps: int = 0):
        self.n_inputs = n_inputs
        self.max_gates = max_gates
        self.layout = layout
        self.output = output
        self.feedback = feedback
        self.steps = (steps or max_gates) if feedback else 0  # max_gates: any DAG settles
        self.n_rows = 2**n_inputs
        self.n_words = (self.n_rows + 63) // 64
        self.wiring_length = 2 * max_gates + 1
        self.goals: GoalFamily = logic_goal_family(n_inputs)
        sources = np.full(2 * max_gates, n_inputs + max_gates) if feedback else \
            n_inputs + np.repeat(np.arange(max_gates), 2)
        if output not in OUTPUTS:
            raise ValueError(f"task.output: {output!r}; allowed: {', '.join(OUTPUTS)}")
        evolved = output == "evolved"
        low = [np.zeros(2 * max_gates), [n_inputs if evolved else n_inputs + max_gates - 1]]
        size = [sources, [max_gates if evolved else 1]]
        self.rewired_length = 2 * max_gates + evolved
        if layout == "evolved":  # x in 0 .. n_inputs - 1, y in 1 .. rows, per gate
            rows = costs.position_rows(n_inputs, max_gates)
            low.append(np.tile([0, 1], max_gates))
            size.append(np.tile([n_inputs, rows], max_gates))
        self.gene_low = np.concatenate(low).astype(np.int64)
        self.gene_size = np.concatenate(size).astype(np.int64)
        self.genome_length = self.gene_low.size
        self.input_words = self.pack(input_bits(n_inputs))
        self.row_mask = self.pack(np.ones((1, self.n_rows), dtype=np.uint8))[0]

    def goal_names(self) -> list[str]:
        return self.goals.names()

    def kernel_constants(self, variation, cost) -> LogicConstants:
        """The kernels' constants from the [variation] and [cost] sections."""
        if cost.layout not in self.layouts:
            raise ValueError(f"{cost.layout!r} is not a logic-gates layout; allowed: "
                             f"{', '.join(self.layouts)}")
        sq = (np.zeros((1, 1)) if cost.layout == "evolved" else  # positions come with genomes
              costs.squared_distances(costs.positions(cost.layout, self.n_inputs,
                                                      self.max_gates)))
        return LogicConstants(
            self.n_inputs, self.max_gates, costs.kernel_kind(cost.kind, cost.layout),
            self.input_words, self.row_mask, self.gene_low, self.gene_size, sq,
            np.uint64(crng.threshold(variation.mutation_rate)), self.rewired_length, self.steps,
            np.uint64(crng.threshold(variation.position_mutation_rate)),
            bool(self.row_mask.size == 1))

    @staticmethod
    def kernels(backend: str, constants: LogicConstants) -> TaskKernels:
        """The circuit kernels of a backend ("numba" or "numpy") for these constants: under a
        cost, circuits of one word of rows and at most 64 gates take the fused pass; the card's
        circuits without a cost take its constant-size pass (a run compiles only the evaluation
        it uses: a first run's compiling is most of its time)."""
        c = constants
        if c.steps:
            return (TaskKernels("logic-gates-recurrent", recurrent.evaluate_recurrent, mutate)
                    if backend == "numba" else
                    TaskKernels("logic-gates-recurrent", recurrent.evaluate_recurrent_numpy,
                                mutate_numpy))
        if backend == "numpy":
            return TaskKernels("logic-gates", evaluate_numpy, mutate_numpy, batched=True)
        if c.cost_kind != costs.NONE and c.row_mask.size == 1 and c.n_gates <= 64:
            return TaskKernels("logic-gates-fused", evaluate_fused, mutate)
        if c.cost_kind == costs.NONE and (c.n_inputs, c.n_gates) == (CARD_INPUTS, CARD_GATES):
            return TaskKernels("logic-gates-card", evaluate_card, mutate)
        return TaskKernels("logic-gates", evaluate, mutate)

    def supports_rmvg(self) -> bool:
        return bool(self.goals.rmvg_names())

    def pack(self, tables: np.ndarray) -> np.ndarray:
        """uint8[k, n_rows] truth tables -> uint64[k, n_words] bit-packed."""
        tables = np.atleast_2d(np.asarray(tables, dtype=np.uint64))
        padded = np.zeros((tables.shape[0], self.n_words * 64), dtype=np.uint64)
        padded[:, : self.n_rows] = tables
        weights = np.left_shift(np.uint64(1), np.arange(64, dtype=np.uint64))
        return (padded.reshape(tables.shape[0], self.n_words, 64) * weights).sum(
            axis=2, dtype=np.uint64)

    def random_genomes(self, n: int, key: np.uint64) -> np.ndarray:
        """n genomes with every gene uniform over its valid range (counter-based, so reproducible)."""
        state = crng.stream_state_array(key, 0, INIT_STREAM)
        draws = crng.draw_array(state, np.arange(n * self.genome_length)).reshape(n, -1)
        return (self.gene_low + crng.bounded_array(draws, self.gene_size)).astype(np.int16)

    def alleles(self) -> list[np.ndarray]:
        """The values each wiring gene can take (position genes change only the cost, not what
        the circuit computes): what a single mutation of the circuit can do."""
        return [np.arange(low, low + size) for low, size in
                zip(self.gene_low[: self.rewired_length], self.gene_size[: self.rewired_length])]

    def genome_problem(self, genomes: np.ndarray) -> str | None:
        """What makes these genomes invalid (a gene out of its range), or None: the compiled
        kernels do not check addresses."""
        genomes = np.asarray(genomes)
        if genomes.ndim != 2 or genomes.shape[1] != self.genome_length:
            return f"genomes of shape {list(genomes.shape)}, not [n, {self.genome_length}]"
        bad = (genomes < self.gene_low) | (genomes >= self.gene_low + self.gene_size)
        if bad.any():
            i, g = np.argwhere(bad)[0]
            return (f"gene {g} of genome {i} is {genomes[i, g]}; allowed "
                    f"{self.gene_low[g]}..{self.gene_low[g] + self.gene_size[g] - 1}")
        return None

    def performance(self, genomes: np.ndarray, target_words: np.ndarray) -> np.ndarray:
        """Fraction of rows each circuit gets right (the card's fitness)."""
        correct = np.empty(len(genomes), dtype=np.int64)
        if self.feedback:
            recurrent.count_correct_recurrent(genomes, self.n_inputs, self.max_gates, self.steps,
                                              self.input_words, target_words, self.row_mask,
                                              correct)
        else:
            count_correct(genomes, self.n_inputs, self.max_gates, self.input_words,
                          target_words, self.row_mask, correct)
        return correct / self.n_rows

    def functional_network(self, genome: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(nodes, edges) of the part that reaches the output: sorted addresses, and (source, gate)
        pairs, one per distinct wire (a gate reading one source twice gives one edge).

        Returns
        -------
        nodes : numpy.ndarray
            int64[k]: sorted addresses of the inputs and gates that reach the output.
        edges : numpy.ndarray
            int64[m, 2]: (source address, gate address) of each distinct wire into those gates.
        """
        wiring = np.asarray(genome, dtype=np.int64)[:self.wiring_length]
        if self.feedback:
            return recurrent.functional_network_recurrent(wiring, self.n_inputs)
        return functional_network(wiring, self.n_inputs)

    def unit_outputs(self, genome: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(gate addresses of the functional network, uint8[gates, rows]: each gate's output on
        every input row, row r holding input i = (r >> i) & 1). Feed-forward circuits only."""
        if self.feedback:
            raise ValueError("task.feedback: unit outputs are defined for feed-forward circuits")
        genome = np.asarray(genome, dtype=np.int64)
        signal = list(input_bits(self.n_inputs))
        for g in range(self.max_gates):
            signal.append(1 - (signal[genome[2 * g]] & signal[genome[2 * g + 1]]))
        nodes = self.functional_network(genome)[0]
        gates = nodes[nodes >= self.n_inputs]
        return gates, np.array([signal[a] for a in gates], dtype=np.uint8).reshape(-1, self.n_rows)

    def adjacency(self, genome: np.ndarray, directed: bool = False) -> np.ndarray:
        """0/1 adjacency of the functional network, nodes in address order."""
        nodes, edges = self.functional_network(genome)
        return edges_to_adjacency(nodes, edges, directed)

    def graph(self, genome: np.ndarray) -> nx.DiGraph:
        """The functional network with node attributes kind, layer and label (and, with the
        evolved layout, the ``position`` of every node: drawings show the evolved placement)."""
        genome = np.asarray(genome, dtype=np.int64)
        nodes, edges = self.functional_network(genome)
        out = int(genome[2 * self.max_gates])
        import networkx as nx

        g = nx.DiGraph()
        layer = _layers(nodes, edges, self.n_inputs)
        for node in nodes:
            node = int(node)
            if node < self.n_inputs:
                label = INPUT_NAMES[node] if self.n_inputs <= len(INPUT_NAMES) else f"in{node}"
                g.add_node(node, kind="input", layer=0, label=label)
            else:
                g.add_node(node, kind="output" if node == out else "gate", layer=layer[node],
                           label=f"g{node - self.n_inputs}")
        g.add_edges_from((int(a), int(b)) for a, b in edges)
        if self.layout == "evolved":
            xy = costs.positions("evolved", self.n_inputs, self.max_gates, genome)
            cells: dict[tuple, list[int]] = {}
            for n in g:  # gates may share a cell: spread them a little, so all can be seen
                cells.setdefault(tuple(xy[n]), []).append(n)
            for (x, y), members in cells.items():
                for i, n in enumerate(members):
                    g.nodes[n]["position"] = (x + 0.3 * (i - (len(members) - 1) / 2), y)
        return g


def _layers(nodes: np.ndarray, edges: np.ndarray, n_inputs: int) -> dict[int, int]:
    """The drawing's layer of each node: inputs 0, a gate one more than its deepest source
    (feed-forward), or, along loops, than the deepest source already placed (nodes in address
    order; a gate with no placed source goes to layer 1)."""
    sources: dict[int, list[int]] = {}
    for a, b in edges:
        sources.setdefault(int(b), []).append(int(a))
    layer: dict[int, int] = {}
    for node in map(int, nodes):
        placed = [layer[s] for s in sources.get(node, []) if s in layer]
        layer[node] = 0 if node < n_inputs else 1 + max(placed, default=0)
    return layer


def edges_to_adjacency(nodes: np.ndarray, edges: np.ndarray, directed: bool) -> np.ndarray:
    index = np.full(int(nodes.max()) + 1 if nodes.size else 0, -1, dtype=np.int64)
    index[nodes] = np.arange(nodes.size)
    adj = np.zeros((nodes.size, nodes.size), dtype=np.uint8)
    if edges.size:
        src, dst = index[edges[:, 0]], index[edges[:, 1]]
        adj[src, dst] = 1
        if not directed:
            adj[dst, src] = 1
    return adj


@njit(cache=True)
def functional_network(genome: np.ndarray, n_inputs: int) -> tuple[np.ndarray, np.ndarray]:
    """The part of a circuit (wiring genes, output address last) that reaches the output.

    Returns
    -------
    nodes : numpy.ndarray
        int64[k]: sorted addresses of the inputs and gates that reach the output.
    edges : numpy.ndarray
        int64[m, 2]: (source address, gate address) of each distinct wire into those gates, in
        gate order, the lower source first.
    """
    n_gates = (genome.size - 1) // 2
    reached = np.zeros(n_inputs + n_gates, dtype=np.bool_)
    reached[genome[-1]] = True
    n_edges = 0
    for gate in range(n_gates - 1, -1, -1):  # feed-forward: sources are below their gate
        if reached[n_inputs + gate]:
            a, b = genome[2 * gate], genome[2 * gate + 1]
            reached[a] = True
            reached[b] = True
            n_edges += 1 if a == b else 2
    nodes = np.flatnonzero(reached)
    edges = np.empty((n_edges, 2), dtype=np.int64)
    k = 0
    for gate in range(n_gates):
        if reached[n_inputs + gate]:
            a, b = genome[2 * gate], genome[2 * gate + 1]
            edges[k, 0], edges[k, 1] = min(a, b), n_inputs + gate
            k += 1
            if a != b:
                edges[k, 0], edges[k, 1] = max(a, b), n_inputs + gate
                k += 1
    return nodes, edges


@njit(cache=True)
def count_correct(genomes, n_inputs, n_gates, input_words, target_words, row_mask, out) -> None:
    """out[i] = rows on which circuit i equals the target: one NAND per gate over packed words."""
    if row_mask.size == 1:  # up to 6 inputs: every signal is one word
        if n_inputs == CARD_INPUTS and n_gates == CARD_GATES:
            _count_correct_1word(genomes, CARD_INPUTS, CARD_GATES, input_words[:, 0],
                                 target_words[0], row_mask[0], out)
        else:
            _count_correct_1word(genomes, n_inputs, n_gates, input_words[:, 0], target_words[0],
                                 row_mask[0], out)
        return
    n = genomes.shape[0]
    n_words = row_mask.size
    signal = np.empty((n_inputs + n_gates, n_words), dtype=np.uint64)
    signal[:n_inputs] = input_words
    for i in range(n):
        g = genomes[i]
        for gate in range(n_gates):
            a, b = uintp(g[2 * gate]), uintp(g[2 * gate + 1])
            for w in range(n_words):
                signal[n_inputs + gate, w] = ~(signal[a, w] & signal[b, w])
        total = 0
        o = uintp(g[2 * n_gates])
        for w in range(n_words):
            total += popcount64(~(signal[o, w] ^ target_words[w]) & row_mask[w])
        out[i] = total


@njit(cache=True, inline="always")  # inlined: constant sizes fold into it
def _count_correct_1word(genomes, n_inputs, n_gates, inputs, target, mask, out) -> None:
    n = genomes.shape[0]
    signal = np.empty(n_inputs + n_gates, dtype=np.uint64)
    signal[:n_inputs] = inputs
    for i in range(n):
        for gate in range(n_gates):  # unsigned addresses: no negative-index wraparound per read
            a, b = uintp(genomes[i, 2 * gate]), uintp(genomes[i, 2 * gate + 1])
            signal[n_inputs + gate] = ~(signal[a] & signal[b])
        out[i] = popcount64(~(signal[uintp(genomes[i, 2 * n_gates])] ^ target) & mask)


def count_correct_numpy(genomes, n_inputs, n_gates, input_words, target_words, row_mask):
    """The vectorised reference of ``count_correct`` (whole population per gate), on NumPy or
    CuPy arrays: genomes [N, L] against one target [W], or a batch of runs [R, N, L] against
    one target per run [R, W]."""
    xp = array_module(genomes)
    flat = genomes.reshape(-1, genomes.shape[-1])
    rows = xp.arange(len(flat))
    signal = xp.empty((len(flat), n_inputs + n_gates, row_mask.size), dtype=np.uint64)
    signal[:, :n_inputs] = input_words
    for gate in range(n_gates):
        a = signal[rows, flat[:, 2 * gate]]
        b = signal[rows, flat[:, 2 * gate + 1]]
        signal[:, n_inputs + gate] = ~(a & b)
    out = signal[rows, flat[:, 2 * n_gates]].reshape(genomes.shape[:-1] + (row_mask.size,))
    target = target_words[:, None] if genomes.ndim == 3 else target_words
    return xp.bitwise_count(~(out ^ target) & row_mask).sum(axis=-1).astype(np.int64)


# --- the engine's kernels (see evosim.tasks.protocol) ---------------------------------------------

@njit(cache=True)
def evaluate(genomes, target, c, correct, cost) -> None:
    """Rows correct, then the connection cost, of every circuit."""
    count_correct(genomes, c.n_inputs, c.n_gates, c.input_words, target, c.row_mask, correct)
    costs.connection_costs(genomes, c.n_inputs, c.n_gates, c.cost_kind, c.sq_dist, cost)


@njit(cache=True)
def evaluate_card(genomes, target, c, correct, cost) -> None:
    """``evaluate`` for the card's circuits (4 inputs, 12 gates, one word of rows) without a
    cost: the constant-size pass of ``count_correct`` alone."""
    _count_correct_1word(genomes, CARD_INPUTS, CARD_GATES, c.input_words[:, 0], target[0],
                         c.row_mask[0], correct)
    cost[:] = 0.0


@njit(cache=True)
def evaluate_fused(genomes, target, c, correct, cost) -> None:
    """``evaluate`` in one forward pass (``costs.correct_and_costs``): one word of rows, at most
    64 gates, a cost."""
    costs.correct_and_costs(genomes, c.n_inputs, c.n_gates, c.input_words, target, c.row_mask,
                            c.cost_kind, c.sq_dist, correct, cost)


def evaluate_numpy(genomes, target, c, correct, cost) -> None:
    correct[:] = count_correct_numpy(genomes, c.n_inputs, c.n_gates, c.input_words, target,
                                     c.row_mask)
    cost[:] = costs.connection_costs_numpy(genomes, c.n_inputs, c.n_gates, c.cost_kind,
                                           c.sq_dist)


@njit(cache=True)
def mutate(pop, n_fixed, key, generation, c) -> None:
    """Rewire one gene per mutated circuit; evolved gate positions move by their own rate."""
    wiring = 2 * c.n_gates + 1
    mutate_rewire(pop, n_fixed, key, generation, c.rewire, c.gene_low, c.gene_size, 0, c.rewired,
                  S_MUT_DO)
    if pop.shape[1] > wiring:
        mutate_rewire(pop, n_fixed, key, generation, c.move, c.gene_low, c.gene_size, wiring,
                      pop.shape[1], S_MOVE)


def mutate_numpy(pop, n_fixed, key, generation, c) -> None:
    wiring = 2 * c.n_gates + 1
    mutate_rewire_numpy(pop, n_fixed, key, generation, c.rewire, c.gene_low, c.gene_size, 0,
                        c.rewired, S_MUT_DO)
    if pop.shape[-1] > wiring:  # genomes [N, L], or a batch of runs [R, N, L]
        mutate_rewire_numpy(pop, n_fixed, key, generation, c.move, c.gene_low, c.gene_size,
                            wiring, pop.shape[-1], S_MOVE)


@njit(cache=True)
def mutate_rewire(pop, n_fixed, key, generation, threshold, gene_low, gene_size, first, stop,
                  stream) -> None:
    """With probability p per genome after the first ``n_fixed``, set one random gene of
    ``first .. stop - 1`` to a different valid value (draws from streams ``stream`` ..
    ``stream + 2``: whether, where, what)."""
    s_do = stream_state(key, generation, stream)
    s_pos = stream_state(key, generation, stream + 1)
    s_val = stream_state(key, generation, stream + 2)
    for j in range(pop.shape[0] - n_fixed):
        if below(draw(s_do, j), threshold):
            slot = n_fixed + j
            pos = first + bounded(draw(s_pos, j), stop - first)
            r = bounded(draw(s_val, j), gene_size[pos] - 1)
            current = pop[slot, pos] - gene_low[pos]
            pop[slot, pos] = gene_low[pos] + r + (1 if r >= current else 0)


def mutate_rewire_numpy(pop, n_fixed, key, generation, threshold, gene_low, gene_size, first,
                        stop, stream) -> None:
    """The array twin of ``mutate_rewire`` (same draws, same results), on NumPy or CuPy: one
    run's genomes [N, L] and key, or a batch [R, N, L] with keys uint64[R, 1] (and a threshold
    per run [R, 1], or one for all)."""
    xp = array_module(pop)
    batch = pop if pop.ndim == 3 else pop[None]
    keys = crng.key_rows(key)

    def draws(offset, n):
        state = crng.stream_state_array(keys, generation, stream + offset)
        return crng.draw_array(state, xp.arange(n, dtype=np.uint64))

    mutated = batch[:, n_fixed:]
    m = mutated.shape[1]
    do = crng.below_array(draws(0, m), threshold)
    pos = first + crng.bounded_array(draws(1, m), stop - first)
    low, size = gene_low[pos], gene_size[pos]
    r = crng.bounded_array(draws(2, m), size - 1)
    current = xp.take_along_axis(mutated, pos[:, :, None], axis=2)[:, :, 0] - low
    value = (low + r + (r >= current)).astype(pop.dtype)
    hit = do[:, :, None] & (xp.arange(pop.shape[-1]) == pos[:, :, None])
    mutated[...] = xp.where(hit, value[:, :, None], mutated)
