"""A differentiable NAND circuit on the evolved circuits' genome layout (issue: evolution and
gradient descent on one substrate; after Petersen et al. 2022, "Deep differentiable logic gate
networks", with the gates fixed to NAND and the wiring learnt).

Every wiring gene of a ``LogicTask`` genome (the two sources of each gate, and the address that
drives the output) becomes a vector of logits over the values the gene may take; its softmax at
temperature T is a distribution over those sources. A gate computes the relaxed NAND
``1 - a * b`` of its inputs' expected values, so on 0/1 inputs a network whose distributions are
one-hot computes exactly the evolved circuit of the same genome. The argmax of every gene's
logits is a genome (``discretise``): what a gradient-trained circuit is recorded as.

The gradient is written out (reverse mode through the gates, ``loss_and_grad``) and checked
against finite differences in the tests.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evosim.goals import input_bits

EPS = 1e-7  # probabilities are clipped to [EPS, 1 - EPS] inside the cross-entropy


@dataclass(frozen=True)
class CircuitShape:
    """Where each wiring gene's logits lie in the flat parameter vector, and its sources."""

    n_inputs: int
    n_gates: int
    gene_low: np.ndarray      # int64[2 * n_gates + 1]: the first address a gene may hold
    gene_size: np.ndarray     # int64[2 * n_gates + 1]: how many addresses it may hold
    offset: np.ndarray        # int64[2 * n_gates + 2]: gene k's logits are offset[k]:offset[k+1]

    @classmethod
    def of(cls, task) -> "CircuitShape":
        """The shape of a feed-forward ``LogicTask``'s wiring genes."""
        n = 2 * task.max_gates + 1
        low, size = task.gene_low[:n].astype(np.int64), task.gene_size[:n].astype(np.int64)
        return cls(task.n_inputs, task.max_gates, low, size,
                   np.concatenate([[0], np.cumsum(size)]).astype(np.int64))

    @property
    def n_parameters(self) -> int:
        return int(self.offset[-1])

    def logits(self, theta: np.ndarray, gene: int) -> np.ndarray:
        return theta[self.offset[gene]: self.offset[gene + 1]]

    def sources(self, gene: int) -> slice:
        return slice(int(self.gene_low[gene]), int(self.gene_low[gene] + self.gene_size[gene]))


def softmax(z: np.ndarray, temperature: float) -> np.ndarray:
    e = np.exp((z - z.max()) / temperature)
    return e / e.sum()


def inputs(n_inputs: int) -> np.ndarray:
    """float64[rows, n_inputs]: every input pattern, row r holding input i = (r >> i) & 1."""
    return input_bits(n_inputs).T.astype(np.float64)


def forward(shape: CircuitShape, theta: np.ndarray, x: np.ndarray, temperature: float):
    """(output[rows], cache): the relaxed circuit on inputs ``x`` (float[rows, n_inputs])."""
    signal = np.zeros((len(x), shape.n_inputs + shape.n_gates))
    signal[:, :shape.n_inputs] = x
    probs, pairs = [], []
    for g in range(shape.n_gates):
        pa = softmax(shape.logits(theta, 2 * g), temperature)
        pb = softmax(shape.logits(theta, 2 * g + 1), temperature)
        a = signal[:, shape.sources(2 * g)] @ pa
        b = signal[:, shape.sources(2 * g + 1)] @ pb
        signal[:, shape.n_inputs + g] = 1.0 - a * b
        probs += [pa, pb]
        pairs.append((a, b))
    out_gene = 2 * shape.n_gates
    po = softmax(shape.logits(theta, out_gene), temperature)
    probs.append(po)
    return signal[:, shape.sources(out_gene)] @ po, (signal, probs, pairs)


def loss_value(out: np.ndarray, y: np.ndarray, loss: str) -> float:
    """Mean binary cross-entropy of the output probability, or mean squared error."""
    if loss == "mse":
        return float(((out - y) ** 2).mean())
    p = np.clip(out, EPS, 1.0 - EPS)
    return float(-(y * np.log(p) + (1.0 - y) * np.log(1.0 - p)).mean())


def _loss_grad(out: np.ndarray, y: np.ndarray, loss: str) -> np.ndarray:
    if loss == "mse":
        return 2.0 * (out - y) / out.size
    p = np.clip(out, EPS, 1.0 - EPS)
    inside = (out > EPS) & (out < 1.0 - EPS)
    return np.where(inside, (p - y) / (p * (1.0 - p)), 0.0) / out.size


