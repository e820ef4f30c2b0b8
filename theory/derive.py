r"""The derivations as a typeset paper: one section per ledger claim, rendered from the computation.

Each section shows the claim as the paper states it (a ``claim`` environment) with the headline
verdict, our convention, one environment per sub-statement (its role and verdict, the evidence, a
counterexample where it fails, what is known where it is undecided), the derivation steps the
library performed symbolically, and the claim's figure or why it has none. The text comes from the
claims' records (``proofs/ledger/<id>.json``, :func:`theory.notes.read_records`), whose prose is
TeX with mathematics in ``$…$``; a claim not yet split into sub-statements comes from its section
of the hand-written ``paper_notes.md`` (Markdown with Unicode mathematics), converted here. Every
displayed formula of a derivation is ``sympy.latex`` of an expression the code computed.

Layout written by :func:`write_derivations` (``tts derive``; ``tts report`` adds the figures and
compiles)::

    derivations.tex          master document: title, introduction, verdict table, \input's, references
    sections/<claim>.tex     one section per claim, in the paper's order
    references.bib           the bibliography (theory._bibliography)
    figures/<name>.pdf       not written here: ``tts report`` draws them (theory.figures); without
                             them the document still compiles and says where each figure goes

Notation: Λ training covariance, Σ test covariance, n and m training and test prompt lengths,
Γ = (1 + 1/n) Λ + (tr Λ / n) I, k the number of LSA forward passes (w_0 = 0, k = 1 is direct ICL).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import sympy

from theory._tex import Step
from theory.covariance import gamma_eigenvalues

SECTION_DIR = "sections"
MASTER = "derivations.tex"
BIBFILE = "references.bib"
FIGURE_DIR = "figures"
NOTES_FILE = "proofs/math.md"  # the project's mathematical notes, cited by section

# ---------------------------------------------------------------------------------------------
# Prose → LaTeX. Records: TeX mathematics in $…$ passes through, the text around it is escaped.
# Hand-written notes: Unicode mathematics in running text becomes \ensuremath, a `formula` in
# backticks becomes $…$, and only code (`theory.cot_error`, `pytest …`) is set in \texttt.
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
    "≻": r"\succ", "≺": r"\prec", "⪰": r"\succeq", "⪯": r"\preceq", "…": r"\ldots", "⋯": r"\cdots",
    "∣": r"\mid", "≔": ":=", "≍": r"\asymp", "↦": r"\mapsto", "∓": r"\mp",
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
_NEGATED = {"=": r"\neq", "∈": r"\notin"}


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
        if accent == "\u0338":  # a slashed relation (≠, ∉) decomposes into its base and a slash
            negated = _NEGATED.get(ch) or r"\not" + _SYMBOLS.get(ch, ch)
            out.append(f"\\ensuremath{{{negated}}}")
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


# Words that are mathematics, not code, inside a formula (``tr Λ``, ``λ_max``, ``Hard(Λ)``).
_MATH_NAMES = {"tr": r"\operatorname{tr}", "Hard": r"\mathrm{Hard}", "err": r"\mathrm{err}",
               "diag": r"\operatorname{diag}", "supp": r"\operatorname{supp}", "max": r"\max",
               "min": r"\min", "sup": r"\sup", "inf": r"\inf", "lim": r"\lim", "log": r"\log",
               "exp": r"\exp", "det": r"\det", "sqrt": r"\sqrt"}
_TT_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "&": r"\&", "#": r"\#",
               "%": r"\%", "_": r"\_", "^": r"\^{}", "~": r"\~{}", "$": r"\$"}
# Library identifiers and command lines mentioned in running text.
_CODE_IN_TEXT = re.compile(r"\btheory(?:\.[A-Za-z_]\w*)+(?:\(\))?|\b(?:checks|tests|proofs)/[\w/.\-]+")


_EXTENSION = r"(?:py|md|tex|bib|json|pdf|png|txt)\b"  # no line break inside a file name's suffix


def _code(text: str) -> str:
    r"""Code in ``\texttt``: specials escaped, a line break allowed after ``/``, ``_`` and a dot
    inside a dotted name (typewriter text is never hyphenated)."""
    out = []
    for i, ch in enumerate(text):
        out.append(_TT_SPECIAL.get(ch, ch))
        following = text[i + 1:]
        dotted = ch == "." and re.match(r"[A-Za-z]", following) and not re.match(_EXTENSION, following)
        if following and (ch in "/_" or dotted):
            out.append(r"\allowbreak{}")
    return r"\texttt{" + "".join(out) + "}"


def _is_code(text: str) -> bool:
    """Whether a backticked span is code (a command, an option, an identifier), not a formula."""
    if not text.isascii():
        return False
    if re.match(r"(?:tts|pytest|python|pip|marimo)\b|--?[A-Za-z]", text):
        return True
    if re.fullmatch(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+(?:\(.*\))?", text):  # theory.moments, sympy.solve
        return True
    call = re.fullmatch(r"([A-Za-z_]\w*)\(.*\)", text)                    # SeedSequence(20251003)
    if call and len(call.group(1)) >= 4 and call.group(1) not in _MATH_NAMES:
        return True
    if re.fullmatch(r"[A-Za-z_]\w*", text) and "_" in text:                # derive_thm33, not err_k
        return max(len(piece) for piece in text.split("_")) >= 4
    words = re.findall(r"(?<![\w\\])[A-Za-z]{4,}", text)                  # (description, expression)
    return any(word not in _MATH_NAMES for word in words)


def _script(mark: str, text: str, i: int) -> tuple[str, int, bool]:
    """The sub- or superscript that starts after ``text[i] == mark``: (TeX, next index, opens a
    group). A run of letters is a word (``λ_max``, ``e_last``, ``μ_MP``), not a product."""
    following = text[i + 1: i + 2]
    if following == "{":
        return mark + "{", i + 2, True
    run = re.match(r"[A-Za-z0-9]+", text[i + 1:])
    if run:
        word = run.group()
        if word in _MATH_NAMES:
            word = _MATH_NAMES[word]
        elif word.isalpha() and (len(word) >= 3 or (len(word) >= 2 and word.isupper())):
            word = rf"\mathrm{{{word}}}"
        return f"{mark}{{{word}}}", i + 1 + len(run.group()), False
    if following in ("*", "+", "-", "\u2212"):
        return f"{mark}{{{'-' if following == chr(0x2212) else following}}}", i + 2, False
    if following:
        return f"{mark}{{{_unicode_math(following)}}}", i + 2, False
    return mark + "{}", i + 1, False


def _closing(text: str, start: int) -> int:
    """Index of the parenthesis closing the one at ``text[start]`` (the end when unbalanced)."""
    depth = 0
    for j in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[j], 0)
        if depth == 0:
            return j
    return len(text)


def _unicode_math(text: str) -> str:
    """A formula written in Unicode (``E[Ŝ_n²] = ΓΛ``, ``λ_max(ΓΛ)``) as TeX mathematics."""
    text = unicodedata.normalize("NFC", text).replace("<=", "≤").replace(">=", "≥").replace("..", "…")
    out: list[str] = []
    groups: list[str] = []  # what each open brace closes with: a TeX group or a literal set brace
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in "_^":
            tex, i, opened = _script(ch, text, i)
            out.append(tex)
            if opened:
                groups.append("}")
            continue
        if ch == "{":
            out.append(r"\{")
            groups.append(r"\}")
        elif ch == "}":
            out.append(groups.pop() if groups else r"\}")
        elif ch == "√" or text.startswith("sqrt(", i):
            j = i + (1 if ch == "√" else 4)
            if text[j: j + 1] == "(":
                end = _closing(text, j)
                out.append(r"\sqrt{" + _unicode_math(text[j + 1: end]) + "}")
                i = end + 1
            else:
                arg = re.match(r"[A-Za-z0-9]+|.?", text[j:]).group()
                out.append(r"\sqrt{" + _unicode_math(arg) + "}")
                i = j + len(arg)
            continue
        elif ch.isascii() and ch.isalpha():
            word = re.match(r"[A-Za-z]+", text[i:]).group()
            if word == "E" and re.match(r"\s*(?:\[|‖|tr\b|Π)", text[i + 1:]):
                out.append(r"\mathbb{E} ")
            else:
                out.append(_MATH_NAMES[word] + " " if word in _MATH_NAMES else word)
            i += len(word)
            continue
        elif ch in _SUPERSCRIPTS or ch in _SUBSCRIPTS:
            table, mark = (_SUPERSCRIPTS, "^") if ch in _SUPERSCRIPTS else (_SUBSCRIPTS, "_")
            j = i
            while j < len(text) and text[j] in table:
                j += 1
            run = "".join(table[c] for c in text[i:j])
            run = r"\top" if run == "T" and mark == "^" else run
            out.append(f"{mark}{{{run}}}")
            i = j
            continue
        elif ch == "*":
            out.append("^{*}" if out and not out[-1].endswith(("_", "^", "{")) else "*")
        elif ch in _SYMBOLS:
            out.append(_SYMBOLS[ch] + " ")
        elif ch in "%#&":
            out.append("\\" + ch)
        elif ch == "~":
            out.append(r"\sim ")
        elif ch.isascii():
            out.append(ch)
        elif (greek := _greek(ch)) is not None:
            out.append(greek + " ")
        elif len(parts := unicodedata.normalize("NFD", ch)) == 2 and parts[1] in _MATH_ACCENTS:
            out.append(rf"\{_MATH_ACCENTS[parts[1]]}{{{_unicode_math(parts[0])}}}")
        else:
            out.append(f"\\text{{[U+{ord(ch):04X}]}}")
        i += 1
    tex = re.sub(r"\s+", " ", "".join(out)).strip() + "".join(reversed(groups))
    return re.sub(r"(\\[A-Za-z]+) (?=[^A-Za-z ])", r"\1", tex)  # \Lambda ) → \Lambda)


def _quotes(text: str) -> str:
    """Straight double quotes around a phrase as typographic quotes (an escaped quote ``\\"``
    in running text is a quote too: text carries no TeX accents, its letters are Unicode)."""
    return re.sub(r'"([^"\n]*)"', "\u201c\\1\u201d", text.replace('\\"', '"'))


def _text(text: str) -> str:
    """Running text: library identifiers and paths as code, the rest escaped (Unicode maths kept,
    ``<=`` and ``>=`` between spaces as relations)."""
    text = re.sub(r"(?<= )([<>])=(?= )", lambda m: "≤" if m.group(1) == "<" else "≥", text)
    out, last = [], 0
    for match in _CODE_IN_TEXT.finditer(text):
        out.append(_math_text(_quotes(text[last:match.start()])))
        out.append(_code(match.group()))
        last = match.end()
    return "".join(out) + _math_text(_quotes(text[last:]))


def _backtick(span: str, claim_ids) -> str:
    if span in claim_ids:
        return rf"\hyperref[claim:{span}]{{\texttt{{{span}}}}}"
    if _is_code(span):
        return _code(span)
    return "$" + _unicode_math(span) + "$"


def prose(text: str, claim_ids=()) -> str:
    """Ledger prose as LaTeX: TeX mathematics in ``$…$`` kept as written, ```code``` (and
    ``theory.*`` names) in ``\\texttt``, a backticked formula typeset as mathematics, a claim id
    in backticks linked to its section, ``**bold**``, and text-mode specials escaped."""
    pieces = []
    for k, chunk in enumerate(re.split(r"(\$[^$]+\$|`[^`]*`)", text)):
        if k % 2 and chunk.startswith("$"):
            # A line may break after the commas of a list of values (TeX breaks inline
            # mathematics only after relations and operators).
            pieces.append(chunk.replace(", ", ",\\allowbreak "))
        elif k % 2:
            pieces.append(_backtick(chunk[1:-1], claim_ids))
        else:
            parts = re.split(r"\*\*(.+?)\*\*", chunk)
            pieces.append("".join(r"\textbf{" + _text(p) + "}" if j % 2 else _text(p)
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
    if isinstance(obj, sympy.MatrixBase) and obj.rows * obj.cols > 1 and obj.is_zero_matrix:
        # A zero vector or matrix as a column of zeros reads badly: the zero of its shape.
        return f"\\fitmath{{\\mathbf{{0}}_{{{obj.rows} \\times {obj.cols}}}}}"
    if isinstance(obj, sympy.MatrixBase) and _width(sympy.latex(obj)) > 2 * _LINE:
        # Too wide to read as a matrix: one display per entry, [·]_{ij} = ..., zeros skipped.
        entries = [display(_eq(sympy.Symbol(f"[\\cdot]_{{{i + 1}{j + 1}}}"), obj[i, j]))
                   for i in range(obj.rows) for j in range(obj.cols) if obj[i, j] != 0]
        return "\n".join(entries)
    if isinstance(obj, sympy.Equality) and _width(sympy.latex(obj)) > _LINE:
        num, den = sympy.fraction(obj.rhs)
        # A long fraction: the longest sum in its numerator over several lines, the rest in front.
        sums = [f for f in sympy.Mul.make_args(num) if isinstance(f, sympy.Add)]
        widest = max(sums, key=lambda f: _width(sympy.latex(f)), default=None)
        if den != 1 and widest is not None and _width(sympy.latex(widest)) > _LINE // 2:
            head = (f"{sympy.latex(obj.lhs)} &= \\frac{{{sympy.latex(num / widest)}}}"
                    f"{{{sympy.latex(den)}}} \\Big(")
            lines = _split_lines(head, widest)
            lines[-1] += " \\Big)"
        else:
            lines = _split_lines(sympy.latex(obj.lhs) + " &=", obj.rhs)
        return "\\fitmath{\\begin{aligned}" + " \\\\\n  & ".join(lines) + "\\end{aligned}}"
    if isinstance(obj, sympy.Add) and _width(sympy.latex(obj)) > _LINE:
        lines = _split_lines("&", obj)
        return "\\fitmath{\\begin{aligned}" + " \\\\\n  & ".join(lines) + "\\end{aligned}}"
    return f"\\fitmath{{{sympy.latex(obj)}}}"


# ---------------------------------------------------------------------------------------------
# Derivations: each claim owns its own (Claim.derives)
# ---------------------------------------------------------------------------------------------


def derivation_steps(claim_id: str) -> list[Step]:
    """The claim's derivation steps (:meth:`theory.ledger.Claim.derives`; empty when it has none)."""
    from theory import ledger
    spec = ledger.get(claim_id)
    return spec.derivation() if spec.derivation is not None else []


