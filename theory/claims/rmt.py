r"""Claim ``rmt``: the proportional limit of the isotropic model and its phases (beyond the paper; proofs/math.md §15).

Parts:

* ``limit`` (claim): ``err_k/d → f_k(α, ν) = ∫(1 − s/γ)^{2k} dμ_MP^{(1/α)}(s)`` as ``d → ∞``;
* ``saturation``, ``power-law-at-one``, ``exponential`` (claims): the decay statements read as made,
  by ``α`` alone — each fails inside the overthinking region, and ``exponential`` also on its boundary;
* ``overthinking`` (claim): ``f_k → ∞`` exactly when ``b = (1 + α^{-1/2})² > 2γ``;
* ``off-overthinking`` (condition): the three decay statements hold off the overthinking region
  (``b <= 2γ`` for ``α <= 1``, ``b < 2γ`` for ``α > 1``), saturation at the level ``1 − α``;
* ``phase-table`` (finding): ``f_k − (1 − α)_+ ≍ ρ^{2k} k^{-p}`` with the rate and exponent of
  :func:`theory.rmt.mp_phase`, measured on the integral itself;
* ``isotropic-error``, ``finite-d-correction`` (findings): the exact finite-d error and its ``1/d``
  expansion ``f_k + g_k/d + h_k/d² + O(d^{-3})``;
* ``fixed-d-diverges``, ``correction-grows`` (findings): the two limits do not commute.

Routes:

* exact: ``err_k(d, m, n)`` for ``Λ = Σ = I`` as a rational function (Wishart trace moments by the
  integration-by-parts recursion of :mod:`theory.rmt`), expanded in ``1/d`` term by term
  (:func:`theory.rmt.proportional_expansion`) and, independently, by sympy's series of the whole
  rational function; the Marchenko–Pastur moment formula (Narayana polynomials,
  :func:`theory.rmt.mp_cot_error`); the overthinking boundary decided in rationals;
* independent: quadrature of the Marchenko–Pastur density (:func:`theory.rmt.mp_cot_error_quad`);
  the general exact engine of :mod:`theory.error`; exact finite-d values at growing ``d``; the
  ``d = 1`` chi-square closed form (:func:`theory.scaling.cot_error_d1`, and its explicit binomial
  sum); the decay of every phase measured on the integral at large ``k``.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from math import comb

import mpmath
import numpy as np
import sympy as sp

from theory._tex import Step, frac, sci, tex
from theory.ledger import CLAIM, CONDITION, FINDING, Claim, Counterexample, RouteDisagreement, agree, decide, holds
from theory.rmt import (alpha_sym, critical_nu, d_sym, estimated_exponent, isotropic_cot_error,
                        isotropic_cot_error_value, m_sym, mp_cot_error, mp_cot_error_quad, mp_phase, n_sym,
                        nu_sym, overthinking_boundary_sign, proportional_expansion)
from theory.scaling import cot_error_d1

R = sp.Rational

# The limit: identically in (α, ν) for k = 0..K_MAX; the Marchenko–Pastur moment formula against
# quadrature of the density at QUAD_POINTS, k = QUAD_K, QUAD_DPS digits.
QUAD_POINTS = ((R(2), R(1)), (R(1, 2), R(1)), (R(1), R(1, 3)))
QUAD_K = 3
QUAD_DPS = 30
# 30-digit quadrature of a smooth integrand (the edges are removed by s = mid + half·cos θ) is
# accurate to ~1e-28 on values of order 0.1; 1e-20 is far above that and far below any formula
# mistake (a wrong Narayana coefficient moves f_k by 1e-3 or more).
QUAD_TOL = 1e-20

# The 1/d expansion: sympy's series of the exact rational function, symbolic in (α, ν) for
# SERIES_SYMBOLIC_K (and k = 2 as well in the full tier), at the rational point RESIDUAL_POINT for
# k = RESIDUAL_K; exact finite-d values at RESIDUAL_DS (m = αd, n = νd integers).
SERIES_SYMBOLIC_K = 1
RESIDUAL_K = 2
RESIDUAL_POINT = (R(2), R(1, 2))
# With the right f, g and h the residual d²(err/d − f − g/d) − h is h_3/d + O(d^{-2}): doubling d
# halves it up to O(1/d) (measured ratios 0.518 and 0.509 over d = 8, 16, 32).  3/4 leaves room for
# that O(1/d) at d = 8, while a wrong 1/d coefficient g(1 + δ) adds −δ g d to the residual, which
# then grows and its ratio tends to 2 (δ = 1e-3 already gives a ratio above 10 at d = 32).
SHRINK = R(3, 4)

# The general engine against the isotropic rational function: Λ = Σ = I_d, m = αd, n = νd.
ENGINE_K = 2
ENGINE_POINT = (R(2), R(1, 2))

# Phases: the grid of (α, ν) on which the readings are tested, one or more per regime and both
# kinds of boundary point (α = 1 at ν = ν_c(1) = 1; α = 4 at ν = ν_c(4) = 8).
PHASE_POINTS = ((R(1, 2), R(1, 10)), (R(1, 2), R(1)), (R(1), R(1, 2)), (R(1), R(1)), (R(1), R(6, 5)),
                (R(2), R(1, 2)), (R(4), R(8)), (R(2), R(10)))
# p̂ is needed to ~1e-3 and is a log of a ratio of two quadratures: 15 digits give it to ~1e-12.
PHASE_DPS = 15
# The two-point exponent p̂ = −log₂((f_{2k} − atom)/((f_k − atom)ρ^{2k})) carries an O(1/k) bias
# from the next term of the edge expansion; 50/k bounds it at every grid point (the largest
# measured |p̂ − p| at k = 1600 is 0.021 = 34/k, at (1/2, 1/10)).
P_BIAS = 50
# Growth (the truth of "overthinking") and the counterexamples to a decay reading are read off
# quadrature at k and 2k for this k, apart from the k of the phase table.  The values compared
# differ by factors of 2^{-p} or more (and ρ^{2k} = e^{±30} or beyond off the boundary), so 10
# digits decide every comparison with room to spare.
CONFIRM_K = 200
GROWTH_DPS = 10
# The steepest power law of the phase table, k^{-3/2}: a bulk that falls faster than it (beyond the
# bias allowance) from k to 2k decays exponentially.
STEEPEST_EXPONENT = R(3, 2)
# The α = 1 boundary checked in exact rationals: f_k for k in EXACT_KS at ν = ν_c(1) ± NU_STEP.
NU_STEP = R(1, 5)
EXACT_KS = tuple(range(20, 31))
# ν_c(α) is shown at these α.
NU_C_ALPHAS = (R(1, 2), R(1), R(2), R(4))

# Order of limits: at d = 1 (chi-square closed form) the error for k = 0..D1_K at (m, n) = D1_MN;
# the moment recursion of theory.rmt agrees with it for k <= RECURSION_K (its cost grows quickly).
D1_MN = (10, 2)
D1_K = 30
RECURSION_K = 8
# Non-uniformity in k of the 1/d correction: g_k/f_k at GROWTH_POINT for k in GROWTH_KS.
GROWTH_POINT = (R(4), R(1, 2))
GROWTH_KS = (1, 2, 3, 4)

CLAIM_RMT = Claim(
    id="rmt",
    title=r"The proportional limit (beyond the paper)",
    statement=r"For $\Lambda = \Sigma = I$, $n = \nu d$, $m = \alpha d$, $d \to \infty$ (so $\Gamma \to \gamma I$, "
              r"$\gamma = 1 + 1/\nu$): $\mathrm{err}_k/d \to \int (1 - s/\gamma)^{2k}\, d\mu_{MP}^{(1/\alpha)}(s)$ "
              r"(Marchenko--Pastur); saturation for $\alpha < 1$, $k^{-1/2}$ decay at $\alpha = 1$, exponential "
              r"decay for $\alpha > 1$, overthinking when $(1 + \alpha^{-1/2})^2 > 2\gamma$.",
    source="[derived] (the picture of Takanami & Pehlevan 2026 for this model)",
    convention=r"$k$ forward passes; $\Gamma = \gamma_d I$ with $\gamma_d = 1 + (d + 1)/n$ exactly, so "
               r"$\mathrm{err}_k = \mathbb E\operatorname{tr}(I - S/\gamma_d)^{2k}$; the Marchenko--Pastur law of "
               r"ratio $c = d/m = 1/\alpha$ (edges $a, b = (1 \mp \alpha^{-1/2})^2$, atom $1 - \alpha$ at $0$ when "
               r"$\alpha < 1$); the limit is $d \to \infty$ first, then $k \to \infty$. $f_k(\alpha, \nu)$ is the "
               r"limit, $\mathrm{err}_k/d = f_k + g_k/d + h_k/d^2 + O(d^{-3})$.",
    checks="checks/test_rmt_proportional_limit.py",
)


def _point(alpha, nu) -> str:
    return f"({frac(Fraction(int(alpha.p), int(alpha.q)))}, {frac(Fraction(int(nu.p), int(nu.q)))})"


def _fraction(x) -> Fraction:
    x = sp.Rational(x)
    return Fraction(int(x.p), int(x.q))


# ---------------------------------------------------------------------------------------------
# The limit


def limit_mismatches(k_max: int) -> list[int]:
    """The ``k <= k_max`` for which the 1/d expansion's leading term differs from the MP formula."""
    return [k for k in range(k_max + 1)
            if sp.simplify(proportional_expansion(k)[0] - mp_cot_error(k)) != 0]


