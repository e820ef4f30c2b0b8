"""Claim ``prop4.3``: "the optimal π puts at least half its mass on hard tasks".

Four natural readings of "hard" fail with exact rational counterexamples (diagonal, so every
eigenvalue is exact) at the certified exact optimum, confirmed by exhaustive enumeration and mpmath
eigenvalues; the Markov reading ``σ_min(Λ_ℓ) <= 2(1 + δ)σ_min(Σ)`` holds for every selection (its
strict form fails for singular tasks and holds when ``1 + δ > 0``) with a sharp factor 2; for two
tasks ``π_hard >= 1/2`` iff the hard task alone is the better one.
"""

import dataclasses
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

from checks.conftest import assert_could_not_run, check_headline, check_part, part_ids, run_part
from theory import ledger
from theory.claims import prop4_3 as claim
from theory.scaling import rational_orthogonal
from theory.selection import (HARD_READINGS, hard_task_mass, select_tasks, selection_objective,
                              task_type_experiment, task_type_pool)


def test_headline():
    check_headline("prop4.3")


@pytest.mark.parametrize("part", part_ids("prop4.3"))
def test_part(part):
    check_part("prop4.3", part)


# ----------------------------------------------------------------------------- counterexamples

# Expected optima, by hand (diagonal tasks: f is a sum of squares per coordinate):
#  * Σ = I, tasks {I, diag(1, 1/2)}: task 0 equals Σ, f = 0 only at π = (1, 0).
#  * Σ = I, tasks {(11/10) I, (1/10) I}: (11/10)p + (1/10)(1 − p) = 1 at p = 9/10.
#  * Σ = diag(9/10, 1/10), tasks diag(17/20, 3/20), diag(99/100, 1/100): ratios (17/18, 3/2) and
#    (11/10, 1/10); minimising (−1/10 + (7/45)p)² + (9/10 − (7/5)p)² gives p = 9/14.
EXPECTED = {
    "pool-median-hardness": ((1, 0), Fraction(0)),
    "pool-median-sigma-min": ((1, 0), Fraction(0)),
    "harder-than-target-sigma-min": ((Fraction(9, 10), Fraction(1, 10)), Fraction(1, 10)),
    "harder-than-target-hardness": ((Fraction(9, 14), Fraction(5, 14)), Fraction(5, 14)),
}


@pytest.mark.parametrize("reading", sorted(claim.COUNTEREXAMPLES))
def test_counterexample_is_exact(reading):
    tasks, target = claim.COUNTEREXAMPLES[reading]
    sel = select_tasks(tasks, target)
    hm = hard_task_mass(sel.pi, tasks, target, reading)
    pi, mass = EXPECTED[reading]
    assert sel.certified and sel.unique and hm.exact
    assert tuple(sel.pi) == pi and hm.mass == mass < Fraction(1, 2)
    # second route: enumeration finds the same unique optimum, mpmath the same hard mass
    assert claim.enumerated_optimum(tasks, target) == pi
    assert claim.mp_hard_mass(pi, tasks, target, reading) == mass


def test_hardness_values_of_the_hardness_counterexample():
    tasks, target = claim.COUNTEREXAMPLES["harder-than-target-hardness"]
    hm = hard_task_mass([1, 0], tasks, target, "harder-than-target-hardness")
    # Hard = tr/λ_min: 1/(3/20) = 20/3 and 1/(1/100) = 100 against 1/(1/10) = 10
    assert hm.hardness == (Fraction(20, 3), Fraction(100)) and hm.target_hardness == 10
    assert hm.hard == (False, True)


def test_strict_markov_counterexample():
    # Σ = I₂, tasks diag(1, 0), diag(2, 0): f(π) = (1 − (p + 2(1 − p)))² + 1 is least at p = 1;
    # M(π*) = diag(1, 0), so δ = min eig(M − I) = −1 and the threshold 2(1 + δ)s is 0: no task has
    # σ_min = 0 strictly below it (hard mass 0), while "<=" counts both (mass 1)
    tasks, target = claim.STRICT_COUNTEREXAMPLE
    sel = select_tasks(tasks, target)
    assert tuple(sel.pi) == (1, 0) and sel.certified
    strict = hard_task_mass(sel.pi, tasks, target, "markov-strict")
    assert strict.delta == -1 and strict.sigma_min == (0, 0) and strict.mass == 0
    assert hard_task_mass(sel.pi, tasks, target, "markov").mass == 1
    assert claim.mp_hard_mass(sel.pi, tasks, target, "markov-strict") == 0