# ---------------------------------------------------------------------------------------------
# What the document says around each claim: notes sections, literature, figure
# ---------------------------------------------------------------------------------------------

# Where each claim's mathematics is written up in the project's notes (proofs/math.md sections).
_NOTES_SECTIONS = {"gamma": (3,), "thm3.1": (4,), "prop3.2": (5,), "thm3.3": (9, 7), "hard": (10,),
                   "cor3.5": (11, 8), "tradeoff": (12,), "rem4.1": (13, 14), "rmt": (15,),
                   "qp": (16, 17), "prop4.3": (18,)}

# The literature a claim's derivation rests on, cited where it is used.
_CONTEXT = {
    "gamma": r"The lemma is Isserlis' theorem \citep{isserlis1918} for the fourth moments of a "
             r"Gaussian vector, summed over pairs of samples; \citet{javanmard2026sibling} credit a "
             r"version of it to the paper.",
    "thm3.1": r"The model, its sparse parametrisation and the small balanced initialisation of the "
              r"joint training are those of \citet{zhang2024}.",
    "prop3.2": r"\citet{huang2025} show that transformers trained with chain of thought implement "
               r"multi-step gradient descent in context; here the steps are those of a model trained "
               r"without it.",
    "thm3.3": r"The exact finite-$m$ error is computed from trace words of $\hat S_m$ by Gaussian "
              r"integration by parts \citep{stein1981} and checked against the Wick pairings of "
              r"Isserlis' theorem \citep{isserlis1918}.",
    "cor3.5": r"At finite $m$ the same exact engine (Gaussian integration by parts, \citealp{stein1981}) "
              r"gives the error as a polynomial in $1/m$; in one dimension it reduces to moments of "
              r"$\chi^2_m$.",
    "rem4.1": r"The finite-$m$ analogue of the trace is an expectation over a Wishart matrix "
              r"\citep{muirhead1982}, written through zonal polynomials (Jack polynomials at "
              r"$\alpha = 2$, \citealp{stanley1989,knop1997}) and evaluated by the recursion of "
              r"\citet{koev2006}.",
    "rmt": r"The limit is the Marchenko--Pastur law \citep{marchenko1967}; \citet{takanami2026} "
           r"study the same high-dimensional limit of chain of thought for in-context weight "
           r"prediction, with its phases of exponential and polynomial decay, saturation and "
           r"overthinking.",
}

