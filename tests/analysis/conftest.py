"""Run files the analysis tests share, made once per session (a few seconds in all)."""
import pytest

from evosim import runner, sweep
from evosim.config import Config

NAND_XY = "table:0111011101110111"  # NAND(x, y): solved within a few generations
# goals that small populations solve and re-solve in a few hundred generations
QUICK = {"run.population": 100, "run.generations": 300, "modularity.qm_epochs": 3,
         "modularity.qm_samples": 3, "output.snapshot_every": 100, "schedule.goal": "XOR",
         "schedule.goals": ["XOR", NAND_XY]}
SEEDS = [0, 1, 2]


@pytest.fixture(scope="session")
def sweep_folder(tmp_path_factory):
    """One sweep folder, as `evosim sweep --grid schedule.kind=fixed,mvg --seeds 0-2` writes it:
    two conditions x three seeds, all in one folder."""
    folder = tmp_path_factory.mktemp("sweep")
    plan = sweep.expand(Config().replace(**QUICK), {"schedule.kind": ["fixed", "mvg"]}, SEEDS)
    with sweep.local_backend(1) as backend:
        summaries = sweep.run_sweep(plan, folder, backend)
    assert {s["status"] for s in summaries} == {"complete"}
    return folder


@pytest.fixture(scope="session")
def gradient_run(tmp_path_factory):
    """A short gradient-trained retina run (MVG periods of 20 training epochs)."""
    path = tmp_path_factory.mktemp("gradient") / "grad.h5"
    runner.run(Config().replace(**{"task.name": "retina", "run.mode": "gradient",
                                   "run.generations": 45, "schedule.kind": "mvg",
                                   "modularity.qm_epochs": 0, "modularity.every": 5}), path)
    return path


@pytest.fixture(scope="session")
def retina_run(tmp_path_factory):
    """A short evolved retina run (directed Q)."""
    path = tmp_path_factory.mktemp("retina") / "retina.h5"
    runner.run(Config().replace(**{"task.name": "retina", "schedule.kind": "mvg",
                                   "run.population": 100, "run.generations": 100,
                                   "modularity.qm_epochs": 0}), path)
    return path
