"""Explore test-time scaling of linear self-attention interactively (marimo notebook).

Open it:            marimo edit notebooks/explore.py     (or: marimo run notebooks/explore.py)
Run it headless:    python notebooks/explore.py [--mc]  (every cell at its default settings;
                    --mc also runs the Monte Carlo overlay)

Needs the ``notebook`` extra: pip install ".[notebook]".
"""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")

with app.setup:
    import html
    import io
    import math
    import textwrap
    import time
    from dataclasses import dataclass

    import marimo as mo
    import numpy as np
    from matplotlib.figure import Figure

    import theory
    from theory import figures
    from theory.overthinking import OverthinkingReport

    # The spectrum shapes offered for Λ and Σ: dropdown label → key.
    SHAPES = {
        "power law λᵢ ∝ i^(−α)": "power",
        "isotropic (every λᵢ = 1)": "isotropic",
        "spiked (λ₁ = 1 + 10·s, the others 1)": "spiked",
        "from a file (.npy, .txt or .csv)": "file",
    }
    # Each step of the exact engine costs about this factor more than the one before (measured at
    # d = 10, λᵢ = 1/i, isotropic Σ, n = 50, m = 60: the single step k = 10 takes about 4 s of CPU).
    EXACT_COST_RATIO = 2.2
    # The certified bands: theory.error_bracket_curve encloses the trace T_k(m) for every k whose
    # estimated cost fits this many CPU seconds (at d = 6 that reaches k = 40; beyond the reach the
    # bracket widens: log-convex extension below, isotropic domination above). The test that
    # excludes every k past the curve's end (for the certified k*) runs when it fits the smaller budget.
    BRACKET_TRACE_BUDGET = 20.0
    K_STAR_TRACE_BUDGET = 10.0
    # The pool of the power-law task-selection example: exponents α and dimension.
    POOL_ALPHAS = (0.25, 0.5, 0.75, 1.25, 1.5, 2.0)
    POOL_DIM = 8


@app.function
def fmt(x, digits: int = 4) -> str:
    """A number as a reader wants it: ``digits`` significant digits, and a power of ten outside
    ``[10⁻³, 10⁴)`` (``3.1 × 10⁵``, never ``3.1e+05``); ``−`` is the minus sign."""
    x = float(x)
    if math.isnan(x):
        return "undefined"
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if x == 0:
        return "0"
    mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
    exponent = int(exponent)
    if -3 <= exponent < 4:
        text = f"{x:.{digits}g}"
    else:
        mantissa = mantissa.rstrip("0").rstrip(".")
        superscript = str(exponent).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))
        text = f"{mantissa} × 10{superscript}"
    return text.replace("-", "−")


@app.function
def html_table(rows, header=None) -> mo.Html:
    """A small HTML table; ``rows`` are lists of cells, each a string of trusted HTML."""
    cell = "text-align:left; vertical-align:top; padding:3px 18px 3px 0"
    head = "" if header is None else "<tr>" + "".join(
        f"<th style='{cell}; border-bottom:1px solid #bbb'>{h}</th>" for h in header) + "</tr>"
    body = "".join("<tr>" + "".join(f"<td style='{cell}'>{c}</td>" for c in row) + "</tr>" for row in rows)
    # align-self: as an item of a vstack, keep the table's own width instead of the page's
    return mo.Html(f"<table style='width:auto; align-self:flex-start; border-collapse:collapse'>"
                   f"<thead>{head}</thead><tbody>{body}</tbody></table>")


@app.function
def spectrum(shape: str, d: int, parameter: float) -> np.ndarray:
    """The eigenvalues (a diagonal covariance) of a built-in shape of :data:`SHAPES`.

    ``parameter`` is the decay exponent α of the power law, or the spike strength s (unused, and
    may be None, for the isotropic shape).
    """
    i = np.arange(1, d + 1, dtype=float)
    if shape == "power":
        return i ** (-parameter)
    if shape == "isotropic":
        return np.ones(d)
    if shape == "spiked":
        return np.where(i == 1, 1.0 + 10.0 * parameter, 1.0)
    raise ValueError(f"shape must be one of {sorted(set(SHAPES.values()) - {'file'})}, got {shape!r}")


@app.function
def read_covariance(contents: bytes, name: str) -> np.ndarray:
    """A covariance from an uploaded file: a ``(d, d)`` matrix, or ``d`` eigenvalues (diagonal)."""
    if name.endswith(".npy"):
        return np.load(io.BytesIO(contents), allow_pickle=False)
    return np.loadtxt(io.BytesIO(contents), delimiter="," if name.endswith(".csv") else None, ndmin=1)


