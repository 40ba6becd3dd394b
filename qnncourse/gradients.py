"""Gradient methods: adjoint, parameter-shift, finite differences and SPSA.

All methods work on *rows* of operation angles (``circuit.angles(theta, x)``, shape
``(R, len(circuit))``) and return the gradient of each row's value by the circuit parameters,
shape ``(R, n_params)``. The shift-based methods only need ``values(angles) -> (R',)``, a
function that evaluates rows of angles, so the same code serves exact simulation, shot
estimates and noisy simulation. Their cost, in circuit evaluations per row, for a circuit with
:math:`p` parameters read by :math:`K \\ge p` rotations:

==================== ========================= ===========================================
method               evaluations per gradient  exact?
==================== ========================= ===========================================
adjoint              simulator only            exact (Jones & Gacon 2020)
parameter-shift      :math:`2K`                exact (Mitarai 2018, Schuld 2019)
finite-difference    :math:`2p`                :math:`O(h^2)` error, unstable with shots
spsa                 :math:`2`                 unbiased to :math:`O(c^2)`, noisy (Spall 1992)
==================== ========================= ===========================================
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from qnncourse._validation import as_rng, check_memory
from qnncourse.simulators.statevector import adjoint_from_angles

__all__ = [
    "METHODS",
    "OPTIONS",
    "adjoint",
    "check_options",
    "finite_difference",
    "parameter_shift",
    "spsa_gradient",
]

METHODS = ("adjoint", "parameter-shift", "finite-difference", "spsa")
# The keyword options each method takes through ``Cost.gradient(theta, method, **options)``.
OPTIONS = {"adjoint": (), "parameter-shift": ("shift",), "finite-difference": ("h",),
           "spsa": ("c", "delta")}

ValuesFn = Callable[[np.ndarray], np.ndarray]

# Bytes of shifted angle rows built at once (the simulator chunks the states separately).
_ANGLE_BLOCK_BYTES = 2**26


def check_options(method: str, options: dict) -> None:
    """Raise ``ValueError`` if ``options`` holds a keyword that ``method`` does not take.

    >>> check_options("adjoint", {"h": 0.5})
    Traceback (most recent call last):
    ...
    ValueError: method='adjoint' takes no options, got h=0.5
    """
    allowed = OPTIONS[method]
    unknown = [k for k in options if k not in allowed]
    if unknown:
        given = ", ".join(f"{k}={options[k]!r}" for k in unknown)
        takes = f"takes only {', '.join(allowed)}" if allowed else "takes no options"
        raise ValueError(f"method={method!r} {takes}, got {given}")


def _check_rows(circuit, angles: np.ndarray) -> np.ndarray:
    """``angles`` as a float array ``(R, len(circuit))``: one row per circuit run."""
    array = np.asarray(angles, dtype=float)
    if array.ndim != 2 or array.shape[1] != len(circuit):
        raise ValueError(f"angles must have shape (R, {len(circuit)}), one row of operation "
                         f"angles per circuit run (circuit.angles(theta) gives them), got shape "
                         f"{array.shape}")
    return array


def _block_size(n_rows: int, n_dirs: int, n_angles: int) -> int:
    """How many shift directions to evaluate at once so that the shifted angle rows stay small."""
    per_dir = 8 * n_rows * 2 * n_angles
    check_memory(per_dir, f"the shifted angles of {n_rows} rows")
    return max(1, min(n_dirs, _ANGLE_BLOCK_BYTES // per_dir))


def _shifted_differences(values: ValuesFn, angles: np.ndarray, directions: np.ndarray,
                         step: float) -> np.ndarray:
    """:math:`f(a + s\\,d_j) - f(a - s\\,d_j)` for every row and every direction ``d_j``.

    ``directions`` has shape ``(J, n_angles)``; returns ``(R, J)``. Rows are evaluated in
    blocks of directions, all rows of a block in one batched call.
    """
    n_rows, n_angles = angles.shape
    n_dirs = directions.shape[0]
    out = np.empty((n_rows, n_dirs))
    block = _block_size(n_rows, n_dirs, n_angles)
    for lo in range(0, n_dirs, block):
        d = directions[lo:lo + block] * step                              # (J', A)
        plus = angles[:, None, :] + d[None]                               # (R, J', A)
        minus = angles[:, None, :] - d[None]
        rows = np.concatenate([plus, minus], axis=1).reshape(-1, n_angles)
        f = values(rows).reshape(n_rows, 2, -1)
        out[:, lo:lo + block] = f[:, 0] - f[:, 1]
    return out


def adjoint(circuit, observable, angles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Values ``(R,)`` and exact gradients ``(R, n_params)`` by adjoint differentiation.

    Delegates to :func:`qnncourse.simulators.statevector.adjoint_from_angles` (Jones & Gacon
    2020, https://arxiv.org/abs/2009.02823). Needs the exact state vector, so it has no
    hardware counterpart; its cost is about three circuit simulations whatever the number of
    parameters.
    """
    angles = _check_rows(circuit, angles)
    values, angle_grads = adjoint_from_angles(circuit, observable, angles)
    return values, circuit.chain_rule(angle_grads)


