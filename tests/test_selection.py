"""Library tests of theory.selection: the QP, the solver, its certificate, bad input, ``tts select``."""

import json
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from theory import cli
from theory.selection import (Selection, hard_task_mass, mixture_cot_error, mixture_preconditioner,
                              qp_vs_uniform, random_pools, select_tasks, select_tasks_by_enumeration,
                              selection_objective, selection_qp, task_type_experiment, task_type_pool,
                              true_optimal_selection)
from theory.covariance import gamma

TASKS = [[[2, 1], [1, 1]], [[1, 0], [0, 3]], [1, 2]]
TARGET = [[3, 1], [1, 2]]


# ----------------------------------------------------------------------------- the QP

def test_q_and_b_equal_the_trace_formulas_exactly():
    qp = selection_qp(TASKS, TARGET)
    S = sp.Matrix(TARGET).inv()
    lams = [sp.Matrix(np.diag(t)) if np.ndim(t) == 1 else sp.Matrix(t) for t in TASKS]
    for i, a in enumerate(lams):
        assert qp.b[i] == (S * a).trace()
        for j, c in enumerate(lams):
            assert qp.Q[i, j] == (a * S * S * c).trace()  # tr(Λ_ℓ Σ^{-2} Λ_ℓ')


def test_quadratic_form_equals_direct_objective_exactly():
    qp = selection_qp(TASKS, TARGET)
    for pi in ([1, 0, 0], [Fraction(1, 3)] * 3, [Fraction(1, 7), Fraction(2, 7), Fraction(4, 7)]):
        assert qp.objective(pi) == selection_objective(pi, TASKS, TARGET)


def test_exact_mode_detection():
    assert select_tasks(TASKS, TARGET).exact
    assert select_tasks([[Fraction(1, 3), 1]], [sp.Rational(1, 2), 1]).exact
    assert not select_tasks([[0.5, 1.0]], [1, 1]).exact
    # floats converted exactly: 0.1 is the dyadic rational Fraction(0.1), not 1/10
    sel = select_tasks([[0.1]], [1], exact=True)
    assert sel.exact and sel.objective == (1 - Fraction(0.1)) ** 2


def test_single_task_is_selected_with_certificate():
    sel = select_tasks([[1, 2]], [2, 2])
    assert list(sel.pi) == [1] and sel.certified and sel.unique
    assert sel.objective == Fraction(1, 4)  # (1 − 1/2)² + (1 − 1)²


def test_selection_fields_are_consistent():
    sel = select_tasks(TASKS, TARGET)
    assert isinstance(sel, Selection) and sel.certified
    assert sum(sel.pi) == 1 and all(p >= 0 for p in sel.pi)
    assert sel.support == tuple(i for i, p in enumerate(sel.pi) if p > 0)
    assert all(sel.reduced_gradient[i] == 0 for i in sel.support)
    assert all(v >= 0 for v in sel.reduced_gradient)
    assert "<table>" in sel._repr_html_()


def test_float_path_matches_exact_path():
    exact = select_tasks(TASKS, TARGET)
    floats = select_tasks([np.asarray(t, dtype=float) for t in TASKS], np.asarray(TARGET, dtype=float))
    assert not floats.exact and floats.certified
    # rtol: the float active set solves 4×4 systems of condition ~1e2, so 1e-12 is ample
    np.testing.assert_allclose(floats.pi, np.asarray(exact.pi, dtype=float), rtol=0, atol=1e-12)
    assert floats.certificate.gap <= floats.certificate.tolerance


def test_duplicated_task_shares_weight_equally():
    # Two copies of one task and a second task: the optimal set is a segment; the minimum-norm
    # point splits the copies' weight equally.
    tasks = [[1, 3], [1, 3], [3, 1]]
    sel = select_tasks(tasks, [2, 2])
    assert not sel.unique and sel.null_directions.shape == (1, 3)
    assert sel.pi[0] == sel.pi[1] == Fraction(1, 4) and sel.pi[2] == Fraction(1, 2)
    assert sel.canonical_rule.startswith("minimum Euclidean norm") and sel.certified


def test_collinear_tasks_describe_the_optimal_segment():
    # B_ℓ = Σ^{-1}Λ_ℓ ∈ {I/2, I, 3I/2} lie on a line: every mixture with mean 1 is optimal (f = 0).
    tasks = [[1, 1], [2, 2], [3, 3]]
    sel = select_tasks(tasks, [2, 2])
    assert sel.objective == 0 and not sel.unique
    assert {tuple(v) for v in sel.vertices} == {(0, 1, 0), (Fraction(1, 2), 0, Fraction(1, 2))}
    # Minimum norm on the segment (1−t)(0,1,0) + t(1/2,0,1/2): minimise t²/2 + (1−t)² → t = 2/3.
    assert tuple(sel.pi) == (Fraction(1, 3), Fraction(1, 3), Fraction(1, 3))
    # Its projection property, exactly: ⟨π, v − π⟩ >= 0 for every vertex v of the optimal set.
    for v in sel.vertices:
        assert sum(p * (a - p) for p, a in zip(sel.pi, v)) >= 0