@app.class_definition
@dataclass(frozen=True)
class Curve:
    """Everything the error curve and the tables below it show.

    Attributes
    ----------
    ks : numpy.ndarray
        ``k = 1..K``: the steps of the curve.
    limit : numpy.ndarray
        ``err_k`` at ``m = ∞`` for every ``k`` in ``ks`` (closed form).
    m : int or None
        The test prompt length; ``None`` is ``m = ∞``.
    exact : numpy.ndarray
        ``err_k`` at ``m`` for ``k = 1..len(exact)`` (exact engine, rounded once); empty at ``m = ∞``.
    seconds : numpy.ndarray
        Wall time of each exact step.
    report : OverthinkingReport
        The ``m = ∞`` verdict.
    finite_report : OverthinkingReport or None
        The verdict at ``m`` over the exact window (``None`` at ``m = ∞`` or for a window of one step).
    band : theory.figures.Band or None
        Every ``k`` in ``ks`` at ``m``: the exact values of the window, and beyond it the certified
        bracket ``lower <= err_k(m) <= upper`` (:func:`theory.error_bracket_curve` with the exact
        engine off: the zonal trace; its brackets of the window's ``k`` stay in ``brackets``);
        ``None`` at ``m = ∞``.
    brackets : tuple of theory.ErrorBracket
        What :func:`theory.error_bracket_curve` returned, ``k = 0..K`` (empty at ``m = ∞``).
    band_seconds : float
        Wall time of the bracket.
    k_star : theory.figures.KStar or None
        ``k*`` at ``m`` certified over all ``k`` from the bracket (``None`` at ``m = ∞``).
    """

    ks: np.ndarray
    limit: np.ndarray
    m: int | None
    exact: np.ndarray
    seconds: np.ndarray
    report: OverthinkingReport
    finite_report: OverthinkingReport | None
    band: figures.Band | None = None
    brackets: tuple = ()
    band_seconds: float = 0.0
    k_star: figures.KStar | None = None


@app.function
def curve_data(train_cov, test_cov, n: int, m: int | None, k_curve: int, k_exact: int) -> Curve:
    """The error curve from the inputs: ``m = ∞`` for ``k = 1..k_curve`` in closed form, and at
    finite ``m`` the exact error for ``k = 1..min(k_exact, k_curve)`` and the certified bracket for
    every ``k <= k_curve``, with the verdicts (and ``k*`` certified from the bracket)."""
    ks = np.arange(1, k_curve + 1)
    limit = figures.limit_curve(train_cov, n, ks, test_cov=test_cov)
    report = theory.overthinking_report(train_cov, n, test_cov)
    exact, seconds, finite_report = [], [], None
    if m is not None:
        for k in ks[:k_exact]:
            start = time.perf_counter()
            exact.append(theory.cot_error(train_cov, n, int(k), test_cov=test_cov, m=m))
            seconds.append(time.perf_counter() - start)
        if len(exact) >= 2:
            # the same exact values, from the engine's cache
            finite_report = theory.overthinking_report(train_cov, n, test_cov, m=m, k_max=len(exact))
    band, brackets, band_seconds, k_star = None, (), 0.0, None
    if m is not None:
        start = time.perf_counter()
        brackets = theory.error_bracket_curve(train_cov, n, k_curve, test_cov, m, exact_budget=0,
                                              trace_budget=BRACKET_TRACE_BUDGET)
        band = figures.with_exact(figures.band_from_brackets(brackets), exact)
        band_seconds = time.perf_counter() - start
        k_star = figures.certified_k_star(train_cov, n, band, m=m, test_cov=test_cov,
                                          trace_budget=K_STAR_TRACE_BUDGET)
    return Curve(ks, limit, m, np.array(exact), np.array(seconds), report, finite_report, band, brackets,
                 band_seconds, k_star)


@app.function
def task_pool(pool: str, target: str):
    """The task-selection example: task names, types, covariances (eigenvalues) and the target Σ.

    ``pool`` is ``"power"`` (power laws ``λᵢ ∝ i^(−α)`` in dimension 8, each scaled to the target's
    trace) or ``"paper"`` (:func:`theory.task_type_pool`, the paper's four task types in dimension 100);
    ``target`` is ``"isotropic"`` (``Σ = I``) or ``"power"`` (``Σ = diag(1/i)``).
    """
    if pool == "paper":
        tasks, kinds, sigma = theory.task_type_pool(0, target=target)
        names = [f"{theory.selection.TASK_TYPES[t][0]} #{j}" for j, t in enumerate(kinds)]
        return names, kinds, tasks, sigma
    i = np.arange(1, POOL_DIM + 1)
    sigma = np.ones(POOL_DIM) if target == "isotropic" else 1.0 / i
    tasks = [i ** (-a) * sigma.sum() / (i ** (-a)).sum() for a in POOL_ALPHAS]
    return [f"α = {a:g}" for a in POOL_ALPHAS], np.arange(len(tasks)), tasks, sigma


