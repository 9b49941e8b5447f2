"""The cosim command as a user meets it: describe, run with overrides, apps."""

import json
import subprocess
import sys
from pathlib import Path

from cosim.cli import main

QUICKSTART = str(Path(__file__).parents[1] / "configs" / "quickstart.yaml")


def test_describe_lists_all_seven_domains_and_both_association_kinds(capsys):
    assert main(["describe", QUICKSTART]) == 0
    out = capsys.readouterr().out
    for domain in ("Bulk Generation", "Transmission", "Distribution", "Customer", "Operations", "Markets", "Service Provider"):
        assert domain in out
    assert "electrical" in out and "communication" in out
    assert "home_1" in out and "home  " in out  # sub-domain from peak demand


def test_run_overrides_seed_until_and_out(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", QUICKSTART, "--seed", "9", "--until", "6h", "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert f"Results: {out}" in printed
    assert "Customer" in printed
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 9
    assert manifest["simulated_time_s"] == 21600.0
    assert manifest["status"] == "completed"
    assert manifest["scenario_sha256"] and manifest["versions"]["simpy"]


def test_console_script_runs_quickstart(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "cosim.cli", "run", QUICKSTART, "--out", str(tmp_path / "r")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Done: 1d simulated" in proc.stdout


def test_apps_lists_registered_application_kinds(capsys):
    assert main(["apps"]) == 0
    out = capsys.readouterr().out
    assert "load_profile" in out and "rooftop_pv" in out
