"""Claim `hard`: Hard(Λ) = tr Λ / λ_min is scale invariant, >= d (= iff Λ ∝ I), and sets the slowest
contraction of the m = ∞ iteration.

Exact route: rationals and sympy certificates. Independent route: floating-point eigenvalues of
I − Γ^{-1}Λ on random rotations, theory.hardness, and the observed decay rate of the m = ∞ error.
"""

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from checks.conftest import assert_could_not_run, check_headline, check_part, part_ids, run_part
from theory import ledger
from theory.claims import hard as claim
from theory.covariance import hardness
from theory.scaling import contraction_factors, limit_log_error, slowest_contraction, thm33_terms

positive_rationals = st.builds(Fraction, st.integers(1, 10 ** 6), st.integers(1, 10 ** 6))
spectra = st.lists(positive_rationals, min_size=1, max_size=7)


def test_headline():
    check_headline("hard")


@pytest.mark.parametrize("part", part_ids("hard"))
def test_part(part):
    check_part("hard", part)


def test_symbolic_certificates():
    assert all(claim.symbolic_certificates().values())


@given(spectra, positive_rationals)
def test_scale_invariance_exact(eigs, c):
    assert thm33_terms([c * e for e in eigs], 3).hardness == thm33_terms(eigs, 3).hardness


@given(spectra)
def test_at_least_d_with_equality_iff_isotropic(eigs):
    hard = thm33_terms(eigs, 3).hardness
    assert hard >= len(eigs)
    assert (hard == len(eigs)) == (len(set(eigs)) == 1)


@given(st.integers(1, 7), st.floats(1e-3, 1e3))
def test_isotropic_attains_d(d, c):
    # theory.hardness in floating point: tr/λ_min of c·I is d up to rounding of a d-term sum.
    assert hardness(np.full(d, c)) == pytest.approx(d, rel=1e-12)


@given(spectra, st.integers(1, 10 ** 4))
def test_slowest_factor_is_lambda_min_and_equals_formula(eigs, n):
    f = claim.exact_factors(eigs, n)
    hard = thm33_terms(eigs, n).hardness
    assert max(f) == f[eigs.index(min(eigs))] == 1 / (1 + n / (1 + hard))
    assert all(fi < max(f) for fi, e in zip(f, eigs) if e > min(eigs))


@given(spectra, st.integers(1, 500), st.integers(0, 60))
def test_error_sandwiched_by_slowest_factor(eigs, n, k):
    f = claim.exact_factors(eigs, n)
    err = sum(x ** (2 * k) for x in f)
    mult = eigs.count(min(eigs))
    assert mult * max(f) ** (2 * k) <= err <= len(eigs) * max(f) ** (2 * k)


@given(st.lists(st.floats(0.01, 100.0), min_size=2, max_size=7), st.integers(1, 200), st.data())
def test_float_route_on_rotations(eigs, n, data):
    eigs = np.array(eigs)
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 31)))
    Q, _ = np.linalg.qr(rng.standard_normal((len(eigs), len(eigs))))
    lam = (Q * eigs) @ Q.T
    # rtol 1e-9: eigh of a well-conditioned (spread <= 1e4) symmetric matrix, relative to its norm.
    assert slowest_contraction(lam, n) == pytest.approx(contraction_factors(lam, n)[0], rel=1e-9)
    assert hardness(lam) == pytest.approx(eigs.sum() / eigs.min(), rel=1e-9)


def test_decay_rate_is_governed_by_lambda_min():
    lam, n = [1.0, 0.5, 0.01], 5
    f = slowest_contraction(lam, n)
    rate = math.exp(limit_log_error(lam, n, 401) - limit_log_error(lam, n, 400))
    # The second-slowest factor is far faster (ratio < 0.2), so at k = 400 the rate equals f²
    # up to float rounding of two logs of size ~1e2.
    assert rate == pytest.approx(f * f, rel=1e-10)


def test_singular_covariance_never_contracts():
    singular = [1.0, 0.0]
    assert hardness(singular) == math.inf
    assert slowest_contraction(singular, 10) == 1.0
    assert contraction_factors(singular, 10)[0] == pytest.approx(1.0, abs=1e-15)


def test_measured_float_gaps_sit_well_inside_the_tolerances():
    gap_f, gap_h, gap_rate = claim.float_route(40)
    assert max(gap_f, gap_h) < claim.FLOAT_RTOL / 1000 and gap_rate < claim.RATE_RTOL / 100


