"""What the reports share: Markdown cells and tables, per-measure and pairwise tables, the per-run
CSV, the warnings, and the options of the report scripts.

Conditions come from the runs' recorded configs (:mod:`.conditions`); a measure is one of
:data:`evosim.analysis.runs.MEASURES`.
"""
from __future__ import annotations

import csv
import itertools
import math
import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from evosim.analysis.conditions import (MIN_RUNS, Condition, condition_warnings, group_runs,
                                        load_conditions)
from evosim.analysis.runs import DEFAULT_LAST_EPOCHS, AnalysisError, Measure
from evosim.analysis.stats import bootstrap_ci, cliffs_delta, finite, mann_whitney, mean_sd
from evosim.io import RunFileError

__all__ = ["Condition", "load_conditions", "group_runs", "add_report_arguments",
           "conditions_for_script", "fmt",
           "fmt_mean_sd", "fmt_ci", "markdown_table", "measure_table", "pairwise_table",
           "conditions_table", "warnings_section", "emit_warnings", "write_runs_csv",
           "write_text", "DEFINITIONS"]

DEFINITIONS = f"""Per-run measures come from each run's `/epochs` table (one row per goal epoch of
`schedule.period` generations): only full epochs count (the run's last, partial epoch is left
out), epoch 0 included.  The solved-network measures (`q_solved`, `qm_solved`, `z_solved`,
`cost_solved`) average, per run, the last solving network of each solved epoch (Qm and z where
they were computed: every `modularity.qm_epochs`-th epoch and the one before it where its goal
differs); `resolve_rate` is the fraction of the
epochs after the run's first solved epoch that were solved and `median_resolve` the median
generations from an epoch's start to its first solution over those re-solved epochs (the
all-epoch rate is `solved_rate_all`).  `t_solve` is the first generation whose best solved the
goal in force; runs that never solved count at their last generation (censored) and are counted
as *never solved*.  Across runs: mean ± sample sd, median, a percentile-bootstrap 95% CI of the
mean; two-sided Mann-Whitney U tests (uncorrected for multiple comparisons) and Cliff's delta
(P(A > B) - P(A < B), from -1 to 1) between conditions.  Conditions with fewer than {MIN_RUNS}
runs are flagged."""


def add_report_arguments(parser) -> None:
    """The options every report script shares: output folder, grouping, window, bootstrap."""
    parser.add_argument("-o", "--out", type=Path, default=Path("report"), help="output folder")
    parser.add_argument("--by", action="append", default=[], metavar="KEY",
                        help="group runs by this config key (repeatable; default: the keys "
                             "whose values differ between the runs)")
    parser.add_argument("--last-epochs", type=int, default=DEFAULT_LAST_EPOCHS,
                        help="full epochs at the end whose q_end is averaged per run")
    parser.add_argument("--bootstrap", type=int, default=10_000, help="bootstrap resamples")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed")


def script_conditions(doc: str, argv: Sequence[str] | None, add_arguments=None):
    """(parser, args, conditions) of a report script taking RUNS: the shared options, the
    script's own (``add_arguments(parser)``), then ``conditions_for_script``."""
    import argparse

    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run files or folders of them")
    if add_arguments is not None:
        add_arguments(parser)
    add_report_arguments(parser)
    args = parser.parse_args(argv)
    return parser, args, conditions_for_script(parser, args.runs, args.by, args.last_epochs)


def conditions_for_script(parser, sources: Sequence[Path], by: Sequence[str] = (),
                          last: int = DEFAULT_LAST_EPOCHS) -> list[Condition]:
    """The conditions of a report script's runs; a bad input (no run file, an unreadable one, an
    unknown --by key) ends the script with one line ``error: ...`` and exit code 2."""
    try:
        return load_conditions(sources, by, last)
    except (AnalysisError, RunFileError) as err:
        parser.exit(2, f"error: {err}\n")


