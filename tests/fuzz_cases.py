"""The catalogue of the fuzz tier: every public function of :mod:`theory`, a cheap valid call, and
what each of its arguments may be corrupted with.

A *corruption* is ``(label, value, expect)``:

* ``"reject"``: the input is invalid; the call must raise ``ValueError`` (or ``OverflowError``)
  whose message names the corrupted argument (or, for a dimension mismatch, the argument it is
  compared with);
* ``"edge"``: the input is valid but extreme (scales 1e-300 .. 1e300, near-singular, huge k or n,
  400-digit rationals); the call must return a finite, correct-looking answer or raise
  ``ValueError``/``OverflowError`` whose message names one of the function's arguments;
* ``"accept"``: the input is valid and ordinary (a rotated covariance ``Q D Qᵀ`` built in float,
  so a few ulps asymmetric; exact rationals): the call must return a correct-looking answer.

Every call runs in a forked child under a timeout (``tests/fuzz_worker.py``): a hang is a failure.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import re
from fractions import Fraction

import numpy as np

import theory

NAN, INF = float("nan"), float("inf")
BIG_P = 10 ** 400 + 7
BIG_Q = 3 * 10 ** 399 + 1
BIG_RATIONAL = Fraction(BIG_P, BIG_Q)  # ≈ 3.33, with 400-digit numerator and denominator

BASE = np.array([1.0, 0.5])  # the valid covariance of every base call (d = 2)


def rotated(eigs, seed: int = 0) -> np.ndarray:
    """``Q diag(eigs) Qᵀ`` in float: symmetric up to a few ulps, as a user would build it."""
    eigs = np.asarray(eigs, dtype=float)
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((eigs.size, eigs.size)))
    return q @ np.diag(eigs) @ q.T


def ulp_asymmetric(seed: int = 0, d: int = 3) -> np.ndarray:
    """A rotated covariance that is not bit-for-bit symmetric (the case float users hit)."""
    for s in range(seed, seed + 100):
        c = rotated([1.0, 0.3, 0.7][:d], s)
        if not np.array_equal(c, c.T):
            return c
    raise AssertionError("no asymmetric rotation found")


# ------------------------------------------------------------------------------ corruptions

def cov_corruptions(d: int = 2, *, other_covs: bool = False):
    """Corruptions of a covariance argument (base: ``diag(1, 1/2)``)."""
    out = [
        ("nan entry", [1.0, NAN], "reject"),
        ("inf entry", [INF, 1.0], "reject"),
        ("indefinite matrix", [[1.0, 2.0], [2.0, 1.0]], "reject"),
        ("negative eigenvalue", [1.0, -1.0], "reject"),
        ("clearly asymmetric", [[1.0, 0.5], [0.0, 1.0]], "reject"),
        ("empty", [], "reject"),
        ("non-square", np.ones((2, 3)), "reject"),
        ("3-D array", np.ones((2, 2, 2)), "reject"),
        ("booleans", [True, False], "reject"),
        ("strings", ["a", "b"], "reject"),
        ("None", None, "reject"),
        ("ragged rows", [[1.0, 0.0], [0.0]], "reject"),
        ("zero matrix", [0.0, 0.0], "edge"),
        ("singular", [1.0, 0.0], "edge"),
        ("near-singular 1e-17", [1.0, 1e-17], "edge"),
        ("condition 1e300", [1e150, 1e-150], "edge"),
        ("400-digit rational", np.array([BIG_RATIONAL, Fraction(1, 3)], dtype=object), "edge"),
        ("400-digit integer", np.array([10 ** 400, 1], dtype=object), "edge"),
        ("exact rationals", np.array([Fraction(1), Fraction(1, 2)], dtype=object), "accept"),
        ("Q D Q^T in float", ulp_asymmetric(d=2), "accept"),
    ]
    for e in (-300, -150, -30, 30, 150, 300):
        out.append((f"scale 1e{e}", BASE * 10.0 ** e, "edge"))
    if other_covs:
        out.append(("mismatched dimension", [1.0, 0.5, 0.25], "reject"))
        out.append(("mismatched dimension 1", [1.0], "reject"))
    else:
        out.append(("d = 3, ulp-asymmetric Q D Q^T", ulp_asymmetric(), "accept"))
    return out


def _budgets():
    """Corruptions of a cost budget: ``0`` is documented (never run that route), so it is an edge."""
    return [(label, value, "edge" if label == "zero" else expect)
            for label, value, expect in float_corruptions()]


def int_corruptions(*, allow_none: bool = False, minimum: int = 1, huge: bool = True):
    out = [
        ("zero" if minimum >= 1 else "minus one", minimum - 1, "reject"),
        ("negative", -5, "reject"),
        ("non-integral float", 1.5, "reject"),
        ("True", True, "reject"),
        ("False", False, "reject"),
        ("nan", NAN, "reject"),
        ("inf", INF, "reject"),
        ("string", "3", "reject"),
        ("numpy int64", np.int64(3), "accept"),
        ("integral float", 3.0, "edge"),
    ]
    if not allow_none:
        out.append(("None", None, "reject"))
    if huge:
        out += [("1e6", 10 ** 6, "edge"), ("10**30", 10 ** 30, "edge")]
    return out


def float_corruptions(*, positive: bool = True):
    out = [
        ("nan", NAN, "reject"),
        ("inf", INF, "reject"),
        ("-inf", -INF, "reject"),
        ("True", True, "reject"),
        ("string", "x", "reject"),
        ("None", None, "reject"),
        ("tiny 1e-300", 1e-300, "edge"),
        ("huge 1e300", 1e300, "edge"),
        ("400-digit rational", BIG_RATIONAL, "edge"),
    ]
    if positive:
        out += [("zero", 0.0, "reject"), ("negative", -1.0, "reject")]
    return out


def matrix_corruptions(shape):
    d = shape[0]
    return [
        ("nan entry", np.full(shape, NAN), "reject"),
        ("inf entry", np.full(shape, INF), "reject"),
        ("mismatched shape", np.ones((d + 1, d + 2)), "reject"),
        ("1-D (a diagonal?)", np.ones(d), "edge"),
        ("strings", np.full(shape, "a"), "reject"),
        ("None", None, "reject"),
        ("scale 1e300", np.full(shape, 1e300), "edge"),
        ("scale 1e-300", np.full(shape, 1e-300), "edge"),
    ]


def str_corruptions():
    return [("unknown name", "bogus", "reject"), ("an int", 1, "reject"), ("None", None, "reject")]


def ks_corruptions():
    return [
        ("empty list", [], "reject"),
        ("zero step", [0], "edge"),
        ("negative step", [-1], "reject"),
        ("non-integral", [1.5], "reject"),
        ("booleans", [True], "reject"),
        ("a string", "1", "reject"),
        ("nan", [NAN], "reject"),
        ("huge k", [10 ** 6], "edge"),
    ]


def pi_corruptions():
    return [
        ("does not sum to 1", [0.5, 0.6], "reject"),
        ("negative weight", [-0.5, 1.5], "reject"),
        ("nan weight", [NAN, 1.0], "reject"),
        ("wrong length", [1.0], "reject"),
        ("empty", [], "reject"),
        ("booleans", [True, False], "reject"),
        ("exact rationals", [Fraction(1, 3), Fraction(2, 3)], "accept"),
        ("vertex", [1.0, 0.0], "accept"),
    ]


def tasks_corruptions():
    return [
        ("empty task list", [], "reject"),
        ("one bad task", [[1.0, NAN], [1.0, 2.0]], "reject"),
        ("indefinite task", [[[1.0, 2.0], [2.0, 1.0]], [1.0, 2.0]], "reject"),
        ("mismatched task dimensions", [[1.0, 2.0], [1.0, 2.0, 3.0]], "reject"),
        ("tasks are not a list", 3.0, "reject"),
        ("booleans", [[True, False], [1.0, 2.0]], "reject"),
        ("scale 1e300", [[1e300, 2e300], [2e300, 1e300]], "edge"),
        ("scale 1e-300", [[1e-300, 2e-300], [2e-300, 1e-300]], "edge"),
        ("one task", [[1.0, 2.0]], "edge"),
        ("400-digit rationals", [[BIG_RATIONAL, 1], [1, BIG_RATIONAL]], "edge"),
        ("Q D Q^T tasks", [rotated([1.0, 2.0], 1), rotated([2.0, 1.0], 2)], "accept"),
    ]


def positive_number_corruptions():
    """A scalar variance or an RMT ratio (exact or float, > 0)."""
    return [
        ("zero", 0, "reject"),
        ("negative", -1, "reject"),
        ("nan", NAN, "reject"),
        ("inf", INF, "reject"),
        ("True", True, "reject"),
        ("string", "x", "reject"),
        ("None", None, "reject"),
        ("tiny 1e-300", 1e-300, "edge"),
        ("huge 1e300", 1e300, "edge"),
        ("400-digit rational", BIG_RATIONAL, "edge"),
    ]


# ------------------------------------------------------------------------------ result checks

def _walk(value, path="result", depth=0):
    """Yield ``(path, number)`` for every real number inside a result."""
    if depth > 6:
        return
    if isinstance(value, (bool, np.bool_, str, bytes)) or value is None:
        return
    if isinstance(value, (numbers.Real, np.floating, np.integer)):
        yield path, value
        return
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "fc":
            yield path, value
        elif value.dtype == object:
            for i, v in enumerate(value.ravel()[:10000]):
                yield from _walk(v, f"{path}[{i}]", depth + 1)
        return
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _walk(getattr(value, f.name), f"{path}.{f.name}", depth + 1)
        return
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, f"{path}[{k!r}]", depth + 1)
        return
    if isinstance(value, (tuple, list)):
        for i, v in enumerate(value):
            yield from _walk(v, f"{path}[{i}]", depth + 1)


def no_nan(result, *, allow_inf=()):
    """None, or the first NaN (or unexpected infinity) inside a result."""
    for path, v in _walk(result):
        if isinstance(v, np.ndarray):
            if np.isnan(v).any():
                return f"{path} contains NaN"
            if np.isinf(v).any() and not any(path.startswith(p) for p in allow_inf):
                return f"{path} contains inf"
        elif isinstance(v, (float, np.floating)):
            if math.isnan(v):
                return f"{path} is NaN"
            if math.isinf(v) and not any(path.startswith(p) for p in allow_inf):
                return f"{path} is {v}"
    return None


def _sympy_finite(expr) -> str | None:
    import sympy as sp
    if isinstance(expr, sp.Basic) and expr.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        return f"the expression contains nan/zoo/oo: {str(expr)[:200]}"
    return None


def check_nonneg_scalar(r):
    if isinstance(r, (bool, np.bool_)) or not isinstance(r, (numbers.Real, np.floating)):
        return f"expected a real number, got {type(r).__name__}"
    if isinstance(r, (float, np.floating)) and not math.isfinite(r):
        return f"not finite: {r!r}"
    if r < 0:
        return f"negative error {r!r}"
    return None


def check_log(r):
    if not isinstance(r, (float, np.floating)):
        return f"expected a float, got {type(r).__name__}"
    if math.isnan(r) or r == INF:
        return f"log error is {r!r}"
    return None


def check_generic(r, allow_inf=()):
    return no_nan(r, allow_inf=allow_inf)


def check_cov_matrix(r):
    r = np.asarray(r, dtype=float)
    if r.ndim != 2 or r.shape[0] != r.shape[1]:
        return f"expected a square matrix, got shape {r.shape}"
    if not np.isfinite(r).all():
        return "not finite"
    if not np.allclose(r, r.T, rtol=1e-12, atol=0):
        return "not symmetric"
    return None


def check_poly(r):
    problem = no_nan(r)
    if problem:
        return problem
    value = r(10) if callable(r) else None
    return None if value is None else no_nan(value)


def check_selection(r):
    problem = no_nan(r)
    if problem:
        return problem
    pi = np.array([float(p) for p in r.pi])
    if (pi < -1e-12).any() or (pi > 1 + 1e-12).any():
        return f"pi outside [0, 1]: {pi}"
    if abs(pi.sum() - 1) > 1e-9:
        return f"pi sums to {pi.sum()!r}, not 1"
    if float(r.objective) < -1e-12:
        return f"negative objective {r.objective}"
    return None


def check_bracket(r):
    brackets = r if isinstance(r, tuple) else (r,)
    for b in brackets:
        if b.lower < 0:
            return f"negative lower bound at k = {b.k}"
        if b.upper is not None and b.upper < b.lower:
            return f"upper {b.upper} < lower {b.lower} at k = {b.k}"
        if b.exact is not None and not (b.lower <= b.exact and (b.upper is None or b.exact <= b.upper)):
            return f"exact value outside its bracket at k = {b.k}"
    return None


def check_overthinking(r):
    problem = no_nan(r)
    if problem:
        return problem
    if (np.asarray(r.errors, dtype=float) < 0).any():
        return "negative error in the scan"
    if r.err_star < 0:
        return "negative err_star"
    return None


def check_mc(r):
    # log bounds of ±inf say "no bound" (k = 0 is d exactly, nothing to certify); a log_stderr of
    # -inf is an exact zero standard error (Σ = 0: every prompt gives d)
    problem = no_nan(r, allow_inf=("result.log_lower_bound", "result.log_upper_bound", "result.log_stderr",
                                   "result.se_rel_se", "result.mean", "result.stderr", "result.log_max"))
    if problem:
        return problem
    if np.isposinf(np.asarray(r.log_stderr)).any() or np.isneginf(np.asarray(r.log_upper_bound)).any():
        return "result.log_stderr is +inf or result.log_upper_bound is -inf"
    if (np.asarray(r.mean) < 0).any():
        return f"negative Monte Carlo mean {r.mean}"
    return None


def check_sympy(r):
    items = r if isinstance(r, tuple) else (r,)
    for item in items:
        problem = _sympy_finite(item)
        if problem:
            return problem
    return None


def check_critical_nu(r):
    import sympy as sp
    # ν_c = oo is the documented boundary for α >= 3 + 2√2 (no ν overthinks), not an overflow
    return None if r == sp.oo else check_sympy(r)


def check_mp_phase(r):
    return check_sympy(tuple(getattr(r, f.name) for f in dataclasses.fields(r)
                             if not isinstance(getattr(r, f.name), (str, bool))))


def check_mpf(r):
    import mpmath
    v = r[0] if isinstance(r, tuple) else r
    if isinstance(v, mpmath.mpf):  # an mpf carries exponents far beyond the float range: finite is finite
        return None if mpmath.isfinite(v) else f"not finite: {v}"
    try:
        v = float(v)
    except (TypeError, ValueError, OverflowError) as exc:
        return f"not a real number: {exc}"
    return None if math.isfinite(v) else f"not finite: {v}"


def check_optional_int(r):
    if r is None:
        return None
    if isinstance(r, bool) or not isinstance(r, numbers.Integral) or r < 1:
        return f"expected None or an integer >= 1, got {r!r}"
    return None


def check_pair_floats(r):
    lo, hi = r
    if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi):
        return f"not a finite bracket: {r!r}"
    return None


def check_bool(r):
    """A truth value (a sympy ``true``/``false`` passes here; ``test_returns_plain_bool`` is stricter)."""
    return None if r in (True, False) else f"expected a truth value, got {r!r}"


def check_k1(r):
    if len(r) != 2:
        return f"expected two coefficients, got {r!r}"
    return no_nan(r)


# ------------------------------------------------------------------------------ the catalogue

@dataclasses.dataclass(frozen=True)
class Spec:
    """One public function: its valid base call, the kinds of its arguments, and its check."""
    name: str
    positional: tuple          # names of the positional arguments, in order
    base: dict                 # argument name -> valid value (cheap call)
    slots: dict                # argument name -> list of corruptions
    check: object = check_generic
    cov_args: tuple = ()       # covariance arguments whose dimensions must agree

    @property
    def fn(self):
        return getattr(theory, self.name)

    def call_args(self, values: dict):
        args = tuple(values[p] for p in self.positional)
        kwargs = {k: v for k, v in values.items() if k not in self.positional}
        return args, kwargs

    def allowed_names(self, slot: str, label: str) -> tuple:
        if label.startswith("mismatched"):
            return tuple(self.slots) + self.positional
        return (slot,)


def _covs(*names):
    """Corruptions of the covariance arguments ``names``; ``test_cov`` may be None (Σ = Λ)."""
    out = {}
    for n in names:
        cors = cov_corruptions(other_covs=len(names) > 1)
        out[n] = [c for c in cors if not (n == "test_cov" and c[0] == "None")]
    return out


def _with_dimensions(spec: "Spec") -> "Spec":
    """Where another argument fixes d, a d = 3 covariance is a dimension mismatch: rejected."""
    slots = {}
    for slot, cors in spec.slots.items():
        base = spec.base.get(slot)
        if isinstance(base, int) and not isinstance(base, bool):  # the valid spellings of the base value
            cors = [(label, np.int64(base) if label == "numpy int64" else float(base) if label == "integral float"
                     else v, e) for label, v, e in cors]
        others = [v for k, v in spec.base.items() if k != slot and np.ndim(v) >= 1]
        slots[slot] = [("mismatched dimension (d = 3)", v, "reject") if label.startswith("d = 3") and others
                       else (label, v, e) for label, v, e in cors]
    return dataclasses.replace(spec, slots=slots)


def _k():
    """k = 0 is valid (no step: err_0 = ‖I‖_F² = d), so the smallest invalid k is -1."""
    return int_corruptions(minimum=0)


def _m():
    return int_corruptions(allow_none=True)


def _specs() -> list[Spec]:
    lam, n, k, m = BASE, 5, 2, 10
    S = []
    add = S.append
    cov2 = dict(train_cov=lam, test_cov=lam)
    add(Spec("gamma", ("train_cov", "n"), dict(train_cov=lam, n=n),
             {**_covs("train_cov"), "n": int_corruptions()}, check_cov_matrix))
    add(Spec("gamma_exact", ("train_cov", "n"), dict(train_cov=lam, n=n),
             {**_covs("train_cov"), "n": int_corruptions()}, check_generic))
    add(Spec("hardness", ("cov",), dict(cov=lam), _covs("cov"),
             lambda r: None if (r >= 0 and not math.isnan(r)) else f"hardness {r!r}"))
    for name, check in (("cot_error", check_nonneg_scalar), ("cot_log_error", check_log)):
        add(Spec(name, ("train_cov", "n", "k"), dict(cov2, n=n, k=k, m=m),
                 {**_covs("train_cov", "test_cov"), "n": int_corruptions(), "k": _k(),
                  "m": _m()}, check, ("train_cov", "test_cov")))
    add(Spec("cot_error_poly", ("train_cov", "n", "k"), dict(cov2, n=n, k=k),
             {**_covs("train_cov", "test_cov"), "n": int_corruptions(), "k": _k()},
             check_poly, ("train_cov", "test_cov")))
    add(Spec("cot_error_poly_symbolic", ("eigs", "n", "k"), dict(eigs=(1, Fraction(1, 2)), n=n, k=k),
             {"eigs": [c for c in cov_corruptions() if c[2] == "reject" or not c[0].startswith(("Q D", "d = 3"))],
              "n": int_corruptions(), "k": _k()}, check_sympy))
    for name, check in (("precond_error", check_nonneg_scalar), ("precond_log_error", check_log)):
        add(Spec(name, ("precond", "test_cov", "k"), dict(precond=np.diag([0.8, 1.5]), test_cov=lam, k=k, m=m),
                 {"precond": matrix_corruptions((2, 2)), **_covs("test_cov"), "k": _k(),
                  "m": _m()}, check))
    add(Spec("precond_error_poly", ("precond", "test_cov", "k"), dict(precond=np.diag([0.8, 1.5]), test_cov=lam, k=k),
             {"precond": matrix_corruptions((2, 2)), **_covs("test_cov"), "k": _k()}, check_poly))
    add(Spec("finite_m_trace", ("train_cov", "n", "k", "test_cov", "m"), dict(cov2, n=n, k=k, m=m),
             {**_covs("train_cov", "test_cov"), "n": int_corruptions(), "k": _k(), "m": _m()},
             check_nonneg_scalar, ("train_cov", "test_cov")))
    add(Spec("finite_m_trace_poly", ("train_cov", "n", "k", "test_cov"), dict(cov2, n=n, k=k),
             {**_covs("train_cov", "test_cov"), "n": int_corruptions(), "k": _k()},
             check_poly, ("train_cov", "test_cov")))
    add(Spec("finite_m_trace_cost", ("train_cov", "n", "k", "test_cov"), dict(cov2, n=n, k=k),
             {**_covs("train_cov", "test_cov"), "n": int_corruptions(), "k": _k()},
             check_nonneg_scalar, ("train_cov", "test_cov")))
    add(Spec("error_bracket", ("train_cov", "n", "k", "test_cov", "m"), dict(cov2, n=n, k=3, m=m),
             {**_covs("train_cov", "test_cov"), "n": int_corruptions(), "k": _k(),
              "m": _m(), "exact_budget": _budgets(), "trace_budget": _budgets()},
             check_bracket, ("train_cov", "test_cov")))
    add(Spec("error_bracket_curve", ("train_cov", "n", "k_max", "test_cov", "m"), dict(cov2, n=n, k_max=3, m=m),
             {**_covs("train_cov", "test_cov"), "n": int_corruptions(), "k_max": int_corruptions(),
              "m": _m(), "exact_budget": _budgets(), "trace_budget": _budgets()},
             check_bracket, ("train_cov", "test_cov")))
    X = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])  # (d, m): one column per example
    y = np.array([1.0, -1.0, 0.0])
    add(Spec("embed_prompt", ("X", "y"), dict(X=X, y=y),
             {"X": matrix_corruptions((3, 2)), "y": [("nan", np.full(3, NAN), "reject"),
                                                     ("wrong length", np.ones(4), "reject"),
                                                     ("2-D", np.ones((3, 2)), "reject"),
                                                     ("None", None, "reject")]}))
    V, W = theory.trained_parameters(lam, n)
    E = theory.embed_prompt(X, y)
    add(Spec("lsa_forward", ("E", "V", "W", "rho"), dict(E=E, V=V, W=W, rho=3),
             {"E": matrix_corruptions(E.shape), "V": matrix_corruptions(V.shape),
              "W": matrix_corruptions(W.shape), "rho": float_corruptions()}))
    add(Spec("read_estimate", ("F",), dict(F=E), {"F": matrix_corruptions(E.shape)}))
    add(Spec("trained_parameters", ("train_cov", "n"), dict(train_cov=lam, n=n),
             {**_covs("train_cov"), "n": int_corruptions(), "c": float_corruptions(positive=False)
              + [("zero", 0.0, "reject")]}))
    add(Spec("cot_rollout", ("V", "W", "X", "y", "k"), dict(V=V, W=W, X=X, y=y, k=k),
             {"V": matrix_corruptions(V.shape), "X": matrix_corruptions(X.shape),
              "k": _k()}))
    add(Spec("wishart_sas", ("cov", "A", "m"), dict(cov=lam, A=np.eye(2), m=m),
             {**_covs("cov"), "A": matrix_corruptions((2, 2)), "m": int_corruptions()}))
    add(Spec("monte_carlo_sas", ("cov", "A", "m", "samples", "seed"),
             dict(cov=lam, A=np.eye(2), m=m, samples=50, seed=0),
             {**_covs("cov"), "A": matrix_corruptions((2, 2)), "m": int_corruptions(huge=False),
              "samples": int_corruptions(huge=False), "seed": int_corruptions(minimum=0),
              "chunk": int_corruptions(huge=False)}))
    add(Spec("cot_recurrence", ("train_cov", "n", "X", "y", "k"), dict(train_cov=lam, n=n, X=X, y=y, k=k),
             {**_covs("train_cov"), "n": int_corruptions(), "X": matrix_corruptions(X.shape),
              "k": _k()}))
    add(Spec("cot_closed_form", ("train_cov", "n", "X", "w", "k"),
             dict(train_cov=lam, n=n, X=X, w=np.array([1.0, -1.0]), k=k),
             {**_covs("train_cov"), "n": int_corruptions(), "X": matrix_corruptions(X.shape),
              "w": [("nan", [NAN, 1.0], "reject"), ("wrong length", [1.0, 2.0, 3.0], "reject")],
              "k": _k()}))
    add(Spec("population_loss", ("P", "train_cov", "n"), dict(P=-np.eye(2), train_cov=lam, n=n),
             {"P": matrix_corruptions((2, 2)), **_covs("train_cov"), "n": int_corruptions()}))
    add(Spec("gd_population", ("train_cov", "n", "eta", "steps"), dict(train_cov=lam, n=n, eta=0.1, steps=5),
             {**_covs("train_cov"), "n": int_corruptions(), "eta": float_corruptions(),
              "steps": int_corruptions(minimum=0, huge=False), "c": float_corruptions(positive=False)}))
    add(Spec("gd_step_threshold", ("train_cov", "n"), dict(train_cov=lam, n=n),
             {**_covs("train_cov"), "n": int_corruptions(), "c": float_corruptions(positive=False)},
             check_nonneg_scalar))
    add(Spec("joint_limit", ("train_cov", "n"), dict(train_cov=lam, n=n),
             {**_covs("train_cov"), "n": int_corruptions(), "imbalance": float_corruptions(positive=False)}))
    add(Spec("sgd_lsa", ("train_cov", "n", "steps", "batch", "eta", "seed"),
             dict(train_cov=lam, n=n, steps=5, batch=4, eta=0.01, seed=0),
             {**_covs("train_cov"), "n": int_corruptions(huge=False), "steps": int_corruptions(minimum=0, huge=False),
              "batch": int_corruptions(huge=False), "eta": float_corruptions(),
              "seed": int_corruptions(minimum=0), "decay_from": float_corruptions(positive=False)}))
    add(Spec("mc_cot_error", ("train_cov", "n", "ks"), dict(cov2, n=n, ks=[1, 2], m=m, samples=64, seed=0),
             {**_covs("train_cov", "test_cov"), "n": int_corruptions(), "ks": ks_corruptions(),
              "m": int_corruptions(huge=False), "samples": int_corruptions(huge=False) + [("one", 1, "reject")],
              "seed": int_corruptions(minimum=0), "backend": str_corruptions(),
              "sampler": str_corruptions(), "tilt": float_corruptions()},
             check_mc, ("train_cov", "test_cov")))
    tasks = [[1.0, 2.0], [2.0, 1.0]]
    target = [1.0, 1.0]
    for name, check in (("select_tasks", check_selection), ("select_tasks_by_enumeration", check_generic),
                        ("selection_qp", check_generic)):
        add(Spec(name, ("task_covs", "target_cov"), dict(task_covs=tasks, target_cov=target),
                 {"task_covs": tasks_corruptions(), "target_cov": cov_corruptions(other_covs=True)},
                 check, ("task_covs", "target_cov")))
    add(Spec("hard_task_mass", ("pi", "task_covs", "target_cov", "reading"),
             dict(pi=[0.5, 0.5], task_covs=tasks, target_cov=target, reading="markov"),
             {"pi": pi_corruptions(), "task_covs": tasks_corruptions(),
              "target_cov": cov_corruptions(other_covs=True), "reading": str_corruptions()},
             lambda r: no_nan(r, allow_inf=("result.delta",)), ("task_covs", "target_cov", "pi")))
    add(Spec("mixture_preconditioner", ("task_covs", "pi", "n"), dict(task_covs=tasks, pi=[0.5, 0.5], n=n),
             {"task_covs": tasks_corruptions(), "pi": pi_corruptions(), "n": int_corruptions()},
             check_generic, ("task_covs", "pi")))
    add(Spec("mixture_cot_error", ("task_covs", "pi", "n", "target_cov", "k"),
             dict(task_covs=tasks, pi=[0.5, 0.5], n=n, target_cov=target, k=k, m=m),
             {"task_covs": tasks_corruptions(), "pi": pi_corruptions(), "n": int_corruptions(),
              "target_cov": cov_corruptions(other_covs=True), "k": _k(), "m": _m()},
             check_nonneg_scalar, ("task_covs", "target_cov", "pi")))
    add(Spec("true_optimal_selection", ("task_covs", "target_cov", "n", "k"),
             dict(task_covs=tasks, target_cov=target, n=n, k=1, resolution=4),
             {"task_covs": tasks_corruptions(), "target_cov": cov_corruptions(other_covs=True),
              "n": int_corruptions(), "k": _k(), "m": _m(),
              "resolution": int_corruptions(allow_none=True, huge=False)},
             check_generic, ("task_covs", "target_cov")))
    small = dict(pools=1, T=2, d=2, ns=(5,), ks=(1,))
    for name in ("qp_vs_true_error", "qp_vs_uniform"):
        add(Spec(name, (), dict(small, seed=0),
                 {"seed": int_corruptions(minimum=0, huge=False), "pools": int_corruptions(huge=False),
                  "T": int_corruptions(huge=False), "d": int_corruptions(huge=False),
                  "ns": ks_corruptions()[:7], "ks": ks_corruptions()[:7], "m": _m()[:9]}))
    for name in ("task_type_pool", "task_type_experiment"):
        add(Spec(name, (), dict(seed=0, tasks_per_type=1, d=100),
                 {"seed": int_corruptions(minimum=0, huge=False), "tasks_per_type": int_corruptions(huge=False),
                  "d": int_corruptions(huge=False) + [("below 100", 99, "reject")],
                  "target": str_corruptions(), "normalise": [("string", "yes", "reject"), ("None", None, "reject")]}))
    add(Spec("overthinking_report", ("train_cov", "n", "test_cov"), dict(cov2, n=n, m=m, k_max=3),
             {**_covs("train_cov", "test_cov"), "n": int_corruptions(), "m": _m(),
              # None is the documented default: the largest window that fits the time budget
              "k_max": int_corruptions(allow_none=True)}, check_overthinking, ("train_cov", "test_cov")))
    for name, check in (("infinite_m_error_exact", check_nonneg_scalar),
                        ("remark41_trace_exact", check_nonneg_scalar)):
        add(Spec(name, ("train_cov", "n", "test_cov", "k"), dict(cov2, n=n, k=k),
                 {**_covs("train_cov", "test_cov"), "n": int_corruptions(), "k": _k()},
                 check, ("train_cov", "test_cov")))
    add(Spec("remark41_bracket", ("train_cov", "n"), dict(train_cov=lam, n=n),
             {**_covs("train_cov"), "n": int_corruptions()}, check_pair_floats))
    add(Spec("eventual_growth_exact", ("train_cov", "n", "test_cov"), dict(cov2, n=n),
             {**_covs("train_cov", "test_cov"), "n": int_corruptions()}, check_bool, ("train_cov", "test_cov")))
    add(Spec("divergence_onset", ("train_cov", "test_cov"), dict(cov2),
             {**_covs("train_cov", "test_cov"), "n_max": int_corruptions()}, check_optional_int,
             ("train_cov", "test_cov")))
    add(Spec("step_gain", ("train_cov", "n"), dict(cov2, n=n, k=1),
             {**_covs("train_cov", "test_cov"), "n": int_corruptions(), "k": _k()},
             check_generic, ("train_cov", "test_cov")))
    add(Spec("lsa_experiment", (), dict(d=2, ns=(5,), ms=(None,), k_max=2),
             {"d": int_corruptions(huge=False), "ns": ks_corruptions()[:7],
              "ms": [("zero m", (0,), "reject"), ("bool m", (True,), "reject"), ("empty", (), "reject")],
              "normalisation": str_corruptions(), "k_max": int_corruptions()}))
    add(Spec("wishart_trace_moment", ("powers",), dict(powers=(1, 2)),
             # zero power: accepted, the documented tr W^0 = d (isotropic_cot_error uses j = 0)
             {"powers": [("empty", (), "reject"), ("zero power", (0,), "accept"), ("negative", (-1,), "reject"),
                         ("non-integral", (1.5,), "reject"), ("booleans", (True,), "reject"),
                         ("an int", 3, "reject"), ("None", None, "reject"), ("huge", (10 ** 6,), "edge")]},
             check_sympy))
    for name in ("isotropic_cot_error", "proportional_expansion", "mp_cot_error"):
        add(Spec(name, ("k",), dict(k=2), {"k": _k()}, check_sympy))
    add(Spec("mp_cot_error_quad", ("k", "alpha", "nu"), dict(k=2, alpha=0.5, nu=2.0),
             {"k": _k(), "alpha": positive_number_corruptions(),
              "nu": positive_number_corruptions(), "dps": int_corruptions(huge=False)}, check_mpf))
    add(Spec("mp_phase", ("alpha", "nu"), dict(alpha=Fraction(1, 2), nu=2),
             {"alpha": positive_number_corruptions(), "nu": positive_number_corruptions()}, check_mp_phase))
    add(Spec("critical_nu", ("alpha",), dict(alpha=Fraction(1, 2)),
             {"alpha": positive_number_corruptions()}, check_critical_nu))
    # a singular Λ has Hard = ∞ (as hardness returns): the bound is then +∞, vacuous but correct
    add(Spec("thm33_bound", ("train_cov", "n", "m"), dict(train_cov=lam, n=n, m=m),
             {**_covs("train_cov"), "n": int_corruptions(), "m": _m()},
             lambda r: None if r == math.inf else check_nonneg_scalar(r)))
    # thm33_terms is documented for a diagonal Λ (eigenvalues): a rotated one is refused, naming train_cov
    add(Spec("thm33_terms", ("train_cov", "n"), dict(train_cov=lam, n=n),
             {"train_cov": [(label, v, "reject" if "Q D Q^T" in label else e)
                            for label, v, e in _covs("train_cov")["train_cov"]], "n": int_corruptions()}))
    add(Spec("k1_error_coefficients", ("train_cov", "n"), dict(cov2, n=n),
             {**_covs("train_cov", "test_cov"), "n": int_corruptions()}, check_k1, ("train_cov", "test_cov")))
    add(Spec("contraction_factors", ("train_cov", "n"), dict(cov2, n=n),
             {**_covs("train_cov", "test_cov"), "n": int_corruptions()}, check_generic, ("train_cov", "test_cov")))
    add(Spec("slowest_contraction", ("train_cov", "n"), dict(train_cov=lam, n=n),
             {**_covs("train_cov"), "n": int_corruptions()}, check_nonneg_scalar))
    add(Spec("cor35_bound", ("train_cov", "n", "k"), dict(train_cov=lam, n=n, k=k),
             {**_covs("train_cov"), "n": int_corruptions(), "k": _k()}, check_nonneg_scalar))
    add(Spec("cor35_log_bound", ("train_cov", "n", "k"), dict(train_cov=lam, n=n, k=k),
             {**_covs("train_cov"), "n": int_corruptions(), "k": _k()}, check_log))
    add(Spec("limit_log_error", ("train_cov", "n", "k"), dict(cov2, n=n, k=k),
             {**_covs("train_cov", "test_cov"), "n": int_corruptions(), "k": _k()},
             check_log, ("train_cov", "test_cov")))
    add(Spec("cot_error_d1", ("train_var", "n", "k"), dict(train_var=Fraction(1, 2), n=n, k=k, m=m, test_var=1),
             {"train_var": positive_number_corruptions(),
              "test_var": [("zero test variance", 0, "edge") if c[0] == "zero" else c
                           for c in positive_number_corruptions() if c[0] != "None"],  # None: Σ = Λ
              "n": int_corruptions(), "k": _k(), "m": _m()}, check_nonneg_scalar))
    add(Spec("divergence_log_lower_bound", ("train_cov", "n", "k", "m"), dict(cov2, n=n, k=k, m=m),
             {**_covs("train_cov", "test_cov"), "n": int_corruptions(), "k": _k(),
              "m": int_corruptions()}, check_generic, ("train_cov", "test_cov")))
    add(Spec("optimal_steps", ("train_cov", "n"), dict(cov2, n=n, m=m, k_max=3),
             {**_covs("train_cov", "test_cov"), "n": int_corruptions(), "m": _m(),
              "k_max": int_corruptions()}, check_generic, ("train_cov", "test_cov")))
    # n_max = 200: at finite m a scan to the default 1e5 costs ~100 s where ε is out of reach (refused by
    # the scan's cost guard); the n_max corruptions still try 1e6 and 10**30
    add(Spec("n_min", ("train_cov", "k", "eps"), dict(cov2, k=k, eps=0.5, m=m, n_max=200),
             {**_covs("train_cov", "test_cov"), "k": _k(), "eps": float_corruptions(),
              "m": _m(), "n_max": int_corruptions()}, check_optional_int, ("train_cov", "test_cov")))
    add(Spec("n_min_cor35", ("train_cov", "k", "eps"), dict(train_cov=lam, k=k, eps=0.5),
             {**_covs("train_cov"), "k": _k(), "eps": float_corruptions()},
             lambda r: None if (r >= 0 and not math.isnan(r)) else f"n_min {r!r}"))
    add(Spec("k_min", ("train_cov", "n", "eps"), dict(cov2, n=n, eps=0.5, m=m),
             {**_covs("train_cov", "test_cov"), "n": int_corruptions(), "eps": float_corruptions(),
              "m": _m(), "k_max": int_corruptions()}, check_optional_int, ("train_cov", "test_cov")))
    return S


SPECS = {s.name: _with_dimensions(s) for s in _specs()}
CLASSES = {"ErrorPoly", "DivergenceError", "ErrorBracket", "MCResult", "Selection", "OverthinkingReport",
           "StepGain", "LSAExperiment", "MPPhase", "Thm33Terms", "OptimalSteps"}  # result types


def warm_library(seconds: int = 10) -> None:
    """Run every base call once in this (parent) process, each under an alarm of ``seconds``.

    The first call of several functions pays for lazy imports and caches (up to a second each);
    done once here, every forked child inherits the warm state instead of paying it again.
    """
    import signal

    def alarm(signum, frame):
        raise TimeoutError

    previous = signal.signal(signal.SIGALRM, alarm)
    try:
        for spec in SPECS.values():
            args, kwargs = spec.call_args(dict(spec.base))
            signal.alarm(seconds)
            try:
                spec.fn(*args, **kwargs)
            except Exception:  # a broken base call is reported by test_base_call_answers
                pass
            finally:
                signal.alarm(0)
    finally:
        signal.signal(signal.SIGALRM, previous)


def names_argument(message: str, names) -> bool:
    """Whether an error message names one of ``names`` (as a word, e.g. ``n`` but not ``in``)."""
    return any(re.search(rf"(?<![A-Za-z0-9_]){re.escape(n)}(?![A-Za-z0-9_])", message) for n in names)


def judge(spec: Spec, slot: str, label: str, expect: str, outcome) -> str | None:
    """None if the outcome is acceptable for this corruption, else what went wrong."""
    if outcome.kind == "timeout":
        return outcome.describe()
    if outcome.kind in ("crash", "bad result"):
        return outcome.describe()
    if outcome.kind == "ok":
        if expect == "reject":
            return f"accepted invalid input ({label}) and returned: {outcome.detail[:300]}"
        return None
    # raised
    # EngineCostError subclasses ValueError: the exact engine's documented refusal, before any work
    if outcome.exc_type not in ("ValueError", "OverflowError", "DivergenceError", "EngineCostError"):
        return outcome.describe()
    if outcome.exc_type == "DivergenceError" and expect == "edge":
        return None  # the documented answer when err_k is beyond float64 (cot_log_error has it)
    if expect == "accept":
        return f"rejected valid input ({label}): {outcome.exc_type}: {outcome.message[:300]}"
    allowed = (spec.allowed_names(slot, label) if expect == "reject"
               else tuple(spec.slots) + spec.positional + (spec.name,))
    if not names_argument(outcome.message, allowed):
        named = " or ".join(dict.fromkeys(allowed))
        return f"{outcome.exc_type} names none of {named}: {outcome.message[:300]}"
    return None
