"""Unit, property and bad-input tests of theory.scaling."""

import math
from fractions import Fraction
from math import comb

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from theory.error import cot_log_error
from theory.overthinking import infinite_m_error_exact
from theory.scaling import (OptimalSteps, contraction_factors, cor35_bound, cor35_log_bound,
                            cot_error_d1, divergence_log_lower_bound, k1_error_coefficients,
                            k_min, limit_log_error, log_fraction, n_min, n_min_cor35,
                            optimal_steps, rational_orthogonal, slowest_contraction, thm33_bound,
                            thm33_terms)

positive_rationals = st.builds(Fraction, st.integers(1, 1000), st.integers(1, 1000))


# ----------------------------------------------------------------------------- d = 1 closed form

def _d1_by_moments(a: Fraction, m: int, k: int) -> Fraction:
    """The textbook form: Σ_j C(2k, j)(−a)^j E s^j with E s^j = Π_{i<j}(m + 2i)/m^j."""
    total, moment = Fraction(0), Fraction(1)
    for j in range(2 * k + 1):
        total += comb(2 * k, j) * (-a) ** j * moment
        moment *= Fraction(m + 2 * j, m)
    return total


@given(positive_rationals, positive_rationals, st.integers(1, 60), st.integers(0, 12),
       st.integers(1, 80))
def test_d1_closed_form_equals_moment_sum(lam, sigma, n, k, m):
    a = Fraction(n) * sigma / ((n + 2) * lam)
    assert cot_error_d1(lam, n, k, m=m, test_var=sigma) == _d1_by_moments(a, m, k)


@pytest.mark.parametrize("n, k, m", [(1, 1, 1), (10, 3, 5), (4, 6, 30)])
def test_d1_closed_form_against_quadrature(n, k, m):
    # Independent: E(1 − a s)^{2k} integrated against the χ²_m density at 40 digits.
    exact = cot_error_d1(1, n, k, m=m)
    with mpmath.workdps(40):
        a = mpmath.mpf(n) / (n + 2)
        half = mpmath.mpf(m) / 2
        density = lambda x: x ** (half - 1) * mpmath.exp(-x / 2) / (2 ** half * mpmath.gamma(half))
        value = mpmath.quad(lambda x: (1 - a * x / m) ** (2 * k) * density(x),
                            [0, m, 4 * m, mpmath.inf])
        # 1e-20: tanh-sinh reaches ~1e-22 with the x^{-1/2} endpoint singularity at m = 1, and the
        # exact rational needs no slack; far beyond double precision either way.
        assert abs(value - mpmath.mpf(exact.numerator) / exact.denominator) < mpmath.mpf(10) ** -20 * value


def test_d1_limit_and_k0():
    assert cot_error_d1(Fraction(1, 3), 10, 4) == Fraction(2, 12) ** 8
    assert cot_error_d1(2.0, 5, 0, m=3) == 1


# ----------------------------------------------------------------------------- k = 1 coefficients

def test_k1_coefficients_match_engine_for_general_matrices():
    from theory.error import cot_error_poly
    lam = np.array([[Fraction(2), Fraction(1, 2)], [Fraction(1, 2), Fraction(1)]], dtype=object)
    sigma = np.array([[Fraction(1), Fraction(-1, 3)], [Fraction(-1, 3), Fraction(3)]], dtype=object)
    assert k1_error_coefficients(lam, 5, test_cov=sigma) == \
        cot_error_poly(lam, 5, 1, test_cov=sigma).coefficients


def test_thm33_terms_latex_and_ratio():
    t = thm33_terms([1, Fraction(1, 2)], 4)
    assert "m" in t.latex() and t.ratio() == t.b0 / t.c0
    assert t.error(10) == t.c0 + t.c1 / 10


def test_rational_orthogonal_is_exactly_orthogonal():
    Q = rational_orthogonal([[0, Fraction(1, 2), 3], [Fraction(-1, 2), 0, -1], [-3, 1, 0]])
    assert np.all(np.dot(Q.T, Q) == np.eye(3, dtype=int))


# ----------------------------------------------------------------------------- m = ∞ quantities

def test_limit_log_error_matches_exact_and_engine_noncommuting():
    lam = np.array([[2.0, 0.5], [0.5, 1.0]])
    sigma = np.array([[1.0, -0.25], [-0.25, 3.0]])
    for k in (1, 3, 8):
        exact = log_fraction(infinite_m_error_exact(lam, 4, sigma, k))
        # rtol 1e-12: eigh-based float evaluation of an O(1)-conditioned problem.
        assert limit_log_error(lam, 4, k, test_cov=sigma) == pytest.approx(exact, rel=1e-12, abs=1e-12)
        assert cot_log_error(lam, 4, k, test_cov=sigma) == pytest.approx(exact, rel=1e-12, abs=1e-12)


