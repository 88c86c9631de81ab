"""evosim sweep: expansion, executors giving identical files, idempotent restarts, failures."""
import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
import tomli_w
from click.testing import CliRunner
from helpers import assert_same_run_files, fill_disk_at_block

from evosim import config as cfg
from evosim import runner
from evosim import sweep as sw
from evosim.cli_sweep import sweep
from evosim.io import RunFileError, load

CONFIG = str(Path(__file__).resolve().parent.parent / "configs" / "ka2005-logic-fg.toml")
TINY = ["--generations", "60", "--population", "60", "--set", "modularity.qm_epochs=0",
        "--set", "output.flush_every=20"]
FOUR_RUNS = [CONFIG, "--grid", "schedule.kind=fixed,mvg", "--seeds", "0-1", *TINY]
NAMES = {f"schedule.kind={k}__seed={s}" for k in ("fixed", "mvg") for s in (0, 1)}


def invoke(*args):
    return CliRunner().invoke(sweep, [str(a) for a in args])


def run_files(folder):
    return {p.name for p in Path(folder).iterdir()}


def assert_same_sweeps(a, b):
    assert run_files(a) == run_files(b)
    for name in run_files(a) - {"sweep.toml"}:
        assert_same_run_files(Path(a) / name, Path(b) / name)


def test_seeds_parsing():
    assert sw.parse_seeds("0-3") == [0, 1, 2, 3]
    assert sw.parse_seeds("1,5,9") == [1, 5, 9]
    assert sw.parse_seeds("0-2, 20") == [0, 1, 2, 20]
    for bad in ("3-1", "a", "1,1", "0-3,2", "", "-1"):
        with pytest.raises(sw.SweepError, match="--seeds"):
            sw.parse_seeds(bad)


def test_expansion_is_a_cartesian_product_with_readable_names():
    base = cfg.load(CONFIG)
    grid = sw.parse_grid(["schedule.kind=fixed,mvg", "variation.mutation_rate=0.1,0.5",
                          'schedule.goals=["G1","XOR"]'])
    plan = sw.expand(base, grid, [0, 7])
    assert len(plan.runs) == 2 * 2 * 1 * 2
    assert plan.runs[0].name == "schedule.kind=fixed__variation.mutation_rate=0.1__" \
                                "schedule.goals=G1+XOR__seed=0"
    assert plan.runs[-1].file == "schedule.kind=mvg__variation.mutation_rate=0.5__" \
                                 "schedule.goals=G1+XOR__seed=7.h5"
    assert len({r.name for r in plan.runs}) == len(plan.runs)
    last = cfg.loads(plan.runs[-1].config_toml)
    assert (last.schedule.kind, last.variation.mutation_rate, last.run.seed) == ("mvg", 0.5, 7)
    assert last.schedule.goals == ("G1", "XOR") and last.run.generations == base.run.generations
    assert [r.name for r in sw.expand(base, {}, [3, 4]).runs] == ["seed=3", "seed=4"]


def test_bad_grid_and_seeds_are_one_line_naming_the_key(tmp_path):
    with pytest.raises(cfg.ConfigError, match="schedule.kindd"):
        sw.expand(cfg.load(CONFIG), sw.parse_grid(["schedule.kindd=fixed"]), [0])
    for args, key in [(["--grid", "schedule.kindd=fixed,mvg"], "schedule.kindd"),
                      (["--grid", "schedule.kind=fixed,bogus"], "schedule.kind"),
                      (["--grid", "mutation_rate=0.1"], "mutation_rate"),
                      (["--grid", "run.seed=1,2"], "--seeds"),
                      (["--seeds", "5-1"], "--seeds")]:
        result = invoke(CONFIG, *args, "--out", tmp_path / "out", *TINY)
        assert result.exit_code == 2, result.output
        assert result.output.startswith("error: ") and result.output.count("\n") == 1
        assert key in result.output
    assert not (tmp_path / "out").exists()  # nothing written before everything is valid
    result = invoke("--status", tmp_path)
    assert result.exit_code == 2 and "no sweep.toml" in result.output


def test_local_pool_serial_and_dask_give_identical_files_and_reruns_skip(tmp_path):
    pytest.importorskip("distributed")
    result = invoke(*FOUR_RUNS, "--out", tmp_path / "pool", "--workers", 2)
    assert result.exit_code == 0, result.output
    assert run_files(tmp_path / "pool") == {f"{n}.h5" for n in NAMES} | {"sweep.toml"}
    for name in NAMES:
        assert load(tmp_path / "pool" / f"{name}.h5").attrs["status"] == "complete"
    result = invoke(*FOUR_RUNS, "--out", tmp_path / "serial", "--workers", 1)
    assert result.exit_code == 0, result.output
    result = invoke(*FOUR_RUNS, "--out", tmp_path / "dask", "--dask", "local", "--workers", 2)
    assert result.exit_code == 0, result.output
    assert_same_sweeps(tmp_path / "pool", tmp_path / "serial")
    assert_same_sweeps(tmp_path / "pool", tmp_path / "dask")
    # the same command again does nothing; a different sweep into the folder is refused
    mtimes = {p: p.stat().st_mtime_ns for p in (tmp_path / "pool").iterdir()}
    result = invoke(*FOUR_RUNS, "--out", tmp_path / "pool", "--workers", 2)
    assert result.exit_code == 0 and "4 of 4 runs complete (4 already were)" in result.output
    assert mtimes == {p: p.stat().st_mtime_ns for p in (tmp_path / "pool").iterdir()}
    result = invoke(*FOUR_RUNS, "--seeds", "0-2", "--out", tmp_path / "pool")
    assert result.exit_code == 2 and "different sweep" in result.output


