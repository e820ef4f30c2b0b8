"""Claim `rem4.1`: overthinking (Remark 4.1, proofs/math.md §13).

Exact route: rational m = ∞ errors and Remark 4.1's trace, exact growth decisions, exact engine
polynomials at finite m. Independent routes: the float modal report, the d = 1 chi-square closed form,
the finite-m divergence lower bound, seeded Monte Carlo.
"""

import importlib
from fractions import Fraction

import numpy as np
import pytest

from checks.conftest import assert_could_not_run, check_headline, check_part, part_ids, run_part
from theory import ledger
from theory.claims import rem4_1 as claim
from theory.scaling import cot_error_d1, divergence_log_lower_bound

# The package exports the function ``overthinking`` under the module's name: bind the module itself.
ot = importlib.import_module("theory.overthinking")


def test_headline():
    check_headline("rem4.1")


@pytest.mark.parametrize("part", part_ids("rem4.1"))
def test_part(part):
    check_part("rem4.1", part)


def test_sharp_bracket_is_attained():
    # Γ = diag(8, 32): N = I − Γ^{-1/2}ΣΓ^{-1/2} = [[0, 1], [1, 0]], M = [[0, 2], [1/2, 0]].
    lam, n, sig = claim.EXAMPLE_SHARP_BRACKET
    assert (ot.gamma_exact(lam, n) == claim._diag(8, 32)).all()
    errs, traces = claim.exact_curves(claim.EXAMPLE_SHARP_BRACKET, 5)
    assert errs == [2, Fraction(17, 4), 2, Fraction(17, 4), 2, Fraction(17, 4)]
    assert traces == [2] * 6
    assert ot.remark41_bracket(lam.astype(float), n)[1] == pytest.approx(17 / 8, rel=1e-14)
    assert not ot.eventual_growth_exact(lam, n, sig)          # λ_max(Γ^{-1}Σ) = 2 exactly


def test_error_rises_infinitely_often_while_the_trace_falls():
    errs, traces = claim.exact_curves(claim.EXAMPLE_RISES_WHILE_TRACE_FALLS, 21)
    assert all(b < a for a, b in zip(traces, traces[1:]))
    assert all(errs[2 * j + 1] > errs[2 * j] for j in range(11))
    assert all(errs[2 * j + 2] < errs[2 * j + 1] for j in range(10))
    lam, n, sig = claim.EXAMPLE_RISES_WHILE_TRACE_FALLS
    report = ot.overthinking_report(lam.astype(float), n, sig.astype(float))
    assert not report.diverges and report.behaviour == "transient growth" and report.first_rise == 2
    assert report.k_star is None and report.err_star == 0.0      # the infimum 0 is approached only


def test_error_falls_while_the_trace_rises():
    errs, traces = claim.exact_curves(claim.EXAMPLE_FALLS_WHILE_TRACE_RISES, 4)
    assert errs[4] < errs[3] and traces[4] > traces[3]
    assert errs[1] > errs[0] and traces[1] < traces[0]   # the first pass hurts; the trace says it helps


def test_optimal_steps_differ():
    lam, n, sig = claim.EXAMPLE_K_STAR_DIFFERS
    errs, traces = claim.exact_curves(claim.EXAMPLE_K_STAR_DIFFERS, 14)
    assert min(range(1, 15), key=lambda k: errs[k]) == 4
    assert min(range(1, 15), key=lambda k: traces[k]) == 9
    report = ot.overthinking_report(lam.astype(float), n, sig.astype(float))
    assert report.diverges and report.certified and report.k_star == 4


def test_larger_n_can_raise_k_star():
    lam, (na, nb), sig = claim.EXAMPLE_K_STAR_GROWS_WITH_N
    assert ot.divergence_onset(lam.astype(float), sig.astype(float)) == na
    assert claim.exact_k_star(lam, na, sig, 12)[0] == 1
    assert claim.exact_k_star(lam, nb, sig, 12)[0] == 2
    # commuting, so err_k = Σ ν_i^{2k}: increments change sign once and the first minimum is global
    assert ot.overthinking_report(lam.astype(float), nb, sig.astype(float)).k_star == 2


def test_larger_n_can_lower_the_best_error():
    lam, (nc, nd), sig = claim.EXAMPLE_BEST_ERROR_FALLS_WITH_N
    kc, ec = claim.exact_k_star(lam, nc, sig, 12)
    kd, ed = claim.exact_k_star(lam, nd, sig, 12)
    assert ot.eventual_growth_exact(lam, nc, sig) and ot.eventual_growth_exact(lam, nd, sig)
    assert ed < ec


