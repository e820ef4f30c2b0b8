r"""Claim ``prop3.2``: chain of thought with the trained LSA is a pseudo-Newton iteration.

Parts:

* ``step`` (claim): one forward pass of the trained LSA on ``E_i`` (the ``m`` examples and any earlier
  estimates ``w_0..w_i``) returns ``w_{i+1} = w_i − Γ^{-1}Ŝ_m(w_i − w)`` (``ρ = m``);
* ``newton-form`` (claim): that is the Newton step on ``ℓ(w) = ‖y − Xᵀw‖²/(2m)`` with ``Γ^{-1}`` in
  place of the inverse Hessian ``Ŝ_m^{-1}``;
* ``closed-form`` (claim): from ``w_0 = 0``, ``k`` passes give ``w_k = (I − (I − Γ^{-1}Ŝ_m)^k) w``;
* ``estimate-columns-inert`` (finding): the earlier estimate columns get attention score exactly 0, so
  the number of CoT columns does not matter;
* ``normaliser-rho`` (finding): the step is Proposition 3.2's for any normaliser ``ρ`` — it is not: the
  update scales by ``m/ρ``, so ``ρ`` must be ``m`` (with ``ρ`` the column count ``m + i + 1`` every step
  is too short).

Routes:

* exact: block-matrix algebra in sympy for general ``d``, ``m``, ``ρ`` and any number ``q`` of earlier
  CoT columns; explicit symbolic entries for small ``(d, m, i)`` with every earlier estimate a free
  symbol; the gradient and Hessian of ``ℓ`` in sympy; the closed form against the symbolic iteration;
  counterexamples evaluated in exact rationals;
* independent: actual forward passes (:func:`theory.lsa.lsa_forward`, :func:`theory.lsa.cot_rollout`)
  over seeded random ``d, m, k, n, Λ`` (rotated or diagonal) against the formula, the prompt-only
  recurrence (:func:`theory.pseudo_newton.cot_recurrence`) and the matrix-power closed form
  (:func:`theory.pseudo_newton.cot_closed_form`), relative error per step
  ``max|Δ| / max(max|w_i|, max|w|)``; central finite differences of ``ℓ``.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import numpy as np
import sympy as sp

from theory._exact import exact_inverse
from theory._tex import Step, tex
from theory.covariance import gamma, gamma_exact
from theory.ledger import CLAIM, FINDING, Claim, Counterexample, RouteDisagreement, decide
from theory.lsa import cot_rollout, embed_prompt, lsa_forward, read_estimate, trained_parameters
from theory.moments import is_zero
from theory.pseudo_newton import cot_closed_form, cot_recurrence, derive_cot_step, derive_cot_step_blocks

SEED = 32  # root of the random cases (Prop 3.2)
CASES_FAST, CASES_FULL = 200, 2000
MAX_D, MAX_M, MAX_K, MAX_N = 5, 40, 10, 50
EXPLICIT_FAST = ((2, 3, 0), (2, 3, 1), (2, 3, 2))  # (d, m, i) with explicit symbolic entries
EXPLICIT_FULL = ((1, 2, 0), (2, 3, 0), (2, 3, 1), (2, 3, 2), (3, 2, 3))
K_SYMBOLIC_FAST, K_SYMBOLIC_FULL = 4, 6  # the closed form against the symbolic iteration, k = 0..K
# Forward passes against the formula in float64: a pass is O(d m) products of O(1) numbers and a
# rollout compounds k <= 10 of them; the measured error is ~1e-14.  1e-10 relative (to the size of
# the iterates) is loose by four orders and far below any formula error worth catching (a wrong
# normaliser is off by O(1/m) of the step).
RTOL = 1e-10
# Central differences of a quadratic are exact but for rounding: eps·|ℓ|/h with h = 1e-3 and
# |ℓ| <= 1e2 is ~1e-11; 1e-7 relative leaves room and is far below an O(1/m) formula error.
FD_STEP = 1e-3
FD_RTOL = 1e-7

CLAIM_PROP32 = Claim(
    id="prop3.2",
    title=r"Proposition 3.2: CoT is a pseudo-Newton iteration",
    statement=r"With the trained parameters, each CoT step is $w_{i+1} = w_i - \tfrac1m\Gamma^{-1}XX^\top(w_i - w) "
              r"= w_i - \Gamma^{-1}\hat S_m(w_i - w)$, a pseudo-Newton step on "
              r"$\ell(w) = \tfrac1{2m}\|y - X^\top w\|^2$ with $\Gamma^{-1}$ in place of the inverse Hessian; "
              r"hence $w_{k+1} = (I - (I - \Gamma^{-1}\hat S_m)^k)w$ after $k$ steps.",
    source="[poster] (the update); [paper] (the closed form and its indexing); [derived] (why the earlier CoT "
           "columns do not contribute)",
    convention=r"$w_0 = 0$; $w_{i+1}$ is the $w$-block of the last column of $f(E_i)$, where $E_i$ holds the $m$ "
               r"examples and the columns $(0, 0, w_l, 1)$, $l \le i$; $k$ counts forward passes and $\rho = m$. "
               r"Then $w_k = (I - (I - \Gamma^{-1}\hat S_m)^k)w$: $k = 1$ is direct ICL. The paper's $w_{k+1}$ "
               r"after $k$ steps counts its zero initial estimate as $w_1$, so it is our $w_k$, and its error "
               r"$\mathbb E\|w_{k+1} - w\|^2$ is our $\mathrm{err}_k$. Trained parameters: "
               r"$V_{3,1} = -\Gamma^{-1}/c$, $W_{1,3} = cI$, $W_{2,4} = -c$.",
    checks="checks/test_prop3_2_pseudo_newton.py",
)


# ---------------------------------------------------------------------------------------------
# The formulas under test (numpy arrays, sympy matrices and matrix expressions alike)


def pseudo_newton_step(G, S, wi, w):
    r"""Proposition 3.2: :math:`w_{i+1} = w_i - G\hat S_m(w_i - w)`, ``G`` standing for ``Γ^{-1}``."""
    return wi - G @ S @ (wi - w)


def closed_form(G, S, w, k: int):
    r"""The closed form :math:`w_k = (I - (I - G\hat S_m)^k)\,w` for sympy matrices."""
    eye = sp.eye(G.shape[0])
    return (eye - (eye - G @ S) ** k) @ w


def least_squares_loss(X, y, v):
    r"""The in-context least-squares loss :math:`\ell(v) = \tfrac1{2m}\|y - X^\top v\|^2` (``y`` a column)."""
    r = y - X.T @ v
    value = r.T @ r
    if getattr(value, "shape", ()) == (1, 1):
        value = value[0, 0]
    return value / (2 * X.shape[1])


# ---------------------------------------------------------------------------------------------
# Exact route


def _block_symbols():
    d, m, q = sp.symbols("d m q", positive=True, integer=True)
    return {"d": d, "m": m, "q": q, "rho": sp.Symbol("rho", positive=True),
            "c": sp.Symbol("c", nonzero=True, real=True),
            "X": sp.MatrixSymbol("X", d, m), "w": sp.MatrixSymbol("w", d, 1), "wi": sp.MatrixSymbol("w_i", d, 1),
            "V31": sp.MatrixSymbol("V_31", d, d), "G": sp.MatrixSymbol("G", d, d)}


def _explicit_symbols(d: int, m: int, i: int) -> dict:
    """The symbols of :func:`theory.pseudo_newton.derive_cot_step` (sympy symbols are equal by name)."""
    real = {"real": True}
    return {"X": sp.Matrix(d, m, lambda r, s: sp.Symbol(f"x_{r}{s}", **real)),
            "w": sp.Matrix(d, 1, lambda r, _: sp.Symbol(f"w_{r}", **real)),
            "ests": [sp.Matrix(d, 1, lambda r, _, l=l: sp.Symbol(f"w{l}_{r}", **real)) for l in range(i + 1)],
            "V31": sp.Matrix(d, d, lambda r, s: sp.Symbol(f"v_{r}{s}", **real)),
            "G": sp.Matrix(d, d, lambda r, s: sp.Symbol(f"g_{r}{s}", **real)),
            "c": sp.Symbol("c", nonzero=True, real=True)}


@lru_cache(maxsize=1)
def block_routes() -> dict:
    """Booleans "exactly zero" of the block-matrix derivation (general d, m, ρ, q).

    ``"estimates score 0"``, ``"step at rho = m"`` (against :func:`pseudo_newton_step`),
    ``"general rho"`` (against ``w_i − (m/ρ)GŜ_m(w_i − w)``) and ``"step at rho = columns"``
    (against :func:`pseudo_newton_step` at ``ρ = m + q + 1``, the column count of ``E_i``).
    """
    steps = derive_cot_step_blocks()
    s = _block_symbols()
    m, rho, X, w, wi, G = s["m"], s["rho"], s["X"], s["w"], s["wi"], s["G"]
    S = X * X.T / m
    new = wi + steps[4].expr.subs(s["V31"], -G / s["c"])
    return {
        "estimates score 0": is_zero(steps[1].expr),
        "step at rho = m": is_zero(sp.expand(new.subs(rho, m) - pseudo_newton_step(G, S, wi, w))),
        "general rho": is_zero(sp.expand(new - (wi - (m / rho) * G * S * (wi - w)))),
        "step at rho = columns": is_zero(sp.expand(new.subs(rho, m + s["q"] + 1) - pseudo_newton_step(G, S, wi, w))),
    }


@lru_cache(maxsize=2)
def explicit_routes(cases: tuple[tuple[int, int, int], ...]) -> dict:
    """Per ``(d, m, i)``: the w-rows minus :func:`pseudo_newton_step` (exact residual vector, with
    ``V_31 = −G/c``), whether the other rows of the last column are ``(0, 0, 1)``, and the largest
    attention score of an estimate column (exactly 0 when the finding holds)."""
    out = {}
    for d, m, i in cases:
        steps = derive_cot_step(d, m, i)
        s = _explicit_symbols(d, m, i)
        last = steps[2].expr
        to_trained = {s["V31"][r, t]: -s["G"][r, t] / s["c"] for r in range(d) for t in range(d)}
        w_rows = last[d + 1:2 * d + 1, 0].subs(to_trained)
        S = s["X"] @ s["X"].T / m
        residual = sp.expand(w_rows - pseudo_newton_step(s["G"], S, s["ests"][-1], s["w"]))
        scores = steps[1].expr[m:, 0]
        out[(d, m, i)] = {"residual": residual, "other rows": is_zero(steps[5].expr),
                          "estimate scores": [sp.S(v) for v in scores]}
    return out


def exact_instance(d: int, m: int, i: int, seed: int = SEED) -> dict:
    """A seeded rational instance: diagonal Λ, ``n``, ``c = 1``, ``X``, ``w`` and earlier estimates."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, d, m, i]))

    def rational(shape):
        return [[Fraction(int(v), 4) for v in row] for row in rng.integers(-8, 9, size=shape)]

    lam = [[Fraction(int(rng.integers(1, 9)), 4) if r == t else Fraction(0) for t in range(d)] for r in range(d)]
    return {"lam": lam, "n": int(rng.integers(1, 9)), "X": rational((d, m)), "w": rational((d, 1)),
            "ests": rational((i + 1, d))}


