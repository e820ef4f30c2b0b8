"""Theorem 3.3: E‖ŵ − w‖² <= (d/n²)(1 + Hard)² + (d/m)(1 + Hard) at k = 1, test covariance Λ.

Exact route: err_1 = c_0 + c_1/m from the Wishart lemma (sympy, general eigenvalues) and term-wise
certificates; exact rational comparison over seeded and hypothesis-drawn spectra, n, m. Independent
routes: the Stein-recursion engine, the general-matrix lemma on rational rotations, the d = 1
chi-square closed form and seeded Monte Carlo.
"""

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from checks.conftest import assert_could_not_run, check_headline, check_part, part_ids, run_part
from theory import ledger
from theory.claims import thm3_3 as claim
from theory.claims._families import random_skew, rotated
from theory.error import cot_error_poly
from theory.montecarlo import mc_cot_error
from theory.scaling import (cot_error_d1, derive_thm33, k1_error_coefficients, manifestly_positive,
                            thm33_bound, thm33_terms)

positive_rationals = st.builds(Fraction, st.integers(1, 10 ** 6), st.integers(1, 10 ** 6))
spectra = st.lists(positive_rationals, min_size=1, max_size=6)


def test_headline():
    check_headline("thm3.3")


@pytest.mark.parametrize("part", part_ids("thm3.3"))
def test_part(part):
    check_part("thm3.3", part)


# --- the mathematics, through the library ------------------------------------------------------

def test_symbolic_certificates():
    assert all(claim.symbolic_certificates().values())


def test_term_wise_certificates_of_the_library_derivation():
    steps = derive_thm33()  # asserts every certificate internally
    lam, T, n = sp.symbols("lambda T n", positive=True)
    # The certificate can fail: a difference that changes sign is not certified.
    assert not manifestly_positive(lam - T, (lam, T))
    d = sp.Symbol("d", positive=True)
    assert sp.simplify(steps[4].expr - ((n + d + 1) / n) ** 2) == 0
    # The library's gaps are the claim's (two derivations of the same inequalities).
    assert sp.simplify(steps[2].expr - claim.symbolic_gaps()["c0"]) == 0
    assert sp.simplify(steps[3].expr - claim.symbolic_gaps()["c1"]) == 0


def test_symbolic_coefficients_equal_closed_form_d2():
    assert claim.symbolic_matches_closed_form(2)


@pytest.mark.slow
def test_symbolic_coefficients_equal_closed_form_d3():
    assert claim.symbolic_matches_closed_form(3)


@given(spectra, st.integers(1, 10 ** 4), st.integers(1, 10 ** 6))
def test_bound_holds_exactly(eigs, n, m):
    t = thm33_terms(eigs, n)
    assert t.c0 < t.b0 and t.c1 < t.b1            # term by term, strictly
    assert t.error(m) < t.bound(m) and t.error() < t.bound()
    d = len(eigs)
    # The proved floors, and the isotropic floor (undecided in general: a property test, not a proof).
    assert t.b0 / t.c0 >= ((n + 1 + t.hardness) / n) ** 2
    assert t.b1 / t.c1 >= Fraction(n + 2, n) ** 2
    assert t.ratio(m) >= claim.isotropic_value(d, n)


@given(st.integers(1, 8), st.integers(1, 10 ** 5), st.integers(1, 10 ** 5), positive_rationals)
def test_isotropic_ratio_is_exact(d, n, m, scale):
    t = thm33_terms([scale] * d, n)
    assert t.ratio(m) == t.ratio() == Fraction(n + d + 1, n) ** 2


@given(positive_rationals, st.integers(1, 10 ** 6), st.integers(1, 10 ** 6))
def test_d1_ratio_is_the_sympy_ratio(lam, n, m):
    ratio = claim.d_one_ratio()["ratio"]
    assert thm33_terms([lam], n).ratio(m) == sp.Rational(ratio.subs(claim.d_one_ratio()["n"], n))


def test_d1_ratio_tends_to_one_and_stays_above_it():
    assert claim.d_one_ratio()["limit"] == 1
    ratios = [thm33_terms([1], 10 ** e).ratio(7) for e in range(1, 8)]
    assert all(r > 1 for r in ratios) and all(b < a for a, b in zip(ratios, ratios[1:]))
    # ((n + 2)/n)² − 1 = 4(n + 1)/n²: at n = 10⁷ the gap is 4.0000004e-7 (exact arithmetic).
    assert ratios[-1] - 1 == Fraction(4 * (10 ** 7 + 1), 10 ** 14)


def test_isotropic_floor_proved_only_for_small_n():
    conc = claim.concavity()
    assert conc["n_max"] == 2 and conc["identity"]
    # ψ is convex near y = 1 from n = 3 on: the Jensen argument does not extend.
    assert conc["at_one"].subs(sp.Symbol("n", positive=True), 3) > 0