def quadrature_gap(points, k: int) -> float:
    """Largest ``|quadrature − exact rational f_k|`` over ``points`` (:data:`QUAD_DPS`-digit quadrature)."""
    gaps = []
    with mpmath.workdps(QUAD_DPS):
        for alpha, nu in points:
            exact = mp_cot_error(k, alpha, nu)
            gaps.append(abs(mp_cot_error_quad(k, alpha, nu, dps=QUAD_DPS) - mpmath.mpf(exact.p) / exact.q))
    return float(max(gaps))


def _k_max(full: bool) -> int:
    return 5 if full else 3


@CLAIM_RMT.part("limit", CLAIM,
                r"$\mathrm{err}_k/d \to f_k(\alpha, \nu) = \int (1 - s/\gamma)^{2k}\, d\mu_{MP}^{(1/\alpha)}(s)$ as "
                r"$d \to \infty$ with $m = \alpha d$, $n = \nu d$, identically in $\alpha, \nu > 0$.")
def limit(full: bool):
    k_max = _k_max(full)
    gap = quadrature_gap(QUAD_POINTS, QUAD_K)
    if not gap <= QUAD_TOL:
        raise RouteDisagreement(f"f_{QUAD_K} at {QUAD_POINTS}", [("Narayana moments (exact)", "f_k"),
                                                                 ("quadrature, largest gap", gap),
                                                                 ("tolerance", QUAD_TOL)])
    bad = limit_mismatches(k_max)

    def counterexample():
        k = bad[0]
        lead = proportional_expansion(k)[0]
        alpha, nu = next((a, v) for a, v in QUAD_POINTS
                         if lead.subs({alpha_sym: a, nu_sym: v}) != mp_cot_error(k, a, v))
        value = lead.subs({alpha_sym: alpha, nu_sym: nu})
        with mpmath.workdps(QUAD_DPS):
            quad = mp_cot_error_quad(k, alpha, nu, dps=QUAD_DPS)
            off = float(abs(quad - mpmath.mpf(value.p) / value.q))
        return Counterexample(
            tex(r"$k = «k»$, $(\alpha, \nu) = «pt»$: the limit of the exact error is $«lead»$, the integral "
                r"$«quad:.12g»$", k=k, pt=_point(alpha, nu), lead=sp.latex(value), quad=float(quad)),
            lambda: off > QUAD_TOL,
            "quadrature of the Marchenko-Pastur density")

    return decide(not bad, tex(
        r"The leading term of the exact rational $\mathrm{err}_k(d, m, n)$ expanded in $1/d$ (term by term from "
        r"the Wishart trace-moment polynomials) equals the Marchenko--Pastur moment formula (Narayana polynomials) "
        r"identically in $(\alpha, \nu)$ for $k \le «k_max»$; quadrature of the density at «qd» digits against the "
        r"exact $f_{«qk»}$ at $(\alpha, \nu) \in \{«pts»\}$: largest gap $«gap:.2g»$ (tolerance $«tol:.2g»$).",
        k_max=k_max, qd=QUAD_DPS, qk=QUAD_K, pts=", ".join(_point(a, v) for a, v in QUAD_POINTS), gap=gap,
        tol=QUAD_TOL), counterexample)


