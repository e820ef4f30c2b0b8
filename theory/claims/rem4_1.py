r"""Claim ``rem4.1``: overthinking (Remark 4.1 and the experiment of Section 4).

Parts:

* ``trace-brackets`` (condition): at ``m = ∞``, exactly ``err_k = tr N^{2k} + ½‖M^k − (M^k)ᵀ‖_F²``,
  hence ``tr N^{2k} <= err_k <= ½(κ(Γ) + 1/κ(Γ)) tr N^{2k}``, both constants attained;
* ``trace-decides-growth`` (claim): the error grows without bound iff the trace does, iff
  ``λ_max(Γ^{-1}Σ) > 2`` (exact root counting against exact matrix powers and the float report);
* ``trace-step-by-step`` (claim, fails): the error rises at a step exactly when the trace does;
* ``trace-best-k`` (claim, fails): the best number of steps of the error is that of the trace;
* ``larger-n-diverges`` (condition): every eigenvalue of ``Γ_n^{-1}Σ`` grows with ``n``: divergence
  starts at an onset and persists, and at large ``k`` a larger ``n`` is worse;
* ``larger-n-best`` (claim, fails): a larger ``n`` never has a smaller best error nor a later ``k*``;
* ``experiment-limit`` (finding): the paper's experiment at ``m = ∞`` depends on the scale of Λ;
* ``experiment-finite-m`` (claim): at ``m = 40`` the error falls then rises, larger ``n`` worse;
* ``step-thresholds`` (finding): from which ``m`` a first and a second CoT pass help;
* ``k-star-grows-with-m`` (finding): in ``d = 1``, ``k*`` grows with ``m`` towards the ``m = ∞`` answer.

Routes: exact rationals at ``m = ∞`` (matrix powers, Sturm root counting), the exact engine's
polynomials in ``1/m`` at finite ``m``; independently the float modal report of
:func:`theory.overthinking.overthinking`, the ``d = 1`` chi-square closed form, and seeded Monte Carlo.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import numpy as np
import sympy

from theory._exact import exact_matmul
from theory._tex import Step, sci, tex
from theory.covariance import gamma
from theory.ledger import (CLAIM, CONDITION, FINDING, Claim, Counterexample, RouteDisagreement, decide, holds,
                           require_z, undecided)
from theory.overthinking import (divergence_onset, eventual_growth_exact, gamma_condition_bounds_exact,
                                 infinite_m_error_exact, lsa_experiment, overthinking_report, remark41_bracket,
                                 remark41_trace_exact, skewed_spectrum, step_gain, step_matrix_exact)
from theory.scaling import cot_error_d1, rational_orthogonal

SEED = 20251003  # root of the seeded families below (the paper's arXiv month)

# The experiment of Section 4 (our reading): d = 10, λ_i ∝ 1/i, Σ = I, these n, m = ∞ and m = 40.
EXP_D, EXP_NS, EXP_M = 10, (10, 20, 30), 40
EXP_WINDOW = 7      # exact engine window at finite m, fast tier (full tier: 10)
MC_SAMPLES = 40_000  # Monte Carlo of the m = 40, n = 30 curve at k = 1..3 (full tier: 200 000)
# k* certified over all k: brackets to EXP_K (full tier EXP_K_FULL); the exact engine where its
# estimated cost is below the budget (CPU seconds), the zonal trace within EXP_TRACE_BUDGET
EXP_K, EXP_K_FULL = 20, 30
EXP_EXACT_BUDGET = {False: 1.0, True: 10.0}
EXP_TRACE_BUDGET = 120.0
# The d = 1 k*(m) family: λ = σ = 1, n = 2 (so Γ^{-1}Σ = 1/2), m = 2, 4, ..., 32, k <= 40.
D1_N, D1_MS, D1_KMAX = 2, (2, 4, 8, 16, 32), 40
# A float (κ + 1/κ)/2 within this of 1 means κ = 1: no room for the ratio to exceed it.
KAPPA_RTOL = 1e-9

CLAIM_REM41 = Claim(
    id="rem4.1",
    title="Remark 4.1: overthinking",
    statement=r"The effect of CoT on target $\Sigma$ is governed by $\operatorname{tr}((I - \Gamma^{-1/2}\Sigma"
              r"\Gamma^{-1/2})^{2k})$; when a direction needed by $\Sigma$ is weak in $\Gamma$ the term grows with $k$ "
              r"(more thinking hurts); larger $n$ can worsen overthinking; in the LSA experiment ($\lambda_i \propto "
              r"1/i$ training, isotropic test) the error first falls then rises with $k$, and larger $n$ is worse.",
    source="[paper] (Remark 4.1 and the Section 4 experiment); the $m = \\infty$ bracket is [derived]",
    convention=tex(r"$k$ forward passes ($k = 1$ direct ICL); the trace is an $m = \infty$ quantity, where "
                   r"$\mathrm{err}_k = \|M^k\|_F^2$, $M = I - \Gamma^{-1}\Sigma$, $N = I - \Gamma^{-1/2}\Sigma\Gamma^{-1/2}$, "
                   r"$\operatorname{tr} N^{2k} = \operatorname{tr} M^{2k}$; finite $m$ uses the exact engine. The "
                   r"experiment's scale, $d$ and $m$ are not known: we take $d = «d»$, $\Sigma = I$, $n = «ns:list»$, "
                   r"$m = \infty$ and $m = «m»$, and $\lambda_i \propto 1/i$ with $\operatorname{tr}\Lambda = d$ "
                   r"(“trace”) or $\lambda_1 = 1$ (“unit”).", d=EXP_D, ns=list(EXP_NS), m=EXP_M),
    checks="checks/test_rem4_1_overthinking.py",
    extra_reproduce=("tts overthink --train SPEC --n N --test SPEC [--m M] [--json]",),
)


def _rotation(p: int, q: int, r: int) -> np.ndarray:
    """The rational rotation with cosine p/r and sine q/r (p² + q² = r²)."""
    return np.array([[Fraction(p, r), Fraction(-q, r)], [Fraction(q, r), Fraction(p, r)]], dtype=object)


def _diag(*values) -> np.ndarray:
    out = np.array([[Fraction(0)] * len(values) for _ in values], dtype=object)
    for i, v in enumerate(values):
        out[i, i] = Fraction(v)
    return out


def _rotated(R, *values) -> np.ndarray:
    return R.dot(_diag(*values)).dot(R.T)


# The explicit counterexamples (d = 2, exact rationals; found by a search over Pythagorean rotations).
# (train_cov, n, test_cov)
EXAMPLE_RISES_WHILE_TRACE_FALLS = (_diag(Fraction(1, 8), 1), 1, _rotated(_rotation(3, 4, 5), 4, Fraction(1, 4)))
EXAMPLE_FALLS_WHILE_TRACE_RISES = (_diag(Fraction(1, 8), 1), 5, _rotated(_rotation(3, 4, 5), Fraction(1, 4), 1))
EXAMPLE_K_STAR_DIFFERS = (_diag(8, 1), 20, _rotated(_rotation(8, 15, 17), Fraction(1, 2), 8))
# The sharp bracket: Γ = diag(8, 32) (κ = 4), N = [[0, 1], [1, 0]]: err_k / tr N^{2k} = 17/8 = (κ + 1/κ)/2
# at odd k (and 1 at even k; λ_max(Γ^{-1}Σ) = 2 exactly, so the error oscillates between 17/4 and 2).
EXAMPLE_SHARP_BRACKET = (_diag(1, 19), 3, np.array([[Fraction(8), Fraction(-16)], [Fraction(-16), Fraction(32)]],
                                                   dtype=object))
# Larger n: k* grows (Λ, Σ commuting), and the best error falls.
EXAMPLE_K_STAR_GROWS_WITH_N = (_diag(1, Fraction(1, 128)), (33, 64), _diag(Fraction(17, 8), Fraction(1, 25)))
EXAMPLE_BEST_ERROR_FALLS_WITH_N = (_diag(1, Fraction(1, 64)), (32, 64), _diag(Fraction(9, 4), Fraction(1, 50)))


def exact_curves(problem, k_max: int) -> tuple[list[Fraction], list[Fraction]]:
    """``err_k`` and ``tr N^{2k}`` for ``k = 0..k_max``, exactly."""
    lam, n, sig = problem
    return ([infinite_m_error_exact(lam, n, sig, k) for k in range(k_max + 1)],
            [remark41_trace_exact(lam, n, sig, k) for k in range(k_max + 1)])


def exact_k_star(lam, n, sig, k_max: int) -> tuple[int, Fraction]:
    """Exact ``argmin_{1 <= k <= k_max} err_k`` at ``m = ∞`` and the minimum."""
    errs = [infinite_m_error_exact(lam, n, sig, k) for k in range(1, k_max + 1)]
    best = min(errs)
    return errs.index(best) + 1, best


def random_rational_problem(rng: np.random.Generator, d: int):
    """A seeded rational problem: Λ diagonal, Σ rotated by a rational Cayley rotation."""
    lam = _diag(*[Fraction(int(rng.integers(1, 33)), 8) for _ in range(d)])
    sig_eigs = [Fraction(int(rng.integers(0, 65)), 8) for _ in range(d)]
    if not any(sig_eigs):
        sig_eigs[0] = Fraction(1)
    skew = np.array([[Fraction(0)] * d for _ in range(d)], dtype=object)
    for i in range(d):
        for j in range(i + 1, d):
            skew[i, j] = Fraction(int(rng.integers(-8, 9)), 4)
            skew[j, i] = -skew[i, j]
    Q = rational_orthogonal(skew)
    sig = exact_matmul(exact_matmul(Q, _diag(*sig_eigs)), Q.T)
    return lam, int(rng.integers(1, 41)), sig


def trace_identity_survey(count: int, k_max: int = 3):
    """Seeded survey of the identity err_k = tr N^{2k} + ½‖M^k − M^kᵀ‖² and the bracket.

    Returns ``(identity failures, bracket failures with U = tr Γ tr Γ^{-1}, commuting equality
    failures, max (err/tr) / ((κ + 1/κ)/2) (<= 1 is the sharp bracket), growth-condition
    disagreements)``.
    """
    rng = np.random.default_rng(np.random.SeedSequence(SEED))
    from theory._exact import exact_power
    id_fail = br_fail = eq_fail = growth_fail = 0
    worst = 0.0
    for t in range(count):
        lam, n, sig = random_rational_problem(rng, 2 + t % 2)
        M = step_matrix_exact(lam, n, sig)
        _, upper = gamma_condition_bounds_exact(lam, n)
        _, sharp = remark41_bracket(lam.astype(float), n)
        commute = bool((lam.dot(sig) == sig.dot(lam)).all())
        for k in range(k_max + 1):
            P = exact_power(M, k)
            d = P.shape[0]
            asym = sum(((P[i, j] - P[j, i]) ** 2 for i in range(d) for j in range(d)), Fraction(0))
            err = infinite_m_error_exact(lam, n, sig, k)
            tr = remark41_trace_exact(lam, n, sig, k)
            id_fail += err != tr + asym / 2
            br_fail += not (tr <= err <= upper * tr)
            eq_fail += commute and err != tr
            if tr > 0 and k > 0 and sharp > 1 + 1e-9:
                # the sharp float constant (κ + 1/κ)/2 (U = tr Γ tr Γ^{-1} only bounds it from above)
                worst = max(worst, float(err / tr) / sharp)
        report = overthinking_report(lam.astype(float), n, sig.astype(float))
        growth_fail += report.diverges != eventual_growth_exact(lam, n, sig)
    return id_fail, br_fail, eq_fail, worst, growth_fail


def monte_carlo_errors(train_eigs, n: int, m: int, ks, reps: int, seed: int):
    """Seeded Monte Carlo of ``err_k = E‖(I − Γ^{-1}Ŝ_m)^k‖_F²`` for ``Σ = I`` (mean, standard error)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    d = len(train_eigs)
    g_inv = 1.0 / np.diag(gamma(np.array([float(v) for v in train_eigs]), n))
    means, ses = [], []
    samples = {k: [] for k in ks}
    for start in range(0, reps, 5000):
        X = rng.standard_normal((min(5000, reps - start), d, m))
        M = np.eye(d)[None] - g_inv[None, :, None] * (X @ X.transpose(0, 2, 1) / m)
        P = np.broadcast_to(np.eye(d), M.shape).copy()
        for k in range(1, max(ks) + 1):
            P = P @ M
            if k in samples:
                samples[k].append(np.sum(P * P, axis=(1, 2)))
    for k in ks:
        x = np.concatenate(samples[k])
        means.append(float(x.mean()))
        ses.append(float(x.std(ddof=1) / np.sqrt(x.size)))
    return means, ses




