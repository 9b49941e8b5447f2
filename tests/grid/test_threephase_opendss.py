"""The unbalanced power flow against OpenDSS solving the same ``.dss`` files at test time.

Every node of every bus is compared: magnitude within 0.002 pu (each tool on
its own voltage bases, so the base assignment is checked too) and angle
within 0.1 degree, the issue's target. The IEEE 13 node feeder runs at the
published regulator taps and at the taps OpenDSS's own RegControl picks; a
meshed variant adds a tie line; small feeders cover each transformer
connection with wye and delta loads of every model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cosim.grid.actions import ScaleLoad, SetLoad, SetLoadInService, SetShuntStep, SetSwitch, SetTap
from cosim.grid.threephase import IEEE13, IEEE34, IEEE123, FeederService, read_dss, solver
from cosim.grid.threephase.results import ThreePhaseResult
from opendss_reference import OpenDssSolution, opendss_solve

VM_TOL_PU = 0.002
VA_TOL_DEG = 0.1
# IEEE 13 node test feeder, published solution: taps +10, +8, +11 of 5/8 % each.
PUBLISHED_TAPS = {"reg1": 1.0625, "reg2": 1.05, "reg3": 1.06875}
FIXED_TAPS = tuple(f"Transformer.{r}.Taps=[1.0 {t}]" for r, t in PUBLISHED_TAPS.items()) \
    + ("Set Controlmode=OFF",)


def assert_matches(ours: ThreePhaseResult, ref: OpenDssSolution) -> None:
    assert ours.converged and ref.converged
    index = {(nd.bus, nd.conductor): i for i, nd in enumerate(ours.nodes)}
    assert set(index) == set(ref.v), "both tools must see the same conductors"
    worst_vm = worst_va = 0.0
    for key, v_ref in ref.v.items():
        i = index[key]
        worst_vm = max(worst_vm, abs(float(ours.vm_pu[i]) - ref.vm_pu[key]))
        if abs(v_ref) > 1.0:
            worst_va = max(worst_va, abs(float(np.degrees(np.angle(ours.v[i] / v_ref)))))
        else:
            assert abs(ours.v[i]) < 1.0, f"{key}: de-energised in OpenDSS, not here"
    assert worst_vm <= VM_TOL_PU, f"largest magnitude difference {worst_vm:.5f} pu"
    assert worst_va <= VA_TOL_DEG, f"largest angle difference {worst_va:.4f} deg"


def test_ieee13_at_the_published_taps_matches_opendss() -> None:
    ref = opendss_solve(IEEE13, FIXED_TAPS)
    svc = FeederService(read_dss(IEEE13))
    for reg, tap in PUBLISHED_TAPS.items():
        svc.apply(SetTap(reg, tap_ratio=tap))
    ours = svc.solve()
    assert_matches(ours, ref)
    assert ours.losses_kw == pytest.approx(ref.losses_kw, rel=1e-3)
    assert ours.source_kw == pytest.approx(ref.source_kw, rel=1e-4)


# IEEE 34 node feeder, published solution taps (OpenDSS's Run_IEEE34Mod2.dss).
PUBLISHED_TAPS_34 = {"reg1a": 12, "reg1b": 5, "reg1c": 5, "reg2a": 13, "reg2b": 11, "reg2c": 12}


def test_ieee34_at_the_published_taps_matches_opendss() -> None:
    svc = FeederService(read_dss(IEEE34))
    for reg, step in PUBLISHED_TAPS_34.items():
        svc.apply(SetTap(reg, tap_ratio=1 + 0.00625 * step))
    ours = svc.solve()
    ref = opendss_solve(IEEE34, tuple(f"Transformer.{r}.wdg=2 Tap={1 + 0.00625 * n}"
                                      for r, n in PUBLISHED_TAPS_34.items())
                        + ("Set Controlmode=OFF",))
    assert_matches(ours, ref)
    assert ours.losses_kw == pytest.approx(ref.losses_kw, rel=1e-3)


# IEEE 123 node feeder, published solution taps (OpenDSS's Run_IEEE123Bus.DSS).
PUBLISHED_TAPS_123 = {"reg1a": 7, "reg2a": -1, "reg3a": 0, "reg3c": -1, "reg4a": 8, "reg4b": 1,
                      "reg4c": 5}


def test_ieee123_at_the_published_taps_matches_opendss() -> None:
    svc = FeederService(read_dss(IEEE123))
    for reg, step in PUBLISHED_TAPS_123.items():
        svc.apply(SetTap(reg, tap_ratio=1 + 0.00625 * step))
    ours = svc.solve()
    ref = opendss_solve(IEEE123, tuple(f"Transformer.{r}.wdg=2 Tap={1 + 0.00625 * n}"
                                       for r, n in PUBLISHED_TAPS_123.items())
                        + ("Set Controlmode=OFF",))
    assert_matches(ours, ref)
    assert ours.losses_kw == pytest.approx(ref.losses_kw, rel=1e-3)


def test_ieee123_past_the_dense_coupling_limit_matches_opendss(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A feeder too large for the dense load coupling solves through the sparse factors."""
    monkeypatch.setattr(solver, "DENSE_COUPLING_LIMIT", 0)
    svc = FeederService(read_dss(IEEE123))
    for reg, step in PUBLISHED_TAPS_123.items():
        svc.apply(SetTap(reg, tap_ratio=1 + 0.00625 * step))
    svc.solve()
    svc.apply(ScaleLoad(0.7))
    ours = svc.solve()
    assert svc.measurements().prepared.coupling.zb is None  # type: ignore[union-attr]
    ref = opendss_solve(IEEE123, tuple(f"Transformer.{r}.wdg=2 Tap={1 + 0.00625 * n}"
                                       for r, n in PUBLISHED_TAPS_123.items())
                        + ("Set Controlmode=OFF", "Set LoadMult=0.7"))
    assert_matches(ours, ref)


