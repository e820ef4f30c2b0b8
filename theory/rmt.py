"""The isotropic model exactly, and its proportional (random-matrix) limit.

Notation (proofs/math.md §7 and §15):

* ``Λ = Σ = I_d``; ``Z`` is ``d × m`` with i.i.d. N(0, 1) entries, ``W = Z Zᵀ`` (real Wishart
  ``W_d(m, I)``) and ``S = W / m`` the test sample covariance;
* ``Γ = (1 + 1/n) I + (d/n) I = γ_d I`` with ``γ_d = 1 + (d + 1)/n``, so the CoT error matrix
  ``I − Γ^{-1} S`` is symmetric and ``err_k = E tr (I − S/γ_d)^{2k}``: a rational function of d, m, n;
* proportional limit: ``d → ∞`` with ``m = α d`` and ``n = ν d``; then ``γ_d → γ = 1 + 1/ν`` and the
  spectrum of ``S`` tends to the Marchenko–Pastur law ``μ_MP^{(c)}`` of ratio ``c = d/m = 1/α``:
  edges ``(1 ∓ α^{-1/2})²``, an atom ``1 − α`` at 0 when ``α < 1``, moments the Narayana polynomials
  ``Σ_r N(j, r+1) c^r``.

The moments ``E Π_i tr W^{p_i}`` come from a self-contained Gaussian integration-by-parts
recursion with ``d`` and ``m`` symbolic. It shares nothing with the general engine of
:mod:`theory.error`, so each cross-checks the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from math import comb

import mpmath
import sympy as sp

from theory._repr import RichRepr
from theory._validate import cost_guard, positive_int

d_sym, m_sym, n_sym = sp.symbols("d m n", positive=True)
alpha_sym, nu_sym, eps_sym = sp.symbols("alpha nu epsilon", positive=True)

# A polynomial in (d, m) with integer coefficients: a tuple of ((deg_d, deg_m), coefficient) pairs,
# hashable so the recursion can be memoised. Plain integers keep the recursion exact and fast.
_Poly = tuple


def _padd(acc: dict, poly: _Poly, factor: int = 1, shift_d: int = 0, shift_m: int = 0) -> None:
    """``acc += factor * d^shift_d * m^shift_m * poly`` in place."""
    for (a, b), c in poly:
        key = (a + shift_d, b + shift_m)
        acc[key] = acc.get(key, 0) + factor * c


def _freeze(acc: dict) -> _Poly:
    return tuple(sorted((k, v) for k, v in acc.items() if v))


def _normalise(powers) -> tuple[tuple[int, ...], int]:
    """Drop the ``tr W^0 = d`` factors: (sorted positive powers, number of factors d removed)."""
    positive = tuple(sorted(p for p in powers if p > 0))
    return positive, len(powers) - len(positive)


@lru_cache(maxsize=None)
def _moment(state: tuple[int, ...]) -> _Poly:
    """``E Π tr W^{p}`` over ``state`` (sorted positive powers) as a polynomial in (d, m).

    Stein's lemma on the largest power ``p`` (``tr W^p = Σ_{a,i} Z_{ai} (Zᵀ W^{p-1})_{ia}``) gives

        E[tr W^p R] = (m + p − 1) E[tr W^{p−1} R] + Σ_{s=1}^{p−1} E[tr W^s tr W^{p−1−s} R]
                      + Σ_j 2 q_j E[tr W^{p+q_j−1} R / tr W^{q_j}],

    with ``R = Π_j tr W^{q_j}`` the other factors and ``tr W^0 = d``.
    """
    if not state:
        return (((0, 0), 1),)
    p, rest = state[-1], state[:-1]
    acc: dict = {}

    def add(powers, factor: int = 1, shift_m: int = 0) -> None:
        key, n_d = _normalise(powers)
        _padd(acc, _moment(key), factor, shift_d=n_d, shift_m=shift_m)

    add(rest + (p - 1,), 1, shift_m=1)          # m E[tr W^{p-1} R]
    if p > 1:
        add(rest + (p - 1,), p - 1)             # the (p − 1) "twist" terms, one per inner factor
    for s in range(1, p):                       # split: one trace becomes two
        add(rest + (s, p - 1 - s))
    for j, q in enumerate(rest):                # merge: the derivative of another trace
        add(rest[:j] + rest[j + 1:] + (p + q - 1,), 2 * q)
    return _freeze(acc)


# The recursion visits the partitions of the total power P (at most npartitions(P) states), each
# combining O(P) others with polynomials of O(P) terms; SYMBOLIC_COST_LIMIT keeps that under about
# half a minute (P = 20 costs 2.5e5 and runs in half a second).
SYMBOLIC_COST_LIMIT = 10 ** 7


def _moment_cost(total: int) -> float:
    return float(int(sp.partition(total))) * total * total


def _check_powers(powers) -> tuple[int, ...]:
    try:
        items = list(powers)
    except TypeError:
        raise ValueError(f"powers must be a sequence of integers >= 0, got {powers!r}") from None
    if not items:
        raise ValueError("powers must hold at least one exponent, got an empty sequence")
    out = tuple(positive_int(p, "powers", minimum=0) for p in items)
    total = sum(out)
    # beyond 1000 the cost at 1000 (2.4e37) is quoted: a lower bound already far past the limit
    cost_guard(_moment_cost(min(total, 1000)), f"the moment recursion over the partitions of {total}",
               "powers", powers, limit=SYMBOLIC_COST_LIMIT)
    return out


def _check_k_moments(k, what: str) -> int:
    """``k >= 0`` whose route needs ``E tr W^j`` for ``j <= 2k``, refused beyond the cost limit."""
    k = positive_int(k, "k", minimum=0)
    # beyond k = 500 the cost at 500 is quoted: a lower bound already far past the limit
    cost_guard(_moment_cost(2 * min(k, 500)), f"{what} (the moments E tr W^j up to j = 2k)", "k", k,
               limit=SYMBOLIC_COST_LIMIT)
    return k


def _positive_real(value, name: str) -> sp.Expr:
    """A positive finite real number (int, float, Fraction, sympy number) as an exact sympy number."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        raise ValueError(f"{name} must be a positive real number, got {value!r}")
    try:
        out = sp.nsimplify(value)
    except (TypeError, ValueError, sp.SympifyError):
        raise ValueError(f"{name} must be a positive real number, got {value!r}") from None
    if not (out.is_number and out.is_real and out.is_finite and out.is_positive):
        raise ValueError(f"{name} must be a positive finite real number, got {value!r}")
    return out


