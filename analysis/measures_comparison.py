"""Do the modularity measures agree?  Q, Qm, spectral n-cut (and activation change) on the same
networks.

    python analysis/measures_comparison.py runs/mvg/ [runs/fg/ ...] -o report/ [--snapshots 5]

For the last ``--snapshots`` snapshot networks of every run in the folders (0: all of them):

* Q: exact maximum Newman (directed Leicht-Newman where the run's Q is) modularity of the functional
  network, recomputed from the genome (gradient runs: of the trained weights' |w| graph, as
  recorded);
* Qm: normalised Q against degree-preserving random networks (``evosim.modularity.qm``);
* n-cut and its shuffle p-value: spectral clusterability (Filan et al. 2021,
  ``evosim.modularity.ncut``) of ``|weights|`` (retina and MLP weights; circuits' 0/1 wires, for
  which every shuffle is the same graph and p = 1);
* activation change: the run's ``/history/activation_change`` at that generation, when the file has
  that column (gradient runs).

Writes ``measures_comparison.md`` (Spearman correlation table), ``measures.csv`` (one row per
network) and ``scatter_matrix.png``.
"""
from __future__ import annotations

import argparse
import csv
import math
import warnings
from pathlib import Path

import numpy as np
from scipy import stats

from evosim.analysis.networks import run_network
from evosim.analysis.plots import scatter_matrix
from evosim.analysis.report import fmt, load_conditions, markdown_table, write_text
from evosim.io import History
from evosim.modularity import qm
from evosim.modularity.ncut import ncut

MEASURES = ("Q", "Qm", "ncut", "activation_change")


def network_rows(h: History, condition: str, snapshots: int, qm_samples: int, shuffles: int,
                 k: int, seed: int) -> list[dict]:
    """One dict per snapshot network of the run: where it is from and its measures."""
    order = np.argsort(h.snapshot_generation, kind="stable")
    chosen = order[-snapshots:] if snapshots > 0 else order
    change = h.columns.get("activation_change")
    rows = []
    for i in chosen:
        gen = int(h.snapshot_generation[i])
        net = run_network(h, h.snapshot_genome[i])
        try:
            cut = ncut(net.weights, k=k, n_shuffles=shuffles, rng=seed)
            n_cut, p_cut = cut.ncut, cut.p_value
        except ValueError:  # fewer than k connected nodes: no clustering
            n_cut, p_cut = math.nan, math.nan
        row_of_gen = np.flatnonzero(h["generation"] == gen)
        rows.append({
            "condition": condition, "run": h.path.name, "generation": gen,
            "nodes": int(net.nodes.size), "edges": net.graph.number_of_edges(),
            "Q": net.q, "Qm": qm(net.adjacency, net.directed, q=net.q, n_samples=qm_samples,
                                 rng=seed).qm,
            "ncut": n_cut, "ncut_p": p_cut,
            "activation_change": float(change[row_of_gen[0]])
            if change is not None and row_of_gen.size else math.nan})
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
    parser.add_argument("folders", nargs="+", type=Path, help="folders of run files")
    parser.add_argument("-o", "--out", type=Path, default=Path("report"), help="output folder")
    parser.add_argument("--snapshots", type=int, default=1,
                        help="last snapshots per run to measure (0: all)")
    parser.add_argument("--qm-samples", type=int, default=20, help="random networks for Qm")
    parser.add_argument("--shuffles", type=int, default=50, help="weight shuffles for n-cut's p")
    parser.add_argument("--k", type=int, default=2, help="clusters for n-cut")
    parser.add_argument("--seed", type=int, default=0, help="seed of Qm's and n-cut's nulls")
    args = parser.parse_args(argv)

    rows = [row for c in load_conditions(args.folders) for h in c.histories
            for row in network_rows(h, c.name, args.snapshots, args.qm_samples, args.shuffles,
                                    args.k, args.seed)]
    measures = [m for m in MEASURES if any(math.isfinite(r[m]) for r in rows)]
    args.out.mkdir(parents=True, exist_ok=True)
    write_csv(rows, args.out / "measures.csv")
    figure = scatter_matrix({m: [r[m] for r in rows] for m in measures},
                            args.out / "scatter_matrix.png").name
    which = f"the last {args.snapshots} snapshot(s)" if args.snapshots > 0 else "every snapshot"
    text = f"""# Modularity measures compared

{len(rows)} networks: {which} of each run in
{", ".join(f"`{f}`" for f in args.folders)}.  Q: exact max modularity of the functional network;
Qm: normalised against {args.qm_samples} degree-preserving random networks (seed {args.seed});
n-cut: spectral clustering into k = {args.k} clusters of |weights| (Filan et al. 2021), p-value over
{args.shuffles} weight shuffles (0/1 circuits: p = 1 by construction); activation change where the
run files record it.  Measures with no finite value are left out.

## Spearman rank correlations (rho, two-sided p, pairs)

{spearman_table(rows, measures)}

Per network: `measures.csv`.

![{figure}]({figure})
"""
    path = write_text(args.out, "measures_comparison.md", text)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