def _sympy(M) -> sp.Matrix:
    return sp.Matrix([[sp.Rational(v.numerator, v.denominator) for v in row] for row in M])


def _gamma_inverse_exact(lam, n) -> sp.Matrix:
    return _sympy(exact_inverse(gamma_exact(np.array(lam, dtype=object), n), "Gamma").tolist())


def residual_at(instance: dict, i: int, residual: sp.Matrix) -> list[Fraction]:
    """An explicit residual (:func:`explicit_routes`) evaluated exactly at a rational instance (``c = 1``)."""
    d, m = len(instance["X"]), len(instance["X"][0])
    s = _explicit_symbols(d, m, i)
    G = _gamma_inverse_exact(instance["lam"], instance["n"])
    point = {s["c"]: 1}
    point.update({s["G"][r, t]: G[r, t] for r in range(d) for t in range(d)})
    point.update({s["X"][r, t]: sp.Rational(instance["X"][r][t]) for r in range(d) for t in range(m)})
    point.update({s["w"][r, 0]: sp.Rational(instance["w"][r][0]) for r in range(d)})
    for l, est in enumerate(instance["ests"]):
        point.update({s["ests"][l][r, 0]: sp.Rational(est[r]) for r in range(d)})
    return [Fraction(str(v)) for v in residual.subs(point)]


