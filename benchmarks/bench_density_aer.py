"""Noisy circuits: qnncourse's density-matrix simulator against Qiskit Aer's density matrix.

Workload (issue 28): ``hardware_efficient(n, 4)`` (RY and RZ on every qubit, then a CZ ladder,
per layer) with ``Depolarizing(p)`` after every gate on each qubit it touches, observable
:math:`Z_0 Z_1`, at n = 6, 8, 10, 12. Both libraries run in this process and must agree
(values to 1e-9, gradients to 1e-8) before they are timed.

* value: one noisy expectation value; Aer runs ``AerSimulator(method="density_matrix")`` with
  the same noise model built here (``depolarizing_error(p, 1)`` after ``ry``/``rz``, its tensor
  square after ``cz``) and ``save_expectation_value``;
* gradient: the full noisy gradient, qnncourse's adjoint method for density matrices against
  Aer running the ``2p`` parameter-shift circuits (one parametrised circuit with ``2p`` bound
  parameter sets in one ``run`` call, so Aer may run them in parallel).

Qubit order: the library's qubit 0 is the leftmost tensor factor, Qiskit's is the rightmost, so
library qubit ``q`` is Qiskit qubit ``n - 1 - q``; the Pauli label ``"ZZI...I"`` then means
:math:`Z_0 Z_1` in both.

Times are the best of a few calls after one warm-up (compilation, caches), as wall-clock and
CPU time; on a shared machine the CPU time is the fairer figure. Aer runs on one thread by
default (``--aer-threads``): on the 2-core machine shared with other jobs where this was
measured, its OpenMP threads made it 2-5x slower, not faster (qnncourse's kernels also stay on
one thread when the machine is busy). For the gradient at large n, Aer's 2p shift circuits
would take hours: at most ``--max-shift-circuits`` of them (for an even spread of parameters)
are run and their time scaled to 2p, which the output says; the derivatives it ran are compared
with ours.

A second workload exercises the gradient's other path: ``--noise amplitude-damping --rate 0.1
--layers 16`` (relaxation after every gate of a 16-layer circuit), whose channels multiply
their condition numbers far past the limit for un-computing states, so the adjoint sweep
checkpoints them (:mod:`qnncourse.simulators.superop`); the output names the path per row.

Run: ``.venv/bin/python benchmarks/bench_density_aer.py [--sizes 6 8 10 12] [--no-gradient]``
(needs ``qiskit`` and ``qiskit-aer``). ``OPENBLAS_CORETYPE``/``OPENBLAS_L2_SIZE`` slow numpy on
some machines: unset both in that command alone to measure numpy at its speed.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import ParameterVector
from qiskit.quantum_info import SparsePauliOp
from qiskit_aer import AerSimulator
from qiskit_aer.noise import NoiseModel as AerNoiseModel
from qiskit_aer.noise import amplitude_damping_error, depolarizing_error

from qnncourse.ansatz import hardware_efficient
from qnncourse.cost import Cost
from qnncourse.noise import AmplitudeDamping, Depolarizing, NoiseModel
from qnncourse.simulators.density import DensityProgram

LAYERS, P = 4, 0.01
# the library's channel and Aer's error for the same Kraus operators
CHANNELS = {"depolarizing": (Depolarizing, lambda p: depolarizing_error(p, 1)),
            "amplitude-damping": (AmplitudeDamping, amplitude_damping_error)}


def aer_circuit(n: int, layers: int, n_params: int) -> tuple[QuantumCircuit, ParameterVector]:
    """``hardware_efficient(n, layers)`` in Qiskit, same parameter order, qubit ``q`` mapped to
    ``n - 1 - q``, with the expectation of Z0 Z1 saved at the end."""
    theta = ParameterVector("theta", n_params)
    qc = QuantumCircuit(n)
    k = 0
    for _ in range(layers):
        for gate in (qc.ry, qc.rz):
            for q in range(n):
                gate(theta[k], n - 1 - q)
                k += 1
        for q in range(n - 1):
            qc.cz(n - 1 - q, n - 2 - q)
    qc.save_expectation_value(SparsePauliOp("ZZ" + "I" * (n - 2)), list(range(n)))
    return qc, theta


def aer_simulator(noise: str, p: float, threads: int) -> AerSimulator:
    model = AerNoiseModel(basis_gates=["ry", "rz", "cz"])
    one = CHANNELS[noise][1](p)
    model.add_all_qubit_quantum_error(one, ["ry", "rz"])
    model.add_all_qubit_quantum_error(one.tensor(one), ["cz"])
    return AerSimulator(method="density_matrix", noise_model=model,
                        max_parallel_threads=threads)


def aer_values(sim: AerSimulator, qc: QuantumCircuit, theta: ParameterVector,
               rows: np.ndarray) -> np.ndarray:
    """Expectation values for each row of parameters, one ``run`` call."""
    binds = {t: rows[:, i].tolist() for i, t in enumerate(theta)}
    result = sim.run(qc, parameter_binds=[binds]).result()
    return np.array([float(np.real(result.data(i)["expectation_value"]))
                     for i in range(len(rows))])


def aer_shift_gradient(sim, qc, theta, point: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Parameter-shift derivatives by the parameters ``indices``: two circuits each (the
    parameter shifted by ``+-pi/2``); all ``2p`` circuits for the full gradient."""
    m = len(indices)
    shifts = np.repeat(point[None], 2 * m, axis=0)
    shifts[np.arange(m), indices] += np.pi / 2
    shifts[m + np.arange(m), indices] -= np.pi / 2
    values = aer_values(sim, qc, theta, shifts)
    return (values[:m] - values[m:]) / 2