# ---------------------------------------------------------------------------------------------
# The exact finite-d error and its 1/d expansion


def engine_agreement(k: int, ds, point=ENGINE_POINT) -> list[tuple[int, Fraction, Fraction]]:
    """The general exact engine (:func:`theory.error.cot_error_poly`) at ``Λ = Σ = I_d``, ``m = αd``,
    ``n = νd``, and :func:`isotropic_cot_error_value` there: ``(d, engine, rational function)`` per ``d``."""
    from theory.error import cot_error_poly
    alpha, nu = point
    out = []
    for d in ds:
        m, n = int(alpha * d), int(nu * d)
        engine = cot_error_poly(np.eye(d), n, k, test_cov=np.eye(d)).evaluate(m)
        out.append((d, engine, isotropic_cot_error_value(k, d, m, n)))
    return out


def d_one_error(k: int, m: int, n: int) -> Fraction:
    """Exact ``err_k`` at ``d = 1`` by the explicit binomial sum over the chi-square moments
    ``E s^j = Π_{i<j}(m + 2i)/m^j`` (the route apart from the recursion of ``cot_error_d1``)."""
    g = Fraction(n + 2, n)
    total, moment = Fraction(0), Fraction(1)
    for j in range(2 * k + 1):
        total += comb(2 * k, j) * (-1 / g) ** j * moment
        moment *= Fraction(m + 2 * j, m)
    return total


def _engine_ds(full: bool) -> tuple[int, ...]:
    return (4, 8, 16, 32) if full else (4, 8, 16)


@CLAIM_RMT.part("isotropic-error", FINDING,
                r"For $\Lambda = \Sigma = I$ the exact error is the rational function $\mathrm{err}_k(d, m, n) = "
                r"\sum_j \binom{2k}{j} (-n/(n+d+1))^j\, \mathbb E\operatorname{tr} W^j/m^j$ of the "
                r"Wishart trace moments.")
