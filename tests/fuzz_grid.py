"""Run the whole fuzz catalogue once, every corruption of every argument and every CLI case, and
print what fails: the recipe of ``KNOWN_FAILING`` in ``tests/test_fuzz.py``.

    python tests/fuzz_grid.py [FUNCTION ...] > grid.jsonl     # one JSON line per failing case

About 4100 library calls and 140 commands; 10 to 20 minutes on 2 cores (the hangs cost a full
timeout each).  The last lines (on stderr) count the failures per test id.
"""

from __future__ import annotations

import collections
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fuzz_cases import SPECS, judge, warm_library  # noqa: E402
from fuzz_cli import CLI_CASES, cli_argv, judge_cli, run_cli, warm, write_fixtures  # noqa: E402
from fuzz_worker import call  # noqa: E402

TIMEOUT = float(os.environ.get("TTS_FUZZ_TIMEOUT", "6"))


def main(only) -> None:
    warm_library()
    failing = collections.Counter()
    for name, spec in SPECS.items():
        if only and name not in only:
            continue
        for slot, corruptions in spec.slots.items():
            for label, value, expect in corruptions:
                values = dict(spec.base)
                values[slot] = value
                args, kwargs = spec.call_args(values)
                problem = judge(spec, slot, label, expect,
                                call(spec.fn, args, kwargs, check=spec.check, timeout=TIMEOUT))
                if problem:
                    failing[f"test_argument[{name}-{slot}]"] += 1
                    print(json.dumps({"function": name, "argument": slot, "input": label, "expect": expect,
                                      "problem": problem[:600]}), flush=True)
    root = tempfile.mkdtemp(prefix="fuzz_cli")
    write_fixtures(root)
    warm()
    for command, cases in ({} if only else CLI_CASES).items():
        for label, argv, expect, names in cases:
            outcome = call(run_cli, (cli_argv(argv, root), root),
                           check=lambda result: judge_cli(expect, names, result), timeout=TIMEOUT)
            if outcome.kind != "ok":
                failing[f"tts {command}"] += 1
                print(json.dumps({"command": label, "expect": expect, "problem": outcome.describe()[:600]}),
                      flush=True)
    for test_id, count in sorted(failing.items()):
        print(f"{count:4d}  {test_id}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