def wishart_trace_moment(powers) -> sp.Expr:
    r"""Joint trace moment of the isotropic real Wishart matrix, symbolic in ``d`` and ``m``.

    .. math:: \mathbb E \prod_i \operatorname{tr} W^{p_i}, \qquad W = Z Z^\top,\;
              Z \in \mathbb R^{d\times m},\ Z_{ai} \sim N(0, 1)\ \text{i.i.d.}

    Computed by Gaussian integration by parts (see the module notes); ``tr W^0 = d``.

    Parameters
    ----------
    powers : sequence of int
        The exponents ``p_i >= 0``.

    Returns
    -------
    sympy.Expr
        A polynomial in the symbols ``d``, ``m`` (:data:`d_sym`, :data:`m_sym`) with integer
        coefficients. Example: ``[2]`` gives ``d m (m + d + 1)``.
    """
    key, n_d = _normalise(_check_powers(powers))
    poly = _moment(key)
    return sp.expand(sum(c * d_sym ** (a + n_d) * m_sym ** b for (a, b), c in poly))


def wishart_trace_moment_value(powers, d, m) -> int:
    """:func:`wishart_trace_moment` evaluated exactly at integers ``d, m >= 1``."""
    d = positive_int(d, "d")
    m = positive_int(m, "m")
    key, n_d = _normalise(_check_powers(powers))
    return d ** n_d * sum(c * d ** a * m ** b for (a, b), c in _moment(key))


