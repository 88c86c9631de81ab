"""Summarise folders of run files: one line per condition, one row per run with --runs.

    python analysis/summarise_runs.py runs/fg/ runs/mvg/ [--last 1000] [--runs]

Per condition (folder): runs, fraction that ever solved the first goal, median first-solve
generation, fraction of goal epochs (MVG) in which the best circuit solved the goal in force, and the
mean +- sd over runs of the mean Q of the best over the last `--last` generations, and of the last Qm.
Reads only the HDF5 files (evosim.io.load); the fuller analysis library comes with issue 7.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from evosim.io import load


def summarise(path: Path, last: int) -> dict:
    h = load(path)
    solved, goal = h["solved"], h["goal"]
    first = np.flatnonzero(solved)
    # an epoch is a run of generations under one goal; "solved" if the best solved it at some point
    starts = np.concatenate([[0], np.flatnonzero(np.diff(goal)) + 1])
    epoch_solved = np.logical_or.reduceat(solved, starts)
    qm = h["qm_best"][np.isfinite(h["qm_best"])]
    return {"file": path.name, "generations": int(h["generation"][-1]),
            "first_solve": int(h["generation"][first[0]]) if first.size else None,
            "epochs_solved": float(epoch_solved.mean()),
            "q_last": float(np.nanmean(h["q_best"][-last:])),
            "qm_last": float(qm[-1]) if qm.size else float("nan"),
            "status": h.attrs["status"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--last", type=int, default=1000, help="generations for the Q mean")
    parser.add_argument("--runs", action="store_true", help="also print one row per run")
    args = parser.parse_args()
    print(f"{'condition':<24} {'runs':>4} {'solved':>7} {'median T':>9} {'epochs ok':>9} "
          f"{'Q last (mean+-sd)':>18} {'Qm final (mean+-sd)':>20}")
    for folder in args.folders:
        rows = [summarise(p, args.last) for p in sorted(folder.glob("*.h5"))]
        if not rows:
            print(f"{str(folder):<24} no run files")
            continue
        t = [r["first_solve"] for r in rows if r["first_solve"] is not None]
        q = np.array([r["q_last"] for r in rows])
        qm = np.array([r["qm_last"] for r in rows])
        print(f"{str(folder):<24} {len(rows):>4} {len(t) / len(rows):>7.0%} "
              f"{np.median(t) if t else float('nan'):>9.0f} "
              f"{np.mean([r['epochs_solved'] for r in rows]):>9.0%} "
              f"{q.mean():>9.3f} +- {q.std(ddof=1) if len(q) > 1 else 0:.3f} "
              f"{np.nanmean(qm):>11.3f} +- {np.nanstd(qm, ddof=1) if len(qm) > 1 else 0:.3f}")
        if args.runs:
            for r in rows:
                print("    " + "  ".join(f"{k}={v}" for k, v in r.items()))


if __name__ == "__main__":
    main()