def max_eig_exact_float(problem) -> float:
    """``λ_max(Γ^{-1}Σ)`` of a problem, in floating point (for the text; decisions are exact)."""
    lam, n, sig = problem
    return float(np.max(np.linalg.eigvals(np.linalg.solve(gamma(lam.astype(float), n), sig.astype(float))).real))


# ---------------------------------------------------------------------------------------------
# The parts


def _survey_size(full: bool) -> int:
    return 60 if full else 16


@CLAIM_REM41.part("trace-brackets", CONDITION,
                  r"At $m = \infty$, $\operatorname{tr} N^{2k} \le \mathrm{err}_k \le \tfrac{1}{2}(\kappa(\Gamma) + "
                  r"\kappa(\Gamma)^{-1}) \operatorname{tr} N^{2k}$, by the exact identity $\mathrm{err}_k = \operatorname{tr} "
                  r"N^{2k} + \tfrac{1}{2}\|M^k - (M^k)^\top\|_F^2$; both constants are attained.")
def trace_brackets(full: bool):
    count = _survey_size(full)
    id_fail, br_fail, eq_fail, worst, _ = trace_identity_survey(count)
    if id_fail or br_fail or eq_fail or worst > 1 + KAPPA_RTOL:
        # the identity and the bracket are proved: a failure is a fault of one of the routes
        raise RouteDisagreement("Remark 4.1's identity and bracket",
                                [("exact identity / U-bracket / commuting equality failures", (id_fail, br_fail, eq_fail)),
                                 ("largest (err/trace) / ((κ + 1/κ)/2), float", worst)])
    e0, t0 = exact_curves(EXAMPLE_SHARP_BRACKET, 5)
    _, sharp0 = remark41_bracket(EXAMPLE_SHARP_BRACKET[0].astype(float), EXAMPLE_SHARP_BRACKET[1])
    ratios = [e0[k] / t0[k] for k in range(6)]
    lam, n, sig = EXAMPLE_SHARP_BRACKET
    attained_at = [k for k in range(6) if abs(float(ratios[k]) - sharp0) < KAPPA_RTOL]
    kappa = float(np.linalg.cond(gamma(lam.astype(float), n)))
    return holds(tex(r"Exact on «count» seeded rational problems ($d = 2, 3$, $k \le «kk»$): no failure of the identity, "
                     r"of the bracket or of equality in the commuting case; largest ratio to the float constant "
                     r"$«worst:.4g»$. Attained: $\Lambda = «lam:mat»$, $n = «n»$, $\Sigma = «sig:mat»$ ($\kappa = «kappa:.4g»$): "
                     r"$\mathrm{err}_k/\operatorname{tr}N^{2k} = «r:list»$ for $k = 0..«kmax»$, the upper constant "
                     r"$«c:.6g»$ at $k = «at:list»$.", count=count, kk=3, worst=worst, lam=lam, n=n, sig=sig, kappa=kappa,
                     r=ratios, kmax=5, c=sharp0, at=attained_at))


