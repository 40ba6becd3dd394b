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


# -- smoothness: derived bounds against sampled Hessians ---------------------------------------

from qnncourse import convergence as cv  # noqa: E402
from qnncourse.cost import Loss  # noqa: E402
from qnncourse.noise import Depolarizing  # noqa: E402
from qnncourse.optim import GradientDescent, train  # noqa: E402

ISING3 = {"ZZI": -1.0, "IZZ": -1.0, "XII": -0.7, "IXI": -0.7, "IIX": -0.7}


def test_smoothness_is_exact_for_independent_rotations(local_cost):
    bound = cv.smoothness_constant(local_cost)
    assert bound.value == pytest.approx(L_EXACT)
    assert bound.naive == pytest.approx(N * 1.0)  # p ||O||, ||O_L|| = 1
    assert bound.halfwidth == pytest.approx(N * 0.5)
    sampled = cv.sampled_curvature(local_cost, 40, rng=0)
    assert sampled.max_abs_eigenvalue <= bound.value + 1e-12
    assert sampled.max_abs_eigenvalue > 0.9 * bound.value  # |cos| near 1 is sampled


@pytest.mark.parametrize("cost", [
    Cost(ansatz.hardware_efficient(3, 2), observables.local_cost(3)),
    Cost(ansatz.hardware_efficient(3, 2), observables.global_cost(3)),
    Cost(ansatz.random_pauli(3, 3, rng=2), ISING3),
    Cost(ansatz.qaoa([(0, 1), (1, 2)], 3, 2), ISING3),
    Cost(ansatz.hardware_efficient(2, 2), "ZZ", noise=Depolarizing(0.05)),
], ids=["hea-local", "hea-global", "random-pauli-ising", "qaoa-shared", "noisy"])
def test_smoothness_bound_dominates_sampled_hessians(cost):
    bound = cv.smoothness_constant(cost)
    assert bound.value <= min(bound.halfwidth, bound.lightcone) + 1e-12
    assert bound.halfwidth <= bound.naive + 1e-12
    sampled = cv.sampled_curvature(cost, 25, rng=1)
    assert 0 < sampled.max_abs_eigenvalue <= bound.value


def test_light_cone_bound_ignores_rotations_outside_the_cone():
    # Z on qubit 0 after RY(a) on qubit 0 and RY(b) on qubit 1 with no entangler:
    # C = cos(a), so L = 1 while p ||O|| = 2.
    cost = Cost(Circuit(2).ry(0).ry(1), "ZI")
    bound = cv.smoothness_constant(cost)
    assert bound.lightcone == pytest.approx(1.0)
    assert bound.naive == pytest.approx(2.0)
    np.testing.assert_array_equal(bound.multiplicities, [1, 1])


def test_pauli_coefficients_rebuild_the_matrix():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(8, 8)) + 1j * rng.normal(size=(8, 8))
    h = a + a.conj().T
    coeffs = cv.pauli_coefficients(h)
    from qnncourse.paulis import PauliSum
    np.testing.assert_allclose(PauliSum(coeffs).to_matrix(), h, atol=1e-12)
    with pytest.raises(ValueError, match="power-of-two"):
        cv.pauli_coefficients(np.eye(3))
    with pytest.raises(ValueError, match="Hermitian"):
        cv.pauli_coefficients(np.array([[0, 1], [0, 0]]))


# -- stationarity --------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [0, 1, 2])
def test_stationarity_theorem_holds_on_runs(seed):
    cost = Cost(ansatz.hardware_efficient(3, 2), observables.local_cost(3))
    L = cv.smoothness_constant(cost).value
    theta0 = np.random.default_rng(seed).uniform(0, 2 * np.pi, cost.n_params)
    check = cv.stationarity_check(cost, theta0, 1 / L, 60, cost_star=0.0)
    assert check.holds and check.increases == 0
    sharp = cv.stationarity_bound(check.costs[0], 1 / L, check.steps, smoothness=L)
    assert np.all(check.min_grad_sq <= sharp)


def test_stationarity_bound_is_tight_when_l_is_exact(local_cost):
    # With the exact L of C_L the bound is within a factor 5 of the measured minimum at T = 1.
    check = cv.stationarity_check(local_cost, THETA0, 1 / L_EXACT, 20, cost_star=0.0)
    assert check.holds and check.ratio[0] > 0.2