def test_experiment_at_infinite_m_depends_on_the_scale():
    trace = ot.lsa_experiment(10, (10, 20, 30), (None,), normalisation="trace")
    unit = ot.lsa_experiment(10, (10, 20, 30), (None,), normalisation="unit")
    for n in (10, 20, 30):
        assert trace.row(n).k_star is None and not trace.row(n).errors[-1] > trace.row(n).errors[0]
        assert unit.row(n).k_star == 1 and unit.row(n).behaviour == "rises from the start"
    # larger n: every eigenvalue of Γ_n^{-1} grows
    assert trace.row(10).max_eig < trace.row(20).max_eig < trace.row(30).max_eig


def test_experiment_at_finite_m_falls_then_rises_and_larger_n_is_worse():
    exp = ot.lsa_experiment(10, (10, 20, 30), (40,), normalisation="trace", k_max=6)
    r10, r20, r30 = (exp.row(n, 40) for n in (10, 20, 30))
    assert r10.first_rise is None                      # still falling at k = 6
    assert (r20.k_star, r30.k_star) == (3, 2) and r20.certified and r30.certified
    assert r20.err_star < r30.err_star and r10.err_star < r20.err_star
    # independent: the finite-m lower bound of theory.scaling forces the n = 10 curve up by k = 50
    assert divergence_log_lower_bound(np.array([float(v) for v in exp.train_eigs]), 10, 50, 40,
                                      test_cov=np.ones(10)) > np.log(r10.errors[0])


def test_monte_carlo_agrees_with_the_exact_engine():
    # Seeded Monte Carlo, 40 000 draws, |z| <= 5 at n = 30, m = 40, k = 1..3 (low k: light enough tails).
    eigs = ot.skewed_spectrum(10, "trace")
    exact = ot.overthinking_report(eigs, 30, [1] * 10, m=40, k_max=3).errors
    means, ses = claim.monte_carlo_errors(eigs, 30, 40, (1, 2, 3), 40_000, claim.SEED + 1)
    z = [(mu - ex) / se for mu, se, ex in zip(means, ses, exact)]
    assert max(abs(v) for v in z) <= 5, z


def test_step_thresholds_grow_with_n():
    eigs = ot.skewed_spectrum(10, "trace")
    for k in (1, 2):
        thresholds = []
        for n in (10, 20, 30):
            gain = ot.step_gain(eigs, n, [1] * 10, k=k)
            m0 = gain.m_threshold
            assert gain.helps_at_infinity and gain.gain(m0) < 0 <= gain.gain(m0 - 1)
            thresholds.append(m0)
        assert thresholds == sorted(thresholds) and len(set(thresholds)) == 3


@pytest.mark.slow
def test_experiment_wider_window_and_monte_carlo_at_n20():
    exp = ot.lsa_experiment(10, (10, 20, 30), (40,), normalisation="trace", k_max=10)
    assert exp.row(20, 40).k_star == 3 and exp.row(30, 40).k_star == 2
    eigs = ot.skewed_spectrum(10, "trace")
    means, ses = claim.monte_carlo_errors(eigs, 20, 40, (2, 3, 4), 200_000, claim.SEED + 2)
    exact = exp.row(20, 40).errors[1:4]
    z = [(mu - ex) / se for mu, se, ex in zip(means, ses, exact)]
    assert max(abs(v) for v in z) <= 5, z


def test_d1_k_star_at_m2_is_an_exact_tie():
    assert cot_error_d1(1, claim.D1_N, 1, m=2) == cot_error_d1(1, claim.D1_N, 2, m=2) == Fraction(1, 2)


# --- the verdict logic can fail -----------------------------------------------------------------

def test_identity_failure_is_a_route_disagreement(monkeypatch, clear_caches):
    monkeypatch.setattr(claim, "trace_identity_survey", lambda count, k_max=3: (1, 0, 0, 0.5, 0))
    assert_could_not_run("rem4.1", "trace-brackets", mentions="routes disagree on Remark 4.1's identity and bracket")


def test_bracket_ratio_tolerance(monkeypatch, clear_caches):
    # 1 + 1e-6: a ratio err/trace above the proved constant by far more than float rounding of κ
    # (~1e-15) yet small enough that a loosened tolerance would hide a wrong constant.
    monkeypatch.setattr(claim, "trace_identity_survey", lambda count, k_max=3: (0, 0, 0, 1 + 1e-6, 0))
    assert_could_not_run("rem4.1", "trace-brackets", mentions="largest (err/trace) / ((κ + 1/κ)/2), float: 1.000001")