SINGULAR_TARGET = [3, 1, 2]
SINGULAR_TASKS = [[2, 0, 1], [5, 0, 3], [1, 0, Fraction(1, 2)]]


def test_own_singular_pool_breaks_the_strict_reading_for_every_pi():
    # Σ = diag(3, 1, 2): the bottom eigenspace is coordinate 2, where every task is 0, so
    # uᵀM(π)u = 0 and δ = −1 for every π: the strict reading has hard mass 0, "<=" has mass 1
    sel = select_tasks(SINGULAR_TASKS, SINGULAR_TARGET)
    for pi in (tuple(sel.pi), (Fraction(1, 3),) * 3, (0, 0, 1)):
        strict = hard_task_mass(pi, SINGULAR_TASKS, SINGULAR_TARGET, "markov-strict")
        assert strict.delta == -1 and strict.mass == 0 and not strict.holds
        assert hard_task_mass(pi, SINGULAR_TASKS, SINGULAR_TARGET, "markov").mass == 1


def test_own_singular_pool_rotated():
    # the same pool in a rational rotated basis (not diagonal): the float path of hard_task_mass and
    # the mpmath route agree that the strict reading fails and "<=" holds
    Q = rational_orthogonal([[0, Fraction(1, 2), -1], [Fraction(-1, 2), 0, Fraction(1, 3)],
                             [1, Fraction(-1, 3), 0]])

    def rot(eigs):
        return [[sum((Q[i, t] * eigs[t] * Q[j, t] for t in range(3)), Fraction(0)) for j in range(3)]
                for i in range(3)]

    tasks, target = [rot(t) for t in SINGULAR_TASKS], rot(SINGULAR_TARGET)
    pi = (Fraction(1, 2), Fraction(1, 4), Fraction(1, 4))
    assert claim.mp_hard_mass(pi, tasks, target, "markov-strict") == 0
    assert claim.mp_hard_mass(pi, tasks, target, "markov") == 1
    floats = ([np.array(t, dtype=float) for t in tasks], np.array(target, dtype=float))
    assert hard_task_mass([float(p) for p in pi], *floats, "markov-strict").mass == 0
    assert hard_task_mass([float(p) for p in pi], *floats, "markov").mass == pytest.approx(1.0, abs=1e-12)


def test_sharpness_family():
    fam = claim.sharpness_family()
    c = fam["c"]
    # by hand: ε = (2 − c)/4, h = (2 + c)/2; (1 − p)ε + ph = 1 gives p = (1 − ε)/(h − ε), so
    # 1 − p = (h − 1)/(h − ε) = (c/2)/((3c + 2)/4) = 2c/(3c + 2)
    assert sp.simplify(fam["mass"] - 2 * c / (3 * c + 2)) == 0
    assert fam["below_half"] == sp.Interval.Ropen(sp.Rational(2, 5), 2)
    inst = claim.sharpness_instances((Fraction(19, 10),))[0]
    # c = 19/10: ε = 1/40, h = 39/20, p = (39/40)/(77/40) = 39/77, mass 38/77 < 1/2
    assert inst["pi"] == (Fraction(38, 77), Fraction(39, 77)) and inst["delta"] == 0
    assert inst["mass"] == Fraction(38, 77) and inst["certified"]


# ----------------------------------------------------------------------------- the Markov reading

@st.composite
def diagonal_pools(draw, max_tasks=5, max_d=3):
    d = draw(st.integers(1, max_d))
    value = st.integers(0, 32).map(lambda v: Fraction(v, 8))
    tasks = draw(st.lists(st.lists(value, min_size=d, max_size=d), min_size=1, max_size=max_tasks))
    target = draw(st.lists(st.integers(1, 32).map(lambda v: Fraction(v, 8)), min_size=d, max_size=d))
    weights = draw(st.lists(st.integers(0, 4), min_size=len(tasks), max_size=len(tasks)))
    if sum(weights) == 0:
        weights[0] = 1
    return tasks, target, [Fraction(w, sum(weights)) for w in weights]