def test_stationarity_bound_fails_beyond_two_over_l(local_cost):
    # On C_L a step of 10/L overshoots: the cost goes up and the bound (for eta <= 1/L) fails.
    check = cv.stationarity_check(local_cost, THETA0, 10 / L_EXACT, 40, cost_star=0.0)
    assert check.increases > 0
    assert not check.holds
    assert "VIOLATED" in repr(check)
    with pytest.raises(ValueError, match="lr < 2/L"):
        cv.stationarity_bound(1.0, 3.0, 5, smoothness=1.0)


# -- the tangent kernel --------------------------------------------------------------------------

def test_qntk_closed_form_and_finite_differences(local_cost):
    theta = np.array([0.3, 2.0, -2.5])
    assert cv.qntk(local_cost, theta) == pytest.approx(np.sum(np.sin(theta) ** 2) / (2 * N) ** 2)
    h = 1e-6
    fd = np.array([(local_cost(theta + h * e) - local_cost(theta - h * e)) / (2 * h)
                   for e in np.eye(N)])
    assert cv.qntk(local_cost, theta) == pytest.approx(np.sum(fd**2), rel=1e-7)
    batch = np.array([theta, np.zeros(N), np.full(N, np.pi / 2)])
    np.testing.assert_allclose(cv.qntk(local_cost, batch),
                               np.sum(np.sin(batch) ** 2, axis=1) / (2 * N) ** 2, atol=1e-14)


def test_qntk_of_a_loss_is_the_gram_matrix_of_output_gradients():
    circuit = ansatz.data_reuploading(2, 2, 2)
    rng = np.random.default_rng(4)
    X, y = rng.uniform(-1, 1, (5, 2)), rng.uniform(-1, 1, 5)
    loss = Loss(circuit, "ZI", X, y)
    theta = rng.uniform(0, 2 * np.pi, circuit.n_params)
    h = 1e-6
    jac = np.array([(loss.predict(theta + h * e) - loss.predict(theta - h * e)) / (2 * h)
                    for e in np.eye(circuit.n_params)]).T  # (m, p)
    K = cv.qntk(loss, theta)
    assert K.shape == (5, 5)
    np.testing.assert_allclose(K, jac @ jac.T, atol=1e-7)
    # MSE gradient is (2/m) J^T r, so ||grad L||^2 = (4/m^2) r^T K r.
    r = loss.predict(theta) - y
    assert np.sum(loss.gradient(theta) ** 2) == pytest.approx(4 / 25 * r @ K @ r)
    assert cv.qntk(loss, np.array([theta, theta])).shape == (2, 5, 5)


def test_kernel_trace_and_relative_rate(local_cost):
    run = train(local_cost, THETA0, GradientDescent(0.5 / L_EXACT), 6, progress=False)
    trace = cv.kernel_trace(local_cost, run.thetas, cost_star=0.0)
    np.testing.assert_allclose(trace.kernel[:-1], run.grad_norms[:-1] ** 2, rtol=1e-12)
    np.testing.assert_allclose(trace.gap, run.costs, atol=1e-14)
    assert trace.rate[3] == pytest.approx(cv.relative_rate(local_cost, run.thetas[3], 0.0))
    # The descent-lemma guarantee along the path holds.
    assert np.all(trace.gap <= trace.pl_bound(0.5 / L_EXACT, L_EXACT) + 1e-12)
    with pytest.raises(ValueError, match="must be positive"):
        cv.relative_rate(local_cost, np.zeros(N), 0.0)


# -- descent from many starts, shots, census, estimates -----------------------------------------

def test_batch_descent_matches_train(local_cost):
    run = cv.batch_descent(local_cost, THETA0[None, :], 2.0, 15)
    ref = train(local_cost, THETA0, GradientDescent(2.0), 15, progress=False)
    np.testing.assert_allclose(run.thetas[0], ref.final_theta, atol=1e-12)
    np.testing.assert_allclose(run.costs[:, 0], ref.costs, atol=1e-12)
    assert run.evaluations == 15 * 2 * N
    # One step size per row: the rows evolve as separate runs would.
    both = cv.batch_descent(local_cost, np.tile(THETA0, (2, 1)), np.array([2.0, 0.5]), 15)
    np.testing.assert_allclose(both.thetas[0], ref.final_theta, atol=1e-12)
    slow = train(local_cost, THETA0, GradientDescent(0.5), 15, progress=False)
    np.testing.assert_allclose(both.thetas[1], slow.final_theta, atol=1e-12)
    # A decaying schedule.
    decay = cv.batch_descent(local_cost, THETA0[None, :], lambda t: 2.0 / (1 + t), 3)
    manual = THETA0.copy()
    for t in range(3):
        manual = manual - 2.0 / (1 + t) * local_cost.gradient(manual)
    np.testing.assert_allclose(decay.thetas[0], manual, atol=1e-12)


