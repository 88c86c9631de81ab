"""The report scripts in analysis/ on the shared small runs."""
import csv
import importlib.util
import math
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from scipy import stats

from evosim.analysis import MEASURES, load_conditions
from evosim.analysis.conditions import Condition
from evosim.analysis.networks import run_network, unit_dependence
from evosim.analysis.report import fmt
from evosim.goals import logic_goal_family
from evosim.io import load
from evosim.modularity import LayerPermutation, qm

ROOT = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n"


def script(name):
    """An analysis/ script as a module (registered, as dataclasses need)."""
    key = f"analysis_scripts.{name}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, ROOT / "analysis" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        spec.loader.exec_module(module)
    return sys.modules[key]


def assert_report(out, markdown, pngs):
    text = (out / markdown).read_text()
    assert text.startswith("# ") and len(text) > 300
    for png in pngs:
        path = out / png
        assert path.read_bytes()[:8] == PNG and path.stat().st_size > 1000, png
        assert f"]({png})" in text
    return text


def rows_starting(text, *cells):
    head = "| " + " | ".join(cells) + " |"
    return [[c.strip() for c in line.strip("|").split("|")] for line in text.splitlines()
            if line.startswith(head)]


def test_ka2005_replication_on_one_sweep_folder(sweep_folder, tmp_path, capsys):
    out = tmp_path / "report"
    script("ka2005_replication").main([str(sweep_folder), "-o", str(out), "--bootstrap", "300"])
    text = assert_report(out, "ka2005_replication.md",
                         ["q_solved_trajectories.png", "qm_solved_trajectories.png",
                          "distributions.png"])
    # two conditions out of one folder, in each of the condition tables, flagged as small
    stderr = capsys.readouterr().err
    for name in ("schedule.kind=fixed", "schedule.kind=mvg"):
        assert len(rows_starting(text, name)) == 3, name
        note = f"condition {name}: only 3 runs (fewer than 20)"
        assert f"warning: {note}" in stderr and f"**Warning:** {note}" in text
    # the p-values are SciPy's on the per-run numbers
    conditions = load_conditions([sweep_folder])
    for m in ("q_solved", "t_solve", "resolve_rate"):
        a, b = (c.measure(MEASURES[m]) for c in conditions)
        a, b = a[np.isfinite(a)], b[np.isfinite(b)]
        p = stats.mannwhitneyu(a, b, alternative="two-sided").pvalue
        [row] = rows_starting(text, m, "schedule.kind=fixed", "schedule.kind=mvg")
        assert row[5] == fmt(float(p)), m
    # XOR is not the papers' goal: no paper value is claimed, and the text says why
    assert all(r[-1] == "—" for r in rows_starting(text, "schedule.kind=fixed", "3"))
    for needle in ("0.12 ± 0.02", "0.54 ± 0.02", "about 0.35", "solving networks",
                   "disconnected graphs", "compare conditions with each other", "censored",
                   "schedule.kind=mvg over schedule.kind=fixed", CLUNE_WORDS):
        assert needle.lower() in text.lower(), needle
    with open(out / "runs.csv", newline="") as f:
        assert len(list(csv.DictReader(f))) == 6


CLUNE_WORDS = ("performance and connection cost produce significantly more modular networks "
               "than performance alone")


def condition(**settings) -> Condition:
    base = {"task.name": "logic-gates", "run.mode": "evolution", "selection.scheme": "elitist",
            "cost.kind": "none", "schedule.kind": "fixed", "schedule.goal": "G1",
            "schedule.goals": ("G1", "G2")}
    return Condition("c", {}, {**base, **settings}, [], [], [])


@pytest.mark.parametrize("settings, source, qm_text", [
    ({}, "Kashtan & Alon 2005", "0.12 ± 0.02"),
    ({"schedule.kind": "mvg"}, "Kashtan & Alon 2005", "0.54 ± 0.02"),
    ({"schedule.kind": "mvg", "schedule.goals": ("G2", "G1")}, "Kashtan & Alon 2005",
     "0.54 ± 0.02"),
    ({"task.name": "retina", "schedule.goal": "and"}, "Kashtan & Alon 2005", "0.15 ± 0.02"),
    ({"task.name": "retina", "schedule.kind": "mvg", "schedule.goals": ("and", "or")},
     "Kashtan & Alon 2005", "about 0.35 (secondary)"),
    ({"task.name": "retina", "schedule.goal": "and", "selection.scheme": "nsga2",
      "cost.kind": "length"}, "Clune, Mouret & Lipson 2013", "—"),
    ({"task.name": "retina", "schedule.goal": "and", "selection.scheme": "nsga2"},
     "Clune, Mouret & Lipson 2013", "—"),
    ({"schedule.kind": "vg0"}, "Kashtan, Noor & Alon 2007", "—"),
    ({"schedule.kind": "rvg-c", "schedule.goal": "XOR"}, None, None),
    ({"schedule.goal": "XOR"}, None, None),
    ({"schedule.kind": "rmvg"}, None, None),
    ({"cost.kind": "count"}, None, None),
    ({"run.mode": "gradient"}, None, None),
    ({"selection.scheme": "nsga2", "cost.kind": "count"}, None, None),
])
def test_the_paper_that_applies(settings, source, qm_text):
    paper = script("ka2005_replication").paper_for(condition(**settings))
    if source is None:
        assert paper is None
    else:
        assert (paper.source, paper.qm) == (source, qm_text)
        if source.startswith("Clune"):
            assert CLUNE_WORDS in paper.finding
            assert ("P&CC" in paper.condition) == (settings.get("cost.kind") == "length")