def test_ieee13_at_the_taps_opendss_regcontrol_settles_on_matches_opendss() -> None:
    ref = opendss_solve(IEEE13)
    svc = FeederService(read_dss(IEEE13))
    for reg in PUBLISHED_TAPS:
        svc.apply(SetTap(reg, tap_ratio=ref.taps[reg]))
    assert_matches(svc.solve(), ref)


def test_ieee13_after_a_load_change_and_an_open_switch_matches_opendss() -> None:
    svc = FeederService(read_dss(IEEE13))
    for reg, tap in PUBLISHED_TAPS.items():
        svc.apply(SetTap(reg, tap_ratio=tap))
    svc.solve()
    svc.apply(SetLoad("671", p_mw=0.6, q_mvar=0.2))
    assert_matches(svc.solve(), opendss_solve(IEEE13, FIXED_TAPS + ("Load.671.kW=600",
                                                                    "Load.671.kvar=200")))
    svc.apply(SetSwitch("671692", closed=False))
    assert_matches(svc.solve(), opendss_solve(IEEE13, FIXED_TAPS + (
        "Load.671.kW=600", "Load.671.kvar=200", "open Line.671692 term=1")))


def test_ieee13_with_a_capacitor_off_and_a_load_disconnected_matches_opendss() -> None:
    svc = FeederService(read_dss(IEEE13))
    for reg, tap in PUBLISHED_TAPS.items():
        svc.apply(SetTap(reg, tap_ratio=tap))
    svc.apply(SetShuntStep("cap1", 0))
    svc.apply(SetLoadInService("675a", in_service=False))
    assert_matches(svc.solve(), opendss_solve(IEEE13, FIXED_TAPS + (
        "Capacitor.cap1.enabled=no", "Load.675a.enabled=no")))


