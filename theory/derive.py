"""The derivations as LaTeX: one section per ledger claim, written from the symbolic work itself.

Every displayed formula is ``sympy.latex`` of an expression the library computed while deriving
the claim (a Wick expansion, stationarity equations, a block-matrix product, an exact error
polynomial, ...), or the LaTeX printer of a library result object; prose around it is glue.
Statements, conventions and verdicts are read from ``paper_notes.md``, the claims ledger, so the
document and the ledger cannot disagree.

Layout written by :func:`write_derivations` (``tts derive``)::

    derivations.tex          master document (pdflatex), \\input's each section
    sections/<claim>.tex     one section per claim, in the ledger's order

Notation: Λ training covariance, Σ test covariance, n and m training and test prompt lengths,
Γ = (1 + 1/n) Λ + (tr Λ / n) I, k the number of LSA forward passes (w_0 = 0, k = 1 is direct ICL).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable

import sympy

from theory._tex import Step

SECTION_DIR = "sections"
MASTER = "derivations.tex"

# ---------------------------------------------------------------------------------------------
# The ledger (paper_notes.md) as structured text
# ---------------------------------------------------------------------------------------------

_HEAD = re.compile(r"^## `([^`]+)`\s*(?:—\s*(.*?))?\s*$", re.M)
_BULLET = re.compile(r"^- \*\*([^*]+)\*\*:\s*(.*)$")


@dataclass(frozen=True)
class ClaimNotes:
    """One claim's section of ``paper_notes.md``: its id, title and bullet fields in order."""

    id: str
    title: str
    fields: tuple[tuple[str, str], ...]

    def get(self, key: str, default: str = "") -> str:
        for k, v in self.fields:
            if k.lower() == key.lower():
                return v
        return default


