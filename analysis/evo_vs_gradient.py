"""Evolved vs gradient-trained networks: does the way a network is made change its modularity?

    python analysis/evo_vs_gradient.py runs/evo/ runs/grad/ -o report/ [--by KEY]

Run files or folders of them (the same schema; for gradient runs a "generation" is a training
epoch and a goal epoch a training period).  Conditions come from the recorded configs: by
``run.mode`` when the runs mix evolved and trained networks (``--by run.mode --by schedule.kind``
to split them by schedule too), else by the keys that differ (or ``--by``).  Measures are per
run from ``/epochs``: the Q, Qm and z of each period's last solving network, Q at the period
ends (solved or not), the solved rate, the first solution, the solving networks' nodes (a
circuit's inputs and gates) and connections.  The report says whether it compares one graph
type (evolved networks and networks trained as the same genomes: ``gradient.model``
nand-circuit or retina-network) or two (evolved networks and MLP weight graphs).  Time is
normalised to 0..1 of each run so runs of different lengths line up.  Writes
``evo_vs_gradient.md``, ``runs.csv`` and PNG figures.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from evosim.analysis import MEASURES, epoch_series, group_runs, load_sources
from evosim.analysis.compare import distribution_figure, grouping_text
from evosim.analysis.plots import plot_trajectories
from evosim.analysis.report import (DEFINITIONS, AnalysisError, add_report_arguments,
                                    conditions_table, emit_warnings, measure_table,
                                    pairwise_table, warnings_section, write_runs_csv,
                                    write_text)
from evosim.io import RunFileError

SHOWN = [MEASURES[m] for m in ("q_solved", "qm_solved", "z_solved", "q_end", "solved_rate_all",
                               "t_solve", "n_nodes_solved", "n_edges_solved")]


def load(parser, sources, by, last) -> tuple[list, list[str], str, list]:
    """(conditions, the keys grouped by, why those, the runs): by run.mode if the runs mix
    evolved and trained networks and no --by is given (``--by run.mode --by schedule.kind``
    splits them by schedule too), else as ``evosim compare`` forms them."""
    try:
        histories = load_sources(sources)
        modes = {str(h.attrs.get("mode", "evolution")) for h in histories}
        if not by and len(modes) > 1:
            by, why = ["run.mode"], "that tell evolved from trained networks"
        else:
            why = "asked for (--by)"
        return group_runs(histories, by, last), by, why, histories
    except (AnalysisError, RunFileError) as err:
        parser.exit(2, f"error: {err}\n")


def graph_types(histories) -> str:
    """Which graphs the report compares: one substrate (circuits, evolved and trained) or two."""
    if not any(h.trained_weights for h in histories):
        return ("**One graph type.** Every network here is a 0/1 functional graph of the task's "
                "genome (evolved, or a gradient-trained genome model's discretised network:\n"
                "`gradient.model` nand-circuit or retina-network), so Q, Qm and z (against "
                "degree-preserving\nrewirings) are on one scale across the conditions.")
    return """**Different graph types.** Q and Qm of an evolved network are of its 0/1 functional graph
(Qm against degree-preserving rewirings); those of a trained MLP are of its dense |w| weight graph
(Qm against weights permuted within each layer pair, Q by annealing).  The numbers are not on one
scale: compare how each responds to its conditions (fixed vs varying goals, costs) rather than
evolved levels with trained ones, and prefer one substrate on both sides (circuits or retinas
trained as their genomes: `gradient.model` nand-circuit or retina-network)."""


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path,
                        help="run files or folders of them (evolved and gradient-trained)")
    add_report_arguments(parser)
    args = parser.parse_args(argv)
    conditions, by, why, histories = load(parser, args.runs, args.by, args.last_epochs)
    notes = emit_warnings(conditions, sys.stderr)
    out = args.out

    figures = []
    for column, label in (("q_solved", "Q of solving networks"), ("q_end", "Q at period end")):
        groups = {c.name: epoch_series(c.histories, column, normalise=True) for c in conditions}
        figures.append(plot_trajectories(groups, out / f"{column}_vs_time.png",
                                         xlabel="fraction of the run", ylabel=label).name)
    figures.append(distribution_figure(conditions, SHOWN, out / "distributions.png",
                                       args.bootstrap, args.seed).name)
    write_runs_csv(conditions, SHOWN, out / "runs.csv")
    tables = "\n\n".join(f"### `{m.name}`: {m.description}\n\n"
                         f"{measure_table(conditions, m, args.bootstrap, args.seed)}"
                         for m in SHOWN)
    pictures = "\n\n".join(f"![{n}]({n})" for n in figures)
    text = f"""# Evolved vs gradient-trained networks

{grouping_text(conditions, by, why)}

{warnings_section(notes)}

{graph_types(histories)}

{conditions_table(conditions)}

## Measures (per run, then across the runs of a condition)

{tables}

## Pairwise tests

{pairwise_table(conditions, SHOWN)}

## Figures

Trajectories against the fraction of each run (0 = start, 1 = end): per run, the values of the
goal epochs (periods) ending in each of 100 stretches, averaged; then mean ± sd over runs.

{pictures}

Per-run values: `runs.csv`.

## Definitions

{DEFINITIONS}  For gradient runs a generation is a training epoch, "solved" is a training
accuracy of 1 (for a trained genome model, `gradient.model` nand-circuit or retina-network:
its discretised network's performance), and epoch 0 (the untrained network) belongs to the
first period.  Bootstrap:
{args.bootstrap} resamples, seed {args.seed}.
"""
    path = write_text(out, "evo_vs_gradient.md", text)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
