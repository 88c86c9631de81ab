"""One piece of code, two kernel sets: run a function's code with some global names rebound."""
from __future__ import annotations

import types
from typing import Any, Callable


def rebind(func: Callable, **names: Any) -> Callable:
    """The same code object as ``func`` (a plain function, or a Numba dispatcher's ``py_func``)
    with the given global names bound to other objects: how the NumPy backend runs the very code
    the Numba backend compiles, with NumPy kernels behind the names.

    Every name given must be one the code reads as a global: a callee renamed in the code would
    otherwise keep its old binding silently (the NumPy reference then calling Numba kernels)."""
    func = getattr(func, "py_func", func)
    unused = sorted(set(names) - set(func.__code__.co_names))
    if unused:
        raise NameError(f"rebind: {func.__name__} does not use {', '.join(unused)}")
    return types.FunctionType(func.__code__, {**func.__globals__, **names}, func.__name__)
