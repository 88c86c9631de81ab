"""Reading run files into plain arrays, without importing any task or engine code."""
from __future__ import annotations

import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from evosim.io.integrity import DamagedFileError, check_whole, read_appended, read_superblock
from evosim.io.schema import SCHEMA_VERSION, upgraded_epochs


class RunFileError(ValueError):
    """A run file that is missing, unreadable or from a newer schema; the message is for users."""


@dataclass
class History:
    """One run: its attributes, history columns, goals and snapshots as NumPy arrays."""

    path: Path
    attrs: dict
    columns: dict[str, np.ndarray]
    goal_names: list[str]
    goal_targets: np.ndarray
    snapshot_generation: np.ndarray
    snapshot_genome: np.ndarray
    checkpoint_generation: int = field(default=-1)
    epochs: dict[str, np.ndarray] = field(default_factory=dict)  # /epochs columns (schema 2)
    epoch_genome: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))

    def __getitem__(self, column: str) -> np.ndarray:
        return self.columns[column]

    def __len__(self) -> int:
        return len(self.columns["generation"])

    @property
    def config_toml(self) -> str:
        return self.attrs["config"]

    @property
    def trained_weights(self) -> bool:
        """Whether its genomes are a trained MLP's flattened weights, not a task's genomes (an
        evolved network's, or a gradient-trained circuit's or retina's: ``gradient.model``)."""
        if self.attrs.get("mode") != "gradient":
            return False
        try:
            model = tomllib.loads(self.config_toml).get("gradient", {}).get("model", "mlp")
        except tomllib.TOMLDecodeError:
            return True
        return model not in ("nand-circuit", "retina-network")

    def first_solved(self) -> dict[str, int | None]:
        """For each goal, the first generation in which the best individual solved it."""
        solved, goal, gen = self["solved"], self["goal"], self["generation"]
        out: dict[str, int | None] = {}
        for index, name in enumerate(self.goal_names):
            hits = np.flatnonzero(solved & (goal == index))
            out[name] = int(gen[hits[0]]) if hits.size else None
        return out


LIVE_READ_ATTEMPTS = 20  # a chunk being written fails its checksum for a moment


def load(path: str | Path) -> History:
    """Load a run file written by evosim (complete, interrupted, killed or still being written:
    the writer's SWMR mode lets readers in at any moment), after the checks of
    :mod:`evosim.io.integrity`: a damaged file is refused, never read as if whole.  A file
    being written may show a chunk in the middle of its write: such a read is tried again (for
    about a second) before the file is called damaged."""
    path = Path(path)
    if not path.exists():
        raise RunFileError(f"{path}: no such run file")
    for attempt in range(LIVE_READ_ATTEMPTS):
        try:
            return _load(path)
        except RunFileError:
            live = _open_for_writing(path)
            if not live or attempt == LIVE_READ_ATTEMPTS - 1:
                raise
            time.sleep(0.002 * 2 ** min(attempt, 5))
    raise AssertionError("unreachable")


def _open_for_writing(path: Path) -> bool:
    try:
        return read_superblock(path).open_for_writing
    except (OSError, DamagedFileError):
        return False


def _load(path: Path) -> History:
    try:
        with open_run_file(path) as f:
            version = int(f.attrs.get("schema_version", -1))
            if version > SCHEMA_VERSION:
                raise RunFileError(f"{path}: schema version {version} is newer than this evosim "
                                   f"reads ({SCHEMA_VERSION}); upgrade evosim")
            if version < 1 or "history" not in f:
                raise RunFileError(f"{path}: not an evosim run file")
            attrs = {k: _plain(v) for k, v in f.attrs.items()}
            for name in ("config", "task", "mode", "status"):
                if not isinstance(attrs.get(name), str):
                    raise RunFileError(f"{path}: damaged run file (its {name!r} attribute is "
                                       f"{'missing' if name not in attrs else 'not text'})")
            columns = {k: read_appended(v) for k, v in f["history"].items()}
            rows = min(len(v) for v in columns.values())  # a live writer appends column by column
            columns = {k: v[:rows] for k, v in columns.items()}
            names = [n.decode() if isinstance(n, bytes) else str(n) for n in f["goals/name"][()]]
            epochs = ({k: read_appended(v) for k, v in f["epochs"].items()} if "epochs" in f
                      else {})
            n_epochs = min((len(v) for v in epochs.values()), default=0)  # live writer
            epochs = upgraded_epochs({k: v[:n_epochs] for k, v in epochs.items()}, version)
            epoch_genome = epochs.pop("genome", np.zeros((0, 0)))
            return History(path=path, attrs=attrs, columns=columns, goal_names=names,
                           goal_targets=f["goals/target"][()],
                           snapshot_generation=read_appended(f["snapshots/generation"]),
                           snapshot_genome=read_appended(f["snapshots/genome"]),
                           checkpoint_generation=_checkpoint_generation(f),
                           epochs=epochs, epoch_genome=epoch_genome)
    except RunFileError:
        raise
    except DamagedFileError as err:
        raise RunFileError(str(err)) from None
    except (OSError, RuntimeError) as err:  # h5py reports broken files as either
        raise RunFileError(f"{path}: cannot read as HDF5 ({err})") from None
    except (KeyError, ValueError, TypeError) as err:  # missing or broken objects
        raise RunFileError(f"{path}: damaged or incomplete run file ({err})") from None


def open_run_file(path: str | Path) -> h5py.File:
    """Open an HDF5 file for reading once it has passed the integrity checks: in SWMR mode only
    if a writer has it open (or was killed), so damage elsewhere is an error, not a hang."""
    block = check_whole(path)
    return h5py.File(path, "r", libver="latest", swmr=block.open_for_writing)


def _checkpoint_generation(f: h5py.File) -> int:
    active = int(f["checkpoint/active"][0])
    if active not in (0, 1):
        raise RunFileError(f"{f.filename}: damaged checkpoint (active slot {active}; allowed 0, 1)")
    return int(f["checkpoint/generation"][active])


def _plain(value):
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, np.generic):
        return value.item()
    return value