# The figure of ``tts figures`` each claim shows, and why the others show none.
CLAIM_FIGURES = {"cor3.5": "beyond", "tradeoff": "tradeoff", "rem4.1": "overthinking",
                 "prop4.3": "selection"}
_NO_FIGURE = {
    "gamma": r"the lemma is a matrix identity, checked entry by entry; there is nothing to plot.",
    "thm3.1": r"the result is the limit of training, a matrix; the error curves it leads to are "
              r"drawn in the later sections.",
    "prop3.2": r"the result is an algebraic identity between the forward pass and a pseudo-Newton step.",
    "thm3.3": r"the bound concerns one number per instance ($k = 1$), compared term by term in the "
              r"derivation below.",
    "hard": r"the results are exact identities; the contraction rate that $\mathrm{Hard}$ sets is "
            r"the slope of the $m = \infty$ curves of Figure~\ref{fig:tradeoff}(a).",
    "rmt": r"the proportional limit is a closed form in $(\alpha, \nu)$, displayed in the "
           r"derivation; no figure draws it.",
    "qp": r"the solution of the program on the paper's task types is drawn in "
          r"Figure~\ref{fig:selection}, with Proposition~4.3 (Section~\ref{claim:prop4.3}).",
}
_NO_FIGURE_DEFAULT = r"no figure has been drawn for this claim."

