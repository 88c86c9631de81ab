from pathlib import Path

import numpy as np
from click.testing import CliRunner
from helpers import fill_disk_at_block

from evosim.cli import main
from evosim.io import load

CONFIGS = Path(__file__).parent.parent / "configs"
SMALL = ["--generations", "120", "--population", "100", "--set", "output.flush_every=40",
         "--set", "modularity.qm_samples=3", "--quiet"]


def test_run_then_show(tmp_path):
    cli = CliRunner()
    out = tmp_path / "r.h5"
    result = cli.invoke(main, ["run", "logic-gates", "--mvg", "--period", "10", "--seed", "5",
                               "--out", str(out), *SMALL])
    assert result.exit_code == 0, result.output
    assert result.output == f"{out}\n"  # --quiet: the path written, nothing else
    h = load(out)
    assert len(h) == 121 and h.attrs["seed"] == 5
    assert np.array_equal(np.flatnonzero(np.diff(h["goal"])) + 1, np.arange(10, 121, 10))
    shown = cli.invoke(main, ["show", str(out)])
    assert shown.exit_code == 0
    for text in ("status complete", "first solved: G1", "goal epochs: 12 of 10 generations",
                 "solving networks", "best at the last row (120)", "seed 5", "[schedule]",
                 "[variation]", "mutation_rate"):
        assert text in shown.output
    for text in ("[gradient]", "add_connection_rate", "n_pairs"):  # not read by this run
        assert text not in shown.output


def test_show_summarises_the_solved_epochs(tmp_path):
    """The figures `evosim show` prints, recomputed from /epochs by hand."""
    out = tmp_path / "x.h5"
    result = CliRunner().invoke(main, [
        "run", "logic-gates", "--mvg", "--set", 'schedule.goals=["XOR","table:0111011101110111"]',
        "--seed", "2", "--population", "200", "--generations", "410", "--out", str(out),
        "--set", "modularity.qm_epochs=1", "--set", "modularity.qm_samples=3", "--quiet"])
    assert result.exit_code == 0, result.output
    e = load(out).epochs
    full = e["length"] == 20
    solved = e["solved"] & full
    after = full & (np.arange(len(full)) > np.flatnonzero(solved)[0])
    again = solved & after
    assert 0 < again.sum() < after.sum()
    shown = CliRunner().invoke(main, ["show", str(out), "--no-config"]).output
    assert f"solved in {solved.sum()} of {full.sum()}" in shown
    assert f"re-solved in {again.sum()} of {after.sum()} ({again.sum() / after.sum():.1%})" in shown
    assert f"median {np.median(e['first_solved'][again]):g} generations" in shown
    qm = e["qm_solved"][solved]
    assert (f"Q {e['q_solved'][solved].mean():.4f} (mean of {solved.sum()}), "
            f"Qm {np.nanmean(qm):.4f} (mean of {np.isfinite(qm).sum()})") in shown
    assert "config" not in shown


def test_run_a_config_file_with_fixed_goal(tmp_path):
    result = CliRunner().invoke(main, ["run", str(CONFIGS / "ka2005-logic-mvg.toml"), "--goal", "G2",
                                       "--out", str(tmp_path / "g2.h5"), *SMALL])
    assert result.exit_code == 0, result.output
    h = load(tmp_path / "g2.h5")
    assert h.goal_names == ["G2"] and not h["goal"].any()


