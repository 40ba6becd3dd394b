"""Exact derivations with sympy: costs as trigonometric polynomials, shift rules, Lie closures.

These are the slow, exact counterparts that the numeric modules are checked against:

* :func:`trig_polynomial` and :func:`cost_polynomial` write a cost as a function of one
  parameter as a trigonometric polynomial whose frequencies are the differences of the
  generator's eigenvalues;
* :func:`shift_rule` derives the parameter-shift rule for any set of frequencies
  (Wierichs, Izaac, Wang & Lin, *Quantum* 6, 677 (2022), doi:10.22331/q-2022-03-30-677), and
  :meth:`ShiftRule.prove` proves it exact;
* :func:`exact_closure` computes a dynamical Lie algebra with dense sympy matrices, an
  independent check of :mod:`qnncourse.lie`.

Modules: :mod:`~qnncourse.symbolic.matrices` (exact matrices),
:mod:`~qnncourse.symbolic.polynomials` (trigonometric polynomials, shift rules, circuit costs),
:mod:`~qnncourse.symbolic.closure` (dense exact closure).
"""

from qnncourse.symbolic.closure import exact_closure
from qnncourse.symbolic.matrices import to_sympy
from qnncourse.symbolic.polynomials import (
    ShiftRule,
    TrigPolynomial,
    cost_polynomial,
    shift_rule,
    trig_polynomial,
)

__all__ = [
    "ShiftRule",
    "TrigPolynomial",
    "cost_polynomial",
    "exact_closure",
    "shift_rule",
    "to_sympy",
    "trig_polynomial",
]
