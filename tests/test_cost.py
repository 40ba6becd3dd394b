"""Cost and Loss: closed forms, batching, evaluation counts, shot noise, bad input."""

import numpy as np
import pytest
import qutip
from conftest import qutip_state

from qnncourse import ansatz
from qnncourse.circuit import Circuit
from qnncourse.cost import Cost, Loss
from qnncourse.observables import global_cost, local_cost

EXACT_METHODS = ["adjoint", "parameter-shift", "finite-difference"]


# -- closed forms (Cerezo et al. 2021's tensor-product example) ----------------------------
# RX(t)|0> has <0|RX(t)|0> = cos(t/2), so for V = ⊗ RX(t_j):
#   C_G = 1 - prod_j cos^2(t_j/2),  dC_G/dt_k = sin(t_k)/2 * prod_{j != k} cos^2(t_j/2)
#   C_L = 1 - (1/n) sum_j cos^2(t_j/2),  dC_L/dt_k = sin(t_k) / (2n)
def global_closed_form(theta):
    c2 = np.cos(theta / 2) ** 2
    grads = np.array([np.sin(t) / 2 * np.prod(np.delete(c2, k)) for k, t in enumerate(theta)])
    return 1 - np.prod(c2), grads


def local_closed_form(theta):
    n = len(theta)
    return 1 - np.mean(np.cos(theta / 2) ** 2), np.sin(theta) / (2 * n)


@pytest.mark.parametrize("method", EXACT_METHODS)
@pytest.mark.parametrize("observable,closed_form", [
    (global_cost, global_closed_form), (local_cost, local_closed_form)], ids=["global", "local"])
def test_tensor_product_rx_closed_forms(observable, closed_form, method):
    n = 4
    theta = np.array([0.3, -1.2, 2.5, 0.9])
    cost = Cost(ansatz.tensor_product_rx(n), observable(n))
    value, grad = cost.value_and_gradient(theta, method=method)
    expected_value, expected_grad = closed_form(theta)
    assert value == pytest.approx(expected_value, abs=1e-12)
    np.testing.assert_allclose(grad, expected_grad, atol=1e-9)
    assert cost(theta) == pytest.approx(expected_value, abs=1e-12)


def test_batched_calls_match_single_calls():
    cost = Cost(ansatz.hardware_efficient(3, 2), local_cost(3))
    thetas = np.random.default_rng(0).uniform(-np.pi, np.pi, (6, cost.n_params))
    values = cost(thetas)
    grads = cost.gradient(thetas)
    assert values.shape == (6,) and grads.shape == (6, cost.n_params)
    for s in range(6):
        assert values[s] == pytest.approx(cost(thetas[s]), abs=1e-12)
        np.testing.assert_allclose(grads[s], cost.gradient(thetas[s]), atol=1e-12)
    batched_value, batched_grad = cost.value_and_gradient(thetas, method="parameter-shift")
    np.testing.assert_allclose(batched_value, values, atol=1e-12)
    np.testing.assert_allclose(batched_grad, grads, atol=1e-12)


def test_single_theta_gives_float():
    cost = Cost(ansatz.tensor_product_rx(2), global_cost(2))
    assert isinstance(cost([0.1, 0.2]), float)
    assert cost.gradient([0.1, 0.2]).shape == (2,)


@pytest.mark.parametrize("method,per_gradient", [
    ("adjoint", 2 * 6), ("parameter-shift", 2 * 6), ("finite-difference", 2 * 6), ("spsa", 2)])
def test_evaluation_counts(method, per_gradient):
    cost = Cost(ansatz.hardware_efficient(3, 1), "ZZI", rng=0)
    theta = np.zeros((4, cost.n_params))
    cost.gradient(theta, method=method)
    assert cost.evaluations == 4 * per_gradient
    cost.reset_evaluations()
    cost.value_and_gradient(theta[0], method=method)
    assert cost.evaluations == 1 + per_gradient
    cost.reset_evaluations()
    cost(theta)
    assert cost.evaluations == 4


def test_shared_parameters_cost_two_evaluations_per_rotation():
    cost = Cost(ansatz.qaoa([(0, 1), (1, 2), (0, 2)], 3, 1), "ZZI")   # 3 ZZ + 3 RX rotations
    cost.gradient([0.3, 0.4], method="parameter-shift")
    assert cost.evaluations == 2 * 6


def test_with_circuit_and_state():
    cost = Cost(ansatz.tensor_product_rx(2), "ZZ", shots=10, rng=1)
    other = cost.with_circuit(ansatz.hardware_efficient(2, 1))
    assert other.observable is cost.observable and other.shots == 10 and other.rng is cost.rng
    ket = cost.state([np.pi, 0.0])
    np.testing.assert_allclose(ket.full()[:, 0], [0, 0, -1j, 0], atol=1e-12)
    assert "shots=10" in repr(cost)