def test_ieee13_with_a_tie_line_making_a_loop_matches_opendss(tmp_path: Path) -> None:
    meshed = tmp_path / "ieee13_meshed.dss"
    meshed.write_text(f'redirect "{IEEE13}"\n'
                      "New Line.tie Phases=3 Bus1=680 Bus2=675 LineCode=mtx601 "
                      "Length=800 units=ft\n" + "\n".join(FIXED_TAPS) + "\n")
    ours = FeederService(read_dss(meshed)).solve()
    assert_matches(ours, opendss_solve(meshed))


FEEDER = """Clear
New Circuit.t basekv=12.47 pu=1.02 phases=3 bus1=src MVAsc3=200 MVAsc1=180
New Transformer.t phases=3 windings=2 XHL=6 {leadlag}
~ wdg=1 bus=src conn={c1} kv=12.47 kva=3000 %r=0.6
~ wdg=2 bus=lv conn={c2} kv=4.16 kva=3000 %r=0.6 tap=1.0125
New Linecode.c3 nphases=3 units=kft
~ rmatrix=(0.0868 | 0.0296 0.0884 | 0.0291 0.0299 0.0874)
~ xmatrix=(0.2042 | 0.0950 0.1985 | 0.0729 0.0802 0.2017)
~ cmatrix=(2.85 | -0.92 3.00 | -0.35 -0.59 2.71)
New Line.l1 bus1=lv bus2=m linecode=c3 length=2 units=kft
New Line.l2 bus1=m.1.3 bus2=lat.1.3 phases=2 r1=0.3 x1=0.6 r0=0.7 x0=1.9 c1=3 c0=1.5 length=1.5 units=kft
New Line.l3 bus1=m bus2=far phases=3 r1=0.1 x1=0.3 r0=0.4 x0=1.1 length=1 units=kft
New Load.d3 bus1=m phases=3 conn=delta model=1 kv=4.16 kw=900 kvar=400
New Load.y1 bus1=far.2 phases=1 conn=wye model=5 kv=2.4 kw=300 kvar=120
New Load.z1 bus1=far.3 phases=1 conn=wye model=2 kv=2.4 kw=250 kvar=90
New Load.dd bus1=lat.3.1 phases=1 conn=delta model=1 kv=4.16 kw=350 kvar=150
New Load.y3 bus1=far phases=3 conn=wye model=1 kv=4.16 kw=600 kvar=250
New Capacitor.c1 bus1=m phases=3 kvar=300 kv=4.16
Set Voltagebases=[12.47, 4.16]
calcv
"""


@pytest.mark.parametrize("c1, c2, leadlag", [
    ("delta", "wye", ""),             # Dyn1, ANSI: low side lags 30 degrees
    ("delta", "wye", "leadlag=lead"),  # Dyn11
    ("wye", "wye", ""),               # YNyn0
    ("wye", "delta", ""),             # YNd1 (ungrounded secondary; wye loads ground it)
    ("delta", "delta", ""),           # Dd0
])
def test_transformer_connections_with_mixed_loads_match_opendss(tmp_path: Path, c1: str, c2: str,
                                                                 leadlag: str) -> None:
    path = tmp_path / "feeder.dss"
    path.write_text(FEEDER.format(c1=c1, c2=c2, leadlag=leadlag))
    ours = FeederService(read_dss(path)).solve()
    ref = opendss_solve(path)
    assert_matches(ours, ref)
    assert ours.losses_kw == pytest.approx(ref.losses_kw, rel=1e-3)


