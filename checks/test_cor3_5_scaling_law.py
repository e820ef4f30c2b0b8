"""Corollary 3.5: err_k <= d(1 + n/(1 + Hard))^{-2k}(1 + o(1)) — where it holds and where it fails.

Our k (forward passes from w_0 = 0) is the paper's k (its w_{k+1} from w_1 = 0).

* m = ∞: exact, with no o(1) (rationals; exact matrix powers of rotated Λ as the second route).
* fixed k, m → ∞: the exact polynomial err_k(m) = Σ_r c_r m^{-r} has c_0 = err_k(∞).
* every finite m, k → ∞: err_k >= L_k(m) = E(β_max χ²_m/m − 1)_+^{2k} → ∞ faster than any
  exponential; L_k is checked below exact values (d = 1 closed form, Λ = I formula, engine).
* order of limits: d = 1 exact with m = c k^p.
"""

import importlib
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from checks.conftest import assert_could_not_run, check_headline, check_part, part_ids, run_part
from theory import ledger
from theory.claims import cor3_5 as claim
from theory.claims._families import random_skew, rotated
from theory.error import cot_error_poly, cot_log_error
from theory.overthinking import infinite_m_error_exact
from theory.scaling import (cor35_log_bound, cot_error_d1, divergence_log_lower_bound,
                            limit_log_error, log_fraction, optimal_steps, thm33_terms)

positive_rationals = st.builds(Fraction, st.integers(1, 10 ** 4), st.integers(1, 10 ** 4))


def test_headline():
    check_headline("cor3.5")


@pytest.mark.parametrize("part", part_ids("cor3.5"))
def test_part(part):
    check_part("cor3.5", part)


def _diag(eigs):
    out = np.array([[Fraction(0)] * len(eigs) for _ in eigs], dtype=object)
    for i, e in enumerate(eigs):
        out[i, i] = e
    return out


@given(st.lists(positive_rationals, min_size=1, max_size=4), st.integers(1, 200), st.integers(0, 30))
def test_limit_bound_holds_exactly_without_o1(eigs, n, k):
    lam = _diag(eigs)
    err = infinite_m_error_exact(lam, n, lam, k)
    hard = thm33_terms(eigs, n).hardness
    assert err <= len(eigs) * (1 / (1 + n / (1 + hard))) ** (2 * k)


@given(st.lists(positive_rationals, min_size=2, max_size=3), st.integers(1, 50), st.integers(1, 6),
       st.data())
def test_limit_error_is_rotation_invariant(eigs, n, k, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 31)))
    lam = rotated(eigs, random_skew(rng, len(eigs)))
    assert infinite_m_error_exact(lam, n, lam, k) == infinite_m_error_exact(_diag(eigs), n, _diag(eigs), k)


def test_limit_log_error_against_bound_at_large_k():
    lam = 1.0 / np.arange(1, 11)
    for k in (1, 10, 100, 1000):
        # m = ∞ error in log form (no underflow) never exceeds the bound; gap -> log(d/μ) = log 10.
        assert limit_log_error(lam, 10, k) <= cor35_log_bound(lam, 10, k) + 1e-12
    gap = cor35_log_bound(lam, 10, 1000) - limit_log_error(lam, 10, 1000)
    assert gap == pytest.approx(math.log(10), abs=1e-9)


def test_fixed_k_engine_constant_term_is_the_limit():
    rows = claim.fixed_k_constants(claim.FIXED_K_EIGS, claim.FIXED_K_N, (1, 2, 3, 4))
    assert all(c0 == limit for _, c0, limit, _, _ in rows)
    constants = [c for *_, c in rows]
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


@given(st.integers(1, 60), st.integers(1, 40), st.integers(1, 50))
def test_lower_bound_below_d1_closed_form(m, k, n):
    exact = log_fraction(cot_error_d1(1, n, k, m=m))
    assert divergence_log_lower_bound([1.0], n, k, m) <= exact + claim.LOG_SLACK


def test_lower_bound_against_engine_noncommuting():
    lam = np.array([[2.0, 0.5], [0.5, 1.0]])
    sigma = np.array([1.0, 3.0])
    for k in (1, 2, 3):
        for m in (1, 3, 9):
            assert (divergence_log_lower_bound(lam, 5, k, m, test_cov=sigma)
                    <= cot_log_error(lam, 5, k, test_cov=sigma, m=m) + claim.LOG_SLACK)


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


def test_first_crossing_at_m10_is_certified_exactly():
    # k = 6: every k < 6 has a certified upper bound <= d and k = 6 a certified lower bound > d
    from theory.bracket import error_bracket_curve
    curve = error_bracket_curve(1.0 / np.arange(1, 11), 10, 6, m=10)
    assert all(b.upper <= 10 for b in curve[1:6]) and curve[6].lower > 10
    assert claim.first_crossings(10, 8)["d"] == (6, 6)


