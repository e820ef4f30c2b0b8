"""The paper's figures, regenerated: exact curves where the exact engine reaches, certified bands beyond.

Notation: Λ training covariance (``train_cov``), Σ test covariance (``test_cov``), ``n`` and ``m``
training and test prompt lengths, ``k`` the number of LSA forward passes (``w_0 = 0``; ``k = 1`` is
direct in-context learning), ``err_k = E‖w_k − w‖²``, ``Γ = (1 + 1/n) Λ + (tr Λ / n) I``.

At finite ``m`` every curve runs to ``k = 20``: exact values (:mod:`theory.error`) where the engine's
estimated cost fits a budget, and beyond that a shaded band ``[lower, upper]`` from
:func:`theory.bracket.error_bracket_curve`, a rigorous bracket (proofs/math.md §14, Claim 5). ``k*`` is certified from the brackets (:func:`certified_k_star`):
one value where they decide it, an interval where they only bracket it. Monte Carlo appears only
as an overlay, and only at the points its own diagnostics call trustworthy.

Figures (each a :class:`matplotlib.figure.Figure`; :func:`write_figures` saves PNG and PDF):

1. :func:`figure_tradeoff` — error against ``k`` for ``n = 10, 20, 30``: CoT steps against
   training context (the paper's LSA panel);
2. :func:`figure_overthinking` — skewed training spectrum ``λ_i ∝ 1/i``, isotropic test, error
   against ``k`` for several ``n``, with the certified best ``k*`` marked (Remark 4.1);
3. :func:`figure_selection` — the task-selection QP: probability by task type, and probability
   against hardness (Section 4, Proposition 4.3);
4. :func:`figure_beyond` — beyond the paper: the error over ``(k, m)`` (exact, then bracketed) with
   the certified ``k*(m)``, and a phase map over ``(n, train/test mismatch)`` of where CoT helps or
   hurts.

Needs the ``plot`` extra (matplotlib). Only the object-oriented API is used (no pyplot, no global
backend state), so the figures also render inline in notebooks.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

#: The figures written by :func:`write_figures`, in order: file stem → builder.
FIGURES = ("tradeoff", "overthinking", "selection", "beyond")

#: What ``quick=True`` caps, per figure: each value is an upper bound on the builder's keyword.
#: The curves stop at ``k = 12`` (the zonal trace costs about ``k⁴``), the exact engine's budget,
#: the Monte Carlo prompts and the grids shrink.
_QUICK = {"tradeoff": {"k_max": 12, "exact_budget": 0.05, "samples": 400},
          "overthinking": {"k_max": 12, "exact_budget": 0.05, "samples": 300},
          "selection": {"tasks_per_type": 3},
          "beyond": {"k_max": 12, "exact_budget": 0.05}}

#: The exact engine runs for each ``k`` whose estimated cost (CPU seconds on the reference machine,
#: :func:`theory.bracket.engine_cost_seconds`) is at most this; the bands take over beyond.
EXACT_BUDGET = 1.0
#: The zonal trace ``T_k(m)`` is enclosed for each ``k`` whose estimated cost fits this (seconds).
TRACE_BUDGET = 120.0


def _capped(name: str, quick: bool, **values):
    """``values`` in order, each capped by :data:`_QUICK` when ``quick``."""
    caps = _QUICK[name] if quick else {}
    out = tuple(min(v, caps[k]) if k in caps else v for k, v in values.items())
    return out if len(out) > 1 else out[0]


def _test_lengths(quick: bool) -> np.ndarray:
    """The test lengths ``m`` of :func:`figure_beyond`: log-spaced from 2 to 300."""
    return np.unique(np.round(np.geomspace(2, 300, 8 if quick else 40)).astype(int))


def _phase_grid(quick: bool) -> tuple[np.ndarray, np.ndarray]:
    """The ``(n, s)`` grid of :func:`phase_map`: n log-spaced from 2 to 1000, s from 0 to 2."""
    size_n, size_s = (8, 9) if quick else (20, 21)
    return (np.unique(np.round(np.geomspace(2, 1000, size_n)).astype(int)), np.linspace(0, 2, size_s))


def _figure_class():
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # the library itself does not need matplotlib
        raise ImportError("theory.figures needs matplotlib: install the `plot` extra, "
                          "pip install 'tts-theory[plot]'") from exc
    return Figure


# The figures are drawn at the width of a printed page (the LaTeX report includes them at its text
# width, 6.5 in), so that their text stays readable there: 7 in wide, labels at 8 pt.
_WIDTH = 7.0
_TITLE, _LABEL, _TICK, _LEGEND = 8.5, 8, 7.5, 6.5


def _page_text(fig) -> None:
    """Axis labels and tick labels of every axes at the page sizes."""
    for ax in fig.axes:
        ax.tick_params(labelsize=_TICK)
        ax.xaxis.label.set_fontsize(_LABEL)
        ax.yaxis.label.set_fontsize(_LABEL)


def skewed_spectrum(d: int) -> np.ndarray:
    """The paper's skewed training spectrum ``λ_i = 1/i``, ``i = 1..d``."""
    return 1.0 / np.arange(1, d + 1)


def limit_curve(train_cov, n, ks, *, test_cov=None) -> np.ndarray:
    """``err_k`` at ``m = ∞`` for each ``k`` in ``ks``: ``‖(I − Γ^{-1}Σ)^k‖_F²`` in closed form
    (:func:`theory.scaling.limit_log_error`, no overflow at any ``k``)."""
    from theory.scaling import limit_log_error
    return np.exp([limit_log_error(train_cov, n, int(k), test_cov=test_cov) for k in ks])


@dataclass(frozen=True)
class Band:
    """The error at a finite ``m`` for ``k = 1..k_max``: exact where the engine ran, else a bracket.

    Attributes
    ----------
    ks : numpy.ndarray of int
        ``1..k_max``.
    lower, upper : numpy.ndarray of float
        Rigorous bounds ``lower <= err_k(m) <= upper`` (rounded to floats; ``upper`` is ``inf``
        where the bracket has no finite upper bound); equal where ``exact``.
    exact : numpy.ndarray of bool
        Where the value is the exact engine's.
    brackets : tuple of theory.bracket.ErrorBracket
        The brackets behind them, ``k = 0..k_max``.
    """

    ks: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    exact: np.ndarray
    brackets: tuple

    @property
    def exact_up_to(self) -> int:
        """The largest ``k`` of the exact prefix (0 when even ``k = 1`` is only bracketed)."""
        return int(np.argmin(np.append(self.exact, False)))


