"""Rich display of result objects in notebooks (Jupyter, marimo).

A frozen result dataclass gains an HTML table of its fields by inheriting :class:`RichRepr`;
a class that can write itself as a formula (a ``latex()`` method returning math-mode LaTeX
without dollar signs) also renders as that formula.

    @dataclass(frozen=True)
    class ErrorPoly(RichRepr):
        ...
        def latex(self) -> str: ...

Nothing here changes ``repr``/``str``: plain consoles see the dataclass repr as before.
"""

from __future__ import annotations

import dataclasses
import html
from fractions import Fraction
from numbers import Real

import numpy as np

# Arrays longer than this are shown by their head and shape: a notebook cell is not a dump.
_ARRAY_HEAD = 8


def format_value(value) -> str:
    """A short human-readable rendering of one field value (plain text, not yet escaped)."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, Fraction):
        return f"{value} (≈ {float(value):.6g})" if value.denominator != 1 else str(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, Real):
        return f"{float(value):.6g}"
    if isinstance(value, np.ndarray):
        flat = value.ravel()
        if flat.dtype == object:
            items = [format_value(v) for v in flat[:_ARRAY_HEAD]]
        else:
            items = [format_value(v) for v in flat[:_ARRAY_HEAD].tolist()]
        more = ", …" if flat.size > _ARRAY_HEAD else ""
        return f"[{', '.join(items)}{more}]  shape {value.shape}"
    if isinstance(value, (list, tuple)) and len(value) > 0 and all(
            isinstance(v, (Real, Fraction)) for v in value):
        return format_value(np.asarray(value, dtype=object if any(
            isinstance(v, Fraction) for v in value) else float))
    return str(value)


def html_table(obj) -> str:
    """An HTML table of a dataclass instance's fields (name, value)."""
    rows = []
    for field in dataclasses.fields(obj):
        value = format_value(getattr(obj, field.name))
        rows.append(f"<tr><th style='text-align:left'>{html.escape(field.name)}</th>"
                    f"<td style='text-align:left'><code>{html.escape(value)}</code></td></tr>")
    title = html.escape(type(obj).__name__)
    return f"<table><caption style='text-align:left'><b>{title}</b></caption>{''.join(rows)}</table>"


class RichRepr:
    """Mixin for frozen result dataclasses: ``_repr_html_`` always, ``_repr_latex_`` when the
    class defines ``latex()``."""

    __slots__ = ()

    def _repr_html_(self) -> str:
        table = html_table(self)
        latex = getattr(self, "latex", None)
        if callable(latex):
            # MathJax/KaTeX in the notebook typesets the \( \) span; the table keeps every field.
            return f"<p>\\({html.escape(latex())}\\)</p>{table}"
        return table

    def _repr_latex_(self) -> str | None:
        latex = getattr(self, "latex", None)
        return f"$\\displaystyle {latex()}$" if callable(latex) else None