def isotropic_error(full: bool):
    alpha, nu = ENGINE_POINT
    rows = engine_agreement(ENGINE_K, _engine_ds(full))
    for d, engine, rational in rows:
        agree(f"err_{ENGINE_K} at Λ = Σ = I_{d}, m = {int(alpha * d)}, n = {int(nu * d)}",
              ("general engine (theory.error)", engine), ("isotropic rational function", rational))
    m, n = D1_MN
    for k in range(RECURSION_K + 1):
        agree(f"err_{k} at d = 1, m = {m}, n = {n}", ("moment recursion", isotropic_cot_error_value(k, 1, m, n)),
              ("chi-square closed form", cot_error_d1(1, n, k, m=m)))
    f = mp_cot_error(ENGINE_K, alpha, nu)
    return holds(tex(
        r"The general exact engine (Stein recursion for any $\Lambda, \Sigma$) equals the isotropic rational function "
        r"as exact rationals at $d \in \{«ds:list»\}$ ($m = «a» d$, $n = «v» d$, $k = «k»$): $\mathrm{err}_{«k»}/d = "
        r"«vals:list.4g» \to f_{«k»} = «f:.4g»$; at $d = 1$ ($m = «m»$, $n = «n»$) the recursion equals "
        r"the chi-square closed form for $k \le «rk»$.",
        ds=[d for d, _, _ in rows], k=ENGINE_K, vals=[float(e / d) for d, e, _ in rows], a=_fraction(alpha),
        v=_fraction(nu), f=float(f), m=m, n=n, rk=RECURSION_K))


def series_coefficients(k: int, alpha, nu, order: int) -> list[sp.Expr]:
    r"""The exact Taylor coefficients in ``ε = 1/d`` of ``err_k(d, αd, νd)/d``, orders ``0..order``.

    sympy's series of the whole rational function :func:`theory.rmt.isotropic_cot_error` (symbolic or
    rational ``α``, ``ν``): the route apart from the term-by-term expansion of
    :func:`theory.rmt.proportional_expansion`.
    """
    eps = sp.Symbol("epsilon", positive=True)
    scaled = (isotropic_cot_error(k) / d_sym).subs({d_sym: 1 / eps, m_sym: alpha / eps, n_sym: nu / eps})
    series = sp.series(sp.together(scaled), eps, 0, order + 1).removeO()
    return [sp.factor(sp.simplify(series.coeff(eps, i))) for i in range(order + 1)]


def finite_d_residuals(k: int, alpha, nu, ds, f, g, h) -> list[Fraction]:
    """``d²(err_k/d − f − g/d) − h`` at each ``d`` (``m = αd``, ``n = νd`` integers), exactly."""
    f, g, h = _fraction(f), _fraction(g), _fraction(h)
    out = []
    for d in ds:
        m, n = alpha * d, nu * d
        if not (m.is_integer and n.is_integer):
            raise ValueError(f"ds: m = αd and n = νd must be integers, got d = {d}")
        exact = isotropic_cot_error_value(k, d, int(m), int(n)) / d
        out.append(d * d * (exact - f - g / d) - h)
    return out


def residuals_shrink(residuals, shrink=SHRINK) -> bool:
    """True when each residual (``d`` doubling) is at most ``shrink`` times the one before: the 1/d decay."""
    return all(abs(b) <= shrink * abs(a) for a, b in zip(residuals, residuals[1:]))


def _residual_ds(full: bool) -> tuple[int, ...]:
    return (8, 16, 32, 64, 128) if full else (8, 16, 32)


def _series_symbolic_ks(full: bool) -> tuple[int, ...]:
    return (SERIES_SYMBOLIC_K, RESIDUAL_K) if full else (SERIES_SYMBOLIC_K,)


@CLAIM_RMT.part("finite-d-correction", FINDING,
                r"$\mathrm{err}_k/d = f_k + g_k/d + h_k/d^2 + O(d^{-3})$, with $f_k$ and $g_k$ given by the "
                r"term-by-term expansion of the exact error.")
