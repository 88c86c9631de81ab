"""`evosim compare`: conditions from configs, tables, tests equal to SciPy's, one-line errors."""
import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from scipy import stats

from evosim.analysis import MEASURES, cliffs_delta, load_sources, summarise
from evosim.analysis.report import fmt
from evosim.cli_analysis import compare

ROOT = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n"


def invoke(args):
    return CliRunner().invoke(compare, [str(a) for a in args])


def assert_one_line_error(result, *words):
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ") and result.output.count("\n") == 1, result.output
    for word in words:
        assert word in result.output


def table_rows(text: str, first_cells: list[str]) -> list[list[str]]:
    """The Markdown table rows whose first cells are these."""
    head = "| " + " | ".join(first_cells) + " |"
    return [[c.strip() for c in line.strip("|").split("|")] for line in text.splitlines()
            if line.startswith(head)]


@pytest.fixture(scope="module")
def report(sweep_folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("compare")
    result = invoke([sweep_folder, "-o", out, "--bootstrap", "200"])
    assert result.exit_code == 0, result.output
    return out, result


def read_runs(out):
    with open(out / "runs.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_two_conditions_in_every_table(report):
    out, result = report
    text = (out / "compare.md").read_text()
    for name in ("schedule.kind=fixed", "schedule.kind=mvg"):
        assert f"{name}: 3 runs" in result.stdout
        rows = table_rows(text, [name, "3"])  # the conditions table and one per measure
        assert len(rows) == 1 + 6, rows
    assert "`schedule.kind`" in text and "not from folders" in text
    for m in ("q_solved", "qm_solved", "z_solved", "resolve_rate", "median_resolve", "t_solve"):
        assert f"### `{m}`: {MEASURES[m].description}" in text
    figure = out / "distributions.png"
    assert figure.read_bytes()[:8] == PNG and "](distributions.png)" in text


def test_p_values_and_deltas_are_scipys_on_the_per_run_numbers(report, sweep_folder):
    out, _ = report
    text = (out / "compare.md").read_text()
    runs = read_runs(out)
    assert len(runs) == 6
    # the per-run numbers are the files' own
    by_file = {str(h.path): summarise(h) for h in load_sources([sweep_folder])}
    for r in runs:
        s = by_file[r["run"]]
        t = s.generations if s.t_solve is None else s.t_solve
        assert float(r["t_solve"]) == t and int(r["never_solved"]) == s.censored
        assert np.isclose(float(r["q_solved"]), s.q_solved, equal_nan=True)
    for m in ("t_solve", "q_solved", "resolve_rate"):
        a = np.array([float(r[m]) for r in runs if r["condition"] == "schedule.kind=fixed"])
        b = np.array([float(r[m]) for r in runs if r["condition"] == "schedule.kind=mvg"])
        a, b = a[np.isfinite(a)], b[np.isfinite(b)]
        [row] = table_rows(text, [m, "schedule.kind=fixed", "schedule.kind=mvg"])
        p = stats.mannwhitneyu(a, b, alternative="two-sided").pvalue
        direct = (sum(x > y for x in a for y in b) - sum(x < y for x in a for y in b)) / \
            (a.size * b.size)
        assert row[3:] == [str(a.size), str(b.size), fmt(float(p)), fmt(direct)], m
        assert cliffs_delta(a, b) == pytest.approx(direct)


def test_censored_runs_and_small_conditions_are_flagged(report):
    out, result = report
    text = (out / "compare.md").read_text()
    censored = [r for r in read_runs(out) if r["never_solved"] == "1"]
    assert censored, "the fixture should have runs that never solve XOR"
    for name in ("schedule.kind=fixed", "schedule.kind=mvg"):
        n = str(sum(r["condition"] == name for r in censored))
        rows = table_rows(text, [name, "3"])
        assert [r[-1] for r in rows if len(r) == 8] == [n]  # the conditions table
        assert [r[5] for r in rows if len(r) == 7] == [n] * 6  # every measure's table
    assert "never solved (censored at run length)" in text
    for name in ("schedule.kind=fixed", "schedule.kind=mvg"):
        note = f"condition {name}: only 3 runs (fewer than 20)"
        assert f"warning: {note}" in result.stderr and f"**Warning:** {note}" in text


def test_by_and_measure_options(sweep_folder, tmp_path):
    result = invoke([sweep_folder, "--by", "task.name", "-m", "q_end", "-m", "solved_rate_all",
                     "-o", tmp_path, "--bootstrap", "50"])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "compare.md").read_text()
    assert "### `q_end`" in text and "### `solved_rate_all`" in text
    assert "### `q_solved`" not in text
    assert len(table_rows(text, ["task.name=logic-gates", "6"])) == 1 + 2
    assert "one condition: nothing to compare" in text
    assert "its runs also differ in schedule.kind" in result.stderr


def test_list_measures():
    result = invoke(["--list-measures"])
    assert result.exit_code == 0
    assert [line.split()[0] for line in result.output.splitlines()] == list(MEASURES)


def test_bad_input_is_one_line(sweep_folder, tmp_path):
    (tmp_path / "empty").mkdir()
    bad = tmp_path / "bad.h5"
    bad.write_text("not hdf5")
    assert_one_line_error(invoke([]), "give run files")
    assert_one_line_error(invoke([tmp_path / "empty"]), "no run files", "empty")
    assert_one_line_error(invoke([tmp_path / "missing.h5"]), "no such run file")
    assert_one_line_error(invoke([bad]), "bad.h5")
    assert_one_line_error(invoke([sweep_folder, "-m", "q_best"]), "unknown measure 'q_best'",
                          "q_solved")
    assert_one_line_error(invoke([sweep_folder, "--by", "schedule.knid"]),
                          "--by schedule.knid", "schedule.kind")
    assert not (tmp_path / "compare").exists()


def test_the_script_wrapper(sweep_folder, tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "analysis" / "compare.py"),
                             str(sweep_folder), "-o", str(tmp_path), "--bootstrap", "50",
                             "-m", "t_solve"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "schedule.kind=mvg: 3 runs" in result.stdout
    assert (tmp_path / "compare.md").stat().st_size > 0
