"""Seeded families of exact test instances shared by several claims.

Each function draws from a ``numpy.random.Generator`` the caller seeds (``SeedSequence`` roots are
stated in the claim modules), so every instance a ledger number comes from can be regenerated.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from theory.scaling import rational_orthogonal


def random_spectrum(rng: np.random.Generator, d: int) -> list[Fraction]:
    """Positive rationals ``p/q`` spread over six orders of magnitude (repeats allowed)."""
    scale = [Fraction(10) ** int(e) for e in rng.integers(-3, 4, size=d)]
    return [Fraction(int(p), int(q)) * s
            for p, q, s in zip(rng.integers(1, 1000, size=d), rng.integers(1, 1000, size=d), scale)]


def random_skew(rng: np.random.Generator, d: int) -> list[list[Fraction]]:
    """A skew-symmetric matrix with small rational entries (its Cayley transform is a rotation)."""
    K = [[Fraction(0)] * d for _ in range(d)]
    for i in range(d):
        for j in range(i + 1, d):
            K[i][j] = Fraction(int(rng.integers(-4, 5)), int(rng.integers(1, 4)))
            K[j][i] = -K[i][j]
    return K


def rotated(eigs, skew) -> np.ndarray:
    """``Q diag(eigs) Qᵀ`` with ``Q`` the Cayley rotation of ``skew`` (exact object array)."""
    Q = rational_orthogonal(skew)
    d = len(eigs)
    return np.array([[sum((Q[i, t] * eigs[t] * Q[j, t] for t in range(d)), Fraction(0))
                      for j in range(d)] for i in range(d)], dtype=object)
