"""Evolved vs gradient-trained networks: does the way a network is made change its modularity?

    python analysis/evo_vs_gradient.py runs/evo/ runs/grad/ -o report/

Two folders of run files (the same schema; for gradient runs a "generation" is an epoch).  The
script does not look at the files' ``mode``: the folders are the conditions.  Time is normalised to
0..1 of each run so runs of different lengths line up.  Writes ``evo_vs_gradient.md`` and PNG
figures: Q and Qm trajectories (mean ± sd), final distributions side by side, Mann-Whitney p-values.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from evosim.analysis import bootstrap_ci, mann_whitney, trajectories
from evosim.analysis.plots import plot_distributions, plot_trajectories
from evosim.analysis.report import (add_report_arguments, fmt, fmt_mean_sd, load_conditions,
                                    markdown_table, write_text)

MEASURES = (("Q", "q_last", "q_best"), ("Qm", "qm_last", "qm_best"),
            ("fitness", "fitness_last", "fitness_best"))


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("evolved", type=Path, help="folder of evolved runs")
    parser.add_argument("gradient", type=Path, help="folder of gradient-trained runs")
    add_report_arguments(parser)
    args = parser.parse_args(argv)

    a, b = load_conditions([args.evolved, args.gradient], args.last)
    figures = []
    for label, _, column in MEASURES[:2]:
        groups = {c.name: trajectories(c.histories, column, normalise=True) for c in (a, b)}
        figures.append(plot_trajectories(groups, args.out / f"{label.lower()}_vs_time.png",
                                         xlabel="fraction of the run", ylabel=label).name)
    dists = {f"final {label}": {c.name: c.values(attr) for c in (a, b)}
             for label, attr, _ in MEASURES}
    figures.append(plot_distributions(dists, args.out / "final_distributions.png").name)

    rows = []
    for label, attr, _ in MEASURES:
        cis = [bootstrap_ci(c.values(attr), args.bootstrap, seed=args.seed) for c in (a, b)]
        rows.append([label, fmt_mean_sd(a.values(attr)), f"[{fmt(cis[0][0])}, {fmt(cis[0][1])}]",
                     fmt_mean_sd(b.values(attr)), f"[{fmt(cis[1][0])}, {fmt(cis[1][1])}]",
                     mann_whitney(a.values(attr), b.values(attr))])
    table = markdown_table(["measure (last rows, per run)", f"{a.name} mean ± sd", "95% CI",
                            f"{b.name} mean ± sd", "95% CI", "Mann-Whitney p"], rows)
    pictures = "\n\n".join(f"![{n}]({n})" for n in figures)
    text = f"""# Evolved vs gradient-trained networks

`{a.folder}`: {len(a.summaries)} runs (modes: {', '.join(sorted({s.mode for s in a.summaries}))});
`{b.folder}`: {len(b.summaries)} runs (modes: {', '.join(sorted({s.mode for s in b.summaries}))}).

Per run, each measure is the mean over the last {args.last} rows (generations or epochs; Qm only
where computed); then mean ± sample sd over runs, a percentile-bootstrap 95% CI of the mean
({args.bootstrap} resamples, seed {args.seed}) and a two-sided Mann-Whitney U test between the two
folders.  Trajectories are plotted against the fraction of the run (0 = start, 1 = end).

{table}

{pictures}
"""
    path = write_text(args.out, "evo_vs_gradient.md", text)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