def band(train_cov, n, k_max, *, m, test_cov=None, exact_budget: float = EXACT_BUDGET,
         trace_budget: float = TRACE_BUDGET) -> Band:
    r"""``err_k(m)`` for ``k = 1..k_max`` from :func:`theory.bracket.error_bracket_curve`.

    .. math:: T_k(m) \le \mathrm{err}_k(m) \le \tfrac12\big(\kappa(\Gamma) + \kappa(\Gamma)^{-1}\big)\,T_k(m)

    (proofs/math.md §14, Claim 5), the exact value wherever the exact engine's estimated cost fits
    ``exact_budget``. Every number drawn from it is rigorous.
    """
    from theory import bracket
    return band_from_brackets(bracket.error_bracket_curve(train_cov, n, k_max, test_cov, m,
                                                          exact_budget=exact_budget, trace_budget=trace_budget))


def band_from_brackets(brackets) -> Band:
    """The :class:`Band` of the brackets of :func:`theory.bracket.error_bracket_curve` (``k = 0..K``)."""
    rest = brackets[1:]
    return Band(np.arange(1, len(rest) + 1), np.array([b.lower_float for b in rest]),
                np.array([b.upper_float for b in rest]), np.array([b.exact is not None for b in rest]),
                tuple(brackets))


#: A float rounded once (to nearest) is within this relative distance of the exact value.
_ROUNDED_ONCE = Fraction(1, 2 ** 53)


def with_exact(curve: Band, exact) -> Band:
    """``curve`` with its first ``len(exact)`` values replaced by exact-engine floats
    (:func:`theory.error.cot_error`, exact and rounded once): drawn as exact, and bracketed for
    :func:`certified_k_star` by ``x (1 ∓ 2^-53)``, which holds the exact value of a float rounded
    once to nearest."""
    from theory.bracket import ErrorBracket
    exact = [float(x) for x in exact]
    if len(exact) > len(curve.ks):
        raise ValueError(f"exact: {len(exact)} values for a curve of {len(curve.ks)}")
    brackets = list(curve.brackets)
    for k, x in enumerate(exact, start=1):
        value = Fraction(x)
        how = "theory.cot_error: exact, rounded once to a float (within 2^-53 relative)"
        brackets[k] = ErrorBracket(k, brackets[k].m, value * (1 - _ROUNDED_ONCE), value * (1 + _ROUNDED_ONCE),
                                   None, how, how, ())
    head = len(exact)
    return Band(curve.ks, np.concatenate([exact, curve.lower[head:]]), np.concatenate([exact, curve.upper[head:]]),
                np.concatenate([np.ones(head, bool), curve.exact[head:]]), tuple(brackets))


@dataclass(frozen=True)
class KStar:
    """``k* = argmin_{k >= 1} err_k(m)``, certified from brackets.

    Attributes
    ----------
    candidates : tuple of int
        The ``k <= k_max`` not excluded: ``lower_k <= min_j upper_j``; ``k*`` is one of them, or
        beyond ``k_max`` when ``beyond_excluded`` is false.
    beyond_excluded : bool
        Whether every ``k > k_max`` is excluded (by log-convexity of the trace, below).
    k_max : int
        The last ``k`` of the brackets.
    """

    candidates: tuple
    beyond_excluded: bool
    k_max: int

    @property
    def low(self) -> int:
        return min(self.candidates)

    @property
    def high(self) -> int | None:
        """The largest candidate, or ``None`` when ``k*`` may lie at ``k_max`` or beyond it."""
        if not self.beyond_excluded and self.k_max in self.candidates:
            return None
        return max(self.candidates)

    @property
    def decided(self) -> bool:
        """One candidate and nothing beyond: ``k*`` is known exactly."""
        return self.beyond_excluded and len(self.candidates) == 1

    def text(self) -> str:
        """``k* = 3``, ``k* ∈ [13, 17]``, ``k* ≥ 18``, or, when ``k > k_max`` was not checked,
        ``k* = 1 among k ≤ 40``."""
        if self.high is None:
            return f"k* \u2265 {self.low}"
        among = "" if self.beyond_excluded else f" among k \u2264 {self.k_max}"
        if len(self.candidates) == 1:
            return f"k* = {self.low}{among}"
        return f"k* \u2208 [{self.low}, {self.high}]{among}"


def certified_k_star(train_cov, n, curve: Band, *, m, test_cov=None, trace_budget: float = TRACE_BUDGET,
                     traces=None) -> KStar:
    r"""Which ``k`` can be the best number of steps, from the bracket ``curve`` (``k = 1..K``).

    ``k <= K`` is excluded when ``lower_k > min_j upper_j``. Every ``k > K`` is excluded at once
    when ``T_K > T_{K−1}`` and ``T_K (T_K/T_{K−1}) > min_j upper_j``: ``T_j(m)`` is log-convex in
    ``j`` (a moment sequence), so ``err_k >= T_k >= T_K (T_K/T_{K−1})^{k−K}`` grows with ``k > K``.
    The two traces are enclosed in arb balls (:mod:`theory.finite_trace`) when their cost fits
    ``trace_budget`` (otherwise nothing beyond ``K`` is excluded), or given as ``traces``, the exact
    ``(T_{K−1}(m), T_K(m))`` (from :func:`theory.finite_trace.finite_m_trace_poly`, say).
    """
    from theory.finite_trace import _profile, _Spectrum, _trace_bounds, _validated, _zonal_cost
    rest = curve.brackets[1:]
    finite = [b.upper for b in rest if b.upper is not None]
    K = len(rest)
    if not finite:
        return KStar(tuple(int(k) for k in curve.ks), False, K)
    best_upper = min(finite)
    candidates = tuple(b.k for b in rest if b.lower <= best_upper)
    if K < 2:
        return KStar(candidates, False, K)
    if traces is not None:
        t_prev_high, t_low = (Fraction(t) for t in traces)
    else:
        G, sigma, _ = _validated(train_cov, n, K, test_cov)
        spec = _Spectrum(G, sigma)
        if _zonal_cost(K, _profile(spec), balls=True) > trace_budget:
            return KStar(candidates, False, K)
        bounds = _trace_bounds(G, sigma, K, m, spec)
        (t_low, _), (_, t_prev_high) = bounds[K], bounds[K - 1]
    growth = t_low / t_prev_high if t_prev_high > 0 else Fraction(0)
    excluded = growth > 1 and t_low * growth > best_upper
    return KStar(candidates, bool(excluded), K)