@given(diagonal_pools())
def test_markov_reading_holds_exactly(pool):
    tasks, target, random_pi = pool
    sel = select_tasks(tasks, target)
    for pi in (sel.pi, random_pi):
        hm = hard_task_mass(pi, tasks, target, "markov")
        assert hm.exact and hm.mass >= Fraction(1, 2)
        strict = hard_task_mass(pi, tasks, target, "markov-strict")
        assert strict.holds or 1 + strict.delta == 0
    # at the optimum |δ| <= ‖Σ^{-1}M − I‖_2 <= ‖·‖_F = √f*
    delta = hard_task_mass(sel.pi, tasks, target, "markov").delta
    assert delta * delta <= sel.objective


@given(diagonal_pools(max_tasks=3, max_d=2))
def test_mpmath_route_agrees_with_the_library(pool):
    tasks, target, pi = pool
    for reading in HARD_READINGS:
        assert claim.mp_hard_mass(pi, tasks, target, reading) == hard_task_mass(pi, tasks, target, reading).mass


@st.composite
def float_pools(draw, max_tasks=5, d=3):
    seed = draw(st.integers(0, 2**32 - 1))
    T = draw(st.integers(1, max_tasks))
    rng = np.random.default_rng(np.random.SeedSequence(seed))

    def wishart():
        A = rng.standard_normal((d, d + 1))
        return A @ A.T * draw(st.sampled_from([0.1, 1.0, 10.0]))

    return [wishart() for _ in range(T)], wishart() + 0.01 * np.eye(d)


@given(float_pools())
def test_markov_reading_holds_for_non_commuting_pools(pool):
    tasks, target = pool
    sel = select_tasks(tasks, target, exact=False)
    assert sel.certified
    assert hard_task_mass(sel.pi, tasks, target, "markov").mass >= 0.5


@pytest.mark.parametrize("reading", claim.NATURAL)
def test_hypothesis_finds_a_counterexample(reading):
    # hypothesis' own search (deterministic; generation only) finds a pool where the reading fails
    def fails(pool):
        tasks, target, _ = pool
        return not hard_task_mass(select_tasks(tasks, target).pi, tasks, target, reading).holds

    tasks, target, _ = find(diagonal_pools(), fails,
                            settings=settings(database=None, derandomize=True, max_examples=400,
                                              phases=[Phase.generate]))
    assert fails((tasks, target, None))


def test_natural_readings_fail_often_on_random_pools():
    out = claim.random_reading_search(30)
    assert out["fail_share"]["markov"] == 0 and out["fail_share"]["markov-strict"] == 0
    assert all(out["fail_share"][r] > 0 for r in claim.NATURAL)


def test_exact_search_contains_degenerate_cases():
    out = claim.exact_markov_search(8)
    # pools 0 and 4 are singular along the target's weakest coordinate: 1 + δ = 0 at both π
    assert out["singular"] == 2 and out["degenerate"] >= 4
    assert out["strict_fails_degenerate"] == out["degenerate"] and out["worst"]["markov"] >= Fraction(1, 2)


# ----------------------------------------------------------------------------- two tasks

@given(diagonal_pools(max_tasks=2))
def test_two_tasks_half_mass_iff_better_alone(pool):
    tasks, target, _ = pool
    if len(tasks) < 2:
        tasks = tasks + [[Fraction(1)] * len(target)]
    sel = select_tasks(tasks, target)
    f0 = selection_objective([1, 0], tasks, target)
    f1 = selection_objective([0, 1], tasks, target)
    assert (sel.pi[1] >= Fraction(1, 2)) == (f1 <= f0)


def test_two_task_certificate():
    assert claim.two_task_certificate()


# ----------------------------------------------------------------------------- task types

