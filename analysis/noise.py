"""Noise filtering: do networks trained on noisy inputs filter the noise out, and are they
sparser or more modular than networks trained without it? (source document 000, experiment 8)

    python analysis/noise.py runs/noise/ -o report/noise [--sigma S] [--draws 32] [--by KEY]

e.g. after ``evosim sweep configs/scaling-gradient-retina.toml --grid gradient.input_noise=0,0.5
--seeds 0-9 --out runs/noise``. Every run's trained network (its last snapshot) is probed with the
same input noise, of std ``--sigma`` (default: the largest ``gradient.input_noise`` of the runs),
``--draws`` fresh draws per data point (at most 1000 training points, the first). Per unit its
activation's variance splits into a part due to the noise, E_x Var_noise a, and a part due to the
signal, Var_x E_noise a (``evosim.gradient.measures.noise_variance``); a layer's *noise share* is
its units' mean noise / (noise + signal) (units that do not vary are left out). The inputs' own
share is sigma^2 / (sigma^2 + Var x): a layer below it has filtered noise out. Beside them per
run: the weights' Hoyer sparsity, (sqrt(n) - |w|_1 / |w|_2) / (sqrt(n) - 1) (0: all equal,
1: one weight; Hoyer 2004), and modularity as recorded at the end of training: z = (Q - Q_rand)
/ sd and Qm (chance-corrected) and max Q. Per condition mean ± sd [bootstrap 95% CI]; each
condition against the noise-free one (``gradient.input_noise = 0``, else the first): Mann-Whitney
U and Cliff's delta. Writes ``noise.md``, ``runs.csv`` and ``noise_share.png``.
"""
from __future__ import annotations

import csv
import math
import sys
from pathlib import Path

import numpy as np

from evosim import config as cfg
from evosim.analysis.conditions import flat_config
from evosim.analysis.networks import snapshot_at, task_of
from evosim.analysis.report import (fmt, fmt_ci, fmt_mean_sd, markdown_table, script_conditions,
                                    write_text)
from evosim.analysis.stats import bootstrap_ci, cliffs_delta, mann_whitney
from evosim.gradient.measures import noise_variance

MAX_POINTS = 1000
RECORDED = ("z_end", "qm_end", "q_end")


def hoyer_sparsity(params) -> float:
    """Hoyer's (2004) sparsity of all weights (biases left out): 0 when all |w| are equal,
    1 when one weight carries everything."""
    w = np.concatenate([np.abs(np.asarray(layer[0])).ravel() for layer in params])
    n, l2 = w.size, float(np.sqrt((w * w).sum()))
    if n < 2 or l2 == 0:
        return math.nan
    return float((math.sqrt(n) - w.sum() / l2) / (math.sqrt(n) - 1))


def noise_shares(params, x: np.ndarray, activation: str, sigma: float, draws: int,
                 rng: np.random.Generator) -> list[float]:
    """Per layer (hidden layers, then the output), its units' mean noise share."""
    shares = []
    for noise, signal in zip(*noise_variance(params, x, activation, sigma, draws, rng)):
        total = noise + signal
        varies = total > 0
        shares.append(float((noise[varies] / total[varies]).mean()) if varies.any()
                      else math.nan)
    return shares


def input_share(x: np.ndarray, sigma: float) -> float:
    """The inputs' noise share sigma^2 / (sigma^2 + Var x), averaged over the inputs."""
    return float(np.mean(sigma**2 / (sigma**2 + x.var(axis=0))))


def measure_run(h, sigma: float, draws: int, seed: int) -> dict:
    """A run's noise shares, sparsity and recorded modularity at the end of training."""
    from evosim.gradient.recording import trained_network

    config = cfg.loads(h.config_toml)
    task, _ = task_of(h)
    generation, flat = snapshot_at(h)
    params, dataset = trained_network(config, task, flat)
    x = dataset.x_train[:MAX_POINTS]
    shares = noise_shares(params, x, config.gradient.activation, sigma, draws,
                          np.random.default_rng(seed))
    return {"epoch": generation, "input_noise": config.gradient.input_noise,
            "share_inputs": input_share(x, sigma),
            **{f"share_layer{i + 1}": s for i, s in enumerate(shares[:-1])},
            "share_output": shares[-1], "sparsity": hoyer_sparsity(params),
            "z_end": float(h["z"][-1]), "qm_end": float(h["qm_best"][-1]),
            "q_end": float(h["q_best"][-1])}


