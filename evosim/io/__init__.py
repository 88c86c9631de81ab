"""HDF5 run files: writer, reader, schema."""
from evosim.io.reader import History, RunFileError, load
from evosim.io.schema import EPOCH_COLUMNS, HISTORY_COLUMNS, SCHEMA_VERSION
from evosim.io.writer import RunWriter
from evosim.io.xarray_view import to_xarray

__all__ = ["History", "RunFileError", "load", "EPOCH_COLUMNS", "HISTORY_COLUMNS", "SCHEMA_VERSION",
           "RunWriter", "to_xarray"]
