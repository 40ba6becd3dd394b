r"""Gradient variances against closed forms, interval coverage, scans on processes and dask.

Closed forms, derived for ``tensor_product_rx(n)`` with theta_i ~ U[0, 2 pi) independent:
the state is the product of cos(t/2)|0> - i sin(t/2)|1>, so

* global cost C_G = 1 - prod_i cos^2(theta_i/2), dC_G/dtheta_1 = (1/2) sin(theta_1)
  prod_{i>1} cos^2(theta_i/2). E[sin^2] = 1/2 and E[cos^4(t/2)] = 3/8 give
  Var = (1/8)(3/8)^(n-1) (the mean is 0);
* local cost C_L = 1 - (1/n) sum_i cos^2(theta_i/2), dC_L/dtheta_1 = sin(theta_1)/(2n), so
  Var = 1/(8 n^2).
The global gradient's kurtosis, (3/2)(35/18)^(n-1), grows with n: it is heavy-tailed, which is
why the plain chi-square interval undercovers. The state frame potential of the same ensemble is
E|<psi|phi>|^4 = prod_i E[cos^4((t_i - s_i)/2)] = (3/8)^n.
"""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import qutip

from qnncourse import ansatz, observables
from qnncourse.circuit import Circuit
from qnncourse.cost import Cost
from qnncourse.plateaus import (
    exponential_fit,
    frame_potential,
    gradient_variance,
    haar_frame_potential,
    haar_states,
    haar_unitaries,
    lie_variance,
    lie_variance_check,
    random_parameters,
    two_design_depth,
    variance_interval,
    variance_scan,
)
from qnncourse.simulators.statevector import run


def global_var(n):
    return (1 / 8) * (3 / 8) ** (n - 1)


def local_var(n):
    return 1 / (8 * n**2)


def global_rx_cost(n, rng):
    """Module level, so worker processes can unpickle it."""
    return Cost(ansatz.tensor_product_rx(n), observables.global_cost(n))


def _gradient_samples(kind, n, n_samples, rng):
    """Gradients of dC/dtheta_1 from the library's Cost, one batched call, shape (S,)."""
    observable = observables.global_cost(n) if kind == "global" else observables.local_cost(n)
    cost = Cost(ansatz.tensor_product_rx(n), observable)
    return cost.gradient(random_parameters(n, n_samples, rng))[:, 0]


def test_gradient_samples_follow_the_closed_form():
    result = gradient_variance(global_rx_cost(3, None), 50, param=0, rng=12)
    theta = random_parameters(3, 50, rng=12)  # the documented draw, from the same seed
    expected = 0.5 * np.sin(theta[:, 0]) * np.prod(np.cos(theta[:, 1:] / 2) ** 2, axis=1)
    assert np.allclose(result.samples, expected, atol=1e-12)
    assert result.variance == pytest.approx(np.var(expected, ddof=1))


@pytest.mark.parametrize("n", [2, 4])
@pytest.mark.parametrize(
    ("observable", "exact"), [(observables.global_cost, global_var), (observables.local_cost,
                                                                       local_var)],
    ids=["global", "local"],
)
def test_gradient_variance_interval_contains_the_closed_form(n, observable, exact):
    cost = Cost(ansatz.tensor_product_rx(n), observable(n))
    result = gradient_variance(cost, 2000, param=n - 1, rng=n)
    lo, hi = result.ci
    assert lo <= exact(n) <= hi
    assert hi / lo < 1.5
    assert abs(result.mean) < 4 * np.sqrt(exact(n) / 2000)
    assert "GradientVariance(param" in repr(result)


