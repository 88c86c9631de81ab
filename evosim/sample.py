"""Random baselines (source document 000, experiment 7): the network measures of many random
genomes, or of many untrained networks, so that what evolution or training builds can be read
against what chance gives.

Evolution samples ``task.random_genomes(n, key)`` with the engine key of ``run.seed``: the first
rows are the random initial population of that seed's run. Gradient mode samples one untrained
network per seed ``run.seed``, ``run.seed + 1``, ...: network i is epoch 0 of the run with seed
``run.seed + i``. Every network is measured as a run measures its best (the functional network or
the |w| weight graph, exact max Q, Qm and z against the run's null model), by the run's own
meter, so a sample and a run file hold the same quantities.
"""
from __future__ import annotations

import datetime
from pathlib import Path
from typing import Callable

import h5py
import numpy as np

from evosim import config as cfg
from evosim import counter_rng as crng
from evosim.counter_rng import seed_streams
from evosim.runner import build_schedule
from evosim.tasks import get_task

COLUMNS = {"fitness": "performance under the schedule's first goal (evolution only; NaN in "
                      "gradient mode)",
           "q": "exact max Q of the network (a recorded heuristic above modularity.exact_limit)",
           "q_exact": "whether q is exact",
           "n_nodes": "nodes of the functional network (gradient: units with an edge)",
           "n_edges": "edges of the network",
           "qm": "(Q - Q_rand) / (Q_max - Q_rand) against the run's null model (NaN without --qm)",
           "z": "(Q - Q_rand) / sd(Q_rand)",
           "q_rand": "mean Q of the null model's networks",
           "q_max": "the largest Q reachable under the null model"}


def sample(config: cfg.Config, n: int, qm: bool = True,
           progress: Callable[[int], None] | None = None) -> tuple[dict[str, np.ndarray], dict]:
    """The measures of ``n`` random networks of a run's task and mode.

    Parameters
    ----------
    config : Config
        The run whose task, mode, seed and [modularity] settings are sampled.
    n : int
        Networks to sample.
    qm : bool
        Compute Qm and z (the costly part: a null model per new graph).
    progress : callable, optional
        Told the count of networks measured so far.

    Returns
    -------
    columns : dict
        One array of length n per name of ``COLUMNS``.
    methods : dict
        ``q_methods`` and ``null_models`` used, as a run file names them.
    """
    task = get_task(config.task, config.cost.layout)
    schedule = build_schedule(config, task)
    if config.run.mode == "gradient" and config.gradient.model != "mlp":
        meter, networks, fitness = _untrained_genomes(config, task, schedule, n)
    elif config.run.mode == "gradient":
        meter, networks, fitness = _gradient_networks(config, task, schedule, n)
    else:
        meter, networks, fitness = _random_genomes(config, task, schedule, n)
    out = {name: np.full(n, np.nan) for name in COLUMNS}
    out["q_exact"] = np.zeros(n, dtype=bool)
    out["n_nodes"] = np.zeros(n, dtype=np.int64)
    out["n_edges"] = np.zeros(n, dtype=np.int64)
    out["fitness"][:] = fitness
    for i, network in enumerate(networks):
        measured = meter.network(network)
        out["q"][i], out["q_exact"][i] = measured.q, measured.exact
        out["n_nodes"][i], out["n_edges"][i] = measured.n_nodes, measured.n_edges
        if qm:
            record = meter.qm_meter.qm(measured.adjacency)
            for name in ("qm", "z", "q_rand", "q_max"):
                out[name][i] = getattr(record, name)
        if progress:
            progress(i + 1)
    return out, {"q_methods": sorted(meter.q_methods), "null_models": sorted(meter.null_models)}


def _random_genomes(config, task, schedule, n):
    """(the run's meter, n random genomes of the seed's engine key, their performance)."""
    from evosim.measures import BestNetworkMeter

    key = crng.key_from_seed_sequence(seed_streams(config.run.seed)["engine"])
    genomes = task.random_genomes(n, key)
    fitness = task.performance(genomes, task.pack(schedule.targets[schedule.goal_at(0)])[0])
    return BestNetworkMeter(task, config, schedule), genomes, fitness