def test_enumeration_limit_and_result():
    enum = select_tasks_by_enumeration(TASKS, TARGET)
    assert enum.objective == select_tasks(TASKS, TARGET).objective
    with pytest.raises(ValueError, match="task_covs: enumeration is limited"):
        select_tasks_by_enumeration([[1]] * 13, [1])


# ----------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("tasks, target, match", [
    ([], [1, 1], "task_covs must contain at least one task"),
    ([[1, 2], [1, 2, 3]], [1, 1], r"task_covs\[0\] and task_covs\[1\] must have the same dimension"),
    ([[1, 2]], [1, 1, 1], "task_covs and target_cov must have the same dimension"),
    ([[[1, 2], [2, 1]]], [1, 1], r"task_covs\[0\] must be positive semi-definite"),
    ([[1, -1]], [1, 1], r"task_covs\[0\] must be positive semi-definite"),
    ([[1, 2]], [1, 0], "target_cov must be positive definite"),
    ([[1.0, 2.0]], [1.0, 0.0], "target_cov must be positive definite"),
    ([[1.0, np.nan]], [1, 1], r"task_covs\[0\] must be finite"),
    ([[1, 2]], [[1, 2], [0, 1]], "target_cov must be symmetric"),
    (5, [1], "task_covs must be a sequence"),
    (np.ones((2, 2, 2, 2)), [1, 1], "task_covs must be a sequence"),
])
def test_bad_input(tasks, target, match):
    with pytest.raises(ValueError, match=match):
        select_tasks(tasks, target)


def test_bad_selection_vectors():
    with pytest.raises(ValueError, match="pi must have one entry per task"):
        selection_objective([1], TASKS, TARGET)
    with pytest.raises(ValueError, match="pi must lie in the simplex"):
        mixture_preconditioner(TASKS, [0.5, 0.6, -0.1], 3)
    with pytest.raises(ValueError, match="pi must lie in the simplex"):
        hard_task_mass([Fraction(1, 2)] * 3, TASKS, TARGET, "markov")
    with pytest.raises(ValueError, match="reading must be one of"):
        hard_task_mass([1, 0, 0], TASKS, TARGET, "hardest")
    with pytest.raises(ValueError, match="n must be an integer"):
        mixture_preconditioner(TASKS, [1, 0, 0], 0)
    with pytest.raises(ValueError, match="singular"):
        mixture_preconditioner([[1, 0], [0, 1]], [1, 0], 3)
    with pytest.raises(ValueError, match="target must be"):
        task_type_experiment(0, target="flat")
    with pytest.raises(ValueError, match="target must be"):
        task_type_pool(0, target="flat")
    with pytest.raises(ValueError, match="pools must be"):
        random_pools(0, 0)
    with pytest.raises(ValueError, match="m must be"):
        qp_vs_uniform(0, pools=1, m=0)


def test_task_type_pool_is_the_experiments_pool():
    spectra, kinds, sigma = task_type_pool(0, tasks_per_type=3, d=100, target="isotropic")
    assert len(spectra) == 12 and kinds.tolist() == [0] * 3 + [1] * 3 + [2] * 3 + [3] * 3
    # trace-normalised: rtol 1e-12 covers the rounding of one division and two sums of 100 terms
    np.testing.assert_allclose([s.sum() for s in spectra], sigma.sum(), rtol=1e-12)
    experiment = task_type_experiment(0, tasks_per_type=3, d=100, target="isotropic")
    # the same pool through the same solver: identical floats
    assert np.array_equal(select_tasks(spectra, sigma, exact=False).pi, experiment.pi)
    assert np.array_equal(experiment.hardness, [s.sum() / s.min() for s in spectra])



# ----------------------------------------------------------------------------- Proposition 4.3 readings

def test_markov_readings_on_a_singular_pool():
    # Σ = I, tasks diag(1, 0), diag(2, 0): at every π, M(π) vanishes on the second coordinate, so
    # δ = −1 and the threshold 2(1 + δ)s is 0; "<=" counts the singular tasks, "<" does not
    for pi in ([1, 0], [Fraction(1, 2), Fraction(1, 2)]):
        le = hard_task_mass(pi, [[1, 0], [2, 0]], [1, 1], "markov")
        lt = hard_task_mass(pi, [[1, 0], [2, 0]], [1, 1], "markov-strict")
        assert le.exact and le.delta == lt.delta == -1
        assert (le.mass, le.holds, lt.mass, lt.holds) == (1, True, 0, False)


