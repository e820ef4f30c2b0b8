"""Claim `rmt`: the proportional limit of the isotropic model and its phases (proofs/math.md §15).

Exact route: the rational error err_k(d, m, n) of theory.rmt, its 1/d expansion term by term and by
sympy's series of the whole function, and the Marchenko–Pastur moment formula; independent routes:
Marchenko–Pastur quadrature, the general exact engine, exact finite-d values, the chi-square closed
form at d = 1.
"""

import dataclasses
from fractions import Fraction

import mpmath
import pytest
import sympy as sp

from checks.conftest import assert_could_not_run, check_headline, check_part, claim_result, part_ids, run_part
from theory import ledger, rmt
from theory.claims import rmt as claim
from theory.scaling import cot_error_d1

R = sp.Rational


def test_headline():
    check_headline("rmt")


@pytest.mark.parametrize("part", part_ids("rmt"))
def test_part(part):
    check_part("rmt", part)


# --- the mathematics, through the library ------------------------------------------------------

@pytest.mark.parametrize("k", range(0, 4))
def test_limit_of_exact_error_is_marchenko_pastur(k):
    assert claim.limit_mismatches(k) == []


def test_mp_quadrature_agrees_with_exact_limit():
    # Other points and k than the ledger's; 30-digit quadrature against exact rationals, the
    # claim's tolerance QUAD_TOL (1e-20).
    assert claim.quadrature_gap([(R(3), R(1, 2)), (R(1, 3), R(2)), (R(1), R(1))], 4) < claim.QUAD_TOL


def test_series_route_equals_term_by_term_expansion_at_another_point():
    f, g, _ = claim.series_coefficients(1, R(3), R(1, 3), 2)
    lead, corr = (e.subs({rmt.alpha_sym: 3, rmt.nu_sym: R(1, 3)}) for e in rmt.proportional_expansion(1))
    assert (f, g) == (lead, corr)


@pytest.mark.parametrize("k, alpha, nu, ds", [(1, R(3), R(1, 3), (3, 6, 12, 24, 48)),
                                              (2, R(1, 2), R(2), (4, 8, 16, 32))])
def test_finite_d_residual_shrinks_like_one_over_d(k, alpha, nu, ds):
    f, g, h = claim.series_coefficients(k, alpha, nu, 2)
    resid = claim.finite_d_residuals(k, alpha, nu, ds, f, g, h)
    assert claim.residuals_shrink(resid), [float(r) for r in resid]


@pytest.mark.parametrize("k, alpha, nu, ds", [(2, R(2), R(1, 2), (8, 16, 32)),
                                              (1, R(3), R(1, 3), (3, 6, 12, 24, 48))])
def test_wrong_one_over_d_term_is_rejected(k, alpha, nu, ds):
    # g·(1 + 1e-3): the residual gains −1e-3·g·d and grows, so the 1/d decay check rejects it.
    f, g, h = claim.series_coefficients(k, alpha, nu, 2)
    assert claim.residuals_shrink(claim.finite_d_residuals(k, alpha, nu, ds, f, g, h))
    assert not claim.residuals_shrink(claim.finite_d_residuals(k, alpha, nu, ds, f, g * (1 + R(1, 1000)), h))


def test_wrong_one_over_d_squared_term_is_rejected():
    # A wrong h leaves a constant in the residual, which then stops shrinking. At d <= 32 (fast
    # tier) an error of 10% is resolved; 1% only from d = 128 on (full tier), since the true
    # residual h_3/d is still 0.002 at d = 32 against 0.01·|h_2| = 0.0013.
    alpha, nu = claim.RESIDUAL_POINT
    f, g, h = claim.series_coefficients(2, alpha, nu, 2)
    assert not claim.residuals_shrink(claim.finite_d_residuals(2, alpha, nu, (8, 16, 32), f, g, h * (1 + R(1, 10))))
    full = (8, 16, 32, 64, 128)
    assert claim.residuals_shrink(claim.finite_d_residuals(2, alpha, nu, full, f, g, h))
    assert not claim.residuals_shrink(claim.finite_d_residuals(2, alpha, nu, full, f, g, h * (1 + R(1, 100))))