def test_ieee13_terminal_currents_and_powers_match_opendss() -> None:
    """Per-conductor currents of lines and transformers, and load powers, as OpenDSS reports them."""
    import dss

    svc = FeederService(read_dss(IEEE13))
    for reg, tap in PUBLISHED_TAPS.items():
        svc.apply(SetTap(reg, tap_ratio=tap))
    m = svc.measurements()
    opendss_solve(IEEE13, FIXED_TAPS)
    circuit = dss.DSS.ActiveCircuit
    for line in ("650632", "632645", "684652", "692675"):
        circuit.SetActiveElement(f"Line.{line}")
        mag = circuit.ActiveCktElement.CurrentsMagAng[0::2]
        n = len(mag) // 2
        for end, ref in (("from", mag[:n]), ("to", mag[n:])):
            np.testing.assert_allclose(m.line(line, end).i_a, ref, rtol=1e-3, atol=1e-3)
    circuit.SetActiveElement("Transformer.XFM1")
    mag = circuit.ActiveCktElement.CurrentsMagAng[0::2]
    np.testing.assert_allclose(m.transformer("xfm1", 2).i_a[:3], mag[4:7], rtol=1e-3)
    for load in ("671", "692", "652", "675b"):
        circuit.SetActiveElement(f"Load.{load}")
        p = np.array(circuit.ActiveCktElement.Powers)
        reading = m.load(load)
        assert reading.p_kw == pytest.approx(p[0::2].sum(), rel=1e-3)
        assert reading.q_kvar == pytest.approx(p[1::2].sum(), rel=1e-3)


GEOMETRY_FEEDER = """Clear
New Circuit.g basekv=4.16 pu=1.0 phases=3 bus1=src MVAsc3=100 MVAsc1=90
New WireData.ACSR_556_5 DIAM=0.927 GMRac=0.37320 Rdc=0.035227273 Runits=kft Radunits=in gmrunits=in
New WireData.ACSR_4/0 DIAM=0.563 GMRac=0.09768 Rdc=0.112121212 Runits=kft Radunits=in gmrunits=in
New WireData.AL_1/0 diam=0.398 Rac=0.2 Runits=kft Radunits=in
New LineGeometry.three nconds=4 nphases=3 reduce=y
~ cond=1 wire=ACSR_556_5 x=-4 h=28 units=ft
~ cond=2 wire=ACSR_556_5 x=-1 h=28 units=ft
~ cond=3 wire=ACSR_556_5 x=3 h=28 units=ft
~ cond=4 wire=ACSR_4/0 x=0 h=24 units=ft
New LineGeometry.two nconds=3 nphases=2 reduce=y
~ cond=1 wire=AL_1/0 x=-2.5 h=28 units=ft
~ cond=2 wire=AL_1/0 x=2.5 h=28 units=ft
~ cond=3 wire=ACSR_4/0 x=0 h=24 units=ft
New LineGeometry.one nconds=2 nphases=1 reduce=y
~ cond=1 wire=AL_1/0 x=0 h=29 units=ft
~ cond=2 wire=AL_1/0 x=0.5 h=24 units=ft
New Line.main bus1=src bus2=a geometry=three length=3000 units=ft
New Line.lat2 bus1=a.3.1 bus2=b.3.1 phases=2 geometry=two length=1200 units=ft
New Line.lat1 bus1=b.1 bus2=c.1 phases=1 geometry=one length=0.2 units=mi rho=300
New Load.a3 bus1=a phases=3 conn=wye model=1 kv=4.16 kw=600 kvar=250
New Load.b bus1=b.3.1 phases=1 conn=delta model=2 kv=4.16 kw=150 kvar=60
New Load.c bus1=c.1 phases=1 conn=wye model=5 kv=2.4 kw=80 kvar=30
Set Voltagebases=[4.16]
calcv
"""


def test_lines_from_conductor_geometry_match_opendss(tmp_path: Path) -> None:
    """Impedance and capacitance from wires and spacing (Deri earth return, Kron-reduced neutral)."""
    import dss

    path = tmp_path / "geometry.dss"
    path.write_text(GEOMETRY_FEEDER)
    ours = FeederService(read_dss(path))
    ref = opendss_solve(path)
    assert_matches(ours.solve(), ref)
    circuit = dss.DSS.ActiveCircuit
    feeder = ours.feeder
    # OpenDSS reports the matrices per unit of the line's own length unit.
    for name, length in (("main", 3000), ("lat2", 1200), ("lat1", 0.2)):
        circuit.Lines.Name = name
        ln = feeder.lines[feeder.index("lines", name)]
        n = len(ln.bus1)
        z = np.array(circuit.Lines.Rmatrix) + 1j * np.array(circuit.Lines.Xmatrix)
        np.testing.assert_allclose(ln.z_ohm / length, z.reshape(n, n), rtol=1e-5)
        c_nf = np.array(circuit.Lines.Cmatrix).reshape(n, n)
        np.testing.assert_allclose(ln.c_f * 1e9 / length, c_nf, rtol=1e-4, atol=1e-9)


