"""Noise channels and noise models: closed forms, QuTiP as the oracle, bad input."""

import math

import numpy as np
import pytest
import qutip

from qnncourse.ansatz import hardware_efficient
from qnncourse.circuit import Circuit
from qnncourse.cost import Cost
from qnncourse.noise import (
    AmplitudeDamping,
    Channel,
    Dephasing,
    Depolarizing,
    NoiseModel,
    ThermalRelaxation,
    as_noise_model,
)
from qnncourse.observables import as_observable
from qnncourse.plateaus.noise_induced import (
    noisy_gradient_decay,
    pauli_noise_parameter,
    wang_gradient_bound,
)
from qnncourse.simulators import density

CHANNELS = [
    Depolarizing(0.1),
    Depolarizing(0.3, n_qubits=2),
    Dephasing(0.2),
    AmplitudeDamping(0.3),
    ThermalRelaxation(50.0, 30.0, 10.0),
]


def _random_rho(n_qubits, seed):
    return qutip.rand_dm([2] * n_qubits, seed=seed)


def _coherence(rho):
    return rho.full()[0, 1]


@pytest.mark.parametrize("channel", CHANNELS, ids=repr)
def test_kraus_and_superoperator_agree_and_are_cptp(channel):
    kraus = channel.kraus()
    k = channel.n_qubits
    assert all(op.dims == [[2] * k, [2] * k] for op in kraus)
    completeness = sum(op.dag() * op for op in kraus)
    assert (completeness - qutip.qeye([2] * k)).norm() < 1e-9
    superop = channel.superoperator()
    assert superop.iscptp
    assert (superop - qutip.kraus_to_super(kraus)).norm() < 1e-9
    rho = _random_rho(k, seed=3)
    by_kraus = sum(op * rho * op.dag() for op in kraus)
    assert (channel(rho) - by_kraus).norm() < 1e-9


@pytest.mark.parametrize("p", [0.0, 0.25, 1.0])
def test_depolarizing_closed_form_and_fixed_point(p):
    rho = _random_rho(1, seed=1)
    expected = (1 - p) * rho + p * qutip.qeye(2) / 2
    assert (Depolarizing(p)(rho) - expected).norm() < 1e-12
    mixed = qutip.qeye(2) / 2
    assert (Depolarizing(p)(mixed) - mixed).norm() < 1e-12
    np.testing.assert_allclose(Depolarizing(p).pauli_transfer_matrix(),
                               np.diag([1, 1 - p, 1 - p, 1 - p]), atol=1e-12)


def test_two_qubit_depolarizing_is_global_on_its_qubits():
    rho = _random_rho(2, seed=2)
    expected = 0.6 * rho + 0.4 * qutip.qeye([2, 2]) / 4
    assert (Depolarizing(0.4, n_qubits=2)(rho) - expected).norm() < 1e-12
    ptm = Depolarizing(0.4, n_qubits=2).pauli_transfer_matrix()
    np.testing.assert_allclose(ptm, np.diag([1] + [0.6] * 15), atol=1e-12)


def test_depolarizing_matches_pennylane_and_qiskit_conventions():
    """PennyLane's DepolarizingChannel(p_pl) applies X, Y, Z with p_pl/3 each: p_pl = 3p/4.
    Qiskit's depolarizing_error(lam, 1) is (1-lam) rho + lam I/2: lam = p."""
    p = 0.2
    p_pl = 3 * p / 4
    pennylane_kraus = [math.sqrt(1 - p_pl) * qutip.qeye(2)] + [
        math.sqrt(p_pl / 3) * s for s in (qutip.sigmax(), qutip.sigmay(), qutip.sigmaz())]
    assert (Depolarizing(p).superoperator() - qutip.kraus_to_super(pennylane_kraus)).norm() < 1e-12
    rho = _random_rho(1, seed=4)
    qiskit = (1 - p) * rho + p * rho.tr() * qutip.qeye(2) / 2
    assert (Depolarizing(p)(rho) - qiskit).norm() < 1e-12


@pytest.mark.parametrize("p", [0.0, 0.1, 0.5, 1.0])
def test_dephasing_keeps_populations_and_shrinks_coherences(p):
    rho = _random_rho(1, seed=5)
    out = Dephasing(p)(rho)
    np.testing.assert_allclose(np.diag(out.full()), np.diag(rho.full()), atol=1e-12)
    assert _coherence(out) == pytest.approx((1 - 2 * p) * _coherence(rho), abs=1e-12)
    np.testing.assert_allclose(Dephasing(p).pauli_transfer_matrix(),
                               np.diag([1, 1 - 2 * p, 1 - 2 * p, 1]), atol=1e-12)


