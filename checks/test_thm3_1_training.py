"""Claim ``thm3.1``: training converges to V_* = −Γ^{-1}/c — under conditions.

Routes: the sparse population loss derived in sympy (stationary point, Hessian, singular Λ) and the
singular case in exact rationals; Monte Carlo of the real forward pass's loss; gradient descent on
the exact loss (threshold on both sides, rates); joint (u, V_31) gradient flow (conserved
balancedness, its limit); SGD on sampled prompts with every entry of V and W trainable, and the CoT
of the learned model.
"""

import numpy as np
import pytest
import sympy as sp

from checks.conftest import assert_could_not_run, check_headline, check_part, claim_result, part_ids, run_part
from theory import gamma, ledger
from theory.claims import thm3_1 as claim
from theory.moments import is_zero
from theory.training import derive_population_loss, derive_singular_minimisers, gd_population, gd_step_threshold


def test_headline():
    check_headline("thm3.1")


@pytest.mark.parametrize("part", part_ids("thm3.1"))
def test_part(part):
    check_part("thm3.1", part)


# ----------------------------------------------------------------------------- exact route

@pytest.fixture(scope="module")
def derivation_d2():
    return derive_population_loss(2)


@pytest.mark.parametrize("d, cov", [(1, None), (2, None), (3, claim.RATIONAL_LAMBDA3)])
def test_population_loss_stationary_point_and_hessian(d, cov, derivation_d2):
    steps = derivation_d2 if (d, cov) == (2, None) else derive_population_loss(d, cov)
    gaps = [s for s in steps if "minus" in s.description]
    assert len(gaps) == 6
    for step in gaps:
        assert is_zero(step.expr), step.description


def test_derivation_has_power(derivation_d2):
    # The stationary point is Γ^{-1}, not the n → ∞ answer Λ^{-1}: their difference is nonzero,
    # and it vanishes only as n → ∞ (Γ → Λ).
    stationary = derivation_d2[4].expr
    lam = sp.Matrix(2, 2, lambda i, j: sp.Symbol(f"lambda_{min(i, j)}{max(i, j)}", real=True))
    gap = (stationary - lam.inv()).applyfunc(sp.cancel)
    assert not is_zero(gap)
    n = sp.Symbol("n", positive=True, integer=True)
    assert is_zero(sp.limit(gap[0, 0], n, sp.oo))


def test_singular_lambda_has_a_family_of_minimisers():
    steps = derive_singular_minimisers()
    family, eigs = steps[2].expr, steps[3].expr
    assert {str(s) for s in family.free_symbols} >= {"p_01", "p_11"}  # the column on ker Λ is free
    assert 0 in list(eigs)
    lam1, n = sp.Symbol("lambda_1", positive=True), sp.Symbol("n", positive=True, integer=True)
    assert sp.simplify(family[0, 0] - n / ((n + 2) * lam1)) == 0
    assert claim.singular_symbolic() == {"free": ["p_01", "p_11"], "zero eigenvalue": True}


def test_exact_gd_limit_singular_and_positive_definite():
    singular = claim.gd_limit_exact(claim.LAMBDA_SINGULAR_EXACT, claim.N_TRAIN)
    assert singular["stationary"] and singular["kernel frozen"]
    # tr Λ = 4, n = 10, one-dimensional kernel: ‖Γ^{-1}Π_0‖_F² = (10/4)²
    assert singular["distance2"] == sp.Rational(25, 4)
    pd = claim.gd_limit_exact(claim.LAMBDA_GD_EXACT, claim.N_TRAIN)
    assert pd["distance2"] == 0 and pd["P"] == pd["Ginv"] and pd["kernel"] == []


def test_float_gd_reaches_the_exact_singular_limit():
    ev = claim.singular_gd_float()
    # rtol 1e-8 (LIMIT_RTOL): 4000 steps at 0.9 of the threshold end at the float floor
    assert ev["to_exact_limit"] < 1e-8
    np.testing.assert_allclose(ev["to_gamma_inv"], 2.5, rtol=1e-8)


# ----------------------------------------------------------------------------- Monte Carlo of the loss

def test_forward_pass_loss_matches_closed_form():
    ev = claim.loss_monte_carlo(claim.MC_SAMPLES_FAST)
    ledger.require_z("the LSA loss", ev["z"].values())
    # the same draws reject tr(PΛ²Pᵀ) in place of tr(PΓΛPᵀ), by a wide margin
    assert min(abs(z) for z in ev["z_wrong"].values()) > 10 * ledger.Z_LIMIT


