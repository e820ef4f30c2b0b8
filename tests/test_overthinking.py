"""Unit and property tests of theory.overthinking (Remark 4.1), at m = ∞ and at finite m.

Hypothesis draws exact rational problems: Λ diagonal (no loss: a common rotation of Λ and Σ leaves
the error unchanged), Σ = Q diag(σ) Qᵀ with Q a rational rotation (Cayley transform of a rational
skew-symmetric matrix), so every m = ∞ quantity is an exact Fraction.
"""

import importlib
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from theory import _exact
from theory.covariance import gamma
from theory.scaling import rational_orthogonal
from theory.scaling import cot_error_d1  # the d = 1 chi-square closed form: an independent route
from theory._exact import exact_power

# The package exports the function ``overthinking`` under the module's name: bind the module itself.
ot = importlib.import_module("theory.overthinking")


def _fraction_eye(d):
    out = np.empty((d, d), dtype=object)
    out[...] = Fraction(0)
    for i in range(d):
        out[i, i] = Fraction(1)
    return out


def cayley_rotation(skew_entries, d):
    """Q = (I − A)(I + A)^{-1} for the skew-symmetric A with the given upper entries: rational, orthogonal."""
    A = np.empty((d, d), dtype=object)
    A[...] = Fraction(0)
    it = iter(skew_entries)
    for i in range(d):
        for j in range(i + 1, d):
            A[i, j] = next(it)
            A[j, i] = -A[i, j]
    return rational_orthogonal(A)


eigen = st.fractions(min_value=Fraction(1, 8), max_value=8, max_denominator=8)
test_eigen = st.one_of(st.just(Fraction(0)), st.fractions(min_value=Fraction(1, 16), max_value=16,
                                                          max_denominator=16))


def _diag(values):
    d = len(values)
    out = _fraction_eye(d)
    for i, v in enumerate(values):
        out[i, i] = Fraction(v)
    return out