@pytest.mark.parametrize("gamma", [0.0, 0.3, 1.0])
def test_amplitude_damping_decay_constants_and_fixed_point(gamma):
    rho = _random_rho(1, seed=6)
    out = AmplitudeDamping(gamma)(rho)
    assert out.full()[1, 1].real == pytest.approx((1 - gamma) * rho.full()[1, 1].real)
    assert _coherence(out) == pytest.approx(math.sqrt(1 - gamma) * _coherence(rho))
    ground = qutip.ket2dm(qutip.basis(2, 0))
    assert (AmplitudeDamping(gamma)(ground) - ground).norm() < 1e-12


@pytest.mark.parametrize(("t1", "t2", "t"), [(50.0, 30.0, 10.0), (20.0, 40.0, 7.0),
                                              (100.0, 5.0, 2.0)])
def test_thermal_relaxation_reads_back_t1_and_t2(t1, t2, t):
    channel = ThermalRelaxation(t1, t2, t)
    excited = channel(qutip.ket2dm(qutip.basis(2, 1)))
    assert -t / math.log(excited.full()[1, 1].real) == pytest.approx(t1, rel=1e-7)
    plus = qutip.ket2dm((qutip.basis(2, 0) + qutip.basis(2, 1)).unit())
    coherence = abs(_coherence(channel(plus)))
    assert -t / math.log(2 * coherence) == pytest.approx(t2, rel=1e-7)


def test_thermal_relaxation_equals_amplitude_damping_then_dephasing():
    """Closed form: amplitude damping with gamma = 1 - e^{-t/T1}, then dephasing bringing the
    coherence factor from sqrt(1 - gamma) = e^{-t/2T1} down to e^{-t/T2}."""
    t1, t2, t = 40.0, 25.0, 6.0
    gamma = 1 - math.exp(-t / t1)
    dephase = (1 - math.exp(-t / t2) / math.exp(-t / (2 * t1))) / 2
    closed = Dephasing(dephase).superoperator() @ AmplitudeDamping(gamma).superoperator()
    assert (ThermalRelaxation(t1, t2, t).superoperator() - closed).norm() < 1e-8
    reconstructed = qutip.kraus_to_super(ThermalRelaxation(t1, t2, t).kraus())
    assert (reconstructed - closed).norm() < 1e-8


def test_thermal_relaxation_limits():
    assert (ThermalRelaxation(10.0, 5.0, 0.0).superoperator()
            - qutip.to_super(qutip.qeye(2))).norm() < 1e-12
    assert (ThermalRelaxation(np.inf, np.inf, 3.0).superoperator()
            - qutip.to_super(qutip.qeye(2))).norm() < 1e-9


@pytest.mark.parametrize(("make", "message"), [
    (lambda: Depolarizing(1.5), r"Depolarizing p must be a probability in \[0, 1\], got 1.5"),
    (lambda: Depolarizing(-0.1), r"Depolarizing p must be a probability in \[0, 1\], got -0.1"),
    (lambda: Dephasing(float("nan")), r"Dephasing p must be a probability in \[0, 1\], got nan"),
    (lambda: AmplitudeDamping(2), r"AmplitudeDamping gamma must be a probability in \[0, 1\]"),
    (lambda: Depolarizing(0.1, n_qubits=0), "Depolarizing n_qubits must be a positive int"),
    (lambda: ThermalRelaxation(10.0, 25.0, 1.0),
     r"ThermalRelaxation needs t2 <= 2\*t1 .* got t2=25.0 > 2\*t1=20.0"),
    (lambda: ThermalRelaxation(-10.0, 5.0, 1.0),
     "ThermalRelaxation t1 must be a positive time, got -10.0"),
    (lambda: ThermalRelaxation(10.0, 0.0, 1.0),
     "ThermalRelaxation t2 must be a positive time, got 0.0"),
    (lambda: ThermalRelaxation(10.0, 5.0, -1.0),
     "ThermalRelaxation gate_time must be a non-negative time, got -1.0"),
    (lambda: NoiseModel(readout=1.2), r"readout error of every qubit probability must be a "
                                      r"probability in \[0, 1\], got 1.2"),
    (lambda: NoiseModel(readout=[0.1, (0.0, -0.2)]), r"readout error of qubit 1 p10 must be"),
], ids=["p>1", "p<0", "nan", "gamma>1", "n_qubits=0", "t2>2t1", "t1<0", "t2=0", "time<0",
        "readout>1", "readout pair<0"])
