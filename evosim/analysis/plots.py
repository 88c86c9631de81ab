"""Figures of runs and networks (matplotlib, Agg backend: they are written to files, never shown).

Each function takes the data, writes one PNG and returns its path, so the CLI and the report scripts
share the same figures.
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402

from evosim.analysis.runs import is_regression, performance_label  # noqa: E402
from evosim.analysis.stats import rolling_median  # noqa: E402
from evosim.io import History  # noqa: E402

__all__ = ["save_figure", "plot_history", "plot_distributions", "plot_trajectories", "draw_network",
           "network_layout", "scatter_matrix"]

_DPI = 120


def save_figure(fig, path: str | Path) -> Path:
    """Write a figure (its folder made), close it, return the path: every figure of evosim and
    of the analysis/ scripts goes out this way."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=_DPI, bbox_inches="tight")
    plt.close(fig)
    return path


SHADE_MAX_EPOCHS = 40   # above this many goal epochs, shading each one is a grey wall


def _shade_epochs(ax, h: History, label: str | None = "alternate goal epochs") -> None:
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
                        transform=ax.get_xaxis_transform(), linewidth=0, label=label)


_OUTSIDE = dict(loc="upper left", bbox_to_anchor=(1.08, 1.0), fontsize=8, frameon=False)


def _plain_axis(ax) -> None:
    """No offset notation, and a span of at least 1 for (nearly) constant values: a z that is
    the same to 1e-12 in every sample should read as a number, not as 1e-12 - 5.77e-1."""
    ax.yaxis.get_major_formatter().set_useOffset(False)
    lo, hi = ax.get_ylim()
    if hi - lo < 1e-6:
        ax.set_ylim(lo - 0.5, hi + 0.5)


