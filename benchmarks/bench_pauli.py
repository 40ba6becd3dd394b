"""Benchmark Pauli propagation (``Cost(..., simulator="pauli")``) against ``pauli-prop``.

Run: ``.venv/bin/python benchmarks/bench_pauli.py [--repeat 3]`` (needs
``benchmarks/requirements.txt``).

The reference is `pauli-prop <https://pypi.org/project/pauli-prop/>`_ (Qiskit, IBM; Rust
core): of the Pauli-propagation packages on PyPI it is the one a user of this course would pick.
It takes the Qiskit circuits the rest of the ecosystem writes, propagates in the Heisenberg
picture with the same two truncations as here (a coefficient threshold ``atol`` and a term
cap), reports the one-norm it truncated, and installs into this environment as it is. The
alternatives were weighed: ``qiskit-addon-obp`` is operator backpropagation for shortening
circuits run on hardware (it returns a partly propagated operator, not an expectation value), and
``bloqade-ppvm`` pins numpy 2.2 and brings a compiler toolchain (Kirin); the Julia
PauliPropagation.jl is not a PyPI package.

Every row converts one qnncourse circuit to a Qiskit circuit (rotations as
``PauliEvolutionGate``, H/CZ/CNOT/X as Clifford gates, McClean's fixed RY(pi/4) as an RY gate),
propagates the same observable with the same coefficient threshold, and reads the value on
:math:`|0\\dots0\\rangle` (the coefficients of the strings without X or Y). Both sides are timed per
parameter vector as a user calls them: ``Cost.__call__`` on a prepared cost here (the circuit is
compiled once, as in an optimisation loop), ``propagate_through_circuit`` on the bound circuit
there (its documented entry point, which re-reads the Cliffords every call) plus the readout.
A second reference time ("its core") runs only the Rust propagation, with the Cliffords moved
out of the circuit and the rotations parsed beforehand (untimed), then the Clifford conjugation
of the result and the readout: the fairest kernel-to-kernel comparison.
Untruncated rows must agree to 1e-10; truncated rows must differ by at most the sum of the two
reported truncation norms (the packages drop slightly different terms: pauli-prop tests each
new branch before merging, qnncourse the merged coefficient). Printed: both times (best of
``--repeat``), their ratio (pauli-prop / qnncourse: above 1 means qnncourse is faster), the
values and the peak number of terms here.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from pauli_prop import (
    circuit_to_rotation_gates,
    evolve_through_cliffords,
    propagate_through_circuit,
    propagate_through_rotation_gates,
)
from qiskit import QuantumCircuit
from qiskit.circuit.library import PauliEvolutionGate
from qiskit.quantum_info import Pauli, SparsePauliOp

from qnncourse import ansatz
from qnncourse.circuit import Circuit
from qnncourse.cost import Cost
from qnncourse.simulators.pauli import PauliPropagation

_FIXED = {"H": "h", "CZ": "cz", "CNOT": "cx", "X": "x"}


def to_qiskit(circuit: Circuit, theta: np.ndarray) -> QuantumCircuit:
    """The circuit with ``theta`` bound, as a Qiskit circuit (qubit q is Qiskit's qubit q)."""
    angles = circuit.angles(theta)[0]
    qc = QuantumCircuit(circuit.n_qubits)
    for k, op in enumerate(circuit.operations):
        if op.kind == "rotation":
            # Qiskit labels read right to left: letter i of our word acts on qargs[i].
            qc.append(PauliEvolutionGate(Pauli(op.pauli[::-1]), time=angles[k] / 2),
                      list(op.qubits))
        elif op.name in _FIXED:
            getattr(qc, _FIXED[op.name])(*op.qubits)
        elif op.name == "RY(π/4)":
            qc.ry(np.pi / 4, op.qubits[0])
        else:
            raise ValueError(f"no Qiskit translation for the fixed gate {op.name}")
    return qc


def sparse_observable(terms: dict[tuple[str, tuple[int, ...]], float], n: int) -> SparsePauliOp:
    return SparsePauliOp.from_sparse_list([(w, list(q), c) for (w, q), c in terms.items()], n)


def label_terms(terms: dict[tuple[str, tuple[int, ...]], float], n: int) -> dict[str, float]:
    out = {}
    for (w, qubits), c in terms.items():
        chars = ["I"] * n
        for letter, q in zip(w, qubits, strict=True):
            chars[q] = letter
        out["".join(chars)] = c
    return out


def best_of(repeat: int, fn):
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def row(name: str, circuit: Circuit, terms, atol: float, repeat: int, rng) -> None:
    n = circuit.n_qubits
    theta = rng.uniform(0, 2 * np.pi, circuit.n_params)
    sim = PauliPropagation(min_coefficient=atol, max_terms=2_000_000)
    cost = Cost(circuit, label_terms(terms, n), simulator=sim)
    ours_t, ours = best_of(repeat, lambda: cost(theta))
    ours_cut, ours_terms = float(sim.discarded[0]), sim.peak_terms
    qc, op = to_qiskit(circuit, theta), sparse_observable(terms, n)

    def reference():
        evolved, cut = propagate_through_circuit(op, qc, max_terms=2_000_000, atol=atol,
                                                 frame="h")
        z_only = ~np.any(evolved.paulis.x, axis=1)
        return float(np.sum(evolved.coeffs[z_only]).real), cut, len(evolved)

    ref_t, (ref, ref_cut, _) = best_of(repeat, reference)
    # The Rust core alone: Cliffords moved out and rotations parsed beforehand (untimed).
    clifford, rest = evolve_through_cliffords(qc)
    gates = circuit_to_rotation_gates(rest)

    def core():
        evolved, _ = propagate_through_rotation_gates(op, gates, 2_000_000, atol, "h")
        evolved = SparsePauliOp(evolved.paulis.evolve(clifford, frame="h"), evolved.coeffs)
        return float(np.sum(evolved.coeffs[~np.any(evolved.paulis.x, axis=1)]).real)

    core_t, core_value = best_of(repeat, core)
    tolerance = 1e-10 if atol == 0 else ours_cut + ref_cut + 1e-10
    assert abs(ours - ref) <= tolerance, (name, ours, ref, tolerance)
    assert abs(core_value - ref) <= 1e-10, (name, core_value, ref)
    print(f"| {name:<36} | {atol:7.0e} | {ref_t:8.4f} | {core_t:8.4f} | {ours_t:8.4f} | "
          f"{ref_t / ours_t:6.2f} | {core_t / ours_t:6.2f} | {ours:+.8f} | {ref:+.8f} | "
          f"{ours_terms:>7} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(2026)
    print("| circuit, observable                  |    atol | pauli-prop s | its core s | "
          "qnncourse s | ratio | core ratio | qnncourse value | pauli-prop value | terms |")
    print("|" + "|".join("-" * w for w in (38, 9, 10, 10, 10, 8, 8, 13, 13, 9)) + "|")
    he100 = ansatz.hardware_efficient(100, 2)
    row("hardware_efficient(100, 2), Z49 Z50", he100, {("ZZ", (49, 50)): 1.0}, 0.0,
        args.repeat, rng)
    he16 = ansatz.hardware_efficient(16, 4)
    row("hardware_efficient(16, 4), Z7 Z8", he16, {("ZZ", (7, 8)): 1.0}, 0.0, args.repeat, rng)
    row("hardware_efficient(16, 4), Z7 Z8", he16, {("ZZ", (7, 8)): 1.0}, 1e-4, args.repeat, rng)
    row("hardware_efficient(16, 6), Z7 Z8", ansatz.hardware_efficient(16, 6),
        {("ZZ", (7, 8)): 1.0}, 1e-5, args.repeat, rng)
    rp = ansatz.random_pauli(20, 5, np.random.default_rng(1))
    row("random_pauli(20, 5), Z9 Z10", rp, {("ZZ", (9, 10)): 1.0}, 1e-4, args.repeat, rng)
    ring = [(q, (q + 1) % 12) for q in range(12)]
    qaoa = ansatz.qaoa(ring, 12, 2)
    row("qaoa(12-ring, p=2), sum Z_i Z_i+1", qaoa, {("ZZ", e): 1.0 for e in ring}, 1e-3,
        args.repeat, rng)


if __name__ == "__main__":
    main()
