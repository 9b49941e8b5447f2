"""The ``cosim`` command: run, describe and validate scenarios, list application kinds.

Exit codes: 0 success, 1 the run itself failed (results so far are kept),
2 bad input (scenario problems, bad options, an --out folder that cannot
be used), one line per problem on stderr and no traceback; 130 interrupted
(Ctrl-C) and 143 terminated (SIGTERM), both with the files closed and the
manifest saying so.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import ScenarioError
from .outpaths import OutputPathError
from .plugins import PluginError, add_to_environment, load_plugins
from .scenario import load_scenario
from .scenario.durations import format_duration, parse_duration

EXIT_RUN_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it
EXIT_TERMINATED = 143  # 128 + SIGTERM


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        add_to_environment(args.plugin)
        load_plugins()
    except PluginError as error:
        print(f"cosim: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    previous = _terminate_like_interrupt()
    try:
        return int(args.handler(args) or 0)
    except ScenarioError as error:
        for problem in error.problems:
            print(str(problem), file=sys.stderr)
        return EXIT_BAD_INPUT
    except OutputPathError as error:
        print(f"--out: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    finally:
        # Once terminated, SIGTERM stays ignored until the process exits: the command has already stopped.
        if previous is not None and signal.getsignal(signal.SIGTERM) is _raise_terminated:
            signal.signal(signal.SIGTERM, previous)


class Terminated(KeyboardInterrupt):
    """SIGTERM (a batch scheduler's stop, ``kill``): ends a command the way Ctrl-C does, files closed."""


def _raise_terminated(signum: int, frame: object) -> None:
    # A second SIGTERM must not break into the closing of the files: ignore it until the command returns.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Terminated()


def _terminate_like_interrupt() -> Any:
    """Install the SIGTERM handler (main thread only); returns the handler it replaced, or None."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _raise_terminated)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cosim", description="Co-simulation of the NIST Smart Grid Conceptual Model.")
    parser.add_argument("--plugin", action="append", default=[], metavar="MODULE",
                        help="import MODULE first: it registers application, event or device kinds (repeatable)")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run a scenario and write results")
    run.add_argument("scenario", type=Path)
    run.add_argument("--seed", type=_seed, help="override run.seed")
    run.add_argument("--until", type=_duration, help="override run.duration (e.g. 6h)")
    run.add_argument("--out", type=Path, help="results folder (default results/<scenario>-seed<N>-<time>)")
    run.add_argument("--overwrite", action="store_true", help="replace the results of an earlier run in --out")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument("--format", choices=("csv", "parquet"), default="csv",
                     help="parquet: also write every table and the event log as typed Parquet files when the run ends")
    run.set_defaults(handler=_run)

    describe = commands.add_parser("describe", help="print the scenario's domains, actors and associations")
    describe.add_argument("scenario", type=Path)
    describe.set_defaults(handler=_describe)

    validate = commands.add_parser("validate", help="check input files (scenario, sweep, bench, study, market case) and report every problem")
    validate.add_argument("scenarios", type=Path, nargs="+")
    validate.set_defaults(handler=_validate)

    reliability = commands.add_parser("reliability", help="run a reliability study (analytic + sequential Monte Carlo)")
    reliability.add_argument("study", type=Path)
    reliability.add_argument("--years", type=_positive_int, help="override study.years")
    reliability.add_argument("--seed", type=_seed, help="override seed")
    reliability.add_argument("--out", type=Path, help="results folder (default results/<study>-seed<N>)")
    reliability.add_argument("--target-ci", type=_percent, help="co-simulated study: stop when SAIDI's 95%% CI half-width "
                             "is below this share of the mean, e.g. 5%%")
    reliability.add_argument("--incidents", type=_positive_int, help="co-simulated study: at most this many incidents")
    reliability.add_argument("--workers", type=_count, default=1, help="co-simulated study: local worker processes")
    reliability.add_argument("--scheduler", help="co-simulated study: Dask scheduler address (tcp://host:8786)")
    reliability.set_defaults(handler=_reliability)

    apps = commands.add_parser("apps", help="list the application kinds actors can run")
    apps.add_argument("--all", action="store_true", help="also list event kinds and device kinds")
    apps.set_defaults(handler=_apps)

    from .batch.command import add_parser as add_sweep_parser
    from .hil.command import add_parser as add_serve_parser
    from .report.command import add_parser as add_report_parser

    add_sweep_parser(commands)
    add_report_parser(commands)
    add_serve_parser(commands)
    return parser


def _seed(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a non-negative integer")
    return int(text)


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 2:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer >= 2")
    return int(text)


def _count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive integer")
    return int(text)


def _percent(text: str) -> float:
    """'5%' or '0.05' -> 0.05 (a share strictly between 0 and 1)."""
    try:
        value = float(text[:-1]) / 100.0 if text.endswith("%") else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage (e.g. 5%)") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} is not between 0 and 100 %")
    return value


def _duration(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _run(args: argparse.Namespace) -> int:
    from .parquet_export import ParquetUnavailable, require_pyarrow
    from .runner import default_out_dir, prepare_out_dir, run_scenario
    from .texttable import format_table

    if args.format == "parquet":
        try:
            require_pyarrow()
        except ParquetUnavailable as missing:
            print(f"cosim run: {missing}", file=sys.stderr)
            return EXIT_BAD_INPUT
    scenario = load_scenario(args.scenario).with_run(seed=args.seed, duration=args.until)
    out_dir = args.out or default_out_dir(scenario)
    prepare_out_dir(out_dir, overwrite=args.overwrite)  # OutputPathError: exit 2, nothing run
    run = scenario.spec.run
    print(f"Running {scenario.spec.name}: {format_duration(run.duration)} simulated, seed {run.seed} -> {out_dir}")
    with _progress_bar(run.duration, disabled=args.no_progress) as progress:
        try:
            result = run_scenario(scenario, out_dir, progress=progress, parquet=args.format == "parquet")
        except KeyboardInterrupt as stop:
            how, code = ("terminated", EXIT_TERMINATED) if isinstance(stop, Terminated) else ("interrupted", EXIT_INTERRUPTED)
            print(f"\n{how}; results so far are in {out_dir}", file=sys.stderr)
            return code
        except Exception as error:  # the run failed, not the input: keep what was recorded
            print(f"run failed at t={_failed_at(out_dir)}: {type(error).__name__}: {error}", file=sys.stderr)
            print(f"results recorded up to the failure are in {out_dir}", file=sys.stderr)
            return EXIT_RUN_FAILED
    rows = [
        [r.domain, r.quantity, r.entities, f"{r.minimum:.4g}", f"{r.mean:.4g}", f"{r.maximum:.4g}", r.unit]
        for r in result.summary
    ]
    print(format_table(["domain", "quantity", "entities", "min", "mean", "max", "unit"], rows))
    speed = result.simulated_time_s / result.wall_time_s if result.wall_time_s > 0 else float("inf")
    print(f"Done: {format_duration(result.simulated_time_s)} simulated in {result.wall_time_s:.2f} s wall ({speed:,.0f}x real time)")
    print(f"Results: {out_dir}")
    return 0


def _failed_at(out_dir: Path) -> str:
    import json

    try:
        return f"{json.loads((out_dir / 'manifest.json').read_text())['simulated_time_s']:g} s"
    except (OSError, KeyError, ValueError):
        return "?"


class _progress_bar:
    """A tqdm bar in simulated hours on stderr; silent when stderr is not a terminal."""

    def __init__(self, duration_s: float, disabled: bool) -> None:
        from tqdm import tqdm

        self._bar = tqdm(total=round(duration_s / 3600.0, 3), unit="h sim", disable=True if disabled else None, file=sys.stderr, leave=False)

    def __enter__(self):
        return self._update

    def _update(self, now_s: float, until_s: float) -> None:
        self._bar.n = round(now_s / 3600.0, 3)
        self._bar.refresh()

    def __exit__(self, *exc: object) -> None:
        self._bar.close()


def _describe(args: argparse.Namespace) -> int:
    from .describe import describe

    print(describe(load_scenario(args.scenario)))
    return 0


def _validate(args: argparse.Namespace) -> int:
    from .scenario.filekinds import validate_file

    problems = []
    for path in args.scenarios:
        try:
            print(validate_file(path))
        except ScenarioError as error:
            problems += error.problems
    if problems:
        raise ScenarioError(problems)
    return 0


def _reliability(args: argparse.Namespace) -> int:
    from .outpaths import child
    from .reliability.study import format_summary
    from .reliability.studyfile import ReliabilityStudyFile, run_study_file
    from .scenario.loader import load_model_file

    spec = load_model_file(args.study, ReliabilityStudyFile)
    if args.years is not None:
        spec = spec.model_copy(update={"study": spec.study.model_copy(update={"years": args.years})})
    if args.seed is not None:
        spec = spec.model_copy(update={"seed": args.seed})
    out_dir = args.out or child(Path("results"), f"{spec.name}-seed{spec.seed}")
    if spec.cosimulation is not None:
        return _cosimulated_reliability(args, spec, out_dir)
    result = run_study_file(spec, out_dir)
    print(format_summary(result))
    print(f"{result.monte_carlo.years} years in {result.wall_time_s:.2f} s ({result.years_per_minute:,.0f} years a minute)")
    print(f"Results: {out_dir}")
    return 0


def _cosimulated_reliability(args: argparse.Namespace, spec: Any, out_dir: Path) -> int:
    import time

    from .reliability.cosimstudy import run_cosim_study
    from .reliability.statistics import Estimate

    config = spec.cosimulation
    updates = {k: v for k, v in (("target_ci", args.target_ci), ("max_incidents", args.incidents)) if v is not None}
    config = config.model_copy(update=updates)
    study = spec.study
    scenario = (args.study.parent / config.scenario).resolve()
    started = time.perf_counter()

    def progress(done: int, saidi: Estimate) -> None:
        share = 100.0 * saidi.half_width / abs(saidi.mean) if saidi.mean else float("nan")
        print(f"  {done:>6} incidents  SAIDI {saidi.mean:.4g} h/cust-yr +- {share:.1f} %  ({time.perf_counter() - started:.0f} s)", flush=True)

    print(f"{spec.name}: co-simulated incidents of {study.system} ({scenario.name}), transformer {study.transformer_action.value}, "
          f"{'in this process' if args.workers <= 1 and not args.scheduler else (args.scheduler or f'{args.workers} processes')}")
    result = run_cosim_study(scenario, study.system, study.transformer_action.value, study.repair_model, study.momentary_threshold_s,
                             config, spec.seed, out_dir, workers=args.workers, scheduler=args.scheduler,
                             confidence=study.confidence, progress=progress)
    level = int(round(study.confidence * 100))
    print(f"{'index':<24}{'analytic':>12}{'co-sim':>12}  {level}% CI")
    for name, e in result.system.items():
        print(f"{name:<24}{result.analytic[name]:>12.5g}{e.mean:>12.5g}  [{e.lower:.5g}, {e.upper:.5g}]")
    print(f"{result.incidents} incidents in {time.perf_counter() - started:.1f} s")
    print(f"Results: {out_dir}")
    return 0


def _apps(args: argparse.Namespace) -> int:
    from .domains import APPLICATIONS
    from .texttable import format_table

    from .events.registry import EVENT_KINDS
    from devices.config import CONFIG_MODELS

    rows = [[kind.kind, ", ".join(sorted(d.value for d in kind.domains)), kind.summary] for kind in sorted(APPLICATIONS.values(), key=lambda k: k.kind)]
    print(format_table(["application", "domains", "what it does"], rows))
    if args.all:
        print()
        print(format_table(["event kind", "what it does"], [[k.kind, k.summary] for k in sorted(EVENT_KINDS.values(), key=lambda k: k.kind)]))
        print()
        device_rows = [[kind, ((model.__doc__ or "").strip().splitlines() or [""])[0]] for kind, model in sorted(CONFIG_MODELS.items())]
        print(format_table(["device kind", "what it is"], device_rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