# --- the verdict logic can fail -----------------------------------------------------------------

def _sweep_with(key, case):
    clean = {k: None for k in claim.exact_sweep(40)}
    return lambda cases, seed=claim.SEED: {**clean, key: case}


@pytest.mark.parametrize("part, key, case, what", [
    ("scale-invariant", "scale", ((Fraction(1), Fraction(2)), Fraction(3)), "scale invariance of Hard"),
    ("at-least-d", "at least d", ((Fraction(1), Fraction(2)),), "Hard >= d with equality iff isotropic"),
    ("at-least-d", "equality", ((Fraction(1), Fraction(2)),), "Hard >= d with equality iff isotropic"),
    ("slowest-contraction", "formula", ((Fraction(1), Fraction(2)), 4), "the slowest contraction factor"),
    ("slowest-contraction", "location", ((Fraction(1), Fraction(2)), 4), "the slowest contraction factor"),
])
def test_sweep_against_certificate_is_a_route_disagreement(monkeypatch, clear_caches, part, key, case, what):
    # The sympy certificate says "holds for every spectrum"; a sweep that reports an exception
    # contradicts it: the check could not run, it does not refute the paper, and the report names
    # the property and both routes.
    monkeypatch.setattr(claim, "exact_sweep", _sweep_with(key, case))
    error = assert_could_not_run("hard", part, mentions=f"routes disagree on {what}").error
    assert "sympy certificate: holds" in error and f"exact sweep: counterexample {case}" in error


def test_failure_found_by_both_exact_routes_but_not_by_the_float_route(monkeypatch, clear_caches):
    # Certificate and sweep both fail (as a wrong definition of Hard would make them), but the
    # float route on the same spectrum sees nothing wrong: the counterexample is not confirmed.
    monkeypatch.setattr(claim, "symbolic_certificates", lambda: {"scale": False, "at least d": True,
                                                                 "increasing": True, "formula": True})
    monkeypatch.setattr(claim, "exact_sweep", _sweep_with("scale", ((Fraction(1), Fraction(2)), Fraction(3))))
    result = assert_could_not_run("hard", "scale-invariant")
    assert "counterexample" in result.error


def test_confirmed_counterexample_fails_the_part_and_refutes_the_claim(monkeypatch, clear_caches):
    # A genuine failure (Hard replaced by tr/λ_max, which is not >= d): both exact routes and the
    # float route agree, so the part fails with a confirmed counterexample and the claim is refuted.
    spectrum = (Fraction(1), Fraction(4))
    monkeypatch.setattr(claim, "symbolic_certificates", lambda: {"scale": True, "at least d": False,
                                                                 "increasing": True, "formula": True})
    monkeypatch.setattr(claim, "exact_sweep", _sweep_with("at least d", (spectrum,)))
    monkeypatch.setattr(claim, "hardness", lambda lam: float(np.trace(lam) / np.linalg.eigvalsh(lam)[-1]))
    result = run_part("hard", "at-least-d")
    assert result.error is None and result.statements[0].verdict == ledger.FAILS
    assert ledger.headline(result.statements) == ledger.REFUTED


def test_float_tolerance_rejects_a_formula_error(monkeypatch, clear_caches):
    # 1e-8 relative is far above eigh's rounding (measured ~1e-14) and is the size of the error a
    # wrong Γ would give at n ~ 1e8; a tolerance loosened past it would hide such an error.
    monkeypatch.setattr(claim, "float_route", lambda cases, seed=0: (1e-8, 0.0, 0.0))
    assert_could_not_run("hard", "slowest-contraction",
                         mentions="routes disagree on the slowest factor and Hard in floating point")


def test_rate_tolerance_rejects_a_wrong_rate(monkeypatch, clear_caches):
    monkeypatch.setattr(claim, "float_route", lambda cases, seed=0: (0.0, 0.0, 1e-5))
    assert_could_not_run("hard", "sandwich", mentions="routes disagree on the decay rate of the m = ∞ error")


def _tr_over_lambda_max(lam):
    """A wrong Hard (tr Λ / λ_max): not >= d, and wrong in the contraction formula."""
    return float(np.trace(np.atleast_2d(lam)) / np.linalg.eigvalsh(np.atleast_2d(lam))[-1])


