"""The causes of modularity side by side (source document 002): one table, one figure.

    python analysis/causes.py run runs/causes [--seeds 0-9] [--epochs E] [--generations G]
                                              [--only SETTING] [--workers W]
    python analysis/causes.py report runs/causes -o report/causes [--bootstrap N]

Three settings, each a set of conditions that differ from a reference condition in one respect
(one pressure or schedule):

- ``retina-gradient``: the retina trained by gradient descent (8-4-2 tanh hidden units, Adam);
  plain training on the fixed goal L-and-R against dropout, L1, L2, magnitude pruning, a wiring
  distance cost, MVG (and <-> or) and RMVG;
- ``digit-pairs-gradient``: source document 001's digit pairs (a x + b y, 64-32-2 ReLU), the same
  pressures and schedules;
- ``logic-gates-evolution``: Kashtan & Alon's NAND circuits on the fixed goal G1 against MVG
  (G1 <-> G2) and connection costs (count, and wiring length) as a second NSGA-II objective (so
  those two conditions also select by NSGA-II, P&NSGA with p = 0.25, not elitist truncation).

``run`` sweeps every condition's seeds into ``DIR/<setting>/`` (one file per run, named
``condition=<name>__seed=<s>.h5``; the same command again resumes); ``report`` measures each
run and writes ``causes.md``, ``runs.csv`` and ``causes.png``. The modularity measure is the
chance-corrected z = (Q - Q_rand) / sd (and Qm) of the networks at goal-epoch ends: the solving
networks for the classification tasks (``z_solved``), the network at the end of training for the
regression task (digit pairs are never "solved"). Each condition against its setting's
reference: Mann-Whitney U (two-sided, uncorrected) and Cliff's delta.

The pressures' strengths are moderate values chosen once, not tuned to any outcome; the
defaults of ``--epochs`` and ``--generations`` are the source documents' run lengths. Q of the
trained retina networks (23 units) is the recorded heuristic (``modularity.exact_limit = 16``) in
every condition: the exact branch and bound takes seconds per graph on networks trained under a
distance cost (3.9 s for one at epoch 20), whose many tiny weights weaken its bounds.
"""
from __future__ import annotations

import argparse
import csv
import dataclasses
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from evosim import config as cfg
from evosim import sweep as sw
from evosim.analysis.report import fmt, fmt_ci, fmt_mean_sd, markdown_table, write_text
from evosim.analysis.runs import MEASURES
from evosim.analysis.stats import bootstrap_ci, cliffs_delta, mann_whitney
from evosim.io import History, RunFileError, load


@dataclass(frozen=True)
class Setting:
    """A task and optimiser, its conditions (name -> config overrides; the first is the
    reference) and what is measured of each run."""

    title: str
    base: dict
    conditions: dict[str, dict]
    gradient: bool
    measures: tuple[str, ...]   # keys of RUN_MEASURES; the first is the figure's

    @property
    def reference(self) -> str:
        return next(iter(self.conditions))


def _pressures(penalty: float, prune: float, distance: float, dropout: float) -> dict[str, dict]:
    return {"plain": {},
            "dropout": {"gradient.dropout": dropout},
            "L1": {"gradient.l1": penalty},
            "L2": {"gradient.l2": penalty},
            "pruning": {"gradient.prune_fraction": prune, "gradient.prune_every": 10},
            "distance cost": {"gradient.distance_cost": distance},
            "MVG": {"schedule.kind": "mvg"},
            "RMVG": {"schedule.kind": "rmvg"}}


SETTINGS: dict[str, Setting] = {
    "retina-gradient": Setting(
        "retina, gradient-trained (8-4-2 tanh)",
        {"run.mode": "gradient", "run.generations": 200, "task.name": "retina",
         "schedule.kind": "fixed", "schedule.goal": "and", "schedule.period": 20,
         "gradient.hidden": [8, 4, 2], "gradient.activation": "tanh",
         "gradient.learning_rate": 0.01, "modularity.qm_epochs": 1,
         "modularity.exact_limit": 16},
        _pressures(penalty=1e-3, prune=0.2, distance=1e-3, dropout=0.1), True,
        ("z_solved", "qm_solved", "q_solved", "one_sided_solved", "solved_rate_all")),
    "digit-pairs-gradient": Setting(
        "digit pairs, gradient-trained (64-32-2 ReLU)",
        {"run.mode": "gradient", "run.generations": 100, "task.name": "digit-pairs",
         "schedule.kind": "fixed", "schedule.goal": "1x+1y", "schedule.period": 10,
         "gradient.hidden": [64, 32, 2], "gradient.activation": "relu",
         "gradient.learning_rate": 0.001, "gradient.loss": "mse", "gradient.n_pairs": 5000,
         "modularity.every": 10, "modularity.qm_epochs": 5, "modularity.qm_samples": 8},
        _pressures(penalty=1e-4, prune=0.2, distance=1e-4, dropout=0.1), True,
        ("z_end", "qm_end", "q_end", "loss_test_end")),
    "logic-gates-evolution": Setting(
        "logic gates, evolved (Kashtan & Alon 2005)",
        {"run.generations": 20000, "task.name": "logic-gates", "schedule.kind": "fixed",
         "schedule.goal": "G1", "schedule.goals": ["G1", "G2"], "schedule.period": 20},
        {"FG": {},
         "MVG": {"schedule.kind": "mvg"},
         "FG + count cost": {"selection.scheme": "nsga2", "cost.kind": "count", "cost.p": 0.25},
         "FG + length cost": {"selection.scheme": "nsga2", "cost.kind": "length",
                              "cost.p": 0.25}}, False,
        ("z_solved", "qm_solved", "q_solved", "one_sided_solved", "solved_rate_all")),
}