TABLES = {name: logic_goal_family(4).target(name) for name in ("G1", "G2", "XOR")}


def holding(*goals, **settings) -> Condition:
    """A condition whose one run holds these goals' truth tables."""
    c = condition(**settings)
    c.histories.append(SimpleNamespace(goal_targets=np.stack([TABLES[g] for g in goals])))
    return c


@pytest.mark.parametrize("fixed, varying, paired", [
    (("G1",), ("G1", "G2", {"schedule.kind": "mvg"}), True),
    (("XOR", {"schedule.goal": "XOR"}), ("G1", "G2", {"schedule.kind": "mvg"}), False),
    (("G1",), ("G2", "XOR", {"schedule.kind": "rmvg"}), False),  # a walk that missed G1
    (("G1",), ("G1", "G2", {"schedule.kind": "rmvg"}), True),
    (("G1",), ("G1", "G2", {"schedule.kind": "vg0"}), True),
    (("G1",), ("G1", "G2", {"schedule.kind": "mvg", "run.population": 5000}), False),
    (("G1",), ("G1",), True),  # the table only pairs fixed with varying conditions
])
def test_speedup_pairs(fixed, varying, paired):
    ka = script("ka2005_replication")

    def built(spec):
        settings = spec[-1] if isinstance(spec[-1], dict) else {}
        return holding(*(g for g in spec if isinstance(g, str)), **settings)

    assert ka._speedup_pair(built(fixed), built(varying)) == paired


def test_ka2005_bad_input_is_one_line(tmp_path):
    (tmp_path / "empty").mkdir()
    result = subprocess.run([sys.executable, str(ROOT / "analysis" / "ka2005_replication.py"),
                             str(tmp_path / "empty"), "-o", str(tmp_path)],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 2 and result.stderr.startswith("error: no run files")
    assert result.stderr.count("\n") == 1


def test_evo_vs_gradient_groups_by_mode(sweep_folder, gradient_run, tmp_path):
    out = tmp_path / "report"
    script("evo_vs_gradient").main([str(sweep_folder), str(gradient_run), "-o", str(out),
                                    "--bootstrap", "200"])
    text = assert_report(out, "evo_vs_gradient.md", ["q_solved_vs_time.png", "q_end_vs_time.png",
                                                     "distributions.png"])
    assert "`run.mode`" in text and "different graph types" in text.lower()
    shown = len(script("evo_vs_gradient").SHOWN)  # the conditions table, then one per measure
    assert len(rows_starting(text, "run.mode=evolution", "6")) == 1 + shown
    assert len(rows_starting(text, "run.mode=gradient", "1")) == 1 + shown
    assert "its runs also differ in schedule.kind" in text
    [row] = rows_starting(text, "q_end", "run.mode=evolution", "run.mode=gradient")
    a, b = (c.measure(MEASURES["q_end"]) for c in load_conditions([sweep_folder, gradient_run],
                                                                   ["run.mode"]))
    assert row[5] == fmt(float(stats.mannwhitneyu(a, b, alternative="two-sided").pvalue))


def test_evo_vs_gradient_from_the_command_line(sweep_folder, tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "analysis" / "evo_vs_gradient.py"),
                             str(sweep_folder), "-o", str(tmp_path), "--bootstrap", "100"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "evo_vs_gradient.md").read_text()
    assert "`schedule.kind`" in text  # one mode: grouped by the keys that differ