def test_shift_gradient_variance_and_noise_floor():
    cost = Cost(ansatz.tensor_product_rx(2), "ZI")
    # C = cos(t0): Var Z = sin^2 at the shifted points, sigma_0^2 = (1 + 1)/4 at t0 = 0;
    # t1 does not enter, its shifted variances are those of the unshifted state: 0.
    np.testing.assert_allclose(cv.shift_gradient_variance(cost, [0.0, 0.3]), [0.5, 0.0],
                               atol=1e-12)
    # Quadratic model at the minimum t0 = pi: h = 1, floor = eta sigma^2 / (2 N (2 - eta)).
    floor = cv.noise_floor(cost, [np.pi, 0.0], 0.5, np.array([10, 100]))
    np.testing.assert_allclose(floor, 0.5 * 0.5 / (2 * np.array([10, 100]) * 1.5))
    with pytest.raises(ValueError, match="unstable"):
        cv.noise_floor(cost, [np.pi, 0.0], 2.5, 10)


def test_sgd_reaches_the_predicted_floor():
    exact = Cost(ansatz.tensor_product_rx(2), "ZI")
    noisy = Cost(ansatz.tensor_product_rx(2), "ZI", shots=20, rng=1)
    lr, steps = 0.4, 400
    start = np.tile([np.pi, 0.0], (200, 1))
    run = cv.batch_descent(noisy, start, lr, steps, monitor=exact)
    excess = run.costs[100:] + 1.0  # C* = -1
    predicted = cv.noise_floor(exact, [np.pi, 0.0], lr, 20)
    _, lo, hi = cv.mean_interval(excess.mean(axis=0))  # runs are independent
    assert lo < predicted < hi
    # The floor of twice the shots is excluded: the check resolves the 1/N law.
    assert lo > cv.noise_floor(exact, [np.pi, 0.0], lr, 40)


def test_minima_census_single_minimum_value():
    # R_X(t) on both qubits (one shared parameter): <ZI> = cos t, <ZZ> = cos^2 t, so
    # C = 0.3 cos t + cos^2 t, whose minima (cos t = -0.15) all have the value -0.0225.
    cost = Cost(Circuit(2).rx(0).rx(1, param=0), {"ZI": 0.3, "ZZ": 1.0})
    census = cv.minima_census(cost, 60, lr=0.2, steps=300, cost_star=-0.0225, rng=0)
    assert census.n_minima == 1 and census.unconverged == 0
    assert census.minima[0] == pytest.approx(-0.0225, abs=1e-6)
    assert census.success_rate == 1.0 and census.success_ci[1] == 1.0


def test_minima_census_counts_a_trap():
    # Qubit 0 turned by R_X(t) twice (R_X(2t)), qubit 1 by R_X(t): <ZI> = cos 2t and
    # <IY> = -sin t, so C = cos 2t - 0.5 sin t: a global minimum -1.5 at t = pi/2 and a trap
    # -0.5 at t = 3 pi/2 (C'' = 4 -/+ 0.5 > 0 at both).
    circuit = Circuit(2).rx(0).rx(0, param=0).rx(1, param=0)
    cost = Cost(circuit, {"ZI": 1.0, "IY": 0.5})
    census = cv.minima_census(cost, 80, lr=0.1, steps=400, cost_star=-1.5, rng=1)
    np.testing.assert_allclose(census.minima, [-1.5, -0.5], atol=1e-6)
    assert census.counts.sum() == 80 and census.unseen == 0.0
    lo, hi = census.success_ci
    assert 0 < lo < census.success_rate < hi < 1
    assert census.successes == census.counts[0]


def test_minima_census_continues_slow_runs():
    # A step far below 1/L leaves the runs short of the gradient tolerance after 20 steps;
    # continuing them (max_steps) certifies them without changing which minimum they reach.
    circuit = Circuit(2).rx(0).rx(0, param=0).rx(1, param=0)
    cost = Cost(circuit, {"ZI": 1.0, "IY": 0.5})
    short = cv.minima_census(cost, 20, lr=0.02, steps=20, cost_star=-1.5, rng=2)
    longer = cv.minima_census(cost, 20, lr=0.02, steps=20, max_steps=2000, cost_star=-1.5,
                              rng=2)
    assert short.unconverged > 0 and longer.unconverged == 0
    np.testing.assert_allclose(longer.minima, [-1.5, -0.5], atol=1e-6)
    with pytest.raises(ValueError, match="max_steps must be a positive integer"):
        cv.minima_census(cost, 4, lr=0.1, steps=2, max_steps=0, cost_star=-1.5)