# ---------------------------------------------------------------------------------------------
# One claim as the document shows it, from a record or from the hand-written notes
# ---------------------------------------------------------------------------------------------

_ROLE_WORDS = {"claim": ("reading of the statement", "readings of the statement"),
               "condition": ("condition", "conditions"), "finding": ("finding", "findings")}
_VERDICT_VERBS = {"holds": ("holds", "hold"), "fails": ("fails", "fail"),
                  "undecided": ("undecided", "undecided")}
_PART_VERDICTS = ("holds", "fails", "undecided")


@dataclass(frozen=True)
class ClaimView:
    """What the document needs of one claim, whichever source it comes from."""

    id: str
    title: str
    verdict: str
    statements: tuple[dict, ...]        # the record's parts
    checks: tuple[str, ...]             # the check files, as in ``pytest <file>``
    record: dict


def _view_record(rec: dict) -> ClaimView:
    checks = tuple(c.split(" ", 1)[1] for c in rec["reproduce"] if c.startswith("pytest "))
    return ClaimView(rec["id"], rec["title"], rec["verdict"], tuple(rec["statements"]), checks, rec)


def claim_views(records_dir: str | Path) -> list[ClaimView]:
    """Every registered claim, in the paper's order, from its record in ``records_dir``."""
    from theory import ledger
    from theory import notes as ledger_notes
    records_dir = Path(records_dir)
    records = {rec["id"]: rec for rec in (ledger_notes.read_records(records_dir) if records_dir.is_dir() else [])}
    missing = [spec.id for spec in ledger.registered() if spec.id not in records]
    if missing:
        raise ValueError(f"records: no record for claim(s) {', '.join(missing)} in {records_dir}; run `tts derive`")
    return [_view_record(records[spec.id]) for spec in ledger.registered()]


def section_filename(claim_id: str) -> str:
    """``sections/<id>.tex`` with dots replaced (``\\input`` reads a dot as an extension)."""
    return f"{SECTION_DIR}/{re.sub(r'[^A-Za-z0-9]+', '_', claim_id)}.tex"


def _ascii_math(tex: str) -> str:
    """TeX mathematics as bookmark text: macro names as words, no braces or scripts."""
    tex = re.sub(r"\\(?:mathrm|operatorname|mathbf|text)\{([^{}]*)\}", r"\1", tex)
    tex = re.sub(r"\\([A-Za-z]+)\s*", r"\1 ", tex)
    return re.sub(r"[{}_^\\]", "", tex).strip()


def _ascii(text: str) -> str:
    """A plain-ASCII rendering for PDF bookmarks (which cannot hold mathematics)."""
    text = re.sub(r"\$([^$]*)\$", lambda m: _ascii_math(m.group(1)), text)
    named = "".join(g.lstrip("\\") if (g := _greek(ch)) else ch for ch in text)
    kept = unicodedata.normalize("NFKD", named).encode("ascii", "ignore").decode()
    return _plain(re.sub(r"\s+", " ", kept).strip())