def _float_instance(instance: dict):
    lam = np.array(instance["lam"], dtype=float)
    X = np.array(instance["X"], dtype=float)
    w = np.array(instance["w"], dtype=float)[:, 0]
    return lam, instance["n"], X, w, np.array(instance["ests"], dtype=float)


@lru_cache(maxsize=2)
def symbolic_iteration(k_max: int) -> list[bool]:
    """Per ``k = 0..k_max``: the symbolic iteration of :func:`pseudo_newton_step` from ``w_0 = 0``
    minus :func:`closed_form` is exactly zero (``d = 2``, general ``G``, symmetric ``Ŝ``)."""
    G = sp.Matrix(2, 2, lambda r, s: sp.Symbol(f"g_{r}{s}", real=True))
    S = sp.Matrix(2, 2, lambda r, s: sp.Symbol(f"s_{min(r, s)}{max(r, s)}", real=True))
    w = sp.Matrix(2, 1, lambda r, _: sp.Symbol(f"w_{r}", real=True))
    out, wk = [], sp.zeros(2, 1)
    for k in range(k_max + 1):
        out.append(is_zero(sp.expand(wk - closed_form(G, S, w, k))))
        wk = sp.expand(pseudo_newton_step(G, S, wk, w))
    return out


@lru_cache(maxsize=1)
def newton_routes() -> dict:
    """sympy (``d = 2``, ``m = 3``): ``∇ℓ(v) − Ŝ_m(v − w)``, ``∇²ℓ − Ŝ_m`` and ``(v − G∇ℓ(v)) −`` the step."""
    d, m = 2, 3
    X = sp.Matrix(d, m, lambda r, s: sp.Symbol(f"x_{r}{s}", real=True))
    w = sp.Matrix(d, 1, lambda r, _: sp.Symbol(f"w_{r}", real=True))
    v = sp.Matrix(d, 1, lambda r, _: sp.Symbol(f"v_{r}", real=True))
    G = sp.Matrix(d, d, lambda r, s: sp.Symbol(f"g_{r}{s}", real=True))
    S = X @ X.T / m
    loss = sp.expand(least_squares_loss(X, X.T @ w, v))
    grad = sp.Matrix([sp.diff(loss, x) for x in v])
    hess = sp.hessian(loss, list(v))
    return {"gradient": is_zero(sp.expand(grad - S @ (v - w))), "hessian": is_zero(sp.expand(hess - S)),
            "newton step": is_zero(sp.expand(v - G @ grad - pseudo_newton_step(G, S, v, w)))}


