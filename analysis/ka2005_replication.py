"""Replication report: Kashtan & Alon (2005) fixed vs modularly varying goals, Kashtan, Noor & Alon
(2007) speedups, Clune, Mouret & Lipson (2013) performance alone vs performance and connection cost.

    python analysis/ka2005_replication.py runs/ka-grid/ [runs/clune/ ...] -o report/ [--by KEY]

The arguments are run files or folders of them; conditions come from the configs recorded in the
files (the keys whose values differ between the runs, or ``--by``), never from folder names.  Each
condition is shown beside the paper that applies to it, chosen from its task and config: elitist
selection without a cost is Kashtan & Alon's setting (logic gates or retina, fixed goal or MVG);
NSGA-II on the retina is Clune et al.'s, with a connection cost P&CC, without it PA.  Every measure
is of the networks that solve the goal (each goal epoch's last solving best, from ``/epochs``).
Writes ``ka2005_replication.md``, ``runs.csv`` and PNG figures into the output folder.
"""
from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evosim.analysis import MEASURES, epoch_series, speedup, time_to_solve
from evosim.analysis.compare import distribution_figure, grouping_text
from evosim.analysis.conditions import UNSET, Condition
from evosim.analysis.plots import plot_trajectories
from evosim.analysis.report import (DEFINITIONS, emit_warnings, fmt, fmt_ci, fmt_mean_sd,
                                    markdown_table, pairwise_table, script_conditions,
                                    warnings_section, write_runs_csv, write_text)
from evosim.analysis.stats import bootstrap_ci, cliffs_delta, finite, mann_whitney

TESTED = [MEASURES[m] for m in ("q_solved", "qm_solved", "z_solved", "resolve_rate",
                                "median_resolve", "t_solve")]


@dataclass(frozen=True)
class Paper:
    """What a paper reports for one of its conditions (text, as reported; no invented numbers)."""

    source: str
    condition: str
    qm: str = "—"
    resolve: str = "—"
    finding: str = ""


KA = "Kashtan & Alon 2005"
KNA = "Kashtan, Noor & Alon 2007"
CLUNE = "Clune, Mouret & Lipson 2013"
CLUNE_FINDING = ("performance and connection cost produce significantly more modular networks "
                 "than performance alone")
PAPERS = {
    ("logic-gates", "fixed"): Paper(KA, "logic circuits, fixed goal", qm="0.12 ± 0.02"),
    ("logic-gates", "mvg"): Paper(KA, "logic circuits, MVG", qm="0.54 ± 0.02",
                                  resolve="perfect solution within about 5 generations of a "
                                          "switch (secondary quotes)"),
    **{("logic-gates", kind): Paper(KNA, f"logic circuits, {name}: G1 alternating with {what}",
                                    finding="a control of the MVG speedup")
       for kind, name, what in (("rvg-c", "RVG_c", "one random goal"),
                                ("rvg-v", "RVG_v", "a new random goal each time"),
                                ("vg0", "VG_0", "no selection"))},
    ("retina", "fixed"): Paper(KA, "retina, fixed goal", qm="0.15 ± 0.02"),
    ("retina", "mvg"): Paper(KA, "retina, MVG", qm="about 0.35 (secondary)"),
    ("retina", "pcc"): Paper(CLUNE, "retina, P&CC (NSGA-II, performance and connection cost)",
                             finding=CLUNE_FINDING),
    ("retina", "pa"): Paper(CLUNE, "retina, PA (NSGA-II, performance alone)",
                            finding=f"the baseline: {CLUNE_FINDING}"),
}


# the goals the papers used: a fixed goal, or the pair an MVG schedule alternates between
PAPER_GOALS = {"logic-gates": ("G1", ("G1", "G2")), "retina": ("and", ("and", "or"))}


def _papers_goals(c: Condition) -> bool:
    fixed, pair = PAPER_GOALS.get(c.get("task.name"), (None, None))
    kind = c.get("schedule.kind")
    if kind in ("fixed", "rvg-c", "rvg-v", "vg0"):
        return c.get("schedule.goal") == fixed
    return kind == "mvg" and sorted(c.get("schedule.goals") or ()) == sorted(pair or ())


def paper_for(c: Condition) -> Paper | None:
    """The paper condition this condition replicates, from its task and config: evolved (not
    gradient-trained), the paper's goals, and NSGA-II on the retina for Clune et al. (with a
    cost: P&CC; without: PA; fixed goal) or elitist selection without a cost for Kashtan & Alon.
    None where no paper applies."""
    task, scheme, cost = c.get("task.name"), c.get("selection.scheme"), c.get("cost.kind")
    if c.get("run.mode") != "evolution" or not _papers_goals(c):
        return None
    if scheme == "nsga2" and task == "retina" and c.get("schedule.kind") == "fixed":
        return PAPERS[(task, "pa" if cost == "none" else "pcc")]
    if scheme == "elitist" and cost == "none":
        return PAPERS.get((task, c.get("schedule.kind")))
    return None


