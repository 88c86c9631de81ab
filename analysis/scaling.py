"""Modularity against network size (source document 000, experiment 6): does a larger network
come out more or less modular, once the measure is corrected for chance?

    python analysis/scaling.py runs/scaling/ -o report/ [--by KEY]

The arguments are run files or folders of them; conditions come from the recorded configs (the
keys that differ, e.g. a sweep's ``gradient.hidden`` or ``task.max_gates``, or ``--by``). Each run's
size is its parameter count: a trained network's weights and biases, an evolved genome's genes.
Per condition: the mean ± sd [bootstrap 95% CI] of the solving networks' Q, Qm and z (z needs no
Q_max and is the size-fair one: Q's expected level falls with size, Qm's Q_max is found harder on
larger graphs), and the methods the runs recorded for Q (exact, or a named heuristic above
``modularity.exact_limit``). Spearman's rank correlation of each measure with the parameter count
over the runs. Writes ``scaling.md``, ``runs.csv`` and ``modularity_vs_size.png``.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from scipy import stats

from evosim.analysis import MEASURES
from evosim.analysis.networks import task_of
from evosim.analysis.report import (fmt, fmt_ci, fmt_mean_sd, markdown_table, script_conditions,
                                    write_text)
from evosim.analysis.stats import bootstrap_ci

SHOWN = ("q_solved", "qm_solved", "z_solved")


def parameter_count(h) -> int:
    """A run's size: a trained network's weights and biases, or an evolved genome's genes."""
    if h.trained_weights:
        from evosim.gradient.trainer import parameter_count as count

        import h5py
        with h5py.File(h.path, "r") as f:
            return count([int(n) for n in f["gradient/layer_sizes"][()]])
    return int(task_of(h)[0].genome_length)


def main(argv: list[str] | None = None) -> Path:
    _, args, conditions = script_conditions(__doc__, argv)
    rows = []
    for c in conditions:
        values = {m: c.measure(MEASURES[m]) for m in SHOWN}
        for i, h in enumerate(c.histories):
            rows.append({"condition": c.name, "path": str(h.path),
                         "seed": int(h.attrs.get("seed", -1)), "parameters": parameter_count(h),
                         "q_method": str(h.attrs.get("q_method", "?")),
                         **{m: float(values[m][i]) for m in SHOWN}})
    rows.sort(key=lambda r: (r["parameters"], r["condition"], r["seed"]))
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "runs.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    names = list(dict.fromkeys(r["condition"] for r in rows))  # by size

    def of(name, key):
        return np.array([r[key] for r in rows if r["condition"] == name])

    table = markdown_table(
        ["condition", "parameters", "runs", "Q methods", *SHOWN],
        [[n, ", ".join(str(p) for p in sorted(set(of(n, "parameters")))), len(of(n, "seed")),
          ", ".join(sorted({m for r in of(n, "q_method") for m in r.split(",")})),
          *(f"{fmt_mean_sd(of(n, m))} {fmt_ci(bootstrap_ci(of(n, m), args.bootstrap, seed=args.seed))}"
            f" (n={int(np.isfinite(of(n, m)).sum())})" for m in SHOWN)] for n in names])
    correlations = []
    for m in SHOWN:
        x = np.array([r["parameters"] for r in rows], float)
        y = np.array([r[m] for r in rows])
        ok = np.isfinite(y)
        if ok.sum() >= 3 and np.unique(x[ok]).size > 1:
            rho, p = stats.spearmanr(x[ok], y[ok])
            correlations.append([m, int(ok.sum()), fmt(float(rho)), fmt(float(p))])
    figure = _figure(rows, names, out / "modularity_vs_size.png", args)
    text = f"""# Modularity against network size

{len(rows)} runs in {len(names)} conditions, ordered by parameter count. Values: the solving
networks' measures per run (`/epochs`), then mean ± sd [bootstrap 95% CI] over runs (runs without
a value left out). "Q methods": what the runs recorded for Q (`exact-bb`: exact; any other name:
a heuristic, used above `modularity.exact_limit` nodes, so Q there is a lower bound). z =
(Q - Q_rand) / sd(Q_rand) is the size-fair measure: it needs no Q_max, and Q_rand absorbs Q's
fall with size.

{table}

## Spearman's rank correlation with the parameter count

{markdown_table(["measure", "runs", "rho", "p"], correlations)}

![{figure.name}]({figure.name})

Per-run values: `runs.csv`.
"""
    path = write_text(out, "scaling.md", text)
    print(f"wrote {path}")
    return path


def _figure(rows, names, path: Path, args) -> Path:
    from evosim.analysis.plots import save_figure  # chooses the Agg backend first

    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(SHOWN), figsize=(4 * len(SHOWN), 3.2))
    for ax, m in zip(axes, SHOWN):
        for name in names:
            mine = [r for r in rows if r["condition"] == name]
            p = np.mean([r["parameters"] for r in mine])
            v = np.array([r[m] for r in mine])
            low, high = bootstrap_ci(v, args.bootstrap, seed=args.seed)
            if np.isfinite(low):
                mean = np.nanmean(v)
                ax.errorbar([p], [mean], yerr=[[mean - low], [high - mean]], fmt="o", capsize=3,
                            color="tab:blue")
        ax.set(xscale="log", xlabel="parameters", ylabel=m)
    fig.tight_layout()
    return save_figure(fig, path)


if __name__ == "__main__":
    main()
