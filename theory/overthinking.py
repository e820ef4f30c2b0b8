"""Overthinking: when more chain-of-thought steps make the error larger (Remark 4.1).

Notation (proofs/math.md §5 and §13):

* ``Λ`` training covariance (``train_cov``), ``Σ`` test covariance (``test_cov``), ``n`` and ``m`` the
  training and test prompt lengths, ``Γ = (1 + 1/n) Λ + (tr Λ / n) I``;
* ``M = I − Γ^{-1} Σ`` the error map at ``m = ∞`` (``e_k = M^k e_0``, ``e_0 = −w``, ``w ~ N(0, I)``),
  so ``err_k = ‖M^k‖_F²`` (``k`` counts forward passes, ``k = 1`` is direct ICL);
* ``N = I − Γ^{-1/2} Σ Γ^{-1/2}`` (symmetric), ``M = Γ^{-1/2} N Γ^{1/2}``, hence

  ``err_k = tr(N^k Γ N^k Γ^{-1}) = tr(N^k Γ^{-1} N^k Γ)``  (the two orders agree by cyclicity and
  transposition) and ``κ(Γ)^{-1} tr N^{2k} <= err_k <= κ(Γ) tr N^{2k}``; sharper, exactly,
  ``err_k = tr N^{2k} + ½‖M^k − (M^k)ᵀ‖_F²`` and ``err_k <= ½(κ + κ^{-1}) tr N^{2k}``
  (see :func:`remark41_bracket`);

* ``μ_i`` the eigenvalues of ``Γ^{-1} Σ`` (those of ``Γ^{-1/2} Σ Γ^{-1/2}``, all ``>= 0``), ``ν_i = 1 − μ_i``
  the eigenvalues of ``M`` and ``N``; ``tr N^{2k} = tr M^{2k} = Σ_i ν_i^{2k}`` is Remark 4.1's trace.

In the eigenbasis ``U`` of ``N``, ``err_k = Σ_{ij} C_ij (ν_i ν_j)^k`` with ``C = G ∘ G^{-1}``,
``G = Uᵀ Γ U`` (Hadamard product; ``C`` has unit row sums and diagonal ``>= 1``). When Γ and Σ commute
``C = I`` and ``err_k = tr N^{2k}``; otherwise the off-diagonal ``C_ij`` (of either sign) allow
transient growth and disagreement with the trace.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import partial
from math import ceil, gcd, log

import numpy as np
import sympy as sp
from flint import fmpz, fmpz_mat

from theory._exact import exact_matmul, exact_power, exact_solve
from theory._repr import RichRepr
from theory._validate import as_covariance, as_exact_covariance, positive_float, positive_int, same_dimension
from theory.covariance import gamma, gamma_exact

# Eigenvalues of Γ^{-1}Σ within this relative distance of 2 are decided in exact arithmetic.
BOUNDARY_RTOL = 1e-9
# Scans of err_k stop once the transient left is below this fraction of the error scale ...
TRANSIENT_RTOL = 1e-13
# ... or at this many steps; beyond it the conclusions are reported as not certified.
K_CAP = 100_000
# The report lists at least this many errors (for display).
MIN_SCAN = 10
# Diverging at m = ∞: the exact scan that certifies k* runs at most this many steps, and stops
# when the integer powers of I − Γ^{-1}Σ (entries growing linearly in k) pass EXACT_BITS bits; a
# d = 10 float input (entries of ~700 bits) reaches that in ~90 steps, about a second.
EXACT_STEPS = 500
EXACT_BITS = 1 << 16
# Finite m, no k_max: the window is the largest whose estimated exact-engine cost (summed over k,
# cold, theory.error.engine_cost) fits this many CPU seconds.  The estimates are calibrated on a
# loaded 2-core machine; under heavier load runs took up to 3x the estimate, so 2 s keeps the
# default call within ~10 s (d = 10: k_max = 9 commuting, 6 otherwise).
DEFAULT_WINDOW_SECONDS = 2.0
# An explicit k_max whose estimated cost is above this is refused (max_seconds=None: no limit).
DEFAULT_MAX_SECONDS = 60.0
# max_seconds=None still refuses a window estimated beyond this (a year of CPU: a hang, not a run).
RUN_ANYWAY_SECONDS = 3.0e7
# float64 overflows beyond exp(709.78)
_LOG_FLOAT_MAX = math.log(np.finfo(float).max)


# ----------------------------------------------------------------------------- exact m = ∞ quantities

def _exact_inputs(train_cov, n, test_cov):
    G = gamma_exact(train_cov, n)
    sig = as_exact_covariance(test_cov, "test_cov")
    same_dimension(G, sig, "train_cov", "test_cov")
    return G, sig


def step_matrix_exact(train_cov, n, test_cov) -> np.ndarray:
    r"""The ``m = ∞`` error map, exactly.

    .. math:: M = I - \Gamma^{-1}\Sigma

    Returns a ``(d, d)`` object array of ``Fraction`` (floats are converted exactly).
    """
    G, sig = _exact_inputs(train_cov, n, test_cov)
    d = G.shape[0]
    M = -exact_solve(G, sig)
    for i in range(d):
        M[i, i] += 1
    return M


# Exact powers of I − Γ⁻¹Σ grow to about k times the bits of its entries; past this many bits the
# Fractions' gcds take seconds (measured: k = 10⁴ at d = 2 in 5 ms, entries of ~10 bits; k = 10⁶ did
# not finish in 6 s), so a larger power is refused, pointing to the arb enclosure at any k.
EXACT_POWER_BITS = 2 ** 18


def _exact_step_power(train_cov, n, test_cov, power: int, k: int):
    M = step_matrix_exact(train_cov, n, test_cov)
    bits = max(max(v.numerator.bit_length(), v.denominator.bit_length()) for v in M.flat)
    if power * max(bits, 1) > EXACT_POWER_BITS:
        raise ValueError(f"k = {k} is too large for an exact power of I − Γ⁻¹Σ: its entries would grow to "
                         f"about {power * max(bits, 1):.3g} bits (limit {EXACT_POWER_BITS:.3g}); "
                         "theory.error.limit_error_enclosure encloses the m = ∞ error at any k")
    return exact_power(M, power)


def infinite_m_error_exact(train_cov, n, test_cov, k) -> Fraction:
    r"""Exact CoT error at ``m = ∞`` (proofs/math.md §13).

    .. math:: \mathrm{err}_k = \big\|(I - \Gamma^{-1}\Sigma)^k\big\|_F^2

    ``k >= 0`` (``err_0 = d``).
    """
    k = positive_int(k, "k", minimum=0)
    P = _exact_step_power(train_cov, n, test_cov, k, k)
    return sum((v * v for v in P.flat), Fraction(0))


def remark41_trace_exact(train_cov, n, test_cov, k) -> Fraction:
    r"""Remark 4.1's quantity, exactly.

    .. math:: \operatorname{tr}\big(I - \Gamma^{-1/2}\Sigma\Gamma^{-1/2}\big)^{2k}
              = \operatorname{tr}\big(I - \Gamma^{-1}\Sigma\big)^{2k}

    (the two matrices are similar, so the trace is rational for rational input).
    """
    k = positive_int(k, "k", minimum=0)
    P = _exact_step_power(train_cov, n, test_cov, 2 * k, k)
    return sum((P[i, i] for i in range(P.shape[0])), Fraction(0))


def gamma_condition_bounds_exact(train_cov, n) -> tuple[Fraction, Fraction]:
    r"""Rational bounds ``(L, U)`` with ``L <= κ(Γ) <= U``: ``L = max_i Γ_ii / min_i Γ_ii``,
    ``U = tr Γ · tr Γ^{-1}``. Used to state the bracket of Remark 4.1 in exact arithmetic:

    .. math:: U^{-1} \operatorname{tr} N^{2k} \le \kappa(\Gamma)^{-1}\operatorname{tr} N^{2k}
              \le \mathrm{err}_k \le \kappa(\Gamma)\operatorname{tr} N^{2k} \le U \operatorname{tr} N^{2k}.
    """
    G = gamma_exact(train_cov, n)
    d = G.shape[0]
    eye = np.empty((d, d), dtype=object)
    eye[...] = Fraction(0)
    for i in range(d):
        eye[i, i] = Fraction(1)
    Ginv = exact_solve(G, eye)
    diag = [G[i, i] for i in range(d)]
    return max(diag) / min(diag), sum(diag) * sum(Ginv[i, i] for i in range(d))


def remark41_bracket(train_cov, n) -> tuple[float, float]:
    r"""The sharp constants ``(c, C)`` with ``c tr N^{2k} <= err_k <= C tr N^{2k}`` for all ``Σ, k``.

    .. math:: \mathrm{err}_k = \operatorname{tr} N^{2k} + \tfrac12\|M^k - (M^k)^\top\|_F^2,
              \qquad \operatorname{tr} N^{2k} \le \mathrm{err}_k
              \le \tfrac12\big(\kappa(\Gamma) + \kappa(\Gamma)^{-1}\big) \operatorname{tr} N^{2k}

    Proof: ``‖A‖_F² − tr A² = ½‖A − Aᵀ‖_F²`` with ``A = M^k`` (``tr M^{2k} = tr N^{2k}``, similar
    matrices); in the eigenbasis of Γ (eigenvalues ``g_i``), ``A = Γ^{-1/2} B Γ^{1/2}`` with
    ``B = N^k`` symmetric has ``‖A‖_F² = Σ_i B_ii² + Σ_{i<j} B_ij² (g_i/g_j + g_j/g_i)``, and
    ``2 <= r + 1/r <= κ + 1/κ`` for ``r ∈ [1/κ, κ]``. Both constants are attained: ``c`` when Γ and Σ
    commute, ``C`` for ``d = 2``, ``N = [[0, 1], [1, 0]]`` and odd ``k``. They improve on Remark 4.1's
    bracket ``κ^{±1}`` (proofs/math.md §13). Returns ``(1.0, (κ + 1/κ)/2)``.
    """
    g = np.linalg.eigvalsh(gamma(train_cov, n))
    kappa = float(g[-1] / g[0])
    return 1.0, (kappa + 1 / kappa) / 2


def eventual_growth_exact(train_cov, n, test_cov) -> bool:
    r"""Whether the ``m = ∞`` error eventually grows without bound, decided exactly.

    .. math:: \mathrm{err}_k \to \infty \iff \lambda_{\max}(\Gamma^{-1}\Sigma) > 2

    (if the largest eigenvalue is exactly 2 the error stays bounded). Decided by counting the roots
    of the characteristic polynomial of ``Γ^{-1}Σ`` in ``(2, ∞)`` with Sturm sequences, in rationals.
    """
    G, sig = _exact_inputs(train_cov, n, test_cov)
    A = sp.Matrix(exact_solve(G, sig).tolist()).applyfunc(lambda v: sp.Rational(v.numerator, v.denominator))
    x = sp.Symbol("x")
    poly = sp.Poly(A.charpoly(x).as_expr(), x)
    while poly.eval(2) == 0:
        poly = sp.Poly(sp.quo(poly.as_expr(), x - 2, x), x)
    return bool(poly.count_roots(2, None) > 0)


# ----------------------------------------------------------------------------- float modal form

@dataclass(frozen=True)
class _Modal:
    """``err_k = Σ_ij C_ij (ν_i ν_j)^k`` and the pieces needed to evaluate and bound it."""

    mu: np.ndarray          # eigenvalues of Γ^{-1}Σ, ascending
    left: np.ndarray        # Γ^{-1/2} U: its columns are the eigenvectors of Γ^{-1}Σ
    right: np.ndarray       # Uᵀ Γ^{1/2}
    coupling: np.ndarray    # C = G ∘ G^{-1}

    @property
    def nu(self) -> np.ndarray:
        return 1.0 - self.mu

    def log_errors(self, ks: np.ndarray) -> np.ndarray:
        """``log err_k`` for each ``k`` in ``ks``, from a sum of squares (never negative).

        ``err_k = ρ^{2k} ‖Γ^{-1/2}U diag((ν/ρ)^k) UᵀΓ^{1/2}‖_F²`` with ``ρ = max|ν_i|``: the powers
        stay in ``[−1, 1]``, so nothing overflows at any ``k`` (``−inf`` only for an exact zero).
        """
        rho = float(np.max(np.abs(self.nu)))
        if rho == 0:
            return np.full(len(ks), -np.inf)
        scaled = self.nu / rho
        out = np.empty(len(ks))
        for start in range(0, len(ks), 256):
            chunk = ks[start:start + 256]
            powers = scaled[None, :] ** chunk[:, None]
            mats = np.einsum("ai,ki,ib->kab", self.left, powers, self.right, optimize=True)
            with np.errstate(divide="ignore"):
                out[start:start + 256] = np.log(np.sum(mats ** 2, axis=(1, 2))) + 2 * chunk * np.log(rho)
        return out


def _modal(G: np.ndarray, sig: np.ndarray) -> _Modal:
    g_eig, g_vec = np.linalg.eigh(G)
    half = (g_vec * np.sqrt(g_eig)) @ g_vec.T
    inv_half = (g_vec / np.sqrt(g_eig)) @ g_vec.T
    B = inv_half @ sig @ inv_half
    mu, U = np.linalg.eigh((B + B.T) / 2)
    Gu = U.T @ G @ U
    Ginv_u = U.T @ (g_vec / g_eig) @ g_vec.T @ U
    return _Modal(np.clip(mu, 0.0, None), inv_half @ U, U.T @ half, Gu * Ginv_u)


def _responsible(modal: _Modal, diverges_at_infinity: bool) -> np.ndarray:
    """Unit eigenvectors of ``Γ^{-1}Σ`` with eigenvalue above 2 (consistent with the exact decision
    of divergence when the top eigenvalue is within ``BOUNDARY_RTOL`` of 2)."""
    if not diverges_at_infinity:
        return modal.left[:, :0]
    above = modal.mu > 2 * (1 + BOUNDARY_RTOL)
    if not np.any(above):
        above = modal.mu >= modal.mu[-1]
    return _unit_columns(modal.left[:, above])


def _unit_columns(A: np.ndarray) -> np.ndarray:
    return A / np.linalg.norm(A, axis=0, keepdims=True) if A.size else A


# ----------------------------------------------------------------------------- the report

@dataclass(frozen=True)
class OverthinkingReport(RichRepr):
    r"""When and why more chain-of-thought steps increase the error (Remark 4.1).

    Attributes
    ----------
    m : int or None
        Test prompt length; ``None`` is ``m = ∞``.
    eigenvalues : numpy.ndarray
        Eigenvalues ``μ_i`` of ``Γ^{-1}Σ``, ascending.
    max_eig : float
        ``λ_max(Γ^{-1}Σ)``.
    margin : float
        ``max_eig − 2``: positive means the ``m = ∞`` error eventually grows like ``(max_eig − 1)^{2k}``.
    diverges : bool
        Whether ``err_k → ∞`` as ``k → ∞``. At ``m = ∞`` this is ``max_eig > 2`` (decided exactly
        when ``|margin|`` is within ``BOUNDARY_RTOL``); at finite ``m`` it holds for every ``Σ ≠ 0``.
    k_star : int or None
        ``argmin_{k >= 1} err_k`` (smallest on ties); ``None`` when the infimum is approached only as
        ``k → ∞`` (more steps always eventually help).
    err_star : float
        ``err`` at ``k_star``, or the infimum (the limit) when ``k_star`` is None.
    first_rise : int or None
        Smallest ``k >= 1`` with ``err_{k+1} > err_k``; None if the error never rises.
    behaviour : str
        ``"constant"`` (every ``err_k`` equal, e.g. ``Σ = 0``; ``k_star = 1``),
        ``"decreasing"`` (never rises), ``"rises from the start"`` (diverges, ``k_star = 1``),
        ``"falls then rises"`` (diverges, ``k_star > 1``), ``"transient growth"`` (rises somewhere
        but converges); at finite ``m`` also ``"falls throughout the window"`` (no rise up to
        ``k_max``: ``k_star = k_max`` is then only a lower bound).
    responsible : numpy.ndarray
        ``(d, r)``: unit eigenvectors of ``Γ^{-1}Σ`` with eigenvalue ``> 2`` — the directions in
        which each step overshoots by more than it corrects, so the error along them grows.
    overshoot : numpy.ndarray
        ``(d, s)``: unit eigenvectors with eigenvalue ``> 1`` (each step overshoots; the error along
        them alternates in sign, and grows iff the eigenvalue exceeds 2).
    errors : numpy.ndarray
        ``err_1, err_2, ...`` over the scanned range (``errors[k-1] = err_k``), up to the first that
        exceeds the float range (the scan itself is in logarithms); never NaN or inf.
    certified : bool
        At ``m = ∞``: diverging, ``k*`` is proved over all ``k`` in exact arithmetic (exact errors and
        the tail bound ``err_k >= tr N^{2K}/d``, :func:`_exact_scan`); converging, the scan reached the
        step beyond which the (float) tail bound fixes the answer; a constant curve, proved exactly.
        At finite ``m``: only for ``Σ = 0`` (constant); otherwise False, the scan is a finite window.
    """

    m: int | None
    eigenvalues: np.ndarray
    max_eig: float
    margin: float
    diverges: bool
    k_star: int | None
    err_star: float
    first_rise: int | None
    behaviour: str
    responsible: np.ndarray
    overshoot: np.ndarray
    errors: np.ndarray
    certified: bool

    def as_dict(self) -> dict:
        """Plain JSON-ready fields (the ``tts overthink --json`` output)."""
        return {"m": self.m, "diverges": bool(self.diverges), "k_star": self.k_star,
                "err_star": float(self.err_star), "max_eig": float(self.max_eig),
                "margin": float(self.margin), "first_rise": self.first_rise,
                "behaviour": self.behaviour, "certified": bool(self.certified),
                "eigenvalues": [float(v) for v in self.eigenvalues],
                "responsible": self.responsible.T.tolist(),
                "errors": [float(v) for v in self.errors]}


def _tail_scan_length(modal: _Modal, diverges: bool, scale: float) -> tuple[int, bool]:
    """Number of steps to scan so that the tail beyond it cannot change k*, first rise or behaviour.

    Diverging (``ρ = max|ν| > 1``, attained only by ``ν = −ρ``, i.e. the top eigenvalue): with
    ``T`` the top eigenspace, ``err_{k+1} − err_k >= r^k (r − 1) C_T − B s^k`` where ``r = ρ²``,
    ``C_T = Σ_{T×T} C_ij > 0``, ``s < r`` the next largest ``|ν_i ν_j|`` and ``B = Σ |C_ij||ν_iν_j − 1|``
    over the other pairs: increasing for ``k > log(B / ((r−1) C_T)) / log(r / s)``.
    Not diverging: the part of ``err_k`` that has not converged is at most ``Σ |C_ij| s^k`` with
    ``s`` the largest ``|ν_i ν_j| < 1``; scan until it is below ``TRANSIENT_RTOL · scale``.
    """
    nu, C = modal.nu, modal.coupling
    x = np.multiply.outer(nu, nu)
    if diverges:
        rho = np.max(np.abs(nu))
        top = np.isclose(nu, -rho, rtol=1e-12, atol=0)
        in_top = np.logical_and.outer(top, top)
        with np.errstate(over="ignore"):
            r, c_top = float(rho) ** 2 if rho < 1e150 else math.inf, float(np.sum(C[in_top]))
        rest = ~in_top & (np.abs(C) > 0)
        if not np.any(rest):
            return 1, True
        s = float(np.max(np.abs(x[rest])))
        b = float(np.sum(np.abs(C[rest]) * np.abs(x[rest] - 1)))
        if s == 0 or b <= (r - 1) * c_top:
            return 2, True
        k = ceil(log(b / ((r - 1) * c_top)) / log(r / s)) + 2
    else:
        moving = (np.abs(x) < 1 - 1e-12) & (np.abs(C) > 0)
        if not np.any(moving):
            return 2, True
        s = float(np.max(np.abs(x[moving])))
        if s == 0:
            return 2, True
        b = float(np.sum(np.abs(C[moving])))
        k = max(2, ceil(log(TRANSIENT_RTOL * scale / b) / log(s)) + 1)
    return (k, True) if k <= K_CAP else (K_CAP, False)


def _limit_values(modal: _Modal) -> tuple[float, float]:
    """``lim err_{2j}`` and ``lim err_{2j+1}`` when nothing diverges (pairs with ``|ν_i ν_j| = 1``)."""
    x = np.multiply.outer(modal.nu, modal.nu)
    unit = np.abs(np.abs(x) - 1) <= 1e-12
    even = float(np.sum(modal.coupling[unit]))
    odd = float(np.sum(modal.coupling[unit] * np.sign(x[unit])))
    return even, odd


def _classify(logs: np.ndarray, diverges: bool, limits: tuple[float, float] | None,
              resolution: float = 0.0):
    """``(k*, err*, first rise, behaviour)`` from ``log err_1, log err_2, ...`` (a float scan)."""
    # a rise must exceed float noise, relative to the error it rises from
    with np.errstate(invalid="ignore"):
        rises = np.nonzero(np.diff(logs) > 1e-12)[0]
    first_rise = int(rises[0]) + 1 if rises.size else None
    best = int(np.argmin(logs))
    with np.errstate(over="ignore"):
        err_best = float(np.exp(logs[best]))
    if diverges:
        k_star = best + 1
        behaviour = "rises from the start" if k_star == 1 else "falls then rises"
        return k_star, err_best, first_rise, behaviour
    inf_limit = min(limits)
    if err_best < inf_limit - resolution:                 # the infimum is attained at a finite k
        k_star, err_star = best + 1, err_best
    elif inf_limit <= resolution and np.exp(logs[0]) <= resolution:  # Σ = Γ: solved in one step
        k_star, err_star = 1, float(np.exp(logs[0]))
    else:
        k_star, err_star = None, inf_limit
    behaviour = "decreasing" if first_rise is None else "transient growth"
    return k_star, err_star, first_rise, behaviour


def _inputs(train_cov, n, test_cov):
    G = gamma(train_cov, n)
    sig = as_covariance(test_cov, "test_cov")
    same_dimension(G, sig, "train_cov", "test_cov")
    return G, sig


def _diverges_at_infinity(modal: _Modal, train_cov, n, test_cov) -> bool:
    max_eig = float(modal.mu[-1])
    if abs(max_eig - 2) <= BOUNDARY_RTOL * max(1.0, max_eig):
        return eventual_growth_exact(train_cov, n, test_cov)
    return max_eig > 2


@dataclass(frozen=True)
class _ExactScan:
    """The exact ``err_1 .. err_K`` at ``m = ∞`` (see :func:`_exact_scan`)."""

    logs: np.ndarray        # log err_k, each from the exact value (rounded once)
    best: Fraction          # min_k err_k over the scan (smallest k on ties: k_star = best_k)
    best_k: int
    first_rise: int | None  # smallest k with err_{k+1} > err_k (exact comparison), within the scan
    constant: bool
    tail: int | None


def _exact_scan(train_cov, n, test_cov, steps: int, diverges: bool) -> _ExactScan:
    """Exact ``err_1, err_2, ...`` at ``m = ∞`` and what they prove.

    ``M = I − Γ^{-1}Σ = A/q`` with ``A`` an integer matrix, so ``err_k = ‖A^k‖_F² / q^{2k}`` with FLINT
    integer matrix products, compared in integers.  It proves:

    * ``constant``: ``M³ = M`` and ``err_1 = err_2`` — the eigenvalues of ``M`` (similar to the
      symmetric ``N``, so diagonalisable) lie in ``{−1, 0, 1}``, so ``err_k = a + b(−1)^k`` for
      ``k >= 1``, and ``b = 0``: every ``err_k`` is ``err_1``;
    * ``tail`` (when ``diverges``): the first ``K`` with ``tr M^{2K} > d`` and
      ``tr M^{2K} >= d · min_{k<=K} err_k``, and a strict rise seen by then.  Then ``ρ = max|ν_i| > 1``
      (``ρ^{2K} >= tr N^{2K}/d > 1``) and for every ``k >= K``,
      ``err_k >= tr N^{2k} >= ρ^{2k} >= ρ^{2K} >= tr N^{2K}/d >= min_{j<=K} err_j``
      (proofs/math.md §13: ``err_k >= tr N^{2k}``), so the minimiser over ``k <= K`` is the
      minimiser over all ``k``; None if not reached within ``steps``.
    """
    M = step_matrix_exact(train_cov, n, test_cov)
    d = M.shape[0]
    q = 1
    for v in M.flat:
        q = q * v.denominator // gcd(q, v.denominator)
    A = fmpz_mat(d, d, [int(v * q) for v in M.flat])
    q2 = fmpz(q) ** 2
    # err_k = nums[k-1] / q^{2k}: err_i < err_j iff nums_i q^{2(j-i)} < nums_j (integers only)
    P, nums, best, first_rise, tail, constant = A, [], 0, None, None, False
    for k in range(1, steps + 1):
        if k > 1:
            P = P * A
        num = sum(e * e for e in P.entries())
        if first_rise is None and nums and num > nums[-1] * q2:
            first_rise = k - 1
        nums.append(num)
        if num < nums[best] * q2 ** (k - 1 - best):
            best = k - 1
        if k == 3 and nums[1] == nums[0] * q2 and P == A * q2:
            constant = True
            break
        if num.bit_length() > 2 * EXACT_BITS:
            break
        if diverges and first_rise is not None:
            trace = sum(P[i, j] * P[j, i] for i in range(d) for j in range(d))
            # tr M^{2k} > d and tr M^{2k} >= d err_best, both sides times q^{2k}
            if trace > d * q2 ** k and trace >= d * nums[best] * q2 ** (k - 1 - best):
                tail = k
                break
    log_q2 = math.log(int(q2))
    logs = np.array([math.log(int(v)) - (k + 1) * log_q2 if v else -math.inf for k, v in enumerate(nums)])
    return _ExactScan(logs, Fraction(int(nums[best]), int(q2 ** (best + 1))), best + 1, first_rise,
                      constant, tail)


def _finite(values) -> np.ndarray:
    """``exp`` of log errors, up to the first that overflows a float (for display)."""
    with np.errstate(over="ignore"):
        out = np.exp(np.asarray(values, dtype=float))
    bad = np.nonzero(~np.isfinite(out))[0]
    return out[:bad[0]] if bad.size else out


def _exp_or_inf(log_value: float) -> float:
    return math.exp(log_value) if log_value < _LOG_FLOAT_MAX else math.inf


def _float_or_raise(value, what: str) -> float:
    try:
        out = float(value)
    except OverflowError:
        out = math.inf
    if not math.isfinite(out):
        raise ValueError(f"train_cov and test_cov: {what} is beyond the float range (1e308); the curve in "
                         f"logarithms: theory.scaling.limit_log_error (m = ∞), theory.error.cot_log_error")
    return out


def _window_cost(d: int, k_max: int, commuting: bool, stop: float = math.inf) -> float:
    """Estimated CPU seconds of ``err_1 .. err_{k_max}`` at one finite ``m`` (cold, errs high); the sum
    stops once it passes ``stop`` (a huge ``k_max`` then costs nothing to price)."""
    from theory.bracket import engine_cost_seconds
    total = 0.0
    for k in range(1, k_max + 1):
        total += engine_cost_seconds(d, k, commuting)
        if total > stop:
            break
    return total


def overthinking_report(train_cov, n, test_cov, *, m=None, k_max=None,
                 max_seconds=DEFAULT_MAX_SECONDS) -> OverthinkingReport:
    r"""Whether, when and why chain of thought overthinks (Remark 4.1).

    At ``m = ∞`` (default) the error is exact in closed form,

    .. math:: \mathrm{err}_k = \|(I - \Gamma^{-1}\Sigma)^k\|_F^2
              = \sum_{ij} C_{ij} (\nu_i\nu_j)^k, \qquad \nu_i = 1 - \mu_i(\Gamma^{-1}\Sigma),

    it grows without bound iff ``λ_max(Γ^{-1}Σ) > 2``, and a tail bound fixes how far to scan for
    ``k*`` (see :func:`_tail_scan_length`).  The scan is in logarithms (no overflow at any ``k``) and
    is redone in exact rational arithmetic over its first steps (:func:`_exact_scan`): diverging,
    ``certified`` is True only when the exact values and an exact tail bound prove ``k*`` over all
    ``k``; converging, the first ``MIN_SCAN + 1`` errors are exact and the tail bound of
    :func:`_tail_scan_length` is evaluated in floats.  At finite
    ``m`` the exact error of :func:`theory.error.cot_log_error` (logarithm: no overflow) is scanned over
    ``k = 1..k_max``; it diverges for every ``Σ ≠ 0`` (the test sample covariance has unbounded
    spectrum), so ``k*`` is the minimiser over that window.  A constant error curve (``Σ = 0``, or
    ``M³ = M`` with ``err_1 = err_2`` at ``m = ∞``) is reported as ``"constant"`` with ``k* = 1``.

    Parameters
    ----------
    train_cov, test_cov : array_like
        ``Λ`` and ``Σ``: ``(d, d)`` symmetric PSD, or 1-D eigenvalues.
    n : int
        Training prompt length.
    m : int, optional
        Test prompt length; ``None`` (default) is ``m = ∞``.
    k_max : int, optional
        Finite ``m`` only: the window ``k = 1..k_max`` scanned with the exact engine, ``k_max >= 2``.
        Default: the largest window (at least 2) whose estimated cost fits ``DEFAULT_WINDOW_SECONDS``
        (and ``max_seconds``).
    max_seconds : float or None
        Finite ``m`` only: an explicit ``k_max`` whose estimated cost
        (:func:`theory.error.engine_cost`, CPU seconds summed over ``k``) exceeds this raises
        ``ValueError`` before anything runs; ``None`` is no limit.  Rigorous brackets at any ``k``
        at a bounded cost: :func:`theory.bracket.error_bracket_curve`.

    Returns
    -------
    OverthinkingReport
    """
    G, sig = _inputs(train_cov, n, test_cov)
    modal = _modal(G, sig)
    mu = modal.mu
    max_eig = float(mu[-1])
    overshoot = _unit_columns(modal.left[:, mu > 1])
    if m is None:
        if k_max is not None:
            positive_int(k_max, "k_max", minimum=2)  # unused at m = ∞, but still a window length
        rho = float(np.max(np.abs(modal.nu)))
        if rho > 1e154:  # every err_k >= ρ^{2k} >= ρ² > 1e308
            raise ValueError(f"train_cov and test_cov: ρ(I − Γ^{{-1}}Σ) = {rho:.3g}, so every err_k >= ρ^{{2k}} "
                             f"is beyond the float range (1e308); the curve in logarithms: "
                             f"theory.scaling.limit_log_error")
        diverges = _diverges_at_infinity(modal, train_cov, n, test_cov)
        responsible = _responsible(modal, diverges)
        scale = float(np.sum(np.abs(modal.coupling)))
        K, float_certified = _tail_scan_length(modal, diverges, scale)
        K = max(K, MIN_SCAN)
        logs = modal.log_errors(np.arange(1, K + 2))
        # diverging, the exact tail bound is looser than the float one: let it run past K
        exact = _exact_scan(train_cov, n, test_cov, EXACT_STEPS if diverges else min(K + 1, MIN_SCAN + 1),
                            diverges)
        report = partial(OverthinkingReport, None, mu, max_eig, max_eig - 2, diverges,
                         responsible=responsible, overshoot=overshoot)
        if exact.constant:
            return report(k_star=1, err_star=float(exact.best), first_rise=None, behaviour="constant",
                          errors=np.full(K + 1, float(exact.best)), certified=True)
        shown = np.concatenate([exact.logs, logs[len(exact.logs):]])[:max(K + 1, exact.best_k + 1)]
        if diverges and exact.tail is not None:
            return report(k_star=exact.best_k, err_star=_float_or_raise(exact.best, "err*"),
                          first_rise=exact.first_rise,
                          behaviour="rises from the start" if exact.best_k == 1 else "falls then rises",
                          errors=_finite(shown), certified=True)
        covered = len(exact.logs) >= K + 1
        # diverging without the exact tail bound: not certified; converging: the tail bound of
        # _tail_scan_length (floats), with the first MIN_SCAN + 1 errors exact
        limits = None if diverges else _limit_values(modal)
        k_star, err_star, first_rise, behaviour = _classify(shown, diverges, limits, TRANSIENT_RTOL * scale)
        if covered:
            first_rise = exact.first_rise
            if not diverges:
                behaviour = "decreasing" if first_rise is None else "transient growth"
        return report(k_star=k_star, err_star=_float_or_raise(err_star, "err*"), first_rise=first_rise,
                      behaviour=behaviour, errors=_finite(shown),
                      certified=float_certified and not diverges)
    m = positive_int(m, "m")
    if max_seconds is not None:
        max_seconds = positive_float(max_seconds, "max_seconds")
    d = G.shape[0]
    commuting = bool(np.allclose(G @ sig, sig @ G, rtol=0, atol=0))
    if k_max is None:
        budget = DEFAULT_WINDOW_SECONDS if max_seconds is None else min(max_seconds, DEFAULT_WINDOW_SECONDS)
        k_max = 2
        while _window_cost(d, k_max + 1, commuting) <= budget:
            k_max += 1
    else:
        k_max = positive_int(k_max, "k_max", minimum=2)
        # priced in full up to 10^4 steps; beyond, the sum stops once it passes the limit ("over")
        limit = RUN_ANYWAY_SECONDS if max_seconds is None else max_seconds
        cost = _window_cost(d, k_max, commuting, math.inf if k_max <= 10 ** 4 else limit)
        about = "about" if k_max <= 10 ** 4 else "over"
        if max_seconds is not None and cost > max_seconds:
            raise ValueError(f"k_max = {k_max} at finite m would cost {about} {cost:.3g} s of the exact engine "
                             f"(d = {d}), over max_seconds = {max_seconds:g}; pass a smaller k_max, a larger "
                             f"max_seconds, or max_seconds=None to run it anyway (or bracket it with "
                             f"theory.bracket.error_bracket_curve)")
        if cost > RUN_ANYWAY_SECONDS:
            raise ValueError(f"k_max = {k_max} at finite m would cost {about} {cost:.3g} s of the exact engine "
                             f"(d = {d}) even with max_seconds=None; bracket it with "
                             f"theory.bracket.error_bracket_curve")
    responsible = _responsible(modal, _diverges_at_infinity(modal, train_cov, n, test_cov))
    if not np.any(sig):  # Σ = 0: Ŝ_m = 0, the estimate never moves, err_k = ‖I‖_F² = d for all k
        return OverthinkingReport(m, mu, max_eig, max_eig - 2, False, 1, float(d), None, "constant",
                                  responsible, overshoot, np.full(k_max, float(d)), True)
    from theory.error import cot_log_error
    logs = np.array([cot_log_error(train_cov, n, k, test_cov=test_cov, m=m) for k in range(1, k_max + 1)])
    report = partial(OverthinkingReport, m, mu, max_eig, max_eig - 2,
                     responsible=responsible, overshoot=overshoot, errors=_finite(logs))
    rises = np.nonzero(np.diff(logs) > 1e-12)[0]
    first_rise = int(rises[0]) + 1 if rises.size else None
    best = int(np.argmin(logs))
    if first_rise is None:
        behaviour = "falls throughout the window"
    else:
        behaviour = "rises from the start" if best == 0 else "falls then rises"
    return report(diverges=True, k_star=best + 1, err_star=_float_or_raise(_exp_or_inf(logs[best]), "err*"),
                  first_rise=first_rise, behaviour=behaviour, certified=False)


# ----------------------------------------------------------------------------- one more step at finite m

@dataclass(frozen=True)
class StepGain(RichRepr):
    r"""Whether one more CoT pass helps at finite ``m``: the exact sign of ``err_{k+1} − err_k``.

    Attributes
    ----------
    k : int
        The comparison is ``err_{k+1}`` against ``err_k`` (``k = 1``: one CoT step beyond direct ICL).
    coefficients : tuple of Fraction
        ``δ_r`` in ``err_{k+1} − err_k = Σ_r δ_r m^{-r}`` (exact; ``δ_0`` is the ``m = ∞`` difference).
    helps_at_infinity : bool
        The step helps for all large enough ``m``: the lowest-order nonzero ``δ_r`` is negative.
    m_threshold : int or None
        Smallest ``m_0`` such that the step helps for every ``m >= m_0``; None if it does not help
        for large ``m``.
    crossings : tuple of float
        The real ``m >= 1`` at which ``err_{k+1} = err_k`` (where helping and hurting swap), ascending.
    """

    k: int
    coefficients: tuple
    helps_at_infinity: bool
    m_threshold: int | None
    crossings: tuple

    def gain(self, m) -> Fraction:
        """``err_{k+1} − err_k`` at ``m`` (None: ``m = ∞``), exactly."""
        if m is None:
            return self.coefficients[0]
        m = positive_int(m, "m")
        return sum((c / Fraction(m) ** r for r, c in enumerate(self.coefficients)), Fraction(0))


def step_gain(train_cov, n, test_cov=None, *, k: int = 1) -> StepGain:
    r"""The exact finite-``m`` counterpart of "does more thinking help": ``err_{k+1} < err_k``?

    .. math:: \mathrm{err}_{k+1}(m) - \mathrm{err}_k(m) = \sum_{r=0}^{2k+1} \delta_r\, m^{-r}

    from the exact polynomials of :func:`theory.error.cot_error_poly`. At every finite ``m`` the error
    eventually diverges in ``k``; this asks the local question, for each ``m``. The set of ``m`` where
    the step helps is read off the real roots of the polynomial in ``x = 1/m`` (exact root isolation);
    ``m_threshold`` is then checked exactly at ``m_0`` and ``m_0 − 1``.
    """
    k = positive_int(k, "k")
    from theory.error import cot_error_poly
    low = cot_error_poly(train_cov, n, k, test_cov=test_cov).coefficients
    high = cot_error_poly(train_cov, n, k + 1, test_cov=test_cov).coefficients
    size = max(len(low), len(high))
    delta = tuple((high[r] if r < len(high) else Fraction(0)) - (low[r] if r < len(low) else Fraction(0))
                  for r in range(size))
    while len(delta) > 1 and delta[-1] == 0:
        delta = delta[:-1]
    x = sp.Symbol("x")
    poly = sp.Poly(sum((sp.Rational(c.numerator, c.denominator) * x ** r for r, c in enumerate(delta)),
                       sp.Integer(0)), x)
    lowest = next((c for c in delta if c != 0), Fraction(0))
    helps_at_infinity = lowest < 0
    if poly.is_zero:
        return StepGain(k, delta, False, None, ())
    roots = sorted({float(r) for r in sp.real_roots(poly) if 0 < r <= 1})
    crossings = tuple(sorted(1 / r for r in roots))
    gain = StepGain(k, delta, helps_at_infinity, None, crossings)
    if not helps_at_infinity:
        return gain
    m0 = int(np.floor(crossings[-1])) + 1 if crossings else 1
    # the float roots only propose m_0: confirm in exact arithmetic, moving by one if rounding misled
    while m0 > 1 and gain.gain(m0 - 1) < 0:
        m0 -= 1
    while gain.gain(m0) >= 0:
        m0 += 1
    return StepGain(k, delta, True, m0, crossings)


# ----------------------------------------------------------------------------- larger n

def divergence_onset(train_cov, test_cov, *, n_max: int = 10**9) -> int | None:
    r"""The smallest ``n`` at which the ``m = ∞`` error grows without bound, or None if none does.

    Since ``Γ_n − Γ_{n'} = (1/n − 1/n')(Λ + tr Λ I) ⪰ 0`` for ``n < n'``, ``Γ_n^{-1}`` increases with ``n``
    in the Loewner order and so does every eigenvalue of ``Σ^{1/2} Γ_n^{-1} Σ^{1/2}`` (those of
    ``Γ_n^{-1}Σ``): the set of diverging ``n`` is ``{n >= n_0}``. By congruence,

    .. math:: \lambda_{\max}(\Gamma_n^{-1}\Sigma) > 2 \iff \lambda_{\max}(\Sigma - 2\Gamma_n) > 0,
              \qquad \Sigma - 2\Gamma_n \to \Sigma - 2\Lambda \ (n \to \infty),

    so some ``n`` diverges iff ``Σ ⋠ 2Λ``. ``n_0`` is found by bisection on that test (decided
    exactly near the boundary, as in :func:`overthinking`); None if ``Σ ⪯ 2Λ`` or ``n_0 > n_max``.
    """
    lam = as_covariance(train_cov, "train_cov")
    sig = as_covariance(test_cov, "test_cov")
    same_dimension(lam, sig, "train_cov", "test_cov")
    n_max = positive_int(n_max, "n_max")

    def diverges(n: int) -> bool:
        G = gamma(train_cov, n)
        return _diverges_at_infinity(_modal(G, sig), train_cov, n, test_cov)

    if not diverges(n_max):
        return None
    lo, hi = 0, n_max        # diverges(hi) holds; diverges(lo) is False by convention (n >= 1)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if diverges(mid):
            hi = mid
        else:
            lo = mid
    return hi


# ----------------------------------------------------------------------------- the paper's LSA experiment

@dataclass(frozen=True)
class ExperimentRow(RichRepr):
    """One curve of :func:`lsa_experiment`: training length ``n``, test length ``m`` (None: ∞)."""

    n: int
    m: int | None
    k_star: int | None
    err_star: float
    first_rise: int | None
    certified: bool
    behaviour: str
    max_eig: float
    errors: np.ndarray


@dataclass(frozen=True)
class LSAExperiment(RichRepr):
    """The overthinking experiment of Section 4: skewed training spectrum, isotropic test.

    ``train_eigs`` are ``λ_i ∝ 1/i`` scaled as ``normalisation`` says; ``rows`` holds one
    :class:`ExperimentRow` per ``(m, n)``, ``m`` in the order given, then ``n``.
    """

    d: int
    normalisation: str
    train_eigs: tuple
    rows: tuple

    def row(self, n, m=None) -> ExperimentRow:
        for r in self.rows:
            if r.n == n and r.m == m:
                return r
        raise ValueError(f"no row with n = {n}, m = {m}")


def skewed_spectrum(d, normalisation: str = "trace") -> tuple:
    r"""``λ_i ∝ 1/i``, ``i = 1..d``, as exact Fractions.

    ``"trace"``: ``tr Λ = d = tr Σ`` for the isotropic test ``Σ = I`` (same total signal);
    ``"unit"``: ``λ_i = 1/i`` (``λ_1 = 1``). The paper's scale is not known; the two give opposite
    pictures at ``m = ∞`` (see ``paper_notes.md``, ``rem4.1``).
    """
    d = positive_int(d, "d")
    if normalisation == "unit":
        return tuple(Fraction(1, i) for i in range(1, d + 1))
    if normalisation == "trace":
        harmonic = sum((Fraction(1, i) for i in range(1, d + 1)), Fraction(0))
        return tuple(Fraction(d, 1) / (harmonic * i) for i in range(1, d + 1))
    raise ValueError(f"normalisation must be 'trace' or 'unit', got {normalisation!r}")


def lsa_experiment(d: int = 10, ns=(10, 20, 30), ms=(None, 40), *, normalisation: str = "trace",
                   k_max: int = 7) -> LSAExperiment:
    r"""Reproduce the overthinking experiment: ``λ_i ∝ 1/i`` training, ``Σ = I`` test, several ``n``.

    .. math:: \mathrm{err}_k(n, m) \text{ for } k = 1, \dots, \text{ exact: }
              \|(I - \Gamma_n^{-1})^k\|_F^2 \ (m = \infty), \ \text{the exact engine (finite } m)

    At ``m = ∞`` the scan is the certified one of :func:`overthinking`; at finite ``m`` it covers
    ``k = 1..k_max`` (``certified`` when the error has risen inside that window, so ``k*`` is the
    first minimum). Returns the data for a figure (``rows[i].errors``).
    """
    d = positive_int(d, "d")
    eigs = skewed_spectrum(d, normalisation)
    if not ns:
        raise ValueError("ns must list at least one training length n")
    if not ms:
        raise ValueError("ms must list at least one test length m (None for m = ∞)")
    ms = [None if m is None else positive_int(m, "ms") for m in ms]
    k_max = positive_int(k_max, "k_max", minimum=2)
    rows = []
    for m in ms:
        for n in ns:
            n = positive_int(n, "ns")
            report = overthinking_report(eigs, n, [1] * d, m=m, k_max=k_max, max_seconds=None)
            certified = report.certified if m is None else report.first_rise is not None
            rows.append(ExperimentRow(n, m, report.k_star, report.err_star, report.first_rise, certified,
                                      report.behaviour, report.max_eig, report.errors))
    return LSAExperiment(d, normalisation, eigs, tuple(rows))
