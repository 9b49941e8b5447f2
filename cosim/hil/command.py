"""``cosim serve``: a scenario paced to the wall clock, its devices on real sockets, until done or Ctrl-C.

Exit codes follow ``cosim run``: 0 the run reached its end, 1 it failed
(results so far are kept), 2 bad input (scenario, bench file, a port that
cannot be bound), 3 the bench's MQTT broker cannot be reached within
``mqtt.connect_timeout_s`` or refuses the credentials or TLS (unless the
bench sets ``mqtt.allow_degraded``: then the manifest says ``degraded``), or
an external OpenADR VTN (``openadr_vens``) does not answer or refuses the
registration, 130 interrupted by SIGINT or SIGTERM -- results are flushed
and the manifest says ``interrupted``.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path
from typing import Any, TextIO

EXIT_RUN_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_BENCH_UNAVAILABLE = 3  # the bench's MQTT broker or an external OpenADR VTN cannot be reached or refuses us (one line says which)
EXIT_INTERRUPTED = 130


def add_parser(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    from ..cli import _duration

    serve = commands.add_parser("serve", help="run a scenario in real time with devices on real Modbus TCP / MQTT")
    serve.add_argument("scenario", type=Path)
    serve.add_argument("--hil", type=Path, help="bench file (ports, broker, bench devices); see docs/hil.md")
    serve.add_argument("--factor", type=_factor, help="simulated seconds per wall second (default: bench's, else 1)")
    serve.add_argument("--until", type=_duration, help="simulated time to serve (default: run.duration)")
    serve.add_argument("--out", type=Path, help="results folder (default results/<scenario>-seed<N>-<time>)")
    serve.add_argument("--overwrite", action="store_true", help="replace the results of an earlier run in --out")
    serve.add_argument("--modbus-port", type=int, help="override modbus.gateway_port (0: a free port)")
    serve.set_defaults(handler=handle)


def _factor(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number")
    return value


def handle(args: argparse.Namespace) -> int:
    from ..runner import default_out_dir, prepare_out_dir
    from ..scenario import load_scenario
    from .config import load_hil_file

    settings = load_hil_file(args.hil)  # ScenarioError -> exit 2 in cli.main
    if args.modbus_port is not None:
        settings = settings.model_copy(update={"modbus": settings.modbus.model_copy(update={"gateway_port": args.modbus_port})})
    if args.factor is not None:
        settings = settings.model_copy(update={"factor": args.factor})
    scenario = load_scenario(args.scenario).with_run(duration=args.until)
    out_dir = args.out or default_out_dir(scenario)
    # As `cosim run`: a bench session never writes over an earlier one's results (OutputPathError: exit 2).
    prepare_out_dir(out_dir, overwrite=args.overwrite)
    return serve(scenario, settings, out_dir, gateway_port_requested=args.modbus_port is not None)


def serve(scenario: Any, settings: Any, out_dir: Path, stream: TextIO | None = None, *,
          gateway_port_requested: bool = False) -> int:
    """Serve ``scenario`` with bench ``settings``, results in ``out_dir``; returns the exit code.

    ``gateway_port_requested``: the user chose the gateway port (``--modbus-port``); a bench where no served
    device uses the gateway refuses that, rather than ignore it.
    """
    from ..runner import build_world, finish_recording, start_recording
    from .session import BenchUnavailable, HilError, HilSession

    stream = stream if stream is not None else sys.stderr
    scenario = scenario.with_run(mode="realtime", realtime_factor=settings.factor)
    run = scenario.spec.run
    world, _ = build_world(scenario, out_dir)
    session = HilSession(world, settings, stream)
    status, error_text, code = "completed", None, 0
    started = time.perf_counter()
    previous_term = signal.signal(signal.SIGTERM, _interrupt)
    degraded: str | None = None
    try:
        if settings.mqtt is not None:
            from .brokercheck import probe_broker

            degraded = probe_broker(settings.mqtt)
            if degraded is not None and not settings.mqtt.allow_degraded:
                print(f"cosim serve: {degraded}", file=stream)
                status, error_text, code = "failed", degraded, EXIT_BENCH_UNAVAILABLE
                return code
            if degraded is not None:
                print(f"cosim serve: running degraded (bench mqtt.allow_degraded): {degraded}", file=stream, flush=True)
        try:
            session.expose_devices()
            on_gateway = [e for e in session.exposures if e.port is None]
            if gateway_port_requested and not on_gateway:
                raise HilError("--modbus-port sets the gateway port, but no served device uses it "
                               + ("(every exposed device has a port of its own)" if session.exposures else
                                  "(no device is exposed: give one `expose: {}` in the scenario or list it in modbus.expose)"))
            if not session.exposures and settings.c37118 is None and settings.iec104 is None \
                    and settings.dnp3 is None and settings.openadr is None and not settings.openadr_vens:
                print("cosim serve: no device is served over Modbus (mark devices with `expose: {}` in the scenario, "
                      "or list their ids in the bench's modbus.expose)", file=stream, flush=True)
            session.use_real_broker()
            endpoints = session.start()
        except HilError as error:
            print(f"cosim serve: {error}", file=stream)
            status, error_text = "failed", f"{type(error).__name__}: {error}"
            code = EXIT_BENCH_UNAVAILABLE if isinstance(error, BenchUnavailable) else EXIT_BAD_INPUT
            return code
        start_recording(
            world, scenario, out_dir, realtime_factor=settings.factor,
            hil={"modbus": [e.__dict__ for e in endpoints],
                 "masters": [m.id for m in settings.masters],
                 "c37118": [e.__dict__ for e in session.pmu_endpoints],
                 "iec104": None if settings.iec104 is None else {"port": settings.iec104.port, "rtus": sorted(settings.iec104.expose)},
                 "mqtt_broker": None if settings.mqtt is None else f"{settings.mqtt.host}:{settings.mqtt.port}",
                 "degraded": degraded})
        print(f"Serving {scenario.spec.name} at {settings.factor:g}x real time for {run.duration:g} s simulated -> {out_dir}",
              file=stream, flush=True)
        for e in endpoints:
            print(f"  modbus tcp {e.host}:{e.port} unit {e.unit_id}: {e.device_id} ({e.kind})", file=stream, flush=True)
        if settings.iec104 is not None:
            for rtu in sorted(settings.iec104.expose):
                print(f"  iec104 tcp {settings.iec104.host}:{settings.iec104.port}: {rtu} (rtu)", file=stream, flush=True)
        for pmu in session.pmu_endpoints:
            print(f"  c37118 tcp {pmu.host}:{pmu.port} idcode {pmu.idcode}: {pmu.device_id} (pmu)", file=stream, flush=True)
        print("Ctrl-C stops and keeps the results.", file=stream, flush=True)
        try:
            session.run(run.duration)
        except KeyboardInterrupt:
            status, code = "interrupted", EXIT_INTERRUPTED
            print(f"\ninterrupted at t={world.now:.3f} s; results so far are in {out_dir}", file=stream, flush=True)
        except Exception as error:  # the run failed, not the input: keep what was recorded
            status, error_text, code = "failed", f"{type(error).__name__}: {error}", EXIT_RUN_FAILED
            print(f"run failed at t={world.now:g} s: {error_text}", file=stream, flush=True)
        return code
    except KeyboardInterrupt:  # before the run started (binding ports, connecting)
        status, code = "interrupted", EXIT_INTERRUPTED
        return code
    finally:
        signal.signal(signal.SIGTERM, previous_term)
        session.close()
        lag = session.lag_statistics()
        finish_recording(world, scenario, out_dir, status, error_text, time.perf_counter() - started,
                         hil_lag=lag, hil_inbox_refused=session.inbox.refused)
        if lag and degraded:
            print(f"degraded run: {degraded}", file=stream, flush=True)
        if lag:
            print(f"lag p50 {lag['p50_s'] * 1e3:.2f} ms, p99 {lag['p99_s'] * 1e3:.2f} ms, max {lag['max_s'] * 1e3:.2f} ms",
                  file=stream, flush=True)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")