# ----------------------------------------------------------------------------- gradient descent

def test_step_size_threshold_both_sides_and_rates():
    ev = claim.gd_evidence()
    for r in ev["runs"].values():
        assert not r["diverged"] and r["final_rel_error"] < 1e-12
        # measured geometric rate vs spectral radius of I − ηc²ΓΛ; rtol 1e-4 covers the sub-dominant
        # modes still present in the measurement window (they decay like (r_2/r_1)^t)
        assert r["measured"] == pytest.approx(r["predicted"], rel=1e-4)
    above = ev["above"]
    assert above["diverged"] and above["measured"] == pytest.approx(above["predicted"], rel=1e-4)
    assert ev["runs"][(0.5, 0)]["predicted"] == pytest.approx(ev["one_minus_eta_c2_lmin"], rel=1e-12)


def test_gd_limit_is_minus_gamma_inverse_over_c():
    eta = 0.9 * gd_step_threshold(claim.LAMBDA_GD, claim.N_TRAIN, claim.C_GD)
    run = gd_population(claim.LAMBDA_GD, claim.N_TRAIN, eta, 3000, claim.C_GD)
    target = -np.linalg.inv(gamma(claim.LAMBDA_GD, claim.N_TRAIN)) / claim.C_GD
    np.testing.assert_allclose(run.V31, target, rtol=1e-10, atol=1e-12)  # float floor after convergence


def test_gd_trajectory_is_the_closed_form():
    # P_t − Γ^{-1} = −Γ^{-1}(I − ηc²ΓΛ)^t from V_31 = 0 (the loss is quadratic)
    lam, n, c = claim.LAMBDA_GD, claim.N_TRAIN, claim.C_GD
    eta = 0.5 * gd_step_threshold(lam, n, c)
    run = gd_population(lam, n, eta, 40, c)
    G = gamma(lam, n)
    Ginv = np.linalg.inv(G)
    step = np.eye(3) - eta * c**2 * G @ lam
    predicted = [np.linalg.norm(Ginv @ np.linalg.matrix_power(step, t)) for t in range(41)]
    np.testing.assert_allclose(run.errors, predicted, rtol=1e-10)


# ----------------------------------------------------------------------------- joint (u, V_31)

def test_joint_flow_balancedness_and_limit():
    ev = claim.joint_evidence()
    assert ev["invariant_drift_flow"] < 1e-9          # integrator tolerance rtol 1e-11
    assert ev["u_flow"] == pytest.approx(ev["u_predicted"], rel=1e-8)
    assert ev["product_error_flow"] < 1e-8
    # discrete GD breaks the invariant only at O(η): halving η halves the drift
    assert ev["drift_ratio"] == pytest.approx(2.0, rel=0.05)


# ----------------------------------------------------------------------------- SGD on the full model

def test_analytic_gradients_match_finite_differences():
    assert claim.finite_difference_error() < 1e-6  # central differences, h = 1e-6: O(h²) + O(eps/h) ~ 1e-10


def test_zero_gradient_entries_are_exactly_zero():
    ev = claim.zero_gradient_evidence()
    assert ev["max_abs"] == 0.0
    # d = 3, 8 × 8 blocks: V's 3 w-columns (24); W's 7 columns but the last (56) and its 3 w-rows
    assert (ev["entries_V"], ev["entries_W"], ev["of"]) == (24, 59, 64)


def test_mirrored_batches_keep_the_sparse_pattern_exactly():
    # w → −w maps y → −y; every off-pattern gradient is odd under it at a sparse point, so a
    # batch holding each prompt and its mirror leaves the pattern exactly (up to rounding).
    assert claim._sgd_mirrored()["off_pattern_max"] < 1e-12


@pytest.fixture(scope="module")
def sgd_fast():
    return dict(claim._sgd_plain(False))


def test_sgd_reaches_the_icl_optimum(sgd_fast):
    # rel. Frobenius error of −uV_31 against Γ^{-1}; 0.05 is far below the distance to the wrong
    # n → ∞ answer Λ^{-1} (reported alongside), so the run is not just "somewhere near"
    assert sgd_fast["product_rel_error"] < 0.05 < sgd_fast["lambda_inv_rel_distance"]
    assert sgd_fast["final_loss"] == pytest.approx(sgd_fast["optimal_loss"], rel=0.05)


