"""The optimizer race: GD, Adam, SPSA and QNG, cost against circuit evaluations."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from qnncourse import ansatz, optim
from qnncourse.cost import Cost
from qnncourse.ensemble import random_parameters
from qnncourse.widgets.framework import (
    LEGEND_PT,
    TITLE_PT,
    Control,
    Explorer,
    ExplorerSpec,
    Progress,
    cost_observable,
    int_options,
    no_progress,
)

__all__ = ["SPEC", "RaceData", "RaceRun", "optimizer_race"]

_RACE_PROBLEMS = {
    "3 qubits, local cost": (lambda: ansatz.hardware_efficient(3, 2), "local", None),
    "4 qubits, global cost": (lambda: ansatz.hardware_efficient(4, 2), "global", None),
    "3 qubits, local cost, 100 shots": (lambda: ansatz.hardware_efficient(3, 2),
                                        "local", 100),
}
_RACERS = ("GD", "Adam", "SPSA", "QNG")


def _racer(name: str, scale: float, seed: int) -> optim.Optimizer:
    return {
        "GD": lambda: optim.GradientDescent(lr=0.2 * scale),
        "Adam": lambda: optim.Adam(lr=0.1 * scale),
        "SPSA": lambda: optim.SPSA(a=0.2 * scale, c=0.1, rng=seed),
        "QNG": lambda: optim.QNG(lr=0.1 * scale),
    }[name]()


def _race_problem(problem: str, seed: int) -> tuple[Cost, Cost, np.ndarray]:
    """The cost the optimizer sees, an exact twin to score it, and the seeded start."""
    build, kind, shots = _RACE_PROBLEMS[problem]
    circuit = build()
    obs = cost_observable(kind, circuit.n_qubits)
    theta0 = random_parameters(circuit.n_params, 1, rng=seed)[0]  # the shared ensemble
    return Cost(circuit, obs, shots=shots, rng=seed), Cost(circuit, obs), theta0


@dataclass(frozen=True)
class RaceRun:
    """One optimizer's run: circuit evaluations spent and the exact cost at each iterate."""

    name: str
    evaluations: np.ndarray
    costs: np.ndarray
    result: optim.TrainResult


@functools.lru_cache(maxsize=256)
def _race_run(problem: str, racer: str, budget: int, scale: float, seed: int) -> RaceRun:
    """:func:`~qnncourse.optim.train` until ``budget`` circuit evaluations are spent."""
    cost, exact, theta0 = _race_problem(problem, seed)
    result = optim.train(cost, theta0, _racer(racer, scale, seed), budget, progress=False,
                         callback=lambda k, theta, info: info["evaluations"] >= budget)
    # Score every iterate with the exact cost: the optimizer itself may only see shot
    # estimates, and SPSA never evaluates the cost at its iterates at all.
    return RaceRun(racer, result.evaluations, np.asarray(exact(result.thetas)), result)


@dataclass(frozen=True)
class RaceData:
    """The optimizer race on ``problem``: one :class:`RaceRun` per optimizer, all from the same
    start and each stopped after ``budget`` circuit evaluations."""

    problem: str
    budget: int
    runs: tuple[RaceRun, ...]


def _race_data(problem: str = "3 qubits, local cost", budget: int = 400, scale: float = 1.0,
               seed: int = 0, progress: Progress = no_progress) -> RaceData:
    """The four runs behind :func:`optimizer_race`, from the same start."""
    runs = []
    for k, racer in enumerate(_RACERS):
        progress(k, len(_RACERS))
        runs.append(_race_run(problem, racer, budget, scale, seed))
    progress(len(_RACERS), len(_RACERS))
    return RaceData(problem, budget, tuple(runs))


def _draw_race(fig: Figure, d: RaceData) -> None:
    ax = fig.subplots()
    for k, run in enumerate(d.runs):
        ax.plot(run.evaluations, run.costs, "-", color=f"C{k}", label=run.name,
                marker="." if run.costs.size < 60 else None)
    ax.set_xlabel("circuit evaluations")
    ax.set_ylabel("cost (exact)")
    ax.set_xlim(0, d.budget * 1.05)
    ax.set_title(d.problem, fontsize=TITLE_PT)
    ax.legend(fontsize=LEGEND_PT)


def _race_readout(d: RaceData) -> str:
    parts = [f"{run.name} {run.costs[-1]:.4f} ({run.result.steps} steps, "
             f"{int(run.evaluations[-1])} evaluations)" for run in d.runs]
    best = min(d.runs, key=lambda run: run.costs[-1])
    return ("final exact cost: " + "; ".join(parts) + f"\nlowest after {d.budget} evaluations: "
            f"{best.name}")


SPEC = ExplorerSpec(
    name="race",
    title="Optimizer race: cost against circuit evaluations",
    controls=(
        Control("problem", "problem", tuple((k, k) for k in _RACE_PROBLEMS),
                "3 qubits, local cost"),
        Control("budget", "evaluations", int_options((200, 400, 800, 1600)), 400, kind="slider"),
        Control("scale", "step size ×", tuple((f"{s:g}", s) for s in (0.5, 1.0, 2.0, 4.0)),
                1.0, kind="slider"),
        Control("seed", "start (seed)", int_options((0, 1, 2)), 0),
    ),
    compute=lambda progress, **v: _race_data(progress=progress, **v),
    draw=_draw_race,
    readout=_race_readout,
    figsize=(6.4, 3.4),
)


def optimizer_race(*, dpi: int = 90, **values: Any) -> Explorer:
    r"""Gradient descent, Adam, SPSA and QNG from the same start, per circuit evaluation.

    Each optimizer runs through :func:`qnncourse.optim.train` until it has spent the budget of
    circuit evaluations (``cost.evaluations``, plus QNG's metric circuits); every iterate is
    scored with the exact cost, so a shot-based problem is judged fairly and SPSA, which never
    evaluates its own iterates, can be drawn at all.

    Controls: ``problem`` (``"3 qubits, local cost"``, ``"4 qubits, global cost"``,
    ``"3 qubits, local cost, 100 shots"``; hardware-efficient, 2 layers), ``budget``
    (evaluations: 200, 400, 800, 1600), ``scale`` (all step sizes × 0.5, 1, 2, 4; base GD 0.2,
    Adam 0.1, SPSA a = 0.2, QNG 0.1), ``seed`` (the random start: 0, 1, 2).
    """
    return Explorer(SPEC, values, dpi=dpi)