def read_notes(path: str | Path) -> list[ClaimNotes]:
    """Parse the claim sections (``## `id` — title``) of a ``paper_notes.md`` file.

    A bullet ``- **Key**: value`` may continue on indented lines; continuation lines are joined
    with a space (nested bullets keep their own line, marked by a leading ``-``).
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"notes: {path} not found (run from the repository root or pass --notes)")
    text = path.read_text(encoding="utf-8")
    heads = list(_HEAD.finditer(text))
    claims = []
    for i, head in enumerate(heads):
        body = text[head.end(): heads[i + 1].start() if i + 1 < len(heads) else len(text)]
        fields: list[list[str]] = []
        for line in body.splitlines():
            match = _BULLET.match(line)
            if match:
                fields.append([match.group(1).strip(), match.group(2).strip()])
            elif fields and line.startswith((" ", "\t")) and line.strip():
                sep = "\n" if line.strip().startswith("- ") else " "
                fields[-1][1] = f"{fields[-1][1]}{sep}{line.strip()}"
            elif line.startswith("## "):
                break
        claims.append(ClaimNotes(head.group(1), (head.group(2) or "").strip(),
                                 tuple((k, v) for k, v in fields)))
    return claims


# ---------------------------------------------------------------------------------------------
# Prose (Markdown with Unicode mathematics) → LaTeX that pdflatex accepts with no extra packages
# ---------------------------------------------------------------------------------------------

_SYMBOLS = {
    "‖": r"\|", "≤": r"\le", "≥": r"\ge", "≈": r"\approx", "→": r"\to", "←": r"\leftarrow",
    "⇒": r"\Rightarrow", "⇔": r"\Leftrightarrow", "↔": r"\leftrightarrow", "∞": r"\infty",
    "−": "-", "×": r"\times", "·": r"\cdot", "⟨": r"\langle", "⟩": r"\rangle", "∈": r"\in",
    "∉": r"\notin", "√": r"\surd", "∝": r"\propto", "≠": r"\neq", "±": r"\pm", "≪": r"\ll",
    "≫": r"\gg", "∑": r"\sum", "∏": r"\prod", "∂": r"\partial", "⊤": r"\top", "∀": r"\forall",
    "∃": r"\exists", "≡": r"\equiv", "∘": r"\circ", "⊂": r"\subset", "⊆": r"\subseteq",
    "∪": r"\cup", "∩": r"\cap", "∅": r"\emptyset", "≲": r"\lesssim", "≳": r"\gtrsim",
    "⌊": r"\lfloor", "⌋": r"\rfloor", "⌈": r"\lceil", "⌉": r"\rceil", "∫": r"\int",
    "∼": r"\sim", "≃": r"\simeq", "∇": r"\nabla", "⊗": r"\otimes", "⊕": r"\oplus",
    "<": "<", ">": ">", "|": "|", "ℓ": r"\ell", "ε": r"\varepsilon", "ϕ": r"\phi", "φ": r"\varphi",
    "′": "'", "″": "''", "∗": "*", "†": r"\dagger", "°": r"^\circ", "ℝ": r"\mathbf{R}",
    "½": r"\tfrac{1}{2}", "⅓": r"\tfrac{1}{3}", "¼": r"\tfrac{1}{4}", "¾": r"\tfrac{3}{4}",
    "≻": r"\succ", "≺": r"\prec", "⪰": r"\succeq", "⪯": r"\preceq", "…": r"\ldots", "⋯": r"\cdots", "∣": r"\mid", "≔": ":=",
}
_TEXT = {"—": "---", "–": "--", "“": "``", "”": "''", "‘": "`", "’": "'", "\u00a0": "~",
         "ß": r"\ss{}", "§": r"\S{}"}
_SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱᵀ", "0123456789+-=()niT"))
_SUBSCRIPTS = dict(zip("₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₒₓᵢⱼₖₗₘₙₚₛₜ", "0123456789+-=()aeoxijklmnpst"))
_ASCII_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&",
                  "#": r"\#", "%": r"\%", "_": r"\_", "^": r"\^{}", "~": r"\~{}"}


# Greek capitals that look Latin have no LaTeX macro.
_LATIN_LOOKING = {"Alpha": "A", "Beta": "B", "Epsilon": "E", "Zeta": "Z", "Eta": "H", "Iota": "I",
                  "Kappa": "K", "Mu": "M", "Nu": "N", "Omicron": "O", "Rho": "P", "Tau": "T",
                  "Chi": "X"}


def _greek(ch: str) -> str | None:
    match = re.fullmatch(r"GREEK (SMALL|CAPITAL) LETTER (\w+)", unicodedata.name(ch, ""))
    if not match:
        return None
    letter = match.group(2).lower().replace("lamda", "lambda")
    if match.group(1) == "CAPITAL":
        name = letter.capitalize()
        return rf"\mathrm{{{_LATIN_LOOKING[name]}}}" if name in _LATIN_LOOKING else "\\" + name
    return "o" if letter == "omicron" else "\\" + letter


# Combining accents (after NFD normalisation): text accents and math accents.
_TEXT_ACCENTS = {"\u0301": "\\'", "\u0300": "\\`", "\u0308": '\\"', "\u0327": "\\c "}
_MATH_ACCENTS = {"\u0302": "hat", "\u0303": "tilde", "\u0304": "bar", "\u0307": "dot",
                 "\u20d7": "vec"}


def _plain(text: str) -> str:
    """Escape plain text for LaTeX (OT1 encoding): specials escaped, Unicode mathematics as
    ``\\ensuremath``, runs of super/subscript characters as one ``^{...}``/``_{...}``,
    accented letters (``Ŝ``, ``é``) as accents on their base letter."""
    text = unicodedata.normalize("NFD", text)
    out = []
    i = 0
    while i < len(text):
        ch = text[i]
        accent = text[i + 1] if i + 1 < len(text) else ""
        if accent in _TEXT_ACCENTS and ch.isascii():
            out.append(f"{_TEXT_ACCENTS[accent]}{{{ch}}}")
            i += 2
            continue
        if accent in _MATH_ACCENTS:
            base = _plain(ch)
            base = base[len("\\ensuremath{"):-1] if base.startswith("\\ensuremath{") else base
            out.append(f"\\ensuremath{{\\{_MATH_ACCENTS[accent]}{{{base}}}}}")
            i += 2
            continue
        if ch in _SUPERSCRIPTS or ch in _SUBSCRIPTS:
            table, mark = (_SUPERSCRIPTS, "^") if ch in _SUPERSCRIPTS else (_SUBSCRIPTS, "_")
            j = i
            while j < len(text) and text[j] in table:
                j += 1
            run = "".join(table[c] for c in text[i:j])
            run = r"\top" if run == "T" and mark == "^" else run
            out.append(f"\\ensuremath{{{{}}{mark}{{{run}}}}}")
            i = j
            continue
        if ch in _ASCII_SPECIAL:
            out.append(_ASCII_SPECIAL[ch])
        elif ch in _TEXT:
            out.append(_TEXT[ch])
        elif ch in _SYMBOLS:
            out.append(f"\\ensuremath{{{_SYMBOLS[ch]}}}")
        elif ord(ch) < 128:
            out.append(ch)
        elif (greek := _greek(ch)) is not None:
            out.append(f"\\ensuremath{{{greek}}}")
        else:
            # A symbol this table does not know still compiles, visibly marked for the reader.
            out.append(f"[U+{ord(ch):04X}]")
        i += 1
    return "".join(out)


# A one-letter symbol with a short subscript in prose (``w_i``, ``Ŝ_m``, ``Σ_{a,b}``, ``V_31``);
# longer words with underscores (file names, identifiers) are left as text.
_SUBSCRIPTED = re.compile(r"(?<![A-Za-z0-9\\])([A-Za-z\u0391-\u03c9\u015c])_"
                          r"(\{[A-Za-z0-9+\-*,\u2113\u2212\u0391-\u03c9]+\}|[A-Za-z0-9*\u2113\u0391-\u03c9]{1,3})"
                          r"(?![A-Za-z0-9_])"
                          # ... and a caret exponent (``M^k``, ``Γ^{−1/2}``)
                          r"|\^(\{[A-Za-z0-9+\-*/,\u2212 ]+\}|[A-Za-z0-9]{1,3})")


def _math_text(text: str) -> str:
    """Plain text with one-letter subscripted symbols set as mathematics."""
    out, last = [], 0
    for match in _SUBSCRIPTED.finditer(unicodedata.normalize("NFC", text)):
        out.append(_plain(match.string[last:match.start()]))
        if match.group(3) is not None:
            out.append(f"\\ensuremath{{{{}}^{{{_plain(match.group(3).strip('{}'))}}}}}")
        else:
            base = _plain(match.group(1))
            base = base[len("\\ensuremath{"):-1] if base.startswith("\\ensuremath{") else base
            out.append(f"\\ensuremath{{{base}_{{{_plain(match.group(2).strip('{}'))}}}}}")
        last = match.end()
    return "".join(out) + _plain(unicodedata.normalize("NFC", text)[last:])


def prose(text: str) -> str:
    """Markdown prose of the ledger (``**bold**``, ```code```, Unicode math) as LaTeX."""
    pieces = []
    for k, chunk in enumerate(re.split(r"(\$[^$]+\$|`[^`]*`)", text)):
        if k % 2 and chunk.startswith("$"):
            pieces.append(chunk)  # TeX math, kept as written
            continue
        if k % 2:
            pieces.append(r"\texttt{" + _math_text(chunk[1:-1]) + "}")
        else:
            parts = re.split(r"\*\*(.+?)\*\*", chunk)
            pieces.append("".join(r"\textbf{" + _math_text(p) + "}" if j % 2 else _math_text(p)
                                  for j, p in enumerate(parts)))
    return "".join(pieces)


# ---------------------------------------------------------------------------------------------
# Mathematics: sympy objects → display LaTeX that never runs off the page
# ---------------------------------------------------------------------------------------------

# Rough number of visible characters that fit on one display line at \small in the margins used.
_LINE = 72


def _width(tex: str) -> int:
    """Crude visible width of a LaTeX formula (control words count as one glyph)."""
    t = re.sub(r"\\(left|right|displaystyle|mathrm|operatorname|mathbf|frac|dfrac|big|Big)\b", "", tex)
    t = re.sub(r"\\[a-zA-Z]+", "x", t)
    return len(re.sub(r"[{}^_\s]", "", t))


def _terms(expr) -> list[str]:
    """LaTeX of the terms of a sum in sympy's print order, each with its sign in front."""
    out = []
    for term in expr.as_ordered_terms():
        tex = sympy.latex(term)
        out.append(f"- {tex[1:].lstrip()}" if tex.startswith("-") else f"+ {tex}")
    return out