@pytest.mark.parametrize(
    ("kind", "n", "n_samples", "method", "reps"),
    [
        ("global", 3, 200, "bonett", 1000),  # heavy tails: kurtosis 5.7
        ("global", 4, 200, "bonett", 1000),  # kurtosis 11
        ("local", 3, 100, "bonett", 1000),  # light tails: kurtosis 1.5
        ("global", 3, 200, "bootstrap", 200),
    ],
)
def test_interval_coverage_is_honest(kind, n, n_samples, method, reps):
    exact = global_var(n) if kind == "global" else local_var(n)
    samples = _gradient_samples(kind, n, n_samples * reps, rng=100 + n).reshape(reps, n_samples)
    rng = np.random.default_rng(0)
    hits = [lo <= exact <= hi for lo, hi in
            (variance_interval(s, method=method, rng=rng, n_resamples=999) for s in samples)]
    assert 0.90 <= np.mean(hits) <= 0.99


def test_plain_chi_square_interval_undercovers_heavy_tails():
    exact, reps, n_samples = global_var(4), 1000, 200
    samples = _gradient_samples("global", 4, n_samples * reps, rng=5).reshape(reps, n_samples)
    hits = [lo <= exact <= hi for lo, hi in (variance_interval(s, method="chi2") for s in samples)]
    assert np.mean(hits) < 0.8


def test_exponential_fit_slope_interval_covers():
    ns, reps, n_samples = [2, 3, 4, 5], 200, 300
    rng = np.random.default_rng(8)
    hits = []
    for _ in range(reps):
        per_n = [_gradient_samples("global", n, n_samples, rng) for n in ns]
        fit = exponential_fit(ns, [np.var(s, ddof=1) for s in per_n],
                              [variance_interval(s) for s in per_n])
        hits.append(fit.slope_ci[0] <= np.log(3 / 8) <= fit.slope_ci[1])
    assert 0.90 <= np.mean(hits) <= 0.99


def test_exponential_fit_is_exact_on_exact_data():
    ns = np.array([2, 3, 4, 5])
    fit = exponential_fit(ns, global_var(ns), [(v / 1.1, v * 1.1) for v in global_var(ns)])
    assert fit.slope == pytest.approx(np.log(3 / 8))
    assert fit.base == pytest.approx(3 / 8)
    assert fit.scale == 1.0
    with pytest.raises(ValueError, match=r"variances has shape \(3,\) and cis \(4, 2\)"):
        exponential_fit(ns, global_var(ns)[:3], [(1, 2)] * 4)


def test_variance_scan_on_processes_matches_threads_and_the_closed_form():
    ns = [2, 3, 4, 5]
    scan = variance_scan(global_rx_cost, ns, 400, rng=21)
    # A 95% interval misses 1 time in 20 (coverage is tested above); 4 standard errors do not.
    assert abs(scan.slope - np.log(3 / 8)) < 4 * scan.fit.slope_stderr
    assert scan.slope_ci[0] < scan.slope < scan.slope_ci[1]
    assert scan.variances.shape == (4,) and scan.ci.shape == (4, 2)
    assert [row["n_qubits"] for row in scan.rows] == ns
    assert "d ln Var / dn" in repr(scan)
    with ThreadPoolExecutor(max_workers=2) as pool:
        threaded = variance_scan(global_rx_cost, ns, 400, rng=21, executor=pool)
    assert np.array_equal(threaded.variances, scan.variances)  # same seeds, any executor


def test_variance_scan_rejects_unpicklable_factory_for_processes():
    with pytest.raises(ValueError, match="cannot be sent to worker processes"):
        variance_scan(lambda n, rng: global_rx_cost(n, rng), [2, 3], 20, rng=0)
    with pytest.raises(ValueError, match=r"at least two distinct qubit counts, got \[2, 2\]"):
        variance_scan(global_rx_cost, [2, 2], 20, rng=0)
    with pytest.raises(TypeError, match="executor must be a concurrent.futures.Executor"):
        variance_scan(global_rx_cost, [2, 3], 20, rng=0, executor="dask")


def test_variance_scan_on_a_dask_cluster():
    distributed = pytest.importorskip("distributed")
    ns = [2, 3, 4]
    local = variance_scan(global_rx_cost, ns, 200, rng=4,
                          executor=ThreadPoolExecutor(max_workers=1))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            remote = variance_scan(global_rx_cost, ns, 200, rng=4, executor=client)
    assert np.array_equal(remote.variances, local.variances)


