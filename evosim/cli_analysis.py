"""``evosim plot``, ``draw``, ``export``, ``broadness`` and ``dependence``: looking at one run
file;
``evosim compare``: conditions of many runs side by side.

Standalone click commands, registered on the main group in :mod:`evosim.cli`.  Heavy imports
(matplotlib, task kernels) happen inside the commands so ``evosim --help`` stays instant.  Every
failure a user can cause (a bad file, a generation without a snapshot, an unknown format or
measure) is a one-line error with exit code 2.
"""
from __future__ import annotations

from pathlib import Path

import click
import numpy as np

from evosim.cli_options import UserError
from evosim.io import History, RunFileError, load

__all__ = ["plot", "draw", "export", "compare", "broadness", "dependence"]

_RUN_FILE = click.Path(dir_okay=False, path_type=Path)


IMAGE_SUFFIXES = (".png", ".pdf", ".svg", ".jpg", ".jpeg", ".tif", ".tiff", ".eps", ".ps",
                  ".webp")


def _load(path: Path) -> History:
    try:
        return load(path)
    except RunFileError as err:
        raise UserError(str(err)) from None


def _output(path: Path, suffixes: tuple[str, ...], what: str) -> Path:
    """An output path checked before any work: a known suffix and a folder one can write."""
    if path.suffix.lower() not in suffixes:
        raise UserError(f"-o {path}: {what} needs one of the suffixes {', '.join(suffixes)}")
    folder = path.parent
    if folder.exists() and not folder.is_dir():
        raise UserError(f"-o {path}: {folder} is not a folder")
    return path


def _writing(write, path: Path):
    """Run ``write()``; a file system's refusal is one line."""
    try:
        return write()
    except OSError as err:
        raise UserError(f"{path}: cannot write here ({err.strerror or err})") from None


def _chosen_network(run_file: Path, generation: int | None, out: Path | None):
    """(the run, its network at ``generation`` or the last solving one, that network's history
    row); the figure path ``out`` is checked first. A missing snapshot is one line."""
    if out is not None:
        _output(out, IMAGE_SUFFIXES, "a figure")
    h = _load(run_file)
    from evosim.analysis.networks import NoSnapshotError, stored_network

    try:
        chosen = stored_network(h, generation)
    except NoSnapshotError as err:
        raise UserError(str(err)) from None
    return h, chosen, int(np.searchsorted(h["generation"], chosen.generation))


@click.command()
@click.argument("run_file", type=_RUN_FILE)
@click.option("-o", "--out", type=_RUN_FILE, help="PNG to write (default: RUN_FILE with .png).")
def plot(run_file: Path, out: Path | None) -> None:
    """Per goal epoch: the best's fitness at the epoch's end, solved epochs, Q of each epoch's
    solving network with a rolling median, Qm and z as points (short runs: every generation,
    epochs shaded)."""
    out = _output(out or run_file.with_suffix(".png"), IMAGE_SUFFIXES, "a figure")
    h = _load(run_file)
    from evosim.analysis.plots import plot_history

    click.echo(f"wrote {_writing(lambda: plot_history(h, out), out)}")


@click.command()
@click.argument("run_file", type=_RUN_FILE)
@click.option("-g", "--generation", type=int, help="Draw the best of this generation, or the "
                                                    "latest stored before it (default: the "
                                                    "last solving network).")
@click.option("-o", "--out", type=_RUN_FILE, help="PNG to write (default: RUN_FILE-g<G>.png).")
def draw(run_file: Path, generation: int | None, out: Path | None) -> None:
    """A network of the run, layered, nodes coloured by the max-Q partition: by default the last
    solving network (the last solving best of the last solved goal epoch)."""
    h, chosen, row = _chosen_network(run_file, generation, out)
    from evosim.analysis.networks import run_network
    from evosim.analysis.plots import draw_network

    net = run_network(h, chosen.genome)
    gen = chosen.generation
    goal = h.goal_names[int(h["goal"][row])]
    from evosim.analysis.runs import performance_label

    what = performance_label(h)
    out = out or run_file.with_name(f"{run_file.stem}-g{gen}.png")
    title = (f"{run_file.name}: generation {gen}, goal {goal}, {what} "
             f"{h['fitness_best'][row]:.3f}, max Q = {net.q:.3f} "
             f"({'directed' if net.directed else 'undirected'})")
    written = _writing(lambda: draw_network(net.graph, net.communities, out, title), out)
    click.echo(f"drew generation {gen}: {chosen.description}")
    click.echo(f"wrote {written}")


@click.command()
@click.argument("run_file", type=_RUN_FILE)
@click.option("-f", "--format", "fmt", default="csv", show_default=True,
              help="csv, or parquet (needs pyarrow).")