def test_growth_disagreement_is_not_a_verdict(monkeypatch, clear_caches):
    monkeypatch.setattr(claim, "trace_identity_survey", lambda count, k_max=3: (0, 0, 0, 0.5, 2))
    error = assert_could_not_run("rem4.1", "trace-decides-growth", mentions="routes disagree on eventual growth").error
    assert "exact root counting: grows / stays bounded; float modal report: disagrees in 2 problems" in error


def test_step_by_step_holds_when_curves_agree(monkeypatch, clear_caches):
    curves = ([Fraction(5 - k) for k in range(30)], [Fraction(5 - k) for k in range(30)])
    monkeypatch.setattr(claim, "exact_curves", lambda problem, k_max: curves)
    assert run_part("rem4.1", "trace-step-by-step").statements[0].verdict == ledger.HOLDS
    assert run_part("rem4.1", "trace-best-k").statements[0].verdict == ledger.HOLDS
    # flat curves: an error that stays equal does not rise, so it agrees with a flat trace
    flat = ([Fraction(2)] * 30, [Fraction(3)] * 30)
    monkeypatch.setattr(claim, "exact_curves", lambda problem, k_max: flat)
    assert run_part("rem4.1", "trace-step-by-step").statements[0].verdict == ledger.HOLDS


def test_step_by_step_fails_on_the_second_example_alone(monkeypatch, clear_caches):
    # The first example agrees step by step; the second has the first pass hurt while the trace
    # falls (err_1 > err_0, tr_1 < tr_0) and err_4 < err_3 while the trace rises: that alone fails
    # the part (confirmed by the float report on the first example, which is real).
    agreeing = ([Fraction(5 - k) for k in range(30)], [Fraction(5 - k) for k in range(30)])
    second = ([Fraction(v) for v in (1, 2, 0, 3, 2)], [Fraction(v) for v in (5, 4, 6, 1, 2)])
    monkeypatch.setattr(claim, "exact_curves",
                        lambda problem, k_max: second if problem is claim.EXAMPLE_FALLS_WHILE_TRACE_RISES else agreeing)
    (s,) = run_part("rem4.1", "trace-step-by-step").statements
    assert s.verdict == ledger.FAILS and s.counterexample_route == "the float modal report of theory.overthinking"


def test_unconfirmed_best_k_counterexample(monkeypatch, clear_caches):
    # the curves say k* differ, but the float report's certified k* is not the error's
    errs = [Fraction(10 - k) if k < 3 else Fraction(k) for k in range(20)]
    traces = [Fraction(10 - k) if k < 9 else Fraction(k) for k in range(20)]
    monkeypatch.setattr(claim, "exact_curves", lambda problem, k_max: (errs, traces))
    assert_could_not_run("rem4.1", "trace-best-k", mentions="the certified float modal report: does not confirm it")


def test_onset_disagreement(monkeypatch, clear_caches):
    monkeypatch.setattr(claim, "divergence_onset", lambda lam, sig: 40)
    error = assert_could_not_run("rem4.1", "larger-n-diverges",
                                 mentions="routes disagree on the divergence onset").error
    assert "float bisection: 40; exact growth at n0 − 1, n0: (False, True)" in error


def test_larger_n_best_holds_without_the_examples(monkeypatch, clear_caches):
    monkeypatch.setattr(claim, "exact_k_star", lambda lam, n, sig, k_max: (1, Fraction(2)))
    assert run_part("rem4.1", "larger-n-best").statements[0].verdict == ledger.HOLDS


def test_monte_carlo_z_limit(monkeypatch, clear_caches):
    # a Monte Carlo mean 6 standard errors off the exact value: above the limit 5, where a correct
    # estimator lands with probability ~2e-9; a limit loosened past 6 would accept it
    real = claim.experiment(False)[1].row(30, 40).errors
    monkeypatch.setattr(claim, "monte_carlo_errors",
                        lambda eigs, n, m, ks, reps, seed: ([float(real[0]) + 6 * 0.01, float(real[1]), float(real[2])],
                                                            [0.01, 1.0, 1.0]))
    assert_could_not_run("rem4.1", "experiment-finite-m",
                         mentions="routes disagree on the m = 40 experiment, Monte Carlo against the exact engine")


def test_step_thresholds_change_with_the_computation(monkeypatch, clear_caches):
    class Fake:
        def __init__(self, m0):
            self.m_threshold = m0

        def gain(self, m):
            return Fraction(-1) if m >= self.m_threshold else Fraction(1)
    values = iter([30, 20, 10, 30, 20, 10])
    monkeypatch.setattr(claim, "step_gain", lambda eigs, n, test, k: Fake(next(values)))
    result = run_part("rem4.1", "step-thresholds")
    assert result.statements[0].verdict == ledger.FAILS