def isotropic_cot_error(k) -> sp.Expr:
    r"""Exact CoT error for ``Λ = Σ = I``, a rational function of ``d``, ``m``, ``n``.

    .. math:: \mathrm{err}_k = \mathbb E \operatorname{tr}\Big(I - \tfrac{S}{\gamma_d}\Big)^{2k}
              = \sum_{j=0}^{2k} \binom{2k}{j} \Big(\tfrac{-n}{n+d+1}\Big)^j
                \frac{\mathbb E \operatorname{tr} W^j}{m^j},
              \qquad \gamma_d = 1 + \frac{d+1}{n}

    (proofs/math.md §5 and §15; ``k`` counts forward passes, ``k = 1`` is direct ICL).
    """
    k = _check_k_moments(k, "isotropic_cot_error")
    ratio = -n_sym / (n_sym + d_sym + 1)
    terms = [comb(2 * k, j) * ratio ** j * wishart_trace_moment([j]) / m_sym ** j for j in range(2 * k + 1)]
    return sp.together(sp.Add(*terms))


def isotropic_cot_error_value(k, d, m, n) -> Fraction:
    """:func:`isotropic_cot_error` at integers ``d, m, n >= 1``, as an exact ``Fraction``."""
    k = _check_k_moments(k, "isotropic_cot_error_value")
    d, m, n = positive_int(d, "d"), positive_int(m, "m"), positive_int(n, "n")
    ratio = Fraction(-n, (n + d + 1) * m)
    return sum((comb(2 * k, j) * ratio ** j * wishart_trace_moment_value([j], d, m)
                for j in range(2 * k + 1)), Fraction(0))


# ----------------------------------------------------------------------------- proportional limit

def narayana_moment(j, c) -> sp.Expr:
    r"""The ``j``-th moment of the Marchenko–Pastur law of ratio ``c``: a Narayana polynomial.

    .. math:: \int s^j\, d\mu_{MP}^{(c)}(s) = \sum_{r=0}^{j-1} \frac{1}{j}\binom{j}{r+1}\binom{j}{r} c^r,
              \qquad j \ge 1;\ \text{the } 0\text{-th moment is } 1.

    ``c`` may be a number or a sympy expression (e.g. ``1/alpha``).
    """
    j = positive_int(j, "j", minimum=0)
    if j == 0:
        return sp.Integer(1)
    return sp.Add(*[sp.Rational(comb(j, r + 1) * comb(j, r), j) * sp.sympify(c) ** r for r in range(j)])


def _ratio_and_gamma(alpha, nu):
    alpha, nu = _positive_real(alpha, "alpha"), _positive_real(nu, "nu")
    return alpha, nu, 1 + 1 / nu


def mp_cot_error(k, alpha=alpha_sym, nu=nu_sym) -> sp.Expr:
    r"""The proportional limit of ``err_k / d`` through the Marchenko–Pastur moments.

    .. math:: f_k(\alpha, \nu) = \int \Big(1 - \frac{s}{\gamma}\Big)^{2k} d\mu_{MP}^{(1/\alpha)}(s)
              = \sum_{j=0}^{2k} \binom{2k}{j} (-\gamma)^{-j} \sum_{r} N(j, r+1)\, \alpha^{-r},
              \qquad \gamma = 1 + 1/\nu

    (proofs/math.md §15). Symbolic in ``alpha``, ``nu`` by default; exact for rational values.
    """
    k = positive_int(k, "k", minimum=0)
    symbolic = isinstance(alpha, sp.Symbol) or isinstance(nu, sp.Symbol)
    # 2k + 1 Narayana sums of up to 2k terms each; symbolic in (α, ν) the expansion grows like k³
    # (k = 10: 0.85 s, k = 20: 5.9 s, k = 40: 50 s measured), in rationals like k² (k = 300: 3.3 s)
    cost_guard(float(2 * k + 1) ** (3 if symbolic else 2), "mp_cot_error's sum over the Narayana moments",
               "k", k, limit=1e5 if symbolic else 1e7)
    if not symbolic:
        alpha, nu, _ = _ratio_and_gamma(alpha, nu)
    g = 1 + 1 / sp.sympify(nu)
    c = 1 / sp.sympify(alpha)
    return sp.expand(sp.Add(*[comb(2 * k, j) * (-1 / g) ** j * narayana_moment(j, c) for j in range(2 * k + 1)]))


