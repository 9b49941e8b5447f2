"""Input that is hostile or merely unusual: the YAML reader, number rules, file kinds and output paths.

The broken-file corpus (tests/scenarios/broken, test_broken_scenarios.py) checks
the one-line errors; these tests check what the corpus cannot: that what is
accepted is read exactly as PyYAML's own loader reads it, and that names never
leave their results folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from cosim.cli import main
from cosim.outpaths import OutputPathError, check_under, child
from cosim.scenario.yamlsource import ALIAS_BUDGET, parse_yaml

REPO = Path(__file__).resolve().parent.parent
CONFIGS = sorted(REPO.glob("configs/**/*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: str(p.relative_to(REPO)))
def test_reader_reads_shipped_files_as_pyyaml_does(path: Path):
    text = path.read_text(encoding="utf-8")
    document, problems = parse_yaml(text, path.name)
    assert problems == [] and document is not None
    assert document.data == yaml.safe_load(text)


def test_anchors_merges_and_lines_read_as_pyyaml_does():
    text = "base: &b {x: 1, y: 2}\nitems:\n  - <<: *b\n    y: 3\n  - *b\nflow: [1, 2.5, true, null, '5', 2026-01-01]\n"
    document, problems = parse_yaml(text, "t.yaml")
    assert problems == [] and document is not None
    assert document.data == yaml.safe_load(text)
    assert document.line_of(("items", 0, "y")) == 4
    assert document.line_of(("items", 1)) == 5
    assert document.line_of(("flow", 3)) == 6


def test_aliases_within_the_budget_are_accepted_and_past_it_refused():
    fits = "a: &a [" + ", ".join(["x"] * 1000) + "]\nb: [" + ", ".join(["*a"] * (ALIAS_BUDGET // 1001)) + "]\n"
    document, problems = parse_yaml(fits, "t.yaml")
    assert problems == [] and document is not None
    too_many = fits[:-2] + ", *a, *a]\n"
    document, problems = parse_yaml(too_many, "t.yaml")
    assert document is None and "aliases expand" in problems[0].message and problems[0].line == 2


def test_readme_validate_command_passes(capsys):
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "cosim validate configs/*.yaml" in readme
    files = sorted(str(p) for p in REPO.glob("configs/*.yaml"))
    assert main(["validate", *files]) == 0
    out = capsys.readouterr().out
    assert out.count(": ok (") == len(files)
    assert "HIL bench" in out and "market case" in out


def test_every_shipped_input_file_validates_with_its_own_schema(capsys):
    assert main(["validate", *map(str, CONFIGS)]) == 0
    out = capsys.readouterr().out
    assert "sweep of" in out and "reliability study" in out


@pytest.mark.parametrize("name", ["..", ".", "a/b", "../x", ".hidden", "", "x/../../..", "a\\b"])
def test_a_name_never_becomes_more_than_one_path_component(tmp_path: Path, name: str):
    with pytest.raises(OutputPathError):
        child(tmp_path, name)


def test_a_symlink_out_of_the_root_is_refused(tmp_path: Path):
    root = tmp_path / "results"
    root.mkdir()
    os.symlink(tmp_path, root / "link")
    assert child(root, "run-1") == root / "run-1"
    with pytest.raises(OutputPathError):
        check_under(root, root / "link" / "elsewhere")