def _at_end(column: str) -> Callable[[History], float]:
    """The value at the run's last row, where Qm is always computed (``epochs.qm_due``)."""
    return lambda h: float(h[column][-1]) if len(h) else math.nan


RUN_MEASURES: dict[str, tuple[str, Callable[[History], float]]] = {
    **{name: (MEASURES[name].description, MEASURES[name].function)
       for name in ("z_solved", "qm_solved", "q_solved", "one_sided_solved", "solved_rate_all")},
    "z_end": ("z of the network at the end of training", _at_end("z")),
    "qm_end": ("Qm of the network at the end of training", _at_end("qm_best")),
    "q_end": ("max Q (Louvain above 24 units, as recorded) at the end of training",
              _at_end("q_best")),
    "loss_test_end": ("test loss at the end of training", _at_end("loss_test")),
}


# ------------------------------------------------------------------------------------ running

def plan(setting: Setting, seeds: list[int], length: int | None) -> sw.Sweep:
    """Every condition's runs for the seeds (each validated now), named by condition and seed."""
    base = cfg.Config().replace(**setting.base)
    if length is not None:
        base = base.replace(**{"run.generations": length})
    runs = []
    for name, overrides in setting.conditions.items():
        for spec in sw.expand(base.replace(**overrides), {}, seeds).runs:
            runs.append(dataclasses.replace(spec, name=f"condition={name}__{spec.name}",
                                            overrides={**overrides, **spec.overrides}))
    return sw.Sweep(base, {"condition": list(setting.conditions)}, list(seeds), runs)


def run(args) -> int:
    seeds = sw.parse_seeds(args.seeds)
    for key in args.only or SETTINGS:
        setting = SETTINGS[key]
        length = args.epochs if setting.gradient else args.generations
        sweep = plan(setting, seeds, length)
        folder = args.folder / key
        print(f"{key}: {len(sweep.runs)} runs into {folder}", file=sys.stderr)
        with sw.local_backend(args.workers) as backend:
            summaries = sw.run_sweep(sweep, folder, backend)
        failed = [s["name"] for s in summaries if s["status"] != "complete"]
        if failed:
            print(f"{key}: not complete: {', '.join(failed)}", file=sys.stderr)
            return 1
    return 0


# ------------------------------------------------------------------------------------ report

def condition_of(path: Path) -> str | None:
    """The condition a run file of ``run`` belongs to, from its name (None: not one of them)."""
    stem = path.stem
    if not stem.startswith("condition=") or "__seed=" not in stem:
        return None
    return stem[len("condition="):stem.index("__seed=")]


def measure_runs(folder: Path, key: str) -> list[dict]:
    """One row per run file of the setting's folder: its condition, seed and measures."""
    setting = SETTINGS[key]
    rows = []
    for path in sorted((folder / key).glob("condition=*__seed=*.h5")):
        name = condition_of(path)
        if name not in setting.conditions:
            continue
        h = load(path)
        if h.attrs.get("status") != "complete":
            continue
        rows.append({"setting": key, "condition": name, "seed": int(h.attrs["seed"]),
                     **{m: RUN_MEASURES[m][1](h) for m in setting.measures}})
    return rows


