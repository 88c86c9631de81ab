"""The comparison report behind ``evosim compare`` and ``analysis/compare.py``.

Runs are grouped into conditions by their recorded configs (:mod:`.conditions`); for every measure
asked for (:data:`evosim.analysis.runs.MEASURES`) the report has a table per condition, pairwise
Mann-Whitney tests with Cliff's delta, and the per-run distributions as a figure.  Writes
``compare.md``, ``runs.csv`` (every run's values) and ``distributions.png`` into one folder.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from evosim.analysis.conditions import Condition, format_value
from evosim.analysis.report import (DEFINITIONS, conditions_table, measure_table, pairwise_table,
                                    warnings_section, write_runs_csv, write_text)
from evosim.analysis.runs import Measure
from evosim.analysis.stats import bootstrap_ci

__all__ = ["grouping_text", "distribution_figure", "compare_report"]


def grouping_text(conditions: Sequence[Condition], by: Sequence[str] = (),
                  why: str = "asked for (--by)") -> str:
    """How the conditions were formed, in words (``why``: why the ``by`` keys were chosen)."""
    runs = sum(len(c) for c in conditions)
    keys = list(conditions[0].settings) if conditions else []
    if by:
        how = f"grouped by the keys {why}: {', '.join(f'`{k}`' for k in keys)}"
    elif keys:
        how = ("grouped by the config keys whose values differ between the runs: "
               f"{', '.join(f'`{k}`' for k in keys)}")
    else:
        how = "all with the same config (seeds and output settings aside)"
    text = (f"{runs} runs in {len(conditions)} condition{'s' * (len(conditions) != 1)}, {how}; "
            "conditions come from the configs recorded in the run files, not from folders.")
    if any(len(c.settings) > len(c.shown) for c in conditions):
        text += ("  Labels name the keys that tell the conditions apart; all their settings:\n\n"
                 + "\n".join(f"- `{c.name}`: " + ", ".join(
                     f"{k}={format_value(v)}" for k, v in c.settings.items())
                     for c in conditions))
    return text


def distribution_figure(conditions: Sequence[Condition], measures: Sequence[Measure],
                        path: Path, n_boot: int = 10_000, seed: int = 0) -> Path:
    """Per-run values of each measure by condition, with the bootstrap CI of the mean."""
    from evosim.analysis.plots import plot_distributions

    groups = {m.name: {c.name: c.measure(m) for c in conditions} for m in measures}
    cis = {m: {c: bootstrap_ci(v, n_boot, seed=seed) for c, v in by_c.items()}
           for m, by_c in groups.items()}
    censored = {m.name: {c.name: c.censored for c in conditions} for m in measures if m.censored}
    return plot_distributions(groups, path, seed=seed, cis=cis, censored=censored)


def compare_report(conditions: Sequence[Condition], measures: Sequence[Measure], out: Path,
                   notes: Sequence[str] = (), by: Sequence[str] = (), n_boot: int = 10_000,
                   seed: int = 0) -> Path:
    """Write the comparison into ``out``; returns the Markdown file's path."""
    figure = distribution_figure(conditions, measures, out / "distributions.png", n_boot, seed)
    write_runs_csv(conditions, measures, out / "runs.csv")
    sections = "\n\n".join(
        f"### `{m.name}`: {m.description}\n\n{measure_table(conditions, m, n_boot, seed)}"
        for m in measures)
    text = f"""# Comparison of conditions

{grouping_text(conditions, by)}

{warnings_section(notes)}

## Conditions

{conditions_table(conditions)}

## Measures (per run, then across the runs of a condition)

{sections}

## Pairwise tests

{pairwise_table(conditions, measures)}

## Distributions

![{figure.name}]({figure.name})

Per-run values: `runs.csv`.

## Definitions

{DEFINITIONS}  Bootstrap: {n_boot} resamples, seed {seed}.
"""
    return write_text(out, "compare.md", text)
