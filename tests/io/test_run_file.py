import h5py
import numpy as np
import pytest

from evosim.io import EPOCH_COLUMNS, HISTORY_COLUMNS, RunFileError, RunWriter, load
from evosim.io.schema import ROOT_ATTRS


def _rows(start, stop):
    n = stop - start
    rows = {name: np.zeros(n, dtype=dtype) for name, dtype in HISTORY_COLUMNS.items()}
    rows["generation"][:] = np.arange(start, stop)
    rows["fitness_best"][:] = np.linspace(0.5, 1.0, n)
    rows["q_best"][:] = 0.25
    return rows


def _epochs(starts, genomes):
    """Finished epochs of 20 rows starting at ``starts``, with these genomes."""
    epochs = {name: np.zeros(len(starts), dtype=dtype) for name, dtype in EPOCH_COLUMNS.items()}
    epochs["start"][:] = starts
    epochs["epoch"][:] = np.asarray(starts) // 20
    epochs["length"][:] = 20
    epochs["genome"] = genomes
    return epochs


def _create(path, genomes):
    return RunWriter.create(path, task="logic-gates", mode="evolution", seed=4, config_toml="x = 1",
                            engine="numba", goal_names=["G1", "G2"],
                            goal_targets=np.eye(2, 16, dtype=np.uint8), genome_shape=genomes.shape,
                            genome_dtype=genomes.dtype)


def test_write_and_load_round_trip(tmp_path):
    path = tmp_path / "run.h5"
    genomes = np.arange(30, dtype=np.int16).reshape(3, 10)
    writer = _create(path, genomes)
    writer.write_block(_rows(0, 50), np.array([0, 25]), genomes[:2],
                       _epochs([0, 20], genomes[:2]),
                       50, {"genomes": genomes}, genomes[0])
    writer.write_block(_rows(50, 80), np.array([50, 75]), genomes[1:],
                       _epochs([40, 60], genomes[1:]),
                       80, {"genomes": genomes + 1}, genomes[2])
    writer.close("complete")
    h = load(path)
    assert len(h) == 80 and np.array_equal(h["generation"], np.arange(80))
    assert set(h.columns) == set(HISTORY_COLUMNS)
    assert h.attrs["status"] == "complete" and h.attrs["seed"] == 4 and h.attrs["task"] == "logic-gates"
    assert set(ROOT_ATTRS) <= set(h.attrs)  # the schema's root attributes are all written
    assert h.goal_names == ["G1", "G2"] and h.goal_targets.shape == (2, 16)
    assert np.array_equal(h.snapshot_generation, [0, 25, 50, 75])
    assert np.array_equal(h.snapshot_genome[2:], genomes[1:])
    assert h.checkpoint_generation == 80
    assert set(h.epochs) == set(EPOCH_COLUMNS)
    assert np.array_equal(h.epochs["start"], [0, 20, 40, 60])
    assert np.array_equal(h.epoch_genome, np.concatenate([genomes[:2], genomes[1:]]))


def test_resume_cuts_rows_written_after_the_checkpoint(tmp_path):
    path = tmp_path / "run.h5"
    genomes = np.ones((3, 10), dtype=np.int16)
    writer = _create(path, genomes)
    writer.write_block(_rows(0, 50), np.array([0, 25]), genomes[:2],
                       _epochs([0, 20], genomes[:2]),
                       50, {"genomes": genomes * 7}, genomes[0] * 3)
    # a crash in the middle of the next block: rows, a snapshot and an epoch on disk, no checkpoint
    for name, values in _epochs([40], genomes[:1] * 5).items():
        column = writer.file["epochs"][name]
        column.resize((3, *column.shape[1:]))
        column[2] = values[0]
    for name, values in _rows(50, 70).items():
        column = writer.file["history"][name]
        column.resize((70,))
        column[50:] = values
    snaps = writer.file["snapshots/generation"]
    snaps.resize((3,))
    snaps[2] = 50
    writer.file.close()
    point = RunWriter.resume(path)
    point.writer.close("interrupted")
    h = load(path)
    assert point.generation == 50 and np.array_equal(point.state["genomes"], genomes * 7)
    assert np.array_equal(point.solving_genome, genomes[0] * 3)
    assert len(h) == 50 and np.array_equal(h.snapshot_generation, [0, 25])
    assert h.snapshot_genome.shape == (2, 10)
    assert np.array_equal(h.epochs["start"], [0, 20]) and len(h.epoch_genome) == 2


def test_load_errors_are_one_line_and_name_the_file(tmp_path):
    with pytest.raises(RunFileError, match="no such run file"):
        load(tmp_path / "none.h5")
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not hdf5 at all")
    with pytest.raises(RunFileError, match="junk.h5: not an HDF5 file"):
        load(junk)
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f.create_dataset("x", data=[1])
    with pytest.raises(RunFileError, match="not an evosim run file"):
        load(other)
    newer = tmp_path / "newer.h5"
    with h5py.File(newer, "w") as f:
        f.attrs["schema_version"] = 99
        f.create_group("history")
    with pytest.raises(RunFileError, match="schema version 99 is newer"):
        load(newer)


def _two_blocks(path, genomes, end):
    """A run file with checkpoints at generations 50 and ``end`` (its active slot)."""
    writer = _create(path, genomes)
    writer.write_block(_rows(0, 50), np.array([0]), genomes[:1], _epochs([0, 20], genomes[:2]),
                       50, {"genomes": genomes * 7}, genomes[0] * 3)
    writer.write_block(_rows(50, end), np.array([], dtype=np.int64), genomes[:0],
                       _epochs([40], genomes[:1]), end, {"genomes": genomes * 8}, genomes[0] * 4)
    return writer


def test_resume_ignores_a_spare_checkpoint_that_was_being_written(tmp_path):
    """Killed while writing the next checkpoint: its generation reached the disk before the
    rows it follows and before the active slot flipped to it.  Resuming uses the active slot."""
    path = tmp_path / "run.h5"
    genomes = np.ones((3, 10), dtype=np.int16)
    writer = _two_blocks(path, genomes, 60)
    ckpt = writer.file["checkpoint"]
    spare = 1 - int(ckpt["active"][0])
    ckpt["generation"][spare] = 80  # the next block's rows never arrived
    ckpt["genomes"][spare] = genomes * 9
    writer.file.close()
    point = RunWriter.resume(path)
    point.writer.close("interrupted")
    assert point.generation == 60 and np.array_equal(point.state["genomes"], genomes * 8)
    assert len(load(path)) == 60


def test_extending_a_finished_run_goes_back_to_the_checkpoint_before_its_end(tmp_path):
    path = tmp_path / "run.h5"
    genomes = np.ones((3, 10), dtype=np.int16)
    _two_blocks(path, genomes, 61).close("complete")
    point = RunWriter.resume(path, before=60)
    point.writer.close("interrupted")
    assert point.generation == 50 and np.array_equal(point.state["genomes"], genomes * 7)
    assert len(load(path)) == 50