def test_bad_input_is_one_line_with_exit_code_2(tmp_path):
    cli = CliRunner()
    cases = [
        (["run", "logic-gates", "--set", "run.sed=3"], "unknown key 'run.sed'"),
        (["run", "logic-gates", "--set", "variation.mutation_rate=2"], "out of range"),
        (["run", "retina-x"],
         "retina-x: not a task, a config file or a config's name; tasks: logic-gates"),
        (["run", "logic-gates", "--goal", "G9"], "schedule.goal: 'G9'"),
        (["run", "logic-gates", "--mvg", "--goal", "G1"], "cannot go with --mvg"),
        (["run", str(tmp_path / "missing.toml")], "cannot read config file"),
        (["show", str(tmp_path / "none.h5")], "no such run file"),
        (["run", "--resume", str(tmp_path / "none.h5")], "no such run file"),
    ]
    for args, message in cases:
        result = cli.invoke(main, args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1, result.output


def test_tasks_and_config_show():
    cli = CliRunner()
    tasks = cli.invoke(main, ["tasks"])
    assert tasks.exit_code == 0 and "logic-gates" in tasks.output and "G1, G2" in tasks.output
    shown = cli.invoke(main, ["config", "show", "logic-gates"])
    assert shown.exit_code == 0
    assert 'kind = "fixed"' in shown.output and "one of fixed, mvg, rmvg, random" in shown.output
    assert "population = 1000" in shown.output and "(unverified)" in shown.output
    assert "operator_args" not in shown.output  # what it prints loads back as a config
    text = "\n".join(line.split("#")[0] for line in shown.output.splitlines())
    from evosim import config as cfg
    assert cfg.loads(text) == cfg.Config()


def test_bad_files_and_folders_are_one_line_with_exit_code_2(tmp_path):
    cli = CliRunner()
    bad_toml = tmp_path / "bad.toml"
    bad_toml.write_text("[run]\nseed = \n")
    corrupt = tmp_path / "corrupt.h5"
    corrupt.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    a_file = tmp_path / "plain"
    a_file.write_text("x")
    newer = tmp_path / "newer.h5"
    assert cli.invoke(main, ["run", "logic-gates", "--out", str(newer), *SMALL]).exit_code == 0
    import h5py
    with h5py.File(newer, "r+") as f:
        f.attrs["schema_version"] = 99
    cases = [
        (["run", str(bad_toml)], "bad.toml: not valid TOML"),
        (["run", "logic-gates", "--out", str(a_file / "x.h5"), *SMALL], "cannot write here"),
        (["show", str(corrupt)], "corrupt.h5: cannot read as HDF5"),
        (["run", "--resume", str(corrupt)], "corrupt.h5: cannot read as HDF5"),
        (["show", str(newer)], "schema version 99 is newer"),
        (["run", "--resume", str(newer)], "schema version 99 is newer"),
        (["run", "logic-gates", "--set", "task.n_inputs=3", "--rmvg"], "rmvg needs a task"),
    ]
    for args, message in cases:
        result = cli.invoke(main, args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)
        assert len(result.output.strip().splitlines()) == 1, result.output


def test_existing_output_is_refused_unless_forced(tmp_path):
    cli = CliRunner()
    out = tmp_path / "r.h5"
    args = ["run", "logic-gates", "--out", str(out), *SMALL]
    assert cli.invoke(main, args).exit_code == 0
    before = load(out)
    refused = cli.invoke(main, [*args, "--seed", "9"])
    assert refused.exit_code == 2 and "exists; choose another --out" in refused.output
    assert np.array_equal(load(out)["fitness_mean"], before["fitness_mean"])  # untouched
    forced = cli.invoke(main, [*args, "--seed", "9", "--force"])
    assert forced.exit_code == 0 and load(out).attrs["seed"] == 9
    assert not list(tmp_path.glob("*.new"))
    again = cli.invoke(main, ["run", "--resume", str(out)])  # a complete run: nothing to do
    assert again.exit_code == 0 and "(complete)" in again.output


def test_a_full_disk_is_one_line_and_leaves_a_resumable_run(tmp_path, monkeypatch):
    out = tmp_path / "full.h5"
    fill_disk_at_block(monkeypatch, 3)
    result = CliRunner().invoke(main, ["run", "logic-gates", "--out", str(out), *SMALL])
    assert result.exit_code == 2
    assert "No space left on device" in result.output and "resumable from generation 80" in result.output
    monkeypatch.undo()
    assert load(out).attrs["status"] == "interrupted" and len(load(out)) == 80
    assert CliRunner().invoke(main, ["run", "--resume", str(out), "--quiet"]).exit_code == 0
    assert len(load(out)) == 121


def test_retina_commands(tmp_path):
    cli = CliRunner()
    small = ["--generations", "30", "--population", "50", "--quiet",
             "--set", "modularity.qm_samples=3"]
    for i, args in enumerate([["retina", "--goal", "and"], ["retina", "--mvg"],
                              ["retina", "--selection", "nsga2", "--cost", "length",
                               "--cost-p", "0.25"],
                              [str(CONFIGS / "clune2013-retina-pcc.toml")]]):
        out = tmp_path / f"r{i}.h5"
        result = cli.invoke(main, ["run", *args, "--out", str(out), *small])
        assert result.exit_code == 0, (args, result.output)
        h = load(out)
        assert h.attrs["task"] == "retina" and len(h) == 31
    assert load(tmp_path / "r1.h5").goal_names == ["and", "or"]
    assert np.isfinite(load(tmp_path / "r2.h5")["cost_best"]).all()
    bad = cli.invoke(main, ["run", "retina", "--cost", "length", "--set", "cost.layout=line"])
    assert bad.exit_code == 2 and "cost.layout: 'line' is not a retina layout" in bad.output
    shown = cli.invoke(main, ["config", "show", "retina"])
    assert 'goal = "and"' in shown.output and 'activation = "threshold"' in shown.output


def test_gradient_mode_commands(tmp_path):
    cli = CliRunner()
    quick = ["--quiet", "--set", "modularity.every=0", "--set", "modularity.qm_epochs=0"]
    for i, args in enumerate([["retina", "--mode", "gradient", "--mvg", "--epochs", "40"],
                              ["logic-gates", "--mode", "gradient", "--goal", "G1",
                               "--epochs", "40"],
                              ["digit-pairs", "--mode", "gradient", "--rmvg", "--epochs", "3",
                               "--set", "gradient.n_pairs=200"],
                              [str(CONFIGS / "digit-pairs-fixed.toml"), "--epochs", "2",
                               "--set", "gradient.n_pairs=100"]]):
        out = tmp_path / f"g{i}.h5"
        result = cli.invoke(main, ["run", *args, "--out", str(out), *quick])
        assert result.exit_code == 0, (args, result.output)
        assert load(out).attrs["mode"] == "gradient"
    bad = cli.invoke(main, ["run", "digit-pairs", "--mode", "evolution"])
    assert bad.exit_code == 2 and "digit-pairs is trained, not evolved" in bad.output


def test_gpu_backend_without_cupy_is_a_clear_error(tmp_path):
    import importlib.util
    if importlib.util.find_spec("cupy") is not None:
        import pytest
        pytest.skip("cupy is installed here")
    out = tmp_path / "gpu.h5"
    result = CliRunner().invoke(main, ["run", "retina", "--mode", "gradient", "--epochs", "2",
                                       "--set", "gradient.array_backend=cupy", "--out", str(out)])
    assert result.exit_code == 2
    assert "gradient.array_backend = cupy needs CuPy and a CUDA GPU" in result.output
    assert not out.exists()
