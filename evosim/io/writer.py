"""Append-only writer of a run file, and rebuilding one to resume it.

Crash safety, in three parts:
- The file is written in HDF5's SWMR mode, so it is consistent at every moment: other processes
  can read it while the run goes on, and a writer killed with ``kill -9`` leaves a readable file.
- Each block of generations is written in one go (history rows, snapshots, checkpoint) and then
  flushed, so a killed run loses at most the block in flight.
- The checkpoint has two slots: a new one is written into the inactive slot and flushed before the
  ``active`` index flips to it, so a kill half-way through a checkpoint leaves the previous one.
Resuming rebuilds the file up to its checkpoint (a SWMR file whose writer was killed cannot be
reopened for writing) and swaps it in atomically.
"""
from __future__ import annotations

import datetime as _dt
import errno
import os
from pathlib import Path
from typing import Any, Callable, Mapping, NamedTuple

import h5py
import numpy as np

from evosim import __version__
from evosim.io.integrity import read_appended
from evosim.io.schema import (EPOCH_COLUMNS, EPOCH_COLUMNS_SINCE, HISTORY_COLUMNS, SCHEMA_VERSION,
                              STATUSES, describe, upgraded_epochs)

_STR = h5py.string_dtype()
RECORDED_SETS = ("q_method", "qm_null_model")  # attributes that list what a run used


