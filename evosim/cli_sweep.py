"""``evosim sweep``: many runs (seeds x conditions) into one folder, locally or on Dask/SLURM.

A thin click layer over ``evosim.sweep``: it builds the base config exactly as ``evosim run`` does
(same flags, through ``cli_options``), turns library errors into one-line ``UserError``s, shows a
progress bar over runs, and prints a folder's status table.
"""
from __future__ import annotations

import sys
import tempfile
import tomllib
from collections import Counter
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import click
import tomli_w

from evosim import config as cfg
from evosim import sweep as sw
from evosim import xp
from evosim.engine import batched
from evosim.cli_options import UserError, build_config, config_options, config_path


@click.command()
@click.argument("target", required=False)
@click.option("--seeds", metavar="SEEDS", help="Seeds, e.g. 0-49, 1,5,9 or 0-9,20 "
                                               "(default: the config's run.seed).")
@click.option("--grid", multiple=True, metavar="KEY=V1,V2,...",
              help="Conditions: one run per value (several --grid: every combination).")
@click.option("--out", type=click.Path(file_okay=False), help="Folder of the sweep's run files.")
@click.option("--workers", type=click.IntRange(min=1),
              help="Local processes (default: every core this process may use; 1 runs in this "
                   "process), or the "
                   "workers of --dask local.")
@click.option("--retries", type=click.IntRange(min=0), default=2, show_default=True,
              help="Retries of a run that fails before it is reported as failed.")
@click.option("--dask", metavar="ADDRESS|local",
              help="Run on the Dask scheduler at ADDRESS, or on a local Dask cluster.")
@click.option("--slurm", is_flag=True, help="Run on SLURM through dask-jobqueue (settings: "
                                           "--jobs/--cores/--memory/--walltime or a [sweep] "
                                           "table in the config file).")
@click.option("--jobs", type=click.IntRange(min=1), help="--slurm: batch jobs.")
@click.option("--cores", type=click.IntRange(min=1), help="--slurm: cores (= runs) per job.")
@click.option("--memory", help="--slurm: memory per job, e.g. 8GB.")
@click.option("--walltime", help="--slurm: time limit per job, e.g. 12:00:00.")
@click.option("--batch", type=click.IntRange(min=1), metavar="R",
              help="--engine cupy: at most R runs evolve together as one population on the "
                   "GPU (default: every run that can share a batch).")
@click.option("--status", "status_of", type=click.Path(file_okay=False), metavar="DIR",
              help="Show what each run of the sweep in DIR has done, and stop.")
@config_options
def sweep(target, seeds, grid, out, workers, retries, dask, slurm, jobs, cores, memory,
          walltime, batch, status_of, **flags) -> None:
    """Run TARGET (a task name or a config file) for every seed and grid point, one run file
    each, into --out. The same command again skips complete runs and resumes the others."""
    try:
        if status_of:
            _print_status(status_of)
            return
        if not target or not out:
            raise UserError("sweep: give a task or config file and --out DIR (or --status DIR)")
        if dask and slurm:
            raise UserError("sweep: --dask and --slurm exclude each other")
        if seeds is not None and flags.get("seed") is not None:
            raise UserError("sweep: --seed and --seeds exclude each other")
        base, table = _base_config(target, flags)
        plan = sw.expand(base, sw.parse_grid(grid),
                         sw.parse_seeds(seeds) if seeds is not None else [base.run.seed])
        on_gpu = any(batched.on_gpu(cfg.loads(spec.config_toml)) for spec in plan.runs)
        if batch is not None and not on_gpu:
            raise UserError("--batch: only runs evolving on the cupy engine (--engine cupy) "
                            "batch; these do not")
        sw.prepare_folder(plan, Path(out))  # a wrong folder is refused before any cluster starts
        remote = slurm or (dask is not None and dask != "local")
        if on_gpu and not remote:  # a cluster's GPUs are its workers' to check
            xp.gpu_module()  # refused in one line before any run starts
            workers = workers or 1  # one GPU: its batches one after another, in this process
        if slurm:
            backend = sw.slurm_backend(sw.slurm_options(
                table, {"jobs": jobs, "cores": cores, "memory": memory, "walltime": walltime}))
        elif dask:
            backend = sw.dask_backend(dask, workers)
        else:
            backend = sw.local_backend(workers)
        summaries = _run_with_progress(plan, Path(out), backend, retries, batch)
    except (cfg.ConfigError, sw.SweepError, xp.GPUUnavailable) as err:
        raise UserError(str(err)) from None
    _report(summaries, len(plan.runs), out)


