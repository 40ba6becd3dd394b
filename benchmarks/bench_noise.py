"""Noisy gradients: qnncourse's density-matrix adjoint method against PennyLane default.mixed.

Workload (issue 4): n = 6 qubits, ``hardware_efficient(6, 4)`` (RY and RZ on every qubit, then
a CZ ladder, per layer), depolarizing noise after every gate on the qubits it touches,
observable Z0 Z1, five full gradients at random parameters. PennyLane runs ``default.mixed``
with ``diff_method="backprop"`` (autograd); its ``DepolarizingChannel(p_pl)`` is our
``Depolarizing(4 * p_pl / 3)``. Both run in this process; the script prints both times, the
ratio and the largest difference between the gradients.

It also times the batched parameter-shift rule through the same density simulator (all
``2p`` shifted circuits in one batch), which the adjoint method replaces, and one noisy
gradient at n = 6, 8, 10 in both libraries (wall-clock and CPU time: on a shared machine the
CPU time is the fairer figure).

Run: ``.venv/bin/python benchmarks/bench_noise.py`` (needs ``pennylane``).
"""

from __future__ import annotations

import time

import numpy as np
import pennylane as qml
from pennylane import numpy as pnp

from qnncourse.ansatz import hardware_efficient
from qnncourse.cost import Cost
from qnncourse.noise import Depolarizing, NoiseModel

N_QUBITS, LAYERS, P_PENNYLANE, REPEATS = 6, 4, 0.01, 5
SIZES = (6, 8, 10)  # issue 19: keep >= 10x against default.mixed, and n = 10 practical


def pennylane_gradient(n: int, layers: int, p_pl: float):
    dev = qml.device("default.mixed", wires=n)

    @qml.qnode(dev, diff_method="backprop", interface="autograd")
    def circuit(theta):
        k = 0
        for _ in range(layers):
            for rot in (qml.RY, qml.RZ):
                for q in range(n):
                    rot(theta[k], wires=q)
                    qml.DepolarizingChannel(p_pl, wires=q)
                    k += 1
            for q in range(n - 1):
                qml.CZ(wires=[q, q + 1])
                qml.DepolarizingChannel(p_pl, wires=q)
                qml.DepolarizingChannel(p_pl, wires=q + 1)
        return qml.expval(qml.PauliZ(0) @ qml.PauliZ(1))

    return circuit, qml.grad(circuit)


def best_of(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    p = 4 * P_PENNYLANE / 3
    circuit = hardware_efficient(N_QUBITS, LAYERS)
    cost = Cost(circuit, "ZZ" + "I" * (N_QUBITS - 2), noise=Depolarizing(p))
    thetas = np.random.default_rng(0).uniform(0, 2 * np.pi, (REPEATS, circuit.n_params))
    pl_value, pl_grad = pennylane_gradient(N_QUBITS, LAYERS, P_PENNYLANE)
    n_channels = len(NoiseModel(Depolarizing(p)).channel_steps(circuit))

    ours = [cost.value_and_gradient(t) for t in thetas]
    theirs = [(float(pl_value(pnp.array(t, requires_grad=True))),
               np.asarray(pl_grad(pnp.array(t, requires_grad=True)))) for t in thetas]
    value_diff = max(abs(a[0] - b[0]) for a, b in zip(ours, theirs, strict=True))
    grad_diff = max(np.max(np.abs(a[1] - b[1])) for a, b in zip(ours, theirs, strict=True))

    t_ours = best_of(lambda: [cost.gradient(t) for t in thetas])
    t_shift = best_of(lambda: [cost.gradient(t, method="parameter-shift") for t in thetas])
    t_pl = best_of(lambda: [pl_grad(pnp.array(t, requires_grad=True)) for t in thetas])
    print(f"n={N_QUBITS}, hardware_efficient({N_QUBITS}, {LAYERS}): {circuit.n_params} "
          f"parameters, {n_channels} depolarizing channels (p={p:.4g}; "
          f"PennyLane p={P_PENNYLANE})")
    print(f"{REPEATS} noisy gradients, best of 3:")
    print(f"  qnncourse adjoint (density)          {t_ours:8.3f} s")
    print(f"  qnncourse batched parameter-shift    {t_shift:8.3f} s")
    print(f"  PennyLane default.mixed backprop     {t_pl:8.3f} s")
    print(f"  ratio PennyLane / qnncourse adjoint  {t_pl / t_ours:8.1f}x  (goal >= 3x)")
    print(f"  max |value difference|     {value_diff:.2e}")
    print(f"  max |gradient difference|  {grad_diff:.2e}")

    print("\nOne noisy gradient against n (hardware_efficient(n, 4), depolarizing after every "
          "gate), both libraries in this process, best of 2 (1 for PennyLane from n = 10); "
          "ratio = PennyLane / qnncourse, wall-clock and CPU time:")
    print(f"{'n':>3} {'params':>6} {'qnncourse s':>12} {'default.mixed s':>16} "
          f"{'ratio wall':>11} {'ratio CPU':>10}")
    for n in SIZES:
        c = hardware_efficient(n, LAYERS)
        noisy = Cost(c, "ZZ" + "I" * (n - 2), noise=Depolarizing(p))
        theta = np.random.default_rng(1).uniform(0, 2 * np.pi, c.n_params)
        ours_wall, ours_cpu = best_of_both(lambda noisy=noisy, theta=theta: noisy.gradient(theta),
                                           2)
        _, grad = pennylane_gradient(n, LAYERS, P_PENNYLANE)
        pl_wall, pl_cpu = best_of_both(
            lambda grad=grad, theta=theta: grad(pnp.array(theta, requires_grad=True)),
            1 if n >= 10 else 2)
        diff = np.max(np.abs(noisy.gradient(theta)
                             - np.asarray(grad(pnp.array(theta, requires_grad=True)))))
        assert diff < 1e-8, f"gradients differ by {diff} at n={n}"
        print(f"{n:>3} {c.n_params:>6} {ours_wall:12.3f} {pl_wall:16.3f} "
              f"{pl_wall / ours_wall:11.1f} {pl_cpu / ours_cpu:10.1f}", flush=True)


def best_of_both(fn, repeats: int) -> tuple[float, float]:
    """Smallest wall-clock and CPU time over ``repeats`` calls (after one warm-up)."""
    fn()
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return min(wall), min(cpu)


if __name__ == "__main__":
    main()
