"""The compiled kernels against the numpy reference path and QuTiP, gate kind by gate kind."""

import os
import subprocess
import sys

import numba
import numpy as np
import pytest
import qutip

from qnncourse.circuit import Circuit
from qnncourse.noise import Depolarizing, NoiseModel
from qnncourse.observables import as_observable
from qnncourse.simulators import density, kernels, statevector
from qnncourse.simulators.density import DensityProgram

N = 4
_PAULI = {"I": qutip.qeye(2), "X": qutip.sigmax(), "Y": qutip.sigmay(), "Z": qutip.sigmaz()}
_RNG_GATE = np.linalg.qr(np.random.default_rng(3).normal(size=(4, 4))
                         + 1j * np.random.default_rng(4).normal(size=(4, 4)))[0]
_ONE_QUBIT = np.linalg.qr(np.random.default_rng(5).normal(size=(2, 2))
                          + 1j * np.random.default_rng(6).normal(size=(2, 2)))[0]

# One circuit per gate kind: Pauli words of every type (single letters, words whose X part
# is one or several qubits, with and without Z/Y phases, on non-adjacent and reversed
# qubits), fixed gates (diagonal, dense, monomial; one and two qubits in either order),
# and encodings.
_CASES = {
    "X": lambda c: c.pauli_rotation("X", 2),
    "Y": lambda c: c.pauli_rotation("Y", 0),
    "Z": lambda c: c.pauli_rotation("Z", 3),
    "ZZ": lambda c: c.pauli_rotation("ZZ", (3, 1)),
    "XX": lambda c: c.pauli_rotation("XX", (0, 3)),
    "YY": lambda c: c.pauli_rotation("YY", (1, 2)),
    "XY": lambda c: c.pauli_rotation("XY", (2, 0)),
    "XZ": lambda c: c.pauli_rotation("XZ", (1, 3)),
    "ZY": lambda c: c.pauli_rotation("ZY", (0, 1)),
    "XYZ": lambda c: c.pauli_rotation("XYZ", (3, 0, 2)),
    "YZZY": lambda c: c.pauli_rotation("YZZY", (0, 1, 2, 3)),
    "ZZZ": lambda c: c.pauli_rotation("ZZZ", (0, 2, 3)),
    "CZ": lambda c: c.cz(3, 0),
    "CNOT": lambda c: c.cnot(2, 1),
    "CNOT reversed": lambda c: c.cnot(1, 2),
    "H": lambda c: c.h(1),
    "X gate": lambda c: c.x(3),
    "T": lambda c: c.gate(np.diag([1, np.exp(0.25j * np.pi)]), 2, "T"),
    "dense 1q": lambda c: c.gate(_ONE_QUBIT, 0, "U"),
    "dense 2q": lambda c: c.gate(_RNG_GATE, (3, 1), "U2"),
    "diagonal 2q": lambda c: c.gate(np.diag(np.exp(1j * np.arange(4.0))), (0, 2), "D"),
    "encoding": lambda c: c.encode("ZX", (1, 2), 0, scale=0.7),
}


def _circuit(kind: str) -> Circuit:
    """A layer of rotations that spreads the amplitudes, then the gate under test, twice."""
    c = Circuit(N)
    for q in range(N):
        c.ry(q)
        c.rx(q)
    _CASES[kind](c)
    c.cz(0, 1)
    _CASES[kind](c)
    return c


def _qutip_state(circuit, angles):
    psi = qutip.tensor([qutip.basis(2, 0)] * N)
    for op, angle in zip(circuit.operations, angles, strict=True):
        if op.kind == "fixed":
            local = qutip.Qobj(op.matrix, dims=[[2] * len(op.qubits)] * 2)
        else:
            word = qutip.tensor([_PAULI[c] for c in op.pauli])
            local = (-0.5j * angle * word).expm()
        psi = qutip.expand_operator(local, dims=[2] * N, targets=list(op.qubits)) * psi
    return psi.full().ravel()