def test_gradient_variance_validation():
    cost = global_rx_cost(2, None)
    with pytest.raises(ValueError, match="param 2 is out of range for a cost with 2 parameters"):
        gradient_variance(cost, 100, param=2)
    with pytest.raises(ValueError, match="n_samples must be at least 10, got 5"):
        gradient_variance(cost, 5)
    with pytest.raises(ValueError, match="ci must be one of"):
        gradient_variance(cost, 100, ci="normal")
    with pytest.raises(ValueError, match="samples has 3 values, an interval for the variance"):
        variance_interval([1.0, 2.0, 3.0])


# -- Haar ensembles and 2-designs -------------------------------------------------------------
def test_haar_states_have_the_haar_frame_potential():
    states = haar_states(2, 400, rng=1)
    assert states.shape == (400, 4)
    fp = frame_potential(states)
    assert fp.haar == pytest.approx(2 / (4 * 5))
    assert abs(fp.value - fp.haar) < 3 * fp.stderr
    assert np.array_equal(haar_states(2, 5, rng=3), haar_states(2, 5, rng=3))


def test_haar_unitaries_are_unitary_and_map_zero_to_haar_states():
    unitaries = haar_unitaries(2, 300, rng=2)
    assert unitaries.shape == (300, 4, 4)
    assert np.allclose(unitaries[0] @ unitaries[0].conj().T, np.eye(4), atol=1e-12)
    fp = frame_potential(unitaries[:, :, 0])
    assert abs(fp.value - haar_frame_potential(4)) < 3 * fp.stderr


def test_product_states_frame_potential_closed_form():
    circuit = ansatz.tensor_product_rx(2)
    states = run(circuit, random_parameters(2, 600, rng=6)).reshape(600, 4)
    fp = frame_potential(states)
    assert abs(fp.value - (3 / 8) ** 2) < 3 * fp.stderr
    assert fp.ratio > 1.3  # far from a 2-design: 0.1406 against Haar's 0.1


def test_deep_circuits_become_two_design_like():
    scan = two_design_depth(lambda depth: ansatz.hardware_efficient(3, depth), [1, 3, 8], 300,
                            rng=3)
    shallow, middle, deep = scan.potentials
    assert shallow.ratio > middle.ratio > 1.0
    assert shallow.ratio > 1.3
    assert abs(deep.value - deep.haar) < 3 * deep.stderr
    assert scan.design_depth(rel_tol=0.1) == 3
    assert "F2/Haar" in repr(scan)


# -- the Lie-algebraic variance of deep circuits ------------------------------------------------
def ising_circuit(n, layers):
    circuit = Circuit(n)
    for _ in range(layers):
        for q in range(n):
            circuit.rx(q)
        for q in range(n - 1):
            circuit.pauli_rotation("ZZ", (q, q + 1))
    return circuit


def ising_generators(n):
    """The open transverse-field Ising chain {X_i, Z_i Z_i+1}: so(2n), a free-fermion DLA."""
    return [_word(n, {i: "X"}) for i in range(n)] + [
        _word(n, {i: "Z", i + 1: "Z"}) for i in range(n - 1)
    ]


def universal_generators(n):
    """{X_i, Z_i, Z_i Z_i+1}: su(2^n)."""
    return (
        [_word(n, {i: "X"}) for i in range(n)]
        + [_word(n, {i: "Z"}) for i in range(n)]
        + [_word(n, {i: "Z", i + 1: "Z"}) for i in range(n - 1)]
    )


def _word(n, letters):
    return "".join(letters.get(q, "I") for q in range(n))


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_lie_variance_of_a_universal_circuit_is_the_haar_value(n):
    """su(2^n), rho = |0><0|, O = Z_0: P(rho) = 1 - 1/2^n, P(O) = 2^n, dim = 4^n - 1, so
    Var = (2^n - 1) / (4^n - 1) = 1 / (2^n + 1), the Haar variance of <Z_0>."""
    result = lie_variance(universal_generators(n), None, _word(n, {0: "Z"}))
    assert result.dla_dimension == 4**n - 1
    assert result.value == pytest.approx(1 / (2**n + 1), rel=1e-12)


