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


@pytest.mark.parametrize(("n", "observable", "dims"), [(2, "ZZ", (3, 3)), (3, "ZZI", (15,))])
def test_lie_variance_predicts_the_deep_circuit_variance(n, observable, dims):
    circuit = ising_circuit(n, 30)
    predicted = lie_variance(circuit, observable)
    assert predicted.dims == dims
    values = Cost(circuit, observable)(random_parameters(circuit.n_params, 4000, rng=n))
    lo, hi = variance_interval(values)
    assert lo <= predicted.variance <= hi


def test_lie_variance_needs_an_operator_in_the_algebra():
    with pytest.raises(ValueError, match=r"needs the observable or rho inside the DLA.*P_g\(O\)"):
        lie_variance(ising_circuit(2, 1), "XZ")