def expected_length(shape: CircuitShape, theta: np.ndarray, sq_dist: np.ndarray,
                    temperature: float) -> tuple[float, np.ndarray]:
    """(cost, d cost / d theta): the expected summed squared length of every gate's two wires
    under the wiring distributions (all gates, used or not: the pressure is on the expected
    wiring)."""
    grad = np.zeros_like(theta)
    total = 0.0
    for gene in range(2 * shape.n_gates):
        gate = shape.n_inputs + gene // 2
        d = sq_dist[shape.sources(gene), gate]
        p = softmax(shape.logits(theta, gene), temperature)
        total += float(p @ d)
        grad[shape.offset[gene]: shape.offset[gene + 1]] = p * (d - p @ d) / temperature
    return total, grad


def loss_and_grad(shape: CircuitShape, theta: np.ndarray, x: np.ndarray, y: np.ndarray,
                  loss: str, temperature: float) -> tuple[float, np.ndarray, np.ndarray]:
    """(loss, d loss / d theta, output) of the relaxed circuit on ``x`` against targets ``y``."""
    out, (signal, probs, pairs) = forward(shape, theta, x, temperature)
    grad = np.zeros_like(theta)
    d_signal = np.zeros_like(signal)

    def through(gene: int, d_value: np.ndarray) -> None:
        """Back through ``value = signal[:, sources] @ softmax(logits / T)``."""
        p, src = probs[gene], shape.sources(gene)
        d_p = signal[:, src].T @ d_value
        grad[shape.offset[gene]: shape.offset[gene + 1]] = p * (d_p - p @ d_p) / temperature
        d_signal[:, src] += d_value[:, None] * p

    through(2 * shape.n_gates, _loss_grad(out, y, loss))
    for g in range(shape.n_gates - 1, -1, -1):
        a, b = pairs[g]
        d_gate = d_signal[:, shape.n_inputs + g]
        through(2 * g, -b * d_gate)
        through(2 * g + 1, -a * d_gate)
    return loss_value(out, y, loss), grad, out


def discretise(shape: CircuitShape, theta: np.ndarray) -> np.ndarray:
    """int16[2 * n_gates + 1]: the genome of every gene's most likely source (ties: the lowest
    address)."""
    return np.array([shape.gene_low[k] + int(np.argmax(shape.logits(theta, k)))
                     for k in range(len(shape.gene_size))], dtype=np.int16)


def one_hot(shape: CircuitShape, genome: np.ndarray, scale: float = 50.0) -> np.ndarray:
    """Logits whose softmax (at temperature 1) puts all but e^-scale of each gene's mass on the
    genome's value: the relaxed twin of an evolved circuit."""
    theta = np.zeros(shape.n_parameters)
    for k, value in enumerate(np.asarray(genome)[:len(shape.gene_size)]):
        theta[shape.offset[k] + int(value - shape.gene_low[k])] = scale
    return theta


class CircuitModel:
    """The relaxed circuit as ``genome_training`` trains it: logits in, a genome out."""

    def __init__(self, task, config):
        from evosim import costs

        self.task, self.shape = task, CircuitShape.of(task)
        self.n_parameters = self.shape.n_parameters
        self.loss = config.gradient.loss
        self.x = inputs(task.n_inputs)
        c = config.cost
        self.cost_weight = c.weight if c.kind == "length" else 0.0
        self.sq_dist = costs.squared_distances(costs.positions(c.layout, task.n_inputs,
                                                               task.max_gates))

    def init(self, rng: np.random.Generator) -> np.ndarray:
        """Logits N(0, 1)."""
        return rng.normal(0.0, 1.0, self.n_parameters)

    def loss_and_grad(self, theta, x, y, temperature) -> tuple[float, np.ndarray]:
        value, grad, _ = loss_and_grad(self.shape, theta, x, y, self.loss, temperature)
        if self.cost_weight:
            cost, cost_grad = expected_length(self.shape, theta, self.sq_dist, temperature)
            value, grad = value + self.cost_weight * cost, grad + self.cost_weight * cost_grad
        return value, grad

    def relaxed(self, theta, y, temperature) -> tuple[float, float]:
        """(loss, accuracy) of the relaxed circuit on the clean truth table."""
        out, _ = forward(self.shape, theta, self.x, temperature)
        return loss_value(out, y, self.loss), float(((out > 0.5) == (y > 0.5)).mean())

    def project(self, theta) -> None:
        """Logits are unconstrained."""

    def noisy(self, x: np.ndarray, noise: np.ndarray) -> np.ndarray:
        """Noisy inputs, kept in [0, 1] so every relaxed signal stays a probability (outside
        it the cross-entropy has no gradient)."""
        return np.clip(x + noise, 0.0, 1.0)

    def genome(self, theta) -> np.ndarray:
        full = np.zeros(self.task.genome_length, dtype=np.int16)
        wiring = discretise(self.shape, theta)
        full[:wiring.size] = wiring
        return full
