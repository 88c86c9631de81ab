"""Do the modularity measures agree?  Q, Qm, z, spectral n-cut (and activation change) on the same
networks: the goal epochs' solving networks.

    python analysis/measures_comparison.py runs/mvg/ [more runs or folders] -o report/ \
        [--networks 5] [--include-unsolved]

For the last ``--networks`` solved full goal epochs of every run (0: all of them), the epoch's last
solving network (``/epochs`` and its genome):

* Q: max Newman modularity (directed Leicht-Newman where the run's Q is) of the functional network,
  recomputed from the genome (gradient runs: of the trained weights' |w| graph, as recorded);
* Qm and z: against the run's null model (``evosim.modularity.qm``): degree-preserving rewirings
  for evolved 0/1 graphs, weights permuted within each layer pair for trained MLPs;
* n-cut and its shuffle p-value: spectral clusterability (Filan et al. 2021,
  ``evosim.modularity.ncut``) of ``|weights|`` (retina and MLP weights; circuits' 0/1 wires, for
  which every shuffle is the same graph and p = 1);
* activation change: the run's ``/history/activation_change`` at that generation, where the file
  records it there (gradient runs);
* one_sided and q_dependency: the node-derivative measures (``evosim.dependence``): the fraction of
  units that depend on one input half only, and max Q of the unit-input dependency graph.

``--include-unsolved`` adds, for runs' unsolved epochs, the best at the epoch's end (marked in the
CSV; the correlations are then over both).  Writes ``measures_comparison.md`` (Spearman
correlations, pooled and within each condition), ``measures.csv`` (one row per network) and
``scatter_matrix.png`` (coloured by condition).
"""
from __future__ import annotations

import argparse
import csv
import math
import sys
import warnings
from pathlib import Path

import h5py
import numpy as np
from scipy import stats

from evosim.analysis.networks import run_network, unit_dependence
from evosim.analysis.plots import scatter_matrix
from evosim.analysis.report import (conditions_for_script, emit_warnings, fmt, markdown_table,
                                    warnings_section, write_text)
from evosim.analysis.runs import full_epochs
from evosim.io import History
from evosim.modularity import DegreePreserving, LayerPermutation, NullModel, qm
from evosim.modularity.ncut import ncut

MEASURES = ("Q", "Qm", "z", "ncut", "activation_change", "one_sided", "q_dependency")


def null_model(h: History) -> NullModel:
    """The null the run's own Qm uses: layer weight permutation for gradient runs (layer sizes
    from ``/gradient/layer_sizes``), degree-preserving rewiring otherwise."""
    if not h.trained_weights:
        return DegreePreserving()
    with h5py.File(h.path, "r", libver="latest", swmr=True) as f:
        return LayerPermutation(tuple(int(n) for n in f["gradient/layer_sizes"][()]))


def chosen_epochs(h: History, networks: int, include_unsolved: bool) -> np.ndarray:
    """Indices into ``h.epochs`` of the full epochs to measure: the last ``networks`` solved
    ones (all if 0), or with ``include_unsolved`` the last ``networks`` full epochs."""
    f = full_epochs(h)
    pick = f["epoch"] if include_unsolved else f["epoch"][f["solved"]]
    pick = pick[-networks:] if networks > 0 else pick
    return np.searchsorted(h.epochs["epoch"], pick)


def network_rows(h: History, condition: str, networks: int, include_unsolved: bool,
                 qm_samples: int, shuffles: int, k: int, seed: int) -> list[dict]:
    """One dict per measured network of the run: where it is from and its measures."""
    e = h.epochs
    change = h.columns.get("activation_change")
    null = null_model(h)
    rows = []
    for i in chosen_epochs(h, networks, include_unsolved):
        solved = bool(e["solved"][i])
        gen = int(e["solved_at"][i] if solved else e["start"][i] + e["length"][i] - 1)
        net = run_network(h, h.epoch_genome[i])
        try:
            cut = ncut(net.weights, k=k, n_shuffles=shuffles, rng=seed)
            n_cut, p_cut = cut.ncut, cut.p_value
        except ValueError:  # fewer than k connected nodes: no clustering
            n_cut, p_cut = math.nan, math.nan
        if net.graph.number_of_edges():
            r = qm(net.adjacency, net.directed, null=null, q=net.q, n_samples=qm_samples,
                   rng=seed)
            q, q_m, z = r.q, r.qm, r.z
        else:  # no wires: no null family to compare with
            q, q_m, z = net.q, math.nan, math.nan
        dependence = unit_dependence(h, h.epoch_genome[i])
        row_of_gen = np.flatnonzero(h["generation"] == gen)
        rows.append({
            "condition": condition, "run": h.path.name, "epoch": int(e["epoch"][i]),
            "generation": gen, "solved": int(solved), "null_model": null.name,
            "nodes": int(net.nodes.size), "edges": net.graph.number_of_edges(),
            "Q": q, "Qm": q_m, "z": z, "ncut": n_cut, "ncut_p": p_cut,
            "activation_change": float(change[row_of_gen[0]])
            if change is not None and row_of_gen.size else math.nan,
            "one_sided": dependence.one_sided, "q_dependency": dependence.q_dependency})
    return rows