# ---------------------------------------------------------------------------------------------
# Numerical route: forward passes


def random_case(rng: np.random.Generator, max_d: int = MAX_D, max_m: int = MAX_M, max_k: int = MAX_K):
    """A seeded case ``(Λ, n, c, X, w, k)``; Λ diagonal or rotated, eigenvalues log-uniform in [0.1, 10]."""
    d = int(rng.integers(1, max_d + 1))
    m = int(rng.integers(1, max_m + 1))
    k = int(rng.integers(0, max_k + 1))
    n = int(rng.integers(1, MAX_N + 1))
    eig = np.exp(rng.uniform(np.log(0.1), np.log(10.0), d))
    if rng.random() < 0.5:
        Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
        lam = Q @ np.diag(eig) @ Q.T
        lam = (lam + lam.T) / 2
    else:
        lam = np.diag(eig)
    X = np.linalg.cholesky(lam) @ rng.standard_normal((d, m))
    w = rng.standard_normal(d)
    c = float(rng.uniform(0.2, 3.0))
    return lam, n, c, X, w, k


def _scale(*arrays) -> float:
    return max(float(np.max(np.abs(a))) for a in arrays)


def rollout_errors(lam, n, c, X, w, k) -> tuple[float, float]:
    """Relative errors of ``cot_rollout`` against the prompt-only recurrence and the closed form."""
    V, W = trained_parameters(lam, n, c)
    roll = cot_rollout(V, W, X, X.T @ w, k)
    rec = cot_recurrence(lam, n, X, X.T @ w, k)
    closed = cot_closed_form(lam, n, X, w, k)
    scale = np.maximum(np.max(np.abs(rec), axis=1), np.max(np.abs(w)))
    return (float(np.max(np.max(np.abs(roll - rec), axis=1) / scale)),
            float(np.max(np.max(np.abs(roll - closed), axis=1) / scale)))


def one_pass_errors(lam, n, c, X, w, estimates) -> dict:
    """One forward pass from arbitrary earlier estimates against :func:`pseudo_newton_step`.

    Returns the relative error of the pass (``"step"``), the largest |attention score| of an
    estimate column (``"scores"``), and the relative gap of the pass with ``ρ`` = the column count
    ``m + i + 1`` to ``w_i + (m/ρ)(step − w_i)`` (``"rho"``) together with that ``ρ``.
    """
    V, W = trained_parameters(lam, n, c)
    d, m = X.shape
    E = embed_prompt(X, X.T @ w, estimates)
    wi = estimates[-1]
    want = pseudo_newton_step(np.linalg.inv(gamma(lam, n)), X @ X.T / m, wi, w)
    got = read_estimate(lsa_forward(E, V, W, m))
    scale = _scale(want, wi, w)
    scores = E.T @ W @ E[:, -1]
    rho = m + estimates.shape[0]
    got_rho = read_estimate(lsa_forward(E, V, W, rho))
    return {"step": float(np.max(np.abs(got - want)) / scale), "scores": float(np.max(np.abs(scores[m:]))),
            "rho": float(np.max(np.abs(got_rho - (wi + (m / rho) * (want - wi)))) / scale)}