def test_shrink_rule_rejects_a_slow_decay():
    # A residual falling by 0.9 per doubling of d is not a 1/d decay (which halves it); 0.9 is
    # above the 3/4 allowed, so a rule loosened to accept 0.9 would fail this.
    assert not claim.residuals_shrink([Fraction(1), Fraction(9, 10), Fraction(81, 100)])
    assert claim.residuals_shrink([Fraction(1), Fraction(1, 2), Fraction(1, 4)])


def test_engine_equals_isotropic_rational_function():
    for d, engine, rational in claim.engine_agreement(2, (2, 4, 6)):
        assert engine == rational


@pytest.mark.parametrize("alpha, nu", claim.PHASE_POINTS)
def test_phase_exponent_on_the_integral(alpha, nu):
    phase = rmt.mp_phase(alpha, nu)
    # O(1/k) bias of the two-point estimate: the claim's P_BIAS/k at another k.
    assert abs(float(rmt.estimated_exponent(alpha, nu, 800, dps=claim.PHASE_DPS)) - float(phase.exponent)) \
        <= claim.P_BIAS / 800


def test_phase_classification_at_the_grid():
    # The regimes follow from the exact sign of b − 2γ and α, as the phase table states.
    for alpha, nu in claim.PHASE_POINTS:
        phase = rmt.mp_phase(alpha, nu)
        sign = rmt.overthinking_boundary_sign(alpha, nu)
        assert (phase.regime == "overthinking") == (sign > 0)
        assert phase.on_boundary == (sign == 0)


@pytest.mark.parametrize("alpha, nu, regime, exponent, confirmed", [
    (R(2), R(1, 2), "exponential", None, True),
    (R(1, 2), R(1, 10), "saturation", None, True),
    (R(1, 2), R(1, 10), "exponential", None, False),   # the atom at 0 is not exponential decay
    (R(4), R(8), "exponential", None, False),          # k^{-3/2} on the boundary
    (R(4), R(8), "power law", R(3, 2), True),
    (R(1), R(1), "power law", R(1, 2), True),
    (R(1), R(1), "power law", R(3, 2), False),
    (R(2), R(1, 2), "power law", R(3, 2), False),
    (R(2), R(10), "overthinking", None, True),
    (R(2), R(1, 2), "overthinking", None, False),
])
def test_quadrature_route_confirms_only_the_true_regime(alpha, nu, regime, exponent, confirmed):
    assert claim.confirm_regime(alpha, nu, regime, exponent) == confirmed


@pytest.mark.parametrize("nu, trend", [(R(6, 5), "increasing"), (R(4, 5), "decreasing")])
def test_overthinking_boundary_at_alpha_one_exact(nu, trend):
    # ν_c(1) = 1: the exact rational f_k, k = 20..30, on either side of the boundary.
    assert rmt.critical_nu(1) == 1
    assert claim.exact_trend(R(1), nu) == trend


def test_saturation_level_exact():
    # α = 1/2, ν = 1/10: f_k decreases to the atom 1 − α = 1/2 and never below it.
    f = [rmt.mp_cot_error(k, R(1, 2), R(1, 10)) for k in range(0, 25)]
    assert all(v > R(1, 2) for v in f)
    assert all(b < a for a, b in zip(f, f[1:]))
    with mpmath.workdps(25):
        assert abs(rmt.mp_cot_error_quad(3000, R(1, 2), R(1, 10)) - mpmath.mpf(1) / 2) < 1e-12


def test_fixed_d_error_diverges_in_k():
    # d = 1: the explicit binomial sum, the three-term recursion of cot_error_d1 and the moment
    # recursion of theory.rmt agree, and the error, after falling to its minimum, grows past err_0 = 1.
    for k in range(0, 6):
        assert claim.d_one_error(k, 10, 2) == cot_error_d1(1, 2, k, m=10) == rmt.isotropic_cot_error_value(k, 1, 10, 2)
    errs = [cot_error_d1(1, 2, k, m=10) for k in range(0, 31)]
    k_min = min(range(31), key=lambda k: errs[k])
    assert 1 < k_min < 30 and errs[30] > 1
    assert errs == [claim.d_one_error(k, 10, 2) for k in range(0, 31)]


def test_relative_finite_d_correction_grows_with_k():
    rel = []
    for k in range(1, 5):
        f, g = (e.subs({rmt.alpha_sym: 4, rmt.nu_sym: R(1, 2)}) for e in rmt.proportional_expansion(k))
        rel.append(g / f)
    assert all(b > a for a, b in zip(rel, rel[1:]))