def exact_reach(d: int, k_max: int, exact_budget: float, *, commuting: bool = True) -> int:
    """The largest ``k <= k_max`` whose exact-engine cost estimate fits ``exact_budget`` (the
    prefix :func:`band` gets exactly; the estimate grows with ``k``)."""
    from theory.bracket import engine_cost_seconds
    return max((k for k in range(1, k_max + 1) if engine_cost_seconds(d, k, commuting) <= exact_budget),
               default=0)


#: The opacity of a band's fill.
_BAND_ALPHA = 0.22


def plot_band(ax, curve: Band, *, label, color=None, k_star: KStar | None = None, mc=None):
    """Draw one finite-``m`` curve on ``ax`` (log scale): a solid line with dots where it is exact,
    a shaded band ``[lower, upper]`` beyond (its edges thin), ``k*`` starred where decided or as a
    horizontal bar over its candidates, and Monte Carlo points (±2 s.e.) only where trustworthy.

    The band's collection has gid ``"band"`` and the exact line gid ``"exact"``, so that the drawn
    data can be read back.
    """
    from matplotlib.ticker import MaxNLocator
    ks, ex = curve.ks, curve.exact
    line, = ax.plot(ks[ex], curve.lower[ex], "-", marker="o", ms=2.5, color=color, label=label, lw=1.6,
                    gid="exact")
    color = line.get_color()
    beyond = ~ex
    if np.any(beyond):
        # the band starts at the last exact point (where lower = upper), so the curve reads as one
        start = max(int(np.argmax(beyond)) - 1, 0)
        sel = np.arange(start, len(ks))
        upper = np.where(np.isfinite(curve.upper[sel]), curve.upper[sel], np.nan)
        ax.fill_between(ks[sel], curve.lower[sel], upper, color=color, alpha=_BAND_ALPHA, lw=0, gid="band")
        for edge in (curve.lower[sel], upper):
            ax.plot(ks[sel], edge, "-", color=color, lw=0.7)
    if k_star is not None:
        best = min(curve.upper)
        if len(k_star.candidates) == 1 and k_star.high is not None:
            # filled where certified over all k, hollow where k > k_max was not checked
            k = k_star.low
            ax.plot([k], [np.sqrt(curve.lower[k - 1] * curve.upper[k - 1])], "*", color=color, ms=12,
                    mec="black", mew=0.6, zorder=5, mfc=color if k_star.decided else "white")
        else:
            high = k_star.high if k_star.high is not None else int(ks[-1])
            ax.plot([k_star.low, high], [best, best], "-", color=color, lw=3.5, solid_capstyle="butt",
                    alpha=0.9, zorder=5)
            ax.plot([k_star.low, high], [best, best], "|", color="black", ms=7, mew=1.0, zorder=6)
            if k_star.high is None:
                ax.plot([high], [best], ">", color="black", ms=5, zorder=6)
    if mc is not None:
        _plot_trusted_mc(ax, mc, color)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_yscale("log")
    return line


def _plot_trusted_mc(ax, mc, color):
    """Monte Carlo points with ±2 standard errors, only where ``mc.trustworthy``."""
    sel = mc.trustworthy
    if np.any(sel):
        lower = np.minimum(2 * mc.stderr[sel], 0.9 * mc.mean[sel])  # keep the bar on a log axis
        ax.errorbar(mc.ks[sel], mc.mean[sel], yerr=[lower, 2 * mc.stderr[sel]], fmt="x", ms=4,
                    color=color, mec="black", mew=0.7, capsize=2, lw=0.8, zorder=4)


def plot_error_curve(ax, ks, errors, *, label, color=None, style="-", k_star=None, mc=None):
    """Draw one exact error curve on ``ax`` (log scale), with an optional Monte Carlo overlay.

    ``mc`` is a :class:`theory.montecarlo.MCResult`: its points get ±2 standard-error bars, drawn
    only where its own diagnostics call the normal interval trustworthy.
    ``k_star`` marks the best number of steps with a star.
    """
    from matplotlib.ticker import MaxNLocator
    line, = ax.plot(ks, errors, style, color=color, label=label, lw=1.6)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    color = line.get_color()
    if k_star is not None:
        ax.plot([k_star], [errors[list(ks).index(k_star)]], "*", color=color, ms=13, mec="black",
                mew=0.6, zorder=5)
    if mc is not None:
        _plot_trusted_mc(ax, mc, color)
    ax.set_yscale("log")
    return line


