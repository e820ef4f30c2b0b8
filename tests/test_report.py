"""``tts report``: one folder with the LaTeX, the figures and the compiled PDF; clear one-line
errors, before any work, when TeX is missing or the output folder cannot be written."""

import json
import shutil
from pathlib import Path

import pytest

from theory import derive
from theory.cli import main

pytest.importorskip("matplotlib", reason="the `plot` extra (matplotlib) is not installed")

from theory import figures  # noqa: E402  (after the skip: drawing needs matplotlib)

ROOT = Path(__file__).resolve().parent.parent
RECORDS = ROOT / "proofs" / "ledger"
NOTES = ROOT / "paper_notes.md"


def _tiny_figures(monkeypatch):
    """Stand-in figures, one small PDF per name (the drawing is tested in tests/test_figures.py)."""
    from matplotlib.figure import Figure

    def tiny(out_dir, *, quick=False, progress=None, names=figures.FIGURES):
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        for name in names:
            fig = Figure(figsize=(3, 2))
            fig.subplots().plot([0, 1], [1, 0])
            fig.savefig(Path(out_dir) / f"{name}.pdf")
        return [Path(out_dir) / f"{name}.pdf" for name in names]

    monkeypatch.setattr(figures, "write_figures", tiny)


def _no_work(monkeypatch):
    """Fail the test if the command starts rendering or drawing."""
    def refuse(*_, **__):
        raise AssertionError("tts report did work before checking its prerequisites")
    monkeypatch.setattr(derive, "write_derivations", refuse)
    monkeypatch.setattr(figures, "write_figures", refuse)


@pytest.mark.parametrize("missing", [("pdflatex",), ("bibtex",), ("pdflatex", "bibtex")])
def test_missing_tex_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch, missing):
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda tool, *a, **k: None if tool in missing else real_which(tool, *a, **k))
    _no_work(monkeypatch)
    out = tmp_path / "report"
    assert main(["report", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("tts report: error: ") and all(tool in err for tool in missing)
    assert "texlive-latex-base" in err
    assert not out.exists(), "nothing may be written before the check"


def test_unwritable_output_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch):
    if derive.missing_tex_tools():
        monkeypatch.setattr(derive, "missing_tex_tools", lambda: [])
    _no_work(monkeypatch)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory", encoding="utf-8")
    assert main(["report", "--out", str(blocker / "report")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("tts report: error: --out: cannot create"), err


def test_recompute_renders_the_fresh_records(tmp_path, monkeypatch):
    # --recompute writes the records into DIR/ledger and renders those, not the committed ones.
    from theory.commands import derive as derive_command
    monkeypatch.setattr(derive, "missing_tex_tools", lambda: [])
    _tiny_figures(monkeypatch)

    def fresh(directory, only=None):
        shutil.copytree(RECORDS, directory)
        path = Path(directory) / "hard.json"
        rec = json.loads(path.read_text(encoding="utf-8"))
        rec["title"] = "A title only the fresh record has"
        path.write_text(json.dumps(rec), encoding="utf-8")

    monkeypatch.setattr(derive_command, "recompute_records", fresh)
    monkeypatch.setattr(derive, "derivation_steps", lambda claim_id: [])
    monkeypatch.setattr(derive, "compile_pdf", lambda d: derive.Build(Path(d) / "derivations.pdf", 1, ""))
    out = tmp_path / "report"
    assert main(["report", "--out", str(out), "--quick", "--recompute"]) == 0
    assert "A title only the fresh record has" in (out / "sections" / "hard.tex").read_text(encoding="utf-8")
    assert (out / "ledger" / "hard.json").is_file()


@pytest.mark.skipif(bool(derive.missing_tex_tools()), reason="pdflatex or bibtex not installed (CI has them)")
def test_report_puts_latex_figures_and_pdf_in_one_folder(tmp_path, monkeypatch, capsys):
    # The real LaTeX and compilation; stand-in figures and no derivation steps keep it quick.
    _tiny_figures(monkeypatch)
    monkeypatch.setattr(derive, "derivation_steps", lambda claim_id: [])
    out = tmp_path / "report"
    assert main(["report", "--out", str(out), "--quick", "--records", str(RECORDS)]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == str(out / "derivations.pdf")
    assert (out / "derivations.pdf").stat().st_size > 10_000
    assert (out / derive.BIBFILE).is_file() and (out / derive.SECTION_DIR).is_dir()
    log = (out / "derivations.log").read_text(encoding="latin-1")
    for name in figures.FIGURES:
        assert (out / derive.FIGURE_DIR / f"{name}.pdf").is_file()
        assert f"<{derive.FIGURE_DIR}/{name}.pdf" in log, f"{name} was not included"
    assert "0 unresolved citations or references" in captured.err
    # The quick build's captions state the quick settings.
    assert figures.caption("tradeoff", quick=True) in (out / "sections" / "tradeoff.tex").read_text(encoding="utf-8")


@pytest.mark.slow
@pytest.mark.skipif(bool(derive.missing_tex_tools()), reason="pdflatex or bibtex not installed (CI has them)")
def test_full_quick_report(tmp_path, capsys):
    # Everything real: the derivations, the figures (quick) and the PDF (about a minute).
    out = tmp_path / "report"
    assert main(["report", "--out", str(out), "--quick", "--records", str(RECORDS)]) == 0
    err = capsys.readouterr().err
    assert "0 overfull lines, 0 unresolved citations or references" in err
