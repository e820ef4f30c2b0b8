"""Exact linear algebra over the rationals, on ``(d, d)`` object arrays of ``Fraction``.

Shared by the modules that certify results in exact arithmetic (overthinking, scaling, selection).
"""

from __future__ import annotations

from fractions import Fraction
from math import gcd

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


def psd_violation(A) -> str | None:
    r"""Decide exactly whether a symmetric rational matrix is positive semi-definite.

    ``None`` when it is; otherwise a sentence saying why not.  Symmetric Gaussian elimination with
    diagonal pivoting, fraction-free (Bareiss) on the integer matrix ``c A`` (``c > 0`` the common
    denominator): after pivoting on positive diagonal entries only, each remaining entry is a
    Schur-complement entry times a positive leading principal minor, so signs are those of the
    Schur complement.  ``A`` is PSD iff at every step either some remaining diagonal entry is
    positive (pivot on it), or all are zero and so is the whole remaining block (a PSD matrix with a
    zero diagonal entry has a zero row there).  A negative remaining diagonal entry, or a zero one
    with a nonzero entry in its row, is a certificate of indefiniteness.

    .. math:: A \succeq 0 \iff A_{11} > 0 \text{ and } A_{22} - A_{21}A_{11}^{-1}A_{12} \succeq 0,
              \text{ or } A_{11} = 0 \text{ and } A_{12} = 0 \text{ and } A_{22} \succeq 0

    ``A`` is a ``(d, d)`` array or nested list of ``Fraction``/int, assumed symmetric.
    """
    rows = [[Fraction(v) for v in row] for row in A]
    d = len(rows)
    denom = 1
    for row in rows:
        for v in row:
            denom = denom * v.denominator // gcd(denom, v.denominator)
    M = [[int(v * denom) for v in row] for row in rows]
    idx = list(range(d))      # original index of each remaining row/column
    prev = 1
    for k in range(d):
        diag = [M[i][i] for i in range(k, d)]
        if min(diag) < 0:
            i = k + diag.index(min(diag))
            return f"{_after(idx[:k])}diagonal entry at index {idx[i]} is negative"
        if max(diag) == 0:
            for i in range(k, d):
                for j in range(k, d):
                    if M[i][j] != 0:
                        return (f"{_after(idx[:k])}diagonal entry at index {idx[i]} is zero but its "
                                f"row is not")
            return None
        p = k + diag.index(max(diag))
        M[k], M[p] = M[p], M[k]
        for row in M:
            row[k], row[p] = row[p], row[k]
        idx[k], idx[p] = idx[p], idx[k]
        piv = M[k][k]
        for i in range(k + 1, d):
            f = M[i][k]
            Mi = M[i]
            if f == 0:
                for j in range(k + 1, d):
                    Mi[j] = piv * Mi[j] // prev
            else:
                Mk = M[k]
                for j in range(k + 1, d):
                    Mi[j] = (piv * Mi[j] - f * Mk[j]) // prev
        prev = piv
    return None


def _after(eliminated: list) -> str:
    return f"after eliminating indices {eliminated} (positive pivots), the " if eliminated else "the "
