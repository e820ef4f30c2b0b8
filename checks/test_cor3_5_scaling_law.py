"""Corollary 3.5: err_k <= d(1 + n/(1 + Hard))^{-2k}(1 + o(1)) — where it holds and where it fails.

Our k (forward passes from w_0 = 0) is the paper's k (its w_{k+1} from w_1 = 0).

* m = ∞: exact, with no o(1) (rationals; exact matrix powers of rotated Λ as the second route).
* fixed k, m → ∞: the exact polynomial err_k(m) = Σ_r c_r m^{-r} has c_0 = err_k(∞).
* every finite m, k → ∞: err_k >= L_k(m) = E(β_max χ²_m/m − 1)_+^{2k} → ∞ faster than any
  exponential; L_k is checked below exact values (d = 1 closed form, Λ = I formula, engine).
* order of limits: d = 1 exact with m = c k^p.
"""

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from checks.conftest import assert_ledger_verdict
from theory.claims.cor3_5 import (LOG_SLACK, d1_order_of_limits, fixed_k_constants,
                                  lower_bound_below_exact, steps_beyond_baseline)
from theory.claims._families import random_skew, rotated
from theory.error import cot_error_poly, cot_log_error
from theory.overthinking import infinite_m_error_exact
from theory.scaling import (cor35_log_bound, cot_error_d1, divergence_log_lower_bound,
                            limit_log_error, log_fraction, optimal_steps)

positive_rationals = st.builds(Fraction, st.integers(1, 10 ** 4), st.integers(1, 10 ** 4))


def test_ledger_verdict(recorded_verdicts):
    assert_ledger_verdict("cor3.5", recorded_verdicts)


@given(st.lists(positive_rationals, min_size=1, max_size=5), st.integers(1, 200), st.integers(0, 40))
def test_limit_bound_holds_exactly_without_o1(eigs, n, k):
    T, hard = sum(eigs), sum(eigs) / min(eigs)
    err = sum(((l + T) / ((n + 1) * l + T)) ** (2 * k) for l in eigs)
    assert err <= len(eigs) * (1 / (1 + n / (1 + hard))) ** (2 * k)


@given(st.lists(positive_rationals, min_size=2, max_size=3), st.integers(1, 50), st.integers(1, 6),
       st.data())
def test_limit_closed_form_equals_exact_matrix_power(eigs, n, k, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 31)))
    lam = rotated(eigs, random_skew(rng, len(eigs)))
    T = sum(eigs)
    closed = sum(((l + T) / ((n + 1) * l + T)) ** (2 * k) for l in eigs)
    assert infinite_m_error_exact(lam, n, lam, k) == closed


def test_limit_log_error_against_bound_at_large_k():
    lam = 1.0 / np.arange(1, 11)
    for k in (1, 10, 100, 1000):
        # m = ∞ error in log form (no underflow) never exceeds the bound; gap -> log(d/μ) = log 10.
        assert limit_log_error(lam, 10, k) <= cor35_log_bound(lam, 10, k) + 1e-12
    gap = cor35_log_bound(lam, 10, 1000) - limit_log_error(lam, 10, 1000)
    assert gap == pytest.approx(math.log(10), abs=1e-9)


def test_fixed_k_engine_constant_term_is_the_limit():
    rows = fixed_k_constants([1, Fraction(1, 2), Fraction(1, 4)], 8, range(1, 5))
    assert all(ok for _, ok, _ in rows)
    constants = [c for _, _, c in rows]
    # C_k (err_k(m) <= d f^2k (1 + C_k/m)) grows with k: the O(1/m) is not uniform in k.
    assert all(b > a for a, b in zip(constants, constants[1:]))


def test_engine_polynomial_converges_to_limit_as_m_grows():
    eigs = [Fraction(1), Fraction(1, 3)]
    for k in (1, 2, 3):
        poly = cot_error_poly(eigs, 6, k)
        gaps = [abs(poly.evaluate(m) - poly.limit) for m in (10, 100, 1000, 10_000)]
        # O(1/m): each tenfold m shrinks the gap by nearly ten once m dominates the coefficients.
        assert all(b < a for a, b in zip(gaps, gaps[1:]))
        assert gaps[-1] * 10_000 == pytest.approx(float(poly.coefficients[1]), rel=0.05)


def test_lower_bound_never_exceeds_exact_values():
    assert lower_bound_below_exact(full=False) == []


