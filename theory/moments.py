"""Fourth moments of Gaussian sample covariances: the Wishart/Isserlis lemma behind Γ.

Notation (arXiv 2510.03605; proofs/math.md §3):

* ``x_a ~ N(0, Λ)`` i.i.d. in R^d, ``a = 1..m``; ``S = (1/m) Σ_a x_a x_aᵀ`` (so ``mS ~ W_d(m, Λ)``);
* ``A`` any ``d × d`` matrix (not necessarily symmetric);
* the lemma ``E[S A S] = ΛAΛ + (1/m)(ΛAᵀΛ + tr(AΛ)Λ)``;
* its corollary, with ``A = I`` and ``m = n``: ``E[Ŝ_n²] = ΓΛ``, ``Γ = (1 + 1/n)Λ + (tr Λ / n) I``.

Two routes: symbolic derivations (:func:`derive_wishart_sas` with explicit symbolic entries,
:func:`derive_wishart_sas_index` in index form for general ``d``) that return their steps as
``(description, sympy expression)`` pairs, and a seeded Monte Carlo estimate
(:func:`monte_carlo_sas`) with standard errors.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixExpr

from theory._validate import as_covariance, float_range_error, positive_int, seed_value, square_matrix


class DerivationStep(NamedTuple):
    """One step of a derivation: what was done, and the sympy expression it produced."""

    description: str
    expr: sp.Basic | sp.MatrixBase


def is_zero(expr) -> bool:
    """True iff a sympy result is exactly zero: the number 0, a ZeroMatrix, or an all-zero Matrix."""
    if isinstance(expr, sp.MatrixBase):
        return all(sp.S(v) == 0 for v in expr)
    if isinstance(expr, sp.ZeroMatrix):
        return True
    return sp.S(expr) == 0


def wishart_sas(cov, A, m) -> np.ndarray:
    r"""Exact ``E[S A S]`` for the sample covariance of ``m`` Gaussian vectors.

    .. math::
        \mathbb E[S A S] = \Lambda A \Lambda
            + \frac{1}{m}\left(\Lambda A^\top \Lambda + \operatorname{tr}(A\Lambda)\,\Lambda\right),
        \qquad S = \frac1m \sum_{a=1}^m x_a x_a^\top,\ x_a \sim N(0, \Lambda)

    The moment lemma behind Γ (proofs/math.md §3; used for Theorem 3.1 of the paper).

    Parameters
    ----------
    cov : array_like
        Λ, ``(d, d)`` symmetric PSD (1-D: eigenvalues of a diagonal Λ).
    A : array_like, shape (d, d)
        Any real matrix.
    m : int
        Number of samples, ``m >= 1``.
    """
    lam = as_covariance(cov, "cov")
    A = square_matrix(A, lam.shape[0], "A")
    m = positive_int(m, "m")
    # E[S A S] is bilinear in (Λ, Λ) and linear in A: evaluate at Λ/s, A/a and scale back by s² a,
    # so that no intermediate leaves the float range before the result itself does.
    s, a = _scale(lam), _scale(A)
    lam_s, A_s = lam / s, A / a
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        out = (lam_s @ A_s @ lam_s + (lam_s @ A_s.T @ lam_s + np.trace(A_s @ lam_s) * lam_s) / m) * s * s * a
    if not np.all(np.isfinite(out)):
        raise float_range_error("wishart_sas (E[S A S] scales as |cov|^2 |A|)", cov=lam, A=A)
    return out


def _scale(M: np.ndarray) -> float:
    """The power of two nearest above ``max|M|`` (1 for the zero matrix): dividing by it is exact."""
    s = float(np.max(np.abs(M)))
    return float(np.ldexp(1.0, int(np.frexp(s)[1]))) if s > 0 else 1.0


def wishart_sas_symbolic(Lam: sp.Matrix, A: sp.Matrix, m) -> sp.Matrix:
    """The closed form of :func:`wishart_sas` for sympy matrices (entries may be symbols)."""
    Lam, A = sp.Matrix(Lam), sp.Matrix(A)
    if Lam.shape != A.shape or Lam.shape[0] != Lam.shape[1]:
        raise ValueError(f"Lam and A must be square of the same shape, got {Lam.shape} and {A.shape}")
    return Lam * A * Lam + (Lam * A.T * Lam + (A * Lam).trace() * Lam) / m


def symbolic_covariance(d: int, name: str = "lambda") -> sp.Matrix:
    """A symmetric ``d × d`` sympy matrix of independent symbols ``lambda_ij`` (i <= j)."""
    d = positive_int(d, "d")
    syms = {(i, j): sp.Symbol(f"{name}_{i}{j}", real=True) for i in range(d) for j in range(i, d)}
    return sp.Matrix(d, d, lambda i, j: syms[(min(i, j), max(i, j))])


def symbolic_matrix(d: int, name: str = "a") -> sp.Matrix:
    """A general ``d × d`` sympy matrix of independent real symbols ``a_ij``."""
    d = positive_int(d, "d")
    return sp.Matrix(d, d, lambda i, j: sp.Symbol(f"{name}_{i}{j}", real=True))


@lru_cache(maxsize=8)
def _gaussian_moments(d: int):
    """Second and fourth moments of ``N(0, Λ)`` with symbolic Λ, by differentiating the MGF.

    ``E[x_i x_j x_k x_l] = ∂⁴/∂t_i∂t_j∂t_k∂t_l exp(½ tᵀΛt)`` at ``t = 0``: this is the independent
    source of Isserlis' formula (nothing about pairings is assumed).  Only the degree-p term
    ``q^{p/2} / (p/2)!`` of the exponential series, ``q = ½ tᵀΛt``, survives a p-th derivative at
    ``t = 0``, so the polynomial is differentiated instead of the exponential (same numbers, faster).
    """
    lam = symbolic_covariance(d)
    t = sp.symbols(f"t0:{d}", real=True)
    tv = sp.Matrix(t)
    q = sp.expand((tv.T * lam * tv)[0, 0] / 2)
    quartic = sp.expand(q**2 / 2)
    second = sp.Matrix(d, d, lambda i, j: sp.expand(sp.diff(q, t[i], t[j])))
    fourth = {idx: sp.expand(sp.diff(quartic, *(t[i] for i in idx)))
              for idx in itertools.combinations_with_replacement(range(d), 4)}
    return lam, second, fourth


def isserlis_fourth(Lam, i: int, j: int, k: int, l: int):
    r"""Isserlis' (Wick's) formula for a centred Gaussian vector with covariance Λ.

    .. math:: \mathbb E[x_i x_j x_k x_l] = \Lambda_{ij}\Lambda_{kl} + \Lambda_{ik}\Lambda_{jl}
              + \Lambda_{il}\Lambda_{jk}
    """
    return Lam[i, j] * Lam[k, l] + Lam[i, k] * Lam[j, l] + Lam[i, l] * Lam[j, k]


def derive_wishart_sas(d: int) -> list[DerivationStep]:
    r"""Derive ``E[S A S]`` with fully symbolic entries of Λ (symmetric) and A (general).

    .. math::
        \mathbb E[S A S] = \frac{1}{m^2}\Big(\underbrace{m\,\mathbb E[x x^\top A x x^\top]}_{a = b}
            + \underbrace{m(m-1)\,\Lambda A \Lambda}_{a \ne b}\Big)
            = \Lambda A\Lambda + \tfrac1m\left(\Lambda A^\top\Lambda + \operatorname{tr}(A\Lambda)\Lambda\right)

    The fourth moments come from differentiating the Gaussian moment generating function, so
    Isserlis' formula is itself checked, not assumed. The last step is the entrywise difference
    between the derived matrix and the closed form, simplified; it is the zero matrix exactly
    when the lemma holds.

    Returns
    -------
    list of DerivationStep
        ``(description, sympy expression)`` pairs, in order.
    """
    d = positive_int(d, "d")
    lam, second, fourth = _gaussian_moments(d)
    A = symbolic_matrix(d)
    m = sp.Symbol("m", positive=True, integer=True)

    def mu4(*idx):
        return fourth[tuple(sorted(idx))]

    isserlis_gap = sp.Matrix(len(fourth), 1, [sp.expand(v - isserlis_fourth(lam, *idx))
                                               for idx, v in fourth.items()])
    same = sp.Matrix(d, d, lambda i, l: sp.expand(sum(A[j, k] * mu4(i, j, k, l)
                                                       for j in range(d) for k in range(d))))
    distinct = sp.expand(second * A * second)
    combined = (m * same + m * (m - 1) * distinct) / m**2
    closed = wishart_sas_symbolic(lam, A, m)
    difference = sp.expand(combined - closed)  # polynomials in the entries and 1/m: expand is canonical
    return [
        DerivationStep("Λ: symmetric covariance with independent symbolic entries", lam),
        DerivationStep("A: general (non-symmetric) matrix with independent symbolic entries", A),
        DerivationStep("E[x xᵀ] = ∂²/∂t∂tᵀ exp(½ tᵀΛt) at t = 0 (equals Λ)", second),
        DerivationStep("Isserlis check: E[x_i x_j x_k x_l] from the MGF minus "
                       "(Λ_ij Λ_kl + Λ_ik Λ_jl + Λ_il Λ_jk), over all index multisets", isserlis_gap),
        DerivationStep("S A S = m⁻² Σ_{a,b} x_a x_aᵀ A x_b x_bᵀ; the m terms with a = b: "
                       "E[x xᵀ A x xᵀ]_{il} = Σ_{jk} A_jk E[x_i x_j x_k x_l]", same),
        DerivationStep("Single-vector Isserlis identity: E[x xᵀ A x xᵀ] − (ΛAΛ + ΛAᵀΛ + tr(AΛ)Λ)",
                       sp.expand(same - (lam * A * lam + lam * A.T * lam + (A * lam).trace() * lam))),
        DerivationStep("The m(m−1) terms with a ≠ b: independence gives E[x_a x_aᵀ] A E[x_b x_bᵀ] = ΛAΛ",
                       distinct),
        DerivationStep("E[S A S] = (m · E[x xᵀ A x xᵀ] + m(m−1) ΛAΛ) / m²", combined),
        DerivationStep("Closed form ΛAΛ + (ΛAᵀΛ + tr(AΛ)Λ)/m", closed),
        DerivationStep("Derived minus closed form, simplified (zero matrix ⇔ lemma holds)", difference),
    ]


def derive_wishart_sas_index() -> list[DerivationStep]:
    r"""Index-form derivation of the lemma for general (symbolic) ``d`` and ``m``.

    .. math::
        [S A S]_{il} = \frac{1}{m^2}\sum_{a,b}\sum_{j,k} x_{ai}x_{aj}A_{jk}x_{bk}x_{bl},\qquad
        \mathbb E[x_{ai}x_{aj}x_{bk}x_{bl}] = \Lambda_{ij}\Lambda_{kl}
            + \delta_{ab}(\Lambda_{ik}\Lambda_{jl} + \Lambda_{il}\Lambda_{jk})

    Each index sum is turned back into matrix form by sympy
    (``MatrixExpr.from_index_summation``), so the three terms ``ΛAΛ``, ``ΛAᵀΛ`` and
    ``tr(AΛ)Λ`` are computed rather than asserted.
    """
    d, m = sp.symbols("d m", positive=True, integer=True)
    i, j, k, l, a, b = sp.symbols("i j k l a b", integer=True)
    Lam = sp.MatrixSymbol("Lambda", d, d)
    A = sp.MatrixSymbol("A", d, d)
    x = sp.IndexedBase("x")
    jk = ((j, 0, d - 1), (k, 0, d - 1))
    entry = sp.Sum(x[a, i] * x[a, j] * A[j, k] * x[b, k] * x[b, l], (a, 1, m), (b, 1, m), *jk) / m**2
    pair_same = Lam[i, j] * Lam[k, l] + Lam[i, k] * Lam[j, l] + Lam[i, l] * Lam[j, k]
    pair_distinct = Lam[i, j] * Lam[k, l]
    T1, T2, T3 = (sp.Sum(A[j, k] * t, *jk) for t in
                  (Lam[i, j] * Lam[k, l], Lam[i, k] * Lam[j, l], Lam[i, l] * Lam[j, k]))
    t1, t2, t3 = sp.symbols("T1 T2 T3")
    combined = sp.simplify((m * (t1 + t2 + t3) + m * (m - 1) * t1) / m**2)
    as_matrix = [sp.refine(MatrixExpr.from_index_summation(T, i, l), sp.Q.symmetric(Lam))
                 for T in (T1, T2, T3)]
    # the combination is linear in T1, T2, T3: its coefficients multiply the matrix forms
    result = sp.Add(*(sp.expand(combined.diff(t)) * M for t, M in zip((t1, t2, t3), as_matrix)))
    return [
        DerivationStep("Entry (i, l) of S A S, with S = m⁻¹ Σ_a x_a x_aᵀ", entry),
        DerivationStep("Isserlis, a = b (m pairs (a, b)): E[x_ai x_aj x_ak x_al]", pair_same),
        DerivationStep("Independence, a ≠ b (m(m−1) pairs): E[x_ai x_aj] E[x_bk x_bl]", pair_distinct),
        DerivationStep("The three contractions with A_jk: T1, T2, T3", sp.Tuple(T1, T2, T3)),
        DerivationStep("Count the pairs: (m(T1 + T2 + T3) + m(m−1) T1) / m²", combined),
        DerivationStep("Back to matrix form: T1 = ΛAΛ, T2 = ΛAᵀΛ, T3 = tr(AΛ)Λ", sp.Tuple(*as_matrix)),
        DerivationStep("E[S A S]", result),
    ]


def derive_gamma_corollary() -> list[DerivationStep]:
    r"""Corollary of the lemma for general ``d``: ``E[Ŝ_n²] = ΓΛ``.

    .. math:: \mathbb E[\hat S_n^2] = \Lambda^2 + \tfrac1n(\Lambda^2 + \operatorname{tr}(\Lambda)\Lambda)
              = \Big(\big(1 + \tfrac1n\big)\Lambda + \tfrac{\operatorname{tr}\Lambda}{n} I\Big)\Lambda = \Gamma\Lambda
    """
    d, n = sp.symbols("d n", positive=True, integer=True)
    Lam = sp.MatrixSymbol("Lambda", d, d)
    eye = sp.Identity(d)
    lemma_at_identity = Lam * eye * Lam + (Lam * eye.T * Lam + sp.Trace(eye * Lam) * Lam) / n
    Gamma = (1 + 1 / n) * Lam + sp.Trace(Lam) / n * eye
    difference = sp.expand((lemma_at_identity - Gamma * Lam).doit())
    return [
        DerivationStep("The lemma at A = I, m = n", lemma_at_identity),
        DerivationStep("Γ", Gamma),
        DerivationStep("E[Ŝ_n²] − ΓΛ, expanded (zero ⇔ corollary holds)", difference),
    ]


@dataclass(frozen=True)
class MonteCarloMoment:
    """A Monte Carlo estimate of a matrix-valued expectation, entrywise.

    ``mean`` and ``stderr`` are ``(d, d)``; ``stderr`` is the sample standard deviation over
    ``sqrt(samples)``.  ``z_scores(exact)`` gives ``(mean − exact) / stderr``.
    """

    mean: np.ndarray
    stderr: np.ndarray
    samples: int

    def z_scores(self, exact) -> np.ndarray:
        return (self.mean - np.asarray(exact, dtype=float)) / self.stderr


def _covariance_root(lam: np.ndarray) -> np.ndarray:
    """R with R Rᵀ = Λ, through the eigendecomposition (works for singular Λ too)."""
    eig, vecs = np.linalg.eigh(lam)
    return vecs * np.sqrt(np.clip(eig, 0.0, None))


def monte_carlo_sas(cov, A, m, samples, seed, chunk: int = 20_000) -> MonteCarloMoment:
    r"""Seeded Monte Carlo estimate of ``E[S A S]`` (independent route to :func:`wishart_sas`).

    .. math:: \widehat{\mathbb E}[S A S] = \frac1N \sum_{r=1}^N S_r A S_r,\quad
              S_r = \frac1m X_r X_r^\top,\ X_r \in \mathbb R^{d\times m},\ \text{columns} \sim N(0,\Lambda)

    Parameters
    ----------
    cov, A, m
        As in :func:`wishart_sas`.
    samples : int
        Number of independent draws of ``S``.
    seed : int or numpy.random.SeedSequence
        Root of the random stream (no global state is touched).
    chunk : int
        Draws per vectorised batch (memory bound only; the estimate does not depend on it
        beyond floating-point summation order).
    """
    lam = as_covariance(cov, "cov")
    d = lam.shape[0]
    A = square_matrix(A, d, "A")
    m = positive_int(m, "m")
    samples = positive_int(samples, "samples", minimum=2)
    chunk = positive_int(chunk, "chunk")
    rng = np.random.default_rng(seed_value(seed))
    # Draw with Λ/s and A/a and scale the moments back by s² a (see wishart_sas): the squares
    # summed for the standard error stay in range whenever the estimate itself does.
    s, a = _scale(lam), _scale(A)
    lam, A = lam / s, A / a
    root = _covariance_root(lam)
    total = np.zeros((d, d))
    total_sq = np.zeros((d, d))
    done = 0
    while done < samples:
        size = min(chunk, samples - done)
        X = np.einsum("ij,rjm->rim", root, rng.standard_normal((size, d, m)))
        S = X @ X.transpose(0, 2, 1) / m
        SAS = S @ A @ S
        total += SAS.sum(axis=0)
        total_sq += np.einsum("rij,rij->ij", SAS, SAS)
        done += size
    mean = total / samples
    var = (total_sq - samples * mean**2) / (samples - 1)
    stderr = np.sqrt(np.clip(var, 0.0, None) / samples)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        mean, stderr = mean * (s * s * a), stderr * (s * s * a)
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(stderr))):
        raise float_range_error("monte_carlo_sas (E[S A S] scales as |cov|^2 |A|)", cov=lam * s, A=A * a)
    return MonteCarloMoment(mean=mean, stderr=stderr, samples=samples)
