"""Mutation testing of the verdict logic: mutmut over a scope, the score and the surviving mutants.

    python bench/mutation.py --limit 120 --seed 1     # a seeded sample of the default scope
    python bench/mutation.py --scope theory/claims/hard.py --limit 40
    python bench/mutation.py --scope theory/ledger.py --json slice.json
    python bench/mutation.py --mutants ID ... --json other.json    # re-run some mutants (survivors)
    python bench/mutation.py --combine slice.json other.json ...   # one score over runs (later wins)

The default scope (the ledger and the four claims split into parts) has 4 797 mutants.  Each one
runs the fast tier of its claim and the checks that call the mutated function; on a busy 2-core
machine a seeded sample of 120 took 28 minutes with two children (about 8 of them to copy, generate
the mutants and run mutmut's stats and clean runs), so the whole scope would take about 13 hours:
run a seeded sample (``--limit``) or slices (``--scope``) and combine them.

Nothing in the project configures mutmut.  The script copies the repository (``git ls-files``,
untracked files included) into a temporary directory, writes a ``[tool.mutmut]`` section into the
copy's ``pyproject.toml``, runs ``mutmut run`` there, and reads the outcome back with
``mutmut results`` and ``mutmut show``.  What it prints: the count of each status, the score

    killed / (total − equivalent − skipped)

where *killed* counts the mutants a test failed on, those that made the tests run past their time
limit, and those that broke an import so that the tests could not even start (shown as "error"):
the suite does not pass in any of these cases; then the surviving mutants with their id,
``file:line`` and diff.  Mutants listed in ``--equivalent`` (one id and a one-line reason per line;
default ``bench/mutation_equivalent.txt``) are shown apart and leave the denominator.

How the copy differs from the repository, and why:

* mutmut 3 does not mutate decorated functions.  The claims' parts (``@CLAIM_X.part(...)``), their
  cached routes (``@lru_cache``) and the ledger's properties are where the verdict logic lives, so
  in the copy of each scope file those decorators are removed (their lines left blank, so that
  line numbers stay those of the repository) and re-applied at the end of the module
  (``f = (decorator)(f)``, in the original order, so that parts register in the same order).
  Other decorators (``@CLAIM_X.derives``: the LaTeX derivations, checked by ``tests/test_derive.py``)
  stay, and mutmut skips those functions.
* mutmut picks, for each mutant, the tests that called the mutated function during a first
  "stats" run.  The checks cache each claim's result for the session (``checks/conftest.py``) and
  the claims cache their routes (``lru_cache``); during that run a small pytest plugin clears both
  before every test, so that every test that depends on a function is associated with it, not only
  the first.  During mutant runs the caches work as usual (each mutant runs in a fresh process),
  and the plugin orders the tests fastest first, so that a killed mutant stops early (``-x``).
  Calls made while the test modules import (module-level values such as the claims' example
  problems) are credited to every test; mutmut would credit them to whichever test ran first.
* Mutants run in processes forked from a server that has imported the third-party libraries but
  not the project (``process_isolation = "forkserver"``), so every mutant imports ``theory`` and
  the tests afresh: module-level values computed at import time see the mutant too.

Timeouts: mutmut limits a mutant's tests to ``(t + 30) × multiplier`` seconds of wall time (``t`` the
stats-run time of its tests, which with the caches cleared overstates a mutant run) and twice that
in CPU time; ``--timeout-multiplier`` (default 3) sets the multiplier.
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

DEFAULT_SCOPE = ("theory/ledger.py", "theory/claims/hard.py", "theory/claims/cor3_5.py",
                 "theory/claims/tradeoff.py", "theory/claims/rem4_1.py")
# The framework's own tests; each claim module adds its check file (checks/test_<stem>_*.py).
FRAMEWORK_TESTS = ("tests/test_ledger_framework.py", "checks/test_ledger.py",
                   "tests/test_verify_command.py")
DEFAULT_EQUIVALENT = ROOT / "bench" / "mutation_equivalent.txt"

# Decorators removed in the copy and re-applied at the end of the module (see the docstring).
_REAPPLIED = re.compile(r"^(?:functools\.)?lru_cache\b|^\w+\.part\(|^property$")
# Imported once by the fork server, so that a mutant run does not pay for them (about 10 s here).
PRELOAD = ("numpy", "scipy", "scipy.linalg", "scipy.special", "scipy.integrate", "scipy.optimize",
           "scipy.stats", "sympy", "mpmath", "flint", "hypothesis", "pytest", "array_api_compat")

# Seconds added to a mutant's estimated test time before the multiplier: a mutant run imports the
# project and collects its test files first (measured 5-15 s on a loaded 2-core machine), which the
# per-test estimate leaves out; mutmut's default of 1 s turned a fast killed test into a "timeout".
TIMEOUT_CONSTANT = 30.0

# Statuses of `mutmut results`, and how the score counts them.  mutmut reports a run whose pytest
# could not start (exit status 255: the mutant broke an import, so the tests could not even be
# collected) as "timeout"; the exit codes in mutmut's .meta files tell it apart, as "error".
DETECTED = ("killed", "timeout", "error", "segfault")
SKIPPED = ("skipped",)

PLUGIN = '''"""pytest plugin of the mutation run (bench/mutation.py): stats-run cache clearing and import-time
calls, fastest tests first."""
import functools
import json
import sys

import pytest
from mutmut.mutation.trampoline import get_mutant_under_test
from mutmut.state import state

_IMPORT_TIME = set()


def _clear_caches():
    for name, module in list(sys.modules.items()):
        if name.startswith("theory.claims") and module is not None:
            for value in vars(module).values():
                if isinstance(value, functools._lru_cache_wrapper):
                    value.cache_clear()
    conftest = sys.modules.get("checks.conftest")
    if conftest is not None:
        conftest._RESULTS.clear()


def pytest_collection_finish(session):
    # Functions called while the test modules import (module-level values) would otherwise be
    # credited to whichever test runs first; every test may read those values.
    if get_mutant_under_test() == "stats":
        _IMPORT_TIME.update(state()._stats)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    if get_mutant_under_test() == "stats":
        _clear_caches()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item, nextitem):
    if get_mutant_under_test() == "stats":
        state()._stats.update(_IMPORT_TIME)


def pytest_collection_modifyitems(config, items):
    mutant = get_mutant_under_test()
    if "__mutmut_" not in mutant:
        return
    try:
        with open("mutmut-stats.json") as f:
            durations = json.load(f)["duration_by_test"]
    except (OSError, ValueError, KeyError):
        return
    items.sort(key=lambda item: durations.get(item.nodeid, 0.0))
'''


# ---------------------------------------------------------------------------------------------
# The copy


def repository_files(root: Path) -> list[str]:
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=root,
                         check=True, capture_output=True).stdout.decode()
    return sorted(p for p in out.split("\0") if p and (root / p).is_file())


def resolve_scope(patterns, files) -> list[str]:
    scope = []
    for pattern in patterns:
        hits = [f for f in files if fnmatch.fnmatch(f, pattern) and f.endswith(".py")]
        if not hits:
            raise SystemExit(f"--scope: {pattern!r} matches no Python file of the repository")
        if any(not f.startswith("theory/") for f in hits):
            raise SystemExit(f"--scope: {pattern!r} reaches outside theory/ (only the library is mutated)")
        scope += [f for f in hits if f not in scope]
    return scope


def default_tests(scope, files) -> list[str]:
    tests = []
    for path in scope:
        if path.startswith("theory/claims/"):
            stem = Path(path).stem
            tests += [f for f in files if fnmatch.fnmatch(f, f"checks/test_{stem}_*.py")]
    tests += [t for t in FRAMEWORK_TESTS if t in files]
    return list(dict.fromkeys(tests))


def reapply_decorators(source: str) -> str:
    """Remove the decorators that stop mutmut from mutating a function; re-apply them at the end.

    Line numbers of everything else are unchanged (the decorator lines become blank lines).
    """
    tree = ast.parse(source)
    lines = source.split("\n")
    tail = []

    def handle(fn, owner: str | None):
        decs = [d for d in fn.decorator_list if _REAPPLIED.match(ast.get_source_segment(source, d) or "")]
        if not decs or len(decs) != len(fn.decorator_list):
            return  # keep functions with other decorators as they are (mutmut skips them)
        target = f"{owner}.{fn.name}" if owner else fn.name
        for dec in reversed(decs):  # the innermost decorator applies first
            tail.append(f"{target} = (\n{ast.get_source_segment(source, dec)}\n)({target})")
            for i in range(dec.lineno - 1, dec.end_lineno):
                lines[i] = ""

    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            handle(node, None)
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    handle(item, node.name)
    if not tail:
        return source
    out = "\n".join(lines).rstrip("\n") + "\n\n\n# bench/mutation.py: decorators re-applied, in order\n"
    return out + "\n".join(tail) + "\n"


def toml_list(values) -> str:
    return "[" + ", ".join(json.dumps(str(v)) for v in values) + "]"


def prepare(workdir: Path, scope, tests, files, timeout_multiplier: float) -> None:
    for rel in files:
        dest = workdir / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dest)
    for rel in scope:
        path = workdir / rel
        path.write_text(reapply_decorators(path.read_text(encoding="utf-8")), encoding="utf-8")
    (workdir / "_mutation_plugin.py").write_text(PLUGIN, encoding="utf-8")
    (workdir / "_mutation_preload.txt").write_text("\n".join(PRELOAD) + "\n", encoding="utf-8")
    top = sorted({rel.split("/")[0] for rel in files} - {"theory"}) + ["_mutation_plugin.py"]
    section = "\n".join([
        "", "[tool.mutmut]",
        'source_paths = ["theory"]',
        f"only_mutate = {toml_list(scope)}",
        f"pytest_add_cli_args_test_selection = {toml_list(tests)}",
        f'pytest_add_cli_args = ["-p", "_mutation_plugin", "-p", "no:cacheprovider"]',
        f"also_copy = {toml_list(top)}",
        'process_isolation = "forkserver"',
        'forkserver_warmup = "import"',
        'preload_modules_file = "_mutation_preload.txt"',
        f"timeout_multiplier = {float(timeout_multiplier)}",
        # a mutant run first imports theory and collects its tests: tens of seconds on a busy machine
        f"timeout_constant = {TIMEOUT_CONSTANT}",
        "use_git_change_detection = false",
        "",
    ])
    with open(workdir / "pyproject.toml", "a", encoding="utf-8") as f:
        f.write(section)


GENERATE = """
import json, sys
from pathlib import Path
from mutmut.mutation.file_mutation import mutate_file_contents
from mutmut.utils.format_utils import get_mutant_name
names = []
for rel in sys.argv[1:]:
    mutated = mutate_file_contents(rel, Path(rel).read_text(encoding="utf-8"))
    names += [get_mutant_name(Path(rel), n) for n in mutated.mutant_names]