@CLAIM_REM41.part("trace-decides-growth", CLAIM,
                  r"At $m = \infty$ the error grows without bound in $k$ exactly when the trace does: iff "
                  r"$\lambda_{\max}(\Gamma^{-1}\Sigma) > 2$.")
def trace_decides_growth(full: bool):
    count = _survey_size(full)
    *_, growth_fail = trace_identity_survey(count)
    if growth_fail:
        raise RouteDisagreement("eventual growth", [("exact root counting", "grows / stays bounded"),
                                                    ("float modal report", f"disagrees in {growth_fail} problems")])
    return holds(tex(r"Both sides of the bracket grow together, and $\operatorname{tr}N^{2k} = \sum_i (1 - \mu_i)^{2k}$ "
                     r"over the eigenvalues $\mu_i$ of $\Gamma^{-1}\Sigma$ grows iff some $|1 - \mu_i| > 1$. Exact "
                     r"decision by Sturm root counting on «count» seeded problems, against the float modal report: "
                     r"no disagreement.", count=count))


@CLAIM_REM41.part("trace-step-by-step", CLAIM,
                  r"Step by step the error follows the trace: $\mathrm{err}_{k+1} > \mathrm{err}_k$ exactly when "
                  r"$\operatorname{tr}N^{2k+2} > \operatorname{tr}N^{2k}$.")