@app.function
def array_code(a) -> str:
    """Python source for an array, every float written so that it reads back bit for bit."""
    a = np.asarray(a, dtype=float)

    def row(values):
        items = [repr(float(v)) for v in values]
        return ",\n    ".join(", ".join(items[j:j + 4]) for j in range(0, len(items), 4))

    if a.ndim == 1:
        return f"np.array([\n    {row(a)},\n])"
    return "np.array([\n" + "".join(f"    [{row(r)}],\n" for r in a) + "])"


@app.function
def reproduction_code(train_cov, test_cov, n: int, m: int | None, k_curve: int, k_exact: int, k: int,
                      mc_samples: int | None, pool: str, target: str, about: str) -> str:
    """A plain Python script of the ``theory`` calls behind what the notebook shows.

    It builds the same ``limit``, ``exact``, ``report``, ``finite_report``, ``mc`` and
    ``selection`` as :func:`curve_data` and the cells do (bit for bit: the same calls on the same
    floats), then prints the numbers the page shows.
    """
    window = min(k_exact, k_curve)
    lines = [
        '"""' + textwrap.fill(f"Reproduces the explore.py notebook: {about}.", width=96) + '\n"""',
        "import numpy as np",
        "",
        "import theory",
        "from theory import figures",
        "",
        "# Λ (training) and Σ (test); a 1-D array is the eigenvalues of a diagonal covariance",
        f"train_cov = {array_code(train_cov)}",
        f"test_cov = {array_code(test_cov)}",
        f"n, m = {n}, {m}" + ("  # m = None: m = ∞" if m is None else ""),
        f"ks = np.arange(1, {k_curve + 1})  # the curve: k = 1..{k_curve}",
        f"k = {k}  # the chosen number of steps",
        "",
        "# m = ∞: err_k = ‖(I − Γ⁻¹Σ)^k‖_F² in closed form (through its logarithm: no overflow)",
        "limit = np.exp([theory.limit_log_error(train_cov, n, int(j), test_cov=test_cov) for j in ks])",
        "report = theory.overthinking_report(train_cov, n, test_cov)",
    ]
    if m is not None:
        lines += [
            f"# m = {m}: the exact error for k = 1..{window} (rational arithmetic, rounded once)",
            f"exact = np.array([theory.cot_error(train_cov, n, int(j), test_cov=test_cov, m=m) "
            f"for j in ks[:{window}]])",
        ]
        if window >= 2:
            lines.append(f"finite_report = theory.overthinking_report(train_cov, n, test_cov, m=m, k_max={window})")
        lines += [
            f"# m = {m}: certified brackets lower <= err_k <= upper for k = 0..{k_curve} (the zonal trace;",
            "# the exact engine off), and k* certified over all k from them",
            f"brackets = theory.error_bracket_curve(train_cov, n, {k_curve}, test_cov, m, exact_budget=0, "
            f"trace_budget={BRACKET_TRACE_BUDGET!r})",
            "lower = np.array([b.lower_float for b in brackets[1:]])",
            "upper = np.array([b.upper_float for b in brackets[1:]])",
            "# the exact window drawn as exact, the bracket beyond it",
            "band = figures.with_exact(figures.band_from_brackets(brackets), exact)",
            f"k_star = figures.certified_k_star(train_cov, n, band, m=m, test_cov=test_cov, "
            f"trace_budget={K_STAR_TRACE_BUDGET!r})",
        ]
        if mc_samples is not None:
            lines.append(f"mc = theory.mc_cot_error(train_cov, n, ks, m=m, test_cov=test_cov, "
                         f"samples={mc_samples}, seed=0)")
    if pool == "paper":
        lines += [
            "",
            f"# task selection: the paper's four task types (d = 100), target {target}",
            f'tasks, kinds, sigma = theory.task_type_pool(0, target="{target}")',
        ]
    else:
        lines += [
            "",
            f"# task selection: power laws in dimension {POOL_DIM}, each scaled to tr Σ, target {target}",
            f"i = np.arange(1, {POOL_DIM + 1})",
            f"sigma = np.ones({POOL_DIM})" if target == "isotropic" else "sigma = 1.0 / i",
            f"tasks = [i ** (-a) * sigma.sum() / (i ** (-a)).sum() for a in {POOL_ALPHAS!r}]",
        ]
    lines += [
        "selection = theory.select_tasks(tasks, sigma, exact=False)",
        "",
        'print(f"m = ∞: λ_max(Γ⁻¹Σ) = {report.max_eig:.4g}, k* = {report.k_star}, '
        'err* = {report.err_star:.4g}")',
        'print(f"err_{k} at m = ∞: {limit[k - 1]:.4g}")',
    ]
    if m is not None:
        lines.append('print(f"err_{k} at m = {m} (exact): {exact[k - 1]:.4g}")' if k <= window
                     else f"# k = {k} is beyond the exact window k ≤ {window}")
        lines.append('print(f"err_{k} at m = {m} (certified bracket): [{lower[k - 1]:.4g}, {upper[k - 1]:.4g}]")')
        if window >= 2:
            lines.append('print(f"m = {m}, k ≤ ' + str(window)
                         + ': k* = {finite_report.k_star}, err* = {finite_report.err_star:.4g}")')
        lines.append('print(f"m = {m}, certified over all k: {k_star.text()}")')
        if mc_samples is not None:
            lines.append('print(f"err_{k} at m = {m} (Monte Carlo): {mc.mean[k - 1]:.4g} '
                         '± {2 * mc.stderr[k - 1]:.2g}")')
    lines.append('print("π by task:", ", ".join(f"{p:.4g}" for p in selection.pi))')
    return "\n".join(lines) + "\n"