@given(st.lists(positive_rationals, min_size=2, max_size=4), st.integers(1, 60), st.data())
def test_rotation_invariance_and_engine_agree(eigs, n, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 31)))
    lam = rotated(eigs, random_skew(rng, len(eigs)))
    t = thm33_terms(eigs, n)
    assert k1_error_coefficients(lam, n) == (t.c0, t.c1)
    assert cot_error_poly(lam, n, 1).coefficients == (t.c0, t.c1)


def test_noncommuting_test_covariance_engine_agrees_with_lemma():
    rng = np.random.default_rng(np.random.SeedSequence(331))
    for _ in range(5):
        lam = rotated([Fraction(3), Fraction(1), Fraction(1, 4)], random_skew(rng, 3))
        sigma = np.array([[2, 1, 0], [1, 2, 1], [0, 1, 2]], dtype=object)
        assert k1_error_coefficients(lam, 7, test_cov=sigma) == \
            cot_error_poly(lam, 7, 1, test_cov=sigma).coefficients


@given(positive_rationals, st.integers(1, 500), st.integers(1, 500))
def test_d1_closed_form(lam, n, m):
    c0, c1 = k1_error_coefficients([lam], n)
    assert c0 + c1 / m == cot_error_d1(lam, n, 1, m=m)


def test_float_bound_matches_exact():
    eigs = [Fraction(1), Fraction(1, 2), Fraction(1, 7)]
    t = thm33_terms(eigs, 9)
    # rtol 1e-13: one float evaluation of a few products of doubles.
    assert thm33_bound([1, 0.5, 1 / 7], 9, 11) == pytest.approx(float(t.bound(11)), rel=1e-13)
    assert thm33_bound([1, 0.5, 1 / 7], 9) == pytest.approx(float(t.bound()), rel=1e-13)


def test_monte_carlo_within_five_standard_errors():
    rng = np.random.default_rng(np.random.SeedSequence(332))
    eigs = [Fraction(1), Fraction(1, 3), Fraction(1, 10)]
    lam = rotated(eigs, random_skew(rng, 3))
    t = thm33_terms(eigs, 10)
    res = mc_cot_error(lam.astype(float), 10, [1], m=12, samples=100_000, seed=332)
    assert res.trustworthy[0]
    assert abs(res.zscores([float(t.error(12))])[0]) <= 5


def test_sweep_minimum_is_a_d1_ratio():
    # The sample minimum sits at d = 1, where the ratio is ((n + 2)/n)² exactly: a sample value,
    # above the infimum 1.
    r, d, n, m = claim.exact_sweep(600)["smallest"]
    assert d == 1 and r == Fraction(n + 2, n) ** 2 > 1


# --- the verdict logic can fail -----------------------------------------------------------------

def _sweep_with(key, case):
    base = claim.exact_sweep(600)
    return lambda cases, seed=claim.SEED: {**base, key: case}


_SPECTRUM = (Fraction(1), Fraction(2))


@pytest.mark.parametrize("part, key, case", [
    ("bound", "bound", (_SPECTRUM, 3, 5)),
    ("term-by-term", "c0", (_SPECTRUM, 3)),
    ("term-by-term", "c1", (_SPECTRUM, 3)),
    ("isotropic-ratio", "isotropic ratio", ((Fraction(1),) * 2, 3, 5)),
    ("infimum-one", "strict", (_SPECTRUM, 3, 5)),
    ("c0-floor", "c0 floor", (_SPECTRUM, 3)),
    ("c1-floor", "c1 floor", (_SPECTRUM, 3)),
])
def test_sweep_against_certificate_is_a_route_disagreement(monkeypatch, clear_caches, part, key, case):
    # The sympy certificate says "holds for every spectrum"; a sweep that reports an exception
    # contradicts it: the check could not run, it does not refute the paper.
    monkeypatch.setattr(claim, "exact_sweep", _sweep_with(key, case))
    result = assert_could_not_run("thm3.3", part)
    assert "sympy certificate" in result.error, result.error


def test_unconfirmed_counterexample_to_the_isotropic_floor_cannot_run(monkeypatch, clear_caches):
    # A sweep exception that the engine route does not reproduce (Λ = diag(1, 2) is well above the
    # floor) is a disagreement between routes, not a refutation.
    monkeypatch.setattr(claim, "exact_sweep", _sweep_with("isotropic floor", (_SPECTRUM, 3, 5)))
    result = assert_could_not_run("thm3.3", "isotropic-floor")
    assert "counterexample" in result.error


def test_confirmed_counterexample_to_the_isotropic_floor_fails_the_part(monkeypatch, clear_caches):
    monkeypatch.setattr(claim, "exact_sweep", _sweep_with("isotropic floor", (_SPECTRUM, 3, 5)))
    monkeypatch.setattr(claim, "_engine_ratio", lambda eigs, n, m: 1.0)
    result = run_part("thm3.3", "isotropic-floor")
    assert result.error is None and result.statements[0].verdict == ledger.FAILS


def test_undecided_isotropic_floor_needs_its_proved_cases(monkeypatch, clear_caches):
    # If the certificates behind the proved cases fail while the sweep sees no exception, the
    # part cannot claim what is known.
    certs = {**claim.symbolic_certificates(), "concave": False}
    monkeypatch.setattr(claim, "symbolic_certificates", lambda: certs)
    assert_could_not_run("thm3.3", "isotropic-floor")