def test_certified_k_star_contains_the_exact_window_minimum():
    exp = ot.lsa_experiment(10, (20, 30), (40,), normalisation="trace", k_max=7)
    for n in (20, 30):
        c = claim.certified_k_star(n, False)
        assert c["beyond_excluded"] and c["candidates"] == [exp.row(n, 40).k_star]


def test_n10_k_star_interval_excludes_the_exact_window():
    c = claim.certified_k_star(10, False)
    assert c["beyond_excluded"] and min(c["candidates"]) > 7
    lo, hi = c["best"]
    assert lo <= hi < ot.lsa_experiment(10, (10,), (40,), normalisation="trace", k_max=7).row(10, 40).err_star


def test_experiment_undecided_when_large_k_is_not_excluded(monkeypatch, clear_caches):
    real = claim.certified_k_star
    monkeypatch.setattr(claim, "certified_k_star", lambda n, full: {**real(n, full), "beyond_excluded": False})
    assert run_part("rem4.1", "experiment-finite-m").statements[0].verdict == ledger.OPEN


def test_experiment_exact_window_against_brackets(monkeypatch, clear_caches):
    real = claim.certified_k_star
    monkeypatch.setattr(claim, "certified_k_star", lambda n, full: {**real(n, full), "candidates": [5]})
    assert_could_not_run("rem4.1", "experiment-finite-m")


def test_experiment_order_change_fails_or_cannot_run(monkeypatch, clear_caches):
    real = claim.certified_k_star

    def swapped(n, full):
        out = dict(real(n, full))
        if n == 30:
            out["best"] = (Fraction(0), Fraction(1, 1000))
        return out
    monkeypatch.setattr(claim, "certified_k_star", swapped)
    # n = 30's best error "below 1/1000" is not what error_bracket finds at its k*: not confirmed
    assert_could_not_run("rem4.1", "experiment-finite-m")


def test_experiment_order_change_confirmed_is_a_failure(monkeypatch, clear_caches):
    # n = 10's best error allowed up to 100: no longer below n = 20's, so "larger n is worse"
    # fails, and error_bracket's lower bounds at each k* confirm the stated brackets
    real = claim.certified_k_star

    def loosened(n, full):
        out = dict(real(n, full))
        if n == 10:
            out["best"] = (out["best"][0], Fraction(100))
        return out
    monkeypatch.setattr(claim, "certified_k_star", loosened)
    (s,) = run_part("rem4.1", "experiment-finite-m").statements
    assert s.verdict == ledger.FAILS
    assert s.counterexample_route == "theory.bracket.error_bracket at each k* (trace bounds alone)"
    assert s.counterexample == (r"$k^* \in [13, 17], 3, 2$ and best errors $[0.02836, 100]$, $[1.444, 1.444]$, "
                                r"$[4.156, 4.156]$ for $n = 10, 20, 30$")


class _Row:
    def __init__(self, n, k_star, err_star, certified, behaviour="falls then rises", max_eig=1.0):
        self.n, self.k_star, self.err_star, self.certified = n, k_star, err_star, certified
        self.behaviour, self.max_eig = behaviour, max_eig
        self.errors = [Fraction(1)] * 3


class _Experiment:
    def __init__(self, rows):
        self.rows = rows

    def row(self, n, m=None):
        return self.rows[(n, m)]


def _experiment_with(finite_rows, limit_k_star=None):
    limit = {(n, None): _Row(n, limit_k_star, 0.0, False, "falls", 0.5) for n in claim.EXP_NS}
    unit = {(n, None): _Row(n, 1, 1.0, True, "rises from the start", 3.0) for n in claim.EXP_NS}
    finite = {(r.n, claim.EXP_M): r for r in finite_rows}
    return lambda full: (claim.EXP_WINDOW, _Experiment({**limit, **finite}), _Experiment(unit))


def _mc_exact(eigs, n, m, ks, reps, seed):
    return [1.0] * len(ks), [1.0] * len(ks)  # the fake exact errors are all 1: z = 0


def test_experiment_limit_disagreement_names_the_routes(monkeypatch, clear_caches):
    monkeypatch.setattr(claim, "experiment", _experiment_with([], limit_k_star=3))
    error = assert_could_not_run("rem4.1", "experiment-limit",
                                 mentions="routes disagree on the m = ∞ experiment").error
    assert "modal report: ['falls', 'falls', 'falls', 'rises from the start'" in error