def parameter_shift(values: ValuesFn, circuit, angles: np.ndarray, *,
                    shift: float = np.pi / 2) -> np.ndarray:
    """Parameter-shift rule, one rotation at a time.

    A rotation :math:`R_P(a) = e^{-iaP/2}` about a Pauli string (eigenvalues :math:`\\pm1`)
    makes the cost a trigonometric polynomial of degree one in :math:`a`, so for any shift
    :math:`s` with :math:`\\sin s \\ne 0`

    .. math::

        \\frac{\\partial C}{\\partial a} = \\frac{C(a + s) - C(a - s)}{2\\sin s}

    exactly (Mitarai et al. 2018, https://doi.org/10.1103/PhysRevA.98.032309; Schuld et al.
    2019, https://doi.org/10.1103/PhysRevA.99.032331). A parameter read by several rotations
    sums their derivatives (chain rule). Cost: 2 evaluations per rotation per row.
    """
    if not np.isfinite(shift) or abs(np.sin(shift)) < 1e-8:
        raise ValueError(f"shift must be a finite angle with sin(shift) != 0, got {shift}")
    angles = _check_rows(circuit, angles)
    cols, _ = circuit.rotation_columns()
    n_rows, n_angles = angles.shape
    directions = np.zeros((len(cols), n_angles))
    directions[np.arange(len(cols)), cols] = 1.0
    diff = _shifted_differences(values, angles, directions, shift)
    angle_grads = np.zeros((n_rows, n_angles))
    angle_grads[:, cols] = diff / (2 * np.sin(shift))
    return circuit.chain_rule(angle_grads)


def _param_directions(circuit) -> np.ndarray:
    """``(n_params, n_angles)``: the angle columns that move when a parameter moves by 1."""
    cols, params = circuit.rotation_columns()
    directions = np.zeros((circuit.n_params, len(circuit)))
    directions[params, cols] = 1.0
    return directions


def finite_difference(values: ValuesFn, circuit, angles: np.ndarray, *,
                      h: float = 1e-4) -> np.ndarray:
    """Central finite differences, :math:`\\partial_j C \\approx [C(\\theta + h e_j) -
    C(\\theta - h e_j)]/(2h)`, error :math:`O(h^2)`.

    Cost: 2 evaluations per parameter per row. With shot noise of size :math:`\\sigma` the
    estimate's error grows like :math:`\\sigma/h`: use a large ``h`` or parameter-shift.
    """
    if not np.isfinite(h) or h <= 0:
        raise ValueError(f"h must be a positive finite step, got {h}")
    angles = _check_rows(circuit, angles)
    diff = _shifted_differences(values, angles, _param_directions(circuit), h)
    return diff / (2 * h)


def spsa_gradient(values: ValuesFn, circuit, angles: np.ndarray, *, c: float = 0.1,
                  rng: np.random.Generator | int | None = None,
                  delta: np.ndarray | None = None) -> np.ndarray:
    """Simultaneous-perturbation estimate (Spall 1992, https://doi.org/10.1109/9.119632).

    .. math::

        \\hat g = \\frac{C(\\theta + c\\Delta) - C(\\theta - c\\Delta)}{2c}\\,\\Delta,
        \\qquad \\Delta_j \\in \\{-1, +1\\}\\ \\text{uniformly},

    an estimate with :math:`\\mathbb{E}[\\hat g] = \\nabla C + O(c^2)`. Cost: 2 evaluations per
    row, whatever the number of parameters. It never evaluates :math:`C(\\theta)` itself.

    Parameters
    ----------
    delta : array of shape ``(R, n_params)``, optional
        The perturbation signs per row (drawn from ``rng`` if omitted); rows that share a
        ``theta`` (a data set in a supervised loss) should share their ``delta``.
    """
    if not np.isfinite(c) or c <= 0:
        raise ValueError(f"c must be a positive finite perturbation size, got {c}")
    angles = _check_rows(circuit, angles)
    n_rows, n_angles = angles.shape
    if delta is None:
        delta = as_rng(rng).choice([-1.0, 1.0], size=(n_rows, circuit.n_params))
    elif delta.shape != (n_rows, circuit.n_params):
        raise ValueError(f"delta has shape {delta.shape}, expected {(n_rows, circuit.n_params)}")
    shift = c * (delta @ _param_directions(circuit))                      # (R, A)
    f = values(np.concatenate([angles + shift, angles - shift]))
    return ((f[:n_rows] - f[n_rows:]) / (2 * c))[:, None] * delta
