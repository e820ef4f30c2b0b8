"""Input validation at the library's boundary.

Every public function of :mod:`theory` passes its arguments through these helpers, so that bad
input fails early with a ``ValueError`` that names the argument and the problem, never with a NaN
or a traceback from deep inside NumPy.

Exact input (every entry an int, ``Fraction`` or sympy Rational) is checked exactly: symmetry by
equality, positive semi-definiteness by exact elimination (:func:`theory._exact.psd_violation`).
Float input (any entry a float) is checked with scale-free tolerances, relative to the size of the
matrix itself and with no absolute floor, so that ``c C`` is accepted exactly when ``C`` is
(``C = 0`` is a valid PSD covariance):

* symmetry: ``max|C − Cᵀ| <= SYMMETRY_RTOL · max|C|``;
* positive semi-definiteness: ``λ_min(C) >= −PSD_RTOL · ‖C‖₂`` with ``‖C‖₂ = max_i |λ_i(C)|``.

A float matrix accepted as symmetric within the tolerance is symmetrised before use: ``(C + Cᵀ)/2``
in floats by :func:`as_covariance`, and exactly, ``(a + b)/2`` as ``Fraction``, by
:func:`as_exact_covariance`.
"""

from __future__ import annotations

import numbers
from fractions import Fraction

import numpy as np

from theory._exact import psd_violation

# A float matrix assembled in floating point (Q D Qᵀ, a sample covariance) is symmetric only up to
# the rounding of its entries: each is a sum of d products, off by at most ~d·2^-53·max|C| from
# its mirror (1e-16·d).  1e-10 leaves a margin of 10^5 over that for d up to 10^1..10^2 and is
# still far below any asymmetry that carries information.
SYMMETRY_RTOL = 1e-10
# eigvalsh is backward stable: it returns the exact eigenvalues of C + E with ‖E‖₂ <= c·d·2^-53·‖C‖₂,
# so a PSD matrix (singular ones included) can show λ_min ≈ −1e-16·d·‖C‖₂.  1e-10 is far above
# that noise and rejects any indefiniteness larger than a ten-billionth of the matrix's own scale.
PSD_RTOL = 1e-10