class RunWriter:
    """Owns an open run file; use ``create`` or ``resume``, then ``write_block`` and ``close``."""

    def __init__(self, file: h5py.File, path: Path):
        self.file = file
        self.path = path
        # dataset handles looked up once: h5py's per-call lookups cost more than small writes
        self._history = dict(file["history"].items())
        self._snapshots = (file["snapshots/generation"], file["snapshots/genome"])
        self._epochs = {name: file["epochs"][name] for name in (*EPOCH_COLUMNS, "genome")}
        ckpt = file["checkpoint"]
        self._checkpoint = (ckpt["active"], ckpt["generation"],
                            {name: ckpt[name] for name in _state_names(ckpt)},
                            ckpt["epoch_genome"])
        # bytes a block may add: its rows' new chunks (the first block), or the most seen
        growing = [*self._history.values(), *self._snapshots, *self._epochs.values()]
        self._chunk_bytes = sum(int(np.prod(d.chunks)) * d.dtype.itemsize for d in growing)
        self._growth = 0

    @classmethod
    def create(cls, path: str | Path, *, task: str, mode: str, seed: int, config_toml: str,
               engine: str, goal_names, goal_targets: np.ndarray, genome_shape: tuple[int, int],
               genome_dtype, engine_key: int = 0, chunk_rows: int = 1000,
               attrs: Mapping | None = None, extra_columns: Mapping | None = None,
               extra_data: Mapping | None = None,
               checkpoint: Mapping[str, tuple[tuple[int, ...], Any]] | None = None) -> "RunWriter":
        """A new run file; ``extra_columns`` (name -> dtype) add mode-specific history columns
        to the schema's own (gradient mode: losses, accuracies, activation change), and
        ``extra_data`` (path -> array) fixed facts of the run (gradient mode: the data split).
        ``checkpoint`` names the arrays of the run's state (name -> shape, dtype), each kept in
        two slots under /checkpoint/ (default: ``genomes`` of the genome shape and dtype)."""
        path = Path(path)
        _ensure_space(path, _MARGIN, "a new run file")
        # a small chunk cache: rows are appended once and never read back (memory stays flat)
        f = h5py.File(path, "w-", libver="latest", rdcc_nbytes=256 << 10)
        f.attrs.update(dict(
            schema_version=SCHEMA_VERSION, evosim_version=__version__, task=task, mode=mode,
            seed=seed, config=config_toml, engine=engine, status="running",
            created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            **{name: "" for name in RECORDED_SETS}))
        f.attrs.update(attrs or {})
        for name, dtype in {**HISTORY_COLUMNS, **(extra_columns or {})}.items():
            _growing(f, f"history/{name}", (), dtype, chunk_rows)
        f.create_dataset("goals/name", data=np.array(list(goal_names), dtype=object), dtype=_STR)
        targets = np.asarray(goal_targets)  # truth tables (uint8), or digit-pair coefficients
        _fixed(f, "goals/target", targets.astype(np.uint8 if targets.dtype.kind in "ub"
                                                 else targets.dtype))
        _growing(f, "snapshots/generation", (), np.int64, 256)
        _growing(f, "snapshots/genome", (genome_shape[1],), genome_dtype, 256)
        for name, dtype in EPOCH_COLUMNS.items():
            _growing(f, f"epochs/{name}", (), dtype, 256)
        _growing(f, "epochs/genome", (genome_shape[1],), genome_dtype, 64)
        for name, values in (extra_data or {}).items():
            _fixed(f, name, np.asarray(values))
        ckpt = f.create_group("checkpoint")
        ckpt.attrs["rng"] = ("counter-based (SplitMix64 of key, generation, stream): the engine "
                             "key and the next generation are the whole RNG state")
        _fixed(ckpt, "engine_key", np.array([engine_key], dtype=np.uint64))
        _fixed(ckpt, "active", np.array([0], dtype=np.int64))
        _fixed(ckpt, "generation", np.array([-1, -1], dtype=np.int64))
        layout = checkpoint or {"genomes": (genome_shape, genome_dtype)}
        ckpt.attrs["state"] = ",".join(layout)
        for name, (shape, dtype) in layout.items():
            ckpt.create_dataset(name, shape=(2, *shape), dtype=dtype, fletcher32=True,
                                chunks=(1, *shape))  # one chunk a slot
        # the open goal epoch's last solving best: /epochs needs it after a resume
        ckpt.create_dataset("epoch_genome", shape=(2, genome_shape[1]), dtype=genome_dtype,
                            fletcher32=True, chunks=(1, genome_shape[1]))
        _label(f, genome_shape[1])
        f.flush()
        f.swmr_mode = True
        return cls(f, path)

    @classmethod
    def resume(cls, path: str | Path, *, before: int | None = None,
               config_toml: str | None = None, goal_names=None,
               goal_targets: np.ndarray | None = None,
               upgrade: Callable[[dict], dict] | None = None) -> "ResumePoint":
        """Rebuild a run file up to a checkpoint and reopen it for writing.

        The checkpoint is the last one written, or with ``before`` the latest at or before that
        generation (extending a finished run recomputes its last block, whose rows depended on
        being last).  ``config_toml`` and the goal table replace the stored ones (an extended
        run); goal columns are renumbered by name.  The rows kept must be exactly the
        generations before the checkpoint, each once, or the file is refused as damaged.  The
        state's arrays are None if no checkpoint was written yet (the run then starts again).
        ``upgrade`` maps a slot's arrays as an older evosim named them to today's names (the
        rebuilt file holds today's)."""
        path = Path(path)
        with h5py.File(path, "r", libver="latest", swmr=True) as old:
            version = int(old.attrs.get("schema_version", 0))
            oldest = min(EPOCH_COLUMNS_SINCE) - 1
            if not oldest <= version <= SCHEMA_VERSION:
                raise ValueError(f"{path}: written with run-file schema {version}; this evosim "
                                 f"resumes schemas {oldest} to {SCHEMA_VERSION}: start the run "
                                 "again")
            ckpt = old["checkpoint"]
            generations = ckpt["generation"][()]
            active = int(ckpt["active"][0])
            if active not in (0, 1):
                raise ValueError(f"{path}: damaged checkpoint (active slot {active}; allowed 0, 1)")
            saved = [_slot(ckpt, k) for k in (0, 1)]
            if saved[1 - active] is None:  # killed while writing it: the active one stands
                saved[1 - active], generations[1 - active] = saved[active], -1
            if saved[active] is None:
                raise ValueError(f"{path}: damaged checkpoint (its active slot {active} fails "
                                 "its checksum)")
            saved = [upgrade(arrays) for arrays in saved] if upgrade else saved
            slot = _checkpoint_slot(generations, active, before)
            generation = int(generations[slot]) if slot is not None else -1
            keep = max(generation, 0)
            rows = {name: read_appended(column) for name, column in old["history"].items()}
            snap_gen = read_appended(old["snapshots/generation"])
            epochs = upgraded_epochs({n: read_appended(c) for n, c in old["epochs"].items()},
                                     version)
            cut_snaps, cut_epochs = _verify(path, rows, snap_gen, epochs, keep)
            attrs = dict(old.attrs, schema_version=SCHEMA_VERSION)
            names = [_text(n) for n in old["goals/name"][()]]
            if config_toml is not None:
                attrs["config"] = config_toml
                renumber = np.array([list(goal_names).index(n) for n in names] or [0])
                for table in (rows, epochs):
                    table["goal"] = renumber[table["goal"]].astype(table["goal"].dtype)
                names, targets = list(goal_names), np.asarray(goal_targets)
            else:
                targets = old["goals/target"][()]
            facts = {}
            old.visititems(lambda name, obj: facts.__setitem__(name, obj[()])
                           if isinstance(obj, h5py.Dataset) and name.startswith("gradient/")
                           else None)
            tmp = path.with_name(path.name + ".resume-tmp")
            tmp.unlink(missing_ok=True)
            _ensure_space(tmp, os.path.getsize(path) + _MARGIN, "a copy of the file")
            try:
                new = cls._rebuild(tmp, old, attrs, names, targets, facts, rows, epochs,
                                   snap_gen, keep, cut_snaps, cut_epochs, saved, slot,
                                   generations)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            solving = _solving_genomes(ckpt)[slot] if slot is not None else None
        os.replace(tmp, path)
        new.path = path
        return ResumePoint(new, keep, saved[slot] if slot is not None else None, solving)

    @classmethod
    def _rebuild(cls, tmp, old, attrs, names, targets, facts, rows, epochs, snap_gen, keep,
                 cut_snaps, cut_epochs, saved, slot, generations) -> "RunWriter":
        """The rows kept, the goals and the checkpoint (``saved``: both slots' arrays) of ``old``
        written into a new file."""
        ckpt = old["checkpoint"]
        new = cls.create(
            tmp, task=attrs["task"], mode=attrs["mode"], seed=attrs["seed"],
            config_toml=attrs["config"], engine=attrs["engine"], goal_names=names,
            goal_targets=targets, genome_shape=(1, old["snapshots/genome"].shape[1]),
            checkpoint={name: (values.shape, values.dtype) for name, values in saved[0].items()},
            extra_data=facts, genome_dtype=ckpt["epoch_genome"].dtype,
            engine_key=int(ckpt["engine_key"][0]),
            attrs=attrs, extra_columns={name: rows[name].dtype for name in rows
                                        if name not in HISTORY_COLUMNS})
        if keep:
            new._append_rows({name: values[:keep] for name, values in rows.items()},
                             snap_gen[:cut_snaps],
                             read_appended(old["snapshots/genome"])[:cut_snaps],
                             {name: values[:cut_epochs] for name, values in epochs.items()})
        _, generation, state, solving = new._checkpoint
        generation[...], solving[...] = generations, _solving_genomes(ckpt)
        for name, dataset in state.items():  # both slots, as they were
            dataset[...] = np.stack([arrays[name] for arrays in saved])
        new._checkpoint[0][0] = slot if slot is not None else 0
        new.file.attrs["status"] = "running"
        new.file.flush()
        return new

    def write_block(self, rows: Mapping[str, np.ndarray], snapshot_generations: np.ndarray,
                    snapshot_genomes: np.ndarray, epochs: Mapping[str, np.ndarray],
                    next_generation: int, state: Mapping[str, np.ndarray],
                    solving_genome: np.ndarray) -> None:
        """Append history rows, snapshots and finished epochs (columns and ``genome``), then
        checkpoint the state's named arrays and the open epoch's solving genome (flushed twice:
        see the module docstring).  A disk too full to take the block is found before anything is
        written (OSError ENOSPC): HDF5 handles a failed write badly (lost rows, crashes)."""
        size = os.path.getsize(self.path) if self.path.exists() else 0
        _ensure_space(self.path, 2 * max(self._growth, self._chunk_bytes) + _MARGIN)
        self._append_rows(rows, snapshot_generations, snapshot_genomes, epochs)
        self._checkpoint_state(next_generation, state, solving_genome)
        if self.path.exists():
            self._growth = max(self._growth, os.path.getsize(self.path) - size)

    def _append_rows(self, rows, snapshot_generations, snapshot_genomes, epochs) -> None:
        for name, column in self._history.items():
            _append(column, rows[name])
        if len(snapshot_generations):
            _append(self._snapshots[0], snapshot_generations)
            _append(self._snapshots[1], snapshot_genomes)
        if len(epochs["genome"]):
            for name, column in self._epochs.items():
                _append(column, epochs[name])

    def _checkpoint_state(self, next_generation: int, state: Mapping[str, np.ndarray],
                          solving_genome: np.ndarray) -> None:
        active, generation, slots, solving = self._checkpoint
        spare = 1 - int(active[0])
        for name, dataset in slots.items():
            dataset[spare] = state[name]
        solving[spare] = solving_genome
        generation[spare] = next_generation
        self.file.flush()
        active[0] = spare
        self.file.flush()

    def add_to_attr_sets(self, **values: set[str]) -> None:
        """Merge sets of names into comma-separated attributes (e.g. the Q methods used); called
        with every block, so they are on disk with its checkpoint and survive a kill."""
        for name, new in values.items():
            old = {v for v in str(self.file.attrs.get(name, "")).split(",") if v}
            if not set(new) <= old:
                self.file.attrs[name] = ",".join(sorted(old | set(new)))

    def close(self, status: str) -> None:
        if status not in STATUSES:
            raise ValueError(f"run status {status!r}; allowed: {', '.join(STATUSES)}")
        if self.file.id.valid:
            self.file.attrs["status"] = status
            self.file.close()


