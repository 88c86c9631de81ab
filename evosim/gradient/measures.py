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
