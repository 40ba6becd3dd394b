"""Input checks shared by the modules of :mod:`qnncourse.convergence` (not public API)."""

from __future__ import annotations

from typing import Any

import numpy as np

from qnncourse.cost import Cost, Loss

__all__ = ["check_plain_cost", "check_thetas", "hessian_shift", "shares_parameters"]


def check_thetas(cost: Any, theta: Any, name: str = "theta") -> tuple[np.ndarray, bool]:
    """``theta`` as a float array of shape ``(p,)`` or ``(S, p)``, and whether it is a batch."""
    if not isinstance(cost, Cost):
        raise TypeError(f"cost must be a qnncourse Cost or Loss, got {type(cost).__name__}")
    array = np.asarray(theta)
    if array.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {array.dtype}")
    array = array.astype(float)
    if array.ndim not in (1, 2) or array.shape[-1] != cost.n_params:
        raise ValueError(f"{name} must have shape ({cost.n_params},) or (S, {cost.n_params}) "
                         f"for a cost with {cost.n_params} parameters, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains non-finite values")
    return array, array.ndim == 2


def check_plain_cost(cost: Any, what: str) -> Cost:
    """Raise unless ``cost`` is a :class:`Cost` that is not a supervised :class:`Loss`."""
    if isinstance(cost, Loss) or not isinstance(cost, Cost):
        raise TypeError(f"{what} needs an expectation-value Cost (not a supervised Loss), got "
                        f"{type(cost).__name__}")
    return cost


# Finite-difference step of the Hessian when parameters are shared: the cost is then not a
# frequency-1 sinusoid in each parameter, so the exact pi/2 shift rule does not apply.
_FD_SHIFT = 1e-4


def shares_parameters(circuit: Any) -> bool:
    """Whether some parameter drives more than one rotation."""
    indices = [op.param_index for op in circuit.operations if op.kind == "rotation"]
    return bool(indices) and bool(np.any(np.bincount(indices) > 1))


def hessian_shift(cost: Any) -> float:
    """The shift for ``rates.hessian``: exact pi/2, or a small step for shared parameters."""
    return _FD_SHIFT if shares_parameters(cost.circuit) else float(np.pi / 2)
