"""The README's Python tour runs as written (documentation must not drift from the API)."""

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_tour_runs(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert blocks, "README.md has no ```python block"
    for block in blocks:
        exec(compile(block, str(README), "exec"), {})
    assert "trustworthy" in capsys.readouterr().out


def test_readme_select_command_names_a_shipped_file_and_runs(capsys):
    import shlex

    from theory.cli import main
    root = README.parent
    lines = [line.strip() for line in README.read_text(encoding="utf-8").splitlines()
             if line.strip().startswith("tts select --tasks")]
    assert lines, "README.md shows no `tts select --tasks` command"
    for line in lines:
        argv = shlex.split(line.split("[")[0])[1:]
        tasks = argv[argv.index("--tasks") + 1]
        assert (root / tasks).is_file(), f"README names {tasks}, which is not in the repository"
        argv[argv.index("--tasks") + 1] = str(root / tasks)
        assert main(argv) == 0
        assert "certified: True" in capsys.readouterr().out