def fmt(value: Any, digits: int = 3) -> str:
    """A table cell: None and NaN as an em dash, floats rounded."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float):
        if math.isinf(value):
            return "∞" if value > 0 else "-∞"
        small = value != 0 and abs(value) < 1e-3  # p-values: keep the digits that matter
        return f"{value:.{digits}g}" if small else f"{value:.{digits}f}"
    return str(value)


def fmt_mean_sd(values: Sequence[float], digits: int = 3) -> str:
    mean, sd = mean_sd(values)
    return "—" if math.isnan(mean) else f"{mean:.{digits}f} ± {sd:.{digits}f}"


def fmt_ci(ci: tuple[float, float], digits: int = 3) -> str:
    return "—" if math.isnan(ci[0]) else f"[{fmt(ci[0], digits)}, {fmt(ci[1], digits)}]"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _digits(measure: Measure) -> int:
    return 1 if measure.name in ("t_solve", "median_resolve") else 3


def measure_table(conditions: Sequence[Condition], measure: Measure, n_boot: int = 10_000,
                  seed: int = 0) -> str:
    """One row per condition: runs, mean ± sd, median, bootstrap CI, never solved, no value."""
    rows = []
    for c in conditions:
        values = c.measure(measure)
        x = finite(values)
        d = _digits(measure)
        rows.append([c.name, len(c), fmt_mean_sd(x, d),
                     fmt(float(np.median(x)), d) if x.size else None,
                     fmt_ci(bootstrap_ci(x, n_boot, seed=seed), d), int(c.censored.sum()),
                     int(np.isnan(values).sum())])
    never = "never solved (censored at run length)" if measure.censored else "never solved"
    return markdown_table(["condition", "runs", "mean ± sd", "median", "95% CI of the mean",
                           never, "no value (NaN)"], rows)


def pairwise_table(conditions: Sequence[Condition], measures: Sequence[Measure],
                   pairs: Sequence[tuple[Condition, Condition]] | None = None) -> str:
    """Mann-Whitney p and Cliff's delta (A vs B) per measure for each pair of conditions (all
    pairs by default), with the runs that had a value on each side."""
    pairs = list(itertools.combinations(conditions, 2)) if pairs is None else list(pairs)
    if not pairs:
        return "(one condition: nothing to compare)"
    rows = []
    for m in measures:
        for a, b in pairs:
            va, vb = finite(a.measure(m)), finite(b.measure(m))
            rows.append([m.name, a.name, b.name, va.size, vb.size, mann_whitney(va, vb),
                         cliffs_delta(va, vb)])
    return markdown_table(["measure", "A", "B", "n A", "n B", "p (Mann-Whitney, two-sided)",
                           "Cliff's delta (A vs B)"], rows)


def conditions_table(conditions: Sequence[Condition]) -> str:
    """What each condition is: its label, runs, task, mode, schedule, never-solved runs."""
    keys = ("task.name", "run.mode", "schedule.kind", "selection.scheme", "cost.kind")
    rows = [[c.name, len(c), *(c.get(k, "mixed" if k in c.varying else "—") for k in keys),
             int(c.censored.sum())] for c in conditions]
    return markdown_table(["condition", "runs", "task", "mode", "schedule", "selection",
                           "cost", "never solved"], rows)


def warnings_section(notes: Sequence[str]) -> str:
    return "\n\n".join(f"> **Warning:** {n}" for n in notes) if notes else ""


def emit_warnings(conditions: Sequence[Condition], stream=None) -> list[str]:
    """The conditions' warnings, each written to stderr (or ``stream``) as ``warning: ...``."""
    notes = condition_warnings(conditions)
    for note in notes:
        print(f"warning: {note}", file=stream or sys.stderr)
    return notes


def write_runs_csv(conditions: Sequence[Condition], measures: Sequence[Measure],
                   path: Path) -> Path:
    """One row per run: file, condition, seed, status, never solved, how many epochs its means
    rest on, then each measure."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["run", "condition", "seed", "status", "never_solved", "full_epochs",
                         "solved_epochs", "n_q_solved", "n_qm_solved",
                         *(m.name for m in measures)])
        for c in conditions:
            columns = [c.measure(m) for m in measures]
            for i, s in enumerate(c.summaries):
                writer.writerow([str(s.path), c.name, s.seed, s.status, int(s.censored),
                                 s.n_epochs, s.n_solved, s.n_q_solved, s.n_qm_solved,
                                 *(repr(float(col[i])) for col in columns)])
    return path


def write_text(out_dir: Path, name: str, text: str) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / name
    path.write_text(text.rstrip() + "\n", encoding="utf-8")
    return path