def _angles(circuit, rows=3, seed=0):
    rng = np.random.default_rng(seed)
    thetas = rng.uniform(0, 2 * np.pi, (rows, circuit.n_params))
    x = rng.uniform(-1, 1, (rows, max(circuit.n_features, 1)))
    return circuit.angles(thetas, x if circuit.n_features else None)


def _both(monkeypatch, fn):
    """``fn()`` with the compiled kernels and with the numpy reference path."""
    monkeypatch.setattr(statevector, "KERNELS", "compiled")
    compiled = fn()
    monkeypatch.setattr(statevector, "KERNELS", "numpy")
    reference = fn()
    return compiled, reference


@pytest.mark.parametrize("kind", sorted(_CASES))
def test_states_compiled_numpy_qutip(kind, monkeypatch):
    circuit = _circuit(kind)
    assert kernels.lower(circuit.operations, N) is not None
    angles = _angles(circuit)
    compiled, reference = _both(monkeypatch, lambda: statevector.run_angles(circuit, angles))
    np.testing.assert_allclose(compiled, reference, atol=1e-13)
    for row, state in zip(angles, compiled.reshape(len(angles), -1), strict=True):
        np.testing.assert_allclose(state, _qutip_state(circuit, row), atol=1e-12)


@pytest.mark.parametrize("kind", sorted(_CASES))
def test_apply_operation_compiled_numpy(kind, monkeypatch):
    circuit = _circuit(kind)
    op = circuit.operations[2 * N]   # the gate under test
    rng = np.random.default_rng(1)
    psi = rng.normal(size=(5,) + (2,) * N) + 1j * rng.normal(size=(5,) + (2,) * N)
    angles = None if op.kind == "fixed" else rng.uniform(-3, 3, 5)
    compiled, reference = _both(
        monkeypatch, lambda: statevector.apply_operation(psi.copy(), op, angles))
    np.testing.assert_allclose(compiled, reference, atol=1e-13)


@pytest.mark.parametrize("kind", sorted(_CASES))
def test_adjoint_compiled_numpy_and_shift_rule(kind, monkeypatch):
    circuit = _circuit(kind)
    angles = _angles(circuit, rows=4, seed=2)
    obs = as_observable({"XZYI": 0.7, "ZZII": -1.2, "IIXZ": 0.4, "IYII": 0.3}, N)
    (v1, g1), (v0, g0) = _both(monkeypatch,
                               lambda: statevector.adjoint_from_angles(circuit, obs, angles))
    np.testing.assert_allclose(v1, v0, atol=1e-13)
    np.testing.assert_allclose(g1, g0, atol=1e-12)
    # Exact two-term shift rule on every rotation and encoding column.
    for k, op in enumerate(circuit.operations):
        if op.kind == "fixed":
            assert np.all(g1[:, k] == 0)
            continue
        shift = np.zeros(angles.shape[1])
        shift[k] = np.pi / 2
        plus = statevector.expectation_from_angles(circuit, obs, angles + shift)
        minus = statevector.expectation_from_angles(circuit, obs, angles - shift)
        np.testing.assert_allclose(g1[:, k], (plus - minus) / 2, atol=1e-12)


THREADED_CHECK = """
import numpy as np
from qnncourse import Cost
from qnncourse.circuit import Circuit
from qnncourse.simulators import kernels, statevector

statevector.KERNELS = "compiled"
c = Circuit(4)
for q in range(4):
    c.rx(q).ry(q)
c.cz(0, 1).cnot(2, 3).pauli_rotation("XYZ", (0, 1, 3))
theta = np.random.default_rng(4).uniform(0, 2 * np.pi, (2, c.n_params))
serial = Cost(c, "ZZII").value_and_gradient(theta)
kernels.PARALLEL, kernels.PARALLEL_MIN_AMPLITUDES, kernels.PARALLEL_MAX_LOAD = True, 1, 1e9
assert kernels._use_threads(16)
threaded = Cost(c, "ZZII").value_and_gradient(theta)
np.testing.assert_allclose(threaded[0], serial[0], atol=1e-13)
np.testing.assert_allclose(threaded[1], serial[1], atol=1e-12)
print("ok")
"""


