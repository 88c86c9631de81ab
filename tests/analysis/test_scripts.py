"""The report scripts in analysis/ on folders of small runs made here."""
import csv
import importlib.util
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from evosim import runner
from evosim.config import Config

ROOT = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n"
QUICK = {"run.generations": 120, "run.population": 60, "modularity.qm_epochs": 2,
         "modularity.qm_samples": 2, "output.snapshot_every": 40}


def script(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "analysis" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Folders fg, mvg, rmvg of three logic runs each, and one of two retina runs."""
    root = tmp_path_factory.mktemp("runs")
    for kind in ("fixed", "mvg", "rmvg"):
        for seed in range(3):
            runner.run(Config().replace(**QUICK, **{"schedule.kind": kind, "run.seed": seed}),
                       root / {"fixed": "fg"}.get(kind, kind) / f"s{seed}.h5")
    for seed in range(2):
        runner.run(Config().replace(**{"task.name": "retina", **QUICK, "run.seed": seed,
                                       "run.generations": 60}), root / "retina" / f"s{seed}.h5")
    return root


def assert_report(out, markdown, pngs):
    text = (out / markdown).read_text()
    assert text.startswith("# ") and len(text) > 300
    for png in pngs:
        path = out / png
        assert path.read_bytes()[:8] == PNG and path.stat().st_size > 1000, png
        assert f"]({png})" in text
    return text


def test_ka2005_replication(runs, tmp_path):
    out = tmp_path / "report"
    script("ka2005_replication").main([str(runs / "fg"), str(runs / "mvg"), str(runs / "rmvg"),
                                       "-o", str(out), "--bootstrap", "500"])
    text = assert_report(out, "ka2005_replication.md", ["q_trajectories.png",
                                                        "qm_trajectories.png",
                                                        "final_distributions.png"])
    for needle in ("| fg | fixed | logic-gates | 3 |", "| mvg | mvg |", "| rmvg | rmvg |",
                   "MVG (mvg) vs FG (fg)", "RMVG (rmvg) vs FG (fg)", "RMVG (rmvg) vs MVG (mvg)",
                   "MVG over FG", "0.12 ± 0.02", "0.54 ± 0.02", "censored"):
        assert needle in text, needle


def test_evo_vs_gradient(runs, tmp_path):
    out = tmp_path / "report"
    script("evo_vs_gradient").main([str(runs / "mvg"), str(runs / "fg"), "-o", str(out),
                                    "--bootstrap", "500"])
    text = assert_report(out, "evo_vs_gradient.md", ["q_vs_time.png", "qm_vs_time.png",
                                                     "final_distributions.png"])
    assert "Mann-Whitney p" in text and "| Q |" in text and "| Qm |" in text


def test_measures_comparison(runs, tmp_path):
    gradient_like = tmp_path / "grad"
    gradient_like.mkdir()
    copy = gradient_like / "g.h5"
    copy.write_bytes((runs / "mvg" / "s0.h5").read_bytes())
    with h5py.File(copy, "a") as f:
        f["history/activation_change"] = np.linspace(0, 1, len(f["history/generation"]))
    out = tmp_path / "report"
    script("measures_comparison").main([str(runs / "mvg"), str(gradient_like), str(runs / "retina"),
                                        "-o", str(out), "--snapshots", "2", "--qm-samples", "2",
                                        "--shuffles", "3"])
    text = assert_report(out, "measures_comparison.md", ["scatter_matrix.png"])
    assert "Spearman" in text and "| Q |" in text and "activation_change" in text
    with open(out / "measures.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 * (3 + 1 + 2)
    assert {r["condition"] for r in rows} == {"mvg", "grad", "retina"}
    assert sum(r["activation_change"] != "nan" for r in rows) == 2


def test_scripts_run_from_the_command_line(runs, tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "analysis" / "evo_vs_gradient.py"),
                             str(runs / "mvg"), str(runs / "rmvg"), "-o", str(tmp_path),
                             "--bootstrap", "100"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "evo_vs_gradient.md").stat().st_size > 0