# --- the verdict logic can fail -----------------------------------------------------------------

def test_wrong_limit_fails_with_a_confirmed_counterexample(monkeypatch, clear_caches):
    # A finite-d expansion whose leading term is off by 1/100 at k = 2: quadrature of the MP density
    # sides with the Narayana formula, so the counterexample stands and the part fails.
    true = rmt.proportional_expansion

    def wrong(k):
        lead, corr = true(k)
        return (lead + R(1, 100), corr) if k == 2 else (lead, corr)
    monkeypatch.setattr(claim, "proportional_expansion", wrong)
    result = run_part("rmt", "limit")
    assert result.error is None and result.statements[0].verdict == ledger.FAILS


def test_quadrature_disagreeing_with_the_moment_formula_cannot_run(monkeypatch, clear_caches):
    # 1e-15 is a double-precision-sized gap, 1e13 above 30-digit quadrature error: a tolerance
    # loosened to float level would pass it.
    monkeypatch.setattr(claim, "quadrature_gap", lambda points, k: 1e-15)
    assert_could_not_run("rmt", "limit")


def test_engine_disagreement_cannot_run(monkeypatch, clear_caches):
    rows = claim.engine_agreement(claim.ENGINE_K, (4, 8, 16))
    rows[1] = (rows[1][0], rows[1][1] + Fraction(1, 10 ** 30), rows[1][2])
    monkeypatch.setattr(claim, "engine_agreement", lambda k, ds: rows)
    assert_could_not_run("rmt", "isotropic-error")


def test_chi_square_disagreement_cannot_run(monkeypatch, clear_caches):
    monkeypatch.setattr(claim, "cot_error_d1", lambda lam, n, k, m=None: Fraction(1))
    assert_could_not_run("rmt", "isotropic-error")
    assert_could_not_run("rmt", "fixed-d-diverges")


def test_wrong_one_over_d_term_in_the_expansion_cannot_run(monkeypatch, clear_caches):
    # g_k·(1 + 1e-3) from the term-by-term route: the exact series disagrees with it.
    true = rmt.proportional_expansion
    monkeypatch.setattr(claim, "proportional_expansion", lambda k: (true(k)[0], true(k)[1] * (1 + R(1, 1000))))
    assert_could_not_run("rmt", "finite-d-correction")


def test_wrong_one_over_d_term_in_both_expansions_fails_on_finite_d(monkeypatch, clear_caches):
    # Both symbolic routes carry g·(1 + 1e-3) (as one shared mistake would): the exact finite-d
    # values then leave a residual that grows with d, and the check cannot run.
    true_pe, true_series = rmt.proportional_expansion, claim.series_coefficients
    monkeypatch.setattr(claim, "proportional_expansion", lambda k: (true_pe(k)[0], true_pe(k)[1] * (1 + R(1, 1000))))

    def series(k, alpha, nu, order):
        out = true_series(k, alpha, nu, order)
        return [out[0], out[1] * (1 + R(1, 1000))] + out[2:]
    monkeypatch.setattr(claim, "series_coefficients", series)
    result = assert_could_not_run("rmt", "finite-d-correction")
    assert "1/d expansion" in result.error


@pytest.mark.parametrize("part", ["saturation", "power-law-at-one", "exponential"])
def test_decay_readings_hold_off_the_overthinking_region(monkeypatch, clear_caches, part):
    # Restricted to the grid points that meet the condition, the readings hold: the verdict is
    # computed from the points, not fixed.
    monkeypatch.setattr(claim, "PHASE_POINTS", tuple(p for p in claim.PHASE_POINTS if claim._condition(*p)))
    result = run_part("rmt", part)
    assert result.error is None and result.statements[0].verdict == ledger.HOLDS


@pytest.mark.parametrize("part", ["saturation", "power-law-at-one", "exponential"])
def test_phase_not_confirmed_by_quadrature_cannot_run(monkeypatch, clear_caches, part):
    # mp_phase calling every point "overthinking": the quadrature route sees the decaying ones
    # decay, so the counterexamples are not confirmed.
    true = rmt.mp_phase

    monkeypatch.setattr(claim, "mp_phase",
                        lambda alpha, nu: dataclasses.replace(true(alpha, nu), regime="overthinking"))
    result = assert_could_not_run("rmt", part)
    assert "counterexample" in result.error


_FEW_POINTS = ((R(1, 2), R(1, 10)), (R(1, 2), R(1)))


