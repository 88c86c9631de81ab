"""Comparing run files dataset by dataset."""
from pathlib import Path

import h5py
import numpy as np


def datasets(path) -> dict[str, np.ndarray]:
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: out.__setitem__(name, obj[()])
                     if isinstance(obj, h5py.Dataset) else None)
    return out


def assert_same_run_files(a, b) -> None:
    """Every dataset equal (NaN == NaN), every attribute but the creation time equal."""
    da, db = datasets(a), datasets(b)
    assert sorted(da) == sorted(db)
    for name in da:
        assert np.array_equal(da[name], db[name], equal_nan=da[name].dtype.kind == "f"), name
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        attrs_a = {k: v for k, v in fa.attrs.items() if k != "created"}
        attrs_b = {k: v for k, v in fb.attrs.items() if k != "created"}
        assert attrs_a == attrs_b


def fill_disk_at_block(monkeypatch, block: int) -> None:
    """Make the run writer's ``block``-th write fail as on a full disk (ENOSPC)."""
    from evosim.io import RunWriter
    original, calls = RunWriter.write_block, []

    def write_block(self, *args):
        calls.append(1)
        if len(calls) == block:
            raise OSError(28, "No space left on device")
        original(self, *args)

    monkeypatch.setattr(RunWriter, "write_block", write_block)


def assert_resumes_to_the_same_file(config, folder, stop: int) -> Path:
    """Run ``config`` whole, and again interrupted at generation ``stop`` then resumed: the two
    files must be the same. Returns the whole run's file."""
    from evosim import runner

    whole = runner.run(config, folder / "whole.h5").path

    def interrupt(progress):
        if progress.generation >= stop:
            raise KeyboardInterrupt

    cut = runner.run(config, folder / "cut.h5", progress=interrupt)
    assert cut.status == "interrupted"
    runner.resume(cut.path)
    assert_same_run_files(whole, cut.path)
    return whole
