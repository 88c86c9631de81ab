"""The cupy engine on a real GPU against the Numba engine, and gradient mode's CuPy backend
against NumPy: skipped where CuPy or a CUDA GPU is missing (``benchmarks/gpu_check.sh`` runs
these on a GPU machine; ``test_batched.py`` runs the same engine code with NumPy everywhere)."""
import numpy as np
import pytest

from evosim import batch, runner
from evosim import xp
from evosim.config import Config
from evosim.engine import evolve
from evosim.engine.batched import evolve_batch
from evosim.io import load
from evosim.tasks import get_task
from tests.helpers import datasets

try:
    cupy = xp.gpu_module()
except xp.GPUUnavailable as err:
    pytest.skip(str(err), allow_module_level=True)


def _small(**overrides) -> Config:
    return Config().replace(**{"run.population": 500, "run.generations": 400,
                               "schedule.kind": "mvg", "output.flush_every": 100,
                               "modularity.qm_samples": 3, **overrides})


@pytest.mark.parametrize("overrides", [
    {},
    {"selection.scheme": "tournament", "selection.tournament_size": 3},
    {"cost.kind": "length", "cost.weight": 0.002, "cost.layout": "evolved"},
    {"schedule.kind": "vg0", "schedule.period": 10},
    {"task.name": "retina", "run.population": 200, "cost.kind": "length", "cost.weight": 0.002},
    {"selection.scheme": "nsga2", "cost.kind": "count", "cost.p": 0.25},
    {"selection.scheme": "nsga2", "cost.kind": "count", "cost.p": 0.25,
     "cost.coins": "per-check"},
])
def test_a_gpu_batch_gives_each_run_the_numba_engines_history(overrides):
    base = _small(**overrides)
    configs = [base.replace(**{"run.seed": s, "variation.mutation_rate": 0.2 + 0.1 * s})
               for s in range(4)]
    task = get_task(base.task, base.cost.layout)
    schedules = [runner.build_schedule(c, task) for c in configs]
    keys = [runner.run_key(c) for c in configs]
    together = list(evolve_batch(task, schedules, configs, keys, block_size=100, xp=cupy))
    for r, config in enumerate(configs):
        alone = list(evolve(task, schedules[r], config, keys[r], block_size=100))
        for a, b in zip(alone, (blocks[r] for blocks in together)):
            for name in ("fitness_best", "fitness_mean", "cost_best", "cost_mean",
                         "front0_size", "best_genome"):
                assert np.array_equal(getattr(a, name), getattr(b, name)), (r, name)
            assert np.array_equal(a.state.genomes, b.state.genomes)


def test_gpu_batch_files_hold_the_numba_runs_datasets(tmp_path):
    configs = [_small(**{"run.engine": "cupy", "run.seed": s}) for s in range(3)]
    batch.run_batch(configs, [tmp_path / f"gpu{s}.h5" for s in range(3)])
    for s, config in enumerate(configs):
        numba = runner.run(config.replace(**{"run.engine": "numba"}), tmp_path / f"cpu{s}.h5")
        ours, theirs = datasets(tmp_path / f"gpu{s}.h5"), datasets(numba.path)
        assert sorted(ours) == sorted(theirs)
        for name in ours:
            assert np.array_equal(ours[name], theirs[name],
                                  equal_nan=ours[name].dtype.kind == "f"), name


def test_gradient_training_on_the_gpu_follows_numpy(tmp_path):
    config = Config().replace(**{"task.name": "retina", "run.mode": "gradient",
                                 "run.generations": 5, "schedule.kind": "mvg",
                                 "schedule.period": 2})
    runs = {backend: load(runner.run(config.replace(**{"gradient.array_backend": backend}),
                                     tmp_path / f"{backend}.h5").path)
            for backend in ("numpy", "cupy")}
    for name in ("loss_train", "loss_test", "accuracy_train", "fitness_best"):
        assert np.allclose(runs["numpy"][name], runs["cupy"][name], rtol=1e-6, atol=1e-9), name
