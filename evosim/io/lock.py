"""One writer per run file: an exclusive lock beside it for the life of its writer.

The lock is ``<file>.lock``, held with ``flock``: the kernel releases it when the process dies,
so a lock left by a killed writer never blocks.  It names its holder (process id, host, time),
so a second writer is refused with who has the file.  The lock file is removed by its holder
on release; a process that locked a lock file which was removed meanwhile notices (the path no
longer names the file it holds) and tries again.
"""
from __future__ import annotations

import datetime as _dt
import errno
import fcntl
import os
import socket
import time
from pathlib import Path


class RunLockedError(RuntimeError):
    """Another live process writes this run file; the message says which."""


def lock_path(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(path.name + ".lock")


class RunLock:
    """Context manager: the exclusive lock of one run file (see the module docstring)."""

    def __init__(self, path: str | Path):
        self.run_path = Path(path)
        self.path = lock_path(path)
        self._fd: int | None = None

    def __enter__(self) -> "RunLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def acquire(self) -> None:
        for _ in range(200):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as err:
                os.close(fd)
                if err.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise
                who = holder(self.run_path)
                if who is None:  # a reader's look (``holder``) or a writer leaving: again
                    time.sleep(0.01)
                    continue
                raise RunLockedError(f"{self.run_path}: being written by {who}; wait for it, "
                                     "or stop it first") from None
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                os.ftruncate(fd, 0)
                stamp = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
                os.write(fd, f"process {os.getpid()} on {socket.gethostname()} since {stamp}"
                         .encode())
                self._fd = fd
                return
            os.close(fd)  # its holder removed it as we opened it: take the new one
        raise RunLockedError(f"{self.run_path}: cannot take its lock {self.path}")

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        os.close(self._fd)
        self._fd = None


def remove_if_stale(path: str | Path) -> None:
    """Remove the lock file beside run file ``path`` if nobody holds it: what a writer killed
    between closing the run and releasing its lock leaves, which a complete run, never locked
    again, would keep. (A writer taking the lock meanwhile finds its file gone and takes anew.)"""
    if holder(path) is None:
        lock_path(path).unlink(missing_ok=True)


def holder(path: str | Path) -> str | None:
    """Who holds the lock of a run file ("process 123 on host since ..."), or None if nobody."""
    where = lock_path(path)
    try:
        fd = os.open(where, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            text = os.read(fd, 200).decode(errors="replace").strip()
            return text or None  # a writer that has not yet said who it is, or a reader
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