def proportional_expansion(k) -> tuple[sp.Expr, sp.Expr]:
    r"""Leading term and first finite-d correction of ``err_k / d`` in the proportional limit.

    With ``m = α d``, ``n = ν d`` and ``ε = 1/d``, the exact error of :func:`isotropic_cot_error`
    expands as

    .. math:: \frac{\mathrm{err}_k}{d} = f_k(\alpha, \nu) + \frac{g_k(\alpha, \nu)}{d} + O(d^{-2}).

    The expansion is taken term by term from the exact polynomials ``E tr W^j`` (each of total degree
    ``j + 1`` in d, m) and ``(n/(n+d+1))^j = (γ + ε/ν)^{-j}``, so ``f_k`` here is derived from the
    finite-d formula, not from the Marchenko–Pastur law; :func:`mp_cot_error` is the other route.

    Returns
    -------
    (f_k, g_k) : tuple of sympy.Expr in ``alpha``, ``nu``
    """
    k = _check_k_moments(k, "proportional_expansion")
    g = 1 + 1 / nu_sym
    lead, corr = sp.Integer(0), sp.Integer(0)
    for j in range(2 * k + 1):
        # E tr S^j / d = Σ c_ab d^a m^b / (m^j d) = Σ c_ab α^{b-j} ε^{j+1-a-b}.
        if j == 0:
            m0, m1 = sp.Integer(1), sp.Integer(0)
        else:
            key, _ = _normalise((j,))
            m0 = m1 = sp.Integer(0)
            for (a, b), c in _moment(key):
                order = j + 1 - a - b
                if order == 0:
                    m0 += c * alpha_sym ** (b - j)
                elif order == 1:
                    m1 += c * alpha_sym ** (b - j)
        # (γ + ε/ν)^{-j} = γ^{-j} (1 − j ε / (ν γ) + O(ε²))
        weight = comb(2 * k, j) * (-1 / g) ** j
        lead += weight * m0
        corr += weight * (m1 - j * m0 / (nu_sym * g))
    return sp.expand(lead), sp.expand(corr)