def _cell(c: Condition, name: str, n_boot: int, seed: int, digits: int = 3) -> str:
    values = finite(c.measure(MEASURES[name]))
    ci = fmt_ci(bootstrap_ci(values, n_boot, seed=seed), digits)
    return f"{fmt_mean_sd(values, digits)} {ci} (n={values.size})"


def condition_tables(conditions: list[Condition], n_boot: int, seed: int) -> str:
    """Who is who, the modularity of solved networks, and re-solving, each beside the paper."""
    papers = [paper_for(c) for c in conditions]
    who = markdown_table(
        ["condition", "runs", "task", "schedule", "selection", "cost", "never solved",
         "median T (censored)", "paper"],
        [[c.name, len(c), c.get("task.name", "?"), c.schedule, c.get("selection.scheme", "?"),
          c.get("cost.kind", "?"), int(c.censored.sum()),
          fmt(float(np.median(c.measure(MEASURES["t_solve"]))), 1) if len(c) else None,
          f"{p.source}: {p.condition}" if p else "—"] for c, p in zip(conditions, papers)])
    modularity = markdown_table(
        ["condition", "Q of solved networks", "Qm of solved networks", "paper Qm",
         "z of solved networks", "paper finding"],
        [[c.name, _cell(c, "q_solved", n_boot, seed), _cell(c, "qm_solved", n_boot, seed),
          p.qm if p else "—", _cell(c, "z_solved", n_boot, seed), p.finding if p else ""]
         for c, p in zip(conditions, papers)])
    resolving = markdown_table(
        ["condition", "re-solve rate (after the first solution)", "solved rate (all epochs)",
         "median re-solve time (gen.)", "paper re-solve"],
        [[c.name, _cell(c, "resolve_rate", n_boot, seed),
          _cell(c, "solved_rate_all", n_boot, seed), _cell(c, "median_resolve", n_boot, seed, 1),
          p.resolve if p else "—"] for c, p in zip(conditions, papers)])
    return (f"### Conditions and the papers that apply\n\n{who}\n\n"
            f"### Modularity of the solving networks (mean ± sd [95% CI] (runs with a value))"
            f"\n\n{modularity}\n\n### Re-solving after a switch\n\n{resolving}")


def _differ_only_in(a: Condition, b: Condition, section: str) -> bool:
    keys = (set(a.shared) | set(b.shared) | set(a.varying) | set(b.varying))
    return all(a.shared.get(k, UNSET) == b.shared.get(k, UNSET) for k in keys
               if not k.startswith(section))


VARYING = ("mvg", "rmvg", "random", "rvg-c", "rvg-v", "vg0")


def _fixed_table(fixed: Condition) -> np.ndarray | None:
    """The truth table of a fixed-goal condition's goal (None if its runs hold none)."""
    return fixed.histories[0].goal_targets[0] if fixed.histories else None


def _speedup_pair(fixed: Condition, varying: Condition) -> bool:
    """Kashtan, Noor & Alon compare a fixed goal with varying goals that include it: the two
    conditions differ only in ``schedule.*``, and every varying run has epochs of the fixed
    goal's truth table (an MVG or RMVG walk that holds it; rvg-c, rvg-v and vg0 alternate with
    it)."""
    table = _fixed_table(fixed)
    return table is not None and _differ_only_in(fixed, varying, "schedule.") and all(
        any(np.array_equal(t, table) for t in h.goal_targets) for h in varying.histories)


def speedup_table(conditions: list[Condition]) -> str:
    """S for every fixed-goal and varying-goal condition pair that :func:`_speedup_pair`, the
    varying runs timed to their first solution of the fixed goal's table."""
    rows = []
    for f in (c for c in conditions if c.get("schedule.kind") == "fixed"):
        for v in (c for c in conditions if c.get("schedule.kind") in VARYING):
            if _speedup_pair(f, v):
                table = _fixed_table(f)
                timed = [dataclasses.replace(s, t_solve=time_to_solve(h, table))
                         for s, h in zip(v.summaries, v.histories)]
                s = speedup(f.summaries, timed)
                rows.append([f"{v.name} over {f.name}", fmt(s.median_fixed, 1),
                             fmt(s.median_varying, 1), s.censored_fixed, s.censored_varying,
                             fmt(s.s, 2)])
    if not rows:
        return ("(needs a fixed-goal and a varying-goal condition that differ only in schedule.*, "
                "the varying runs holding the fixed goal)")
    return markdown_table(["speedup", "median T fixed", "median T varying", "fixed censored",
                           "varying censored", "S"], rows)


def clune_table(conditions: list[Condition]) -> str:
    """P&CC vs PA pairs (same config but the cost): the direction of Clune et al.'s finding."""
    rows = []
    pcc = [c for c in conditions if paper_for(c) is PAPERS[("retina", "pcc")]]
    pa = [c for c in conditions if paper_for(c) is PAPERS[("retina", "pa")]]
    for a in pcc:
        for b in pa:
            if not _differ_only_in(a, b, "cost."):
                continue
            for name in ("q_solved", "qm_solved"):
                va, vb = a.measure(MEASURES[name]), b.measure(MEASURES[name])
                delta = cliffs_delta(va, vb)
                rows.append([name, a.name, b.name, mann_whitney(va, vb), delta,
                             "yes" if delta > 0 else "no"])
    if not rows:
        return "(needs a P&CC and a PA condition on the retina that differ only in cost.*)"
    table = markdown_table(["measure", "P&CC", "PA", "p (Mann-Whitney)", "Cliff's delta",
                            "P&CC higher (delta > 0)"], rows)
    return f"{table}\n\nClune et al. 2013: {CLUNE_FINDING}."


