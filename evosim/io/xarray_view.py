"""A run file's tables as xarray Datasets: columns named, described and with units, indexed by
generation (or epoch), with the goal names beside the goal indices.

The file itself opens in xarray too (``xarray.open_dataset(path, group="history",
engine="h5netcdf")``: its dimension scales name every dimension); this view reads it through
``evosim.io.load`` instead, so a run still being written or torn by a kill reads as the rows its
checksums prove, exactly as every other evosim reader sees it.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from evosim.io.reader import load
from evosim.io.schema import describe

GROUPS = {"history": "generation", "epochs": "epoch"}  # group -> its index
XARRAY_HINT = 'pip install "evosim[data]"'


def to_xarray(path: str | Path, group: str = "history"):
    """The run's ``history`` (one row per generation) or ``epochs`` (one per goal epoch) as an
    ``xarray.Dataset``: every column a variable with its ``description`` and ``units``, the
    goal names as the coordinate ``goal_name``, and the run's attributes (task, seed, config,
    ...) as the Dataset's. Needs xarray (the ``data`` extra)."""
    try:
        import xarray as xr
    except ImportError:
        raise ImportError(f"to_xarray needs xarray: {XARRAY_HINT}") from None
    if group not in GROUPS:
        raise ValueError(f"group {group!r}; allowed: {', '.join(GROUPS)}")
    h = load(path)
    table = h.columns if group == "history" else h.epochs
    index = GROUPS[group]
    names = np.array(h.goal_names, dtype=str)
    data = {name: ((index,), values, _attrs(group, name))
            for name, values in table.items() if name != index}
    if group == "epochs" and len(h.epoch_genome):
        data["genome"] = ((index, "gene"), h.epoch_genome, _attrs(group, "genome"))
    coords = {index: ((index,), table[index], _attrs(group, index)),
              "goal_name": ((index,), names[table["goal"]] if len(names) else
                            np.array([], dtype=str), {"description": "the goal's name"})}
    return xr.Dataset(data, coords=coords, attrs={**h.attrs, "path": str(h.path)})


def _attrs(group: str, name: str) -> dict[str, str]:
    description, units = describe(f"{group}/{name}")
    return {"description": description, "units": units}
