"""Solve an OpenDSS feeder file and print its per-phase voltages (OpenDSS's "show voltages LN").

    python -m cosim.grid.threephase FEEDER.dss [--tap NAME=STEP ...] [--settle]

``--tap reg1=10`` sets a regulator transformer to +10 steps of 5/8 %;
``--settle`` then lets every RegControl step until all rest
(:func:`cosim.grid.threephase.regulation.settle_taps`). Bad input (a file
outside the supported subset, an unknown transformer) is one line on stderr
naming file and line, exit status 2.
"""

from __future__ import annotations

import argparse
import sys

from cosim.grid.actions import SetTap
from cosim.grid.threephase.dss_reader import read_dss
from cosim.grid.threephase.dss_script import DssError
from cosim.grid.threephase.regulation import settle_taps
from cosim.grid.threephase.service import FeederService

STEP = 0.00625


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m cosim.grid.threephase",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("feeder", help="OpenDSS .dss file")
    ap.add_argument("--tap", action="append", default=[], metavar="NAME=STEP",
                    help="regulator tap position in steps from neutral (repeatable)")
    ap.add_argument("--settle", action="store_true", help="let the regulator controls rest")
    args = ap.parse_args(argv)
    try:
        service = FeederService(read_dss(args.feeder))
        for spec in args.tap:
            name, _, step = spec.partition("=")
            try:
                service.apply(SetTap(name, tap_ratio=1.0 + STEP * int(step)))
            except (KeyError, ValueError) as exc:
                raise DssError(f"--tap {spec}: {exc}") from None
        if args.settle:
            for name, step in settle_taps(service).items():
                print(f"tap {name} {step:+d}")
    except DssError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    m = service.measurements()
    if not m.converged:
        print("warning: the power flow did not converge; values are the last iterate",
              file=sys.stderr)
    print(f"{'bus':<12} {'node':>4} {'V (V)':>10} {'pu':>8} {'angle':>8}")
    for bus in sorted({nd.bus for nd in m.result.nodes}):
        pv = m.bus_voltage(bus)
        for k, conductor in enumerate(pv.conductors):
            print(f"{bus:<12} {conductor:>4} {pv.v_ln_v[k]:>10.1f} {pv.vm_pu[k]:>8.4f} "
                  f"{pv.va_deg[k]:>8.2f}")
    print(f"source {m.result.source_kw:.1f} kW {m.result.source_kvar:.1f} kvar, "
          f"losses {m.losses_kw():.1f} kW, {m.result.iterations} iterations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
