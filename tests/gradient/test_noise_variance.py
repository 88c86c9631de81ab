"""The noise / signal split of activation variance against direct computations."""
import numpy as np
import pytest

from evosim.gradient.measures import noise_variance
from evosim.gradient.network import forward, init_params


def test_the_parts_add_up_to_the_total_variance_of_every_unit():
    """Law of total variance over the same draws: E Var + Var E = Var over all (draw, sample),
    here recomputed from the network's forward pass on the same noisy inputs."""
    params = init_params([5, 6, 3, 2], np.random.default_rng(1))
    x = np.random.default_rng(2).normal(size=(40, 5))
    noise, signal = noise_variance(params, x, "tanh", 0.3, 25, np.random.default_rng(3))
    noisy = x[None] + np.random.default_rng(3).normal(0.0, 0.3, (25, *x.shape))
    out, cache = forward(params, noisy.reshape(-1, 5), "tanh")
    layers = [c[2] for c in cache[:-1]] + [out]
    assert [len(n) for n in noise] == [6, 3, 2]
    for a, n, s in zip(layers, noise, signal):
        assert np.allclose(n + s, a.var(axis=0), rtol=1e-10, atol=1e-14)
        assert (n >= 0).all() and (s >= 0).all()


def test_a_linear_unit_gets_sigma_squared_times_its_squared_weights():
    """One linear layer: a = x w + b + noise w, so Var_noise a = sigma^2 |w|^2 exactly in
    expectation and Var_x E_noise a -> Var_x (x w) as the draws grow."""
    w = np.array([[0.5, 0.0], [-1.0, 0.0], [2.0, 0.0]])
    params = [(w, np.array([0.1, 0.7]))]
    x = np.random.default_rng(4).normal(size=(30, 3))
    noise, signal = noise_variance(params, x, "relu", 0.4, 20_000, np.random.default_rng(5))
    assert noise[0][0] == pytest.approx(0.16 * 5.25, rel=0.02)
    assert signal[0][0] == pytest.approx((x @ w[:, 0]).var(), rel=0.02)
    assert noise[0][1] < 1e-20 and signal[0][1] < 1e-20  # no weights: a constant unit (rounding)


def test_without_noise_every_unit_varies_with_the_signal_only():
    params = init_params([4, 3, 1], np.random.default_rng(6))
    x = np.random.default_rng(7).normal(size=(16, 4))
    noise, signal = noise_variance(params, x, "sigmoid", 0.0, 3, np.random.default_rng(8))
    _, cache = forward(params, x, "sigmoid")
    assert all((n < 1e-20).all() for n in noise)  # zero up to rounding
    assert np.allclose(signal[0], cache[0][2].var(axis=0))