print(json.dumps(names))
"""


def mutant_names(workdir: Path, scope) -> list[str]:
    out = subprocess.run([sys.executable, "-c", GENERATE, *scope], cwd=workdir, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


# ---------------------------------------------------------------------------------------------
# Running mutmut and reading the outcome


def mutmut_cli() -> list[str]:
    exe = Path(sys.executable).with_name("mutmut")
    if not exe.exists():
        raise SystemExit("mutmut is not installed: pip install '.[mutation]'")
    return [str(exe)]


def run_mutmut(workdir: Path, names, max_children: int, log: Path) -> int:
    env = dict(os.environ, HYPOTHESIS_PROFILE=os.environ.get("HYPOTHESIS_PROFILE", "ci"))
    env.pop("TTS_FULL", None)
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.run([*mutmut_cli(), "run", "--max-children", str(max_children), *names], cwd=workdir,
                              env=env, stdout=out, stderr=subprocess.STDOUT)
    return proc.returncode


def read_results(workdir: Path) -> dict[str, str]:
    out = subprocess.run([*mutmut_cli(), "results", "--all", "true"], cwd=workdir, check=True,
                         capture_output=True, text=True).stdout
    results = {}
    for line in out.splitlines():
        found = re.match(r"^\s+(\S+__mutmut_\d+): (.+?)\s*$", line)
        if found:
            results[found.group(1)] = found.group(2)
    exit_codes = {}
    for meta in (workdir / "mutants").rglob("*.py.meta"):
        exit_codes.update(json.loads(meta.read_text(encoding="utf-8")).get("exit_code_by_key", {}))
    return {k: "error" if v == "timeout" and exit_codes.get(k) == 255 else v for k, v in results.items()}


def show(workdir: Path, name: str) -> str:
    out = subprocess.run([*mutmut_cli(), "show", name], cwd=workdir, check=True, capture_output=True,
                         text=True).stdout
    return "\n".join(line for line in out.splitlines() if not line.startswith("# "))


def _function_span(source: str, name: str) -> tuple[int, int] | None:
    """Line span of the function (``f``) or method (``Class.f``) in the repository's file."""
    owner, _, fn = name.rpartition(".")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef) and owner and node.name == owner:
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == fn:
                    return item.lineno, item.end_lineno
        if not owner and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == fn:
            return node.lineno, node.end_lineno
    return None