def test_bad_parameters_are_rejected(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_non_number_probability_is_a_type_error():
    with pytest.raises(TypeError, match="Depolarizing p must be a real number, got str"):
        Depolarizing("0.1")


def _circuit():
    return Circuit(3).ry(0).ry(1).ry(2).cz(0, 1).cz(1, 2).rx(2)


def test_noise_model_places_channels_after_selected_gates():
    circuit = _circuit()
    every = NoiseModel(Depolarizing(0.1)).channel_steps(circuit)
    assert [(s.after, s.qubits) for s in every] == [
        (0, (0,)), (1, (1,)), (2, (2,)), (3, (0,)), (3, (1,)), (4, (1,)), (4, (2,)), (5, (2,))]
    two = NoiseModel().add(Depolarizing(0.1), gates="two-qubit").channel_steps(circuit)
    assert [(s.after, s.qubits) for s in two] == [(3, (0,)), (3, (1,)), (4, (1,)), (4, (2,))]
    joint = NoiseModel().add(Depolarizing(0.1, n_qubits=2), gates="cz").channel_steps(circuit)
    assert [(s.after, s.qubits) for s in joint] == [(3, (0, 1)), (4, (1, 2))]
    per_qubit = NoiseModel().add({2: AmplitudeDamping(0.1)}, gates="one-qubit")
    assert [(s.after, s.qubits) for s in per_qubit.channel_steps(circuit)] == [(2, (2,)),
                                                                             (5, (2,))]
    only_rx = NoiseModel().add(Dephasing(0.1), gates={"RX"}, qubits=[2])
    assert [(s.after, s.qubits) for s in only_rx.channel_steps(circuit)] == [(5, (2,))]


def test_noise_model_rejects_impossible_placements():
    circuit = _circuit()
    with pytest.raises(ValueError, match=r"the noise model puts AmplitudeDamping\(gamma=0.1\) "
                                         r"on qubit 3, the circuit has 3 qubits \(0..2\)"):
        NoiseModel().add({3: AmplitudeDamping(0.1)}).channel_steps(circuit)
    with pytest.raises(ValueError, match="readout error on qubit 5, the circuit has 3 qubits"):
        NoiseModel(readout={5: 0.1}).channel_steps(circuit)
    with pytest.raises(ValueError, match=r"acts on 2 qubits and cannot follow gate RY on "
                                         r"qubits \(0,\)"):
        NoiseModel(Depolarizing(0.1, n_qubits=2)).channel_steps(circuit)
    with pytest.raises(TypeError, match="noise must be a Channel, a NoiseModel or None"):
        as_noise_model(0.1)


def test_readout_error_on_a_diagonal_observable():
    z0 = np.kron([1, -1], [1, 1]).astype(float)  # Z on qubit 0 of two
    np.testing.assert_allclose(NoiseModel(readout=0.1).readout_diagonal(z0), 0.8 * z0)
    # Asymmetric: Z -> (1 - p01 - p10) Z + (p10 - p01) I on that qubit.
    model = NoiseModel(readout={0: (0.05, 0.2)})
    expected = 0.75 * z0 + 0.15
    np.testing.assert_allclose(model.readout_diagonal(z0), expected)
    # The projector on |00>: reading 00 from 00 has probability (1-p)^2.
    proj = np.array([1.0, 0, 0, 0])
    out = NoiseModel(readout=0.1).readout_diagonal(proj)
    np.testing.assert_allclose(out, [0.81, 0.09, 0.09, 0.01])


def test_channel_is_abstract_and_checks_its_input():
    assert issubclass(Depolarizing, Channel)
    with pytest.raises(ValueError, match=r"acts on 1 qubit\(s\), rho has shape \(4, 4\)"):
        Depolarizing(0.1)(_random_rho(2, seed=0))


# -- noise-induced barren plateaus -------------------------------------------------------------

def _rx_layers(n, layers):
    """Product circuit: each layer is an RX on every qubit."""
    circuit = Circuit(n)
    for _ in range(layers):
        circuit.new_layer()
        for q in range(n):
            circuit.rx(q)
    return circuit


@pytest.mark.parametrize("gates", ["all", "layer"])
def test_local_depolarizing_on_a_product_circuit_closed_form(gates):
    """Depolarizing commutes with single-qubit unitaries, so each qubit's Bloch vector just
    shrinks by (1-p) per channel: <Z_q> = (1-p)^L cos(sum_l theta_lq)."""
    n, layers, p = 3, 4, 0.07
    circuit = _rx_layers(n, layers)
    program = density.DensityProgram(
        circuit, NoiseModel().add(Depolarizing(p), gates=gates).channel_steps(circuit))
    observable = as_observable({"ZII": 1 / n, "IZI": 1 / n, "IIZ": 1 / n}, n).diagonal
    thetas = np.random.default_rng(0).uniform(0, 2 * np.pi, (5, circuit.n_params))
    values, grads = density.adjoint_gradient(program, observable, circuit.angles(thetas))
    totals = thetas.reshape(5, layers, n).sum(axis=1)
    np.testing.assert_allclose(values, (1 - p) ** layers * np.cos(totals).mean(axis=1),
                               atol=1e-12)
    expected = -(1 - p) ** layers * np.sin(totals) / n
    np.testing.assert_allclose(circuit.chain_rule(grads), np.tile(expected, layers), atol=1e-12)


def test_global_depolarizing_multiplies_every_gradient_by_1_minus_p_to_the_L():
    p = 0.1
    result = noisy_gradient_decay(lambda depth: hardware_efficient(3, depth), "ZZI",
                                  depths=[1, 2, 4], rates=[p],
                                  channel=lambda rate: Depolarizing(rate, n_qubits=3),
                                  n_samples=4, rng=1)
    np.testing.assert_allclose(result.suppression[0], (1 - p) ** np.array([1, 2, 4]),
                               rtol=1e-10)
    assert result.decay[0] == pytest.approx(1 - p, rel=1e-10)
    assert np.isnan(result.wang_q[0])  # a 3-qubit channel is not Wang et al.'s local noise


def test_local_depolarizing_gradients_respect_wang_bound():
    result = noisy_gradient_decay(lambda depth: hardware_efficient(3, depth), "ZZZ",
                                  depths=[2, 4, 6], rates=[0.05, 0.2], n_samples=6, rng=2)
    np.testing.assert_allclose(result.wang_q, [0.95, 0.8])
    assert np.all(result.max_abs <= result.bound)
    assert np.all(result.decay < 1)
    assert result.decay[1] < result.decay[0]  # more noise, faster decay
    table = str(result)
    assert "Wang et al.: q = 0.8000" in table and table.count("\n") == 2 * 3 + 2


def test_wang_bound_value_and_channels_it_does_not_cover():
    expected = 1.0 * math.sqrt(2 * math.log(2) * 3) * 0.9**4
    assert wang_gradient_bound("ZII", 3, 0.9, 4) == pytest.approx(expected)
    # Shifting the observable by the identity does not change the bound (nor any gradient).
    assert wang_gradient_bound({"ZII": 1.0, "III": 5.0}, 3, 0.9, 4) == pytest.approx(expected)
    assert pauli_noise_parameter(Dephasing(0.1)) == pytest.approx(1.0)  # Z survives dephasing
    assert np.isnan(pauli_noise_parameter(AmplitudeDamping(0.1)))


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(depths=[3]), "depths must be at least two distinct positive ints, got \\[3\\]"),
    (dict(rates=[1.5]), r"Depolarizing p must be a probability in \[0, 1\], got 1.5"),
    (dict(placement="everywhere"), "placement must be 'layer' or 'gate', got 'everywhere'"),
    (dict(n_samples=1), "n_samples must be an int >= 2, got 1"),
])
def test_noisy_gradient_decay_bad_input(kwargs, message):
    args = dict(depths=[1, 2], rates=[0.1]) | kwargs
    with pytest.raises(ValueError, match=message):
        noisy_gradient_decay(lambda d: hardware_efficient(2, d), "ZZ", **args)


