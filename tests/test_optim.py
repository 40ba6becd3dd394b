"""Optimizers, the training loop, layerwise training and identity-block initialization.

Problems with known minima: the local cost of ``tensor_product_rx`` (minimum 0 at theta = 0)
and a two-qubit Hamiltonian whose ground energy QuTiP gives. QNG's step is checked against the
update built from a metric and gradient computed independently in QuTiP.
"""

import numpy as np
import pytest
import qutip
from conftest import qutip_state

from qnncourse import ansatz, observables
from qnncourse.circuit import Circuit
from qnncourse.cost import Cost, Loss
from qnncourse.initialization import identity_blocks
from qnncourse.noise import Depolarizing
from qnncourse.optim import (
    QNG,
    SPSA,
    Adam,
    GradientDescent,
    TrainResult,
    metric_circuits,
    train,
    train_layerwise,
)


# -- QuTiP oracle (conftest): state and derivatives, built without the library's simulator --
def qutip_gradient_and_metric(circuit, observable, theta, h=1e-6):
    """Central differences of the QuTiP state: gradient of <O> and Fubini-Study metric."""
    psi = qutip_state(circuit, theta).full().ravel()
    d = []
    for i in range(theta.size):
        e = np.zeros(theta.size)
        e[i] = h
        plus = qutip_state(circuit, theta + e).full().ravel()
        minus = qutip_state(circuit, theta - e).full().ravel()
        d.append((plus - minus) / (2 * h))
    d = np.array(d)
    o = observable.full()
    grad = 2 * np.real(d.conj() @ o @ psi)
    berry = d.conj() @ psi
    metric = np.real(d.conj() @ d.T - np.outer(berry, berry.conj()))
    return grad, metric


def two_layer_circuit():
    return Circuit(2).ry(0).ry(1).cz(0, 1).rx(0).rx(1)


HAMILTONIAN = qutip.tensor(qutip.sigmaz(), qutip.sigmaz()) + 0.7 * (
    qutip.tensor(qutip.sigmax(), qutip.qeye(2)) + qutip.tensor(qutip.qeye(2), qutip.sigmax())
)


@pytest.fixture
def local3():
    return Cost(ansatz.tensor_product_rx(3), observables.local_cost(3))


THETA0 = np.array([0.5, 1.0, -1.0])


