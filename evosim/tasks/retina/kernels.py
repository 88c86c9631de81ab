"""The retina's Numba kernels: evaluation of all 256 patterns, functional networks, connection
costs and Clune lab code's mutation; the NumPy twins are in ``reference``."""
from __future__ import annotations

import numpy as np
from numba import njit

from evosim import counter_rng as crng
from evosim.bits import popcount64
from evosim.counter_rng import Stream, below, bounded, draw, stream_state
from evosim.tasks.retina.layout import BIAS_MAX, BIAS_MIN, WEIGHT_VALUES

S_ADD_DO, S_DEL_DO, S_WEIGHT, S_BIAS = (Stream.ADD.value, Stream.DELETE.value,
                                       Stream.WEIGHT.value, Stream.BIAS.value)
S_ADD_WHICH, S_ADD_VAL, S_DEL_WHICH = S_ADD_DO + 1, S_ADD_DO + 2, S_DEL_DO + 1
S_WEIGHT_DIR, S_BIAS_DIR = S_WEIGHT + 1, S_BIAS + 1


@njit(cache=True)
def retina_correct(genomes, patterns, layers, activation, zero_wrong, target_words,
                   out) -> None:
    """out[i] = patterns network i classifies as the target says (all 256); an output of exactly
    0 means "no", or with ``zero_wrong`` is wrong for either answer."""
    act, nxt, h = _buffers(patterns, layers)
    for g in range(genomes.shape[0]):
        _output_sums(genomes[g], patterns, layers, activation, act, nxt, h)
        total = 0
        for word in range(target_words.size):
            bits, zeros = np.uint64(0), np.uint64(0)
            for j in range(64):
                if act[0, word * 64 + j] > 0:
                    bits |= np.uint64(1) << np.uint64(j)
                elif zero_wrong and act[0, word * 64 + j] == 0:
                    zeros |= np.uint64(1) << np.uint64(j)
            total += popcount64(~(bits ^ target_words[word]) & ~zeros)
        out[g] = total


@njit(cache=True)
def retina_answers(genomes, patterns, layers, activation, out) -> None:
    """out[i]: network i's answers packed in words (bit p of word p // 64: "yes", an output
    above 0, to pattern p): its behaviour, for behavioural diversity."""
    act, nxt, h = _buffers(patterns, layers)
    for g in range(genomes.shape[0]):
        _output_sums(genomes[g], patterns, layers, activation, act, nxt, h)
        for word in range(out.shape[1]):
            bits = np.uint64(0)
            for j in range(64):
                if act[0, word * 64 + j] > 0:
                    bits |= np.uint64(1) << np.uint64(j)
            out[g, word] = bits


@njit(cache=True, inline="always")
def _buffers(patterns, layers):
    n_rows, widest = patterns.shape[1], layers.max()
    return (np.empty((widest, n_rows), dtype=np.int16), np.empty((widest, n_rows), dtype=np.int16),
            np.empty(n_rows, dtype=np.int16))


@njit(cache=True, inline="always")
def _output_sums(genome, patterns, layers, activation, act, nxt, h) -> None:
    """One network over all patterns, leaving the output neuron's sums in act[0] (int16: every
    sum is at most 8 * 2 + 2 in size). Each neuron sums into one contiguous buffer, which the
    compiler vectorises over the patterns."""
    n_rows = patterns.shape[1]
    hidden_end = layers.size - 2
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


@njit(cache=True)
def functional_network(genome, layers) -> tuple[np.ndarray, np.ndarray]:
    """The neurons with a path of nonzero weights to the output, and the weights into them.

    Returns
    -------
    nodes : numpy.ndarray
        int64[k]: sorted ids (layer by layer) of the output and the nodes with a path to it.
    edges : numpy.ndarray
        int64[m, 2]: (source id, target id) of each nonzero weight into one of those nodes, in
        gene order.
    """
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
                  n_weights, sferes) -> None:
    """Per genome: add a connection (p_add), delete one (p_delete), then step each weight to a
    neighbouring value in {-2, -1, 1, 2} with probability weight_scale / #connections and each
    bias to a neighbouring value in {-2..2} with probability p_bias. With ``sferes`` (as Clune
    lab code's sferes does) a weight steps up or down clamped at the ends (a step out of
    -2 or 2 leaves it there) and a bias is redrawn uniformly from -2..2."""
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
                    if sferes:  # clamped: a step out of the ends does nothing
                        index = min(index + 1, 3) if up else max(index - 1, 0)
                    else:
                        index = _step(index, 0, 3, up)
                    g[q] = WEIGHT_VALUES[index]
        for q in range(n_bias):
            if below(draw(s_b, j * n_bias + q), bias_th):
                bits = draw(s_bdir, j * n_bias + q)
                if sferes:
                    g[n_weights + q] = BIAS_MIN + bounded(bits, BIAS_MAX - BIAS_MIN + 1)
                else:
                    g[n_weights + q] = _step(g[n_weights + q], BIAS_MIN, BIAS_MAX,
                                             (bits >> np.uint64(63)) == 1)