def figures(conditions: list[Condition], out: Path, n_boot: int, seed: int) -> list[str]:
    names = []
    for column, label in (("q_solved", "Q"), ("qm_solved", "Qm")):
        groups = {c.name: epoch_series(c.histories, column) for c in conditions}
        names.append(plot_trajectories(
            groups, out / f"{label.lower()}_solved_trajectories.png",
            ylabel=f"{label} of the epochs' solving networks (mean ± sd over runs)").name)
    names.append(distribution_figure(conditions, TESTED[:5], out / "distributions.png", n_boot,
                                     seed).name)
    return names


def methods(conditions: list[Condition]) -> str:
    found = {(str(h.attrs.get("q_method", "?")), str(h.attrs.get("qm_null_model", "?")))
             for c in conditions for h in c.histories}
    return "; ".join(f"Q by `{q}`, Qm null model `{null}`" for q, null in sorted(found))


def report(conditions: list[Condition], out: Path, by: list[str], n_boot: int, seed: int,
           notes: list[str]) -> Path:
    pictures = "\n\n".join(f"![{n}]({n})" for n in figures(conditions, out, n_boot, seed))
    write_runs_csv(conditions, TESTED, out / "runs.csv")
    text = f"""# Replication: Kashtan & Alon 2005, Kashtan, Noor & Alon 2007, Clune et al. 2013

{grouping_text(conditions, by)}

{warnings_section(notes)}

Every modularity figure here is of **solving networks**: for each goal epoch, the last best of
the epoch that solved the goal in force (`/epochs`), averaged per run, then over runs.  Runs that
never solved have no such network (counted as *never solved*; their T is censored at the run
length).  Methods recorded in the run files: {methods(conditions)}.

**Qm levels are not the papers' levels.** Our Qm = (Q - Q_rand) / (Q_max - Q_rand) takes Q_max
from an annealing over degree-preserving rewirings that reaches the true maximum on the graphs
checked (disconnected graphs included, which no circuit is), so it is at least as high as any
weaker search's and our Qm is lower than a Qm with a weaker Q_max (Kashtan & Alon do not give
their search in a form we could rerun).  Compare conditions with each other (the tests below),
not our levels with theirs; z = (Q - Q_rand) / sd(Q_rand), which needs no Q_max, is given
beside Qm.

## Conditions

{condition_tables(conditions, n_boot, seed)}

Paper values: Kashtan & Alon 2005 (PNAS 102:13773): logic circuits, fixed goal Qm = 0.12 ± 0.02,
MVG Qm = 0.54 ± 0.02, after a switch a perfect solution within about 5 generations (secondary
quotes); retina, fixed goal Qm = 0.15 ± 0.02, MVG Qm about 0.35 (secondary).  Clune, Mouret &
Lipson 2013 (Proc. R. Soc. B 280:20122863), retina with NSGA-II: {CLUNE_FINDING} (no numbers
quoted here).  A paper value is shown only for the papers' goals (logic circuits: fixed G1, MVG
G1 <-> G2; retina: fixed `and`, MVG `and` <-> `or`); RMVG, other goals and gradient-trained
networks have none.

## Pairwise tests (all pairs of conditions)

{pairwise_table(conditions, TESTED)}

## Clune et al. 2013: P&CC vs PA

{clune_table(conditions)}

## Speedup (Kashtan, Noor & Alon 2007)

S = median T(fixed) / median T(varying), for condition pairs that differ only in their schedule
and whose varying runs all hold the fixed goal (MVG, RMVG walks through it, and the controls
rvg-c, rvg-v and vg0, which alternate with it); a varying run's T is its first solution of the
fixed goal's truth table (in vg0 runs, epochs without selection are scored on that table too).
Runs that never solved are censored at their run length (T = last generation), so every run
counts in the median: censored fixed-goal runs make S a lower bound, censored varying-goal runs
an upper bound; if over half of a condition is censored its median is the run length itself.

{speedup_table(conditions)}

## Figures

Trajectories: per run, the solving networks' Q (Qm) averaged over the epochs ending in each of
100 stretches of the run, then mean ± sd over runs (stretches with no solving network left out).
Distributions: per-run values, violins, mean and 95% CI.

{pictures}

Per-run values: `runs.csv`.

## Definitions

{DEFINITIONS}  Bootstrap: {n_boot} resamples, seed {seed}.
"""
    return write_text(out, "ka2005_replication.md", text)


def main(argv: list[str] | None = None) -> Path:
    _, args, conditions = script_conditions(__doc__, argv)
    notes = emit_warnings(conditions, sys.stderr)
    path = report(conditions, args.out, args.by, args.bootstrap, args.seed, notes)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
