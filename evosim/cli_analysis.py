"""``evosim plot``, ``evosim draw`` and ``evosim export``: looking at one run file.

Standalone click commands, registered on the main group in :mod:`evosim.cli`.  Heavy imports
(matplotlib, task kernels) happen inside the commands so ``evosim --help`` stays instant.  Every
failure a user can cause (a bad file, a generation without a snapshot, an unknown format) is a
one-line error with exit code 2.
"""
from __future__ import annotations

from pathlib import Path

import click
import numpy as np

from evosim.cli_options import UserError
from evosim.io import History, RunFileError, load

__all__ = ["plot", "draw", "export"]

_RUN_FILE = click.Path(dir_okay=False, path_type=Path)


def _load(path: Path) -> History:
    try:
        return load(path)
    except RunFileError as err:
        raise UserError(str(err)) from None


@click.command()
@click.argument("run_file", type=_RUN_FILE)
@click.option("-o", "--out", type=_RUN_FILE, help="PNG to write (default: RUN_FILE with .png).")
def plot(run_file: Path, out: Path | None) -> None:
    """Fitness (best, mean) and Q, Qm of the best against generation, goal epochs shaded,
    first perfect solutions marked."""
    h = _load(run_file)
    from evosim.analysis.plots import plot_history

    click.echo(f"wrote {plot_history(h, out or run_file.with_suffix('.png'))}")


@click.command()
@click.argument("run_file", type=_RUN_FILE)
@click.option("-g", "--generation", type=int, help="Draw the best of this generation, or the "
                                                    "latest stored before it (default: the "
                                                    "last solving network).")
@click.option("-o", "--out", type=_RUN_FILE, help="PNG to write (default: RUN_FILE-g<G>.png).")
def draw(run_file: Path, generation: int | None, out: Path | None) -> None:
    """A network of the run, layered, nodes coloured by the max-Q partition: by default the last
    solving network (the last solving best of the last solved goal epoch)."""
    h = _load(run_file)
    from evosim.analysis.networks import NoSnapshotError, run_network, stored_network
    from evosim.analysis.plots import draw_network

    try:
        chosen = stored_network(h, generation)
    except NoSnapshotError as err:
        raise UserError(str(err)) from None
    net = run_network(h, chosen.genome)
    gen = chosen.generation
    row = int(np.searchsorted(h["generation"], gen))
    goal = h.goal_names[int(h["goal"][row])]
    what = "training accuracy" if h.attrs.get("mode") == "gradient" else "fitness"
    out = out or run_file.with_name(f"{run_file.stem}-g{gen}.png")
    title = (f"{run_file.name}: generation {gen}, goal {goal}, {what} "
             f"{h['fitness_best'][row]:.3f}, max Q = {net.q:.3f} "
             f"({'directed' if net.directed else 'undirected'})")
    click.echo(f"drew generation {gen}: {chosen.description}")
    click.echo(f"wrote {draw_network(net.graph, net.communities, out, title)}")


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
    try:
        path = write(h, fmt, out or run_file.with_suffix(f".{fmt}"))
    except ExportError as err:
        raise UserError(str(err)) from None
    click.echo(f"wrote {path} ({len(h)} rows)")