def test_tail_bound_crossing_agrees_with_the_quadrature():
    # the rigorous tail bound and the float quadrature of the full lower bound cross d nearly together
    # (the tail bound is the weaker one, so it crosses later, by a few steps)
    hi = claim.first_crossings(100, 8)["d"][1]
    cov = 1.0 / np.arange(1, 11)
    assert divergence_log_lower_bound(cov, 10, hi, 100) > math.log(10)
    assert divergence_log_lower_bound(cov, 10, hi - 10, 100) < math.log(10)


def test_optimal_steps_d1_exact_tie_and_certification():
    r = optimal_steps([1], 10, m=10, k_max=12)
    assert cot_error_d1(1, 10, 2, m=10) == cot_error_d1(1, 10, 3, m=10) == Fraction(2, 27)
    assert r.k_star == 2 and r.certified
    assert r.error_star == pytest.approx(2 / 27, rel=1e-15)
    assert claim.d1_optimal_steps(10, (10,), 12) == ((10, 2, True, True),)


def test_optimal_steps_engine_matches_d1_closed_form():
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
def test_first_crossings_full_reach():
    r = claim.first_crossings(100, 30)
    assert 30 < r["d"][0] <= r["d"][1] < 100


# --- the verdict logic can fail -----------------------------------------------------------------

def test_m_infinity_matrix_power_disagreement(monkeypatch, clear_caches):
    monkeypatch.setattr(claim, "limit_bound_sweep", lambda cases, seed=0: (None, 1, Fraction(1), 1))
    assert_could_not_run("cor3.5", "m-infinity", mentions="routes disagree on the m = ∞ error")


def test_m_infinity_unconfirmed_failure(monkeypatch, clear_caches):
    # a sweep "failure" on a spectrum where the exact matrix power respects the bound
    case = ((Fraction(1), Fraction(1, 2)), 3, 2)
    monkeypatch.setattr(claim, "limit_bound_sweep", lambda cases, seed=0: (case, 0, Fraction(1), 1))
    assert_could_not_run("cor3.5", "m-infinity",
                         mentions="the exact matrix power of a rotation of the same Λ: does not confirm it")


def test_fixed_k_engine_against_closed_form(monkeypatch, clear_caches):
    real = claim.fixed_k_constants

    def off_by_one(eigs, n, ks):
        rows = real(eigs, n, ks)
        return tuple((k, c0 + Fraction(1, 10 ** 9), lim, sc, ck) for k, c0, lim, sc, ck in rows)
    monkeypatch.setattr(claim, "fixed_k_constants", off_by_one)
    assert_could_not_run("cor3.5", "fixed-k", mentions="routes disagree on the m → ∞ limit of err_1: engine c_0")


def test_large_k_part_holds_when_the_ratio_is_bounded(monkeypatch, clear_caches):
    # If the d = 1 error were exactly d f^{2k} (bounded ratio), the part would hold and the
    # headline would become "confirmed": the verdict follows the computation.
    monkeypatch.setattr(claim, "cot_error_d1", lambda lam, n, k, m=None: Fraction(2, n + 2) ** (2 * k))
    result = run_part("cor3.5", "large-k-finite-m")
    assert result.error is None and result.statements[0].verdict == ledger.HOLDS


def test_large_k_failure_needs_the_lower_bound_to_confirm_it(monkeypatch, clear_caches):
    monkeypatch.setattr(claim, "divergence_log_lower_bound", lambda *a, **k: -1e300)
    assert_could_not_run("cor3.5", "large-k-finite-m",
                         mentions="(theory.scaling.divergence_log_lower_bound): does not confirm it")


def test_lower_bound_above_exact_is_a_route_disagreement(monkeypatch, clear_caches):
    monkeypatch.setattr(claim, "lower_bound_below_exact", lambda full: (["d=1 m=1 k=1"], 1))
    assert_could_not_run("cor3.5", "lower-bound",
                         mentions="routes disagree on the divergence lower bound against exact errors: "
                                  "L_k by quadrature: above the exact value in ['d=1 m=1 k=1']")


def test_log_slack_rejects_a_bound_visibly_above_the_exact_value(monkeypatch, clear_caches):
    # 1e-8 above the exact log is 100× the slack and 10⁵× the quadrature's accuracy: a lower bound
    # that far above an exact value is wrong, and a slack loosened past it would hide that.
    def too_high(cov, n, k, m, test_cov=None):
        if np.size(cov) == 1:
            return log_fraction(cot_error_d1(1, n, k, m=m)) + 1e-8
        return divergence_log_lower_bound(cov, n, k, m, test_cov=test_cov)
    monkeypatch.setattr(claim, "divergence_log_lower_bound", too_high)
    assert_could_not_run("cor3.5", "lower-bound",
                         mentions="routes disagree on the divergence lower bound against exact errors")


