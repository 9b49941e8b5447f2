"""The scenario's ``grid:`` section: schema (pydantic) and the Network it builds.

Two ways to describe a grid, which may be combined:

* ``case: cases/case14.json`` -- a MATPOWER v2 case (``.m``, ``.mat`` or ``.json``)
  or a pandapower network saved with ``pandapower.to_json`` (buses named by
  their pandapower index, see :mod:`cosim.grid.pandapower_import`),
  relative to the scenario file; its buses are named by their MATPOWER
  numbers ("1", "2", ...), branches "branch<k>", generators "gen<k>", loads
  "load<bus>", shunts "shunt<bus>". A bare name of a case shipped in
  ``cosim/grid/cases`` (``case: case118``) also works.
* inline elements, each with a ``name`` that other sections refer to
  (``bus: feeder1_bus3``). With a ``case``, inline elements are appended to it
  (buses may be added too, e.g. a feeder hung on a transmission case).

Units are in the field names. Line impedances may be given in pu on the
system base (``r_pu``, ``x_pu``, ``b_pu``) or physically (``r_ohm``, ``x_ohm``,
``b_us`` microsiemens, converted with the from-bus ``base_kv``); transformer
impedances in pu on the system base or as ``sn_mva`` + ``vk_percent`` +
``vkr_percent`` (short-circuit voltage on the transformer rating).

Unknown keys, duplicate names and references to unknown elements are
validation errors naming the list, item and field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from cosim.grid.frequency import FrequencyResponseConfig
from cosim.grid.sequence import vector_group_key
from cosim.grid.matpower import CaseFormatError, load_case
from cosim.grid.network import (
    Network,
    ZeroImpedanceBranch,
    check_branch_impedance,
    make_branches,
    make_buses,
    make_ders,
    make_generators,
    make_loads,
    make_shunts,
    make_switches,
)

CASES_DIR = Path(__file__).parent / "cases"
MAX_CASE_BYTES = 256 * 2**20  # the largest MATPOWER cases (ACTIVSg70k, about 60 MB as .m) fit


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1)


class BusConfig(_Item):
    base_kv: float = Field(gt=0)
    vm_pu: float = Field(default=1.0, gt=0, description="initial voltage magnitude")
    va_deg: float = 0.0
    slack: bool = Field(default=False, description="designated slack of its island")
    vmax_pu: float = 1.1
    vmin_pu: float = 0.9


class LineConfig(_Item):
    from_bus: str
    to_bus: str
    r_pu: float | None = Field(default=None, ge=0)
    x_pu: float | None = None
    b_pu: float | None = Field(default=None, ge=0)
    r_ohm: float | None = Field(default=None, ge=0)
    x_ohm: float | None = None
    b_us: float | None = Field(default=None, ge=0)
    rate_a_mva: float = Field(default=float("inf"), gt=0)
    in_service: bool = True
    # Zero sequence and end temperature, for earth-fault and IEC 60909 studies (docs/faults.md);
    # in the same unit system as the positive sequence.
    r0_pu: float | None = Field(default=None, ge=0)
    x0_pu: float | None = None
    b0_pu: float | None = Field(default=None, ge=0)
    r0_ohm: float | None = Field(default=None, ge=0)
    x0_ohm: float | None = None
    b0_us: float | None = Field(default=None, ge=0)
    endtemp_c: float | None = Field(default=None, description="conductor temperature at the end of a short circuit")

    @model_validator(mode="after")
    def _one_unit_system(self) -> LineConfig:
        pu = self.x_pu is not None
        ohm = self.x_ohm is not None
        if pu == ohm:
            raise ValueError("give the reactance once: x_pu (with r_pu, b_pu) or x_ohm "
                             "(with r_ohm, b_us)")
        if pu and (self.r_ohm is not None or self.b_us is not None):
            raise ValueError("do not mix pu (x_pu) and ohm (r_ohm, b_us) fields")
        if ohm and (self.r_pu is not None or self.b_pu is not None):
            raise ValueError("do not mix ohm (x_ohm) and pu (r_pu, b_pu) fields")
        if (self.x_pu or self.x_ohm or 0.0) == 0.0 and (self.r_pu or self.r_ohm or 0.0) == 0.0:
            raise ValueError("line impedance must not be zero (use a switch for a bus tie)")
        if pu and any(v is not None for v in (self.r0_ohm, self.x0_ohm, self.b0_us)):
            raise ValueError("zero sequence in pu (r0_pu, x0_pu, b0_pu) like the positive sequence")
        if ohm and any(v is not None for v in (self.r0_pu, self.x0_pu, self.b0_pu)):
            raise ValueError("zero sequence in ohm (r0_ohm, x0_ohm, b0_us) like the positive sequence")
        return self


class TransformerConfig(_Item):
    hv_bus: str
    lv_bus: str
    r_pu: float | None = Field(default=None, ge=0)
    x_pu: float | None = None
    sn_mva: float | None = Field(default=None, gt=0)
    vk_percent: float | None = Field(default=None, gt=0)
    vkr_percent: float = Field(default=0.0, ge=0)
    tap_ratio: float = Field(default=1.0, gt=0, description="off-nominal ratio, hv side, pu")
    shift_deg: float = 0.0
    rate_a_mva: float | None = Field(default=None, gt=0)
    in_service: bool = True
    # Zero sequence, for earth-fault and IEC 60909 studies (docs/faults.md).
    vector_group: str | None = Field(default=None, description="Dyn, YNd, YNyn, Yyn, YNy, Yd, Dy, Yy, Dd")
    vk0_percent: float | None = Field(default=None, gt=0)
    vkr0_percent: float | None = Field(default=None, ge=0)
    rn_ohm: float = Field(default=0.0, ge=0, description="neutral earthing resistance of the earthed winding")
    xn_ohm: float = Field(default=0.0, ge=0, description="neutral earthing reactance of the earthed winding")

    @model_validator(mode="after")
    def _one_impedance(self) -> TransformerConfig:
        if (self.x_pu is None) == (self.vk_percent is None):
            raise ValueError("give either x_pu (and r_pu) or sn_mva + vk_percent (+ vkr_percent)")
        if self.vk_percent is not None and self.sn_mva is None:
            raise ValueError("vk_percent needs sn_mva (the transformer rating)")
        if self.vk_percent is not None and self.vkr_percent >= self.vk_percent:
            raise ValueError("vkr_percent must be smaller than vk_percent")
        if self.vk0_percent is not None and self.sn_mva is None:
            raise ValueError("vk0_percent needs sn_mva (the transformer rating)")
        if self.vector_group is not None:
            try:
                vector_group_key(self.vector_group)
            except KeyError as error:
                raise ValueError(str(error.args[0])) from None
        return self


class FeederConfig(_Item):
    """A network feeder (IEC 60909-0 clause 6.2) at a bus: the grid beyond it as S''kQ and ratios."""

    bus: str
    s_sc_max_mva: float = Field(gt=0)
    s_sc_min_mva: float | None = Field(default=None, gt=0, description="default: s_sc_max_mva")
    rx_max: float = Field(default=0.1, ge=0, description="R_Q/X_Q; 0.1 when unknown (IEC 60909-0 6.2)")
    rx_min: float | None = Field(default=None, ge=0, description="default: rx_max")
    x0x_max: float | None = Field(default=None, gt=0)
    r0x0_max: float | None = Field(default=None, ge=0)
    x0x_min: float | None = Field(default=None, gt=0, description="default: x0x_max")
    r0x0_min: float | None = Field(default=None, ge=0, description="default: r0x0_max")


class SwitchConfig(_Item):
    branch: str = Field(description="line or transformer the switch is in series with")
    bus: str | None = Field(default=None, description="branch end it sits at (default: from/hv)")
    closed: bool = True
    kind: Literal["switch", "breaker"] = "breaker"


class LoadConfig(_Item):
    bus: str
    p_mw: float
    q_mvar: float = 0.0
    zip_z: float = Field(default=0.0, ge=0, le=1)
    zip_i: float = Field(default=0.0, ge=0, le=1)
    customers: int = Field(default=1, ge=0)
    in_service: bool = True

    @model_validator(mode="after")
    def _zip_sum(self) -> LoadConfig:
        if self.zip_z + self.zip_i > 1.0:
            raise ValueError("zip_z + zip_i must not exceed 1 (the rest is constant power)")
        return self


class GeneratorConfig(_Item):
    bus: str
    p_mw: float = 0.0
    vm_pu: float = Field(default=1.0, gt=0, description="voltage setpoint")
    q_min_mvar: float = float("-inf")
    q_max_mvar: float = float("inf")
    p_min_mw: float = 0.0
    p_max_mw: float = float("inf")
    mbase_mva: float | None = Field(default=None, gt=0, description="machine base (default base_mva)")
    xdss_pu: float = Field(default=0.2, gt=0, description="subtransient reactance, machine base")
    slack: bool = Field(default=False, description="make this generator's bus the island slack")
    voltage_control: bool = Field(default=True, description="hold vm_pu (PV); false: fixed "
                                  "p_mw + j q_mvar injection (PQ)")
    q_mvar: float = Field(default=0.0, description="reactive output when voltage_control is false")
    in_service: bool = True


class ShuntConfig(_Item):
    bus: str
    b_mvar: float = Field(description="reactive injection per step at 1 pu (+ capacitive)")
    g_mw: float = 0.0
    step: int = Field(default=1, ge=0)
    max_step: int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _step_range(self) -> ShuntConfig:
        if self.step > self.max_step:
            raise ValueError(f"step {self.step} exceeds max_step {self.max_step}")
        return self


class DerConfig(_Item):
    bus: str
    kind: Literal["pv", "wind", "storage"]
    p_mw: float = 0.0
    q_mvar: float = 0.0
    p_max_mw: float = float("inf")
    p_min_mw: float = 0.0
    p_limit_mw: float = float("inf")
    in_service: bool = True


class SolverConfig(BaseModel):
    """``grid.solver``: AC power-flow options a scenario may set (defaults suit a physical run)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    mode: Literal["ac", "dc"] = "ac"
    enforce_q_limits: bool = Field(
        default=True, description="switch generators at a reactive limit from PV to PQ "
        "(MATPOWER ENFORCE_Q_LIMS=1); a plant or DER at its limit then behaves physically")
    tolerance_pu: float = Field(default=1e-8, gt=0, description="largest P/Q mismatch accepted")
    max_iter: int = Field(default=30, ge=1, description="Newton iterations per solve")