def trace_step_by_step(full: bool):
    kk = 21
    e1, t1 = exact_curves(EXAMPLE_RISES_WHILE_TRACE_FALLS, kk)
    rises = [j for j in range(kk) if (e1[j + 1] > e1[j]) != (t1[j + 1] > t1[j])]
    e2, t2 = exact_curves(EXAMPLE_FALLS_WHILE_TRACE_RISES, 4)
    lam, n, sig = EXAMPLE_RISES_WHILE_TRACE_FALLS

    def counterexample():
        report = overthinking_report(lam.astype(float), n, sig.astype(float))
        return Counterexample(
            tex(r"$\Lambda = «lam:mat»$, $\Sigma = «sig:mat»$, $n = «n»$ ($\lambda_{\max}(\Gamma^{-1}\Sigma) = «mx:.4g» < 2$): "
                r"the trace falls at every step and the error tends to $0$, yet $\mathrm{err}_{k+1} > \mathrm{err}_k$ at "
                r"$k = «ks:list»$ (e.g. $\mathrm{err}_2 = «a:.4g»$, $\mathrm{err}_3 = «b:.4g»$). Also $\Lambda = «lam2:mat»$, "
                r"$\Sigma = «sig2:mat»$, $n = «n2»$: the first pass hurts while the trace falls, and "
                r"$\mathrm{err}_4 < \mathrm{err}_3$ while it rises.", lam=lam, sig=sig, n=n,
                mx=max_eig_exact_float(EXAMPLE_RISES_WHILE_TRACE_FALLS), ks=rises, a=float(e1[2]), b=float(e1[3]),
                lam2=EXAMPLE_FALLS_WHILE_TRACE_RISES[0], sig2=EXAMPLE_FALLS_WHILE_TRACE_RISES[2],
                n2=EXAMPLE_FALLS_WHILE_TRACE_RISES[1]),
            lambda: report.behaviour == "transient growth" and not report.diverges,
            "the float modal report of theory.overthinking")

    second = e2[4] < e2[3] and t2[4] > t2[3] and e2[1] > e2[0] and t2[1] < t2[0]
    return decide(not rises and not second, tex(r"Exact rational curves of both quantities."), counterexample)