def finite_d_correction(full: bool):
    for k in _series_symbolic_ks(full):
        series = series_coefficients(k, alpha_sym, nu_sym, 1)
        lead, corr = proportional_expansion(k)
        agree(f"f_{k}, g_{k} identically in (alpha, nu)",
              ("sympy series minus term-by-term expansion, simplified",
               [sp.simplify(series[0] - lead), sp.simplify(series[1] - corr)]),
              ("required", [0, 0]))
    alpha, nu = RESIDUAL_POINT
    f, g, h = series_coefficients(RESIDUAL_K, alpha, nu, 2)
    at = {alpha_sym: alpha, nu_sym: nu}
    lead, corr = (e.subs(at) for e in proportional_expansion(RESIDUAL_K))
    agree(f"f_{RESIDUAL_K}, g_{RESIDUAL_K} at {RESIDUAL_POINT}", ("sympy series of the exact error", [f, g]),
          ("term-by-term expansion", [lead, corr]))
    ds = _residual_ds(full)
    resid = finite_d_residuals(RESIDUAL_K, alpha, nu, ds, lead, corr, h)
    if not residuals_shrink(resid):
        raise RouteDisagreement(f"the 1/d expansion of err_{RESIDUAL_K} at {RESIDUAL_POINT}",
                                [("d²(err/d − f − g/d) − h_2 at d = " + ", ".join(map(str, ds)),
                                  [float(r) for r in resid]),
                                 ("required", f"each at most {SHRINK} of the one before (1/d decay)")])
    g1 = proportional_expansion(SERIES_SYMBOLIC_K)[1]
    scaled = [float(r + _fraction(h)) for r in resid]
    return holds(tex(
        r"sympy's series in $1/d$ of the whole exact rational function equals the term-by-term expansion identically "
        r"in $(\alpha, \nu)$ for $k \in \{«sks:list»\}$ (e.g. $g_{«k1»} = «g1»$), and at $(\alpha, \nu) = «pt»$ for "
        r"$k = «k»$: $f_{«k»} = «f»$, $g_{«k»} = «g»$, $h_{«k»} = «h»$. Exact $\mathrm{err}_{«k»}/d$ at "
        r"$d \in \{«ds:list»\}$: $d^2(\mathrm{err}_{«k»}/d - f_{«k»} - g_{«k»}/d) = «sc:list.4g» \to h_{«k»}$, "
        r"the residual $«res:list.3g»$ shrinking by the factors $«ratios:list.3g»$ per doubling of $d$ (at most "
        r"«shrink» required: a $1/d$ decay, which a wrong $g_{«k»}$ would turn into growth).",
        sks=list(_series_symbolic_ks(full)), k1=SERIES_SYMBOLIC_K, g1=sp.latex(sp.factor(g1)), pt=_point(alpha, nu),
        k=RESIDUAL_K, f=sp.latex(f), g=sp.latex(g), h=sp.latex(h), ds=list(ds), sc=scaled,
        res=[float(r) for r in resid], ratios=[float(b / a) for a, b in zip(resid, resid[1:])],
        shrink=_fraction(SHRINK)))


# ---------------------------------------------------------------------------------------------
# Phases


@lru_cache(maxsize=64)
def quadrature(k: int, alpha, nu) -> tuple[mpmath.mpf, mpmath.mpf]:
    """``(atom, bulk integral)`` of ``f_k(α, ν)`` by quadrature (:data:`GROWTH_DPS` digits), cached."""
    return mp_cot_error_quad(k, alpha, nu, dps=GROWTH_DPS, split=True)


def grows(alpha, nu, k: int) -> bool:
    """Quadrature: ``f_{2k} > f_k > 1 = f_0`` (the error is growing at step ``k``)."""
    atom, near = quadrature(k, alpha, nu)
    _, far = quadrature(2 * k, alpha, nu)
    return atom + far > atom + near > 1


def confirm_regime(alpha, nu, regime: str, exponent) -> bool:
    """Quadrature at :data:`CONFIRM_K` and twice it shows ``regime`` at ``(α, ν)``.

    Overthinking: ``f`` grows past ``f_0 = 1``. Power law ``k^{-p}``: the bulk falls by ``2^{-p̂}``
    from ``k`` to ``2k`` with ``|p̂ − p| <= P_BIAS/k``. Exponential (or saturation, after the atom):
    the bulk falls faster than the steepest such power (``p̂ − 3/2 > P_BIAS/k``).
    """
    k = CONFIRM_K
    if regime == "overthinking":
        return grows(alpha, nu, k)
    _, near = quadrature(k, alpha, nu)
    _, far = quadrature(2 * k, alpha, nu)
    p_hat = float(-mpmath.log(far / near, 2))
    if regime == "power law":
        return abs(p_hat - float(exponent)) <= P_BIAS / k
    atom, _ = quadrature(k, alpha, nu)
    return p_hat - float(STEEPEST_EXPONENT) > P_BIAS / k and (atom > 0) == (regime == "saturation")


def reading(alpha) -> tuple[str, sp.Expr | None]:
    """The decay statement read as made, by ``α`` alone: ``(regime, exponent or None)``."""
    if alpha < 1:
        return "saturation", None
    if alpha == 1:
        return "power law", R(1, 2)
    return "exponential", None


def matches_reading(alpha, nu) -> bool:
    phase = mp_phase(alpha, nu)
    regime, exponent = reading(alpha)
    return phase.regime == regime and (exponent is None or phase.exponent == exponent)


def _regime_text(alpha, nu) -> str:
    phase = mp_phase(alpha, nu)
    extra = rf" $k^{{-{sp.latex(phase.exponent)}}}$" if phase.regime == "power law" else ""
    return f"${_point(alpha, nu)}$: {phase.regime}{extra}"


def _reading_part(select, what: str, full: bool):
    points = [(a, v) for a, v in PHASE_POINTS if select(a)]
    wrong = [(a, v) for a, v in points if not matches_reading(a, v)]

    def counterexample():
        return Counterexample(
            tex(r"«pts» (not «what»)", pts="; ".join(_regime_text(a, v) for a, v in wrong), what=what),
            lambda: all(confirm_regime(a, v, mp_phase(a, v).regime, mp_phase(a, v).exponent) for a, v in wrong),
            "quadrature of the Marchenko-Pastur density at k and 2k")

    return decide(not wrong, tex(
        r"The phase of $f_k$ as $k \to \infty$ (theory.rmt.mp_phase: edges, atom and the exact sign of "
        r"$b - 2\gamma$) at the grid points: «pts».", pts="; ".join(_regime_text(a, v) for a, v in points)),
        counterexample)