def main(argv: list[str] | None = None) -> Path:
    def options(parser):
        parser.add_argument("--sigma", type=float, help="std of the probe noise (default: the "
                            "largest gradient.input_noise of the runs)")
        parser.add_argument("--draws", type=int, default=32, help="noise draws per data point")

    parser, args, conditions = script_conditions(__doc__, argv, options)
    histories = [h for c in conditions for h in c.histories]
    other = [h for h in histories if not h.trained_weights]
    if other:
        what = ("not a gradient run (input noise is a gradient-mode setting, "
                "gradient.input_noise)" if other[0].attrs.get("mode") != "gradient" else
                "a trained genome model's run (gradient.model); this report probes MLPs")
        parser.exit(2, f"error: {other[0].path}: {what}\n")
    noises = [flat_config(h).get("gradient.input_noise", 0.0) for h in histories]
    sigma = args.sigma if args.sigma is not None else max(noises)
    if not sigma > 0:
        parser.exit(2, "error: --sigma: no run has gradient.input_noise > 0; give the probe "
                       "noise's std (> 0)\n")
    rows = [{"condition": c.name, "path": str(h.path), "seed": int(h.attrs.get("seed", -1)),
             **measure_run(h, sigma, args.draws, args.seed)}
            for c in conditions for h in c.histories]
    columns = list(dict.fromkeys(k for r in rows for k in r))
    measures = [k for k in columns if k.startswith("share_")] + ["sparsity", *RECORDED]
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "runs.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, columns, restval="")
        writer.writeheader()
        writer.writerows(rows)

    def values(name, measure):
        return np.array([r.get(measure, math.nan) for r in rows if r["condition"] == name],
                        dtype=float)

    names = [c.name for c in conditions]
    clean = [c.name for c, n in zip(conditions, _condition_noise(conditions)) if n == 0]
    reference = clean[0] if clean else names[0]
    table = markdown_table(
        ["measure", *names],
        [[m, *(f"{fmt_mean_sd(values(n, m))} "
               f"{fmt_ci(bootstrap_ci(values(n, m), args.bootstrap, seed=args.seed))}"
               for n in names)] for m in measures])
    versus = markdown_table(
        ["measure", "condition", f"p vs {reference} (Mann-Whitney)", "Cliff's delta"],
        [[m, n, fmt(mann_whitney(values(n, m), values(reference, m))),
          fmt(cliffs_delta(values(n, m), values(reference, m)))]
         for m in measures for n in names if n != reference])
    figure = _figure(rows, names, [m for m in measures if m.startswith("share_")],
                     out / "noise_share.png")
    text = f"""# Noise filtering

Every run's last snapshot probed with input noise of std {fmt(sigma)} ({args.draws} draws per
data point, at most {MAX_POINTS} training points). `share_*`: the mean share of a unit's
activation variance due to the noise (`share_inputs`: the inputs' own; a layer below it filters
noise out); `sparsity`: Hoyer's sparsity of the weights; `z_end`, `qm_end`, `q_end`: as recorded
at the end of training (z and Qm chance-corrected). Values: mean ± sd [bootstrap 95% CI] over
runs ({", ".join(f"{n}: {len(values(n, 'sparsity'))} runs" for n in names)}).

{table}

## Against the noise-free condition ({reference})

{versus}

![{figure.name}]({figure.name})

Per-run values: `runs.csv`.
"""
    path = write_text(out, "noise.md", text)
    print(f"wrote {path}")
    return path


def _condition_noise(conditions) -> list[float]:
    return [flat_config(c.histories[0]).get("gradient.input_noise", 0.0) for c in conditions]


def _figure(rows, names, shares, path: Path) -> Path:
    from evosim.analysis.plots import save_figure  # chooses the Agg backend first

    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for k, name in enumerate(names):
        mine = [r for r in rows if r["condition"] == name]
        means = [np.nanmean([r.get(m, math.nan) for r in mine]) for m in shares]
        for r in mine:
            ax.plot(range(len(shares)), [r.get(m, math.nan) for m in shares], color=f"C{k}",
                    alpha=0.2, lw=0.8)
        ax.plot(range(len(shares)), means, "o-", color=f"C{k}", label=name)
    ax.set_xticks(range(len(shares)), [m.removeprefix("share_") for m in shares])
    ax.set(ylabel="noise share of the activation variance", ylim=(0, 1))
    ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path)


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