def test_estimates():
    fit = cv.log_linear_fit(np.arange(10), 3.0 * 0.9 ** np.arange(10))
    assert fit.slope == pytest.approx(np.log(0.9))
    assert fit.slope_ci[0] == pytest.approx(fit.slope) and fit.slope_ci[1] == pytest.approx(
        fit.slope)
    lo, hi = cv.wilson_interval(10, 20)
    assert lo < 0.5 < hi and hi - lo < 0.5
    assert cv.wilson_interval(20, 20)[1] == 1.0
    mean, lo, hi = cv.mean_interval([1.0, 2.0, 3.0])
    assert mean == 2.0 and lo < 2.0 < hi
    with pytest.raises(ValueError, match="cannot exceed"):
        cv.wilson_interval(5, 4)
    with pytest.raises(ValueError, match="positive"):
        cv.log_linear_fit([0, 1, 2], [1.0, 0.0, 1.0])


# -- bad input -----------------------------------------------------------------------------------

def test_bad_input_is_named(local_cost):
    with pytest.raises(ValueError, match=r"theta must have shape \(3,\) or \(S, 3\)"):
        cv.qntk(local_cost, np.zeros(2))
    with pytest.raises(TypeError, match="cost must be a qnncourse Cost or Loss"):
        cv.qntk(lambda t: 0.0, np.zeros(2))
    with pytest.raises(ValueError, match="non-finite"):
        cv.qntk(local_cost, [0.0, np.nan, 0.0])
    with pytest.raises(TypeError, match="not a supervised Loss"):
        cv.smoothness_constant(Loss(ansatz.data_reuploading(1, 1, 1), "Z", [[0.1]], [0.0]))
    with pytest.raises(ValueError, match="batch of shape"):
        cv.batch_descent(local_cost, np.zeros(N), 0.1, 3)
    with pytest.raises(ValueError, match="lr must be a finite positive number"):
        cv.batch_descent(local_cost, np.zeros((2, N)), -0.1, 3)
    with pytest.raises(ValueError, match="one finite positive step per row"):
        cv.batch_descent(local_cost, np.zeros((2, N)), np.array([0.1, 0.2, 0.3]), 3)
    with pytest.raises(ValueError, match="not a lower bound"):
        cv.stationarity_check(local_cost, THETA0, 1.0, 5, cost_star=0.5)
    with pytest.raises(ValueError, match="exact cost"):
        cv.minima_census(Cost(ansatz.tensor_product_rx(2), "ZI", shots=10), 4, lr=0.1, steps=2,
                         cost_star=-1.0)
    with pytest.raises(ValueError, match="shape \\(T\\+1, 3\\)"):
        cv.kernel_trace(local_cost, np.zeros(N), 0.0)


# -- expressivity and traps, kernel forecasts, curvature by maximisation, M_c, warm starts ----

def test_ansatz_minimum_measures_the_expressivity_gap():
    # R_X on qubit 0 only, H = Z0 + Z1: the ansatz reaches -1 + 1 = 0, the ground energy is -2.
    cost = Cost(Circuit(2).rx(0), {"ZI": 1.0, "IZ": 1.0})
    best = cv.ansatz_minimum(cost, 6, rng=0)
    assert best.value == pytest.approx(0.0, abs=1e-9) and best.hits == 6
    census = cv.minima_census(cost, 20, lr=0.5, steps=200, cost_star=-2.0, rng=0,
                              ansatz_best=best.value)
    assert census.expressivity_gap == pytest.approx(2.0, abs=1e-9)
    # Every run reaches the ansatz's own best: no trap, full success against C_min,
    # although no run comes near E0.
    assert census.n_traps == 0 and census.success_rate == 1.0
    assert cv.minima_census(cost, 20, lr=0.5, steps=200, cost_star=-2.0, rng=0).successes == 0
    with pytest.raises(ValueError, match="below cost_star"):
        cv.minima_census(cost, 4, lr=0.5, steps=2, cost_star=-2.0, ansatz_best=-3.0)


