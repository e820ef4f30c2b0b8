"""Input validation at the library's boundary.

Every public function of :mod:`theory` passes its arguments through these helpers, so that bad
input fails early with a ``ValueError`` that names the argument and the problem, never with a NaN
or a traceback from deep inside NumPy.

Tolerances (float input only; exact input is checked exactly):

* symmetry: ``max|C - Cᵀ| <= SYMMETRY_RTOL * max(1, max|C|)``;
* positive semi-definiteness: ``λ_min(C) >= -PSD_RTOL * max(1, λ_max(C))``.
"""

from __future__ import annotations

import numbers
from fractions import Fraction

import numpy as np

SYMMETRY_RTOL = 1e-10
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


def as_covariance(cov, name: str = "cov") -> np.ndarray:
    """Validate a covariance and return it as a symmetric float64 array of shape ``(d, d)``.

    A 1-D input is read as the eigenvalues of a diagonal covariance.  Raises ``ValueError`` for
    non-square, empty, non-finite, non-symmetric or indefinite input.
    """
    arr = _as_2d(cov, name)
    if arr.dtype == object:
        arr = np.array([[float(_to_fraction(v, name)) for v in row] for row in arr], dtype=float)
    else:
        arr = arr.astype(float)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, found NaN or inf")
    scale = max(1.0, float(np.max(np.abs(arr))))
    asym = float(np.max(np.abs(arr - arr.T)))
    if asym > SYMMETRY_RTOL * scale:
        raise ValueError(f"{name} must be symmetric: max|C - C^T| = {asym:.3g} exceeds "
                         f"{SYMMETRY_RTOL:g} * {scale:.3g}")
    arr = (arr + arr.T) / 2
    eig = np.linalg.eigvalsh(arr)
    if eig[0] < -PSD_RTOL * max(1.0, float(eig[-1])):
        raise ValueError(f"{name} must be positive semi-definite: smallest eigenvalue {eig[0]:.6g}")
    return arr


def as_exact_covariance(cov, name: str = "cov") -> np.ndarray:
    """Validate a covariance and return it as a ``(d, d)`` object array of ``Fraction``.

    Floats are converted exactly (a float is a dyadic rational), so no rounding enters here.
    Symmetry is checked exactly; positive semi-definiteness with the float test of
    :func:`as_covariance` (tolerance ``PSD_RTOL``).
    """
    arr = _as_2d(cov, name)
    d = arr.shape[0]
    out = np.empty((d, d), dtype=object)
    for i in range(d):
        for j in range(d):
            out[i, j] = _to_fraction(arr[i, j].item() if hasattr(arr[i, j], "item") and arr.dtype != object
                                     else arr[i, j], name)
    for i in range(d):
        for j in range(i + 1, d):
            if out[i, j] != out[j, i]:
                raise ValueError(f"{name} must be symmetric: entry ({i}, {j}) = {out[i, j]} "
                                 f"differs from ({j}, {i}) = {out[j, i]}")
    as_covariance(out.astype(float), name)  # definiteness, with the stated float tolerance
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
    A = np.asarray(A, dtype=float)
    if A.shape != (d, d):
        raise ValueError(f"{name} must have shape ({d}, {d}), got {A.shape}")
    if not np.all(np.isfinite(A)):
        raise ValueError(f"{name} must be finite, found NaN or inf")
    return A
