"""A small multilayer perceptron in plain array code (NumPy, or CuPy through ``xp``).

Parameters are a list of (W, b) per layer, W[i, k] connecting unit i of one layer to unit k of the
next, as in the evolved networks' genomes, so the same weight-graph code measures both. The loss
gradient is by hand (backpropagation); the tests check it against finite differences for every
activation, loss and pressure.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

ACTIVATIONS = ("tanh", "relu", "sigmoid")
LOSSES = ("mse", "bce")


@dataclass
class Pressures:
    """Optional pressures on the weights (source document 002) and wiring (document 000, exp. 4).

    l1, l2: penalties on the weights; dropout: the fraction of hidden units dropped in training;
    distance: penalty on |w| times the distance between the units it joins (``distances[l]`` has
    the shape of W_l); mask: 0 where magnitude pruning removed a weight (kept at 0)."""

    l1: float = 0.0
    l2: float = 0.0
    dropout: float = 0.0
    distance: float = 0.0
    distances: list = field(default_factory=list)
    mask: list | None = None


def layer_sizes(params) -> list[int]:
    """The units of every layer, inputs first, of a parameter list."""
    return [params[0][0].shape[0], *(w.shape[1] for w, _ in params)]


def init_params(sizes: list[int], rng: np.random.Generator, xp=np) -> list[tuple]:
    """Glorot-uniform weights, zero biases."""
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        limit = np.sqrt(6.0 / (n_in + n_out))
        params.append((xp.asarray(rng.uniform(-limit, limit, size=(n_in, n_out))),
                       xp.zeros(n_out)))
    return params


def _act(name: str, h, xp):
    if name == "tanh":
        return xp.tanh(h)
    if name == "relu":
        return xp.maximum(h, 0.0)
    return 1.0 / (1.0 + xp.exp(-h))


def _act_grad(name: str, h, a, xp):
    if name == "tanh":
        return 1.0 - a * a
    if name == "relu":
        return (h > 0).astype(h.dtype)
    return a * (1.0 - a)


def forward(params, x, activation: str, *, dropout: float = 0.0,
            rng: np.random.Generator | None = None, xp=np):
    """Output (linear last layer) and the cache backward needs: per layer (input, pre-activation,
    activation before dropout, dropout mask or None)."""
    cache = []
    a = x
    last = len(params) - 1
    for layer, (w, b) in enumerate(params):
        h = a @ w + b
        if layer == last:
            cache.append((a, h, h, None))
            return h, cache
        act = _act(activation, h, xp)
        mask = None
        if dropout > 0.0 and rng is not None:  # inverted dropout: scale the kept units
            mask = xp.asarray(rng.random(act.shape) >= dropout) / (1.0 - dropout)
        cache.append((a, h, act, mask))
        a = act if mask is None else act * mask
    raise ValueError("a network needs at least one layer")


def loss_and_grad(params, x, y, activation: str, loss: str, pressures: Pressures | None = None,
                  rng: np.random.Generator | None = None, xp=np):
    """(loss, gradients [(dW, db), ...]) of the mean loss over the batch plus the pressures.
    ``loss``: mse on the linear output, or bce (binary cross-entropy of sigmoid(output), y in
    {0, 1})."""
    p = pressures or Pressures()
    out, cache = forward(params, x, activation, dropout=p.dropout, rng=rng, xp=xp)
    value = loss_value(out, y, loss, xp)
    if loss == "mse":
        delta = 2.0 * (out - y) / out.size
    else:
        delta = (1.0 / (1.0 + xp.exp(-out)) - y) / out.size
    grads = [None] * len(params)
    for layer in range(len(params) - 1, -1, -1):
        a_in, h, a, mask = cache[layer]
        w, _ = params[layer]
        if layer < len(params) - 1:
            if mask is not None:
                delta = delta * mask
            delta = delta * _act_grad(activation, h, a, xp)
        grads[layer] = (a_in.T @ delta, delta.sum(axis=0))
        delta = delta @ w.T
    value += penalty(params, p, xp)
    for layer, (w, _) in enumerate(params):
        dw = grads[layer][0] + p.l1 * xp.sign(w) + 2.0 * p.l2 * w
        if p.distance:
            dw = dw + p.distance * p.distances[layer] * xp.sign(w)
        if p.mask is not None:
            dw = dw * p.mask[layer]
        grads[layer] = (dw, grads[layer][1])
    return value, grads


def loss_value(out, y, loss: str, xp=np) -> float:
    """Mean squared error, or binary cross-entropy of sigmoid(out): log(1 + e^z) - y z, stably."""
    if loss == "mse":
        diff = out - y
        return float((diff * diff).mean())
    return float((xp.maximum(out, 0) - out * y + xp.log1p(xp.exp(-xp.abs(out)))).mean())


def penalty(params, p: Pressures, xp=np) -> float:
    """The pressures' share of the loss."""
    total = 0.0
    for layer, (w, _) in enumerate(params):
        if p.l1:
            total += p.l1 * float(xp.abs(w).sum())
        if p.l2:
            total += p.l2 * float((w * w).sum())
        if p.distance:
            total += p.distance * float((xp.abs(w) * p.distances[layer]).sum())
    return total


def hidden_activations(params, x, activation: str, xp=np) -> list:
    """The activations of every hidden layer (no dropout)."""
    _, cache = forward(params, x, activation, xp=xp)
    return [c[2] for c in cache[:-1]]