def test_sgd_off_pattern_entries_stay_small(sgd_fast):
    off = sgd_fast["off_pattern_max"]
    assert off < 0.1 * sgd_fast["pattern_V31_max"]
    assert max(abs(v) for v in sgd_fast["moving_off_pattern"]) == off
    # V's x-, y- and 1-rows, V[:, 1], W[1, 1] and W[w, 1] form a closed set: zero gradient while
    # they are zero, so from the sparse init they stay exactly 0 (only V[w, y], W[x, 1] move)
    assert sgd_fast["other_off_pattern_max"] == 0.0


def test_learned_cot_follows_the_learned_u_not_gamma(sgd_fast):
    # W_13 = cI never receives a gradient while W_24 = −u does: u moves away from c ...
    assert sgd_fast["W13_unchanged"] and sgd_fast["u"] - claim.SGD_C > 0.1
    # ... so the CoT of the learned model is w_{i+1} = w_i − Γ^{-1}Ŝ((c/u)w_i − w), not Prop 3.2's
    assert sgd_fast["cot_vs_learned_u_recurrence"] < 0.05
    assert sgd_fast["cot_vs_gamma_recurrence"] > 0.1
    assert sgd_fast["cot_vs_gamma_recurrence_k1"] < 0.05  # direct ICL (k = 1) is unaffected
    # tying W_13 = uI by hand restores the Γ^{-1} recurrence
    assert sgd_fast["cot_tied_vs_gamma_recurrence"] < 0.05


def test_learned_u_recurrence_at_u_equal_c_is_proposition_32():
    X, w = claim.cot_test_prompt(claim.SEED)
    a = claim.learned_u_recurrence(claim.LAMBDA_SGD, claim.N_TRAIN, X, w, 1.3, 1.3, 5)
    from theory.pseudo_newton import cot_recurrence
    np.testing.assert_allclose(a, cot_recurrence(claim.LAMBDA_SGD, claim.N_TRAIN, X, X.T @ w, 5),
                               rtol=1e-12, atol=1e-14)  # the same recurrence, two float evaluations


@pytest.mark.slow
def test_sgd_heavier_run():
    fast = claim.sgd_evidence(*claim.SGD_FAST, claim.SEED + 20)
    heavy = claim.sgd_evidence(*claim.SGD_FULL, claim.SEED + 20)
    assert heavy["product_rel_error"] < fast["product_rel_error"]
    assert heavy["cot_vs_learned_u_recurrence"] < 0.02


@pytest.mark.slow
def test_off_pattern_entries_are_noise():
    # Noise shrinks with the batch: 16× the batch (same steps and schedule) should shrink the
    # moving off-pattern entries V[w, y], W[x, 1] by about 4 (1/√B); a systematic drift would not
    # shrink at all. The threshold 2 is the geometric midpoint of the two hypotheses. One run holds
    # only 2d = 6 such entries, correlated within the run, so the RMS is pooled over 4 seeds per
    # batch; a span of 16 (rather than 4) in the batch keeps the two hypotheses apart by more than
    # the spread of a pooled RMS over so few independent runs.
    def pooled_rms(batch):
        vals = np.concatenate([claim.sgd_evidence(1500, batch, 0.02, claim.SEED + 100 + s)["moving_off_pattern"]
                               for s in range(4)])
        return np.sqrt(np.mean(vals**2))
    assert pooled_rms(1024) < pooled_rms(64) / 2


# --- the verdict logic can fail -----------------------------------------------------------------

@pytest.fixture(scope="module")
def clean():
    """The unpatched evidence, computed once (the tests below clear the claim's caches)."""
    return {"gd": claim.gd_evidence(), "sgd": dict(claim._sgd_plain(False)), "mirrored": dict(claim._sgd_mirrored()),
            "zero": dict(claim.zero_gradient_evidence()), "joint": dict(claim.joint_evidence()),
            "mc": claim.loss_monte_carlo(claim.MC_SAMPLES_FAST)}


def _sgd_with(monkeypatch, clean, **changes):
    monkeypatch.setattr(claim, "_sgd_plain", lambda full: {**clean["sgd"], **changes})


