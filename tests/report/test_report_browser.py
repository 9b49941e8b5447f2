"""The report opened in a real browser (Debian's chromium, headless, offline): every plot is drawn.

``--dump-dom`` prints the page after its scripts ran; ``--virtual-time-budget``
lets plotly finish drawing before the dump. A plot that rendered holds
plotly's ``<svg class="main-svg">`` inside its container. Network access is
switched off as far as chromium allows, and the page must not need it.
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from cosim.cli import main

QUICKSTART = Path(__file__).parents[1] / "batch" / "small_scenario.yaml"  # fixed copy of the early quickstart
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install -y chromium)")


def chromium(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--virtual-time-budget=15000", *extra, page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )


def test_report_renders_its_plots_in_headless_chromium(tmp_path):
    run = tmp_path / "run"
    assert main(["run", str(QUICKSTART), "--until", "12h", "--out", str(run), "--no-progress"]) == 0
    assert main(["report", str(run)]) == 0
    page = run / "report.html"
    dumped = chromium(page, tmp_path / "profile", "--dump-dom")
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    dom = dumped.stdout
    containers = re.split(r'<div class="plot" ', dom)[1:]
    assert len(containers) == 5
    for container in containers:
        quantity = re.search(r'data-quantity="([^"]*)"', container).group(1)
        assert 'class="main-svg"' in container, f"plot of {quantity} was not drawn"
        assert "scatterlayer" in container, f"plot of {quantity} has no traces"
    assert 'class="nist-diagram"' in dom and dom.count('class="actor"') == 10

    shot = tmp_path / "report.png"
    taken = chromium(page, tmp_path / "profile2", "--window-size=1280,1800", f"--screenshot={shot}")
    assert taken.returncode == 0 and shot.stat().st_size > 20_000
