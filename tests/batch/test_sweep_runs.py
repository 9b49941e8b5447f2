"""Running sweeps: same bytes whatever executes them, failures contained, resume skips finished runs."""

import csv
import json
from pathlib import Path

import pytest
from pydantic import Field

from cosim.batch import load_sweep, run_sweep
from cosim.batch.executors import DaskCluster, InProcess, LocalProcesses
from cosim.cli import main
from cosim.domains.registry import APPLICATIONS, Params, application
from cosim.nist import Domain

QUICKSTART = Path(__file__).parent / "small_scenario.yaml"  # fixed copy of the early quickstart
NOISE = "actors[home_1].applications[load_profile].params.noise_pct"


class FailParams(Params):
    fail_at_s: float | None = Field(None, description="raise at this simulated time")
    interrupt: bool = Field(False, description="raise KeyboardInterrupt (a user's Ctrl-C) instead")


if "sweep_test_failure" not in APPLICATIONS:

    @application("sweep_test_failure", {Domain.CUSTOMER}, FailParams)
    def sweep_test_failure(world, actor, params, ctx):
        """Raises at fail_at_s: a model bug in one run of a sweep."""
        if params.fail_at_s is None:
            return
        yield world.timeout(params.fail_at_s)
        if params.interrupt:
            raise KeyboardInterrupt
        raise RuntimeError(f"model bug at t={world.now:g}")


def sweep_file(tmp_path, extra=""):
    path = tmp_path / "sweep.yaml"
    path.write_text(
        f"name: story\nscenario: {QUICKSTART}\nparameters:\n  run.duration: [2h]\n  {NOISE}: [1, 5]\n{extra}seeds: [1, 2]\n"
    )
    return path


def data_digests(sweep):
    """Every run's data-file hashes from its manifest, plus the results table's bytes."""
    digests = {}
    for run in sweep.runs:
        manifest = json.loads((sweep.run_dir(run) / "manifest.json").read_text())
        digests[run.run_id] = {name: f["sha256"] for name, f in manifest["files"].items()}
    return digests, (sweep.out_dir / "results.csv").read_bytes()


def test_same_results_in_process_with_two_workers_and_on_dask(tmp_path):
    distributed = pytest.importorskip("distributed")
    path = sweep_file(tmp_path)
    one = load_sweep(path, tmp_path / "one")
    two = load_sweep(path, tmp_path / "two")
    dask = load_sweep(path, tmp_path / "dask")
    run_sweep(one, InProcess())
    run_sweep(two, LocalProcesses(2))
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        result = run_sweep(dask, DaskCluster(cluster.scheduler_address))
    assert result.count("completed") == 4
    assert data_digests(one) == data_digests(two) == data_digests(dask)
    assert (one.out_dir / "results.parquet").read_bytes() == (two.out_dir / "results.parquet").read_bytes()
    assert {"timeseries.csv", "summary.csv", "events.jsonl", "scenario.yaml", "params.json"} <= set(data_digests(one)[0][one.runs[0].run_id])