def _gd_with(monkeypatch, clean, above=None, run=None):
    gd = {**clean["gd"], "above": {**clean["gd"]["above"], **(above or {})},
          "runs": {k: {**r, **(run or {})} if k == (claim.STEP_FACTORS_BELOW[0], 1) else r
                   for k, r in clean["gd"]["runs"].items()}}
    monkeypatch.setattr(claim, "gd_evidence", lambda seed=claim.SEED: gd)


def _verdict(part):
    result = run_part("thm3.1", part)
    assert result.error is None, result.error
    return result.statements[0]


# every-psd-lambda

def test_sympy_uniqueness_against_the_exact_limit_is_a_disagreement(monkeypatch, clear_caches):
    # sympy would say "one minimiser" for a singular Λ while the exact GD limit misses Γ^{-1}.
    monkeypatch.setattr(claim, "singular_symbolic", lambda: {"free": [], "zero eigenvalue": False})
    assert_could_not_run("thm3.1", "every-psd-lambda")


def test_exact_singular_limit_must_be_stationary(monkeypatch, clear_caches):
    right = claim.gd_limit_exact
    monkeypatch.setattr(claim, "gd_limit_exact", lambda lam, n: {**right(lam, n), "stationary": False})
    assert_could_not_run("thm3.1", "every-psd-lambda")


def test_singular_counterexample_needs_the_float_route(monkeypatch, clear_caches):
    # Float GD reaching Γ^{-1} (distance 0) would contradict the exact limit: not confirmed.
    monkeypatch.setattr(claim, "singular_gd_float", lambda: {"to_gamma_inv": 0.0, "to_exact_limit": 2.5})
    assert "counterexample" in assert_could_not_run("thm3.1", "every-psd-lambda").error


def test_limit_tolerance_rejects_ten_times_limit_rtol(monkeypatch, clear_caches):
    # The exact distance is 5/2; a float limit off by 1e-7 relative (ten times LIMIT_RTOL, far above
    # the float floor ~1e-15 of a converged run) is not the exact limit.
    monkeypatch.setattr(claim, "singular_gd_float", lambda: {"to_gamma_inv": 2.5 * (1 + 1e-7), "to_exact_limit": 0.0})
    assert_could_not_run("thm3.1", "every-psd-lambda")


def test_positive_definite_lambda_makes_every_psd_part_hold(monkeypatch, clear_caches):
    # Give the part a positive definite Λ in place of the singular one (and sympy its unique answer).
    monkeypatch.setattr(claim, "LAMBDA_SINGULAR_EXACT", claim.LAMBDA_GD_EXACT)
    monkeypatch.setattr(claim, "singular_symbolic", lambda: {"free": [], "zero eigenvalue": False})
    assert _verdict("every-psd-lambda").verdict == ledger.HOLDS


# every-step-size

def test_divergence_against_the_spectral_radius_is_a_disagreement(monkeypatch, clear_caches, clean):
    _gd_with(monkeypatch, clean, above={"diverged": False})
    assert_could_not_run("thm3.1", "every-step-size")


def test_a_diverging_run_below_the_predicted_threshold_is_a_disagreement(monkeypatch, clear_caches, clean):
    # The spectral route says "converges" (radius 0.98) while the run blew up: could not run.
    _gd_with(monkeypatch, clean, above={"predicted": 0.98})
    assert_could_not_run("thm3.1", "every-step-size")


def test_rate_tolerance_rejects_a_growth_factor_off_by_1e_3(monkeypatch, clear_caches, clean):
    # 1e-3 relative is ten times RATE_RTOL and a thousand times the measured bias of the rate.
    _gd_with(monkeypatch, clean, above={"measured": clean["gd"]["above"]["predicted"] * (1 + 1e-3)})
    assert_could_not_run("thm3.1", "every-step-size")


def test_a_step_below_the_threshold_makes_the_step_size_part_hold(monkeypatch, clear_caches):
    monkeypatch.setattr(claim, "STEP_FACTOR_ABOVE", 0.9)
    statement = _verdict("every-step-size")
    assert statement.verdict == ledger.HOLDS and "converges (relative error" in statement.evidence


# all-entries-trained

def test_unexplained_learned_cot_is_a_disagreement(monkeypatch, clear_caches, clean):
    _sgd_with(monkeypatch, clean, cot_vs_learned_u_recurrence=0.2)
    assert_could_not_run("thm3.1", "all-entries-trained")


