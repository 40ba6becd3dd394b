"""Dynamical Lie algebras (DLAs) of parameterised circuits.

The DLA of a circuit whose gates are :math:`e^{-i\\theta_l H_l/2}` is the real Lie algebra

.. math::

    \\mathfrak{g} = \\langle iH_1, \\dots, iH_L\\rangle_{\\mathrm{Lie}}
    = \\operatorname{span}_{\\mathbb{R}}\\{iH_l,\\ [iH_j, iH_k],\\ [iH_j, [iH_k, iH_l]], \\dots\\},

(Larocca et al., *Nat. Comput. Sci.* 3, 542 (2023), doi:10.1038/s43588-023-00467-6). We store
its elements by their Hermitian parts :math:`H` (so the bracket is :math:`i[A, B]`) as real
combinations of Pauli strings.

Two exact algorithms, chosen automatically:

* **Pauli strings only.** The bracket of two Pauli strings is :math:`\\pm 2` times a Pauli string
  or zero, so the DLA is spanned by the Pauli strings reached and no linear algebra is needed.
  A Pauli string is stored as its binary symplectic form, the bit vectors :math:`(x, z)` packed
  into one Python integer; two strings anticommute iff the symplectic product
  :math:`x_a \\cdot z_b + z_a \\cdot x_b` is odd.
* **Sums of Pauli strings.** Elements are sparse vectors over Pauli labels with
  :class:`fractions.Fraction` coefficients, and linear independence is decided by exact row
  reduction over :math:`\\mathbb{Q}`. Floating-point Gram–Schmidt is known to give wrong
  dimensions here (PennyLane issues 6018, 6065). Float coefficients are read as the decimal
  number their ``repr`` shows (``0.1`` is :math:`1/10`), which is exact for every coefficient a
  person types.

Both run the breadth-first closure that brackets only *new* elements with the generators
(PennyLane issue 6414): the span :math:`W` it returns contains the generators and satisfies
:math:`[H_l, W] \\subseteq W`, so it contains every left-normed bracket
:math:`[H_{j_1}, [H_{j_2}, [\\dots, H_{j_k}]]]`, and those span the Lie algebra.

The package: :mod:`~qnncourse.lie.generators` reads generators, :mod:`~qnncourse.lie.closure`
computes the algebra, :mod:`~qnncourse.lie.decomposition` splits it.

:func:`decompose` splits a DLA into its centre and simple ideals and :func:`purity` measures
how much of an observable lies in each: the quantities of the Lie-algebraic theory of barren
plateaus (Ragone et al. 2024; Fontana et al. 2024).
"""

from qnncourse.lie.closure import Ideal, LieAlgebra, closure, dimension
from qnncourse.lie.decomposition import Decomposition, decompose, purity

__all__ = [
    "Decomposition",
    "Ideal",
    "LieAlgebra",
    "closure",
    "decompose",
    "dimension",
    "purity",
]
