"""Exact linear algebra over the rationals, and the logarithm of a rational: the one home of each.

Matrices are ``(d, d)`` object arrays of ``Fraction`` (:func:`exact_solve`, :func:`exact_inverse`,
:func:`exact_matmul`, :func:`exact_power`, :func:`psd_violation`) or lists of rows of ``Fraction``
(:func:`rref`, :func:`solve_unique`, :func:`nullspace`, for rectangular systems).  Shared by every
module that certifies results in exact arithmetic (validation, the engines, overthinking, scaling,
selection, Monte Carlo bookkeeping).
"""

from __future__ import annotations

import math
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


def exact_power(M: np.ndarray, k: int) -> np.ndarray:
    """``M^k`` exactly, by binary powering (``k >= 0``; ``M^0 = I``)."""
    out = exact_identity(M.shape[0])
    base = M
    while k:
        if k & 1:
            out = exact_matmul(out, base)
        k >>= 1
        if k:
            base = exact_matmul(base, base)
    return out


def rref(rows: list[list[Fraction]], ncols: int) -> tuple[list[list[Fraction]], list[int]]:
    """Reduced row echelon form (exact) of a list of rows; returns (rows, pivot columns)."""
    R = [list(r) for r in rows]
    pivots = []
    r = 0
    for c in range(ncols):
        p = next((i for i in range(r, len(R)) if R[i][c] != 0), None)
        if p is None:
            continue
        R[r], R[p] = R[p], R[r]
        piv = R[r][c]
        R[r] = [v / piv for v in R[r]]
        for i in range(len(R)):
            if i != r and R[i][c] != 0:
                f = R[i][c]
                R[i] = [a - f * bb for a, bb in zip(R[i], R[r])]
        pivots.append(c)
        r += 1
        if r == len(R):
            break
    return R, pivots


def solve_unique(A: list[list[Fraction]], rhs: list[Fraction]) -> list[Fraction] | None:
    """The unique solution of ``A x = rhs`` when the system is consistent with full column rank, else ``None``."""
    ncols = len(A[0])
    R, piv = rref([row + [v] for row, v in zip(A, rhs)], ncols + 1)
    if piv[-1:] == [ncols] or len(piv) < ncols:  # inconsistent, or a free variable
        return None
    return [R[i][ncols] for i in range(ncols)]


def nullspace(A: list[list[Fraction]], ncols: int) -> list[list[Fraction]]:
    """A basis of ``{v : A v = 0}`` (exact), one vector per free column of the RREF."""
    R, piv = rref(A, ncols)
    basis = []
    for free in (c for c in range(ncols) if c not in piv):
        v = [Fraction(0)] * ncols
        v[free] = Fraction(1)
        for i, c in enumerate(piv):
            v[c] = -R[i][free]
        basis.append(v)
    return basis


_LN2 = math.log(2)


def log_fraction(x, name: str = "x") -> float:
    """Natural logarithm of a positive rational of any size, to double precision.

    ``x = 2^e · μ`` with ``e`` from the bit lengths, so ``μ`` lies in ``(1/2, 2)`` and is rounded to a
    float once; ``log μ + e log 2`` is then accurate to a few ulps of the result whatever the size of
    the numerator and denominator; near ``x = 1``, ``log1p`` of the exactly computed ``x − 1`` keeps the
    relative accuracy of a small result.  (``log p − log q`` of two huge integers loses the digits of
    the difference: about ``ulp(log p)``, 10⁻¹³ absolute at 400 digits.)  ``ValueError`` naming ``name`` if
    ``x <= 0``.
    """
    x = Fraction(x)
    if x <= 0:
        raise ValueError(f"{name} must be positive, got {x}")
    if abs(x - 1) < Fraction(1, 2):
        # near 1 the log is small: log1p of the correctly rounded x − 1 keeps its relative accuracy
        return math.log1p(float(x - 1))
    e = x.numerator.bit_length() - x.denominator.bit_length()
    mantissa = float(x / Fraction(2) ** e) if e >= 0 else float(x * Fraction(2) ** -e)
    return math.log(mantissa) + e * _LN2


def log_or_minus_inf(x) -> float:
    """:func:`log_fraction`, with ``log 0 = −∞`` (``ValueError`` for a negative ``x``)."""
    return -math.inf if x == 0 else log_fraction(x)


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
