"""Explore test-time scaling of linear self-attention interactively (marimo notebook).

Open it:            marimo edit notebooks/explore.py     (or: marimo run notebooks/explore.py)
Run it headless:    python notebooks/explore.py [--mc]  (every cell at its default settings;
                    --mc also runs the Monte Carlo overlay)

Needs the ``notebook`` extra: pip install ".[notebook]".
"""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import io

    import marimo as mo
    import numpy as np
    from matplotlib.figure import Figure

    import theory
    from theory import figures

    return Figure, figures, io, mo, np, theory


@app.cell
def _(mo):
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
def _(mo):
    shapes = ["power law λ_i ∝ i^(−α)", "isotropic", "spiked (one strong direction)", "from file (.npy/.txt)"]
    d = mo.ui.slider(2, 16, value=6, label="dimension d")
    train_shape = mo.ui.dropdown(shapes, value=shapes[0], label="Λ (training)")
    train_alpha = mo.ui.slider(0.0, 3.0, step=0.1, value=1.0, label="Λ: α / spike")
    train_file = mo.ui.file(filetypes=[".npy", ".txt", ".csv"], label="Λ file")
    test_shape = mo.ui.dropdown(["same as Λ"] + shapes, value="isotropic", label="Σ (test)")
    test_alpha = mo.ui.slider(0.0, 3.0, step=0.1, value=1.0, label="Σ: α / spike")
    test_file = mo.ui.file(filetypes=[".npy", ".txt", ".csv"], label="Σ file")
    same_trace = mo.ui.checkbox(value=True, label="scale Σ to tr Σ = tr Λ")
    mo.vstack([d, mo.hstack([train_shape, train_alpha, train_file]),
               mo.hstack([test_shape, test_alpha, test_file]), same_trace])
    return (
        d,
        same_trace,
        test_alpha,
        test_file,
        test_shape,
        train_alpha,
        train_file,
        train_shape,
    )


@app.cell
def _(mo):
    n = mo.ui.slider(1, 500, value=50, label="training prompt length n")
    m_infinite = mo.ui.checkbox(value=False, label="m = ∞ only")
    m = mo.ui.slider(2, 400, value=60, label="test prompt length m")
    k_max = mo.ui.slider(2, 40, value=12, label="largest k shown")
    k_exact = mo.ui.slider(1, 8, value=4, label="exact engine up to k (cost ×3 per step)")
    mo.hstack([n, mo.vstack([m, m_infinite]), mo.vstack([k_max, k_exact])])
    return k_exact, k_max, m, m_infinite, n


@app.cell
def _(io, np):
    def spectrum(shape, d, alpha, upload):
        """Eigenvalues (1-D) or a full matrix (2-D) for the chosen shape."""
        i = np.arange(1, d + 1, dtype=float)
        if shape.startswith("power"):
            return i ** (-alpha)
        if shape == "isotropic":
            return np.ones(d)
        if shape.startswith("spiked"):
            return np.where(i == 1, 1.0 + 10.0 * alpha, 1.0)
        if not upload.value:
            raise ValueError("upload a matrix or a vector of eigenvalues first")
        content, name = upload.contents(), upload.name()
        return np.load(io.BytesIO(content)) if name.endswith(".npy") else np.loadtxt(io.BytesIO(content))

    return (spectrum,)


@app.cell
def _(
    d,
    np,
    same_trace,
    spectrum,
    test_alpha,
    test_file,
    test_shape,
    train_alpha,
    train_file,
    train_shape,
):
    train_cov = spectrum(train_shape.value, d.value, train_alpha.value, train_file)
    if test_shape.value == "same as Λ":
        test_cov = np.array(train_cov, dtype=float)
    else:
        test_cov = spectrum(test_shape.value, np.shape(train_cov)[0], test_alpha.value, test_file)
    if same_trace.value:
        def _trace(c):
            return np.trace(c) if np.ndim(c) == 2 else np.sum(c)
        test_cov = test_cov * (_trace(train_cov) / _trace(test_cov))
    return test_cov, train_cov


@app.cell
def _(figures, k_exact, k_max, m, m_infinite, mo, n, np, test_cov, train_cov):
    from theory.overthinking import overthinking

    ks = np.arange(1, k_max.value + 1)
    m_value = None if m_infinite.value else m.value
    limit = figures.limit_curve(train_cov, n.value, ks, test_cov=test_cov)
    report = overthinking(train_cov, n.value, test_cov)
    exact, finite_report = None, None
    if m_value is not None:
        k_window = ks[: k_exact.value]
        with mo.status.spinner(title="exact error at finite m"):
            exact = figures.exact_curve(train_cov, n.value, k_window, test_cov=test_cov, m=m_value)
            if k_window.size >= 2:
                finite_report = overthinking(train_cov, n.value, test_cov, m=m_value, k_max=int(k_window[-1]))
    return exact, finite_report, ks, limit, m_value, report


@app.cell
def _(mo):
    run_mc = mo.ui.checkbox(value="mc" in mo.cli_args(), label="Monte Carlo overlay")
    mc_samples = mo.ui.slider(200, 20000, step=200, value=2000, label="prompts")
    mo.hstack([run_mc, mc_samples])
    return mc_samples, run_mc