# -- Cost(..., noise=...) -------------------------------------------------------------------------

def _cost_circuit():
    return hardware_efficient(3, 2)


def test_zero_noise_equals_the_statevector_path():
    from qnncourse.cost import Cost

    circuit = _cost_circuit()
    thetas = np.random.default_rng(3).uniform(0, 2 * np.pi, (4, circuit.n_params))
    clean = Cost(circuit, {"ZZI": 1.0, "IXX": 0.5})
    for noise in (Depolarizing(0.0), NoiseModel(AmplitudeDamping(0.0)).add(Dephasing(0.0))):
        noisy = Cost(circuit, {"ZZI": 1.0, "IXX": 0.5}, noise=noise)
        np.testing.assert_allclose(noisy(thetas), clean(thetas), atol=1e-10)
        np.testing.assert_allclose(noisy.gradient(thetas), clean.gradient(thetas), atol=1e-10)
        assert noisy(thetas[0]) == pytest.approx(clean(thetas[0]), abs=1e-10)
        ket = clean.state(thetas[0])
        assert (noisy.state(thetas[0]) - qutip.ket2dm(ket)).norm() < 1e-10


def test_noisy_cost_state_values_and_gradients():
    from qnncourse.cost import Cost

    circuit = _cost_circuit()
    model = NoiseModel(Depolarizing(0.05)).add(ThermalRelaxation(40.0, 30.0, 1.0),
                                               gates="two-qubit")
    cost = Cost(circuit, "ZZI", noise=model)
    theta = np.random.default_rng(4).uniform(0, 2 * np.pi, circuit.n_params)
    rho = cost.state(theta)
    assert rho.dims == [[2, 2, 2], [2, 2, 2]] and rho.isherm
    assert cost(theta) == pytest.approx(qutip.expect(qutip.tensor(
        qutip.sigmaz(), qutip.sigmaz(), qutip.qeye(2)), rho), abs=1e-12)
    adjoint = cost.gradient(theta)
    np.testing.assert_allclose(cost.gradient(theta, method="parameter-shift"), adjoint,
                               atol=1e-10)
    batch = np.stack([theta, theta + 0.3])
    np.testing.assert_allclose(cost.gradient(batch)[0], adjoint, atol=1e-12)
    assert cost.with_circuit(hardware_efficient(3, 1)).noise is model