@app.function
def error_figure(curve: Curve, k: int, mc, title: str) -> Figure:
    """The error against ``k``: ``m = ∞`` dashed; at a finite ``m`` the exact window solid, the
    certified band beyond it (with the Monte Carlo overlay, trustworthy points only, when given);
    the best ``k*`` starred where certified (a bar over its candidates where only bracketed); the
    chosen ``k`` as a dotted vertical line."""
    fig = Figure(figsize=(7.2, 4.4), layout="constrained")
    ax = fig.subplots()
    ks, report = curve.ks, curve.report
    star = report.k_star if report.k_star is not None and report.k_star <= ks[-1] else None
    figures.plot_error_curve(ax, ks, curve.limit, label="m = ∞ (closed form)", color="grey", style="--",
                             k_star=star)
    starred, ranged, open_star = star is not None, False, False
    if curve.band is not None:
        window = len(curve.exact)
        what = f"exact k ≤ {window}, then certified band" if window else "certified band"
        figures.plot_band(ax, curve.band, label=f"m = {curve.m} ({what})", color="C0", k_star=curve.k_star, mc=mc)
        single = len(curve.k_star.candidates) == 1 and curve.k_star.high is not None
        starred = starred or curve.k_star.decided
        open_star = single and not curve.k_star.decided
        ranged = not single
    ax.axvline(k, color="C3", ls=":", lw=1.2, label=f"chosen k = {k}")
    ax.set_xlabel("k: LSA forward passes (k = 1 is direct in-context learning)")
    ax.set_ylabel(r"test error $\mathrm{err}_k = E\,\|w_k - w\|^2$")
    ax.set_title(title, fontsize=9)
    ax.grid(True, which="major", alpha=0.3)
    figures.legend_markers(ax, mc=mc is not None, star=starred, band=curve.band is not None, k_range=ranged,
                           open_star=open_star)
    return fig


@app.function
def verdict_rows(curve: Curve) -> tuple[str, list]:
    """The overthinking verdict: a headline sentence (HTML) and table rows (m = ∞, the exact window,
    and ``k*`` certified from the brackets)."""
    report, finite = curve.report, curve.finite_report
    if report.diverges:
        short = ("hurts (overthinking)" if report.k_star == 1
                 else f"helps up to k* = {report.k_star}, then hurts (overthinking)")
        detail = f"the error {report.behaviour} and grows without bound"
    elif report.behaviour == "decreasing":
        short, detail = "helps", "every step lowers the error"
    else:
        short, detail = "helps in the end", f"after a transient rise at k = {report.first_rise}"
    if report.k_star is None:
        best, lowest = "none finite: more steps always help", f"{fmt(report.err_star)} (the limit as k → ∞)"
    else:
        best, lowest = f"k* = {report.k_star}", f"{fmt(report.err_star)} (at k = {report.k_star})"
    bound = "above 2: it grows without bound" if report.diverges else "at most 2: it stays bounded"
    columns = [[f"<b>{short}</b>: {detail}", f"{fmt(report.max_eig)}, {bound}", best, lowest,
                directions_text(report.responsible)]]
    headline = f"At m = ∞ more chain of thought <b>{short}</b>."
    if finite is not None:
        K = len(finite.errors)
        if finite.behaviour == "falls throughout the window":
            f_short = "helps over the whole exact window"
            f_detail = f"the error still falls at k = {K} (at a finite m it diverges eventually)"
            f_best = f"k* ≥ {K}"
        elif finite.behaviour == "rises from the start":
            f_short, f_detail = "hurts", "the error rises from the first extra step"
            f_best = "k* = 1 (direct in-context learning)"
        else:
            f_short, f_detail = f"helps up to k* = {finite.k_star}, then hurts", "the error falls, then rises"
            f_best = f"k* = {finite.k_star}"
        columns.append([f"<b>{f_short}</b>: {f_detail}", "—", f_best,
                        f"{fmt(finite.err_star)} (at k = {finite.k_star})", "—"])
        headline += f" At m = {finite.m} (exact, k ≤ {K}) it <b>{f_short}</b>."
    if curve.k_star is not None:
        star, band = curve.k_star, curve.band
        best_upper = min(band.upper)
        low = min(band.lower[k - 1] for k in star.candidates)
        K = len(curve.ks)
        beyond = (f"every k > {K} excluded by the log-convexity of the trace" if star.beyond_excluded
                  else f"k > {K} not checked (over the time budget)")
        lowest = fmt(low) if fmt(low) == fmt(best_upper) else f"in [{fmt(low)}, {fmt(best_upper)}]"
        columns.append(["—", "—", f"{html.escape(star.text())}; {beyond}", lowest, "—"])
        headline += f" Certified over all k from the brackets: <b>{html.escape(star.text())}</b>."
    labels = ["does more CoT help?", "λ<sub>max</sub>(Γ⁻¹Σ) (m = ∞ diverges iff > 2)", "best number of steps",
              "lowest error", "directions responsible"]
    return headline, [[label, *cells] for label, *cells in zip(labels, *columns)]


