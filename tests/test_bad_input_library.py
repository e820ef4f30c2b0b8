"""Silent wrong results and valid input refused, at the library boundary (one test per class).

Each class: a tiny-scale indefinite covariance accepted; a covariance built in floating point
refused; an ill-conditioned or degenerate input reported as certified (NaN, overflow, a constant
curve called decreasing); a default call that hangs; an empty array reduced after filtering; a
non-boolean taken as a flag.
"""

import itertools
from fractions import Fraction

import numpy as np
import pytest

import theory
from theory._exact import psd_violation
from theory._validate import as_covariance, as_exact_covariance
from theory.overthinking import infinite_m_error_exact, overthinking_report
from theory.selection import select_tasks, selection_objective


def _rotation(d, seed):
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))
    return q


def _float_built_singular(seed=0):
    """``Q D Qᵀ`` with a zero eigenvalue, assembled in floats: neither exactly symmetric nor PSD."""
    q = _rotation(6, seed)
    return q @ np.diag([3.0, 2.0, 1.0, 0.5, 0.1, 0.0]) @ q.T


# ----------------------------------------------------------------------------- 1. scale-free PSD

@pytest.mark.parametrize("call", [
    lambda: theory.cot_error([[1e-12, 1e-11], [1e-11, 1e-12]], 10, 1),
    lambda: theory.gamma([-1e-11], 10),
    lambda: theory.cot_error([-1e-11, 1e-12], 10, 1, m=5),
    lambda: overthinking_report([1e-12, -5e-11], 10, [1, 1]),
])
def test_tiny_indefinite_training_covariance_is_refused(call):
    with pytest.raises(ValueError, match="train_cov must be positive semi-definite"):
        call()