@CLAIM_RMT.part("saturation", CLAIM, r"For $\alpha < 1$, $f_k$ saturates: it decreases to a positive level as "
                                     r"$k \to \infty$.")
def saturation(full: bool):
    return _reading_part(lambda a: a < 1, "saturation", full)


@CLAIM_RMT.part("power-law-at-one", CLAIM, r"At $\alpha = 1$, $f_k \to 0$ like $k^{-1/2}$.")
def power_law_at_one(full: bool):
    return _reading_part(lambda a: a == 1, r"$k^{-1/2}$ decay", full)


@CLAIM_RMT.part("exponential", CLAIM, r"For $\alpha > 1$, $f_k \to 0$ exponentially fast in $k$.")
def exponential(full: bool):
    return _reading_part(lambda a: a > 1, "exponential decay", full)


def _k_big(full: bool) -> int:
    return 3200 if full else 1600


@lru_cache(maxsize=16)
def exact_trend(alpha, nu) -> str:
    """``"increasing"``, ``"decreasing"`` or ``"neither"``: the exact rational ``f_k`` (Narayana
    moments) over :data:`EXACT_KS`."""
    f = [mp_cot_error(j, alpha, nu) for j in EXACT_KS]
    if all(b > a for a, b in zip(f, f[1:])):
        return "increasing"
    if all(b < a for a, b in zip(f, f[1:])):
        return "decreasing"
    return "neither"


def overthinking_points() -> tuple:
    """:data:`PHASE_POINTS` and the two points ``(1, ν_c(1) ± NU_STEP)`` either side of the α = 1 boundary."""
    nu_c1 = critical_nu(1)
    sides = tuple((R(1), nu_c1 + s) for s in (NU_STEP, -NU_STEP))
    return PHASE_POINTS + tuple(p for p in sides if p not in PHASE_POINTS)


@CLAIM_RMT.part("overthinking", CLAIM,
                r"$f_k \to \infty$ (overthinking) exactly when $b = (1 + \alpha^{-1/2})^2 > 2\gamma$, i.e. when "
                r"$\nu > \nu_c(\alpha) = 2/((1 + \alpha^{-1/2})^2 - 2)$.")
def overthinking(full: bool):
    k = CONFIRM_K
    nu_c1 = critical_nu(1)
    hi, lo = nu_c1 + NU_STEP, nu_c1 - NU_STEP
    # The exact rational f_k either side of ν_c(1) must tell the same story as the quadrature.
    for nu in (hi, lo):
        exact = exact_trend(R(1), nu)
        quad = "grows" if grows(R(1), nu, k) else "decays"
        if (exact, quad) not in (("increasing", "grows"), ("decreasing", "decays")):
            raise RouteDisagreement(f"the growth of f_k at (1, {nu})",
                                    [(f"exact f_k, k = {EXACT_KS[0]}..{EXACT_KS[-1]}", exact),
                                     (f"quadrature at k = {k}, {2 * k}", quad)])
    rows = [(a, v, overthinking_boundary_sign(a, v), grows(a, v, k)) for a, v in overthinking_points()]
    wrong = [(a, v, s, g) for a, v, s, g in rows if (s > 0) != g]
    alpha_none = sp.nsimplify(sp.solve(sp.Eq((1 + 1 / sp.sqrt(alpha_sym)) ** 2, 2), alpha_sym)[0])

    def counterexample():
        return Counterexample(
            tex(r"«pts»", pts="; ".join(f"${_point(a, v)}$: sign of $b - 2\\gamma$ is ${s}$, yet the error "
                                       f"{'grows' if g else 'decays'}" for a, v, s, g in wrong)),
            lambda: all((exact_trend(a, v) == "increasing") == g for a, v, _, g in wrong),
            "the exact rational f_k (Narayana moments) over a range of k")

    shown = "; ".join(f"${_point(a, v)}$: " + ("$b > 2\\gamma$" if s > 0 else "$b = 2\\gamma$" if s == 0
                                             else "$b < 2\\gamma$") + (", grows" if g else ", decays")
                      for a, v, s, g in rows)
    return decide(not wrong, tex(
        r"The sign of $b - 2\gamma$ decided in rationals against the quadrature of $f_k$ at $k = «k»$ and $2k$ "
        r"(growing past $f_0 = 1$ or not): «shown». At $\alpha = 1$, $\nu_c = «nu_c1»$: the exact rational $f_k$, "
        r"$k = «k0»..«k1»$, increases at $\nu = «hi»$ and decreases at $\nu = «lo»$. $\nu_c(\alpha)$ at "
        r"$\alpha = «alphas:list»$: $«nucs:list»$; no overthinking for any $\nu$ once $\alpha \ge «anone»$.",
        k=k, shown=shown, nu_c1=sp.latex(nu_c1), k0=EXACT_KS[0], k1=EXACT_KS[-1], hi=_fraction(hi), lo=_fraction(lo),
        alphas=[_fraction(a) for a in NU_C_ALPHAS], nucs=[sp.latex(critical_nu(a)) for a in NU_C_ALPHAS],
        anone=sp.latex(alpha_none)),
        counterexample)


