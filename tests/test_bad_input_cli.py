"""Every CLI error is exit status 2 and one line on stderr naming the option; output paths are
checked before any work; ``--version``; strict JSON from every command's ``--json``."""

import json
from importlib.metadata import version

import numpy as np
import pytest

from theory import ledger
from theory.cli import main


def _refuse(constant):
    raise ValueError(f"{constant} is not JSON")


def strict(text: str):
    """Parse with a strict parser: ``NaN``/``Infinity`` tokens are an error."""
    return json.loads(text, parse_constant=_refuse)


def one_line_error(capsys, argv, command, *needles):
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse's own errors exit from inside parse_args
        status = exc.code
    assert status == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"tts {command}: error: "), lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert "Traceback" not in captured.err
    return lines[0]


@pytest.fixture
def blocker(tmp_path):
    """A plain file, so that ``blocker/x`` can never be created."""
    path = tmp_path / "plain-file"
    path.write_text("not a directory", encoding="utf-8")
    return path


@pytest.fixture
def no_claims_run(monkeypatch):
    def refuse(*_, **__):
        raise AssertionError("a claim ran before the output paths were checked")
    monkeypatch.setattr(ledger, "run_claim", refuse)


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"tts-theory {version('tts-theory')}"


def test_argparse_errors_are_one_line(capsys):
    one_line_error(capsys, ["error", "--n", "3"], "error", "--train")
    with pytest.raises(SystemExit):
        main(["no-such-command"])
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tts: error:")


def test_derive_unwritable_out_and_notes(capsys, blocker, tmp_path, no_claims_run):
    one_line_error(capsys, ["derive", "--out", str(blocker / "x")], "derive", "--out", "cannot create")
    one_line_error(capsys, ["derive", "--out", str(tmp_path / "p"), "--notes", str(tmp_path / "no" / "n.md")],
                   "derive", "--notes", "does not exist")


def test_figures_unwritable_out_and_empty_only(capsys, blocker):
    one_line_error(capsys, ["figures", "--out", str(blocker / "x"), "--quick"], "figures", "--out")
    one_line_error(capsys, ["figures", "--only", " , "], "figures", "--only", "no figure names")


def test_verify_checks_markdown_path_before_any_check(capsys, tmp_path, no_claims_run):
    one_line_error(capsys, ["verify", "--markdown", str(tmp_path / "missing" / "r.md")], "verify", "--markdown")
    one_line_error(capsys, ["verify", "--markdown", str(tmp_path)], "verify", "--markdown", "is a directory")


def test_verify_refuses_empty_only(capsys, no_claims_run):
    one_line_error(capsys, ["verify", "--only", ""], "verify", "--only", "no claim ids")
    one_line_error(capsys, ["verify", "--only", " ,"], "verify", "--only", "no claim ids")


def test_report_unwritable_out_before_work(capsys, blocker, monkeypatch):
    pytest.importorskip("matplotlib", reason="the `plot` extra (matplotlib) is not installed")
    from theory import derive
    monkeypatch.setattr(derive, "missing_tex_tools", lambda: [])
    monkeypatch.setattr(derive, "write_derivations", lambda *a, **k: _refuse("work"))
    one_line_error(capsys, ["report", "--out", str(blocker / "r")], "report", "--out", "cannot create")
    one_line_error(capsys, ["report", "--out", str(blocker.parent / "r"), "--records", str(blocker.parent / "no")],
                   "report", "--records")


HUGE = "7" * 401 + "/3"  # about 2.6e400: beyond float64


@pytest.mark.parametrize("argv, option", [
    (["error", "--train", f"2,{HUGE}", "--n", "4", "--k", "2", "--m", "5"], "--train"),
    (["error", "--train", "2,1", "--test", f"{HUGE},1", "--n", "4", "--k", "2"], "--test"),
    (["overthink", "--train", "1,1", "--test", f"1,{HUGE}", "--n", "3"], "--test"),
])
def test_huge_rational_is_refused_naming_the_option(capsys, argv, option):
    one_line_error(capsys, argv, argv[0], option, "beyond the float64 range")