# -- shots ---------------------------------------------------------------------------------
def shot_spread(shots, theta, method=None, draws=4000):
    """Mean and standard deviation over many independent shot estimates (one batch)."""
    cost = Cost(ansatz.tensor_product_rx(1), "Z", shots=shots, rng=123)
    thetas = np.full((draws, 1), theta)
    if method is None:
        est = cost(thetas)
    else:
        est = cost.gradient(thetas, method=method)[:, 0]
    return est.mean(), est.std(), cost


def test_shot_values_are_unbiased_with_binomial_spread():
    theta = 1.1
    for shots in (100, 1600):
        mean, std, cost = shot_spread(shots, theta)
        # <Z> = cos(theta); one shot has variance 1 - cos^2(theta).
        expected_std = np.sqrt((1 - np.cos(theta) ** 2) / shots)
        assert std == pytest.approx(expected_std, rel=0.05)
        assert abs(mean - np.cos(theta)) < 4 * expected_std / np.sqrt(4000)
        assert cost.shots_used == 4000 * shots


def test_shot_error_shrinks_as_one_over_sqrt_n():
    stds = [shot_spread(shots, 0.7)[1] for shots in (50, 200, 800, 3200)]
    slope = np.polyfit(np.log([50, 200, 800, 3200]), np.log(stds), 1)[0]
    assert slope == pytest.approx(-0.5, abs=0.03)


def test_parameter_shift_with_shots():
    theta = 0.4
    for shots in (100, 1600):
        mean, std, cost = shot_spread(shots, theta, method="parameter-shift")
        # d<Z>/dt = -sin(t) = [C(t + pi/2) - C(t - pi/2)] / 2, each side with variance
        # (1 - sin^2 t)/N, so the estimate has variance cos^2(t) / (2N).
        expected_std = np.abs(np.cos(theta)) / np.sqrt(2 * shots)
        assert std == pytest.approx(expected_std, rel=0.05)
        assert abs(mean + np.sin(theta)) < 4 * expected_std / np.sqrt(4000)
        assert cost.evaluations == 2 * 4000


def test_shots_in_a_dense_eigenbasis():
    """A non-diagonal observable is sampled in its own eigenbasis: the mean converges."""
    obs = qutip.rand_herm([2, 2], density=1.0, seed=2)
    circuit = ansatz.hardware_efficient(2, 1)
    theta = np.linspace(0.1, 0.8, circuit.n_params)
    exact = Cost(circuit, obs)(theta)
    noisy = Cost(circuit, obs, shots=2000, rng=5)(np.repeat(theta[None], 500, axis=0))
    assert noisy.mean() == pytest.approx(exact, abs=4 * noisy.std() / np.sqrt(500))


def test_default_method_with_shots_is_parameter_shift():
    cost = Cost(ansatz.tensor_product_rx(2), "ZZ", shots=100, rng=0)
    cost.gradient([0.1, 0.2])
    assert cost.evaluations == 4 and cost.shots_used == 400


# -- supervised loss -----------------------------------------------------------------------
def loss_fixture(loss="mse"):
    circuit = Circuit(1).encode("X", 0, 0).ry(0).rz(0)
    X = np.array([[0.1], [0.7], [-1.3]])
    y = np.array([0.0, 1.0, 1.0])
    return circuit, X, y, Loss(circuit, "Z", X, y, loss=loss)


def model_outputs(circuit, theta, X):
    return np.array([qutip.expect(qutip.sigmaz(), qutip_state(circuit, theta, x)) for x in X])


@pytest.mark.parametrize("loss", ["mse", "cross-entropy"])
def test_loss_value_against_qutip(loss):
    circuit, X, y, objective = loss_fixture(loss)
    theta = np.array([0.4, -0.9])
    f = model_outputs(circuit, theta, X)
    if loss == "mse":
        expected = np.mean((f - y) ** 2)
    else:
        p = (1 + f) / 2
        expected = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert objective(theta) == pytest.approx(expected, abs=1e-12)
    np.testing.assert_allclose(objective.predict(theta), f, atol=1e-12)
    assert objective.evaluations == 2 * 3


@pytest.mark.parametrize("loss", ["mse", "cross-entropy"])
def test_loss_gradient_methods_agree(loss):
    *_, objective = loss_fixture(loss)
    theta = np.array([[0.4, -0.9], [1.2, 0.3]])
    exact = objective.gradient(theta)
    assert exact.shape == (2, 2)
    np.testing.assert_allclose(objective.gradient(theta, method="parameter-shift"), exact,
                               atol=1e-12)
    h = 1e-6
    fd = np.stack([(objective(theta + h * e) - objective(theta - h * e)) / (2 * h)
                   for e in np.eye(2)], axis=1)
    np.testing.assert_allclose(exact, fd, atol=1e-7)


def test_loss_spsa_shares_the_perturbation_across_data():
    *_, objective = loss_fixture()
    theta = np.array([0.4, -0.9])
    g = np.mean([objective.gradient(theta, method="spsa", c=0.01) for _ in range(3000)],
                axis=0)
    np.testing.assert_allclose(g, objective.gradient(theta), atol=0.05)


