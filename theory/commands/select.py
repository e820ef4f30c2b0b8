"""``tts select``: the optimal task selection (Section 4's QP) for a pool of tasks and a target."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

NAME = "select"
HELP = "solve the task-selection QP for a pool of task covariances and a target, with a certificate"

# The library argument each option supplies: library messages name the option instead.
OPTIONS = {"task_covs": "--tasks", "target_cov": "--target"}

def configure(p):
    p.add_argument("--tasks", metavar="FILE", required=True,
                   help="JSON list of task covariances: each a matrix (list of rows) or a list of "
                        "eigenvalues (diagonal); numbers, or strings such as \"1/3\" for exact rationals")
    p.add_argument("--target", metavar="SPEC", required=True,
                   help="target covariance: comma-separated eigenvalues, or a JSON/.npy file")
    p.add_argument("--json", action="store_true",
                   help="print a JSON object (pi, objective, certified, exact, support, ...)")
    p.epilog = ("Exact rational arithmetic (KKT certified exactly) when every entry is an integer or a "
                "\"p/q\" string; floating point (Frank–Wolfe gap certificate) otherwise.")


def _number(value, where: str):
    """A JSON number, or a string "p/q" read as an exact rational; refused beyond the float range
    (the library validates definiteness in float64, so such an entry cannot be carried exactly)."""
    from theory.commands._spec import _FLOAT_MAX
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{where} must be a number or a string such as \"1/3\", got {value!r}")
    if isinstance(value, str):
        try:
            value = Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"{where}: cannot read {value!r} as a rational number") from None
    if isinstance(value, (int, Fraction)) and abs(value) > _FLOAT_MAX:
        raise ValueError(f"{where} ({len(str(abs(int(value))))} digits) is beyond the float64 range (about 1.8e308)")
    return value


def _entries(item, where: str):
    if not isinstance(item, list) or not item:
        raise ValueError(f"{where} must be a nonempty list (eigenvalues or matrix rows)")
    if all(isinstance(row, list) for row in item):
        return [[_number(v, f"{where}[{i}][{j}]") for j, v in enumerate(row)] for i, row in enumerate(item)]
    return [_number(v, f"{where}[{i}]") for i, v in enumerate(item)]


def read_tasks(path: str) -> list:
    """The task covariances of a JSON file (a list of matrices or eigenvalue lists)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"--tasks: no such file {path!r}") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"--tasks: {path} is not a UTF-8 JSON text file (byte {exc.start}: {exc.reason}); "
                         "it must hold a JSON list of covariances") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"--tasks: {path} is not valid JSON: {exc}") from None
    except OSError as exc:
        raise ValueError(f"--tasks: cannot read {path!r}: {exc.strerror or exc}") from None
    if not isinstance(data, list):
        raise ValueError(f"--tasks: {path} must hold a JSON list of covariances")
    return [_entries(item, f"--tasks[{i}]") for i, item in enumerate(data)]


def _exact_when_integral(arr):
    """Integer-valued float entries back to ``int``, so that "1,2" runs in exact arithmetic."""
    import numpy as np

    arr = np.asarray(arr)
    if arr.dtype.kind not in "fO":
        return arr
    out = np.empty(arr.shape, dtype=object)
    for index, v in np.ndenumerate(arr):
        if isinstance(v, (float, np.floating)) and not float(v).is_integer():
            return arr  # a genuine float: floating point, as the library decides
        out[index] = int(v) if isinstance(v, (float, np.floating)) else v
    return out


def run(args) -> int:
    from theory.selection import select_tasks

    from theory.commands._spec import parse_spec

    sel = select_tasks(read_tasks(args.tasks), _exact_when_integral(parse_spec(args.target, "--target")))
    out = {
        "pi": [float(p) for p in sel.pi],
        "objective": float(sel.objective),
        "certified": bool(sel.certified),
        "exact": sel.exact,
        "support": list(sel.support),
        "multiplier": float(sel.multiplier),
        "gap": float(sel.certificate.gap),
        "unique": sel.unique,
        "canonical_rule": sel.canonical_rule,
    }
    if sel.exact:
        out["pi_exact"] = [str(p) for p in sel.pi]
        out["objective_exact"] = str(sel.objective)
    if args.json:
        from theory.commands._json import dumps
        print(dumps(out))
        return 0
    mode = "exact rational arithmetic" if sel.exact else "floating point"
    print(f"optimal selection ({mode}):")
    for ell, p in enumerate(sel.pi):
        print(f"  task {ell}: pi = {p}" + (f"  (≈ {float(p):.6g})" if sel.exact else ""))
    print(f"objective ‖I − Σ^-1 Σ π_ℓ Λ_ℓ‖_F² = {sel.objective}")
    cert = "exact KKT" if sel.exact else f"Frank–Wolfe gap {float(sel.certificate.gap):.3g}"
    print(f"certified: {sel.certified} ({cert}); optimum: {sel.canonical_rule}")
    return 0
