"""What is checked before HDF5 reads a run file, so a damaged one is refused at once.

HDF5 reads a file that was cut short or overwritten in places in ways that hang or return wrong
values: a reader in SWMR mode retries a failed metadata read for up to an hour, and raw data has
no checksum of its own.  So:

* the file must be a regular file whose size covers the end-of-file address its superblock
  records (a truncated file is refused before HDF5 opens it);
* a file whose superblock says no writer has it open is opened without SWMR, where a damaged
  metadata block is an immediate error; only a file marked as being written (a run in progress,
  or one killed before it closed) is opened in SWMR mode;
* every dataset evosim writes carries a Fletcher-32 checksum per chunk, so damaged data is an
  error when read (files of evosim 0.1 without them are still read);
* one checksum failure is not damage: a writer killed while it rewrote the last chunk of an
  appendable dataset (appending rows to it) can leave that chunk torn, its first pages new and
  the rest, checksum included, as last flushed (the kernel stops a write at a page when the
  process is killed). The rows the file shows are the same in both versions, and the stored
  checksum proves it: ``read_appended`` returns them when that checksum is the one of those rows
  (and perhaps some after them, flushed before the kill) with the rest of the chunk at its fill
  value.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

SIGNATURE = b"\x89HDF\r\n\x1a\n"
_WRITE_ACCESS, _SWMR_WRITE = 0x01, 0x04


class DamagedFileError(ValueError):
    """The file is not a whole HDF5 file; the message (one line) says why."""


@dataclass(frozen=True)
class Superblock:
    version: int
    open_for_writing: bool      # a writer has it open (or was killed before closing it)
    end_of_file: int | None     # bytes the file must hold (None for old superblock versions)


def read_superblock(path: str | Path) -> Superblock:
    """The superblock facts of an HDF5 file (versions 2 and 3 in full: what evosim writes)."""
    path = Path(path)
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise DamagedFileError(f"{path}: not a regular file")
    with open(path, "rb") as f:
        offset = 0
        while offset + 8 <= info.st_size:  # the superblock sits at 0, 512, 1024, 2048, ...
            f.seek(offset)
            head = f.read(48)
            if head[:8] == SIGNATURE:
                return _parse(path, head)
            offset = 512 if offset == 0 else offset * 2
    raise DamagedFileError(f"{path}: not an HDF5 file (no superblock)")


def check_whole(path: str | Path) -> Superblock:
    """The superblock, after checking the file is as long as it says it is."""
    block = read_superblock(path)
    size = os.path.getsize(path)
    if block.end_of_file is not None and size < block.end_of_file:
        raise DamagedFileError(f"{path}: truncated ({size} of {block.end_of_file} bytes)")
    return block


def _parse(path: Path, head: bytes) -> Superblock:
    version = head[8]
    if version < 2:
        return Superblock(version, False, None)
    if len(head) < 12:
        raise DamagedFileError(f"{path}: truncated superblock")
    width = head[9]  # size of offsets
    if width not in (2, 4, 8) or len(head) < 12 + 4 * width:
        raise DamagedFileError(f"{path}: damaged superblock (offset size {width})")
    flags = head[11]

    def address(k: int) -> int:
        return int.from_bytes(head[12 + k * width: 12 + (k + 1) * width], "little")

    base, end = address(0), address(2)
    return Superblock(version, bool(flags & (_WRITE_ACCESS | _SWMR_WRITE)), base + end)


def read_appended(dataset: h5py.Dataset) -> np.ndarray:
    """Every row of an appendable dataset; its last chunk recovered if a killed writer tore it
    (see the module docstring). Any other checksum failure raises DamagedFileError."""
    try:
        return dataset[()]
    except OSError as err:
        if "filter returned failure" not in str(err) or not dataset.chunks:
            raise
    n, rows = dataset.shape[0], dataset.chunks[0]
    start = (n - 1) // rows * rows
    try:
        head = dataset[:start]
    except OSError:
        raise DamagedFileError(f"{dataset.file.filename}: {dataset.name} is damaged (a chunk "
                               "fails its checksum)") from None
    tail = _torn_tail(dataset, start, n)
    if tail is None:
        raise DamagedFileError(f"{dataset.file.filename}: {dataset.name} is damaged (its last "
                               "chunk fails its checksum, and not as a killed append leaves it)")
    return np.concatenate([head, tail])


def _torn_tail(dataset: h5py.Dataset, start: int, n: int) -> np.ndarray | None:
    """Rows ``start``..``n - 1`` from the raw bytes of the chunk at ``start``, if its stored
    checksum is that of its first rows, those and perhaps some the torn append had written
    before (rows are written once, in order), followed by the fill value (None otherwise)."""
    if dataset.compression or dataset.shuffle or not dataset.fletcher32:
        return None
    _, raw = dataset.id.read_direct_chunk((start,) + (0,) * (dataset.ndim - 1))
    body, stored = raw[:-4], int.from_bytes(raw[-4:], "little")
    rows = dataset.chunks[0]
    row = dataset.dtype.itemsize * int(np.prod(dataset.chunks[1:], dtype=np.int64))
    if len(body) != rows * row:
        return None
    fill = np.full((rows, *dataset.chunks[1:]), dataset.fillvalue,
                   dtype=dataset.dtype).tobytes()
    shown = n - start
    if not any(stored in _fletcher32(body[:k * row] + fill[k * row:])
               for k in range(shown, rows + 1)):
        return None
    shape = (shown, *dataset.shape[1:])
    return np.frombuffer(body[:shown * row], dtype=dataset.dtype).reshape(shape).copy()


def _fletcher32(data: bytes) -> tuple[int, ...]:
    """HDF5's Fletcher-32 of ``data`` (16-bit big-endian words, sums modulo 65535), in both of
    its spellings where a sum is 0 modulo 65535 (HDF5's folding can leave it as 0xffff)."""
    b = np.frombuffer(data + b"\0" * (len(data) % 2), dtype=np.uint8)
    words = (b[0::2].astype(np.uint64) << 8) | b[1::2]
    running = np.cumsum(words)
    low, high = int(running[-1] % 65535), int(running.sum() % 65535)
    lows, highs = {low, 65535} if low == 0 else {low}, {high, 65535} if high == 0 else {high}
    return tuple((h << 16) | lo for h in highs for lo in lows)