def test_wrong_boundary_formula_fails_overthinking(monkeypatch, clear_caches):
    # A boundary test that never fires: quadrature sees growth at (1/2, 1) and the exact f_k
    # confirms it, so the part fails with a confirmed counterexample (two grid points suffice).
    monkeypatch.setattr(claim, "PHASE_POINTS", _FEW_POINTS)
    monkeypatch.setattr(claim, "overthinking_boundary_sign", lambda alpha, nu: -1)
    result = run_part("rmt", "overthinking")
    assert result.error is None and result.statements[0].verdict == ledger.FAILS


def test_growth_route_against_exact_trend_cannot_run(monkeypatch, clear_caches):
    # Quadrature that never grows contradicts the exact rational f_k at ν = 6/5: a disagreement
    # between routes, never a refutation.
    monkeypatch.setattr(claim, "PHASE_POINTS", _FEW_POINTS)
    monkeypatch.setattr(claim, "grows", lambda alpha, nu, k: False)
    assert_could_not_run("rmt", "overthinking")


def test_too_broad_condition_fails_and_moves_the_headline(monkeypatch, clear_caches):
    # "b <= 2γ" for every α (the boundary not excluded for α > 1) takes in (4, 8), where the decay
    # is k^{-3/2}: a genuine counterexample, confirmed by quadrature. With the condition failing
    # and the other parts as computed, the one headline rule refutes the claim.
    monkeypatch.setattr(claim, "_condition", lambda alpha, nu: rmt.overthinking_boundary_sign(alpha, nu) <= 0)
    result = run_part("rmt", "off-overthinking")
    assert result.error is None and result.statements[0].verdict == ledger.FAILS
    others = [s for s in claim_result("rmt").statements if s.id != "off-overthinking"]
    assert ledger.headline(others + list(result.statements)) == ledger.REFUTED


def test_exponent_beyond_the_bias_fails_the_phase_table(monkeypatch, clear_caches):
    # p̂ = p + 0.04 at every k: 0.04 is above 50/1600 = 0.031 and above the largest measured bias
    # (0.021); a bias allowance loosened past 64/k would accept it.
    monkeypatch.setattr(claim, "PHASE_POINTS", _FEW_POINTS)
    monkeypatch.setattr(claim, "estimated_exponent",
                        lambda alpha, nu, k, dps=30: mpmath.mpf(float(rmt.mp_phase(alpha, nu).exponent) + 0.04))
    result = run_part("rmt", "phase-table")
    assert result.error is None and result.statements[0].verdict == ledger.FAILS


def test_exponent_off_only_at_one_k_cannot_run(monkeypatch, clear_caches):
    # Off at k = 1600 but right at 3200: the counterexample is not confirmed.
    true = rmt.estimated_exponent

    def estimate(alpha, nu, k, dps=30):
        return true(alpha, nu, k, dps=dps) + (0.1 if k == claim._k_big(False) else 0)
    monkeypatch.setattr(claim, "PHASE_POINTS", _FEW_POINTS)
    monkeypatch.setattr(claim, "estimated_exponent", estimate)
    assert_could_not_run("rmt", "phase-table")


def test_error_that_stops_diverging_is_not_confirmed(monkeypatch, clear_caches):
    # The closed form replaced by one that never exceeds 1 past k = 8 (where the recursion
    # checks it): the explicit binomial sum still diverges, so the check cannot run.
    true = cot_error_d1
    monkeypatch.setattr(claim, "cot_error_d1",
                        lambda lam, n, k, m=None: true(lam, n, k, m=m) if k <= claim.RECURSION_K else Fraction(1, 2))
    result = assert_could_not_run("rmt", "fixed-d-diverges")
    assert "counterexample" in result.error


def test_relative_correction_not_confirmed_by_the_series_cannot_run(monkeypatch, clear_caches):
    # g_k/k² makes the relative correction fall with k; the series route (k <= 3, to stay quick)
    # still sees it grow, so the counterexample is not confirmed.
    monkeypatch.setattr(claim, "GROWTH_KS", (1, 2, 3))
    true = rmt.proportional_expansion
    monkeypatch.setattr(claim, "proportional_expansion", lambda k: (true(k)[0], true(k)[1] / k ** 2))
    result = assert_could_not_run("rmt", "correction-grows")
    assert "counterexample" in result.error