def test_departure_without_drift_of_the_flow_is_not_confirmed(monkeypatch, clear_caches, clean):
    # If the population flow ended at u = c, the SGD departure would not be the model's: not confirmed.
    _sgd_with(monkeypatch, clean)
    monkeypatch.setattr(claim, "joint_limit", lambda lam, n, imbalance=0.0: (claim.SGD_C, None))
    assert "counterexample" in assert_could_not_run("thm3.1", "all-entries-trained").error


def test_same_cot_tolerance_rejects_a_departure_of_six_percent(monkeypatch, clear_caches, clean):
    # 6% of ‖w‖ is above SAME_COT_TOL = 5% and six times the SGD noise at k = 1: not the same model;
    # a tolerance loosened to 10% would call it the same.
    _sgd_with(monkeypatch, clean, cot_vs_gamma_recurrence=0.06)
    assert _verdict("all-entries-trained").verdict == ledger.FAILS


def test_a_learned_cot_on_the_gamma_recurrence_makes_the_part_hold(monkeypatch, clear_caches, clean):
    _sgd_with(monkeypatch, clean, cot_vs_gamma_recurrence=0.01)
    assert _verdict("all-entries-trained").verdict == ledger.HOLDS


# fixed-w-positive-definite

def test_rate_tolerance_below_the_threshold(monkeypatch, clear_caches, clean):
    # a measured rate off by 1e-3 relative: ten times RATE_RTOL
    _gd_with(monkeypatch, clean, run={"measured": clean["gd"]["runs"][(0.5, 1)]["predicted"] * (1 + 1e-3)})
    assert_could_not_run("thm3.1", "fixed-w-positive-definite")


def test_convergence_threshold_rejects_1e_11(monkeypatch, clear_caches, clean):
    # A run stuck at 1e-11 relative (ten times GD_CONVERGED) with a spectral radius below 1 is a
    # contradiction between the run and the spectral route: could not run.
    _gd_with(monkeypatch, clean, run={"final_rel_error": 1e-11})
    assert "counterexample" in assert_could_not_run("thm3.1", "fixed-w-positive-definite").error


def test_spectral_tolerance_rejects_1e_10(monkeypatch, clear_caches, clean):
    # 1e-10 relative between two evaluations of the same eigenvalue: a hundred times SPECTRAL_RTOL,
    # far above the few ulps two eigvalsh calls differ by.
    gd = {**clean["gd"], "one_minus_eta_c2_lmin": clean["gd"]["one_minus_eta_c2_lmin"] * (1 + 1e-10)}
    monkeypatch.setattr(claim, "gd_evidence", lambda seed=claim.SEED: gd)
    assert_could_not_run("thm3.1", "fixed-w-positive-definite")


def test_trajectory_tolerance_rejects_1e_9(monkeypatch, clear_caches, clean):
    # 1e-9: ten times TRAJECTORY_RTOL and 1e5 times the measured rounding of 40 matrix products
    monkeypatch.setattr(claim, "gd_evidence", lambda seed=claim.SEED: {**clean["gd"], "trajectory_gap": 1e-9})
    assert_could_not_run("thm3.1", "fixed-w-positive-definite")


def test_population_residual_makes_the_condition_unrunnable(monkeypatch, clear_caches):
    monkeypatch.setattr(claim, "population_derivation", lambda full: {"d = 2 symbolic": {"Hessian minus": False}})
    assert_could_not_run("thm3.1", "fixed-w-positive-definite")


def _diverging_condition(monkeypatch, clean):
    _gd_with(monkeypatch, clean, run={"diverged": True, "predicted": 1.02, "measured": 1.02, "final_rel_error": 1e8})


def test_a_diverging_run_fails_the_condition(monkeypatch, clear_caches, clean):
    _diverging_condition(monkeypatch, clean)
    assert _verdict("fixed-w-positive-definite").verdict == ledger.FAILS


# tied-w13

def test_tied_tolerance_rejects_six_percent_unconfirmed(monkeypatch, clear_caches, clean):
    # 6% (above SAME_COT_TOL) for the tied SGD model while the exact tied optimum follows Γ^{-1}: the
    # failure is not confirmed, so the check could not run.
    _sgd_with(monkeypatch, clean, cot_tied_vs_gamma_recurrence=0.06)
    assert "counterexample" in assert_could_not_run("thm3.1", "tied-w13").error


