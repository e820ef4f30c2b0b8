"""Output paths of the commands, checked before any work: a clear ``ValueError`` naming the option."""

from __future__ import annotations

import os
from pathlib import Path


def writable_directory(path, option: str) -> Path:
    """Create the directory ``path`` if needed; ``ValueError`` naming ``option`` when it cannot be written."""
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"{option}: cannot create the directory {str(out)!r}: {exc.strerror or exc}") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise ValueError(f"{option}: the directory {str(out)!r} is not writable")
    return out


def writable_file(path, option: str) -> Path:
    """Check that the file ``path`` can be written (its folder exists and is writable; it is not a
    directory) without creating it; ``ValueError`` naming ``option`` otherwise."""
    out = Path(path)
    parent = out.parent if str(out.parent) else Path(".")
    if out.is_dir():
        raise ValueError(f"{option}: {str(out)!r} is a directory, not a file")
    if not parent.is_dir():
        raise ValueError(f"{option}: cannot write {str(out)!r}: the directory {str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise ValueError(f"{option}: cannot write {str(out)!r}: permission denied")
    return out
