"""Benchmark the statevector simulator's adjoint gradients against PennyLane, same process.

Run (from the repository root, after ``pip install -r benchmarks/requirements.txt``)::

    .venv/bin/python benchmarks/bench_statevector.py            # McClean workload + ratios
    .venv/bin/python benchmarks/bench_statevector.py --scaling  # also time vs n and vs batch

The workload is McClean et al. 2018's random circuit (``qnncourse.ansatz.random_pauli``):
n = 12 qubits, 50 layers (600 parameters), the cost ⟨Z₀Z₁⟩, full gradients for 20 parameter
draws. qnncourse computes the 20 gradients as one batch; PennyLane runs the identical gate
sequence once per draw on ``lightning.qubit`` (adjoint) and ``default.qubit`` (backprop,
autograd). The gradients must agree to 1e-8; the printed ratios are PennyLane time /
qnncourse time (goal of issue 3: ratio ≥ 1 against lightning.qubit).

``--scaling`` adds two tables: one gradient against the number of qubits n = 4 … 22 (10
layers, one draw, both libraries in this process; issue 19 asks for a ratio of at least 1 at
every n, 2 at n = 20 and 3 at n = 12), and time per draw against the batch size S at n = 12,
to see where batching stops helping.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pennylane as qml
from pennylane import numpy as pnp

from qnncourse import ansatz
from qnncourse.circuit import Circuit
from qnncourse.cost import Cost
from qnncourse.simulators import statevector

_PL_GATES = {"RX": qml.RX, "RY": qml.RY, "RZ": qml.RZ}


def pennylane_qnode(circuit: Circuit, device: str, diff_method: str) -> qml.QNode:
    """The same gate sequence as ``circuit`` (a random_pauli circuit) as a PennyLane QNode."""
    ops = circuit.operations
    dev = qml.device(device, wires=circuit.n_qubits)

    def body(params):
        for op in ops:
            if op.kind == "rotation":
                _PL_GATES[op.name](params[op.param_index], wires=op.qubits[0])
            elif op.name == "CZ":
                qml.CZ(wires=list(op.qubits))
            else:  # the fixed RY(pi/4) layer
                qml.RY(np.pi / 4, wires=op.qubits[0])
        return qml.expval(qml.Z(0) @ qml.Z(1))

    return qml.QNode(body, dev, diff_method=diff_method)


def best_time(fn, repeats: int) -> tuple[float, object]:
    """Smallest wall-clock time over ``repeats`` calls (after one warm-up) and the last result."""
    result = fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def workload(n: int, layers: int, draws: int, seed: int) -> tuple[Circuit, Cost, np.ndarray]:
    circuit = ansatz.random_pauli(n, layers, rng=seed)
    cost = Cost(circuit, "ZZ" + "I" * (n - 2))
    thetas = np.random.default_rng(seed + 1).uniform(0, 2 * np.pi, (draws, circuit.n_params))
    return circuit, cost, thetas


def pennylane_gradients(qnode: qml.QNode, thetas: np.ndarray) -> np.ndarray:
    grad = qml.grad(qnode)
    return np.array([grad(pnp.array(theta, requires_grad=True)) for theta in thetas])


def mcclean(args: argparse.Namespace) -> None:
    circuit, cost, thetas = workload(args.qubits, args.layers, args.draws, args.seed)
    print(f"McClean workload: n={args.qubits}, {args.layers} layers, {circuit.n_params} "
          f"parameters, {len(circuit)} operations, {args.draws} draws, cost <Z0 Z1>")
    ours_t, ours = best_time(lambda: cost.gradient(thetas), args.repeats)
    print(f"  qnncourse (adjoint, batched)      {ours_t:8.3f} s")

    qnode = pennylane_qnode(circuit, "lightning.qubit", "adjoint")
    light_t, light = best_time(lambda: pennylane_gradients(qnode, thetas), args.repeats)
    error = np.max(np.abs(light - ours))
    print(f"  lightning.qubit (adjoint)         {light_t:8.3f} s   ratio {light_t / ours_t:6.2f}"
          f"   max |grad diff| {error:.1e}")
    assert error < 1e-8, f"gradients disagree with lightning.qubit by {error}"

    if args.default_draws:
        qnode = pennylane_qnode(circuit, "default.qubit", "backprop")
        sub = thetas[: args.default_draws]
        start = time.perf_counter()
        default = pennylane_gradients(qnode, sub)
        per_draw = (time.perf_counter() - start) / len(sub)
        error = np.max(np.abs(default - ours[: len(sub)]))
        default_t = per_draw * args.draws
        note = "" if len(sub) == args.draws else f" (timed on {len(sub)} draws, scaled)"
        print(f"  default.qubit (backprop)          {default_t:8.3f} s   ratio "
              f"{default_t / ours_t:6.2f}   max |grad diff| {error:.1e}{note}")
        assert error < 1e-8, f"gradients disagree with default.qubit by {error}"


def best_times(fn, repeats: int) -> tuple[float, float, object]:
    """Smallest wall-clock and smallest CPU time (this process) over ``repeats`` calls after
    one warm-up, and the last result. On a loaded machine the CPU time is the fairer figure:
    wall time also counts the time other processes hold the cores."""
    result = fn()
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return min(wall), min(cpu), result


def scaling(args: argparse.Namespace) -> None:
    layers = 10
    print(f"\nTime against n ({layers} layers, one full adjoint gradient of <Z0 Z1> per draw, "
          f"best of {args.scaling_repeats} (1 from n = 20); s/draw = wall-clock; ratio = "
          "lightning / qnncourse, wall-clock and CPU time)")
    print(f"{'n':>3} {'ops':>5} {'qnncourse s':>12} {'lightning s':>12} {'ratio wall':>11} "
          f"{'ratio CPU':>10}")
    for n in range(4, args.max_qubits + 1):
        repeats = args.scaling_repeats if n < 20 else 1
        circuit, cost, thetas = workload(n, layers, 1, args.seed)
        t, t_cpu, ours = best_times(lambda cost=cost, thetas=thetas: cost.gradient(thetas),
                                    repeats)
        qnode = pennylane_qnode(circuit, "lightning.qubit", "adjoint")
        light_t, light_cpu, light = best_times(
            lambda q=qnode, th=thetas: pennylane_gradients(q, th), repeats)
        assert np.max(np.abs(light - ours)) < 1e-8
        print(f"{n:>3} {len(circuit):>5} {t:12.4f} {light_t:12.4f} {light_t / t:11.2f} "
              f"{light_cpu / t_cpu:10.2f}", flush=True)

    n = 12
    print(f"\nTime per draw against batch size S (n={n}, {args.layers} layers; "
          f"BATCH_BYTES={statevector.BATCH_BYTES} caps a chunk at "
          f"{statevector.BATCH_BYTES // (16 * 2**n)} draws)")
    print(f"{'S':>5} {'s/draw':>9} {'speed-up vs S=1':>16}")
    base = None
    for draws in (1, 2, 4, 8, 16, 32, 64):
        _, cost, thetas = workload(n, args.layers, draws, args.seed)
        t, _ = best_time(lambda cost=cost, thetas=thetas: cost.gradient(thetas), 1)
        per_draw = t / draws
        base = base or per_draw
        print(f"{draws:>5} {per_draw:9.4f} {base / per_draw:16.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--qubits", type=int, default=12)
    parser.add_argument("--layers", type=int, default=50)
    parser.add_argument("--draws", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2018)
    parser.add_argument("--default-draws", type=int, default=2,
                        help="draws timed on default.qubit (slow); 0 skips it")
    parser.add_argument("--scaling", action="store_true",
                        help="also time against n = 4..22 and against the batch size")
    parser.add_argument("--max-qubits", type=int, default=22,
                        help="largest n of the --scaling table (n = 22 needs ~0.5 GB)")
    parser.add_argument("--scaling-repeats", type=int, default=3)
    args = parser.parse_args()
    mcclean(args)
    if args.scaling:
        scaling(args)


if __name__ == "__main__":
    main()