def _verdict_macro(verdict: str) -> str:
    return {"confirmed": r"\confirmed", "confirmed under stated conditions": r"\conditional",
            "refuted": r"\refuted", "undecided": r"\undecidedclaim"}.get(verdict, prose(verdict))


def _parts_summary(statements) -> str:
    """``readings of the statement: 1 fails; conditions: 2 hold; ...`` by role, in role order."""
    out = []
    for role, (one, many) in _ROLE_WORDS.items():
        parts = [s for s in statements if s["role"] == role]
        if not parts:
            continue
        counts = []
        for verdict in _PART_VERDICTS:
            n = sum(s["verdict"] == verdict for s in parts)
            if n:
                counts.append(f"{n} {_VERDICT_VERBS[verdict][0 if n == 1 else 1]}")
        out.append(f"{one if len(parts) == 1 else many}: {', '.join(counts)}")
    return "; ".join(out)


def _notes_reference(claim_id: str) -> str:
    numbers = _NOTES_SECTIONS.get(claim_id)
    if not numbers:
        return ""
    return _code(NOTES_FILE) + "~" + ", ".join(rf"\S{{}}{n}" for n in numbers)


def _header(view: ClaimView, statement: str, source: str, claim_ids) -> list[str]:
    """Section heading, the claim as stated, the verdict line."""
    title = prose(view.title, claim_ids)
    out = [_GENERATED,
           f"\\section{{\\texorpdfstring{{{title}}}{{{_ascii(view.title)}}}}}\\label{{claim:{view.id}}}\n",
           f"\\begin{{claim}}[\\texttt{{{view.id}}}]\n{prose(statement, claim_ids)}\n\\end{{claim}}\n"]
    line = [f"\\verdictline{{{_verdict_macro(view.verdict)}}}"]
    line.append(".")
    if view.statements is not None:
        line.append(f" Sub-statements: {_parts_summary(view.statements)}.")
    details = [f"Source: {prose(source, claim_ids)}"]
    if (notes := _notes_reference(view.id)):
        details.append(f"notes: {notes}")
    line.append(" " + "; ".join(details) + ".")
    if view.checks:
        line.append(" Reproduce: " + ", ".join(_code(f"pytest {c}") for c in view.checks)
                    + f", {_code(f'tts verify --only {view.id}')}.")
    out.append("".join(line) + "\n")
    return out


def _context(view: ClaimView) -> list[str]:
    return [f"\\paragraph{{Literature.}} {_CONTEXT[view.id]}\n"] if view.id in _CONTEXT else []


def _part(claim_id: str, s: dict, claim_ids) -> str:
    env = "finding" if s["role"] == "finding" else "statement"
    role = "" if env == "finding" else f"{_ROLE_WORDS[s['role']][0]}; "
    head = f"\\texttt{{{s['id']}}}; {role}\\partverdict{{{s['verdict']}}}"
    out = [f"\\begin{{{env}}}[{head}]\\label{{part:{claim_id}/{s['id']}}}\n{prose(s['text'], claim_ids)}\n"
           f"\\end{{{env}}}",
           f"\\begin{{evidence}}\n{prose(s['evidence'], claim_ids)}\n\\end{{evidence}}"]
    if "counterexample" in s:
        out.append(f"\\begin{{counterexample}}\n{prose(s['counterexample'], claim_ids)}\n"
                   f"\\emph{{Confirmed by}} {prose(s['counterexample_route'], claim_ids)}.\n"
                   f"\\end{{counterexample}}")
    if "known" in s:
        out.append(f"\\begin{{evidence}}[What is known]\n{prose(s['known'], claim_ids)}\n\\end{{evidence}}")
    return "\n".join(out) + "\n"


def _derivation_block(steps: list[Step], claim_ids) -> list[str]:
    out = ["\\subsection*{Derivation performed by the code}\n"]
    if not steps:
        return out + ["This claim is settled numerically; it has no symbolic derivation of its own.\n"]
    for step in steps:
        if step.text:
            out.append(prose(step.text, claim_ids) + "\n")
        if step.math is not None:
            out.append(display(step.math) + "\n")
    return out


def _figure_block(claim_id: str, quick: bool, *, float_only: bool) -> list[str]:
    """The claim's figure (a float, right after the verdict: ``flafter`` keeps it below its
    section's heading), or at the end of the section the sentence saying why it has none."""
    name = CLAIM_FIGURES.get(claim_id)
    if name is None:
        return [] if float_only else [f"\\nofigure{{{_NO_FIGURE.get(claim_id, _NO_FIGURE_DEFAULT)}}}\n"]
    if not float_only:
        return []
    from theory.figures import caption
    return [f"\\claimfigure{{{FIGURE_DIR}/{name}.pdf}}{{{name}}}{{{caption(name, quick=quick)}}}\n"]