@app.cell
def _(ks, m_value, mc_samples, mo, n, run_mc, test_cov, theory, train_cov):
    mc = None
    if run_mc.value and m_value is not None:
        with mo.status.spinner(title="Monte Carlo"):
            mc = theory.mc_cot_error(train_cov, n.value, ks, m=m_value, test_cov=test_cov,
                                     samples=mc_samples.value, seed=0)
    return (mc,)


@app.cell
def _(
    Figure,
    exact,
    figures,
    finite_report,
    ks,
    limit,
    m_value,
    mc,
    n,
    report,
):
    fig = Figure(figsize=(6.5, 4), layout="constrained")
    ax = fig.subplots()
    star = report.k_star if report.k_star is not None and report.k_star <= ks[-1] else None
    figures.plot_error_curve(ax, ks, limit, label=f"m = ∞ (closed form), n = {n.value}", color="grey",
                             style="--", k_star=star)
    if exact is not None:
        window = ks[: len(exact)]
        finite_star = finite_report.k_star if finite_report is not None and finite_report.first_rise else None
        figures.plot_error_curve(ax, window, exact, label=f"m = {m_value} (exact, k ≤ {window[-1]})",
                                 color="C0", k_star=finite_star, mc=mc)
    ax.set_xlabel("k (LSA forward passes; k = 1 is direct ICL)")
    ax.set_ylabel(r"$\mathrm{err}_k = E\|w_k - w\|^2$")
    figures.legend_markers(ax, mc=mc is not None, star=True)
    fig
    return


@app.cell
def _(finite_report, m_value, mo, np, report):
    if report.diverges:
        head = (f"**Overthinking at m = ∞.** The error grows without bound in k; the best number of "
                f"steps is k* = {report.k_star} ({report.behaviour}).")
    else:
        head = f"**No overthinking at m = ∞**: the error shows '{report.behaviour}' behaviour in k."
    lines = [head,
             f"λ_max(Γ⁻¹Σ) = {report.max_eig:.4g}; the m = ∞ error grows iff it exceeds 2.",
             f"Directions responsible (eigenvectors of Γ⁻¹Σ with eigenvalue > 2): "
             f"{report.responsible.shape[1]}."]
    if report.responsible.shape[1]:
        lines.append("Their coordinates, one column each: `" + np.array2string(report.responsible, precision=3)
                     + "`")
    if finite_report is not None:
        lines.append(f"**At m = {m_value}** the error always diverges eventually (Ŝ_m has unbounded "
                     f"spectrum); over the exact window the best k is {finite_report.k_star} "
                     f"({finite_report.behaviour}).")
    mo.vstack([mo.md("\n\n".join(lines)), report])
    return


@app.cell
def _(mo):
    mo.md(r"""
    ## Task selection: which training tasks to mix for a target $\Sigma$
    """)
    return


@app.cell
def _(mo):
    pools = ["paper's four task types (d = 100)", "power laws λ_i ∝ i^(−α), α ∈ {¼, ½, ¾, 1¼, 1½, 2} (d = 8)"]
    pool = mo.ui.dropdown(pools, value=pools[1], label="task pool")
    target = mo.ui.dropdown(["isotropic", "power law 1/i"], value="power law 1/i", label="target Σ")
    mo.hstack([pool, target])
    return pool, target


@app.cell
def _(Figure, mo, np, pool, target, theory):
    if pool.value.startswith("paper"):
        from theory.selection import task_type_experiment
        experiment = task_type_experiment(0, target="power" if target.value.startswith("power") else "isotropic")
        names = [f"{experiment.type_names[t]} #{j}" for j, t in enumerate(experiment.task_type)]
        pi, hard = experiment.pi, experiment.hardness
        shown = experiment
    else:
        alphas = np.array([0.25, 0.5, 0.75, 1.25, 1.5, 2.0])
        dim = 8
        i = np.arange(1, dim + 1)
        sigma = np.ones(dim) if target.value == "isotropic" else 1.0 / i
        tasks = [i ** (-a) * sigma.sum() / (i ** (-a)).sum() for a in alphas]
        shown = theory.select_tasks(tasks, sigma)
        names = [f"α = {a:g}" for a in alphas]
        pi, hard = np.asarray(shown.pi, dtype=float), np.array([theory.hardness(t) for t in tasks])
    fig_sel = Figure(figsize=(6.5, 3.2), layout="constrained")
    ax_sel = fig_sel.subplots()
    ax_sel.bar(range(len(pi)), np.asarray(pi, dtype=float))
    ax_sel.set_xticks(range(len(pi)), [f"{nm}\nHard {h:.3g}" for nm, h in zip(names, hard)],
                      fontsize=8 if len(pi) <= 8 else 6, rotation=90 if len(pi) > 8 else 0)
    ax_sel.set_ylabel("selection probability π")
    ax_sel.set_title(f"QP selection for the target ({target.value})", fontsize=10)
    mo.vstack([fig_sel, shown])
    return


if __name__ == "__main__":
    app.run()