def test_markov_float_path_reads_a_vanishing_bottom_form_as_zero():
    # the same pool rotated (floats) with a weak target direction s = 1e-3: uᵀM(π)u is a rounding
    # residue (~3e-17 at this angle), which over s is far above an ulp of 1; read as 0, δ = −1
    # exactly, the threshold is 0 and the strict reading counts no task
    c, s = np.cos(0.3), np.sin(0.3)
    R = np.array([[c, -s], [s, c]])
    tasks = [R @ np.diag(t) @ R.T for t in ([1.0, 0.0], [2.0, 0.0])]
    target = R @ np.diag([2.0, 1e-3]) @ R.T
    le = hard_task_mass([0.5, 0.5], tasks, target, "markov")
    lt = hard_task_mass([0.5, 0.5], tasks, target, "markov-strict")
    assert not le.exact and le.delta == -1.0
    assert le.mass == 1.0 and lt.mass == 0.0


# ----------------------------------------------------------------------------- the mixture model

def test_single_task_preconditioner_is_gamma_inverse():
    lam = np.array([[2.0, 0.5], [0.5, 1.0]])
    # rtol 1e-12: both sides are a 2×2 solve of condition ~5
    np.testing.assert_allclose(mixture_preconditioner([lam], [1.0], 7),
                               np.linalg.inv(gamma(lam, 7)), rtol=1e-12)


def test_mixture_error_overflow_is_reported():
    with pytest.raises(ValueError, match="overflows"):
        mixture_cot_error([[1e-3, 1.0]], [1.0], 1000, [1e6, 1.0], 200)


def test_true_optimum_beats_grid_and_qp():
    tasks = [np.diag([1.0, 0.2]), np.diag([0.3, 1.0]), np.eye(2)]
    target = np.diag([0.5, 0.5])
    qp_pi = select_tasks(tasks, target).pi
    opt = true_optimal_selection(tasks, target, 10, 3, extra_starts=[qp_pi])
    assert opt.error <= opt.grid_error * (1 + 1e-12)
    assert opt.error <= mixture_cot_error(tasks, qp_pi, 10, target, 3) * (1 + 1e-12)
    # the reported error is the error at the reported selection
    assert opt.error == pytest.approx(mixture_cot_error(tasks, opt.pi, 10, target, 3), rel=1e-12)


# ----------------------------------------------------------------------------- tts select

def _run(argv, capsys):
    code = cli.main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_select_json_exact(tmp_path, capsys):
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps([[1, "1/2"], [[2, 1], [1, 2]], [3, 3]]))
    code, out, _ = _run(["select", "--tasks", str(path), "--target", "1,2", "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    sel = select_tasks([[1, Fraction(1, 2)], [[2, 1], [1, 2]], [3, 3]], [1, 2])
    assert data["certified"] is True and data["exact"] is True
    assert data["pi_exact"] == [str(p) for p in sel.pi]
    assert data["pi"] == [float(p) for p in sel.pi] and data["objective"] == float(sel.objective)


def test_cli_select_text(tmp_path, capsys):
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps([[1.0, 2.0], [2.0, 1.0]]))
    code, out, _ = _run(["select", "--tasks", str(path), "--target", "1.5,1.5"], capsys)
    assert code == 0 and "certified: True" in out and "floating point" in out


@pytest.mark.parametrize("content, target, match", [
    ("[]", "1", "--tasks must contain at least one task"),
    ("{}", "1", "must hold a JSON list"),
    ("[[1, [1, 0]]]", "1,1", r"--tasks\[0\]\[1\] must be a number"),
    ("[[1, \"x\"]]", "1,1", "cannot read 'x'"),
    ("not json", "1", "not valid JSON"),
    ("[[1, 2]]", "1,0", "--target must be positive definite"),
])
def test_cli_select_bad_input(tmp_path, capsys, content, target, match):
    path = tmp_path / "tasks.json"
    path.write_text(content)
    code, _, err = _run(["select", "--tasks", str(path), "--target", target], capsys)
    assert code == 2
    assert err.startswith("tts select: error:") and __import__("re").search(match, err)


def test_cli_select_target_file_and_rationals(tmp_path, capsys):
    tasks = tmp_path / "tasks.json"
    tasks.write_text(json.dumps([[1, 3], [3, 1]]))
    target = tmp_path / "target.json"
    target.write_text(json.dumps([[2, 0], [0, "2"]]))
    code, out, _ = _run(["select", "--tasks", str(tasks), "--target", str(target), "--json"], capsys)
    data = json.loads(out)
    # (1/2, 3/2) p + (3/2, 1/2)(1 − p) = (1, 1) at p = 1/2: exact, f = 0
    assert code == 0 and data["exact"] and data["pi_exact"] == ["1/2", "1/2"] and data["objective"] == 0
    code, out, _ = _run(["select", "--tasks", str(tasks), "--target", "1/2,2", "--json"], capsys)
    assert code == 0 and json.loads(out)["exact"] is True


def test_cli_select_missing_file(capsys):
    code, _, err = _run(["select", "--tasks", "/nonexistent/tasks.json", "--target", "1"], capsys)
    assert code == 2 and "no such file" in err