@lru_cache(maxsize=2)
def numeric_routes(cases: int, seed: int = SEED) -> dict:
    """The largest errors over seeded random cases: rollout vs recurrence and vs closed form, one pass
    vs the formula, estimate-column scores, the ``m/ρ`` scaling; also the largest ``d``, ``m``, ``k``."""
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    worst = {"recurrence": 0.0, "closed form": 0.0, "step": 0.0, "scores": 0.0, "rho": 0.0,
             "d": 0, "m": 0, "k": 0}
    for _ in range(cases):
        lam, n, c, X, w, k = random_case(rng)
        e_rec, e_closed = rollout_errors(lam, n, c, X, w, k)
        one = one_pass_errors(lam, n, c, X, w, rng.standard_normal((k + 1, X.shape[0])))
        for key, value in (("recurrence", e_rec), ("closed form", e_closed), *one.items(),
                           ("d", X.shape[0]), ("m", X.shape[1]), ("k", k)):
            worst[key] = max(worst[key], value)
    return worst


def gradient_fd_error(cases: int, seed: int = SEED + 1) -> float:
    """Largest relative gap of central differences of :func:`least_squares_loss` (gradient and
    Hessian) to ``Ŝ_m(v − w)`` and ``Ŝ_m`` at seeded random points."""
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    worst = 0.0
    for _ in range(cases):
        d, m = int(rng.integers(1, MAX_D + 1)), int(rng.integers(1, MAX_M + 1))
        X, w, v = rng.standard_normal((d, m)), rng.standard_normal(d), rng.standard_normal(d)
        y, S = X.T @ w, X @ X.T / m
        eye = np.eye(d) * FD_STEP
        grad = np.array([(least_squares_loss(X, y, v + e) - least_squares_loss(X, y, v - e)) / (2 * FD_STEP)
                         for e in eye])
        hess = np.array([[(least_squares_loss(X, y, v + e + f) - least_squares_loss(X, y, v + e - f)
                           - least_squares_loss(X, y, v - e + f) + least_squares_loss(X, y, v - e - f))
                          / (4 * FD_STEP ** 2) for f in eye] for e in eye])
        want = S @ (v - w)
        worst = max(worst, float(np.max(np.abs(grad - want)) / _scale(want, S)),
                    float(np.max(np.abs(hess - S)) / _scale(S)))
    return worst


# ---------------------------------------------------------------------------------------------
# Parts


def _cases(full: bool) -> int:
    return CASES_FULL if full else CASES_FAST


def _explicit(full: bool):
    return EXPLICIT_FULL if full else EXPLICIT_FAST


_SWEEP = (r"«cases» cases from SeedSequence(«seed») ($d \le «max_d»$, $m \le «max_m»$, $k \le «max_k»$, "
          r"$n \le «max_n»$, "
          r"$\Lambda$ rotated or diagonal, eigenvalues log-uniform over two decades)")


def _sweep_values(full: bool) -> dict:
    return {"cases": _cases(full), "seed": SEED, "max_d": MAX_D, "max_m": MAX_M, "max_k": MAX_K, "max_n": MAX_N}


def _instance_tex(instance: dict, i: int, tail):
    """The instance as TeX (the earlier estimates before ``w_i`` do not enter the step), then ``tail``."""
    ests = [[e] for e in instance["ests"][-1]]
    return tex(r"$\Lambda = «lam:mat»$, $n = «n»$, $c = 1$, $X = «X:mat»$, $w = «w:mat»$, $i = «i»$, "
               r"$w_i = «wi:mat»$", lam=instance["lam"], n=instance["n"], X=instance["X"], w=instance["w"],
               i=i, wi=ests) + tail


def _confirm_one_pass(instance: dict) -> bool:
    """The float forward pass at the instance differs from the formula beyond the tolerance."""
    lam, n, X, w, ests = _float_instance(instance)
    return one_pass_errors(lam, n, 1.0, X, w, ests)["step"] > RTOL


@CLAIM_PROP32.part("step", CLAIM,
                   r"One forward pass of the trained LSA on $E_i$ — the $m$ examples and any earlier estimates "
                   r"$w_0, \ldots, w_i$ — returns $w_{i+1} = w_i - \Gamma^{-1}\hat S_m(w_i - w)$ ($\rho = m$).")