def _condition(alpha, nu) -> bool:
    """Off the overthinking region: ``b <= 2γ`` for ``α <= 1``, ``b < 2γ`` for ``α > 1``."""
    sign = overthinking_boundary_sign(alpha, nu)
    return sign < 0 or (sign == 0 and alpha <= 1)


@CLAIM_RMT.part("off-overthinking", CONDITION,
                r"Off the overthinking region and, for $\alpha > 1$, off its boundary ($b \le 2\gamma$ for "
                r"$\alpha \le 1$, $b < 2\gamma$ for $\alpha > 1$), the decay statements hold: saturation at the level "
                r"$1 - \alpha$ for $\alpha < 1$, $k^{-1/2}$ at $\alpha = 1$, exponential decay for $\alpha > 1$.")
def off_overthinking(full: bool):
    points = [(a, v) for a, v in PHASE_POINTS if _condition(a, v)]
    wrong = [(a, v) for a, v in points
             if not matches_reading(a, v) or (a < 1 and mp_phase(a, v).atom != 1 - a)]

    def counterexample():
        return Counterexample(
            tex(r"«pts»", pts="; ".join(_regime_text(a, v) for a, v in wrong)),
            lambda: all(confirm_regime(a, v, mp_phase(a, v).regime, mp_phase(a, v).exponent) for a, v in wrong),
            "quadrature of the Marchenko-Pastur density at k and 2k")

    excluded = [(a, v) for a, v in PHASE_POINTS if not _condition(a, v)]
    return decide(not wrong, tex(
        r"theory.rmt.mp_phase at the grid points that meet the condition: «pts»; the saturation level (the atom "
        r"at $0$) equals $1 - \alpha$ at each with $\alpha < 1$: $«atoms:list»$. Outside the condition: «out».",
        pts="; ".join(_regime_text(a, v) for a, v in points),
        atoms=[sp.latex(mp_phase(a, v).atom) for a, v in points if a < 1],
        out="; ".join(_regime_text(a, v) for a, v in excluded)),
        counterexample)


@CLAIM_RMT.part("phase-table", FINDING,
                r"$f_k - (1 - \alpha)_+ \asymp \rho^{2k} k^{-p}$ with $\rho^2 = \max((1 - "
                r"a/\gamma)^2, (b/\gamma - 1)^2)$, "
                r"$p = \tfrac{1}{2}$ at $\alpha = 1$ (while $b \le 2\gamma$) and $p = \tfrac{3}{2}$ "
                r"otherwise; on the boundary "
                r"$b = 2\gamma$ with $\alpha > 1$ the decay is $k^{-3/2}$, not exponential.")
def phase_table(full: bool):
    k = _k_big(full)
    rows = []
    for a, v in PHASE_POINTS:
        phase = mp_phase(a, v)
        p_hat = float(estimated_exponent(a, v, k, dps=PHASE_DPS))
        rows.append((a, v, phase, p_hat))
    wrong = [(a, v, phase, p_hat) for a, v, phase, p_hat in rows if abs(p_hat - float(phase.exponent)) > P_BIAS / k]

    def counterexample():
        a, v, phase, p_hat = wrong[0]
        again = float(estimated_exponent(a, v, 2 * k, dps=PHASE_DPS))
        return Counterexample(
            tex(r"$(\alpha, \nu) = «pt»$: predicted $p = «p»$, measured $\hat p = «ph:.4g»$ at $k = «k»$ and "
                r"$«again:.4g»$ at $k = «k2»$", pt=_point(a, v), p=sp.latex(phase.exponent), ph=p_hat, k=k,
                again=again, k2=2 * k),
            lambda: abs(again - float(phase.exponent)) > P_BIAS / (2 * k),
            "the same estimate at twice the k, where its bias is halved")

    shown = "; ".join(f"${_point(a, v)}$: $p = {sp.latex(phase.exponent)}$, $\\hat p = {sci(p_hat, 4)}$"
                      for a, v, phase, p_hat in rows)
    return decide(not wrong, tex(
        r"$\hat p = -\log_2((f_{2k} - \mathrm{atom})/((f_k - \mathrm{atom})\rho^{2k}))$ from «dps»-digit quadrature "
        r"of the density at $k = «k»$, dividing by the predicted $\rho^{2k}$ (so a wrong rate moves $\hat p$ by $k$ "
        r"times the log of the ratio): «shown»; every $|\hat p - p| \le «bias»/k$ (the $O(1/k)$ bias).",
        dps=PHASE_DPS, k=k, shown=shown, bias=P_BIAS), counterexample)


# ---------------------------------------------------------------------------------------------
# Order of limits


@CLAIM_RMT.part("fixed-d-diverges", FINDING,
                r"The limits do not commute: at fixed $d$ the error diverges in $k$. At $d = 1$ the exact error "
                r"falls to a minimum and then exceeds $\mathrm{err}_0$.")