@click.option("-o", "--out", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
              help="File to write (default: RUN_FILE with the format's suffix; csv: - for stdout).")
def export(run_file: Path, fmt: str, out: Path | None) -> None:
    """The history columns as a table: one row per generation."""
    from evosim.analysis.export import FORMATS, ExportError, export as write, to_csv

    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise UserError(f"--format: unknown format {fmt!r}; allowed: {', '.join(FORMATS)}")
    h = _load(run_file)
    if out is not None and str(out) == "-":
        if fmt != "csv":
            raise UserError(f"--format {fmt} cannot go to stdout; give -o FILE")
        to_csv(h, click.open_file("-", "w"))
        return
    out = _output(out or run_file.with_suffix(f".{fmt}"), (f".{fmt}",), f"--format {fmt}")
    try:
        path = _writing(lambda: write(h, fmt, out), out)
    except ExportError as err:
        raise UserError(str(err)) from None
    click.echo(f"wrote {path} ({len(h)} rows)")


@click.command()
@click.argument("runs", nargs=-1, type=click.Path(path_type=Path))
@click.option("--by", multiple=True, metavar="KEY",
              help="Group runs by this config key, e.g. schedule.kind (repeatable; default: "
                   "the keys whose values differ between the runs).")
@click.option("-m", "--measure", "measures", multiple=True, metavar="NAME",
              help="A per-run measure (repeatable; default: "
                   "q_solved, qm_solved, z_solved, resolve_rate, median_resolve, t_solve).")
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path),
              default=Path("compare"), show_default=True, help="Folder for the report.")
@click.option("--bootstrap", type=click.IntRange(min=1), default=10_000, show_default=True,
              help="Bootstrap resamples for the CIs.")
@click.option("--seed", type=int, default=0, show_default=True, help="Bootstrap seed.")
@click.option("--list-measures", is_flag=True, help="List the measures and stop.")
def compare(runs: tuple[Path, ...], by: tuple[str, ...], measures: tuple[str, ...], out: Path,
            bootstrap: int, seed: int, list_measures: bool) -> None:
    """Compare conditions of RUNS (run files, or folders of them): conditions are formed from
    the configs recorded in the files; per measure a table, pairwise Mann-Whitney tests with
    Cliff's delta, and the distributions, into OUT/compare.md."""
    from evosim.analysis.runs import DEFAULT_MEASURES, MEASURES, AnalysisError, get_measure

    if list_measures:
        for m in MEASURES.values():
            click.echo(f"{m.name:16} {m.description}")
        return
    try:
        chosen = [get_measure(name) for name in (measures or DEFAULT_MEASURES)]
        if not runs:
            raise AnalysisError("compare: give run files or folders of them")
        from evosim.analysis.conditions import load_conditions

        conditions = load_conditions(runs, by)
    except (AnalysisError, RunFileError) as err:
        raise UserError(str(err)) from None
    from evosim.analysis.compare import compare_report
    from evosim.analysis.report import emit_warnings

    notes = emit_warnings(conditions)
    path = _writing(lambda: compare_report(conditions, chosen, out, notes, by, bootstrap, seed),
                    out)
    for c in conditions:
        click.echo(f"{c.name}: {len(c)} runs ({int(c.censored.sum())} never solved)")
    click.echo(f"wrote {path}")


@click.command()
@click.argument("run_file", type=_RUN_FILE)
@click.option("-g", "--generation", type=int, help="The best of this generation, or the latest "
                                                    "stored before it (default: the last solving "
                                                    "network).")
@click.option("--mutations", type=click.IntRange(1, 10), default=3, show_default=True,
              help="The most mutations at once (1 is enumerated, more are sampled).")
@click.option("--draws", type=click.IntRange(1, 10**6), default=1000, show_default=True,
              help="Random mutants per number of mutations above 1 (gradient runs: random "
                   "perturbations per size, at most 200).")
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=0, show_default=True,
              help="Seed of the random mutants.")
@click.option("-o", "--out", type=_RUN_FILE,
              help="Figure to write (default: RUN_FILE-broadness-g<G>.png); the figures beside "
                   "it with .h5.")