def best_of(fn, repeats: int) -> tuple[float, float]:
    """Smallest wall-clock and CPU time over ``repeats`` calls after one warm-up call (with
    ``repeats=0``, the time of one call without warm-up)."""
    if repeats:
        fn()
    wall, cpu = [], []
    for _ in range(max(repeats, 1)):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return min(wall), min(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[6, 8, 10, 12])
    parser.add_argument("--no-gradient", action="store_true")
    parser.add_argument("--no-value", action="store_true")
    parser.add_argument("--noise", choices=sorted(CHANNELS), default="depolarizing",
                        help="the channel after every gate (default depolarizing)")
    parser.add_argument("--rate", type=float, default=P, help=f"its rate (default {P})")
    parser.add_argument("--layers", type=int, default=LAYERS,
                        help=f"layers of the circuit (default {LAYERS})")
    parser.add_argument("--aer-threads", type=int, default=1,
                        help="Aer's max_parallel_threads (0: all cores; default 1, see below)")
    parser.add_argument("--max-shift-circuits", type=int, default=128,
                        help="run at most this many of Aer's 2p shift circuits and scale its "
                             "time to 2p (they are independent circuits of equal cost)")
    args = parser.parse_args()
    sim = aer_simulator(args.noise, args.rate, args.aer_threads)
    channel = CHANNELS[args.noise][0](args.rate)
    print(f"hardware_efficient(n, {args.layers}), {channel!r} after every gate, <Z0 Z1>; "
          f"ratio = Aer time / qnncourse time (wall-clock, CPU)")
    header = (f"{'n':>3} {'params':>6} {'what':>9} {'qnncourse s':>12} {'Aer s':>9} "
              f"{'ratio wall':>11} {'ratio CPU':>10} {'max diff':>9}")
    print(header)
    for n in args.sizes:
        circuit = hardware_efficient(n, args.layers)
        cost = Cost(circuit, "ZZ" + "I" * (n - 2), noise=channel)
        point = np.random.default_rng(n).uniform(0, 2 * np.pi, circuit.n_params)
        qc, theta = aer_circuit(n, args.layers, circuit.n_params)
        repeats = 3 if n <= 10 else 1
        if not args.no_value:
            diff = abs(cost(point) - aer_values(sim, qc, theta, point[None])[0])
            assert diff < 1e-9, f"values differ by {diff:.3g} at n={n}"
            ours = best_of(lambda cost=cost, point=point: cost(point), repeats)
            theirs = best_of(lambda qc=qc, theta=theta, point=point:
                             aer_values(sim, qc, theta, point[None]), repeats)
            print(f"{n:>3} {circuit.n_params:>6} {'value':>9} {ours[0]:12.4f} {theirs[0]:9.4f} "
                  f"{theirs[0] / ours[0]:11.2f} {theirs[1] / ours[1]:10.2f} {diff:9.1e}",
                  flush=True)
        if args.no_gradient:
            continue
        grad = cost.gradient(point)
        fused = DensityProgram(circuit, NoiseModel(channel).channel_steps(circuit)).fused
        method = "un-computed" if fused.invertible else "checkpointed"
        # the parameters whose shift circuits Aer runs (all, or an even spread of them)
        count = max(1, min(circuit.n_params, args.max_shift_circuits // 2))
        indices = np.unique(np.linspace(0, circuit.n_params - 1, count).astype(int))
        scale = circuit.n_params / len(indices)
        diff = np.max(np.abs(grad[indices] - aer_shift_gradient(sim, qc, theta, point, indices)))
        assert diff < 1e-8, f"gradients differ by {diff:.3g} at n={n}"
        ours = best_of(lambda cost=cost, point=point: cost.gradient(point),
                       repeats if n <= 10 else 0)
        wall, cpu = best_of(lambda qc=qc, theta=theta, point=point, indices=indices:
                            aer_shift_gradient(sim, qc, theta, point, indices), 0)
        wall, cpu = scale * wall, scale * cpu
        note = f"  (states {method}" + ("" if scale == 1 else
                                        f"; Aer: {2 * len(indices)} of {2 * circuit.n_params} "
                                        f"circuits timed, x{scale:.2f}") + ")"
        print(f"{n:>3} {circuit.n_params:>6} {'gradient':>9} {ours[0]:12.4f} {wall:9.4f} "
              f"{wall / ours[0]:11.2f} {cpu / ours[1]:10.2f} {diff:9.1e}{note}", flush=True)


if __name__ == "__main__":
    main()
