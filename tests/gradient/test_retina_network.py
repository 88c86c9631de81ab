"""The retina trained as its own genome (gradient.model = retina-network): the straight-through
gradient against finite differences of the relaxed loss, and runs recorded as evolved runs."""
import numpy as np
import pytest
from helpers import assert_resumes_to_the_same_file

from evosim import config as cfg
from evosim import runner
from evosim.gradient.network import forward, loss_value
from evosim.gradient.retina_network import RetinaModel
from evosim.io import load
from evosim.tasks.retina import RetinaTask

TASK = RetinaTask()
CONFIG = cfg.Config().replace(**{"task.name": "retina", "run.mode": "gradient",
                                 "gradient.model": "retina-network"})


def relaxed_loss(model, genes, y, temperature):
    """The relaxed network's loss as a function of real-valued genes (no rounding)."""
    out, _ = forward(model.params(genes, temperature), model.x, "tanh")
    return loss_value(out, y[:, None], "bce")


def test_the_gradient_is_the_relaxed_networks_at_the_rounded_genome():
    """Straight through: d loss / d theta = d relaxed loss / d genes at genes = round(theta),
    zero where the latent value is beyond the range."""
    model = RetinaModel(TASK, CONFIG)
    rng = np.random.default_rng(2)
    theta = model.init(rng)
    theta[:3] = [2.9, -3.4, 2.6]  # beyond +-2.5: rounds to +-2, passes no gradient
    y = rng.integers(0, 2, 256).astype(float)
    _, grad = model.loss_and_grad(theta, model.x, y, 2.0)
    genes = model.genome(theta).astype(float)
    eps = 1e-6
    fd = np.array([(relaxed_loss(model, genes + eps * e, y, 2.0)
                    - relaxed_loss(model, genes - eps * e, y, 2.0)) / (2 * eps)
                   for e in np.eye(theta.size)])
    inside = np.abs(theta) <= 2.5
    assert np.allclose(grad[inside], fd[inside], atol=1e-8)
    assert (grad[~inside] == 0).all() and np.abs(fd).max() > 1e-4


def test_rounding_gives_valid_genomes_of_the_evolved_weight_set():
    model = RetinaModel(TASK, CONFIG)
    theta = np.random.default_rng(0).normal(0, 3, (50, model.n_parameters))
    genomes = np.stack([model.genome(t) for t in theta])
    assert TASK.genome_problem(genomes) is None
    assert set(np.unique(genomes)) <= {-2, -1, 0, 1, 2}
    assert (genomes == np.clip(np.round(theta), -2, 2)).all()


def test_a_run_records_rounded_genomes_and_their_own_performance(tmp_path):
    config = CONFIG.replace(**{"run.generations": 40, "gradient.learning_rate": 0.05,
                               "modularity.qm_samples": 3, "output.flush_every": 15})
    h = load(runner.run(config, tmp_path / "r.h5").path)
    assert not h.trained_weights and h.snapshot_genome.dtype == np.int16
    rows = np.searchsorted(h["generation"], h.snapshot_generation)
    for genome, row in zip(h.snapshot_genome, rows):
        target = TASK.pack(h.goal_targets[h["goal"][row]])[0]
        assert h["fitness_best"][row] == TASK.performance(genome[None], target)[0]
    assert h["relaxed_accuracy"][-1] > h["relaxed_accuracy"][0]
    assert h["fitness_best"][-1] > 0.75  # well above chance after 40 steps
    assert np.isfinite(h["q_best"]).all()


def test_an_interrupted_retina_run_resumes_to_the_same_file(tmp_path):
    config = CONFIG.replace(**{"run.generations": 30, "output.flush_every": 10,
                               "modularity.every": 5, "modularity.qm_epochs": 0,
                               "gradient.input_noise": 0.2})
    assert_resumes_to_the_same_file(config, tmp_path, 15)


@pytest.mark.parametrize("overrides,message", [
    ({"cost.kind": "count"}, "cost.kind: 'count'; allowed with gradient.model = retina-network"),
    ({"gradient.loss": "mse"}, "gradient.loss: 'mse'; the retina answers by the sign"),
    ({"gradient.dropout": 0.1}, "gradient.dropout: a pressure of the MLP model"),
])
def test_what_a_rounded_retina_cannot_train_with(overrides, message):
    from evosim.validate import validate

    with pytest.raises(cfg.ConfigError, match=message):
        validate(CONFIG.replace(**overrides))


def test_no_latent_gene_freezes_beyond_the_range(tmp_path):
    """After every step the latent genes are clipped to +-2.5, where the straight-through
    gradient still passes: none is left beyond it to freeze (a fast learning rate pushes many
    genes out within a few dozen steps)."""
    import h5py

    config = CONFIG.replace(**{"run.generations": 60, "gradient.learning_rate": 0.2,
                               "modularity.every": 0, "modularity.qm_epochs": 0})
    path = runner.run(config, tmp_path / "r.h5").path
    with h5py.File(path, "r") as f:
        slot = int(f["checkpoint/active"][0])
        latent = f["checkpoint/parameters"][slot]
    assert np.abs(latent).max() <= 2.5 and (np.abs(latent) == 2.5).any()


def test_an_annealed_run_is_not_extended(tmp_path):
    from click.testing import CliRunner

    from evosim.cli import main

    path = runner.run(CONFIG.replace(**{"run.generations": 10, "gradient.temperature_end": 0.2,
                                        "modularity.every": 0, "modularity.qm_epochs": 0}),
                      tmp_path / "a.h5").path
    result = CliRunner().invoke(main, ["run", "--resume", str(path), "--generations", "20"])
    assert result.exit_code == 2 and "its temperature anneals over its run length" in result.output
    assert len(load(path)) == 11  # nothing recorded was touched


def test_what_the_noise_report_refuses(tmp_path, capsys):
    import importlib.util
    import sys
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "noise_report_refuses", Path(__file__).resolve().parents[2] / "analysis" / "noise.py")
    script = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = script
    spec.loader.exec_module(script)
    path = runner.run(CONFIG.replace(**{"run.generations": 3, "gradient.input_noise": 0.3,
                                        "modularity.every": 0, "modularity.qm_epochs": 0}),
                      tmp_path / "r.h5").path
    with pytest.raises(SystemExit) as stop:
        script.main([str(path), "-o", str(tmp_path / "report")])
    assert stop.value.code == 2 and "a trained genome model's run" in capsys.readouterr().err