def broadness(run_file: Path, generation: int | None, mutations: int, draws: int, seed: int,
              out: Path | None) -> None:
    """Broadness of a network's optimum. Evolved: the fraction of all single mutations that keep
    its performance under the goal in force, and of 2, 3, ... random ones, with the performance
    they lose. Gradient-trained: the output Jacobian's singular values, rank and flat directions
    on the training data, the loss's largest Hessian eigenvalues, and the loss under random
    perturbations."""
    h, chosen, row = _chosen_network(run_file, generation, out)
    from evosim.analysis.networks import task_of

    task, _ = task_of(h)
    goal = int(h["goal"][row])
    out = out or run_file.with_name(f"{run_file.stem}-broadness-g{chosen.generation}.png")
    title = f"{run_file.name}: generation {chosen.generation}, goal {h.goal_names[goal]}"
    if h.trained_weights:
        _gradient_broadness(h, chosen, task, goal, draws, seed, out, title)
        return
    from evosim.analysis.plots import plot_robustness
    from evosim.broadness import mutational_robustness, write

    result = mutational_robustness(task, chosen.genome, task.pack(h.goal_targets[goal])[0],
                                   mutations, draws, np.random.default_rng(seed))
    click.echo(f"generation {chosen.generation} ({chosen.description}), goal "
               f"{h.goal_names[goal]}, performance {result.performance:.4f}")
    for k, (kept, loss) in enumerate(zip(result.kept, result.loss), start=1):
        how = f"all {result.n_single}" if k == 1 else f"{draws} random"
        click.echo(f"  {k} mutation{'s' if k > 1 else ' '} ({how}): {kept:.3f} keep "
                   f"performance, mean loss {loss:.4f}")
    data = out.with_suffix(".h5")
    _writing(lambda: write(data, result, run_file=str(run_file), generation=chosen.generation,
                           goal=h.goal_names[goal], draws=draws, seed=seed), data)
    click.echo(f"wrote {data} and {_writing(lambda: plot_robustness(result, out, title), out)}")


def _gradient_broadness(h, chosen, task, goal, draws, seed, out, title) -> None:
    """``broadness`` of a gradient run's network: the output Jacobian's spectrum on the training
    data, the loss's top Hessian eigenvalues and the loss under random perturbations."""
    from evosim import config as cfg
    from evosim.analysis.plots import plot_broadness_spectrum
    from evosim.gradient.broadness import network_broadness, write

    b = network_broadness(cfg.loads(h.config_toml), task, chosen.genome, h.goal_targets[goal],
                          min(draws, 200), np.random.default_rng(seed))
    s = b.spectrum
    click.echo(f"epoch {chosen.generation} ({chosen.description}), goal {h.goal_names[goal]}")
    click.echo(f"  output Jacobian: {s.n_parameters} parameters, rank {s.rank} (singular values "
               f"above {s.rtol:g} x the largest), {s.null_dimension} flat directions")
    click.echo("  largest singular values: "
               + ", ".join(f"{v:.3g}" for v in s.singular_values[:5]))
    click.echo("  largest Hessian eigenvalues of the loss: "
               + ", ".join(f"{v:.4g}" for v in b.hessian_top))
    for scale, row in zip(b.scales, b.increase):
        click.echo(f"  perturbation {scale:g} x RMS parameter: loss +{np.median(row):.4g} "
                   f"(median of {row.size})")
    data = out.with_suffix(".h5")
    _writing(lambda: write(data, b, run_file=str(h.path), epoch=chosen.generation,
                           goal=h.goal_names[goal], draws=b.increase.shape[1], seed=seed), data)
    click.echo(f"wrote {data} and "
               f"{_writing(lambda: plot_broadness_spectrum(b, out, title), out)}")


@click.command()
@click.argument("run_file", type=_RUN_FILE)
@click.option("-g", "--generation", type=int, help="The best of this generation, or the latest "
                                                    "stored before it (default: the last solving "
                                                    "network).")
def dependence(run_file: Path, generation: int | None) -> None:
    """How each unit of a network depends on each input half: for evolved networks the Boolean
    derivatives (the fraction of patterns where flipping an input of the half changes the unit)
    and the mutual information with each half; for trained ones the mean |d a / d x|; and the
    network's scores."""
    h, chosen, _ = _chosen_network(run_file, generation, None)
    from evosim.analysis.networks import unit_dependence

    try:
        d = unit_dependence(h, chosen.genome)
    except ValueError as err:  # a recurrent circuit
        raise UserError(str(err)) from None
    click.echo(f"generation {chosen.generation} ({chosen.description}): {len(d.units)} units")
    click.echo("unit  depends on left  right   information left  right (bits; evolved only)")
    for u, (dep, info) in enumerate(zip(d.dependence, d.information)):
        click.echo(f"{d.units[u]:>4}  {dep[0]:15.3f}  {dep[1]:5.3f}   {info[0]:16.3f}  "
                   f"{info[1]:5.3f}")
    click.echo(f"units depending on one half only: {d.one_sided:.3f}; max Q of the unit-input "
               f"dependency graph: {d.q_dependency:.3f}{'' if d.q_exact else ' (Louvain)'}")
