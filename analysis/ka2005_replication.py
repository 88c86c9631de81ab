"""Replication report for Kashtan & Alon (2005): fixed (FG) vs modularly varying (MVG, RMVG) goals.

    python analysis/ka2005_replication.py runs/fg/ runs/mvg/ runs/rmvg/ -o report/

Each folder of run files is a condition named after the folder; its role (FG, MVG, RMVG) comes from
the schedule kind stored in the files.  Writes ``ka2005_replication.md`` and PNG figures into the
output folder: per-condition table beside the paper's values, Mann-Whitney tests, the Kashtan,
Noor & Alon (2007) speedup, Q/Qm trajectories and final distributions.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from evosim.analysis import bootstrap_ci, mann_whitney, speedup, trajectories
from evosim.analysis.plots import plot_distributions, plot_trajectories
from evosim.analysis.report import (Condition, add_report_arguments, fmt, fmt_mean_sd,
                                    load_conditions, markdown_table, write_text)
from evosim.analysis.runs import censored_times

ROLES = {"fixed": "FG", "mvg": "MVG", "rmvg": "RMVG"}
# (task, schedule) -> (Qm, time to a perfect solution after a switch) as reported
PAPER = {
    ("logic-gates", "fixed"): ("0.12 ± 0.02", "—"),
    ("logic-gates", "mvg"): ("0.54 ± 0.02", "≈ 5 generations (secondary quotes)"),
    ("retina", "fixed"): ("0.15 ± 0.02", "—"),
    ("retina", "mvg"): ("≈ 0.35 (secondary)", "—"),
}
COMPARISONS = [("MVG", "FG"), ("RMVG", "FG"), ("RMVG", "MVG")]


def condition_table(conditions: list[Condition], n_boot: int, seed: int) -> str:
    rows = []
    for c in conditions:
        t, censored = censored_times(c.summaries)
        solved = [s.t_solve is not None for s in c.summaries]
        task = c.summaries[0].task if c.summaries else "?"
        paper_qm, paper_resolve = PAPER.get((task, c.schedule), ("—", "—"))
        q_ci = bootstrap_ci(c.values("q_last"), n_boot, seed=seed)
        qm_ci = bootstrap_ci(c.values("qm_last"), n_boot, seed=seed)
        rows.append([c.name, c.schedule, task, len(c.summaries), f"{np.mean(solved):.0%}",
                     fmt(float(np.median(t)), 1) if t.size else None, censored,
                     fmt_mean_sd(c.values("q_last")), f"[{fmt(q_ci[0])}, {fmt(q_ci[1])}]",
                     fmt_mean_sd(c.values("qm_last")), f"[{fmt(qm_ci[0])}, {fmt(qm_ci[1])}]",
                     paper_qm, fmt_mean_sd(c.values("epochs_solved")),
                     fmt_mean_sd(c.values("median_resolve"), 1), paper_resolve])
    return markdown_table(
        ["condition", "schedule", "task", "runs", "solved", "median T", "unsolved (censored)",
         "Q mean ± sd", "Q 95% CI", "Qm mean ± sd", "Qm 95% CI", "paper Qm", "epochs solved",
         "re-solve time (gen.)", "paper re-solve"], rows)


def by_role(conditions: list[Condition]) -> dict[str, Condition]:
    roles: dict[str, Condition] = {}
    for c in conditions:
        roles.setdefault(ROLES.get(c.schedule, c.schedule), c)
    return roles


def tests_and_speedups(roles: dict[str, Condition]) -> tuple[str, str]:
    tests, speedups = [], []
    for a, b in COMPARISONS:
        if a not in roles or b not in roles:
            continue
        ca, cb = roles[a], roles[b]
        tests.append([f"{a} ({ca.name}) vs {b} ({cb.name})",
                      mann_whitney(ca.values("q_last"), cb.values("q_last")),
                      mann_whitney(ca.values("qm_last"), cb.values("qm_last"))])
        if b == "FG":
            s = speedup(cb.summaries, ca.summaries)
            speedups.append([f"{a} over FG", fmt(s.median_fixed, 1), fmt(s.median_varying, 1),
                             s.censored_fixed, s.censored_varying, fmt(s.s, 2)])
    test_md = markdown_table(["comparison", "p (Q)", "p (Qm)"], tests) if tests else \
        "(needs at least two of FG, MVG, RMVG)"
    speed_md = markdown_table(["speedup", "median T FG", "median T varying", "FG censored",
                               "varying censored", "S"], speedups) if speedups else \
        "(needs FG and MVG or RMVG runs)"
    return test_md, speed_md


def figures(conditions: list[Condition], out: Path) -> list[str]:
    names = []
    for column, label in (("q_best", "Q"), ("qm_best", "Qm")):
        groups = {c.name: trajectories(c.histories, column) for c in conditions}
        names.append(plot_trajectories(groups, out / f"{label.lower()}_trajectories.png",
                                       ylabel=f"{label} of the best (mean ± sd over runs)").name)
    dists = {f"final {m}": {c.name: c.values(a) for c in conditions}
             for m, a in (("Q", "q_last"), ("Qm", "qm_last"))}
    names.append(plot_distributions(dists, out / "final_distributions.png").name)
    return names


def report(conditions: list[Condition], out: Path, last: int, n_boot: int, seed: int) -> Path:
    test_md, speed_md = tests_and_speedups(by_role(conditions))
    pictures = "\n\n".join(f"![{n}]({n})" for n in figures(conditions, out))
    text = f"""# Kashtan & Alon (2005) replication

Conditions (folder = condition; schedule from the run files):
{", ".join(f"`{c.folder}` ({c.schedule}, {len(c.summaries)} runs)" for c in conditions)}.

Q and Qm are the best individual's, averaged per run over the last {last} generations (Qm only
where computed), then over runs (mean ± sample sd; 95% CI: percentile bootstrap of the mean,
{n_boot} resamples, seed {seed}).  T is the first generation whose best individual solves the goal
in force; *solved* is the fraction of runs with a T.  Epochs solved: fraction of goal epochs in
which the goal was solved; re-solve time: median over switches of the generations from a switch to
the first solution of the new goal (per run, then mean ± sd over runs).

## Conditions

{condition_table(conditions, n_boot, seed)}

Paper values: Kashtan & Alon 2005 (PNAS 102:13773), logic circuits: fixed goal Qm = 0.12 ± 0.02,
MVG Qm = 0.54 ± 0.02, after a switch a perfect solution within about 5 generations (secondary
quotes); retina: fixed goal Qm = 0.15 ± 0.02, MVG Qm about 0.35 (secondary).  RMVG is not in that
paper.

## Mann-Whitney U tests (two-sided, per-run final Q and Qm)

{test_md}

## Speedup (Kashtan, Noor & Alon 2007)

S = median T(FG) / median T(varying).  Runs that never solved are censored at their run length
(T = last generation), so every run counts in the median: censored FG runs make S a lower bound,
censored varying-goal runs an upper bound; if over half of a condition is censored its median is
the run length itself.

{speed_md}

## Figures

{pictures}
"""
    return write_text(out, "ka2005_replication.md", text)


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path, help="one folder of run files per "
                                                              "condition (FG, MVG, RMVG)")
    add_report_arguments(parser)
    args = parser.parse_args(argv)
    path = report(load_conditions(args.folders, args.last), args.out, args.last, args.bootstrap,
                  args.seed)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
