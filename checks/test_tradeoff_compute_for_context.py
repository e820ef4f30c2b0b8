"""Compute / context trade-off: n_min(k, ε) non-increasing in k; harder tasks need more steps;
the paper's λ_i ∝ 1/i report (n = 10 with k = 20 against n = 30 at k = 1).

Exact routes: closed forms at m = ∞ in rationals, the d = 1 closed form and the engine at finite
m, the rigorous divergence lower bound. Independent: the float n_min scans (bisection at Σ = Λ,
batched eigh scan otherwise) checked against exact brute force.
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
from theory.claims import tradeoff as claim
from theory.claims.tradeoff import limit_error_exact, paper_report_d1, paper_report_limit
from theory.scaling import cot_error_d1, k_min, n_min, n_min_cor35

positive_rationals = st.builds(Fraction, st.integers(1, 1000), st.integers(1, 1000))
spectra = st.lists(positive_rationals, min_size=1, max_size=5)


def test_headline():
    check_headline("tradeoff")


@pytest.mark.parametrize("part", part_ids("tradeoff"))
def test_part(part):
    check_part("tradeoff", part)


@given(spectra, st.floats(-6, 0), st.integers(1, 15))
def test_n_min_non_increasing_in_k_at_limit(eigs, log_eps, k):
    lam = [float(e) for e in eigs]
    eps = len(eigs) * 10.0 ** log_eps * 0.999
    a, b = n_min(lam, k, eps, n_max=10 ** 6), n_min(lam, k + 1, eps, n_max=10 ** 6)
    if a is not None:  # None: no n <= 10^6 reaches ε at k (very hard spectra); nothing to compare
        assert b is not None and b <= a


@given(spectra, st.floats(-5, 0), st.integers(1, 12))
def test_n_min_exact_boundary_and_sandwich(eigs, log_eps, k):
    lam = [float(e) for e in eigs]
    eps = len(eigs) * 10.0 ** log_eps * 0.999
    nm = n_min(lam, k, eps, n_max=10 ** 6)
    q = Fraction(eps)
    if nm is None:
        assert limit_error_exact(eigs, 10 ** 6, k) > q
        return
    assert limit_error_exact(eigs, nm, k) <= q
    assert nm == 1 or limit_error_exact(eigs, nm - 1, k) > q
    hard = float(sum(eigs) / min(eigs))
    mult = eigs.count(min(eigs))
    assert nm <= max(1, math.ceil(n_min_cor35(lam, k, eps)))
    assert (1 + hard) * math.expm1(math.log(mult / eps) / (2 * k)) <= nm * (1 + 1e-12)


def test_general_scan_agrees_with_bisection():
    # Passing Σ = Λ explicitly takes the batched eigh scan instead of the commuting bisection.
    lam = np.diag([1.0, 0.3, 0.05])
    for k, eps in ((1, 0.5), (3, 1e-3), (7, 1e-6)):
        assert n_min(lam, k, eps) == n_min(lam, k, eps, test_cov=lam)


def test_n_min_finite_m_d1_equals_brute_force():
    m = 10
    eps = cot_error_d1(1, 30, 1, m=m)
    for k in (1, 2, 3, 10, 19, 20):
        brute = next((n for n in range(1, 61) if cot_error_d1(1, n, k, m=m) <= eps), None)
        assert n_min([1.0], k, float(eps), m=m, n_max=60) == brute


def test_harder_pointwise_counterexample_by_the_float_route():
    easy, hard = [float(v) for v in claim.HARDER_EASY], [float(v) for v in claim.HARDER_HARD]
    assert k_min(easy, claim.HARDER_N, float(claim.HARDER_EPS)) == 10
    assert k_min(hard, claim.HARDER_N, float(claim.HARDER_EPS)) == 9
    assert claim.exact_k_min(list(claim.HARDER_EASY), claim.HARDER_N, claim.HARDER_EPS) == 10


def test_family_monotone():
    fam = claim.harder_family()
    assert all(a <= b for a, b in zip(fam, fam[1:])) and fam[0] < fam[-1]


@given(spectra, st.integers(1, 50), st.floats(-8, -1))
def test_k_min_sandwich_increasing_in_hardness(eigs, n, log_eps):
    lam = [float(e) for e in eigs]
    eps = 10.0 ** log_eps
    km = k_min(lam, n, eps, k_max=10 ** 6)
    hard = float(sum(eigs) / min(eigs))
    rate = 2 * math.log1p(n / (1 + hard))
    mult = eigs.count(min(eigs))
    if km is None:  # then even the upper bound d f^{2k} is above ε at k = 10^6
        assert math.log(len(eigs) / eps) / rate > 10 ** 6 * (1 - 1e-12)
        return
    assert math.log(mult / eps) / rate <= km * (1 + 1e-12)
    assert km <= max(1, math.ceil(math.log(len(eigs) / eps) / rate * (1 + 1e-12)))


def test_paper_report_at_limit_never_matches():
    for d, n20, n21, err20, err1, k_match in paper_report_limit((2, 5, 10, 20, 40)):
        assert err20 < err1               # n = 10, k = 20 beats n = 30, k = 1
        assert n20 <= 2 and n21 <= 2      # the equal-error n is 1 or 2, not 10
        assert k_match <= 3


@pytest.mark.slow
def test_paper_report_at_limit_all_d():
    assert all(r[1] <= 2 and r[2] <= 2 for r in paper_report_limit(tuple(range(2, 41))))


def test_paper_report_d1_finite_m_knife_edge():
    ratios = dict(paper_report_d1(200))
    assert [m for m in ratios if ratios[m] <= 0] == list(range(46, 201))
    assert ratios[45] > 0 > ratios[46]


# --- the verdict logic can fail -----------------------------------------------------------------

def test_every_m_part_holds_when_n_min_never_rises(monkeypatch, clear_caches):
    monkeypatch.setattr(claim, "finite_m_n_min", lambda d, m, k_max, n_max: ((3,) * k_max, 0.1))
    result = run_part("tradeoff", "less-context-every-m")
    assert result.statements[0].verdict == ledger.HOLDS


def test_float_scan_against_exact_boundary_is_a_route_disagreement(monkeypatch, clear_caches):
    first = {"non-increasing": None, "exact boundary": ((Fraction(1),), 1, 0.5, 3), "sandwich": None}
    monkeypatch.setattr(claim, "limit_monotonicity", lambda cases, k_max, seed=0: {"first": first, "loosest": 1.0})
    error = assert_could_not_run("tradeoff", "less-context-limit", mentions="routes disagree on n_min at m = ∞").error
    assert "exact boundary check: fails there" in error


def test_unconfirmed_increase_of_n_min(monkeypatch, clear_caches):
    # n_min "rose" from 2 to 3, but exactly err_k(n = 2) <= ε: the second route does not confirm it
    first = {"non-increasing": ((Fraction(1),), 2, 0.5, 2, 3), "exact boundary": None, "sandwich": None}
    monkeypatch.setattr(claim, "limit_monotonicity", lambda cases, k_max, seed=0: {"first": first, "loosest": 1.0})
    assert_could_not_run("tradeoff", "less-context-limit",
                         mentions="exact rationals at the boundary: does not confirm it")


def test_sandwich_violation_is_a_route_disagreement(monkeypatch, clear_caches):
    first = {"non-increasing": None, "exact boundary": None, "sandwich": ((Fraction(1),), 1, 0.5, 3)}
    monkeypatch.setattr(claim, "limit_monotonicity", lambda cases, k_max, seed=0: {"first": first, "loosest": 1.0})
    error = assert_could_not_run("tradeoff", "cor35-formula", mentions="routes disagree on the n_min sandwich").error
    assert "proved bounds: violated" in error


def test_harder_pointwise_holds_without_the_counterexample(monkeypatch, clear_caches):
    monkeypatch.setattr(claim, "HARDER_HARD", (Fraction(1), Fraction(1), Fraction(1, 2)))
    result = run_part("tradeoff", "harder-pointwise")
    assert result.statements[0].verdict == ledger.HOLDS


def test_family_break_is_checked_by_the_general_scan(monkeypatch, clear_caches):
    monkeypatch.setattr(claim, "harder_family", lambda: (8, 9, 8) + (9,) * 10)
    assert_could_not_run("tradeoff", "harder-bounds", mentions="(eigh of the step matrix): does not confirm it")


def test_report_limit_holds_if_n_equals_ten(monkeypatch, clear_caches):
    real = claim.paper_report_limit
    monkeypatch.setattr(claim, "paper_report_limit",
                        lambda ds, k=20: tuple((r[0], 10, r[2], r[3], r[4], r[5]) for r in real(ds, k)))
    assert run_part("tradeoff", "report-limit").statements[0].verdict == ledger.HOLDS


def test_report_limit_float_route_needs_more_than_a_factor_e(monkeypatch, clear_caches):
    # The float route confirms "far better, not equal" when log err_1(n = 30) − log err_k(n = 10)
    # exceeds 1; at exactly 1 it does not, and the part could not run.
    scaling = importlib.import_module("theory.scaling")
    monkeypatch.setattr(scaling, "limit_log_error", lambda lam, n, k: 1.0 if n == claim.REPORT_N_DIRECT else 0.0)
    assert_could_not_run("tradeoff", "report-limit",
                         mentions="the float m = ∞ errors (theory.scaling.limit_log_error): does not confirm it")
    monkeypatch.setattr(scaling, "limit_log_error", lambda lam, n, k: 1.5 if n == claim.REPORT_N_DIRECT else 0.0)
    assert run_part("tradeoff", "report-limit").statements[0].verdict == ledger.FAILS


def test_d1_crossing_twice_is_a_route_disagreement(monkeypatch, clear_caches):
    monkeypatch.setattr(claim, "paper_report_d1", lambda m_max, k=20: ((2, 1.0), (3, -1.0), (4, 1.0), (5, -1.0)))
    error = assert_could_not_run("tradeoff", "report-d1", mentions="routes disagree on the d = 1 crossing").error
    assert "log-ratio sign: changes more than once; expected: one crossing" in error


def test_report_windows_at_d10():
    windows, C = claim.report_windows(10, 20, 200)
    assert windows == [("worse", 2, 33), ("better", 34, 200)]
    assert C == Fraction(1, 2) * (claim_kappa() + 1 / claim_kappa())


def claim_kappa():
    from theory.covariance import gamma_exact
    G = gamma_exact([Fraction(1, i) for i in range(1, 11)], 10)
    diag = [G[i, i] for i in range(10)]
    return max(diag) / min(diag)


def test_report_windows_label_every_m():
    labels = claim._windows([2, 3, 4, 6], ["worse", "worse", "better", "better"])
    assert labels == [("worse", 2, 3), ("better", 4, 4), ("better", 6, 6)]


def test_report_finite_m_undecided_window_is_reported(monkeypatch, clear_caches):
    real = claim.report_windows
    monkeypatch.setattr(claim, "report_windows", lambda d, k, m_max: ([("undecided", 2, m_max)], real(d, k, 50)[1]))
    result = run_part("tradeoff", "report-finite-m")
    assert result.statements[0].verdict == ledger.OPEN and "m = 2" in result.statements[0].known


def test_report_finite_m_monte_carlo_outside_the_bracket(monkeypatch, clear_caches):
    class Fake:
        mean, stderr = np.array([1.0]), np.array([1e-6])
    monkeypatch.setattr("theory.montecarlo.mc_cot_error", lambda *a, **k: Fake())
    error = assert_could_not_run("tradeoff", "report-finite-m", mentions="routes disagree on err_20").error
    assert "certified bracket" in error and "Monte Carlo mean ± 5 SE: (1.0, 4.99" in error



def test_first_increase_finds_a_rise_or_the_first_unreachable_k():
    assert claim._first_increase([6, 2, 1, 1, None, None]) == 5
    assert claim._first_increase([3, 4, None]) == 2        # a rise right after the first entry
    assert claim._first_increase([5, None, 3]) == 2        # unreachable, even if reachable again later
    assert claim._first_increase([5, 4, 4, 1]) is None
    assert claim._first_increase([None]) is None            # a single entry has nothing to compare


def test_float_scan_off_by_one_is_caught_by_the_exact_boundary(monkeypatch, clear_caches):
    # n_min one too large: err_k(n_min - 1) <= ε, which the exact check at the boundary sees; the
    # part then could not run instead of trusting the float scan.
    real = claim.n_min

    def late(lam, k, eps, **kw):
        nm = real(lam, k, eps, **kw)
        return None if nm is None else nm + 1
    monkeypatch.setattr(claim, "n_min", late)
    first = claim.limit_monotonicity(*claim._mono_size(False))["first"]
    assert first["exact boundary"] is not None
    assert "n_min at m = ∞" in assert_could_not_run("tradeoff", "less-context-limit").error


def test_confirmed_increase_of_n_min_fails_the_limit_part(monkeypatch, clear_caches):
    # n_min "rose" from 1 at k = 1 to 2 at k = 2, and exactly err_2(n = 1) = 16/81 > ε = 1e-9:
    # the second route confirms it, so the part fails and says which route confirmed it.
    first = {"non-increasing": ((Fraction(1),), 2, 1e-9, 1, 2), "exact boundary": None, "sandwich": None}
    monkeypatch.setattr(claim, "limit_monotonicity", lambda cases, k_max, seed=0: {"first": first, "loosest": 1.0})
    (s,) = run_part("tradeoff", "less-context-limit").statements
    assert s.verdict == ledger.FAILS
    assert s.counterexample_route == "exact rationals at the boundary"
    assert r"n_{\min} = 1" in s.counterexample and "k = 2" in s.counterexample


def test_full_tier_report_tries_every_dimension(monkeypatch, clear_caches):
    real, asked = claim.paper_report_limit, []

    def record(ds, k=claim.REPORT_K):
        asked.append(ds)
        return real(claim.REPORT_DS, k)
    monkeypatch.setattr(claim, "paper_report_limit", record)
    assert claim.report_limit(False).verdict == ledger.FAILS
    assert claim.report_limit(True).verdict == ledger.FAILS
    assert asked == [claim.REPORT_DS, tuple(range(2, 41))]


def test_family_break_confirmed_by_the_general_scan_fails_the_part(monkeypatch, clear_caches):
    monkeypatch.setattr(claim, "harder_family", lambda: (8, 9, 8) + (9,) * 10)
    answers, asked = iter([9, 8]), []  # the general scan also needs more steps at α = 1/4 than at 1/2

    def scan(lam, n, eps, test_cov=None):
        asked.append((lam, n, eps, test_cov))
        return next(answers)
    monkeypatch.setattr(claim, "k_min", scan)
    (s,) = run_part("tradeoff", "harder-bounds").statements
    # the scan re-checks the same two members of the family, Σ = Λ passed explicitly
    for (lam, n, eps, test_cov), alpha in zip(asked, (0.25, 0.5)):
        np.testing.assert_array_equal(lam, np.arange(1, 11) ** -alpha)
        assert test_cov is lam and (n, eps) == (claim.FAMILY_N, claim.FAMILY_EPS)
    assert len(asked) == 2
    assert s.verdict == ledger.FAILS
    assert s.counterexample == r"$\alpha = \tfrac{1}{4}$ needs $k = 9$, $\alpha = \tfrac{1}{2}$ needs $k = 8$"
    assert s.counterexample_route == "the general scan of theory.scaling.k_min (eigh of the step matrix)"


def test_d1_report_without_a_crossing_holds_as_not_reached(monkeypatch, clear_caches):
    monkeypatch.setattr(claim, "paper_report_d1", lambda m_max, k=20: tuple((m, 1.0) for m in range(2, m_max + 1)))
    (s,) = run_part("tradeoff", "report-d1").statements
    assert s.verdict == ledger.HOLDS and s.evidence == r"not reached for $m \le 200$"


def test_less_context_every_m_counterexample_is_brute_forced(monkeypatch, clear_caches):
    # A sequence that says "unreachable" at k = 5 where n = 1 still reaches ε exactly: the brute
    # force over n does not confirm the counterexample, so the part could not run.
    monkeypatch.setattr(claim, "finite_m_n_min", lambda d, m, k_max, n_max: ((6, 2, 1, 1) + (None,) * (k_max - 4), 0.1))
    assert_could_not_run("tradeoff", "less-context-every-m",
                         mentions="brute force over n of the exact d = 1 closed form: does not confirm it")


def test_full_tier_asks_for_more(monkeypatch, clear_caches):
    (fc, fk), (tc, tk) = claim._mono_size(False), claim._mono_size(True)
    assert tc > fc and tk > fk
    real, asked = claim.finite_m_n_min, []

    def record(d, m, k_max, n_max):
        asked.append((d, m, k_max, n_max))
        return real(d, m, min(k_max, 6), n_max)
    monkeypatch.setattr(claim, "finite_m_n_min", record)
    claim.finite_m(False)
    claim.finite_m(True)
    assert asked == [(3, 10, 6, 40), (1, 10, 40, 60), (3, 10, 8, 40), (1, 10, 40, 60)]
