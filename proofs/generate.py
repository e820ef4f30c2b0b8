"""Regenerate the LaTeX in this directory: ``python proofs/generate.py`` (same as ``tts derive``).

The files written here are generated from the library's symbolic derivations and from
``paper_notes.md``; ``tests/test_derive.py`` fails when they drift from what the code produces.
"""

from pathlib import Path

from theory.derive import write_derivations

if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    for path in write_derivations(here, here.parent / "paper_notes.md"):
        print(path)