_MARGIN = 1 << 20  # free bytes kept beyond a block's estimate (HDF5 metadata, the filesystem)


def _ensure_space(path: Path, needed: int, what: str = "the next block") -> None:
    """Raise OSError(ENOSPC) if the file system of ``path`` has fewer than ``needed`` bytes."""
    info = os.statvfs(path.parent)
    free = info.f_bavail * info.f_frsize
    if free < needed:
        raise OSError(errno.ENOSPC, f"No space left on device: {free} bytes free, {what} needs "
                                    f"about {needed}", str(path.parent))


def _slot(ckpt: h5py.Group, k: int) -> dict[str, np.ndarray] | None:
    """Slot ``k``'s state arrays, or None if one fails its checksum (a write the kill tore)."""
    try:
        return {name: ckpt[name][k] for name in _state_names(ckpt)}
    except OSError:
        return None


def _solving_genomes(ckpt: h5py.Group) -> np.ndarray:
    """Both slots' open-epoch solving genomes; a slot torn by a kill as the other one."""
    rows = []
    for k in (0, 1):
        try:
            rows.append(ckpt["epoch_genome"][k])
        except OSError:
            rows.append(None)
    good = [r for r in rows if r is not None]
    if not good:
        raise ValueError(f"{ckpt.file.filename}: damaged checkpoint (both slots' epoch genomes "
                         "fail their checksums)")
    return np.stack([good[0] if r is None else r for r in rows])