@app.function
def directions_text(responsible: np.ndarray) -> str:
    """The eigenvectors of Γ⁻¹Σ with eigenvalue above 2, as coordinate lists in words."""
    count = responsible.shape[1]
    if count == 0:
        return "none (no eigenvalue of Γ⁻¹Σ exceeds 2)"
    vectors = "; ".join("(" + ", ".join(fmt(x, 3) for x in responsible[:, j]) + ")" for j in range(min(count, 3)))
    more = f" and {count - 3} more" if count > 3 else ""
    return f"{count} eigenvector{'s' if count > 1 else ''} of Γ⁻¹Σ with eigenvalue > 2: {vectors}{more}"


@app.cell
def _():
    mo.md(r"""
    # Test-time scaling of linear self-attention

    The trained model runs $k$ forward passes at test time; with $w_0 = 0$ the error after $k$
    passes is $\mathrm{err}_k = \mathbb E\|w_k - w\|^2 = \mathbb E\|(I - \Gamma^{-1}\hat S_m)^k\|_F^2$,
    $\Gamma = (1 + 1/n)\Lambda + (\operatorname{tr}\Lambda/n) I$ ($k = 1$ is direct in-context
    learning). Choose the training covariance $\Lambda$, the test covariance $\Sigma$, the
    training and test prompt lengths $n$ and $m$, and the number of steps $k$.
    """)
    return


@app.cell
def _():
    d = mo.ui.slider(2, 16, value=6, show_value=True, debounce=True,
                     label="d: dimension of the inputs x and weights w")
    train_shape = mo.ui.dropdown(SHAPES, value="power law λᵢ ∝ i^(−α)", label="Λ (training covariance):")
    test_shape = mo.ui.dropdown({"same as Λ": "same", **SHAPES}, value="isotropic (every λᵢ = 1)",
                                label="Σ (test covariance):")
    same_trace = mo.ui.checkbox(value=True, label="rescale Σ so that tr Σ = tr Λ (the same signal energy)")
    train_file = mo.ui.file(filetypes=[".npy", ".txt", ".csv"], label="upload Λ")
    test_file = mo.ui.file(filetypes=[".npy", ".txt", ".csv"], label="upload Σ")
    return d, same_trace, test_file, test_shape, train_file, train_shape


@app.cell
def _(test_shape, train_shape):
    def _parameter(shape, which):
        if shape == "power":
            return mo.ui.slider(0.0, 3.0, step=0.1, value=1.0, show_value=True, debounce=True,
                                label=f"{which}: decay exponent α")
        if shape == "spiked":
            return mo.ui.slider(0.0, 3.0, step=0.1, value=1.0, show_value=True, debounce=True,
                                label=f"{which}: spike strength s")
        return None

    train_alpha = _parameter(train_shape.value, "Λ")
    test_alpha = _parameter(test_shape.value, "Σ")
    return test_alpha, train_alpha


@app.cell
def _():
    n = mo.ui.slider(1, 500, value=50, show_value=True, debounce=True,
                     label="n: training prompt length (examples per prompt)")
    m = mo.ui.slider(2, 400, value=60, show_value=True, debounce=True,
                     label="m: test prompt length (examples per prompt)")
    m_infinite = mo.ui.checkbox(value=False, label="m = ∞ instead (infinitely long test prompts: closed form)")
    k = mo.ui.slider(1, 40, value=3, show_value=True, debounce=True, label="k: CoT steps to evaluate (LSA passes)")
    k_max = mo.ui.slider(2, 40, value=20, show_value=True, debounce=True,
                         label="curve drawn up to k (certified bands beyond the exact engine)")
    k_exact = mo.ui.slider(1, 12, value=7, show_value=True, debounce=True,
                           label=f"exact engine up to k, finite m only (cost ≈ {EXACT_COST_RATIO}× per step; "
                                 "k ≤ 12: about a minute)")
    return k, k_exact, k_max, m, m_infinite, n


