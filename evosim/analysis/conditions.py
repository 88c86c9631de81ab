"""Conditions: groups of runs that share a config, found from the configs the run files record.

A folder is only a source of files.  What makes two runs the same condition is what they were
run with: every run's config is flattened to dotted keys (``schedule.kind``, ``cost.p``, ...), the
keys whose values differ between the runs given are found (leaving out the seed and the other
per-run bookkeeping: ``run.seed`` and ``output.*``), and the runs are grouped by those keys' values.
A condition's label names them, e.g. ``schedule.kind=mvg`` or ``cost.kind=count, cost.p=0.25``.
Grouping by chosen keys instead (``by``) is for comparisons that should pool runs that differ in
something else; the report then says which keys also differ inside a condition.
"""
from __future__ import annotations

import functools
import math
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from evosim.analysis.runs import (DEFAULT_LAST_EPOCHS, AnalysisError, Measure, RunSummary,
                                  summarise)
from evosim.io import History, RunFileError, load

__all__ = ["MIN_RUNS", "BOOKKEEPING", "Condition", "load_sources", "flat_config",
           "differing_keys", "label_keys", "group_runs", "load_conditions", "condition_warnings",
           "format_value"]

MIN_RUNS = 20                               # fewer runs per condition: the reports warn
BOOKKEEPING = ("run.seed", "output.")       # keys (or sections, ending in '.') never conditions


class _Unset:
    """A key a run's config does not have (a config written by another evosim version)."""

    def __repr__(self) -> str:
        return "(unset)"


UNSET = _Unset()


def load_sources(sources: Sequence[str | Path]) -> list[History]:
    """The runs in the files and folders given (a folder: its ``*.h5`` files, sorted), each file
    once.  RunFileError for an unreadable file; AnalysisError if there is no run file at all."""
    files: list[Path] = []
    for source in map(Path, sources):
        if source.is_dir():
            files += sorted(source.glob("*.h5"))
        else:
            files.append(source)  # load() says if it is missing
    seen: set[Path] = set()
    unique = [f for f in files if not (f.resolve() in seen or seen.add(f.resolve()))]
    if not unique:
        where = ", ".join(map(str, sources)) or "nothing given"
        raise AnalysisError(f"no run files (*.h5) in {where}")
    return [load(f) for f in unique]


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    return value


@functools.lru_cache(maxsize=256)
def _flat(config_toml: str) -> dict[str, Any]:
    from evosim import config as cfg

    data = tomllib.loads(config_toml)
    try:  # only what a run of its task and mode reads: other keys cannot make two runs differ
        data = cfg.applicable(cfg.from_dict(data))
    except cfg.ConfigError:  # a config this evosim does not accept: take it as written
        pass
    return {f"{section}.{key}": _hashable(value) for section, values in data.items()
            if isinstance(values, dict) for key, value in values.items()}


def flat_config(h: History) -> dict[str, Any]:
    """The run's recorded config as ``{"section.key": value}`` (lists as tuples), keeping only
    the keys a run of its task and mode reads (``evosim.config.applicable``): an evolved run's
    ``gradient.*`` or a retina run's ``task.max_gates`` are not settings of that run."""
    try:
        return dict(_flat(h.config_toml))
    except (KeyError, tomllib.TOMLDecodeError) as err:
        raise RunFileError(f"{h.path}: its recorded config cannot be read ({err})") from None


def _bookkeeping(key: str) -> bool:
    return any(key == b or (b.endswith(".") and key.startswith(b)) for b in BOOKKEEPING)


def differing_keys(configs: Sequence[dict[str, Any]]) -> list[str]:
    """The keys (bookkeeping left out) whose values are not the same in every config."""
    keys = sorted(set().union(*configs)) if configs else []
    return [k for k in keys if not _bookkeeping(k)
            and len({repr(c.get(k, UNSET)) for c in configs}) > 1]


def format_value(value: Any) -> str:
    """A config value in a label: lists as ``a+b`` (as in sweep file names), booleans lower."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        return "+".join(format_value(v) for v in value)
    return str(value)


def _sort_key(value: Any) -> tuple:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, float(value), "")
    return (1, 0.0, format_value(value))


@dataclass
class Condition:
    """The runs of one condition: their histories, per-run summaries, and settings."""

    name: str                     # the label, e.g. "schedule.kind=mvg" (see label_keys)
    settings: dict[str, Any]      # the values of all the keys the runs were grouped by
    shared: dict[str, Any]        # every config key its runs agree on (bookkeeping left out)
    varying: list[str]            # keys that differ inside the condition (only with ``by``)
    histories: list[History]
    summaries: list[RunSummary]
    shown: list[str] = field(default_factory=list)  # the keys its label names

    def __len__(self) -> int:
        return len(self.histories)

    @property
    def schedule(self) -> str:
        """The schedule kind of the condition's runs (the most common, if ``by`` mixed them)."""
        kinds = Counter(s.schedule for s in self.summaries)
        return kinds.most_common(1)[0][0] if kinds else "?"

    def get(self, key: str, default: Any = None) -> Any:
        """A config value all its runs share (``default`` if they do not share one)."""
        return self.shared.get(key, default)

    def values(self, attribute: str) -> list[float]:
        """A RunSummary attribute of every run (None as NaN)."""
        return [math.nan if (v := getattr(s, attribute)) is None else float(v)
                for s in self.summaries]

    def measure(self, m: Measure) -> np.ndarray:
        """The measure of every run, in the order of ``histories``."""
        return np.array([m(h) for h in self.histories], dtype=np.float64)

    @property
    def censored(self) -> np.ndarray:
        """Which runs never solved (their T is censored; their solved-network measures NaN)."""
        return np.array([s.censored for s in self.summaries], dtype=bool)