def test_readout_error_in_a_cost():
    from qnncourse.cost import Cost
    from qnncourse.observables import local_cost

    circuit = _cost_circuit()
    theta = np.random.default_rng(5).uniform(0, 2 * np.pi, circuit.n_params)
    p = 0.1
    clean = Cost(circuit, local_cost(3))(theta)
    # Each bit is read flipped with probability p: P(read 1) = (1-2p) P(1) + p.
    noisy = Cost(circuit, local_cost(3), noise=NoiseModel(readout=p))(theta)
    assert noisy == pytest.approx((1 - 2 * p) * clean + p, abs=1e-12)
    with pytest.raises(ValueError, match="readout error acts on computational-basis outcomes, "
                                         "but the observable is not diagonal"):
        Cost(circuit, "XII", noise=NoiseModel(readout=p))


def test_cost_rejects_noise_it_cannot_place():
    from qnncourse.cost import Cost

    with pytest.raises(ValueError, match="on qubit 7, the circuit has 3 qubits"):
        Cost(_cost_circuit(), "ZZI", noise=NoiseModel().add({7: Dephasing(0.1)}))
    with pytest.raises(ValueError, match="a 16-qubit density matrix .* bytes"):
        Cost(Circuit(16).rx(0), "Z" + "I" * 15, noise=Depolarizing(0.1))


def test_noisy_training_runs_through_train():
    from qnncourse.cost import Cost
    from qnncourse.optim import GradientDescent, train

    cost = Cost(_cost_circuit(), "ZZI", noise=Depolarizing(0.02))
    theta0 = np.full(cost.n_params, 0.4)
    result = train(cost, theta0, GradientDescent(0.2), steps=15, progress=False)
    final = cost(result.thetas[-1])
    assert final < cost(theta0) - 0.5
    # In the Heisenberg picture Z0 Z1 meets at least three depolarizing channels after the
    # last gates on qubits 0 and 1, so noise keeps <Z0 Z1> above -(1 - p)^3.
    assert final > -(0.98**3)


def test_unknown_gate_selector_is_an_error_naming_the_allowed_ones():
    circuit = Circuit(2).rx(0).cz(0, 1)
    with pytest.raises(ValueError, match=r"gates='bogus' selects no gate of this circuit: gates "
                                         r"must be one of \['all', 'layer', 'one-qubit', "
                                         r"'two-qubit'\] or gate names of the circuit "
                                         r"\['cz', 'rx'\]"):
        Cost(circuit, "ZI", noise=NoiseModel().add(Depolarizing(0.3), gates="bogus"))
    # A name the circuit carries is fine, in any case.
    Cost(circuit, "ZI", noise=NoiseModel().add(Depolarizing(0.3), gates={"CZ"}))
