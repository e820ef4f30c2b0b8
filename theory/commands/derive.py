"""``tts derive``: regenerate the derivations as LaTeX (``proofs/`` by default)."""

from __future__ import annotations

import sys

NAME = "derive"
HELP = "regenerate the LaTeX derivations (one section per claim) from the symbolic computations"


def configure(p):
    p.add_argument("--out", metavar="DIR", default="proofs",
                   help="output directory (default: proofs/); the master document is DIR/derivations.tex")
    p.add_argument("--notes", metavar="FILE", default="paper_notes.md",
                   help="the claims ledger to read statements and verdicts from (default: paper_notes.md)")


def run(args) -> int:
    from theory.derive import write_derivations
    written = write_derivations(args.out, args.notes)
    for path in written:
        print(path)
    print(f"tts derive: wrote {len(written)} files; compile with "
          f"`cd {args.out} && pdflatex derivations.tex`", file=sys.stderr)
    return 0
