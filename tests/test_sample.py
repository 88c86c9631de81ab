"""``evosim sample``: random baselines, reproducible from their seed and equal to what runs record
of the same random networks."""
import numpy as np
import pytest
from click.testing import CliRunner

from evosim import config as cfg
from evosim import runner
from evosim import sample as sampling
from evosim.cli import main
from evosim.io import load

QUICK = {"run.generations": 1, "modularity.qm_samples": 4, "modularity.qm_epochs": 0}


def _config(**overrides):
    return cfg.Config().replace(**{**QUICK, **overrides})


def test_a_sample_is_reproducible_from_its_seed():
    a, _ = sampling.sample(_config(**{"run.seed": 4}), 30)
    b, _ = sampling.sample(_config(**{"run.seed": 4}), 30)
    c, _ = sampling.sample(_config(**{"run.seed": 5}), 30, qm=False)
    for name in a:
        assert np.array_equal(a[name], b[name], equal_nan=True), name
    assert not np.array_equal(a["fitness"], c["fitness"])
    assert np.isnan(c["qm"]).all() and np.isfinite(a["qm"]).any()


@pytest.mark.parametrize("task", ["logic-gates", "retina"])
def test_random_genomes_are_the_seeds_initial_population(tmp_path, task):
    """The run's generation-0 best is the fittest of the first ``population`` sampled genomes."""
    config = _config(**{"task.name": task, "run.population": 40, "run.seed": 2})
    columns, _ = sampling.sample(config, 60, qm=False)
    h = load(runner.run(config, tmp_path / "r.h5").path)
    assert h["fitness_best"][0] == columns["fitness"][:40].max()
    assert h["fitness_best"][0] <= columns["fitness"].max()


def test_untrained_networks_are_epoch_0_of_the_next_seeds(tmp_path):
    config = _config(**{"run.mode": "gradient", "run.seed": 7, "modularity.qm_epochs": 0})
    columns, methods = sampling.sample(config, 3, qm=False)
    for i in range(3):
        h = load(runner.run(config.replace(**{"run.seed": 7 + i}), tmp_path / f"g{i}.h5").path)
        assert columns["q"][i] == h["q_best"][0]
        assert columns["n_edges"][i] == h["n_edges_best"][0]
    assert np.isnan(columns["fitness"]).all() and methods["q_methods"]


@pytest.mark.parametrize("task,model", [("logic-gates", "nand-circuit"),
                                        ("retina", "retina-network")])
def test_untrained_genome_models_are_epoch_0_of_the_next_seeds(tmp_path, task, model):
    """A trained-genome model's untrained networks: its seeds' discretised epoch-0 networks,
    measured and scored as evolved ones."""
    config = _config(**{"task.name": task, "run.mode": "gradient", "gradient.model": model,
                        "run.seed": 3})
    columns, _ = sampling.sample(config, 3, qm=False)
    for i in range(3):
        h = load(runner.run(config.replace(**{"run.seed": 3 + i}), tmp_path / f"m{i}.h5").path)
        assert [columns["q"][i], columns["fitness"][i], columns["n_edges"][i]] == [
            h["q_best"][0], h["fitness_best"][0], h["n_edges_best"][0]]


def test_the_chance_corrected_measure_of_untrained_networks_averages_zero():
    """An untrained network is itself a draw of the weight-permutation null, so its Qm and z
    are centred on 0 (SCIENCE.md: on random networks the corrected measure averages about 0)."""
    columns, _ = sampling.sample(_config(**{"run.mode": "gradient",
                                            "modularity.qm_samples": 10}), 40)
    for name in ("qm", "z"):
        values = columns[name]
        assert abs(values.mean()) < 3 * values.std(ddof=1) / np.sqrt(values.size), name


def test_the_command_writes_the_sample_and_its_histogram(tmp_path):
    out = tmp_path / "s.h5"
    run = CliRunner().invoke(main, ["sample", "logic-gates", "--n", "12", "--seed", "3",
                                    "--set", "modularity.qm_samples=4", "--out", str(out),
                                    "--quiet"])
    assert run.exit_code == 0, run.output
    columns, attrs = sampling.read(out)
    assert attrs["n"] == 12 and attrs["seed"] == 3 and attrs["task"] == "logic-gates"
    assert columns["q"].shape == (12,) and out.with_suffix(".png").stat().st_size > 0
    assert "wrote" in run.output


@pytest.mark.parametrize("args, message", [
    (["--n", "0"], "--n"),
    (["--set", "run.seed=-1"], "run.seed"),
    (["--against", "missing.h5"], "--against"),
])
def test_bad_sample_input_gets_one_line(tmp_path, args, message):
    run = CliRunner().invoke(main, ["sample", "logic-gates", "--out", str(tmp_path / "s.h5"),
                                    *args])
    assert run.exit_code == 2 and message in run.output
    assert "Traceback" not in run.output and not (tmp_path / "s.h5").exists()


def test_a_run_file_is_not_read_as_a_sample(tmp_path):
    path = runner.run(_config(**{"run.population": 20}), tmp_path / "r.h5").path
    with pytest.raises(ValueError, match="not a sample file"):
        sampling.read(path)
