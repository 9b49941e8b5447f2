"""`cosim report` on a reliability validation curve's folder (reliability_curve.csv): a figure per system, case
and index with the analytic line and each co-simulated profile, and the points table; a malformed file is refused."""

import csv

from cosim.cli import main
from cosim.report.reliability import CURVE_COLUMNS, CURVE_FILE


def write_curve(folder, rows):
    with open(folder / CURVE_FILE, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CURVE_COLUMNS)
        writer.writerows(rows)


def test_curve_report_draws_analytic_lines_and_cosimulated_points(tmp_path):
    rows = []
    for index, at_0, at_1 in (("saidi_hours_per_year", 0.63, 0.75), ("saifi_per_year", 0.11, 0.24), ("maifi_per_year", 0.14, 0.004)):
        rows += [("rbts_bus2", "replacement", "analytic", "", "0.0", index, at_0, at_0, at_0, "", "", ""),
                 ("rbts_bus2", "replacement", "analytic", "", "1.0", index, at_1, at_1, at_1, "", "", "")]
        rows += [("rbts_bus2", "replacement", "cosim", "manual", "0.97", index, at_1, at_1 * 0.95, at_1 * 1.05, 120, 60.0, 50.0),
                 ("rbts_bus2", "replacement", "cosim", "flisr_fibre", "0.02", index, at_0, at_0 * 0.95, at_0 * 1.05, 90, 40.0, 30.0)]
    write_curve(tmp_path, rows)
    assert main(["report", str(tmp_path)]) == 0
    page = (tmp_path / "report.html").read_text()
    assert page.count('role="figure"') == 3  # one system and case, three indices
    assert "co-sim: manual" in page and "co-sim: flisr_fibre" in page and "analytic" in page
    assert "rbts_bus2, transformer replacement: SAIDI" in page


def test_a_curve_file_without_its_columns_is_refused(tmp_path, capsys):
    (tmp_path / CURVE_FILE).write_text("system,case\nrbts_bus2,repair\n")
    assert main(["report", str(tmp_path)]) == 2
    assert "lacks columns" in capsys.readouterr().err
