"""A comm link carried by another federate: gridcosim's SCADA polls its RTU through a network simulator.

Three processes on loopback: a broker, gridcosim (the quickstart, with link
``wan--substation`` declared as HELICS endpoints) and a stand-in network
simulator that takes the link's messages with a reroute filter, as ns-3's
HELICS module does, and sends them on after a fixed delay, dropping some.
The references are what that simulator did: every message that crossed the
link took exactly its delay, the ones it dropped never arrived, and SCADA's
Modbus master repeated each exchange that lost a message.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.coupling.helics_federation import ROOT, run_federation

EXAMPLE = ROOT / "configs" / "cosimulation"
LINK = "wan--substation"
DELAY_S = 0.040


def federation(tmp_path: Path, drop_every: int) -> tuple[list[list[object]], Path]:
    carried = tmp_path / "carried.json"
    ends = [f"gridcosim/{LINK}@wan", f"gridcosim/{LINK}@substation"]
    out_dir = run_federation(tmp_path, EXAMPLE / "helics_links.json", ROOT / "configs" / "quickstart.yaml", ["--until", "10min"],
                             "network", [str(DELAY_S), str(drop_every), str(carried), *ends])
    return json.loads(carried.read_text()), out_dir


def crossings(out_dir: Path) -> list[dict[str, str]]:
    """Trace rows of messages whose path crossed the carried link."""
    with (out_dir / "messages.csv").open() as f:
        rows = list(csv.DictReader(f))
    pair = {"wan", "substation"}
    return [r for r in rows if any({a, b} == pair for a, b in zip(r["path"].split(">"), r["path"].split(">")[1:]))]


@pytest.fixture(scope="module")
def lossy(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[list[object]], Path]:
    return federation(tmp_path_factory.mktemp("lossy"), drop_every=7)


def test_the_link_takes_the_network_simulators_delay(lossy):
    carried, out_dir = lossy
    with (out_dir / "link_stats.csv").open() as f:
        stats = {r["link"]: r for r in csv.DictReader(f)}[LINK]
    assert int(stats["sent"]) == len(carried) > 20
    assert int(stats["delivered"]) == sum(1 for c in carried if not c[3])
    assert float(stats["latency_p50_s"]) == pytest.approx(DELAY_S, rel=1e-6)
    assert float(stats["latency_max_s"]) == pytest.approx(DELAY_S, rel=1e-6)


def test_what_the_simulator_dropped_never_arrived_and_scada_saw_it(lossy):
    carried, out_dir = lossy
    rows = crossings(out_dir)
    assert len(rows) == len(carried)
    dropped = [r for r in rows if r["status"] != "delivered"]
    assert len(dropped) == sum(1 for c in carried if c[3]) > 0
    assert {r["reason"] for r in dropped} <= {"not_returned"}
    # Each carried message's size is what the simulator saw.
    sizes = sorted(int(r["size_bytes"]) for r in rows)
    assert sizes == sorted(max(8, int(c[1])) for c in carried)
    # SCADA's Modbus master saw each loss: the exchange timed out and the same request went again.
    requests = [r for r in rows if r["kind"] == "request" and r["src"] == "control_centre"]
    for lost in dropped:
        if lost["kind"] != "request":  # a lost response: the request it answered (same transaction id)
            lost = [r for r in requests if r["info"][:4] == lost["info"][:4] and float(r["sent_s"]) <= float(lost["sent_s"])][-1]
        retries = [r for r in requests if float(r["sent_s"]) > float(lost["sent_s"]) and r["info"][12:] == lost["info"][12:]]
        assert retries, lost


def test_the_federation_is_deterministic(lossy, tmp_path: Path):
    carried, out_dir = lossy
    again, out_again = federation(tmp_path / "again", drop_every=7)
    assert again == carried
    assert (out_again / "messages.csv").read_bytes() == (out_dir / "messages.csv").read_bytes()


def test_a_link_with_one_end_declared_is_refused_by_name(tmp_path: Path):
    config = {"name": "gridcosim", "coreType": "inproc", "coreInitString": "--autobroker",
              "endpoints": [{"name": "half", "info": f"link/{LINK}/wan"}]}
    path = tmp_path / "half.json"
    path.write_text(json.dumps(config))
    done = subprocess.run([sys.executable, "-m", "cosim.coupling.helics_federate", str(ROOT / "configs" / "quickstart.yaml"),
                           str(path), "--out", str(tmp_path / "run"), "--until", "1min"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [(
        f"{path}: link {LINK}: declare one endpoint for each end, link/{LINK}/wan and link/{LINK}/substation (declared: wan)")]
