"""What cosim sweep prints and how it names run folders: by the item and key a value belongs to."""

from __future__ import annotations

from pathlib import Path

from cosim.cli import main

SCENARIO = Path(__file__).with_name("small_scenario.yaml")
NOISE = "actors[home_1].applications[load_profile].params.noise_pct"


def test_sweep_prints_its_runs_and_names_folders_by_parameter_path(tmp_path, capsys):
    path = tmp_path / "sweep.yaml"
    path.write_text(f"name: s\nscenario: {SCENARIO}\nparameters:\n  run.duration: [2h]\n  {NOISE}: [1, 5]\nseeds: [1]\n")
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--workers", "1", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    header = next(line for line in printed.splitlines() if line.startswith("run "))
    assert header.split() == ["run", "seed", "duration", "home_1.noise_pct", "status"]
    folders = sorted(p.name for p in (tmp_path / "out" / "s").iterdir() if p.is_dir())
    assert [f.rsplit("-", 1)[0] for f in folders] == ["duration-2h_home_1.noise_pct-1_seed-1", "duration-2h_home_1.noise_pct-5_seed-1"]
    for folder in folders:
        assert f"{folder} " in printed and "completed" in printed