def _base_config(target: str, flags: dict[str, Any]) -> tuple[cfg.Config, dict[str, Any]]:
    """The config of TARGET with the flags applied, and the file's ``[sweep]`` table (SLURM
    settings), which is not part of a run's config and so is taken out before it is read."""
    try:
        path = config_path(target)
    except cfg.ConfigError as err:
        raise UserError(str(err)) from None
    data = {}
    if path is not None and path.is_file():
        try:
            data = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError):
            pass  # build_config reports it, naming the file
    table = data.pop("sweep", {})
    if not isinstance(table, dict):
        raise UserError(f"{target}: [sweep] must be a table")
    if not table:
        return build_config(target, **flags), {}
    with tempfile.TemporaryDirectory() as folder:
        stripped = Path(folder) / path.name
        stripped.write_text(tomli_w.dumps(data))
        return build_config(str(stripped), **flags), table


def _run_with_progress(plan: sw.Sweep, out: Path, backend, retries: int,
                       batch: int | None) -> list[dict]:
    with backend as chosen:
        click.echo(f"sweep: {len(plan.runs)} runs into {out} ({chosen.description})", err=True)
        terminal = sys.stderr.isatty()  # else a log: one line per finished run, no bar
        shown = (click.progressbar(length=len(plan.runs), label="runs", show_pos=True,
                                   file=sys.stderr, item_show_func=_describe)
                 if terminal else nullcontext())
        try:
            with shown as bar:
                return sw.run_sweep(plan, out, chosen, retries=retries, batch=batch,
                                    on_result=(lambda s: bar.update(1, current_item=s))
                                    if terminal else _log_line)
        except KeyboardInterrupt:
            click.echo(("\n" if terminal else "")
                       + "stopped; continue with the same command", err=True)
            sys.exit(130)


def _log_line(summary: dict) -> None:
    """One finished run, for a log: its name, status and seconds (a batch's runs share theirs)."""
    seconds = "already complete" if summary.get("skipped") else f"{summary['seconds']:.1f} s"
    if summary.get("batch", 1) > 1:
        seconds += f" for its batch of {summary['batch']} runs"
    click.echo(f"{summary['name']}: {summary['status']} ({seconds})", err=True)


def _describe(summary: dict | None) -> str:
    return f"{summary['name']}: {summary['status']}" if summary else ""


def _report(summaries: list[dict], total: int, out: str) -> None:
    counts = Counter(s["status"] for s in summaries)
    skipped = sum(1 for s in summaries if s.get("skipped"))
    click.echo(f"{out}: {counts.get('complete', 0)} of {total} runs complete "
               f"({skipped} already were)" + "".join(
                   f", {n} {state}" for state, n in counts.items() if state != "complete"))
    if counts.get("failed"):
        click.echo(f"failed runs: see evosim sweep --status {out} and the .failed files",
                   err=True)
        sys.exit(1)
    if counts.get("elsewhere"):
        click.echo(f"{counts['elsewhere']} runs are being written by another process; run the "
                   "same command again when it is done", err=True)
        sys.exit(130)
    if len(summaries) < total or counts.get("interrupted"):
        click.echo("interrupted; continue with the same command", err=True)
        sys.exit(130)


def _print_status(folder: str) -> None:
    states = sw.folder_status(folder)
    width = max([len(s.name) for s in states] + [3])
    click.echo(f"{'run':<{width}}  {'state':<11}  generation  note")
    for s in states:
        generation = "" if s.generation is None else str(s.generation)
        click.echo(f"{s.name:<{width}}  {s.state:<11}  {generation:>10}  {s.error}".rstrip())
    counts = Counter(s.state for s in states)
    click.echo(f"{len(states)} runs: " + ", ".join(
        f"{counts.get(state, 0)} {state}"
        for state in ("complete", "running", "interrupted", "failed", "pending"))
        + (f", {counts['damaged']} damaged" if counts.get("damaged") else ""))