@app.cell
def _(
    d,
    k,
    k_exact,
    k_max,
    m,
    m_infinite,
    n,
    same_trace,
    test_alpha,
    test_file,
    test_shape,
    train_alpha,
    train_file,
    train_shape,
):
    # a shape's own parameter or upload button, nothing where it has none
    def _extra(parameter, shape, upload):
        if parameter is not None:
            return parameter
        return upload if shape.value == "file" else ""

    _train = [train_shape, _extra(train_alpha, train_shape, train_file)]
    _test = [test_shape, _extra(test_alpha, test_shape, test_file)]
    mo.vstack([
        mo.md("### Covariances"),
        d if train_shape.value != "file" else mo.md("d: set by the uploaded Λ"),
        mo.hstack(_train, justify="start", gap=2, wrap=True),
        mo.hstack(_test, justify="start", gap=2, wrap=True),
        same_trace,
        mo.md("### Prompt lengths and steps"),
        mo.hstack([n, mo.vstack([m, m_infinite])], justify="start", gap=2, align="start", wrap=True),
        mo.hstack([k, k_max], justify="start", gap=2, wrap=True),
        k_exact,
    ])
    return


@app.cell
def _(
    d,
    same_trace,
    test_alpha,
    test_file,
    test_shape,
    train_alpha,
    train_file,
    train_shape,
):
    def _refuse(problem):
        mo.stop(True, mo.callout(mo.Html(f"<b>These covariances cannot be used:</b> {html.escape(problem)}"),
                                 kind="danger"))

    def _covariance(shape, parameter, upload, dim, which):
        if shape == "file":
            mo.stop(not upload.value,
                    mo.callout(mo.md(f"Upload a file for {which} (a matrix or its eigenvalues)."), kind="warn"))
            try:
                matrix = read_covariance(upload.contents(), upload.name())
            except (ValueError, OSError) as exc:  # not an .npy array, or not numbers
                _refuse(f"{upload.name()} holds no matrix or list of numbers ({exc})")
            return matrix, f"{which} from {upload.name()}"
        if shape == "power":
            label = f"power law λᵢ ∝ i^(−{parameter.value:g})"
        elif shape == "spiked":
            label = f"spiked, λ₁ = 1 + 10·{parameter.value:g}"
        else:
            label = shape
        return spectrum(shape, dim, None if parameter is None else parameter.value), f"{which}: {label}"

    train_cov, _train_about = _covariance(train_shape.value, train_alpha, train_file, d.value, "Λ")
    if test_shape.value == "same":
        test_cov, _test_about = np.array(train_cov, dtype=float), "Σ = Λ"
    else:
        test_cov, _test_about = _covariance(test_shape.value, test_alpha, test_file,
                                            np.shape(train_cov)[0], "Σ")
    if same_trace.value and test_shape.value != "same":
        def _trace(c):
            return np.trace(c) if np.ndim(c) == 2 else np.sum(c)
        test_cov = test_cov * (_trace(train_cov) / _trace(test_cov))
        _test_about += ", rescaled to tr Σ = tr Λ"
    try:  # the library's own checks: symmetric, PSD, finite, nonzero, the same dimension
        theory.limit_log_error(train_cov, 1, 1, test_cov=test_cov)
    except ValueError as _exc:
        _refuse(str(_exc))
    covariances_about = f"d = {np.shape(train_cov)[0]}; {_train_about}; {_test_about}"
    return covariances_about, test_cov, train_cov


@app.cell
def _(k, k_exact, k_max, m, m_infinite, n, test_cov, train_cov):
    m_value = None if m_infinite.value else m.value
    k_curve = max(k_max.value, k.value)
    _title = ("m = ∞ closed form" if m_value is None
              else f"exact error at m = {m_value}, k ≤ {min(k_exact.value, k_curve)}; certified bands to k = {k_curve}")
    with mo.status.spinner(title=_title):
        curve = curve_data(train_cov, test_cov, n.value, m_value, k_curve, k_exact.value)
    return curve, k_curve, m_value


@app.cell
def _():
    run_mc = mo.ui.checkbox(value="mc" in mo.cli_args(),
                            label="Monte Carlo overlay at the test length m (seed 0, ± 2 standard errors)")
    mc_samples = mo.ui.slider(200, 20000, step=200, value=2000, show_value=True, debounce=True,
                              label="Monte Carlo prompts")
    return mc_samples, run_mc


@app.cell
def _(k_curve, m_value, mc_samples, n, run_mc, test_cov, train_cov):
    mc = None
    if run_mc.value and m_value is not None:
        with mo.status.spinner(title="Monte Carlo"):
            mc = theory.mc_cot_error(train_cov, n.value, np.arange(1, k_curve + 1), m=m_value, test_cov=test_cov,
                                     samples=mc_samples.value, seed=0)
    return (mc,)