def test_threaded_kernels_match_serial():
    """The threaded build (large registers) gives the serial build's numbers. It runs in a
    child process: a process whose OpenMP pool has started must not fork, and pytest's does."""
    done = subprocess.run([sys.executable, "-c", THREADED_CHECK], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "NUMBA_NUM_THREADS": "2"})
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-3000:]


FORK_CHECK = """
import multiprocessing
import sys

import numpy as np
from qnncourse import Cost
from qnncourse.circuit import Circuit
from qnncourse.simulators import kernels, statevector

statevector.KERNELS = "compiled"
if sys.argv[1] == "threaded":  # every register on the threaded build, whatever the load
    kernels.PARALLEL, kernels.PARALLEL_MIN_AMPLITUDES, kernels.PARALLEL_MAX_LOAD = True, 1, 1e9
    assert kernels._use_threads(16)
c = Circuit(4)
for q in range(4):
    c.rx(q).ry(q)
c.cz(0, 1).cnot(2, 3)


def gradient(seed):
    theta = np.random.default_rng(seed).uniform(0, 2 * np.pi, (1, c.n_params))
    return Cost(c, "ZZII").value_and_gradient(theta)[1]


parent = [gradient(seed) for seed in range(4)]
with multiprocessing.get_context("fork").Pool(2) as pool:
    children = pool.map(gradient, range(4))
np.testing.assert_allclose(np.array(children), np.array(parent), atol=1e-13)
print("ok")
"""


@pytest.mark.parametrize("build", ["serial", "threaded"])
def test_a_process_that_ran_the_kernels_can_fork(build):
    """After the parent has run the compiled kernels (serial, or threaded on the workqueue
    layer), forked workers (as in variance_scan's pool) run them too and agree. GNU OpenMP
    would abort them."""
    done = subprocess.run([sys.executable, "-c", FORK_CHECK, build], capture_output=True,
                          text=True, timeout=600, env={**os.environ, "NUMBA_NUM_THREADS": "2"})
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-3000:]


def test_threaded_kernels_from_several_threads_agree_with_one(monkeypatch):
    """The workqueue layer is not re-entrant: concurrent callers (the explorers compute in
    worker threads) take turns, and get the serial numbers."""
    from concurrent.futures import ThreadPoolExecutor

    circuit = _circuit("XYZ")
    angles = _angles(circuit, rows=2, seed=5)
    obs = as_observable("ZZII", N)
    monkeypatch.setattr(statevector, "KERNELS", "compiled")
    one = statevector.adjoint_from_angles(circuit, obs, angles)
    monkeypatch.setattr(kernels, "PARALLEL", True)
    monkeypatch.setattr(kernels, "PARALLEL_MIN_AMPLITUDES", 1)
    monkeypatch.setattr(kernels, "PARALLEL_MAX_LOAD", 1e9)
    with ThreadPoolExecutor(4) as pool:
        many = list(pool.map(lambda _: statevector.adjoint_from_angles(circuit, obs, angles),
                             range(8)))
    for values, grads in many:
        np.testing.assert_allclose(values, one[0], atol=1e-13)
        np.testing.assert_allclose(grads, one[1], atol=1e-12)


def test_auto_uses_the_compiled_kernels_from_the_threshold(monkeypatch):
    monkeypatch.setattr(statevector, "KERNELS", "auto")
    n = statevector.COMPILED_MIN_QUBITS
    assert statevector.uses_compiled(n) and not statevector.uses_compiled(n - 1)
    monkeypatch.setattr(statevector, "KERNELS", "numpy")
    assert not statevector.uses_compiled(n + 10)
    monkeypatch.setattr(statevector, "KERNELS", "compiled")
    assert statevector.uses_compiled(1)


