"""Analytic gradients against central finite differences, for every activation, loss, pressure."""
import numpy as np
import pytest

from evosim.gradient.network import Pressures, init_params, loss_and_grad, penalty
from evosim.gradient.optim import Adam, SGD


def _numeric(params, x, y, activation, loss, pressures, eps=1e-6):
    grads = []
    for layer, (w, b) in enumerate(params):
        pair = []
        for p in (w, b):
            g = np.zeros_like(p)
            for idx in np.ndindex(p.shape):
                old = p[idx]
                p[idx] = old + eps
                up = loss_and_grad(params, x, y, activation, loss, pressures)[0]
                p[idx] = old - eps
                down = loss_and_grad(params, x, y, activation, loss, pressures)[0]
                p[idx] = old
                g[idx] = (up - down) / (2 * eps)
            pair.append(g)
        grads.append(pair)
    return grads


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
@pytest.mark.parametrize("loss", ["mse", "bce"])
@pytest.mark.parametrize("pressure", ["none", "l1", "l2", "distance", "mask"])
def test_gradients_equal_finite_differences(activation, loss, pressure):
    rng = np.random.default_rng(1)
    sizes = [5, 4, 3, 2]
    params = init_params(sizes, rng)
    x = rng.normal(size=(7, 5))
    y = rng.integers(0, 2, size=(7, 2)).astype(float) if loss == "bce" else rng.normal(size=(7, 2))
    p = Pressures()
    if pressure == "l1":
        p.l1 = 0.03
    elif pressure == "l2":
        p.l2 = 0.05
    elif pressure == "distance":
        p.distance = 0.02
        p.distances = [rng.uniform(0.5, 2.0, size=w.shape) for w, _ in params]
    elif pressure == "mask":
        p.mask = [(rng.random(w.shape) > 0.3).astype(float) for w, _ in params]
        for (w, _), m in zip(params, p.mask):
            w *= m
    if activation == "relu":  # keep pre-activations away from the kink
        for w, b in params:
            b += 0.3
    value, grads = loss_and_grad(params, x, y, activation, loss, p)
    numeric = _numeric(params, x, y, activation, loss, p)
    for layer, ((dw, db), (nw, nb)) in enumerate(zip(grads, numeric)):
        assert np.allclose(db, nb, atol=1e-6)
        frozen = 1.0 if p.mask is None else p.mask[layer]  # pruned weights get no gradient
        assert np.allclose(dw, nw * frozen, atol=1e-6)
    assert value >= penalty(params, p)


def test_dropout_gradient_equals_finite_differences_for_a_fixed_mask():
    rng = np.random.default_rng(2)
    params = init_params([4, 6, 1], rng)
    x, y = rng.normal(size=(5, 4)), rng.normal(size=(5, 1))
    p = Pressures(dropout=0.4)
    value, grads = loss_and_grad(params, x, y, "tanh", "mse", p, rng=np.random.default_rng(9))

    def f():
        return loss_and_grad(params, x, y, "tanh", "mse", p, rng=np.random.default_rng(9))[0]
    w = params[0][0]
    for idx in [(0, 0), (1, 3), (3, 5)]:
        old = w[idx]
        w[idx] = old + 1e-6
        up = f()
        w[idx] = old - 1e-6
        down = f()
        w[idx] = old
        assert grads[0][0][idx] == pytest.approx((up - down) / 2e-6, abs=1e-6)


@pytest.mark.parametrize("optimizer", [Adam, SGD])
def test_optimizers_minimise_a_quadratic(optimizer):
    params = [(np.array([[3.0, -2.0]]), np.array([1.0, 1.0]))]
    opt = optimizer(params, 0.05) if optimizer is Adam else optimizer(params, 0.1, momentum=0.5)
    for _ in range(500):
        w, b = params[0]
        opt.step(params, [(2 * w, 2 * b)])
    assert np.abs(params[0][0]).max() < 1e-2 and np.abs(params[0][1]).max() < 1e-2