def report(args) -> int:
    rows = []
    try:
        for key in SETTINGS:
            rows += measure_runs(args.folder, key)
    except RunFileError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if not rows:
        print(f"error: {args.folder}: no complete run of analysis/causes.py run "
              f"(<setting>/condition=<name>__seed=<s>.h5)", file=sys.stderr)
        return 2
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    measures = list(dict.fromkeys(m for key in SETTINGS for m in SETTINGS[key].measures))
    with open(out / "runs.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, ["setting", "condition", "seed", *measures], restval="")
        writer.writeheader()
        writer.writerows(rows)
    sections = []
    for key, setting in SETTINGS.items():
        mine = [r for r in rows if r["setting"] == key]
        if mine:
            sections.append(_section(key, setting, mine, args))
    figure = _figure(rows, out / "causes.png")
    described = "\n".join(f"- `{m}`: {RUN_MEASURES[m][0]}" for m in measures)
    text = f"""# The causes of modularity side by side

Runs of `analysis/causes.py run` in `{args.folder}`. Values: mean ± sd [bootstrap 95% CI of the
mean] over the runs with a value (a run that never solved has no solving-network measure: the
column `with value` counts them). Each condition against its setting's reference: two-sided
Mann-Whitney U p (uncorrected for the many comparisons) and Cliff's delta
(P(condition > reference) - P(condition < reference)) of the first measure.

{described}

{chr(10).join(sections)}
![{figure.name}]({figure.name})

Per-run values: `runs.csv`.
"""
    print(f"wrote {write_text(out, 'causes.md', text)}")
    return 0


def _section(key: str, setting: Setting, rows: list[dict], args) -> str:
    main = setting.measures[0]

    def values(name, measure):
        return np.array([r[measure] for r in rows if r["condition"] == name], dtype=float)

    reference = values(setting.reference, main)
    table = []
    for name in setting.conditions:
        runs = [r for r in rows if r["condition"] == name]
        if not runs:
            continue
        cells = [f"{fmt_mean_sd(values(name, m))} "
                 f"{fmt_ci(bootstrap_ci(values(name, m), args.bootstrap, seed=args.seed))}"
                 for m in setting.measures]
        versus = ([fmt(mann_whitney(values(name, main), reference)),
                   fmt(cliffs_delta(values(name, main), reference))]
                  if name != setting.reference else ["(reference)", ""])
        table.append([name, len(runs), int(np.isfinite(values(name, main)).sum()), *cells,
                      *versus])
    header = ["condition", "runs", "with value", *setting.measures, f"p vs {setting.reference}",
              "Cliff's delta"]
    return f"## {setting.title} (`{key}`)\n\n{markdown_table(header, table)}\n"


def _figure(rows: list[dict], path: Path) -> Path:
    from evosim.analysis.plots import save_figure  # chooses the Agg backend first

    import matplotlib.pyplot as plt

    keys = [k for k in SETTINGS if any(r["setting"] == k for r in rows)]
    fig, axes = plt.subplots(1, len(keys), figsize=(4.6 * len(keys), 3.6), squeeze=False)
    for ax, key in zip(axes[0], keys):
        setting, main = SETTINGS[key], SETTINGS[key].measures[0]
        names = list(setting.conditions)
        for i, name in enumerate(names):
            v = np.array([r[main] for r in rows if r["setting"] == key and r["condition"] == name])
            v = v[np.isfinite(v)]
            ax.scatter(np.full(v.size, i) + np.linspace(-0.15, 0.15, v.size), v, s=10,
                       color="C0", alpha=0.6)
            if v.size:
                ax.errorbar(i + 0.3, v.mean(), yerr=v.std(ddof=1) if v.size > 1 else 0,
                            fmt="o", color="C3", capsize=3)
        ax.axhline(0, color="0.7", lw=0.8)
        ax.set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize=8)
        ax.set(title=setting.title, ylabel=main)
    fig.tight_layout()
    return save_figure(fig, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    go = commands.add_parser("run", help="sweep every condition")
    go.add_argument("folder", type=Path)
    go.add_argument("--seeds", default="0-9", help="seeds of every condition (default 0-9)")
    go.add_argument("--epochs", type=int, help="gradient settings: training epochs")
    go.add_argument("--generations", type=int, help="evolution setting: generations")
    go.add_argument("--only", action="append", choices=list(SETTINGS), help="this setting only")
    go.add_argument("--workers", type=int, help="local processes (default: all cores)")
    show = commands.add_parser("report", help="the table and the figure")
    show.add_argument("folder", type=Path)
    show.add_argument("-o", "--out", type=Path, default=Path("report/causes"))
    show.add_argument("--bootstrap", type=int, default=10_000, help="bootstrap resamples")
    show.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    args = parser.parse_args(argv)
    try:
        return run(args) if args.command == "run" else report(args)
    except (sw.SweepError, cfg.ConfigError) as err:
        parser.exit(2, f"error: {err}\n")


if __name__ == "__main__":
    sys.exit(main())
