"""The paper's figures, regenerated: exact curves, with Monte Carlo points where they add evidence.

Notation: Λ training covariance (``train_cov``), Σ test covariance (``test_cov``), ``n`` and ``m``
training and test prompt lengths, ``k`` the number of LSA forward passes (``w_0 = 0``; ``k = 1`` is
direct in-context learning), ``err_k = E‖w_k − w‖²``, ``Γ = (1 + 1/n) Λ + (tr Λ / n) I``.

Figures (each a :class:`matplotlib.figure.Figure`; :func:`write_figures` saves PNG and PDF):

1. :func:`figure_tradeoff` — error against ``k`` for ``n = 10, 20, 30``: CoT steps against
   training context (the paper's LSA panel);
2. :func:`figure_overthinking` — skewed training spectrum ``λ_i ∝ 1/i``, isotropic test, error
   against ``k`` for several ``n``, with the best ``k*`` marked (Remark 4.1);
3. :func:`figure_selection` — the task-selection QP: probability by task type, and probability
   against hardness (Section 4, Proposition 4.3);
4. :func:`figure_beyond` — beyond the paper: the exact error over ``(k, m)`` with ``k*(m)``, and a
   phase map over ``(n, train/test mismatch)`` of where CoT helps or hurts.

Needs the ``plot`` extra (matplotlib). Only the object-oriented API is used (no pyplot, no global
backend state), so the figures also render inline in notebooks.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np

#: The figures written by :func:`write_figures`, in order: file stem → builder.
FIGURES = ("tradeoff", "overthinking", "selection", "beyond")

#: What ``quick=True`` caps, per figure: each value is an upper bound on the builder's keyword.
_QUICK = {"tradeoff": {"k_max": 10, "k_exact": 4, "samples": 400},
          "overthinking": {"k_exact": 4, "k_max": 10, "samples": 300},
          "selection": {"tasks_per_type": 3},
          "beyond": {"k_exact": 4}}


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


def exact_curve(train_cov, n, ks, *, m, test_cov=None) -> np.ndarray:
    """``err_k`` at finite ``m`` from the exact engine (:func:`theory.error.cot_error`), each value
    exact and rounded once. Its cost grows about threefold per step of ``k``: keep ``k`` small."""
    from theory.error import cot_error
    return np.array([cot_error(train_cov, n, int(k), test_cov=test_cov, m=m) for k in ks])


def plot_error_curve(ax, ks, errors, *, label, color=None, style="-", k_star=None, mc=None):
    """Draw one exact error curve on ``ax`` (log scale), with an optional Monte Carlo overlay.

    ``mc`` is a :class:`theory.montecarlo.MCResult`: its points get ±2 standard-error bars, filled
    where the normal interval is trustworthy and hollow where its own diagnostics say it is not.
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
        for trusted in (True, False):
            sel = mc.trustworthy == trusted
            if np.any(sel):
                # On a log axis a bar reaching below zero would run off the plot: the lower arm is
                # cut at a tenth of the mean (such points are flagged untrustworthy anyway).
                lower = np.minimum(2 * mc.stderr[sel], 0.9 * mc.mean[sel])
                ax.errorbar(mc.ks[sel], mc.mean[sel], yerr=[lower, 2 * mc.stderr[sel]], fmt="o", ms=4,
                            color=color, mfc=color if trusted else "white", capsize=2, lw=1, zorder=4)
    ax.set_yscale("log")
    return line


def legend_markers(ax, *, mc=False, star=False, loc="best", fontsize=8):
    """Add proxy entries explaining the markers, after the curves' own entries."""
    from matplotlib.lines import Line2D
    handles, labels = ax.get_legend_handles_labels()
    if star:
        handles.append(Line2D([], [], ls="", marker="*", ms=11, color="grey", mec="black", mew=0.6))
        labels.append("best k* (exact)")
    if mc:
        handles.append(Line2D([], [], ls="", marker="o", color="grey"))
        labels.append("Monte Carlo ± 2 s.e.")
        handles.append(Line2D([], [], ls="", marker="o", color="grey", mfc="white"))
        labels.append("Monte Carlo, s.e. unreliable")
    ax.legend(handles, labels, loc=loc, fontsize=fontsize, framealpha=0.9)


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
    from theory.overthinking import overthinking
    lam = skewed_spectrum(d)
    default_ns, default_ss = _phase_grid(quick=False)
    ns = default_ns if ns is None else np.asarray(ns)
    ss = default_ss if ss is None else np.asarray(ss)
    code = np.empty((len(ss), len(ns)))
    max_eig = np.empty_like(code)
    for a, s in enumerate(ss):
        sig = mismatched_test(lam, s)
        for b, n in enumerate(ns):
            report = overthinking(lam, int(n), sig)
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


