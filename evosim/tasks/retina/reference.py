"""The retina's NumPy twins of ``kernels``: the same draws and results, vectorised over the
population (the reference the kernels are tested against)."""
from __future__ import annotations

import numpy as np

from evosim import counter_rng as crng
from evosim.tasks.retina.kernels import (S_ADD_DO, S_ADD_VAL, S_ADD_WHICH, S_BIAS, S_BIAS_DIR,
                                         S_DEL_DO, S_DEL_WHICH, S_WEIGHT, S_WEIGHT_DIR)
from evosim.tasks.retina.layout import BIAS_MAX, BIAS_MIN, WEIGHT_VALUES, layer_offsets


def layer_outputs_numpy(genomes, patterns, layers, activation) -> list[np.ndarray]:
    """int64[N, 256, units] of every layer after the inputs, with matrix products (the NumPy
    reference): the hidden neurons' activations, then the output neuron's weighted sum."""
    w_start, b_start, _ = layer_offsets(layers)
    genomes = np.asarray(genomes, dtype=np.int64)
    act = np.broadcast_to(patterns.T, (len(genomes), *patterns.T.shape)).astype(np.int64)
    every = []
    for layer in range(len(layers) - 1):
        n_in, n_out = layers[layer], layers[layer + 1]
        weights = genomes[:, w_start[layer]: w_start[layer + 1]].reshape(-1, n_in, n_out)
        bias = genomes[:, b_start[layer]: b_start[layer + 1]]
        h = act @ weights + bias[:, None, :]
        if layer < len(layers) - 2:
            h = np.where(h > 0, 1, -1) if activation == 0 else np.sign(h)
        every.append(h)
        act = h
    return every


def output_sums_numpy(genomes, patterns, layers, activation) -> np.ndarray:
    """int64[N, 256]: the output neuron's weighted sum of every network for every pattern."""
    return layer_outputs_numpy(genomes, patterns, layers, activation)[-1][:, :, 0]


def forward_numpy(genomes, patterns, layers, activation) -> np.ndarray:
    """uint8[N, 256]: the answers of every network (1: yes, an output sum above 0)."""
    return (output_sums_numpy(genomes, patterns, layers, activation) > 0).astype(np.uint8)


def retina_correct_numpy(genomes, patterns, layers, activation, zero_wrong,
                         target_words) -> np.ndarray:
    sums = output_sums_numpy(genomes, patterns, layers, activation)
    targets = np.unpackbits(target_words.view(np.uint8), bitorder="little")[: sums.shape[1]]
    right = (sums > 0) == targets
    if zero_wrong:
        right &= sums != 0
    return right.sum(axis=1).astype(np.int64)


def mutate_retina_numpy(pop, n_fixed, key, generation, add_th, del_th, weight_scale, bias_th,
                        n_weights, sferes) -> None:
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
    if sferes:  # clamped at the ends
        stepped = np.clip(np.where(up, index + 1, index - 1), 0, 3)
    else:  # the one neighbour at an end
        stepped = np.where(index == 0, 1, np.where(index == 3, 2,
                                                   np.where(up, index + 1, index - 1)))
    weights[hit] = WEIGHT_VALUES[stepped[hit]]
    biases = g[:, n_weights:]
    hit = crng.below_array(draws(S_BIAS, m * n_bias).reshape(m, n_bias), bias_th)
    bits = draws(S_BIAS_DIR, m * n_bias).reshape(m, n_bias)
    if sferes:  # redrawn
        changed = BIAS_MIN + crng.bounded_array(bits, BIAS_MAX - BIAS_MIN + 1)
    else:
        up = (bits >> np.uint64(63)) == 1
        changed = np.where(biases == BIAS_MIN, BIAS_MIN + 1, np.where(
            biases == BIAS_MAX, BIAS_MAX - 1, np.where(up, biases + 1, biases - 1)))
    biases[hit] = changed[hit]