def test_an_unknown_kernel_setting_is_named():
    done = subprocess.run([sys.executable, "-c", "import qnncourse"], capture_output=True,
                          text=True, timeout=300, env={**os.environ, "QNNCOURSE_KERNELS": "fast"})
    assert done.returncode != 0 and "QNNCOURSE_KERNELS='fast'" in done.stderr


def test_threads_only_for_large_registers_on_the_workqueue_layer(monkeypatch):
    monkeypatch.setattr(kernels, "PARALLEL", True)
    monkeypatch.setattr(kernels, "PARALLEL_MAX_LOAD", 1e9)
    assert not kernels._use_threads(kernels.PARALLEL_MIN_AMPLITUDES // 2)
    assert kernels._use_threads(kernels.PARALLEL_MIN_AMPLITUDES) == (
        numba.config.NUMBA_NUM_THREADS > 1 and kernels._workqueue())
    monkeypatch.setattr(kernels, "PARALLEL", False)
    assert not kernels._use_threads(2**24)


def test_unsupported_gate_falls_back_to_numpy():
    """A three-qubit fixed gate is not lowered; the simulator still gets it right."""
    c = Circuit(3)
    c.ry(0).ry(1).rx(2)
    toffoli = np.eye(8)
    toffoli[6:, 6:] = [[0, 1], [1, 0]]
    c.gate(toffoli, (0, 1, 2), "CCX")
    assert kernels.lower(c.operations, 3) is None
    angles = _angles(c)
    psi = statevector.run_angles(c, angles).reshape(len(angles), -1)
    reference = np.array([toffoli @ statevector.run_angles(c, row[None], stop=3).ravel()
                          for row in angles])
    np.testing.assert_allclose(psi, reference, atol=1e-13)


def test_density_compiled_numpy_qutip(monkeypatch):
    """Noisy gradients: the compiled density path equals the numpy one and QuTiP's state."""
    c = Circuit(3)
    for q in range(3):
        c.ry(q)
    c.cnot(0, 2).pauli_rotation("XY", (1, 2)).cz(1, 0).encode("Z", 1, 0).rz(2)
    steps = NoiseModel(Depolarizing(0.05)).channel_steps(c)
    angles = _angles(c, rows=2, seed=7)
    matrix = qutip.rand_herm([2, 2, 2], seed=8).full()

    def gradient():
        program = DensityProgram(c, steps)
        return density.run_angles(program, angles), density.adjoint_gradient(program, matrix,
                                                                             angles)

    (rho1, (v1, g1)), (rho0, (v0, g0)) = _both(monkeypatch, gradient)
    np.testing.assert_allclose(rho1, rho0, atol=1e-13)
    np.testing.assert_allclose(v1, v0, atol=1e-13)
    np.testing.assert_allclose(g1, g0, atol=1e-12)
    # QuTiP: the noisy state by Kraus sums.
    for row, rho in zip(angles, rho1, strict=True):
        state = qutip.ket2dm(qutip.tensor([qutip.basis(2, 0)] * 3))
        for k, op in enumerate(c.operations):
            if op.kind == "fixed":
                local = qutip.Qobj(op.matrix, dims=[[2] * len(op.qubits)] * 2)
            else:
                word = qutip.tensor([_PAULI[ch] for ch in op.pauli])
                local = (-0.5j * row[k] * word).expm()
            u = qutip.expand_operator(local, dims=[2] * 3, targets=list(op.qubits))
            state = u * state * u.dag()
            for step in steps:
                if step.after == k:
                    ks = [qutip.expand_operator(qutip.Qobj(m, dims=[[2] * len(step.qubits)] * 2),
                                                dims=[2] * 3, targets=list(step.qubits))
                          for m in step.kraus]
                    state = sum(m * state * m.dag() for m in ks)
        np.testing.assert_allclose(rho, state.full(), atol=1e-12)