def render_section(view: ClaimView, steps: list[Step], *, claim_ids=(), quick: bool = False) -> str:
    """LaTeX of one claim's section: the claim and its verdict, convention, sub-statements (or the
    hand-written verdict and evidence), derivation, figure."""
    rec = view.record
    out = _header(view, rec["statement"], rec["source"], claim_ids)
    out += _figure_block(view.id, quick, float_only=True)
    if rec["convention"]:
        out.append(f"\\paragraph{{Convention.}} {prose(rec['convention'], claim_ids)}\n")
    out += _context(view)
    out.append("\\subsection*{Sub-statements}\n")
    out += [_part(view.id, s, claim_ids) for s in rec["statements"]]
    out += _derivation_block(steps, claim_ids)
    out += _figure_block(view.id, quick, float_only=False)
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# The master document
# ---------------------------------------------------------------------------------------------

_GENERATED = "% Generated by `tts derive` from the claims' records and derivations; do not edit.\n"

# Only packages of Debian's texlive-latex-base and texlive-latex-recommended (what CI installs).
_PREAMBLE = r"""\documentclass[11pt,a4paper]{article}
\usepackage[margin=2.3cm]{geometry}
\usepackage{amsmath,amssymb,amsthm}
\usepackage{graphicx}
\usepackage{flafter}
\usepackage{booktabs,tabularx}
\usepackage[dvipsnames]{xcolor}
\usepackage[font=small,labelfont=bf]{caption}
\usepackage[expansion=false]{microtype}
\usepackage[round]{natbib}
\usepackage[colorlinks,linkcolor=MidnightBlue,citecolor=OliveGreen,urlcolor=MidnightBlue]{hyperref}
% A display formula at its natural size, scaled down only when wider than the line.
\newcommand{\fitmath}[1]{\par\smallskip\noindent\hfil\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{$\displaystyle #1$}\hfil\par\smallskip}
\setlength{\emergencystretch}{5em}
% A page of floats starts at the top, not centred.
\makeatletter\setlength{\@fptop}{0pt}\makeatother
\setlength{\parskip}{0.4ex}
% The claim as the paper states it, and its sub-statements.
\theoremstyle{plain}
\newtheorem{claim}{Claim}[section]
\theoremstyle{definition}
\newtheorem{statement}[claim]{Sub-statement}
\newtheorem{finding}[claim]{Finding}
\theoremstyle{remark}
\newtheorem*{counterexample}{Counterexample}
\newenvironment{evidence}[1][Evidence]{\par\noindent\textit{#1.}\ \ignorespaces}{\par\smallskip}
% Verdicts.
\newcommand{\confirmed}{\textcolor{OliveGreen}{\textbf{confirmed}}}
\newcommand{\conditional}{\textcolor{MidnightBlue}{\textbf{confirmed under stated conditions}}}
\newcommand{\refuted}{\textcolor{BrickRed}{\textbf{refuted}}}
\newcommand{\undecidedclaim}{\textcolor{BurntOrange}{\textbf{undecided}}}
% A sub-statement's verdict (holds, fails, undecided), coloured like the headline verdicts.
\newcommand{\partverdict}[1]{\textsc{\csname partcolor#1\endcsname #1}}
\newcommand{\partcolorholds}{\color{OliveGreen}}
\newcommand{\partcolorfails}{\color{BrickRed}}
\newcommand{\partcolorundecided}{\color{BurntOrange}}
\newcommand{\verdictline}[1]{\par\noindent\textbf{Verdict:} #1}
% A claim's figure (file, label, caption): the file is drawn by `tts report` next to this
% document; without it, a placeholder says so and the document still compiles.
\newcommand{\claimfigure}[3]{\begin{figure}[tbp]\centering
  \IfFileExists{#1}{\includegraphics[width=\linewidth]{#1}}%
  {\fbox{\parbox{0.9\linewidth}{\centering\small\strut The file \texttt{#1} is drawn by \texttt{tts report}
  (or \texttt{tts figures --out figures}) next to this document.\strut}}}
  \caption{#3}\label{fig:#2}\end{figure}}
\newcommand{\nofigure}[1]{\paragraph{Figure.} None: #1}
"""


def _abstract(views: list[ClaimView]) -> str:
    from theory.ledger import VERDICTS
    counts = [(v, sum(view.verdict == v for view in views)) for v in VERDICTS]
    told = ", ".join(f"{n} {v}" for v, n in counts if n)
    return (r"\begin{abstract}" "\n"
            r"This is a companion to \citet{javanmard2026}: for each of the paper's claims about the "
            r"test-time scaling of a linear self-attention model it states the claim, the reading that is "
            r"checked, the derivation the library performed symbolically, and the verdict its "
            r"computations reached, with the evidence and, where a reading fails, an explicit "
            f"counterexample confirmed by a second route. Of the {len(views)} claims, {told}. "
            r"Every number and every displayed formula is produced by the code (\texttt{tts report} "
            r"rebuilds this document)." "\n"
            r"\end{abstract}" "\n")


