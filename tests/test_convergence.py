"""The O(1/T) rate of gradient descent near a minimum, and the Lipschitz constant of the gradient.

Closed forms: for ``tensor_product_rx(n)`` and the local cost,
C_L = 1/2 - (1/2n) sum_i cos(theta_i), so the Hessian is diag(cos(theta_i) / (2n)), the
gradient is (1/(2n))-Lipschitz on the whole torus, and C_L is convex where every
|theta_i| < pi/2. For R_Y(a) R_Y(b) measured with Z Z, C = cos(a) cos(b).
"""

import numpy as np
import pytest

from qnncourse import ansatz, observables
from qnncourse.circuit import Circuit
from qnncourse.convergence import convex_rate_check, hessian, lipschitz_estimate
from qnncourse.cost import Cost

N = 3
L_EXACT = 1 / (2 * N)
THETA0 = np.array([0.6, -0.9, 1.2])


@pytest.fixture
def local_cost():
    return Cost(ansatz.tensor_product_rx(N), observables.local_cost(N))


def test_hessian_of_the_local_cost_is_diagonal(local_cost):
    theta = np.array([0.3, 2.0, -2.5])
    assert np.allclose(hessian(local_cost, theta), np.diag(np.cos(theta) / (2 * N)), atol=1e-12)


def test_hessian_off_diagonal_closed_form():
    cost = Cost(Circuit(2).ry(0).ry(1), "ZZ")
    a, b = 0.4, 1.3
    expected = np.array(
        [[-np.cos(a) * np.cos(b), np.sin(a) * np.sin(b)],
         [np.sin(a) * np.sin(b), -np.cos(a) * np.cos(b)]]
    )
    assert np.allclose(hessian(cost, [a, b]), expected, atol=1e-12)
    # A small shift turns the formula into a finite difference, close but not exact.
    assert np.allclose(hessian(cost, [a, b], shift=1e-4), expected, atol=1e-7)


def test_lipschitz_estimate_near_the_minimum(local_cost):
    estimate = lipschitz_estimate(local_cost, np.zeros(N), radius=0.5, n_samples=20, rng=0)
    assert estimate.hessian_norm == pytest.approx(L_EXACT, abs=1e-12)  # attained at the centre
    assert np.cos(0.5) * L_EXACT <= estimate.difference_ratio <= L_EXACT + 1e-12
    assert estimate.value == pytest.approx(L_EXACT)
    again = lipschitz_estimate(local_cost, np.zeros(N), radius=0.5, n_samples=20, rng=0)
    assert again.difference_ratio == estimate.difference_ratio


@pytest.mark.parametrize("lr", [1 / L_EXACT, 0.5 / L_EXACT])
def test_convex_bound_holds_for_step_at_most_one_over_l(local_cost, lr):
    check = convex_rate_check(local_cost, THETA0, np.zeros(N), lr, 40)
    assert check.holds
    assert check.min_hessian_eigenvalue > 0  # the path stayed in the convex region
    assert np.allclose(check.bound, np.sum(THETA0**2) / (2 * lr * np.arange(1, 41)))
    assert check.suboptimality[0] == pytest.approx(local_cost(theta_after_one_step(lr)), abs=1e-12)


def theta_after_one_step(lr):
    """theta after one gradient step on C_L: theta - lr sin(theta) / (2n)."""
    return THETA0 - lr * np.sin(THETA0) / (2 * N)


def test_convex_bound_can_fail_when_the_step_is_too_large(local_cost):
    check = convex_rate_check(local_cost, THETA0, np.zeros(N), 10 / L_EXACT, 40)
    assert not check.holds
    assert check.min_hessian_eigenvalue < 0
    assert "VIOLATED" in repr(check)


def test_validation(local_cost):
    with pytest.raises(ValueError, match="theta_star has 2 values, the cost has 3 parameters"):
        convex_rate_check(local_cost, THETA0, np.zeros(2), 1.0, 5)
    with pytest.raises(ValueError, match="lr must be a finite positive number, got 0.0"):
        convex_rate_check(local_cost, THETA0, np.zeros(N), 0.0, 5)
    with pytest.raises(ValueError, match="radius must be a finite positive number, got -1.0"):
        lipschitz_estimate(local_cost, np.zeros(N), -1.0, 5)
    with pytest.raises(ValueError, match="shift must have sin"):
        hessian(local_cost, np.zeros(N), shift=np.pi)