def spearman_table(rows: list[dict], measures: list[str]) -> str:
    """rho (p, n) for every pair of measures, NaNs dropped pairwise."""
    cells = []
    for a in measures:
        line = [a]
        for b in measures:
            x = np.array([r[a] for r in rows], float)
            y = np.array([r[b] for r in rows], float)
            ok = np.isfinite(x) & np.isfinite(y)
            if a == b:
                line.append("1")
                continue
            with warnings.catch_warnings():  # a constant column gives NaN, which is the answer
                warnings.simplefilter("ignore")
                rho, p = stats.spearmanr(x[ok], y[ok]) if ok.sum() >= 3 else (math.nan, math.nan)
            line.append(f"{fmt(float(rho), 2)} (p={fmt(float(p), 2)}, n={int(ok.sum())})")
        cells.append(line)
    return markdown_table(["", *measures], cells)


def write_csv(rows: list[dict], path: Path) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run files or folders of them")
    parser.add_argument("-o", "--out", type=Path, default=Path("report"), help="output folder")
    parser.add_argument("--by", action="append", default=[], metavar="KEY",
                        help="group runs by this config key (default: the keys that differ)")
    parser.add_argument("--networks", type=int, default=3,
                        help="last solved epochs per run whose solving networks are measured "
                             "(0: all)")
    parser.add_argument("--include-unsolved", action="store_true",
                        help="also measure the best at the end of unsolved epochs")
    parser.add_argument("--qm-samples", type=int, default=20, help="null networks for Qm and z")
    parser.add_argument("--shuffles", type=int, default=50, help="weight shuffles for n-cut's p")
    parser.add_argument("--k", type=int, default=2, help="clusters for n-cut")
    parser.add_argument("--seed", type=int, default=0, help="seed of Qm's and n-cut's nulls")
    args = parser.parse_args(argv)

    conditions = conditions_for_script(parser, args.runs, args.by)
    notes = emit_warnings(conditions, sys.stderr)
    rows, without = [], []
    for c in conditions:
        for h in c.histories:
            measured = network_rows(h, c.name, args.networks, args.include_unsolved,
                                    args.qm_samples, args.shuffles, args.k, args.seed)
            rows += measured
            without += [] if measured else [h.path.name]
    if not rows:
        parser.exit(2, "error: no run has a solved goal epoch to measure (try "
                       "--include-unsolved)\n")
    measures = [m for m in MEASURES if any(math.isfinite(r[m]) for r in rows)]
    args.out.mkdir(parents=True, exist_ok=True)
    write_csv(rows, args.out / "measures.csv")
    figure = scatter_matrix({m: [r[m] for r in rows] for m in measures},
                            args.out / "scatter_matrix.png",
                            groups=[r["condition"] for r in rows]).name
    per_condition = "\n\n".join(
        f"### `{c.name}`\n\n{spearman_table([r for r in rows if r['condition'] == c.name], measures)}"
        for c in conditions) if len(conditions) > 1 else ""
    which = (f"the last {args.networks}" if args.networks > 0 else "all the") + \
        (" full goal epochs" if args.include_unsolved else " solved full goal epochs")
    nulls = sorted({r["null_model"] for r in rows})
    solved = sum(r["solved"] for r in rows)
    names = "; ".join(f"`{c.name}`" for c in conditions)
    text = f"""# Modularity measures compared

{len(rows)} networks ({solved} solving networks, {len(rows) - solved} bests of unsolved epochs)
from {which} of each run, in {len(conditions)} conditions: {names}.
{f"Runs with nothing to measure (no solved epoch): {', '.join(without)}." if without else ""}

{warnings_section(notes)}

Q: max modularity of the network (the run's recorded method); Qm = (Q - Q_rand) / (Q_max - Q_rand)
and z = (Q - Q_rand) / sd(Q_rand) against {args.qm_samples} null networks (seed {args.seed}) of the
run's null model ({", ".join(f"`{n}`" for n in nulls)}); n-cut: spectral clustering into
k = {args.k} clusters of |weights| (Filan et al. 2021), p-value over {args.shuffles} weight shuffles
(0/1 circuits: p = 1 by construction); activation change where the run files record it at the
network's generation.  Measures with no finite value are left out.

**Different graph types.** Evolved networks are 0/1 functional graphs (null: degree-preserving
rewiring); trained MLPs are dense |w| weight graphs (null: weights permuted within each layer
pair).  Correlations pooled over both mix graph types; read them per condition (`measures.csv`).

## Spearman rank correlations (rho, two-sided p, pairs)

{spearman_table(rows, measures)}

{"Within each condition (one graph type and one setting each):" if per_condition else ""}

{per_condition}

Per network: `measures.csv`. The scatter matrix colours each condition.

![{figure}]({figure})
"""
    path = write_text(args.out, "measures_comparison.md", text)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
