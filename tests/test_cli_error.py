"""``tts error`` and the shared covariance SPEC parser."""

import json
import math
from fractions import Fraction

import numpy as np
import pytest

from theory.cli import main
from theory.commands._spec import parse_spec
from theory.commands.error import parse_ks
from theory.error import cot_error, cot_log_error
from theory.scaling import cor35_log_bound, cot_error_d1, thm33_bound


def run_json(capsys, *argv):
    assert main(["error", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


# ----------------------------------------------------------------------------- SPEC parser

def test_spec_eigenvalues_floats_and_fractions():
    assert np.array_equal(parse_spec("1, 0.5,2e-1", "--train"), np.array([1.0, 0.5, 0.2]))
    exact = parse_spec("1,1/3", "--train")
    assert exact.dtype == object and exact[1] == Fraction(1, 3)


def test_spec_json_and_npy_files(tmp_path):
    matrix = tmp_path / "cov.json"
    matrix.write_text(json.dumps([[2, "1/2"], ["1/2", 1]]))
    out = parse_spec(str(matrix), "--test")
    assert out.shape == (2, 2) and out[0, 1] == Fraction(1, 2)
    eig = tmp_path / "eig.json"
    eig.write_text("[1, 0.25]")
    assert np.array_equal(parse_spec(str(eig), "--test"), np.array([1.0, 0.25]))
    npy = tmp_path / "cov.npy"
    np.save(npy, np.array([[1.0, 0.2], [0.2, 1.0]]))
    assert np.array_equal(parse_spec(str(npy), "--train"), np.array([[1.0, 0.2], [0.2, 1.0]]))


@pytest.mark.parametrize("text, match", [
    ("", "expected comma-separated eigenvalues"),
    ("1,,2", "eigenvalue 1 is empty"),
    ("1,abc", "cannot read eigenvalue 1"),
    ("1,1/0", "cannot read eigenvalue 1"),
    ("1,nan", "finite"),
    ("1,-1", "positive semi-definite"),
    ("missing.json", "no such file"),
    ("missing.npy", "no such file"),
])
def test_spec_bad_input_names_the_option(text, match):
    with pytest.raises(ValueError, match=match) as info:
        parse_spec(text, "--train")
    assert str(info.value).startswith("--train")


def test_spec_bad_files(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="--test: .* is not valid JSON"):
        parse_spec(str(bad), "--test")
    ragged = tmp_path / "ragged.json"
    ragged.write_text("[[1, 0], [0]]")
    with pytest.raises(ValueError, match="different lengths"):
        parse_spec(str(ragged), "--test")
    asym = tmp_path / "asym.json"
    asym.write_text("[[1, 0.5], [0, 1]]")
    with pytest.raises(ValueError, match="--test must be symmetric"):
        parse_spec(str(asym), "--test")
    text = tmp_path / "text.npy"
    np.save(text, np.array(["a", "b"]))
    with pytest.raises(ValueError, match="real numbers"):
        parse_spec(str(text), "--test")


def test_parse_ks():
    assert parse_ks("3") == [3]
    assert parse_ks("5,1,5") == [1, 5]
    assert parse_ks("2:4") == [2, 3, 4]
    for bad in ("0", "1:", "a", "3:1", "1:2:3"):
        with pytest.raises(ValueError, match="--k"):
            parse_ks(bad)


# ----------------------------------------------------------------------------- tts error

def test_json_exact_values_and_bounds(capsys):
    rows = run_json(capsys, "--train", "1,1/2,1/3", "--n", "10", "--k", "1:3", "--m", "20")
    eigs = [Fraction(1), Fraction(1, 2), Fraction(1, 3)]
    assert [r["k"] for r in rows] == [1, 2, 3]
    for r in rows:
        assert r["exact"] == cot_error(eigs, 10, r["k"], m=20)
        assert r["log_cor35_bound"] == pytest.approx(cor35_log_bound([1, 0.5, 1 / 3], 10, r["k"]))
    assert rows[0]["thm33_bound"] == pytest.approx(thm33_bound([1, 0.5, 1 / 3], 10, 20))
    assert "thm33_bound" not in rows[1] and "mc_mean" not in rows[0]


def test_json_monte_carlo_keys(capsys):
    rows = run_json(capsys, "--train", "1,0.5", "--n", "5", "--k", "1,2", "--m", "30",
                    "--mc", "20000", "--seed", "7")
    for r in rows:
        assert {"k", "exact", "mc_mean", "mc_stderr", "mc_trustworthy"} <= set(r)
        if r["mc_trustworthy"]:
            assert abs(r["mc_mean"] - r["exact"]) <= 5 * r["mc_stderr"]


def test_divergent_value_is_reported_in_log_form(capsys):
    rows = run_json(capsys, "--train", "1", "--n", "10", "--k", "300", "--m", "3")
    assert rows[0]["exact"] is None
    assert rows[0]["log_exact"] == pytest.approx(math.log(cot_error_d1(1, 10, 300, m=3).numerator)
                                                 - math.log(cot_error_d1(1, 10, 300, m=3).denominator))
    assert main(["error", "--train", "1", "--n", "10", "--k", "300", "--m", "3"]) == 0
    out = capsys.readouterr().out
    assert "e^2891.12" in out and "inf" not in out


def test_table_output_and_mismatched_test_has_no_bounds(capsys):
    assert main(["error", "--train", "1,0.5", "--test", "2,3", "--n", "10", "--k", "2"]) == 0
    out = capsys.readouterr().out
    assert "exact err_k" in out and "Thm 3.3" not in out and "Cor 3.5" not in out
    value = float(out.strip().splitlines()[-1].split()[1])
    assert value == pytest.approx(math.exp(cot_log_error([1, 0.5], 10, 2, test_cov=[2, 3])), rel=1e-9)


@pytest.mark.parametrize("argv, match", [
    (["--train", "1,x", "--n", "3", "--k", "1"], "--train: cannot read"),
    (["--train", "1,2", "--n", "0", "--k", "1"], "--n must be an integer"),
    (["--train", "1,2", "--n", "3", "--k", "3:1"], "--k: empty range"),
    (["--train", "1,2", "--n", "3", "--k", "1", "--m", "-4"], "--m must be an integer"),
    (["--train", "1,2", "--n", "3", "--k", "1", "--mc", "100"], "--mc needs --m"),
    (["--train", "1,2", "--n", "3", "--k", "1", "--m", "5", "--mc", "1"], "--mc must be an integer >= 2"),
    (["--train", "1,2", "--test", "1,2,3", "--n", "3", "--k", "1"], "same dimension"),
    (["--train", "nofile.npy", "--n", "3", "--k", "1"], "no such file"),
])
def test_bad_input_exit_code_2_one_line(capsys, argv, match):
    assert main(["error", *argv]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tts error: error:") and match in lines[0]
    assert captured.out == ""


# ----------------------------------------------------------------------------- cost guard, bracket, bound

def strict_json(capsys, *argv):
    assert main(["error", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out, parse_constant=lambda c: pytest.fail(f"{c} is not JSON"))


def test_small_budget_gives_a_bracket_that_holds_the_exact_value(capsys):
    # Λ = diag(1, 1/2), n = 4, k = 9, m = 10: the engine is estimated at ~1 s, so a 0.01 s budget
    # gives the certified bracket instead; with a large budget the exact value must lie inside it
    argv = ["--train", "1,1/2", "--n", "4", "--k", "9", "--m", "10"]
    bracket = strict_json(capsys, *argv, "--max-seconds", "0.01")[0]
    assert bracket["exact"] is None and bracket["log_exact"] is None
    assert "zonal" in bracket["bracket_method"] and "over the budget" in bracket["note"]
    exact = strict_json(capsys, *argv, "--max-seconds", "1000")[0]
    assert exact["route"].startswith("exact engine") and "lower" not in exact
    assert bracket["lower"] <= exact["exact"] <= bracket["upper"]
    assert bracket["log_lower"] <= exact["log_exact"] <= bracket["log_upper"]
    from theory.bracket import error_bracket
    ref = error_bracket([1, Fraction(1, 2)], 4, 9, m=10, exact_budget=0)
    assert (bracket["lower"], bracket["upper"]) == (float(ref.lower), float(ref.upper))
    assert main(["error", *argv, "--max-seconds", "0.01"]) == 0
    out = capsys.readouterr().out
    assert "(bracket)" in out and "not the exact value" in out


def test_beyond_the_bracket_budget_a_rigorous_lower_bound(capsys):
    # d = 2, k = 5000, m = 15: neither the engine nor T_k fits; the tail bound of the top direction
    # (β = λ_max(Γ⁻¹Λ) = 18/25 for Λ = diag(1, 3), n = 6: Γ = diag(11/6, 25/6)) is what remains
    from theory.bracket import tail_lower_bound
    row = strict_json(capsys, "--train", "1,3", "--n", "6", "--k", "5000", "--m", "15")[0]
    assert row["upper"] is None and row["log_upper"] is None and row["exact"] is None
    assert "tail_lower_bound" in row["bracket_method"] and "--max-seconds" in row["note"]
    bound, _ = tail_lower_bound(Fraction(18, 25), 5000, 15)
    assert row["log_lower"] == pytest.approx(math.log(bound.numerator) - math.log(bound.denominator), rel=1e-12)
    assert main(["error", "--train", "1,3", "--n", "6", "--k", "5000", "--m", "15"]) == 0
    assert ">= e^" in capsys.readouterr().out


def test_infinite_m_beyond_the_exact_budget_is_an_arb_enclosure(capsys):
    # Λ = diag(1, 3), n = 6: I − Γ⁻¹Λ = diag(5/11, 7/25), err_k = (5/11)^{2k} + (7/25)^{2k}
    k = 300000
    row = strict_json(capsys, "--train", "1,3", "--n", "6", "--k", str(k), "--max-seconds", "1")[0]
    assert row["exact"] is None and "arb" in row["bracket_method"]
    expected = 2 * k * math.log(5 / 11)  # the (7/25) term is below e^-270000 relative to it
    assert row["log_lower"] == pytest.approx(expected, rel=1e-12)
    assert row["log_upper"] == pytest.approx(expected, rel=1e-12)
    assert row["log_lower"] <= row["log_upper"]


def test_d1_huge_k_answers_through_the_closed_form(capsys):
    row = strict_json(capsys, "--train", "1/2", "--test", "3/4", "--n", "7", "--k", "600", "--m", "9")[0]
    exact = cot_error_d1(Fraction(1, 2), 7, 600, m=9, test_var=Fraction(3, 4))
    assert row["route"] == "d = 1 chi-square closed form"
    assert row["log_exact"] == pytest.approx(math.log(exact.numerator) - math.log(exact.denominator), rel=1e-14)


@pytest.mark.parametrize("value", ["0", "-3", "abc", "inf", "nan"])
def test_bad_max_seconds(capsys, value):
    assert main(["error", "--train", "1", "--n", "3", "--k", "1", "--max-seconds", value]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "--max-seconds must be a positive number" in lines[0]