def test_limit_log_error_never_overflows():
    # Σ = 10 Λ pushes eigenvalues of Γ^{-1}Σ above 2: the error grows like ρ^{2k}.
    lam = np.array([1.0, 0.5])
    value = limit_log_error(lam, 50, 10 ** 5, test_cov=10 * lam)
    assert math.isfinite(value) and value > 1000
    tiny = limit_log_error(lam, 50, 10 ** 5)
    assert math.isfinite(tiny) and tiny < -1000


def test_contraction_factors_and_bounds():
    lam = [1.0, 0.5, 0.25]
    nu = contraction_factors(lam, 4)
    T = 1.75
    expected = sorted((1 / (1 + 4 * l / (l + T)) for l in lam), reverse=True)
    assert nu == pytest.approx(expected, rel=1e-12)
    assert slowest_contraction(lam, 4) == pytest.approx(expected[0], rel=1e-14)
    hard = T / 0.25
    assert cor35_log_bound(lam, 4, 7) == pytest.approx(math.log(3) - 14 * math.log1p(4 / (1 + hard)))
    assert cor35_bound(lam, 4, 0) == pytest.approx(3.0)
    assert thm33_bound(lam, 4) == pytest.approx(3 / 16 * (1 + hard) ** 2)


# ----------------------------------------------------------------------------- optimal steps, n_min, k_min

def test_optimal_steps_fields_and_overflow_reported_in_logs():
    r = optimal_steps([1], 10, m=2, k_max=400)
    assert isinstance(r, OptimalSteps) and r.method == "d = 1 closed form"
    assert r.certified and r.k_star == 1
    assert math.isinf(r.errors[-1]) and math.isfinite(r.log_errors[-1]) and r.log_errors[-1] > 709


def test_n_min_and_k_min_edges():
    lam = [1.0, 0.5]
    assert n_min(lam, 1, 2.0) == 1               # ε >= d: the first n
    assert n_min(lam, 1, 1e-30, n_max=10) is None
    assert k_min(lam, 10, 2.0) == 1
    assert k_min(lam, 1, 1e-300, k_max=5) is None
    assert n_min_cor35(lam, 3, 2.0) == pytest.approx(0.0, abs=1e-15)


def test_k_min_general_scan_agrees_with_bisection():
    lam = np.diag([1.0, 0.2, 0.05])
    for n, eps in ((3, 0.1), (10, 1e-4)):
        assert k_min(lam, n, eps) == k_min(lam, n, eps, test_cov=lam)


def test_divergence_bound_against_mpmath_quadrature():
    # Independent 30-digit quadrature of E(β s − 1)_+^{2k}, s = χ²_m/m, β = n/(n+2) in d = 1.
    n, k, m = 10, 5, 7
    beta = mpmath.mpf(n) / (n + 2)
    with mpmath.workdps(30):
        half = mpmath.mpf(m) / 2
        f = lambda x: (beta * x / m - 1) ** (2 * k) * x ** (half - 1) * mpmath.exp(-x / 2) / (
            2 ** half * mpmath.gamma(half))
        ref = mpmath.log(mpmath.quad(f, [m / beta, 4 * m, 20 * m, mpmath.inf]))
    assert divergence_log_lower_bound([1.0], n, k, m) == pytest.approx(float(ref), rel=1e-11)


# ----------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("call, match", [
    (lambda: thm33_terms([[1, 1], [1, 2]], 3), "train_cov must be diagonal"),
    (lambda: thm33_terms([1, 0], 3), "positive definite"),
    (lambda: thm33_terms([1, 2], 0), "n must be an integer"),
    (lambda: thm33_bound([1, 2], 3, m=0), "m must be an integer"),
    (lambda: cor35_log_bound([1, 2], 3, -1), "k must be an integer"),
    (lambda: cot_error_d1([1, 2], 3, 1), "train_var must be a single variance"),
    (lambda: cot_error_d1(0, 3, 1), "train_var must be > 0"),
    (lambda: cot_error_d1(1, 3, 1, test_var=[1, 2]), "test_var must be a single variance"),
    (lambda: n_min([1, 2], 1, 0.0), "eps must be a finite positive number"),
    (lambda: n_min([1, 2], 1, float("nan")), "eps must be a finite positive number"),
    (lambda: n_min([1, 2], 1, "x"), "eps must be a finite positive number"),
    (lambda: n_min([0, 0], 1, 0.5), "train_cov must be nonzero"),
    (lambda: k_min([1, 2], 1, 0.1, test_cov=[1, 2, 3]), "same dimension"),
    (lambda: optimal_steps([1, 2], 3, k_max=1), "k_max must be an integer >= 2"),
    (lambda: optimal_steps([1, np.nan], 3), "train_cov must be finite"),
    (lambda: divergence_log_lower_bound([1, 2], 3, 2, 4, test_cov=[0, 0]), "test_cov must be nonzero"),
    (lambda: rational_orthogonal([[0, 1], [1, 0]]), "skew-symmetric"),
    (lambda: contraction_factors([[1, 2], [0, 1]], 3), "must be symmetric"),
    (lambda: log_fraction(Fraction(0)), "x must be positive"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