# the keys a label names first, when fewer than all the differing keys tell conditions apart
LABEL_PRIORITY = ("run.mode", "task.name", "schedule.kind", "selection.scheme", "cost.kind",
                  "cost.p", "cost.weight", "cost.layout", "schedule.goal", "schedule.goals",
                  "schedule.period")


def label_keys(keys: Sequence[str], points: Sequence[tuple]) -> list[str]:
    """The fewest keys, taken greedily in LABEL_PRIORITY order then alphabetically, whose values
    tell the conditions apart.  Runs of two tasks differ in every key the task sets by default
    (layout, hidden sizes, directedness, ...); a label naming them all is unreadable, and
    ``task.name`` alone already says it.  (The conditions are still formed by all the keys.)"""
    order = sorted(range(len(keys)), key=lambda i: (
        LABEL_PRIORITY.index(keys[i]) if keys[i] in LABEL_PRIORITY else len(LABEL_PRIORITY),
        keys[i]))
    chosen: list[int] = []
    distinct = 1
    for i in order:
        if distinct == len(set(points)):
            break
        n = len({tuple(repr(p[j]) for j in [*chosen, i]) for p in points})
        if n > distinct:
            chosen.append(i)
            distinct = n
    return [keys[i] for i in chosen]


def group_runs(histories: Sequence[History], by: Sequence[str] = (),
               last: int = DEFAULT_LAST_EPOCHS) -> list[Condition]:
    """Group runs into conditions by the config keys that differ between them, or by ``by``.

    Conditions come out sorted by their keys' values (numbers as numbers) and are labelled by the
    keys that tell them apart (:func:`label_keys`; with ``by``, by those keys).  With no
    differing key every run is one condition, labelled ``all runs``.  AnalysisError for a ``by``
    key that no run's config has."""
    configs = [flat_config(h) for h in histories]
    differing = differing_keys(configs)
    known = set().union(*configs) if configs else set()
    for key in by:
        if key not in known:
            hint = ", ".join(differing) or "none"
            raise AnalysisError(f"--by {key}: no run's config has (or reads) this key "
                                f"(section.key, e.g. schedule.kind); keys that differ between "
                                f"the runs: {hint}")
    keys = list(dict.fromkeys(by)) if by else differing
    groups: dict[tuple, list[int]] = {}
    for i, c in enumerate(configs):
        groups.setdefault(tuple(c.get(k, UNSET) for k in keys), []).append(i)
    points = sorted(groups, key=lambda p: tuple(_sort_key(v) for v in p))
    shown = list(keys) if by else label_keys(keys, points)
    out = []
    for point in points:
        members = groups[point]
        values = dict(zip(keys, point))
        name = ", ".join(f"{k}={format_value(values[k])}" for k in shown) or "all runs"
        inside = [configs[i] for i in members]
        varying = differing_keys(inside)
        shared = {k: v for k, v in inside[0].items() if not _bookkeeping(k) and k not in varying}
        runs = [histories[i] for i in members]
        out.append(Condition(name, values, shared, varying, runs,
                             [summarise(h, name, last) for h in runs], shown))
    return out


def load_conditions(sources: Sequence[str | Path], by: Sequence[str] = (),
                    last: int = DEFAULT_LAST_EPOCHS) -> list[Condition]:
    """:func:`load_sources` then :func:`group_runs`."""
    return group_runs(load_sources(sources), by, last)


def condition_warnings(conditions: Sequence[Condition], min_runs: int = MIN_RUNS) -> list[str]:
    """What a reader must know before trusting the comparison: small conditions, the same run
    counted twice (same config and seed), runs not complete, keys mixed inside a condition."""
    notes = []
    for c in conditions:
        if len(c) < min_runs:
            notes.append(f"condition {c.name}: only {len(c)} runs (fewer than {min_runs}); "
                         "its statistics are rough")
        seeds = Counter(s.seed for s in c.summaries)
        twice = [] if c.varying else sorted(seed for seed, n in seeds.items() if n > 1)
        if twice:
            notes.append(f"condition {c.name}: seeds {twice} appear more than once with the same "
                         "config; those are copies of one run")
        unfinished = [s.path.name for s in c.summaries if s.status != "complete"]
        if unfinished:
            notes.append(f"condition {c.name}: {len(unfinished)} runs not complete "
                         f"({', '.join(unfinished[:3])}{', ...' if len(unfinished) > 3 else ''})")
        if c.varying:
            notes.append(f"condition {c.name}: its runs also differ in {', '.join(c.varying)}")
    return notes
