"""Many runs as one tidy pandas table: a row per run, per goal epoch or per generation, with the
run's seed and every config key that differs between the runs as columns (the grid of a sweep).

pandas is an optional dependency (the ``data`` extra); nothing here is imported by
``evosim.analysis`` until it is called.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Sequence

import numpy as np

from evosim.analysis.conditions import differing_keys, flat_config, load_sources
from evosim.analysis.runs import AnalysisError, summarise
from evosim.io import History

LEVELS = ("run", "epoch", "generation")
PANDAS_HINT = 'pip install "evosim[data]"'


def load_runs(sources: str | Path | Sequence[str | Path], level: str = "run"):
    """The runs in ``sources`` (run files and folders of them) as a ``pandas.DataFrame``.

    Parameters
    ----------
    sources : path or sequence of paths
        Run files, or folders whose ``*.h5`` files are read (a sweep's folder).
    level : {"run", "epoch", "generation"}
        One row per run (its summary: ``evosim.analysis.summarise``), per goal epoch (its
        ``/epochs`` row) or per generation (its ``/history`` row).

    Returns
    -------
    pandas.DataFrame
        The rows, preceded by ``run`` (the file's stem), ``seed`` and every config key whose value
        differs between the runs (named ``section.key``); epochs and generations also get
        ``goal_name``.
    """
    try:
        import pandas as pd
    except ImportError:
        raise AnalysisError(f"load_runs needs pandas: {PANDAS_HINT}") from None
    if level not in LEVELS:
        raise AnalysisError(f"level {level!r}; allowed: {', '.join(LEVELS)}")
    paths = [sources] if isinstance(sources, (str, Path)) else list(sources)
    histories = load_sources(paths)
    configs = [flat_config(h) for h in histories]
    keys = differing_keys(configs)
    frames = []
    for h, config in zip(histories, configs):
        table = _rows(h, level)
        n = len(next(iter(table.values()))) if table else 0
        run = {"run": [h.path.stem] * n, "seed": [int(h.attrs.get("seed", -1))] * n}
        run.update({key: [_cell(config.get(key))] * n for key in keys})
        frames.append(pd.DataFrame({**run, **table}))
    return pd.concat(frames, ignore_index=True)


def _rows(h: History, level: str) -> dict[str, list | np.ndarray]:
    if level == "run":
        summary = dataclasses.asdict(summarise(h))
        first = summary.pop("first_solved")
        summary.update({f"first_solved_{goal}": generation for goal, generation in first.items()})
        summary["path"] = str(summary["path"])
        for name in ("seed", "condition"):
            summary.pop(name)
        return {name: [value] for name, value in summary.items()}
    table = dict(h.columns if level == "generation" else h.epochs)
    names = np.array(h.goal_names, dtype=object)
    table["goal_name"] = names[table["goal"]] if len(table["goal"]) else np.array([], dtype=object)
    return table


def _cell(value):
    """A config value as a table cell (lists, kept as tuples by the config reader, as text)."""
    return str(list(value)) if isinstance(value, tuple) else value