def step(full: bool):
    blocks = block_routes()
    explicit = explicit_routes(_explicit(full))
    explicit_ok = {case: is_zero(r["residual"]) and r["other rows"] for case, r in explicit.items()}
    if len(set(explicit_ok.values()) | {blocks["step at rho = m"]}) != 1:
        raise RouteDisagreement("the CoT step", [("block algebra, general d, m, q", blocks["step at rho = m"]),
                                                 ("explicit entries per (d, m, i)", explicit_ok)])
    ok = blocks["step at rho = m"]
    num = numeric_routes(_cases(full))
    if ok and num["step"] > RTOL:
        raise RouteDisagreement("one forward pass against Prop 3.2", [("sympy", "exact"),
                                ("forward passes, max relative error", num["step"]), ("tolerance", RTOL)])

    def counterexample():
        case = next(c for c, good in explicit_ok.items() if not good)
        d, m, i = case
        instance = exact_instance(d, m, i)
        gap = residual_at(instance, i, explicit[case]["residual"])
        return Counterexample(
            _instance_tex(instance, i, tail=tex(r": the forward pass minus the formula is $«gap:list»$ exactly",
                                                gap=gap)),
            lambda: _confirm_one_pass(instance), "a float forward pass (theory.lsa.lsa_forward) at the instance")

    return decide(ok, tex(
        r"sympy block algebra for general $d$, $m$ and any number $q$ of earlier estimate columns $\Omega$: "
        r"with $V_{3,1} = -G/c$ the $w$-rows of the last column of $f(E_i)$ are $w_i - G\hat S_m(w_i - w)$ "
        r"exactly ($G$ stands for $\Gamma^{-1}$; the identity holds for every $G$); explicit symbolic entries "
        r"(every earlier estimate, $V_{3,1}$ and $c$ free) for $(d, m, i) \in \{«explicit»\}$ agree, and the "
        r"other rows of the last column are $(0, 0, 1)$. Forward passes from random earlier estimates on "
        + _SWEEP + r": largest relative error $«err:.2g»$ (tolerance $«rtol:.0g»$).",
        explicit=", ".join(f"({d}, {m}, {i})" for d, m, i in _explicit(full)), **_sweep_values(full),
        err=num["step"], rtol=RTOL), counterexample)


@CLAIM_PROP32.part("newton-form", CLAIM,
                   r"The step is Newton's on $\ell(w) = \tfrac1{2m}\|y - X^\top w\|^2$ with $\Gamma^{-1}$ in place "
                   r"of the inverse Hessian: $\nabla\ell(w_i) = \hat S_m(w_i - w)$, $\nabla^2\ell = \hat S_m$, and "
                   r"$w_{i+1} = w_i - \Gamma^{-1}\nabla\ell(w_i)$.")
def newton_form(full: bool):
    routes = newton_routes()
    ok = all(routes.values())
    fd = gradient_fd_error(_cases(full))
    num = numeric_routes(_cases(full))
    if ok and (fd > FD_RTOL or num["recurrence"] > RTOL):
        raise RouteDisagreement("the Newton form", [("sympy", "exact"), ("finite differences of ℓ", fd),
                                                    ("rollout vs prompt-only recurrence", num["recurrence"])])

    def counterexample():
        return Counterexample(
            tex(r"sympy ($d = «d»$, $m = «m»$) leaves nonzero residuals in: «which»", d=2, m=3,
                which=", ".join(k for k, v in routes.items() if not v)),
            lambda: gradient_fd_error(_cases(full)) > FD_RTOL,
            "central finite differences of the loss at seeded random points")

    return decide(ok, tex(
        r"sympy ($d = «d»$, $m = «m»$, every entry symbolic): $\nabla\ell(v) - \hat S_m(v - w)$, "
        r"$\nabla^2\ell - \hat S_m$ and $(v - G\nabla\ell(v))$ minus the step are $0$. Central differences "
        r"($h = «h:.0g»$) of $\ell$ at «cases» random points (SeedSequence(«fd_seed»)): largest relative gap "
        r"$«fd:.2g»$ "
        r"(tolerance $«fd_rtol:.0g»$). Forward-pass rollouts against the recurrence "
        r"$w_{i+1} = w_i - \Gamma^{-1}(\hat S_m w_i - \tfrac1m Xy)$, which needs only the prompt, on the "
        r"same sweep: largest relative error $«rec:.2g»$.",
        d=2, m=3, h=FD_STEP, cases=_cases(full), fd_seed=SEED + 1, fd=fd, fd_rtol=FD_RTOL, rec=num["recurrence"]),
        counterexample)


@CLAIM_PROP32.part("closed-form", CLAIM,
                   r"From $w_0 = 0$, $k$ forward passes give $w_k = (I - (I - \Gamma^{-1}\hat S_m)^k)\,w$.")