def mp_cot_error_quad(k, alpha, nu, *, dps: int = 30, split: bool = False):
    r"""``f_k(α, ν)`` by quadrature of the Marchenko–Pastur density (an independent route).

    .. math:: f_k = (1-\alpha)_+ + \int_a^b \Big(1-\frac{s}{\gamma}\Big)^{2k}
              \frac{\sqrt{(b-s)(s-a)}}{2\pi c\, s}\, ds, \qquad c = \frac1\alpha,\
              a, b = (1 \mp \sqrt c)^2

    evaluated with ``s = (a+b)/2 + (b−a)/2 cos θ`` so the square-root edges are smooth.
    Returns an ``mpmath.mpf``, or the pair ``(atom, bulk integral)`` with ``split=True``.
    """
    k = positive_int(k, "k", minimum=0)
    dps = positive_int(dps, "dps")
    # the split below has 2 (4 + bit_length(k)) + 8 pieces, each ~50 nodes at dps digits
    # (k = 10^12 at dps = 30: 1.4e5, 2.3 s measured)
    cost_guard(float(2 * (4 + max(k, 1).bit_length()) + 8) * 50 * dps, f"the quadrature at dps = {dps}", "k", k,
               limit=2e5)
    alpha, nu, g = _ratio_and_gamma(alpha, nu)
    with mpmath.workdps(dps):
        al = mpmath.mpf(sp.N(alpha, dps + 10))
        gm = mpmath.mpf(sp.N(g, dps + 10))
        c = 1 / al
        a, b = (1 - mpmath.sqrt(c)) ** 2, (1 + mpmath.sqrt(c)) ** 2
        half, mid = (b - a) / 2, (a + b) / 2

        def integrand(theta):
            s = mid + half * mpmath.cos(theta)
            # density · ds = (b − s)(s − a) / (2π c s) dθ; s = 0 only when a = 0 (α = 1), where
            # the ratio (s − a)/s is 1.
            edge = (s - a) / s if s else mpmath.mpf(1)
            return (1 - s / gm) ** (2 * k) * (b - s) * edge / (2 * mpmath.pi * c)

        # For large k the integrand peaks within θ ~ k^{-1/2} of an edge: split [0, π] geometrically
        # towards both ends so each piece is smooth on its own scale.
        depth = 4 + max(k, 1).bit_length()
        inner = [mpmath.pi * t / 8 for t in range(1, 8)]
        ends = [mpmath.pi * mpmath.mpf(2) ** -j / 8 for j in range(1, depth)]
        nodes = sorted([mpmath.mpf(0), mpmath.pi] + inner + ends + [mpmath.pi - e for e in ends])
        bulk = mpmath.quad(integrand, nodes)
        atom = max(1 - al, mpmath.mpf(0))
        return (atom, bulk) if split else atom + bulk


# ----------------------------------------------------------------------------- phases

@dataclass(frozen=True)
class MPPhase(RichRepr):
    r"""Regime of ``f_k(α, ν)`` as ``k → ∞`` (after ``d → ∞``).

    Attributes
    ----------
    alpha, nu : sympy.Expr
        ``m/d`` and ``n/d`` (exact).
    gamma : sympy.Expr
        ``1 + 1/ν``.
    lower_edge, upper_edge : sympy.Expr
        ``(1 ∓ α^{-1/2})²``, the edges of the bulk of ``μ_MP^{(1/α)}``.
    atom : sympy.Expr
        ``max(1 − α, 0)``, the mass at 0, which no number of steps can reduce.
    regime : str
        ``"overthinking"`` (``f_k → ∞``), ``"saturation"`` (``f_k → atom > 0``),
        ``"power law"`` (``f_k → 0`` polynomially) or ``"exponential"`` (``f_k → 0`` geometrically).
    rate : sympy.Expr
        ``ρ² = max((1 − a/γ)², (b/γ − 1)²)``, the per-step factor: ``f_k − atom ≍ ρ^{2k} k^{-p}``.
    exponent : sympy.Expr
        ``p``: ``1/2`` when ``α = 1`` and the bulk does not cross ``2γ`` (the density ``~ s^{-1/2}``
        at 0 dominates), else ``3/2`` (square-root edges). With ``ρ = 1`` this is the power law.
    on_boundary : bool
        ``b = 2γ`` exactly (the overthinking boundary).
    """

    alpha: sp.Expr
    nu: sp.Expr
    gamma: sp.Expr
    lower_edge: sp.Expr
    upper_edge: sp.Expr
    atom: sp.Expr
    regime: str
    rate: sp.Expr
    exponent: sp.Expr
    on_boundary: bool


def overthinking_boundary_sign(alpha, nu) -> int:
    r"""Exact sign of ``b − 2γ``, ``b = (1 + α^{-1/2})²``, ``γ = 1 + 1/ν``, for rational ``α, ν``.

    .. math:: b - 2\gamma = \frac{2}{\sqrt\alpha} - u, \qquad u = 1 - \frac1\alpha + \frac2\nu,

    so the sign is decided in rationals: ``+1`` if ``u < 0`` or ``4/α > u²``; ``0`` if equal.
    """
    alpha, nu, _ = _ratio_and_gamma(alpha, nu)
    if not (alpha.is_Rational and nu.is_Rational):
        return int(sp.sign(sp.nsimplify((1 + 1 / sp.sqrt(alpha)) ** 2 - 2 * (1 + 1 / nu))))
    u = 1 - 1 / alpha + 2 / nu
    if u < 0:
        return 1
    return int(sp.sign(4 / alpha - u ** 2))


