"""Adam and SGD over a list of (W, b) parameter pairs, in place."""
from __future__ import annotations

OPTIMIZERS = ("adam", "sgd")
SLOTS = {"adam": ("m", "v"), "sgd": ("velocity",)}  # each optimiser's state arrays, by name


class SGD:
    def __init__(self, params, learning_rate: float = 0.01, momentum: float = 0.0):
        self.lr, self.momentum = learning_rate, momentum
        self.velocity = [[0.0 * p for p in pair] for pair in params]
        self.t = 0

    @property
    def slots(self) -> dict[str, list]:
        """The optimiser's state arrays (what a checkpoint stores), layer by layer, by name."""
        return {"velocity": self.velocity}

    def step(self, params, grads) -> None:
        self.t += 1
        for layer, (pair, grad) in enumerate(zip(params, grads)):
            for i, (p, g) in enumerate(zip(pair, grad)):
                v = self.momentum * self.velocity[layer][i] - self.lr * g
                self.velocity[layer][i] = v
                p += v


class Adam:
    """Kingma & Ba (2015), with bias correction."""

    def __init__(self, params, learning_rate: float = 0.001, beta1: float = 0.9,
                 beta2: float = 0.999, eps: float = 1e-8):
        self.lr, self.beta1, self.beta2, self.eps = learning_rate, beta1, beta2, eps
        self.m = [[0.0 * p for p in pair] for pair in params]
        self.v = [[0.0 * p for p in pair] for pair in params]
        self.t = 0

    @property
    def slots(self) -> dict[str, list]:
        return {"m": self.m, "v": self.v}

    def step(self, params, grads) -> None:
        self.t += 1
        c1, c2 = 1 - self.beta1**self.t, 1 - self.beta2**self.t
        for layer, (pair, grad) in enumerate(zip(params, grads)):
            for i, (p, g) in enumerate(zip(pair, grad)):
                m = self.beta1 * self.m[layer][i] + (1 - self.beta1) * g
                v = self.beta2 * self.v[layer][i] + (1 - self.beta2) * g * g
                self.m[layer][i], self.v[layer][i] = m, v
                p -= self.lr * (m / c1) / ((v / c2) ** 0.5 + self.eps)


def make_optimizer(name: str, params, learning_rate: float, momentum: float = 0.0):
    if name == "adam":
        return Adam(params, learning_rate)
    if name == "sgd":
        return SGD(params, learning_rate, momentum)
    raise ValueError(f"optimizer {name!r}; allowed: {', '.join(OPTIMIZERS)}")