def test_beyond_baseline_undecided_without_a_crossing(monkeypatch, clear_caches):
    monkeypatch.setattr(claim, "first_crossings", lambda m, K: {"exact_up_to": 1, "err1_value": 1, "d": (K + 1, None),
                                                                "err1": (K + 1, None)})
    result = run_part("cor3.5", "beyond-baseline")
    assert result.error is None and result.statements[0].verdict == ledger.OPEN
    assert result.statements[0].known.startswith(r"no certified crossing up to $k = ")


def test_crossing_search_stops_at_the_cap(monkeypatch):
    monkeypatch.setattr(claim, "K_CAP", 64)
    assert claim._first_above(10, 21, lambda k: 0) is None
    assert claim._first_above(10, 21, lambda k: 11 if k >= 40 else 0) == 40


def test_order_of_limits_richardson_tolerance(monkeypatch, clear_caches):
    # Richardson value e + 0.02: 2× the tolerance, and still 0.7 away from the next candidate
    # limit (1); a tolerance loosened to admit it would no longer pin the limit e^(n²/c).
    real = claim.d1_order_of_limits

    def shifted(n, c, ks):
        out = dict(real(n, c, ks))
        p2 = list(out[2])
        p2[-1] = (math.e + 0.02 + p2[-2]) / 2
        out[2] = tuple(p2)
        return out
    monkeypatch.setattr(claim, "d1_order_of_limits", shifted)
    assert_could_not_run("cor3.5", "order-of-limits", mentions="routes disagree on the d = 1 order of limits")


def test_optimal_steps_undecided_when_not_certified(monkeypatch, clear_caches):
    monkeypatch.setattr(claim, "d1_optimal_steps", lambda n, ms, k_max: tuple((m, k_max, False, False) for m in ms))
    result = run_part("cor3.5", "optimal-steps")
    assert result.error is None and result.statements[0].verdict == ledger.OPEN
    # what is known names the window's end and every test length where k* was not certified
    assert result.statements[0].known == r"$k^* \ge 200$ at $m = 10, 30, 100$"


def test_confirmed_m_infinity_counterexample_fails_the_part(monkeypatch, clear_caches):
    # With the bound's f replaced by a far smaller one, the sweep's "failure" is real, and the exact
    # matrix power of a rotation of the same Λ confirms it: the part fails.
    case = ((Fraction(1), Fraction(1, 2)), 3, 2)
    monkeypatch.setattr(claim, "limit_bound_sweep", lambda cases, seed=0: (case, 0, Fraction(1), 1))
    monkeypatch.setattr(claim, "_f", lambda eigs, n: Fraction(1, 10 ** 6))
    (s,) = run_part("cor3.5", "m-infinity").statements
    assert s.verdict == ledger.FAILS
    assert s.counterexample == r"eigenvalues $1, \tfrac{1}{2}$, $n = 3$, $k = 2$"
    assert s.counterexample_route == "the exact matrix power of a rotation of the same Λ"


def test_m_infinity_disagreement_names_both_routes(monkeypatch, clear_caches):
    monkeypatch.setattr(claim, "limit_bound_sweep", lambda cases, seed=0: (None, 2, Fraction(1), 5))
    error = assert_could_not_run("cor3.5", "m-infinity", mentions="routes disagree on the m = ∞ error").error
    assert "exact matrix power on rotated Λ: 2 mismatches" in error


def test_fixed_k_without_its_constant_is_a_confirmed_failure(monkeypatch, clear_caches):
    # C_k = 0 drops the O(1/m) term: err_k(m) <= d f^{2k} then fails at small m, exactly and in
    # floating point; the part fails, and C_k no longer increases with k.
    real = claim.fixed_k_constants
    monkeypatch.setattr(claim, "fixed_k_constants",
                        lambda eigs, n, ks: tuple((k, c0, lim, sc, Fraction(0))
                                                  for k, c0, lim, sc, _ in real(eigs, n, ks)))
    (s,) = run_part("cor3.5", "fixed-k").statements
    assert s.verdict == ledger.FAILS and s.counterexample_route == "the same comparison in floating point"
    assert s.counterexample.startswith(r"$\Lambda = \operatorname{diag}(1, \tfrac{1}{2}, \tfrac{1}{4})$, "
                                       r"$n = 8$, $k = 1$, $m = 1$")
    assert "(not increasing in $k$)" in s.evidence


