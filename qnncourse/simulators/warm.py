"""Compile every numba kernel of the simulators once, into numba's disk cache.

``python -m qnncourse.simulators.warm`` (run by ``make setup`` after installing) calls each
compiled kernel on a tiny input: the serial and the threaded builds of
:mod:`qnncourse.simulators.kernels` (statevector runs and adjoint sweeps, every gate kind) and
the fused density-matrix kernels of :mod:`qnncourse.simulators.superop_kernels`. numba compiles
each on first use and caches it beside the sources (``cache=True``), so later processes, the
book's notebooks included, load them instead of compiling: on a fresh machine the first
threaded gradient (from 19 qubits on an idle machine) otherwise spends about 25 s compiling.
The threaded build is forced for the tiny inputs by lowering
:data:`~qnncourse.simulators.kernels.PARALLEL_MIN_AMPLITUDES` and lifting
:data:`~qnncourse.simulators.kernels.PARALLEL_MAX_LOAD` for the duration of the call.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from qnncourse.circuit import Circuit
from qnncourse.noise import AmplitudeDamping, Depolarizing, NoiseModel
from qnncourse.simulators import kernels, superop

__all__ = ["warm"]


def _every_gate(n: int) -> Circuit:
    """Every lowered gate kind: one- and two-qubit rotations (with and without X parts, with
    Z-only parts), diagonal, monomial and dense one- and two-qubit fixed gates."""
    return (Circuit(n).rx(0).ry(1).rz(2).pauli_rotation("XY", (0, 2)).pauli_rotation("ZZ", (1, 3))
            .pauli_rotation("XZ", (3, 1)).h(0).cz(1, 2).cnot(2, 3)
            .gate(np.kron(np.eye(2), [[0, 1], [1, 0]]).astype(complex), (0, 3))
            .encode("Y", 0, 0))


def _statevector_kernels(circuit: Circuit) -> None:
    n = circuit.n_qubits
    program = kernels.lower(circuit.operations, n)
    rng = np.random.default_rng(0)
    angles = rng.uniform(0, 2 * np.pi, (2, len(circuit.operations)))
    cos, sin = np.cos(angles / 2), np.sin(angles / 2)
    psi = np.zeros((2, 2**n), dtype=complex)
    psi[:, 0] = 1
    kernels.run(program, psi, cos, sin)
    kernels.adjoint_sweep(program, psi, psi.copy(), cos, sin)


def _density_kernels(circuit: Circuit) -> None:
    angles = np.random.default_rng(1).uniform(0, 2 * np.pi, (1, len(circuit.operations)))
    dim = 2**circuit.n_qubits
    # an invertible channel (gradients un-compute the states) and a singular one (checkpoints)
    for channel in (AmplitudeDamping(0.1), Depolarizing(1.0)):
        program = superop.SuperopProgram.build(circuit, NoiseModel(channel).channel_steps(circuit))
        program.values_and_gradients(np.ones(dim), angles)
        program.values_and_gradients(np.eye(dim, dtype=complex), angles)


def warm() -> dict[str, float]:
    """Compile (or load from the cache) every kernel; returns the seconds each group took."""
    circuit = _every_gate(4)
    times = {}
    start = time.perf_counter()
    _statevector_kernels(circuit)
    times["statevector, serial"] = time.perf_counter() - start
    saved = kernels.PARALLEL_MIN_AMPLITUDES, kernels.PARALLEL_MAX_LOAD
    kernels.PARALLEL_MIN_AMPLITUDES, kernels.PARALLEL_MAX_LOAD = 1, float("inf")
    try:
        start = time.perf_counter()
        if kernels.PARALLEL:
            _statevector_kernels(circuit)
        times["statevector, threaded"] = time.perf_counter() - start
    finally:
        kernels.PARALLEL_MIN_AMPLITUDES, kernels.PARALLEL_MAX_LOAD = saved
    start = time.perf_counter()
    _density_kernels(circuit)
    times["density matrix, fused"] = time.perf_counter() - start
    return times


def main() -> int:
    start = time.perf_counter()
    for group, seconds in warm().items():
        print(f"  {group:<24} {seconds:6.1f} s")
    print(f"compiled kernels ready ({time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