@app.cell
def _(
    covariances_about,
    k,
    k_curve,
    k_exact,
    m_value,
    mc,
    mc_samples,
    n,
    run_mc,
):
    _m = "m = ∞" if m_value is None else f"m = {m_value}"
    _exact = ("" if m_value is None else f", exact engine up to k = {min(k_exact.value, k_curve)}, "
              f"certified bands to k = {k_curve}")
    _mc = (f"Monte Carlo on, {mc_samples.value} prompts" if mc is not None
           else "Monte Carlo off" + (" (it needs a finite m)" if run_mc.value else ""))
    settings_about = f"{covariances_about}; n = {n.value}; {_m}"
    mo.Html(f"<p><b>Now showing:</b> {html.escape(settings_about)}; chosen k = {k.value}; "
            f"curve up to k = {k_curve}{_exact}; {_mc}.</p>")
    return (settings_about,)


@app.cell
def _(curve, k, mc, mc_samples, run_mc, settings_about):
    mo.vstack([
        error_figure(curve, k.value, mc, settings_about),
        mo.hstack([run_mc, mc_samples], justify="start", gap=2, wrap=True),
    ])
    return


@app.cell
def _(curve, k, k_exact, mc):
    _k = k.value
    _rows = [["m = ∞ (closed form)", fmt(curve.limit[_k - 1])]]
    _notes = []
    if curve.m is not None:
        _window = len(curve.exact)
        if _k <= _window:
            _rows.append([f"m = {curve.m}, exact (rational arithmetic, rounded once)", fmt(curve.exact[_k - 1])])
        else:
            _rows.append([f"m = {curve.m}, exact",
                          f"not computed: k = {_k} is beyond the exact window k ≤ {_window}"])
        _b = curve.brackets[_k]
        _upper = "no finite upper bound" if _b.upper is None else fmt(_b.upper_float)
        _rows.append([f"m = {curve.m}, certified bracket (theory.error_bracket_curve)",
                      f"[{fmt(_b.lower_float)}, {_upper}]"
                      + ("" if _b.upper is None else f" (upper/lower = {fmt(_b.ratio, 3)})")])
        if mc is not None:
            _trust = "" if mc.trustworthy[_k - 1] else " (its standard error is unreliable: heavy tail; not drawn)"
            _rows.append([f"m = {curve.m}, Monte Carlo ({mc.samples} prompts)",
                          f"{fmt(mc.mean[_k - 1])} ± {fmt(2 * mc.stderr[_k - 1], 2)}{_trust}"])
        if _window:
            _total, _last = float(curve.seconds.sum()), float(curve.seconds[-1])
            _notes.append(f"The exact values for k ≤ {_window} took {fmt(_total, 2)} s here (the last step, "
                          f"k = {_window}, {fmt(_last, 2)} s). Each further step costs about {EXACT_COST_RATIO}× "
                          "the one before: "
                          f"k ≤ {_window + 1} would add about {fmt(EXACT_COST_RATIO * _last, 2)} s.")
        if k_exact.value > len(curve.ks):
            _notes.append(f"The window stops at the curve's end, k = {len(curve.ks)}.")
        _notes.append(f"The certified bracket for k ≤ {len(curve.ks)} took {fmt(curve.band_seconds, 2)} s "
                      f"(T_k(m) ≤ err_k ≤ ½(κ(Γ) + 1/κ(Γ)) T_k(m), proofs/math.md §14).")
    mo.vstack([mo.md(f"### The error at k = {_k}"), html_table(_rows, ["test prompt length", f"err<sub>{_k}</sub>"]),
               mo.md(" ".join(_notes))])
    return


@app.cell
def _(curve):
    _headline, _rows = verdict_rows(curve)
    _header = ["", "m = ∞"] + ([] if curve.finite_report is None
                               else [f"m = {curve.m} (exact, k ≤ {len(curve.finite_report.errors)})"])
    if curve.k_star is not None:
        _header.append(f"m = {curve.m} (certified brackets, k ≤ {len(curve.ks)})")
    mo.vstack([mo.md("### Overthinking: does more chain of thought help or hurt?"), mo.Html(f"<p>{_headline}</p>"),
               html_table(_rows, _header)])
    return


@app.cell
def _():
    mo.md(r"""
    ## Task selection: which training tasks to mix for a target $\Sigma$

    The selection QP chooses the mixture $\pi$ over the pool that minimises
    $\|I - \Sigma^{-1}\sum_\ell \pi_\ell\Lambda_\ell\|_F^2$;
    $\mathrm{Hard}(\Lambda) = \operatorname{tr}\Lambda/\lambda_{\min}(\Lambda)$.
    """)
    return