def test_larger_n_error_at_large_k_disagreement(monkeypatch, clear_caches):
    real = claim.infinite_m_error_exact
    monkeypatch.setattr(claim, "infinite_m_error_exact",
                        lambda lam, n, sig, k: real(lam, n, sig, k) if k < 256 else Fraction(1))
    assert_could_not_run("rem4.1", "larger-n-diverges", mentions="routes disagree on the error at large k against n")


def test_k_star_not_growing_with_m_could_not_be_confirmed(monkeypatch, clear_caches):
    # k* falling with m in d = 1 would contradict the log-convexity argument; there is no second
    # route for it, so the part could not run.
    monkeypatch.setattr(claim, "cot_error_d1", lambda lam, n, k, m=None: Fraction(abs(k - 40 // m), 1) + 1)
    assert_could_not_run("rem4.1", "k-star-grows-with-m", mentions="exact closed form: does not confirm it")


def test_step_threshold_of_one_is_not_evaluated_at_m_zero(monkeypatch, clear_caches):
    # A pass that helps at every m has threshold 1: there is no m_0 - 1 = 0 to check it at (the
    # exact gain has no value there), so the confirmation skips it.
    class Fake:
        def __init__(self, m0):
            self.m_threshold = m0

        def gain(self, m):
            if m < 1:
                raise ZeroDivisionError("no test prompt of length 0")
            return Fraction(-1) if m >= self.m_threshold else Fraction(1)
    values = iter([1, 20, 10, 30, 20, 10])
    monkeypatch.setattr(claim, "step_gain", lambda eigs, n, test, k: Fake(next(values)))
    assert run_part("rem4.1", "step-thresholds").statements[0].verdict == ledger.FAILS


def test_full_tier_asks_for_more(monkeypatch, clear_caches):
    assert claim._survey_size(True) > claim._survey_size(False)
    asked = []
    monkeypatch.setattr(claim, "lsa_experiment", lambda d, ns, ms, normalisation, k_max=None: asked.append(
        (d, ns, ms, normalisation, k_max)) or normalisation)
    assert claim.experiment(False) == (claim.EXP_WINDOW, "trace", "unit")
    assert claim.experiment(True) == (10, "trace", "unit")
    assert asked == [(10, (10, 20, 30), (None, 40), "trace", claim.EXP_WINDOW),
                     (10, (10, 20, 30), (None,), "unit", None),
                     (10, (10, 20, 30), (None, 40), "trace", 10),
                     (10, (10, 20, 30), (None,), "unit", None)]


def test_k_star_ties_are_all_listed(monkeypatch, clear_caches):
    # err_k(m) = |2k − m − 1|: k* = m/2 grows with m, tied with m/2 + 1 at every m.
    monkeypatch.setattr(claim, "cot_error_d1", lambda lam, n, k, m=None: Fraction(abs(2 * k - m - 1)))
    (s,) = run_part("rem4.1", "k-star-grows-with-m").statements
    assert s.verdict == ledger.HOLDS
    assert (r"; exact ties: $m = 2$: $k \in \{1, 2\}$; $m = 4$: $k \in \{2, 3\}$; $m = 8$: $k \in \{4, 5\}$; "
            r"$m = 16$: $k \in \{8, 9\}$; $m = 32$: $k \in \{16, 17\}$; not proved for general $m$.") in s.evidence


def test_identity_survey_reaches_its_largest_k(monkeypatch, clear_caches):
    # a trace wrong only at k = 3, the survey's largest k: the identity fails there and is seen
    real = claim.remark41_trace_exact
    monkeypatch.setattr(claim, "remark41_trace_exact",
                        lambda lam, n, sig, k: real(lam, n, sig, k) + (1 if k == 3 else 0))
    id_fail, br_fail, *_ = claim.trace_identity_survey(2)
    assert id_fail == 2  # one wrong trace per problem, at k = 3 only
    assert_could_not_run("rem4.1", "trace-brackets", mentions="routes disagree on Remark 4.1's identity and bracket")


def test_full_tier_surveys_more_problems(monkeypatch, clear_caches):
    asked = []
    monkeypatch.setattr(claim, "trace_identity_survey", lambda count, k_max=3: asked.append(count) or (0, 0, 0, 0.5, 0))
    for full in (False, True):
        claim.trace_brackets(full)
        claim.trace_decides_growth(full)
    assert asked == [claim._survey_size(False)] * 2 + [claim._survey_size(True)] * 2
