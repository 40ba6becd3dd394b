"""Input checks shared by every module: random generators, memory budgets, parameter arrays.

Every public function validates its input *before* computing, with a message that names the
argument, what is allowed and what was received.
"""

from __future__ import annotations

import math
import os
from numbers import Integral
from typing import Any

import numpy as np

__all__ = [
    "as_rng",
    "check_cost",
    "check_count",
    "check_fraction",
    "check_memory",
    "check_index",
    "check_positive",
    "check_probability",
    "check_qubit",
    "check_theta",
    "format_bytes",
    "memory_limit",
]

# Fraction of the currently available memory that one dense allocation may take; the rest is
# left for the other arrays of the same computation and for everything else on the machine.
_MEMORY_FRACTION = 0.5
_ALWAYS_ALLOWED = 16 * 1024**2  # bytes


def as_rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    """Normalise ``rng`` to a :class:`numpy.random.Generator`.

    Parameters
    ----------
    rng : numpy.random.Generator, int or None
        A generator is returned as it is (so draws continue its stream); an int seeds a new one;
        ``None`` makes a freshly seeded generator (never numpy's global state).
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, Integral) and not isinstance(rng, bool)):
        if rng is not None and rng < 0:
            raise ValueError(f"rng seed must be a non-negative integer, got {rng}")
        return np.random.default_rng(rng)
    raise TypeError(
        f"rng must be a numpy.random.Generator, an int seed or None, got {type(rng).__name__}"
    )


def format_bytes(n_bytes: float) -> str:
    """Human-readable size, e.g. ``'2.0 GiB'``."""
    size = float(n_bytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if size < 1024 or unit == "PiB":
            return f"{size:.1f} {unit}" if unit != "B" else f"{int(size)} B"
        size /= 1024
    raise AssertionError("unreachable")


def memory_limit() -> int:
    """Largest single dense allocation allowed, in bytes.

    The environment variable ``QNNCOURSE_MEMORY_LIMIT`` (bytes) overrides the default, which is
    half of the memory currently available (``MemAvailable`` on Linux, else 4 GiB).
    """
    override = os.environ.get("QNNCOURSE_MEMORY_LIMIT")
    if override:
        return int(float(override))
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(int(line.split()[1]) * 1024 * _MEMORY_FRACTION)
    except OSError:
        pass
    return 4 * 1024**3


def check_memory(n_bytes: float, what: str) -> None:
    """Raise ``ValueError`` naming the size if an allocation of ``n_bytes`` would not fit.

    Parameters
    ----------
    n_bytes : float
        Size of the planned allocation.
    what : str
        What is being allocated, e.g. ``"the 20-qubit unitary (1048576 x 1048576 complex)"``.
    """
    # Small arrays are checked without reading /proc/meminfo: simulators check every gate, and
    # a file read per gate was a sixth of a 100-qubit Pauli-propagation sweep.
    if n_bytes < _ALWAYS_ALLOWED and not os.environ.get("QNNCOURSE_MEMORY_LIMIT"):
        return
    limit = memory_limit()
    if n_bytes > limit:
        raise ValueError(
            f"{what} needs {format_bytes(n_bytes)} ({int(n_bytes)} bytes), more than the "
            f"{format_bytes(limit)} allowed for one array (set QNNCOURSE_MEMORY_LIMIT to change)"
        )


def check_qubit(q: object, n_qubits: int, what: str = "qubit") -> int:
    """Return ``q`` as an int after checking ``0 <= q < n_qubits``."""
    if isinstance(q, bool) or not isinstance(q, Integral):
        raise TypeError(f"{what} index must be an int, got {type(q).__name__} {q!r}")
    if not 0 <= q < n_qubits:
        raise ValueError(
            f"{what} index {q} is out of range for a {n_qubits}-qubit circuit "
            f"(allowed 0..{n_qubits - 1})"
        )
    return int(q)


def check_positive(name: str, value: Any, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a float, or raise if it is not a finite positive number."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    bad = value < 0 if allow_zero else value <= 0
    if bad or not math.isfinite(value):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must be a finite {kind} number, got {value!r}")
    return value


def check_fraction(name: str, value: Any) -> float:
    """Return ``value`` as a float in ``[0, 1)`` or raise."""
    value = check_positive(name, value, allow_zero=True)
    if value >= 1:
        raise ValueError(f"{name} must lie in [0, 1), got {value!r}")
    return value


def check_count(name: str, value: Any, *, allow_zero: bool = False) -> int:
    """Return ``value`` as an int, or raise if it is not a (non-negative) positive integer."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < 0 or (value == 0 and not allow_zero):
        kind = "a non-negative" if allow_zero else "a positive"
        raise ValueError(f"{name} must be {kind} integer, got {value}")
    return int(value)


def check_theta(cost: Any, theta: Any, name: str = "theta") -> np.ndarray:
    """Return ``theta`` as a fresh 1-D float array of length ``cost.n_params`` or raise."""
    theta = np.array(theta, dtype=float)
    if theta.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {theta.shape}")
    if theta.size != cost.n_params:
        raise ValueError(f"{name} has {theta.size} values, the cost has {cost.n_params} parameters")
    if not np.all(np.isfinite(theta)):
        raise ValueError(f"{name} contains non-finite values: {theta}")
    return theta


def check_cost(cost: Any) -> None:
    """Raise ``TypeError`` unless ``cost`` has the parts of the Cost interface that optimizers
    and the training loop use (callable, ``n_params``, ``evaluations``, ``value_and_gradient``)."""
    missing = [a for a in ("n_params", "evaluations", "value_and_gradient") if not hasattr(cost, a)]
    if missing or not callable(cost):
        raise TypeError(
            "cost must follow the qnncourse Cost interface (callable, with n_params, "
            f"evaluations and value_and_gradient); {type(cost).__name__} lacks "
            f"{', '.join(missing) or '__call__'}"
        )


def check_probability(value: Any, name: str, owner: str = "") -> float:
    """Return ``value`` as a float in ``[0, 1]``, or raise naming ``owner``'s argument ``name``."""
    what = f"{owner} {name}".strip()
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{what} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not 0.0 <= value <= 1.0:  # also rejects nan
        raise ValueError(f"{what} must be a probability in [0, 1], got {value}")
    return value


def check_index(value: Any, what: str) -> int:
    """Return ``value`` as an int after checking it is a non-negative integer index."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 0:
        raise ValueError(f"{what} must be a non-negative int, got {value!r}")
    return int(value)
