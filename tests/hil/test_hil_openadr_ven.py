"""The scenario's VEN talks to an external OpenADR 2.0b VTN: openleadr's own VTN, started here on loopback.

The scenario is a DR site population (one site group: four sites that each
shed up to half their demand) and the ``openadr_ven`` of its node; the bench
(``hil.openadr_vens``) points that VEN at openleadr's ``OpenADRServer``, the
external party. The VEN must register, offer the group's metered power as a
TELEMETRY_USAGE report, take the VTN's event (40 % of the load, a few seconds
ahead, for three seconds), opt in, and make the sites shed exactly that share
of their demand during the event and not outside it; the VTN must receive the
optIn and metered-power readings that show the drop, and an optOut for an
event whose signal the VEN cannot act on. A VTN that refuses the
registration, or does not answer, fails the serve, naming the bench entry.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import re
import threading
from pathlib import Path
from typing import Any

import pytest

from cosim.hil.config import HilSettings, OpenAdrVenBench
from cosim.hil.session import BenchUnavailable, HilError
from hiltools import ServedWorld, free_port, settings, wait_until

openleadr = pytest.importorskip("openleadr")   # the optional ``openadr`` extra (in the test extra)

GROUP = "csp_a.ZB.08001.30P"
SHED_PCT = 40.0

SCENARIO = """
name: openadr_external_vtn
description: A site population's VEN served to an external VTN.
run: {duration: 120s, step: 1s, seed: 1}
actors:
  - {id: sites, domain: Customer, role: DR end-use sites}
  - {id: csp_a, domain: Service Provider, role: the CSP (its VTN is outside the simulation in HIL)}
devices:
  - id: dr_sites
    kind: dr_site_population
    actor: sites
    node: sites
    params:
      broker: broker
      zones: [{zone: ZB, load: zone_b, bus: B, base_mw: 0, sites: 4, zips: ["08001"]}]
      csps: [{csp: csp_a, share: 1.0}]
      lead_time_mix: {30: 1.0}
      emergency_share: 0
      curtail_min: 0.5
      curtail_max: 0.5
      noise_pct: 0
      day_sigma_pct: 0
      step: 1s
      status_interval: 1s
  - {id: ven_a, kind: openadr_ven, node: sites, actor: sites,
     params: {vtn: csp_a, csp: csp_a, population: dr_sites, broker: broker}}
grid:
  base_mva: 10
  frequency_hz: 60
  buses:
    - {name: sub, base_kv: 12.47}
    - {name: lv, base_kv: 12.47}
  generators:
    - {name: source, bus: sub, vm_pu: 1.0, slack: true, p_max_mw: 10}
  lines:
    - {name: feeder, from_bus: sub, to_bus: lv, r_ohm: 0.3, x_ohm: 0.35, rate_a_mva: 5}
  loads:
    - {name: zone_b, bus: lv, p_mw: 0.1, q_mvar: 0.03}
comm:
  nodes:
    - {id: broker, actor: sites}
    - {id: sites, actor: sites}
    - {id: csp_a, actor: csp_a}
  links:
    - {a: sites, b: broker, profile: lan}
    - {a: csp_a, b: broker, profile: lan}
  mqtt:
    brokers: [{node: broker}]