def closed_form_part(full: bool):
    k_max = K_SYMBOLIC_FULL if full else K_SYMBOLIC_FAST
    iteration = symbolic_iteration(k_max)
    ok = all(iteration)
    num = numeric_routes(_cases(full))
    if ok and num["closed form"] > RTOL:
        raise RouteDisagreement("the closed form", [("sympy iteration", "exact"),
                                ("rollout vs matrix powers, max relative error", num["closed form"]),
                                ("tolerance", RTOL)])

    def counterexample():
        k = iteration.index(False)
        instance = exact_instance(2, 3, 0)
        lam, n, X, w, _ = _float_instance(instance)
        G = _gamma_inverse_exact(instance["lam"], n)
        S = _sympy(instance["X"]) @ _sympy(instance["X"]).T / X.shape[1]
        wk, w_exact = sp.zeros(2, 1), _sympy(instance["w"])
        for _ in range(k):
            wk = pseudo_newton_step(G, S, wk, w_exact)
        gap = [Fraction(str(v)) for v in wk - closed_form(G, S, w_exact, k)]

        def confirm():
            V, W = trained_parameters(lam, n, 1.0)
            roll = cot_rollout(V, W, X, X.T @ w, k)
            closed = cot_closed_form(lam, n, X, w, k)
            return float(np.max(np.abs(roll[-1] - closed[-1]))) > RTOL * _scale(roll, w)

        return Counterexample(
            tex(r"$\Lambda = «lam:mat»$, $n = «n»$, $X = «X:mat»$, $w = «w:mat»$, $k = «k»$: the iteration minus "
                r"the closed form is $«gap:list»$ exactly", lam=instance["lam"], n=n, X=instance["X"],
                w=instance["w"], k=k, gap=gap),
            confirm, "forward passes (theory.lsa.cot_rollout) against theory.pseudo_newton.cot_closed_form")

    return decide(ok, tex(
        r"sympy ($d = «d»$, general $G$, symmetric $\hat S$): iterating the step from $w_0 = 0$ gives the "
        r"closed form exactly for $k = 0, \ldots, «k_max»$. Forward-pass rollouts (theory.lsa.cot_rollout) "
        r"against the matrix powers on " + _SWEEP + r": largest relative error $«err:.2g»$ (tolerance "
        r"$«rtol:.0g»$).", d=2, k_max=k_max, **_sweep_values(full), err=num["closed form"], rtol=RTOL),
        counterexample)


@CLAIM_PROP32.part("estimate-columns-inert", FINDING,
                   r"Every earlier estimate column $(0, 0, w_l, 1)$ of $E_i$ gets attention score exactly $0$ "
                   r"against the last column ($W e_{\mathrm{last}}$ has zero $w$- and $1$-blocks), so the "
                   r"number of CoT columns does not change the step.")
def estimate_columns_inert(full: bool):
    blocks = block_routes()
    explicit = explicit_routes(_explicit(full))
    explicit_ok = all(all(v == 0 for v in r["estimate scores"]) for r in explicit.values())
    ok = blocks["estimates score 0"]
    if ok != explicit_ok:
        raise RouteDisagreement("the scores of the estimate columns",
                                [("block algebra", ok), ("explicit entries", explicit_ok)])
    num = numeric_routes(_cases(full))
    if ok and num["scores"] != 0.0:
        raise RouteDisagreement("the scores of the estimate columns",
                                [("sympy", "exactly 0"), ("forward passes, max |score|", num["scores"])])

    def counterexample():
        case = next(c for c, r in explicit.items() if any(v != 0 for v in r["estimate scores"]))
        return Counterexample(
            tex(r"$(d, m, i) = («case»)$: an estimate column scores «score» in sympy",
                case=", ".join(map(str, case)),
                score=str(next(v for v in explicit[case]["estimate scores"] if v != 0))),
            lambda: numeric_routes(_cases(full))["scores"] != 0.0, "the scores of float forward passes")

    return decide(ok, tex(
        r"sympy: the $q \times 1$ block of scores of the estimate columns is the zero matrix for every $\Omega$ "
        r"and $q$, and every estimate column of the explicit cases scores $0$; in floating point the scores "
        r"of the estimate columns on " + _SWEEP + r" are exactly $0$ (largest $|{\rm score}| = «score:.2g»$).",
        **_sweep_values(full), score=num["scores"]), counterexample)


@CLAIM_PROP32.part("normaliser-rho", FINDING,
                   r"The step is Proposition 3.2's for any attention normaliser $\rho$, e.g. the number of columns "
                   r"$\rho = m + i + 1$ of $E_i$.")