def test_task_type_experiment_default_seed():
    # Reference outcome of task_type_experiment(0) (d = 100, 5 tasks per type, trace-normalised),
    # computed with this code: target diag(1/i) puts most mass on Hard-Long, then Hard-Short, and
    # none on the easy types; the isotropic target reverses it (Easy-Long takes almost everything).
    power = task_type_experiment(0)
    assert power.certified and power.type_mass.sum() == pytest.approx(1.0, abs=1e-12)
    assert power.ranking[:2] == ("Hard-Long", "Hard-Short")
    assert power.type_mass[[0, 2]].max() < 1e-9
    iso = task_type_experiment(0, target="isotropic")
    assert iso.certified and iso.ranking[0] == "Easy-Long" and iso.type_mass[2] > 0.9


def test_task_type_pool_is_the_experiment_pool():
    spectra, kinds, sigma = task_type_pool(3, tasks_per_type=2)
    exp = task_type_experiment(3, tasks_per_type=2)
    assert list(kinds) == list(exp.task_type) and len(sigma) == exp.d
    np.testing.assert_array_equal([s.min() for s in spectra], exp.sigma_min)
    # the same QP on the same pool gives the same selection
    np.testing.assert_array_equal(select_tasks(spectra, sigma, exact=False).pi, exp.pi)


@pytest.mark.slow
@settings(max_examples=300)
@given(float_pools(max_tasks=8, d=4))
def test_markov_reading_heavy(pool):
    tasks, target = pool
    sel = select_tasks(tasks, target, exact=False)
    assert hard_task_mass(sel.pi, tasks, target, "markov").mass >= 0.5


# --- the verdict logic can fail -----------------------------------------------------------------

#: A pool on which every natural reading holds at the optimum: Σ = I, tasks {I/2, 3I/2} (p = 1/2):
#: every task is "hard" under each reading except Hard >= Hard(Σ) (= 2 for both, so both hard).
HOLDING = ([[Fraction(1, 2)] * 2, [Fraction(3, 2)] * 2], [1, 1])


def _no_float_failures(pools, seed=0, T=4, d=3):
    return {"pools": pools, "fail_share": {r: 0.0 for r in HARD_READINGS},
            "first": {r: None for r in HARD_READINGS}, "worst": {r: 1.0 for r in HARD_READINGS}}


@pytest.mark.parametrize("reading", claim.NATURAL)
def test_natural_reading_holds_without_a_counterexample(monkeypatch, clear_caches, reading):
    monkeypatch.setitem(claim.COUNTEREXAMPLES, reading, HOLDING)
    monkeypatch.setattr(claim, "random_reading_search", _no_float_failures)
    result = run_part("prop4.3", reading)
    assert result.error is None and result.statements[0].verdict == ledger.HOLDS


@pytest.mark.parametrize("reading", claim.NATURAL)
def test_natural_counterexample_needs_the_second_route(monkeypatch, clear_caches, reading):
    # mpmath sees at least half the mass on hard tasks: the failure is not confirmed
    monkeypatch.setattr(claim, "mp_hard_mass", lambda *a: Fraction(1))
    assert_could_not_run("prop4.3", reading)


def test_natural_reading_fails_from_the_float_search(monkeypatch, clear_caches):
    # the fixed instance holds, but a float pool of the search fails: confirmed by mpmath
    tasks, target = claim.COUNTEREXAMPLES["harder-than-target-sigma-min"]
    monkeypatch.setitem(claim.COUNTEREXAMPLES, "harder-than-target-sigma-min", HOLDING)
    found = ([np.array(np.diag([float(v) for v in t])) for t in tasks], np.diag([1.0, 1.0]), (0.9, 0.1))
    search = _no_float_failures(100)
    search["first"]["harder-than-target-sigma-min"] = found
    monkeypatch.setattr(claim, "random_reading_search", lambda pools, seed=0, T=4, d=3: search)
    result = run_part("prop4.3", "harder-than-target-sigma-min")
    assert result.error is None and result.statements[0].verdict == ledger.FAILS


def test_tie_tolerance_keeps_genuine_gaps(monkeypatch):
    # σ_min = 1 + 10^-20 against s = 1 is a genuine (exact rational) gap, far above TIE_RTOL = 1e-30
    # and far below what a loosened tolerance (1e-15, float-like) would merge into a tie: the task
    # is not "σ_min <= s"
    eps = Fraction(1, 10 ** 20)
    tasks, target = [[1 + eps, 1 + eps]], [1, 1]
    assert claim.mp_hard_mass([1], tasks, target, "harder-than-target-sigma-min") == 0
    assert hard_task_mass([1], tasks, target, "harder-than-target-sigma-min").mass == 0


