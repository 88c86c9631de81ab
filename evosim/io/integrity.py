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
  error when read (files of evosim 0.1 without them are still read).
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

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
