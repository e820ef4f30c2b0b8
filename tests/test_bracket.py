"""The rigorous bracket on the CoT error (theory.bracket) against the exact engine.

Exact throughout: the prompt-by-prompt inequality on random rational matrices, the bracket
containing the exact engine value (``theory.error``) on random non-commuting rational problems,
the log-convexity and isotropic-domination extensions against the exact trace.
"""

import math
from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

import theory
from theory import bracket as br
from theory import finite_trace as ft
from theory._exact import exact_identity, exact_inverse, exact_matmul
from theory.covariance import gamma_exact
from theory.error import cot_error_poly
from theory.overthinking import infinite_m_error_exact
from theory.scaling import rational_orthogonal

SEED = 20251004


def rng_for(*keys):
    return np.random.default_rng(np.random.SeedSequence([SEED, *keys]))


def rational_cov(rng, d, den=3):
    """B Bᵀ + I/2 with B a random rational d × d matrix: PD and non-diagonal."""
    B = [[Fraction(int(rng.integers(-3, 4)), int(rng.integers(1, den + 1))) for _ in range(d)] for _ in range(d)]
    C = np.empty((d, d), dtype=object)
    for i in range(d):
        for j in range(d):
            C[i, j] = sum((B[i][l] * B[j][l] for l in range(d)), Fraction(0)) + (Fraction(1, 2) if i == j else 0)
    return C


def frobenius2(A):
    return sum((v * v for v in A.flat), Fraction(0))


def power(A, k):
    out = exact_identity(A.shape[0])
    for _ in range(k):
        out = exact_matmul(out, A)
    return out


# ----------------------------------------------------------------- the inequality and its constant

@pytest.mark.parametrize("index", range(6))
def test_prompt_by_prompt_inequality(index):
    """tr M̂^{2k} <= ‖M̂^k‖_F² <= C tr M̂^{2k} for rational Γ, Ŝ (M̂ = I − Γ^{-1}Ŝ; tr N̂^{2k} = tr M̂^{2k})."""
    rng = rng_for(1, index)
    d = 2 + index % 3
    lam = rational_cov(rng, d)
    G = gamma_exact(lam, 1 + index)
    C, _ = br.condition_constant_upper(G)
    for _ in range(3):
        S = rational_cov(rng, d)
        M = exact_identity(d) - exact_matmul(exact_inverse(G), S)
        for k in range(1, 5):
            Mk = power(M, k)
            trace = sum(power(M, 2 * k)[i, i] for i in range(d))
            assert trace <= frobenius2(Mk) <= C * trace


def test_constant_exact_for_diagonal_gamma():
    G = gamma_exact([1, Fraction(1, 2), Fraction(1, 3)], 4)
    kappa = G[0, 0] / G[2, 2]
    C, how = br.condition_constant_upper(G)
    assert C == (kappa + 1 / kappa) / 2 and "exact" in how


def test_constant_rigorous_for_non_diagonal_gamma():
    # 2 × 2: the eigenvalues are quadratic irrationals; compare with sympy's exact κ
    rng = rng_for(2)
    for _ in range(5):
        lam = rational_cov(rng, 2)
        G = gamma_exact(lam, 3)
        C, _ = br.condition_constant_upper(G)
        eig = sympy.Matrix([[sympy.Rational(v.numerator, v.denominator) for v in row] for row in G]).eigenvals()
        lo, hi = min(eig), max(eig)
        kappa = hi / lo
        exact = sympy.nsimplify((kappa + 1 / kappa) / 2)
        C_sym = sympy.Rational(C.numerator, C.denominator)
        assert C_sym >= exact
        assert (C_sym - exact) / exact < sympy.Rational(1, 10 ** 15)  # 64-bit rounding of κ̄ only


# ----------------------------------------------------------------- the bracket against the engine

def problem(index, d):
    rng = rng_for(3, index)
    return rational_cov(rng, d), 1 + index % 5, rational_cov(rng, d)


@pytest.mark.parametrize("index, d, k, m", [(0, 2, 1, 3), (1, 2, 4, 5), (2, 3, 2, 1), (3, 3, 3, 7), (4, 4, 2, 9),
                                            (5, 2, 6, 12)])