def _argmin_k(ks, errors) -> int:
    return int(np.asarray(ks)[int(np.argmin(errors))])


def figure_tradeoff(*, d: int = 10, ns=(10, 20, 30), k_max: int = 20, m: int = 20, k_exact: int = 6,
                    samples: int = 4000, seed: int = 0, quick: bool = False):
    """Error against ``k`` for ``n = 10, 20, 30`` (λ_i = 1/i, test = training distribution).

    (a) ``m = ∞``, closed form: each extra step buys what a longer training prompt would; the
    dashed line is direct ICL (``k = 1``) with the longest ``n``. (b) finite ``m``: exact curves for
    ``k <= k_exact`` (the exact engine's cost grows about threefold per step) and Monte Carlo points
    (±2 s.e.) over the whole range: at finite ``m`` the error has a floor and eventually grows, and
    the longer training prompt is the one that turns around first.
    """
    Figure = _figure_class()
    k_max, k_exact, samples = _capped("tradeoff", quick, k_max=k_max, k_exact=k_exact, samples=samples)
    lam = skewed_spectrum(d)
    ks = np.arange(1, k_max + 1)
    fig = Figure(figsize=(_WIDTH, 3.4), layout="constrained")
    ax_inf, ax_m = fig.subplots(1, 2)
    curves = {n: limit_curve(lam, n, ks) for n in ns}
    for j, n in enumerate(ns):
        plot_error_curve(ax_inf, ks, curves[n], label=f"n = {n}", color=f"C{j}")
    for j, n in enumerate(ns):
        exact = exact_curve(lam, n, ks[:k_exact], m=m)
        mc = _mc(lam, n, ks, m=m, samples=samples, seed=seed + j)
        plot_error_curve(ax_m, ks[:k_exact], exact, label=f"n = {n}", color=f"C{j}", mc=mc)
        if n == max(ns):
            finite_reference = exact[0]
    for ax, reference, panel in ((ax_inf, curves[max(ns)][0], "inf"), (ax_m, finite_reference, "m")):
        ax.axhline(reference, color="black", lw=0.9, ls="--", label=f"n = {max(ns)}, k = 1 (direct ICL)")
        ax.set_xlabel("k (forward passes; k = 1 is direct ICL)")
        legend_markers(ax, mc=panel == "m", loc="lower left" if panel == "inf" else "upper left",
                       fontsize=_LEGEND)
    hit = _first_below(curves[min(ns)], curves[max(ns)][0])
    if hit is not None:
        ax_inf.annotate(f"n = {min(ns)} matches it at k = {hit}", xy=(hit, curves[max(ns)][0]),
                        xytext=(30, -18), textcoords="offset points", fontsize=_LEGEND,
                        arrowprops=dict(arrowstyle="->", lw=0.8))
    ax_inf.set_title("(a) m = \u221e (closed form)", fontsize=_TITLE)
    ax_m.set_title(f"(b) m = {m}: exact (lines, k \u2264 {k_exact}), Monte Carlo", fontsize=_TITLE)
    ax_inf.set_ylabel(r"$\mathrm{err}_k = \mathbb{E}\,\|w_k - w\|^2$")
    fig.suptitle(rf"Test-time compute against training context: $\lambda_i = 1/i$, d = {d}, "
                 r"$\Sigma = \Lambda$", fontsize=_TITLE + 1)
    _page_text(fig)
    return fig


