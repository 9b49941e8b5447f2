"""The recorder streams tidy files that stay readable when a run fails halfway."""

import csv
import json
import textwrap

from pydantic import Field

from cosim.cli import main
from cosim.domains import Params, application
from cosim.kernel import Recorder
from cosim.nist import Domain


class FailAtParams(Params):
    at_s: float = Field(gt=0)


@application("test_fail_at", {Domain.CUSTOMER}, FailAtParams)
def fail_at(world, actor, params, ctx):
    """Test-only: records every minute, then raises at ``at_s``."""
    while world.now < params.at_s:
        world.record(actor.actor_id, "alive", 1.0, "1")
        yield world.timeout(60.0)
    raise RuntimeError("simulated crash")


def test_tidy_timeseries_and_events(tmp_path):
    now = [0.0]
    recorder = Recorder(tmp_path, clock=lambda: now[0])
    recorder.record("meter/1", "p", 1.5, "kW")
    now[0] = 60.0
    recorder.record("meter/1", "p", 2.0, "kW")
    recorder.log("breaker_open", breaker="b1")
    recorder.table("messages", ("time_s", "source")).write((60.0, "rtu1"))
    recorder.close(status="completed")
    rows = list(csv.reader(open(tmp_path / "timeseries.csv")))
    assert rows == [["time_s", "entity", "quantity", "value", "unit"], ["0.0", "meter/1", "p", "1.5", "kW"], ["60.0", "meter/1", "p", "2.0", "kW"]]
    assert json.loads(open(tmp_path / "events.jsonl").read()) == {"time_s": 60.0, "kind": "breaker_open", "breaker": "b1"}
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert set(manifest["files"]) == {"timeseries.csv", "events.jsonl", "messages.csv"}
    assert recorder.stats[("meter/1", "p")].mean == 1.75


def test_crashed_run_keeps_everything_recorded(tmp_path, capsys):
    scenario = tmp_path / "crash.yaml"
    scenario.write_text(
        textwrap.dedent(
            """\
            name: crash
            run: {duration: 1d, step: 15min, seed: 1}
            actors:
              - id: home
                domain: Customer
                role: Home
                peak_kw: 5
                applications:
                  - {kind: load_profile}
                  - {kind: test_fail_at, params: {at_s: 21600}}
            """
        )
    )
    out = tmp_path / "out"
    assert main(["run", str(scenario), "--out", str(out), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "run failed at t=21600 s: RuntimeError: simulated crash" in err
    assert "Traceback" not in err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "failed" and "simulated crash" in manifest["error"]
    rows = list(csv.DictReader(open(out / "timeseries.csv")))
    alive = [r for r in rows if r["quantity"] == "alive"]
    assert len(alive) == 360  # one a minute for six hours
    assert max(float(r["time_s"]) for r in rows) == 21600.0
    assert (out / "summary.csv").exists()
