"""Broadness against modularity: are modular networks flatter optima?

    python analysis/broadness.py runs/logic/ [runs/... ] -o report/ [--by KEY] [--draws 300]

For each run, the last solving network (the last solving best of the last solved goal epoch; runs
that never solved are left out and counted) is measured twice: its broadness (evolved networks:
the fraction of all single mutations that keep performance, exact, and of 2 random mutations;
trained networks: the share of flat directions of the output Jacobian, (P - rank) / P, and the
loss's largest Hessian eigenvalue) and its exact max Q. Conditions come from the recorded configs
(the keys that differ, or ``--by``). Writes ``broadness.md``, ``runs.csv`` and a scatter figure:
per condition mean ± sd with a bootstrap 95% CI, Mann-Whitney U and Cliff's delta between
conditions, and Spearman's rank correlation of broadness with Q over all runs and within each
condition.
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np
from scipy import stats

from evosim import config as cfg
from evosim.analysis.networks import run_network, stored_network, task_of
from evosim.analysis.report import (fmt, fmt_ci, fmt_mean_sd, markdown_table, script_conditions,
                                    write_text)
from evosim.analysis.stats import bootstrap_ci, cliffs_delta, mann_whitney

EVOLVED = ("single", "double")  # fractions of 1 and 2 mutations that keep performance
TRAINED = ("flat_share", "hessian_top")


def run_broadness(h, draws: int, seed: int) -> dict[str, float] | None:
    """The broadness measures and Q of a run's last solving network (None: never solved)."""
    if not h["solved"].any():
        return None
    chosen = stored_network(h, None)
    task, _ = task_of(h)
    goal = int(h["goal"][int(np.searchsorted(h["generation"], chosen.generation))])
    q = run_network(h, chosen.genome).q
    if h.trained_weights:
        from evosim.gradient.broadness import network_broadness

        b = network_broadness(cfg.loads(h.config_toml), task, chosen.genome,
                              h.goal_targets[goal], 20, np.random.default_rng(seed))
        s = b.spectrum
        return {"q": q, "flat_share": s.null_dimension / s.n_parameters,
                "hessian_top": float(b.hessian_top[0])}
    from evosim.broadness import mutational_robustness

    r = mutational_robustness(task, chosen.genome, task.pack(h.goal_targets[goal])[0], 2, draws,
                              np.random.default_rng(seed))
    return {"q": q, "single": float(r.kept[0]), "double": float(r.kept[1])}


def main(argv: list[str] | None = None) -> Path:
    parser, args, conditions = script_conditions(__doc__, argv, lambda p: p.add_argument(
        "--draws", type=int, default=300, help="random 2-mutants per network"))
    rows, never = [], {}
    for c in conditions:
        never[c.name] = 0
        for h in c.histories:
            values = run_broadness(h, args.draws, args.seed)
            if values is None:
                never[c.name] += 1
            else:
                rows.append({"condition": c.name, "path": str(h.path),
                             "seed": int(h.attrs.get("seed", -1)), **values})
    if not rows:
        parser.exit(2, "error: no run solved its goal: no solving network to measure\n")
    measures = [m for m in (*EVOLVED, *TRAINED) if any(m in r for r in rows)]
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "runs.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, ["condition", "path", "seed", "q", *measures], restval="")
        writer.writeheader()
        writer.writerows(rows)

    def values(name, measure):
        return np.array([r[measure] for r in rows if r["condition"] == name and measure in r])

    names = [c.name for c in conditions]
    per_condition = markdown_table(
        ["condition", "runs measured", "never solved", "Q", *measures],
        [[n, len(values(n, "q")), never[n], fmt_mean_sd(values(n, "q")),
          *(f"{fmt_mean_sd(values(n, m))} {fmt_ci(bootstrap_ci(values(n, m), args.bootstrap, seed=args.seed))}"
            for m in measures)] for n in names])
    pairs = markdown_table(
        ["measure", "A", "B", "p (Mann-Whitney)", "Cliff's delta"],
        [[m, a, b, fmt(mann_whitney(values(a, m), values(b, m))),
          fmt(cliffs_delta(values(a, m), values(b, m)))]
         for m in ("q", *measures) for i, a in enumerate(names) for b in names[i + 1:]])
    correlations = []
    for m in measures:
        for scope in ("all runs", *names):
            chosen = [r for r in rows if m in r and (scope == "all runs" or r["condition"] == scope)]
            if len(chosen) >= 3:
                rho, p = stats.spearmanr([r["q"] for r in chosen], [r[m] for r in chosen])
                correlations.append([m, scope, len(chosen), fmt(float(rho)), fmt(float(p))])
    figure = _scatter(rows, names, measures, out / "broadness_vs_q.png")
    text = f"""# Broadness of optima and modularity

Each run's last solving network: its broadness and its exact max Q. Runs that never solved are
left out (column "never solved"). Values: mean ± sd [bootstrap 95% CI] over runs.
`single`: the fraction of all single mutations that keep performance (exact); `double`: of
{args.draws} random pairs of mutations; `flat_share`: (P - rank) / P of the output Jacobian on the
training data; `hessian_top`: the loss's largest Hessian eigenvalue (larger = sharper).

{per_condition}

## Between conditions

{pairs}

## Broadness and Q (Spearman's rank correlation)

{markdown_table(["measure", "runs", "n", "rho", "p"], correlations)}

![{figure.name}]({figure.name})

Per-run values: `runs.csv`.
"""
    path = write_text(out, "broadness.md", text)
    print(f"wrote {path}")
    return path


def _scatter(rows, names, measures, path: Path) -> Path:
    from evosim.analysis.plots import save_figure  # chooses the Agg backend first

    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(measures), figsize=(4 * len(measures), 3.4), squeeze=False)
    for ax, m in zip(axes[0], measures):
        for name in names:
            chosen = [r for r in rows if r["condition"] == name and m in r]
            ax.scatter([r["q"] for r in chosen], [r[m] for r in chosen], s=14, label=name)
        ax.set(xlabel="max Q of the solving network", ylabel=m)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path)


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
