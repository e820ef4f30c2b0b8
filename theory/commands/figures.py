"""``tts figures``: regenerate the paper's figures (PNG and PDF) with exact curves and Monte Carlo."""

from __future__ import annotations

import sys
import time

NAME = "figures"
HELP = "regenerate the figures (PNG and PDF): trade-off, overthinking, task selection, beyond the paper"


def configure(p):
    p.add_argument("--out", metavar="DIR", default="figures",
                   help="output directory (default: figures/)")
    p.add_argument("--only", metavar="NAMES",
                   help="comma-separated figure names (tradeoff, overthinking, selection, beyond)")
    p.add_argument("--quick", action="store_true",
                   help="coarser grids and fewer Monte Carlo prompts (seconds; for tests and previews)")


def run(args) -> int:
    from theory.commands._paths import writable_directory
    from theory.figures import FIGURES, write_figures
    names = FIGURES
    if args.only is not None:
        names = tuple(s.strip() for s in args.only.split(",") if s.strip())
        if not names:
            raise ValueError(f"--only: no figure names given ({args.only!r}); omit --only to draw every figure")
        unknown = [s for s in names if s not in FIGURES]
        if unknown:
            raise ValueError(f"--only: unknown figure(s) {', '.join(unknown)}; known: {', '.join(FIGURES)}")
    writable_directory(args.out, "--out")
    start = time.perf_counter()
    for path in write_figures(args.out, names=names, quick=args.quick,
                              progress=lambda name: print(f"figure {name} ...", file=sys.stderr, flush=True)):
        print(path)
    print(f"tts figures: done in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return 0
