"""Broadness of a gradient-trained optimum (source document 000, experiments 2 and 10): the
Jacobian of the outputs with respect to every parameter over the data points, its singular values,
rank and null space (the flat directions that information loss predicts), and the loss increase
under random parameter perturbations of growing size.

The Jacobian is analytic (backpropagation of each output to each sample's parameters), with the
network as evaluated: no dropout. The loss's Hessian is never formed: its products with a vector
come from Pearlmutter's R-operator (the forward and backward passes differentiated along the
vector), and its largest eigenvalues from Lanczos iteration on them (scipy's ``eigsh``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evosim.gradient.network import _act_grad, forward, layer_sizes, loss_value
from evosim.gradient.trainer import flatten, unflatten


def output_jacobian(params, x: np.ndarray, activation: str) -> np.ndarray:
    """float[N * n_out, P]: d output[n, k] / d parameter, rows sample-major, columns in
    ``trainer.flatten`` order (each layer's W row-major, then its b)."""
    out, cache = forward(params, x, activation)
    n, n_out = out.shape
    blocks = []
    delta = np.broadcast_to(np.eye(n_out), (n, n_out, n_out)).copy()  # [n, k, units]
    for layer in range(len(params) - 1, -1, -1):
        a_in, h, a, _ = cache[layer]
        if layer < len(params) - 1:
            delta = delta * _act_grad(activation, h, a, np)[:, None, :]
        d_w = np.einsum("ni,nku->nkiu", a_in, delta).reshape(n * n_out, -1)
        blocks.append((d_w, delta.reshape(n * n_out, -1)))
        delta = delta @ params[layer][0].T
    return np.concatenate([part for d_w, d_b in reversed(blocks) for part in (d_w, d_b)],
                          axis=1)


@dataclass(frozen=True)
class Spectrum:
    """The Jacobian's singular values and what they say about flat directions."""

    singular_values: np.ndarray  # descending
    rank: int                    # singular values above rtol times the largest
    n_parameters: int
    rtol: float

    @property
    def null_dimension(self) -> int:
        """Parameter directions that change no output on the data: P - rank."""
        return self.n_parameters - self.rank


def jacobian_spectrum(jacobian: np.ndarray, rtol: float = 1e-6) -> Spectrum:
    """Singular values of the Jacobian and its rank at relative tolerance ``rtol``."""
    s = np.linalg.svd(jacobian, compute_uv=False)
    rank = int(np.sum(s > rtol * s[0])) if s.size and s[0] > 0 else 0
    return Spectrum(s, rank, jacobian.shape[1], rtol)


def perturbation_curve(params, x: np.ndarray, y: np.ndarray, activation: str, loss: str,
                       scales: np.ndarray, draws: int, rng: np.random.Generator) -> np.ndarray:
    """float[len(scales), draws]: the loss increase when every parameter moves by Gaussian noise
    of standard deviation ``scale`` (relative to the parameters' RMS), ``draws`` times each."""
    flat = flatten(params)
    sizes = layer_sizes(params)
    base = loss_value(forward(params, x, activation)[0], y, loss)
    rms = float(np.sqrt(np.mean(flat * flat))) or 1.0
    out = np.empty((len(scales), draws))
    for s, scale in enumerate(scales):
        for d in range(draws):
            moved = unflatten(flat + rng.normal(0.0, scale * rms, flat.size), sizes)
            out[s, d] = loss_value(forward(moved, x, activation)[0], y, loss) - base
    return out


def hessian_vector_product(params, x: np.ndarray, y: np.ndarray, activation: str, loss: str,
                           vector: np.ndarray, l2: float = 0.0) -> np.ndarray:
    """H v for the mean loss over (x, y) plus ``l2`` times the summed squared weights, v and the
    result flat (``trainer.flatten`` order). Exact: the R-operator of Pearlmutter (1994)."""
    sizes = layer_sizes(params)
    direction = unflatten(np.asarray(vector, dtype=np.float64), sizes)
    out, cache = forward(params, x, activation)
    last = len(params) - 1
    r_in = np.zeros_like(x)  # R{a_(l-1)}
    r_h = []
    for layer, ((w, _), (v_w, v_b)) in enumerate(zip(params, direction)):
        a_in, h, a, _ = cache[layer]
        rh = r_in @ w + a_in @ v_w + v_b
        r_h.append(rh)
        r_in = rh if layer == last else _act_grad(activation, h, a, np) * rh
    if loss == "mse":
        delta, r_delta = 2.0 * (out - y) / out.size, 2.0 * r_h[-1] / out.size
    else:
        s = 1.0 / (1.0 + np.exp(-out))
        delta, r_delta = (s - y) / out.size, s * (1.0 - s) * r_h[-1] / out.size
    parts = [None] * len(params)
    for layer in range(last, -1, -1):
        a_in, h, a, _ = cache[layer]
        r_a_in = (np.zeros_like(x) if layer == 0 else
                  _act_grad(activation, cache[layer - 1][1], cache[layer - 1][2], np)
                  * r_h[layer - 1])
        w, v_w = params[layer][0], direction[layer][0]
        if layer < last:  # delta and R{delta} arrive as the gradient wrt a_l
            slope = _act_grad(activation, h, a, np)
            r_delta = r_delta * slope + delta * _act_second(activation, a, slope) * r_h[layer]
            delta = delta * slope
        parts[layer] = (r_a_in.T @ delta + a_in.T @ r_delta + 2.0 * l2 * v_w, r_delta.sum(axis=0))
        delta, r_delta = delta @ w.T, r_delta @ w.T + delta @ v_w.T
    return flatten(parts)


def _act_second(activation: str, a, slope):
    """The activation's second derivative, from its value and first derivative."""
    if activation == "tanh":
        return -2.0 * a * slope
    if activation == "sigmoid":
        return slope * (1.0 - 2.0 * a)
    return np.zeros_like(a)  # relu


def top_hessian_eigenvalues(params, x, y, activation: str, loss: str, k: int = 5,
                            l2: float = 0.0, seed: int = 0) -> np.ndarray:
    """The k largest eigenvalues of the loss's Hessian, descending, by Lanczos iteration on
    Hessian-vector products (the start vector seeded)."""
    from scipy.sparse.linalg import LinearOperator, eigsh

    n = flatten(params).size
    k = min(k, n - 1)
    operator = LinearOperator((n, n), dtype=np.float64, matvec=lambda v: hessian_vector_product(
        params, x, y, activation, loss, np.ravel(v), l2))
    start = np.random.default_rng(seed).normal(size=n)
    return np.sort(eigsh(operator, k=k, which="LA", v0=start, return_eigenvectors=False))[::-1]


SCALES = np.array([0.01, 0.03, 0.1, 0.3, 1.0])  # perturbation sizes, relative to the RMS parameter


@dataclass(frozen=True)
class Broadness:
    """One trained network's broadness on its run's training data under one goal."""

    spectrum: Spectrum
    scales: np.ndarray
    increase: np.ndarray  # [scales, draws]: loss increase under random perturbations
    hessian_top: np.ndarray  # the loss's largest Hessian eigenvalues (with the run's L2), descending


def network_broadness(config, task, flat: np.ndarray, goal_target: np.ndarray, draws: int,
                      rng: np.random.Generator, rtol: float = 1e-6) -> Broadness:
    """Broadness of a run's flattened network (a snapshot or /epochs genome) on the run's own
    training data, its loss under the goal whose truth table (or coefficients) is given."""
    from evosim.gradient import data as gdata
    from evosim.gradient.recording import trained_network

    g = config.gradient
    params, dataset = trained_network(config, task, flat)
    y = gdata.targets(dataset, dataset.key_train, goal_target)
    spectrum = jacobian_spectrum(output_jacobian(params, dataset.x_train, g.activation), rtol)
    increase = perturbation_curve(params, dataset.x_train, y, g.activation, g.loss, SCALES,
                                  draws, rng)
    top = top_hessian_eigenvalues(params, dataset.x_train, y, g.activation, g.loss, 5, g.l2)
    return Broadness(spectrum, SCALES, increase, top)


def write(path, b: Broadness, **attrs) -> None:
    """A trained network's broadness as ``/broadness/...`` of a file of its own
    (``evosim.broadness.write_group``)."""
    from evosim.broadness import write_group

    s = b.spectrum
    write_group(path, {"rank": s.rank, "n_parameters": s.n_parameters, "rtol": s.rtol, **attrs},
                {"singular_values": (s.singular_values, "of the output Jacobian, descending"),
                 "scales": (b.scales, "perturbation standard deviations / RMS parameter"),
                 "loss_increase": (b.increase, "[scale, draw]: loss increase under a random "
                                               "perturbation"),
                 "hessian_top": (b.hessian_top, "the loss's largest Hessian eigenvalues")})
