"""Exact linear algebra over the rationals, on ``(d, d)`` object arrays of ``Fraction``.

Shared by the modules that certify results in exact arithmetic (overthinking, scaling, selection).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np


def exact_solve(A: np.ndarray, B: np.ndarray, name: str = "matrix") -> np.ndarray:
    """``A^{-1} B`` by Gauss–Jordan elimination; ``ValueError`` naming ``name`` if ``A`` is singular."""
    d = A.shape[0]
    aug = [list(A[i]) + list(B[i]) for i in range(d)]
    for col in range(d):
        piv = next((r for r in range(col, d) if aug[r][col] != 0), None)
        if piv is None:
            raise ValueError(f"{name} is singular")
        aug[col], aug[piv] = aug[piv], aug[col]
        inv = 1 / aug[col][col]
        aug[col] = [v * inv for v in aug[col]]
        for r in range(d):
            if r != col and aug[r][col] != 0:
                f = aug[r][col]
                aug[r] = [a - f * b for a, b in zip(aug[r], aug[col])]
    out = np.empty(B.shape, dtype=object)
    for i in range(d):
        out[i] = aug[i][d:]
    return out


def exact_identity(d: int) -> np.ndarray:
    out = np.empty((d, d), dtype=object)
    for i in range(d):
        for j in range(d):
            out[i, j] = Fraction(int(i == j))
    return out


def exact_inverse(A: np.ndarray, name: str = "matrix") -> np.ndarray:
    """``A^{-1}`` exactly; ``ValueError`` naming ``name`` if ``A`` is singular."""
    return exact_solve(A, exact_identity(A.shape[0]), name)


def exact_matmul(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``A B`` for object arrays of ``Fraction``."""
    d, e, f = A.shape[0], A.shape[1], B.shape[1]
    out = np.empty((d, f), dtype=object)
    for i in range(d):
        for j in range(f):
            out[i, j] = sum((A[i, t] * B[t, j] for t in range(e)), Fraction(0))
    return out