def test_bracket_contains_engine_value(index, d, k, m):
    lam, n, sig = problem(index, d)
    exact = cot_error_poly(lam, n, k, test_cov=sig).evaluate(m)
    b = br.error_bracket(lam, n, k, sig, m, exact_budget=0)
    assert b.exact is None
    trace = ft.finite_m_trace(lam, n, k, sig, m=m)
    assert b.lower <= trace <= b.lower * (1 + Fraction(1, 2 ** 49))  # the ball's relative radius 2^-50
    assert b.contains(exact)
    assert b.lower < exact < b.upper  # non-commuting: both inequalities strict here
    assert b.ratio <= float(br.condition_constant_upper(gamma_exact(lam, n))[0]) * (1 + 1e-15)


@pytest.mark.slow
@pytest.mark.parametrize("index", range(6))
def test_bracket_contains_engine_value_up_to_k8(index):
    d = 2 + index % 3
    lam, n, sig = problem(10 + index, d)
    poly = cot_error_poly(lam, n, 8, test_cov=sig)
    for m in (1, 4, 20):
        b = br.error_bracket(lam, n, poly.k, sig, m, exact_budget=0)
        assert b.contains(poly.evaluate(m))


@st.composite
def small_problems(draw):
    d = draw(st.integers(1, 3))
    eig = st.fractions(min_value=Fraction(1, 4), max_value=4, max_denominator=4)
    lam = np.diag(np.array(draw(st.lists(eig, min_size=d, max_size=d)), dtype=object))
    skew = draw(st.lists(st.fractions(min_value=-2, max_value=2, max_denominator=3),
                         min_size=d * (d - 1) // 2, max_size=d * (d - 1) // 2))
    K = np.empty((d, d), dtype=object)
    K[...] = Fraction(0)
    it = iter(skew)
    for i in range(d):
        for j in range(i + 1, d):
            K[i, j] = next(it)
            K[j, i] = -K[i, j]
    Q = rational_orthogonal(K)
    sig = Q.dot(np.diag(np.array(draw(st.lists(eig, min_size=d, max_size=d)), dtype=object))).dot(Q.T)
    return lam, draw(st.integers(1, 10)), sig, draw(st.integers(1, 3)), draw(st.integers(1, 6))


@given(small_problems())
def test_property_bracket_contains_engine_value(case):
    lam, n, sig, k, m = case
    exact = cot_error_poly(lam, n, k, test_cov=sig).evaluate(m)
    b = br.error_bracket(lam, n, k, sig, m, exact_budget=0)
    assert b.lower <= exact <= b.upper


def test_exact_engine_within_budget():
    lam, n, sig = problem(20, 3)
    b = br.error_bracket(lam, n, 3, sig, 6)
    assert b.exact == b.lower == b.upper == cot_error_poly(lam, n, 3, test_cov=sig).evaluate(6)
    assert b.ratio == 1.0 and "engine" in b.lower_method


def test_m_infinity_and_k_zero():
    lam, n, sig = problem(21, 3)
    b = br.error_bracket(lam, n, 30, sig)
    assert b.exact == b.lower == b.upper == infinite_m_error_exact(lam, n, sig, 30)
    b = br.error_bracket(lam, n, 0, sig, 4)
    assert b.exact == 3 and b.contains(3) and not b.contains(Fraction(3) + Fraction(1, 10 ** 30))


# ----------------------------------------------------------------- beyond the reach of the exact trace

def test_log_convexity_of_the_trace():
    # T_j(m) is a moment sequence: T_j² <= T_{j−1} T_{j+1}, exactly
    lam, n, sig = problem(22, 3)
    G, S, _ = ft._validated(lam, n, 9, sig)
    values = ft._traces(G, S, 9, 5)
    assert all(values[j] ** 2 <= values[j - 1] * values[j + 1] for j in range(1, 9))


def test_isotropic_trace_is_the_trace_of_a_scalar_problem():
    # Λ = I_d, Σ = w γ I (γ = 1 + (d + 1)/n): Γ^{-1}Σ = w I
    d, n, w = 3, 4, Fraction(5, 7)
    gamma_d = 1 + Fraction(d + 1, n)
    for k, m in ((1, 2), (3, 5), (4, 1)):
        expected = ft.finite_m_trace(np.ones(d, dtype=int), n, k, np.full(d, w * gamma_d, dtype=object), m=m)
        assert ft._isotropic_trace(d, k, m, w, math.inf) == expected
    assert ft._isotropic_trace(d, 50, 4, w, 1e-9) is None


def test_beyond_reach_bounds(monkeypatch):
    # a stand-in cost of k seconds for T_k makes the reach k_0 = 3 at a budget of 3.5 s
    monkeypatch.setattr(br, "_zonal_cost", lambda k, profile, balls: float(k))
    lam, n, sig = problem(23, 2)
    k, m = 6, 5
    b = br.error_bracket(lam, n, k, sig, m, exact_budget=0, trace_budget=3.5)
    assert "k_0 = 3" in " ".join(b.steps)
    G, S, _ = ft._validated(lam, n, k, sig)
    traces = ft._traces(G, S, k, m)
    bounds = ft._trace_bounds(G, S, 3, m)
    spec = ft._Spectrum(G, S)
    beta_low, omega_bar = ft._top_eigenvalue_bounds(spec)
    convex = bounds[3][0] * (bounds[3][0] / bounds[2][1]) ** 3
    top = br._top_direction_lower(beta_low, k, m)
    assert b.lower == max(convex, top)
    assert convex <= traces[3] * (traces[3] / traces[2]) ** 3 <= traces[k] and top <= traces[k]
    exact = cot_error_poly(lam, n, k, test_cov=sig).evaluate(m)
    assert b.lower < exact < b.upper
    constant, _ = br.condition_constant_upper(G)
    assert b.upper >= constant * traces[k]
    assert b.upper == constant * (2 + ft._isotropic_trace(2, k, m, omega_bar, math.inf))


def test_top_direction_lower_bound():
    # E(β s − 1)_+^{2k}, s = χ²_m/m: below T_k, and equal to a 30-digit quadrature (and to the float
    # quadrature of theory.scaling.divergence_log_lower_bound, which computes the same expectation)
    import mpmath
    from theory.scaling import divergence_log_lower_bound

    lam, n, sig = problem(27, 3)
    G, S, _ = ft._validated(lam, n, 1, sig)
    beta_low, beta_high = ft._top_eigenvalue_bounds(ft._Spectrum(G, S))
    for k, m in ((3, 4), (8, 10), (25, 40)):
        bound = br._top_direction_lower(beta_low, k, m)
        if k <= 8:
            assert 0 < bound <= ft.finite_m_trace(lam, n, k, sig, m=m)
        with mpmath.workdps(30):
            b = mpmath.mpf(beta_low.numerator) / beta_low.denominator
            half = mpmath.mpf(m) / 2

            def density(x):  # χ²_m density at x = m s
                return mpmath.exp((half - 1) * mpmath.log(x) - x / 2 - half * mpmath.log(2)
                                  - mpmath.loggamma(half))

            quad = mpmath.quad(lambda x: (b * x / m - 1) ** (2 * k) * density(x), [m / b, 2 * m / b, mpmath.inf])
        assert float(bound) == pytest.approx(float(quad), rel=1e-6)  # 2^-20 ball, quadrature to 30 digits
        float_log = divergence_log_lower_bound(np.array(lam, dtype=float), n, k, m,
                                               test_cov=np.array(sig, dtype=float))
        assert math.log(bound) == pytest.approx(float_log, rel=1e-9)  # float input, 1e-11 quadrature


def test_no_budget_at_all():
    lam, n, sig = problem(24, 2)
    b = br.error_bracket(lam, n, 5, sig, 3, exact_budget=0, trace_budget=0)
    G, S, _ = ft._validated(lam, n, 5, sig)
    beta_low, _ = ft._top_eigenvalue_bounds(ft._Spectrum(G, S))
    assert b.lower == br._top_direction_lower(beta_low, 5, 3) > 0 and "top eigen-direction" in b.lower_method
    assert b.upper is None and b.ratio == math.inf and b.upper_float == math.inf
    assert "no finite upper bound" in b.upper_method
    assert b.contains(cot_error_poly(lam, n, 5, test_cov=sig).evaluate(3))


def test_top_eigenvalue_bounds():
    # no root of the characteristic polynomial of Γ^{-1}Σ above ω̄, one in [β̲, ω̄]
    lam, n, sig = problem(25, 3)
    G, S, _ = ft._validated(lam, n, 1, sig)
    low, high = ft._top_eigenvalue_bounds(ft._Spectrum(G, S))
    A = sympy.Matrix([[sympy.Rational(v.numerator, v.denominator) for v in row] for row in exact_matmul(
        exact_inverse(G), S)])
    x = sympy.Symbol("x")
    chi = sympy.Poly(A.charpoly(x).as_expr(), x)
    low, high = sympy.Rational(low.numerator, low.denominator), sympy.Rational(high.numerator, high.denominator)
    assert chi.count_roots(high, None) == 0
    assert chi.count_roots(low, high) == 1 and high - low < sympy.Rational(1, 10 ** 30)
    G2 = gamma_exact([1, 2], 3)
    assert ft._top_eigenvalue_bounds(ft._Spectrum(G2, np.diag([3, 1]))) == (3 / G2[0, 0], 3 / G2[0, 0])


# ----------------------------------------------------------------- the result object

def test_result_object():
    lam, n, sig = problem(26, 2)
    b = br.error_bracket(lam, n, 2, sig, 4, exact_budget=0)
    assert isinstance(b, theory.ErrorBracket) and theory.error_bracket is br.error_bracket
    assert b.lower_float == float(b.lower) and b.upper_float == float(b.upper)
    assert b.ratio == pytest.approx(float(b.upper / b.lower), rel=1e-15)
    assert b.log_lower == pytest.approx(math.log(b.lower_float), rel=1e-14)
    assert b.log_upper == pytest.approx(math.log(b.upper_float), rel=1e-14)
    assert b.contains(b.lower_float * (1 + 1e-9)) and not b.contains(0.0)
    assert "<table>" in b._repr_html_()
    with pytest.raises(AttributeError):
        b.lower = Fraction(0)
    huge = br.ErrorBracket(3, 5, Fraction(10) ** 400, Fraction(10) ** 401, None, "", "", ())
    assert huge.lower_float == math.inf and huge.log_lower == pytest.approx(400 * math.log(10), rel=1e-14)
    assert huge.ratio == 10.0


def test_engine_cost_estimate():
    from theory.error import engine_cost
    assert br.engine_cost_seconds(10, 9, True) == engine_cost(10, 9, "commuting").seconds
    assert br.engine_cost_seconds(10, 12, False) > br.engine_cost_seconds(10, 12, True) > br.engine_cost_seconds(10, 11, True)


@pytest.mark.slow
def test_paper_case_k20():
    # d = 10, λ_i = 1/i (float64), Σ = Λ, n = 10, m = 40: ratio ½(κ + 1/κ) <= 2 (bench/bench_trace.py times it)
    lam = 1.0 / np.arange(1, 11)
    b = br.error_bracket(lam, 10, 20, m=40)
    trace = ft.finite_m_trace(lam, 10, 20, m=40)
    assert b.exact is None and b.lower <= trace <= b.lower * (1 + Fraction(1, 2 ** 49))
    assert b.ratio <= 2


@pytest.mark.parametrize("kwargs, name", [
    (dict(exact_budget=-1), "exact_budget"), (dict(exact_budget=math.nan), "exact_budget"),
    (dict(trace_budget="x"), "trace_budget"), (dict(m=0), "m"), (dict(k=-2), "k"), (dict(n=0), "n"),
    (dict(test_cov=[1, 2, 3]), "train_cov"), (dict(test_cov=[[1, 1], [0, 1]]), "test_cov"),
])
def test_bad_input(kwargs, name):
    args = dict(train_cov=[1, 2], n=3, k=2, test_cov=None, m=5) | kwargs
    with pytest.raises(ValueError, match=name):
        br.error_bracket(**args)