def _check_unique(items: list[Any], what: str) -> None:
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item.name in seen:
            raise ValueError(f"item {i}: duplicate {what} name {item.name!r}")
        seen.add(item.name)


class GridConfig(BaseModel):
    """The ``grid:`` section of a scenario."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    case: str | None = Field(default=None, description="MATPOWER case file (.m, .mat, .json) or pandapower network (.json)")
    base_mva: float = Field(default=100.0, gt=0)
    frequency_hz: float = Field(default=60.0, gt=0)
    buses: list[BusConfig] = []
    lines: list[LineConfig] = []
    transformers: list[TransformerConfig] = []
    switches: list[SwitchConfig] = []
    loads: list[LoadConfig] = []
    generators: list[GeneratorConfig] = []
    shunts: list[ShuntConfig] = []
    ders: list[DerConfig] = []
    feeders: list[FeederConfig] = Field(default=[], description="network feeders for IEC 60909 studies (docs/faults.md)")
    frequency_response: FrequencyResponseConfig | None = Field(
        default=None, description="aggregate area frequency model (cosim.grid.frequency); none: nominal frequency")
    solver: SolverConfig = SolverConfig()

    @field_validator("buses", "lines", "transformers", "switches", "loads", "generators",
                     "shunts", "ders", "feeders")
    @classmethod
    def _names_and_refs(cls, items: list[Any], info: ValidationInfo) -> list[Any]:
        _check_unique(items, info.field_name or "element")
        if info.data.get("case") is not None:
            return items  # bus names of the case are checked by build_network
        if info.field_name == "buses":
            return items
        buses = info.data.get("buses")
        if buses is None:  # buses themselves are invalid; that error is reported
            return items
        bus_names = {b.name for b in buses}
        branch_names = {x.name for x in info.data.get("lines", [])} | {
            x.name for x in info.data.get("transformers", [])}
        # The bus fields of this list's item type, looked up once (getattr of a missing field is slow in pydantic).
        bus_fields = [f for f in ("bus", "from_bus", "to_bus", "hv_bus", "lv_bus") if items and f in type(items[0]).model_fields]
        for i, item in enumerate(items):
            for field in bus_fields:
                ref = getattr(item, field)
                if ref is not None and ref not in bus_names:
                    raise ValueError(f"item {i} ({item.name}): {field} {ref!r} is not a bus "
                                     f"of the grid")
            if info.field_name == "switches" and item.branch not in branch_names:
                raise ValueError(f"item {i} ({item.name}): branch {item.branch!r} is not a line "
                                 f"or transformer of the grid")
        return items

    @model_validator(mode="after")
    def _has_grid(self) -> GridConfig:
        if self.case is None and not self.buses:
            raise ValueError("give a 'case' file or inline 'buses' (with lines, generators, ...)")
        if self.case is None and not self.generators:
            raise ValueError("an inline grid needs at least one generator (a source)")
        return self


class GridBuildError(ValueError):
    """The grid section cannot be built into a network (e.g. a reference into a case)."""


def resolve_case(case: str, base_dir: Path) -> Path:
    """Case path relative to the scenario directory, else a case shipped with cosim."""
    path = Path(case)
    candidate = path if path.is_absolute() else base_dir / path
    if candidate.exists():
        # A device or FIFO (/dev/zero) would be read for ever; a case file is a regular file of bounded size.
        if not candidate.is_file():
            raise GridBuildError(f"case: {str(candidate)!r} is not a regular file")
        if candidate.stat().st_size > MAX_CASE_BYTES:
            raise GridBuildError(f"case: {str(candidate)!r} is larger than {MAX_CASE_BYTES // 2**20} MB")
        return candidate
    for shipped in (CASES_DIR / case, CASES_DIR / f"{case}.m", CASES_DIR / f"{case}.json"):
        if shipped.exists():
            return shipped
    raise GridBuildError(f"case: file {str(candidate)!r} not found (nor a shipped case "
                         f"{case!r}; shipped: {', '.join(shipped_cases())})")


def shipped_cases() -> list[str]:
    """Names of the MATPOWER cases in ``cosim/grid/cases`` (``case9``, ``case118``, ...)."""
    return sorted(p.stem for p in (*CASES_DIR.glob("*.m"), *CASES_DIR.glob("*.json"))
                  if "." not in p.stem)


def build_network(config: GridConfig, base_dir: Path) -> Network:
    """Build the :class:`Network` a validated ``grid:`` section describes.

    ``base_dir`` is the scenario file's directory (case paths are relative to
    it). Raises :class:`GridBuildError` (a ValueError) for problems only
    visible once the case is read: an element referring to a bus, branch not in
    the case, or an unreadable case file.
    """
    if config.case is not None:
        try:
            base = load_case(resolve_case(config.case, base_dir), frequency_hz=config.frequency_hz)
        except CaseFormatError as error:
            raise GridBuildError(f"case: {error}") from None
    else:
        base = None
    base_mva = base.base_mva if base is not None else config.base_mva

    # Buses: case buses then inline buses.
    names = list(base.buses.name) if base is not None else []
    kv = list(base.buses.base_kv) if base is not None else []
    vm0 = list(base.buses.vm_init_pu) if base is not None else []
    va0 = list(base.buses.va_init_deg) if base is not None else []
    slack = list(base.buses.is_slack) if base is not None else []
    vmax = list(base.buses.vmax_pu) if base is not None else []
    vmin = list(base.buses.vmin_pu) if base is not None else []
    for b in config.buses:
        if b.name in names:
            raise GridBuildError(f"buses: {b.name!r} already exists in the case")
        names += [b.name]
        kv += [b.base_kv]
        vm0 += [b.vm_pu]
        va0 += [b.va_deg]
        slack += [b.slack]
        vmax += [b.vmax_pu]
        vmin += [b.vmin_pu]
    pos = {n: i for i, n in enumerate(names)}

    def bus(section: str, i: int, field: str, name: str) -> int:
        if name not in pos:
            raise GridBuildError(f"{section}.{i}.{field}: {name!r} is not a bus of the grid")
        return pos[name]

    for i, g in enumerate(config.generators):
        if g.slack:
            slack[bus("generators", i, "bus", g.bus)] = True
    buses = make_buses(names, kv, vm_init_pu=vm0, va_init_deg=va0, is_slack=slack,
                       vmax_pu=vmax, vmin_pu=vmin)

    # Branches: case branches, lines, transformers.
    rows: dict[str, list[Any]] = {k: [] for k in (
        "name", "f", "t", "r", "x", "b", "rate", "tap", "shift", "on", "tr")}
    if base is not None:
        br = base.branches
        for key, col in (("name", br.name), ("f", br.from_bus), ("t", br.to_bus), ("r", br.r_pu),
                         ("x", br.x_pu), ("b", br.b_pu), ("rate", br.rate_a_mva),
                         ("tap", br.tap_ratio), ("shift", br.shift_deg), ("on", br.in_service),
                         ("tr", br.is_transformer)):
            rows[key] += list(col)
    for i, ln in enumerate(config.lines):
        f, t = bus("lines", i, "from_bus", ln.from_bus), bus("lines", i, "to_bus", ln.to_bus)
        if ln.x_pu is not None:
            r, x, b_pu = ln.r_pu or 0.0, ln.x_pu, ln.b_pu or 0.0
        else:
            z_base = kv[f] ** 2 / base_mva
            r, x = (ln.r_ohm or 0.0) / z_base, (ln.x_ohm or 0.0) / z_base
            b_pu = (ln.b_us or 0.0) * 1e-6 * z_base
        _append(rows, ln.name, f, t, r, x, b_pu, ln.rate_a_mva, 1.0, 0.0, ln.in_service, False)
    for i, tr in enumerate(config.transformers):
        f, t = bus("transformers", i, "hv_bus", tr.hv_bus), bus("transformers", i, "lv_bus", tr.lv_bus)
        if tr.x_pu is not None:
            r, x = tr.r_pu or 0.0, tr.x_pu
        else:
            assert tr.sn_mva is not None and tr.vk_percent is not None
            z = tr.vk_percent / 100.0 * base_mva / tr.sn_mva
            r = tr.vkr_percent / 100.0 * base_mva / tr.sn_mva
            x = float(np.sqrt(z * z - r * r))
        rate = tr.rate_a_mva if tr.rate_a_mva is not None else (tr.sn_mva or float("inf"))
        _append(rows, tr.name, f, t, r, x, 0.0, rate, tr.tap_ratio, tr.shift_deg, tr.in_service, True)
    if len(set(rows["name"])) != len(rows["name"]):
        raise GridBuildError("lines/transformers: a name is used twice (or clashes with the case)")
    branches = make_branches(rows["name"], rows["f"], rows["t"], rows["r"], rows["x"],
                             b_pu=rows["b"], rate_a_mva=rows["rate"], tap_ratio=rows["tap"],
                             shift_deg=rows["shift"], in_service=rows["on"],
                             is_transformer=rows["tr"])
    try:
        check_branch_impedance(branches, where="grid")
    except ZeroImpedanceBranch as e:
        raise GridBuildError(str(e)) from None
    br_pos = {n: i for i, n in enumerate(branches.name)}

    sw_branch, sw_bus = [], []
    for i, s in enumerate(config.switches):
        if s.branch not in br_pos:
            raise GridBuildError(f"switches.{i}.branch: {s.branch!r} is not a line or transformer")
        k = br_pos[s.branch]
        end = int(branches.from_bus[k]) if s.bus is None else bus("switches", i, "bus", s.bus)
        if end not in (branches.from_bus[k], branches.to_bus[k]):
            raise GridBuildError(f"switches.{i}.bus: {s.bus!r} is not an end of {s.branch!r}")
        sw_branch.append(k)
        sw_bus.append(end)
    switches = make_switches([s.name for s in config.switches], sw_branch, sw_bus,
                             closed=[s.closed for s in config.switches],
                             is_breaker=[s.kind == "breaker" for s in config.switches])

    gens = [(g.name, bus("generators", i, "bus", g.bus), g) for i, g in enumerate(config.generators)]
    bg = base.generators if base is not None else None
    generators = make_generators(
        _col(bg, "name") + [n for n, _, _ in gens],
        _cat(_col(bg, "bus"), [b for _, b, _ in gens]),
        _cat(_col(bg, "p_mw"), [g.p_mw for *_, g in gens]),
        q_mvar=_cat(_col(bg, "q_mvar"), [g.q_mvar for *_, g in gens]),
        vm_setpoint_pu=_cat(_col(bg, "vm_setpoint_pu"), [g.vm_pu for *_, g in gens]),
        q_min_mvar=_cat(_col(bg, "q_min_mvar"), [g.q_min_mvar for *_, g in gens]),
        q_max_mvar=_cat(_col(bg, "q_max_mvar"), [g.q_max_mvar for *_, g in gens]),
        p_min_mw=_cat(_col(bg, "p_min_mw"), [g.p_min_mw for *_, g in gens]),
        p_max_mw=_cat(_col(bg, "p_max_mw"), [g.p_max_mw for *_, g in gens]),
        mbase_mva=_cat(_col(bg, "mbase_mva"), [g.mbase_mva or base_mva for *_, g in gens]),
        xdss_pu=_cat(_col(bg, "xdss_pu"), [g.xdss_pu for *_, g in gens]),
        in_service=_cat(_col(bg, "in_service"), [g.in_service for *_, g in gens]),
        voltage_control=_cat(_col(bg, "voltage_control"), [g.voltage_control for *_, g in gens]))

    bl = base.loads if base is not None else None
    lds = [(bus("loads", i, "bus", x.bus), x) for i, x in enumerate(config.loads)]
    loads = make_loads(
        _col(bl, "name") + [x.name for _, x in lds],
        _cat(_col(bl, "bus"), [b for b, _ in lds]), _cat(_col(bl, "p_mw"), [x.p_mw for _, x in lds]),
        _cat(_col(bl, "q_mvar"), [x.q_mvar for _, x in lds]),
        zip_z=_cat(_col(bl, "zip_z"), [x.zip_z for _, x in lds]),
        zip_i=_cat(_col(bl, "zip_i"), [x.zip_i for _, x in lds]),
        customers=_cat(_col(bl, "customers"), [x.customers for _, x in lds]),
        in_service=_cat(_col(bl, "in_service"), [x.in_service for _, x in lds]))

    bs = base.shunts if base is not None else None
    shs = [(bus("shunts", i, "bus", x.bus), x) for i, x in enumerate(config.shunts)]
    shunts = make_shunts(
        _col(bs, "name") + [x.name for _, x in shs],
        _cat(_col(bs, "bus"), [b for b, _ in shs]), _cat(_col(bs, "g_mw"), [x.g_mw for _, x in shs]),
        _cat(_col(bs, "b_mvar"), [x.b_mvar for _, x in shs]),
        step=_cat(_col(bs, "step"), [x.step for _, x in shs]),
        max_step=_cat(_col(bs, "max_step"), [x.max_step for _, x in shs]))

    drs = [(bus("ders", i, "bus", x.bus), x) for i, x in enumerate(config.ders)]
    ders = make_ders([x.name for _, x in drs], [b for b, _ in drs], [x.kind for _, x in drs],
                     [x.p_mw for _, x in drs], q_mvar=[x.q_mvar for _, x in drs],
                     p_min_mw=[x.p_min_mw for _, x in drs], p_max_mw=[x.p_max_mw for _, x in drs],
                     p_limit_mw=[x.p_limit_mw for _, x in drs],
                     in_service=[x.in_service for _, x in drs])

    for what, table in (("loads", loads), ("generators", generators), ("shunts", shunts)):
        if len(set(table.name)) != len(table.name):
            raise GridBuildError(f"{what}: a name is used twice (or clashes with the case)")
    return Network(base_mva=base_mva, frequency_hz=config.frequency_hz, buses=buses,
                   branches=branches, generators=generators, loads=loads, shunts=shunts,
                   switches=switches, ders=ders)


def _append(rows: dict[str, list[Any]], *values: Any) -> None:
    for key, value in zip(rows, values):
        rows[key].append(value)


def _col(table: Any, column: str) -> list[Any]:
    """A case table's column as a list ([] when there is no case)."""
    return [] if table is None else list(getattr(table, column))


def _cat(first: list[Any], extra: list[Any]) -> list[Any]:
    return first + list(extra)