def normaliser_rho(full: bool):
    blocks = block_routes()
    num = numeric_routes(_cases(full))
    if not blocks["general rho"] or num["rho"] > RTOL:
        raise RouteDisagreement("the step for a general normaliser", [
            ("sympy: the w-rows are w_i − (m/ρ)GŜ_m(w_i − w)", blocks["general rho"]),
            ("forward passes at ρ = m + i + 1 vs that, max relative gap", num["rho"]), ("tolerance", RTOL)])
    d, m, i = 2, 3, 0
    instance = exact_instance(d, m, i)
    rho = m + i + 1

    def counterexample():
        G = _gamma_inverse_exact(instance["lam"], instance["n"])
        X, w, wi = _sympy(instance["X"]), _sympy(instance["w"]), _sympy([[e] for e in instance["ests"][-1]])
        S = X @ X.T / m
        at_rho = wi - sp.Rational(m, rho) * G @ S @ (wi - w)
        gap = [Fraction(str(v)) for v in at_rho - pseudo_newton_step(G, S, wi, w)]

        def confirm():
            lam, n, Xf, wf, ests = _float_instance(instance)
            V, W = trained_parameters(lam, n, 1.0)
            got = read_estimate(lsa_forward(embed_prompt(Xf, Xf.T @ wf, ests), V, W, rho))
            want = pseudo_newton_step(np.linalg.inv(gamma(lam, n)), Xf @ Xf.T / m, ests[-1], wf)
            return float(np.max(np.abs(got - want))) > RTOL * _scale(want, wf)

        return Counterexample(
            _instance_tex(instance, i, tail=tex(r", $\rho = «rho»$: the pass minus Proposition 3.2's step is "
                                                r"$«gap:list»$ "
                                                r"exactly", rho=rho, gap=gap)),
            confirm, "a float forward pass (theory.lsa.lsa_forward) with that normaliser")

    return decide(blocks["step at rho = columns"], tex(
        r"sympy block algebra for general $\rho$: the $w$-rows are $w_i - \tfrac{m}{\rho}G\hat S_m(w_i - w)$, so "
        r"the step is Proposition 3.2's only at $\rho = m$ and is shortened by $m/\rho$ otherwise; forward passes "
        r"with $\rho = m + i + 1$ on " + _SWEEP + r" match the $m/\rho$ scaling to $«gap:.2g»$ relative.",
        **_sweep_values(full), gap=num["rho"]), counterexample)


@CLAIM_PROP32.derives
def derivation() -> list[Step]:
    from theory.derive import _eq
    blocks = derive_cot_step_blocks()
    d, m, i = 1, 2, 1
    explicit = derive_cot_step(d, m, i)
    dim, k = sp.Symbol("d", positive=True, integer=True), sp.Symbol("k", positive=True, integer=True)
    G, S, w = sp.MatrixSymbol("G", dim, dim), sp.MatrixSymbol(r"\hat{S}_m", dim, dim), sp.MatrixSymbol("w", dim, 1)
    return [
        Step(r"Block-matrix product for general $d$, $m$, $\rho$ and any number $q$ of earlier CoT columns "
             r"$\Omega$ ($G$ stands for $\Gamma^{-1}$; the identity holds for every $G$). $W$ applied to the last "
             r"column $(0; 0; w_i; 1)$ has zero $w$- and $1$-blocks:", blocks[0].expr),
        Step(r"so the scores of the $q$ earlier estimate columns $(0; 0; \Omega; \mathbf 1^\top)$ vanish identically,",
             blocks[1].expr),
        Step(r"while the $m$ example columns score", blocks[2].expr),
        Step(r"The update $V E (E^\top W e)/\rho$ by blocks (only the examples contribute):", blocks[3].expr),
        Step(r"its $w$-rows, the change of the estimate:", blocks[4].expr),
        Step(r"with $V_{3,1} = -G/c$, minus $-\tfrac{m}{\rho}G\hat S_m(w_i - w)$:", blocks[5].expr),
        Step(r"and at $\rho = m$, minus $-G\hat S_m(w_i - w)$ (Proposition 3.2):", blocks[6].expr),
        Step(tex(r"Explicit entries, $d = «d»$, $m = «m»$, estimates $w_0, \ldots, w_{«i»}$ all symbolic: the prompt",
                 d=d, m=m, i=i).render(), explicit[0].expr),
        Step(r"the scores against the last column,", explicit[1].expr),
        Step(r"the last column of $f(E_i)$,", explicit[2].expr),
        Step(r"its $w$-rows minus $w_i + cV_{3,1}\hat S_m(w_i - w)$,", explicit[3].expr),
        Step(r"the same with $V_{3,1} = -G/c$, minus $w_i - G\hat S_m(w_i - w)$,", explicit[4].expr),
        Step(r"and the other rows of the last column minus $(0, 0, 1)$:", explicit[5].expr),
        Step(r"Unrolling the step from $w_0 = 0$: $w_k - w = (I - G\hat S_m)(w_{k-1} - w) = \ldots = "
             r"-(I - G\hat S_m)^k w$, so", _eq(sp.MatrixSymbol("w_k", dim, 1),
                                                (sp.Identity(dim) - sp.MatPow(sp.Identity(dim) - G * S, k)) * w)),
    ]