def legend_markers(ax, *, mc=False, star=False, band=False, k_range=False, open_star=False, loc="best",
                   fontsize=8, ncol=1):
    """Add proxy entries explaining the markers, after the curves' own entries."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    handles, labels = ax.get_legend_handles_labels()
    if band:
        handles.append(Patch(facecolor="grey", alpha=0.35, edgecolor="grey"))
        labels.append("certified band [lower, upper]")
    if star:
        handles.append(Line2D([], [], ls="", marker="*", ms=11, color="grey", mec="black", mew=0.6))
        labels.append("best k* (certified)")
    if open_star:
        handles.append(Line2D([], [], ls="", marker="*", ms=11, color="grey", mfc="white", mec="black", mew=0.6))
        labels.append("best k on the curve (later k not checked)")
    if k_range:
        handles.append(Line2D([], [], ls="-", lw=3.5, color="grey", marker="|", mec="black", ms=7))
        labels.append("k* somewhere in this range")
    if mc:
        handles.append(Line2D([], [], ls="", marker="x", color="grey", mec="black"))
        labels.append("Monte Carlo \u00b1 2 s.e. (trusted points)")
    ax.legend(handles, labels, loc=loc, fontsize=fontsize, framealpha=0.9, ncol=ncol)


def figure_selection(*, seed: int = 0, tasks_per_type: int = 5, d: int = 100, quick: bool = False):
    """Task selection (Section 4): probability by task type, and probability against hardness.

    The paper's four task types Easy/Hard × Short/Long, ``(α, B)`` = (0.2, 20), (0.8, 20), (0.2, 100),
    (0.8, 100), read as in :func:`theory.selection.task_type_spectrum` (decay ``i^{-α}`` on ``B``
    random directions, a floor elsewhere; the paper's exact meaning is unknown), each task scaled
    to the target's trace. The QP is solved in floating point and certified by its Frank–Wolfe gap
    for two targets: the paper's skewed ``Σ = diag(1/i)`` and the isotropic ``Σ = I``. ``quick``
    draws fewer tasks per type.
    """
    from theory.selection import task_type_experiment
    Figure = _figure_class()
    tasks_per_type = _capped("selection", quick, tasks_per_type=tasks_per_type)
    runs = {target: task_type_experiment(seed, tasks_per_type=tasks_per_type, d=d, target=target)
            for target in ("power", "isotropic")}
    names = runs["power"].type_names
    fig = Figure(figsize=(_WIDTH, 3.6), layout="constrained")
    ax_bar, ax_hard = fig.subplots(1, 2, width_ratios=(1, 1.25))
    x = np.arange(len(names))
    labels = {"power": r"target $\Sigma = \mathrm{diag}(1/i)$", "isotropic": r"target $\Sigma = I$"}
    for offset, (target, run) in zip((-0.2, 0.2), runs.items()):
        bars = ax_bar.bar(x + offset, run.type_mass, width=0.38, label=labels[target])
        ax_bar.bar_label(bars, fmt="%.2f", fontsize=6, padding=1)
    ax_bar.set_xticks(x, [n.replace("-", "\n") for n in names])
    ax_bar.set_ylabel(r"probability of the type ($\pi$ summed)")
    ax_bar.set_ylim(0, 1.1)
    ax_bar.set_title(f"(a) by task type ({tasks_per_type} tasks per type, d = {d})", fontsize=_TITLE)
    ax_bar.legend(fontsize=_LEGEND, loc="upper left")
    markers = "os^D"
    for target, color in zip(runs, ("C0", "C1")):
        run = runs[target]
        for t, name in enumerate(names):
            sel = run.task_type == t
            ax_hard.plot(run.hardness[sel], run.pi[sel], markers[t], color=color, ms=5,
                         mfc=color if target == "power" else "white", ls="")
    from matplotlib.lines import Line2D
    handles = [Line2D([], [], ls="", marker=markers[t], color="grey") for t in range(len(names))]
    handles += [Line2D([], [], ls="", marker="s", color="C0"),
                Line2D([], [], ls="", marker="s", color="C1", mfc="white")]
    ax_hard.legend(handles, list(names) + [labels["power"], labels["isotropic"]], fontsize=_LEGEND,
                   ncol=2, loc="upper right")
    ax_hard.set_xscale("log")
    ax_hard.set_xlabel(r"hardness $\mathrm{Hard}(\Lambda_\ell) = \mathrm{tr}\,\Lambda_\ell\, /\, \lambda_{\min}(\Lambda_\ell)$")
    ax_hard.set_ylabel(r"selection probability $\pi_\ell$")
    ax_hard.set_ylim(bottom=-0.03)
    ax_hard.set_title(r"(b) each task's $\pi_\ell$ (marker: type; fill: target)", fontsize=_TITLE)
    fig.suptitle(r"Task selection: $\min_{\pi \in \Delta}\ \|I - \Sigma^{-1} \sum_\ell \pi_\ell \Lambda_\ell\|_F^2$",
                 fontsize=_TITLE + 1)
    _page_text(fig)
    return fig


#: Phase-map categories: :attr:`theory.overthinking.OverthinkingReport.behaviour` → (code, label, colour).
_PHASES = {"decreasing": (0, "CoT helps at every k", "#a6d96a"),
           "transient growth": (1, "transient growth, then converges", "#abd9e9"),
           "falls then rises": (2, "helps, then overthinks (k* > 1)", "#fdae61"),
           "rises from the start": (3, "hurts from the first extra step (k* = 1)", "#d7191c")}


def mismatched_test(train_cov: np.ndarray, s: float) -> np.ndarray:
    r"""Test spectrum ``σ_i ∝ λ_i^{1−s}`` scaled to ``tr Σ = tr Λ``.

    ``s = 0`` is the training distribution, ``s = 1`` isotropic, ``s > 1`` puts most weight where
    training is weakest.
    """
    sig = train_cov ** (1.0 - s)
    return sig * (train_cov.sum() / sig.sum())


def phase_map(ax, *, d: int = 10, ns=None, ss=None):
    """Draw where CoT helps or hurts at ``m = ∞`` over ``(n, s)`` (training λ_i = 1/i, test
    :func:`mismatched_test`), classified by :func:`theory.overthinking.overthinking`, with the
    exact divergence boundary ``λ_max(Γ^{-1}Σ) = 2``."""
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch
    from theory.overthinking import overthinking_report
    lam = skewed_spectrum(d)
    default_ns, default_ss = _phase_grid(quick=False)
    ns = default_ns if ns is None else np.asarray(ns)
    ss = default_ss if ss is None else np.asarray(ss)
    code = np.empty((len(ss), len(ns)))
    max_eig = np.empty_like(code)
    for a, s in enumerate(ss):
        sig = mismatched_test(lam, s)
        for b, n in enumerate(ns):
            report = overthinking_report(lam, int(n), sig)
            code[a, b] = _PHASES[report.behaviour][0]
            max_eig[a, b] = report.max_eig
    colours = [c for _, _, c in sorted(_PHASES.values())]
    cmap = ListedColormap(colours)
    # Cell edges half-way between grid points (geometric in n) so each cell is centred on its point.
    n_edges = np.sqrt(ns[1:] * ns[:-1])
    n_edges = np.concatenate([[ns[0] ** 2 / n_edges[0]], n_edges, [ns[-1] ** 2 / n_edges[-1]]])
    s_step = ss[1] - ss[0]
    s_edges = np.concatenate([ss - s_step / 2, [ss[-1] + s_step / 2]])
    ax.pcolormesh(n_edges, s_edges, code, cmap=cmap, norm=BoundaryNorm(np.arange(-0.5, 4), cmap.N))
    boundary = ax.contour(ns, ss, max_eig, levels=[2.0], colors="black", linewidths=1.2)
    ax.clabel(boundary, fmt={2.0: r"$\lambda_{\max}(\Gamma^{-1}\Sigma) = 2$"}, fontsize=_LEGEND)
    ax.set_xscale("log")
    ax.set_xlabel("training prompt length n")
    ax.set_ylabel(r"mismatch s  (test $\sigma_i \propto \lambda_i^{1-s}$, $\mathrm{tr}\,\Sigma = \mathrm{tr}\,\Lambda$)")
    ax.axhline(1.0, color="grey", lw=0.6, ls=":")
    ax.text(ns[0] * 1.1, 1.02, "isotropic test", fontsize=_LEGEND, color="dimgrey", va="bottom")
    present = sorted({int(v) for v in code.flat})
    ax.legend([Patch(color=colours[c]) for c in present],
              [next(label for k, label, _ in _PHASES.values() if k == c) for c in present],
              fontsize=_LEGEND, loc="lower left", framealpha=0.9)
    return ax


def _mc(train_cov, n, ks, *, m, test_cov=None, samples, seed):
    from theory.montecarlo import mc_cot_error
    return mc_cot_error(train_cov, n, [int(k) for k in ks], m=m, test_cov=test_cov, samples=samples,
                        seed=seed)


def _first_below(errors, level) -> int | None:
    below = np.nonzero(np.asarray(errors) <= level)[0]
    return int(below[0]) + 1 if below.size else None


def figure_tradeoff(*, d: int = 10, ns=(10, 20, 30), k_max: int = 20, m: int = 20,
                    exact_budget: float = EXACT_BUDGET, trace_budget: float = TRACE_BUDGET,
                    samples: int = 4000, seed: int = 0, quick: bool = False):
    """Error against ``k`` for ``n = 10, 20, 30`` (λ_i = 1/i, test = training distribution).

    (a) ``m = ∞``, closed form: each extra step buys what a longer training prompt would; the
    dashed line is direct ICL (``k = 1``) with the longest ``n``. (b) finite ``m``: exact where the
    exact engine's estimated cost fits ``exact_budget``, a certified band (:func:`band`) beyond, to
    ``k_max``; Monte Carlo points (±2 s.e.) only where trustworthy. At finite ``m`` the error has a
    floor and eventually grows, and the longer training prompt is the one that turns around first.
    """
    Figure = _figure_class()
    k_max, exact_budget, samples = _capped("tradeoff", quick, k_max=k_max, exact_budget=exact_budget,
                                           samples=samples)
    lam = skewed_spectrum(d)
    ks = np.arange(1, k_max + 1)
    fig = Figure(figsize=(_WIDTH, 3.5), layout="constrained")
    ax_inf, ax_m = fig.subplots(1, 2)
    curves = {n: limit_curve(lam, n, ks) for n in ns}
    for j, n in enumerate(ns):
        plot_error_curve(ax_inf, ks, curves[n], label=f"n = {n}", color=f"C{j}")
    bands = {}
    for j, n in enumerate(ns):
        bands[n] = band(lam, n, k_max, m=m, exact_budget=exact_budget, trace_budget=trace_budget)
        mc = _mc(lam, n, ks, m=m, samples=samples, seed=seed + j)
        plot_band(ax_m, bands[n], label=f"n = {n}", color=f"C{j}", mc=mc)
    finite_reference = bands[max(ns)].lower[0]  # k = 1 is always exact
    for ax, reference, panel in ((ax_inf, curves[max(ns)][0], "inf"), (ax_m, finite_reference, "m")):
        ax.axhline(reference, color="black", lw=0.9, ls="--", label=f"n = {max(ns)}, k = 1 (direct ICL)")
        ax.set_xlabel("k (forward passes; k = 1 is direct ICL)")
    legend_markers(ax_inf, loc="lower left", fontsize=_LEGEND)
    legend_markers(ax_m, mc=True, band=True, loc="lower center", fontsize=_LEGEND, ncol=2)
    # four decades above direct ICL: where the curves cross it stays readable (beyond, they only
    # grow); two free decades below the curves hold the legend
    lowest = min(float(np.min(b.lower)) for b in bands.values())
    ax_m.set_ylim(lowest / 300, finite_reference * 1e4)
    hit = _first_below(curves[min(ns)], curves[max(ns)][0])
    if hit is not None:
        ax_inf.annotate(f"n = {min(ns)} matches it at k = {hit}", xy=(hit, curves[max(ns)][0]),
                        xytext=(30, -18), textcoords="offset points", fontsize=_LEGEND,
                        arrowprops=dict(arrowstyle="->", lw=0.8))
    reach = min(b.exact_up_to for b in bands.values())
    ax_inf.set_title("(a) m = \u221e (closed form)", fontsize=_TITLE)
    ax_m.set_title(f"(b) m = {m}: exact to k = {reach}, then certified bands", fontsize=_TITLE)
    ax_inf.set_ylabel(r"$\mathrm{err}_k = \mathbb{E}\,\|w_k - w\|^2$")
    fig.suptitle(rf"Test-time compute against training context: $\lambda_i = 1/i$, d = {d}, "
                 r"$\Sigma = \Lambda$", fontsize=_TITLE + 1)
    _page_text(fig)
    return fig


def figure_overthinking(*, d: int = 10, ns=(10, 20, 30), m: int = 40, k_max: int = 20,
                        exact_budget: float = EXACT_BUDGET, trace_budget: float = TRACE_BUDGET,
                        large_ns=(30, 70, 80, 150), samples: int = 2000, seed: int = 0, quick: bool = False):
    """Overthinking (Remark 4.1): λ_i ∝ 1/i in training, isotropic test ``Σ = I``, ``tr Λ = tr Σ``.

    (a) the paper's LSA experiment: ``n = 10, 20, 30`` at a finite test length, exact where the
    engine's estimated cost fits ``exact_budget`` and a certified band (:func:`band`) beyond, to
    ``k_max``; ``k*`` certified over all ``k`` (:func:`certified_k_star`), starred where decided and
    a bar over its candidates where not; Monte Carlo only where trustworthy; the ``m = ∞`` curves
    dotted: the overthinking there is a finite-``m`` effect, and the longer training prompt
    overthinks first. (b) ``m = ∞``: overthinking needs a larger ``n``, once ``λ_max(Γ^{-1}Σ)``
    exceeds 2 (for ``d = 10`` exactly when ``n > 152660/2341 ≈ 65.2``, as the ``rem4.1`` derivation
    solves).
    """
    from theory.overthinking import overthinking_report
    from theory.overthinking import skewed_spectrum as exact_skewed
    Figure = _figure_class()
    k_max, exact_budget, samples = _capped("overthinking", quick, k_max=k_max, exact_budget=exact_budget,
                                           samples=samples)
    exact_eigs = exact_skewed(d, "trace")
    lam = np.array([float(v) for v in exact_eigs])
    sig = np.ones(d)
    ks = np.arange(1, k_max + 1)
    fig = Figure(figsize=(_WIDTH, 3.8), layout="constrained")
    ax_m, ax_inf = fig.subplots(1, 2)
    reach = k_max
    for j, n in enumerate(ns):
        curve = band(exact_eigs, n, k_max, m=m, test_cov=[1] * d, exact_budget=exact_budget,
                     trace_budget=trace_budget)
        reach = min(reach, curve.exact_up_to)
        k_star = certified_k_star(exact_eigs, n, curve, m=m, test_cov=[1] * d, trace_budget=trace_budget)
        mc = _mc(lam, n, ks, m=m, test_cov=sig, samples=samples, seed=seed + j)
        plot_band(ax_m, curve, label=f"n = {n}: {k_star.text()}", color=f"C{j}", k_star=k_star, mc=mc)
        ax_m.plot(ks, limit_curve(lam, n, ks, test_cov=sig), ":", color=f"C{j}", lw=1.2)
    from matplotlib.lines import Line2D
    ax_m.add_artist(ax_m.legend([Line2D([], [], ls="-", marker="o", ms=2.5, color="grey"),
                                 Line2D([], [], ls=":", color="grey")],
                                [f"m = {m}, exact (k \u2264 {reach})", "m = \u221e, closed form"],
                                loc="lower left", fontsize=_LEGEND))
    legend_markers(ax_m, mc=True, star=True, band=True, k_range=True, loc="upper left", fontsize=_LEGEND)
    ax_m.set_title(f"(a) the paper's setting: m = {m}, bands beyond k = {reach}", fontsize=_TITLE)
    for j, n in enumerate(large_ns):
        report = overthinking_report(exact_eigs, n, [1] * d)
        k_star = report.k_star if report.k_star is not None and report.k_star <= k_max else None
        label = (f"n = {n}: " + (f"k* = {report.k_star}" if report.k_star else "keeps falling")
                 + rf", $\lambda_{{\max}}$ = {report.max_eig:.2f}")
        plot_error_curve(ax_inf, ks, limit_curve(lam, n, ks, test_cov=sig), label=label,
                         color=f"C{j + len(ns)}", k_star=k_star)
    legend_markers(ax_inf, star=True, loc="upper left", fontsize=_LEGEND)
    ax_inf.set_title(r"(b) m = $\infty$: overthinking once $\lambda_{\max}(\Gamma^{-1}\Sigma) > 2$",
                     fontsize=_TITLE)
    for ax in (ax_m, ax_inf):
        ax.set_xlabel("k (forward passes)")
    ax_m.set_ylabel(r"$\mathrm{err}_k$ on the isotropic test")
    fig.suptitle(rf"Overthinking: training $\lambda_i \propto 1/i$ (d = {d}), test $\Sigma = I$, "
                 r"$\mathrm{tr}\,\Lambda = \mathrm{tr}\,\Sigma$", fontsize=_TITLE + 1)
    _page_text(fig)
    return fig


def beyond_data(*, d: int = 4, ns=(5, 20, 100), k_max: int = 20, ms=None, exact_budget: float = 0.2,
                trace_budget: float = TRACE_BUDGET) -> dict:
    """The data of :func:`figure_beyond` (a), (b): for each ``n`` and each ``m`` of ``ms``, the
    :class:`Band` to ``k_max`` and the :class:`KStar` certified from it (λ_i = 1/i, Σ = Λ)."""
    from theory.finite_trace import finite_m_trace_poly
    lam = skewed_spectrum(d)
    out = {}
    for nv in ns:
        # T_{K−1}, T_K as exact polynomials in 1/m, once per n: the k > K test at every m
        polys = [finite_m_trace_poly(lam, nv, k) for k in (k_max - 1, k_max)]
        row = []
        for mv in ms:
            curve = band(lam, nv, k_max, m=int(mv), exact_budget=exact_budget, trace_budget=trace_budget)
            traces = [p.evaluate(int(mv)) for p in polys]
            row.append((curve, certified_k_star(lam, nv, curve, m=int(mv), traces=traces)))
        out[nv] = row
    return out


def _plot_k_star_intervals(ax, ms, stars, *, color, label, k_max, offset=1.0):
    """``k*(m)``: a filled marker where decided, a bar over the candidates where not, an arrow at
    ``k_max`` where ``k*`` may lie beyond it. ``offset`` multiplies ``m`` (side by side on a log axis)."""
    x = np.asarray(ms, dtype=float) * offset
    dec = np.array([s.decided for s in stars])
    lows = np.array([s.low for s in stars], dtype=float)
    highs = np.array([k_max if s.high is None else s.high for s in stars], dtype=float)
    open_ = np.array([s.high is None for s in stars])
    ax.plot(x[dec], lows[dec], "o", ms=3.2, color=color, label=label, gid="k_star_decided")
    und = ~dec
    if np.any(und):
        mid = (lows[und] + highs[und]) / 2
        ax.errorbar(x[und], mid, yerr=[mid - lows[und], highs[und] - mid], fmt="none", ecolor=color,
                    elinewidth=1.4, capsize=2, gid="k_star_interval")
    if np.any(open_):
        ax.plot(x[open_], highs[open_] + 0.35, "^", ms=4, color=color, mec="black", mew=0.4)


def figure_beyond(*, d: int = 4, n: int = 20, ns=(5, 20, 100), k_max: int = 20, exact_budget: float = 0.2,
                  trace_budget: float = TRACE_BUDGET, ms=None, quick: bool = False):
    """Beyond the paper: how the best number of steps moves with the test length ``m``, and where
    CoT helps or hurts.

    (a) ``log10 err_k`` over ``(m, k)`` to ``k_max`` (λ_i = 1/i, Σ = Λ, ``d = 4``): exact where the
    engine's estimated cost fits ``exact_budget``, beyond that the geometric midpoint of the
    certified bracket (hatched), with ``k*(m)``; (b) ``k*(m)`` for several ``n``, certified over all
    ``k`` (:func:`certified_k_star`): a point where decided, a bar over the candidates where the
    brackets only bracket it, an arrow where it may exceed ``k_max``. At every finite ``m`` the
    error eventually grows (``Ŝ_m`` has unbounded spectrum), so ``k*`` is finite and grows with
    ``m``, and a longer training prompt lowers it; (c) the ``m = ∞`` phase map over
    ``(n, mismatch)`` (:func:`phase_map`).
    """
    from matplotlib.ticker import MaxNLocator
    Figure = _figure_class()
    k_max, exact_budget = _capped("beyond", quick, k_max=k_max, exact_budget=exact_budget)
    ms = _test_lengths(quick) if ms is None else np.asarray(ms)
    ks = np.arange(1, k_max + 1)
    data = beyond_data(d=d, ns=sorted(set(ns) | {n}), k_max=k_max, ms=ms, exact_budget=exact_budget,
                       trace_budget=trace_budget)
    fig = Figure(figsize=(_WIDTH, 6.6), layout="constrained")
    axes = fig.subplot_mosaic([["map", "star"], ["phase", "phase"]])
    ax_map, ax_star, ax_phase = axes["map"], axes["star"], axes["phase"]
    curves = [curve for curve, _ in data[n]]
    values = np.array([np.sqrt(c.lower * c.upper) for c in curves]).T  # (k, m); exact: the value
    exact = np.array([c.exact for c in curves]).T
    m_edges = np.sqrt(ms[1:] * ms[:-1])
    m_edges = np.concatenate([[ms[0] ** 2 / m_edges[0]], m_edges, [ms[-1] ** 2 / m_edges[-1]]])
    k_edges = np.arange(0.5, k_max + 1)
    mesh = ax_map.pcolormesh(m_edges, k_edges, np.log10(values), cmap="viridis")
    fig.colorbar(mesh, ax=ax_map, label=r"$\log_{10}\,\mathrm{err}_k$ (hatched: bracket's midpoint)")
    reach = int(exact.all(axis=1).sum())
    if reach < k_max:
        ax_map.fill_between([m_edges[0], m_edges[-1]], reach + 0.5, k_max + 0.5, facecolor="none",
                            edgecolor="white", hatch="///", lw=0, alpha=0.45)
        ax_map.axhline(reach + 0.5, color="white", lw=1.0)
    _plot_k_star_intervals(ax_map, ms, [s for _, s in data[n]], color="white", label="k*(m)", k_max=k_max)
    ax_map.set_xscale("log")
    ax_map.set_xlim(m_edges[0], m_edges[-1])
    ax_map.set_ylim(0.5, k_max + 0.5)
    ax_map.set_xlabel("test prompt length m")
    ax_map.set_ylabel("k (LSA forward passes)")
    ax_map.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax_map.legend(loc="lower right", fontsize=_LEGEND, facecolor="0.3", labelcolor="white")
    ax_map.set_title(f"(a) error over (m, k): n = {n}, d = {d}; exact k \u2264 {reach}", fontsize=_TITLE)
    offsets = np.geomspace(0.94, 1.06, len(ns)) if len(ns) > 1 else [1.0]
    for j, nv in enumerate(ns):
        _plot_k_star_intervals(ax_star, ms, [s for _, s in data[nv]], color=f"C{j}", label=f"n = {nv}",
                               k_max=k_max, offset=offsets[j])
    ax_star.set_xscale("log")
    ax_star.set_ylim(0.5, k_max + 1.2)
    ticks = [1] + list(range(5, k_max + 1, 5)) if k_max >= 10 else list(range(1, k_max + 1))
    ax_star.set_yticks(sorted(set(ticks) | {k_max}))
    ax_star.set_xlabel("test prompt length m")
    ax_star.set_ylabel("best number of steps k*")
    from matplotlib.lines import Line2D
    handles, labels = ax_star.get_legend_handles_labels()
    handles += [Line2D([], [], ls="-", color="grey", marker="_", ms=6),
                Line2D([], [], ls="", marker="^", color="grey", mec="black", mew=0.4)]
    labels += ["k* in this range", f"k* may exceed {k_max}"]
    ax_star.legend(handles, labels, loc="upper left", fontsize=_LEGEND, handlelength=1.2, borderpad=0.3,
                   labelspacing=0.25)
    ax_star.set_title(f"(b) certified k*(m) (d = {d})", fontsize=_TITLE)
    grid_n, grid_s = _phase_grid(quick)
    phase_map(ax_phase, ns=grid_n, ss=grid_s)
    ax_phase.set_title("(c) m = \u221e: where CoT helps or hurts (d = 10)", fontsize=_TITLE)
    fig.suptitle(r"Beyond the paper: finite test length and train/test mismatch ($\lambda_i = 1/i$)",
                 fontsize=_TITLE + 1)
    _page_text(fig)
    return fig


_BUILDERS = {"tradeoff": figure_tradeoff, "overthinking": figure_overthinking,
             "selection": figure_selection, "beyond": figure_beyond}


def settings(name: str, *, quick: bool = False) -> dict:
    """The keyword values the figure ``name`` is drawn with: its builder's defaults, capped by
    ``quick`` as :func:`write_figures` caps them."""
    if name not in _BUILDERS:
        raise ValueError(f"name: unknown figure {name!r}; known: {', '.join(FIGURES)}")
    params = {p.name: p.default for p in inspect.signature(_BUILDERS[name]).parameters.values()
              if p.name != "quick"}
    for key, cap in (_QUICK[name] if quick else {}).items():
        params[key] = min(params[key], cap)
    return params


def _tex_list(values) -> str:
    return ", ".join(str(v) for v in values)


_MC_POINTS = (r"crosses are seeded Monte Carlo estimates with $\pm 2$ standard errors, drawn only where the "
              r"sample's heavy-tail diagnostic calls the standard error trustworthy")

def _bands(where: str) -> str:
    """The caption's sentence on the bands, for the ``k`` named by ``where``."""
    return (rf"{where} the shaded bands are the rigorous bracket $T_k(m) \le \mathrm{{err}}_k \le "
            rf"\tfrac12(\kappa(\Gamma) + \kappa(\Gamma)^{{-1}})\,T_k(m)$ of "
            rf"\texttt{{theory.bracket.error\_bracket\_curve}}, with "
            rf"$T_k(m) = \mathbb E\operatorname{{tr}}(I - \Gamma^{{-1/2}}\hat S_m\Gamma^{{-1/2}})^{{2k}}$ "
            rf"enclosed from zonal polynomials")


def _reach(s: dict) -> int:
    return exact_reach(s["d"], s["k_max"], s["exact_budget"])


def _caption_tradeoff(s: dict, quick: bool) -> str:
    return (rf"Test-time compute against training context. Training and test covariance "
            rf"$\Lambda = \Sigma = \operatorname{{diag}}(1/i)$, $d = {s['d']}$, training prompt length "
            rf"$n = {_tex_list(s['ns'])}$, $k = 1, \dots, {s['k_max']}$ forward passes. "
            rf"(a)~$m = \infty$: the closed form $\sum_i f_i^{{2k}}$ (no sampling); the dashed line is direct "
            rf"in-context learning ($k = 1$) at $n = {max(s['ns'])}$. (b)~Test prompt length "
            rf"$m = {s['m']}$: lines with dots are exact (rational arithmetic) for $k \le {_reach(s)}$; "
            + _bands(rf"for $k > {_reach(s)}$") + "; "
            rf"{_MC_POINTS} ({s['samples']} prompts per $n$, seed {s['seed']}).")


def _caption_overthinking(s: dict, quick: bool) -> str:
    return (rf"Overthinking (Remark~4.1). Training spectrum $\lambda_i \propto 1/i$ with "
            rf"$\operatorname{{tr}}\Lambda = d = {s['d']}$, isotropic test covariance $\Sigma = I$. "
            rf"(a)~The paper's setting, $n = {_tex_list(s['ns'])}$ at test length $m = {s['m']}$, "
            rf"$k = 1, \dots, {s['k_max']}$: lines with dots exact for $k \le {_reach(s)}$; "
            + _bands("beyond,") + rf". The best $k^*$ is certified over all $k$ from the brackets "
            rf"($k$ is excluded when its lower bound exceeds the least upper bound; every $k > {s['k_max']}$ "
            rf"at once by the log-convexity of $T_k$): starred where one value remains, a bar over the "
            rf"candidates where the brackets leave several, with an arrow at $k = {s['k_max']}$ where $k^*$ "
            rf"may lie beyond (the legend states $k^*$ or its range); "
            rf"{_MC_POINTS} ({s['samples']} prompts per $n$); dotted, the $m = \infty$ closed form. "
            rf"(b)~$m = \infty$, $n = {_tex_list(s['large_ns'])}$, closed form: the error eventually "
            rf"grows exactly when $\lambda_{{\max}}(\Gamma^{{-1}}\Sigma) > 2$ (its value in the legend), "
            rf"which takes a longer training prompt.")


def _caption_selection(s: dict, quick: bool) -> str:
    from theory.selection import TASK_TYPES
    types = ", ".join(rf"({a:g}, {b})" for _, a, b in TASK_TYPES)
    return (rf"Task selection (Section~4 of the paper). The four task types "
            rf"{', '.join(t for t, _, _ in TASK_TYPES)}, read as spectra decaying like "
            rf"$i^{{-\alpha}}$ on $B$ random directions with a floor elsewhere, $(\alpha, B) = {types}$; "
            rf"{s['tasks_per_type']} tasks per type in $d = {s['d']}$ (seed {s['seed']}), each scaled "
            rf"to the target's trace. The quadratic program "
            rf"$\min_{{\pi \in \Delta}} \|I - \Sigma^{{-1}} \sum_\ell \pi_\ell \Lambda_\ell\|_F^2$ is "
            rf"solved in floating point and certified by its Frank--Wolfe gap, for the targets "
            rf"$\Sigma = \operatorname{{diag}}(1/i)$ and $\Sigma = I$. (a)~Total probability of each "
            rf"type; (b)~each task's $\pi_\ell$ against its hardness "
            rf"$\mathrm{{Hard}}(\Lambda_\ell) = \operatorname{{tr}}\Lambda_\ell/\lambda_{{\min}}(\Lambda_\ell)$. "
            rf"No Monte Carlo.")


def _caption_beyond(s: dict, quick: bool) -> str:
    ms = _test_lengths(quick)
    grid_n, grid_s = _phase_grid(quick)
    phase_d = inspect.signature(phase_map).parameters["d"].default
    reach = _reach(s)
    return (rf"Beyond the paper: finite test length and train/test mismatch, no Monte Carlo. "
            rf"(a)~$\log_{{10}}\mathrm{{err}}_k$ over $(m, k)$, "
            rf"$\Lambda = \Sigma = \operatorname{{diag}}(1/i)$, $d = {s['d']}$, $n = {s['n']}$, "
            rf"$k = 1, \dots, {s['k_max']}$, {len(ms)} values of $m$ log-spaced from {ms[0]} to {ms[-1]}: "
            rf"exact (rational arithmetic) for $k \le {reach}$; above the white line (hatched) the "
            rf"geometric midpoint of the rigorous bracket $T_k(m) \le \mathrm{{err}}_k \le "
            rf"\tfrac12(\kappa + \kappa^{{-1}})\,T_k(m)$ (\texttt{{theory.bracket.error\_bracket\_curve}}); "
            rf"white, $k^*(m)$ as in (b). (b)~$k^*(m) = \arg\min_{{k \ge 1}} \mathrm{{err}}_k(m)$ for "
            rf"$n = {_tex_list(s['ns'])}$, certified from the brackets over all $k$ ($k$ is excluded when "
            rf"its lower bound exceeds the least upper bound; every $k > {s['k_max']}$ at once by the "
            rf"log-convexity of $T_k$): a dot where one value remains, a bar over the candidates where "
            rf"the brackets leave several, a triangle at $k = {s['k_max']}$ where $k^*$ may lie beyond; "
            rf"the three $n$ are drawn side by side at each $m$. (c)~$m = \infty$, $d = {phase_d}$: "
            rf"where chain of thought helps or hurts over the training length $n$ ({len(grid_n)} values "
            rf"from {grid_n[0]} to {grid_n[-1]}) and the mismatch $s$ ({len(grid_s)} values in "
            rf"$[{grid_s[0]:g}, {grid_s[-1]:g}]$) of the test spectrum $\sigma_i \propto \lambda_i^{{1-s}}$, "
            rf"$\operatorname{{tr}}\Sigma = \operatorname{{tr}}\Lambda$, classified from the "
            rf"$m = \infty$ closed form by \texttt{{theory.overthinking}}; the black line is $\lambda_{{\max}}(\Gamma^{{-1}}\Sigma) = 2$.")


_CAPTIONS = {"tradeoff": _caption_tradeoff, "overthinking": _caption_overthinking,
             "selection": _caption_selection, "beyond": _caption_beyond}


def caption(name: str, *, quick: bool = False) -> str:
    r"""The LaTeX caption of figure ``name`` as :func:`write_figures` draws it (``quick`` or not):
    the setting (d, n, m, spectra) and which values are exact, which certified bands, and which
    Monte Carlo.

    Every number in it is read from the figure's :func:`settings` and grids, so the caption and
    the drawing cannot disagree. Needs no matplotlib.
    """
    return _CAPTIONS[name](settings(name, quick=quick), quick)


def write_figures(out_dir, *, names=FIGURES, quick: bool = False, progress=None) -> list[Path]:
    """Draw the named figures and save each as ``<name>.png`` (150 dpi) and ``<name>.pdf``.

    ``quick`` coarsens grids and cuts Monte Carlo prompts (for tests and previews). ``progress``,
    if given, is called with each name before it is drawn.
    """
    unknown = [name for name in names if name not in _BUILDERS]
    if unknown:
        raise ValueError(f"names: unknown figure(s) {', '.join(unknown)}; known: {', '.join(FIGURES)}")
    _figure_class()  # fail early, with the extra to install, before any computation
    from matplotlib import rc_context
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        if progress is not None:
            progress(name)
        fig = _BUILDERS[name](quick=quick)
        for ext in ("png", "pdf"):
            path = out_dir / f"{name}.{ext}"
            # No creation date in the PDF: regenerating an unchanged figure gives the same bytes.
            # Fonts embedded as TrueType (not Type 3 bitmaps), for print and for LaTeX documents.
            with rc_context({"pdf.fonttype": 42}):
                fig.savefig(path, dpi=150, metadata={"CreationDate": None} if ext == "pdf" else None)
            written.append(path)
    return written