def test_confirmed_scale_counterexample_fails_the_part(monkeypatch, clear_caches):
    # A Hard that is not scale invariant (the trace alone), found by both exact routes and seen
    # by the float route too: the part fails with that instance, and the claim is refuted.
    monkeypatch.setattr(claim, "symbolic_certificates", lambda: {"scale": False, "at least d": True,
                                                                 "increasing": True, "formula": True})
    monkeypatch.setattr(claim, "exact_sweep", _sweep_with("scale", ((Fraction(1), Fraction(4)), Fraction(3))))
    monkeypatch.setattr(claim, "hardness", lambda lam: float(np.trace(np.atleast_2d(lam))))
    result = run_part("hard", "scale-invariant")
    (s,) = result.statements
    assert s.verdict == ledger.FAILS and s.counterexample_route == "theory.hardness in floating point"
    assert s.counterexample == r"$\Lambda = \operatorname{diag}(1, 4)$, $c = 3$"
    assert ledger.headline(result.statements) == ledger.REFUTED


def test_confirmed_slowest_counterexample_fails_the_part(monkeypatch, clear_caches):
    spectrum, n = (Fraction(1), Fraction(4)), 3
    monkeypatch.setattr(claim, "symbolic_certificates", lambda: {"scale": True, "at least d": True,
                                                                 "increasing": True, "formula": False})
    monkeypatch.setattr(claim, "exact_sweep", _sweep_with("formula", (spectrum, n)))
    monkeypatch.setattr(claim, "hardness", _tr_over_lambda_max)
    (s,) = run_part("hard", "slowest-contraction").statements
    assert s.verdict == ledger.FAILS and s.counterexample_route == "eigh of the rotated step matrix in floating point"
    # the eigh factor is the true one, the formula's is the wrong Hard's
    f_true = 1 / (1 + n / (1 + 5))
    f_wrong = 1 / (1 + n / (1 + 5 / 4))
    assert s.counterexample == (rf"eigenvalues $1, 4$, $n = 3$: slowest factor ${f_true:.10g}$ (eigh) against "
                                rf"${f_wrong:.10g}$")


def test_unconfirmed_slowest_counterexample(monkeypatch, clear_caches):
    monkeypatch.setattr(claim, "symbolic_certificates", lambda: {"scale": True, "at least d": True,
                                                                 "increasing": True, "formula": False})
    monkeypatch.setattr(claim, "exact_sweep", _sweep_with("formula", ((Fraction(1), Fraction(4)), 3)))
    assert_could_not_run("hard", "slowest-contraction",
                         mentions="eigh of the rotated step matrix in floating point: does not confirm it")


def test_sandwich_counterexample_needs_the_float_error_outside_the_bounds(monkeypatch, clear_caches):
    case = ((Fraction(1), Fraction(2), Fraction(2)), 3, 5)
    monkeypatch.setattr(claim, "exact_sweep", _sweep_with("sandwich", case))
    assert_could_not_run("hard", "sandwich",
                         mentions="(theory.scaling.limit_log_error): does not confirm it")  # the true error is inside
    monkeypatch.setattr(claim, "limit_log_error", lambda lam, n, k: 0.0)       # err = 1 > d f^{2k} here
    (s,) = run_part("hard", "sandwich").statements
    assert s.verdict == ledger.FAILS and s.counterexample == "eigenvalues $1, 2, 2$, $n = 3$, $k = 5$"
    assert s.counterexample_route.startswith("the float m = ∞ error of the rotated spectrum")


def test_full_tier_checks_more_cases():
    assert claim._cases(True) > claim._cases(False) and claim._float_cases(True) > claim._float_cases(False)


def test_exact_sweep_records_the_first_formula_failure(monkeypatch):
    # factors off by a tiny amount: the sweep's formula check sees it and records the spectrum and n
    real = claim.exact_factors
    monkeypatch.setattr(claim, "exact_factors", lambda eigs, n: [f * (1 + Fraction(1, 10 ** 9)) for f in real(eigs, n)])
    first = claim.exact_sweep.__wrapped__(5)
    eigs, n = first["formula"]
    assert isinstance(eigs, tuple) and all(isinstance(e, Fraction) for e in eigs) and isinstance(n, int)
    assert first["location"] is None and first["scale"] is None