@pytest.mark.parametrize("patch", [
    ("symbolic_matches_closed_form", lambda d: False),
    ("engine_agreement", lambda cases, seed=0: {"eigs": [1, 2], "n": 3, "engine": (1, 2), "lemma": (1, 3),
                                                 "closed form": (1, 2)}),
    ("monte_carlo_z", lambda samples, seed=0: ((0.1, 0.2, 0.3), (True, False, True))),
])
def test_exact_error_routes_must_agree(monkeypatch, clear_caches, patch):
    monkeypatch.setattr(claim, *patch)
    assert_could_not_run("thm3.3", "exact-error")


def test_chi_square_route_must_agree(monkeypatch, clear_caches):
    monkeypatch.setattr(claim, "cot_error_d1", lambda lam, n, k, m=None: Fraction(0))
    assert_could_not_run("thm3.3", "exact-error")


def test_monte_carlo_z_above_the_limit_is_rejected(monkeypatch, clear_caches):
    # |z| = 6 for one of three trusted estimates: a correct estimator exceeds it with probability
    # 2e-9, and the ledger's limit is 5; any limit loosened to 6 or more would let it through.
    monkeypatch.setattr(claim, "monte_carlo_z", lambda samples, seed=0: ((0.4, 6.0, -1.2), (True, True, True)))
    result = assert_could_not_run("thm3.3", "exact-error")
    assert "Monte Carlo" in result.error


def test_d1_ratio_against_the_sweep(monkeypatch, clear_caches):
    # The sympy d = 1 ratio with a wrong constant disagrees with thm33_terms on the sweep's d = 1 cases.
    n = claim.d_one_ratio()["n"]
    wrong = {**claim.d_one_ratio(), "ratio": ((n + 3) / n) ** 2}
    monkeypatch.setattr(claim, "d_one_ratio", lambda: wrong)
    assert_could_not_run("thm3.3", "infimum-one")


def test_wrong_limit_is_not_confirmed_by_exact_rationals(monkeypatch, clear_caches):
    # A limit of 2 claimed by the symbolic route: the exact ratio at n = 10⁹ is nearer 1, so the
    # counterexample is not confirmed and the check cannot run.
    wrong = {**claim.d_one_ratio(), "limit": sp.Integer(2)}
    monkeypatch.setattr(claim, "d_one_ratio", lambda: wrong)
    result = assert_could_not_run("thm3.3", "infimum-one")
    assert "counterexample" in result.error


def _violating_engine(eigs, n, excess):
    """Engine coefficients whose error exceeds the float bound by the relative ``excess`` at every m."""
    b0, b1 = claim.float_bound(eigs, n)
    return Fraction(b0) * (1 + excess), Fraction(b1) * (1 + excess)


def test_confirmed_counterexample_fails_the_bound_and_refutes_the_claim(monkeypatch, clear_caches):
    # A genuine failure as a wrong bound would give: certificate and sweep both fail, and the
    # engine route confirms err_1 > bound on the same spectrum.
    certs = {**claim.symbolic_certificates(), "c0": False}
    monkeypatch.setattr(claim, "symbolic_certificates", lambda: certs)
    monkeypatch.setattr(claim, "exact_sweep", _sweep_with("bound", (_SPECTRUM, 3, 5)))
    monkeypatch.setattr(claim, "second_route", lambda eigs, n: _violating_engine(eigs, n, Fraction(1, 10)))
    result = run_part("thm3.3", "bound")
    assert result.error is None and result.statements[0].verdict == ledger.FAILS
    assert ledger.headline(result.statements) == ledger.REFUTED


def test_confirm_tolerance_confirms_a_small_real_violation(monkeypatch, clear_caches):
    # A violation of 1e-9 relative is a million times float rounding of the bound (~1e-15): the
    # engine route must confirm it. A confirm tolerance loosened to 1e-9 or more would not.
    certs = {**claim.symbolic_certificates(), "c0": False}
    monkeypatch.setattr(claim, "symbolic_certificates", lambda: certs)
    monkeypatch.setattr(claim, "exact_sweep", _sweep_with("bound", (_SPECTRUM, 3, 5)))
    monkeypatch.setattr(claim, "second_route", lambda eigs, n: _violating_engine(eigs, n, Fraction(1, 10 ** 9)))
    result = run_part("thm3.3", "bound")
    assert result.error is None and result.statements[0].verdict == ledger.FAILS


def test_counterexample_not_reproduced_by_the_engine_cannot_run(monkeypatch, clear_caches):
    # Both exact routes fail, but the engine on the rotated spectrum sees err_1 below the bound.
    certs = {**claim.symbolic_certificates(), "c0": False}
    monkeypatch.setattr(claim, "symbolic_certificates", lambda: certs)
    monkeypatch.setattr(claim, "exact_sweep", _sweep_with("bound", (_SPECTRUM, 3, 5)))
    result = assert_could_not_run("thm3.3", "bound")
    assert "counterexample" in result.error
