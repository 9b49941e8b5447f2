"""The ``.dss`` reader: OpenDSS syntax and units, and one-line errors naming file and line."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from cosim.grid.threephase import IEEE13, DssError, Node, read_dss
from cosim.grid.threephase.elements import Connection, LoadModel

HEAD = "Clear\nNew Circuit.c basekv=4.16 phases=3 bus1=s\n"


def feeder(tmp_path: Path, body: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "f.dss"
    path.write_text(HEAD + body)
    return read_dss(path)


def test_ieee13_reads_every_element_with_its_published_ratings() -> None:
    f = read_dss(IEEE13)
    assert (len(f.lines), len(f.transformers), len(f.loads), len(f.capacitors),
            len(f.regulators)) == (12, 5, 15, 2, 3)
    assert f.voltage_bases_kv == (115.0, 4.16, 0.48)
    sub = f.transformers[f.index("transformers", "Sub")]
    assert sub.x_percent == pytest.approx(0.008)  # XHL=(8 1000 /), in-line RPN
    assert [w.connection for w in sub.windings] == [Connection.DELTA, Connection.WYE]
    reg = f.transformers[f.index("transformers", "reg2")]
    assert [w.r_percent for w in reg.windings] == [0.005, 0.005]  # %LoadLoss split over both
    assert reg.windings[1].terminal == (Node("rg60", 2), Node("rg60", 0))
    ld = f.loads[f.index("loads", "692")]
    assert (ld.model, ld.connection, ld.terminal) == (
        LoadModel.CONSTANT_I, Connection.DELTA, (Node("692", 3), Node("692", 1)))
    ctl = f.regulators[f.index("regulators", "reg1")]
    assert (ctl.vreg, ctl.band, ctl.ptratio, ctl.ctprim, ctl.r, ctl.x) == (122, 2, 20, 700, 3, 9)


def test_linecode_lower_triangle_and_units_give_the_line_matrix(tmp_path: Path) -> None:
    f = feeder(tmp_path, "New Linecode.lc nphases=2 units=mi\n"
                         "~ rmatrix=(1 | 0.5 2) xmatrix=[3 | 0.25 4] cmatrix=(10 | -1 12)\n"
                         "New Line.l bus1=s.3.1 bus2=t.3.1 phases=2 linecode=lc length=2640 units=ft\n")
    ln = f.lines[0]
    np.testing.assert_allclose(ln.z_ohm, 0.5 * np.array([[1 + 3j, 0.5 + 0.25j],
                                                         [0.5 + 0.25j, 2 + 4j]]))
    np.testing.assert_allclose(ln.c_f, 0.5e-9 * np.array([[10, -1], [-1, 12]]))
    assert ln.bus1 == (Node("s", 3), Node("s", 1))


def test_sequence_impedances_build_a_symmetric_phase_matrix(tmp_path: Path) -> None:
    f = feeder(tmp_path, "New Line.l bus1=s bus2=t r1=0.1 x1=0.3 r0=0.4 x0=0.9 c1=0 c0=0 length=2\n")
    z = f.lines[0].z_ohm
    zs, zm = (2 * (0.1 + 0.3j) + (0.4 + 0.9j)) / 3, ((0.4 + 0.9j) - (0.1 + 0.3j)) / 3
    np.testing.assert_allclose(z, 2 * (np.full((3, 3), zm) + np.eye(3) * (zs - zm)))


def test_comments_continuations_and_block_comments_are_skipped(tmp_path: Path) -> None:
    f = feeder(tmp_path, "/* a block\nNew Load.hidden bus1=s kw=1\n*/\n"
                         "New Load.x bus1=s.2 phases=1 ! comment\n// another\nmore kv=2.4 kw=10 kvar=5\n")
    assert [ld.name for ld in f.loads] == ["x"]
    assert (f.loads[0].kw, f.loads[0].kvar, f.loads[0].kv) == (10, 5, 2.4)


@pytest.mark.parametrize("body, fragment", [
    ("New Load.x bus1=s kw=1 colour=red\n", "f.dss:3: load.x: unsupported property 'colour'"),
    ("New Storage.s bus1=s\n", "f.dss:3: element class 'storage' is not supported"),
    ("New Load.x bus1=s model=3\n", "f.dss:3: load model 3 is not supported"),
    ("New Line.l bus1=s bus2=t linecode=nope\n", "f.dss:3: undefined linecode 'nope'"),
    ("New Load.x bus1=s kw=(1 +)\n", "f.dss:3: kw='1 +' is not a number"),
    ("Frobnicate\n", "f.dss:3: unknown command 'Frobnicate'"),
    ("New Transformer.t windings=4\n", "two or three windings are supported, got 4"),
    ("New Linecode.c nphases=2 kron=y rmatrix=(1 | 0 1) xmatrix=(1 | 0 1)\n"
     "New Line.l bus1=s.1 bus2=t.1 linecode=c\n", "Kron=yes must follow the matrices"),
    ("New Transformer.t xfmrcode=none\n", "undefined XfmrCode 'none'"),
])
def test_unsupported_input_is_an_error_naming_file_and_line(tmp_path: Path, body: str,
                                                            fragment: str) -> None:
    with pytest.raises(DssError, match=re.escape(fragment)):
        feeder(tmp_path, body)


def test_like_copies_another_element_and_later_properties_override(tmp_path: Path) -> None:
    f = feeder(tmp_path, "New Load.a bus1=s.1 phases=1 kv=2.4 kw=10 kvar=4 model=5\n"
                         "New Load.b like=a bus1=s.2 kw=20\n"
                         "New Line.sw bus1=s bus2=t switch=yes r1=1e-3 r0=1e-3 x1=0 x0=0 "
                         "c1=0 c0=0 length=2\n")
    b = f.loads[f.index("loads", "b")]
    assert (b.kw, b.kvar, b.model, b.terminal[0]) == (20, 4, LoadModel.CONSTANT_I, Node("s", 2))
    # Switch=yes sets 0.001 (unit-less) length; a Length given after it wins.
    np.testing.assert_allclose(f.lines[0].z_ohm, 2e-3 * np.eye(3))
