"""Runs killed at any moment resume to the same file; readers can read a file being written."""
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from evosim import config as cfg
from evosim import runner
from evosim.io import load
from helpers import assert_same_run_files

CONFIG = """
[run]
seed = 3
generations = 3000
population = 300
[schedule]
kind = "mvg"
[modularity]
qm_epochs = 25
qm_samples = 4
[output]
flush_every = 20
snapshot_every = 50
"""


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The config file and the file an uninterrupted run writes."""
    folder = tmp_path_factory.mktemp("reference")
    config_file = folder / "run.toml"
    config_file.write_text(CONFIG)
    whole = runner.run(cfg.load(config_file), folder / "whole.h5").path
    return config_file, whole


def _start(config_file, out):
    return subprocess.Popen([sys.executable, "-m", "evosim", "run", str(config_file), "--out",
                             str(out), "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for_rows(path, rows, process, timeout=60.0):
    """Poll the file as a reader would until it has at least `rows` rows."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            try:
                if len(load(path)) >= rows:
                    return
            except Exception:  # created but not yet initialised: try again
                pass
        assert process.poll() is None, process.communicate()
        time.sleep(0.005)
    raise AssertionError("run did not progress")


def _resume(path):
    done = subprocess.run([sys.executable, "-m", "evosim", "run", "--resume", str(path),
                           "--quiet"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done


@pytest.mark.parametrize("rows,delay", [(1, 0.0), (200, 0.013), (900, 0.002), (1700, 0.031)])
def test_kill_9_at_any_moment_then_resume_gives_the_same_file(tmp_path, reference, rows, delay):
    config_file, whole = reference
    out = tmp_path / "killed.h5"
    process = _start(config_file, out)
    _wait_for_rows(out, rows, process)
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed = load(out)
    assert killed.attrs["status"] == "running" and len(killed) < 3001
    _resume(out)
    assert load(out).attrs["status"] == "complete"
    assert_same_run_files(whole, out)


def test_sigint_marks_interrupted_after_a_checkpoint_and_resumes(tmp_path, reference):
    config_file, whole = reference
    out = tmp_path / "stopped.h5"
    process = _start(config_file, out)
    _wait_for_rows(out, 300, process)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert b"continue with: evosim run --resume" in err
    stopped = load(out)
    assert stopped.attrs["status"] == "interrupted"
    assert stopped.checkpoint_generation == len(stopped) < 3001  # nothing written is lost
    _resume(out)
    assert_same_run_files(whole, out)


def test_reader_reads_while_the_writer_appends(tmp_path, reference):
    config_file, _ = reference
    out = tmp_path / "live.h5"
    process = _start(config_file, out)
    _wait_for_rows(out, 1, process)
    lengths = []
    while process.poll() is None:
        h = load(out)  # must never fail, whatever the writer is doing
        assert np.array_equal(h["generation"], np.arange(len(h)))
        lengths.append(len(h))
    assert process.returncode == 0
    assert len(set(lengths)) > 3 and lengths == sorted(lengths)
    assert len(load(out)) == 3001


def test_killed_between_the_last_checkpoint_and_close_keeps_its_attributes(tmp_path, reference):
    """The run dies after its last block is written but before the file is closed: the names of
    the Q method and null model were already on disk, and the resumed file is the whole one."""
    config_file, whole = reference
    out = tmp_path / "late.h5"
    dies_at_close = ("import os, sys\n"
                     "from evosim.io import writer\n"
                     "writer.RunWriter.close = lambda self, status: os._exit(9)\n"
                     "from evosim.cli import main\n"
                     "sys.exit(main())")
    done = subprocess.run([sys.executable, "-c", dies_at_close, "run", str(config_file), "--out",
                           str(out), "--quiet"], capture_output=True)
    assert done.returncode == 9
    killed = load(out)
    assert killed.attrs["status"] == "running" and len(killed) == 3001
    assert killed.attrs["q_method"] and killed.attrs["qm_null_model"]
    _resume(out)
    assert_same_run_files(whole, out)


@pytest.fixture
def tiny_disk(tmp_path):
    """A 3 MiB tmpfs (root only: skipped where it cannot be mounted; the injected-error test in
    test_cli covers the same path everywhere)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)],
                          capture_output=True)
    if made.returncode:
        pytest.skip("cannot mount a tmpfs here")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


@pytest.mark.parametrize("fill_kib", [1200, 1600])
def test_a_full_disk_stops_cleanly_and_resumes_to_the_whole_file(tmp_path, tiny_disk, fill_kib):
    args = ["logic-gates", "--mvg", "--generations", "8000", "--population", "200", "--seed",
            "7", "--quiet", "--set", "modularity.qm_samples=3"]
    whole = tmp_path / "whole.h5"
    subprocess.run([sys.executable, "-m", "evosim", "run", *args, "--out", str(whole)],
                   check=True)
    filler = tiny_disk / "filler"
    filler.write_bytes(b"\0" * fill_kib * 1024)
    out = tiny_disk / "x.h5"
    done = subprocess.run([sys.executable, "-m", "evosim", "run", *args, "--out", str(out)],
                          capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "No space left on device" in done.stderr
    stopped = load(out)
    assert stopped.attrs["status"] == "interrupted" and len(stopped) < 8001
    assert np.array_equal(stopped["generation"], np.arange(len(stopped)))
    filler.unlink()
    _resume(out)
    assert_same_run_files(whole, out)


def test_a_full_disk_at_creation_leaves_nothing_behind(tiny_disk):
    filler = tiny_disk / "filler"
    filler.write_bytes(b"\0" * (3 * 1024 * 1024 - 200 * 1024))
    args = ["logic-gates", "--generations", "200", "--population", "50", "--quiet"]
    done = subprocess.run([sys.executable, "-m", "evosim", "run", *args, "--out",
                           str(tiny_disk / "x.h5")], capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "No space left on device" in done.stderr
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["filler"]
    sweep = [sys.executable, "-m", "evosim", "sweep", *args[:-1],
             "--seeds", "0-1", "--workers", "1", "--out", str(tiny_disk / "s")]
    done = subprocess.run(sweep, capture_output=True, text=True)
    assert done.returncode == 130 and "Traceback" not in done.stderr, done.stderr
    assert not list((tiny_disk / "s").glob("*.failed"))  # interrupted, not failed
    filler.unlink()
    done = subprocess.run(sweep, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