def test_strict_reading_holds_on_a_nonsingular_instance(monkeypatch, clear_caches):
    monkeypatch.setattr(claim, "STRICT_COUNTEREXAMPLE", HOLDING)
    search = claim.exact_markov_search(4)
    monkeypatch.setattr(claim, "exact_markov_search",
                        lambda pools, seed=0: {**search, "first": {**search["first"], "markov-strict": None}})
    result = run_part("prop4.3", "markov-strict")
    assert result.error is None and result.statements[0].verdict == ledger.HOLDS


def test_strict_counterexample_needs_the_second_route(monkeypatch, clear_caches):
    monkeypatch.setattr(claim, "mp_hard_mass", lambda *a: Fraction(1))
    assert_could_not_run("prop4.3", "markov-strict")


def _search_with(key, found):
    real = claim.exact_markov_search(4)
    return lambda pools, seed=0: {**real, "first": {**real["first"], key: found}}


FAKE_FAILURE = ([[1, 1], [2, 2]], [1, 1], (Fraction(1, 2), Fraction(1, 2)), Fraction(0))


@pytest.mark.parametrize("part, key", [("markov", "markov"), ("markov-strict-nondegenerate", "nondegenerate")])
def test_markov_search_failure_needs_the_second_route(monkeypatch, clear_caches, part, key):
    # the search reports hard mass 0 at π = (1/2, 1/2) on Σ = I, tasks {I, 2I}; mpmath finds
    # M(π) = (3/2)I, δ = 1/2, threshold 3 >= both σ_min: mass 1, so the failure is not confirmed
    monkeypatch.setattr(claim, "exact_markov_search", _search_with(key, FAKE_FAILURE))
    assert_could_not_run("prop4.3", part)


@pytest.mark.parametrize("part, key", [("markov", "markov"), ("markov-strict-nondegenerate", "nondegenerate")])
def test_markov_fails_with_a_confirmed_counterexample(monkeypatch, clear_caches, part, key):
    monkeypatch.setattr(claim, "exact_markov_search", _search_with(key, FAKE_FAILURE))
    monkeypatch.setattr(claim, "mp_hard_mass", lambda *a: Fraction(0))
    result = run_part("prop4.3", part)
    assert result.error is None and result.statements[0].verdict == ledger.FAILS


def test_markov_failures_move_the_headline(monkeypatch, clear_caches):
    parts = list(claim.NATURAL) + ["markov-strict", "markov", "markov-strict-nondegenerate"]
    assert ledger.run_claim("prop4.3", only=parts).verdict == ledger.CONDITIONAL
    # every condition fails (confirmed): nothing is left to hold, the claim is refuted
    real = claim.exact_markov_search(4)
    monkeypatch.setattr(claim, "exact_markov_search", lambda pools, seed=0: {
        **real, "first": {"markov": FAKE_FAILURE, "markov-strict": FAKE_FAILURE, "nondegenerate": FAKE_FAILURE}})
    monkeypatch.setattr(claim, "mp_hard_mass", lambda *a: Fraction(0))
    assert ledger.run_claim("prop4.3", only=parts).verdict == ledger.REFUTED
    # every natural reading holds: confirmed
    monkeypatch.undo()
    for reading in claim.NATURAL:
        monkeypatch.setitem(claim.COUNTEREXAMPLES, reading, HOLDING)
    monkeypatch.setattr(claim, "random_reading_search", _no_float_failures)
    assert ledger.run_claim("prop4.3", only=parts).verdict == ledger.CONFIRMED


def test_sharp_routes_disagree(monkeypatch, clear_caches):
    real = claim.sharpness_family()
    monkeypatch.setattr(claim, "sharpness_family", lambda: {**real, "below_half": sp.S.EmptySet})
    assert_could_not_run("prop4.3", "sharp")