def _split_lines(head: str, rhs) -> list[str]:
    """``head`` (e.g. ``lhs =``) then the terms of ``rhs``, packed greedily into lines."""
    lines, current = [], head
    terms = _terms(rhs) if isinstance(rhs, sympy.Add) else [sympy.latex(rhs)]
    for n, term in enumerate(terms):
        if n == 0 and term.startswith("+ "):
            term = term[2:]
        if current != head and _width(current + term) > _LINE:
            lines.append(current)
            current = r"\quad " + term
        else:
            current = f"{current} {term}"
    lines.append(current)
    return lines


def display(obj) -> str:
    """Display LaTeX of a sympy object (or of a library object's own LaTeX string).

    Long sums are broken after whole terms into an ``aligned`` block; anything still wider than
    the line is scaled down by the ``\\fitmath`` macro of the master document.
    """
    if isinstance(obj, str):
        return f"\\fitmath{{{obj}}}"
    if isinstance(obj, sympy.MatrixBase) and _width(sympy.latex(obj)) > 2 * _LINE:
        # Too wide to read as a matrix: one display per entry, [·]_{ij} = ..., zeros skipped.
        entries = [display(_eq(sympy.Symbol(f"[\\cdot]_{{{i + 1}{j + 1}}}"), obj[i, j]))
                   for i in range(obj.rows) for j in range(obj.cols) if obj[i, j] != 0]
        return "\n".join(entries) if entries else display(sympy.zeros(*obj.shape))
    if isinstance(obj, sympy.Equality) and _width(sympy.latex(obj)) > _LINE:
        lines = _split_lines(sympy.latex(obj.lhs) + " &=", obj.rhs)
        return "\\fitmath{\\begin{aligned}" + " \\\\\n  & ".join(lines) + "\\end{aligned}}"
    if isinstance(obj, sympy.Add) and _width(sympy.latex(obj)) > _LINE:
        lines = _split_lines("&", obj)
        return "\\fitmath{\\begin{aligned}" + " \\\\\n  & ".join(lines) + "\\end{aligned}}"
    return f"\\fitmath{{{sympy.latex(obj)}}}"