def locate(name: str, diff: str) -> str:
    """``file:line`` of a mutant in the repository (the first line its diff removes)."""
    module, _, mangled = name.rpartition(".")
    func = mangled.split("__mutmut_")[0]
    func = func[2:] if func.startswith("x_") else func.replace("xǁ", "", 1).replace("ǁ", ".")
    rel = module.replace(".", "/") + ".py"
    path = ROOT / rel
    if not path.is_file():
        return rel
    source = path.read_text(encoding="utf-8")
    span = _function_span(source, func)
    if span is None:
        return rel
    removed = [line[1:].strip() for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")]
    lines = source.splitlines()
    for want in removed[:1]:
        for i in range(span[0] - 1, span[1]):
            if lines[i].strip() == want:
                return f"{rel}:{i + 1}"
    return f"{rel}:{span[0]}"


def read_equivalent(path: Path | None) -> dict[str, str]:
    if path is None or not path.is_file():
        return {}
    out = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, _, reason = line.partition(" ")
        if not reason.strip():
            raise SystemExit(f"{path}: {name} has no reason")
        out[name] = reason.strip()
    return out


# ---------------------------------------------------------------------------------------------
# Report


def summarise(results: dict[str, str], equivalent: dict[str, str]) -> dict:
    counts: dict[str, int] = {}
    for status in results.values():
        counts[status] = counts.get(status, 0) + 1
    checked = {k: v for k, v in results.items() if v != "not checked"}
    equiv = sorted(k for k in checked if k in equivalent and checked[k] not in DETECTED)
    skipped = sum(1 for v in checked.values() if v in SKIPPED)
    killed = sum(1 for v in checked.values() if v in DETECTED)
    denominator = len(checked) - len(equiv) - skipped
    return {"counts": counts, "total": len(checked), "killed": killed, "equivalent": len(equiv),
            "skipped": skipped, "score": killed / denominator if denominator else None,
            "equivalent_ids": equiv,
            "stale_equivalent": sorted(k for k in equivalent if k in checked and checked[k] in DETECTED)}


def report(data: dict, equivalent: dict[str, str], out=sys.stdout) -> None:
    results, diffs, where = data["results"], data.get("diffs", {}), data.get("where", {})
    s = summarise(results, equivalent)
    p = lambda *a: print(*a, file=out)  # noqa: E731
    p("mutation testing: " + ", ".join(data.get("scope", [])))
    if data.get("tests"):
        p("tests: " + " ".join(data["tests"]))
    if data.get("seconds") is not None:
        added = " (the runs added up)" if data.get("combined") else ""
        p(f"time: {data['seconds']:.0f} s wall{added}, max-children {data.get('max_children')}")
    p("status counts: " + ", ".join(f"{k} {v}" for k, v in sorted(s["counts"].items())))
    p(f"score: killed / (total - equivalent - skipped) = {s['killed']} / ({s['total']} - {s['equivalent']} - "
      f"{s['skipped']}) = " + ("n/a" if s["score"] is None else f"{100 * s['score']:.1f} %"))
    survivors = sorted(k for k, v in results.items() if v not in DETECTED + SKIPPED + ("not checked",)
                       and k not in equivalent)
    p(f"\n{len(survivors)} surviving mutant(s)")
    for name in survivors:
        p(f"\n{name}  [{results[name]}]  {where.get(name, '')}")
        if diffs.get(name):
            p("\n".join("    " + line for line in diffs[name].splitlines() if not line.startswith(("---", "+++"))))
    if s["equivalent_ids"]:
        p(f"\n{len(s['equivalent_ids'])} equivalent mutant(s), left out of the score")
        for name in s["equivalent_ids"]:
            p(f"  {name}  {where.get(name, '')}: {equivalent[name]}")
    if s["stale_equivalent"]:
        p("\nlisted as equivalent but killed (remove from the list): " + ", ".join(s["stale_equivalent"]))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scope", nargs="+", default=list(DEFAULT_SCOPE),
                    help="module paths or globs under theory/ to mutate (default: the ledger and the converted claims)")
    ap.add_argument("--tests", nargs="+", help="test paths (default: each claim's check file and the ledger's tests)")
    ap.add_argument("--max-children", type=int, default=1, help="mutants run in parallel (default 1: a shared machine)")
    ap.add_argument("--limit", type=int, help="run a seeded random sample of this many mutants")
    ap.add_argument("--seed", type=int, default=0, help="seed of the --limit sample")
    ap.add_argument("--mutants", nargs="+", metavar="ID", help="run these mutants only (e.g. the survivors of a run)")
    ap.add_argument("--equivalent", type=Path, default=DEFAULT_EQUIVALENT,
                    help="file of equivalent mutants: an id and a reason per line")
    ap.add_argument("--timeout-multiplier", type=float, default=3.0)
    ap.add_argument("--workdir", type=Path, help="where to build the copy (default: a temporary directory, removed)")
    ap.add_argument("--json", type=Path, help="also write the results (statuses, diffs, locations) as JSON")
    ap.add_argument("--combine", nargs="+", type=Path, metavar="JSON",
                    help="no run: merge the --json files of several runs (slices) and report one score")
    args = ap.parse_args(argv)
    equivalent = read_equivalent(args.equivalent)

    if args.combine:
        merged = {"scope": [], "tests": [], "results": {}, "diffs": {}, "where": {}, "seconds": 0.0,
                  "combined": True}
        children = set()
        for path in args.combine:
            part = json.loads(path.read_text(encoding="utf-8"))
            merged["scope"] += [s for s in part["scope"] if s not in merged["scope"]]
            for key in ("results", "diffs", "where"):
                merged[key].update(part.get(key, {}))
            merged["seconds"] += part.get("seconds") or 0.0
            children.add(part.get("max_children"))
        merged["max_children"] = "/".join(str(c) for c in sorted(children, key=str))
        report(merged, equivalent)
        return 0

    if args.max_children < 1:
        ap.error("--max-children must be at least 1")
    files = repository_files(ROOT)
    scope = resolve_scope(args.scope, files)
    tests = args.tests or default_tests(scope, files)
    missing = [t for t in tests if not (ROOT / t.split("::")[0]).exists()]
    if missing:
        ap.error(f"--tests: no such path {missing}")

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="tts-mutation-"))
    if args.workdir and workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    try:
        prepare(workdir, scope, tests, files, args.timeout_multiplier)
        names = list(args.mutants or [])
        if args.limit and not names:
            every = mutant_names(workdir, scope)
            names = sorted(random.Random(args.seed).sample(every, min(args.limit, len(every))))
            print(f"sampled {len(names)} of {len(every)} mutants (seed {args.seed})", file=sys.stderr)
        log = workdir / "mutmut-run.log"
        print(f"running mutmut in {workdir} (log: {log})", file=sys.stderr)
        code = run_mutmut(workdir, names, args.max_children, log)
        results = read_results(workdir)
        if names:
            results = {k: v for k, v in results.items() if k in set(names)}
        if code != 0 or not results:
            print(log.read_text(encoding="utf-8")[-4000:], file=sys.stderr)
            raise SystemExit(f"mutmut run failed (exit status {code}); the log is above")
        diffs, where = {}, {}
        for name, status in results.items():
            if status not in DETECTED + ("not checked",):
                diffs[name] = show(workdir, name)
                where[name] = locate(name, diffs[name])
        data = {"scope": scope, "tests": tests, "results": results, "diffs": diffs, "where": where,
                "seconds": time.perf_counter() - start, "max_children": args.max_children}
        if args.json:
            args.json.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        report(data, equivalent)
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
