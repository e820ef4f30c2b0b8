"""Claim ``gamma``: E[S A S] = ΛAΛ + (1/m)(ΛAᵀΛ + tr(AΛ)Λ) and E[Ŝ_n²] = ΓΛ.

Routes: sympy derivations (explicit symbolic entries from the Gaussian MGF for d = 2, 3; index form
for general d; the corollary for general d) and seeded Monte Carlo with z-scores.
"""

import numpy as np
import pytest
import sympy as sp

from checks.conftest import assert_could_not_run, check_headline, check_part, part_ids, run_part
from theory import gamma, ledger
from theory.claims import gamma as claim
from theory.moments import (derive_gamma_corollary, derive_wishart_sas, derive_wishart_sas_index, is_zero,
                            monte_carlo_sas, symbolic_covariance, symbolic_matrix, wishart_sas,
                            wishart_sas_symbolic)


def test_headline():
    check_headline("gamma")


@pytest.mark.parametrize("part", part_ids("gamma"))
def test_part(part):
    check_part("gamma", part)


# ----------------------------------------------------------------------------- exact route

@pytest.mark.parametrize("d", [1, 2, 3])
def test_explicit_derivation_is_exact(d):
    steps = derive_wishart_sas(d)
    isserlis_gap, single_vector_gap, lemma_gap = steps[3].expr, steps[5].expr, steps[-1].expr
    assert is_zero(isserlis_gap)        # Isserlis' formula == the MGF's fourth derivatives
    assert is_zero(single_vector_gap)   # E[x xᵀ A x xᵀ] = ΛAΛ + ΛAᵀΛ + tr(AΛ)Λ
    assert is_zero(lemma_gap)           # the lemma itself
    assert steps[-1].expr.shape == (d, d)


def test_symbolic_routes_fast_tier():
    routes = claim.symbolic_routes(claim.DIMS_FAST)
    assert routes["index"] and routes["corollary"]
    for d in claim.DIMS_FAST:
        assert routes[("isserlis", d)] and routes[("explicit", d)]
        # the shortcut differs for a general A and agrees for a symmetric one: the exact check has power
        assert not routes[("shortcut", d)] and routes[("shortcut symmetric A", d)]


@pytest.mark.slow
def test_symbolic_routes_d4():
    routes = claim.symbolic_routes((4,))
    assert routes[("explicit", 4)] and routes[("isserlis", 4)]


def test_split_counts_m_and_m_minus_one_terms():
    # At m = 1 only the a = b term exists: E[S A S] = E[x xᵀ A x xᵀ] (steps 4 and 7 coincide).
    steps = derive_wishart_sas(2)
    m = sp.Symbol("m", positive=True, integer=True)
    assert is_zero(sp.expand(steps[7].expr.subs(m, 1) - steps[4].expr))


def test_index_form_for_general_d():
    steps = derive_wishart_sas_index()
    d, m = sp.symbols("d m", positive=True, integer=True)
    Lam, A = sp.MatrixSymbol("Lambda", d, d), sp.MatrixSymbol("A", d, d)
    t1, t2, t3 = steps[5].expr
    assert t1 == Lam * A * Lam and t2 == Lam * A.T * Lam
    assert is_zero(sp.expand((t3 - sp.Trace(A * Lam) * Lam).doit()))
    # the pair count: m(T1+T2+T3) + m(m−1)T1 over m² is T1 + (T2 + T3)/m
    T1, T2, T3 = sp.symbols("T1 T2 T3")
    assert sp.simplify(steps[4].expr - (T1 + (T2 + T3) / m)) == 0


def test_corollary_for_general_d():
    assert is_zero(derive_gamma_corollary()[-1].expr)


def test_derived_value_at_the_instance_is_the_closed_form():
    exact = claim.derived_at_instance()
    assert exact == claim.lemma_closed_form(claim.LAMBDA_EXACT, claim.A_EXACT, claim.M_SMALL)
    # the float closed form of the library at the same instance; rtol 1e-14: a few products of O(1) floats
    np.testing.assert_allclose(wishart_sas(claim.LAMBDA, claim.A_MATRIX, claim.M_SMALL),
                               np.array(exact, dtype=float), rtol=1e-14)


def test_special_cases_of_the_claim_module():
    assert claim.special_cases() == {"chi-square": True, "white Wishart": True}