@pytest.mark.parametrize("bus, phases, ground, opendss", [
    ("671", (1,), True, "New Fault.f bus1=671.1 phases=1 r=0.0001"),             # SLG
    ("652", (1,), True, "New Fault.f bus1=652.1 phases=1 r=0.5"),                # SLG, lateral, 0.5 ohm
    ("692", (2, 3), False, "New Fault.f bus1=692.2 bus2=692.3 phases=1 r=0.0001"),  # LL
    ("675", (2, 3), True, "New Fault.f bus1=675.2.3 phases=2 r=0.0001"),         # LLG
    ("632", (1, 2, 3), True, "New Fault.f bus1=632.1.2.3 phases=3 r=0.0001"),    # three-phase
])
def test_ieee13_asymmetric_faults_match_opendss(bus: str, phases: tuple[int, ...], ground: bool,
                                                opendss: str) -> None:
    """The faulted feeder solved as a power flow (loads keep their laws), as OpenDSS's snapshot."""
    import dss

    from cosim.grid.threephase.actions import ApplyPhaseFault

    r_ohm = float(opendss.rsplit("r=", 1)[1])
    svc = FeederService(read_dss(IEEE13))
    for reg, tap in PUBLISHED_TAPS.items():
        svc.apply(SetTap(reg, tap_ratio=tap))
    svc.apply(ApplyPhaseFault(bus, phases, ground=ground, r_ohm=r_ohm))
    m = svc.measurements()
    assert_matches(m.result, opendss_solve(IEEE13, FIXED_TAPS + (opendss,)))
    circuit = dss.DSS.ActiveCircuit
    circuit.SetActiveElement("Fault.f")
    ref = circuit.ActiveCktElement.CurrentsMagAng[0::2]
    np.testing.assert_allclose(m.fault_currents_a(), ref[:len(ref) // 2], rtol=1e-3)
    # What a feeder-head relay sees: sequence currents in the first line section.
    circuit.SetActiveElement("Line.650632")
    seq_ref = circuit.ActiveCktElement.SeqCurrents[:3]
    np.testing.assert_allclose(m.line("650632", "from").sequence_a(), seq_ref, rtol=1e-3,
                               atol=1e-2)


OPEN_DELTA_FEEDER = """Clear
New Circuit.od basekv=12.47 pu=1.01 phases=3 bus1=src MVAsc3=150 MVAsc1=120
New Line.feed bus1=src bus2=pri r1=0.3 x1=0.7 r0=0.9 x0=2.1 c1=3 c0=1.5 length=2 units=kft
New Transformer.ab phases=1 windings=2 xhl=2.2
~ wdg=1 bus=pri.1.2 conn=delta kv=12.47 kva=100 %r=0.7
~ wdg=2 bus=sec.1.2 conn=delta kv=0.24 kva=100 %r=0.7
New Transformer.bc phases=1 windings=2 xhl=2.0
~ wdg=1 bus=pri.2.3 conn=delta kv=12.47 kva=50 %r=0.8
~ wdg=2 bus=sec.2.3 conn=delta kv=0.24 kva=50 %r=0.8
New Load.m bus1=sec phases=3 conn=delta model=1 kv=0.24 kw=45 kvar=25
New Load.l1 bus1=sec.1.2 phases=1 conn=delta model=2 kv=0.24 kw=20 kvar=6
New Load.gnd bus1=sec phases=3 conn=wye model=2 kv=0.24 kw=6 kvar=1
Set voltagebases=[12.47, 0.24]
calcv
"""


def test_an_open_delta_bank_of_two_single_phase_transformers_matches_opendss(tmp_path: Path) -> None:
    """Two phase-to-phase transformers feed a three-phase delta secondary (a wye load grounds it)."""
    path = tmp_path / "open_delta.dss"
    path.write_text(OPEN_DELTA_FEEDER)
    ours = FeederService(read_dss(path)).solve()
    ref = opendss_solve(path)
    assert_matches(ours, ref)
    assert ours.losses_kw == pytest.approx(ref.losses_kw, rel=1e-3)


THREE_WINDING_FEEDER = """Clear
New Circuit.tw basekv=12.47 pu=1.02 phases=3 bus1=src MVAsc3=200 MVAsc1=180
New Line.feed bus1=src bus2=pri r1=0.3 x1=0.7 r0=0.9 x0=2.1 c1=3 c0=1.5 length=1 units=kft
New Transformer.ct phases=1 windings=3 Xhl=2.04 Xht=2.04 Xlt=1.36
~ wdg=1 bus=pri.1.0 kv=7.2 kva=25 %r=0.6
~ wdg=2 bus=sec.1.0 kv=0.12 kva=25 %r=1.2
~ wdg=3 bus=sec.0.2 kv=0.12 kva=25 %r=1.2
New Load.h1 bus1=sec.1 phases=1 kv=0.12 kw=4 kvar=1 model=1
New Load.h2 bus1=sec.2 phases=1 kv=0.12 kw=6 kvar=2 model=1
New Load.h12 bus1=sec.1.2 phases=1 conn=delta kv=0.24 kw=8 kvar=3 model=2
New Transformer.t3 phases=3 windings=3 buses=[pri, mv, lv] conns=[wye, wye, delta]
~ kvs=[12.47 4.16 0.48] kvas=[5000 3000 2000] xhl=7 xht=9 xlt=5 %rs=[0.5 0.6 0.7]
New Load.mv bus1=mv phases=3 conn=wye model=1 kv=4.16 kw=1500 kvar=600
New Load.mv1 bus1=mv.2 phases=1 conn=wye model=5 kv=2.4 kw=300 kvar=100
New Load.lv bus1=lv phases=3 conn=delta model=1 kv=0.48 kw=900 kvar=300
New Load.lvg bus1=lv phases=3 conn=wye model=2 kv=0.48 kw=30 kvar=5
Set voltagebases=[12.47, 4.16, 0.48, 0.208]
calcv
"""


def test_three_winding_transformers_match_opendss(tmp_path: Path) -> None:
    """A centre-tapped 7.2 kV / 120-240 V service transformer and a three-phase YNynd bank
    with unequal winding ratings and three short-circuit reactances."""
    path = tmp_path / "three_winding.dss"
    path.write_text(THREE_WINDING_FEEDER)
    ours = FeederService(read_dss(path)).solve()
    ref = opendss_solve(path)
    assert_matches(ours, ref)
    assert ours.losses_kw == pytest.approx(ref.losses_kw, rel=1e-3)


CODES_FEEDER = """Clear
New Circuit.xc basekv=12.47 pu=1.0 phases=3 bus1=src MVAsc3=300 MVAsc1=250
New Linecode.4w nphases=4 units=mi
~ rmatrix=(0.3 | 0.1 0.3 | 0.1 0.1 0.3 | 0.1 0.1 0.1 0.6)
~ xmatrix=(1.0 | 0.45 1.0 | 0.4 0.42 1.0 | 0.38 0.40 0.41 1.2)
~ cmatrix=(12 | -3 12 | -2 -3 12 | -1 -1 -1 10)
~ kron=y
New Line.main bus1=src bus2=reg linecode=4w length=1.5 units=mi
New XfmrCode.leg phases=1 windings=2 xhl=0.01 kvas=[2000 2000] kvs=[7.2 7.2] %LoadLoss=0.01
New Transformer.ra xfmrcode=leg buses=[reg.1 out.1]
New Transformer.rb xfmrcode=leg buses=[reg.2 out.2] taps=[1.0 1.025]
New Transformer.rc xfmrcode=leg buses=[reg.3 out.3]
Transformer.rc.wdg=2 tap=0.99375
New Load.l bus1=out phases=3 conn=wye model=1 kv=12.47 kw=2500 kvar=900
New Load.l1 bus1=out.1.2 phases=1 conn=delta model=5 kv=12.47 kw=400 kvar=100
Set voltagebases=[12.47]
calcv
"""


def test_xfmrcode_regulators_and_a_kron_reduced_four_wire_linecode_match_opendss(
        tmp_path: Path) -> None:
    """Regulator legs from one XfmrCode (taps set two ways), a 4-wire code reduced to 3 phases."""
    path = tmp_path / "codes.dss"
    path.write_text(CODES_FEEDER)
    feeder = read_dss(path)
    assert [w.tap for w in feeder.transformers[feeder.index("transformers", "rc")].windings] \
        == [1.0, 0.99375]
    ours = FeederService(feeder).solve()
    ref = opendss_solve(path)
    assert_matches(ours, ref)
    assert ours.losses_kw == pytest.approx(ref.losses_kw, rel=1e-3)


FOUR_WIRE_FEEDER = """Clear
New Circuit.fw basekv=12.47 pu=1.0 phases=3 bus1=src MVAsc3=200 MVAsc1=180
New WireData.ph DIAM=0.927 GMRac=0.37320 Rdc=0.035227273 Runits=kft Radunits=in gmrunits=in
New WireData.nt DIAM=0.563 GMRac=0.09768 Rdc=0.112121212 Runits=kft Radunits=in gmrunits=in
New LineGeometry.fourwire nconds=4 nphases=3
~ cond=1 wire=ph x=-4 h=28 units=ft
~ cond=2 wire=ph x=-1 h=28 units=ft
~ cond=3 wire=ph x=3 h=28 units=ft
~ cond=4 wire=nt x=0 h=24 units=ft
New Line.s1 bus1=src.1.2.3.4 bus2=p1.1.2.3.4 geometry=fourwire length=2000 units=ft
New Line.s2 bus1=p1.1.2.3.4 bus2=p2.1.2.3.4 geometry=fourwire length=3000 units=ft
New Reactor.gsrc bus1=src.4 phases=1 R=0.5 X=0
New Reactor.g1 bus1=p1.4 phases=1 R=25 X=0
New Reactor.g2 bus1=p2.4 phases=1 R=25 X=0
New Load.a bus1=p2.1.4 phases=1 conn=wye model=1 kv=7.2 kw=900 kvar=300
New Load.b bus1=p2.2.4 phases=1 conn=wye model=1 kv=7.2 kw=300 kvar=100
New Load.c bus1=p1.3.4 phases=1 conn=wye model=2 kv=7.2 kw=500 kvar=150
Set voltagebases=[12.47]
calcv
"""


def test_a_four_wire_line_with_its_neutral_grounded_at_each_pole_matches_opendss(
        tmp_path: Path) -> None:
    """Neutral kept as a conductor (LineGeometry without reduce), grounded through
    Reactor resistances: neutral-to-earth voltages and the neutral current."""
    import dss

    path = tmp_path / "four_wire.dss"
    path.write_text(FOUR_WIRE_FEEDER)
    m = FeederService(read_dss(path)).measurements()
    ref = opendss_solve(path)
    assert_matches(m.result, ref)
    assert m.bus_voltage("p2").phase(4)[0] > 0.01  # the neutral rises above earth
    circuit = dss.DSS.ActiveCircuit
    circuit.SetActiveElement("Line.s1")
    ref_i = circuit.ActiveCktElement.CurrentsMagAng[0::2][:4]
    np.testing.assert_allclose(m.line("s1", "from").i_a, ref_i, rtol=1e-3)