def fixed_d_diverges(full: bool):
    m, n = D1_MN
    errs = [cot_error_d1(1, n, k, m=m) for k in range(D1_K + 1)]
    for k in range(RECURSION_K + 1):
        agree(f"err_{k} at d = 1, m = {m}, n = {n}", ("chi-square closed form", errs[k]),
              ("moment recursion", isotropic_cot_error_value(k, 1, m, n)))
    k_min = min(range(D1_K + 1), key=lambda k: errs[k])
    ok = 0 < k_min < D1_K and errs[D1_K] > errs[0] > errs[k_min]

    def counterexample():
        explicit = [d_one_error(k, m, n) for k in range(D1_K + 1)]
        return Counterexample(
            tex(r"$d = 1$, $m = «m»$, $n = «n»$: $\mathrm{err}_{«kk»} = «last:.4g»$ against $\mathrm{err}_0 = «e0»$",
                m=m, n=n, kk=D1_K, last=float(errs[D1_K]), e0=errs[0]),
            lambda: not explicit[D1_K] > explicit[0] > min(explicit),
            "the explicit binomial sum over the chi-square moments")

    return decide(ok, tex(
        r"Exact (chi-square closed form, $d = 1$, $m = «m»$, $n = «n»$; the moment recursion agrees for "
        r"$k \le «rk»$): $\mathrm{err}_k$ is least at $k = «kmin»$ ($«emin:.3g»$) and $\mathrm{err}_{«kk»} = "
        r"«last:.4g»$ exceeds $\mathrm{err}_0 = «e0»$.",
        m=m, n=n, rk=RECURSION_K, kmin=k_min, emin=float(errs[k_min]), kk=D1_K, last=float(errs[D1_K]), e0=errs[0]),
        counterexample)


@CLAIM_RMT.part("correction-grows", FINDING,
                r"The $1/d$ correction is not uniform in $k$: the relative correction $g_k/f_k$ grows with $k$.")
def correction_grows(full: bool):
    alpha, nu = GROWTH_POINT
    at = {alpha_sym: alpha, nu_sym: nu}
    rel = [sp.Rational(g.subs(at) / f.subs(at)) for f, g in (proportional_expansion(k) for k in GROWTH_KS)]
    increasing = all(b > a for a, b in zip(rel, rel[1:]))

    def counterexample():
        series = [series_coefficients(k, alpha, nu, 1) for k in GROWTH_KS]
        again = [g / f for f, g in series]
        return Counterexample(
            tex(r"$(\alpha, \nu) = «pt»$: $g_k/f_k = «rel:list.3g»$ for $k = «ks:list»$", pt=_point(alpha, nu),
                rel=[float(r) for r in rel], ks=list(GROWTH_KS)),
            lambda: not all(b > a for a, b in zip(again, again[1:])),
            "sympy's series in 1/d of the whole exact error")

    return decide(increasing, tex(
        r"At $(\alpha, \nu) = «pt»$ (exponential phase), exactly: $g_k/f_k = «rel:list.3g»$ for $k = «ks:list»$.",
        pt=_point(alpha, nu), rel=[float(r) for r in rel], ks=list(GROWTH_KS)), counterexample)


# ---------------------------------------------------------------------------------------------
# Derivation


@CLAIM_RMT.derives
def derivation() -> list[Step]:
    from theory.derive import _eq
    lead, corr = proportional_expansion(1)
    return [
        Step(r"Isotropic model $\Lambda = \Sigma = I$: exact finite-$d$ error of direct ICL ($k = 1$), a rational "
             r"function of $d, m, n$ from the Wishart trace-moment recursion:",
             _eq(sp.Symbol("err_1"), sp.factor(isotropic_cot_error(1)))),
        Step(r"Proportional limit $m = \alpha d$, $n = \nu d$, $d \to \infty$: $\mathrm{err}_k/d$ through the "
             r"Marchenko--Pastur (Narayana) moments, $k = 1$:",
             _eq(sp.Symbol("f_1"), sp.factor(mp_cot_error(1)))),
        Step(r"The same limit taken term by term from the finite-$d$ formula (the independent route), and its "
             r"first $1/d$ correction:",
             sp.Tuple(_eq(sp.Symbol("f_1"), sp.factor(lead)), _eq(sp.Symbol("g_1"), sp.factor(corr)))),
        Step(tex(r"$k = «k»$:", k=2).render(), _eq(sp.Symbol("f_2"), sp.factor(sp.together(mp_cot_error(2))))),
        Step(r"The overthinking boundary $\nu_c(\alpha)$ (overthinking iff $\nu > \nu_c$, i.e. the "
             r"Marchenko--Pastur edge $(1 + \alpha^{-1/2})^2$ exceeds $2\gamma$) at $\alpha = "
             + ", ".join(sp.latex(a) for a in NU_C_ALPHAS) + "$:",
             sp.Tuple(*[_eq(sp.Function("nu_c")(a), critical_nu(a)) for a in NU_C_ALPHAS])),
    ]
