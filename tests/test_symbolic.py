"""Tests for qnncourse.symbolic: trig polynomials, exact shift rules, dense Lie closure."""

import numpy as np
import pytest
import qutip
import scipy.linalg
import sympy
from conftest import qutip_state

from qnncourse import symbolic
from qnncourse.circuit import Circuit
from qnncourse.symbolic import cost_polynomial, exact_closure, shift_rule, trig_polynomial

HALF = sympy.Rational(1, 2)


def test_two_term_rule_falls_out():
    rule = shift_rule([1])
    assert rule.shifts == (-sympy.pi / 2, sympy.pi / 2)
    assert rule.coefficients == (-HALF, HALF)
    assert rule.prove()


def test_four_term_rule_for_controlled_rotations():
    # Anselmetti et al. 2021: f'(0) = d+ [f(pi/2) - f(-pi/2)] - d- [f(3pi/2) - f(-3pi/2)]
    # with d+- = (sqrt2 +- 1) / (4 sqrt2), for the frequencies {1/2, 1} of C-R_P.
    rule = shift_rule([HALF, 1])
    pi = sympy.pi
    assert rule.shifts == (-3 * pi / 2, -pi / 2, pi / 2, 3 * pi / 2)
    d_plus = (sympy.sqrt(2) + 1) / (4 * sympy.sqrt(2))
    d_minus = (sympy.sqrt(2) - 1) / (4 * sympy.sqrt(2))
    expected = (d_minus, -d_plus, d_plus, -d_minus)
    assert all(sympy.simplify(c - e) == 0 for c, e in zip(rule.coefficients, expected, strict=True))
    assert rule.prove()


@pytest.mark.parametrize("freqs", [[1], [HALF, 1], [1, 2, 3], [1, 3], [0.5, 1.5], [2],
                                   [1, sympy.sqrt(2)]])
def test_rules_are_proved_and_differentiate_random_polynomials(freqs):
    rule = shift_rule(freqs)
    assert rule.prove()
    w = np.array([float(f) for f in rule.frequencies])
    rng = np.random.default_rng(7)
    a0, a, b = rng.normal(), rng.normal(size=w.size), rng.normal(size=w.size)

    def f(t):
        return a0 + np.sum(a * np.cos(w * t) + b * np.sin(w * t))

    for t in (0.0, 0.37, -2.1):
        exact = np.sum(w * (-a * np.sin(w * t) + b * np.cos(w * t)))
        assert rule.apply(f, t) == pytest.approx(exact, abs=1e-12)


def test_residual_of_generic_polynomial_is_identically_zero():
    assert shift_rule([1]).residual() == 0
    assert sympy.simplify(shift_rule([HALF, 1]).residual()) == 0


def test_a_wrong_rule_is_not_proved():
    rule = shift_rule([1, 2])
    broken = symbolic.ShiftRule(rule.frequencies, rule.shifts,
                                rule.coefficients[:-1] + (rule.coefficients[-1] * 2,))
    assert not broken.prove()
    # The two-term rule is not exact for frequency 2.
    assert not symbolic.ShiftRule((sympy.Integer(2),), (-sympy.pi / 2, sympy.pi / 2),
                                  (-HALF, HALF)).prove()


@pytest.mark.parametrize("freqs, message", [
    ([0], "frequency 0 is 0"),
    ([1, -2], "frequency 1 is -2"),
    ([], "frequencies is empty"),
    ([sympy.I], "frequencies must be positive real numbers"),
])
def test_bad_frequencies(freqs, message):
    with pytest.raises(ValueError, match=message):
        shift_rule(freqs)


def test_trig_polynomial_of_controlled_rotation_has_frequencies_half_and_one():
    # C-R_X: generator |1><1| (x) X / 2 has eigenvalues 0, 0, +-1/2.
    gen = np.kron(np.diag([0, 1]), np.array([[0, 1], [1, 0]])) / 2
    psi_exact = sympy.Matrix([1, 2 * sympy.I, -1, 3]) / sympy.sqrt(15)
    psi = np.array(psi_exact.evalf(), dtype=complex).ravel()
    obs = {"ZX": 0.7, "YI": -0.2, "XY": 1.0}
    poly = trig_polynomial(gen, obs, psi_exact)
    assert poly.frequencies == (HALF, 1)
    o = qutip.Qobj(symbolic.to_sympy(obs).evalf().tolist()).full().astype(complex)
    for t in (0.0, 0.9, 2.5):
        u = scipy.linalg.expm(-1j * t * gen)
        value = np.real(np.vdot(u @ psi, o @ (u @ psi)))
        assert poly(t) == pytest.approx(value, abs=1e-9)