def test_closed_form_oracles():
    # d = 1: S = λ χ²_m / m and E[s²] = λ² (m + 2)/m (χ² moments: E[χ⁴_m] = m(m + 2)).
    for m in (1, 2, 7):
        assert wishart_sas_symbolic(sp.Matrix([[3]]), sp.Matrix([[1]]), m)[0, 0] == sp.Rational(9 * (m + 2), m)
    # Λ = I: E tr(S²) = d(m + d + 1)/m (proofs/math.md §3, an oracle).
    for d, m in ((2, 3), (3, 1), (4, 10)):
        val = wishart_sas_symbolic(sp.eye(d), sp.eye(d), m).trace()
        assert val == sp.Rational(d * (m + d + 1), m)


def test_numeric_closed_form_equals_symbolic_at_rational_point():
    lam = symbolic_covariance(2)
    A = symbolic_matrix(2)
    point = {lam[0, 0]: sp.Rational(2), lam[0, 1]: sp.Rational(1, 2), lam[1, 1]: sp.Rational(1),
             A[0, 0]: 1, A[0, 1]: 3, A[1, 0]: -2, A[1, 1]: sp.Rational(1, 4)}
    exact = wishart_sas_symbolic(lam, A, 3).subs(point)
    numeric = wishart_sas(np.array(lam.subs(point), dtype=float), np.array(A.subs(point), dtype=float), 3)
    # rtol 1e-14: one float evaluation of a few products of O(1) numbers
    np.testing.assert_allclose(numeric, np.array(exact, dtype=float), rtol=1e-14)


# ----------------------------------------------------------------------------- Monte Carlo route

def test_monte_carlo_lemma_and_its_power():
    ev = claim.monte_carlo_evidence(claim.SAMPLES_FAST)
    assert ledger.require_z("lemma", ev["z_lemma"]) <= ledger.Z_LIMIT
    assert ledger.require_z("corollary", ev["z_corollary"]) <= ledger.Z_LIMIT
    # power: the same draws reject formulas that differ by O(1/m) terms, by a wide margin
    assert ev["z_symmetric_shortcut"] > 10 * ledger.Z_LIMIT
    assert ev["z_no_correction"] > 10 * ledger.Z_LIMIT


def test_monte_carlo_corollary_gamma_lambda():
    # E[Ŝ_n²] = ΓΛ, an independent seed and another non-diagonal Λ, n = 3
    lam = np.array([[1.0, 0.4], [0.4, 0.5]])
    mc = monte_carlo_sas(lam, np.eye(2), 3, 100_000, np.random.SeedSequence(claim.SEED + 1))
    ledger.require_z("corollary, second instance", mc.z_scores(gamma(lam, 3) @ lam).ravel())


def test_monte_carlo_is_seeded():
    a = monte_carlo_sas(claim.LAMBDA, claim.A_MATRIX, claim.M_SMALL, 1000, np.random.SeedSequence(3))
    b = monte_carlo_sas(claim.LAMBDA, claim.A_MATRIX, claim.M_SMALL, 1000, np.random.SeedSequence(3))
    assert np.array_equal(a.mean, b.mean) and np.array_equal(a.stderr, b.stderr)


@pytest.mark.slow
def test_monte_carlo_lemma_heavy():
    ev = claim.monte_carlo_evidence(claim.SAMPLES_FULL, claim.SEED + 7)
    ledger.require_z("lemma", ev["z_lemma"])
    ledger.require_z("corollary", ev["z_corollary"])


# --- the verdict logic can fail -----------------------------------------------------------------

def _routes_with(**changes):
    clean = dict(claim.symbolic_routes(claim.DIMS_FAST))

    def fake(dims):
        out = dict(clean)
        for key, value in changes.items():
            if key in ("index", "corollary"):
                out[key] = value
            else:  # "explicit", "isserlis", "shortcut": every dimension
                for d in dims:
                    out[(key.replace("_", " "), d)] = value
        return out
    return fake


def _mc_with(**changes):
    clean = dict(claim.monte_carlo_evidence(claim.SAMPLES_FAST))
    return lambda samples, seed=claim.SEED: {**clean, **changes}


def test_lemma_symbolic_failure_without_monte_carlo_support_is_a_disagreement(monkeypatch, clear_caches):
    # Both symbolic routes "fail" but the Monte Carlo agrees with the formula: the counterexample is not
    # confirmed, so the check could not run; it does not refute the lemma.
    monkeypatch.setattr(claim, "symbolic_routes", _routes_with(index=False, explicit=False))
    result = assert_could_not_run("gamma", "lemma")
    assert "counterexample" in result.error


