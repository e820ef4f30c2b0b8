"""Rich notebook display of result objects (theory._repr.RichRepr)."""

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from theory._repr import RichRepr, format_value, html_table


@dataclass(frozen=True)
class _Plain(RichRepr):
    k: int
    ratio: Fraction
    values: np.ndarray
    label: str


@dataclass(frozen=True)
class _WithFormula(RichRepr):
    a: int

    def latex(self) -> str:
        return rf"\frac{{{self.a}}}{{m}} < x"


def test_html_table_lists_every_field_escaped():
    obj = _Plain(3, Fraction(1, 3), np.arange(20.0), "<b>&")
    html = obj._repr_html_()
    for name in ("k", "ratio", "values", "label"):
        assert f">{name}</th>" in html
    assert "&lt;b&gt;&amp;" in html and "<b>&" not in html.replace("<b>_Plain</b>", "")
    assert "1/3 (≈ 0.333333)" in html
    assert "shape (20,)" in html and "…" in html  # long arrays are cut to their head
    assert obj._repr_latex_() is None  # no formula: Jupyter falls back to the HTML


def test_formula_classes_render_as_latex_too():
    obj = _WithFormula(2)
    assert obj._repr_latex_() == r"$\displaystyle \frac{2}{m} < x$"
    html = obj._repr_html_()
    assert html.startswith(r"<p>\(\frac{2}{m} &lt; x\)</p>") and "<table>" in html


def test_format_value_kinds():
    assert format_value(True) == "True" and format_value(np.bool_(False)) == "False"
    assert format_value(Fraction(4, 2)) == "2"
    assert format_value(np.int64(7)) == "7"
    assert format_value(0.1 + 0.2) == "0.3"
    assert format_value([Fraction(1, 2), 1]) == "[1/2 (≈ 0.5), 1]  shape (2,)"
    assert format_value(None) == "None"


def test_library_results_render():
    import theory
    sel = theory.select_tasks([[1.0, 0.5], [0.5, 1.0]], [1.0, 1.0])
    assert "<table>" in sel._repr_html_() and ">pi</th>" in html_table(sel)


def test_error_polynomial_renders_as_its_formula():
    import theory
    poly = theory.cot_error_poly([1.0, 0.5], 10, 1)
    latex = poly._repr_latex_()
    assert latex.startswith(r"$\displaystyle ") and latex.endswith("$")
    assert poly.latex() in latex and "m" in poly.latex()
    assert ">coefficients</th>" in poly._repr_html_()