@CLAIM_REM41.part("trace-best-k", CLAIM,
                  r"The best number of steps of the error is that of the trace.")
def trace_best_k(full: bool):
    kk = 14
    lam, n, sig = EXAMPLE_K_STAR_DIFFERS
    e3, t3 = exact_curves(EXAMPLE_K_STAR_DIFFERS, kk)
    k_err = min(range(1, kk + 1), key=lambda k: e3[k])
    k_tr = min(range(1, kk + 1), key=lambda k: t3[k])

    def counterexample():
        report = overthinking_report(lam.astype(float), n, sig.astype(float))
        return Counterexample(
            tex(r"$\Lambda = «lam:mat»$, $\Sigma = «sig:mat»$, $n = «n»$: $k^* = «ke»$ for the error, $«kt»$ for the "
                r"trace (exact, $k \le «kk»$; both curves rise for ever after, $\lambda_{\max}(\Gamma^{-1}\Sigma) = "
                r"«mx:.4g»$).", lam=lam, sig=sig, n=n, ke=k_err, kt=k_tr, kk=kk,
                mx=max_eig_exact_float(EXAMPLE_K_STAR_DIFFERS)),
            lambda: report.certified and report.k_star == k_err, "the certified float modal report")

    return decide(k_err == k_tr, tex(r"Exact rational curves of both quantities."), counterexample)


@CLAIM_REM41.part("larger-n-diverges", CONDITION,
                  r"Larger $n$ worsens overthinking in the limit of many steps: every eigenvalue of "
                  r"$\Gamma_n^{-1}\Sigma$ increases with $n$, so divergence starts at an onset $n_0$ and persists, some "
                  r"$n$ diverges iff $\Sigma \not\preceq 2\Lambda$, and beyond $n_0$ a larger $n$ has a larger growth "
                  r"factor, hence a larger error at every large enough $k$.")
def larger_n_diverges(full: bool):
    lam4, (na, nb), sig4 = EXAMPLE_K_STAR_GROWS_WITH_N
    onset = divergence_onset(lam4.astype(float), sig4.astype(float))
    exact_before = eventual_growth_exact(lam4, na - 1, sig4)
    exact_at = eventual_growth_exact(lam4, na, sig4)
    if onset != na or exact_before or not exact_at:
        raise RouteDisagreement("the divergence onset", [("float bisection", onset),
                                                         ("exact growth at n0 − 1, n0", (exact_before, exact_at))])
    big = 256
    if not infinite_m_error_exact(lam4, nb, sig4, big) > infinite_m_error_exact(lam4, na, sig4, big):
        # proved: beyond the onset the growth factor (λ_max − 1)² is larger at the larger n
        raise RouteDisagreement("the error at large k against n", [("exact err_k at the larger n", "not larger"),
                                                                  ("eigenvalue argument", "larger")])
    return holds(tex(r"$\Gamma_n = (1 + 1/n)\Lambda + (\operatorname{tr}\Lambda/n)I$ decreases in the Loewner order as "
                     r"$n$ grows. Example $\Lambda = «lam:mat»$, $\Sigma = «sig:mat»$: onset $n_0 = «na»$ (float bisection, "
                     r"confirmed exactly at $n_0 - 1$ and $n_0$); $\mathrm{err}_{«big»}(n = «nb») > \mathrm{err}_{«big»}(n = «na»)$ "
                     r"exactly.", lam=lam4, sig=sig4, na=na, nb=nb, big=big))


@CLAIM_REM41.part("larger-n-best", CLAIM,
                  r"A larger $n$ is worse at the optimum too: it never has a smaller best error or a later $k^*$.")
def larger_n_best(full: bool):
    lam4, (na, nb), sig4 = EXAMPLE_K_STAR_GROWS_WITH_N
    lam5, (nc, nd), sig5 = EXAMPLE_BEST_ERROR_FALLS_WITH_N
    ka, ea = exact_k_star(lam4, na, sig4, 12)
    kb, eb = exact_k_star(lam4, nb, sig4, 12)
    kc, ec = exact_k_star(lam5, nc, sig5, 12)
    kd, ed = exact_k_star(lam5, nd, sig5, 12)
    all_diverge = all(eventual_growth_exact(L, nn, S) for L, nn, S in
                      ((lam4, na, sig4), (lam4, nb, sig4), (lam5, nc, sig5), (lam5, nd, sig5)))

    def counterexample():
        # commuting problems: err_k is a sum of exponentials whose increments change sign once,
        # so the float report's first minimum is global
        cert = [overthinking_report(L.astype(float), nn, S.astype(float)).k_star
                for L, nn, S in ((lam4, na, sig4), (lam4, nb, sig4), (lam5, nc, sig5), (lam5, nd, sig5))]
        return Counterexample(
            tex(r"$\Lambda = «l4:mat»$, $\Sigma = «s4:mat»$: $k^* = «ka»$ at $n = «na»$ (the onset) and $«kb»$ at "
                r"$n = «nb»$; $\Lambda = «l5:mat»$, $\Sigma = «s5:mat»$: best error $«ec:.5g»$ at $n = «nc»$ and $«ed:.5g»$ "
                r"at $n = «nd»$ (all four diverge at large $k$).", l4=lam4, s4=sig4, ka=ka, na=na, kb=kb, nb=nb, l5=lam5,
                s5=sig5, ec=float(ec), nc=nc, ed=float(ed), nd=nd),
            lambda: cert == [ka, kb, kc, kd], "the certified float modal report")

    violated = all_diverge and (kb > ka or ed < ec)
    return decide(not violated, tex(r"Exact rationals, $k \le «kk»$.", kk=12), counterexample)


