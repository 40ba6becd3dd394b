"""Benchmark g-sim (``Cost(..., simulator="lie")``) at 100 qubits and against the statevector.

Run: ``.venv/bin/python benchmarks/bench_gsim.py [--qubits 100] [--layers 100]``.

1. One value and gradient of the free-fermion circuit (RX on every qubit, RZZ on neighbours,
   ``layers`` layers: about 20,000 parameters at 100 qubits and 100 layers) for the
   transverse-field Ising energy, timed in three parts: building the circuit, compiling the
   g-sim program (the invariant space of dimension :math:`n(2n-1)` and its index pairs), and
   the value-and-gradient call. Issue 18 asks for under 60 s, aiming for 10 s.
2. Side by side with the library's statevector simulator on the same circuits and observable,
   for ``n`` where both run: both times, their ratio, and the largest difference of the
   gradients (they must agree to 1e-9).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from qnncourse.circuit import Circuit
from qnncourse.cost import Cost
from qnncourse.paulis import PauliSum


def free_fermion(n: int, layers: int) -> Circuit:
    circuit = Circuit(n)
    for _ in range(layers):
        for q in range(n):
            circuit.rx(q)
        for q in range(n - 1):
            circuit.pauli_rotation("ZZ", (q, q + 1))
    return circuit


def tfim(n: int, h: float = 1.0) -> PauliSum:
    def word(letters: str, qubits: tuple[int, ...]) -> str:
        chars = ["I"] * n
        for p, q in zip(letters, qubits, strict=True):
            chars[q] = p
        return "".join(chars)

    terms = {word("ZZ", (q, q + 1)): -1.0 for q in range(n - 1)}
    terms.update({word("X", (q,)): -h for q in range(n)})
    return PauliSum(terms)


def big_run(n: int, layers: int) -> None:
    t0 = time.perf_counter()
    circuit = free_fermion(n, layers)
    t1 = time.perf_counter()
    cost = Cost(circuit, tfim(n), simulator="lie")
    t2 = time.perf_counter()
    theta = np.random.default_rng(0).uniform(0, 2 * np.pi, circuit.n_params)
    value, grad = cost.value_and_gradient(theta)
    t3 = time.perf_counter()
    print(f"{n} qubits, {layers} layers, {circuit.n_params} parameters, "
          f"dimension {cost.lie_program.dim}")
    print(f"  build circuit {t1 - t0:6.2f} s | compile g-sim {t2 - t1:6.2f} s | value + "
          f"gradient {t3 - t2:6.2f} s | total {t3 - t0:6.2f} s")
    print(f"  C = {value:.6f}, |grad| = {np.linalg.norm(grad):.6f}")


def side_by_side(qubits: list[int], layers: int) -> None:
    print(f"\nvalue + gradient, free-fermion circuit with {layers} layers (best of 3)")
    print(f"{'n':>3} {'params':>7} {'statevector s':>14} {'g-sim s':>9} {'ratio':>7} "
          f"{'max |diff|':>11}")
    for n in qubits:
        circuit = free_fermion(n, layers)
        theta = np.random.default_rng(n).uniform(0, 2 * np.pi, circuit.n_params)
        times, grads = [], []
        for simulator in ("statevector", "lie"):
            cost = Cost(circuit, tfim(n), simulator=simulator)
            best = float("inf")
            for _ in range(3):
                start = time.perf_counter()
                grad = cost.gradient(theta)
                best = min(best, time.perf_counter() - start)
            times.append(best)
            grads.append(grad)
        diff = np.max(np.abs(grads[0] - grads[1]))
        print(f"{n:>3} {circuit.n_params:>7} {times[0]:>14.4f} {times[1]:>9.4f} "
              f"{times[0] / times[1]:>7.1f} {diff:>11.2e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--qubits", type=int, default=100)
    parser.add_argument("--layers", type=int, default=100)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f} (2 cores shared)")
    big_run(args.qubits, args.layers)
    side_by_side([4, 8, 12, 14, 16], 10)


if __name__ == "__main__":
    main()