def test_sharp_instance_against_formula(monkeypatch, clear_caches):
    real = claim.sharpness_instances()
    monkeypatch.setattr(claim, "sharpness_instances", lambda: [{**real[0], "mass": Fraction(1, 2)}] + real[1:])
    assert_could_not_run("prop4.3", "sharp")


def test_sharp_is_undecided_when_the_family_does_not_show_it(monkeypatch, clear_caches):
    # both routes agree that the family leaves half the mass below the factor: no verdict either way
    fam, inst = claim.sharpness_family(), claim.sharpness_instances()
    monkeypatch.setattr(claim, "sharpness_family",
                        lambda: {**fam, "below_half": sp.S.EmptySet, "mass": sp.Rational(1, 2)})
    monkeypatch.setattr(claim, "sharpness_instances", lambda: [{**i, "mass": Fraction(1, 2)} for i in inst])
    result = run_part("prop4.3", "sharp")
    assert result.error is None and result.statements[0].verdict == ledger.OPEN


def test_delta_bound_failure_needs_the_enumeration(monkeypatch, clear_caches):
    # the search claims δ² > f* at Σ = I, tasks {I}: enumeration finds f* = 0 with δ = 0
    real = claim.exact_markov_search(4)
    fake = ([[1, 1]], [1, 1], (Fraction(1),), Fraction(1, 2), Fraction(0))
    monkeypatch.setattr(claim, "exact_markov_search", lambda pools, seed=0: {**real, "delta_first": fake})
    assert_could_not_run("prop4.3", "delta-bound")


def test_two_tasks_certificate_against_pairs(monkeypatch, clear_caches):
    fake = ([[1], [2]], [1], (Fraction(1), Fraction(0)), Fraction(1), Fraction(0))
    monkeypatch.setattr(claim, "two_task_characterisation", lambda pools, seed=0: {"pools": 1, "agree": 0,
                                                                                   "first": fake})
    assert_could_not_run("prop4.3", "two-tasks")


def test_two_tasks_failure_needs_the_enumeration(monkeypatch, clear_caches):
    # Σ = 1, tasks {1, 2}: the optimum is e_1 with f(e_1) = 0 < f(e_2) = 1, consistent; a pair
    # reported as inconsistent is refuted by enumeration, so the failure is not confirmed
    fake = ([[1], [2]], [1], (Fraction(0), Fraction(1)), Fraction(0), Fraction(1))
    monkeypatch.setattr(claim, "two_task_certificate", lambda: False)
    monkeypatch.setattr(claim, "two_task_characterisation", lambda pools, seed=0: {"pools": 1, "agree": 0,
                                                                                   "first": fake})
    assert_could_not_run("prop4.3", "two-tasks")


def _task_types_with(power_mass, iso_mass, scipy_shift=0.0):
    real = claim.task_types(2)

    def runs(tpt):
        out = {}
        for target, mass in (("power", power_mass), ("isotropic", iso_mass)):
            exp = dataclasses.replace(real[target]["exp"], type_mass=np.array(mass, dtype=float))
            out[target] = {"exp": exp, "scipy_mass": [m + scipy_shift for m in mass]}
        return out
    return runs


def test_task_types_fail_when_the_easy_types_lead(monkeypatch, clear_caches):
    # type order (Easy-Short, Hard-Short, Easy-Long, Hard-Long): Easy-Long leads for diag(1/i)
    monkeypatch.setattr(claim, "task_types", _task_types_with([0.1, 0.2, 0.6, 0.1], [0.1, 0.1, 0.7, 0.1]))
    result = run_part("prop4.3", "task-types")
    assert result.error is None and result.statements[0].verdict == ledger.FAILS


def test_task_type_mass_tolerance(monkeypatch, clear_caches):
    # SLSQP 1e-4 away from the certified QP on every type: ten times TYPE_MASS_ATOL and 300 times
    # the measured gap; a tolerance loosened past it would hide a solver stopping short
    monkeypatch.setattr(claim, "task_types", _task_types_with([0.0, 0.1, 0.0, 0.9], [0.0, 0.0, 1.0, 0.0],
                                                              scipy_shift=1e-4))
    assert_could_not_run("prop4.3", "task-types")