def _circuit():
    return Circuit(2).ry(0).h(1).cnot(0, 1).rx(1).pauli_rotation("ZZ", (0, 1)).ry(0)


@pytest.mark.parametrize("index", [0, 1, 2, 3])
def test_cost_polynomial_matches_qutip(index):
    circuit = _circuit()
    obs = {"ZI": 1.0, "XX": 0.5}
    theta = np.array([0.3, -1.1, 0.7, 2.0])
    poly = cost_polynomial(circuit, obs, theta, index)
    assert poly.frequencies == (1,)
    o = qutip.tensor(qutip.sigmaz(), qutip.qeye(2)) + 0.5 * qutip.tensor(qutip.sigmax(),
                                                                         qutip.sigmax())
    for t in (0.0, 0.4, -2.2):
        th = theta.copy()
        th[index] = t
        assert poly(t) == pytest.approx(qutip.expect(o, qutip_state(circuit, th)), abs=1e-10)


def test_shift_rule_of_cost_polynomial_gives_its_exact_derivative():
    poly = cost_polynomial(_circuit(), "ZZ", [0.3, -1.1, 0.7, 2.0], 1)
    rule = shift_rule(poly.frequencies)
    x = poly.x
    derivative = sympy.diff(poly.expr, x)
    pairs = zip(rule.coefficients, rule.shifts, strict=True)
    shifted = sum(c * poly.expr.subs(x, x + s) for c, s in pairs)
    assert sympy.simplify(sympy.expand_trig(shifted - derivative)) == 0


def test_cost_polynomial_with_encoding():
    circuit = Circuit(1).encode("X", 0, feature=0, scale=2.0).ry(0)
    poly = cost_polynomial(circuit, "Z", [0.4], 0, x=[0.25])
    for t in (0.0, 1.3):
        assert poly(t) == pytest.approx(
            qutip.expect(qutip.sigmaz(), qutip_state(circuit, [t], x=[0.25])), abs=1e-12)


@pytest.mark.parametrize("kwargs, message", [
    ({"theta": [0.1, 0.2]}, "theta has 2 values, the circuit has 4 parameters"),
    ({"index": 4}, r"index must be in 0\.\.3, got 4"),
    ({"observable": "ZZZ"}, r"observable has shape \(8, 8\)"),
])
def test_cost_polynomial_bad_input(kwargs, message):
    args = {"circuit": _circuit(), "observable": "ZZ", "theta": [0.1] * 4, "index": 0}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        cost_polynomial(**args)


def test_cost_polynomial_rejects_shared_parameters():
    circuit = Circuit(2).rx(0)
    circuit.rx(1, param=0)
    with pytest.raises(ValueError, match="parameter 0 drives 2 rotations"):
        cost_polynomial(circuit, "ZZ", [0.1], 0)


@pytest.mark.parametrize("gens, dim", [
    (["X", "Z"], 3),
    (["XI", "IX", "ZZ"], 6),  # so(4)
    (["XI", "IX", "ZZ", "YI", "IY"], 15),  # su(4)
    ([np.diag([1.0, -1.0]), np.array([[0, 1], [1, 0]])], 3),
])
def test_exact_closure_known_dimensions(gens, dim):
    basis = exact_closure(gens)
    assert len(basis) == dim
    assert all(m == m.H for m in basis)


@pytest.mark.parametrize("gens, message", [
    ([np.array([[0, 1], [0, 0]])], "generator 0 is not Hermitian"),
    (["X", "XX"], r"generator 1 has shape \(4, 4\), generator 0 \(2, 2\)"),
    ([], "generators is empty"),
])
def test_exact_closure_bad_input(gens, message):
    with pytest.raises(ValueError, match=message):
        exact_closure(gens)


def test_trig_polynomial_rejects_non_hermitian_generator():
    with pytest.raises(ValueError, match="generator is not Hermitian"):
        trig_polynomial(np.array([[0, 1], [0, 0]]), "Z", [1, 0])