def test_tiny_rational_is_accepted_exactly(capsys):
    # 1/3·10^-400 underflows a float but the exact route carries it: err_1 at m = ∞ is
    # (1 − 1/γ_1)^2 + (1 − ε/γ_2)^2 with γ = (1 + 1/n)λ + tr Λ/n, here n = 4
    tiny = "1/3" + "0" * 400
    assert main(["error", "--train", f"1,{tiny}", "--n", "4", "--k", "1", "--json"]) == 0
    row = strict(capsys.readouterr().out)[0]
    from fractions import Fraction
    eps = Fraction(1, 3 * 10 ** 400)
    g1, g2 = Fraction(5, 4) + (1 + eps) / 4, Fraction(5, 4) * eps + (1 + eps) / 4
    assert row["exact"] == float((1 - 1 / g1) ** 2 + (1 - eps / g2) ** 2)


def test_select_binary_and_huge_task_files(capsys, tmp_path):
    npy = tmp_path / "tasks.npy"
    np.save(npy, np.eye(2))
    one_line_error(capsys, ["select", "--tasks", str(npy), "--target", "1,1"], "select", "--tasks",
                   str(npy), "UTF-8")
    huge = tmp_path / "huge.json"
    huge.write_text(json.dumps([[1, 10 ** 400], [2, 1]]), encoding="utf-8")
    one_line_error(capsys, ["select", "--tasks", str(huge), "--target", "1,1"], "select", "--tasks[0][1]",
                   "float64")
    one_line_error(capsys, ["select", "--tasks", str(tmp_path), "--target", "1,1"], "select", "--tasks")


def test_spec_file_not_utf8_names_the_option_and_file(capsys, tmp_path):
    bad = tmp_path / "cov.json"
    bad.write_bytes(b"\x93NUMPY\x01\x00")
    one_line_error(capsys, ["error", "--train", str(bad), "--n", "3", "--k", "1"], "error", "--train", str(bad))


def test_generic_guard_one_line_for_value_and_overflow_errors_only(capsys, monkeypatch):
    import theory.commands.select as select
    monkeypatch.setattr(select, "run", lambda args: (_ for _ in ()).throw(OverflowError("a float beyond range")))
    one_line_error(capsys, ["select", "--tasks", "x.json", "--target", "1"], "select", "a float beyond range")
    monkeypatch.setattr(select, "run", lambda args: (_ for _ in ()).throw(KeyError("a bug")))
    with pytest.raises(KeyError):  # a bug keeps its traceback
        main(["select", "--tasks", "x.json", "--target", "1"])


# ----------------------------------------------------------------------------- strict JSON, every command

@pytest.mark.filterwarnings("ignore:mc_cot_error. err_k exceeds float64")
def test_error_json_is_strict_where_values_leave_float64(capsys):
    # m = ∞, k = 10^5: err = (2/7)^{2k} + (1/5)^{2k} underflows to 0.0 (Λ = diag(1, 2), n = 10:
    # Γ = diag(7/5, 5/2), I − Γ^{-1}Λ = diag(2/7, 1/5)); the Cor 3.5 bound underflows too
    assert main(["error", "--train", "1,2", "--n", "10", "--k", "100000", "--json"]) == 0
    row = strict(capsys.readouterr().out)[0]
    assert row["exact"] == 0.0
    assert row["log_exact"] == pytest.approx(200000 * np.log(2 / 7), rel=1e-12)
    # d = 1, m = 3: beyond float64 above
    assert main(["error", "--train", "1", "--n", "10", "--k", "300", "--m", "3", "--json",
                 "--mc", "50"]) == 0
    row = strict(capsys.readouterr().out)[0]
    assert row["exact"] is None and row["log_exact"] > 709