# ---------------------------------------------------------------------------------------------
# Derivations, one builder per claim
# ---------------------------------------------------------------------------------------------


_BUILDERS: dict[str, Callable[[], list[Step]]] = {}


def _derivation(claim_id: str):
    def register(fn):
        _BUILDERS[claim_id] = fn
        return fn
    return register


def derivation_steps(claim_id: str) -> list[Step]:
    """The derivation steps for a claim (empty when the claim has no symbolic derivation).

    A claim split into parts owns its derivation (:meth:`theory.ledger.Claim.derives`).
    """
    from theory import ledger
    spec = ledger.get(claim_id)
    if getattr(spec, "derivation", None) is not None:
        return spec.derivation()
    builder = _BUILDERS.get(claim_id)
    return builder() if builder else []


# ---------------------------------------------------------------------------------------------
# Documents
# ---------------------------------------------------------------------------------------------

_PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[margin=2.2cm]{geometry}
\usepackage{amsmath,amssymb}
\usepackage{graphicx}
\usepackage[hidelinks]{hyperref}
% A display formula at its natural size, scaled down only when wider than the line.
\newcommand{\fitmath}[1]{\par\smallskip\noindent\hfil\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{$\displaystyle #1$}\hfil\par\smallskip}
\setlength{\parindent}{0pt}
\setlength{\parskip}{0.5ex}
\setlength{\emergencystretch}{2em}
"""

_GENERATED = "% Generated by `tts derive` from the library's symbolic derivations; do not edit.\n"

# Fields of a ledger section shown under "Verdict", in this order.
_VERDICT_FIELDS = ("Verdict", "Conditions / counterexample", "Evidence", "Reproduce")


def _ascii(text: str) -> str:
    """A plain-ASCII rendering for PDF bookmarks (which cannot hold mathematics)."""
    named = "".join(g.lstrip("\\") if (g := _greek(ch)) else ch for ch in text)
    kept = unicodedata.normalize("NFKD", named).encode("ascii", "ignore").decode()
    return _plain(re.sub(r"\s+", " ", kept).strip())


def section_filename(claim_id: str) -> str:
    """``sections/<id>.tex`` with dots replaced (``\\input`` reads a dot as an extension)."""
    return f"{SECTION_DIR}/{re.sub(r'[^A-Za-z0-9]+', '_', claim_id)}.tex"


def _field_block(name: str, value: str) -> str:
    lines = value.split("\n")
    head = f"\\paragraph{{{prose(name)}.}} {prose(lines[0])}"
    if len(lines) == 1:
        return head + "\n"
    items = "\n".join(f"  \\item {prose(line.lstrip('- ').strip())}" for line in lines[1:])
    return f"{head}\n\\begin{{itemize}}\n{items}\n\\end{{itemize}}\n"


def render_section(notes: ClaimNotes, steps: list[Step]) -> str:
    """LaTeX of one claim's section: statement and convention, derivation, verdict."""
    title = notes.title or notes.id
    out = [_GENERATED,
           f"\\section{{\\texorpdfstring{{{prose(title)}}}{{{_ascii(title)}}}}}\\label{{claim:{notes.id}}}\n",
           f"Ledger id: \\texttt{{{_plain(notes.id)}}}.\n"]
    for key in ("Statement", "Source", "Convention"):
        if notes.get(key):
            out.append(_field_block(key, notes.get(key)))
    out.append("\\subsection*{Derivation performed by the code}\n")
    if steps:
        for step in steps:
            out.append(prose(step.text) + "\n")
            if step.math is not None:
                out.append(display(step.math) + "\n")
    else:
        out.append("This claim is settled numerically; it has no symbolic derivation of its own.\n")
    out.append("\\subsection*{Verdict}\n")
    for key in _VERDICT_FIELDS:
        if notes.get(key):
            out.append(_field_block(key, notes.get(key)))
    return "\n".join(out)


def render_master(claims: list[ClaimNotes]) -> str:
    inputs = "\n".join(f"\\input{{{section_filename(c.id)[:-4]}}}" for c in claims)
    return (_GENERATED + _PREAMBLE + r"""
\title{Test-time scaling of linear self-attention:\\ the derivations behind each claim}
\author{}
\date{}
\begin{document}
\maketitle
\noindent Each section below is one claim of arXiv 2510.03605 as recorded in the project's ledger
(\texttt{paper\_notes.md}): the statement in the project's convention, the derivation steps the
library performed symbolically (every displayed formula is printed from the expression the code
computed), and the verdict with its evidence.

\paragraph{Convention.} Features $x\sim N(0,\Lambda)$ in training and $N(0,\Sigma)$ at test time,
$w\sim N(0,I_d)$, $y=\langle w,x\rangle$; $\Gamma=(1+1/n)\Lambda+(\operatorname{tr}\Lambda/n)I$;
$w_0=0$ and $k$ counts forward passes of the trained model, so $k=1$ is direct in-context learning
and $\mathrm{err}_k=\mathbb{E}\|w_k-w\|^2$. The paper's $w_{k+1}$ ``after $k$ steps'' is $w_k$ here.

\tableofcontents
""" + inputs + "\n\\end{document}\n")


def tex_files(notes_path: str | Path) -> dict[str, str]:
    """Every generated file, relative path → content (nothing written)."""
    claims = read_notes(notes_path)
    if not claims:
        raise ValueError(f"notes: {notes_path} has no claim sections (## `id` — title)")
    files = {MASTER: render_master(claims)}
    for c in claims:
        files[section_filename(c.id)] = render_section(c, derivation_steps(c.id))
    return files


def write_derivations(out_dir: str | Path, notes_path: str | Path) -> list[Path]:
    """Write the master document and one section per claim under ``out_dir``.

    Section files of claims no longer in the ledger are removed, so the directory always
    matches the ledger.
    """
    out_dir = Path(out_dir)
    files = tex_files(notes_path)
    (out_dir / SECTION_DIR).mkdir(parents=True, exist_ok=True)
    for stale in (out_dir / SECTION_DIR).glob("*.tex"):
        if f"{SECTION_DIR}/{stale.name}" not in files:
            stale.unlink()
    written = []
    for rel, content in files.items():
        path = out_dir / rel
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written


# ---------------------------------------------------------------------------------------------
# The builders: each calls the library's own symbolic derivation and keeps its steps
# ---------------------------------------------------------------------------------------------


def _eq(lhs, rhs):
    """``lhs = rhs`` kept as written (sympy would evaluate an equation of a symbol and a matrix)."""
    return sympy.Eq(lhs, rhs, evaluate=False)


def _steps(pairs, prefix: str = "") -> list[Step]:
    """``(description, expression)`` pairs of a library derivation as :class:`Step` s."""
    return [Step(f"{prefix}{text}", expr) for text, expr in pairs]


@_derivation("rem4.1")
def _rem41_steps() -> list[Step]:
    from theory.overthinking import overthinking
    k = sympy.Symbol("k", positive=True, integer=True)
    mu = sympy.Symbol("mu", nonnegative=True)
    d = 2
    gam = sympy.symbols(f"gamma_1:{d + 1}", positive=True)
    sig = sympy.symbols(f"sigma_1:{d + 1}", positive=True)
    step = sympy.eye(d) - sympy.diag(*gam).inv() * sympy.diag(*sig)
    power = sympy.simplify(step ** k)
    err = sympy.simplify((power * power.T).trace())
    growth = sympy.solveset((1 - mu) ** 2 > 1, mu, sympy.Interval(0, sympy.oo))
    # The paper's experiment: λ_i = 1/i (d = 10), isotropic test with tr Σ = tr Λ. Γ and Σ are both
    # diagonal, so the eigenvalues of Γ⁻¹Σ are σ/γ_i; the largest sits on the weakest direction i = d.
    n = sympy.Symbol("n", positive=True)
    D = 10
    lam = [sympy.Rational(1, i) for i in range(1, D + 1)]
    tr = sum(lam)
    sigma = tr / D
    mu_max = sympy.simplify(sigma / ((1 + 1 / n) * lam[-1] + tr / n))
    threshold = sympy.solveset(mu_max > 2, n, sympy.Interval.open(0, sympy.oo))
    n_c = threshold.start
    exact_lam = [Fraction(1, i) for i in range(1, D + 1)]
    exact_sigma = [sum(exact_lam) / D] * D
    checks = sympy.Matrix([[m, int(overthinking(exact_lam, m, exact_sigma).diverges)]
                           for m in (int(sympy.floor(n_c)), int(sympy.ceiling(n_c)))])
    return [
        Step("Commuting case, d = 2: Γ = diag(γ_i), Σ = diag(σ_i). The error map after k steps "
             "at m = \u221e is (I \u2212 \u0393\u207b\u00b9\u03a3)^k:", _eq(sympy.Symbol("M^k"), power)),
        Step("Its squared Frobenius norm, err_k = tr(M^k (M^k)\u1d40), a sum over directions of "
             "(1 \u2212 \u03bc_i)^{2k} with \u03bc_i = \u03c3_i/\u03b3_i the eigenvalues of \u0393\u207b\u00b9\u03a3:",
             _eq(sympy.Symbol("err_k"), err)),
        Step("A direction's term grows with k iff (1 \u2212 \u03bc)\u00b2 > 1; solved over \u03bc \u2265 0 by sympy:",
             _eq(sympy.Symbol(r"\{\mu \ge 0 : (1-\mu)^2 > 1\}"), growth)),
        Step("So the error eventually grows iff some eigenvalue of \u0393\u207b\u00b9\u03a3 exceeds 2 "
             "(non-commuting \u039b, \u03a3 obey the same criterion through the similar matrix "
             "I \u2212 \u0393^{\u22121/2}\u03a3\u0393^{\u22121/2}). The paper's setting, "
             f"\u03bb_i = 1/i with d = {D} and an isotropic test of the same trace: the largest "
             "eigenvalue, on the weakest training direction, as a function of n:",
             _eq(sympy.Symbol(r"\mu_{\max}(n)"), mu_max)),
        Step("Overthinking at m = \u221e holds exactly for n in the set solved by sympy "
             "(larger training prompts are worse: \u0393 loses its ridge tr \u039b / n):",
             _eq(sympy.Symbol(r"\{n : \mu_{\max}(n) > 2\}"), threshold)),
        Step("Cross-check with the library's overthinking report (eigenvalues of Γ⁻¹Σ, "
             "decided in exact arithmetic near the boundary) at the two integers around the "
             "threshold (n, diverges):", checks),
    ]


@_derivation("rmt")
def _rmt_steps() -> list[Step]:
    from theory.rmt import critical_nu, isotropic_cot_error, mp_cot_error, proportional_expansion
    lead, corr = proportional_expansion(1)
    alphas = (sympy.Rational(1, 2), 1, 2, 4)
    return [
        Step("Isotropic model \u039b = \u03a3 = I: exact finite-d error of direct ICL (k = 1), a rational "
             "function of d, m, n from the Wishart trace-moment recursion:",
             _eq(sympy.Symbol("err_1"), sympy.factor(isotropic_cot_error(1)))),
        Step("Proportional limit m = \u03b1d, n = \u03bdd, d \u2192 \u221e: err_k / d through the "
             "Marchenko\u2013Pastur (Narayana) moments, k = 1:",
             _eq(sympy.Symbol("f_1"), sympy.factor(mp_cot_error(1)))),
        Step("The same limit taken term by term from the finite-d formula (the independent route), "
             "and its first 1/d correction:",
             sympy.Tuple(_eq(sympy.Symbol("f_1"), sympy.factor(lead)),
                         _eq(sympy.Symbol("g_1"), sympy.factor(corr)))),
        Step("k = 2:", _eq(sympy.Symbol("f_2"), sympy.factor(sympy.together(mp_cot_error(2))))),
        Step("The overthinking boundary \u03bd_c(\u03b1) (overthinking iff \u03bd > \u03bd_c, i.e. the "
             "Marchenko\u2013Pastur edge (1 + \u03b1^{\u22121/2})\u00b2 exceeds 2\u03b3) at \u03b1 = 1/2, 1, 2, 4:",
             sympy.Tuple(*[_eq(sympy.Function("nu_c")(a), critical_nu(a)) for a in alphas])),
    ]


@_derivation("thm3.3")
def _thm33_steps() -> list[Step]:
    from theory.error import cot_error_poly_symbolic
    from theory.scaling import derive_thm33, thm33_symbolic
    c0, c1 = thm33_symbolic(2)
    lams = sympy.symbols("lambda_1:3", positive=True)
    n, m = sympy.Symbol("n", positive=True), sympy.Symbol("m", positive=True)
    engine = cot_error_poly_symbolic(lams, n, 1)
    return ([Step("Direct in-context learning (k = 1) with \u039b = \u03a3 diagonal, d = 2, symbolic eigenvalues: "
                  "the moment lemma makes err_1 affine in 1/m, err_1 = c_0 + c_1/m, with")]
            + [Step("", _eq(sympy.Symbol("c_0"), c0)), Step("", _eq(sympy.Symbol("c_1"), c1))]
            + [Step("The exact CoT-error engine (Stein recursion, symbolic eigenvalues) reaches the same "
                    "polynomial by an independent route: its output minus (c_0 + c_1/m), simplified:",
                    sympy.simplify(engine.subs(sympy.Symbol("m", positive=True), m) - (c0 + c1 / m)))]
            + [Step("The bound, one eigen-direction at a time (every inequality certified by a "
                    "difference that is a ratio of positive-coefficient polynomials):")]
            + _steps(derive_thm33()))


def _contraction_symbols(d: int):
    n = sympy.Symbol("n", positive=True)
    lams = sympy.symbols(f"lambda_1:{d + 1}", positive=True)
    T = sympy.Symbol("T", positive=True)  # stands for tr Λ = Σ λ_i
    gam = [(1 + 1 / n) * l + T / n for l in lams]
    return n, lams, T, gam


def _in_inverse_m(expr):
    """``expr`` (rational in the positive symbol ``m``) as a sum of factored coefficients times m^{-r}."""
    m, u = sympy.Symbol("m", positive=True), sympy.Dummy("u")
    poly = sympy.Poly(sympy.expand(sympy.simplify(expr.subs(m, 1 / u))), u)
    return sympy.Add(*[sympy.factor(c) / m ** r for (r,), c in poly.terms()], evaluate=False)


def _tradeoff_steps() -> list[Step]:
    k = sympy.Symbol("k", positive=True, integer=True)
    eps, d = sympy.symbols("epsilon d", positive=True)
    hard = sympy.Symbol(r"\mathrm{Hard}", positive=True)
    x = sympy.Symbol("x", positive=True)  # x = 1 + n/(1 + Hard) > 1: the bound is d x^{-2k}
    roots = list(sympy.solveset(sympy.Eq(d * x ** (-2 * k), eps), x, sympy.Interval.open(0, sympy.oo)))
    n_min = [sympy.simplify((1 + hard) * (r - 1)) for r in roots]
    return [
        Step("Setting Corollary 3.5's bound equal to a target error \u03b5 and solving, with "
             "x = 1 + n/(1 + Hard) > 0 (sympy.solve), for the training prompt length:", _eq(sympy.Symbol(r"d\,(1 + n/(1+\mathrm{Hard}))^{-2k}"), eps)),
        Step("gives the smallest n that reaches \u03b5 after k steps: it falls like "
             "(d/\u03b5)^{1/(2k)} \u2212 1, so each extra CoT step buys the same error with a shorter "
             "training context, and harder tasks need proportionally more:",
             _eq(sympy.Symbol(r"n_{\min}(k, \epsilon)"), n_min[0] if len(n_min) == 1 else sympy.Tuple(*n_min))),
    ]