@given(st.integers(1, 60), st.integers(1, 40), st.integers(1, 50))
def test_lower_bound_below_d1_closed_form(m, k, n):
    exact = log_fraction(cot_error_d1(1, n, k, m=m))
    assert divergence_log_lower_bound([1.0], n, k, m) <= exact + LOG_SLACK


def test_lower_bound_against_engine_noncommuting():
    lam = np.array([[2.0, 0.5], [0.5, 1.0]])
    sigma = np.array([1.0, 3.0])
    for k in (1, 2, 3):
        for m in (1, 3, 9):
            assert (divergence_log_lower_bound(lam, 5, k, m, test_cov=sigma)
                    <= cot_log_error(lam, 5, k, test_cov=sigma, m=m) + LOG_SLACK)


@pytest.mark.parametrize("m", [1, 10, 1000])
def test_superexponential_growth_at_every_finite_m(m):
    # log L_k / k increases without bound: compare k, 4k, 16k far beyond the crossing of d.
    cov = 1.0 / np.arange(1, 11)
    ks = [4 * m, 16 * m, 64 * m]
    rates = [divergence_log_lower_bound(cov, 10, k, m) / k for k in ks]
    assert rates[0] < rates[1] < rates[2]
    assert rates[2] - rates[1] > 0.5  # log-rate still climbing by > 0.5 per step of ×4


def test_lower_bound_is_log_convex_in_k():
    cov, m = 1.0 / np.arange(1, 6), 20
    logs = [divergence_log_lower_bound(cov, 10, k, m) for k in range(0, 40)]
    second = [logs[i - 1] - 2 * logs[i] + logs[i + 1] for i in range(1, len(logs) - 1)]
    # Log-convexity (Hölder on moments of a nonnegative variable), to quadrature accuracy.
    assert min(second) > -1e-9


def test_error_exceeds_no_cot_baseline_for_every_m_tried():
    out = steps_beyond_baseline((10, 100, 1000))
    ks = [k for _, k in out]
    assert all(b > a for a, b in zip(ks, ks[1:]))  # later with more context, but always finite


def test_order_of_limits_d1():
    ratios = d1_order_of_limits(2, 4, (8, 16, 32, 64))
    linear, quadratic, cubic = ratios[1], ratios[2], ratios[3]
    assert all(b > 10 * a for a, b in zip(linear[1:], linear[2:]))  # m = 4k: blows up
    assert all(b < a for a, b in zip(cubic, cubic[1:])) and cubic[-1] < 1.02  # m = 4k³: -> 1
    # m = 4k²: -> exp(n²/c) = e, with an O(1/k) approach; Richardson extrapolation of k = 32, 64.
    assert all(b > a for a, b in zip(quadratic, quadratic[1:])) and quadratic[-1] < math.e
    assert 2 * quadratic[-1] - quadratic[-2] == pytest.approx(math.e, abs=0.01)


def test_optimal_steps_d1_exact_tie_and_certification():
    r = optimal_steps([1], 10, m=10, k_max=12)
    assert cot_error_d1(1, 10, 2, m=10) == cot_error_d1(1, 10, 3, m=10) == Fraction(2, 27)
    assert r.k_star == 2 and r.certified
    assert r.error_star == pytest.approx(2 / 27, rel=1e-15)


def test_optimal_steps_engine_matches_d1_closed_form():
    # The engine with d = 1 and the closed form are independent routes to the same numbers.
    closed = optimal_steps([1], 4, m=7, k_max=6)
    for k, log_err in zip(closed.ks, closed.log_errors):
        assert cot_log_error([1], 4, k, m=7) == pytest.approx(log_err, rel=1e-14, abs=1e-14)


def test_optimal_steps_engine_d3_certified():
    r = optimal_steps([1, Fraction(1, 2), Fraction(1, 4)], 8, m=10, k_max=6)
    assert r.method == "exact engine" and r.certified and 1 < r.k_star < 6


def test_optimal_steps_limit_never_certified():
    r = optimal_steps(1.0 / np.arange(1, 6), 10, k_max=50)
    assert r.k_star == 50 and not r.certified
    assert all(b < a for a, b in zip(r.log_errors, r.log_errors[1:]))


@pytest.mark.slow
def test_steps_beyond_baseline_large_m():
    out = dict(steps_beyond_baseline((10_000,)))
    assert 0 < out[10_000] < 10 ** 5
