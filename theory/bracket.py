r"""A rigorous two-sided bracket on the CoT error at finite test length, from Remark 4.1's trace.

Notation (arXiv 2510.03605; the conventions of :mod:`theory.finite_trace`): ``Γ`` with
eigenvalues ``g_i`` and condition number ``κ(Γ) = λ_max(Γ)/λ_min(Γ)``; ``B̂ = Γ^{-1/2} Ŝ_m Γ^{-1/2}``,
``N̂ = I − B̂``, ``M̂ = I − Γ^{-1}Ŝ_m = Γ^{-1/2} N̂ Γ^{1/2}``; ``err_k(m) = E‖M̂^k‖_F²`` (exact for small
``k`` by :func:`theory.error.cot_error`), ``T_k(m) = E tr N̂^{2k}`` (exact by
:func:`theory.finite_trace.finite_m_trace`).

The bracket, prompt by prompt:

.. math::
    \operatorname{tr}\hat N^{2k} \le \|\hat M^k\|_F^2
        \le \tfrac12\big(\kappa(\Gamma) + \kappa(\Gamma)^{-1}\big)\operatorname{tr}\hat N^{2k},
    \qquad\text{hence}\qquad
    T_k(m) \le \mathrm{err}_k(m) \le \tfrac12\big(\kappa + \kappa^{-1}\big)\,T_k(m).

Proof.  ``A = N̂^k`` is symmetric and ``M̂^k = Γ^{-1/2} A Γ^{1/2}``, so
``‖M̂^k‖_F² = tr(Γ^{1/2} A Γ^{-1} A Γ^{1/2}) = tr(A Γ^{-1} A Γ)``.  In an eigenbasis of Γ,
``Γ = diag(g)``,

.. math::
    \operatorname{tr}(A\Gamma^{-1}A\Gamma) = \sum_{i,j} A_{ij}^2\,\frac{g_j}{g_i}
    = \sum_i A_{ii}^2 + \sum_{i<j} A_{ij}^2\Big(\frac{g_i}{g_j} + \frac{g_j}{g_i}\Big),

and ``2 <= r + 1/r <= κ + 1/κ`` for ``r = g_i/g_j ∈ [1/κ, κ]``; with
``tr A² = Σ_i A_ii² + 2 Σ_{i<j} A_ij² = tr N̂^{2k}`` both inequalities follow.  Taking expectations
over the prompt gives the bracket on ``err_k``.

Tightening (every step rigorous, every number an exact ``Fraction``):

* ``m = ∞``: the error is ``‖(I − Γ^{-1}Σ)^k‖_F²`` exactly; at ``k = 0`` it is ``d``;
* the exact engine (:mod:`theory.error`) when its estimated cost fits ``exact_budget``;
* ``T_k(m)`` by the zonal computation of :mod:`theory.finite_trace` when its estimated cost fits
  ``trace_budget``, in arb ball arithmetic (``128 + 2k`` bits and up, until the relative radius is
  at most ``2^-50``; three times faster than the exact integers at ``k = 20``, ``d = 10``) and rounded
  outward to exact fractions (:func:`theory.finite_trace.finite_m_trace` gives the exact value);
  the constant ``½(κ + 1/κ)`` is exact when Γ is diagonal and otherwise an upper bound from
  rigorous ball enclosures of the eigenvalues of Γ (FLINT arb), rounded outward;
* beyond that reach, at ``k > k_0``, the larger of two lower bounds.  Log-convexity:
  ``a_k = T_k(m) = E Σ_i ((1 − b_i)²)^k`` (``b_i`` the eigenvalues of ``B̂``) is the ``k``-th moment
  of a nonnegative measure, hence log-convex in ``k`` (Cauchy–Schwarz: ``a_j² <= a_{j−1} a_{j+1}``),
  so ``a_k >= a_{k_0} (a_{k_0}/a_{k_0−1})^{k−k_0}``.  The top eigen-direction alone:
  ``T_k(m) >= E(β χ²_m/m − 1)_+^{2k}`` with ``β = λ_max(Γ^{-1}Σ)`` (:func:`_top_direction_lower`, in
  arb incomplete gamma functions), which grows faster than any exponential in ``k``;
* beyond that reach, an upper bound by domination: ``(1 − b)^{2k} <= g(b) = max(1, (b − 1)^{2k})
  <= 1 + (b − 1)^{2k}`` with ``g`` nondecreasing on ``b >= 0``, and the ordered eigenvalues of ``B̂``
  (those of ``Zᵀ Ω Z / m``, ``Z`` a standard ``d × m`` Gaussian) are at most ``ω̄`` times those of
  ``Z Zᵀ/m`` for any ``ω̄ >= λ_max(Γ^{-1}Σ)``, so ``T_k(m) <= d + T_k^{iso}(m; ω̄)``, the trace
  with ``Ω = ω̄ I`` (its Jack polynomials are closed forms, so it is cheap at any ``k`` the shape
  count allows); when even that is over ``trace_budget`` there is no finite upper bound, and the
  record says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import flint

from theory._repr import RichRepr
from theory._validate import _to_fraction, positive_float, positive_int
from theory.error import _limit_error, _log, _routes, _structure_mode, _validated_cot, _value, limit_error_enclosure
from theory.finite_trace import (_arb_lower, _arb_upper, _isotropic_trace, _profile, _Spectrum,
                                 _top_eigenvalue_bounds, _trace_bounds, _validated, _zonal_cost,
                                 ZONAL_K_MAX)

#: Default budgets, in estimated CPU seconds of this project's reference machine (one core of a
#: shared 2-core machine; see ``bench/bench_trace.py``).
EXACT_BUDGET = 10.0
TRACE_BUDGET = 120.0

# Beyond this k at finite m the bracket's own exact arithmetic (the top direction's tail bound, a
# Fraction of about k·15 bits) takes seconds and more: refused with a pointer to the bound alone.
BRACKET_K_MAX = 10 ** 5


def engine_cost_seconds(d: int, k: int, commuting: bool) -> float:
    """Estimated CPU seconds of the exact engine for ``err_k`` at one finite ``m``
    (:func:`theory.error.engine_cost`, the one cost model of the engine)."""
    from theory.error import engine_cost
    return engine_cost(d, k, "commuting" if commuting else "symmetric").seconds


@dataclass(frozen=True)
class ErrorBracket(RichRepr):
    r"""Rigorous bounds on the CoT error, with the record of how they were obtained.

    .. math:: \text{lower} \le \mathrm{err}_k(m) = \mathbb E\|w_k - w\|^2 \le \text{upper}

    Attributes
    ----------
    k : int
        Number of LSA passes.
    m : int or None
        Test prompt length (``None``: ``m = ∞``).
    lower : Fraction
        A rigorous lower bound.
    upper : Fraction or None
        A rigorous upper bound, or ``None`` when no finite upper bound was obtained (said in
        ``upper_method``).
    exact : Fraction or None
        The exact error when it was computed (then ``lower = upper = exact``).
    lower_method, upper_method : str
        How each bound was obtained.
    steps : tuple of str
        The record of what was computed and what was skipped, in order.
    """

    k: int
    m: int | None
    lower: Fraction
    upper: Fraction | None
    exact: Fraction | None
    lower_method: str
    upper_method: str
    steps: tuple

    @property
    def ratio(self) -> float:
        """``upper / lower`` (``1.0`` when they are equal, ``inf`` without a finite upper bound)."""
        if self.upper == self.lower:
            return 1.0
        if self.upper is None or self.lower == 0:
            return math.inf
        return _float(self.upper / self.lower)

    @property
    def lower_float(self) -> float:
        """``lower`` rounded to a float (``inf`` beyond the float range)."""
        return _float(self.lower)

    @property
    def upper_float(self) -> float:
        """``upper`` rounded to a float (``inf`` beyond the float range or without an upper bound)."""
        return math.inf if self.upper is None else _float(self.upper)

    @property
    def log_lower(self) -> float:
        """Natural logarithm of ``lower`` (finite at any size; ``-inf`` for 0)."""
        return _log(self.lower)

    @property
    def log_upper(self) -> float:
        """Natural logarithm of ``upper`` (``inf`` without an upper bound)."""
        return math.inf if self.upper is None else _log(self.upper)

    def contains(self, x) -> bool:
        """Whether ``lower <= x <= upper`` (floats are compared exactly)."""
        x = _to_fraction(x, "x")
        return self.lower <= x and (self.upper is None or x <= self.upper)


def _float(x: Fraction) -> float:
    try:
        return float(x)
    except OverflowError:
        return math.inf


def condition_constant_upper(G) -> tuple[Fraction, str]:
    r"""A rational ``C >= ½(κ(Γ) + 1/κ(Γ))`` and how it was obtained.

    Exact when Γ is diagonal.  Otherwise the eigenvalues of Γ are enclosed in arb balls (roots of
    its characteristic polynomial over ``Q``), ``κ̄ = ⌈λ_max⌉ / ⌊λ_min⌋`` is rounded up, and
    ``C = ½(κ̄ + 1/κ̄)`` (``x + 1/x`` increases for ``x >= 1``).
    """
    d = G.shape[0]
    if all(G[i, j] == 0 for i in range(d) for j in range(d) if i != j):
        diag = [G[i, i] for i in range(d)]
        kappa = max(diag) / min(diag)
        return (kappa + 1 / kappa) / 2, "κ(Γ) exact (Γ diagonal)"
    mat = flint.fmpq_mat(d, d, [flint.fmpq(v.numerator, v.denominator) for v in G.flat])
    chi = mat.charpoly()
    den = math.lcm(*(int(c.q) for c in chi.coeffs()))
    poly = flint.fmpz_poly([int(c.p) * (den // int(c.q)) for c in chi.coeffs()])
    prec = 128
    while True:
        with flint.ctx.workprec(prec):
            roots = [r.real for r, _ in poly.complex_roots()]
            top = max(_arb_upper(r) for r in roots)
            bottom = min(_arb_lower(r) for r in roots)
        if bottom > 0:
            break
        prec *= 2
    kappa = top / bottom
    # round κ̄ up to 64 significant bits so that the constant stays a small fraction
    e = kappa.numerator.bit_length() - kappa.denominator.bit_length() - 64
    kappa = Fraction(math.ceil(kappa / Fraction(2) ** e)) * Fraction(2) ** e
    return (kappa + 1 / kappa) / 2, f"κ(Γ) <= {float(kappa):.12g} from arb enclosures of Γ's eigenvalues"


def error_bracket(train_cov, n, k, test_cov=None, m=None, *, exact_budget: float = EXACT_BUDGET,
                  trace_budget: float = TRACE_BUDGET) -> ErrorBracket:
    r"""Rigorous exact-rational bounds on ``err_k(m) = E‖w_k − w‖²`` of the trained LSA.

    .. math::
        T_k(m) \le \mathrm{err}_k(m) \le \tfrac12\big(\kappa(\Gamma) + \kappa(\Gamma)^{-1}\big)\,T_k(m),
        \qquad T_k(m) = \mathbb E\operatorname{tr}\big(I - \Gamma^{-1/2}\hat S_m\Gamma^{-1/2}\big)^{2k}

    (proof in the module docstring), replaced by the exact value where it is cheap (``m = ∞``,
    ``k = 0``, or the exact engine within ``exact_budget``), and extended beyond the reach of the
    trace by log-convexity (lower) and isotropic domination (upper).

    Parameters
    ----------
    train_cov : array_like
        Λ, symmetric PSD and nonzero, or 1-D eigenvalues; floats are converted exactly.
    n : int
        Training prompt length, ``n >= 1``.
    k : int
        Number of LSA passes, ``k >= 0``.
    test_cov : array_like, optional
        Σ (default Λ).
    m : int, optional
        Test prompt length, ``m >= 1``; ``None`` is ``m = ∞`` (always exact).
    exact_budget : float
        The exact engine runs when its estimated cost (:func:`engine_cost_seconds`, CPU seconds on
        the reference machine) is at most this; ``0`` never runs it at finite ``m``.
    trace_budget : float
        ``T_k(m)`` is enclosed when the estimated cost of the ball computation (CPU seconds on the
        reference machine, as :func:`theory.finite_trace.finite_m_trace_cost`) is at most this;
        otherwise ``T_{k_0−1}, T_{k_0}`` at the largest ``k_0 < k`` that fits, extended; the
        isotropic upper bound also has to fit.

    Returns
    -------
    ErrorBracket
        ``lower``, ``upper`` (exact ``Fraction``; ``upper`` may be ``None``), ``exact`` when known,
        and the record of how each bound was obtained.
    """
    G, sigma, k = _validated(train_cov, n, k, test_cov)
    m = None if m is None else positive_int(m, "m")
    if m is not None and k > BRACKET_K_MAX:
        raise ValueError(f"k = {k} is too large for a bracket at finite m (limit {BRACKET_K_MAX}: the "
                         "rigorous tail bound's exact arithmetic grows with k, about 10 s at k = 10⁶); "
                         "theory.bracket.tail_lower_bound gives the lower bound alone")
    exact_budget = _budget(exact_budget, "exact_budget")
    trace_budget = _budget(trace_budget, "trace_budget")
    d = G.shape[0]
    if k == 0:
        value = Fraction(d)
        return ErrorBracket(k, m, value, value, value, "k = 0: ‖I‖_F² = d", "k = 0: ‖I‖_F² = d", ())
    P, S, _ = _validated_cot(train_cov, n, k, test_cov)
    if m is None:
        return _limit_bracket(P, S, k, exact_budget)
    steps = []
    commuting = _structure_mode(P, S) == "commuting"
    estimate = engine_cost_seconds(d, k, commuting)
    if estimate <= exact_budget:
        value = _value(P, S, k, m)
        how = "exact engine (theory.error, Stein recursion)"
        steps.append(f"exact engine: run (estimated {estimate:.3g} s <= exact_budget {exact_budget:g} s)")
        return ErrorBracket(k, m, value, value, value, how, how, tuple(steps))
    steps.append(f"exact engine: skipped (estimated {estimate:.3g} s > exact_budget {exact_budget:g} s)")
    constant, constant_how = condition_constant_upper(G)
    spec = _Spectrum(G, sigma)
    profile = _profile(spec)
    k0 = min(k, ZONAL_K_MAX)  # the trace's reach; beyond it the extension below
    while k0 >= 1 and _zonal_cost(k0, profile, balls=True) > trace_budget:
        k0 -= 1
    if k0 == k:
        lower, upper = _trace_bounds(G, sigma, k, m, spec)[k]
        steps.append(f"T_{k}({m}) enclosed by zonal polynomials in arb balls, relative radius <= 2^-50 "
                     f"(estimated {_zonal_cost(k, profile, balls=True):.3g} s <= trace_budget {trace_budget:g} s)")
        steps.append(f"constant ½(κ + 1/κ) <= {float(constant):.12g}: {constant_how}")
        return ErrorBracket(k, m, lower, constant * upper, None,
                            f"T_{k}({m}) = E tr N̂^{{2k}} (zonal polynomials), rounded down",
                            f"½(κ(Γ) + 1/κ(Γ)) · T_{k}({m}) rounded up; {constant_how}", tuple(steps))
    steps.append(f"T_{k}({m}) skipped (estimated {_zonal_cost(k, profile, balls=True):.3g} s > "
                 f"trace_budget {trace_budget:g} s); enclosed up to k_0 = {k0}")
    bounds = _trace_bounds(G, sigma, k0, m, spec) if k0 >= 1 else None
    return _beyond_reach(k, m, k0, bounds, spec, constant, constant_how, d, trace_budget, steps)


def _limit_bracket(P, S, k: int, exact_budget: float) -> ErrorBracket:
    """``m = ∞``: the exact ``‖(I − Γ^{-1}Σ)^k‖_F²`` when its estimated cost fits ``exact_budget``, else
    its arb enclosure (:func:`theory.error.limit_error_enclosure`, any ``k``)."""
    estimate = _routes(P, S, k, None)[0][0]
    if estimate <= max(exact_budget, 1.0):
        value = _limit_error(P, S, k)
        how = "m = ∞: ‖(I − Γ^{-1}Σ)^k‖_F² exactly"
        return ErrorBracket(k, None, value, value, value, how, how, ())
    lower, upper = limit_error_enclosure(P, S, k)
    how = "m = ∞: ‖(I − Γ^{-1}Σ)^k‖_F² enclosed in arb balls (relative radius <= 2^-60)"
    step = f"exact rationals skipped (estimated {estimate:.3g} s > exact_budget {exact_budget:g} s)"
    return ErrorBracket(k, None, lower, upper, None, how, how, (step,))


def _beyond_reach(k, m, k0, bounds, spec, constant, constant_how, d, trace_budget, steps) -> ErrorBracket:
    """The bracket at ``k`` when ``T_k`` itself is over budget and ``T_0 .. T_{k0}`` are enclosed
    (``bounds``; ``k0 = 0`` with ``bounds = None`` when none is): the larger of the log-convex
    extension and the top eigen-direction below, isotropic domination above."""
    steps = list(steps)
    beta_low, omega_bar = _top_eigenvalue_bounds(spec)
    lower, lower_how = Fraction(0), "none within the budget: 0"
    if k0 >= 1:
        (low, _), (_, high) = bounds[k0], bounds[k0 - 1]
        lower = low * (low / high) ** (k - k0)
        lower_how = (f"log-convexity of T_j({m}) in j from T_{k0 - 1}, T_{k0} (arb enclosures): "
                     f"T_{k0} (T_{k0}/T_{k0 - 1})^{{{k - k0}}}")
    top = _top_direction_lower(beta_low, k, m)
    steps.append(f"top direction: E(β s − 1)_+^{{2k}} >= e^{_log(top):.6g} (β >= {float(beta_low):.12g})")
    if top > lower:
        lower = top
        lower_how = (f"top eigen-direction: E(β χ²_m/m − 1)_+^{{2k}}, β >= {float(beta_low):.12g} "
                     f"(arb incomplete gamma functions)")
    steps.append(f"lower: {lower_how}")
    iso = _isotropic_trace(d, k, m, omega_bar, trace_budget)
    if iso is None:
        upper, upper_how = None, (f"no finite upper bound: the isotropic domination at k = {k} "
                                  f"exceeds trace_budget")
    else:
        upper = constant * (d + iso)
        upper_how = (f"½(κ + 1/κ) (d + T_{k}({m}; Ω = ω̄ I)), ω̄ = {float(omega_bar):.12g} >= "
                     f"λ_max(Γ^{{-1}}Σ); {constant_how}")
    steps.append(f"upper: {upper_how}")
    return ErrorBracket(k, m, lower, upper, None, lower_how, upper_how, tuple(steps))


def _top_direction_lower(beta: Fraction, k: int, m: int) -> Fraction:
    r"""A rational lower bound on ``E(β s − 1)_+^{2k}``, ``s = χ²_m/m``, for any ``0 <= β <= λ_max(Γ^{-1}Σ)``.

    .. math::
        \mathbb E(\beta s - 1)_+^{2k} = \sum_{i=0}^{2k} \binom{2k}{i} (-1)^{i} \beta^i\,
            \mathbb E[s^i]\; Q\Big(\frac m2 + i, \frac{m}{2\beta}\Big),
        \qquad \mathbb E[s^i] = \prod_{l<i} \frac{m + 2l}{m}

    (``s^i`` times the ``χ²_m`` density is ``E[s^i]`` times the ``χ²_{m+2i}`` density; ``Q`` the
    regularised upper incomplete gamma function), in arb balls at a precision doubled until the
    sum is known to a relative ``2^-20``.  It bounds ``T_k(m)`` (hence ``err_k``) from below:
    ``tr N̂^{2k} >= (b_max − 1)_+^{2k}`` and ``b_max >= vᵀB̂v ~ λ_max s`` for the top unit eigenvector
    ``v`` of ``Ω``, with ``x ↦ (x − 1)_+^{2k}`` nondecreasing; it grows faster than any exponential in
    ``k``, where the log-convex extension is geometric.
    """
    if beta <= 0:
        return Fraction(0)
    prec = 128
    while True:
        with flint.ctx.workprec(prec):
            b = flint.arb(flint.fmpq(beta.numerator, beta.denominator))
            z = flint.arb(m) / (2 * b)
            total, moment = flint.arb(0), flint.arb(1)
            for i in range(2 * k + 1):
                tail = z.gamma_upper(flint.arb(m + 2 * i) / 2, regularized=1)  # P(χ²_{m+2i} > m/β)
                term = math.comb(2 * k, i) * b ** i * moment * tail
                total += -term if i % 2 else term
                moment = moment * (m + 2 * i) / m
            if (total > 0 and total.rad() <= total.mid() * flint.arb(2) ** -20) or prec >= _MAX_PREC:
                return max(Fraction(0), _arb_lower(total))
        prec *= 2


# The incomplete-gamma sum stops raising its precision here (then its lower end, or 0, is used).
_MAX_PREC = 1 << 14


def _budget(value, name: str) -> float:
    if not isinstance(value, bool) and value == 0:
        return 0.0
    return positive_float(value, name)


#: An :func:`error_bracket_curve` whose brackets beyond the exact routes are estimated to cost more
#: CPU seconds than this is refused before it starts.
CURVE_SECONDS = 120.0


def _curve_tail_seconds(d: int, k_max: int, m: int | None) -> float:
    """Estimated seconds of the brackets ``k = 1..k_max`` beyond the exact routes: measured on the
    reference machine with both budgets 0 (``d = 2``, ``m = 10``: 0.39 s at ``k_max = 100``, 2.2 s at
    200, 7.4 s at 300; ``m = 1000``: 22 s at 200; ``d = 3``: 4.1 s at 200), about
    ``2.8e-7 k_max³ sqrt(m/10) d/2``.  ``m = ∞`` is exact at every ``k``: priced at ``m = 10``."""
    scale = 1.0 if m is None else math.sqrt(max(m, 10) / 10)
    return 2.8e-7 * float(k_max) ** 3 * scale * d / 2


def error_bracket_curve(train_cov, n, k_max, test_cov=None, m=None, *, exact_budget: float = EXACT_BUDGET,
                        trace_budget: float = TRACE_BUDGET) -> tuple[ErrorBracket, ...]:
    r""":func:`error_bracket` for every ``k = 0 .. k_max`` at once (one zonal pass for all ``k``).

    .. math:: T_k(m) \le \mathrm{err}_k(m) \le \tfrac12(\kappa + \kappa^{-1})\,T_k(m), \qquad k = 0, \dots, k_{\max}

    Each ``k`` gets the exact engine's value while the engine's estimated cost of that ``k`` is within
    ``exact_budget``; ``T_0 .. T_K`` are enclosed together for the largest ``K <= k_max`` whose cost
    fits ``trace_budget``; beyond ``K`` each ``k`` is bracketed as :func:`error_bracket` does (the
    log-convex extension and the top eigen-direction below, isotropic domination above).
    """
    k_max = positive_int(k_max, "k_max")
    G, sigma, k_max = _validated(train_cov, n, k_max, test_cov)
    m = None if m is None else positive_int(m, "m")
    estimate = _curve_tail_seconds(G.shape[0], k_max, m)
    if estimate > CURVE_SECONDS:
        raise ValueError(f"k_max = {k_max}: the brackets beyond the exact routes alone would cost about "
                         f"{estimate:.3g} s (estimated, over {CURVE_SECONDS:g} s; they grow like k_max³); "
                         f"pass a smaller k_max, or call error_bracket at the k you need")
    exact_budget = _budget(exact_budget, "exact_budget")
    trace_budget = _budget(trace_budget, "trace_budget")
    d = G.shape[0]
    P, S, _ = _validated_cot(train_cov, n, k_max, test_cov)
    if m is None:
        return tuple(_limit_bracket(P, S, k, exact_budget) for k in range(k_max + 1))
    commuting = _structure_mode(P, S) == "commuting"
    constant, constant_how = condition_constant_upper(G)
    spec = _Spectrum(G, sigma)
    profile = _profile(spec)
    K = min(k_max, ZONAL_K_MAX)
    while K >= 1 and _zonal_cost(K, profile, balls=True) > trace_budget:
        K -= 1
    bounds = _trace_bounds(G, sigma, K, m, spec) if K >= 1 else [(Fraction(d), Fraction(d))]
    out = []
    for k in range(k_max + 1):
        if k == 0:
            value = Fraction(d)
            out.append(ErrorBracket(0, m, value, value, value, "k = 0: ‖I‖_F² = d", "k = 0: ‖I‖_F² = d", ()))
            continue
        estimate = engine_cost_seconds(d, k, commuting)
        if estimate <= exact_budget:
            value = _value(P, S, k, m)
            how = "exact engine (theory.error, Stein recursion)"
            out.append(ErrorBracket(k, m, value, value, value, how, how,
                                    (f"exact engine: run (estimated {estimate:.3g} s <= exact_budget {exact_budget:g} s)",)))
            continue
        if k <= K:
            low, high = bounds[k]
            out.append(ErrorBracket(k, m, low, constant * high, None,
                                    f"T_{k}({m}) = E tr N̂^{{2k}} (zonal polynomials), rounded down",
                                    f"½(κ(Γ) + 1/κ(Γ)) · T_{k}({m}) rounded up; {constant_how}",
                                    (f"T_0..T_{K}({m}) enclosed together in arb balls",)))
            continue
        out.append(_beyond_reach(k, m, K, bounds if K >= 1 else None, spec, constant, constant_how, d,
                                 trace_budget, (f"T_{k}({m}) over trace_budget; T_0..T_{K} enclosed",)))
    return tuple(out)


def tail_lower_bound(beta: Fraction, k: int, m: int) -> tuple[Fraction, Fraction]:
    r"""A cheap rational lower bound on ``E(β s − 1)_+^{2k}`` (``s = χ²_m/m``) at any ``k`` and ``m``.

    .. math:: \mathbb E(\beta s - 1)_+^{2k} \ge t^{2k}\,P\big(\beta s \ge 1 + t\big)
              = t^{2k}\,Q\Big(\frac m2, \frac{m(1 + t)}{2\beta}\Big) \qquad (t > 0)

    maximised over a grid of ``t`` (one regularised incomplete gamma function each, in arb balls,
    rounded down).  Weaker than :func:`_top_direction_lower` but free of its alternating sum, whose
    cancellation makes it expensive when ``k`` and ``m`` are both in the thousands.  Returns the bound
    and the ``t`` that gave it.
    """
    k = positive_int(k, "k", minimum=0)
    m = positive_int(m, "m")
    if beta <= 0:
        return Fraction(0), Fraction(0)
    best, best_t = Fraction(0), Fraction(0)
    # the maximiser of 2k log t − (chi-square large deviations) sits where t is O(1) for k ~ m;
    # the grid t = 2^e (1 + j/8) over [2^-8, 2^8] loses at most a factor (1 + 1/8)^{2k} against the
    # best t in that range
    ts = [Fraction(2) ** e * Fraction(g, 8) for e in range(-8, 8) for g in range(8, 16)]
    with flint.ctx.workprec(256):
        for t in ts:
            tq = flint.fmpq(t.numerator, t.denominator)
            z = flint.arb(m) * (1 + flint.arb(tq)) / (2 * flint.arb(flint.fmpq(beta.numerator, beta.denominator)))
            tail = z.gamma_upper(flint.arb(m) / 2, regularized=1)
            value = _arb_lower(tail * flint.arb(tq) ** (2 * k))
            if value > best:
                best, best_t = value, t
    return best, best_t