@lru_cache(maxsize=4)
def experiment(full: bool):
    window = 10 if full else EXP_WINDOW
    trace_exp = lsa_experiment(EXP_D, EXP_NS, (None, EXP_M), normalisation="trace", k_max=window)
    unit_exp = lsa_experiment(EXP_D, EXP_NS, (None,), normalisation="unit")
    return window, trace_exp, unit_exp


@CLAIM_REM41.part("experiment-limit", FINDING,
                  r"In the experiment at $m = \infty$ the outcome depends on the scale of $\Lambda$: with "
                  r"$\operatorname{tr}\Lambda = d$ the error falls for ever at every $n$ (the trace predicts no overthinking), "
                  r"with $\lambda_1 = 1$ it rises from the first step at every $n$.")
def experiment_limit(full: bool):
    _, trace_exp, unit_exp = experiment(full)
    infinite = [trace_exp.row(n, None) for n in EXP_NS]
    unit = [unit_exp.row(n, None) for n in EXP_NS]
    ok = all(r.k_star is None for r in infinite) and all(r.k_star == 1 and r.behaviour == "rises from the start"
                                                          for r in unit)
    if not ok:
        raise RouteDisagreement("the m = ∞ experiment", [("exact λ_max(Γ⁻¹Σ)", [r.max_eig for r in infinite + unit]),
                                                         ("modal report", [r.behaviour for r in infinite + unit])])
    return holds(tex(r"$\lambda_{\max}(\Gamma^{-1}\Sigma) = «a:list.4g»$ (trace scale) and $«b:list.4g»$ (unit scale) for "
                     r"$n = «ns:list»$.", a=[r.max_eig for r in infinite], b=[r.max_eig for r in unit], ns=list(EXP_NS)))


@lru_cache(maxsize=8)
def certified_k_star(n: int, full: bool) -> dict:
    r"""The experiment's ``k* = argmin_k err_k(m = 40)`` certified over all ``k >= 1``.

    Brackets :math:`\ell_k \le \mathrm{err}_k \le u_k` for ``k <= K``
    (:func:`theory.bracket.error_bracket_curve`: the exact engine where cheap, else
    ``T_k <= err_k <= ½(κ + 1/κ) T_k``); ``k`` is excluded when ``ℓ_k > min_j u_j``.  Every ``k > K``
    is excluded at once when ``T_K > T_{K−1}`` and ``T_K (T_K/T_{K−1}) > min_j u_j``: by log-convexity
    ``err_k >= T_k >= T_K (T_K/T_{K−1})^{k−K}``, increasing in ``k``.  Returns the candidates, whether
    ``k > K`` is excluded, the best error's bracket, and the curve.
    """
    from theory.bracket import error_bracket_curve
    from theory.finite_trace import _Spectrum, _trace_bounds, _validated
    K = EXP_K_FULL if full else EXP_K
    eigs = skewed_spectrum(EXP_D, "trace")
    sigma = [1] * EXP_D
    curve = error_bracket_curve(eigs, n, K, sigma, EXP_M, exact_budget=EXP_EXACT_BUDGET[full],
                                trace_budget=EXP_TRACE_BUDGET)
    G, S, _ = _validated(eigs, n, K, sigma)
    traces = _trace_bounds(G, S, K, EXP_M, _Spectrum(G, S))
    best_upper = min(b.upper for b in curve[1:])
    candidates = [b.k for b in curve[1:] if b.lower <= best_upper]
    (t_low, _), (_, t_prev_high) = traces[K], traces[K - 1]
    growth = t_low / t_prev_high
    beyond_excluded = growth > 1 and t_low * growth > best_upper
    best_lower = min(curve[k].lower for k in candidates)
    return {"K": K, "candidates": candidates, "beyond_excluded": beyond_excluded, "best": (best_lower, best_upper),
            "exact_up_to": max((b.k for b in curve if b.exact is not None), default=0), "curve": curve}


@CLAIM_REM41.part("experiment-finite-m", CLAIM,
                  tex(r"In the experiment at $m = «m»$ ($\operatorname{tr}\Lambda = d$) the error first falls then rises "
                      r"with $k$, and larger $n$ is worse.", m=EXP_M))
