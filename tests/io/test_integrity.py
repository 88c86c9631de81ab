"""A damaged run file is refused with one line and never read as if whole, and never hangs."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from evosim import runner
from evosim.config import Config
from evosim.io import RunFileError, load
from evosim.io.integrity import check_whole, read_superblock

# Reads every damaged copy in one child process, so a hang fails the test instead of stalling it.
PROBE = textwrap.dedent("""
    import json, sys
    import numpy as np
    from evosim.io import RunFileError, load
    reference = load(sys.argv[1])
    out = []
    for path in sys.argv[2:]:
        try:
            h = load(path)
        except RunFileError as err:
            out.append("refused" if str(err).count("\\n") == 0 and path in str(err) else "bad")
            continue
        same = (h.attrs == reference.attrs
                and all(np.array_equal(h.columns[k], v, equal_nan=True)
                        for k, v in reference.columns.items())
                and all(np.array_equal(h.epochs[k], v, equal_nan=True)
                        for k, v in reference.epochs.items())
                and np.array_equal(h.snapshot_genome, reference.snapshot_genome)
                and np.array_equal(h.epoch_genome, reference.epoch_genome))
        out.append("same" if same else "different")
    print(json.dumps(out))
""")


@pytest.fixture(scope="module")
def run_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("whole") / "run.h5"
    config = Config().replace(**{"run.generations": 600, "run.population": 100,
                                 "schedule.kind": "mvg", "modularity.qm_samples": 3,
                                 "output.flush_every": 100})
    return runner.run(config, path).path


def damaged_copies(path, folder, cut_points, garbles, rng):
    data = path.read_bytes()
    copies = []
    for k, fraction in enumerate(cut_points):
        copy = folder / f"cut{k}.h5"
        copy.write_bytes(data[: int(len(data) * fraction)])
        copies.append(copy)
    for k, fraction in enumerate(garbles):
        start = int(len(data) * fraction)
        damaged = bytearray(data)
        n = min(8192, len(data) - start)
        damaged[start: start + n] = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        copy = folder / f"garbled{k}.h5"
        copy.write_bytes(bytes(damaged))
        copies.append(copy)
    return copies


def probe(reference, copies):
    done = subprocess.run([sys.executable, "-c", PROBE, str(reference), *map(str, copies)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_truncated_files_are_refused(run_file, tmp_path):
    copies = damaged_copies(run_file, tmp_path, np.linspace(0.0, 0.999, 40), [],
                            np.random.default_rng(0))
    assert probe(run_file, copies) == ["refused"] * 40
    with pytest.raises(RunFileError, match=r"truncated \(\d+ of \d+ bytes\)"):
        load(copies[20])


def test_garbled_files_are_refused_or_read_unchanged(run_file, tmp_path):
    """An 8 KB block of noise anywhere: either the file is refused, or the block fell where
    nothing load() returns lives (the checkpoint's population, free space) and every value read
    is the original."""
    copies = damaged_copies(run_file, tmp_path, [], np.linspace(0.0, 0.995, 60),
                            np.random.default_rng(1))
    outcome = probe(run_file, copies)
    assert set(outcome) <= {"refused", "same"} and outcome.count("refused") > 40


def test_what_is_not_a_regular_file_is_refused_at_once(tmp_path):
    fifo = tmp_path / "fifo.h5"
    os.mkfifo(fifo)
    with pytest.raises(RunFileError, match="fifo.h5: not a regular file"):
        load(fifo)
    with pytest.raises(RunFileError, match="not a regular file"):
        load("/dev/zero")


def test_superblock_of_a_run_file(run_file):
    block = check_whole(run_file)
    assert block.version >= 2 and not block.open_for_writing
    assert block.end_of_file == os.path.getsize(run_file)
    assert read_superblock(run_file) == block