@pytest.mark.parametrize("n", [2, 3, 4, 5, 6, 7])
def test_lie_variance_of_the_ising_chain_closed_form(n):
    """so(2n) with O = X_0 and rho = |0...0>: the only basis strings with a non-zero
    expectation in |0...0> are the n - 1 couplings Z_i Z_i+1 (each 1), so
    P(rho) = (n - 1) / 2^n, P(X_0) = Tr(X_0^2) = 2^n and Var = (n - 1) / (n (2n - 1))."""
    result = lie_variance(ising_generators(n), None, _word(n, {0: "X"}))
    assert result.dla_dimension == n * (2 * n - 1)
    assert result.value == pytest.approx((n - 1) / (n * (2 * n - 1)), rel=1e-12)
    if n > 2:  # so(4) = su(2) + su(2) is the one case that splits
        (component,) = result.components
        assert component.state_purity == pytest.approx((n - 1) / 2**n)
        assert component.observable_purity == pytest.approx(2**n)


def test_lie_variance_of_a_reductive_algebra_ignores_the_centre():
    """{X0, Z0, Z1} = su(2) + u(1): O = Z0 sees the single-qubit Haar value 1/3; O = Z1 lies in
    the centre, is conserved, and has no variance at all."""
    gens = ["XI", "ZI", "IZ"]
    inside = lie_variance(gens, None, "ZI")
    assert (inside.dla_dimension, inside.centre_dimension) == (4, 1)
    assert [c.dimension for c in inside.components] == [3]
    assert inside.value == pytest.approx(1 / 3)
    assert lie_variance(gens, None, "IZ").value == pytest.approx(0.0, abs=1e-12)


def test_lie_variance_accepts_kets_density_matrices_and_qobj():
    ket = np.zeros(4)
    ket[0] = 1
    by_ket = lie_variance(["XI", "IX", "ZZ"], ket, "ZZ").value
    assert lie_variance(["XI", "IX", "ZZ"], np.outer(ket, ket), "ZZ").value == pytest.approx(by_ket)
    assert lie_variance(["XI", "IX", "ZZ"], qutip.Qobj(ket), "ZZ").value == pytest.approx(by_ket)
    z = qutip.tensor(qutip.sigmaz(), qutip.sigmaz())
    assert lie_variance(["XI", "IX", "ZZ"], ket, z).value == pytest.approx(by_ket)


@pytest.mark.parametrize(
    ("generators", "observable", "dims"),
    [
        (ising_generators(3), "XII", (15,)),  # simple: so(6)
        (ising_generators(2), "ZZ", (3, 3)),  # semisimple, not simple: so(4) = su(2) + su(2)
        (["XI", "ZI", "IZ"], "ZI", (3,)),  # reductive: su(2) + u(1)
        (universal_generators(2), "ZI", (15,)),  # universal: su(4)
    ],
    ids=["simple", "semisimple", "reductive", "universal"],
)
def test_lie_variance_predicts_deep_circuits(generators, observable, dims):
    check = lie_variance_check(
        generators, None, observable, depth=40, n_samples=3000, confidence=0.999, rng=7
    )
    assert tuple(c.dimension for c in check.predicted.components) == dims
    assert check.agrees, check


def test_lie_variance_check_repeats_a_circuit():
    check = lie_variance_check(
        ising_circuit(2, 1), None, "ZZ", depth=30, n_samples=3000, confidence=0.999, rng=3
    )
    assert check.predicted.value == pytest.approx(
        lie_variance(ising_generators(2), None, "ZZ").value
    )
    assert check.agrees, check


