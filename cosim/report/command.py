"""``cosim report RUN_DIR``: writes ``report.html`` into a results folder.

Exit codes as for the other commands: 0 written, 2 bad input (not a results
folder, a bad option) with one line per problem.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser("report", help="write a self-contained HTML report of a run or a sweep (report.html)")
    report.add_argument("run_dir", type=Path, metavar="RUN_DIR",
                        help="a results folder (with manifest.json), a sweep's folder (with results.csv), or a reliability "
                        "validation curve's (with reliability_curve.csv)")
    report.add_argument("--statistic", choices=("mean", "max", "min", "last_total"), default="mean",
                        help="for a sweep: which summary statistic to compare across runs")
    report.add_argument("--from", dest="start", type=_duration, help="message chart window start (simulated, e.g. 30min)")
    report.add_argument("--to", dest="end", type=_duration, help="message chart window end")
    report.add_argument("--scenario", type=Path, help="scenario file, when the run folder's recorded path no longer resolves")
    report.add_argument("--out", type=Path, help="where to write (default RUN_DIR/report.html)")
    report.set_defaults(handler=handle)


def _duration(text: str) -> float:
    from ..scenario.durations import parse_duration

    try:
        return parse_duration(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def handle(args: argparse.Namespace) -> int:
    from ..errors import Problem, ScenarioError
    from .page import Window, render
    from .rundata import load_run

    if args.start is not None and args.end is not None and args.end < args.start:
        raise ScenarioError([Problem("--to", "", f"{args.end:g} s is before --from {args.start:g} s")])
    from .reliability import is_curve_folder, render_curve
    from .sweep import is_sweep_folder, render_sweep

    if is_curve_folder(args.run_dir) and not (args.run_dir / "manifest.json").is_file():
        out = args.out or args.run_dir / "report.html"
        try:
            page = render_curve(args.run_dir)
        except (ValueError, KeyError) as error:
            raise ScenarioError([Problem(str(args.run_dir), "", f"reliability curve: {error}")]) from None
        out.write_text(page, encoding="utf-8")
        print(f"Report: {out}")
        return 0
    if is_sweep_folder(args.run_dir):
        out = args.out or args.run_dir / "report.html"
        try:
            page = render_sweep(args.run_dir, args.statistic)
        except ValueError as error:
            raise ScenarioError([Problem(str(args.run_dir), "", str(error))]) from None
        out.write_text(page, encoding="utf-8")
        print(f"Report: {out}")
        return 0
    if args.scenario is not None and not args.scenario.is_file():
        raise ScenarioError([Problem(str(args.scenario), "", "no such scenario file")])
    run = load_run(args.run_dir, args.scenario)
    out = args.out or args.run_dir / "report.html"
    out.write_text(render(run, Window(args.start, args.end)), encoding="utf-8")
    for note in run.notes:
        print(f"note: {note}")
    print(f"Report: {out}")
    return 0