"""


class Vtn:
    """openleadr's VTN in a thread of its own: registers (or refuses) VENs, asks for reports, records answers."""

    def __init__(self, port: int, accept: bool = True) -> None:
        self.port, self.accept = port, accept
        self.registered: list[str] = []
        self.offered: list[tuple[str, str, str]] = []          # (resource, measurement, scale)
        self.readings: list[tuple[datetime.datetime, float]] = []
        self.answers: list[tuple[str, str]] = []               # (event id, opt type)
        self.lock = threading.Lock()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.server: Any = None

    def _register(self, payload: dict[str, Any]) -> Any:
        if not self.accept:
            return False
        with self.lock:
            self.registered.append(payload["ven_name"])
        return "VEN-EXT-1", "REG-1"

    def _register_report(self, ven_id: str, resource_id: str, measurement: str, unit: str, scale: str,
                         min_sampling_interval: datetime.timedelta, max_sampling_interval: datetime.timedelta) -> Any:
        with self.lock:
            self.offered.append((resource_id, measurement, scale))
        return self._reading, min_sampling_interval

    def _reading(self, data: list[tuple[datetime.datetime, float]]) -> None:
        with self.lock:
            self.readings.extend(data)

    async def _start(self) -> None:
        from openleadr import OpenADRServer

        self.server = OpenADRServer(vtn_id="EXTVTN", http_host="127.0.0.1", http_port=self.port,
                                    requested_poll_freq=datetime.timedelta(seconds=1), show_fingerprint=False,
                                    verify_message_signatures=False)
        self.server.add_handler("on_create_party_registration", self._register)
        self.server.add_handler("on_register_report", self._register_report)
        await self.server.run()

    def start(self) -> None:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(15)

    def send_event(self, start: datetime.datetime, duration: datetime.timedelta, event_id: str = "EXT-EVT-1",
                   signal: tuple[str, str, float] = ("LOAD_DISPATCH", "x-loadControlPercentOffset", -SHED_PCT)) -> None:
        def answered(ven_id: str, event_id: str, opt_type: str) -> None:
            with self.lock:
                self.answers.append((event_id, opt_type))

        async def add() -> None:
            self.server.add_event("VEN-EXT-1", signal[0], signal[1],
                                  [{"dtstart": start, "duration": duration, "signal_payload": signal[2]}],
                                  targets=[{"resource_id": GROUP}], callback=answered, event_id=event_id)
        asyncio.run_coroutine_threadsafe(add(), self.loop).result(5)

    def stop(self) -> None:
        if self.server is not None:
            asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def _bench(port: int) -> HilSettings:
    return settings(openadr_vens=[OpenAdrVenBench(device="ven_a", vtn_url=f"http://127.0.0.1:{port}/OpenADR2/Simple/2.0b",
                                                  ven_name="site-group-a", register_timeout_s=10)])


def _served(tmp_path: Path, port: int) -> ServedWorld:
    path = tmp_path / "scenario.yaml"
    path.write_text(SCENARIO)
    return ServedWorld(tmp_path / "out", _bench(port), duration_s=120.0, scenario_path=path)


def _series(out: Path, entity: str, quantity: str) -> list[tuple[float, float]]:
    import csv

    with open(out / "timeseries.csv") as handle:
        return [(float(r["time_s"]), float(r["value"])) for r in csv.DictReader(handle)
                if r["entity"] == entity and r["quantity"] == quantity]


def test_the_vens_take_an_external_vtns_event_and_report_the_metered_drop(tmp_path: Path) -> None:
    port = free_port()
    vtn = Vtn(port)
    vtn.start()
    served = None
    try:
        served = _served(tmp_path, port).start()   # registration happens here, before the run
        assert vtn.registered == ["site-group-a"]
        assert wait_until(lambda: bool(vtn.offered), 10.0)
        assert vtn.offered == [(GROUP, "RealPower", "k")]   # openleadr hands over the itemDescription
        assert wait_until(lambda: bool(vtn.readings), 10.0)
        start = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=3)
        vtn.send_event(start, datetime.timedelta(seconds=3))
        assert wait_until(lambda: bool(vtn.answers), 10.0), "the VEN answered the event"
        # a signal the VEN cannot act on (SIMPLE levels have no load share): opted out, never guessed at
        vtn.send_event(start + datetime.timedelta(hours=1), datetime.timedelta(minutes=5), "EXT-EVT-2",
                       ("SIMPLE", "level", 2.0))
        assert wait_until(lambda: len(vtn.answers) == 2, 10.0), "the VEN answered the second event"
        end = start + datetime.timedelta(seconds=3)
        assert wait_until(lambda: datetime.datetime.now(datetime.timezone.utc) > end + datetime.timedelta(seconds=2),
                          20.0)
    finally:
        if served is not None:
            served.stop()
        vtn.stop()
    assert vtn.answers == [("EXT-EVT-1", "optIn"), ("EXT-EVT-2", "optOut")]
    out = tmp_path / "out"
    events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    (out_event,) = [e for e in events if e["kind"] == "openadr_opt_out"]
    assert out_event["event_id"] == "EXT-EVT-2" and "signal SIMPLE/level is not supported" in out_event["reason"]
    (signal,) = [e for e in events if e["kind"] == "esi_signal"]
    assert signal["resource"] == GROUP and signal["reduction_pct"] == SHED_PCT
    # the event's UTC window on the paced clock: what the VEN handed the sites
    assert signal["end_s"] - signal["start_s"] == pytest.approx(3.0, rel=1e-6)
    load = _series(out, "dr_sites/ZB", "load")
    baseline = dict(_series(out, "dr_sites/ZB", "load_baseline"))
    inside = [(t, v) for t, v in load if signal["start_s"] <= t < signal["end_s"]]
    outside = [(t, v) for t, v in load if t < signal["start_s"] or t >= signal["end_s"]]
    assert inside and outside
    # every site sheds 40 % of its demand (its EMS could shed 50 %): the zone is these four sites only
    assert all(v == pytest.approx((1 - SHED_PCT / 100) * baseline[t], rel=1e-9) for t, v in inside)
    assert all(v == baseline[t] for t, v in outside)
    # the VTN's metered readings: the group's kW before the event, 60 % of it during
    with vtn.lock:
        readings = list(vtn.readings)
    before = [kw for at, kw in readings if at < start]
    during = [kw for at, kw in readings if start + datetime.timedelta(seconds=1.5) <= at < end]
    assert before and during, readings
    # demand follows the day's shape: within these seconds it moves by far less than the 0.1 % allowed
    assert during[0] == pytest.approx((1 - SHED_PCT / 100) * before[-1], rel=1e-3)


