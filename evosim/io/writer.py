"""Append-only writer of a run file, and reopening one to resume it.

Each block of generations is written in one go: history rows, snapshots, then the checkpoint, then
an HDF5 flush. So a run killed at any moment loses at most the block in flight, and the checkpoint
never points past the rows that are on disk; on resume the rows after the checkpoint are cut off.
"""
from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Mapping

import h5py
import numpy as np

from evosim import __version__
from evosim.io.schema import HISTORY_COLUMNS, SCHEMA_VERSION

_STR = h5py.string_dtype()


class RunWriter:
    """Owns an open run file; use ``create`` or ``resume``, then ``write_block`` and ``close``."""

    def __init__(self, file: h5py.File):
        self.file = file
        # dataset handles looked up once: h5py's per-call lookups cost more than small writes
        self._history = {name: file["history"][name] for name in HISTORY_COLUMNS}
        self._snapshots = (file["snapshots/generation"], file["snapshots/genome"])
        self._checkpoint = (file["checkpoint/generation"], file["checkpoint/genomes"])

    @classmethod
    def create(cls, path: str | Path, *, task: str, mode: str, seed: int, config_toml: str,
               engine: str, goal_names, goal_targets: np.ndarray, genome_shape: tuple[int, int],
               genome_dtype, chunk_rows: int = 1000, extra_attrs: Mapping | None = None,
               ) -> "RunWriter":
        f = h5py.File(path, "w-", libver="latest")
        attrs = dict(schema_version=SCHEMA_VERSION, evosim_version=__version__, task=task,
                     mode=mode, seed=seed, config=config_toml, engine=engine, status="running",
                     created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
        attrs.update(extra_attrs or {})
        f.attrs.update(attrs)
        history = f.create_group("history")
        for name, dtype in HISTORY_COLUMNS.items():
            history.create_dataset(name, shape=(0,), maxshape=(None,), dtype=dtype,
                                   chunks=(chunk_rows,))
        goals = f.create_group("goals")
        goals.create_dataset("name", data=np.array(list(goal_names), dtype=object), dtype=_STR)
        goals.create_dataset("target", data=np.asarray(goal_targets, dtype=np.uint8))
        snaps = f.create_group("snapshots")
        snaps.create_dataset("generation", shape=(0,), maxshape=(None,), dtype=np.int64,
                             chunks=(256,))
        snaps.create_dataset("genome", shape=(0, genome_shape[1]), maxshape=(None, genome_shape[1]),
                             dtype=genome_dtype, chunks=(256, genome_shape[1]))
        ckpt = f.create_group("checkpoint")
        ckpt.create_dataset("generation", data=np.array([-1], dtype=np.int64))
        ckpt.create_dataset("genomes", shape=genome_shape, dtype=genome_dtype)
        f.flush()
        return cls(f)

    @classmethod
    def resume(cls, path: str | Path) -> tuple["RunWriter", int, np.ndarray]:
        """Reopen a run file, cut rows past its checkpoint; return (writer, generation, genomes)."""
        f = h5py.File(path, "r+")
        generation = int(f["checkpoint/generation"][0])
        genomes = f["checkpoint/genomes"][()]
        keep = int(np.searchsorted(f["history/generation"][()], generation))
        for name in HISTORY_COLUMNS:
            f["history"][name].resize((keep,))
        snap_gen = f["snapshots/generation"]
        keep_snaps = int(np.searchsorted(snap_gen[()], generation))
        snap_gen.resize((keep_snaps,))
        f["snapshots/genome"].resize(keep_snaps, axis=0)
        f.attrs["status"] = "running"
        f.flush()
        return cls(f), generation, genomes

    def write_block(self, rows: Mapping[str, np.ndarray], snapshot_generations: np.ndarray,
                    snapshot_genomes: np.ndarray, next_generation: int, genomes: np.ndarray) -> None:
        """Append history rows and snapshots, then checkpoint the population, then flush."""
        for name, column in self._history.items():
            _append(column, rows[name])
        if len(snapshot_generations):
            _append(self._snapshots[0], snapshot_generations)
            _append(self._snapshots[1], snapshot_genomes)
        self._checkpoint[1][...] = genomes
        self._checkpoint[0][0] = next_generation
        self.file.flush()

    def set_attrs(self, **attrs) -> None:
        self.file.attrs.update(attrs)
        self.file.flush()

    def add_to_attr_sets(self, **values: set[str]) -> None:
        """Merge sets of names into comma-separated attributes (e.g. the Q methods used)."""
        for name, new in values.items():
            old = {v for v in str(self.file.attrs.get(name, "")).split(",") if v}
            self.file.attrs[name] = ",".join(sorted(old | set(new)))

    def close(self, status: str) -> None:
        if self.file.id.valid:
            self.file.attrs["status"] = status
            self.file.close()


def _append(dataset: h5py.Dataset, values: np.ndarray) -> None:
    start = dataset.shape[0]
    dataset.resize(start + len(values), axis=0)
    dataset[start:] = values