_INTRO = r"""\section{Introduction}\label{sec:intro}

\citet{javanmard2026} study test-time scaling in a model that can be solved exactly: a one-layer
linear self-attention (LSA) network is trained, without chain of thought, to predict the weight
vector of a linear-regression prompt, as in the in-context learning setting of \citet{zhang2024}, and
is then run with chain of thought (CoT) at test time, each forward pass refining the current
estimate of the weights (compare the multi-step gradient descent that \citet{huang2025} find in
transformers trained with chain of thought). The paper's claims concern how the training data
decide whether more test-time compute helps: compute can replace training context, a skill that
is missing from training makes more thinking hurt (overthinking), and training on hard tasks pays
off at test time.

Each section below takes one claim. It states the claim as the paper makes it, fixes the reading
that is checked, gives the verdict with its evidence (an exact derivation and at least one
independent computation per claim) and shows the derivation the library performed symbolically:
every displayed formula is printed from the expression the code computed. Where a reading fails,
the section gives an explicit counterexample, re-verified by a second, independent route.
Table~\ref{tab:verdicts} collects the verdicts and the test that reproduces each.

\paragraph{Setting and conventions.} Features are $x \sim N(0,\Lambda)$ in training and
$N(0,\Sigma)$ at test time, $w \sim N(0, I_d)$, $y = \langle w, x\rangle$, without noise; $n$ and $m$
are the training and test prompt lengths, $\hat S_m$ is the test prompt's sample covariance, and
$m = \infty$ is the limit $\hat S_m \to \Sigma$. Throughout,
$\Gamma = (1 + 1/n)\Lambda + (\operatorname{tr}\Lambda/n) I$ and
$\mathrm{Hard}(\Lambda) = \operatorname{tr}\Lambda/\lambda_{\min}(\Lambda)$. The iteration starts from
$w_0 = 0$ and $k$ counts forward passes of the trained model, so $k = 1$ is direct in-context
learning and $\mathrm{err}_k = \mathbb E\|w_k - w\|^2$; the paper's $w_{k+1}$ ``after $k$ steps'' is
$w_k$ here.

\paragraph{How a verdict is reached.} A claim is split into sub-statements, each with a role: a
\emph{reading} of the paper's statement as made, a \emph{condition} (the statement restricted by a
condition stated here), or a \emph{finding} (a related fact established here, which does not move
the verdict). One rule (\texttt{theory.\allowbreak{}ledger.\allowbreak{}headline}) gives the
headline: \confirmed{} when every reading holds; when a reading fails, \conditional{} if some
condition holds and \refuted{} if none does; with no failure but an open reading, \undecidedclaim.
A failing sub-statement carries a counterexample that a second route re-verifies, and a
disagreement between two routes is an error of the check, never a verdict. Claims not yet split
into sub-statements carry one recorded verdict with its conditions and evidence (marked ---
in Table~\ref{tab:verdicts}). Source labels: [poster] stated in the paper's poster; [paper] the
paper's statement as reported (its wording may differ); [sibling] stated by the same authors in
\citet{javanmard2026sibling}; [derived] derived here; [open] not settled by the sources, settled or
assumed here.

\paragraph{Methods.} Exact results use rational arithmetic and sympy. The moment lemma behind
$\Gamma$ is Isserlis' theorem \citep{isserlis1918}. At finite $m$ the error is a polynomial in
$1/m$, whose coefficients an exact engine computes from trace words of $\hat S_m$ by Gaussian
integration by parts \citep{stein1981}, checked against Isserlis' pairings; Wishart distributions
and the Bartlett decomposition follow \citet{muirhead1982}. The project's notes write the finite-$m$
analogue of Remark~4.1's trace through zonal polynomials
\citep{stanley1989,knop1997,koev2006} and take the proportional limit with the Marchenko--Pastur
law \citep{marchenko1967}, the limit in which \citet{takanami2026} study chain of thought for this
task. Monte Carlo estimates are seeded and carry standard errors; at finite $m$ the per-prompt
error is heavy-tailed, so an estimate is trusted only when its own diagnostics support its
standard error \citep{gine1997}, and tilted sampling uses a defensive mixture \citep{owen2000}. The
mathematics, with proofs and the tests that check each statement, is written up in the project's
notes, \texttt{proofs/math.md}; each section cites the relevant part.

\paragraph{Reproducing.} \texttt{pytest checks/} recomputes every verdict and fails when one no
longer matches its record; \texttt{tts verify} prints them; \texttt{tts report} rebuilds this
document, its figures and its bibliography.
"""


def _verdict_table(views: list[ClaimView], claim_ids) -> str:
    rows = []
    for view in views:
        if view.statements is None:
            counts = "---"
        else:
            counts = " / ".join(str(sum(s["verdict"] == v for s in view.statements)) for v in _PART_VERDICTS)
        checks = r"\newline ".join(_code(c) for c in view.checks) or "---"
        rows.append(f"\\ref{{claim:{view.id}}} & \\texttt{{{view.id}}}: {prose(view.title, claim_ids)} & "
                    f"{_verdict_macro(view.verdict)} & {counts} & {{\\footnotesize {checks}}} \\\\")
    return (r"""\begin{table}[!t]
\centering\small
\caption{The verdicts. Sub-statements: how many hold / fail / are undecided (--- where the claim
is not yet split into sub-statements). Each row is reproduced by \texttt{pytest} on its check file
or by \texttt{tts verify --only} followed by the claim's id.}\label{tab:verdicts}
\renewcommand{\arraystretch}{1.15}
\begin{tabularx}{\linewidth}{@{}r>{\raggedright\arraybackslash}X>{\raggedright\arraybackslash}p{3.2cm}c>{\raggedright\arraybackslash}p{4.0cm}@{}}
\toprule
\S & claim & verdict & sub-statements & check file \\
\midrule
""" + "\n".join(rows) + r"""
\bottomrule
\end{tabularx}
\end{table}
""")


