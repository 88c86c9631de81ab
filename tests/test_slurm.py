"""``evosim sweep --slurm`` on a real scheduler: a single-node SLURM cluster on this machine
(``scripts/slurm-local.sh``, or the one ``SLURM_CONF`` names), jobs submitted through
dask-jobqueue, every run file equal to the local sweep's. Skipped, saying why, where no
scheduler can be started (no SLURM packages, not root, no dask-jobqueue)."""
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import assert_same_run_files

pytestmark = pytest.mark.slurm
SCRIPT = Path(__file__).parent.parent / "scripts" / "slurm-local.sh"
SWEEP = ["logic-gates", "--mvg", "--seeds", "0-2", "--generations", "150", "--population", "60",
         "--set", "modularity.qm_samples=3"]


def _scheduler_answers(env) -> bool:
    try:
        done = subprocess.run(["sinfo", "-h", "-o", "%t"], env=env, capture_output=True,
                              text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and any(s in done.stdout for s in ("idle", "mix", "alloc"))


@pytest.fixture(scope="module")
def slurm_env(tmp_path_factory):
    """The environment to submit from: an answering scheduler's SLURM_CONF."""
    if importlib.util.find_spec("dask_jobqueue") is None:
        pytest.skip("dask-jobqueue is not installed (pip install \"evosim[dask]\")")
    env = dict(os.environ)
    if env.get("SLURM_CONF") and _scheduler_answers(env):
        yield env
        return
    if shutil.which("slurmctld") is None or shutil.which("munged") is None:
        pytest.skip("no SLURM here: slurmctld and munge are not installed "
                    "(scripts/slurm-local.sh install)")
    if os.geteuid() != 0:
        pytest.skip("a local SLURM cluster needs root to start its daemons")
    env["EVOSIM_SLURM_DIR"] = str(tmp_path_factory.mktemp("slurm"))
    started = subprocess.run([str(SCRIPT), "start"], env=env, capture_output=True, text=True,
                             timeout=120)
    if started.returncode != 0:
        pytest.skip(f"the local SLURM cluster did not start: {started.stderr.strip()[-300:]}")
    env["SLURM_CONF"] = str(Path(env["EVOSIM_SLURM_DIR"]) / "slurm.conf")
    try:
        yield env
    finally:
        subprocess.run([str(SCRIPT), "stop"], env=env, capture_output=True, timeout=60)


def test_a_sweep_on_slurm_writes_the_local_sweeps_files(slurm_env, tmp_path):
    def sweep(*args, env=None):
        return subprocess.run([sys.executable, "-m", "evosim", "sweep", *SWEEP, *args],
                              env=env, cwd=tmp_path, capture_output=True, text=True,
                              timeout=600)  # cwd: where SLURM writes its slurm-<job>.out

    local = sweep("--workers", "1", "--out", str(tmp_path / "local"))
    assert local.returncode == 0, local.stderr
    on_slurm = sweep("--slurm", "--jobs", "1", "--cores", "2", "--memory", "2GB",
                     "--walltime", "00:10:00", "--out", str(tmp_path / "slurm"), env=slurm_env)
    assert on_slurm.returncode == 0, on_slurm.stderr
    assert "SLURM: 1 jobs x 2 cores" in on_slurm.stderr
    names = sorted(p.name for p in (tmp_path / "local").glob("*.h5"))
    assert names == sorted(p.name for p in (tmp_path / "slurm").glob("*.h5")) and len(names) == 3
    for name in names:
        assert_same_run_files(tmp_path / "local" / name, tmp_path / "slurm" / name)
