"""Regenerate the LaTeX in this directory from the committed records: ``python proofs/generate.py``
(the same as ``tts derive --render-only``).

The files written here are generated from the claims' records (``ledger/``), the hand-written
``paper_notes.md`` for claims not yet split into sub-statements, and the library's symbolic
derivations; ``tests/test_derive.py`` fails when they drift from what the code produces.
"""

from pathlib import Path

from theory.derive import write_derivations

if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    for path in write_derivations(here, here / "ledger"):
        print(path)