@njit(cache=True)
def _weight_index(value) -> int:
    return value + 2 if value < 0 else value + 1  # -2, -1, 1, 2 -> 0, 1, 2, 3


@njit(cache=True)
def retina_costs(genomes, layers, kind, sq_dist, optimal, x_fixed, out) -> None:
    """out[i] = connections of network i's functional part (kind 1) or their summed squared
    lengths (kind 2: between the fixed positions of ``sq_dist``, or with ``optimal`` the hidden
    neurons at the x positions that minimise the sum); 0 for kind 0."""
    for i in range(genomes.shape[0]):
        if kind == 0:
            out[i] = 0.0
            continue
        nodes, edges = functional_network(genomes[i].astype(np.int64), layers)
        x = optimal_x(edges, layers, x_fixed) if kind == 2 and optimal else x_fixed
        total = 0.0
        for e in range(edges.shape[0]):
            if kind == 1:
                total += 1.0
            elif optimal:
                d = x[edges[e, 0]] - x[edges[e, 1]]
                total += d * d + 1.0  # adjacent layers are one apart in y
            else:
                total += sq_dist[edges[e, 0], edges[e, 1]]
        out[i] = total


@njit(cache=True)
def optimal_x(edges, layers, x_fixed) -> np.ndarray:
    """x of every node with the hidden neurons where the summed squared lengths of ``edges``
    are least (inputs and output stay at ``x_fixed``): the Laplacian system of the hidden
    neurons, solved by Gaussian elimination in a fixed order (the NumPy twin does the same
    operations, so both give the same bits). Hidden neurons without edges keep x_fixed."""
    first, last = layers[0], layers.sum() - 1
    h = last - first
    m = np.zeros((h, h))
    r = np.zeros(h)
    for e in range(edges.shape[0]):
        for side in range(2):
            u, v = edges[e, side], edges[e, 1 - side]
            if first <= u < last:
                m[u - first, u - first] += 1.0
                if first <= v < last:
                    m[u - first, v - first] -= 1.0
                else:
                    r[u - first] += x_fixed[v]
    unused = np.zeros(h, dtype=np.bool_)
    for i in range(h):
        if m[i, i] == 0.0:
            unused[i] = True
            m[i, i] = 1.0
    for k in range(h):
        for i in range(k + 1, h):
            f = m[i, k] / m[k, k]
            for j in range(k, h):
                m[i, j] = m[i, j] - f * m[k, j]
            r[i] = r[i] - f * r[k]
    x = x_fixed.copy()
    for i in range(h - 1, -1, -1):
        acc = r[i]
        for j in range(i + 1, h):
            acc = acc - m[i, j] * x[first + j]
        if not unused[i]:
            x[first + i] = acc / m[i, i]
    return x


@njit(cache=True)
def evaluate(genomes, target, c, correct, cost) -> None:
    retina_correct(genomes, c.patterns, c.layers, c.activation, c.zero_wrong, target, correct)
    retina_costs(genomes, c.layers, c.cost_kind, c.sq_dist, c.optimal, c.x_fixed, cost)


@njit(cache=True)
def behave(genomes, c, out) -> None:
    retina_answers(genomes, c.patterns, c.layers, c.activation, out)


@njit(cache=True)
def mutate(pop, n_fixed, key, generation, c) -> None:
    mutate_retina(pop, n_fixed, key, generation, c.add, c.delete, c.weight_scale, c.bias,
                  c.n_weights, c.sferes)
