"""Sweep files: every problem reported with the sweep file's line; ids and seeds from parameters only."""

from pathlib import Path

import pytest
import yaml

from cosim.batch.sweepfile import load_sweep
from cosim.cli import main
from cosim.errors import ScenarioError

QUICKSTART = Path(__file__).parent / "small_scenario.yaml"  # fixed copy of the early quickstart
NOISE = "actors[home_1].applications[load_profile].params.noise_pct"


def write(tmp_path, text):
    path = tmp_path / "sweep.yaml"
    path.write_text(text.replace("BASE", str(QUICKSTART)))
    return path


def test_grid_times_seeds_in_file_order(tmp_path):
    sweep = load_sweep(write(tmp_path, f"name: s\nscenario: BASE\nparameters:\n  {NOISE}: [1, 5]\n  run.duration: [2h, 4h]\nseeds: [7, 8]\n"), tmp_path)
    assert len(sweep.runs) == 8
    assert [dict(r.params)[NOISE] for r in sweep.runs[:4]] == [1, 1, 1, 1]
    assert [r.seed for r in sweep.runs[:2]] == [7, 8]
    first = yaml.safe_load(sweep.runs[0].scenario_yaml)
    assert first["run"] == {"duration": "2h", "step": "15min", "seed": 7}
    assert first["actors"][4]["applications"][0]["params"] == {"noise_pct": 1}
    assert len({r.run_id for r in sweep.runs}) == 8
    assert sweep.out_dir == tmp_path / "s"


def test_run_ids_and_seeds_do_not_depend_on_grid_position(tmp_path):
    small = load_sweep(write(tmp_path, f"name: s\nscenario: BASE\nparameters:\n  {NOISE}: [5]\nreplicates: 2\n"), tmp_path)
    large = load_sweep(write(tmp_path, f"name: s\nscenario: BASE\nparameters:\n  {NOISE}: [1, 5]\nreplicates: 3\n"), tmp_path)
    by_id = {r.run_id: r for r in large.runs}
    for run in small.runs:
        assert by_id[run.run_id].seed == run.seed
        assert by_id[run.run_id].scenario_yaml == run.scenario_yaml
    assert len({r.seed for r in large.runs}) == 6


def test_every_problem_is_reported_with_its_line(tmp_path):
    path = write(
        tmp_path,
        "name: s\n"
        "scenario: BASE\n"
        "parameters:\n"
        "  actors[home_2].peak_kw: [5]\n"                          # line 4: no such actor
        f"  {NOISE}: [1, 99]\n"                                  # line 5: 99 > 50
        "  actors[home_1].applications[load_profile].params.noise: [1]\n"  # line 6: typo
        "  run.duration: [1h, soon]\n",                           # line 7: not a duration
    )
    with pytest.raises(ScenarioError) as caught:
        load_sweep(path)
    lines = [str(p) for p in caught.value.problems]
    assert len(lines) == 4, lines
    assert lines[0].startswith(f"{path.name}:4: parameters.actors[home_2].peak_kw: actors[home_2]: no item has id") or ":4: " in lines[0]
    assert ":5: " in lines[1] and "value 99" in lines[1] and "noise_pct" in lines[1]
    assert ":6: " in lines[2] and "unknown field (did you mean 'noise_pct'?)" in lines[2]
    assert ":7: " in lines[3] and "'soon' is not a duration" in lines[3]


@pytest.mark.parametrize(
    "body, words",
    [
        ("name: s\nscenario: BASE\n", "nothing to sweep"),
        ("name: s\nscenario: BASE\nseeds: [1]\nreplicates: 2\n", "either seeds or replicates"),
        ("name: s\nscenario: BASE\nparameters:\n  run.seed: [1]\nseeds: [2]\n", "run.seed is swept"),
        ("name: s\nscenario: BASE\nparameters:\n  run.seed: []\n", "at least one value"),
        ("name: s\nscenario: BASE\nseeds: [1]\nworkers: 3\n", "workers: unknown field"),
        ("name: s\nscenario: missing.yaml\nseeds: [1]\n", "missing.yaml: cannot read file"),
    ],
)
def test_bad_sweep_files_exit_2_with_one_line_each(tmp_path, capsys, body, words):
    assert main(["sweep", str(write(tmp_path, body)), "--out", str(tmp_path), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert words in err, err
    assert "Traceback" not in err


def test_bad_options_exit_2(tmp_path, capsys):
    path = write(tmp_path, "name: s\nscenario: BASE\nseeds: [1]\n")
    assert main(["sweep", str(path), "--workers", "0"]) == 2
    assert main(["sweep", str(path), "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"]) == 2
    err = capsys.readouterr().err
    assert "--workers: 0 is not a number of workers" in err and "not both" in err


def test_files_named_relative_to_the_base_scenario_still_load_from_the_run_folder(tmp_path):
    """The resolved scenario runs from the run folder, so a relative grid case is made absolute in it."""
    import shutil

    import cosim.grid

    (tmp_path / "cases").mkdir()
    shutil.copy(Path(cosim.grid.__file__).parent / "cases" / "case9.json", tmp_path / "cases" / "my9.json")
    (tmp_path / "base.yaml").write_text(QUICKSTART.read_text() + "grid:\n  case: cases/my9.json\n")
    path = tmp_path / "sweep.yaml"
    path.write_text("name: g\nscenario: base.yaml\nparameters:\n  run.duration: [1h]\nseeds: [1]\n")
    assert main(["sweep", str(path), "--workers", "1", "--out", str(tmp_path / "out"), "--no-progress"]) == 0
    (run,) = load_sweep(path, tmp_path / "out").runs
    assert yaml.safe_load(run.scenario_yaml)["grid"]["case"] == str((tmp_path / "cases" / "my9.json").resolve())
