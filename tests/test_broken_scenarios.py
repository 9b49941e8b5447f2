"""Every file in tests/scenarios/broken is rejected with the lines its header expects.

Each broken file starts with one or more ``# expect: <text>`` lines; the
validator must print each (as part of a ``file:line: field.path: message``
line), exit with 2 and print no traceback.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from cosim.cli import main

BROKEN = sorted((Path(__file__).parent / "scenarios" / "broken").glob("*.yaml"))


def expectations(path: Path) -> list[str]:
    return [line[len("# expect: ") :].rstrip("\n") for line in path.read_text().splitlines() if line.startswith("# expect: ")]


def test_corpus_is_large_enough():
    assert len(BROKEN) >= 30


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.stem)
def test_broken_scenario_is_rejected_line_by_line(path: Path, capsys):
    expected = expectations(path)
    assert expected, f"{path.name} has no '# expect:' header"
    code = main(["validate", str(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == len(expected), err
    for line, fragment in zip(lines, expected):
        assert re.match(rf"^\S*{re.escape(path.name)}(:\d+)?: ", line), line
        assert fragment in line


def test_error_names_file_line_and_field(capsys):
    path = next(p for p in BROKEN if p.stem == "01_domain_typo")
    main(["validate", str(path)])
    line = capsys.readouterr().err.strip()
    assert line.endswith(
        "01_domain_typo.yaml:5: actors[0].domain: 'Custmer' is not one of 'Bulk Generation', 'Transmission', "
        "'Distribution', 'Customer', 'Operations', 'Markets', 'Service Provider'"
    )


def test_console_command_exits_2_without_traceback():
    path = next(p for p in BROKEN if p.stem == "34_many_problems")
    proc = subprocess.run([sys.executable, "-m", "cosim.cli", "run", str(path)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 2


def test_missing_file_is_reported(capsys, tmp_path):
    assert main(["validate", str(tmp_path / "nope.yaml")]) == 2
    assert "nope.yaml: cannot read file: No such file or directory" in capsys.readouterr().err


def test_bad_command_line_override_exits_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "configs/quickstart.yaml", "--until", "soon"])
    assert exit_info.value.code == 2
    assert "'soon' is not a duration" in capsys.readouterr().err