@st.composite
def problems(draw, commuting=False):
    d = draw(st.integers(1, 3))
    lam = _diag(draw(st.lists(eigen, min_size=d, max_size=d)))
    sig_eig = draw(st.lists(test_eigen, min_size=d, max_size=d).filter(any))
    if commuting or d == 1:
        Q = _fraction_eye(d)
    else:
        skew = draw(st.lists(st.fractions(min_value=-2, max_value=2, max_denominator=4),
                             min_size=d * (d - 1) // 2, max_size=d * (d - 1) // 2))
        Q = cayley_rotation(skew, d)
    sig = _exact.exact_matmul(_exact.exact_matmul(Q, _diag(sig_eig)), Q.T)
    n = draw(st.integers(1, 40))
    return lam, sig, n


def _as_float(a):
    return np.array(a, dtype=float)


@given(problems())
def test_eventual_growth_condition(problem):
    """err_k → ∞ at m = ∞ iff λ_max(Γ^{-1}Σ) > 2: the exact root count against exact powers.

    Independent route: err_k >= tr M^{2k} >= ρ^{2k} when diverging, err_k <= κ(Γ) d <= U d when not
    (U = tr Γ tr Γ^{-1}). With the margin |λ_max − 2| > 0.05, ρ >= 1.05 and k = 256 separates the two.
    """
    lam, sig, n = problem
    report = ot.overthinking_report(_as_float(lam), n, _as_float(sig))
    assume(abs(report.margin) > 0.05)
    growth = ot.eventual_growth_exact(lam, n, sig)
    assert report.diverges == growth == (report.max_eig > 2)
    _, upper = ot.gamma_condition_bounds_exact(lam, n)
    d = lam.shape[0]
    big = ot.infinite_m_error_exact(lam, n, sig, 256)
    assert (big > upper * d) == growth


@given(problems())
def test_remark41_trace_is_an_exact_lower_bound(problem):
    """err_k = tr N^{2k} + ½‖M^k − (M^k)ᵀ‖_F² exactly, err_k <= U tr N^{2k} exactly, and the sharp
    float bracket err_k <= ½(κ + 1/κ) tr N^{2k} (rtol 1e-12: κ from a float eigen-solve)."""
    lam, sig, n = problem
    M = ot.step_matrix_exact(lam, n, sig)
    _, upper = ot.gamma_condition_bounds_exact(lam, n)
    lower_c, upper_c = ot.remark41_bracket(_as_float(lam), n)
    for k in range(0, 4):
        P = exact_power(M, k)
        asym = sum(((P[i, j] - P[j, i]) ** 2 for i in range(P.shape[0]) for j in range(P.shape[0])),
                   Fraction(0))
        err = ot.infinite_m_error_exact(lam, n, sig, k)
        tr = ot.remark41_trace_exact(lam, n, sig, k)
        assert err == tr + asym / 2
        assert tr <= err <= upper * tr
        assert lower_c * float(tr) <= float(err) * (1 + 1e-12)
        assert float(err) <= upper_c * float(tr) * (1 + 1e-12)


@given(problems(commuting=True))
def test_trace_equals_error_when_commuting(problem):
    lam, sig, n = problem
    for k in range(0, 5):
        assert ot.infinite_m_error_exact(lam, n, sig, k) == ot.remark41_trace_exact(lam, n, sig, k)


@given(problems())
def test_k1_equality_iff_commuting(problem):
    # ‖M‖_F² − tr M² = ½‖M − Mᵀ‖², and M = I − Γ^{-1}Σ is symmetric iff Γ and Σ commute.
    lam, sig, n = problem
    G = ot.gamma_exact(lam, n)
    commute = (_exact.exact_matmul(G, sig) == _exact.exact_matmul(sig, G)).all()
    assert (ot.infinite_m_error_exact(lam, n, sig, 1) == ot.remark41_trace_exact(lam, n, sig, 1)) == commute


@given(problems())
def test_report_k_star_is_the_exact_minimiser(problem):
    lam, sig, n = problem
    report = ot.overthinking_report(_as_float(lam), n, _as_float(sig))
    assume(report.diverges and report.certified and len(report.errors) <= 20)
    exact = [ot.infinite_m_error_exact(lam, n, sig, k) for k in range(1, len(report.errors) + 1)]
    best = min(exact)
    assume(sorted(exact)[1] > best * (1 + Fraction(1, 10**6)) if len(exact) > 1 else True)
    assert report.k_star == exact.index(best) + 1
    first_rise = next((k for k in range(1, len(exact)) if exact[k] > exact[k - 1]), None)
    assert report.first_rise == first_rise


@given(problems(), st.integers(1, 40))
def test_larger_n_never_removes_divergence(problem, extra):
    """Γ_n decreases in n (Loewner), so every eigenvalue of Γ_n^{-1}Σ increases and divergence persists."""
    lam, sig, n = problem
    a = ot.overthinking_report(_as_float(lam), n, _as_float(sig))
    b = ot.overthinking_report(_as_float(lam), n + extra, _as_float(sig))
    # float eigen-solves of well-scaled matrices: error well below 1e-12 relative to the largest
    assert np.all(b.eigenvalues >= a.eigenvalues - 1e-12 * max(1.0, a.max_eig))
    if ot.eventual_growth_exact(lam, n, sig):
        assert ot.eventual_growth_exact(lam, n + extra, sig)


@given(problems(commuting=True))
def test_divergence_onset_is_sharp(problem):
    lam, sig, _ = problem
    n0 = ot.divergence_onset(_as_float(lam), _as_float(sig), n_max=10_000)
    sig_f, lam_f = _as_float(sig), _as_float(lam)
    if n0 is None:
        # Σ ⪯ 2Λ (here diagonal: σ_i <= 2 λ_i), or the onset lies beyond n_max
        assert not ot.eventual_growth_exact(lam, 10_000, sig)
    else:
        assert ot.eventual_growth_exact(lam, n0, sig)
        assert n0 == 1 or not ot.eventual_growth_exact(lam, n0 - 1, sig)
    if np.all(np.diag(sig_f) <= 2 * np.diag(lam_f)):
        assert n0 is None


def test_commuting_closed_form_and_direction():
    # Λ = diag(1, 1/10), Σ = I, n = 10: Γ = 1.1 Λ + 0.11 I = diag(1.21, 0.22), μ = (0.826, 4.545).
    report = ot.overthinking_report([1.0, 0.1], 10, [1.0, 1.0])
    mu = np.array([1 / 1.21, 1 / 0.22])
    assert np.allclose(report.eigenvalues, np.sort(mu), rtol=1e-12)   # float eigen-solve accuracy
    assert report.diverges and report.k_star == 1 and report.behaviour == "rises from the start"
    assert report.responsible.shape == (2, 1)
    assert np.allclose(np.abs(report.responsible[:, 0]), [0.0, 1.0], atol=1e-12)
    errors = ((1 - mu)[None, :] ** (2 * np.arange(1, 6)[:, None])).sum(axis=1)
    assert np.allclose(report.errors[:5], errors, rtol=1e-12)


def test_never_diverging_has_no_finite_k_star():
    report = ot.overthinking_report([1.0, 1.0], 5, [1.0, 0.5])
    assert not report.diverges and report.k_star is None and report.err_star == 0.0
    assert report.behaviour == "decreasing" and report.certified


def test_sigma_equal_gamma_is_solved_in_one_step():
    G = gamma([2.0, 1.0], 4)
    report = ot.overthinking_report([2.0, 1.0], 4, G)
    assert report.k_star == 1 and report.err_star < 1e-25


def test_singular_test_covariance_keeps_its_null_directions():
    # Σ = diag(1, 0): the second coordinate of w is never learned; err_k → 1.
    report = ot.overthinking_report([1.0, 1.0], 10, [1.0, 0.0])
    assert not report.diverges and report.k_star is None and report.err_star == pytest.approx(1.0, rel=1e-12)


def test_exact_boundary_is_decided_exactly():
    # Λ = (1), n = 1: Γ = 3; Σ = 6 gives λ_max(Γ^{-1}Σ) = 2 exactly: bounded (err_k = 1 for all k).
    assert not ot.eventual_growth_exact([1], 1, [6])
    report = ot.overthinking_report([1.0], 1, [6.0])
    assert not report.diverges and abs(report.margin) < 1e-12 and report.responsible.shape == (1, 0)
    assert ot.eventual_growth_exact([1], 1, [Fraction(6) + Fraction(1, 10**12)])


@pytest.mark.parametrize("args, kwargs, match", [
    (([1.0, 2.0], 3, [1.0]), {}, "same dimension"),
    (([1.0, 2.0], 0, [1.0, 1.0]), {}, "n must be"),
    (([1.0, np.nan], 3, [1.0, 1.0]), {}, "train_cov"),
    (([1.0, 2.0], 3, [1.0, -1.0]), {}, "test_cov"),
    (([1.0, 2.0], 3, [1.0, 1.0]), {"m": 0}, "m must be"),
    (([0.0, 0.0], 3, [1.0, 1.0]), {}, "train_cov"),
])
def test_bad_input(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        ot.overthinking_report(*args, **kwargs)


@pytest.mark.parametrize("fn", [ot.infinite_m_error_exact, ot.remark41_trace_exact])
def test_exact_bad_input(fn):
    with pytest.raises(ValueError, match="k must be"):
        fn([1, 2], 3, [1, 1], -1)
    with pytest.raises(ValueError, match="test_cov"):
        fn([1, 2], 3, [[1, 2], [0, 1]], 1)


# ----------------------------------------------------------------------------- finite m

variance = st.fractions(min_value=Fraction(1, 4), max_value=4, max_denominator=8)


@given(variance, variance, st.integers(1, 20), st.integers(1, 60), st.integers(1, 2))
def test_step_gain_matches_d1_closed_form(lam, sig, n, m, k):
    gain = ot.step_gain([lam], n, [sig], k=k)
    expected = cot_error_d1(lam, n, k + 1, m=m, test_var=sig) - cot_error_d1(lam, n, k, m=m, test_var=sig)
    assert gain.gain(m) == expected
    assert gain.gain(None) == (cot_error_d1(lam, n, k + 1, test_var=sig) - cot_error_d1(lam, n, k, test_var=sig))


@given(problems())
def test_step_gain_threshold_is_exact(problem):
    """The finite-m counterpart of 'one more step helps': exact sign at m_0 and m_0 − 1, and the
    m = ∞ sign from the independent exact m = ∞ error."""
    lam, sig, n = problem
    gain = ot.step_gain(lam, n, sig, k=1)
    limit = ot.infinite_m_error_exact(lam, n, sig, 2) - ot.infinite_m_error_exact(lam, n, sig, 1)
    assert gain.coefficients[0] == limit
    if limit != 0:
        assert gain.helps_at_infinity == (limit < 0)
    if gain.m_threshold is not None:
        m0 = gain.m_threshold
        assert gain.gain(m0) < 0 and (m0 == 1 or gain.gain(m0 - 1) >= 0)
        assert all(gain.gain(m) < 0 for m in (m0 + 1, 2 * m0, 10 * m0, 1000 * m0))
    else:
        assert not gain.helps_at_infinity


@given(variance, variance, st.integers(1, 20))
def test_d1_optimal_steps_do_not_decrease_with_m(lam, sig, n):
    """Observed (not proved) in d = 1: k*(m) is non-decreasing in m; a failure here is a counterexample."""
    def k_star(m, k_max=30):
        errs = [cot_error_d1(lam, n, k, m=m, test_var=sig) for k in range(1, k_max + 1)]
        return errs.index(min(errs)) + 1
    ks = [k_star(m) for m in (1, 2, 4, 8)]
    assert ks == sorted(ks)


@given(variance, variance, st.integers(1, 20), st.integers(2, 30))
def test_finite_m_report_in_d1(lam, sig, n, m):
    report = ot.overthinking_report([lam], n, [sig], m=m, k_max=4)
    exact = [float(cot_error_d1(lam, n, k, m=m, test_var=sig)) for k in range(1, 5)]
    assert np.allclose(report.errors, exact, rtol=1e-12)    # the engine rounds once; the closed form is exact
    assert report.diverges and not report.certified
    assert report.k_star == int(np.argmin(exact)) + 1


def test_finite_m_bad_input():
    with pytest.raises(ValueError, match="k must be"):
        ot.step_gain([1, 2], 3, [1, 1], k=0)
    with pytest.raises(ValueError, match="k_max"):
        ot.overthinking_report([1, 2], 3, [1, 1], m=5, k_max=1)
    with pytest.raises(ValueError, match="normalisation"):
        ot.skewed_spectrum(4, "log")
    with pytest.raises(ValueError, match="ns"):
        ot.lsa_experiment(4, (), (None,))
    with pytest.raises(ValueError, match="ms"):
        ot.lsa_experiment(4, (5,), ())


def test_experiment_rows_and_lookup():
    exp = ot.lsa_experiment(4, (2, 6), (None, 8), k_max=3)
    assert [(r.m, r.n) for r in exp.rows] == [(None, 2), (None, 6), (8, 2), (8, 6)]
    assert exp.row(6, 8).errors.shape == (3,)
    assert sum(exp.train_eigs) == 4                        # tr Λ = d
    with pytest.raises(ValueError, match="no row"):
        exp.row(3)


# ----------------------------------------------------------------------------- tts overthink

def test_cli_json(capsys):
    import json

    from theory.cli import main
    assert main(["overthink", "--train", "1,1/10", "--n", "10", "--test", "1,1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"diverges", "k_star", "max_eig"} <= set(out)
    assert out["diverges"] is True and out["k_star"] == 1
    assert out["max_eig"] == pytest.approx(1 / 0.22, rel=1e-12)    # Γ = diag(1.21, 0.22), Σ = I


def test_cli_text_and_finite_m(capsys):
    from theory.cli import main
    assert main(["overthink", "--train", "1,1", "--n", "5", "--test", "1,1/2"]) == 0
    text = capsys.readouterr().out
    assert "diverges as k → ∞: no" in text and "k* = none" in text
    assert main(["overthink", "--train", "1,1/2", "--n", "4", "--test", "1,1", "--m", "6", "--k-max", "3"]) == 0
    assert "m = 6" in capsys.readouterr().out


@pytest.mark.parametrize("argv, match", [
    (["--train", "1,2", "--n", "0", "--test", "1,1"], "n must be"),
    (["--train", "1,2", "--n", "3", "--test", "1"], "same dimension"),
    (["--train", "1,x", "--n", "3", "--test", "1,1"], "--train"),
    (["--train", "1,2", "--n", "3", "--test", "1,1", "--m", "0"], "m must be"),
])
def test_cli_bad_input(argv, match, capsys):
    from theory.cli import main
    assert main(["overthink", *argv]) == 2
    assert match in capsys.readouterr().err


def test_converging_scan_runs_until_the_transient_is_below_float_resolution():
    # Commuting case: Γ = 1.3 I, μ = (0.5, 0.1), so err_k = 0.25^k + 0.81^k exactly, falling to 0.
    # The scan must run until what is left of the transient is below 1e-12 of the error's scale
    # (err_1 = 1.06), or a late dip or rise could hide beyond it; 0.81^k < 1.06e-12 needs k >= 132.
    # A looser stopping rule (a transient of 1e-2 left, about 24 steps) fails this.
    report = ot.overthinking_report([1.0, 1.0], 10, [0.65, 0.13])
    K = len(report.errors)
    assert report.errors[-1] < 1e-12 * report.errors[0] and K >= 132
    assert report.errors[-1] == pytest.approx(0.25 ** K + 0.81 ** K, rel=1e-9)
    assert report.behaviour == "decreasing" and report.k_star is None and report.certified
