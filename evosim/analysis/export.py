"""History columns to flat files, for tools that do not read HDF5 (spreadsheets, R, pandas).

One row per generation; columns in the schema's order, with ``goal_name`` (the goal's name)
after ``goal`` (its row of /goals), then any others (e.g. a gradient run's
``activation_change``) by name.  Booleans are written as 0/1 and NaN as ``nan``.
"""
from __future__ import annotations

import csv
from pathlib import Path
from typing import TextIO

import numpy as np

from evosim.io import HISTORY_COLUMNS, History

__all__ = ["FORMATS", "ExportError", "column_order", "table", "to_csv", "to_parquet", "export"]

FORMATS = ("csv", "parquet")


class ExportError(ValueError):
    """An export that cannot be done (unknown format, missing optional library); for users."""


def column_order(h: History) -> list[str]:
    known = [c for c in HISTORY_COLUMNS if c in h.columns]
    known.insert(known.index("goal") + 1, "goal_name")
    return known + sorted(c for c in h.columns if c not in HISTORY_COLUMNS)


def table(h: History) -> dict[str, np.ndarray]:
    """The exported columns, in their order."""
    names = np.array(h.goal_names, dtype=object)
    columns = {**h.columns, "goal_name": names[h["goal"]] if len(h) else names[:0]}
    return {name: columns[name] for name in column_order(h)}


def _cell(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))  # shortest text that reads back to the same float
    return str(value)


def to_csv(h: History, out: str | Path | TextIO) -> None:
    """Write the history as CSV to a path or an open text stream."""
    if isinstance(out, (str, Path)):
        with open(out, "w", newline="") as stream:
            to_csv(h, stream)
        return
    columns = table(h)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in zip(*(values.tolist() for values in columns.values())):
        writer.writerow([_cell(v) for v in row])


def to_parquet(h: History, path: str | Path) -> None:
    """Write the history as Parquet (needs the optional pyarrow)."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ExportError('parquet export needs pyarrow: pip install "evosim[data]" '
                          "(or use --format csv)") from None
    pq.write_table(pa.table(table(h)), path)


def export(h: History, fmt: str, path: str | Path) -> Path:
    """Write the history in ``fmt`` (one of FORMATS) to ``path``."""
    if fmt == "csv":
        to_csv(h, path)
    elif fmt == "parquet":
        to_parquet(h, path)
    else:
        raise ExportError(f"unknown format {fmt!r}; allowed: {', '.join(FORMATS)}")
    return Path(path)
