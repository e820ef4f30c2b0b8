"""The LaTeX derivations: regenerated output equals the committed files, and it compiles."""

import shutil
import subprocess
from pathlib import Path

import pytest
import sympy

from theory import derive
from theory.cli import main

ROOT = Path(__file__).resolve().parent.parent
PROOFS = ROOT / "proofs"
NOTES = ROOT / "paper_notes.md"


@pytest.fixture(scope="module")
def generated() -> dict[str, str]:
    return derive.tex_files(NOTES)


def _committed() -> dict[str, str]:
    files = {derive.MASTER: (PROOFS / derive.MASTER).read_text(encoding="utf-8")}
    for path in sorted((PROOFS / derive.SECTION_DIR).glob("*.tex")):
        files[f"{derive.SECTION_DIR}/{path.name}"] = path.read_text(encoding="utf-8")
    return files


def test_committed_latex_matches_regenerated(generated):
    committed = _committed()
    assert sorted(committed) == sorted(generated), "proofs/ has missing or stale files: run `tts derive`"
    drifted = [name for name in generated if committed[name] != generated[name]]
    assert not drifted, f"proofs/ drifted from the code in {drifted}: run `tts derive` and commit"


def test_one_section_per_ledger_claim(generated):
    ids = [c.id for c in derive.read_notes(NOTES)]
    assert ids, "paper_notes.md has no claim sections"
    for claim_id in ids:
        name = derive.section_filename(claim_id)
        assert name in generated
        assert f"\\input{{{name[:-4]}}}" in generated[derive.MASTER]
        assert f"\\label{{claim:{claim_id}}}" in generated[name]


def test_generated_latex_is_ascii(generated):
    # pdflatex with the default encoding: every Unicode symbol must have become a macro.
    for name, text in generated.items():
        bad = sorted({ch for ch in text if not ch.isascii()})
        assert not bad, f"{name} contains non-ASCII characters {bad}"


def test_prose_maps_unicode_mathematics():
    assert derive.prose("Γ") == r"\ensuremath{\Gamma}"
    assert derive.prose("x ≤ y") == r"x \ensuremath{\le} y"
    assert derive.prose("Ŝ") == r"\ensuremath{\hat{S}}"
    assert derive.prose("Γ⁻¹") == r"\ensuremath{\Gamma}\ensuremath{{}^{-1}}"
    assert derive.prose("**bold** a_long_name") == r"\textbf{bold} a\_long\_name"
    assert derive.prose("w_i and Ŝ_m") == r"\ensuremath{w_{i}} and \ensuremath{\hat{S}_{m}}"
    assert derive.prose("`tr Λ`") == r"\texttt{tr \ensuremath{\Lambda}}"
    assert derive.prose("100% & $") == r"100\% \& \$"
    # An unknown symbol still compiles and stays visible.
    assert derive.prose("☃") == "[U+2603]"


def test_long_sums_are_broken_after_whole_terms():
    x = sympy.symbols("x_1:40")
    lines = derive.display(sympy.Eq(sympy.Symbol("E"), sum(xi ** 2 for xi in x)))
    assert lines.count(r"\\") >= 2
    assert lines.startswith(r"\fitmath{\begin{aligned}")
    short = derive.display(sympy.Rational(1, 3))
    assert short == r"\fitmath{\frac{1}{3}}"


def test_read_notes_parses_fields(tmp_path):
    notes = tmp_path / "notes.md"
    notes.write_text("# Ledger\n\n## `a1` — First claim\n\n- **Statement**: one\n  continued\n"
                     "- **Verdict**: refuted — by a counterexample\n- **Evidence**: e\n"
                     "  - nested one\n\n## `b` — Second\n\n- **Statement**: two\n", encoding="utf-8")
    claims = derive.read_notes(notes)
    assert [c.id for c in claims] == ["a1", "b"]
    assert claims[0].title == "First claim"
    assert claims[0].get("Statement") == "one continued"
    assert claims[0].get("Verdict") == "refuted — by a counterexample"
    assert claims[0].get("Evidence") == "e\n- nested one"
    assert claims[1].get("Verdict") == ""


def test_bad_notes_raise_naming_the_argument(tmp_path):
    with pytest.raises(ValueError, match="notes"):
        derive.read_notes(tmp_path / "missing.md")
    empty = tmp_path / "empty.md"
    empty.write_text("# nothing here\n", encoding="utf-8")
    with pytest.raises(ValueError, match="notes"):
        derive.tex_files(empty)


def test_cli_writes_into_out_and_removes_stale_sections(tmp_path, generated, capsys):
    stale = tmp_path / derive.SECTION_DIR / "gone.tex"
    stale.parent.mkdir(parents=True)
    stale.write_text("stale", encoding="utf-8")
    assert main(["derive", "--out", str(tmp_path), "--notes", str(NOTES)]) == 0
    assert not stale.exists()
    for name, text in generated.items():
        assert (tmp_path / name).read_text(encoding="utf-8") == text
    assert main(["derive", "--out", str(tmp_path), "--notes", str(tmp_path / "nope.md")]) == 2
    assert "notes" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed (CI installs it)")
def test_master_document_compiles(tmp_path, generated):
    for name, text in generated.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    proc = subprocess.run(["pdflatex", "-halt-on-error", "-interaction=nonstopmode", derive.MASTER],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert (tmp_path / "derivations.pdf").stat().st_size > 10_000
