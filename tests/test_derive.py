"""The LaTeX derivations: regenerated output equals the committed files, the text is typeset as
text and the mathematics as mathematics, every claim has its figure or says why not, and the
document compiles with its bibliography resolved."""

import re
import shutil
from pathlib import Path

import pytest
import sympy

from theory import derive, figures, ledger
from theory._bibliography import KEYS, bibtex
from theory.cli import main

ROOT = Path(__file__).resolve().parent.parent
PROOFS = ROOT / "proofs"
NOTES = ROOT / "paper_notes.md"
RECORDS = PROOFS / "ledger"


@pytest.fixture(scope="module")
def generated() -> dict[str, str]:
    return derive.tex_files(RECORDS)


def _committed() -> dict[str, str]:
    files = {name: (PROOFS / name).read_text(encoding="utf-8") for name in (derive.MASTER, derive.BIBFILE)}
    for path in sorted((PROOFS / derive.SECTION_DIR).glob("*.tex")):
        files[f"{derive.SECTION_DIR}/{path.name}"] = path.read_text(encoding="utf-8")
    return files


def _sections(generated) -> dict[str, str]:
    return {name: text for name, text in generated.items() if name.startswith(derive.SECTION_DIR)}


def _braced(text: str, start: int) -> str:
    """The balanced ``{...}`` group that opens at ``text[start]``, without its braces."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "{" and text[i - 1] != "\\":
            depth += 1
        elif text[i] == "}" and text[i - 1] != "\\":
            depth -= 1
            if depth == 0:
                return text[start + 1: i]
    raise AssertionError(f"unbalanced braces after position {start}")


def test_committed_latex_matches_regenerated(generated):
    committed = _committed()
    assert sorted(committed) == sorted(generated), "proofs/ has missing or stale files: run `tts derive`"
    drifted = [name for name in generated if committed[name] != generated[name]]
    assert not drifted, f"proofs/ drifted from the code in {drifted}: run `tts derive` and commit"


def test_one_section_per_registered_claim(generated):
    ids = [c.id for c in ledger.registered()]
    assert ids, "no claims registered"
    master = generated[derive.MASTER]
    positions = []
    for claim_id in ids:
        name = derive.section_filename(claim_id)
        assert name in generated
        positions.append(master.index(f"\\input{{{name[:-4]}}}"))
        assert f"\\label{{claim:{claim_id}}}" in generated[name]
        assert f"\\ref{{claim:{claim_id}}}" in master, f"{claim_id} is missing from the verdict table"
    assert positions == sorted(positions), "sections are not in the paper's order"


def test_record_claims_render_every_part(generated):
    # A claim with a record is rendered from it: each part in its environment, with its verdict.
    for rec in derive.claim_views(RECORDS):
        if rec.record is None:
            continue
        text = generated[derive.section_filename(rec.id)]
        for part in rec.statements:
            env = "finding" if part["role"] == "finding" else "statement"
            assert re.search(rf"\\begin\{{{env}\}}\[\\texttt\{{{re.escape(part['id'])}\}};[^\n]*"
                             rf"\\partverdict\{{{part['verdict']}\}}\]", text), (rec.id, part["id"])
            assert ("\\begin{counterexample}" in text) or "counterexample" not in part
        assert text.count("\\begin{counterexample}") == sum("counterexample" in p for p in rec.statements)
        assert text.count("[What is known]") == sum("known" in p for p in rec.statements)


def test_generated_latex_is_ascii_with_every_symbol_known(generated):
    # pdflatex with the default encoding: every Unicode symbol must have become a macro, and none
    # may have fallen back to the visible [U+XXXX] marker.
    for name, text in generated.items():
        bad = sorted({ch for ch in text if not ch.isascii()})
        assert not bad, f"{name} contains non-ASCII characters {bad}"
        assert "[U+" not in text, f"{name} has a symbol the converter does not know"


# Inside \texttt only code: no mathematics, and no macro but the escapes of code characters.
_TT_MACROS = {r"\_", r"\allowbreak", r"\{", r"\}", r"\&", r"\#", r"\%", r"\$", r"\textbackslash", r"\^", r"\~"}


def _formula_in_texttt(content: str) -> str | None:
    """Why ``content`` (the argument of a \\texttt) is not plain code, or None."""
    if "$" in content.replace(r"\$", ""):
        return "a $...$ formula"
    if re.search(r"(?<!\\)[\^_]", content.replace(r"\^{}", "")):
        return "a sub- or superscript"
    macros = set(re.findall(r"\\[A-Za-z]+|\\[^A-Za-z]", content)) - _TT_MACROS
    return f"the macros {sorted(macros)}" if macros else None


def test_no_formula_inside_texttt(generated):
    problems = []
    for name, text in generated.items():
        for match in re.finditer(r"\\texttt(?=\{)", text):
            content = _braced(text, match.end())
            why = _formula_in_texttt(content)
            if why:
                problems.append(f"{name}: \\texttt{{{content}}} holds {why}")
    assert not problems, "\n".join(problems[:20])


def test_formula_checker_sees_formulas():
    # The check above on planted cases, so that a checker that sees nothing fails here.
    assert _formula_in_texttt(r"theory.\allowbreak{}cot\_error") is None
    assert _formula_in_texttt(r"pytest checks/\allowbreak{}test\_x.py") is None
    assert _formula_in_texttt(r"tr \ensuremath{\Lambda}") is not None
    assert _formula_in_texttt(r"E[x $\le$ y]") is not None
    assert _formula_in_texttt(r"w_i") is not None
    assert _formula_in_texttt(r"\Gamma^{-1}") is not None


def test_every_claim_section_has_its_figure_or_says_why(generated):
    included = []
    for name, text in _sections(generated).items():
        shown = [file for file, label in re.findall(r"\\claimfigure\{figures/(\w+)\.pdf\}\{(\w+)\}", text)
                 if file == label]
        reasons = [_braced(text, m.end()) for m in re.finditer(r"\\nofigure(?=\{)", text)]
        assert len(shown) + len(reasons) == 1, f"{name}: {len(shown)} figures and {len(reasons)} reasons"
        assert all(len(r.split()) >= 6 for r in reasons), f"{name}: the reason is not a sentence: {reasons}"
        included += shown
    assert sorted(included) == sorted(figures.FIGURES), "each figure of tts figures belongs to one claim"
    # Each included figure carries the caption its drawing has (the full build's settings).
    for name in figures.FIGURES:
        assert figures.caption(name) in "".join(_sections(generated).values())


def test_captions_follow_the_quick_settings():
    full, quick = figures.caption("tradeoff"), figures.caption("tradeoff", quick=True)
    assert f"{figures.settings('tradeoff')['samples']} prompts" in full
    assert f"{figures.settings('tradeoff', quick=True)['samples']} prompts" in quick
    assert full != quick
    with pytest.raises(ValueError, match="name"):
        figures.settings("nope")


def test_cited_notes_sections_exist(generated):
    sections = {int(n) for n in re.findall(r"^## (\d+)\. ", (PROOFS / "math.md").read_text(encoding="utf-8"), re.M)}
    cited = []
    for name, text in generated.items():
        for run in re.findall(r"math\.md\}~((?:\\S\{\}\d+(?:, )?)+)", text):
            cited += [(name, int(n)) for n in re.findall(r"\d+", run)]
    assert cited, "no section of proofs/math.md is cited"
    assert not [c for c in cited if c[1] not in sections], "cites a section proofs/math.md does not have"


def test_every_citation_has_an_entry_and_every_entry_is_cited(generated):
    cited = set()
    for text in generated.values():
        for keys in re.findall(r"\\cite[pt]?(?:alp)?(?:\[[^\]]*\])*\{([^}]*)\}", text):
            cited |= {k.strip() for k in keys.split(",")}
    assert cited <= set(KEYS), f"cited without an entry: {sorted(cited - set(KEYS))}"
    assert set(KEYS) <= cited, f"entries never cited: {sorted(set(KEYS) - cited)}"
    assert generated[derive.BIBFILE] == bibtex()
    assert len(KEYS) == len(set(KEYS))


def test_prose_keeps_text_as_text_and_mathematics_as_mathematics():
    ids = {"cor3.5"}
    assert derive.prose("Γ") == r"\ensuremath{\Gamma}"
    assert derive.prose("x ≤ y") == r"x \ensuremath{\le} y"
    assert derive.prose("a ≠ b") == r"a \ensuremath{\neq} b"  # ≠ decomposes under NFD
    assert derive.prose("Ŝ") == r"\ensuremath{\hat{S}}"
    assert derive.prose("Γ⁻¹") == r"\ensuremath{\Gamma}\ensuremath{{}^{-1}}"
    assert derive.prose("**bold** a_long_name") == r"\textbf{bold} a\_long\_name"
    assert derive.prose("w_i and Ŝ_m") == r"\ensuremath{w_{i}} and \ensuremath{\hat{S}_{m}}"
    assert derive.prose("100% & $") == r"100\% \& \$"
    assert derive.prose('the "trace" and \\"unit\\"') == "the ``trace'' and ``unit''"
    assert derive.prose("degree <= 5") == r"degree \ensuremath{\le} 5"
    # TeX mathematics passes through; a list of values may break after its commas.
    assert derive.prose(r"$\Lambda = \operatorname{diag}(1, 2)$") == r"$\Lambda = \operatorname{diag}(1,\allowbreak 2)$"
    # A backticked formula is mathematics, backticked code is \texttt, a claim id links.
    assert derive.prose("`tr Λ`") == r"$\operatorname{tr} \Lambda$"
    assert derive.prose("`λ_max(ΓΛ)`") == r"$\lambda_{\max}(\Gamma\Lambda)$"
    assert derive.prose("`x_a ~ N(0, Λ)`") == r"$x_{a} \sim N(0, \Lambda)$"
    assert derive.prose("`E[Ŝ_n²]`") == r"$\mathbb{E} [\hat{S}_{n}^{2}]$"
    assert derive.prose("`{π ∈ Δ : Qπ = Qπ*}`") == r"$\{\pi\in\Delta: Q\pi= Q\pi^{*}\}$"
    assert derive.prose("`√(c⁴ + 1)`") == r"$\sqrt{c^{4} + 1}$"
    assert derive.prose("`pytest checks/x.py`") == r"\texttt{pytest checks/\allowbreak{}x.py}"
    assert derive.prose("`theory.cot_error`") == r"\texttt{theory.\allowbreak{}cot\_\allowbreak{}error}"
    assert derive.prose("`derive_thm33` and `err_k`") == (r"\texttt{derive\_\allowbreak{}thm33} and "
                                                          r"$\mathrm{err} _{k}$")
    assert derive.prose("see `cor3.5`", ids) == r"see \hyperref[claim:cor3.5]{\texttt{cor3.5}}"
    # Library names in running text are code too.
    assert derive.prose("by theory.scaling.k_min") == r"by \texttt{theory.\allowbreak{}scaling.\allowbreak{}k\_\allowbreak{}min}"
    # An unknown symbol still compiles and stays visible.
    assert derive.prose("☃") == "[U+2603]"


def test_long_sums_and_fractions_are_broken_into_lines():
    x = sympy.symbols("x_1:40")
    lines = derive.display(sympy.Eq(sympy.Symbol("E"), sum(xi ** 2 for xi in x)))
    assert lines.count(r"\\") >= 2
    assert lines.startswith(r"\fitmath{\begin{aligned}")
    short = derive.display(sympy.Rational(1, 3))
    assert short == r"\fitmath{\frac{1}{3}}"
    # A fraction with a long numerator: the numerator's terms on several lines.
    frac = derive.display(sympy.Eq(sympy.Symbol("c"), sum(xi ** 3 for xi in x) / (x[0] + 1) ** 2))
    assert r"\frac{1}{\left(x_{1} + 1\right)^{2}} \Big(" in frac and frac.count(r"\\") >= 2


def test_a_claim_without_a_record_is_one_clear_error(tmp_path):
    with pytest.raises(ValueError, match="records: no record for claim"):
        derive.tex_files(tmp_path / "empty")


def test_cli_writes_into_out_and_removes_stale_sections(tmp_path, generated, capsys):
    stale = tmp_path / derive.SECTION_DIR / "gone.tex"
    stale.parent.mkdir(parents=True)
    stale.write_text("stale", encoding="utf-8")
    shutil.copytree(RECORDS, tmp_path / "ledger")
    notes = tmp_path / "notes.md"
    assert main(["derive", "--out", str(tmp_path), "--notes", str(notes), "--render-only"]) == 0
    assert not stale.exists()
    for name, text in generated.items():
        assert (tmp_path / name).read_text(encoding="utf-8") == text
    # the ledger rendered from the same records is the committed one
    assert notes.read_text(encoding="utf-8") == NOTES.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def built(tmp_path_factory, generated):
    """The committed document compiled as CI compiles it: pdflatex, bibtex, pdflatex twice."""
    if derive.missing_tex_tools():
        pytest.skip(f"{', '.join(derive.missing_tex_tools())} not installed (CI installs TeX Live)")
    out = tmp_path_factory.mktemp("latex")
    for name, text in generated.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(text, encoding="utf-8")
    return derive.compile_pdf(out)


def test_master_document_compiles(built):
    assert built.pdf.stat().st_size > 10_000
    assert built.pages > len(ledger.registered())


def test_bibliography_and_references_resolve(built):
    # Every \cite has an entry bibtex formatted, and every \ref a label.
    assert not built.undefined, "\n".join(built.undefined)
    assert re.search(r"\\bibitem\[[^\]]*\]\{javanmard2026\}",
                     (built.pdf.parent / "derivations.bbl").read_text(encoding="latin-1"))


def test_no_line_runs_into_the_margin(built):
    assert not built.overfull, "\n".join(built.overfull)


def test_build_reports_what_the_log_warns_about():
    log = ("Overfull \\hbox (3.1pt too wide) in paragraph at lines 1--2\n"
           "Package natbib Warning: Citation `nope' on page 2 undefined on input line 15.\n"
           "LaTeX Warning: Reference `fig:x' on page 3 undefined on input line 9.\n"
           "LaTeX Warning: There were undefined references.\n"
           "Package natbib Warning: There were undefined citations.\n"
           "LaTeX Warning: Label(s) may have changed. Rerun to get cross-references right.\n")
    build = derive.Build(Path("x.pdf"), 1, log)
    assert len(build.overfull) == 1
    assert len(build.undefined) == 4


def test_zero_vectors_and_matrices_display_as_the_zero_of_their_shape():
    # A column of zeros runs down the page and reads badly; the zero of its shape says the same.
    assert derive.display(sympy.zeros(4, 1)) == r"\fitmath{\mathbf{0}_{4 \times 1}}"
    assert derive.display(sympy.zeros(3, 3)) == r"\fitmath{\mathbf{0}_{3 \times 3}}"
    # Anything with one nonzero entry is still shown entry by entry, and a scalar zero stays 0.
    shown = derive.display(sympy.Matrix([[0], [sympy.Rational(1, 2)]]))
    assert r"\frac{1}{2}" in shown and r"\mathbf{0}" not in shown
    assert derive.display(sympy.Integer(0)) == r"\fitmath{0}"
