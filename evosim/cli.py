"""The ``evosim`` command line (click): run, show, tasks, config show."""
from __future__ import annotations

import dataclasses
import sys

import click
import numpy as np
import tomli_w

from evosim import config as cfg
from evosim.cli_options import UserError, build_config, config_options
from evosim.io import RunFileError, load


@click.group()
@click.version_option(package_name="evosim")
def main() -> None:
    """Evolve NAND circuits under fixed and modularly varying goals; record modularity to HDF5."""


@main.command()
@click.argument("target", required=False)
@config_options
@click.option("--out", type=click.Path(dir_okay=False), help="Run file (default runs/...h5).")
@click.option("--force", is_flag=True, help="Overwrite an existing --out file.")
@click.option("--resume", type=click.Path(dir_okay=False), help="Continue an interrupted run.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def run(target, out, force, resume, quiet, **flags) -> None:
    """Run TARGET: a task name (logic-gates, retina) or a config file (configs/*.toml)."""
    from evosim import runner  # imported here so `evosim --help` stays instant

    try:
        if resume:
            result = _with_progress(lambda cb: runner.resume(resume, progress=cb), resume, quiet)
        else:
            if not target:
                raise UserError("run: give a task (e.g. logic-gates) or a config file, "
                                "or --resume FILE")
            config = build_config(target, **flags)
            label = out or "runs/"
            result = _with_progress(
                lambda cb: runner.run(config, out, force=force, progress=cb), label, quiet,
                total=config.run.generations + 1)
    except (cfg.ConfigError, runner.RunError, RunFileError) as err:
        raise UserError(str(err)) from None
    if result.status == "interrupted":
        click.echo(f"interrupted at generation {result.generation}; "
                   f"continue with: evosim run --resume {result.path}", err=True)
        sys.exit(130)
    click.echo(f"wrote {result.path} ({result.status})")


def _with_progress(start, label, quiet, total=None):
    if quiet:
        return start(None)
    if total is None:  # resuming: the total is in the file
        total = cfg.loads(load(label).config_toml).run.generations + 1
    with click.progressbar(length=total, label=f"evosim -> {label}", show_pos=True,
                           item_show_func=_describe, file=sys.stderr) as bar:
        seen = [0]

        def update(p):
            done = p.generation + 1
            bar.update(done - seen[0], current_item=p)
            seen[0] = done
        return start(update)


def _describe(p) -> str:
    if p is None:
        return ""
    return f"gen {p.generation}  best {p.fitness_best:.3f}  goal {p.goal}  Q {p.q_best:.3f}"


@main.command()
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--config/--no-config", "show_config", default=True, help="Print the config too.")
def show(path, show_config) -> None:
    """Summarise a run file: settings, solve times per goal, final Q and Qm, status."""
    try:
        h = load(path)
    except RunFileError as err:
        raise UserError(str(err)) from None
    a = h.attrs
    click.echo(f"{path}")
    click.echo(f"  task {a['task']}  mode {a['mode']}  engine {a.get('engine', '?')}  "
               f"seed {a['seed']}  status {a['status']}")
    if len(h) == 0:
        click.echo("  no generations recorded yet")
        return
    gen = h["generation"]
    unit = "epochs" if a["mode"] == "gradient" else "generations"
    click.echo(f"  {unit} {gen[0]}..{gen[-1]} ({len(h)} rows)  goals {', '.join(h.goal_names)}")
    first = h.first_solved()
    click.echo("  first solved: " + ", ".join(
        f"{name} at {g}" if g is not None else f"{name} never" for name, g in first.items()))
    what = "training accuracy" if a["mode"] == "gradient" else "best fitness"
    click.echo(f"  {what}: final {h['fitness_best'][-1]:.4f}, "
               f"solved in {h['solved'].mean():.1%} of {unit}")
    if a["mode"] == "gradient":
        click.echo(f"  loss: train {h['loss_train'][-1]:.4g}, test {h['loss_test'][-1]:.4g}; "
                   f"test accuracy {h['accuracy_test'][-1]:.4f}; activation change "
                   f"{h['activation_change'][-1]:.4f}")
    q = h["q_best"]
    if np.isfinite(q).any():
        last = q[np.isfinite(q)]
        click.echo(f"  Q of the best: final {last[-1]:.4f}, mean over the last 1000 generations "
                   f"{last[-1000:].mean():.4f}  ({a.get('q_method', '')})")
    qm = h["qm_best"]
    if np.isfinite(qm).any():
        i = np.flatnonzero(np.isfinite(qm))[-1]
        click.echo(f"  Qm of the best: {qm[i]:.4f} at generation {gen[i]}  "
                   f"(null model {a.get('qm_null_model', '')})")
    if show_config:
        click.echo("config:")
        click.echo("\n".join("  " + line for line in h.config_toml.strip().splitlines()))


@main.command()
def tasks() -> None:
    """List the tasks and their goals."""
    from evosim.goals import SCHEDULE_KINDS
    from evosim.tasks import TASKS, get_task

    for name, description in TASKS.items():
        task = get_task(cfg.TaskSection(name=name))
        click.echo(f"{name}: {description}")
        click.echo(f"  goals: {', '.join(task.goal_names())}")
        click.echo(f"  schedules: {', '.join(getattr(task, 'schedules', SCHEDULE_KINDS))}")


@main.group("config")
def config_group() -> None:
    """Inspect configurations."""


@config_group.command("show")
@click.argument("target")
def config_show(target) -> None:
    """Print the default config of a task (or a config file) as annotated TOML."""
    try:
        config = cfg.load(target) if target.endswith(".toml") else cfg.Config().replace(
            **{"task.name": target})
    except cfg.ConfigError as err:
        raise UserError(str(err)) from None
    types = {f.name: type(getattr(config, f.name)) for f in dataclasses.fields(config)}
    for section, values in cfg.to_dict(config).items():  # what a config file would hold
        fields = {f.name: f for f in dataclasses.fields(types[section])}
        click.echo(f"[{section}]")
        for key, value in values.items():
            line = tomli_w.dumps({key: value}).strip()
            if key not in fields:
                click.echo(f"{line:<40} # an argument of selection.operator")
                continue
            note = " (unverified)" if f"{section}.{key}" in cfg.UNVERIFIED_DEFAULTS else ""
            click.echo(f"{line:<40} # {cfg.describe(types[section], key)}; "
                       f"{fields[key].metadata.get('doc', '')}{note}")
        click.echo()


def _register_commands() -> None:
    """Commands that live in their own modules."""
    from evosim.cli_analysis import draw, export, plot
    from evosim.cli_sweep import sweep

    for command in (sweep, plot, draw, export):
        main.add_command(command)


_register_commands()