@pytest.mark.parametrize("scale", [1e-300, 1e-20, 1e-12, 1.0, 1e12, 1e200])
def test_psd_decision_is_scale_free(scale):
    # eigenvalues 3 and -1: indefinite at every scale; the PSD matrix accepted at every scale
    indefinite = scale * np.array([[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(ValueError, match="test_cov must be positive semi-definite"):
        as_covariance(indefinite, "test_cov")
    with pytest.raises(ValueError, match="test_cov must be positive semi-definite"):
        as_exact_covariance(indefinite, "test_cov")
    psd = scale * _float_built_singular()
    assert as_covariance(psd).shape == (6, 6)
    assert as_exact_covariance(psd).shape == (6, 6)


def test_psd_tolerance_fails_if_loosened():
    # λ_min = -1e-8 λ_max, rotated so that the decision is the eigenvalue test's: accepted by any
    # tolerance >= 1e-8 (e.g. 1e-2), refused by PSD_RTOL = 1e-10.
    q = _rotation(3, 1)
    cov = q @ np.diag([1.0, 0.5, -1e-8]) @ q.T
    with pytest.raises(ValueError, match="eigenvalue -1e-08"):
        as_covariance(cov, "cov")
    with pytest.raises(ValueError, match="positive semi-definite"):
        as_exact_covariance(cov, "cov")


def test_psd_tolerance_fails_if_tightened_below_float_noise():
    # Singular PSD matrices assembled in floats: about half show a computed λ_min < 0, at float
    # noise (~1e-16 ‖C‖); all must be accepted, so a tolerance below that noise fails here.
    noisy = 0
    for seed in range(20):
        cov = _float_built_singular(seed)
        lam_min = np.linalg.eigvalsh((cov + cov.T) / 2)[0]
        noisy += lam_min < 0
        assert -lam_min < 1e-15 * 3
        assert np.allclose(as_covariance(cov), cov, rtol=0, atol=1e-15)
        as_exact_covariance(cov)
    assert noisy >= 3


def test_symmetry_tolerance_is_scale_free_both_ways():
    cov = _float_built_singular()
    asym = np.max(np.abs(cov - cov.T))
    assert 0 < asym <= 1e-15  # built in floats: not exactly symmetric
    for scale in (1e-30, 1.0, 1e30):
        as_covariance(scale * cov)
        skew = scale * np.array([[1.0, 1e-8], [0.0, 1.0]])  # relative asymmetry 1e-8 > 1e-10
        with pytest.raises(ValueError, match="must be symmetric"):
            as_covariance(skew, "cov")


def test_zero_covariance_is_valid():
    assert not np.any(as_covariance(np.zeros((3, 3))))
    assert all(v == 0 for v in as_exact_covariance([0.0, 0.0]).flat)
    assert all(v == 0 for v in as_exact_covariance([0, 0]).flat)


def test_exact_input_is_decided_exactly():
    eps = Fraction(1, 10 ** 30)
    # floats cannot see the difference (1 - 1e-30 rounds to 1): only the exact test refuses it
    with pytest.raises(ValueError, match="decided exactly"):
        as_covariance([[Fraction(1), Fraction(1)], [Fraction(1), 1 - eps]], "cov")
    with pytest.raises(ValueError, match="decided exactly"):
        as_exact_covariance([[Fraction(1), Fraction(1)], [Fraction(1), 1 - eps]], "cov")
    as_exact_covariance([[Fraction(1), Fraction(1)], [Fraction(1), 1 + eps]])
    as_exact_covariance([[1, 1], [1, 1]])  # singular PSD
    with pytest.raises(ValueError, match="decided exactly"):
        as_exact_covariance([[0, 1], [1, 0]])  # zero diagonal, nonzero row


def test_exact_input_beyond_the_float_range_is_refused_by_float_functions():
    with pytest.raises(ValueError, match="cov has entries beyond the float range"):
        as_covariance([10 ** 400, 1], "cov")
    assert as_exact_covariance([10 ** 400, 1])[0, 0] == 10 ** 400


def _psd_by_principal_minors(A) -> bool:
    """Independent route: a symmetric matrix is PSD iff every principal minor is >= 0."""
    import sympy
    d = len(A)
    for r in range(1, d + 1):
        for idx in itertools.combinations(range(d), r):
            if sympy.Matrix([[A[i][j] for j in idx] for i in idx]).det() < 0:
                return False
    return True


def test_exact_psd_agrees_with_principal_minors():
    rng = np.random.default_rng(20261203)
    decided = {True: 0, False: 0}
    for _ in range(300):
        d = int(rng.integers(1, 5))
        B = rng.integers(-2, 3, size=(d, int(rng.integers(1, d + 1))))
        A = B @ B.T - int(rng.integers(0, 2)) * np.diag(rng.integers(0, 2, size=d))
        A = [[Fraction(int(v), 3) for v in row] for row in A]
        psd = _psd_by_principal_minors(A)
        decided[psd] += 1
        assert (psd_violation(A) is None) == psd, A
    assert min(decided.values()) >= 30  # both answers exercised


# ----------------------------------------------------------------------------- 2. float-built input accepted

def test_float_built_covariance_is_accepted_and_symmetrised_exactly():
    cov = _float_built_singular(3)
    pairs = [(i, j) for i in range(6) for j in range(i + 1, 6) if cov[i, j] != cov[j, i]]
    assert pairs  # the rounding made it asymmetric
    out = as_exact_covariance(cov)
    for i, j in pairs:
        assert out[i, j] == out[j, i] == (Fraction(cov[i, j]) + Fraction(cov[j, i])) / 2
    assert out[0, 0] == Fraction(cov[0, 0])
    # the exact engine takes it (it refused it before: "entry (0, 1) = ... differs from ...")
    assert theory.cot_error(np.eye(6), 10, 1, test_cov=cov) > 0


def test_exact_input_stays_checked_exactly_for_symmetry():
    with pytest.raises(ValueError, match=r"test_cov must be symmetric: entry \(0, 1\)"):
        as_exact_covariance([[Fraction(1), Fraction(1, 3)], [Fraction(1, 3) + Fraction(1, 10 ** 40), 1]],
                            "test_cov")


# ----------------------------------------------------------------------------- 3. overthinking certified

def test_ill_conditioned_overthinking_is_exact_and_finite():
    lam, n, sig = [1, 1e-6, 1e-12], 10, [1, 1, 1]
    report = overthinking_report(lam, n, sig)
    exact = [infinite_m_error_exact(lam, n, sig, k) for k in (1, 2, 3)]
    assert exact[0] < exact[1] < exact[2]
    assert (report.k_star, report.behaviour, report.certified) == (1, "rises from the start", True)
    assert report.err_star == float(exact[0])
    assert np.all(np.isfinite(report.errors)) and np.isfinite(report.err_star)


def test_overflowing_errors_never_reach_the_report():
    # μ ≈ 4e15: ρ^{2k} leaves the float range at k ≈ 10; the scan is in logarithms
    report = overthinking_report([1e-8, 1e-8], 10, [1e8, 1.0])
    assert report.k_star == 1 and report.certified
    assert np.all(np.isfinite(report.errors)) and np.isfinite(report.err_star)
    assert report.err_star == float(infinite_m_error_exact([1e-8, 1e-8], 10, [1e8, 1.0], 1))
    assert not np.any(np.isnan(list(report.as_dict()["errors"])))


def test_own_near_degenerate_top_eigenvalues():
    lam, n, sig = [1, 1e-8, 1e-13], 5, [1, 1, 1]
    report = overthinking_report(lam, n, sig)
    exact = [infinite_m_error_exact(lam, n, sig, k) for k in range(1, 8)]
    assert report.certified and report.k_star == 1 + min(range(7), key=lambda i: (exact[i], i))


def test_certified_only_when_the_exact_certificate_holds(monkeypatch):
    import sys
    ot = sys.modules["theory.overthinking"]
    lam, n, sig = [1, 1e-6, 1e-12], 10, [1, 1, 1]
    monkeypatch.setattr(ot, "EXACT_STEPS", 1)  # the exact tail bound needs two steps here
    assert not ot.overthinking_report(lam, n, sig).certified
    monkeypatch.setattr(ot, "EXACT_STEPS", 2)
    assert ot.overthinking_report(lam, n, sig).certified


@pytest.mark.parametrize("lam, n, sig, value", [
    ([1, 2], 10, [0, 0], 2),                                                   # Σ = 0: M = I
    ([Fraction(1), Fraction(2)], 3, [Fraction(14, 3), Fraction(22, 3)], 2),   # Σ = 2Γ: M = −I
    ([Fraction(1), Fraction(2)], 3, [Fraction(7, 3), Fraction(11, 3)], 0),    # Σ = Γ: M = 0
    ([1, 2, 4], 7, [0, 0, 0], 3),
])
def test_constant_curves_are_labelled_constant(lam, n, sig, value):
    # at finite m only Σ = 0 keeps the curve constant (Ŝ_m = 0); otherwise Ŝ_m ≠ Σ moves it
    for m in (None, 5) if not any(sig) else (None,):
        report = overthinking_report(lam, n, sig, m=m, k_max=3)
        assert report.behaviour == "constant" and report.k_star == 1 and report.first_rise is None
        assert report.err_star == value and report.certified
        assert np.all(report.errors == value)


# ----------------------------------------------------------------------------- 4. no hang at finite m

def test_default_finite_m_call_is_bounded_and_explicit_windows_are_costed():
    import time
    lam = 1 / np.arange(1, 11)
    lam = lam * 10 / lam.sum()
    rng = np.random.default_rng(7)
    q = _rotation(10, 7)
    sig = q @ np.diag(rng.uniform(0.5, 1.5, 10)) @ q.T
    with pytest.raises(ValueError, match=r"k_max = 30 at finite m would cost about .* max_seconds=None"):
        overthinking_report(lam, 30, sig, m=40, k_max=30)
    start = time.perf_counter()
    report = overthinking_report(lam, 30, sig, m=40)
    assert time.perf_counter() - start < 120  # hang guard; the default window is costed at ~2 s
    assert len(report.errors) >= 2 and np.all(np.isfinite(report.errors))


@pytest.mark.parametrize("kwargs, match", [
    ({"k_max": 0}, "k_max must be an integer >= 2"),
    ({"k_max": -3}, "k_max must be an integer >= 2"),
    ({"k_max": 1.5}, "k_max must be an integer"),
    ({"m": 5, "k_max": 3, "max_seconds": "x"}, "max_seconds must be a finite positive number"),
    ({"m": 5, "k_max": 3, "max_seconds": 0}, "max_seconds must be a finite positive number"),
])
def test_overthinking_arguments_are_validated_at_every_m(kwargs, match):
    with pytest.raises(ValueError, match=match):
        overthinking_report([1, 2], 10, [1, 1], **kwargs)


# ----------------------------------------------------------------------------- 5. selection

@pytest.mark.parametrize("seed", [5, 28, 36, 123, 154, 11])
def test_rotated_ill_conditioned_target_enumerates_its_optimal_set(seed):
    # Σ = Q diag(1.93, 1.06e-9) Qᵀ (κ ≈ 1.8e9) and tasks Q diag(u_ℓ λ) Qᵀ: Σ^{-1}Λ_ℓ = Q diag(u_ℓ) Qᵀ
    # carries float error ~ κ·2^-53 ≈ 1e-7 relative, which a rank tolerance of 1e-9 read as rank;
    # every basis of the optimal face was then refused and an empty array reached a max().
    # seeds 5, 28, 36, 123, 154 raised "zero-size array to reduction operation maximum" before
    rng = np.random.default_rng(seed)
    q = _rotation(2, seed)
    ev = np.array([1.93212030, 1.06229132e-9])
    sigma = q @ np.diag(ev) @ q.T
    tasks = [q @ np.diag(ev * rng.uniform(0.5, 2, 2)) @ q.T for _ in range(5)]
    sel = select_tasks(tasks, sigma)
    assert sel.certified and np.isclose(sel.pi.sum(), 1, rtol=0, atol=1e-12)
    best = min(selection_objective(np.eye(5)[j], tasks, sigma) for j in range(5))
    assert sel.objective <= best + 1e-9 * max(1.0, best)
    if sel.vertices is not None:
        for v in sel.vertices:
            assert selection_objective(v, tasks, sigma) <= sel.objective + 1e-6


def test_selection_is_scale_free():
    rng = np.random.default_rng(3)
    tasks = [rng.uniform(0.1, 2, 3) for _ in range(4)]
    sigma = np.array([1.0, 2.0, 3.0])
    ref = select_tasks(tasks, sigma).pi
    for scale in (1e-20, 1e20):
        assert np.allclose(select_tasks([t * scale for t in tasks], sigma * scale).pi, ref, rtol=0, atol=1e-9)
    for scale in (1e-20, 1.0, 1e20):  # κ(Σ) = 1e13 is refused at every scale
        with pytest.raises(ValueError, match="target_cov must be positive definite"):
            select_tasks([t[:2] for t in tasks], np.array([1.0, 1e-13]) * scale)


@pytest.mark.parametrize("flag", ["yes", 1, 0, "False", 1.0])
def test_exact_flag_must_be_a_boolean(flag):
    with pytest.raises(ValueError, match="exact must be True, False or None"):
        select_tasks([[1, 2]], [1, 1], exact=flag)


def test_exact_flag_accepts_booleans():
    assert select_tasks([[1, 2]], [1, 1], exact=np.bool_(True)).exact
    assert not select_tasks([[1, 2]], [1, 1], exact=False).exact



# ----------------------------------------------------------------------------- selection at extreme scales

_SEL_TASKS = [np.array([1.0, 3.0]), np.array([2.0, 1.0])]


@pytest.mark.parametrize("scale", [1e-300, 1e-16, 1e300])
def test_selection_qp_is_jointly_scale_free_to_the_float_range(scale):
    # Σ^{-1}Λ_ℓ is unchanged by one common scale: same π as at scale 1 (atol 1e-12: the active-set
    # solve of a 2-task face, condition < 10), certified
    ref = select_tasks(_SEL_TASKS, np.ones(2)).pi
    sel = select_tasks([t * scale for t in _SEL_TASKS], np.ones(2) * scale)
    assert sel.certified and np.allclose(sel.pi, ref, rtol=0, atol=1e-12)


@pytest.mark.parametrize("tasks, target", [([t * 1e300 for t in _SEL_TASKS], np.ones(2)),
                                           (_SEL_TASKS, np.ones(2) * 1e-300)])
def test_selection_qp_beyond_the_float_range_is_refused(tasks, target):
    # Σ^{-1}Λ_ℓ ~ 1e300, so Q ~ 1e600: a ValueError naming the arguments, not inf in Q or an SVD failure
    with pytest.raises(ValueError, match="task_covs and target_cov: the QP's Q"):
        theory.selection_qp(tasks, target)
    with pytest.raises(ValueError, match="task_covs and target_cov"):
        select_tasks(tasks, target)


@pytest.mark.parametrize("scale", [1e-300, 1e300])
def test_mixture_preconditioner_scales_as_one_over_the_tasks(scale):
    # P(cΛ) = P(Λ)/c exactly in exact arithmetic; rtol 1e-13 for the float route (one 2×2 solve)
    ref = theory.mixture_preconditioner(_SEL_TASKS, [0.5, 0.5], 5)
    P = theory.mixture_preconditioner([t * scale for t in _SEL_TASKS], [0.5, 0.5], 5)
    assert np.allclose(P * scale, ref, rtol=1e-13, atol=0)


@pytest.mark.parametrize("m", [None, 10])
@pytest.mark.parametrize("scale", [1e-300, 1e300])
def test_mixture_cot_error_is_jointly_scale_free(scale, m):
    # err_k depends on P(π)Σ only (rtol 1e-12: a few float operations of relative error ~1e-16)
    ref = theory.mixture_cot_error(_SEL_TASKS, [0.3, 0.7], 5, [1.0, 0.5], 2, m=m)
    err = theory.mixture_cot_error([t * scale for t in _SEL_TASKS], [0.3, 0.7], 5,
                                   np.array([1.0, 0.5]) * scale, 2, m=m)
    assert np.isclose(err, ref, rtol=1e-12, atol=0)


def test_true_optimal_selection_at_extreme_scales():
    ref = theory.true_optimal_selection(_SEL_TASKS, [1.0, 1.0], 5, 1, resolution=4)
    tiny = theory.true_optimal_selection([t * 1e-300 for t in _SEL_TASKS], [1e-300, 1e-300], 5, 1,
                                         resolution=4)
    assert np.allclose(tiny.pi, ref.pi, rtol=0, atol=1e-9) and np.isclose(tiny.error, ref.error, rtol=1e-9)
    # Σ ~ 1e300 against tasks ~ 1: err_1 ~ 1e600 at every π, beyond the float range
    with pytest.raises(ValueError, match="task_covs and target_cov: err_k .* beyond the float range"):
        theory.true_optimal_selection(_SEL_TASKS, [1e300, 1e300], 5, 1, resolution=4)
    with pytest.raises(ValueError, match=r"task_covs\[0\] and task_covs\[1\] must have the same dimension"):
        theory.true_optimal_selection([[1.0, 2.0], [1.0, 2.0, 3.0]], [1.0, 1.0], 5, 1)


@pytest.mark.parametrize("pi, match", [([True, False], r"pi\[0\] must be a real number"),
                                       ([float("nan"), 1.0], r"pi\[0\] must be finite"),
                                       (["a", "b"], r"pi\[0\] must be a real number"),
                                       ([1.0], "pi must have one entry per task")])
def test_selection_weights_are_numbers(pi, match):
    for call in (lambda: theory.mixture_preconditioner(_SEL_TASKS, pi, 5),
                 lambda: theory.mixture_cot_error(_SEL_TASKS, pi, 5, [1.0, 1.0], 1),
                 lambda: theory.hard_task_mass(pi, _SEL_TASKS, [1.0, 1.0], "markov")):
        with pytest.raises(ValueError, match=match):
            call()


def test_hard_task_mass_is_scale_free_in_the_tasks():
    # tasks of scale 1e-300 are not singular: σ_min = 1e-300, Hard = 3, and the Markov reading sees
    # σ_min <= 2(1 + δ)s = 2uᵀMu = 3e-300 (1 + δ is not formed: it cancels to 0 in floats)
    tasks = [[1e-300, 2e-300], [2e-300, 1e-300]]
    hm = theory.hard_task_mass([0.5, 0.5], tasks, [1.0, 1.0], "markov")
    assert np.allclose(hm.hardness, 3.0, rtol=1e-12) and hm.hard == (True, True) and hm.holds
    with pytest.raises(ValueError, match="target_cov must be positive definite"):
        theory.hard_task_mass([0.5, 0.5], [[1.0, 2.0], [2.0, 1.0]], [1.0, 0.0], "markov")
    with pytest.raises(ValueError, match="target_cov must be positive definite"):
        theory.hard_task_mass([Fraction(1, 2)] * 2, [[1, 2], [2, 1]], [0, 0], "markov")


@pytest.mark.parametrize("fn", ["qp_vs_uniform", "qp_vs_true_error"])
def test_qp_comparisons_validate_their_lists(fn):
    small = dict(pools=1, T=2, d=2, ns=(5,), ks=(1,))
    for name in ("ns", "ks"):
        with pytest.raises(ValueError, match=f"{name} must contain at least one integer"):
            getattr(theory, fn)(0, **{**small, name: []})
        with pytest.raises(ValueError, match=f"{name} must be a list of integers"):
            getattr(theory, fn)(0, **{**small, name: "1"})
    assert getattr(theory, fn)(0, **{**small, "T": 2.0}).T == 2


@pytest.mark.parametrize("fn", ["task_type_pool", "task_type_experiment"])
@pytest.mark.parametrize("flag", ["yes", None, 1])
def test_task_type_normalise_must_be_a_boolean(fn, flag):
    with pytest.raises(ValueError, match="normalise must be True or False"):
        getattr(theory, fn)(0, tasks_per_type=1, d=100, normalise=flag)


def test_selection_objective_and_scipy_route_at_the_edges():
    ref = selection_objective([0.3, 0.7], _SEL_TASKS, [1.0, 1.0])
    tiny = selection_objective([0.3, 0.7], [t * 1e-300 for t in _SEL_TASKS], [1e-300, 1e-300])
    assert np.isclose(tiny, ref, rtol=1e-13, atol=0)  # B_ℓ unchanged by a common scale
    for pi, match in (([float("nan"), 1.0], r"pi\[0\] must be finite"), ([True, False], r"pi\[0\] must be a real")):
        with pytest.raises(ValueError, match=match):
            selection_objective(pi, _SEL_TASKS, [1.0, 1.0])
        with pytest.raises(ValueError, match=match):  # the exact route (integer tasks) too
            selection_objective(pi, [[1, 3], [2, 1]], [1, 1])
    with pytest.raises(ValueError, match="task_covs and target_cov: .* beyond the float range"):
        selection_objective([0.5, 0.5], [t * 1e300 for t in _SEL_TASKS], [1.0, 1.0])
    with pytest.raises(ValueError, match="target_cov must be positive definite"):
        selection_objective([0.5, 0.5], _SEL_TASKS, [1.0, 0.0])
    from theory.selection import select_tasks_scipy
    pi, _ = select_tasks_scipy([t * 1e-300 for t in _SEL_TASKS], [1e-300, 1e-300])
    assert np.allclose(pi, select_tasks(_SEL_TASKS, [1.0, 1.0]).pi, rtol=0, atol=1e-6)  # SLSQP's ftol
    with pytest.raises(ValueError, match="task_covs and target_cov"):
        select_tasks_scipy([t * 1e300 for t in _SEL_TASKS], [1.0, 1.0])


@pytest.mark.parametrize("kwargs, match", [
    (dict(alpha=float("nan")), "alpha must be a finite real"), (dict(alpha="x"), "alpha must be a finite real"),
    (dict(B=True), "B must be an integer"), (dict(B=1.5), "B must be an integer"),
    (dict(B=11), r"B must be in 1\.\.d"), (dict(d=True), "d must be an integer"),
    (dict(rng=0), "rng must be a numpy.random.Generator"), (dict(floor=-1.0), "floor must be > 0"),
    (dict(jitter=float("inf")), "jitter must be a finite real"),
    (dict(jitter=1e300), "beyond the float range")])
def test_task_type_spectrum_arguments(kwargs, match):
    from theory.selection import task_type_spectrum
    args = dict(alpha=0.5, B=3, d=10, rng=np.random.default_rng(0)) | kwargs
    with pytest.raises(ValueError, match=match):
        task_type_spectrum(args.pop("alpha"), args.pop("B"), args.pop("d"), args.pop("rng"), **args)


def test_selection_with_tasks_tiny_against_the_target_is_not_decided_in_floats():
    # Tasks of size 1e-140 against Σ = I: the objective varies over the simplex by ~1e-280, far
    # below the float certificate's tolerance, so floats cannot tell the optimum. By default the
    # exact route answers (the symmetric pool's optimum is (1/2, 1/2)); with floats forced, the
    # answer says it is not unique instead of claiming a vertex as the unique optimum.
    from fractions import Fraction

    from theory.selection import select_tasks
    tasks = [np.diag([1e-140, 3e-140]), np.diag([3e-140, 1e-140])]
    sel = select_tasks(tasks, np.eye(2))
    assert sel.exact and list(sel.pi) == [Fraction(1, 2), Fraction(1, 2)] and sel.unique
    forced = select_tasks(tasks, np.eye(2), exact=False)
    assert not forced.unique and "not unique to float precision" in forced.canonical_rule
    # at ordinary scale the float route decides, and agrees
    plain = select_tasks([np.diag([1.0, 3.0]), np.diag([3.0, 1.0])], np.eye(2))
    assert not plain.exact and plain.unique and np.allclose(plain.pi, [0.5, 0.5])
# ---------------------------------------------------------------------- seeds, arrays, float range

@pytest.mark.parametrize("seed", [True, False, None, 1.5, 0.0, float("nan"), "3", -1])
def test_seed_is_validated_once_for_every_seeded_function(seed):
    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        theory.monte_carlo_sas([1.0, 0.5], np.eye(2), 3, 10, seed)
    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        theory.sgd_lsa([1.0, 0.5], 5, 2, 4, 0.01, seed)


def test_seed_accepts_integers_and_seed_sequences():
    a = theory.monte_carlo_sas([1.0, 0.5], np.eye(2), 3, 10, np.int64(7))
    b = theory.monte_carlo_sas([1.0, 0.5], np.eye(2), 3, 10, np.random.SeedSequence(7))
    assert np.array_equal(a.mean, b.mean)  # default_rng(7) and default_rng(SeedSequence(7)) agree


@pytest.mark.parametrize("call, name", [
    (lambda s: theory.lsa_forward(s, np.eye(6), np.eye(6), 1.0), "E"),
    (lambda s: theory.lsa_forward(np.ones((6, 3)), s, np.eye(6), 1.0), "V"),
    (lambda s: theory.wishart_sas([1.0, 0.5], s, 3), "A"),
    (lambda s: theory.population_loss(s, [1.0, 0.5], 5), "P"),
    (lambda s: theory.cot_recurrence([1.0, 0.5], 5, s, [1.0, 1.0], 2), "X"),
    (lambda s: theory.read_estimate(s), "F"),
])
def test_strings_in_a_matrix_name_the_argument(call, name):
    with pytest.raises(ValueError, match=rf"^{name} must be an array of real numbers"):
        call(np.full((2, 2), "a") if name in ("A", "P", "X") else np.full((6, 3) if name != "V" else (6, 6), "a"))


@pytest.mark.parametrize("F", [np.full((6, 2), np.nan), np.full((6, 2), np.inf)])
def test_read_estimate_refuses_non_finite_outputs(F):
    with pytest.raises(ValueError, match="F must be finite"):
        theory.read_estimate(F)


def test_wishart_moments_are_scale_free_until_the_result_leaves_float_range():
    base = np.array([1.0, 0.5])
    A = np.array([[1.0, 0.3], [0.2, 2.0]])
    ref = theory.wishart_sas(base, A, 3)
    # E[S A S] is homogeneous of degree 2 in Λ and 1 in A; powers of two keep the check exact
    assert np.array_equal(theory.wishart_sas(base * 2.0 ** 500, A, 3), ref * 2.0 ** 1000)
    mc = theory.monte_carlo_sas(base, A, 3, 50, 1)
    big = theory.monte_carlo_sas(base * 2.0 ** 500, A, 3, 50, 1)
    assert np.array_equal(big.mean, mc.mean * 2.0 ** 1000) and np.array_equal(big.stderr, mc.stderr * 2.0 ** 1000)
    for call in (lambda: theory.wishart_sas(base * 1e300, A, 3),
                 lambda: theory.monte_carlo_sas(base * 1e300, A, 3, 50, 1)):
        with pytest.raises(OverflowError, match=r"leaves the float range .* cov \(max \|entry\| = 1e\+300\)"):
            call()


@pytest.mark.parametrize("call, names", [
    (lambda: theory.population_loss(np.eye(2) * 1e300, [1.0, 0.5], 5), ("P",)),
    (lambda: theory.population_loss(np.eye(2), [1e300, 5e299], 5), ("train_cov",)),
    (lambda: theory.gd_step_threshold([1e-300, 5e-301], 5), ("train_cov",)),
    (lambda: theory.gd_step_threshold([1.0, 0.5], 5, c=1e-300), ("c",)),
    (lambda: theory.gd_population([1e300, 5e299], 5, 0.1, 3), ("train_cov",)),
    (lambda: theory.cot_recurrence([1.0, 0.5], 5, np.eye(2) * 1e300, [1.0, 1.0], 2), ("X",)),
    (lambda: theory.cot_closed_form([1.0, 0.5], 5, np.eye(2) * 1e300, [1.0, 1.0], 2), ("X",)),
    (lambda: theory.lsa_forward(np.ones((6, 3)) * 1e300, np.eye(6), np.eye(6), 1.0), ("E",)),
])
def test_float_overflow_is_an_error_naming_the_inputs(call, names):
    with pytest.raises(OverflowError, match="leaves the float range") as info:
        call()
    assert all(name in str(info.value) for name in names)


def test_gd_population_stops_before_leaving_float_range():
    run = theory.gd_population([1.0, 0.5], 5, 1e300, 5)
    assert run.diverged and np.all(np.isfinite(run.errors)) and np.all(np.isfinite(run.losses))
    assert np.all(np.isfinite(run.V31)) and len(run.errors) == 1


def test_joint_limit_is_scale_covariant():
    u, V = theory.joint_limit([1.0, 0.5], 5)
    # Γ scales with Λ, so u_∞ = tr(Γ^{-2})^{1/4} scales as s^{-1/2} and V31 = −Γ^{-1}/u as s^{-1/2}
    for s in (2.0 ** -996, 2.0 ** 996):
        us, Vs = theory.joint_limit(np.array([1.0, 0.5]) * s, 5)
        assert np.isclose(us, u / np.sqrt(s), rtol=1e-14, atol=0)
        assert np.allclose(Vs, V / np.sqrt(s), rtol=1e-14, atol=0)
    u_big, V_big = theory.joint_limit([1.0, 0.5], 5, imbalance=1e300)
    assert np.isclose(u_big, 1e150, rtol=1e-14) and np.all(np.isfinite(V_big))
    u_neg, _ = theory.joint_limit([1.0, 0.5], 5, imbalance=-1e300)
    assert 0 < u_neg < 1e-140


@pytest.mark.parametrize("bad, name", [(True, "imbalance"), (None, "imbalance"), ("x", "imbalance")])
def test_joint_limit_imbalance_must_be_a_number(bad, name):
    with pytest.raises(ValueError, match=f"{name} must be a finite real number"):
        theory.joint_limit([1.0, 0.5], 5, imbalance=bad)


@pytest.mark.parametrize("bad", [True, None, "x"])
def test_sgd_decay_from_must_be_a_number(bad):
    with pytest.raises(ValueError, match="decay_from must be a finite real number"):
        theory.sgd_lsa([1.0, 0.5], 5, 2, 4, 0.01, 0, decay_from=bad)


@pytest.mark.parametrize("call", [
    lambda k: theory.cot_recurrence([1.0, 0.5], 5, np.eye(2), [1.0, 1.0], k),
    lambda k: theory.cot_closed_form([1.0, 0.5], 5, np.eye(2), [1.0, 1.0], k),
    lambda k: theory.isotropic_cot_error(k),
    lambda k: theory.proportional_expansion(k),
    lambda k: theory.mp_cot_error(k),
    lambda k: theory.mp_cot_error(k, Fraction(1, 2), 2),
    lambda k: theory.mp_cot_error_quad(k, 0.5, 2.0),
])
def test_huge_step_counts_are_refused_with_a_cost_estimate(call):
    with pytest.raises(ValueError, match=r"^k = 10{30} is too large: .* would cost about .* operations"):
        call(10 ** 30)


def test_wishart_trace_moment_powers():
    from theory import rmt
    with pytest.raises(ValueError, match="powers must hold at least one exponent"):
        theory.wishart_trace_moment(())
    assert theory.wishart_trace_moment((0,)) == rmt.d_sym  # tr W^0 = d
    with pytest.raises(ValueError, match="powers = .* is too large: the moment recursion"):
        theory.wishart_trace_moment((10 ** 6,))


@pytest.mark.parametrize("bad", [True, None, "x", 0, -1, float("nan"), float("inf")])
def test_rmt_ratios_are_validated(bad):
    for call, name in ((lambda: theory.critical_nu(bad), "alpha"), (lambda: theory.mp_phase(bad, 2), "alpha"),
                       (lambda: theory.mp_phase(Fraction(1, 2), bad), "nu"),
                       (lambda: theory.mp_cot_error_quad(2, bad, 2.0), "alpha")):
        with pytest.raises(ValueError, match=f"^{name} must be a positive"):
            call()


def test_critical_nu_is_infinite_beyond_the_threshold():
    import sympy as sp
    assert theory.critical_nu(1e300) == sp.oo and theory.critical_nu(6) == sp.oo  # α >= 3 + 2√2
    assert theory.critical_nu(5).is_finite


@pytest.mark.parametrize("dps", [0, -1, 1.5, True, None, "30"])
def test_quadrature_precision_is_validated(dps):
    with pytest.raises(ValueError, match="dps must be an integer >= 1"):
        theory.mp_cot_error_quad(2, 0.5, 2.0, dps=dps)
# ---------------------------------------------------------------- scaling, overthinking, bracket, Monte Carlo

@pytest.mark.parametrize("eigs, message", [
    ([1.0, float("nan")], "eigs must be finite"), ([1.0, -1.0], "eigs must be >= 0"),
    ([[1.0, 2.0], [2.0, 1.0]], "eigs must hold scalars"), (np.ones((2, 3)), "eigs must be a 1-D"),
    ([True, False], "eigs must be a number"), (["a", "b"], "eigs must be a number"),
    (None, "eigs must be a 1-D"), ([0.0, 0.0], "eigs must not all be zero"), ([], "at least one")])
def test_symbolic_error_validates_eigs(eigs, message):
    from theory.error import cot_error_poly_symbolic
    with pytest.raises(ValueError, match=message):
        cot_error_poly_symbolic(eigs, 5, 2)


@pytest.mark.parametrize("n", [True, "3", None, 1.5, 0])
def test_symbolic_error_validates_n(n):
    from theory.error import cot_error_poly_symbolic
    with pytest.raises(ValueError, match=r"\bn must be"):
        cot_error_poly_symbolic([1, Fraction(1, 2)], n, 2)


def test_symbolic_error_keeps_symbols_and_a_zero_eigenvalue():
    import sympy as sp
    from theory.error import cot_error_poly_symbolic
    l1, l2, n = sp.symbols("l1 l2 n", positive=True)
    expr = cot_error_poly_symbolic([l1, l2], n, 1)
    exact = cot_error_poly_symbolic([1, Fraction(1, 2)], 5, 1)
    assert sp.simplify(expr.subs({l1: 1, l2: sp.Rational(1, 2), n: 5}) - exact) == 0
    assert cot_error_poly_symbolic([1, 0], 5, 1).is_finite


def test_eventual_growth_exact_is_a_bool():
    from theory.overthinking import eventual_growth_exact
    assert eventual_growth_exact([1, Fraction(1, 2)], 5, [1, Fraction(1, 2)]) is False
    assert eventual_growth_exact([1, Fraction(1, 2)], 5, [100, 100]) is True


@pytest.mark.parametrize("fn", ["thm33_bound", "cor35_bound", "cor35_log_bound", "slowest_contraction"])
def test_zero_train_cov_is_named(fn):
    f = getattr(theory, fn)
    args = (5,) if fn == "slowest_contraction" else (5, 2)
    with pytest.raises(ValueError, match="train_cov must be nonzero"):
        f([0.0, 0.0], *args)
    with pytest.raises(ValueError, match="train_cov must be nonzero"):
        theory.n_min_cor35([0.0, 0.0], 2, 0.5)


def test_n_min_cor35_is_never_negative():
    assert theory.n_min_cor35([1.0, 0.5], 2, 1e300) == 0.0
    assert theory.n_min_cor35([1.0, 0.5], 2, 2.0) == 0.0
    assert theory.n_min_cor35([1.0, 0.5], 2, 1.0) > 0


@pytest.mark.parametrize("train, test", [([1e30, 0.5e30], [1.0, 0.5]), ([1.0, 0.5], [1e-30, 0.5e-30]),
                                         ([1e-30, 0.5e-30], [1.0, 0.5]), ([1.0, 0.5], [1.0, 0.0])])
def test_unreachable_eps_answers_none_at_once(train, test):
    # each case: err_k >= (1 − β_min)^{2k} ≈ 1 or (β_max − 1)^{2k} ≫ 1 for every n, k (the floor)
    for m in (None, 10):
        assert theory.n_min(train, 2, 0.5, m=m, test_cov=test) is None
        assert theory.k_min(train, 5, 0.5, m=m, test_cov=test) is None


def test_floor_never_excludes_a_reachable_answer():
    """Against the plain scan (d = 1 closed form, exact): same n_min and k_min at finite m."""
    from theory.scaling import cot_error_d1
    for var, test, eps, m in ((1.0, 1.0, 0.2, 10), (1.0, 1.7, 0.3, 20), (2.0, 0.5, 0.5, 5)):
        errs = {k: cot_error_d1(var, 6, k, m=m, test_var=test) for k in range(1, 30)}
        brute_k = next((k for k, e in errs.items() if e <= eps), None)
        assert theory.k_min([var], 6, eps, m=m, test_cov=[test], k_max=29) == brute_k
        errs = {n: cot_error_d1(var, n, 2, m=m, test_var=test) for n in range(1, 60)}
        brute_n = next((n for n, e in errs.items() if e <= eps), None)
        assert theory.n_min([var], 2, eps, m=m, test_cov=[test], n_max=59) == brute_n


def test_finite_m_scan_stops_with_a_cost_estimate(monkeypatch):
    # ε = 0.01 is below err_2 at m = 10 for every n (its 1/m part), but above the floor: the scan
    # would run to n_max = 1e5 (~100 s); with a 0.05 s allowance it stops after ~50 steps
    import theory.scaling
    monkeypatch.setattr(theory.scaling, "SCAN_SECONDS", 0.05)
    with pytest.raises(ValueError, match="n_max = 100000 would cost about"):
        theory.n_min([1.0, 0.5], 2, 0.01, m=10)
    with pytest.raises(ValueError, match=r"k_max = 300; the floor rules out larger k\) would cost about"):
        theory.k_min([1.0, 0.5], 5, 0.01, m=10, k_max=300)


@pytest.mark.parametrize("train, test", [([1e300, 0.5e300], [1.0, 0.5]), ([1.0, 0.5], [1e-300, 0.5e-300]),
                                         ([1e-300, 0.5e-300], [1.0, 0.5]), ([1.0, 0.5], [1e300, 0.5e300])])
def test_divergence_bound_is_finite_at_any_scale(train, test):
    value = theory.divergence_log_lower_bound(train, 5, 2, 10, test_cov=test)
    assert np.isfinite(value)
    # tiny β_max: log L_k ≈ −m/(2β_max) (the χ² tail); huge β_max: ≈ 2k log β_max
    assert value < -1e300 or value > 2000


def test_divergence_bound_refuses_astronomic_m_by_name():
    with pytest.raises(ValueError, match=r"\bm = "):
        theory.divergence_log_lower_bound([1.0, 0.5], 5, 2, 10 ** 30)
    assert np.isfinite(theory.divergence_log_lower_bound([1.0, 0.5], 5, 10 ** 30, 10))


@pytest.mark.parametrize("k_max, message", [(0, "k_max must be"), (-5, "k_max must be"),
                                            (10 ** 6, "k_max = 1000000: the brackets")])
def test_error_bracket_curve_names_k_max(k_max, message):
    from theory.bracket import error_bracket_curve
    with pytest.raises(ValueError, match=message):
        error_bracket_curve([1.0, 0.5], 5, k_max, m=10)


def test_lsa_experiment_names_ms_d_and_k_max():
    from theory.overthinking import lsa_experiment
    for ms in ((0,), (True,)):
        with pytest.raises(ValueError, match="ms must be"):
            lsa_experiment(2, (5,), ms, k_max=2)
    for k_max in (0, -1, None):
        with pytest.raises(ValueError, match="k_max must be"):
            lsa_experiment(2, (5,), (None,), k_max=k_max)
    assert lsa_experiment(2.0, (5,), (None,), k_max=2).d == 2


def test_overthinking_report_prices_a_huge_window_at_once():
    for max_seconds in (60.0, None):
        with pytest.raises(ValueError, match="k_max = 10+ at finite m would cost over"):
            overthinking_report([1.0, 0.5], 5, [1.0, 0.5], m=10, k_max=10 ** 30, max_seconds=max_seconds)
    with pytest.raises(ValueError, match="train_cov and test_cov"):
        overthinking_report([1e-300, 0.5e-300], 5, [1.0, 0.5])


def test_mc_refuses_a_degenerate_tilt_by_name():
    from theory.montecarlo import mc_cot_error
    with pytest.raises(ValueError, match="tilt = 1e"):
        mc_cot_error([1.0, 0.5], 5, [1], m=10, samples=64, tilt=1e300)


@pytest.mark.parametrize("call, needle", [
    (lambda: __import__("theory").infinite_m_error_exact([1.0, 0.5], 5, [1.0, 1.0], 10 ** 6), "k = 1000000"),
    (lambda: __import__("theory").remark41_trace_exact([1.0, 0.5], 5, [1.0, 1.0], 10 ** 6), "k = 1000000"),
    (lambda: __import__("theory").finite_m_trace([1.0, 0.5], 5, 10 ** 6, m=10), "k = 1000000"),
    (lambda: __import__("theory").finite_m_trace_cost([1.0, 0.5], 5, 10 ** 6), "k = 1000000"),
    (lambda: __import__("theory").error_bracket([1.0, 0.5], 5, 10 ** 6, m=10), "k = 1000000"),
    (lambda: __import__("theory.scaling").scaling.cot_error_d1(1.0, 10, 10 ** 6, m=20), "k = 1000000"),
    (lambda: __import__("theory").optimal_steps([1.0, 0.5], 5, k_max=10 ** 6), "k_max = 1000000"),
])
def test_huge_k_is_refused_at_once_naming_it(call, needle):
    # each of these would run for minutes or exhaust memory; each is refused before any work
    import time
    start = time.perf_counter()
    with pytest.raises(ValueError, match=needle):
        call()
    assert time.perf_counter() - start < 5  # a hang guard, not a timing
