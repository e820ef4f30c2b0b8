r"""Ledger text: TeX-math templates whose numbers are filled in by the computation.

Every sentence of the ledger (``paper_notes.md``, the LaTeX report, ``tts verify``) that carries a
number is a :class:`Tex` template: fixed words and formulas, with placeholders ``«name»`` or
``«name:spec»`` for the values a check computed.  Formulas are TeX math in ``$…$``, which GitHub
renders in Markdown and pdflatex typesets; the placeholders use guillemets so that TeX's own braces
need no escaping.

Rendering a template with ``mask=True`` replaces every value by :data:`MASK`; a test scans the
masked ledger for digits, so a number typed into a template by hand (instead of computed) fails it.

Format specs (the default depends on the value's type):

========  ==================================================================================
``.4g``   a float to 4 significant digits; powers of ten as ``1.2\times10^{-7}``
``%``     a float as a percentage (``12.5\%``), 3 significant digits
``frac``  a ``Fraction`` as ``\tfrac{p}{q}`` (an integer stays an integer)
``mat``   a matrix (nested sequence or 2-D array) as ``\begin{pmatrix}…\end{pmatrix}``, or
          ``\operatorname{diag}(…)`` when it is diagonal
``list``  the items joined by ``, `` (each with the item spec after ``list``: ``list.3g``)
``log``   a natural logarithm ``x`` shown as ``e^{x}`` (for values beyond the float range)
========  ==================================================================================
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from numbers import Integral, Real

import numpy as np

MASK = "\u27e8\u27e9"  # ⟨⟩: what a computed value renders as in a masked template
_FIELD = re.compile(r"«([A-Za-z_][A-Za-z0-9_]*)(?::([^»]*))?»")


@dataclass(frozen=True)
class Step:
    """One step of a derivation: prose (TeX math in ``$…$``) and the formula the code produced."""

    text: str
    math: object = None


class Tex:
    """A ledger sentence: a template with computed values, rendered on demand.

    Parameters
    ----------
    template : str
        Text with TeX math in ``$…$`` and placeholders ``«name»`` / ``«name:spec»``.
    **values
        The computed values; every placeholder must have one, and every value must be used.
    """

    __slots__ = ("template", "values")

    def __init__(self, template: str, **values):
        names = {m.group(1) for m in _FIELD.finditer(template)}
        missing, unused = names - set(values), set(values) - names
        if missing or unused:
            raise ValueError(f"template fields and values differ: missing {sorted(missing)}, "
                             f"unused {sorted(unused)} in {template!r}")
        self.template = template
        self.values = values

    def render(self, mask: bool = False) -> str:
        def fill(match):
            if mask:
                return MASK
            return format_value(self.values[match.group(1)], match.group(2) or "")
        return _FIELD.sub(fill, self.template)

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return f"Tex({self.render()!r})"

    def __add__(self, other: "Tex | str") -> "Tex":
        other = other if isinstance(other, Tex) else Tex(other)
        clash = set(self.values) & set(other.values)
        if clash:
            raise ValueError(f"cannot join templates that share field names {sorted(clash)}")
        return Tex(self.template + other.template, **self.values, **other.values)


def tex(template: str, **values) -> Tex:
    """Shorthand for :class:`Tex`."""
    return Tex(template, **values)


def join(parts, sep: str = " ") -> Tex:
    """One template from several, renaming fields so that they cannot clash."""
    template, values = [], {}
    for i, part in enumerate(parts):
        part = part if isinstance(part, Tex) else Tex(part)
        template.append(_FIELD.sub(lambda m: f"«p{i}_{m.group(1)}" + (f":{m.group(2)}" if m.group(2) else "") + "»",
                                   part.template))
        values.update({f"p{i}_{k}": v for k, v in part.values.items()})
    return Tex(sep.join(template), **values)


# ---------------------------------------------------------------------------------------------
# Values → TeX


def sci(x: float, digits: int = 4) -> str:
    """A float in TeX to ``digits`` significant digits (``1.2\\times10^{-7}`` outside [1e-3, 1e5))."""
    x = float(x)
    if math.isnan(x):
        raise ValueError("a ledger value is NaN")
    if math.isinf(x):
        return r"\infty" if x > 0 else r"-\infty"
    if x == 0:
        return "0"
    x = float(f"{x:.{digits}g}")  # rounded to `digits` significant digits
    exponent = math.floor(math.log10(abs(x)))
    if -3 <= exponent < 5:
        text = f"{x:.{digits}g}"
        if "e" not in text:
            return text
        # More integer digits than significant ones (1234.5 to 3 digits), or rounding carried into
        # the next decade: show the rounded value as mantissa × 10^exponent.
        x = float(text)
        exponent = math.floor(math.log10(abs(x)))
    mantissa = f"{x / 10 ** exponent:.{digits}g}"
    if mantissa in ("10", "-10"):
        mantissa, exponent = mantissa[:-1], exponent + 1
    if mantissa in ("1", "-1"):
        return f"{'-' if x < 0 else ''}10^{{{exponent}}}"
    return f"{mantissa}\\times10^{{{exponent}}}"


def frac(x) -> str:
    """A rational in TeX: ``\\tfrac{p}{q}``, or the integer."""
    x = Fraction(x)
    if x.denominator == 1:
        return str(x.numerator)
    sign = "-" if x < 0 else ""
    return f"{sign}\\tfrac{{{abs(x.numerator)}}}{{{x.denominator}}}"


def _entry(v) -> str:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, (Fraction, Integral)):
        return frac(v)
    return sci(v)


def matrix(M) -> str:
    """A square or rectangular matrix in TeX; ``\\operatorname{diag}(…)`` when square and diagonal."""
    rows = [list(r) for r in (M.tolist() if isinstance(M, np.ndarray) else M)]
    if rows and all(len(r) == len(rows) for r in rows) and all(
            rows[i][j] == 0 for i in range(len(rows)) for j in range(len(rows)) if i != j):
        return r"\operatorname{diag}(" + ", ".join(_entry(rows[i][i]) for i in range(len(rows))) + ")"
    body = r" \\ ".join(" & ".join(_entry(v) for v in r) for r in rows)
    return r"\begin{pmatrix}" + body + r"\end{pmatrix}"


def format_value(value, spec: str = "") -> str:
    """TeX of one computed value under a format spec (see the module docstring)."""
    if isinstance(value, Tex):
        return value.render()
    if isinstance(value, np.generic):
        value = value.item()
    if spec.startswith("list"):
        item = spec[4:].lstrip(".")
        item = f".{item}" if item and item[0].isdigit() else item
        return ", ".join(format_value(v, item) for v in value)
    if spec == "mat":
        return matrix(value)
    if spec == "frac":
        return frac(value)
    if spec == "log":
        return f"e^{{{sci(value, 4)}}}"
    if spec == "%":
        return f"{sci(100 * float(value), 3)}\\%"
    if spec.startswith(".") and spec.endswith("g"):
        return sci(value, int(spec[1:-1]))
    if spec.startswith(".") and spec.endswith("f"):
        return f"{float(value):{spec}}"
    if spec:
        raise ValueError(f"unknown format spec {spec!r}")
    if isinstance(value, bool):
        raise ValueError("a boolean has no TeX form; state it in words")
    if isinstance(value, str):
        return value
    if isinstance(value, (Fraction, Integral)):
        return frac(value)
    if isinstance(value, Real):
        return sci(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(format_value(v) for v in value)
    if isinstance(value, np.ndarray) and value.ndim == 2:
        return matrix(value)
    raise ValueError(f"no TeX form for a value of type {type(value).__name__}")


# ---------------------------------------------------------------------------------------------
# TeX → plain Unicode, for the terminal

_PLAIN_MACROS = {
    r"\le": "≤", r"\ge": "≥", r"\leq": "≤", r"\geq": "≥", r"\ne": "≠", r"\neq": "≠", r"\approx": "≈",
    r"\infty": "∞", r"\to": "→", r"\times": "×", r"\cdot": "·", r"\pm": "±", r"\sim": "~",
    r"\propto": "∝", r"\in": "∈", r"\succ": "≻", r"\succeq": "⪰", r"\preceq": "⪯", r"\not\preceq": "⋠",
    r"\ldots": "…", r"\dots": "…", r"\cdots": "⋯", r"\sum": "Σ", r"\prod": "Π", r"\int": "∫",
    r"\partial": "∂", r"\langle": "⟨", r"\rangle": "⟩", r"\|": "‖", r"\top": "ᵀ", r"\min": "min",
    r"\max": "max", r"\log": "log", r"\exp": "exp", r"\sqrt": "√", r"\chi": "χ", r"\ell": "ℓ",
    r"\mathbb E": "E", r"\mathbb{E}": "E", r"\,": " ", r"\;": " ", r"\quad": "  ", r"\%": "%",
    r"\{": "{", r"\}": "}", r"\lfloor": "⌊", r"\rfloor": "⌋", r"\lceil": "⌈", r"\rceil": "⌉",
    r"\mid": "|", r"\circ": "∘", r"\otimes": "⊗", r"\emptyset": "∅", r"\subseteq": "⊆",
}
_GREEK = ("alpha beta gamma delta epsilon varepsilon zeta eta theta iota kappa lambda mu nu xi pi rho "
          "sigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Phi Psi Omega").split()
_GREEK_CHARS = dict(zip(_GREEK, "αβγδεεζηθικλμνξπρστυφφχψωΓΔΘΛΞΠΣΦΨΩ"))


def plain(text: str) -> str:
    """A readable plain-Unicode form of ledger TeX (for the terminal; best effort, lossy)."""
    out = text.replace("$$", "").replace("$", "")
    out = re.sub(r"\\(?:tfrac|frac|dfrac)\{([^{}]*)\}\{([^{}]*)\}", r"(\1)/(\2)", out)
    out = re.sub(r"\\(?:mathrm|operatorname|mathbf|text|textit|emph|mathcal)\{([^{}]*)\}", r"\1", out)
    out = re.sub(r"\\(hat|tilde|bar)\{?([A-Za-z])\}?", lambda m: m.group(2) + {"hat": "\u0302", "tilde": "\u0303",
                                                                                 "bar": "\u0304"}[m.group(1)], out)
    out = re.sub(r"\\begin\{pmatrix\}(.*?)\\end\{pmatrix\}",
                 lambda m: "[" + "; ".join(r.replace("&", ",").strip() for r in m.group(1).split(r"\\")) + "]", out)
    out = re.sub(r"\\(left|right|big|Big|bigl|bigr|Bigl|Bigr)(?![A-Za-z])", "", out)
    for macro in sorted(_PLAIN_MACROS, key=len, reverse=True):
        out = re.sub(re.escape(macro) + r"(?![A-Za-z])", lambda _m, v=_PLAIN_MACROS[macro]: v, out)
    out = re.sub(r"\\([A-Za-z]+)", lambda m: _GREEK_CHARS.get(m.group(1), m.group(1)), out)
    out = re.sub(r"\^\{([^{}]*)\}", r"^\1", out)
    out = re.sub(r"_\{([^{}]*)\}", r"_\1", out)
    return re.sub(r"[ \t]+", " ", out)