def experiment_finite_m(full: bool):
    window, trace_exp, _ = experiment(full)
    eigs = skewed_spectrum(EXP_D, "trace")
    reps = 200_000 if full else MC_SAMPLES
    n_mc = EXP_NS[-1]
    means, ses = monte_carlo_errors(eigs, n_mc, EXP_M, (1, 2, 3), reps, SEED)
    z = [(mu - float(ex)) / se for mu, se, ex in zip(means, ses, trace_exp.row(n_mc, EXP_M).errors[:3])]
    worst = require_z("the m = 40 experiment, Monte Carlo against the exact engine", z)
    cert = {n: certified_k_star(n, full) for n in EXP_NS}
    for n, c in cert.items():  # the exact window and the bracket are two routes to the same minimum
        exact_k = trace_exp.row(n, EXP_M)
        if exact_k.certified and exact_k.k_star not in c["candidates"]:
            raise RouteDisagreement(f"k* at n = {n}", [("exact engine window", exact_k.k_star),
                                                      ("certified brackets", c["candidates"])])
    settled = all(c["beyond_excluded"] for c in cert.values())
    spans = {n: (min(c["candidates"]), max(c["candidates"])) for n, c in cert.items()}
    falls_then_rises = settled and all(lo > 1 for lo, _ in spans.values())
    ordered = all(spans[a][0] >= spans[b][1] and cert[a]["best"][1] < cert[b]["best"][0]
                  for a, b in zip(EXP_NS, EXP_NS[1:]))

    def interval(n):
        lo, hi = spans[n]
        return str(lo) if lo == hi else rf"[{lo}, {hi}]"

    evidence = tex(r"Certified brackets for every $k$ (exact engine up to $k = «ex:list»$, then $T_k \le \mathrm{err}_k "
                   r"\le \tfrac{1}{2}(\kappa + 1/\kappa) T_k$ to $k = «K»$, and beyond by log-convexity of $T_k$): $k^* \in "
                   r"«ks»$ for $n = «ns:list»$, with best errors in $«be»$. Independent: the exact engine's window "
                   r"($k \le «w»$) agrees where it certifies; seeded Monte Carlo (seed «seed», «reps» prompts) of the "
                   r"$n = «nmc»$ curve at $k = 1, 2, 3$: $\max|z| = «z:.3g»$.",
                   ex=[cert[n]["exact_up_to"] for n in EXP_NS], K=cert[EXP_NS[0]]["K"],
                   ks=", ".join(interval(n) for n in EXP_NS), ns=list(EXP_NS),
                   be=", ".join(f"[{sci(float(lo), 4)}, {sci(float(hi), 4)}]" for lo, hi in
                                (cert[n]["best"] for n in EXP_NS)),
                   w=window, seed=SEED, reps=reps, nmc=n_mc, z=worst)
    if not settled:
        open_ns = [n for n in EXP_NS if not cert[n]["beyond_excluded"]]
        return undecided(evidence, tex(r"$k > «K»$ not excluded for $n = «ns:list»$", K=cert[EXP_NS[0]]["K"],
                                       ns=open_ns))

    def counterexample():
        from theory.bracket import error_bracket
        rechecked = {n: [error_bracket(eigs, n, k, [1] * EXP_D, EXP_M, exact_budget=0).lower
                         for k in (spans[n][0],)] for n in EXP_NS}
        return Counterexample(tex(r"$k^* \in «ks»$ and best errors «be» for $n = «ns:list»$",
                                  ks=", ".join(interval(n) for n in EXP_NS), ns=list(EXP_NS),
                                  be=", ".join(f"$[{sci(float(lo), 4)}, {sci(float(hi), 4)}]$" for lo, hi in
                                               (cert[n]["best"] for n in EXP_NS))),
                              lambda: all(rechecked[n][0] <= cert[n]["best"][1] for n in EXP_NS),
                              "theory.bracket.error_bracket at each k* (trace bounds alone)")
    return decide(falls_then_rises and ordered, evidence, counterexample)


@CLAIM_REM41.part("step-thresholds", FINDING,
                  tex(r"In the experiment a first CoT pass (and a second) helps only from some test length on, "
                      r"later for larger $n$.", ))