def test_census_separates_traps_and_good_turing_counts_certified_endpoints():
    # C = cos 2t - 0.5 sin t: global minimum -1.5, one trap at -0.5 (see above).
    circuit = Circuit(2).rx(0).rx(0, param=0).rx(1, param=0)
    cost = Cost(circuit, {"ZI": 1.0, "IY": 0.5})
    best = cv.ansatz_minimum(cost, 10, rng=3)
    assert best.value == pytest.approx(-1.5, abs=1e-8)
    census = cv.minima_census(cost, 40, lr=0.1, steps=50, cost_star=-1.5, rng=4,
                              ansatz_best=best.value, finish=True)
    np.testing.assert_allclose(census.traps, [-0.5], atol=1e-6)
    assert census.unconverged == 0 and census.trapped == census.counts[1] > 0
    assert np.all(census.max_gradient < 1e-3) and np.all(census.min_hessian > 0)
    # Good-Turing: endpoints whose minimum was seen once, over the certified endpoints.
    fake = cv.MinimaCensus(2, 10, np.zeros(10), np.r_[np.ones(5, bool), np.zeros(5, bool)],
                           np.array([0.0, 1.0, 2.0]), np.array([3, 1, 1]), 0, (0.0, 1.0), 0.0)
    assert fake.unseen == pytest.approx(2 / 5)


def test_kernel_forecast_is_a_prediction_that_can_fail(local_cost):
    # Local cost of R_X rotations near 0: lambda -> 1/n is constant, the forecast holds.
    # The exact per-step factor is (1 - eta/(2n))^2 against the forecast 1 - eta/n, so
    # the ratio is 1 - O(eta): 0.983 at eta = 0.2.
    trace = cv.kernel_trace(local_cost, _path(local_cost, 0.05 * np.ones(N), 0.2, 100), 0.0)
    good = cv.kernel_forecast(trace, 0.2, start=0)
    assert good.ratio == pytest.approx(np.log(1 - 0.2 / 6) / np.log(1 - 0.2 / 3) * 2, rel=1e-3)
    # From a start near the maximum, lambda grows along the run (the kernel is far from
    # frozen) and the forecast from step 0 misses by far.
    bad = cv.kernel_forecast(cv.kernel_trace(local_cost, _path(local_cost, np.full(N, 2.8),
                                                                 0.2, 100), 0.0), 0.2, start=0)
    assert bad.ratio > 2
    with pytest.raises(ValueError, match="start < stop"):
        cv.kernel_forecast(trace, 0.2, start=100)


def _path(cost, theta0, lr, steps):
    thetas = [np.asarray(theta0, dtype=float)]
    for _ in range(steps):
        thetas.append(thetas[-1] - lr * cost.gradient(thetas[-1]))
    return np.array(thetas)


def test_maximised_curvature_finds_the_true_smoothness_constant():
    # C = cos a cos b cos c cos d: at theta = 0 the Hessian is -I, so L >= 1; a norm near 1
    # needs every angle near 0 or pi at once, which three samples almost never hit.
    cost = Cost(Circuit(4).ry(0).ry(1).ry(2).ry(3), "ZZZZ")
    sampled = cv.sampled_curvature(cost, 3, rng=5)
    climbed = cv.maximised_curvature(cost, 3, n_climbs=2, rng=5)
    assert sampled.max_abs_eigenvalue < 0.95
    assert 1 - 1e-6 < climbed.max_abs_eigenvalue <= cv.smoothness_constant(cost).value
    with pytest.raises(ValueError, match="cannot exceed n_samples"):
        cv.maximised_curvature(cost, 2, n_climbs=3)


def test_rank_profile_locates_mc_of_the_hva():
    # The 4-qubit Ising HVA: the orbit of |+>^4 has dimension 8, reached at p = 4 (M = 8).
    edges = [(0, 1), (1, 2), (2, 3)]
    profile = cv.rank_profile([ansatz.qaoa(edges, 4, p) for p in range(1, 7)], 12, rng=4)
    assert profile.typical.tolist() == [2, 4, 6, 8, 8, 8]
    assert profile.r_inf == 8 and profile.critical == 8
    assert profile.gap[0] < profile.cut < profile.gap[1]
    with pytest.raises(ValueError, match="at least one circuit"):
        cv.rank_profile([], 3)


def test_local_gradient_variance_grows_with_the_radius_then_saturates():
    # Global cost of 4 R_X rotations: at theta0 = 0 the derivative vanishes, and
    # Var[d_1 C] grows like sigma^2/4 for small sigma; for large sigma it approaches the
    # uniform value (1/8)(3/8)^3 = 0.00659 (chapter 3).
    cost = Cost(ansatz.tensor_product_rx(4), observables.global_cost(4))
    res = cv.local_gradient_variance(cost, np.zeros(4), [0.05, 10.0], 4000, rng=6)
    assert res.ci[0, 0] < 0.05**2 / 4 < res.ci[0, 1]
    assert res.ci[1, 0] < (1 / 8) * (3 / 8) ** 3 < res.ci[1, 1]
    with pytest.raises(ValueError, match="radii must be positive"):
        cv.local_gradient_variance(cost, np.zeros(4), [0.0], 20)