@pytest.mark.parametrize(
    ("state", "observable", "message"),
    [
        (np.array([[1, 1], [0, 0]]), "XZ",
         "state has shape \\(2, 2\\); the algebra acts on 2 qubits"),
        (np.array([[1, 1j, 0, 0], [1j, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]), "ZZ",
         "state is not Hermitian"),
        (None, np.eye(2), "observable has shape \\(2, 2\\); the algebra acts on 2 qubits"),
        (None, np.triu(np.ones((4, 4))), "operator is not Hermitian"),
        (np.zeros(4), "ZZ", "state is a zero or non-finite vector"),
    ],
)
def test_lie_variance_bad_input(state, observable, message):
    with pytest.raises(ValueError, match=message):
        lie_variance(ising_generators(2), state, observable)


def test_lie_variance_needs_the_observable_or_the_state_in_the_algebra():
    plus = np.full(4, 0.5)  # |++>: its traceless part is partly outside so(4)
    with pytest.raises(
        ValueError, match=r"needs the observable or the state inside i\*g.*the observable has 4 "
    ):
        lie_variance(ising_generators(2), plus, "XZ")


def test_lie_variance_rejects_circuits_with_fixed_gates():
    circuit = Circuit(2).h(0).pauli_rotation("ZZ", (0, 1)).rx(0)
    with pytest.raises(ValueError, match="the circuit has fixed gates"):
        lie_variance(circuit, None, "ZZ")


def test_lie_variance_names_the_memory_of_a_huge_density_matrix():
    with pytest.raises(ValueError, match=r"density matrix of 20 qubits.*bytes"):
        lie_variance([_word(20, {0: "X"})], None, _word(20, {0: "X"}))


def test_haar_states_cost_o_of_2_to_the_n_and_check_what_they_allocate(monkeypatch):
    monkeypatch.setenv("QNNCOURSE_MEMORY_LIMIT", str(2**30))
    # 28 qubits: 4 GiB per state, the output array alone is over the limit.
    with pytest.raises(ValueError, match=r"1 Haar states of 28 qubits .* needs 4\.0 GiB"):
        haar_states(28, 1, rng=0)
    states = haar_states(12, 8, rng=0)  # an O(2^n) draw: milliseconds
    assert states.shape == (8, 4096)
    np.testing.assert_allclose(np.linalg.norm(states, axis=1), 1.0, atol=1e-12)
    # Haar moments: E|<0|psi>|^2 = 1/d; checked on many 3-qubit states.
    small = haar_states(3, 4000, rng=1)
    weights = np.abs(small[:, 0]) ** 2
    assert abs(weights.mean() - 1 / 8) < 4 * weights.std() / np.sqrt(4000)


def _no_cost(n, rng):
    return None


def test_variance_scan_names_a_factory_that_returns_no_cost():
    with pytest.raises(TypeError, match=r"cost_factory _no_cost\(2, rng\) returned NoneType; it "
                                        r"must return a Cost"):
        variance_scan(_no_cost, [2, 3], 20, rng=0, executor=ThreadPoolExecutor(1))


@pytest.mark.parametrize(
    "state",
    [np.array([1, 1j]) / np.sqrt(2), np.diag([0.8, 0.2]).astype(complex)],
    ids=["ket", "mixed"],
)
def test_lie_variance_check_prepares_other_states(state):
    # su(2) on one qubit: the deep circuit is Haar, so <Z> is the z-component of a uniformly
    # rotated Bloch vector r: Var<Z> = |r|^2 / 3.
    check = lie_variance_check(["X", "Z"], state, "Z", depth=20, n_samples=4000,
                               confidence=0.999, rng=5)
    rho = np.outer(state, state.conj()) if state.ndim == 1 else state
    bloch2 = sum(np.trace(rho @ p).real ** 2 for p in
                 (qutip.sigmax().full(), qutip.sigmay().full(), qutip.sigmaz().full()))
    assert check.predicted.value == pytest.approx(bloch2 / 3, rel=1e-9)
    assert check.agrees, check
