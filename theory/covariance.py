"""Covariance-level quantities: Γ and task hardness.

Notation (arXiv 2510.03605, poster):

* ``Λ`` training feature covariance (``train_cov``), ``n`` training prompt length;
* ``Γ = (1 + 1/n) Λ + (tr Λ / n) I``;
* ``Hard(Λ) = tr Λ / λ_min(Λ)``.
"""

from __future__ import annotations

import numbers
from fractions import Fraction

import numpy as np

from theory._validate import as_covariance, as_exact_covariance, positive_int


def gamma(train_cov, n) -> np.ndarray:
    r"""Γ of the trained LSA model.

    .. math:: \Gamma = \left(1 + \tfrac{1}{n}\right)\Lambda + \tfrac{\operatorname{tr}\Lambda}{n} I_d

    Parameters
    ----------
    train_cov : array_like
        Training covariance Λ, ``(d, d)`` symmetric PSD, or 1-D eigenvalues.
    n : int
        Training prompt length, ``n >= 1``.

    Returns
    -------
    numpy.ndarray
        Γ as float64, ``(d, d)``. Positive definite whenever Λ is nonzero.
    """
    lam = as_covariance(train_cov, "train_cov")
    n = positive_int(n, "n")
    if not np.any(lam):
        raise ValueError("train_cov must be nonzero: with Λ = 0, Γ = 0 is singular")
    d = lam.shape[0]
    return (1 + 1 / n) * lam + (np.trace(lam) / n) * np.eye(d)


def gamma_eigenvalues(eigs, n, trace=None) -> list:
    """Γ's eigenvalues ``(1 + 1/n)λ_i + tr Λ/n`` from Λ's, in whatever arithmetic the inputs carry.

    The one formula behind the spectral routes (exact rationals, sympy symbols, floats); ``trace``
    stands in for ``Σ λ_i`` where a derivation keeps it as a symbol.
    """
    total = sum(eigs) if trace is None else trace
    inv_n = Fraction(1, n) if isinstance(n, numbers.Integral) else 1 / n  # exact for an int n
    return [(1 + inv_n) * lam + total * inv_n for lam in eigs]


def gamma_exact(train_cov, n) -> np.ndarray:
    """Γ as a ``(d, d)`` object array of ``Fraction`` (floats are converted exactly)."""
    lam = as_exact_covariance(train_cov, "train_cov")
    n = positive_int(n, "n")
    if all(v == 0 for v in lam.flat):
        raise ValueError("train_cov must be nonzero: with Λ = 0, Γ = 0 is singular")
    d = lam.shape[0]
    tr = sum(lam[i, i] for i in range(d))
    out = lam * Fraction(n + 1, n)
    for i in range(d):
        out[i, i] += tr / n
    return out


def hardness(cov) -> float:
    r"""Task hardness.

    .. math:: \operatorname{Hard}(\Lambda) = \frac{\operatorname{tr}\Lambda}{\lambda_{\min}(\Lambda)}

    Scale invariant, ``>= d`` with equality iff Λ ∝ I. A singular Λ (λ_min = 0) has hardness
    ``inf``: some direction carries no signal at all. Λ = 0 raises ``ValueError``.
    """
    lam = as_covariance(cov, "cov")
    eig = np.linalg.eigvalsh(lam)
    if eig[-1] <= 0:
        raise ValueError("cov must be nonzero to have a hardness")
    lam_min = eig[0]
    if lam_min <= 1e-14 * eig[-1]:
        return float("inf")
    return float(np.trace(lam) / lam_min)