def test_table_has_parameters_status_and_summary_rows(tmp_path):
    sweep = load_sweep(sweep_file(tmp_path), tmp_path)
    run_sweep(sweep, InProcess())
    with open(sweep.out_dir / "results.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0])[:6] == ["run_id", "status", "error", "seed", "run.duration", NOISE]
    assert {r["status"] for r in rows} == {"completed"}
    assert {(r[NOISE], r["seed"]) for r in rows} == {("1", "1"), ("1", "2"), ("5", "1"), ("5", "2")}
    demand = [r for r in rows if r["quantity"] == "demand_p"]
    assert len(demand) == 4 and all(r["domain"] == "Customer" and float(r["max"]) > 0 for r in demand)
    pq = pytest.importorskip("pyarrow.parquet")
    table = pq.read_table(sweep.out_dir / "results.parquet")
    assert table.num_rows == len(rows)
    assert str(table.schema.field(NOISE).type) == "double" and str(table.schema.field("samples").type) == "int64"


FAIL_AT = "actors[home_1].applications[sweep_test_failure].params.fail_at_s"


def failing_sweep(tmp_path, extra=""):
    base = tmp_path / "base.yaml"
    app = "{kind: sweep_test_failure" + (", params: {interrupt: true}}" if extra == "interrupt" else "}")
    base.write_text(QUICKSTART.read_text().replace("      - {kind: rooftop_pv", f"      - {app}\n      - {{kind: rooftop_pv"))
    path = tmp_path / "sweep.yaml"
    path.write_text(f"name: failing\nscenario: base.yaml\nparameters:\n  run.duration: [2h]\n  {FAIL_AT}: [null, 1800]\nseeds: [3]\n")
    return path


def test_a_failing_run_is_reported_and_the_others_finish(tmp_path, capsys):
    path = failing_sweep(tmp_path)
    assert main(["sweep", str(path), "--workers", "1", "--out", str(tmp_path), "--no-progress"]) == 1
    captured = capsys.readouterr()
    assert "1 completed, 0 skipped (already completed), 1 failed" in captured.out
    assert "RuntimeError: model bug at t=1800" in captured.err
    rows = list(csv.DictReader(open(tmp_path / "failing" / "results.csv", newline="")))
    failed = [r for r in rows if r["status"] == "failed"]
    assert len({r["run_id"] for r in failed}) == 1
    assert {r["error"] for r in failed} == {"RuntimeError: model bug at t=1800"}
    assert {r["domain"] for r in failed} == {"Customer"}  # what was recorded up to the failure is kept
    assert any(r["status"] == "completed" for r in rows)


def test_resume_skips_completed_runs_and_reruns_changed_ones(tmp_path, capsys):
    path = sweep_file(tmp_path)
    args = ["sweep", str(path), "--workers", "1", "--out", str(tmp_path), "--no-progress"]
    assert main(args) == 0
    table = (tmp_path / "story" / "results.csv").read_bytes()
    assert main(args + ["--resume"]) == 0
    assert "0 completed, 4 skipped" in capsys.readouterr().out
    assert (tmp_path / "story" / "results.csv").read_bytes() == table

    sweep = load_sweep(path, tmp_path)
    victim = sweep.run_dir(sweep.runs[0]) / "manifest.json"
    manifest = json.loads(victim.read_text())
    victim.write_text(json.dumps({**manifest, "status": "failed"}))
    # a new value adds runs; the finished ones keep their ids and are skipped
    path.write_text(path.read_text().replace(f"{NOISE}: [1, 5]", f"{NOISE}: [1, 5, 9]"))
    assert main(args + ["--resume"]) == 0
    assert "3 completed, 3 skipped" in capsys.readouterr().out


def test_command_line_picks_the_executor_and_runs_on_a_dask_scheduler(tmp_path, capsys):
    from cosim.batch.executors import choose

    assert choose(1, None) == InProcess() and choose(3, None) == LocalProcesses(3)
    assert choose(4, "tcp://10.0.0.5:8786") == DaskCluster("tcp://10.0.0.5:8786")
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        code = main(["sweep", str(sweep_file(tmp_path)), "--scheduler", cluster.scheduler_address, "--out", str(tmp_path), "--no-progress"])
    assert code == 0
    out = capsys.readouterr().out
    assert f"on Dask scheduler {cluster.scheduler_address}" in out and "4 completed" in out


def test_an_interrupted_sweep_still_writes_its_table(tmp_path, capsys):
    path = failing_sweep(tmp_path, "interrupt")
    assert main(["sweep", str(path), "--workers", "1", "--out", str(tmp_path), "--no-progress"]) == 130
    assert "interrupted; finished runs and the table so far are in" in capsys.readouterr().err
    rows = list(csv.DictReader(open(tmp_path / "failing" / "results.csv", newline="")))
    assert {r[FAIL_AT]: r["status"] for r in rows} == {"": "completed", "1800": "interrupted"}
