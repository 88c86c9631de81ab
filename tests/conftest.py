import numpy as np
import pytest

from evosim.config import Config


@pytest.fixture
def small_config() -> Config:
    """A quick MVG run: small population, few generations, frequent flushes and snapshots."""
    return Config().replace(**{
        "run.population": 200, "run.generations": 300, "schedule.kind": "mvg",
        "output.flush_every": 50, "output.snapshot_every": 25, "modularity.qm_epochs": 5,
        "modularity.qm_samples": 5,
    })


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)