def _to_fraction(value, name: str) -> Fraction:
    """Convert an exact or float scalar to a ``Fraction`` without rounding."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must contain numbers, got a boolean")
    if isinstance(value, numbers.Integral):
        return Fraction(int(value))
    if isinstance(value, (float, np.floating)):
        if not np.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value!r}")
        return Fraction(float(value))
    # sympy numbers: Integer/Rational expose p, q; sympy Float converts through its exact value.
    if hasattr(value, "is_Rational") and value.is_Rational:
        return Fraction(int(value.p), int(value.q))
    if hasattr(value, "is_Float") and value.is_Float:
        return _to_fraction(float(value), name)
    raise ValueError(f"{name} must contain real numbers (int, float, Fraction or sympy Rational), "
                     f"got {type(value).__name__}")


def _is_exact_entry(value) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return False
    return isinstance(value, (numbers.Integral, Fraction)) or bool(getattr(value, "is_Rational", False))


def _as_2d(cov, name: str) -> np.ndarray:
    """Object or float array of ndim 2; a 1-D input becomes its diagonal matrix."""
    try:
        arr = np.asarray(cov)
    except Exception as exc:  # ragged nested lists and the like
        raise ValueError(f"{name} must be a square matrix or a 1-D array of eigenvalues: {exc}") from None
    if arr.dtype.kind not in "biufO":
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}")
    if arr.dtype.kind == "b":
        raise ValueError(f"{name} must be numeric, got booleans")
    if arr.ndim == 1:
        if arr.shape[0] == 0:
            raise ValueError(f"{name} must have dimension d >= 1, got an empty array")
        out = np.zeros((arr.shape[0], arr.shape[0]), dtype=arr.dtype)
        if arr.dtype == object:
            out[...] = 0
        np.fill_diagonal(out, arr)
        return out
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a square matrix or a 1-D array of eigenvalues, "
                         f"got an array with {arr.ndim} dimensions")
    if arr.shape[0] != arr.shape[1]:
        raise ValueError(f"{name} must be square, got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} must have dimension d >= 1, got shape {arr.shape}")
    return arr


def _fractions(arr: np.ndarray, name: str) -> np.ndarray:
    d = arr.shape[0]
    out = np.empty((d, d), dtype=object)
    for i in range(d):
        for j in range(d):
            v = arr[i, j]
            out[i, j] = _to_fraction(v.item() if arr.dtype != object else v, name)
    return out


def _is_exact(arr: np.ndarray) -> bool:
    if arr.dtype.kind in "iu":
        return True
    if arr.dtype.kind == "f":
        return False
    return all(_is_exact_entry(v) for v in arr.flat)


def _check_exact(out: np.ndarray, name: str) -> None:
    """Exact symmetry and exact positive semi-definiteness of a Fraction matrix."""
    d = out.shape[0]
    for i in range(d):
        for j in range(i + 1, d):
            if out[i, j] != out[j, i]:
                raise ValueError(f"{name} must be symmetric: entry ({i}, {j}) = {out[i, j]} "
                                 f"differs from ({j}, {i}) = {out[j, i]}")
    why = psd_violation(out)
    if why is not None:
        raise ValueError(f"{name} must be positive semi-definite (decided exactly): {why}")


def _check_float(arr: np.ndarray, name: str) -> np.ndarray:
    """Symmetry and definiteness of a float matrix within the tolerances; returns (C + Cᵀ)/2."""
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, found NaN or inf")
    scale = float(np.max(np.abs(arr)))
    asym = float(np.max(np.abs(arr - arr.T)))
    if asym > SYMMETRY_RTOL * scale:
        raise ValueError(f"{name} must be symmetric: max|C - C^T| = {asym:.3g} exceeds "
                         f"{SYMMETRY_RTOL:g} * max|C| = {SYMMETRY_RTOL * scale:.3g}")
    arr = (arr + arr.T) / 2
    eig = np.linalg.eigvalsh(arr)
    if not np.all(np.isfinite(eig)):
        raise ValueError(f"{name} is too large for float eigenvalues (max|C| = {scale:.3g})")
    norm = float(max(abs(eig[0]), abs(eig[-1])))
    if eig[0] < -PSD_RTOL * norm:
        raise ValueError(f"{name} must be positive semi-definite: eigenvalue {eig[0]:.6g} < "
                         f"-{PSD_RTOL:g} * ||C||_2 = {-PSD_RTOL * norm:.3g}")
    return arr


def as_covariance(cov, name: str = "cov") -> np.ndarray:
    """Validate a covariance and return it as a symmetric float64 array of shape ``(d, d)``.

    A 1-D input is read as the eigenvalues of a diagonal covariance.  Raises ``ValueError`` for
    non-square, empty, non-finite, non-symmetric or indefinite input.  Exact input (ints,
    ``Fraction``, sympy Rational) is checked exactly; float input within the scale-free tolerances
    of this module (``SYMMETRY_RTOL``, ``PSD_RTOL``) and symmetrised, ``(C + Cᵀ)/2``.
    """
    arr = _as_2d(cov, name)
    if _is_exact(arr):
        exact = _fractions(arr, name)
        _check_exact(exact, name)
        try:
            return np.array([[float(v) for v in row] for row in exact], dtype=float)
        except OverflowError:
            raise ValueError(f"{name} has entries beyond the float range; this function works in "
                             f"floats") from None
    if arr.dtype == object:
        arr = np.array([[float(_to_fraction(v, name)) for v in row] for row in arr], dtype=float)
    else:
        arr = arr.astype(float)
    return _check_float(arr, name)


def as_exact_covariance(cov, name: str = "cov") -> np.ndarray:
    """Validate a covariance and return it as a ``(d, d)`` object array of ``Fraction``.

    Floats are converted exactly (a float is a dyadic rational), so no rounding enters here.
    Exact input (ints, ``Fraction``, sympy Rational) must be exactly symmetric and exactly PSD.
    Float input is checked as :func:`as_covariance` checks it (symmetric and PSD within the
    scale-free tolerances) and then symmetrised exactly, entry ``(i, j)`` and ``(j, i)`` both
    becoming ``(a + b)/2`` as a ``Fraction``, so that a matrix built in floating point (``Q D Qᵀ``,
    symmetric only to a few ulps) is accepted.
    """
    arr = _as_2d(cov, name)
    out = _fractions(arr, name)
    if _is_exact(arr):
        _check_exact(out, name)
        return out
    _check_float(np.array([[float(v) for v in row] for row in out], dtype=float), name)
    d = out.shape[0]
    for i in range(d):
        for j in range(i + 1, d):
            if out[i, j] != out[j, i]:
                out[i, j] = out[j, i] = (out[i, j] + out[j, i]) / 2
    return out


def positive_int(value, name: str, minimum: int = 1) -> int:
    """Return ``value`` as an ``int`` if it is an integer ``>= minimum``; else ``ValueError``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        if isinstance(value, (float, np.floating)) and np.isfinite(value) and float(value).is_integer():
            value = int(value)
        else:
            raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return value