def test_a_rerun_clears_the_lock_a_killed_writer_left_beside_a_complete_run(tmp_path):
    from evosim.io.lock import RunLock, lock_path

    args = [CONFIG, "--seeds", "0-1", "--generations", 20, "--population", 20,
            "--set", "modularity.qm_samples=2", "--out", tmp_path, "--workers", 1]
    assert invoke(*args).exit_code == 0
    stale, held = sorted(tmp_path.glob("*.h5"))
    lock_path(stale).write_text("process 1 on a killed host")  # no flock: nobody holds it
    with RunLock(held):  # a run someone holds is theirs: left alone, and said so
        result = invoke(*args)
        assert result.exit_code == 130 and "by another process" in result.output
        assert not lock_path(stale).exists() and lock_path(held).exists()


def test_sweep_killed_half_way_then_run_again_completes_each_run_once(tmp_path):
    args = [CONFIG, "--grid", "schedule.kind=fixed,mvg", "--seeds", "0-1", "--generations",
            2000, "--population", 100, "--set", "modularity.qm_epochs=0",
            "--set", "output.flush_every=20"]
    killed, whole = tmp_path / "killed", tmp_path / "whole"
    process = subprocess.Popen(
        [sys.executable, "-c", "from evosim.cli_sweep import sweep; sweep()",
         *map(str, args), "--out", str(killed), "--workers", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        _wait_for_complete_and_partial(killed, process)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the driver and its workers, as a cluster would
        process.wait()
        _wait_for_workers_gone(killed)
    before = {s.name: s.state for s in sw.folder_status(killed)}
    done = sum(state == "complete" for state in before.values())
    assert 1 <= done < 4 and set(before.values()) - {"complete"} <= {"interrupted", "pending"}
    result = invoke(*args, "--out", killed, "--workers", 2)
    assert result.exit_code == 0, result.output
    assert f"4 of 4 runs complete ({done} already were)" in result.output
    assert all(s.state == "complete" for s in sw.folder_status(killed))
    assert invoke(*args, "--out", whole, "--workers", 1).exit_code == 0
    assert_same_sweeps(killed, whole)  # no extra, missing or different files


def _wait_for_workers_gone(folder, timeout=30.0):
    """Until no killed worker holds a run's lock: ``wait`` reaps the driver only, and a worker
    the signal reached may take a moment longer to exit (its lock goes with it)."""
    from evosim.io.lock import holder

    deadline = time.monotonic() + timeout
    while any(holder(p) for p in folder.glob("*.h5")):
        assert time.monotonic() < deadline, "killed workers still hold their run files"
        time.sleep(0.01)


def _wait_for_complete_and_partial(folder, process, timeout=60.0):
    """Until one run is complete and another is part-way (at least 100 rows, not complete)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = []
        for path in folder.glob("*.h5"):
            try:
                history = load(path)
                states.append((history.attrs["status"], len(history)))
            except RunFileError:  # created but not yet initialised: try again
                pass
        if any(s == "complete" for s, _ in states) and \
                any(s != "complete" and rows >= 100 for s, rows in states):
            return
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)  # reading often would slow the writers down
    raise AssertionError("sweep did not progress")


def test_a_failing_run_is_retried_then_reported_while_the_others_complete(tmp_path, monkeypatch):
    calls = []
    real_run = runner.run

    def flaky(config, out=None, **kwargs):
        calls.append(config.run.seed)
        if config.run.seed == 1:
            raise RuntimeError("boom at seed 1")
        return real_run(config, out, **kwargs)

    monkeypatch.setattr(runner, "run", flaky)
    out = tmp_path / "out"
    args = [CONFIG, "--seeds", "0-2", *TINY, "--out", out, "--workers", 1]
    result = invoke(*args)
    assert result.exit_code == 1
    assert calls.count(1) == 3 and calls.count(0) == calls.count(2) == 1  # retries = 2
    assert "2 of 3 runs complete (0 already were), 1 failed" in result.output
    assert "boom at seed 1" in (out / "seed=1.failed").read_text()
    status = invoke("--status", out)
    assert status.exit_code == 0
    line = next(l for l in status.output.splitlines() if l.startswith("seed=1 "))
    assert "failed" in line and "RuntimeError: boom at seed 1" in line
    assert "3 runs: 2 complete, 0 running, 0 interrupted, 1 failed, 0 pending" in status.output
    # fixed, the same command again runs only the failed run
    monkeypatch.setattr(runner, "run", real_run)
    result = invoke(*args)
    assert result.exit_code == 0 and "3 of 3 runs complete (2 already were)" in result.output
    assert run_files(out) == {"sweep.toml", "seed=0.h5", "seed=1.h5", "seed=2.h5"}


def test_sweep_table_and_slurm_settings(tmp_path, monkeypatch):
    config_file = tmp_path / "c.toml"
    config_file.write_text(Path(CONFIG).read_text() + '\n[sweep]\njobs = 4\nqueue = "short"\n')
    result = invoke(config_file, *TINY, "--out", tmp_path / "out", "--workers", 1)
    assert result.exit_code == 0, result.output
    assert "sweep" not in sw.read_manifest(tmp_path / "out")["base"]
    assert sw.slurm_options({"jobs": 4, "queue": "short"}, {"jobs": None, "cores": 8}) == \
        {"jobs": 4, "cores": 8, "walltime": "24:00:00", "queue": "short"}
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if dask were not installed
    result = invoke(*FOUR_RUNS, "--out", tmp_path / "dask", "--dask", "local")
    assert result.exit_code == 2 and 'pip install "evosim[dask]"' in result.output


LONG = [CONFIG, "--grid", "schedule.kind=fixed,mvg", "--seeds", "0-1", "--generations", 4000,
        "--population", 200, "--set", "modularity.qm_epochs=0", "--set", "output.flush_every=20"]


def _start_sweep(out, *extra):
    return subprocess.Popen(
        [sys.executable, "-c", "from evosim.cli_sweep import sweep; sweep()", *map(str, LONG),
         "--out", str(out), "--workers", "2", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def _group_alive(pgid):
    found = subprocess.run(["ps", "-o", "pid=", "-g", str(pgid)], capture_output=True, text=True)
    return [int(p) for p in found.stdout.split()]


def _wait_for_rows(folder, process, rows=100, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in folder.glob("*.h5"):
            try:
                if len(load(path)) >= rows:
                    return
            except RunFileError:
                pass
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    raise AssertionError("sweep did not progress")


def test_sigterm_to_the_group_leaves_runs_interrupted_and_the_same_command_finishes(tmp_path):
    out = tmp_path / "term"
    process = _start_sweep(out)
    _wait_for_rows(out, process)
    os.killpg(process.pid, signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    states = {s.state for s in sw.folder_status(out)}
    assert "failed" not in states and "interrupted" in states and not list(out.glob("*.failed"))
    assert invoke(*LONG, "--out", out, "--workers", 2).exit_code == 0
    assert all(s.state == "complete" for s in sw.folder_status(out))


def test_workers_stop_when_their_driver_is_killed(tmp_path):
    out = tmp_path / "orphans"
    process = _start_sweep(out)
    _wait_for_rows(out, process)
    process.send_signal(signal.SIGKILL)  # the driver only
    process.wait()
    deadline = time.monotonic() + 60
    while _group_alive(process.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _group_alive(process.pid)
    assert {s.state for s in sw.folder_status(out)} <= {"complete", "interrupted", "pending"}


def test_two_drivers_on_one_folder_run_each_run_once(tmp_path):
    out, alone = tmp_path / "shared", tmp_path / "alone"
    first, second = _start_sweep(out, "--workers", "1"), _start_sweep(out, "--workers", "1")
    outputs = [p.communicate(timeout=300) for p in (first, second)]
    assert {first.returncode, second.returncode} <= {0, 130}, outputs
    assert invoke(*LONG, "--out", out, "--workers", 1).exit_code == 0  # whatever was elsewhere
    assert invoke(*LONG, "--out", alone, "--workers", 1).exit_code == 0
    assert_same_sweeps(out, alone)


def test_a_full_disk_in_a_sweep_is_an_interruption_not_a_failure(tmp_path, monkeypatch):
    fill_disk_at_block(monkeypatch, 3)
    out = tmp_path / "full"
    args = [CONFIG, "--seeds", "0-1", *TINY, "--out", out, "--workers", 1]
    result = invoke(*args)
    assert result.exit_code == 130 and not list(out.glob("*.failed"))
    assert "interrupted" in {s.state for s in sw.folder_status(out)}
    monkeypatch.undo()
    assert invoke(*args).exit_code == 0
    assert all(s.state == "complete" for s in sw.folder_status(out))


def test_two_drivers_writing_the_manifest_at_once_both_go_on(tmp_path, monkeypatch):
    """The second driver finishes writing the folder's manifest while the first is between its
    write and its rename: both go on (they run the same sweep), neither sees a vanished file."""
    plan = sw.expand(cfg.Config(), {}, [0])
    real_replace, calls = os.replace, []

    def replace(src, dst):
        calls.append(src)
        if len(calls) == 1:
            sw.prepare_folder(plan, tmp_path / "race")  # the other driver, all the way through
        real_replace(src, dst)

    monkeypatch.setattr(sw.os, "replace", replace)
    sw.prepare_folder(plan, tmp_path / "race")
    assert len(calls) == 2 and calls[0] != calls[1]
    assert sw.read_manifest(tmp_path / "race") == tomllib.loads(tomli_w.dumps(plan.manifest()))
    assert not list((tmp_path / "race").glob("*.new"))
