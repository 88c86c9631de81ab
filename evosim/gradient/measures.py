"""Measures of trained networks that evolved networks share: the weight graph for Q, and the
activation-change metric of source document 001."""
from __future__ import annotations

import numpy as np

from evosim.gradient.network import hidden_activations, layer_sizes


def unit_positions(sizes: list[int]) -> np.ndarray:
    """float64[units, 2]: layer l at y = l, centred rows with unit spacing (as the retina's)."""
    return np.array([(k - (n - 1) / 2, float(layer)) for layer, n in enumerate(sizes)
                     for k in range(n)])


def layer_distances(sizes: list[int]) -> list[np.ndarray]:
    """Per layer, the distance between the units each weight joins (shape of W_l)."""
    xy = unit_positions(sizes)
    start = np.concatenate([[0], np.cumsum(sizes)])
    return [np.linalg.norm(xy[start[l]: start[l + 1], None] - xy[None, start[l + 1]: start[l + 2]],
                           axis=2) for l in range(len(sizes) - 1)]


def weight_graph(params, threshold: float = 0.0) -> np.ndarray:
    """Symmetric adjacency over all units with |w| as edge weights (|w| <= threshold: no edge)."""
    sizes = layer_sizes(params)
    start = np.concatenate([[0], np.cumsum(sizes)])
    adjacency = np.zeros((start[-1], start[-1]))
    for layer, (w, _) in enumerate(params):
        block = np.abs(np.asarray(w))
        block[block <= threshold] = 0.0
        adjacency[start[layer]: start[layer + 1], start[layer + 1]: start[layer + 2]] = block
    return adjacency + adjacency.T


def activation_change(params, activation: str, x: np.ndarray, x_other: np.ndarray) -> np.ndarray:
    """|v - w| / sqrt(|v| |w|) for the activations v, w of x and of x_other (one input half
    resampled), averaged over samples: per hidden layer, then for all hidden layers together
    (source document 001's metric), as float64[layers + 1]. Samples where a vector is all zero
    are left out."""
    v = hidden_activations(params, x, activation)
    w = hidden_activations(params, x_other, activation)
    v.append(np.concatenate(v, axis=1))
    w.append(np.concatenate(w, axis=1))
    out = []
    for a, b in zip(v, w):
        norm = np.sqrt(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
        ok = norm > 0
        out.append(float((np.linalg.norm(a - b, axis=1)[ok] / norm[ok]).mean()) if ok.any()
                   else np.nan)
    return np.array(out)


def input_derivatives(params, x: np.ndarray, activation: str) -> np.ndarray:
    """float64[n, inputs, units]: d a_u / d x_i of every non-input unit (hidden layers in order,
    then the linear output) at every sample, by the chain rule through the layers."""
    from evosim.gradient.network import _act_grad, forward

    _, cache = forward(params, x, activation)
    jac = np.broadcast_to(np.eye(x.shape[1]), (len(x), x.shape[1], x.shape[1]))
    every = []
    for layer, (w, _) in enumerate(params):
        _, h, a, _ = cache[layer]
        jac = jac @ w
        if layer < len(params) - 1:
            jac = jac * _act_grad(activation, h, a, np)[:, None, :]
        every.append(jac)
    return np.concatenate(every, axis=2)


def noise_variance(params, x: np.ndarray, activation: str, sigma: float, draws: int,
                   rng: np.random.Generator) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """How much of each unit's activation varies with input noise and how much with the signal
    (source document 000, experiment 8: do trained networks filter noise out?).

    Every sample of ``x`` is evaluated under ``draws`` fresh Gaussian noise vectors of std
    ``sigma`` added to the inputs (as training adds it). By the law of total variance a unit's
    variance over all samples and draws is the sum of the two parts returned.

    Returns
    -------
    noise : list of float64[units]
        Per layer (hidden layers in order, then the output), each unit's variance over the noise
        draws, averaged over the samples: E_x Var_noise a(x + noise).
    signal : list of float64[units]
        Each unit's variance over the samples of its mean over the draws: Var_x E_noise a.
    """
    from evosim.gradient.network import forward

    noisy = x[None] + rng.normal(0.0, sigma, (draws, *x.shape))
    out, cache = forward(params, noisy.reshape(-1, x.shape[1]), activation)
    layers = [c[2] for c in cache[:-1]] + [out]
    noise, signal = [], []
    for a in layers:
        a = a.reshape(draws, len(x), -1)
        noise.append(a.var(axis=0).mean(axis=0))
        signal.append(a.mean(axis=0).var(axis=0))
    return noise, signal