def optional_bool(value, name: str) -> bool | None:
    """Return ``value`` if it is ``None`` or a boolean (``numpy.bool_`` included); else ``ValueError``."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    raise ValueError(f"{name} must be True, False or None, got {value!r}")


def same_dimension(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    """Raise ``ValueError`` unless two square matrices have the same dimension."""
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"{name_a} and {name_b} must have the same dimension, "
                         f"got d = {a.shape[0]} and d = {b.shape[0]}")


def _finite_float(value, name: str, what: str, ok) -> float:
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be a finite {what} number, got {value!r}")
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite {what} number, got {value!r}") from None
    if not (np.isfinite(out) and ok(out)):
        raise ValueError(f"{name} must be a finite {what} number, got {value!r}")
    return out


def positive_float(value, name: str) -> float:
    """Return ``value`` as a ``float`` if it is finite and ``> 0``; else ``ValueError`` naming it."""
    return _finite_float(value, name, "positive", lambda x: x > 0)


def nonzero_float(value, name: str) -> float:
    """Return ``value`` as a ``float`` if it is finite and nonzero; else ``ValueError`` naming it."""
    return _finite_float(value, name, "nonzero", lambda x: x != 0)


def square_matrix(A, d: int, name: str) -> np.ndarray:
    """Return ``A`` as a finite float64 ``(d, d)`` array (any real matrix, not only covariances)."""
    A = float_array(A, name)
    if A.shape != (d, d):
        raise ValueError(f"{name} must have shape ({d}, {d}), got {A.shape}")
    if not np.all(np.isfinite(A)):
        raise ValueError(f"{name} must be finite, found NaN or inf")
    return A


def finite_real(value, name: str) -> float:
    """Return ``value`` as a finite ``float`` (any sign); else ``ValueError`` naming it."""
    return _finite_float(value, name, "real", lambda x: True)


def float_array(value, name: str) -> np.ndarray:
    """Return ``value`` as a float64 array; entries that are not numbers give ``ValueError`` naming it."""
    try:
        arr = np.asarray(value)
        if arr.dtype.kind == "b":
            raise ValueError("got booleans")
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"{name} must be an array of real numbers: {exc}") from None


def seed_value(seed, name: str = "seed"):
    """Return ``seed`` if it is an integer ``>= 0`` or a ``numpy.random.SeedSequence``; else ``ValueError``.

    Booleans, floats (integral ones too), strings and ``None`` are refused: ``None`` would draw fresh
    entropy from the operating system, so the run could not be repeated.
    """
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise ValueError(f"{name} must be an integer >= 0 or a numpy.random.SeedSequence, got {seed!r}")
    if seed < 0:
        raise ValueError(f"{name} must be an integer >= 0 or a numpy.random.SeedSequence, got {seed}")
    return int(seed)


# Cost model of the float routes that loop in Python: each NumPy call on small arrays costs about
# 2 µs of interpreter overhead, counted as LOOP_STEP_COST multiply-adds (1 GFLOP/s), on top of its
# arithmetic.  COST_LIMIT is then about a second (measured on a loaded 2-core machine:
# cot_recurrence 14 µs per step, 6 calls; cot_closed_form 66 µs per step at k ~ 5e5, 2 log2 k + 4 calls).
LOOP_STEP_COST = 2_000
COST_LIMIT = 10 ** 9


def cost_guard(cost: float, what: str, name: str, value, limit: float = COST_LIMIT) -> None:
    """Refuse, in one sentence with the estimate, a computation costing more than ``limit``."""
    if cost > limit:
        raise ValueError(f"{name} = {value!r} is too large: {what} would cost about {cost:.2g} "
                         f"operations, beyond the limit of {limit:.0e}")


def float_range_error(what: str, **inputs) -> OverflowError:
    """The error of a float route whose result left the float range, naming the inputs that set its scale."""
    parts = []
    for name, value in inputs.items():
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError, OverflowError):
            parts.append(name)
            continue
        scale = float(np.max(np.abs(arr))) if arr.size else 0.0
        parts.append(f"{name} (max |entry| = {scale:.3g})" if arr.ndim else f"{name} = {float(arr):.3g}")
    return OverflowError(f"{what} leaves the float range (beyond 1e308 or below 1e-308) at the scale of "
                         f"{', '.join(parts)}; rescale the input")