def _failing_tied(monkeypatch, clean):
    from theory.lsa import trained_parameters
    _sgd_with(monkeypatch, clean, cot_tied_vs_gamma_recurrence=0.3)

    def wrong(lam, n, c=1.0):  # W_13 at twice the tied value: the model the condition would exclude
        V, W = trained_parameters(lam, n, c)
        d = lam.shape[0]
        W[:d, d + 1:2 * d + 1] *= 2
        return V, W
    monkeypatch.setattr(claim, "trained_parameters", wrong)


def test_a_confirmed_tied_failure_fails_the_condition(monkeypatch, clear_caches, clean):
    _failing_tied(monkeypatch, clean)
    assert _verdict("tied-w13").verdict == ledger.FAILS


def test_headline_follows_the_parts(monkeypatch, clear_caches, clean):
    # Recorded: three claim parts fail, the conditions hold → confirmed under stated conditions.
    base = {s.id: s for s in claim_result("thm3.1").statements}
    assert ledger.headline(base.values()) == ledger.CONDITIONAL
    # Both conditions failing (with confirmed counterexamples) → refuted.
    _diverging_condition(monkeypatch, clean)
    _failing_tied(monkeypatch, clean)
    failed = {**base, "fixed-w-positive-definite": _verdict("fixed-w-positive-definite"),
              "tied-w13": _verdict("tied-w13")}
    assert ledger.headline(failed.values()) == ledger.REFUTED
    # Every claim part holding → confirmed (nothing is hard-coded).
    monkeypatch.undo()
    monkeypatch.setattr(claim, "LAMBDA_SINGULAR_EXACT", claim.LAMBDA_GD_EXACT)
    monkeypatch.setattr(claim, "singular_symbolic", lambda: {"free": [], "zero eigenvalue": False})
    monkeypatch.setattr(claim, "STEP_FACTOR_ABOVE", 0.9)
    _sgd_with(monkeypatch, clean, cot_vs_gamma_recurrence=0.01)
    claim.gd_evidence.cache_clear()
    held = {**base, **{p: _verdict(p) for p in ("every-psd-lambda", "every-step-size", "all-entries-trained")}}
    assert ledger.headline(held.values()) == ledger.CONFIRMED


# population-loss and loss-n-infinity

def test_z_limit_rejects_z_of_six_for_the_loss(monkeypatch, clear_caches, clean):
    # |z| = 6: probability 2e-9 under a correct estimator; a limit loosened to 10 would accept it.
    monkeypatch.setattr(claim, "loss_monte_carlo", lambda samples, seed=claim.SEED: {
        **clean["mc"], "z": {"Gamma^-1": 6.0, "random": 0.0}})
    assert_could_not_run("thm3.1", "population-loss")


def test_population_failure_without_monte_carlo_support(monkeypatch, clear_caches, clean):
    monkeypatch.setattr(claim, "loss_monte_carlo", lambda samples, seed=claim.SEED: clean["mc"])
    monkeypatch.setattr(claim, "population_derivation", lambda full: {"d = 2 symbolic": {"Hessian minus": False}})
    assert "counterexample" in assert_could_not_run("thm3.1", "population-loss").error


def test_a_wrong_population_loss_fails_with_a_confirmed_counterexample(monkeypatch, clear_caches):
    # The n → ∞ loss in place of L(P): sympy (patched to report the residual) and the Monte Carlo agree.
    monkeypatch.setattr(claim, "population_derivation", lambda full: {"d = 2 symbolic": {"loss minus": False}})
    monkeypatch.setattr(claim, "population_loss", lambda P, lam, n: claim.loss_n_infinity(P, lam))
    assert _verdict("population-loss").verdict == ledger.FAILS


def test_monte_carlo_without_power_cannot_confirm_the_n_infinity_form(monkeypatch, clear_caches, clean):
    # |z| = 4 is under the limit 5: the Monte Carlo would not see the 1/n terms.
    monkeypatch.setattr(claim, "loss_monte_carlo", lambda samples, seed=claim.SEED: {
        **clean["mc"], "z_wrong": {"Gamma^-1": 4.0, "random": 4.0}})
    assert "counterexample" in assert_could_not_run("thm3.1", "loss-n-infinity").error


def test_n_infinity_form_holds_when_gamma_is_lambda(monkeypatch, clear_caches):
    monkeypatch.setattr(claim, "_gamma_exact", lambda lam, n: lam)
    assert _verdict("loss-n-infinity").verdict == ledger.HOLDS


