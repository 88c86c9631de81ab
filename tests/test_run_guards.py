"""What stands between a run file and harm: one writer at a time, a resume that trusts nothing it
reads, extensions equal to longer runs, stubs that never block, signals that always stop."""
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest
from click.testing import CliRunner
from helpers import assert_same_run_files

from evosim import runner
from evosim.cli import main
from evosim.config import Config
from evosim.io import load
from evosim.io.lock import holder, lock_path

SMALL = {"run.population": 100, "run.generations": 300, "output.flush_every": 50,
         "modularity.qm_samples": 3, "schedule.kind": "mvg"}


def small(**overrides) -> Config:
    return Config().replace(**{**SMALL, **overrides})


def start(out, *args):
    """A long run in another process (200 individuals, 200000 generations)."""
    return subprocess.Popen([sys.executable, "-m", "evosim", "run", "logic-gates", "--mvg",
                             "--population", "200", "--generations", "200000", "--out", str(out),
                             "--quiet", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for_rows(path, process, rows=1, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if len(load(path)) >= rows:
                return
        except Exception:  # noqa: BLE001 - not there yet
            pass
        assert process.poll() is None, process.communicate()
        time.sleep(0.01)
    raise AssertionError("the run did not start")


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_a_second_writer_is_refused_and_a_killed_writers_lock_never_blocks(tmp_path):
    out = tmp_path / "one.h5"
    first = start(out)
    try:
        wait_for_rows(out, first)
        assert holder(out).startswith(f"process {first.pid} on ")
        for attempt in (lambda: runner.run(small(), out, force=True),
                        lambda: runner.resume(out)):
            with pytest.raises(runner.RunError, match=f"being written by process {first.pid}"):
                attempt()
        refused = cli("run", "logic-gates", "--out", out, "--force", "--quiet")
        assert refused.exit_code == 2 and refused.output.count("\n") == 1
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    assert lock_path(out).exists() and holder(out) is None  # left behind, but held by nobody
    assert runner.run(small(), out, force=True).status == "complete"
    assert not lock_path(out).exists()


def test_extending_a_run_equals_a_longer_run(tmp_path):
    """--resume FILE --generations G: a complete run extended, or an interrupted one, is the
    run started with G, dataset by dataset (RMVG too, whose goal table grows)."""
    for kind in ("mvg", "rmvg"):
        longer = runner.run(small(**{"schedule.kind": kind, "run.generations": 520}),
                            tmp_path / f"{kind}-520.h5").path
        short = runner.run(small(**{"schedule.kind": kind}), tmp_path / f"{kind}.h5").path
        assert runner.resume(short, generations=520).status == "complete"
        assert_same_run_files(longer, short)
    refused = cli("run", "--resume", short, "--generations", 100)
    assert refused.exit_code == 2 and "extended, not shortened" in refused.output


def test_resume_takes_no_other_flag(tmp_path):
    path = runner.run(small(**{"run.generations": 60}), tmp_path / "x.h5").path
    for args, named in ((["--seed", 3], "--seed"), (["logic-gates"], "TARGET"),
                        (["--population", 50, "--mvg"], "--population, --mvg"),
                        (["--set", "run.seed=2"], "--set"), (["--out", "y.h5"], "--out")):
        result = cli("run", "--resume", path, *args)
        assert result.exit_code == 2 and result.output.count("\n") == 1, result.output
        assert named in result.output and "it takes --generations" in result.output


@pytest.mark.parametrize("edit, message", [
    (lambda f: f.attrs.__setitem__("config", f.attrs["config"].replace(
        "max_gates = 12", "max_gates = 20")), "int16\\[100, 41\\]"),
    (lambda f: f.attrs.__setitem__("config", f.attrs["config"].replace(
        "max_gates = 12", "max_gates = 6")), "int16\\[100, 13\\]"),
    (lambda f: f["checkpoint/genomes"].__setitem__(Ellipsis, -5), "gene 0 of genome 0 is -5"),
    (lambda f: f.attrs.__setitem__("config", "[run]\nseed = -1\n"), "stored config is not valid"),
    (lambda f: f["history/generation"].__setitem__(7, 0), "not generations 0..149 in order"),
])
def test_resume_checks_the_stored_config_rows_and_checkpoint_first(tmp_path, edit, message):
    whole = runner.run(small(), tmp_path / "whole.h5").path

    def interrupt(progress):
        if progress.generation >= 149:
            raise KeyboardInterrupt

    path = runner.run(small(), tmp_path / "cut.h5", progress=interrupt).path
    with h5py.File(path, "r+") as f:
        edit(f)
    result = cli("run", "--resume", path, "--quiet")
    assert result.exit_code == 2 and result.output.count("\n") == 1, result.output
    assert result.output.startswith("error: ") and __import__("re").search(message, result.output)
    assert len(load(path)) == 150  # the refused file is as it was
    assert whole.exists()


def test_a_file_that_holds_no_generation_is_replaced_without_force(tmp_path):
    """A run stopped before its first block leaves a file without rows: a plain rerun replaces
    it; a file with rows is never replaced without --force."""
    path = tmp_path / "stub.h5"
    writer = runner.RunWriter.create(path, task="logic-gates", mode="evolution", seed=0,
                                     config_toml=small().to_toml(), engine="numba",
                                     goal_names=["G1"], goal_targets=np.zeros((1, 16)),
                                     genome_shape=(100, 25), genome_dtype=np.int16)
    writer.file.close()  # as if killed
    assert len(load(path)) == 0
    assert runner.run(small(), path).status == "complete"
    with pytest.raises(runner.RunError, match="exists; choose another --out"):
        runner.run(small(), path)


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.3, 1.0])
def test_a_run_killed_in_its_first_moments_resumes_or_reruns(tmp_path, delay):
    out = tmp_path / "early.h5"
    process = start(out, "--generations", "600", "--population", "100")
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait()
    if out.exists():
        assert cli("run", "--resume", out, "--quiet").exit_code == 0
    else:
        assert cli("run", "logic-gates", "--mvg", "--generations", 600, "--population", 100,
                   "--out", out, "--quiet").exit_code == 0
    assert load(out).attrs["status"] == "complete" and len(load(out)) == 601


def test_a_second_signal_stops_at_once_with_one_line(tmp_path):
    out = tmp_path / "twice.h5"
    process = start(out, "--set", "output.flush_every=5000")
    wait_for_rows(out, process, 5000)
    process.send_signal(signal.SIGINT)
    time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert err.decode().strip().count("\n") == 0 and b"evosim run --resume" in err
    h = load(out)
    assert h.attrs["status"] == "interrupted" and len(h) == h.checkpoint_generation