# -- hyper-parameter validation ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: GradientDescent(lr=0), "lr must be a finite positive number, got 0.0"),
        (lambda: GradientDescent(lr=float("nan")), "lr must be a finite positive number"),
        (lambda: Adam(lr=-1), "lr must be a finite positive number, got -1.0"),
        (lambda: Adam(beta1=1.0), r"beta1 must lie in \[0, 1\), got 1.0"),
        (lambda: Adam(beta2=-0.1), "beta2 must be a finite non-negative number, got -0.1"),
        (lambda: Adam(eps=0), "eps must be a finite positive number, got 0.0"),
        (lambda: SPSA(a=0), "a must be a finite positive number, got 0.0"),
        (lambda: SPSA(c=-0.1), "c must be a finite positive number, got -0.1"),
        (lambda: SPSA(alpha=0), "alpha must be a finite positive number, got 0.0"),
        (lambda: SPSA(gamma=-1), "gamma must be a finite positive number, got -1.0"),
        (lambda: SPSA(A=-1), "A must be a finite non-negative number, got -1.0"),
        (lambda: QNG(approx="full"), "approx must be one of 'block-diag', 'diag' or None"),
        (lambda: QNG(reg=-1e-3), "reg must be a finite non-negative number, got -0.001"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_invalid_hyperparameters(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_train_validates_before_running(local3):
    with pytest.raises(ValueError, match="theta0 has 2 values, the cost has 3 parameters"):
        train(local3, [0.1, 0.2], GradientDescent(), 5, progress=False)
    with pytest.raises(ValueError, match="steps must be a non-negative integer, got -1"):
        train(local3, THETA0, GradientDescent(), -1, progress=False)
    with pytest.raises(ValueError, match="monitor_every must be a positive integer, got 0"):
        train(local3, THETA0, SPSA(rng=0), 5, progress=False, monitor_every=0)
    with pytest.raises(TypeError, match="optimizer must be a qnncourse Optimizer, got str"):
        train(local3, THETA0, "adam", 5, progress=False)
    assert local3.evaluations == 0


# -- convergence on problems with known minima ------------------------------------------------
@pytest.mark.parametrize(
    "optimizer",
    [GradientDescent(lr=3.0), Adam(lr=0.1), QNG(lr=0.5), QNG(lr=0.5, approx=None, reg=1e-3)],
    ids=repr,
)
def test_gradient_optimizers_reach_the_minimum(local3, optimizer):
    result = train(local3, THETA0, optimizer, 300, progress=False, target=1e-8)
    assert result.reason == "target"
    assert result.final_cost <= 1e-8
    assert np.allclose(np.cos(result.final_theta), 1.0, atol=1e-6)


def test_spsa_reaches_the_minimum(local3):
    result = train(local3, THETA0, SPSA(a=2.0, c=0.2, rng=3), 500, progress=False,
                   target=1e-4, monitor_every=1)
    assert result.reason == "target"
    assert result.final_cost <= 1e-4


def test_adam_finds_the_ground_energy():
    circuit = ansatz.hardware_efficient(2, 2)
    cost = Cost(circuit, HAMILTONIAN)
    ground = HAMILTONIAN.eigenenergies()[0]
    theta0 = np.random.default_rng(7).uniform(0, 2 * np.pi, circuit.n_params)
    result = train(cost, theta0, Adam(lr=0.05), 600, progress=False)
    assert result.best.cost == pytest.approx(ground, abs=1e-3)
    expected = qutip.expect(HAMILTONIAN, qutip_state(circuit, result.best.theta))
    assert result.best.cost == pytest.approx(expected, abs=1e-10)


# -- the record: arrays, evaluation counts, stopping --------------------------------------------
def test_gradient_descent_record_and_evaluation_counts(local3):
    probe = Cost(ansatz.tensor_product_rx(3), observables.local_cost(3))
    probe.value_and_gradient(THETA0)
    per_step = probe.evaluations
    probe.reset_evaluations()
    probe(THETA0)
    per_value = probe.evaluations

    result = train(local3, THETA0, GradientDescent(lr=0.5), 10, progress=False)
    assert result.thetas.shape == (11, 3)
    assert result.costs.shape == result.grad_norms.shape == result.evaluations.shape == (11,)
    assert np.array_equal(result.thetas[0], THETA0)
    # theta_{k+1} = theta_k - lr grad C(theta_k), grad C_L = sin(theta) / (2n)
    assert np.allclose(result.thetas[1], THETA0 - 0.5 * np.sin(THETA0) / 6)
    assert np.allclose(result.costs, 0.5 - np.cos(result.thetas).sum(axis=1) / 6)
    assert np.array_equal(result.evaluations[:10], per_step * np.arange(1, 11))
    assert result.evaluations[-1] == 10 * per_step + per_value
    assert result.monitor_evaluations.tolist() == [0] * 10 + [per_value]  # final cost only
    assert result.evaluations[-1] == local3.evaluations
    assert np.all(np.diff(result.wall_time) >= 0)
    assert not result.converged and result.reason == "steps"


def test_spsa_uses_two_evaluations_per_step_and_monitoring_is_separate(local3):
    result = train(local3, THETA0, SPSA(rng=1), 12, progress=False)
    assert np.array_equal(result.evaluations[:12], 2 * np.arange(1, 13))
    assert np.isnan(result.costs[:12]).all() and np.isfinite(result.costs[-1])
    assert result.monitor_evaluations[-1] == 1

    local3.reset_evaluations()
    monitored = train(local3, THETA0, SPSA(rng=1), 12, progress=False, monitor_every=5)
    assert np.flatnonzero(np.isfinite(monitored.costs)).tolist() == [0, 5, 10, 12]
    assert monitored.monitor_evaluations.tolist() == [1] * 5 + [2] * 5 + [3, 3, 4]
    assert monitored.evaluations[-1] == 2 * 12 + 4 == local3.evaluations
    # Same seed, same perturbations: monitoring does not change the path.
    assert np.array_equal(monitored.thetas, result.thetas)


def test_spsa_is_reproducible_from_its_seed(local3):
    a = train(local3, THETA0, SPSA(rng=5), 20, progress=False).thetas
    b = train(local3, THETA0, SPSA(rng=5), 20, progress=False).thetas
    c = train(local3, THETA0, SPSA(rng=6), 20, progress=False).thetas
    assert np.array_equal(a, b)
    assert not np.allclose(a, c)


def test_spsa_step_is_spalls_estimate(local3):
    spsa = SPSA(a=0.3, c=0.1, alpha=0.602, gamma=0.101, A=2.0, rng=11)
    new_theta, info = spsa.step(local3, THETA0)
    delta = 2.0 * np.random.default_rng(11).integers(0, 2, size=3) - 1.0
    c0, a0 = 0.1, 0.3 / 3.0**0.602
    g = (local3(THETA0 + c0 * delta) - local3(THETA0 - c0 * delta)) / (2 * c0) * delta
    assert np.allclose(new_theta, THETA0 - a0 * g)
    assert info["evaluations"] == 2 and info["cost"] is None


def test_stopping_by_target_tol_and_callback(local3):
    by_target = train(local3, THETA0, GradientDescent(lr=3.0), 100, progress=False, target=1e-3)
    assert by_target.reason == "target" and by_target.converged
    assert by_target.costs[-1] <= 1e-3 < by_target.costs[-2]
    assert by_target.first_below(1e-3) == by_target.steps

    by_tol = train(local3, THETA0, GradientDescent(lr=0.5), 10_000, progress=False, tol=1e-6)
    assert by_tol.reason == "tol" and by_tol.steps < 10_000
    assert abs(by_tol.costs[-1] - by_tol.costs[-2]) < 1e-6

    seen = []

    def stop_at_three(k, theta, info):
        seen.append((k, info["evaluations"]))
        return k == 3

    by_callback = train(local3, THETA0, Adam(), 50, progress=False, callback=stop_at_three)
    assert by_callback.reason == "callback" and by_callback.steps == 3
    assert [k for k, _ in seen] == [0, 1, 2, 3]
    assert [e for _, e in seen] == by_callback.evaluations.tolist()


def test_progress_bar_and_repr(local3, capsys):
    result = train(local3, THETA0, GradientDescent(lr=0.5), 3, progress=True)
    assert "GradientDescent(lr=0.5)" in capsys.readouterr().err
    text = repr(result)
    assert isinstance(result, TrainResult)
    assert text.startswith("TrainResult(GradientDescent(lr=0.5): 3 steps, final cost")
    assert "stopped by steps" in text


def test_train_accepts_a_shot_noise_cost():
    cost = Cost(ansatz.tensor_product_rx(2), observables.local_cost(2), shots=2000, rng=4)
    result = train(cost, [1.0, -1.0], Adam(lr=0.1), 80, progress=False)
    assert result.final_cost < 0.05
    assert result.evaluations[-1] == cost.evaluations


@pytest.mark.parametrize("optimizer", [GradientDescent(lr=3.0), QNG(lr=0.5)], ids=repr)
def test_train_on_a_noisy_cost_reaches_the_noisy_minimum(optimizer):
    # Depolarizing(p) after each R_X shrinks <Z_i> to (1 - p) cos(theta_i), so
    # C_L = 1/2 - (1 - p)/(2n) sum_i cos(theta_i), minimum p/2 at theta = 0.
    cost = Cost(ansatz.tensor_product_rx(2), observables.local_cost(2), noise=Depolarizing(0.1))
    result = train(cost, [1.0, -1.0], optimizer, 200, progress=False, tol=1e-12)
    assert result.final_cost == pytest.approx(0.05, abs=1e-9)
    assert np.allclose(result.final_theta, 0.0, atol=1e-3)
    # Stopped by tol at theta_k after the step from theta_k computed C(theta_k): k + 1 steps.
    assert result.reason == "tol"
    # One counter: QNG's metric circuits are charged to the cost itself.
    assert result.evaluations[-1] == cost.evaluations


def test_train_accepts_a_supervised_loss():
    X = np.linspace(-1, 1, 8)[:, None]
    loss = Loss(ansatz.data_reuploading(1, 2, 1), "Z", X, np.sign(X[:, 0] + 1e-9))
    theta0 = np.full(loss.n_params, 0.3)
    result = train(loss, theta0, Adam(lr=0.1), 60, progress=False)
    assert result.final_cost < 0.5 * result.costs[0]
    # Every data point is one circuit: a value and gradient cost 8 * (1 + 2 * 4) = 72 each.
    assert result.evaluations[0] == 72
    assert result.evaluations[-1] == loss.evaluations


# -- QNG ----------------------------------------------------------------------------------------
def test_metric_circuits_counts_layers_and_cross_pairs():
    circuit = two_layer_circuit()  # parameters 0, 1 in layer 1; 2, 3 in layer 2
    assert metric_circuits(circuit, "block-diag") == 2
    assert metric_circuits(circuit, "diag") == 2
    assert metric_circuits(circuit, None) == 2 + 4
    assert metric_circuits(ansatz.tensor_product_rx(4), "block-diag") == 1
    # One tagged ansatz layer, RY then RZ on each qubit: two parametrized layers in one block,
    # so the block's 2 x 2 cross-layer entries need Hadamard tests.
    assert metric_circuits(ansatz.hardware_efficient(2, 1), "block-diag") == 2 + 4
    assert metric_circuits(ansatz.hardware_efficient(2, 1), "diag") == 2


@pytest.mark.parametrize("approx", [None, "block-diag", "diag"])
def test_qng_step_matches_the_update_from_an_independent_metric(approx):
    circuit = two_layer_circuit()
    cost = Cost(circuit, HAMILTONIAN)
    theta = np.array([0.3, -1.1, 0.7, 2.0])
    grad, metric = qutip_gradient_and_metric(circuit, HAMILTONIAN, theta)
    if approx == "block-diag":
        same_layer = np.equal.outer([1, 1, 2, 2], [1, 1, 2, 2])
        metric = np.where(same_layer, metric, 0.0)
    elif approx == "diag":
        metric = np.diag(np.diag(metric))
    expected = theta - 0.2 * np.linalg.solve(metric + 0.01 * np.eye(4), grad)

    probe = Cost(circuit, HAMILTONIAN)
    probe.value_and_gradient(theta)
    new_theta, info = QNG(lr=0.2, approx=approx, reg=0.01).step(cost, theta)
    assert np.allclose(new_theta, expected, atol=1e-6)
    assert info["evaluations"] == probe.evaluations + metric_circuits(circuit, approx)
    assert info["grad_norm"] == pytest.approx(np.linalg.norm(grad), abs=1e-7)


def test_qng_handles_a_singular_metric_with_the_pseudo_inverse():
    # RZ on |0> only adds a phase: its metric row and column vanish.
    circuit = Circuit(1).rz(0).ry(0)
    cost = Cost(circuit, "Z")
    new_theta, _ = QNG(lr=0.1, approx=None).step(cost, [0.4, 0.8])
    assert new_theta[0] == pytest.approx(0.4)
    # d<Z>/db = -sin b and g_bb = 1/4: the natural step is 4 times the plain one.
    assert new_theta[1] == pytest.approx(0.8 + 0.1 * 4 * np.sin(0.8))


# -- layerwise training and identity blocks -----------------------------------------------------
def test_truncated_circuit_freezes_earlier_layers_exactly():
    circuit = ansatz.hardware_efficient(3, 3)
    theta = np.random.default_rng(2).uniform(0, 2 * np.pi, circuit.n_params)
    last = int(circuit.param_layers.max())
    truncated, params = circuit.truncated(last, theta)
    assert np.array_equal(params, np.flatnonzero(circuit.param_layers == last))
    assert truncated.n_params == params.size
    full_state = qutip_state(circuit, theta)
    assert abs(full_state.overlap(qutip_state(truncated, theta[params]))) == pytest.approx(1.0)


def test_train_layerwise_trains_one_layer_at_a_time():
    circuit = ansatz.hardware_efficient(2, 2)
    cost = Cost(circuit, HAMILTONIAN)
    layers = circuit.param_layers
    result = train_layerwise(cost, np.zeros(circuit.n_params) + 0.1, Adam(lr=0.05), 40, 300,
                             progress=False)
    assert len(result.phases) == len(np.unique(layers)) + 1
    for params, layer in zip(result.trained[:-1], np.unique(layers), strict=True):
        assert np.array_equal(params, np.flatnonzero(layers == layer))
    first = result.phases[0]
    # Phase 0 sees only layer 0's parameters.
    assert first.thetas.shape[1] == np.sum(layers == layers.min())
    assert result.final_cost == pytest.approx(HAMILTONIAN.eigenenergies()[0], abs=1e-2)
    assert result.evaluations[-1] == sum(int(p.evaluations[-1]) for p in result.phases)


def test_train_layerwise_needs_each_parameter_in_one_layer():
    circuit = Circuit(1).new_layer().rx(0).new_layer().rx(0, param=0)
    with pytest.raises(ValueError, match="parameter 0 drives rotations in layers 0 and 1"):
        train_layerwise(Cost(circuit, "Z"), [0.1], Adam(), 5, 5, progress=False)


def test_identity_blocks_start_at_the_identity():
    block = Circuit(3).ry(0).rx(1).cnot(0, 1).pauli_rotation("ZZ", (1, 2)).rz(2, param=0).h(2)
    circuit, theta0 = identity_blocks(block, 2, rng=9)
    assert circuit.n_params == theta0.size == 2 * 2 * block.n_params
    assert circuit.n_layers == 4
    unitary = circuit.unitary(theta0).full()
    assert np.allclose(unitary, np.eye(8), atol=1e-12)
    # Not the identity away from the mirrored point, so the blocks stay trainable.
    assert not np.allclose(circuit.unitary(theta0 + 0.1).full(), np.eye(8), atol=1e-3)
    again = identity_blocks(block, 2, rng=9).theta0
    assert np.array_equal(theta0, again)
