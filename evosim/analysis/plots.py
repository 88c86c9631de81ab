"""Figures of runs and networks (matplotlib, Agg backend: they are written to files, never shown).

Each function takes the data, writes one PNG and returns its path, so the CLI and the report scripts
share the same figures.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402

from evosim.io import History  # noqa: E402

__all__ = ["plot_history", "plot_distributions", "plot_trajectories", "draw_network",
           "network_layout", "scatter_matrix"]

_DPI = 120


def _save(fig, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=_DPI, bbox_inches="tight")
    plt.close(fig)
    return path


def _shade_epochs(ax, h: History) -> None:
    """Shade every other goal epoch, so each switch is an edge between shaded and clear."""
    goal, gen = h["goal"], h["generation"]
    if gen.size < 2:
        return
    parity = np.zeros(goal.size, dtype=bool)
    parity[1:] = np.cumsum(np.diff(goal) != 0) % 2 == 1
    shade = parity.copy()
    shade[1:] |= parity[:-1]  # run each shaded band up to the next switch
    if parity.any():
        ax.fill_between(gen, 0, 1, where=shade, step="post", color="0.85", alpha=0.6,
                        transform=ax.get_xaxis_transform(), linewidth=0,
                        label="alternate goal epochs")


def plot_history(h: History, path: str | Path, title: str | None = None) -> Path:
    """Fitness (best, mean) and Q (and the computed Qm) against generation, goal epochs shaded,
    the first perfect solution of each goal marked."""
    gen = h["generation"]
    fig, (ax_f, ax_q) = plt.subplots(2, 1, sharex=True, figsize=(9, 6))
    for ax in (ax_f, ax_q):
        _shade_epochs(ax, h)
    ax_f.plot(gen, h["fitness_best"], lw=1, label="best")
    ax_f.plot(gen, h["fitness_mean"], lw=1, label="mean")
    for k, (goal, first) in enumerate(h.first_solved().items()):
        if first is not None:
            ax_f.axvline(first, color=f"C{k + 2}", ls="--", lw=1)
            ax_f.plot([first], [1.0], marker="v", color=f"C{k + 2}", ms=8, ls="none",
                      label=f"{goal} first solved (gen {first})")
    ax_f.set_ylabel("fitness")
    ax_f.legend(loc="lower right", fontsize=8)
    ax_q.plot(gen, h["q_best"], lw=1, label="Q (best)")
    qm = h["qm_best"]
    ok = np.isfinite(qm)
    if ok.any():
        ax_q.plot(gen[ok], qm[ok], "o-", ms=3, lw=1, label="Qm (best)")
    ax_q.set_xlabel("epoch" if h.attrs.get("mode") == "gradient" else "generation")
    ax_q.set_ylabel("modularity")
    ax_q.legend(loc="lower right", fontsize=8)
    ax_f.set_title(title or f"{h.path.name}: {h.attrs.get('task', '')}, seed {h.attrs.get('seed')}")
    return _save(fig, path)


def plot_distributions(groups: Mapping[str, Mapping[str, Sequence[float]]], path: str | Path,
                       seed: int = 0) -> Path:
    """One panel per measure: a box per condition with the runs as jittered points.
    ``groups[measure][condition]`` is the list of per-run values (NaNs are left out)."""
    rng = np.random.default_rng(seed)
    fig, axes = plt.subplots(1, len(groups), figsize=(3.5 * max(len(groups), 1), 4), squeeze=False)
    for ax, (measure, by_condition) in zip(axes[0], groups.items()):
        names = list(by_condition)
        data = [np.asarray(by_condition[n], float) for n in names]
        data = [d[np.isfinite(d)] for d in data]
        ax.boxplot([d if d.size else [np.nan] for d in data], showfliers=False)
        for i, d in enumerate(data, start=1):
            ax.plot(i + rng.uniform(-0.15, 0.15, d.size), d, "o", ms=4, alpha=0.6,
                    color=f"C{i - 1}")
        ax.set_xticks(range(1, len(names) + 1), names, rotation=20)
        ax.set_title(measure)
    return _save(fig, path)


def plot_trajectories(groups: Mapping[str, tuple[np.ndarray, np.ndarray]], path: str | Path,
                      xlabel: str = "generation", ylabel: str = "Q") -> Path:
    """Mean +- sd band of a column over the runs of each condition:
    ``groups[condition] = (x, values[run, point])`` from :func:`runs.trajectories`."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for k, (name, (x, values)) in enumerate(groups.items()):
        rows = values[np.isfinite(values).any(axis=1)] if values.size else values
        if rows.size == 0:
            continue
        mean = np.nanmean(rows, axis=0)
        sd = np.nanstd(rows, axis=0)
        ax.plot(x, mean, color=f"C{k}", lw=1.5, label=f"{name} (n={len(rows)})")
        ax.fill_between(x, mean - sd, mean + sd, color=f"C{k}", alpha=0.2, linewidth=0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    return _save(fig, path)


def network_layout(g: nx.DiGraph) -> dict[int, tuple[float, float]]:
    """Node positions: the node's ``position`` attribute when it has one (retina: layers as rows),
    otherwise x = ``layer`` and the nodes of a layer spread evenly around y = 0 (circuits)."""
    if all("position" in d for _, d in g.nodes(data=True)):
        return {n: tuple(d["position"]) for n, d in g.nodes(data=True)}
    by_layer: dict[int, list[int]] = {}
    for n, d in g.nodes(data=True):
        by_layer.setdefault(int(d.get("layer", 0)), []).append(n)
    pos = {}
    for layer, nodes in by_layer.items():
        for i, n in enumerate(sorted(nodes)):
            pos[n] = (float(layer), i - (len(nodes) - 1) / 2)
    return pos


def draw_network(g: nx.DiGraph, communities: dict[int, int], path: str | Path,
                 title: str = "") -> Path:
    """A network with a layered layout, nodes coloured by community (``communities[node]``),
    edges as arrows (negative ``weight`` dashed), inputs drawn as squares and outputs as diamonds
    (kinds from the ``kind`` attribute)."""
    pos = network_layout(g)
    fig, ax = plt.subplots(figsize=(8, 5))
    if g.number_of_nodes() == 0:
        ax.text(0.5, 0.5, "no functional network", ha="center", va="center")
    else:
        cmap = plt.get_cmap("tab10")
        for negative in (False, True):  # weighted networks: inhibitory connections dashed
            edges = [(a, b) for a, b, w in g.edges(data="weight", default=1) if (w < 0) == negative]
            nx.draw_networkx_edges(g, pos, edgelist=edges, ax=ax, arrows=True, arrowstyle="-|>",
                                   arrowsize=12, edge_color="0.4", node_size=420,
                                   style="dashed" if negative else "solid")
        shapes = {"input": "s", "output": "D"}
        for kind in {d.get("kind", "gate") for _, d in g.nodes(data=True)}:
            nodes = [n for n, d in g.nodes(data=True) if d.get("kind", "gate") == kind]
            colours = [cmap(communities.get(n, 0) % 10) for n in nodes]
            nx.draw_networkx_nodes(g, pos, nodelist=nodes, node_color=colours, ax=ax,
                                   node_shape=shapes.get(kind, "o"), node_size=420,
                                   edgecolors="black", linewidths=1.5 if kind in shapes else 0.5)
        nx.draw_networkx_labels(g, pos, {n: d.get("label", str(n)) for n, d in g.nodes(data=True)},
                                ax=ax, font_size=8)
    ax.set_title(title)
    ax.set_axis_off()
    return _save(fig, path)


def scatter_matrix(columns: Mapping[str, Sequence[float]], path: str | Path) -> Path:
    """Pairwise scatter plots of the measures (histograms on the diagonal)."""
    names = list(columns)
    data = {n: np.asarray(columns[n], float) for n in names}
    k = len(names)
    fig, axes = plt.subplots(k, k, figsize=(2.4 * k, 2.4 * k), squeeze=False)
    for i, yn in enumerate(names):
        for j, xn in enumerate(names):
            ax = axes[i, j]
            if i == j:
                finite = data[xn][np.isfinite(data[xn])]
                ax.hist(finite if finite.size else [0.0], bins=15, color="0.6")
            else:
                ax.plot(data[xn], data[yn], "o", ms=3, alpha=0.6)
            if i == k - 1:
                ax.set_xlabel(xn)
            if j == 0:
                ax.set_ylabel(yn)
    return _save(fig, path)
