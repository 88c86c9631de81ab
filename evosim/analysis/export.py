"""History columns to flat files, for tools that do not read HDF5 (spreadsheets, R, pandas).

One row per generation; columns in the schema's order, then any others (e.g. a gradient run's
``activation_change``) by name.  Booleans are written as 0/1 and NaN as ``nan``.
"""
from __future__ import annotations

import csv
from pathlib import Path
from typing import TextIO

import numpy as np

from evosim.io import HISTORY_COLUMNS, History

__all__ = ["FORMATS", "ExportError", "column_order", "to_csv", "to_parquet", "export"]

FORMATS = ("csv", "parquet")


class ExportError(ValueError):
    """An export that cannot be done (unknown format, missing optional library); for users."""


def column_order(h: History) -> list[str]:
    known = [c for c in HISTORY_COLUMNS if c in h.columns]
    return known + sorted(c for c in h.columns if c not in HISTORY_COLUMNS)


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
    names = column_order(h)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    columns = [h[n].tolist() for n in names]
    for row in zip(*columns):
        writer.writerow([_cell(v) for v in row])


def to_parquet(h: History, path: str | Path) -> None:
    """Write the history as Parquet (needs the optional pyarrow)."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ExportError("parquet export needs pyarrow: pip install pyarrow "
                          "(or use --format csv)") from None
    names = column_order(h)
    pq.write_table(pa.table({n: h[n] for n in names}), path)


def export(h: History, fmt: str, path: str | Path) -> Path:
    """Write the history in ``fmt`` (one of FORMATS) to ``path``."""
    if fmt == "csv":
        to_csv(h, path)
    elif fmt == "parquet":
        to_parquet(h, path)
    else:
        raise ExportError(f"unknown format {fmt!r}; allowed: {', '.join(FORMATS)}")
    return Path(path)