def step_thresholds(full: bool):
    eigs = skewed_spectrum(EXP_D, "trace")
    gains = {k: [step_gain(eigs, n, [1] * EXP_D, k=k) for n in EXP_NS] for k in (1, 2)}
    first, second = ([g.m_threshold for g in gains[k]] for k in (1, 2))
    ok = first == sorted(first) and second == sorted(second)

    def counterexample():
        # the thresholds themselves, confirmed by evaluating the exact gain at m_0 and m_0 − 1
        return Counterexample(tex(r"thresholds $«a:list»$ and $«b:list»$ for $n = «ns:list»$", a=first, b=second,
                                  ns=list(EXP_NS)),
                              lambda: all(g.gain(g.m_threshold) < 0 <= g.gain(g.m_threshold - 1)
                                          for gs in gains.values() for g in gs if g.m_threshold and g.m_threshold > 1),
                              "the exact gain at m_0 and m_0 - 1")
    return decide(ok,
                  tex(r"Exact polynomials in $1/m$, checked exactly at $m_0$ and $m_0 - 1$: a first pass helps for "
                      r"$m \ge «a:list»$, a second for $m \ge «b:list»$ ($n = «ns:list»$).", a=first, b=second,
                      ns=list(EXP_NS)),
                  counterexample)


@CLAIM_REM41.part("k-star-grows-with-m", FINDING,
                  r"In $d = 1$ the best number of steps $k^*$ grows with $m$ towards the $m = \infty$ answer "
                  r"(never overthink).")
def k_star_grows(full: bool):
    ks, ties = [], []
    for m in D1_MS:
        errs = [cot_error_d1(1, D1_N, k, m=m) for k in range(1, D1_KMAX + 1)]
        best = min(errs)
        ks.append(errs.index(best) + 1)
        if errs.count(best) > 1:
            ties.append((m, [k + 1 for k, e in enumerate(errs) if e == best]))
    ok = ks == sorted(ks) and ks[-1] < D1_KMAX
    tie_text = (tex(r"; exact ties: «t»", t="; ".join(f"$m = {m}$: $k \\in \\{{{', '.join(map(str, kk))}\\}}$"
                                                      for m, kk in ties)) if ties else tex(""))
    evidence = (tex(r"$\lambda = \sigma = 1$, $n = «n»$ ($\Gamma^{-1}\Sigma = «a»$), exact closed form over "
                    r"$k \le «kmax»$: $k^* = «ks:list»$ at $m = «ms:list»$", n=D1_N, a=Fraction(D1_N, D1_N + 2),
                    kmax=D1_KMAX, ks=ks, ms=list(D1_MS))
                + tie_text + tex(r"; not proved for general $m$."))
    return decide(ok, evidence,
                  lambda: Counterexample(tex(r"$k^* = «ks:list»$", ks=ks), lambda: False, "exact closed form"))


@CLAIM_REM41.derives
def derivation() -> list[Step]:
    from theory.derive import _eq
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
    checks = sympy.Matrix([[m, int(overthinking_report(exact_lam, m, exact_sigma).diverges)]
                           for m in (int(sympy.floor(n_c)), int(sympy.ceiling(n_c)))])
    return [
        Step(tex(r"Commuting case, $d = «d»$: $\Gamma = \operatorname{diag}(\gamma_i)$, $\Sigma = \operatorname{diag}(\sigma_i)$. "
                 r"The error map after $k$ steps at $m = \infty$ is $(I - \Gamma^{-1}\Sigma)^k$:", d=d).render(),
             _eq(sympy.Symbol("M^k"), power)),
        Step(r"Its squared Frobenius norm, $\mathrm{err}_k = \operatorname{tr}(M^k (M^k)^\top)$, a sum over directions of "
             r"$(1 - \mu_i)^{2k}$ with $\mu_i = \sigma_i/\gamma_i$ the eigenvalues of $\Gamma^{-1}\Sigma$:",
             _eq(sympy.Symbol("err_k"), err)),
        Step(r"A direction's term grows with $k$ iff $(1 - \mu)^2 > 1$; solved over $\mu \ge 0$ by sympy:",
             _eq(sympy.Symbol(r"\{\mu \ge 0 : (1-\mu)^2 > 1\}"), growth)),
        Step(tex(r"So the error eventually grows iff some eigenvalue of $\Gamma^{-1}\Sigma$ exceeds $2$ (non-commuting "
                 r"$\Lambda$, $\Sigma$ obey the same criterion through the similar matrix $I - \Gamma^{-1/2}\Sigma"
                 r"\Gamma^{-1/2}$). The paper's setting, $\lambda_i = 1/i$ with $d = «D»$ and an isotropic test of the "
                 r"same trace: the largest eigenvalue, on the weakest training direction, as a function of $n$:",
                 D=D).render(), _eq(sympy.Symbol(r"\mu_{\max}(n)"), mu_max)),
        Step(r"Overthinking at $m = \infty$ holds exactly for $n$ in the set solved by sympy (larger training prompts "
             r"are worse: $\Gamma$ loses its ridge $\operatorname{tr}\Lambda/n$):",
             _eq(sympy.Symbol(r"\{n : \mu_{\max}(n) > 2\}"), threshold)),
        Step(r"Cross-check with the library's overthinking report (eigenvalues of $\Gamma^{-1}\Sigma$, decided in exact "
             r"arithmetic near the boundary) at the two integers around the threshold ($n$, diverges):", checks),
    ]