def critical_nu(alpha) -> sp.Expr:
    r"""The overthinking boundary ``ν_c(α)``: overthinking iff ``ν > ν_c``.

    .. math:: \nu_c(\alpha) = \frac{2}{(1 + \alpha^{-1/2})^2 - 2}
              \quad (\alpha < 3 + 2\sqrt2), \qquad \nu_c = \infty \quad (\alpha \ge 3 + 2\sqrt2).
    """
    alpha = _positive_real(alpha, "alpha")
    excess = sp.simplify((1 + 1 / sp.sqrt(alpha)) ** 2 - 2)
    if not excess.is_positive:
        return sp.oo
    return sp.radsimp(2 / excess)


def mp_phase(alpha, nu) -> MPPhase:
    """Classify the ``k → ∞`` behaviour of the proportional-limit error (proofs/math.md §15).

    The limit ``f_k = ∫ (1 − s/γ)^{2k} dμ`` is driven by the largest ``|1 − s/γ|`` on the support:
    the atom at 0 (value 1, kept forever), and the bulk edges ``a``, ``b`` (``a < 1 < γ`` so
    ``0 < 1 − a/γ < 1``; ``b/γ − 1 > 1`` iff ``b > 2γ``). Both edges are square-root edges, which gives
    the ``k^{-3/2}`` factor; at ``α = 1`` the density blows up like ``s^{-1/2}`` at 0, which gives
    ``f_k ~ sqrt(γ / (2π k))``.
    """
    alpha, nu, g = _ratio_and_gamma(alpha, nu)
    a = sp.radsimp((1 - 1 / sp.sqrt(alpha)) ** 2)
    b = sp.radsimp((1 + 1 / sp.sqrt(alpha)) ** 2)
    atom = sp.Max(1 - alpha, 0)
    sign = overthinking_boundary_sign(alpha, nu)
    rate = sp.Max((1 - a / g) ** 2, (b / g - 1) ** 2)
    exponent = sp.Rational(1, 2) if (alpha == 1 and sign <= 0) else sp.Rational(3, 2)
    if sign > 0:
        regime = "overthinking"
    elif alpha < 1:
        regime = "saturation"
    elif alpha == 1 or sign == 0:
        regime = "power law"
    else:
        regime = "exponential"
    return MPPhase(alpha, nu, g, a, b, atom, regime, sp.radsimp(rate), exponent, sign == 0)


def estimated_exponent(alpha, nu, k, *, dps: int = 30) -> mpmath.mpf:
    r"""The decay exponent ``p`` of ``f_k − atom ≍ ρ^{2k} k^{-p}``, estimated by quadrature at ``k, 2k``.

    .. math:: \hat p = -\log_2 \frac{f_{2k} - \mathrm{atom}}{(f_k - \mathrm{atom})\, \rho^{2k}}

    with ``ρ²`` the rate of :func:`mp_phase`; ``\hat p → p`` with an ``O(1/k)`` error. Used to check
    the phase table against the Marchenko–Pastur integral itself.
    """
    k = positive_int(k, "k")
    phase = mp_phase(alpha, nu)
    with mpmath.workdps(dps):
        rate = mpmath.mpf(sp.N(phase.rate, dps + 10))
        _, near = mp_cot_error_quad(k, alpha, nu, dps=dps, split=True)
        _, far = mp_cot_error_quad(2 * k, alpha, nu, dps=dps, split=True)
        return -mpmath.log(far / (near * rate ** k), 2)