def _checkpoint_slot(generations: np.ndarray, active: int, before: int | None) -> int | None:
    """The checkpoint slot to continue from: the active one, or with ``before`` the latest at or
    before it; None if there is none (start again).

    The spare slot counts only when it is older than the active one: a newer spare is a
    checkpoint that was being written when the run died (its small ``generation`` value may
    reach the disk before the rows it follows), not one that was finished."""
    spare = 1 - active
    older = 0 <= generations[spare] < generations[active]
    candidates = [active, spare] if older else [active]
    valid = [k for k in candidates if 0 <= generations[k] and (before is None
                                                               or generations[k] <= before)]
    return valid[0] if valid else None


def _verify(path: Path, rows, snapshot_generations, epochs, keep: int) -> tuple[int, int]:
    """Check that the rows a resume keeps are the generations 0..keep-1, each once, in order
    (with the snapshots and epochs before them); return how many snapshots and epochs it keeps."""
    for name, values in rows.items():
        if len(values) < keep:
            raise ValueError(f"{path}: /history/{name} has {len(values)} rows, the checkpoint "
                             f"needs {keep}: the file is damaged and cannot be resumed")
    if not np.array_equal(rows["generation"][:keep], np.arange(keep)):
        raise ValueError(f"{path}: the rows before the checkpoint (generation {keep}) are not "
                         f"generations 0..{keep - 1} in order: the file is damaged and cannot be "
                         "resumed")
    cut_snaps = int(np.searchsorted(snapshot_generations, keep))
    if np.any(np.diff(snapshot_generations[:cut_snaps]) <= 0):
        raise ValueError(f"{path}: snapshots out of order: the file is damaged")
    ends = epochs["start"] + epochs["length"]
    cut_epochs = int(np.searchsorted(ends, keep, side="right"))
    if not np.array_equal(epochs["epoch"][:cut_epochs], np.arange(cut_epochs)):
        raise ValueError(f"{path}: /epochs rows out of order: the file is damaged")
    return cut_snaps, cut_epochs