def test_measures_comparison_measures_the_solving_networks(sweep_folder, gradient_run,
                                                           retina_run, tmp_path):
    out = tmp_path / "report"
    script("measures_comparison").main([str(sweep_folder), str(gradient_run), str(retina_run),
                                        "-o", str(out), "--networks", "2", "--qm-samples", "3",
                                        "--shuffles", "3", "--include-unsolved"])
    text = assert_report(out, "measures_comparison.md", ["scatter_matrix.png"])
    assert "Spearman" in text and "| Q |" in text and "| z |" in text
    assert "different graph types" in text.lower()
    with open(out / "measures.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 * 8  # the last two full epochs of each of the 8 runs
    grad = [r for r in rows if r["run"] == gradient_run.name]
    assert {r["null_model"] for r in grad} == {"layer-weight-permutation"}
    assert {r["null_model"] for r in rows if r not in grad} == {"degree-preserving-rewiring"}
    # each row is its epoch's network: the solving one where solved, else the best at its end
    files = {p.name: p for p in [*sweep_folder.glob("*.h5"), gradient_run, retina_run]}
    for r in rows:
        h = load(files[r["run"]])
        i, e = int(r["epoch"]), h.epochs
        end = int(e["start"][i] + e["length"][i] - 1)
        assert int(r["generation"]) == (int(e["solved_at"][i]) if e["solved"][i] else end)
        assert int(r["solved"]) == e["solved"][i]
        net = run_network(h, h.epoch_genome[i])
        if r in grad:  # Qm's own Q of a weight graph: by annealing, as its null samples'
            expected = qm(net.adjacency, net.directed, null=LayerPermutation((8, 8, 4, 2, 1)),
                          n_samples=3, rng=0)
            assert [float(r[k]) for k in ("Q", "Qm", "z")] == \
                pytest.approx([expected.q, expected.qm, expected.z])
        else:
            assert float(r["Q"]) == pytest.approx(net.q)
            assert float(r["Q"]) == pytest.approx(e["q_solved"][i] if e["solved"][i]
                                                  else e["q_end"][i])
        # the node-derivative measures of the same network
        d = unit_dependence(h, h.epoch_genome[i])
        assert float(r["q_dependency"]) == pytest.approx(d.q_dependency, nan_ok=True)
        assert float(r["one_sided"]) == pytest.approx(d.one_sided, nan_ok=True)
    # pooled, then within each condition
    assert len(rows_starting(text, "one_sided")) == 1 + len({r["condition"] for r in rows})


def test_measures_comparison_without_unsolved_uses_solved_epochs_only(sweep_folder, tmp_path):
    out = tmp_path / "report"
    script("measures_comparison").main([str(sweep_folder), "-o", str(out), "--networks", "0",
                                        "--qm-samples", "2", "--shuffles", "2"])
    with open(out / "measures.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    conditions = load_conditions([sweep_folder])
    expected = sum(s.n_solved for c in conditions for s in c.summaries)
    assert len(rows) == expected and {r["solved"] for r in rows} == {"1"}
    text = (out / "measures_comparison.md").read_text()
    never = [s.path.name for c in conditions for s in c.summaries if s.n_solved == 0]
    assert never and all(name in text for name in never)
    assert not any(math.isnan(float(r["Q"])) for r in rows)


def test_broadness_report_measures_every_solving_run(sweep_folder, tmp_path):
    out = tmp_path / "report"
    script("broadness").main([str(sweep_folder), "-o", str(out), "--draws", "50",
                              "--bootstrap", "200"])
    text = assert_report(out, "broadness.md", ["broadness_vs_q.png"])
    with open(out / "runs.csv") as f:
        runs = list(csv.DictReader(f))
    for name in ("schedule.kind=fixed", "schedule.kind=mvg"):
        (row,) = rows_starting(text, name)
        measured = sum(r["condition"] == name for r in runs)
        assert int(row[1]) == measured and int(row[1]) + int(row[2]) == 3
    assert all(0.0 <= float(r["single"]) <= 1.0 for r in runs)
    if len(runs) >= 3:
        (row,) = rows_starting(text, "single", "all runs")
        rho = stats.spearmanr([float(r["q"]) for r in runs], [float(r["single"]) for r in runs])[0]
        assert row[3] == fmt(float(rho))


def test_scaling_report_orders_runs_by_parameter_count(tmp_path):
    from evosim import runner
    from evosim.config import Config

    folder = tmp_path / "runs"
    for gates in (12, 8):
        for seed in (0, 1):
            runner.run(Config().replace(**{
                "task.max_gates": gates, "run.seed": seed, "run.generations": 300,
                "run.population": 100, "schedule.kind": "mvg", "modularity.qm_samples": 3,
                "modularity.qm_epochs": 2}), folder / f"g{gates}-s{seed}.h5")
    out = tmp_path / "report"
    script("scaling").main([str(folder), "-o", str(out), "--bootstrap", "200"])
    text = assert_report(out, "scaling.md", ["modularity_vs_size.png"])
    with open(out / "runs.csv") as f:
        runs = list(csv.DictReader(f))
    assert [int(r["parameters"]) for r in runs] == [17, 17, 25, 25]  # 2 * gates + 1 genes
    (small,) = rows_starting(text, "task.max_gates=8")
    (large,) = rows_starting(text, "task.max_gates=12")
    assert small[1] == "17" and large[1] == "25" and text.index("max_gates=8") < text.index(
        "max_gates=12")
    assert "exact-bb" in small[3]
