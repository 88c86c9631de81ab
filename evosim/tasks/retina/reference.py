"""The retina's NumPy twins of ``kernels``: the same draws and results, vectorised over the
population (the reference the kernels are tested against).

Evaluation and mutation also take a batch of runs (genomes [R, N, L], a target per run [R, W],
keys uint64[R, 1]) on NumPy or CuPy arrays: the batched engine's kernels
(``evosim.engine.batched``)."""
from __future__ import annotations

import numpy as np

from evosim import counter_rng as crng
from evosim.tasks.retina.kernels import (S_ADD_DO, S_ADD_VAL, S_ADD_WHICH, S_BIAS, S_BIAS_DIR,
                                         S_DEL_DO, S_DEL_WHICH, S_WEIGHT, S_WEIGHT_DIR)
from evosim.tasks.retina.layout import BIAS_MAX, BIAS_MIN, WEIGHT_VALUES, layer_offsets
from evosim.xp import array_module


def layer_outputs_numpy(genomes, patterns, layers, activation) -> list[np.ndarray]:
    """int64[N, 256, units] of every layer after the inputs, with matrix products (the NumPy
    reference): the hidden neurons' activations, then the output neuron's weighted sum."""
    xp = array_module(genomes)
    w_start, b_start, _ = layer_offsets(layers)
    genomes = xp.asarray(genomes).astype(np.int64)
    act = xp.broadcast_to(patterns.T, (len(genomes), *patterns.T.shape)).astype(np.int64)
    every = []
    for layer in range(len(layers) - 1):
        n_in, n_out = layers[layer], layers[layer + 1]
        weights = genomes[:, w_start[layer]: w_start[layer + 1]].reshape(-1, n_in, n_out)
        bias = genomes[:, b_start[layer]: b_start[layer + 1]]
        h = act @ weights + bias[:, None, :]
        if layer < len(layers) - 2:
            h = xp.where(h > 0, 1, -1) if activation == 0 else xp.sign(h)
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
    """Rows right of genomes [N, L] against target words [W], or of a batch [R, N, L] against
    one target per run [R, W]."""
    xp = array_module(genomes)
    flat = genomes.reshape(-1, genomes.shape[-1])
    sums = output_sums_numpy(flat, patterns, layers, activation)
    sums = sums.reshape(genomes.shape[:-1] + sums.shape[-1:])
    row = xp.arange(sums.shape[-1], dtype=np.uint64)
    targets = (target_words[..., row // np.uint64(64)] >> (row % np.uint64(64))) & np.uint64(1)
    right = (sums > 0) == (targets[:, None] if genomes.ndim == 3 else targets).astype(bool)
    if zero_wrong:
        right &= sums != 0
    return right.sum(axis=-1).astype(np.int64)


def mutate_retina_numpy(pop, n_fixed, key, generation, add_th, del_th, weight_scale, bias_th,
                        n_weights, sferes) -> None:
    """The vectorised twin of ``mutate_retina`` (same draws, same results): one run's genomes
    [N, L] and key, or a batch [R, N, L] with keys uint64[R, 1] (thresholds one for all or one
    per run [R, 1])."""
    xp = array_module(pop)
    batch = pop if pop.ndim == 3 else pop[None]
    keys = crng.key_rows(key)
    runs, m, length = batch.shape[0], batch.shape[1] - n_fixed, batch.shape[2]

    def draws(stream, per_genome=1):  # [R * m, per_genome]: run r's genome j is row r * m + j
        state = crng.stream_state_array(keys, generation, stream)
        every = crng.draw_array(state, xp.arange(m * per_genome, dtype=np.uint64))
        return every.reshape(runs * m, per_genome)

    def column(value):  # a run's value (one per run [R, 1]) for each of its genomes [R * m, 1]
        return xp.repeat(value, m, axis=0) if getattr(value, "ndim", 0) else value

    values = xp.asarray(WEIGHT_VALUES)
    n_bias = length - n_weights
    g = batch[:, n_fixed:].reshape(runs * m, length)  # a copy where the batch has several runs
    rows = xp.arange(runs * m)
    weights = g[:, :n_weights]  # a view of g
    present = (weights != 0).sum(axis=1)
    add = crng.below_array(draws(S_ADD_DO), column(add_th))[:, 0] & (present < n_weights)
    which = crng.bounded_array(draws(S_ADD_WHICH)[:, 0], xp.maximum(n_weights - present, 1))
    value = values[crng.bounded_array(draws(S_ADD_VAL)[:, 0], 4)]
    q = _nth_numpy(weights == 0, which)
    weights[rows[add], q[add]] = value[add]
    present = present + add
    delete = crng.below_array(draws(S_DEL_DO), column(del_th))[:, 0] & (present > 0)
    which = crng.bounded_array(draws(S_DEL_WHICH)[:, 0], xp.maximum(present, 1))
    q = _nth_numpy(weights != 0, which)
    weights[rows[delete], q[delete]] = 0
    present = present - delete
    w_th = xp.minimum(1.0, column(weight_scale) / xp.maximum(present, 1)[:, None]) * crng.UNIT
    hit = (weights != 0) & (present[:, None] > 0) & (
        (draws(S_WEIGHT, n_weights) >> np.uint64(11)) < w_th.astype(np.uint64))
    up = (draws(S_WEIGHT_DIR, n_weights) >> np.uint64(63)) == 1
    index = xp.where(weights < 0, weights + 2, weights + 1)
    if sferes:  # clamped at the ends
        stepped = xp.clip(xp.where(up, index + 1, index - 1), 0, 3)
    else:  # the one neighbour at an end
        stepped = xp.where(index == 0, 1, xp.where(index == 3, 2,
                                                   xp.where(up, index + 1, index - 1)))
    weights[hit] = values[stepped[hit]].astype(weights.dtype)
    biases = g[:, n_weights:]
    hit = crng.below_array(draws(S_BIAS, n_bias), column(bias_th))
    bits = draws(S_BIAS_DIR, n_bias)
    if sferes:  # redrawn
        changed = BIAS_MIN + crng.bounded_array(bits, BIAS_MAX - BIAS_MIN + 1)
    else:
        up = (bits >> np.uint64(63)) == 1
        changed = xp.where(biases == BIAS_MIN, BIAS_MIN + 1, xp.where(
            biases == BIAS_MAX, BIAS_MAX - 1, xp.where(up, biases + 1, biases - 1)))
    biases[hit] = changed[hit].astype(biases.dtype)
    batch[:, n_fixed:] = g.reshape(runs, m, length)


def _nth_numpy(mask: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Per row, the index of the n-th True of mask (0 where there is none)."""
    xp = array_module(mask)
    return xp.argmax(xp.cumsum(mask, axis=1) == (n + 1)[:, None], axis=1)


def retina_costs_numpy(genomes, layers, kind, sq_dist, optimal, x_fixed) -> np.ndarray:
    """The NumPy twin of ``retina_costs``: the functional weights of the whole population
    (``functional_weights_numpy``), counted or weighted by their squared lengths; genomes
    [N, L] or a batch [R, N, L]."""
    xp = array_module(genomes)
    shape = genomes.shape[:-1]
    genomes = genomes.reshape(-1, genomes.shape[-1])
    if kind == 0:
        return xp.zeros(shape)
    if kind == 2 and optimal:
        return optimal_lengths_numpy(genomes, layers, x_fixed).reshape(shape)
    live = functional_weights_numpy(genomes, layers)
    if kind == 1:
        return live.sum(axis=1).astype(np.float64).reshape(shape)
    ends = xp.asarray(weight_ends(layers))  # fixed-layout lengths are quarter-integers: exact
    return (live * sq_dist[ends[:, 0], ends[:, 1]]).sum(axis=1).reshape(shape)  # in any order


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
    xp = array_module(genomes)
    n = len(genomes)
    w_start, _, _ = layer_offsets(layers)
    live = xp.zeros((n, int(w_start[-1])), dtype=bool)
    reached_next = xp.ones((n, 1), dtype=bool)  # the output
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