def render_master(views: list[ClaimView], claim_ids=()) -> str:
    inputs = "\n".join(f"\\input{{{section_filename(v.id)[:-4]}}}" for v in views)
    return (_GENERATED + _PREAMBLE + r"""
\title{Test-time scaling of linear self-attention:\\ the claims of Javanmard, Mirzasoleiman
and Mirrokni,\\ derived and checked}
\author{The \texttt{tts-theory} project}
\date{}
\begin{document}
\maketitle
""" + _abstract(views) + r"""
\tableofcontents

""" + _verdict_table(views, claim_ids) + "\n" + _INTRO + "\n" + inputs + r"""

\clearpage
\phantomsection\addcontentsline{toc}{section}{References}
\bibliographystyle{plainnat}
\bibliography{references}
\end{document}
""")


def tex_files(records_dir: str | Path, *, quick: bool = False) -> dict[str, str]:
    """Every generated file, relative path → content (nothing written).

    ``quick``: captions for the figures of ``tts report --quick`` (fewer Monte Carlo prompts).
    """
    from theory._bibliography import bibtex
    views = claim_views(records_dir)
    claim_ids = frozenset(v.id for v in views)
    files = {MASTER: render_master(views, claim_ids), BIBFILE: bibtex()}
    for view in views:
        files[section_filename(view.id)] = render_section(view, derivation_steps(view.id),
                                                          claim_ids=claim_ids, quick=quick)
    return files


def write_derivations(out_dir: str | Path, records_dir: str | Path, *,
                      quick: bool = False) -> list[Path]:
    """Write the master document, the bibliography and one section per claim under ``out_dir``.

    Section files of claims no longer in the ledger are removed, so the directory always
    matches the ledger.
    """
    out_dir = Path(out_dir)
    files = tex_files(records_dir, quick=quick)
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
# Compiling: pdflatex, bibtex, pdflatex twice
# ---------------------------------------------------------------------------------------------

TEX_TOOLS = ("pdflatex", "bibtex")
_UNDEFINED = re.compile(r"^(?:LaTeX|Package natbib) Warning: (?:(?:Citation|Reference) .*? undefined.*"
                        r"|There were undefined (?:references|citations)\.)$", re.M)


@dataclass(frozen=True)
class Build:
    """A compiled document: the PDF, its page count, and what the log warns about."""

    pdf: Path
    pages: int
    log: str

    @property
    def overfull(self) -> list[str]:
        """The log's ``Overfull \\hbox`` lines (text or formulas running into the margin)."""
        return re.findall(r"^Overfull \\hbox .*$", self.log, re.M)

    @property
    def undefined(self) -> list[str]:
        """Citations and references that did not resolve."""
        return _UNDEFINED.findall(self.log)


def missing_tex_tools() -> list[str]:
    """The TeX programs the report needs that are not on ``PATH``."""
    return [tool for tool in TEX_TOOLS if shutil.which(tool) is None]


def compile_pdf(directory: str | Path, *, timeout: float = 300) -> Build:
    """Compile the master document in ``directory``: pdflatex, bibtex, pdflatex twice (so that
    citations, references and the contents resolve). Raises ``RuntimeError`` with the log's tail
    on failure."""
    directory = Path(directory)
    stem = MASTER[:-4]
    latex = ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", MASTER]
    for command in (latex, ["bibtex", stem], latex, latex):
        proc = subprocess.run(command, cwd=directory, capture_output=True, text=True,
                              encoding="latin-1", timeout=timeout)
        if proc.returncode != 0:
            tail = "\n".join(proc.stdout.splitlines()[-25:])
            raise RuntimeError(f"{command[0]} failed in {directory} (exit {proc.returncode}):\n{tail}")
    log = (directory / f"{stem}.log").read_text(encoding="latin-1")
    pages = re.search(r"Output written on \S+ \((\d+) pages?", log)
    return Build(directory / f"{stem}.pdf", int(pages.group(1)) if pages else 0, log)


# ---------------------------------------------------------------------------------------------
# The builders of the claims not yet split into parts: each calls the library's own symbolic
# derivation and keeps its steps
# ---------------------------------------------------------------------------------------------


def _eq(lhs, rhs):
    """``lhs = rhs`` kept as written (sympy would evaluate an equation of a symbol and a matrix)."""
    return sympy.Eq(lhs, rhs, evaluate=False)


def _steps(pairs, prefix: str = "") -> list[Step]:
    """``(description, expression)`` pairs of a library derivation as :class:`Step` s."""
    return [Step(f"{prefix}{text}", expr) for text, expr in pairs]


def _contraction_symbols(d: int):
    n = sympy.Symbol("n", positive=True)
    lams = sympy.symbols(f"lambda_1:{d + 1}", positive=True)
    T = sympy.Symbol("T", positive=True)  # stands for tr Λ = Σ λ_i
    gam = gamma_eigenvalues(lams, n, trace=T)
    return n, lams, T, gam


def _in_inverse_m(expr):
    """``expr`` (rational in the positive symbol ``m``) as a sum of factored coefficients times m^{-r}."""
    m, u = sympy.Symbol("m", positive=True), sympy.Dummy("u")
    poly = sympy.Poly(sympy.expand(sympy.simplify(expr.subs(m, 1 / u))), u)
    return sympy.Add(*[sympy.factor(c) / m ** r for (r,), c in poly.terms()], evaluate=False)