@app.cell
def _():
    _power = f"power laws λᵢ ∝ i^(−α), α ∈ {{¼, ½, ¾, 1¼, 1½, 2}} (d = {POOL_DIM})"
    pool = mo.ui.dropdown({_power: "power", "the paper's four task types, 5 tasks each (d = 100)": "paper"},
                          value=_power, label="task pool:")
    target = mo.ui.dropdown({"power law Σ = diag(1/i)": "power", "isotropic Σ = I": "isotropic"},
                            value="power law Σ = diag(1/i)", label="target Σ:")
    mo.hstack([pool, target], justify="start", gap=2, wrap=True)
    return pool, target


@app.cell
def _(pool, target):
    names, kinds, tasks, sigma = task_pool(pool.value, target.value)
    selection = theory.select_tasks(tasks, sigma, exact=False)
    return kinds, names, selection, tasks


@app.cell
def _(kinds, names, pool, selection, target, tasks):
    _pi = np.asarray(selection.pi, dtype=float)
    _hard = [theory.hardness(t) for t in tasks]
    _fig = Figure(figsize=(7.2, 3.4), layout="constrained")
    _ax = _fig.subplots()
    if pool.value == "paper":
        for _t, (_name, _alpha, _B) in enumerate(theory.selection.TASK_TYPES):
            _ax.bar(np.nonzero(kinds == _t)[0], _pi[kinds == _t], color=f"C{_t}",
                    label=f"{_name} (α = {_alpha}, B = {_B})")
        _ax.legend(fontsize=7, loc="upper left")
    else:
        _ax.bar(range(len(_pi)), _pi, color="C0")
    _many = len(_pi) > 8
    if _many:  # the legend names the types; the table below gives each task's hardness
        _ax.set_xticks(range(len(_pi)), [f"#{j}" for j in range(len(_pi))], fontsize=8)
        _ax.set_xlabel("task (coloured by type)")
    else:
        _ax.set_xticks(range(len(_pi)), [f"{nm}\nHard {fmt(h, 3)}" for nm, h in zip(names, _hard)], fontsize=8)
    _ax.set_ylabel("selection probability π")
    _ax.set_title("QP selection for the target " + ("Σ = I" if target.value == "isotropic" else "Σ = diag(1/i)"),
                  fontsize=10)
    _shown = [j for j in range(len(_pi)) if not _many or _pi[j] > 0]
    _rows = [[names[j], fmt(_hard[j]), fmt(_pi[j])] for j in _shown]
    _rest = len(_pi) - len(_shown)
    _cert = selection.certificate
    if selection.certified:
        _sentence = (f"Certified optimal: the Frank–Wolfe duality gap {fmt(_cert.gap, 2)} is within "
                     f"the tolerance {fmt(_cert.tolerance, 2)}, so the objective f(π) = {fmt(selection.objective)} is at most "
                     f"{fmt(_cert.tolerance, 2)} above the minimum")
    else:
        _sentence = (f"Not certified: the Frank–Wolfe duality gap {fmt(_cert.gap, 2)} exceeds the tolerance "
                     f"{fmt(_cert.tolerance, 2)} (objective f(π) = {fmt(selection.objective)})")
    if selection.unique is None:  # the optimal set was too large to enumerate
        _sentence += f" (π: {selection.canonical_rule})."
    else:
        _sentence += ("; the optimum is unique." if selection.unique
                      else f"; the optimum is not unique (π: {selection.canonical_rule}).")
    _parts = [_fig, html_table(_rows, ["task", "Hard(Λ)", "π"])]
    if _rest:
        _parts.append(mo.md(f"The other {_rest} tasks get π = 0."))
    if pool.value == "paper":
        _mass = [[theory.selection.TASK_TYPES[t][0], fmt(_pi[kinds == t].sum())] for t in range(4)]
        _parts.append(html_table(_mass, ["task type", "total π"]))
    _parts.append(mo.md(_sentence))
    mo.vstack(_parts)
    return


@app.cell
def _(
    covariances_about,
    k,
    k_curve,
    k_exact,
    m_value,
    mc,
    mc_samples,
    n,
    pool,
    target,
    test_cov,
    train_cov,
):
    code = reproduction_code(train_cov, test_cov, n.value, m_value, k_curve, k_exact.value, k.value,
                             mc_samples.value if mc is not None else None, pool.value, target.value,
                             f"{covariances_about}; n = {n.value}; m = {'∞' if m_value is None else m_value}")
    mo.vstack([
        mo.md("## Copy as code\n\nThe `theory` calls that reproduce this page at the current settings "
              "(plain Python: save it and run it)."),
        mo.download(data=code.encode(), filename="reproduce_explore.py", label="Download reproduce_explore.py"),
        mo.md(f"```python\n{code}```"),
    ])
    return


if __name__ == "__main__":
    app.run()
