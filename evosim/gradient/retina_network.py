"""The evolved retina's network trained by gradient descent (``gradient.model =
"retina-network"``): the same 8-8-4-2-1 layers and genome, weights rounded to the evolved weight
set {-2, -1, 0, 1, 2} (0: no connection, so training prunes) and biases to {-2, ..., 2}.

Latent real parameters, one per gene of ``RetinaTask``'s genome, are trained with the
straight-through estimator (Bengio, Leonard & Courville 2013): the forward pass uses the rounded
values, the gradient passes through the rounding where the latent value is inside the range
(|theta| <= 2.5). The relaxed network computes tanh(sum / T) at its hidden units and a logit
sum / T at its output (T: ``gradient.temperature``), trained with binary cross-entropy on the
goal's 256 patterns (the output answers "yes" when the sum is > 0, so the loss is on that logit);
the latent genes are clipped to the range after every step. The recorded network is the rounded
genome under the task's own activation (threshold, or tanh(20 x)), so evolved and trained retinas
are one graph type.
"""
from __future__ import annotations

import numpy as np

from evosim.gradient.network import forward, loss_and_grad, loss_value

LIMIT = 2.5  # latent values beyond round to the extreme value, and pass no gradient


class RetinaModel:
    """Latent genes in, a retina genome out (see the module docstring)."""

    def __init__(self, task, config):
        self.task = task
        self.n_parameters = task.genome_length
        self.layers = [int(n) for n in task.layers]
        self.x = task.patterns.T.astype(np.float64)  # [256, 8] of +-1
        self.loss = config.gradient.loss

    def init(self, rng: np.random.Generator) -> np.ndarray:
        """Latent genes uniform in (-2.5, 2.5): every rounded value about equally likely."""
        return rng.uniform(-LIMIT, LIMIT, self.n_parameters)

    def project(self, theta: np.ndarray) -> None:
        """Keep the latent genes in range after a step (as BinaryConnect clips its real
        weights): a gene pushed beyond +-2.5 would get no gradient again and stay frozen."""
        np.clip(theta, -LIMIT, LIMIT, out=theta)

    def noisy(self, x: np.ndarray, noise: np.ndarray) -> np.ndarray:
        """Noisy +-1 pixels (tanh units take any value)."""
        return x + noise

    def genome(self, theta: np.ndarray) -> np.ndarray:
        return np.clip(np.round(theta), -2, 2).astype(np.int16)

    def params(self, genome: np.ndarray, temperature: float) -> list[tuple]:
        """The genome as (W, b) pairs, divided by the temperature."""
        ws, bs = self.task.weight_start, self.task.bias_start
        out = []
        for layer, (n_in, n_out) in enumerate(zip(self.layers[:-1], self.layers[1:])):
            w = genome[ws[layer]: ws[layer + 1]].reshape(n_in, n_out)
            b = genome[bs[layer]: bs[layer + 1]]
            out.append((w / temperature, b / temperature))
        return out

    def loss_and_grad(self, theta, x, y, temperature) -> tuple[float, np.ndarray]:
        genome = self.genome(theta).astype(np.float64)
        value, grads = loss_and_grad(self.params(genome, temperature), x, y[:, None],
                                     "tanh", self.loss)
        grad = np.zeros_like(theta)
        ws, bs = self.task.weight_start, self.task.bias_start
        for layer, (dw, db) in enumerate(grads):
            grad[ws[layer]: ws[layer + 1]] = dw.ravel() / temperature
            grad[bs[layer]: bs[layer + 1]] = db / temperature
        return value, np.where(np.abs(theta) <= LIMIT, grad, 0.0)

    def relaxed(self, theta, y, temperature) -> tuple[float, float]:
        """(loss, accuracy) of the relaxed network (tanh units) on the 256 patterns."""
        genome = self.genome(theta).astype(np.float64)
        out, _ = forward(self.params(genome, temperature), self.x, "tanh")
        return (loss_value(out, y[:, None], self.loss),
                float(((out[:, 0] > 0) == (y > 0.5)).mean()))
