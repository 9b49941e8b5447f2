"""What a run leaves behind when it is stopped, misdirected, overridden or runs out of disk.

Every test runs ``python -m cosim.cli`` as a child process, as a user or a
batch scheduler would, and checks the files and the exit code.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
QUICKSTART = REPO / "configs" / "quickstart.yaml"


def cosim(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cosim.cli", *args], capture_output=True, text=True, timeout=600, **kwargs)


def manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


def wait_for(condition, limit_s: float = 300.0) -> None:
    """Poll ``condition`` (a behaviour, not a timing: the limit only keeps a broken test from hanging)."""
    deadline = time.monotonic() + limit_s
    while not condition():
        assert time.monotonic() < deadline, "condition never became true"
        time.sleep(0.1)


def test_sigterm_ends_a_run_like_ctrl_c(tmp_path: Path):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "cosim.cli", "run", str(QUICKSTART), "--until", "3650d", "--out", str(out),
                             "--no-progress"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: (out / "manifest.json").exists() and (out / "timeseries.csv").stat().st_size > 10_000)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 143 and "terminated; results so far are in" in err and "Traceback" not in err
    assert manifest(out)["status"] == "interrupted"
    assert (out / "summary.csv").read_text().count("\n") > 1


def test_repeated_sigterm_does_not_break_into_the_closing(tmp_path: Path):
    """A scheduler (or a dying parent) may signal more than once: the files still close, the manifest says interrupted."""
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "cosim.cli", "run", str(QUICKSTART), "--until", "3650d", "--out", str(out),
                             "--no-progress"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: (out / "manifest.json").exists() and (out / "timeseries.csv").stat().st_size > 10_000)
    while proc.poll() is None:  # keep signalling through the closing
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.002)
    err = proc.stderr.read() if proc.stderr else ""
    assert proc.returncode == 143 and "Traceback" not in err, err
    assert manifest(out)["status"] == "interrupted"


def test_a_non_empty_out_folder_is_refused_unless_overwrite(tmp_path: Path):
    out = tmp_path / "run"
    assert cosim("run", str(QUICKSTART), "--until", "1h", "--out", str(out), "--no-progress").returncode == 0
    (out / "stale.csv").write_text("from another run\n")
    again = cosim("run", str(QUICKSTART), "--until", "1h", "--out", str(out), "--no-progress")
    assert again.returncode == 2 and "is not empty; give --overwrite" in again.stderr
    replaced = cosim("run", str(QUICKSTART), "--until", "2h", "--out", str(out), "--no-progress", "--overwrite")
    assert replaced.returncode == 0, replaced.stderr
    files = set(manifest(out)["files"])
    assert "stale.csv" not in files and not (out / "stale.csv").exists()
    assert files == {p.name for p in out.iterdir() if p.is_file() and not p.name.startswith("manifest.json")}


def test_overwrite_never_clears_a_folder_that_is_not_a_run(tmp_path: Path):
    (tmp_path / "precious.txt").write_text("keep me\n")
    proc = cosim("run", str(QUICKSTART), "--until", "1h", "--out", str(tmp_path), "--no-progress", "--overwrite")
    assert proc.returncode == 2 and "not a results folder" in proc.stderr
    assert (tmp_path / "precious.txt").read_text() == "keep me\n"


def test_an_out_path_that_cannot_be_written_is_bad_input(tmp_path: Path):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    for out, words in ((a_file, "is a file, not a folder"), (Path("/proc/cosim-results"), "cannot write results in")):
        proc = cosim("run", str(QUICKSTART), "--until", "1h", "--out", str(out), "--no-progress")
        assert proc.returncode == 2, proc.stderr
        assert words in proc.stderr and "Traceback" not in proc.stderr and "recorded" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1


def test_saved_scenario_is_the_effective_one_and_reruns_identically(tmp_path: Path):
    first, second = tmp_path / "first", tmp_path / "second"
    assert cosim("run", str(QUICKSTART), "--seed", "7", "--until", "2h", "--out", str(first), "--no-progress").returncode == 0
    saved = yaml.safe_load((first / "scenario.yaml").read_text())
    assert saved["run"]["seed"] == 7 and saved["run"]["duration"] == 7200.0
    rerun = cosim("run", str(first / "scenario.yaml"), "--out", str(second), "--no-progress", cwd=str(REPO / "configs"))
    assert rerun.returncode == 0, rerun.stderr
    one, two = manifest(first), manifest(second)
    assert one["seed"] == two["seed"] == 7 and one["duration_s"] == two["duration_s"]
    assert one["files"]["timeseries.csv"]["sha256"] == two["files"]["timeseries.csv"]["sha256"]


def _limit_file_size() -> None:
    # A real write failure from the kernel: files may not grow past 200 kB (EFBIG, as ENOSPC on a full disk).
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))


def test_a_failing_disk_marks_the_manifest_failed_and_leaves_whole_lines(tmp_path: Path):
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "cosim.cli", "run", str(QUICKSTART), "--until", "30d", "--out", str(out),
                           "--no-progress"], capture_output=True, text=True, timeout=600, preexec_fn=_limit_file_size)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    found = manifest(out)
    assert found["status"] == "failed" and "File too large" in found["error"]
    for path in list(out.glob("*.csv")) + [out / "events.jsonl"]:
        text = path.read_bytes()
        assert text == b"" or text.endswith(b"\n"), path.name


def _children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry))
    return found


def test_sweep_workers_end_with_their_parent(tmp_path: Path):
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(f"name: long\nscenario: {QUICKSTART}\nparameters:\n  run.duration: [3650d]\nseeds: [1, 2]\n")
    parent = subprocess.Popen([sys.executable, "-m", "cosim.cli", "sweep", str(sweep), "--workers", "2", "--out", str(tmp_path / "out"),
                               "--no-progress"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: len(list((tmp_path / "out").glob("long/*/timeseries.csv"))) == 2)
    workers = _children(parent.pid)
    assert workers
    parent.kill()  # SIGKILL: the parent cannot clean up; the workers must notice on their own
    parent.wait()
    wait_for(lambda: not any(Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]
                             for pid in workers))
    for run_dir in (tmp_path / "out" / "long").iterdir():
        if (run_dir / "manifest.json").exists():
            assert manifest(run_dir)["status"] in ("interrupted", "failed")