def _gradient_networks(config, task, schedule, n):
    """(the run's meter, the flattened untrained network of each seed, NaN performance)."""
    from evosim.gradient.network import init_params
    from evosim.gradient.recording import WeightGraphMeter, run_dataset
    from evosim.gradient.trainer import flatten, network_sizes

    dataset = run_dataset(config, task, seed_streams(config.run.seed))
    sizes = network_sizes(config, dataset.x_train.shape[1])

    def network(seed):  # the init stream of the run with this seed (``trainer.train``)
        init_seq = seed_streams(seed)["engine"].spawn(3)[0]
        return flatten(init_params(sizes, np.random.default_rng(init_seq)))

    networks = (network(config.run.seed + i) for i in range(n))
    return WeightGraphMeter(config, sizes, schedule, dataset), networks, np.nan


def _untrained_genomes(config, task, schedule, n):
    """(the run's meter, the discretised untrained network of each seed, their performance):
    epoch 0 of the genome-model runs with seeds S, S + 1, ... (``genome_training.train``)."""
    from evosim.gradient.genome_training import make_model
    from evosim.measures import BestNetworkMeter

    model = make_model(task, config)

    def genome(seed):
        init_seq = seed_streams(seed)["engine"].spawn(2)[0]
        return model.genome(model.init(np.random.default_rng(init_seq)))

    genomes = np.stack([genome(config.run.seed + i) for i in range(n)])
    fitness = task.performance(genomes, task.pack(schedule.targets[schedule.goal_at(0)])[0])
    return BestNetworkMeter(task, config, schedule), genomes, fitness


def write(path: str | Path, columns: dict[str, np.ndarray], methods: dict,
          config: cfg.Config, n: int) -> Path:
    """The sample as ``/sample/<column>`` (each with its description), what ran in the
    attributes; written beside and renamed, so a file that is there is whole."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".new")
    with h5py.File(partial, "w") as f:
        f.attrs.update(kind="sample", task=config.task.name, mode=config.run.mode,
                       seed=config.run.seed, n=n, config_toml=config.to_toml(),
                       q_methods=",".join(methods["q_methods"]),
                       null_models=",".join(methods["null_models"]),
                       created=datetime.datetime.now(datetime.timezone.utc).isoformat())
        group = f.create_group("sample")
        for name, values in columns.items():
            group.create_dataset(name, data=values).attrs["description"] = COLUMNS[name]
    partial.replace(path)
    return path


def read(path: str | Path) -> tuple[dict[str, np.ndarray], dict]:
    """(columns, attributes) of a sample file."""
    with h5py.File(path, "r") as f:
        if f.attrs.get("kind") != "sample":
            raise ValueError(f"{path}: not a sample file (written by evosim sample)")
        return {name: f["sample"][name][()] for name in f["sample"]}, dict(f.attrs)


def histogram(columns: dict[str, np.ndarray], attrs: dict, path: str | Path,
              runs: dict[str, dict[str, float]] | None = None) -> Path:
    """A histogram per measure (Q, Qm, z, edges, performance where finite), each run of ``runs``
    (label -> its row-0 values) drawn as a line: a gradient run's untrained network against
    chance (an evolution run's row 0 is the best of its random population, a selected one)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [name for name in ("q", "qm", "z", "n_edges", "fitness")
             if np.isfinite(columns[name].astype(float)).any()]
    fig, axes = plt.subplots(1, len(shown), figsize=(3.2 * len(shown), 3), squeeze=False)
    for ax, name in zip(axes[0], shown):
        values = columns[name].astype(float)
        values = values[np.isfinite(values)]
        ax.hist(values, bins=30, color="0.6")
        ax.set_xlabel(name)
        ax.set_title(f"mean {values.mean():.3f}, n = {values.size}", fontsize=9)
        for label, row in (runs or {}).items():
            if np.isfinite(row.get(name, np.nan)):
                ax.axvline(row[name], color="tab:red", lw=1)
    axes[0][0].set_ylabel("networks")
    fig.suptitle(f"{attrs['n']} random {attrs['task']} networks ({attrs['mode']}), seed "
                 f"{attrs['seed']}" + (f"; red: row 0 of {len(runs)} run(s)" if runs else ""),
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def run_starts(paths: list[str]) -> dict[str, dict[str, float]]:
    """Row 0 of each run file (the untrained network, or the best of a random population) in
    the sample's names."""
    from evosim.io import load

    starts = {}
    for path in paths:
        h = load(path)
        starts[str(path)] = {"q": float(h["q_best"][0]), "qm": float(h["qm_best"][0]),
                             "z": float(h["z"][0]), "n_edges": float(h["n_edges_best"][0])}
    return starts