def figure_overthinking(*, d: int = 10, ns=(10, 20, 30), m: int = 40, k_exact: int = 7, k_max: int = 15,
                        large_ns=(30, 70, 80, 150), samples: int = 2000, seed: int = 0, quick: bool = False):
    """Overthinking (Remark 4.1): λ_i ∝ 1/i in training, isotropic test ``Σ = I``, ``tr Λ = tr Σ``.

    (a) the paper's LSA experiment (:func:`theory.overthinking.lsa_experiment`): ``n = 10, 20, 30``
    at a finite test length, exact for ``k <= k_exact`` with ``k*`` starred where the error has
    turned inside that window, Monte Carlo points beyond, and the ``m = ∞`` curves dashed: the
    overthinking there is a finite-``m`` effect, and the longer training prompt overthinks first.
    (b) ``m = ∞``: overthinking needs a larger ``n``, once ``λ_max(Γ^{-1}Σ)`` exceeds 2 (for ``d = 10``
    exactly when ``n > 152660/2341 ≈ 65.2``, as the ``rem4.1`` derivation solves).
    """
    from theory.overthinking import lsa_experiment, overthinking
    Figure = _figure_class()
    k_exact, k_max, samples = _capped("overthinking", quick, k_exact=k_exact, k_max=k_max, samples=samples)
    experiment = lsa_experiment(d, ns, (m,), k_max=k_exact)
    exact_eigs = experiment.train_eigs
    lam = np.array([float(v) for v in exact_eigs])
    sig = np.ones(d)
    ks = np.arange(1, k_max + 1)
    fig = Figure(figsize=(_WIDTH, 3.6), layout="constrained")
    ax_m, ax_inf = fig.subplots(1, 2)
    for j, row in enumerate(experiment.rows):
        window = ks[: len(row.errors)]
        turned = row.first_rise is not None
        mc = _mc(lam, row.n, ks, m=m, test_cov=sig, samples=samples, seed=seed + j)
        label = f"n = {row.n}: " + (f"k* = {row.k_star}" if turned else f"k* \u2265 {len(row.errors)}")
        plot_error_curve(ax_m, window, row.errors, label=label, color=f"C{j}", mc=mc,
                         k_star=row.k_star if turned else None)
        ax_m.plot(ks, limit_curve(lam, row.n, ks, test_cov=sig), ":", color=f"C{j}", lw=1.2)
    from matplotlib.lines import Line2D
    ax_m.add_artist(ax_m.legend([Line2D([], [], ls="-", color="grey"), Line2D([], [], ls=":", color="grey")],
                                [f"m = {m}, exact (k \u2264 {k_exact})", "m = \u221e, closed form"],
                                loc="lower left", fontsize=_LEGEND))
    legend_markers(ax_m, mc=True, star=True, loc="upper left", fontsize=_LEGEND)
    ax_m.set_title(f"(a) the paper's setting: m = {m}", fontsize=_TITLE)
    for j, n in enumerate(large_ns):
        report = overthinking(exact_eigs, n, [1] * d)
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


def figure_beyond(*, d: int = 4, n: int = 20, ns=(5, 20, 100), k_exact: int = 7, ms=None,
                  quick: bool = False):
    """Beyond the paper: how the best number of steps moves with the test length ``m``, and where
    CoT helps or hurts.

    (a) the exact ``log10 err_k`` over ``(m, k)`` (λ_i = 1/i, Σ = Λ, d small so that the exact
    engine reaches ``k_exact``) with ``k*(m)`` traced; (b) ``k*(m)`` for several ``n``: at every
    finite ``m`` the error eventually grows (``Ŝ_m`` has unbounded spectrum), so ``k*`` is finite
    and grows with ``m``, and a longer training prompt lowers it; (c) the ``m = ∞`` phase map over
    ``(n, mismatch)`` (:func:`phase_map`).
    """
    from matplotlib.ticker import MaxNLocator
    from theory.error import cot_error_poly
    Figure = _figure_class()
    k_exact = _capped("beyond", quick, k_exact=k_exact)
    lam = skewed_spectrum(d)
    ms = _test_lengths(quick) if ms is None else np.asarray(ms)
    ks = np.arange(1, k_exact + 1)

    def grid(n_value):
        polys = [cot_error_poly(lam, n_value, int(k)) for k in ks]
        return np.array([[float(p.evaluate(int(mv))) for mv in ms] for p in polys])

    fig = Figure(figsize=(_WIDTH, 6.4), layout="constrained")
    axes = fig.subplot_mosaic([["map", "star"], ["phase", "phase"]])
    ax_map, ax_star, ax_phase = axes["map"], axes["star"], axes["phase"]
    errors = {nv: grid(nv) for nv in sorted(set(ns) | {n})}
    m_edges = np.sqrt(ms[1:] * ms[:-1])
    m_edges = np.concatenate([[ms[0] ** 2 / m_edges[0]], m_edges, [ms[-1] ** 2 / m_edges[-1]]])
    mesh = ax_map.pcolormesh(m_edges, np.arange(0.5, k_exact + 1), np.log10(errors[n]), cmap="viridis")
    fig.colorbar(mesh, ax=ax_map, label=r"$\log_{10}\,\mathrm{err}_k$ (exact)")
    best = ks[np.argmin(errors[n], axis=0)]
    ax_map.step(ms, best, where="mid", color="white", lw=2, label="k*(m)")
    ax_map.set_xscale("log")
    ax_map.set_xlabel("test prompt length m")
    ax_map.set_ylabel("k (LSA forward passes)")
    ax_map.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax_map.legend(loc="upper left", fontsize=_LEGEND, facecolor="0.3", labelcolor="white")
    ax_map.set_title(f"(a) exact error over (m, k): n = {n}, d = {d}", fontsize=_TITLE)
    for j, nv in enumerate(ns):
        star = ks[np.argmin(errors[nv], axis=0)]
        ax_star.step(ms, star, where="mid", color=f"C{j}", lw=1.8, label=f"n = {nv}")
    ax_star.axhline(k_exact, color="grey", ls=":", lw=1)
    ax_star.text(ms[0], k_exact + 0.1, f"window edge: k* = {k_exact} means k* \u2265 {k_exact}",
                 fontsize=_LEGEND, color="dimgrey", va="bottom")
    ax_star.set_xscale("log")
    ax_star.set_ylim(0.5, k_exact + 0.8)
    ax_star.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax_star.set_xlabel("test prompt length m")
    ax_star.set_ylabel("best number of steps k*")
    ax_star.legend(loc="center right", fontsize=_LEGEND)
    ax_star.set_title(f"(b) k*(m): right with m, left with n (d = {d})", fontsize=_TITLE)
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


