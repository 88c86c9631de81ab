"""What the command line says: configs found by name (also in a pip-installed evosim), the
help, --quiet, numbered reruns, sweep logs, and gradient runs in epochs, losses and accuracies."""
import os
import subprocess
import sys
from pathlib import Path

import matplotlib
import pytest
from click.testing import CliRunner

from evosim import config as cfg
from evosim import config_files
from evosim.cli import _describe, main
from evosim.cli_options import TASKS
from evosim.io import load
from evosim.runner import Progress

matplotlib.use("Agg")
REPO = Path(__file__).parent.parent
TINY = ["--generations", "20", "--population", "20", "--set", "modularity.qm_samples=2"]


def test_every_shipped_config_is_listed_with_a_line_and_found_by_name(tmp_path, monkeypatch):
    shipped = config_files.shipped()
    assert {"ka2005-logic-mvg", "ka2005-logic-fg", "clune2013-retina-pcc"} <= set(shipped)
    listing = CliRunner().invoke(main, ["configs"])
    assert listing.exit_code == 0
    lines = listing.output.splitlines()
    assert [line.split()[0] for line in lines] == list(shipped)
    assert all(len(line.split(None, 1)) == 2 for line in lines)  # a description each
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "mvg.h5"
    result = CliRunner().invoke(main, ["run", "ka2005-logic-mvg", *TINY, "--out", str(out),
                                       "--quiet"])
    assert result.exit_code == 0, result.output
    assert load(out).attrs["config"] == cfg.load(shipped["ka2005-logic-mvg"]).replace(
        **{"run.generations": 20, "run.population": 20, "modularity.qm_samples": 2}).to_toml()
    (tmp_path / "ka2005-logic-mvg.toml").write_text('[run]\nseed = 7\n')  # here first
    result = CliRunner().invoke(main, ["run", "ka2005-logic-mvg", *TINY, "--out",
                                       str(tmp_path / "local.h5"), "--quiet"])
    assert result.exit_code == 0 and load(tmp_path / "local.h5").attrs["seed"] == 7
    shown = CliRunner().invoke(main, ["config", "show", "clune2013-retina-pcc"])
    assert shown.exit_code == 0 and 'name = "retina"' in shown.output


def test_an_unknown_target_is_one_line_naming_tasks_and_configs():
    result = CliRunner().invoke(main, ["run", "ka2005-logic-mvgg"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: ka2005-logic-mvgg: not a task, a config file or a config's name; tasks: "
        f"{', '.join(TASKS)}; configs: evosim configs lists them"]


@pytest.mark.slow
def test_a_pip_installed_evosim_runs_a_shipped_config_from_an_empty_folder(tmp_path):
    """Not editable: the wheel's package data, read from site-packages."""
    target, empty = tmp_path / "site", tmp_path / "empty"
    empty.mkdir()
    built = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                            "--target", str(target), str(REPO)],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    env = {**os.environ, "PYTHONPATH": str(target)}
    run = subprocess.run([sys.executable, "-m", "evosim", "run", "ka2005-logic-mvg", *TINY,
                          "--quiet"], cwd=empty, env=env, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "runs/logic-gates-mvg-seed0.h5"
    where = subprocess.run([sys.executable, "-c", "import evosim; print(evosim.__file__)"],
                           cwd=empty, env=env, capture_output=True, text=True)
    assert where.stdout.startswith(str(target))


def test_run_help_lists_every_task():
    text = " ".join(CliRunner().invoke(main, ["run", "--help"]).output.split())
    assert all(task in text for task in TASKS) and "evosim configs" in text


def test_a_rerun_says_it_writes_a_numbered_file_and_quiet_prints_only_the_path(tmp_path,
                                                                              monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = CliRunner().invoke(main, ["run", "logic-gates", *TINY, "--quiet"])
    assert first.output == "runs/logic-gates-fixed-seed0.h5\n"
    again = CliRunner().invoke(main, ["run", "logic-gates", *TINY])
    assert again.exit_code == 0
    assert ("runs/logic-gates-fixed-seed0.h5 exists: this run goes to "
            "runs/logic-gates-fixed-seed0-2.h5") in again.output
    assert (tmp_path / "runs/logic-gates-fixed-seed0-2.h5").exists()


def test_a_sweep_whose_stderr_is_not_a_terminal_logs_a_line_per_run(tmp_path):
    done = subprocess.run([sys.executable, "-m", "evosim", "sweep", "logic-gates", "--seeds",
                           "0-1", *TINY, "--workers", "1", "--out", str(tmp_path / "s")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines[0].startswith("sweep: 2 runs into")
    assert [line.split(":")[0] for line in lines[1:]] == ["seed=0", "seed=1"]
    assert all(" complete (" in line and line.endswith(" s)") for line in lines[1:])
    assert done.stdout.strip() == f"{tmp_path / 's'}: 2 of 2 runs complete (0 already were)"


def test_gradient_progress_speaks_of_epochs_losses_and_accuracy():
    line = _describe(Progress(12, 100, 0.75, "and", 0.31, epochs=True, loss=0.4321))
    assert line == "epoch 12  loss 0.4321  accuracy 0.750  goal and  Q 0.310"
    assert _describe(Progress(12, 100, 0.75, "G1", 0.31)).startswith("gen 12  best 0.750")


@pytest.fixture(scope="module")
def regression_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("digits") / "dp.h5"
    result = CliRunner().invoke(main, ["run", "digit-pairs", "--epochs", "22", "--out",
                                       str(path), "--quiet"])
    assert result.exit_code == 0, result.output
    return path


def test_a_truth_table_trained_with_mse_is_still_solved_or_not(tmp_path):
    """"solved" is the task's to rule out (digit pairs fit values), not the loss's."""
    path = tmp_path / "mse.h5"
    result = CliRunner().invoke(main, ["run", "logic-gates", "--mode", "gradient", "--epochs",
                                       "3", "--set", "gradient.loss=mse", "--out", str(path),
                                       "--quiet"])
    assert result.exit_code == 0, result.output
    text = CliRunner().invoke(main, ["show", str(path), "--no-config"]).output
    assert "first solved: G1" in text and "(|error| < 0.5)" not in text


def test_show_of_a_regression_run_says_nothing_of_solving(regression_run):
    text = CliRunner().invoke(main, ["show", str(regression_run), "--no-config"]).output
    assert "solved" not in text and "never" not in text
    assert "epochs 0..22" in text and "training loss" in text
    assert "training accuracy (|error| < 0.5)" in text


def test_the_plot_has_a_legend_entry_only_for_what_it_draws(regression_run, tmp_path,
                                                           monkeypatch):
    from evosim.analysis import plots

    entries = []

    def capture(fig, path):
        for ax in fig.axes:
            legend = ax.get_legend()
            if legend is None:
                continue
            for text, handle in zip(legend.get_texts(), legend.legend_handles):
                entries.append(text.get_text())
                drawn = [a for a in ax.get_lines() + ax.patches + ax.collections
                         if a.get_label() == text.get_text()]
                assert drawn, text.get_text()
                lines = [a for a in drawn if hasattr(a, "get_xdata")]
                assert all(len(a.get_xdata()) >= 2 or a.get_marker() not in ("None", "")
                           for a in lines), text.get_text()
        plots.plt.close(fig)
        return Path(path)

    monkeypatch.setattr(plots, "save_figure", capture)
    plots.plot_history(load(regression_run), tmp_path / "p.png")
    assert entries and not any("solved epochs" in e or "first solved" in e for e in entries)
