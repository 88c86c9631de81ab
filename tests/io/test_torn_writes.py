"""A writer killed in the middle of a write leaves a chunk torn: its first pages new, the rest
(checksum included) as last flushed. Rebuilt here byte by byte with HDF5's direct chunk access:
the rows the file showed are read and resumed from; any other checksum failure is damage."""
import h5py
import numpy as np
import pytest
from helpers import assert_same_run_files

from evosim import runner
from evosim.config import Config
from evosim.io import RunFileError, load

CONFIG = Config().replace(**{"run.population": 60, "run.generations": 130,
                             "output.flush_every": 40, "schedule.kind": "mvg",
                             "modularity.qm_samples": 3, "run.seed": 4})


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The whole run, and the same run interrupted after its checkpoint at generation 80."""
    folder = tmp_path_factory.mktemp("torn")
    whole = runner.run(CONFIG, folder / "whole.h5").path

    def interrupt(progress):
        if progress.generation >= 79:
            raise KeyboardInterrupt

    cut = runner.run(CONFIG, folder / "cut.h5", progress=interrupt)
    assert cut.status == "interrupted" and load(cut.path).checkpoint_generation == 80
    return whole, cut.path


def _copy(path, folder, name):
    target = folder / name
    target.write_bytes(path.read_bytes())
    return target


def _tear(path, dataset_name, change):
    """Rewrite the last chunk of a dataset as a torn append would leave it: ``change`` edits its
    raw bytes (not the checksum, which stays the chunk's as last flushed)."""
    with h5py.File(path, "r+") as f:
        d = f[dataset_name]
        start = (d.shape[0] - 1) // d.chunks[0] * d.chunks[0]
        offset = (start,) + (0,) * (d.ndim - 1)
        _, raw = d.id.read_direct_chunk(offset)
        body = bytearray(raw[:-4])
        change(body, (d.shape[0] - start) * d.dtype.itemsize * int(np.prod(d.chunks[1:])))
        d.id.write_direct_chunk(offset, bytes(body) + raw[-4:])
        with pytest.raises(OSError, match="filter returned failure"):
            d[()]


def _append_garbage(body, visible):
    body[visible: visible + 24] = b"\x5a" * 24  # rows past the end, as the append wrote them


@pytest.mark.parametrize("dataset", ["history/q_best", "snapshots/genome", "epochs/genome"])
def test_a_torn_append_reads_the_rows_shown_and_resumes_to_the_whole_file(runs, tmp_path,
                                                                           dataset):
    whole, cut = runs
    torn = _copy(cut, tmp_path, "torn.h5")
    _tear(torn, dataset, _append_garbage)
    before, after = load(cut), load(torn)
    assert np.array_equal(before["q_best"], after["q_best"], equal_nan=True)
    assert np.array_equal(before.snapshot_genome, after.snapshot_genome)
    assert np.array_equal(before.epoch_genome, after.epoch_genome)
    runner.resume(torn)
    assert_same_run_files(whole, torn)


def test_damage_to_the_rows_shown_is_refused(runs, tmp_path):
    def flip_a_shown_byte(body, visible):
        body[visible - 3] ^= 0x10

    torn = _copy(runs[1], tmp_path, "damaged.h5")
    _tear(torn, "history/fitness_best", flip_a_shown_byte)
    with pytest.raises(RunFileError, match="fitness_best is damaged"):
        load(torn)
    with pytest.raises(Exception, match="damaged"):
        runner.resume(torn)


def test_a_torn_spare_checkpoint_slot_resumes_from_the_active_one(runs, tmp_path):
    whole, cut = runs
    torn = _copy(cut, tmp_path, "slot.h5")
    with h5py.File(torn, "r+") as f:
        d = f["checkpoint/genomes"]
        spare = 1 - int(f["checkpoint/active"][0])
        _, raw = d.id.read_direct_chunk((spare, 0, 0))
        half = len(raw) // 2  # the first pages new, the rest (and the checksum) as before
        d.id.write_direct_chunk((spare, 0, 0), b"\x33" * half + raw[half:])
    with h5py.File(torn, "r") as f:
        with pytest.raises(OSError, match="filter returned failure"):
            f["checkpoint/genomes"][spare]
    runner.resume(torn)
    assert_same_run_files(whole, torn)


def test_a_torn_append_after_an_earlier_flush_of_the_same_block(runs, tmp_path):
    """The chunk cache may write the chunk once mid-block (rows beyond those shown, checksum
    and all) before the torn write: the stored checksum, HDF5's own, is then that of more rows."""
    whole, cut = runs
    torn = _copy(cut, tmp_path, "twice.h5")
    with h5py.File(torn, "r+") as f:
        d = f["history/q_best"]
        n = d.shape[0]
        start = (n - 1) // d.chunks[0] * d.chunks[0]
        d.resize((n + 3,))
        d[n:] = [0.25, 0.5, 0.75]
        f.flush()
        _, flushed = d.id.read_direct_chunk((start,))  # those rows, with HDF5's checksum
        d.resize((n,))
        body = bytearray(flushed[:-4])
        body[(n + 3 - start) * 8: (n + 6 - start) * 8] = np.array([1.0, 2.0, 3.0]).tobytes()
        d.id.write_direct_chunk((start,), bytes(body) + flushed[-4:])
    assert np.array_equal(load(torn)["q_best"], load(cut)["q_best"], equal_nan=True)
    runner.resume(torn)
    assert_same_run_files(whole, torn)
