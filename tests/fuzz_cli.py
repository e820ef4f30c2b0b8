"""The command-line half of the fuzz tier: malformed options for every ``tts`` command.

A case is ``(label, argv, expect)``; ``argv`` may hold ``{dir}``, the scratch directory the command
runs in (the child changes into it, so no default output path lands in the repository).
``expect`` is ``"reject"`` (exit status 2, exactly one line on stderr, no traceback, the line
naming the option in ``names``) or ``"edge"`` (that, or exit status 0 with some output).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys

import numpy as np

BIG = f"{10 ** 400 + 7}/{3 * 10 ** 399 + 1}"  # a 400-digit rational p/q (≈ 3.33)


def write_fixtures(root) -> None:
    """The files the cases refer to, written once into the scratch directory ``root``."""
    np.save(os.path.join(root, "cov.npy"), np.array([[1.0, 0.2], [0.2, 1.0]]))
    with open(os.path.join(root, "cov.npy"), "rb") as src, open(os.path.join(root, "binary.json"), "wb") as dst:
        dst.write(src.read())  # a binary .npy given as JSON
    np.save(os.path.join(root, "strings.npy"), np.array(["a", "b"]))
    np.save(os.path.join(root, "cube.npy"), np.ones((2, 2, 2)))
    files = {
        "tasks.json": [[1, 2], [2, 1]],
        "tasks_empty.json": [],
        "tasks_mismatch.json": [[1, 2], [1, 2, 3]],
        "tasks_bool.json": [[True, False], [1, 2]],
        "tasks_nested.json": [[[[1]]]],
        "tasks_dict.json": {"a": [1, 2]},
        "tasks_nan.json": [[1, "nan"], [1, 2]],
        "tasks_big.json": [[BIG, 1], [1, BIG]],
        "tasks_huge.json": [[1e300, 2e300], [2e300, 1e300]],
        "tasks_tiny.json": [[1e-300, 2e-300], [2e-300, 1e-300]],
        "tasks_neg.json": [[[1, 2], [2, 1]], [1, 2]],
        "eig_bool.json": [True, False],
        "eig_empty.json": [],
        "eig_dict.json": {"eigenvalues": [1, 2]},
        "ragged.json": [[1, 0], [0]],
    }
    for name, data in files.items():
        with open(os.path.join(root, name), "w", encoding="utf-8") as fh:
            json.dump(data, fh)
    with open(os.path.join(root, "notjson.json"), "w", encoding="utf-8") as fh:
        fh.write("[1, 2")


def warm() -> None:
    """Import the commands and what they import lazily, once in the parent, so that each forked
    child starts with them loaded (a cold import costs seconds on a busy machine)."""
    import importlib

    from theory.cli import build_parser
    build_parser()
    for name in ("theory.commands._spec", "theory.ledger", "theory.notes", "theory.derive", "theory.figures",
                 "theory.montecarlo", "theory.selection", "theory.scaling", "theory.overthinking"):
        importlib.import_module(name)


def run_cli(argv, cwd):
    """``tts ARGV`` in ``cwd``: ``(status, stdout, stderr)``; a raised exception propagates."""
    from theory.cli import main
    os.chdir(cwd)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(list(argv))
        except SystemExit as exc:  # argparse
            status = exc.code if isinstance(exc.code, int) else 1
    return status, out.getvalue(), err.getvalue()


def judge_cli(expect: str, names, result) -> str | None:
    status, out, err = result
    lines = [line for line in err.splitlines() if line.strip()]
    if "Traceback" in err or "Traceback" in out:
        return f"printed a traceback:\n{err[-1500:]}"
    if status == 0 and expect == "edge":
        return None if out.strip() else "exit status 0 but nothing on stdout"
    if status == 0:
        return f"accepted invalid input (exit status 0):\n{out[:300]}"
    if status != 2:
        return f"exit status {status} (expected 2); stderr:\n{err[-800:]}"
    if len(lines) != 1:
        return f"{len(lines)} lines on stderr (expected exactly one):\n{err[-800:]}"
    if names and not any(name in lines[0] for name in names):
        return f"the error line does not name {' or '.join(names)}: {lines[0]}"
    return None


# Each command's cases: (label, argv, expect, names the error line must mention).
def _error_cases():
    base = {"--train": "1,0.5", "--n": "5", "--k": "1:2", "--m": "10"}

    def with_(opt, value, expect="reject", names=None):
        argv = dict(base)
        if value is None:
            argv.pop(opt)
        else:
            argv[opt] = value
        flat = ["error"] + [x for kv in argv.items() for x in kv]
        return (f"error {opt} {value!r}", flat, expect, names or (opt,))

    cases = [with_("--train", v) for v in
             ("1,nan", "1,inf", "1,-1", "", "abc", "1,1/0", "True,False", "/etc/passwd/x",
              "/nonexistent/r.md", "{dir}/binary.json", "{dir}/notjson.json", "{dir}/eig_bool.json",
              "{dir}/eig_empty.json", "{dir}/eig_dict.json", "{dir}/ragged.json", "{dir}/strings.npy",
              "{dir}/cube.npy", "{dir}/missing.npy", "/etc/passwd", "1e400")]
    cases += [with_("--train", v, "edge") for v in
              ("1e-300,5e-301", "1e300,5e299", f"{BIG},1/3", "1,0", "0,0", "1e-400,1", "{dir}/cov.npy")]
    cases += [with_("--n", v) for v in ("0", "-1", "1.5", "True", "", "nan", "abc")]
    cases += [with_("--n", v, "edge") for v in ("1000000", "1" + "0" * 30)]
    cases += [with_("--k", v) for v in ("0", "-1", "2:1", "1:2:3", "", "a", "1.5", "True")]
    cases += [with_("--k", v, "edge") for v in ("1000000", "1:1000000")]
    cases += [with_("--m", v) for v in ("0", "-1", "1.5", "inf", "True", "")]
    cases += [with_("--m", v, "edge") for v in ("1000000", "1" + "0" * 30)]
    cases += [with_("--test", v, names=("--test",)) for v in ("1,nan", "1,0.5,0.25", "1", "/etc/passwd/x")]
    cases += [with_("--test", v, "edge") for v in ("1e300,1e300", "1e-300,1e-300")]
    cases += [with_("--mc", v) for v in ("1", "0", "-5", "x", "1.5")]
    cases += [with_("--seed", v) for v in ("-1", "x", "1.5")]
    cases += [with_("--seed", v, "edge") for v in (str(2 ** 64), "1" + "0" * 30)]
    cases.append(("error --mc without --m", ["error", "--train", "1", "--n", "5", "--k", "1", "--mc", "10"],
                  "reject", ("--m",)))
    cases.append(("error missing --train", ["error", "--n", "5", "--k", "1"], "reject", ("--train",)))
    return cases


def _overthink_cases():
    base = {"--train": "1,0.5", "--n": "5", "--test": "1,0.5", "--m": "10", "--k-max": "3"}

    def with_(opt, value, expect="reject"):
        argv = dict(base)
        argv[opt] = value
        return (f"overthink {opt} {value!r}", ["overthink"] + [x for kv in argv.items() for x in kv], expect, (opt,))

    cases = [with_("--train", v) for v in ("1,nan", "1,-1", "", "/etc/passwd/x", "{dir}/binary.json",
                                            "/nonexistent/r.md")]
    cases += [with_("--test", v) for v in ("1,0.5,0.25", "nan")]
    cases += [with_("--n", v) for v in ("0", "-1", "1.5", "abc", "True")]
    cases += [with_("--m", v) for v in ("0", "-1", "1.5")]
    cases += [with_("--k-max", v) for v in ("0", "-1", "abc")]
    cases += [with_("--k-max", v, "edge") for v in ("1000000",)]
    cases += [with_("--train", v, "edge") for v in ("1e-300,5e-301", "1e300,5e299", f"{BIG},1/3")]
    cases += [with_("--n", v, "edge") for v in ("1000000",)]
    return cases


def _select_cases():
    def case(tasks, target="1,1", expect="reject", names=("--tasks",)):
        return (f"select --tasks {tasks} --target {target}", ["select", "--tasks", tasks, "--target", target],
                expect, names)

    cases = [case(t) for t in ("{dir}/missing.json", "/etc/passwd/x", "/nonexistent/r.md", "{dir}/binary.json",
                               "{dir}/notjson.json", "{dir}/tasks_empty.json", "{dir}/tasks_mismatch.json",
                               "{dir}/tasks_bool.json", "{dir}/tasks_nested.json", "{dir}/tasks_dict.json",
                               "{dir}/tasks_nan.json", "{dir}/tasks_neg.json", "{dir}", "/etc/passwd")]
    cases += [case("{dir}/tasks.json", t, names=("--target",)) for t in
              ("1,nan", "1,0.5,0.25", "1", "", "/etc/passwd/x", "{dir}/binary.json")]
    cases += [case(t, "1,1", "edge") for t in ("{dir}/tasks_big.json", "{dir}/tasks_huge.json",
                                               "{dir}/tasks_tiny.json")]
    cases += [case("{dir}/tasks.json", t, "edge") for t in ("1e300,1e300", "1e-300,1e-300", f"{BIG},1")]
    return cases


def _other_cases():
    return [
        ("verify --only bogus", ["verify", "--only", "bogus"], "reject", ("--only",)),
        ("verify --only ','", ["verify", "--only", ","], "reject", ("--only",)),
        ("verify --fast --full", ["verify", "--fast", "--full"], "reject", ("--full", "--fast")),
        ("verify --only bogus --markdown /etc/passwd/x",
         ["verify", "--only", "bogus", "--markdown", "/etc/passwd/x"], "reject", ("--only", "--markdown")),
        ("derive --only bogus", ["derive", "--out", "{dir}/proofs", "--notes", "{dir}/notes.md", "--only", "bogus"],
         "reject", ("--only",)),
        ("derive --only ','", ["derive", "--out", "{dir}/proofs", "--notes", "{dir}/notes.md", "--only", ","],
         "reject", ("--only",)),
        ("derive --render-only without records",
         ["derive", "--out", "{dir}/empty", "--notes", "{dir}/notes.md", "--render-only"], "reject", ("--out",)),
        ("derive --render-only --notes /nonexistent/r.md",
         ["derive", "--out", "{dir}/empty", "--notes", "/nonexistent/r.md", "--render-only"], "reject",
         ("--notes", "--out")),
        ("derive --render-only --out /etc/passwd/x",
         ["derive", "--out", "/etc/passwd/x", "--notes", "{dir}/notes.md", "--render-only"], "reject", ("--out",)),
        ("figures --only bogus", ["figures", "--out", "{dir}/fig", "--only", "bogus"], "reject", ("--only",)),
        ("figures --only ','", ["figures", "--out", "{dir}/fig", "--only", ","], "reject", ("--only",)),
        ("figures --out /etc/passwd/x", ["figures", "--out", "/etc/passwd/x", "--only", "selection", "--quick"],
         "reject", ("--out",)),
        ("report --out /etc/passwd/x", ["report", "--out", "/etc/passwd/x", "--quick"], "reject", ("--out",)),
        ("report --records /nonexistent", ["report", "--out", "{dir}/rep", "--records", "/nonexistent/ledger",
                                           "--quick"], "reject", ("--records",)),
        ("report --records /etc/passwd", ["report", "--out", "{dir}/rep", "--records", "/etc/passwd", "--quick"],
         "reject", ("--records",)),
        ("unknown command", ["bogus"], "reject", ()),
        ("no command", [], "reject", ()),
    ]


CLI_CASES = {"error": _error_cases(), "overthink": _overthink_cases(), "select": _select_cases(),
             "other": _other_cases()}


def cli_argv(argv, root):
    return [a.replace("{dir}", str(root)) for a in argv]


def main_subprocess(argv):
    """Run ``python -m theory.cli ARGV`` (used once, to check the real process exits cleanly)."""
    import subprocess
    return subprocess.run([sys.executable, "-m", "theory.cli", *argv], capture_output=True, text=True,
                          timeout=120)