def test_lemma_index_and_explicit_routes_must_agree(monkeypatch, clear_caches):
    monkeypatch.setattr(claim, "symbolic_routes", _routes_with(explicit=False))
    assert_could_not_run("gamma", "lemma")


def test_lemma_isserlis_must_match_the_mgf(monkeypatch, clear_caches):
    monkeypatch.setattr(claim, "symbolic_routes", _routes_with(isserlis=False))
    assert_could_not_run("gamma", "lemma")


def test_a_failed_special_case_is_a_disagreement(monkeypatch, clear_caches):
    # The derivation says "holds" but a classical special case disagrees: the check could not run.
    monkeypatch.setattr(claim, "special_cases", lambda: {"chi-square": False, "white Wishart": True})
    assert_could_not_run("gamma", "lemma")


@pytest.mark.parametrize("part, key", [("lemma", "z_lemma"), ("corollary", "z_corollary")])
def test_z_limit_rejects_z_of_six(monkeypatch, clear_caches, part, key):
    # |z| = 6 has probability 2e-9 under a correct estimator with a trustworthy standard error, and is
    # the size of an O(1/m²) error at this sample size; a limit loosened to 10 would wave it through.
    clean = claim.monte_carlo_evidence(claim.SAMPLES_FAST)[key]
    monkeypatch.setattr(claim, "monte_carlo_evidence", _mc_with(**{key: clean[:-1] + [6.0]}))
    assert_could_not_run("gamma", part)


def test_corollary_symbolic_failure_without_monte_carlo_support(monkeypatch, clear_caches):
    monkeypatch.setattr(claim, "symbolic_routes", _routes_with(corollary=False))
    result = assert_could_not_run("gamma", "corollary")
    assert "counterexample" in result.error


def test_corollary_float_tolerance_rejects_a_relative_error_of_1e_10(monkeypatch, clear_caches):
    # 1e-10 relative is four orders above float rounding of these products and is what a Γ with
    # n off by one part in 1e10 would give; a tolerance loosened past it would hide a wrong formula.
    monkeypatch.setattr(claim, "gamma", lambda lam, n: gamma(lam, n) * (1 + 1e-10))
    assert_could_not_run("gamma", "corollary")


@pytest.mark.parametrize("part, key", [("a-symmetric-shortcut", "z_symmetric_shortcut"),
                                       ("no-correction", "z_no_correction")])
def test_monte_carlo_without_power_cannot_confirm_a_wrong_formula(monkeypatch, clear_caches, part, key):
    # max |z| = 4 lies under the limit 5: the Monte Carlo would not see the wrong formula, so the
    # exact failure is not confirmed and the check could not run.
    monkeypatch.setattr(claim, "monte_carlo_evidence", _mc_with(**{key: 4.0}))
    result = assert_could_not_run("gamma", part)
    assert "counterexample" in result.error


def test_shortcut_routes_must_agree(monkeypatch, clear_caches):
    monkeypatch.setattr(claim, "symbolic_routes", _routes_with(shortcut=True))
    assert_could_not_run("gamma", "a-symmetric-shortcut")


@pytest.mark.parametrize("part, name", [("a-symmetric-shortcut", "symmetric_shortcut"),
                                        ("no-correction", "no_correction")])
def test_a_correct_variant_makes_the_finding_hold(monkeypatch, clear_caches, part, name):
    # Replace the wrong formula by the lemma itself: the exact gap vanishes and the finding holds.
    monkeypatch.setattr(claim, name, claim.lemma_closed_form)
    result = run_part("gamma", part)
    assert result.error is None and result.statements[0].verdict == ledger.HOLDS


def test_a_wrong_lemma_fails_with_a_confirmed_counterexample_and_refutes(monkeypatch, clear_caches):
    # Put the A-symmetric shortcut in place of the lemma in every route: the derivation, the index
    # form and the Monte Carlo all reject it, so the part fails and the claim is refuted.
    monkeypatch.setattr(claim, "lemma_closed_form", claim.symmetric_shortcut)
    monkeypatch.setattr(claim, "lemma_closed_form_expr",
                        lambda Lam, A, m: Lam * A * Lam + (Lam * A * Lam + sp.Trace(A * Lam) * Lam) / m)
    result = run_part("gamma", "lemma")
    assert result.error is None
    (statement,) = result.statements
    assert statement.verdict == ledger.FAILS and "minus the formula" in statement.counterexample
    assert ledger.headline(result.statements) == ledger.REFUTED