def test_overthink_select_verify_json_are_strict(capsys, tmp_path, monkeypatch):
    assert main(["overthink", "--train", "1,1/10", "--n", "10", "--test", "4,1", "--json"]) == 0
    assert isinstance(strict(capsys.readouterr().out), dict)
    tasks = tmp_path / "tasks.json"
    tasks.write_text(json.dumps([[1, 2], ["1/2", 3]]), encoding="utf-8")
    assert main(["select", "--tasks", str(tasks), "--target", "1,1", "--json"]) == 0
    assert "pi" in strict(capsys.readouterr().out)
    monkeypatch.setattr(ledger, "_REGISTRY", {})  # the stand-in claim must not outlive the test
    claim = ledger.Claim("c.inf", "Inf", "a claim with an infinite number", "[paper]", "", "checks/test_c.py")

    @claim.part("part", ledger.CLAIM, "x")
    def _(full):
        return ledger.holds("max error 0")

    monkeypatch.setattr(ledger, "registered", lambda: [claim])
    real = ledger.run_claim

    def with_infinity(claim_id, full=False):
        result = real(claim_id, full=full)
        object.__setattr__(result, "seconds", float("inf"))  # a non-finite number must still be JSON
        return result

    monkeypatch.setattr(ledger, "run_claim", with_infinity)
    assert main(["verify", "--json"]) == 0
    assert strict(capsys.readouterr().out)[0]["seconds"] is None


def test_overthink_refuses_an_over_budget_scan_before_any_work(capsys, monkeypatch):
    import theory.overthinking as module

    monkeypatch.setattr(module, "overthinking_report", lambda *a, **k: _refuse("work"))
    one_line_error(capsys, ["overthink", "--train", "1,3", "--test", "2,1", "--n", "6", "--m", "12",
                            "--k-max", "25"], "overthink", "--k-max", "--max-seconds 60")
    one_line_error(capsys, ["overthink", "--train", "1,3", "--test", "2,1", "--n", "6", "--m", "12",
                            "--max-seconds", "0"], "overthink", "--max-seconds")


@pytest.mark.parametrize("argv, option", [
    (["overthink", "--train", "1,2", "--test", "1,1", "--n", "0"], "--n must be"),
    (["overthink", "--train", "1,2", "--test", "1,1", "--n", "5", "--m", "0"], "--m must be"),
    (["overthink", "--train", "1,2", "--test", "1,1", "--n", "5", "--m", "5", "--k-max", "1"], "--k-max must be"),
    (["overthink", "--train", "1,2", "--test", "1,0.5,0.25", "--n", "5"], "--train and --test must have"),
    (["error", "--train", "1,2", "--test", "1,2,3", "--n", "3", "--k", "1"], "--train and --test must have"),
])
def test_library_messages_name_the_option_typed(capsys, argv, option):
    # the library says "n must be ..." or "train_cov and test_cov must ..."; the command line names
    # the option that supplied the argument
    line = one_line_error(capsys, argv, argv[0], option)
    assert "train_cov" not in line and "test_cov" not in line


def test_option_names_replace_only_the_subject_of_a_complaint():
    from theory.cli import _one_line
    options = {"n": "--n", "m": "--m", "k_max": "--k-max"}
    assert _one_line(ValueError("n must be >= 1 at m = 12"), options) == "--n must be >= 1 at m = 12"
    assert _one_line(ValueError("k_max: too large"), options) == "--k-max: too large"
    assert _one_line(ValueError("n_max must be"), options) == "n_max must be"
    assert (_one_line(ValueError("task_covs[0] and task_covs[1] must match"), {"task_covs": "--tasks"})
            == "--tasks entry 0 and --tasks entry 1 must match")


def test_render_only_without_records_names_the_option(capsys, tmp_path):
    one_line_error(capsys, ["derive", "--render-only", "--out", str(tmp_path / "d"), "--notes",
                            str(tmp_path / "n.md")], "derive", "--render-only", "--out")


def test_error_refuses_a_range_longer_than_a_table(capsys):
    one_line_error(capsys, ["error", "--train", "1,2", "--n", "10", "--k", "1:1000000"], "error", "--k",
                   "1000000 values")
