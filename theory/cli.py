"""The ``tts`` command line. Subcommands live in :mod:`theory.commands`, one module each.

Every error of the user's making ends the same way: exit status 2 and one line on stderr,
``tts <command>: error: <what, naming the option>``. That covers argparse's own errors, the
``ValueError`` a command raises at its boundary, and an ``OverflowError`` (a number beyond float64)
from anywhere below; any other exception is a bug and keeps its traceback. A command module may
declare ``OPTIONS``, the library argument each of its options supplies, so that a message from the
library names the option the user typed.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import re
import sys


class _Parser(argparse.ArgumentParser):
    """argparse with its errors on one line (no usage block): ``tts <command>: error: ...``."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())}\n")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return f"tts-theory {version('tts-theory')}"
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "tts-theory (not installed)"


def build_parser() -> argparse.ArgumentParser:
    import theory.commands as pkg
    parser = _Parser(prog="tts", description="Verifier for the theory of test-time scaling (arXiv 2510.03605).")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):  # shared helpers (e.g. _spec), not subcommands
            continue
        mod = importlib.import_module(f"{pkg.__name__}.{info.name}")
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=mod.HELP)
        mod.configure(p)
        p.set_defaults(_run=mod.run, _options=getattr(mod, "OPTIONS", {}))
    return parser


def _one_line(exc: BaseException, options=None) -> str:
    """The message on one line, the library's argument names replaced by the command's options.

    ``options`` maps a library argument (``train_cov``) to the option that supplies it (``--train``);
    a name is replaced only as a whole word that is the subject of the complaint ("n must ...",
    "train_cov and test_cov must ...", "k_max: ..."), so ``n`` does not touch ``n_max`` and a value
    quoted in the sentence ("at m = 12") stays as it is.
    """
    text = " ".join(str(exc).split()) or type(exc).__name__
    for arg, option in (options or {}).items():
        # "task_covs[1] must ..." names an entry of a list option: "--tasks entry 1 must ..."
        text = re.sub(rf"(?<![\w-]){re.escape(arg)}(?:\[(\d+)\])?(?=\s+must\b|\s+and\b|:)",
                      lambda m: option + (f" entry {m.group(1)}" if m.group(1) else ""), text)
    return text


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except (ValueError, OverflowError) as exc:  # bad input, or a number beyond float64: one line
        print(f"tts {args.command}: error: {_one_line(exc, args._options)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
