"""Claim `rmt`: the proportional limit of the isotropic model (proofs/math.md §15).

Exact route: the rational error err_k(d, m, n) of theory.rmt and its 1/d expansion; independent
routes: Marchenko–Pastur quadrature, exact finite-d values, the chi-square closed form at d = 1.
"""

from fractions import Fraction

import mpmath
import pytest
import sympy as sp

from checks.conftest import assert_ledger_verdict
from theory import rmt
from theory.claims import rmt as claim


def test_ledger_verdict(recorded_verdicts):
    assert_ledger_verdict("rmt", recorded_verdicts)


@pytest.mark.parametrize("k", range(0, 4))
def test_limit_of_exact_error_is_marchenko_pastur(k):
    assert claim.limit_matches_mp(k) == []


def test_mp_quadrature_agrees_with_exact_limit():
    # 30-digit quadrature vs exact rationals: 1e-20 is far above quadrature error, far below any
    # formula mistake (the values are O(0.1)).
    assert claim.quadrature_gap([(sp.Integer(3), sp.Rational(1, 2)), (sp.Rational(1, 3), sp.Integer(2)),
                                 (sp.Integer(1), sp.Integer(1))], 4) < 1e-20


def test_finite_d_correction_is_order_one_over_d():
    # d² · |err_k/d − f_k − g_k/d| must stay bounded (it converges to the 1/d² coefficient) when
    # the 1/d term g_k is right; a wrong g_k would make it grow like d.
    resid = claim.finite_d_residuals(1, Fraction(3), Fraction(1, 3), (3, 6, 12, 24, 48))
    assert max(resid) <= 2 * resid[0], resid
    resid = claim.finite_d_residuals(2, Fraction(1, 2), Fraction(2), (4, 8, 16, 32))
    assert max(resid) <= 2 * resid[0], resid


@pytest.mark.parametrize("alpha, nu, regime, p", claim.PHASE_POINTS)
def test_phase_exponent_on_the_integral(alpha, nu, regime, p):
    phase = rmt.mp_phase(alpha, nu)
    assert (phase.regime, phase.exponent) == (regime, p)
    # O(1/k) bias of the two-point estimate: 50/k.
    assert abs(float(rmt.estimated_exponent(alpha, nu, 800, dps=20)) - float(p)) <= 50 / 800


@pytest.mark.parametrize("nu, grows", [(Fraction(6, 5), True), (Fraction(4, 5), False)])
def test_overthinking_boundary_at_alpha_one_exact(nu, grows):
    # ν_c(1) = 1. Exact rational f_k for k = 20..30 on either side of the boundary.
    f = [rmt.mp_cot_error(k, 1, sp.Rational(nu.numerator, nu.denominator)) for k in range(20, 31)]
    increasing = all(b > a for a, b in zip(f, f[1:]))
    decreasing = all(b < a for a, b in zip(f, f[1:]))
    assert (increasing, decreasing) == (grows, not grows)


def test_saturation_level_exact():
    # α = 1/2, ν = 1/10: f_k decreases to the atom 1 − α = 1/2 and never below it.
    f = [rmt.mp_cot_error(k, sp.Rational(1, 2), sp.Rational(1, 10)) for k in range(0, 25)]
    assert all(v > sp.Rational(1, 2) for v in f)
    assert all(b < a for a, b in zip(f, f[1:]))
    with mpmath.workdps(25):
        assert abs(rmt.mp_cot_error_quad(3000, sp.Rational(1, 2), sp.Rational(1, 10)) - mpmath.mpf(1) / 2) < 1e-12


def test_fixed_d_error_diverges_in_k():
    # d = 1 (chi-square closed form, independent of the recursion): the recursion agrees on k <= 5,
    # and the error, after falling to its minimum, grows past err_0 = 1.
    for k in range(0, 6):
        assert claim.d_one_error(k, 10, 2) == rmt.isotropic_cot_error_value(k, 1, 10, 2)
    errs = [claim.d_one_error(k, 10, 2) for k in range(0, 31)]
    k_min = min(range(31), key=lambda k: errs[k])
    assert 1 < k_min < 30 and errs[30] > 1


def test_relative_finite_d_correction_grows_with_k():
    rel = []
    for k in range(1, 5):
        f, g = (e.subs({rmt.alpha_sym: 4, rmt.nu_sym: sp.Rational(1, 2)}) for e in rmt.proportional_expansion(k))
        rel.append(g / f)
    assert all(b > a for a, b in zip(rel, rel[1:]))