def test_fixed_k_constants_rows():
    rows = claim.fixed_k_constants((Fraction(1), Fraction(1, 2)), 4, (1, 2))
    for k, c0, limit, scale, c_k in rows:
        poly = cot_error_poly([Fraction(1), Fraction(1, 2)], 4, k)
        assert c0 == limit == poly.coefficients[0]
        f = 1 / (1 + Fraction(4) / (1 + 3))  # Hard = tr Λ / λ_min = (3/2) / (1/2) = 3, n = 4
        assert scale == 2 * f ** (2 * k)
        assert c_k == sum(max(c, 0) for c in poly.coefficients[1:]) / scale
        assert all(poly.evaluate(m) <= scale * (1 + c_k / m) for m in (1, 2, 3, 10, 100))


def test_one_rotated_mismatch_is_a_route_disagreement(monkeypatch, clear_caches):
    # Only the first rotated comparison disagrees: the sweep must count it, not keep the last one.
    import theory.overthinking as ot
    real, calls = ot.infinite_m_error_exact, []

    def first_wrong(lam, n, sig, k):
        calls.append(1)
        return real(lam, n, sig, k) + (1 if len(calls) == 1 else 0)
    monkeypatch.setattr(ot, "infinite_m_error_exact", first_wrong)
    first, mismatch, _, compared = claim.limit_bound_sweep(claim._sweep_cases(False))
    assert first is None and mismatch == 1 and compared > 1
    assert_could_not_run("cor3.5", "m-infinity", mentions="routes disagree on the m = ∞ error")


# --- the full tier asks for more ---------------------------------------------------------------

def test_full_tier_sweeps_more_cases():
    assert claim._sweep_cases(True) > claim._sweep_cases(False)


def test_full_tier_compares_the_lower_bound_in_more_cases():
    bad, count = claim.lower_bound_below_exact(True)
    assert bad == [] and count > claim.lower_bound_below_exact(False)[1]


def test_full_tier_optimal_steps_at_one_more_length():
    evidence = claim.optimal(True).evidence.render()
    assert evidence.startswith(r"$d = 1$, $n = 10$, exact closed form over $k \le 200$")
    assert "at $m = 10, 30, 100, 300$" in evidence


def test_full_tier_fixed_k_goes_to_six_steps(monkeypatch, clear_caches):
    real, asked = claim.fixed_k_constants, []

    def record(eigs, n, ks):
        asked.append(ks)
        return real(eigs, n, ks[:4])  # the rows of the fast tier are enough for the part to finish
    monkeypatch.setattr(claim, "fixed_k_constants", record)
    assert claim.fixed_k(False).verdict == claim.fixed_k(True).verdict == ledger.HOLDS
    assert asked == [(1, 2, 3, 4), (1, 2, 3, 4, 5, 6)]


def test_lower_bound_is_compared_at_the_shortest_prompt(monkeypatch, clear_caches):
    # a lower bound too high only at m = 1 (d = 1): the comparison includes m = 1 and sees it
    real = claim.divergence_log_lower_bound

    def high_at_one(cov, n, k, m, test_cov=None):
        return real(cov, n, k, m, test_cov=test_cov) + (1.0 if m == 1 and np.size(cov) == 1 else 0.0)
    monkeypatch.setattr(claim, "divergence_log_lower_bound", high_at_one)
    bad, _ = claim.lower_bound_below_exact(False)
    assert bad == ["d=1 m=1 k=1", "d=1 m=1 k=3", "d=1 m=1 k=10", "d=1 m=1 k=30"]


def test_lower_bound_is_compared_against_the_engine_too(monkeypatch, clear_caches):
    # a lower bound too high only for the non-isotropic d = 3 spectrum: the engine's cases see it,
    # and each is reported by its prompt length and step
    real = claim.divergence_log_lower_bound

    def high_for_engine(cov, n, k, m, test_cov=None):
        return 1e300 if len(set(np.ravel(cov))) == 3 else real(cov, n, k, m, test_cov=test_cov)
    monkeypatch.setattr(claim, "divergence_log_lower_bound", high_for_engine)
    bad, _ = claim.lower_bound_below_exact(False)
    assert bad == [f"engine m={m} k={k}" for k in (1, 2, 3) for m in (1, 2, 4, 16)]


def test_order_of_limits_needs_the_p1_ratio_to_grow_tenfold(monkeypatch, clear_caches):
    # p = 1 ratios that only double per step do not show divergence at the rate derived
    # (tenfold per step and faster): the two routes disagree
    real = claim.d1_order_of_limits

    def doubling(n, c, ks):
        out = dict(real(n, c, ks))
        out[1] = tuple(out[1][0] * 2 ** i for i in range(len(out[1])))
        return out
    monkeypatch.setattr(claim, "d1_order_of_limits", doubling)
    assert_could_not_run("cor3.5", "order-of-limits", mentions="routes disagree on the d = 1 order of limits")