def _window(n: int) -> int:
    """Epochs per rolling median: about a fiftieth of the run, at least 5 (odd)."""
    return max(5, n // 50) | 1


def _points(ax, x, y, label: str, color: str, ms: float = 2.5, marker: str = "o") -> None:
    ok = np.isfinite(y)
    if ok.any():
        ax.plot(x[ok], y[ok], marker=marker, ms=ms, color=color, alpha=0.5, ls="none",
                label=label)


def _rolling(ax, x, y, label: str, color: str) -> None:
    """A rolling median line: drawn (and in the legend) only where it is a line, 2+ points."""
    smooth = rolling_median(y, _window(len(y)))
    if np.isfinite(smooth).sum() >= 2:
        ax.plot(x, smooth, color=color, lw=1.5, label=label)


def plot_history(h: History, path: str | Path, title: str | None = None) -> Path:
    """A run at the level of its goal epochs (``/epochs``), readable for 1000 of them.

    Top: the best's fitness at each epoch's end (points) with a rolling median over epochs, and
    a rug of the solved epochs.  Middle: max Q of each epoch's last solving network (points, and
    a rolling median), beside the Q of the best at the epoch's end (grey).  Bottom (where
    computed): Qm and z of the solving networks and of the best at epoch ends (grey), as points:
    they are sparse samples, not a curve.  Runs of at
    most SHADE_MAX_EPOCHS epochs also show every generation's best and mean fitness over shaded
    epochs.  Files with no finished epoch yet get the history's columns alone."""
    e = h.epochs
    n = len(e.get("solved", ()))
    few = n <= SHADE_MAX_EPOCHS
    regression = is_regression(h)  # a loss to lower: no epoch is "solved"
    has_qm = n and any(np.isfinite(c).any() for c in
                       (e["qm_solved"], e["z_solved"], h["qm_best"], h["z"]))
    fig, axes = plt.subplots(3 if has_qm else 2, 1, sharex=True, figsize=(10, 8 if has_qm else 6))
    ax_f, ax_q = axes[0], axes[1]
    gen = h["generation"]
    if few:
        for k, ax in enumerate(axes):
            _shade_epochs(ax, h, label="alternate goal epochs" if k == 0 else None)
        ax_f.plot(gen, h["fitness_best"], lw=0.8, color="C0", alpha=0.6, label="best (each row)")
        if np.isfinite(h["fitness_mean"]).any():
            ax_f.plot(gen, h["fitness_mean"], lw=0.8, color="C1", alpha=0.6,
                      label="mean (each row)")
    if n:
        end = (e["start"] + e["length"] - 1).astype(np.float64)
        at = np.where(e["solved"], e["solved_at"], end).astype(np.float64)
        _points(ax_f, end, e["fitness_end"], "best at epoch end", "C0")
        _rolling(ax_f, end, e["fitness_end"], f"rolling median ({_window(n)} epochs)", "C3")
        solved = e["solved"].astype(bool) & (not regression)
        if solved.any():
            ax_f.plot(end[solved], np.full(solved.sum(), 0.03), "|", ms=8, mew=1, color="C2",
                      transform=ax_f.get_xaxis_transform(),
                      label=f"solved epochs ({solved.sum()} of {n})")
        _points(ax_q, end, e["q_end"], "Q of the best at epoch end", "0.6", ms=1.5)
        _points(ax_q, at, e["q_solved"], "Q of the epoch's last solving network", "C0")
        _rolling(ax_q, at, e["q_solved"], "rolling median (solving networks)", "C3")
        if has_qm:
            ax_m, ax_z = axes[2], axes[2].twinx()
            _points(ax_m, gen, h["qm_best"], "Qm of the best at epoch end", "0.6", ms=1.5)
            _points(ax_z, gen, h["z"], "z of the best at epoch end", "0.75", ms=1.5, marker="s")
            _points(ax_m, at, e["qm_solved"], "Qm (solving network)", "C4", ms=4)
            _points(ax_z, at, e["z_solved"], "z (solving network)", "C5", ms=4, marker="s")
            ax_m.set_ylabel("Qm")
            ax_z.set_ylabel("z")
            _plain_axis(ax_z)
            handles = [*ax_m.get_legend_handles_labels()[0], *ax_z.get_legend_handles_labels()[0]]
            ax_m.legend(handles=handles, **_OUTSIDE)
    else:
        ax_q.plot(gen, h["q_best"], lw=1, label="Q (best)")
    for k, (goal, first) in enumerate(h.first_solved().items()):
        if first is not None and not regression:
            ax_f.plot([first], [1.0], marker="v", color=f"C{(k + 5) % 10}", ms=8, ls="none",
                      label=f"{goal} first solved (gen {first})")
    ax_f.set_ylabel(performance_label(h))
    ax_q.set_ylabel("max Q")
    for ax in axes[:2]:
        ax.legend(**_OUTSIDE)
    for ax in axes:
        _plain_axis(ax)
    axes[-1].set_xlabel("training epoch" if h.attrs.get("mode") == "gradient" else "generation")
    ax_f.set_title(title or f"{h.path.name}: {h.attrs.get('task', '')}, seed "
                            f"{h.attrs.get('seed')}, {n} goal epochs "
                            f"(Q: {h.attrs.get('q_method', '?')})", fontsize=10)
    return save_figure(fig, path)


def _hviolin(ax, values: np.ndarray, y: float):
    """A horizontal violin (Matplotlib 3.10 renamed ``vert=False`` to ``orientation``)."""
    kw = dict(positions=[y], widths=0.8, showextrema=False)
    try:
        return ax.violinplot([values], orientation="horizontal", **kw)
    except TypeError:
        return ax.violinplot([values], vert=False, **kw)


def _wrap(label: str, width: int = 38) -> str:
    """A condition label over lines at its ", " separators (labels name several keys)."""
    lines, line = [], ""
    for part in label.split(", "):
        if line and len(line) + len(part) + 2 > width:
            lines.append(line + ",")
            line = part
        else:
            line = f"{line}, {part}" if line else part
    return "\n".join([*lines, line])


def plot_distributions(groups: Mapping[str, Mapping[str, Sequence[float]]], path: str | Path,
                       seed: int = 0,
                       cis: Mapping[str, Mapping[str, tuple[float, float]]] | None = None,
                       censored: Mapping[str, Mapping[str, Sequence[bool]]] | None = None
                       ) -> Path:
    """One panel per measure, one row per condition (labelled once, at the left; the runs with a
    value at the right): the runs as jittered points over a violin (runs are often bimodal,
    which a box hides), the mean as a black dot with its CI as a bar.
    ``groups[measure][condition]`` are the per-run values (NaNs left out); ``cis`` the CIs to mark;
    ``censored`` which runs' values are censored (drawn as open circles)."""
    rng = np.random.default_rng(seed)
    names = list(dict.fromkeys(n for by_condition in groups.values() for n in by_condition))
    k = max(len(groups), 1)
    n_cols = min(3, k)
    n_rows = -(-k // n_cols)
    labels = [_wrap(n) for n in names]
    row_height = 0.25 + 0.16 * max((label.count("\n") + 1 for label in labels), default=1)
    fig, axes = plt.subplots(n_rows, n_cols, squeeze=False, sharey=True,
                             figsize=(4.2 * n_cols, n_rows * (1.0 + row_height * len(names))))
    for ax in axes.flat[len(groups):]:
        ax.set_visible(False)
    for ax, (measure, by_condition) in zip(axes.flat, groups.items()):
        for i, name in enumerate(names):
            values = np.asarray(by_condition.get(name, []), float)
            mask = (censored or {}).get(measure, {}).get(name)
            flags = np.zeros(values.size, bool) if mask is None else np.asarray(mask, bool)
            ok = np.isfinite(values)
            d, open_ = values[ok], flags[ok]
            y, colour = -i, f"C{i % 10}"
            if np.unique(d).size > 1:
                for body in _hviolin(ax, d, y)["bodies"]:
                    body.set_facecolor(colour)
                    body.set_alpha(0.25)
            jitter = y + rng.uniform(-0.18, 0.18, d.size)
            ax.plot(d[~open_], jitter[~open_], "o", ms=4, alpha=0.7, color=colour)
            ax.plot(d[open_], jitter[open_], "o", ms=4, mfc="none", color=colour,
                    label="censored (never solved)" if open_.any() else None)
            if d.size:
                ci = (cis or {}).get(measure, {}).get(name)
                if ci is not None and np.isfinite(ci).all():
                    ax.plot(ci, [y + 0.32] * 2, color="black", lw=2, solid_capstyle="butt")
                ax.plot([d.mean()], [y + 0.32], "o", color="black", ms=4)
            ax.text(1.01, y, f"n={d.size}", transform=ax.get_yaxis_transform(), fontsize=7,
                    va="center")
        ax.set_title(measure, fontsize=10)
        handles, legend = ax.get_legend_handles_labels()
        if handles:
            ax.legend(handles[:1], legend[:1], fontsize=7, loc="best")
    axes[0, 0].set_yticks([-i for i in range(len(names))], labels)
    axes[0, 0].set_ylim(-len(names) + 0.4, 0.75)
    for ax in axes.flat:
        ax.tick_params(axis="y", labelsize=8)
    fig.text(0.01, 0.0, "points: runs; violin: their density; black: mean and its 95% CI",
             fontsize=7)
    with warnings.catch_warnings():  # long labels: bbox_inches="tight" makes room anyway
        warnings.simplefilter("ignore", UserWarning)
        fig.tight_layout()
    return save_figure(fig, path)


def plot_trajectories(groups: Mapping[str, tuple[np.ndarray, np.ndarray]], path: str | Path,
                      xlabel: str = "generation", ylabel: str = "Q") -> Path:
    """Mean +- sd band of a column over the runs of each condition:
    ``groups[condition] = (x, values[run, point])`` from :func:`runs.trajectories` or
    :func:`runs.epoch_series` (NaN points are gaps; small markers keep sparse points visible)."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    drawn = False
    for k, (name, (x, values)) in enumerate(groups.items()):
        rows = values[np.isfinite(values).any(axis=1)] if values.size else values
        if rows.size == 0:
            continue
        with warnings.catch_warnings():  # points where no run has a value stay NaN (a gap)
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(rows, axis=0)
            sd = np.nanstd(rows, axis=0)
        ax.plot(x, mean, color=f"C{k}", lw=1.5, marker="o", ms=2,
                label=f"{name} (n={len(rows)})")
        ax.fill_between(x, mean - sd, mean + sd, color=f"C{k}", alpha=0.2, linewidth=0)
        drawn = True
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if drawn:
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, "no run has a value", ha="center", va="center",
                transform=ax.transAxes)
    return save_figure(fig, path)


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
    return save_figure(fig, path)


def scatter_matrix(columns: Mapping[str, Sequence[float]], path: str | Path,
                   groups: Sequence[str] | None = None) -> Path:
    """Pairwise scatter plots of the measures (histograms on the diagonal), each of ``groups``
    (a label per point, e.g. its condition) in its own colour."""
    names = list(columns)
    data = {n: np.asarray(columns[n], float) for n in names}
    labels = np.asarray(groups if groups is not None else [""] * len(data[names[0]]))
    k = len(names)
    fig, axes = plt.subplots(k, k, figsize=(2.4 * k, 2.4 * k), squeeze=False)
    for i, yn in enumerate(names):
        for j, xn in enumerate(names):
            ax = axes[i, j]
            if i == j:
                finite = data[xn][np.isfinite(data[xn])]
                ax.hist(finite if finite.size else [0.0], bins=15, color="0.6")
            else:
                for label in dict.fromkeys(labels):
                    mine = labels == label
                    ax.plot(data[xn][mine], data[yn][mine], "o", ms=3, alpha=0.6, label=label)
            if i == k - 1:
                ax.set_xlabel(xn)
            if j == 0:
                ax.set_ylabel(yn)
    if len(set(labels)) > 1:
        axes[0, -1].legend(*axes[-1, 0].get_legend_handles_labels(), fontsize=7)
    return save_figure(fig, path)


def plot_robustness(result, path: str | Path, title: str) -> Path:
    """Mutational robustness against the number of mutations (``evosim.broadness.Robustness``):
    the fraction of mutants that keep performance, and the mean performance they lose."""
    k = np.arange(1, result.kept.size + 1)
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3.2))
    left.plot(k, result.kept, "o-", color="tab:blue")
    left.set(xlabel="mutations", ylabel="fraction keeping performance", ylim=(0, 1.02),
             xticks=k)
    right.plot(k, result.loss, "o-", color="tab:red")
    right.set(xlabel="mutations", ylabel="mean performance lost", xticks=k)
    for ax in (left, right):
        _plain_axis(ax)
    fig.suptitle(_wrap(title, 90), fontsize=9)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_broadness_spectrum(broadness, path: str | Path, title: str) -> Path:
    """A trained network's broadness (``evosim.gradient.broadness.Broadness``): the output
    Jacobian's singular values, and the loss increase against the perturbation's size."""
    s = broadness.spectrum
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3.2))
    values = np.maximum(s.singular_values, 1e-300)
    left.semilogy(np.arange(1, values.size + 1), values, ".", color="tab:blue")
    left.axhline(s.rtol * values[0], color="0.5", lw=0.8, ls="--")
    left.set(xlabel="index", ylabel="singular value",
             title=f"rank {s.rank} of {s.n_parameters} parameters")
    median = np.median(broadness.increase, axis=1)
    right.loglog(broadness.scales, np.maximum(median, 1e-12), "o-", color="tab:red")
    right.set(xlabel="perturbation / RMS parameter", ylabel="median loss increase")
    fig.suptitle(_wrap(title, 90), fontsize=9)
    fig.tight_layout()
    return save_figure(fig, path)
