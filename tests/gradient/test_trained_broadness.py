"""Broadness of trained networks: the analytic Jacobian against finite differences, its rank
against a network with known flat directions, and the perturbation curve."""
import numpy as np
import pytest

from evosim.gradient.broadness import jacobian_spectrum, output_jacobian, perturbation_curve
from evosim.gradient.network import forward, init_params
from evosim.gradient.trainer import flatten, unflatten

SIZES = [4, 5, 3, 1]


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_the_jacobian_equals_finite_differences(activation):
    rng = np.random.default_rng(1)
    # biases away from 0: with zero biases a ReLU after a silent layer sits on its kink
    params = [(w, rng.normal(0.0, 0.3, b.size)) for w, b in init_params(SIZES, rng)]
    x = rng.normal(size=(7, 4))
    jac = output_jacobian(params, x, activation)
    flat = flatten(params)
    eps = 1e-6
    numeric = np.empty_like(jac)
    for p in range(flat.size):
        step = np.zeros_like(flat)
        step[p] = eps
        up = forward(unflatten(flat + step, SIZES), x, activation)[0].ravel()
        down = forward(unflatten(flat - step, SIZES), x, activation)[0].ravel()
        numeric[:, p] = (up - down) / (2 * eps)
    assert jac.shape == (7, flat.size)
    assert np.allclose(jac, numeric, atol=1e-7)


def test_flat_directions_of_a_relu_network_are_its_symmetries_and_dead_units():
    """On generic data (more samples than parameters) a ReLU network's only flat directions are
    the rescalings (a hidden unit's incoming weights and bias times c, its outgoing weight over
    c): one per hidden unit. A unit that never fires makes its 4 + 1 incoming and 1 outgoing
    parameters flat: 6 more, less its rescaling, already counted."""
    rng = np.random.default_rng(2)
    sizes = [4, 6, 1]
    params = init_params(sizes, rng)
    x = rng.normal(size=(60, 4))
    live = jacobian_spectrum(output_jacobian(params, x, "relu"))
    w0, b0 = params[0]
    b0 = b0.copy()
    b0[2] = -100.0  # unit 2 of the hidden layer is dead on every sample
    dead = jacobian_spectrum(output_jacobian([(w0, b0), params[1]], x, "relu"))
    assert live.n_parameters == dead.n_parameters == flatten(params).size == 37
    assert live.null_dimension == 6
    assert dead.null_dimension == 6 + 6 - 1


def test_the_perturbation_curve_starts_at_zero_and_is_reproducible():
    rng = np.random.default_rng(3)
    params = init_params(SIZES, rng)
    x = rng.normal(size=(20, 4))
    y = (x[:, :1] > 0).astype(float)
    scales = np.array([0.0, 0.1, 1.0])
    a = perturbation_curve(params, x, y, "tanh", "bce", scales, 30, np.random.default_rng(4))
    b = perturbation_curve(params, x, y, "tanh", "bce", scales, 30, np.random.default_rng(4))
    assert np.array_equal(a, b) and a.shape == (3, 30)
    assert np.all(a[0] == 0.0)
    assert np.abs(a[2]).mean() > np.abs(a[1]).mean()


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_input_derivatives_equal_finite_differences(activation):
    from evosim.gradient.measures import hidden_activations, input_derivatives

    rng = np.random.default_rng(5)
    params = [(w, rng.normal(0.0, 0.3, b.size)) for w, b in init_params(SIZES, rng)]
    x = rng.normal(size=(6, 4))

    def units(x):
        return np.concatenate([*hidden_activations(params, x, activation),
                               forward(params, x, activation)[0]], axis=1)

    eps = 1e-6
    numeric = np.stack([(units(x + eps * np.eye(4)[i]) - units(x - eps * np.eye(4)[i])) / (2 * eps)
                        for i in range(4)], axis=1)
    assert np.allclose(input_derivatives(params, x, activation), numeric, atol=1e-7)


def test_a_unit_wired_to_the_left_half_only_is_one_sided():
    from evosim.dependence import trained_dependence

    rng = np.random.default_rng(6)
    params = [(w.copy(), b) for w, b in init_params([4, 3, 1], rng)]
    params[0][0][2:, 0] = 0.0  # hidden unit 0 reads inputs 0 and 1 only
    d = trained_dependence(params, rng.normal(size=(50, 4)), "tanh", [[0, 1], [2, 3]])
    assert d.dependence[0, 1] == 0.0 and d.dependence[0, 0] > 0
    assert d.one_sided == pytest.approx(1 / 4)  # unit 0 of the 3 hidden and the output
    assert np.isnan(d.information).all() and d.q_exact


@pytest.mark.parametrize("activation,loss", [("tanh", "bce"), ("sigmoid", "mse"),
                                             ("relu", "bce")])
def test_hessian_vector_products_equal_finite_differences_of_gradients(activation, loss):
    from evosim.gradient.broadness import hessian_vector_product
    from evosim.gradient.network import Pressures, loss_and_grad

    rng = np.random.default_rng(7)
    params = [(w, rng.normal(0.0, 0.3, b.size)) for w, b in init_params(SIZES, rng)]
    x = rng.normal(size=(9, 4))
    y = (rng.random((9, 1)) < 0.5).astype(float)
    flat = flatten(params)
    v = rng.normal(size=flat.size)
    l2 = 0.01

    def grad(f):
        return flatten(loss_and_grad(unflatten(f, SIZES), x, y, activation, loss,
                                     Pressures(l2=l2))[1])

    eps = 1e-5
    numeric = (grad(flat + eps * v) - grad(flat - eps * v)) / (2 * eps)
    exact = hessian_vector_product(params, x, y, activation, loss, v, l2)
    assert np.allclose(exact, numeric, rtol=1e-5, atol=1e-8)


def test_top_hessian_eigenvalues_equal_those_of_the_full_matrix():
    from evosim.gradient.broadness import hessian_vector_product, top_hessian_eigenvalues

    rng = np.random.default_rng(8)
    params = init_params(SIZES, rng)
    x = rng.normal(size=(12, 4))
    y = (x[:, :1] > 0).astype(float)
    n = flatten(params).size
    full = np.stack([hessian_vector_product(params, x, y, "tanh", "bce", e) for e in np.eye(n)])
    assert np.allclose(full, full.T, atol=1e-10)
    expected = np.sort(np.linalg.eigvalsh((full + full.T) / 2))[::-1][:4]
    assert np.allclose(top_hessian_eigenvalues(params, x, y, "tanh", "bce", k=4), expected,
                       rtol=1e-6, atol=1e-10)
