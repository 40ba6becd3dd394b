"""Costs as trigonometric polynomials in one parameter, and shift rules derived and proved exactly.

Reference: Wierichs, Izaac, Wang & Lin, *Quantum* 6, 677 (2022), doi:10.22331/q-2022-03-30-677.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import sympy

from qnncourse.circuit import Circuit
from qnncourse.symbolic.matrices import check_hermitian, embed, exact_number, to_sympy

__all__ = ["ShiftRule", "TrigPolynomial", "cost_polynomial", "shift_rule", "trig_polynomial"]


@dataclass(frozen=True)
class TrigPolynomial:
    """A trigonometric polynomial in one variable.

    .. math::

        f(x) = a_0 + \\sum_\\ell a_\\ell \\cos(\\Omega_\\ell x) + b_\\ell \\sin(\\Omega_\\ell x)

    Attributes
    ----------
    frequencies : tuple of sympy.Expr
        The positive frequencies :math:`\\Omega_\\ell`, increasing.
    a0 : sympy.Expr
        The constant term.
    a, b : tuple of sympy.Expr
        Cosine and sine coefficients, one per frequency.
    x : sympy.Symbol
        The variable.
    """

    frequencies: tuple[sympy.Expr, ...]
    a0: sympy.Expr
    a: tuple[sympy.Expr, ...]
    b: tuple[sympy.Expr, ...]
    x: sympy.Symbol

    @property
    def expr(self) -> sympy.Expr:
        """The polynomial as one sympy expression in :attr:`x`."""
        return self.a0 + sum(
            (ai * sympy.cos(w * self.x) + bi * sympy.sin(w * self.x)
             for w, ai, bi in zip(self.frequencies, self.a, self.b, strict=True)),
            sympy.Integer(0),
        )

    def __call__(self, value) -> float:
        """Numeric value at ``x = value``."""
        return float(self.expr.subs(self.x, value).evalf())


def _eigenprojectors(g: sympy.Matrix) -> list[tuple[sympy.Expr, sympy.Matrix]]:
    """Eigenvalues of a Hermitian matrix with the orthogonal projectors onto their eigenspaces."""
    out = []
    for value, _, vectors in g.eigenvects():
        v = sympy.Matrix.hstack(*vectors)
        # Eigenspaces of a Hermitian matrix are orthogonal; V (V^H V)^{-1} V^H projects onto
        # span(V) without orthonormalising V first.
        out.append((sympy.nsimplify(value), v * (v.H * v).inv() * v.H))
    return out


def trig_polynomial(generator, observable, state, symbol: sympy.Symbol | None = None,
                    ) -> TrigPolynomial:
    """Exact :math:`f(x) = \\langle\\psi| e^{ixG} A e^{-ixG} |\\psi\\rangle` as a trig polynomial.

    With :math:`G = \\sum_j \\lambda_j \\Pi_j` (eigenvalues and eigenprojectors),

    .. math::

        f(x) = \\sum_{j,k} e^{ix(\\lambda_j - \\lambda_k)}\\,
               \\langle\\psi|\\Pi_j A \\Pi_k|\\psi\\rangle
             = a_0 + \\sum_{\\Omega > 0} a_\\Omega\\cos\\Omega x + b_\\Omega \\sin\\Omega x,

    so the frequencies are the positive differences :math:`\\Omega = \\lambda_j - \\lambda_k`, with
    :math:`a_\\Omega = 2\\operatorname{Re} z_\\Omega`, :math:`b_\\Omega = -2\\operatorname{Im}
    z_\\Omega` and :math:`z_\\Omega = \\sum_{\\lambda_j - \\lambda_k = \\Omega}
    \\langle\\psi|\\Pi_j A \\Pi_k|\\psi\\rangle` (Wierichs et al. 2022, Sec. 2).

    Parameters
    ----------
    generator : Pauli label, PauliString, PauliSum, sympy.Matrix or array
        Hermitian :math:`G`; the gate is :math:`e^{-ixG}` (so a rotation :math:`R_P(x)` has
        :math:`G = P/2`).
    observable : same types
        Hermitian :math:`A`: the measured observable evolved by the gates after this one.
    state : sympy.Matrix, array or ket ``Qobj``
        The state :math:`|\\psi\\rangle` just before the gate.
    symbol : sympy.Symbol, optional
        The variable (default a real symbol ``x``).
    """
    g = to_sympy(generator)
    a = to_sympy(observable)
    psi = to_sympy(state)
    check_hermitian(g, "generator")
    check_hermitian(a, "observable")
    if a.shape != g.shape:
        raise ValueError(f"observable has shape {a.shape}, generator {g.shape}")
    if psi.shape != (g.rows, 1):
        raise ValueError(f"state has shape {psi.shape}, expected a column of length {g.rows}")
    return _trig_polynomial(g, a, psi, symbol)


def _trig_polynomial(g: sympy.Matrix, a: sympy.Matrix, psi: sympy.Matrix,
                     symbol: sympy.Symbol | None) -> TrigPolynomial:
    """:func:`trig_polynomial` on validated sympy matrices."""
    x = sympy.Symbol("x", real=True) if symbol is None else symbol
    parts = [(lam, p * psi) for lam, p in _eigenprojectors(g)]
    a0 = sympy.Integer(0)
    z: dict[sympy.Expr, sympy.Expr] = {}
    for (lj, vj), (lk, vk) in itertools.product(parts, repeat=2):
        amp = (vj.H * a * vk)[0, 0]
        omega = sympy.nsimplify(sympy.simplify(lj - lk))
        if omega == 0:
            a0 += amp
        elif omega.is_positive:
            z[omega] = z.get(omega, 0) + amp
    freqs = tuple(sorted(z, key=float))
    return TrigPolynomial(
        frequencies=freqs,
        a0=sympy.expand(sympy.re(sympy.expand(a0))),
        a=tuple(sympy.expand(2 * sympy.re(sympy.expand(z[w]))) for w in freqs),
        b=tuple(sympy.expand(-2 * sympy.im(sympy.expand(z[w]))) for w in freqs),
        x=x,
    )


@dataclass(frozen=True)
class ShiftRule:
    """A rule :math:`f'(x) = \\sum_k c_k f(x + s_k)` for trig polynomials with given frequencies.

    Attributes
    ----------
    frequencies : tuple of sympy.Expr
        The frequencies :math:`\\Omega_\\ell` the rule is made for.
    shifts, coefficients : tuple of sympy.Expr
        :math:`s_k` and :math:`c_k`, exact.
    """

    frequencies: tuple[sympy.Expr, ...]
    shifts: tuple[sympy.Expr, ...]
    coefficients: tuple[sympy.Expr, ...]

    def conditions(self) -> list[sympy.Expr]:
        """The expressions that vanish iff the rule is exact.

        Writing :math:`f(x) = a_0 + \\sum_\\ell a_\\ell\\cos\\Omega_\\ell x +
        b_\\ell\\sin\\Omega_\\ell x` and expanding :math:`\\cos(\\Omega(x + s))`,

        .. math::

            \\sum_k c_k f(x + s_k) - f'(x) = {}& a_0 \\sum_k c_k
            + \\sum_\\ell (a_\\ell\\cos\\Omega_\\ell x + b_\\ell\\sin\\Omega_\\ell x) C_\\ell \\\\
            &+ (b_\\ell\\cos\\Omega_\\ell x - a_\\ell\\sin\\Omega_\\ell x)(S_\\ell - \\Omega_\\ell)

        with :math:`C_\\ell = \\sum_k c_k\\cos\\Omega_\\ell s_k` and
        :math:`S_\\ell = \\sum_k c_k \\sin\\Omega_\\ell s_k`. It vanishes for every
        :math:`a, b, x` iff :math:`\\sum_k c_k = 0`, :math:`C_\\ell = 0` and
        :math:`S_\\ell = \\Omega_\\ell` for all :math:`\\ell`.
        """
        out = [sympy.Add(*self.coefficients)]
        for w in self.frequencies:
            pairs = list(zip(self.coefficients, self.shifts, strict=True))
            out.append(sum(c * sympy.cos(w * s) for c, s in pairs))
            out.append(sum(c * sympy.sin(w * s) for c, s in pairs) - w)
        return out

    def residual(self) -> sympy.Expr:
        """:math:`\\sum_k c_k f(x + s_k) - f'(x)` for the generic polynomial, trig-expanded."""
        x = sympy.Symbol("x", real=True)
        f = _generic_polynomial(self.frequencies, x)
        pairs = zip(self.coefficients, self.shifts, strict=True)
        shifted = sum(c * f.subs(x, x + s) for c, s in pairs)
        return sympy.expand(sympy.expand_trig(sympy.expand(shifted - sympy.diff(f, x))))

    def prove(self) -> bool:
        """True iff every condition of :meth:`conditions` simplifies to exactly zero.

        This is a proof, not a numerical test: each condition is a closed-form constant
        that sympy reduces to ``0``. A ``False`` means sympy could not show it (for a rule from
        :func:`shift_rule` that does not happen for the frequencies in the tests).
        """
        return all(sympy.simplify(sympy.expand_trig(c)) == 0 for c in self.conditions())

    def apply(self, f: Callable[[float], float], x: float = 0.0) -> float:
        """Numeric :math:`\\sum_k c_k f(x + s_k)`."""
        pairs = zip(self.coefficients, self.shifts, strict=True)
        return sum(float(c) * f(x + float(s)) for c, s in pairs)

    def __len__(self) -> int:
        return len(self.shifts)


def _generic_polynomial(frequencies: Sequence[sympy.Expr], x: sympy.Symbol) -> sympy.Expr:
    a = sympy.symbols(f"a0:{len(frequencies) + 1}", real=True)
    b = sympy.symbols(f"b1:{len(frequencies) + 1}", real=True)
    return a[0] + sum(a[i + 1] * sympy.cos(w * x) + b[i] * sympy.sin(w * x)
                      for i, w in enumerate(frequencies))


def _check_frequencies(frequencies) -> tuple[sympy.Expr, ...]:
    if isinstance(frequencies, np.ndarray):
        frequencies = frequencies.ravel().tolist()
    if isinstance(frequencies, str) or not isinstance(frequencies, Sequence | set | frozenset):
        frequencies = [frequencies]
    if len(frequencies) == 0:
        raise ValueError("frequencies is empty: give at least one positive frequency")
    out = []
    for i, f in enumerate(frequencies):
        value = exact_number(f) if not isinstance(f, sympy.Basic) else f
        if not (value.is_real and value.is_positive):
            raise ValueError(f"frequencies must be positive real numbers; frequency {i} is {f!r}")
        out.append(value)
    return tuple(sorted(set(out), key=float))


def shift_rule(frequencies) -> ShiftRule:
    """Exact parameter-shift rule for trig polynomials with the given positive frequencies.

    For commensurate frequencies (all rational multiples of a largest common base :math:`c`,
    the usual case: eigenvalue differences of Pauli-sum generators) every frequency is in
    :math:`\\{c, 2c, \\dots, Rc\\}`, and the equidistant rule of Wierichs et al. (2022, Eq. 9)

    .. math::

        f'(0) = \\sum_{\\mu=1}^{2R} f\\!\\left(\\frac{x_\\mu}{c}\\right)
                \\frac{c\\,(-1)^{\\mu-1}}{4R\\sin^2(x_\\mu/2)},
        \\qquad x_\\mu = \\frac{2\\mu - 1}{2R}\\pi,

    applies, with the shifts folded into :math:`(-\\pi/c, \\pi/c]`. For :math:`\\{1\\}` this is
    the two-term rule (:math:`\\pm\\pi/2`, :math:`\\pm 1/2`); for :math:`\\{1/2, 1\\}`
    (a controlled rotation) the four-term rule. Incommensurate frequencies get the general
    rule of their Sec. 3: :math:`R` shift pairs :math:`\\pm x_\\mu` and the coefficients solving
    :math:`\\sum_\\mu 2 c_\\mu \\sin(\\Omega_\\ell x_\\mu) = \\Omega_\\ell`.

    Parameters
    ----------
    frequencies : number or sequence of numbers
        Positive frequencies (sympy numbers, or floats read as their decimal value).

    Returns
    -------
    ShiftRule
        Exact shifts and coefficients; :meth:`ShiftRule.prove` proves the rule exact.

    Examples
    --------
    >>> rule = shift_rule([1])
    >>> rule.shifts, rule.coefficients
    ((-pi/2, pi/2), (-1/2, 1/2))
    """
    freqs = _check_frequencies(frequencies)
    ratios = [sympy.nsimplify(w / freqs[0]) for w in freqs]
    if all(r.is_rational for r in ratios):
        # Base c = freqs[0] * gcd(ratios); gcd of p_i/q_i is gcd(p_i)/lcm(q_i).
        num = math.gcd(*(int(r.p) for r in ratios))
        den = math.lcm(*(int(r.q) for r in ratios))
        c = freqs[0] * sympy.Rational(num, den)
        big_r = int(sympy.nsimplify(freqs[-1] / c))
        pairs = []
        for mu in range(1, 2 * big_r + 1):
            x_mu = sympy.Rational(2 * mu - 1, 2 * big_r) * sympy.pi
            coeff = c * (-1) ** (mu - 1) / (4 * big_r * sympy.sin(x_mu / 2) ** 2)
            folded = x_mu if x_mu <= sympy.pi else x_mu - 2 * sympy.pi
            pairs.append((folded / c, sympy.nsimplify(sympy.radsimp(coeff))))
    else:
        pairs = _general_rule(freqs)
    pairs.sort(key=lambda sc: float(sc[0]))
    return ShiftRule(freqs, tuple(s for s, _ in pairs), tuple(c for _, c in pairs))


def _general_rule(freqs: tuple[sympy.Expr, ...]) -> list[tuple[sympy.Expr, sympy.Expr]]:
    """Antisymmetric rule for incommensurate frequencies (Wierichs et al. 2022, Sec. 3.2)."""
    big_r = len(freqs)
    # Shifts x_mu = (2 mu - 1) pi / (2 R Omega_max) (the equidistant ones when the frequencies
    # are 1..R) keep every Omega x_mu inside (0, pi). The sine matrix is then generically
    # non-singular; it is checked numerically, and smaller shifts are tried if it is not.
    for scale in (1, 2, 3):
        shifts = [sympy.pi * (2 * mu - 1) / (2 * big_r * freqs[-1] * scale)
                  for mu in range(1, big_r + 1)]
        m = sympy.Matrix([[2 * sympy.sin(w * s) for s in shifts] for w in freqs])
        if abs(m.evalf(30).det()) > 1e-12:
            break
    else:
        raise ValueError(f"could not find non-singular shifts for frequencies {freqs}")
    coeffs = m.LUsolve(sympy.Matrix(freqs))
    pairs = list(zip(shifts, coeffs, strict=True))
    return pairs + [(-s, -c) for s, c in pairs]


def _operation_unitary(op, angle, n: int) -> sympy.Matrix:
    if op.kind == "fixed":
        return embed(to_sympy(op.matrix), op.qubits, n)
    p = embed(to_sympy(op.pauli), op.qubits, n)
    return sympy.cos(angle / 2) * sympy.eye(2**n) - sympy.I * sympy.sin(angle / 2) * p


def cost_polynomial(circuit: Circuit, observable, theta, index: int, x=None,
                    symbol: sympy.Symbol | None = None) -> TrigPolynomial:
    """The cost :math:`C(\\theta)` as an exact trig polynomial in the parameter ``index``.

    All other parameters are held at ``theta`` (read exactly: ``0.3`` is :math:`3/10`, and
    sympy symbols are allowed). The gates before the parameter's rotation prepare
    :math:`|\\psi\\rangle`, those after it evolve the observable,
    :math:`A = V^\\dagger O V`, and :func:`trig_polynomial` does the rest. For a rotation
    :math:`R_P = e^{-ixP/2}` the generator is :math:`P/2` with eigenvalues :math:`\\pm 1/2`, so
    the frequencies are :math:`\\{1\\}` whatever the circuit.

    Parameters
    ----------
    circuit : Circuit
        A small circuit (dense :math:`2^n \\times 2^n` sympy matrices are built).
    observable : Pauli label, PauliSum, array or Qobj
        Hermitian observable on ``circuit.n_qubits`` qubits.
    theta : sequence
        One value per parameter.
    index : int
        The parameter to keep as the variable.
    x : sequence, optional
        Input features for the circuit's encoding gates.
    symbol : sympy.Symbol, optional
        The variable (default a real symbol ``x``).
    """
    if not isinstance(circuit, Circuit):
        raise ValueError(f"circuit must be a Circuit, got {type(circuit).__name__}")
    theta = list(theta)
    if len(theta) != circuit.n_params:
        raise ValueError(f"theta has {len(theta)} values, the circuit has {circuit.n_params} "
                         "parameters")
    if not 0 <= index < circuit.n_params:
        raise ValueError(f"index must be in 0..{circuit.n_params - 1}, got {index}")
    uses = sum(op.kind == "rotation" and op.param_index == index for op in circuit.operations)
    if uses != 1:
        raise ValueError(f"parameter {index} drives {uses} rotations; cost_polynomial needs a "
                         "parameter that drives exactly one")
    if circuit.n_features and (x is None or len(x) != circuit.n_features):
        got = "none" if x is None else len(x)
        raise ValueError(f"the circuit encodes {circuit.n_features} features, x has {got}")
    n = circuit.n_qubits
    obs = to_sympy(observable)
    if obs.shape != (2**n, 2**n):
        raise ValueError(f"observable has shape {obs.shape}, the circuit needs "
                         f"{(2**n, 2**n)} for {n} qubits")
    angles = [exact_number(t) for t in theta]
    psi = sympy.zeros(2**n, 1)
    psi[0] = 1
    after = sympy.eye(2**n)
    generator = None
    for op in circuit.operations:
        if op.kind == "rotation":
            angle = angles[op.param_index]
        elif op.kind == "encoding":
            angle = exact_number(op.scale) * exact_number(x[op.feature_index])
        else:
            angle = None
        if op.kind == "rotation" and op.param_index == index:
            generator = embed(to_sympy(op.pauli), op.qubits, n) / 2
            continue
        # Expanding after every gate keeps the entries polynomials in cos, sin of the angles
        # instead of ever deeper nested products.
        u = _operation_unitary(op, angle, n)
        if generator is None:
            psi = (u * psi).applyfunc(sympy.expand)
        else:
            after = (u * after).applyfunc(sympy.expand)
    heisenberg = (after.H * obs * after).applyfunc(sympy.expand)
    return _trig_polynomial(generator, heisenberg, psi, symbol)