# joint-flow

def _joint_with(monkeypatch, clean, **changes):
    monkeypatch.setattr(claim, "joint_evidence", lambda: {**clean["joint"], **changes})


def test_flow_tolerance_rejects_1e_7(monkeypatch, clear_caches, clean):
    # u off the closed form by 1e-7 relative (ten times FLOW_RTOL, 1e4 times the integrator's error),
    # while GD lands where the closed form says: not a confirmed failure.
    _joint_with(monkeypatch, clean, u_flow=clean["joint"]["u_predicted"] * (1 + 1e-7))
    assert "counterexample" in assert_could_not_run("thm3.1", "joint-flow").error


def test_drift_ratio_must_be_two(monkeypatch, clear_caches, clean):
    # a ratio 2.5 on halving η: 25% off 2, five times DRIFT_RATIO_RTOL — the drift would not be O(η)
    _joint_with(monkeypatch, clean, drift_ratio=2.5)
    assert_could_not_run("thm3.1", "joint-flow")


def test_a_flow_and_gd_off_the_limit_fail_the_finding(monkeypatch, clear_caches, clean):
    u = clean["joint"]["u_predicted"]
    _joint_with(monkeypatch, clean, u_flow=1.1 * u, gd_u={**clean["joint"]["gd_u"], claim.JOINT_ETA / 2: 1.1 * u})
    assert _verdict("joint-flow").verdict == ledger.FAILS


# zero-gradient

def _zero_with(monkeypatch, clean, **changes):
    _sgd_with(monkeypatch, clean)
    monkeypatch.setattr(claim, "zero_gradient_evidence", lambda seed=claim.SEED: {**clean["zero"], **changes})


def test_fd_tolerance_rejects_1e_5(monkeypatch, clear_caches, clean):
    # 1e-5 relative: ten times FD_RTOL and 1e5 times the O(h²) + O(eps/h) error of the differences
    _zero_with(monkeypatch, clean, fd=1e-5)
    assert_could_not_run("thm3.1", "zero-gradient")


def test_nonzero_gradient_with_w13_unmoved_is_a_disagreement(monkeypatch, clear_caches, clean):
    _zero_with(monkeypatch, clean, max_abs=1e-300, where=("W", 0, 4))
    assert_could_not_run("thm3.1", "zero-gradient")


def test_a_nonzero_gradient_that_moves_w13_fails_the_finding(monkeypatch, clear_caches, clean):
    _zero_with(monkeypatch, clean, max_abs=0.3, where=("W", 0, 4))
    _sgd_with(monkeypatch, clean, W13_unchanged=False)
    assert _verdict("zero-gradient").verdict == ledger.FAILS


# sgd-icl-optimum and sgd-off-pattern

def test_product_tolerance_rejects_six_percent(monkeypatch, clear_caches, clean):
    # 6%: above PRODUCT_RTOL = 5% and six times the SGD noise at this budget
    _sgd_with(monkeypatch, clean, product_rel_error=0.06)
    assert_could_not_run("thm3.1", "sgd-icl-optimum")


def test_mirror_tolerance_rejects_1e_11(monkeypatch, clear_caches, clean):
    # 1e-11: ten times MIRROR_TOL, 1e5 times the rounding of the cancelled sums
    monkeypatch.setattr(claim, "_sgd_mirrored", lambda: {**clean["mirrored"], "off_pattern_max": 1e-11})
    assert_could_not_run("thm3.1", "sgd-off-pattern")


def test_closed_zero_set_must_stay_exactly_zero(monkeypatch, clear_caches, clean):
    _sgd_with(monkeypatch, clean, other_off_pattern_max=1e-300)
    assert_could_not_run("thm3.1", "sgd-off-pattern")


def test_noise_share_rejects_a_moving_entry_of_fifteen_percent(monkeypatch, clear_caches, clean):
    # an off-pattern entry at 15% of the V_31 entries: above NOISE_SHARE = 10%, a drift, not noise
    big = 0.15 * clean["sgd"]["pattern_V31_max"]
    moving = (big,) + tuple(clean["sgd"]["moving_off_pattern"][1:])
    _sgd_with(monkeypatch, clean, moving_off_pattern=moving, off_pattern_max=big)
    assert_could_not_run("thm3.1", "sgd-off-pattern")