def test_a_vtn_that_refuses_the_registration_fails_the_serve_with_exit_3(tmp_path: Path) -> None:
    """As for a broker that refuses us: one line naming the bench entry, exit 3, the run recorded as failed."""
    import io

    from cosim.hil.command import EXIT_BENCH_UNAVAILABLE, serve
    from cosim.scenario import load_scenario

    port = free_port()
    vtn = Vtn(port, accept=False)
    vtn.start()
    path = tmp_path / "scenario.yaml"
    path.write_text(SCENARIO)
    stream = io.StringIO()
    try:
        code = serve(load_scenario(path), _bench(port), tmp_path / "out", stream)
    finally:
        vtn.stop()
    assert code == EXIT_BENCH_UNAVAILABLE
    said = stream.getvalue().strip().splitlines()
    assert len(said) == 1 and re.fullmatch(
        r"cosim serve: openadr_vens\[0\] \(ven_a\): the VTN at http://127\.0\.0\.1:\d+/OpenADR2/Simple/2\.0b refused "
        r"the registration of VEN 'site-group-a' \(200 OK, no registrationID\)", said[0]), said
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["status"] == "failed"


def test_a_bench_naming_no_ven_of_the_scenario_fails_the_serve(tmp_path: Path) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(SCENARIO)
    hil = settings(openadr_vens=[OpenAdrVenBench(device="dr_sites", vtn_url="http://127.0.0.1:9/OpenADR2/Simple/2.0b")])
    world = ServedWorld(tmp_path / "out", hil, duration_s=10.0, scenario_path=path)
    with pytest.raises(HilError, match=r"openadr_vens\[0\]\.device: the scenario has no openadr_ven 'dr_sites'"):
        world.session.start()
    world.world.recorder.close(status="test")


@pytest.mark.parametrize(("entry", "says"), [
    ("vtn_url: ftp://vtn/OpenADR2", "bench.yaml:4: hil.openadr_vens[0].vtn_url: 'ftp://vtn/OpenADR2' is not an http:// or https:// URL"),
    ("vtn_url: http://vtn:99999/x", "bench.yaml:4: hil.openadr_vens[0].vtn_url: 'http://vtn:99999/x' has a bad port"),
    ("vtn_url: http://vtn/x\n      tls: {cert_file: nowhere.pem, key_file: nowhere.key}",
     "bench.yaml:5: hil.openadr_vens[0].tls: cert_file 'nowhere.pem' is not a readable file"),
    ("vtn_url: http://vtn/x\n      ven_name: ''", "bench.yaml:5: hil.openadr_vens[0].ven_name: String should have at least 1 character"),
    ("vtn_url: http://vtn/x\n      colour: red", "bench.yaml:5: hil.openadr_vens[0].colour: unknown field"),
])
def test_bad_bench_fields_are_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str], entry: str,
                                              says: str) -> None:
    from cosim.cli import main

    bench = tmp_path / "bench.yaml"
    bench.write_text(f"hil:\n  openadr_vens:\n    - device: ven_a\n      {entry}\n")
    assert main(["validate", str(bench)]) == 2
    err = capsys.readouterr().err.strip()
    assert says in err and len(err.splitlines()) == 1, err