class TestLossBadInput:
    def test_labels_for_cross_entropy(self):
        circuit, X, _, _ = loss_fixture()
        with pytest.raises(ValueError, match="cross-entropy needs labels 0 or 1"):
            Loss(circuit, "Z", X, [0, 2, 1], loss="cross-entropy")

    def test_spectrum_for_cross_entropy(self):
        circuit, X, y, _ = loss_fixture()
        with pytest.raises(ValueError, match=r"spectrum in \[-1, 1\].*got \[-2, 2\]"):
            Loss(circuit, {"Z": 2.0}, X, y, loss="cross-entropy")

    def test_shapes(self):
        circuit, X, _, _ = loss_fixture()
        with pytest.raises(ValueError, match=r"y has shape \(2,\), X has 3 rows"):
            Loss(circuit, "Z", X, [0, 1])
        with pytest.raises(ValueError, match=r"x has shape \(3, 2\), the circuit encodes 1"):
            Loss(circuit, "Z", np.zeros((3, 2)), [0, 1, 1])

    def test_needs_encodings_and_a_known_loss(self):
        with pytest.raises(ValueError, match="a Loss needs a circuit with encoding gates"):
            Loss(Circuit(1).rx(0), "Z", np.zeros((2, 1)), [0, 1])
        circuit, X, y, _ = loss_fixture()
        with pytest.raises(ValueError, match="loss must be one of"):
            Loss(circuit, "Z", X, y, loss="hinge")

    def test_x_is_not_passed(self):
        *_, objective = loss_fixture()
        with pytest.raises(ValueError, match="a Loss evaluates its own data set X"):
            objective([0.1, 0.2], x=[1.0])


# -- bad input -----------------------------------------------------------------------------
class TestCostBadInput:
    cost = Cost(ansatz.tensor_product_rx(3), global_cost(3))

    def test_theta_wrong_length(self):
        with pytest.raises(ValueError, match="theta has 2 values, the circuit has 3 parameters"):
            self.cost([0.1, 0.2])
        with pytest.raises(ValueError, match="theta has 4 values, the circuit has 3 parameters"):
            self.cost.gradient([0.1, 0.2, 0.3, 0.4])

    def test_nan_parameters(self):
        with pytest.raises(ValueError, match="theta contains NaN"):
            self.cost.gradient([0.1, np.nan, 0.3])

    def test_mismatched_observable(self):
        with pytest.raises(ValueError, match=r"observable has dims \[\[2, 2\], \[2, 2\]\], a "
                                             "3-qubit circuit needs"):
            Cost(ansatz.tensor_product_rx(3), global_cost(2))

    def test_non_hermitian_observable(self):
        with pytest.raises(ValueError, match="observable is not Hermitian"):
            Cost(ansatz.tensor_product_rx(1), qutip.sigmap())

    def test_unknown_method(self):
        with pytest.raises(ValueError, match="method must be one of .* got 'backprop'"):
            self.cost.gradient([0.1, 0.2, 0.3], method="backprop")

    def test_adjoint_needs_exact_simulation(self):
        cost = Cost(ansatz.tensor_product_rx(1), "Z", shots=100)
        with pytest.raises(ValueError, match="method='adjoint' needs the exact state, but "
                                             "shots=100"):
            cost.gradient([0.1], method="adjoint")

    @pytest.mark.parametrize("shots", [0, -5, 1.5, True])
    def test_bad_shots(self, shots):
        with pytest.raises(ValueError, match="shots must be None .* or a positive int"):
            Cost(ansatz.tensor_product_rx(1), "Z", shots=shots)

    def test_circuit_type(self):
        with pytest.raises(TypeError, match="circuit must be a qnncourse Circuit, got str"):
            Cost("RX", "Z")


def test_unknown_or_inapplicable_gradient_options_are_errors():
    cost = Cost(ansatz.tensor_product_rx(2), global_cost(2))
    theta = [0.3, 0.4]
    with pytest.raises(ValueError, match=r"method='adjoint' takes no options, got foo=1"):
        cost.gradient(theta, foo=1)
    with pytest.raises(ValueError, match=r"method='adjoint' takes no options, got h=0\.5"):
        cost.gradient(theta, method="adjoint", h=0.5)
    with pytest.raises(ValueError, match=r"method='parameter-shift' takes only shift, got h=0\.5"):
        cost.value_and_gradient(theta, method="parameter-shift", h=0.5)
    assert cost.evaluations == 0  # rejected before anything ran
    np.testing.assert_allclose(cost.gradient(theta, method="finite-difference", h=1e-5),
                               cost.gradient(theta), atol=1e-8)


def test_charge_counts_executions_made_outside_the_cost():
    cost = Cost(ansatz.tensor_product_rx(2), global_cost(2))
    cost.charge(6)
    cost([0.1, 0.2])
    assert cost.evaluations == 7
    with pytest.raises(ValueError, match="n_executions must be a non-negative int, got -1"):
        cost.charge(-1)