def _growing(f: h5py.File, name: str, row_shape: tuple, dtype, chunk_rows: int) -> None:
    """An appendable dataset of rows, checksummed per chunk (see evosim.io.integrity)."""
    f.create_dataset(name, shape=(0, *row_shape), maxshape=(None, *row_shape), dtype=dtype,
                     chunks=(chunk_rows, *row_shape), fletcher32=True)


def _label(f: h5py.File, genome_length: int) -> None:
    """Dimension scales and every dataset's description and units, so that netCDF tools
    (xarray with h5netcdf) see /history indexed by generation, /epochs by epoch, /snapshots by
    generation, genomes by gene and goal targets by goal name: no phony dimensions."""
    _fixed(f, "gene", np.arange(genome_length, dtype=np.int64))
    f["gene"].make_scale("gene")
    f["goals/name"].make_scale("goal")
    target = f["goals/target"]
    if target.ndim == 2:
        _fixed(f, "goals/row", np.arange(target.shape[1], dtype=np.int64))
        f["goals/row"].make_scale("row")
        target.dims[1].attach_scale(f["goals/row"])
    if "goals/name" in f and target.shape[0] == len(f["goals/name"]):
        target.dims[0].attach_scale(f["goals/name"])
    for group, index in (("history", "generation"), ("epochs", "epoch"),
                         ("snapshots", "generation")):
        scale = f[group][index]
        scale.make_scale(index)
        for dataset in f[group].values():
            if dataset.name != scale.name:
                dataset.dims[0].attach_scale(scale)
            if dataset.ndim == 2:
                dataset.dims[1].attach_scale(f["gene"])

    def describe_dataset(name: str, obj) -> None:
        if isinstance(obj, h5py.Dataset):
            obj.attrs["description"], obj.attrs["units"] = describe(name)

    f.visititems(describe_dataset)


def _fixed(group, name: str, values: np.ndarray) -> None:
    """A dataset written once, checksummed when it has any values."""
    if values.size and values.dtype.kind != "O":
        group.create_dataset(name, data=values, chunks=values.shape, fletcher32=True)
    else:
        group.create_dataset(name, data=values)


def _state_names(ckpt: h5py.Group) -> list[str]:
    """The checkpoint's state arrays (files written before they were named hold ``genomes``)."""
    return str(ckpt.attrs.get("state", "genomes")).split(",")


class ResumePoint(NamedTuple):
    """Where a resumed run goes on: its writer, the next generation, the state's named arrays
    (None: start again) and the genome of the open goal epoch's last solving best."""

    writer: RunWriter
    generation: int
    state: dict[str, np.ndarray] | None
    solving_genome: np.ndarray | None


def _append(dataset: h5py.Dataset, values: np.ndarray) -> None:
    start = dataset.shape[0]
    dataset.resize(start + len(values), axis=0)
    dataset[start:] = values


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