def test_a_vtn_that_does_not_answer_fails_the_serve(tmp_path: Path) -> None:
    world = _served(tmp_path, free_port())   # nothing listens there
    with pytest.raises(BenchUnavailable, match=r"openadr_vens\[0\] \(ven_a\): no answer from the VTN at http://127\.0\.0\.1"):
        world.session.start()
    world.world.recorder.close(status="test")


def _certificates(folder: Path) -> dict[str, Path]:
    """A test CA, the VTN's server certificate for 127.0.0.1 and the VEN's client certificate (PEM files)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gridcosim test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(ca_key, hashes.SHA256()))
    files = {"ca": folder / "ca.pem"}
    files["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    for name, san in (("vtn", [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), ("ven", [x509.DNSName("ven")])):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
                .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
                .add_extension(x509.SubjectAlternativeName(san), critical=False).sign(ca_key, hashes.SHA256()))
        files[f"{name}_cert"], files[f"{name}_key"] = folder / f"{name}.crt", folder / f"{name}.key"
        files[f"{name}_cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        files[f"{name}_key"].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                           serialization.NoEncryption()))
    return files


@pytest.mark.parametrize("sign", [True, False], ids=["signed", "unsigned"])
def test_mutual_tls_and_signed_messages_both_ways(tmp_path: Path, sign: bool) -> None:
    """openleadr's VTN over HTTPS demanding the VEN's client certificate, checking its fingerprint and signatures.

    Unsigned, the VEN still registers (it has no venID to check yet) but the
    VTN refuses its report registration: the run says so (``openadr_refused``).
    """
    from openleadr import OpenADRServer
    from openleadr.utils import certificate_fingerprint

    from cosim.hil.config import OpenAdrVenTls

    pem = _certificates(tmp_path)
    ven_fingerprint = certificate_fingerprint(pem["ven_cert"].read_bytes())
    port = free_port()
    vtn = Vtn(port)

    def lookup(ven_id: str | None) -> dict[str, str]:
        return {"ven_id": "VEN-EXT-1", "ven_name": "site-group-a", "fingerprint": ven_fingerprint,
                "registration_id": "REG-1"}

    async def start() -> None:
        vtn.server = OpenADRServer(vtn_id="EXTVTN", http_host="127.0.0.1", http_port=port, show_fingerprint=False,
                                   requested_poll_freq=datetime.timedelta(seconds=1), cert=str(pem["vtn_cert"]),
                                   key=str(pem["vtn_key"]), http_cert=str(pem["vtn_cert"]), http_key=str(pem["vtn_key"]),
                                   http_ca_file=str(pem["ca"]), ven_lookup=lookup, show_server_cert_domain=False)
        vtn.server.add_handler("on_create_party_registration", vtn._register)
        vtn.server.add_handler("on_register_report", vtn._register_report)
        await vtn.server.run()

    vtn.thread.start()
    asyncio.run_coroutine_threadsafe(start(), vtn.loop).result(15)
    path = tmp_path / "scenario.yaml"
    path.write_text(SCENARIO)
    tls = OpenAdrVenTls(cert_file=pem["ven_cert"], key_file=pem["ven_key"], ca_file=pem["ca"],
                        vtn_fingerprint=certificate_fingerprint(pem["vtn_cert"].read_bytes()), sign=sign)
    hil = settings(openadr_vens=[OpenAdrVenBench(device="ven_a", vtn_url=f"https://127.0.0.1:{port}/OpenADR2/Simple/2.0b",
                                                 ven_name="site-group-a", tls=tls)])
    served = None
    try:
        served = ServedWorld(tmp_path / "out", hil, duration_s=30.0, scenario_path=path).start()
        assert vtn.registered == ["site-group-a"]
        counts = served.world.recorder.event_counts
        if sign:
            assert wait_until(lambda: bool(vtn.readings), 10.0), "signed metered readings over mutual TLS"
            assert vtn.offered == [(GROUP, "RealPower", "k")] and counts.get("openadr_reports_offered") == 1
        else:
            assert wait_until(lambda: counts.get("openadr_refused", 0) == 1, 10.0)
            assert not vtn.offered and not vtn.readings and not counts.get("openadr_reports_offered")
    finally:
        if served is not None:
            served.stop()
        vtn.stop()


GATEWAY_SCENARIO = """
name: openadr_gateway_external_vtn
description: An individually emulated premise whose ESI gateway is enrolled over OpenADR, served to an external VTN.
run: {duration: 120s, step: 1s, seed: 1}
actors:
  - id: home1
    domain: Customer
    role: the premise's appliances (its demand, through its ESI gateway)
    applications:
      - {kind: load_profile, params: {load: zone_b, peak_kw: 50, shape: building, noise_pct: 0, step: 1}}
  - {id: sites, domain: Customer, role: the comm nodes' owner}
  - {id: csp_a, domain: Service Provider, role: the CSP (its VTN is outside the simulation in HIL)}
devices:
  - id: site1
    kind: esi_gateway
    actor: home1
    node: sites
    load: zone_b
    params:
      sample_period_s: 1
      mqtt: {broker: broker}
      enrolment: {csp: csp_a, zone: ZB, bus: B, zip: "08001", peak_kw: 50, curtail: 0.5, noise_pct: 0,
                  day_sigma_pct: 0, status_interval: 1s, protocol: openadr, vtn: csp_a}
""" + SCENARIO[SCENARIO.index("grid:"):]   # the same feeder and network


def test_an_enrolled_gateway_takes_an_external_vtns_event_and_reports_its_metered_drop(tmp_path: Path) -> None:
    """The premise's resource (csp_a, ZB, 08001, 30 min: the same id as the population's group) is the gateway's."""
    port = free_port()
    vtn = Vtn(port)
    vtn.start()
    path = tmp_path / "scenario.yaml"
    path.write_text(GATEWAY_SCENARIO)
    bench = settings(openadr_vens=[OpenAdrVenBench(device="site1", vtn_url=f"http://127.0.0.1:{port}/OpenADR2/Simple/2.0b",
                                                   ven_name="premise-1", register_timeout_s=10)])
    served = None
    try:
        served = ServedWorld(tmp_path / "out", bench, duration_s=120.0, scenario_path=path).start()
        assert vtn.registered == ["premise-1"]
        assert wait_until(lambda: bool(vtn.offered), 10.0)
        assert vtn.offered == [(GROUP, "RealPower", "k")]
        assert wait_until(lambda: bool(vtn.readings), 10.0)
        start = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=3)
        vtn.send_event(start, datetime.timedelta(seconds=3))
        assert wait_until(lambda: bool(vtn.answers), 10.0), "the gateway answered the event"
        end = start + datetime.timedelta(seconds=3)
        assert wait_until(lambda: datetime.datetime.now(datetime.timezone.utc) > end + datetime.timedelta(seconds=2),
                          20.0)
    finally:
        if served is not None:
            served.stop()
        vtn.stop()
    assert vtn.answers == [("EXT-EVT-1", "optIn")]
    out = tmp_path / "out"
    events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    (call,) = [e for e in events if e["kind"] == "esi_dr_event"]
    assert call["source"] == "openadr" and call["label"] == "EXT-EVT-1"
    assert call["duration_s"] == pytest.approx(3.0, rel=1e-6)
    # the premise sheds 40 % (it could shed 50 %) inside the event window on the paced clock, nothing outside
    demand = _series(out, "device/site1", "demand")
    inside = [v for t, v in demand if call["start_s"] + 1.0 <= t < call["start_s"] + call["duration_s"]]
    before = [v for t, v in demand if t < call["start_s"]]
    after = [v for t, v in demand if t >= call["start_s"] + call["duration_s"] + 1.0]
    assert inside and before and after
    # the building's demand moves by far less than 0.1 % within these seconds
    assert all(v == pytest.approx((1 - SHED_PCT / 100) * before[-1], rel=1e-3) for v in inside)
    assert after[0] == pytest.approx(before[-1], rel=1e-3)
    with vtn.lock:
        readings = list(vtn.readings)
    during = [kw for at, kw in readings if start + datetime.timedelta(seconds=1.5) <= at < end]
    assert during and during[0] == pytest.approx(inside[0], rel=1e-3)


def test_a_bench_naming_a_gateway_enrolled_over_mqtt_fails_the_serve(tmp_path: Path) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(GATEWAY_SCENARIO.replace("protocol: openadr, vtn: csp_a", "protocol: mqtt"))
    hil = settings(openadr_vens=[OpenAdrVenBench(device="site1", vtn_url="http://127.0.0.1:9/OpenADR2/Simple/2.0b")])
    world = ServedWorld(tmp_path / "out", hil, duration_s=10.0, scenario_path=path)
    with pytest.raises(HilError, match=r"openadr_vens\[0\]\.device: 'site1' is idle in this scenario "
                                       r"\(its params\.enrolment\.protocol is mqtt"):
        world.session.start()
    world.world.recorder.close(status="test")