_MC_POINTS = (r"points are seeded Monte Carlo estimates with $\pm 2$ standard errors, filled where the "
              r"standard error is trustworthy and hollow where the sample's heavy-tail diagnostic says "
              r"it is not")


def _caption_tradeoff(s: dict, quick: bool) -> str:
    return (rf"Test-time compute against training context. Training and test covariance "
            rf"$\Lambda = \Sigma = \operatorname{{diag}}(1/i)$, $d = {s['d']}$, training prompt length "
            rf"$n = {_tex_list(s['ns'])}$, $k = 1, \dots, {s['k_max']}$ forward passes. "
            rf"(a)~$m = \infty$: the closed form $\sum_i f_i^{{2k}}$ (no sampling); the dashed line is direct "
            rf"in-context learning ($k = 1$) at $n = {max(s['ns'])}$. (b)~Test prompt length "
            rf"$m = {s['m']}$: lines are exact (rational arithmetic) for $k \le {s['k_exact']}$; "
            rf"{_MC_POINTS} ({s['samples']} prompts per $n$, seed {s['seed']}).")


def _caption_overthinking(s: dict, quick: bool) -> str:
    return (rf"Overthinking (Remark~4.1). Training spectrum $\lambda_i \propto 1/i$ with "
            rf"$\operatorname{{tr}}\Lambda = d = {s['d']}$, isotropic test covariance $\Sigma = I$. "
            rf"(a)~The paper's setting, $n = {_tex_list(s['ns'])}$ at test length $m = {s['m']}$: "
            rf"solid lines exact for $k \le {s['k_exact']}$, the best $k^*$ starred where the error "
            rf"has turned inside that window; {_MC_POINTS} ({s['samples']} prompts per $n$, to "
            rf"$k = {s['k_max']}$); dotted, the $m = \infty$ closed form. (b)~$m = \infty$, "
            rf"$n = {_tex_list(s['large_ns'])}$, closed form: the error eventually grows exactly when "
            rf"$\lambda_{{\max}}(\Gamma^{{-1}}\Sigma) > 2$ (its value in the legend), which takes "
            rf"a longer training prompt.")


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
    return (rf"Beyond the paper: finite test length and train/test mismatch, no Monte Carlo. "
            rf"(a)~$\log_{{10}}\mathrm{{err}}_k$ over $(m, k)$ from the exact engine's polynomials in "
            rf"$1/m$, "
            rf"$\Lambda = \Sigma = \operatorname{{diag}}(1/i)$, $d = {s['d']}$, $n = {s['n']}$, "
            rf"$k \le {s['k_exact']}$, {len(ms)} values of $m$, log-spaced from {ms[0]} to {ms[-1]}, with the best "
            rf"$k^*(m)$ traced. (b)~$k^*(m)$ for $n = {_tex_list(s['ns'])}$ (a value at the window edge "
            rf"$k = {s['k_exact']}$ means $k^* \ge {s['k_exact']}$). (c)~$m = \infty$, $d = {phase_d}$: "
            rf"where chain of thought helps or hurts over the training length $n$ ({len(grid_n)} values "
            rf"from {grid_n[0]} to {grid_n[-1]}) and the mismatch $s$ ({len(grid_s)} values in "
            rf"$[{grid_s[0]:g}, {grid_s[-1]:g}]$) of the test spectrum $\sigma_i \propto \lambda_i^{{1-s}}$, "
            rf"$\operatorname{{tr}}\Sigma = \operatorname{{tr}}\Lambda$, classified from the "
            rf"$m = \infty$ closed form by \texttt{{theory.overthinking}}; the black line is $\lambda_{{\max}}(\Gamma^{{-1}}\Sigma) = 2$.")


_CAPTIONS = {"tradeoff": _caption_tradeoff, "overthinking": _caption_overthinking,
             "selection": _caption_selection, "beyond": _caption_beyond}


def caption(name: str, *, quick: bool = False) -> str:
    r"""The LaTeX caption of figure ``name`` as :func:`write_figures` draws it (``quick`` or not):
    the setting (d, n, m, spectra) and which curves are exact and which are Monte Carlo.

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