def _nth_numpy(mask: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Per row, the index of the n-th True of mask (0 where there is none)."""
    return np.argmax(np.cumsum(mask, axis=1) == (n + 1)[:, None], axis=1)


def retina_costs_numpy(genomes, layers, kind, sq_dist, optimal, x_fixed) -> np.ndarray:
    """The NumPy twin of ``retina_costs``: the functional weights of the whole population
    (``functional_weights_numpy``), counted or weighted by their squared lengths."""
    if kind == 0:
        return np.zeros(len(genomes))
    if kind == 2 and optimal:
        return optimal_lengths_numpy(genomes, layers, x_fixed)
    live = functional_weights_numpy(genomes, layers)
    if kind == 1:
        return live.sum(axis=1).astype(np.float64)
    ends = weight_ends(layers)  # fixed-layout lengths are quarter-integers: exact in any order
    return (live * sq_dist[ends[:, 0], ends[:, 1]]).sum(axis=1)


def evaluate_numpy(genomes, target, c, correct, cost) -> None:
    correct[:] = retina_correct_numpy(genomes, c.patterns, c.layers, c.activation, c.zero_wrong,
                                      target)
    cost[:] = retina_costs_numpy(genomes, c.layers, c.cost_kind, c.sq_dist, c.optimal, c.x_fixed)


def behave_numpy(genomes, c, out) -> None:
    answers = forward_numpy(genomes, c.patterns, c.layers, c.activation)
    out[:] = np.packbits(answers, axis=1, bitorder="little").view(np.uint64)


def mutate_numpy(pop, n_fixed, key, generation, c) -> None:
    mutate_retina_numpy(pop, n_fixed, key, generation, c.add, c.delete, c.weight_scale, c.bias,
                        c.n_weights, c.sferes)


def functional_weights_numpy(genomes, layers) -> np.ndarray:
    """bool[N, n_weights]: the weight genes of each network's functional part (a nonzero
    weight into a neuron with a path to the output), by reachability back from the output."""
    n = len(genomes)
    w_start, _, _ = layer_offsets(layers)
    live = np.zeros((n, int(w_start[-1])), dtype=bool)
    reached_next = np.ones((n, 1), dtype=bool)  # the output
    for layer in range(len(layers) - 2, -1, -1):
        n_in, n_out = layers[layer], layers[layer + 1]
        w = genomes[:, w_start[layer]: w_start[layer + 1]].reshape(n, n_in, n_out) != 0
        block = w & reached_next[:, None, :]
        live[:, w_start[layer]: w_start[layer + 1]] = block.reshape(n, -1)
        reached_next = block.any(axis=2)
    return live


def weight_ends(layers) -> np.ndarray:
    """int64[n_weights, 2]: the (source, target) node of each weight gene, in gene order."""
    w_start, _, n_start = layer_offsets(layers)
    ends = []
    for layer in range(len(layers) - 1):
        for i in range(layers[layer]):
            for k in range(layers[layer + 1]):
                ends.append((n_start[layer] + i, n_start[layer + 1] + k))
    return np.array(ends, dtype=np.int64)


def optimal_lengths_numpy(genomes, layers, x_fixed) -> np.ndarray:
    """The twin of ``retina_costs`` with ``optimal``: the Laplacian system of every network's
    hidden neurons built from its functional weights, eliminated in the kernel's order (the
    same IEEE operations on every element, hence the same bits), then the lengths summed in
    gene order."""
    n = len(genomes)
    live = functional_weights_numpy(genomes, layers)
    ends = weight_ends(layers)
    first, last = int(layers[0]), int(layers.sum()) - 1
    h = last - first
    m = np.zeros((n, h, h))
    r = np.zeros((n, h))
    for q, (a, b) in enumerate(ends):
        on = live[:, q].astype(np.float64)
        for u, v in ((a, b), (b, a)):
            if first <= u < last:
                m[:, u - first, u - first] += on
                if first <= v < last:
                    m[:, u - first, v - first] -= on
                else:
                    r[:, u - first] += on * x_fixed[v]
    diagonal = np.arange(h)
    unused = m[:, diagonal, diagonal] == 0.0
    m[:, diagonal, diagonal] = np.where(unused, 1.0, m[:, diagonal, diagonal])
    for k in range(h):
        for i in range(k + 1, h):
            f = m[:, i, k] / m[:, k, k]
            m[:, i, k:] = m[:, i, k:] - f[:, None] * m[:, k, k:]
            r[:, i] = r[:, i] - f * r[:, k]
    x = np.tile(x_fixed, (n, 1))
    for i in range(h - 1, -1, -1):
        acc = r[:, i].copy()
        for j in range(i + 1, h):
            acc = acc - m[:, i, j] * x[:, first + j]
        x[:, first + i] = np.where(unused[:, i], x[:, first + i], acc / m[:, i, i])
    total = np.zeros(n)
    for q, (a, b) in enumerate(ends):
        d = x[:, a] - x[:, b]
        total = total + np.where(live[:, q], d * d + 1.0, 0.0)
    return total
