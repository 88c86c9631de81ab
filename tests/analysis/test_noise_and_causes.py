"""analysis/noise.py and analysis/causes.py on small runs of their own."""
import csv

import numpy as np
import pytest
from scipy import stats
from test_scripts import assert_report, rows_starting, script

from evosim import runner
from evosim.analysis.report import fmt
from evosim.config import Config


def test_hoyer_sparsity_at_its_ends_and_by_hand():
    hoyer = script("noise").hoyer_sparsity
    assert hoyer([(np.full((3, 4), -0.7), None)]) == pytest.approx(0.0, abs=1e-12)
    assert hoyer([(np.eye(1, 12), None)]) == pytest.approx(1.0)
    w = np.array([[3.0, 4.0, 0.0, 0.0]])
    assert hoyer([(w, None)]) == pytest.approx((2 - 7 / 5) / (2 - 1))


@pytest.fixture(scope="module")
def noise_runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("noise")
    for noise in (0.0, 0.5):
        for seed in (0, 1):
            runner.run(Config().replace(**{
                "task.name": "retina", "run.mode": "gradient", "run.generations": 30,
                "run.seed": seed, "gradient.hidden": [8, 4, 2], "gradient.input_noise": noise,
                "modularity.qm_samples": 4, "modularity.every": 10}),
                folder / f"n{noise}-s{seed}.h5")
    return folder


def test_noise_report_probes_every_run_with_the_same_noise(noise_runs, tmp_path):
    out = tmp_path / "report"
    script("noise").main([str(noise_runs), "-o", str(out), "--draws", "8", "--bootstrap", "100"])
    text = assert_report(out, "noise.md", ["noise_share.png"])
    with open(out / "runs.csv") as f:
        runs = list(csv.DictReader(f))
    assert len(runs) == 4
    for r in runs:  # +-1 inputs, variance 1: the inputs' share is 0.25 / 1.25
        assert float(r["share_inputs"]) == pytest.approx(0.2)
        shares = [float(r[k]) for k in ("share_layer1", "share_layer2", "share_layer3",
                                        "share_output")]
        assert all(0.0 <= s <= 1.0 for s in shares)
    noisy = [float(r["share_output"]) for r in runs if r["condition"].endswith("=0.5")]
    clean = [float(r["share_output"]) for r in runs if r["condition"].endswith("=0.0")]
    (row,) = rows_starting(text, "share_output", "gradient.input_noise=0.5")
    assert row[2] == fmt(float(stats.mannwhitneyu(noisy, clean).pvalue))


def test_noise_report_refuses_evolved_runs_in_one_line(tmp_path, capsys):
    path = runner.run(Config().replace(**{"run.generations": 5, "run.population": 20}),
                      tmp_path / "evolved.h5").path
    with pytest.raises(SystemExit) as stop:
        script("noise").main([str(path), "-o", str(tmp_path / "r")])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "not a gradient run" in err and "Traceback" not in err


def test_causes_plans_every_condition_of_every_setting():
    causes = script("causes")
    for key, setting in causes.SETTINGS.items():
        plan = causes.plan(setting, [0, 1], 7)
        assert len(plan.runs) == 2 * len(setting.conditions) >= 8
        for spec in plan.runs:
            config = runner.cfg.loads(spec.config_toml)
            name = causes.condition_of(runner.Path(f"{spec.name}.h5"))
            assert name in setting.conditions and config.run.generations == 7
            for k, v in setting.conditions[name].items():
                section, field = k.split(".")
                assert getattr(getattr(config, section), field) == v
        assert len(causes.SETTINGS) == 3


def test_causes_runs_and_reports_a_setting(tmp_path):
    causes = script("causes")
    folder, out = tmp_path / "runs", tmp_path / "report"
    assert causes.main(["run", str(folder), "--only", "logic-gates-evolution", "--seeds", "0-1",
                        "--generations", "40", "--workers", "1"]) == 0
    assert causes.main(["report", str(folder), "-o", str(out), "--bootstrap", "100"]) == 0
    text = assert_report(out, "causes.md", ["causes.png"])
    with open(out / "runs.csv") as f:
        runs = list(csv.DictReader(f))
    assert sorted((r["condition"], r["seed"]) for r in runs) == sorted(
        (c, s) for c in ("FG", "MVG", "FG + count cost", "FG + length cost") for s in "01")
    (fg,) = rows_starting(text, "FG", "2")
    assert fg[-2] == "(reference)"
    rates = [float(r["solved_rate_all"]) for r in runs if r["condition"] == "MVG"]
    (mvg,) = rows_starting(text, "MVG", "2")
    assert mvg[7].startswith(f"{np.mean(rates):.3f} ±")
    assert "retina-gradient" not in text  # a setting without runs is left out
