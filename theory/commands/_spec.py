"""The covariance SPEC of the command line, shared by ``tts error``, ``tts overthink``, ``tts select``.

A SPEC is one of

* comma-separated eigenvalues of a diagonal covariance: ``1,0.5,0.25`` (a token ``p/q`` such as
  ``1/3`` is read as an exact rational);
* a path to a ``.json`` file holding a list of eigenvalues or a matrix (list of rows), whose
  entries are numbers or strings ``"p/q"``;
* a path to a ``.npy`` file holding a 1-D array of eigenvalues or a square matrix.

The result is a NumPy array: float64, or an object array of ``Fraction`` when any entry is given
as ``p/q`` (the library converts both exactly). Bad input raises ``ValueError`` naming the option.
"""

from __future__ import annotations

import json
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np

from theory._validate import as_covariance


_FLOAT_MAX = Fraction(sys.float_info.max)


def _number(token, name: str, where: str):
    """A float, or a ``Fraction`` for a ``p/q`` string; ``ValueError`` naming ``name`` otherwise.

    A rational beyond the float range is refused here: the commands also evaluate the paper's bounds
    and the validation in float64, so it could not be carried exactly through them.
    """
    if isinstance(token, bool) or not isinstance(token, (int, float, str)):
        raise ValueError(f"{name}: {where} must be a number or a string such as \"1/3\", got {token!r}")
    if isinstance(token, str):
        text = token.strip()
        if not text:
            raise ValueError(f"{name}: {where} is empty")
        try:
            value = Fraction(text) if "/" in text else float(text)
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"{name}: cannot read {where} {token!r} as a number") from None
        if isinstance(value, Fraction) and abs(value) > _FLOAT_MAX:
            digits = len(str(abs(value.numerator) // value.denominator))
            raise ValueError(f"{name}: {where} ({digits} digits) is beyond the float64 range (about 1.8e308)")
        return value
    try:
        return float(token)
    except OverflowError:
        raise ValueError(f"{name}: {where} ({len(str(abs(token)))} digits) is beyond the float64 range "
                         "(about 1.8e308)") from None


def _array(values) -> np.ndarray:
    flat = np.asarray(values, dtype=object).ravel()
    if any(isinstance(v, Fraction) for v in flat):
        return np.asarray(values, dtype=object)
    return np.asarray(values, dtype=float)


def _from_json(path: Path, name: str) -> np.ndarray:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ValueError(f"{name}: {path} is not a UTF-8 JSON text file (byte {exc.start}: {exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{name}: {path} is not valid JSON: {exc}") from None
    except OSError as exc:
        raise ValueError(f"{name}: cannot read {path}: {exc.strerror or exc}") from None
    if not isinstance(data, list) or not data:
        raise ValueError(f"{name}: {path} must hold a nonempty list of eigenvalues or matrix rows")
    if all(isinstance(row, list) for row in data):
        width = len(data[0])
        if any(len(row) != width for row in data):
            raise ValueError(f"{name}: the rows of the matrix in {path} have different lengths")
        return _array([[_number(v, name, f"entry ({i}, {j})") for j, v in enumerate(row)]
                       for i, row in enumerate(data)])
    return _array([_number(v, name, f"eigenvalue {i}") for i, v in enumerate(data)])


def _from_npy(path: Path, name: str) -> np.ndarray:
    try:
        arr = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise ValueError(f"{name}: cannot read {path} as a .npy array: {exc}") from None
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"{name}: {path} must hold real numbers, got dtype {arr.dtype}")
    return arr.astype(float)


def parse_spec(text, name: str) -> np.ndarray:
    """Read a covariance SPEC (see the module docstring) and validate it.

    Parameters
    ----------
    text : str
        The SPEC as typed.
    name : str
        The option it came from (e.g. ``"--train"``), used in error messages.

    Returns
    -------
    numpy.ndarray
        1-D eigenvalues or a ``(d, d)`` matrix; checked to be a finite symmetric PSD covariance.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{name}: expected comma-separated eigenvalues or a .json/.npy file, got {text!r}")
    text = text.strip()
    path = Path(text)
    if text.lower().endswith((".json", ".npy")):
        if not path.is_file():
            raise ValueError(f"{name}: no such file {text!r}")
        arr = _from_json(path, name) if text.lower().endswith(".json") else _from_npy(path, name)
    else:
        tokens = text.split(",")
        arr = _array([_number(t, name, f"eigenvalue {i}") for i, t in enumerate(tokens)])
    if arr.ndim not in (1, 2):
        raise ValueError(f"{name}: expected eigenvalues (1-D) or a square matrix, got {arr.ndim} dimensions")
    try:
        as_covariance(arr, name)
    except ValueError as exc:
        message = str(exc)
        raise ValueError(message if message.startswith(name) else f"{name}: {message}") from None
    return arr
