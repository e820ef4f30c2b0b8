r"""Bounds and derived quantities of Section 3: Theorem 3.3, hardness, Corollary 3.5, trade-off.

Notation (arXiv 2510.03605; proofs/math.md §2, §3, §5 and §8 to §12):

* ``Λ`` training covariance (``train_cov``) with eigenvalues ``λ_i``, ``T = tr Λ``, ``Σ`` test
  covariance (``test_cov``, default ``Λ``), ``n`` and ``m`` the training and test prompt lengths;
* ``Γ = (1 + 1/n) Λ + (T/n) I``, ``A = Γ^{-1}``, ``Hard = Hard(Λ) = T / λ_min``;
* ``k`` counts LSA forward passes (``w_0 = 0``; ``k = 1`` is direct ICL), ``err_k = E‖w_k − w‖²``
  with ``w ~ N(0, I)``, so ``err_k = E‖(I − AŜ_m)^k‖_F²``; the paper's ``w_{k+1}`` "after k steps"
  is our ``w_k``, so the paper's number of steps equals our ``k``;
* at ``Σ = Λ`` the ``m = ∞`` iteration contracts eigen-direction ``i`` by
  ``f_i = 1 − λ_i/γ_i = (1 + nλ_i/(λ_i + T))^{-1}``; the slowest is ``f = (1 + n/(1 + Hard))^{-1}``.

The results:

* Theorem 3.3: ``err_1 = c_0 + c_1/m`` exactly, with ``c_0 <= (d/n²)(1 + Hard)²`` and
  ``c_1 <= d(1 + Hard)`` term by term (:func:`thm33_terms`, :func:`derive_thm33`).
* Corollary 3.5: ``err_k(m = ∞) = Σ_i f_i^{2k} <= d f^{2k}`` exactly; at fixed ``k``,
  ``err_k(m) = err_k(∞) + O(1/m)``; for every finite ``m``, ``err_k → ∞`` faster than any
  exponential (:func:`divergence_log_lower_bound`), so an optimal number of steps exists
  (:func:`optimal_steps`).
* Trade-off: the smallest ``n`` reaching an error ``ε`` (:func:`n_min`) against the Cor 3.5 formula
  ``n_min(k, ε) = (1 + Hard)((d/ε)^{1/(2k)} − 1)`` (:func:`n_min_cor35`), and the fewest steps
  (:func:`k_min`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy as sp

from theory._exact import exact_inverse, exact_matmul, log_fraction, log_or_minus_inf
from theory._repr import RichRepr
from theory._validate import as_covariance, as_exact_covariance, positive_float, positive_int, same_dimension
from theory.covariance import gamma, gamma_exact, hardness
from theory.moments import DerivationStep, wishart_sas_symbolic

# float64 overflows beyond exp(709.78); log-errors above this are reported as log values only.
_LOG_FLOAT_MAX = math.log(np.finfo(float).max)


# ----------------------------------------------------------------------------- input helpers

def _optional_m(m):
    return None if m is None else positive_int(m, "m")


def _diagonal_eigenvalues(train_cov, name: str = "train_cov") -> list[Fraction]:
    """Exact eigenvalues of a diagonal Λ (1-D input or a diagonal matrix), all required > 0."""
    lam = as_exact_covariance(train_cov, name)
    d = lam.shape[0]
    if any(lam[i, j] != 0 for i in range(d) for j in range(d) if i != j):
        raise ValueError(f"{name} must be diagonal (or 1-D eigenvalues) for exact hardness: the "
                         f"error at Σ = Λ depends on Λ only through its spectrum, so pass the "
                         f"eigenvalues")
    eig = [lam[i, i] for i in range(d)]
    if min(eig) <= 0:
        raise ValueError(f"{name} must be positive definite (λ_min > 0) for Hard(Λ) to be finite, "
                         f"got λ_min = {min(eig)}")
    return eig



def _hardness(lam: np.ndarray, name: str = "train_cov") -> float:
    """:func:`theory.covariance.hardness` of a validated Λ, with a zero Λ reported under ``name``."""
    if not np.any(lam):
        raise ValueError(f"{name} must be nonzero to have a hardness (Λ = 0 has no λ_min > 0)")
    return hardness(lam)


def _finite_or_inf(log_value: float) -> float:
    return math.exp(log_value) if log_value < _LOG_FLOAT_MAX else math.inf


# ----------------------------------------------------------------------------- Theorem 3.3

def k1_error_coefficients(train_cov, n, *, test_cov=None) -> tuple[Fraction, Fraction]:
    r"""Exact coefficients of the direct-ICL error ``err_1 = c_0 + c_1/m`` (degree 1 in ``1/m``).

    .. math::
        \mathrm{err}_1 = \mathbb E\,\|(I - A\hat S_m)w\|^2
          = d - 2\operatorname{tr}(A\Sigma) + \operatorname{tr}\mathbb E[\hat S_m A^2 \hat S_m],
        \qquad
        c_0 = \|I - A\Sigma\|_F^2,\quad
        c_1 = \|A\Sigma\|_F^2 + \operatorname{tr}(A\Sigma A)\operatorname{tr}\Sigma

    from the Wishart lemma ``E[SBS] = ΣBΣ + (1/m)(ΣBᵀΣ + tr(BΣ)Σ)`` with ``B = A²`` (proofs/math.md §3);
    the error of Theorem 3.3 of the paper. Exact for any rational (or float, converted exactly)
    symmetric ``Λ`` and ``Σ``, diagonal or not.

    Returns
    -------
    (c_0, c_1) : pair of Fraction
    """
    G = gamma_exact(train_cov, n)
    sig = as_exact_covariance(train_cov if test_cov is None else test_cov,
                              "train_cov" if test_cov is None else "test_cov")
    same_dimension(G, sig, "train_cov", "test_cov")
    d = G.shape[0]
    A = exact_inverse(G)
    A_sigma = exact_matmul(A, sig)
    c0 = sum(((int(i == j) - A_sigma[i, j]) ** 2 for i in range(d) for j in range(d)), Fraction(0))
    frob = sum((v * v for v in A_sigma.flat), Fraction(0))
    # tr(AΣA) = Σ_ij (AΣ)_ij A_ji
    tr_asa = sum((A_sigma[i, j] * A[j, i] for i in range(d) for j in range(d)), Fraction(0))
    tr_sigma = sum((sig[i, i] for i in range(d)), Fraction(0))
    return c0, frob + tr_asa * tr_sigma


@dataclass(frozen=True)
class Thm33Terms(RichRepr):
    r"""The exact ``k = 1`` error and the Theorem 3.3 bound, coefficient by coefficient (``Σ = Λ``).

    ``err_1(m) = c0 + c1/m`` and ``bound(m) = b0 + b1/m`` with ``b0 = (d/n²)(1 + Hard)²``,
    ``b1 = d(1 + Hard)``; ``m = None`` is ``m = ∞``. All fields are exact ``Fraction`` s.
    """

    d: int
    n: int
    hardness: Fraction
    c0: Fraction
    c1: Fraction
    b0: Fraction
    b1: Fraction

    def error(self, m=None) -> Fraction:
        m = _optional_m(m)
        return self.c0 if m is None else self.c0 + self.c1 / m

    def bound(self, m=None) -> Fraction:
        m = _optional_m(m)
        return self.b0 if m is None else self.b0 + self.b1 / m

    def ratio(self, m=None) -> Fraction:
        """``bound / err_1``: ``>= min(b0/c0, b1/c1) > 1``."""
        return self.bound(m) / self.error(m)

    def latex(self) -> str:
        return (rf"\mathrm{{err}}_1 = {sp.latex(sp.Rational(self.c0.numerator, self.c0.denominator))}"
                rf" + \frac{{{sp.latex(sp.Rational(self.c1.numerator, self.c1.denominator))}}}{{m}}"
                rf" \le {sp.latex(sp.Rational(self.b0.numerator, self.b0.denominator))}"
                rf" + \frac{{{sp.latex(sp.Rational(self.b1.numerator, self.b1.denominator))}}}{{m}}")


def thm33_terms(train_cov, n) -> Thm33Terms:
    r"""Exact ``k = 1`` error coefficients and Theorem 3.3 bound coefficients at ``Σ = Λ``.

    .. math::
        c_0 = \sum_i \Big(\frac{\lambda_i + T}{(n+1)\lambda_i + T}\Big)^2
            \le \frac{d}{n^2}(1 + \mathrm{Hard})^2 = b_0, \qquad
        c_1 = \sum_i \frac{n^2 \lambda_i(\lambda_i + T)}{((n+1)\lambda_i + T)^2}
            \le d(1 + \mathrm{Hard}) = b_1

    (Theorem 3.3 of the paper; both inequalities hold strictly, term by term: see
    :func:`derive_thm33`.)

    Parameters
    ----------
    train_cov : array_like
        Λ as 1-D eigenvalues or a diagonal matrix, positive definite (the error at Σ = Λ
        depends only on the spectrum; Hard needs λ_min exactly).
    n : int
        Training prompt length.
    """
    eig = _diagonal_eigenvalues(train_cov)
    n = positive_int(n, "n")
    d, T = len(eig), sum(eig)
    hard = T / min(eig)
    c0 = sum((((l + T) / ((n + 1) * l + T)) ** 2 for l in eig), Fraction(0))
    c1 = sum((n * n * l * (l + T) / ((n + 1) * l + T) ** 2 for l in eig), Fraction(0))
    return Thm33Terms(d, n, hard, c0, c1, Fraction(d, n * n) * (1 + hard) ** 2, d * (1 + hard))


def rational_orthogonal(skew) -> np.ndarray:
    r"""An exactly orthogonal rational matrix: the Cayley transform of a skew-symmetric ``K``.

    .. math:: Q = (I - K)(I + K)^{-1}, \qquad Q^\top Q = I

    For exact checks of rotation invariance: ``Q diag(λ) Qᵀ`` is a rational, non-diagonal
    covariance with the spectrum ``λ``. Returns an object array of ``Fraction``.
    """
    K = np.asarray(skew, dtype=object)
    if K.ndim != 2 or K.shape[0] != K.shape[1] or K.shape[0] == 0:
        raise ValueError(f"skew must be a nonempty square matrix, got shape {K.shape}")
    d = K.shape[0]
    K = np.array([[Fraction(v) for v in row] for row in K], dtype=object)
    if any(K[i, j] != -K[j, i] for i in range(d) for j in range(d)):
        raise ValueError("skew must be skew-symmetric (K = -Kᵀ)")
    eye = np.array([[Fraction(int(i == j)) for j in range(d)] for i in range(d)], dtype=object)
    return exact_matmul(eye - K, exact_inverse(eye + K))  # I + K is invertible for skew K


def thm33_bound(train_cov, n, m=None) -> float:
    r"""The right-hand side of Theorem 3.3 (``m = None``: ``m = ∞``, the ``1/m`` term dropped).

    .. math:: \frac{d}{n^2}(1 + \mathrm{Hard}(\Lambda))^2 + \frac{d}{m}(1 + \mathrm{Hard}(\Lambda))

    A singular Λ gives ``inf`` (Hard = ∞): the bound is vacuous, not an error.
    """
    lam = as_covariance(train_cov, "train_cov")
    n = positive_int(n, "n")
    m = _optional_m(m)
    hard = _hardness(lam)
    d = lam.shape[0]
    out = d / n ** 2 * (1 + hard) ** 2
    return out if m is None else out + d / m * (1 + hard)


def manifestly_positive(expr, symbols) -> bool:
    """True if ``expr`` is a ratio of polynomials in ``symbols`` with only positive coefficients.

    With every symbol positive such an expression is positive: a certificate, not a heuristic.
    """
    num, den = sp.fraction(sp.factor(sp.together(expr)))
    for part in (num, den):
        for factor in sp.Mul.make_args(part):
            base = factor.base if factor.is_Pow else factor
            poly = sp.Poly(sp.expand(base), *symbols)
            if not all(c > 0 for c in poly.coeffs()):
                return False
    return True


def thm33_symbolic(d: int) -> tuple[sp.Expr, sp.Expr]:
    r"""``(c_0, c_1)`` of ``err_1 = c_0 + c_1/m`` for a diagonal Λ = Σ with symbolic eigenvalues.

    Derived from the Wishart lemma (:func:`theory.moments.wishart_sas_symbolic`) applied to
    ``E[Ŝ A² Ŝ]`` with ``A = Γ^{-1}`` and symbols ``λ_1..λ_d`` (positive) and ``n``; the lemma is
    affine in ``1/m``, so ``c_0`` is its value at ``1/m = 0`` and ``c_1`` its slope.
    """
    d = positive_int(d, "d")
    n, u = sp.symbols("n u", positive=True)  # u stands for 1/m
    lams = sp.symbols(f"lambda_1:{d + 1}", positive=True)
    Lam = sp.diag(*lams)
    T = sum(lams)
    A = sp.diag(*[n / ((n + 1) * l + T) for l in lams])
    second = wishart_sas_symbolic(Lam, A * A, 1 / u)
    err = d - 2 * (A * Lam).trace() + second.trace()
    return sp.factor(err.subs(u, 0)), sp.factor(sp.diff(err, u))


def derive_thm33() -> list[DerivationStep]:
    r"""The Theorem 3.3 derivation as ``(description, sympy expression)`` steps.

    General ``d``: one eigen-direction's contribution, with symbols ``λ`` (its eigenvalue),
    ``T = tr Λ``, ``L = λ_min <= λ`` and ``n``; every inequality is certified by
    :func:`manifestly_positive` (a difference that is a ratio of positive-coefficient polynomials
    in positive symbols). Raises ``AssertionError`` if a certificate fails (it cannot, for a true
    identity; the tests call this).
    """
    lam, T, n, u = sp.symbols("lambda T n u", positive=True)
    gam = ((n + 1) * lam + T) / n
    c0_i = ((lam + T) / ((n + 1) * lam + T)) ** 2
    c1_i = lam * (lam + T) / gam ** 2
    steps = [DerivationStep("Per eigen-direction (Λ = Σ diagonal, γ_i = ((n+1)λ_i + T)/n): "
                            "m-independent part of err_1", sp.Eq(sp.Symbol("c_{0,i}"), c0_i)),
             DerivationStep("coefficient of 1/m", sp.Eq(sp.Symbol("c_{1,i}"), sp.factor(c1_i)))]
    # c0: (λ+T)/((n+1)λ+T) < (λ+T)/(nλ) = (1 + T/λ)/n <= (1 + Hard)/n since λ >= λ_min.
    gap0 = (lam + T) / (n * lam) - (lam + T) / ((n + 1) * lam + T)
    assert manifestly_positive(gap0, (lam, T, n)), gap0
    steps.append(DerivationStep("(λ+T)/(nλ) − (λ+T)/((n+1)λ+T), manifestly positive; and "
                                "(λ+T)/(nλ) = (1 + T/λ)/n <= (1 + Hard)/n, so c_0 < (d/n²)(1+Hard)²",
                                sp.factor(gap0)))
    # c1: (1 + T/λ) − λ(λ+T)/γ² = (λ+T)(γ² − λ²)/(λγ²) > 0 because γ − λ = (λ+T)/n > 0.
    gap1 = (1 + T / lam) - c1_i
    assert manifestly_positive(gap1, (lam, T, n)), gap1
    steps.append(DerivationStep("(1 + T/λ) − c_{1,i}, manifestly positive; and 1 + T/λ <= 1 + Hard, "
                                "so c_1 < d(1 + Hard)", sp.factor(gap1)))
    # Tightness: Λ ∝ I gives bound/err = (1 + (d+1)/n)² exactly, for every m.
    dd = sp.Symbol("d", positive=True)
    iso_c0 = dd * ((1 + dd) / (n + 1 + dd)) ** 2
    iso_c1 = dd * n ** 2 * (1 + dd) / (n + 1 + dd) ** 2
    r0 = sp.factor(dd * (1 + dd) ** 2 / n ** 2 / iso_c0)
    r1 = sp.factor(dd * (1 + dd) / iso_c1)
    assert sp.simplify(r0 - r1) == 0
    steps.append(DerivationStep("Λ ∝ I (Hard = d): b_0/c_0 = b_1/c_1, so bound/err_1 at every m is",
                                r0))
    # Order: the second inequality uses only λ >= L; a certificate with λ = L + u.
    L = sp.Symbol("L", positive=True)
    gap_h = (1 + T / L) - (1 + T / (L + u))
    assert manifestly_positive(gap_h, (L, T, u)), gap_h
    steps.append(DerivationStep("(1 + T/L) − (1 + T/(L+u)) with λ = L + u, L = λ_min", sp.factor(gap_h)))
    return steps


# ----------------------------------------------------------------------------- hardness and contraction

def contraction_factors(train_cov, n, *, test_cov=None) -> np.ndarray:
    r"""Eigenvalues of the ``m = ∞`` error map ``M = I − Γ^{-1}Σ``, by decreasing absolute value.

    .. math:: \nu_i = 1 - \mu_i(\Gamma^{-1}\Sigma), \qquad
              \Sigma = \Lambda:\ \nu_i = \Big(1 + \frac{n\lambda_i}{\lambda_i + T}\Big)^{-1}

    ``M`` is similar to the symmetric ``I − Γ^{-1/2}ΣΓ^{-1/2}``, so the ``ν_i`` are real; the slowest
    one at ``Σ = Λ`` belongs to ``λ_min`` and equals ``(1 + n/(1 + Hard))^{-1}`` (proofs/math.md §10).
    """
    lam = as_covariance(train_cov, "train_cov")
    G = gamma(lam, n)
    sig = lam if test_cov is None else as_covariance(test_cov, "test_cov")
    same_dimension(lam, sig, "train_cov", "test_cov")
    g_eig, g_vec = np.linalg.eigh(G)
    inv_half = (g_vec / np.sqrt(g_eig)) @ g_vec.T
    B = inv_half @ sig @ inv_half
    nu = 1.0 - np.linalg.eigvalsh((B + B.T) / 2)
    return nu[np.argsort(-np.abs(nu), kind="stable")]


def slowest_contraction(train_cov, n) -> float:
    r"""The slowest per-step contraction of the ``m = ∞`` iteration at ``Σ = Λ``.

    .. math:: f = \Big(1 + \frac{n}{1 + \mathrm{Hard}(\Lambda)}\Big)^{-1}
              = \max_i \Big(1 + \frac{n\lambda_i}{\lambda_i + T}\Big)^{-1}

    (``nλ/(λ + T)`` increases with ``λ``, so the max is at ``λ_min``, where it equals
    ``n/(1 + T/λ_min)``). The rate in Corollary 3.5 of the paper. ``1.0`` for a singular Λ.
    """
    lam = as_covariance(train_cov, "train_cov")
    n = positive_int(n, "n")
    hard = _hardness(lam)
    return 1.0 / (1.0 + n / (1.0 + hard))


# ----------------------------------------------------------------------------- Corollary 3.5

def cor35_log_bound(train_cov, n, k) -> float:
    r"""Natural log of the Corollary 3.5 bound without its ``(1 + o(1))``.

    .. math:: \log\Big[d\,\Big(1 + \frac{n}{1 + \mathrm{Hard}(\Lambda)}\Big)^{-2k}\Big]

    Our ``k`` (forward passes, ``w_0 = 0``) is the paper's number of steps ``k`` in
    ``E‖w_{k+1} − w‖²``. At ``m = ∞`` and ``Σ = Λ`` it bounds ``err_k`` exactly (no ``o(1)``).
    """
    lam = as_covariance(train_cov, "train_cov")
    n = positive_int(n, "n")
    k = positive_int(k, "k", minimum=0)
    hard = _hardness(lam)
    return math.log(lam.shape[0]) - 2 * k * math.log1p(n / (1 + hard))


def cor35_bound(train_cov, n, k) -> float:
    """:func:`cor35_log_bound` exponentiated (it only decreases with ``k``; underflow means < 1e-308)."""
    return math.exp(cor35_log_bound(train_cov, n, k))


def limit_log_error(train_cov, n, k, *, test_cov=None) -> float:
    r"""Natural log of the ``m = ∞`` CoT error, without overflow or underflow at any ``k``.

    .. math::
        \mathrm{err}_k(\infty) = \|(I - \Gamma^{-1}\Sigma)^k\|_F^2
          = \big\|\Gamma^{-1/2} (I - B)^k\, \Gamma^{1/2}\big\|_F^2, \qquad
        B = \Gamma^{-1/2}\Sigma\Gamma^{-1/2}

    computed as ``2k log ρ + log ‖Γ^{-1/2} U diag((ν/ρ)^k) Uᵀ Γ^{1/2}‖_F²`` with ``ρ = max|ν|``
    (a sum of squares: no cancellation). ``-inf`` when the error is exactly 0 (``ρ = 0``).
    """
    lam = as_covariance(train_cov, "train_cov")
    G = gamma(lam, n)
    k = positive_int(k, "k", minimum=0)
    sig = lam if test_cov is None else as_covariance(test_cov, "test_cov")
    same_dimension(lam, sig, "train_cov", "test_cov")
    g_eig, g_vec = np.linalg.eigh(G)
    half = (g_vec * np.sqrt(g_eig)) @ g_vec.T
    inv_half = (g_vec / np.sqrt(g_eig)) @ g_vec.T
    B = inv_half @ sig @ inv_half
    beta, U = np.linalg.eigh((B + B.T) / 2)
    nu = 1.0 - beta
    rho = float(np.max(np.abs(nu)))
    if k == 0:
        return math.log(lam.shape[0])
    if rho == 0.0:
        return -math.inf
    P = inv_half @ (U * (nu / rho) ** k) @ U.T @ half
    return 2 * k * math.log(rho) + math.log(float(np.sum(P * P)))


def _d1_ratio(train_var, test_var) -> Fraction:
    """``a = σ/λ`` (times ``n/(n+2)`` later) for ``d = 1`` inputs, validated."""
    lam = as_exact_covariance(np.atleast_1d(np.asarray(train_var, dtype=object)), "train_var")
    if lam.shape != (1, 1):
        raise ValueError(f"train_var must be a single variance (d = 1), got dimension {lam.shape[0]}")
    if lam[0, 0] <= 0:
        raise ValueError(f"train_var must be > 0, got {lam[0, 0]}")
    sig = lam if test_var is None else as_exact_covariance(
        np.atleast_1d(np.asarray(test_var, dtype=object)), "test_var")
    if sig.shape != (1, 1):
        raise ValueError(f"test_var must be a single variance (d = 1), got dimension {sig.shape[0]}")
    return sig[0, 0] / lam[0, 0]


def _d1_errors(a: Fraction, m: int | None, k_max: int) -> list[Fraction]:
    """``err_0 .. err_{k_max}`` in ``d = 1`` (see :func:`cot_error_d1`), all in ``O(k_max)`` steps."""
    if m is None:
        return [(1 - a) ** (2 * k) for k in range(k_max + 1)]
    # F_j = E(1 − as)^j with s = χ²_m/m obeys the gamma Stein identity E[(X − m)g(X)] = 2E[X g'(X)]
    # (X = ms ~ χ²_m) with g = (1 − aX/m)^j:  F_{j+1} = (1 − a − 2ja/m) F_j + (2ja/m) F_{j−1}.
    # With a = p/q, G_j = (qm)^j F_j are integers: G_{j+1} = (qm − pm − 2jp) G_j + 2jpqm G_{j−1}.
    p, q = a.numerator, a.denominator
    qm = q * m
    prev, cur = 1, qm - p * m  # G_0, G_1
    out = [Fraction(1)]
    for j in range(1, 2 * k_max):
        prev, cur = cur, (qm - p * m - 2 * j * p) * cur + 2 * j * p * qm * prev
        if j % 2 == 1:  # cur is now G_{j+1} with j + 1 even
            out.append(Fraction(cur, qm ** (j + 1)))
    return out


# The exact d = 1 sum at finite m costs about k³ (measured 1.9 s at k = 2000, 15 s at 4000): a
# minute or so at the limit.
D1_K_MAX = 6000
# optimal_steps evaluates every k of its window.
OPTIMAL_K_MAX = 10_000


def cot_error_d1(train_var, n, k, *, m=None, test_var=None) -> Fraction:
    r"""Exact CoT error in dimension ``d = 1`` (the chi-square closed form), any ``k`` and ``m``.

    .. math::
        \mathrm{err}_k = \mathbb E\,(1 - a s)^{2k}
          = \sum_{j=0}^{2k} \binom{2k}{j} (-a)^j \prod_{i<j}\frac{m + 2i}{m},
        \qquad a = \frac{n\sigma}{(n+2)\lambda},\ s = \chi^2_m/m

    (``Γ = (n+2)λ/n`` in ``d = 1``; ``E s^j = Π_{i<j}(m+2i)/m^j``, proofs/math.md §8). Evaluated by the
    equivalent three-term recursion of ``F_j = E(1 − as)^j`` from the gamma Stein identity,

    .. math:: F_{j+1} = \Big(1 - a - \frac{2ja}{m}\Big) F_j + \frac{2ja}{m} F_{j-1},
              \qquad F_0 = 1,\ F_1 = 1 - a,

    in integers (``O(k)`` operations instead of ``O(k)`` per term). ``m = None`` gives
    ``(1 − a)^{2k}``. Exact for rational (and float, converted exactly) inputs.

    Parameters
    ----------
    train_var, test_var : number or 1-element array
        λ > 0 and σ >= 0 (default σ = λ).
    """
    ratio = _d1_ratio(train_var, test_var)
    n = positive_int(n, "n")
    k = positive_int(k, "k", minimum=0)
    m = _optional_m(m)
    if m is not None and k > D1_K_MAX:
        raise ValueError(f"k = {k} is too large for the exact d = 1 sum at finite m (cost grows like k³: "
                         f"k = 2000 took 1.9 s, k = 4000 15 s; limit k <= {D1_K_MAX}); "
                         "theory.cot_log_error gives its logarithm through the integer route")
    return _d1_errors(Fraction(n, n + 2) * ratio, m, k)[k]


def divergence_log_lower_bound(train_cov, n, k, m, *, test_cov=None) -> float:
    r"""Log of a lower bound on ``err_k`` at finite ``m`` that grows faster than any exponential in ``k``.

    .. math::
        \mathrm{err}_k \ge \mathbb E\,\rho(M)^{2k}
          \ge L_k(m) = \mathbb E\big[(\beta_{\max} s - 1)_+^{2k}\big], \qquad
        s = \chi^2_m/m,\ \beta_{\max} = \lambda_{\max}(\Gamma^{-1}\Sigma)

    Proof: ``‖M^k‖_F² >= ρ(M^k)² = ρ(M)^{2k}``; ``M = I − Γ^{-1}Ŝ`` has eigenvalues ``1 − β_j`` with
    ``β_j`` those of ``Γ^{-1/2}ŜΓ^{-1/2}``, whose largest is ``>= vᵀΓ^{-1/2}ŜΓ^{-1/2}v`` for the top
    unit eigenvector ``v`` of ``Γ^{-1/2}ΣΓ^{-1/2}``, a variable distributed as ``β_max χ²_m/m``.
    Since ``s`` is unbounded, ``L_k ≥ P(β_max s ≥ 2 + δ)(1 + δ)^{2k}`` for every ``δ > 0``, so
    ``err_k^{1/k} → ∞``: Corollary 3.5 of the paper cannot hold as ``k → ∞`` at a fixed finite ``m``.
    ``L_k`` is the ``k``-th moment of the nonnegative ``(β_max s − 1)_+²``, hence log-convex in ``k``.

    Evaluated as ``log`` of a one-dimensional integral over ``v = log(β_max s − 1)`` (so a tiny or huge
    ``β_max``, e.g. one-sided scales 1e±300, only moves the peak), with ``h = m/2``, ``c = h/β_max``:

    .. math:: \log L_k = h\log h - \log\Gamma(h) - h\log\beta_{\max} - c
              + \log\int_{\mathbb R} e^{(2k+1)v + (h-1)\log(1+e^v) - c e^v}\,dv

    The integrand is written relative to its peak (unique: the log-integrand's slope is decreasing
    at every zero), in forms without cancellation (``u − expm1 u``, ``log1p x − x`` by series near 0),
    and integrated by ``scipy.integrate.quad`` at relative tolerance 1e-11; against a 30-digit mpmath
    quadrature the log agrees to about 1e-14 at moderate ``k``.  ``m > 10^8`` is refused (the terms of
    size ``m`` would cancel to the last digit); a log beyond the float range raises ``OverflowError``.
    """
    from scipy import integrate, optimize, special

    lam = as_covariance(train_cov, "train_cov")
    n = positive_int(n, "n")
    k = positive_int(k, "k", minimum=0)
    m = positive_int(m, "m")
    if m > 10 ** 8:
        raise ValueError(f"m = {m} is beyond 1e8: terms of size m cancel there to the last float digit; "
                         f"the m → ∞ limit of the bound is (λ_max(Γ^{{-1}}Σ) − 1)_+^{{2k}}")
    sig = lam if test_cov is None else as_covariance(test_cov, "test_cov")
    same_dimension(lam, sig, "train_cov", "test_cov")
    with np.errstate(over="ignore", invalid="ignore"):
        beta = float(np.max(np.linalg.eigvals(np.linalg.solve(gamma(lam, n), sig)).real))
    if not math.isfinite(beta):
        raise ValueError("train_cov and test_cov: λ_max(Γ^{-1}Σ) is beyond the float range")
    if beta <= 0:
        raise ValueError("test_cov must be nonzero: with Σ = 0 the error is d at every k")
    h, K = m / 2, 2.0 * k + 1
    log_c = math.log(h) - math.log(beta)
    if log_c > _LOG_FLOAT_MAX:
        raise OverflowError(f"train_cov and test_cov: λ_max(Γ^{{-1}}Σ) = {beta:.3g} makes log L_k fall below "
                            f"-1e308, beyond the float range")
    c = math.exp(log_c)

    def slope(v):  # derivative of the log-integrand in v; decreasing at each zero, so one zero
        return K + (h - 1) * special.expit(v) - math.exp(v + log_c)

    lo, hi = math.log(K + min(0.0, h - 1)) - log_c, math.log(K + max(0.0, h - 1)) - log_c
    lo, hi = lo - 1e-9 * (1 + abs(lo)), hi + 1e-9 * (1 + abs(hi))
    peak = optimize.brentq(slope, lo, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps)
    sig_star, resid = float(special.expit(peak)), slope(peak)
    top = K * peak + (h - 1) * float(np.logaddexp(0.0, peak)) - math.exp(peak + log_c)

    def u_minus_expm1(u):
        if abs(u) < 1e-2:
            return -sum(u ** j / math.factorial(j) for j in range(2, 9))
        return u - math.expm1(u)

    def log1p_minus(x):  # log1p(x) − x
        if abs(x) < 1e-2:
            return sum((-1) ** (j + 1) * x ** j / j for j in range(2, 12))
        return math.log1p(x) - x

    def scaled(u):  # exp(log-integrand(peak + u) − top)
        if u > 700:
            return 0.0
        e1 = math.expm1(u)
        if abs(u) < 1:
            rest = log1p_minus(sig_star * e1)
        else:
            rest = float(np.logaddexp(0.0, peak + u) - np.logaddexp(0.0, peak)) - sig_star * e1
        value = K * u_minus_expm1(u) + (h - 1) * rest - resid * e1
        return math.exp(value) if value > -745 else 0.0

    width = 1 / math.sqrt(K + (h - 1) * sig_star ** 2)  # curvature at the peak is K + (h−1)σ*² >= 1/2
    points = [-8 * width, 0.0, 8 * width, 40 * width]
    total = integrate.quad(scaled, -np.inf, points[0], epsabs=0, epsrel=1e-11, limit=200)[0]
    total += sum(integrate.quad(scaled, a, b, epsabs=0, epsrel=1e-11, limit=200)[0]
                 for a, b in zip(points[:-1], points[1:]))
    total += integrate.quad(scaled, points[-1], np.inf, epsabs=0, epsrel=1e-11, limit=200)[0]
    if h > 1e6:  # h log h − log Γ(h) by Stirling (the two terms cancel to O(log h))
        norm = 0.5 * math.log(h) + h - 0.5 * math.log(2 * math.pi) - 1 / (12 * h)
    else:
        norm = h * math.log(h) - float(special.gammaln(h))
    out = norm - h * math.log(beta) - c + top + math.log(total)
    if not math.isfinite(out):
        raise OverflowError("train_cov, test_cov, k: log L_k is beyond the float range")
    return out


# ----------------------------------------------------------------------------- optimal number of steps

@dataclass(frozen=True)
class OptimalSteps(RichRepr):
    r"""The number of forward passes ``k* = argmin_{1 <= k <= k_max} err_k`` and the errors.

    Attributes
    ----------
    ks : tuple of int
        ``1 .. k_max``.
    log_errors : tuple of float
        ``log err_k`` per ``k`` (finite even where ``err_k`` overflows float64).
    k_star : int
        Smallest minimiser over ``ks``. Exact ties occur (``d = 1``, ``n = m = 10``:
        ``err_2 = err_3 = 2/27``).
    certified : bool
        The error rises above its minimum at some ``k > k*`` within the range. The minimum is then
        also global when ``d = 1`` (``k ↦ E u^k`` with ``u = (1 − as)² >= 0`` is log-convex, so the
        error keeps rising); in general it is the minimum over the range. False means ``k_max``
        was reached while the error still fell: ``k*`` is only a lower bound. At finite ``m`` a
        global minimiser always exists (:func:`divergence_log_lower_bound`); at ``m = ∞`` and
        ``Σ = Λ`` the error falls for ever and no ``k_max`` certifies.
    m : int or None
        Test prompt length (None: ``m = ∞``).
    method : str
        ``"d = 1 closed form"``, ``"m = ∞ closed form"`` or ``"exact engine"``.
    """

    ks: tuple
    log_errors: tuple
    k_star: int
    certified: bool
    m: int | None
    method: str

    @property
    def errors(self) -> np.ndarray:
        """``err_k`` as float64 (``inf`` where it overflows: read ``log_errors`` there)."""
        return np.array([_finite_or_inf(v) for v in self.log_errors])

    @property
    def error_star(self) -> float:
        return _finite_or_inf(self.log_errors[self.k_star - 1])


def _log_errors(lam: np.ndarray, sig: np.ndarray, n: int, ks, m, raw_train, raw_test):
    """``log err_k`` for each ``k`` in ``ks`` and the method used."""
    d = lam.shape[0]
    if m is None:
        return [limit_log_error(lam, n, k, test_cov=sig) for k in ks], "m = ∞ closed form"
    if d == 1:
        ratio = _d1_ratio(_scalar(raw_train), None if raw_test is None else _scalar(raw_test))
        errs = _d1_errors(Fraction(n, n + 2) * ratio, m, max(ks))
        return [log_or_minus_inf(errs[k]) for k in ks], "d = 1 closed form"
    from theory.error import cot_log_error
    return ([cot_log_error(raw_train, n, k, test_cov=raw_test, m=m) for k in ks], "exact engine")


def _scalar(cov):
    arr = np.asarray(cov, dtype=object)
    return arr.reshape(-1)[0]


def optimal_steps(train_cov, n, *, m=None, test_cov=None, k_max: int = 8) -> OptimalSteps:
    r"""The optimal number of CoT forward passes from the exact error.

    .. math:: k^* = \operatorname*{argmin}_{1 \le k \le k_{\max}} \mathrm{err}_k(n, m, \Lambda, \Sigma)

    ``m = None`` uses the ``m = ∞`` closed form (:func:`limit_log_error`), ``d = 1`` the chi-square
    closed form (:func:`cot_error_d1`, cheap at any ``k``), otherwise the exact engine
    (:func:`theory.error.cot_log_error`, whose cost grows quickly with ``k``: ``k <= 8`` at
    ``d = 10``). Corollary 3.5 of the paper: see :class:`OptimalSteps` for what ``certified`` means.
    """
    lam = as_covariance(train_cov, "train_cov")
    n = positive_int(n, "n")
    m = _optional_m(m)
    sig = lam if test_cov is None else as_covariance(test_cov, "test_cov")
    same_dimension(lam, sig, "train_cov", "test_cov")
    k_max = positive_int(k_max, "k_max", minimum=2)
    if k_max > OPTIMAL_K_MAX:
        raise ValueError(f"k_max = {k_max} is too large: the scan evaluates every k = 1..k_max (limit "
                         f"{OPTIMAL_K_MAX}); theory.error_bracket_curve brackets a long curve")
    ks = tuple(range(1, k_max + 1))
    logs, method = _log_errors(lam, sig, n, ks, m, train_cov, test_cov)
    k_star = ks[int(np.argmin(logs))]
    certified = any(v > logs[k_star - 1] for v in logs[k_star:])
    return OptimalSteps(ks, tuple(float(v) for v in logs), k_star, bool(certified), m, method)


# ----------------------------------------------------------------------------- compute / context trade-off

def n_min_cor35(train_cov, k, eps) -> float:
    r"""The training length at which the Corollary 3.5 bound equals ``ε`` [derived].

    .. math:: n_{\min}(k, \varepsilon) = (1 + \mathrm{Hard})\big((d/\varepsilon)^{1/(2k)} - 1\big)

    Since ``err_k(∞) <= d(1 + n/(1+Hard))^{-2k}`` exactly at ``Σ = Λ`` and the bound decreases in
    ``n``, every ``n >= max(1, ⌈n_min⌉)`` reaches ``ε`` at ``m = ∞``.  For ``ε >= d`` the formula is
    ``<= 0`` and every ``n`` reaches ``ε``: the result is then ``0.0`` (never negative, a length).
    """
    lam = as_covariance(train_cov, "train_cov")
    k = positive_int(k, "k")
    eps = positive_float(eps, "eps")
    hard = _hardness(lam)
    log_ratio = math.log(lam.shape[0]) - math.log(eps)
    if log_ratio <= 0:
        return 0.0
    return (1 + hard) * math.expm1(log_ratio / (2 * k))


def n_min(train_cov, k, eps, *, m=None, test_cov=None, n_max: int = 100_000) -> int | None:
    r"""The smallest training prompt length whose ``k``-pass error reaches ``ε``.

    .. math:: n_{\min}(k, \varepsilon) = \min\{n \ge 1 : \mathrm{err}_k(n) \le \varepsilon\}

    ``None`` if no ``n <= n_max`` reaches it. At ``m = ∞`` (float64, the comparison in log form,
    relative accuracy ~1e-12: a tie with ``ε`` closer than that is decided by rounding) the error at
    ``Σ = Λ`` decreases in ``n`` and is bisected; for another ``Σ`` it need not (overthinking), so
    ``n = 1, 2, ...`` are scanned in batches of doubling size. At finite ``m`` the scan runs
    ``n = 1, 2, ...`` with the ``d = 1`` closed form (exact) or the exact engine (cost grows with
    ``k``; keep ``n_max`` small). At finite
    ``m`` the error need not decrease in ``n`` (the ``1/m`` coefficient grows with ``n``), so this is
    the smallest ``n``, not a threshold beyond which all ``n`` work.
    """
    lam = as_covariance(train_cov, "train_cov")
    k = positive_int(k, "k")
    eps = positive_float(eps, "eps")
    m = _optional_m(m)
    n_max = positive_int(n_max, "n_max")
    gamma(lam, 1)  # rejects Λ = 0
    sig = lam if test_cov is None else as_covariance(test_cov, "test_cov")
    same_dimension(lam, sig, "train_cov", "test_cov")
    log_eps = math.log(eps)
    if m is None and test_cov is None:
        return _n_min_commuting(np.linalg.eigvalsh(lam), k, log_eps, n_max)
    if m is None:
        start, size = 1, 64
        while start <= n_max:  # doubling chunks: cheap when n_min is small, bounded otherwise
            stop = min(start + size - 1, n_max)
            logs = _limit_log_errors_over_n(lam, sig, start, stop, k)
            hit = np.nonzero(logs <= log_eps)[0]
            if hit.size:
                return start + int(hit[0])
            start, size = stop + 1, 2 * size
        return None
    # Γ_n decreases in n (to Λ), so every eigenvalue of Γ_n^{-1}Σ increases with n: β_min at n_max
    # and β_max at n = 1 bound those of every n <= n_max (see _floor_lines).
    b_up, _ = _whitened_extremes(lam, sig, n_max)
    _, a_low = _whitened_extremes(lam, sig, 1)
    window = _reachable_steps(_floor_lines(b_up, a_low, m), log_eps, k)
    if window is None or window[1] < k:
        return None
    each = _scan_cost(lam, sig, k, m)
    for n in range(1, n_max + 1):
        _scan_guard(f"n_min at k = {k}, m = {m}: no n <= {n - 1} reaches eps = {eps:g}; scanning on to "
                    f"n_max = {n_max}", (n - 1) * each, each, lambda: each * (n_max - n + 1), "a smaller n_max or k")
        (log_err,), _ = _log_errors(lam, sig, n, (k,), m, train_cov, test_cov)
        if log_err <= log_eps:
            return n
    return None


def _scan_cost(lam: np.ndarray, sig: np.ndarray, k: int, m: int) -> float:
    """Estimated seconds of one finite-``m`` error evaluation in the scans (engine cost model)."""
    if lam.shape[0] == 1:
        return max(2e-7 * k * k, 2e-5)  # d = 1: O(k) big-integer steps of O(k)-digit numbers
    from theory.bracket import engine_cost_seconds
    return max(engine_cost_seconds(lam.shape[0], k, bool(np.array_equal(lam @ sig, sig @ lam))), 1e-3)


# ----------------------------------------------------------------------------- what no n or k can reach

#: Estimated CPU seconds a finite-``m`` scan of :func:`n_min` / :func:`k_min` may spend before it
#: stops and says so (per evaluation: :func:`theory.error.engine_cost`, at least the ~1 ms a call of
#: the engine takes at ``d = 2``, ``k = 2`` on the reference machine; ``d = 1``: the closed form).
SCAN_SECONDS = 2.0


def _whitened_extremes(lam: np.ndarray, sig: np.ndarray, n: int) -> tuple[float, float]:
    """``(b_up, a_low)``: an upper bound on ``β_min`` and a lower bound on ``β_max`` of ``Γ_n^{-1}Σ``
    (the float eigenvalues moved inwards by a bound on the error of ``eigvalsh``)."""
    g_eig, g_vec = np.linalg.eigh(gamma(lam, n))
    inv_half = (g_vec / np.sqrt(g_eig)) @ g_vec.T
    B = inv_half @ sig @ inv_half
    beta = np.linalg.eigvalsh((B + B.T) / 2)
    kappa = float(g_eig[-1] / g_eig[0])
    slack = 64 * lam.shape[0] * np.finfo(float).eps * kappa * float(np.max(np.abs(beta)))
    return max(float(beta[0]) + slack, 0.0), max(float(beta[-1]) - slack, 0.0)


def _floor_lines(b_up: float, a_low: float, m: int | None) -> list[tuple[float, float]]:
    r"""Lines ``(α, γ)`` with ``log err_k >= α + 2kγ`` for every ``k >= 1``, from spectral extremes.

    With ``β̂`` the eigenvalues of ``Γ^{-1}Ŝ_m`` and ``M = I − Γ^{-1}Ŝ_m``, ``‖M^k‖_F² >= ρ(M)^{2k}
    >= max(1 − β̂_min, β̂_max − 1)_+^{2k}``.  For the unit eigenvectors ``v`` of
    ``Γ^{-1/2}ΣΓ^{-1/2}`` at its extreme eigenvalues ``β_min <= b_up`` and ``β_max >= a_low``,
    ``vᵀΓ^{-1/2}Ŝ_mΓ^{-1/2}v = β s`` with ``s = χ²_m/m`` (``s = 1`` at ``m = ∞``), and
    ``β̂_min <= β_min s``, ``β̂_max >= β_max s``.  Jensen (``E s = 1``, convex integrands) gives
    ``err_k >= (1 − b_up)_+^{2k}`` and ``>= (a_low − 1)_+^{2k}``; at finite ``m``, for ``t > 0``,
    ``err_k >= P(s >= (1 + t)/a_low) t^{2k}`` (the χ² tail, unbounded ``s``).
    """
    from scipy import special

    lines = []
    if 0 < b_up < 1:
        lines.append((0.0, math.log1p(-b_up)))
    elif b_up == 0:
        lines.append((0.0, 0.0))
    if a_low > 1:
        lines.append((0.0, math.log(a_low - 1)))
    if m is not None and a_low > 0:
        for t in (0.5, 1.0, 2.0, 4.0):
            tail = float(special.gammaincc(m / 2, m * (1 + t) / (2 * a_low)))
            if tail > 0:
                lines.append((math.log(tail), math.log(t)))
    return lines


def _reachable_steps(lines, log_eps: float, k_max: int) -> tuple[int, int] | None:
    """The interval of ``k in [1, k_max]`` that no line ``α + 2kγ > log ε`` excludes (None: empty).

    A margin of ``1e-9 (1 + |log ε|)`` keeps a float tie from excluding a ``k`` wrongly."""
    lo, hi = 1, k_max
    margin = 1e-9 * (1 + abs(log_eps))
    for alpha, g in lines:
        room = log_eps + margin - alpha  # need 2kγ <= room
        if g == 0:
            if room < 0:
                return None
        else:
            q = room / (2 * g)  # the crossing k; beyond [1, k_max] (or not finite) it excludes nothing
            if g > 0:
                hi = 0 if room < 0 else (hi if not q < hi else math.floor(q))
            elif room < 0:
                lo = lo if not q > lo else math.ceil(q)
        if lo > hi:
            return None
    return lo, hi


def _scan_guard(what: str, spent: float, each: float, rest, advice: str) -> None:
    """Stop a finite-``m`` scan once its next step would take its estimated engine cost past
    :data:`SCAN_SECONDS`; ``rest()`` estimates what finishing the scan would cost."""
    if spent + each > SCAN_SECONDS:
        raise ValueError(f"{what} would cost about {spent + rest():.3g} s of the exact engine (estimated; "
                         f"the scan stops at {SCAN_SECONDS:g} s): pass {advice}, or a larger eps")


def _n_min_commuting(eig: np.ndarray, k: int, log_eps: float, n_max: int) -> int | None:
    """``Σ = Λ``, ``m = ∞``: ``err_k(n) = Σ_i ((λ_i + T)/((n+1)λ_i + T))^{2k}`` decreases in ``n``
    (each factor does), so bisection finds the first ``n`` with ``err_k(n) <= ε``."""
    eig = np.clip(eig, 0.0, None)
    T = float(np.sum(eig))

    def log_err(n):
        f = (eig + T) / ((n + 1) * eig + T)
        top = float(np.max(f))
        return 2 * k * math.log(top) + math.log(float(np.sum((f / top) ** (2 * k))))
    if log_err(n_max) > log_eps:
        return None
    lo, hi = 0, n_max  # invariant: err(lo) > ε (lo = 0 stands for "none yet"), err(hi) <= ε
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if log_err(mid) <= log_eps:
            hi = mid
        else:
            lo = mid
    return hi


def _limit_log_errors_over_n(lam: np.ndarray, sig: np.ndarray, first: int, last: int, k: int,
                             chunk: int = 4096) -> np.ndarray:
    """``log err_k(∞)`` for ``n = first .. last`` (batched :func:`limit_log_error`)."""
    d = lam.shape[0]
    T = float(np.trace(lam))
    out = np.empty(last - first + 1)
    for start in range(first, last + 1, chunk):
        ns = np.arange(start, min(start + chunk, last + 1), dtype=float)
        G = (1 + 1 / ns)[:, None, None] * lam + (T / ns)[:, None, None] * np.eye(d)
        g_eig, g_vec = np.linalg.eigh(G)
        half = np.einsum("bij,bj,bkj->bik", g_vec, np.sqrt(g_eig), g_vec)
        inv_half = np.einsum("bij,bj,bkj->bik", g_vec, 1 / np.sqrt(g_eig), g_vec)
        B = inv_half @ sig @ inv_half
        beta, U = np.linalg.eigh((B + np.swapaxes(B, 1, 2)) / 2)
        nu = 1.0 - beta
        rho = np.max(np.abs(nu), axis=1)
        scaled = np.where(rho[:, None] > 0, nu / np.where(rho > 0, rho, 1)[:, None], 0.0) ** k
        P = inv_half @ np.einsum("bij,bj,bkj->bik", U, scaled, U) @ half
        with np.errstate(divide="ignore"):
            out[start - first: start - first + len(ns)] = (2 * k * np.log(rho)
                                                   + np.log(np.sum(P * P, axis=(1, 2))))
    return out


def k_min(train_cov, n, eps, *, m=None, test_cov=None, k_max: int = 10_000) -> int | None:
    r"""The fewest forward passes whose error reaches ``ε``: ``min{k >= 1 : err_k <= ε}``.

    At ``m = ∞`` and ``Σ = Λ``, with ``f = (1 + n/(1 + Hard))^{-1}`` and ``μ`` the multiplicity of
    ``λ_min``, ``μ f^{2k} <= err_k <= d f^{2k}`` gives

    .. math:: \frac{\log(\mu/\varepsilon)}{2\log(1/f)} \le k_{\min}
              \le \Big\lceil \frac{\log(d/\varepsilon)}{2\log(1/f)} \Big\rceil

    both increasing in Hard: harder tasks need more steps (the paper's reading of Cor 3.5).
    ``None`` if no ``k <= k_max`` reaches ``ε``. Finite ``m``: see :func:`optimal_steps` for cost.
    """
    lam = as_covariance(train_cov, "train_cov")
    n = positive_int(n, "n")
    eps = positive_float(eps, "eps")
    m = _optional_m(m)
    k_max = positive_int(k_max, "k_max")
    sig = lam if test_cov is None else as_covariance(test_cov, "test_cov")
    same_dimension(lam, sig, "train_cov", "test_cov")
    log_eps = math.log(eps)
    if m is None and test_cov is None:
        return _k_min_commuting(np.linalg.eigvalsh(lam), n, log_eps, k_max)
    b_up, a_low = _whitened_extremes(lam, sig, n)
    window = _reachable_steps(_floor_lines(b_up, a_low, m), log_eps, k_max)
    if window is None:
        return None
    first, last = window
    spent = 0.0
    for k in range(first, last + 1):
        if m is not None:
            each = _scan_cost(lam, sig, k, m)
            _scan_guard(f"k_min at n = {n}, m = {m}: no k <= {k - 1} reaches eps = {eps:g}; scanning on "
                        f"to k = {last} (k_max = {k_max}; the floor rules out larger k)", spent, each,
                        lambda: sum(_scan_cost(lam, sig, j, m) for j in range(k, min(last, k + 10**4) + 1)),
                        "a smaller k_max")
            spent += each
        (log_err,), _ = _log_errors(lam, sig, n, (k,), m, train_cov, test_cov)
        if log_err <= log_eps:
            return k
    return None


def _k_min_commuting(eig: np.ndarray, n: int, log_eps: float, k_max: int) -> int | None:
    """``Σ = Λ``, ``m = ∞``: ``err_k = Σ_i f_i^{2k}`` decreases in ``k`` (all ``f_i < 1`` or ``= 1``
    for a zero eigenvalue), so bisection finds the first ``k`` with ``err_k <= ε``."""
    eig = np.clip(eig, 0.0, None)
    T = float(np.sum(eig))
    f = (eig + T) / ((n + 1) * eig + T)
    top = float(np.max(f))

    def log_err(k):
        return 2 * k * math.log(top) + math.log(float(np.sum((f / top) ** (2 * k))))
    if log_err(k_max) > log_eps:
        return None
    lo, hi = 0, k_max
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if log_err(mid) <= log_eps:
            hi = mid
        else:
            lo = mid
    return hi
