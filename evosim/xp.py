"""The array namespace of an engine's arrays: NumPy, or CuPy for arrays on a GPU.

Array code written once takes ``xp = array_module(x)`` and calls ``xp.argsort``, ``xp.where``...:
it then runs on whichever device its inputs live. CuPy is never imported here: if no module has
imported it, no array can be a CuPy array.
"""
from __future__ import annotations

import sys
from types import ModuleType

import numpy as np

GPU_HINT = 'pip install ".[gpu]"'


class GPUUnavailable(RuntimeError):
    """CuPy or a CUDA GPU is missing; the message says which, in one line."""


def array_module(*arrays) -> ModuleType:
    """``cupy`` if any of ``arrays`` is a CuPy array, else ``numpy``."""
    cupy = sys.modules.get("cupy")
    return np if cupy is None else cupy.get_array_module(*arrays)


def gpu_module(setting: str = "--engine cupy") -> ModuleType:
    """CuPy, once it is known to run on a CUDA GPU here; else GPUUnavailable saying why (in one
    line that names the ``setting`` asking for it)."""
    try:
        import cupy
    except Exception as err:  # noqa: BLE001 - an ImportError, or a broken CUDA install
        raise GPUUnavailable(f"{setting} needs CuPy and a CUDA GPU; {GPU_HINT} "
                             f"(CuPy: {type(err).__name__}: {_first_line(err)})") from None
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            raise RuntimeError("no CUDA device")
        cupy.arange(1).sum()  # a kernel runs: the driver and the wheel's CUDA agree
    except Exception as err:  # noqa: BLE001 - CUDARuntimeError and friends
        raise GPUUnavailable(f"{setting} needs CuPy and a CUDA GPU; CuPy is installed but "
                             f"no GPU answered ({_first_line(err)})") from None
    return cupy


def _first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]


def to_host(x) -> np.ndarray:
    """A NumPy copy (or the array itself) of a NumPy or CuPy array."""
    return x.get() if hasattr(x, "get") else np.asarray(x)
