"""The ``evosim`` command line (click): run, show, tasks, config show."""
from __future__ import annotations

import dataclasses
import math
import sys

import click
import numpy as np
import tomli_w

from evosim import config as cfg
from evosim.cli_options import UserError, build_config, config_options, load_target
from evosim.io import RunFileError, load


class _OneLineGroup(click.Group):
    """Usage errors (a bad option, a folder where a file goes) as one line, exit code 2, like
    every other error of evosim."""

    def parse_args(self, ctx, args):
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as err:
            raise UserError(_usage(err)) from None

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except click.UsageError as err:
            raise UserError(_usage(err)) from None


def _usage(err: click.UsageError) -> str:
    where = err.ctx.command_path if err.ctx else "evosim"
    return f"{where}: {err.format_message()} (see {where} --help)"


@click.group(cls=_OneLineGroup)
@click.version_option(package_name="evosim")
def main() -> None:
    """Evolve NAND circuits under fixed and modularly varying goals; record modularity to HDF5."""


@main.command()
@click.argument("target", required=False)
@config_options
@click.option("--out", type=click.Path(dir_okay=False), help="Run file (default runs/...h5).")
@click.option("--force", is_flag=True, help="Overwrite an existing --out file.")
@click.option("--resume", type=click.Path(dir_okay=False),
              help="Continue an interrupted run (with --generations: extend a run).")
@click.option("--quiet", is_flag=True, help="No progress bar or notes: print only the path of "
                                           "the run file written.")
def run(target, out, force, resume, quiet, **flags) -> None:
    """Run TARGET: a task (logic-gates, retina; digit-pairs in gradient mode), a config file,
    or the name of a shipped config (e.g. ka2005-logic-mvg; evosim configs lists them)."""
    from evosim import runner  # imported here so `evosim --help` stays instant

    try:
        if resume:
            extend = _resume_flags(target, out, force, flags)
            result = _with_progress(
                lambda cb: runner.resume(resume, progress=cb, generations=extend), resume, quiet)
        else:
            if not target:
                raise UserError("run: give a task (e.g. logic-gates) or a config file, "
                                "or --resume FILE")
            config = build_config(target, **flags)
            label = out or "runs/"
            say = None if quiet else (lambda line: click.echo(line, err=True))
            result = _with_progress(
                lambda cb: runner.run(config, out, force=force, progress=cb, notice=say), label,
                quiet)
    except (cfg.ConfigError, runner.RunError, RunFileError) as err:
        raise UserError(str(err)) from None
    except KeyboardInterrupt:  # before the run's first block was written
        click.echo("interrupted before any generation was recorded", err=True)
        sys.exit(130)
    if result.status == "interrupted":
        click.echo(f"interrupted at generation {result.generation}; "
                   f"continue with: evosim run --resume {result.path}", err=True)
        sys.exit(130)
    click.echo(result.path if quiet else f"wrote {result.path} ({result.status})")


def _resume_flags(target, out, force, flags) -> int | None:
    """--resume continues a run as it was configured: the only flag it takes is --generations
    (or --epochs), to extend the run; anything else is refused by name."""
    names = {"assignments": "--set"}
    given = [names.get(k, "--" + k.replace("_", "-")) for k, v in flags.items()
             if v not in (None, (), False) and k not in ("generations", "epochs")]
    given += [w for w, v in (("TARGET", target), ("--out", out), ("--force", force)) if v]
    if given:
        raise UserError(f"--resume continues a run as it was configured; it takes --generations "
                        f"(to extend the run) and --quiet, not {', '.join(given)}")
    return flags.get("generations") or flags.get("epochs")


def _with_progress(start, label, quiet):
    """Run ``start(callback)`` with a progress bar that appears with the first block, so an
    error before the run begins is the only line printed."""
    if quiet:
        return start(None)
    bars, seen = [], [0]

    def update(p):
        if not bars:
            bars.append(click.progressbar(length=p.generations + 1, label=f"evosim -> {label}",
                                          show_pos=True, item_show_func=_describe,
                                          file=sys.stderr))
            bars[0].__enter__()
        done = p.generation + 1
        bars[0].update(done - seen[0], current_item=p)
        seen[0] = done

    try:
        return start(update)
    finally:
        if bars:
            bars[0].__exit__(None, None, None)


def _describe(p) -> str:
    if p is None:
        return ""
    if p.epochs:
        return (f"epoch {p.generation}  loss {p.loss:.4g}  accuracy {p.fitness_best:.3f}  "
                f"goal {p.goal}  Q {p.q_best:.3f}")
    return f"gen {p.generation}  best {p.fitness_best:.3f}  goal {p.goal}  Q {p.q_best:.3f}"


@main.command()
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--config/--no-config", "show_config", default=True,
              help="Print the config sections that apply to the run too.")
def show(path, show_config) -> None:
    """Summarise a run file: what ran, how often its goal epochs were solved and re-solved, the
    modularity of the networks that solved them, and the final best."""
    try:
        h = load(path)
    except RunFileError as err:
        raise UserError(str(err)) from None
    a = h.attrs
    click.echo(f"{path}")
    gradient = a["mode"] == "gradient"
    engine = "" if gradient else f"engine {a.get('engine', '?')}  "
    click.echo(f"  task {a['task']}  mode {a['mode']}  {engine}seed {a['seed']}  "
               f"status {a['status']}")
    if len(h) == 0:
        click.echo("  no generations recorded yet")
        return
    gen = h["generation"]
    unit = "epochs" if gradient else "generations"
    click.echo(f"  {unit} {gen[0]}..{gen[-1]} ({len(h)} rows)  goals {', '.join(h.goal_names)}")
    from evosim.analysis.runs import is_regression

    regression = is_regression(h)
    if not regression:  # a regression's goal is a loss to lower: nothing is "solved"
        click.echo("  first solved: " + ", ".join(
            f"{name} at {g}" if g is not None else f"{name} never"
            for name, g in h.first_solved().items()))
    try:
        config = cfg.loads(h.config_toml)
    except cfg.ConfigError:
        config = None
    if h.epochs:
        for line in (_regression_epoch_lines(h, unit) if regression else _epoch_lines(h, unit)):
            click.echo("  " + line)
    _final_lines(h, gradient)
    click.echo(f"  Q method {a.get('q_method') or '—'}; Qm null model "
               f"{a.get('qm_null_model') or '— (none computed)'}")
    if show_config and config is not None:
        click.echo(f"config (what a {config.task.name} {config.run.mode} run reads; the file "
                   "holds the whole config):")
        text = tomli_w.dumps(cfg.applicable(config)).strip()
        click.echo("\n".join("  " + line for line in text.splitlines()))


def _epoch_lines(h, unit: str) -> list[str]:
    """What /epochs says (``evosim.analysis.summarise``: full goal epochs only): epochs solved,
    overall and after the run's first solution, re-solve times, the solving networks' Q/Qm/z."""
    from evosim.analysis import summarise
    from evosim.analysis.runs import epoch_mean

    s = summarise(h)
    short = int(len(h.epochs["start"])) - s.n_epochs
    lines = [f"goal epochs: {s.n_epochs} of {s.period} {unit}"
             + (f" (and {short} shorter, left out)" if short else "")]
    if not s.n_epochs:
        return lines
    overall = f"solved in {s.n_solved} of {s.n_epochs} ({s.solved_rate_all:.1%})"
    if s.n_resolve:
        again = round(s.resolve_rate * s.n_resolve)
        lines.append(f"{overall}; after the first solution: re-solved in {again} of "
                     f"{s.n_resolve} ({s.resolve_rate:.1%})")
    else:
        lines.append(overall)
    if math.isfinite(s.median_resolve):
        lines.append(f"re-solve time: median {s.median_resolve:g} {unit} from the switch")
    n_z = int(np.isfinite(h.epochs["z_solved"][h.epochs["length"] >= s.period]).sum())
    parts = [f"{name} {value:.4f} (mean of {n})" if n else f"{name} — (none)"
             for name, value, n in (("Q", s.q_solved, s.n_q_solved),
                                    ("Qm", s.qm_solved, s.n_qm_solved), ("z", s.z_solved, n_z))]
    lines.append("solving networks (the last solving best of each solved epoch): "
                 + ", ".join(parts))
    (sided, n_d), (q_dep, _) = (epoch_mean(h, "one_sided_solved"),
                                epoch_mean(h, "q_dependency_solved"))
    if n_d:
        lines.append(f"their dependence on the input halves (where Qm is): units one-sided "
                     f"{sided:.3f}, Q of the dependency graph {q_dep:.4f} (mean of {n_d})")
    return lines


def _regression_epoch_lines(h, unit: str) -> list[str]:
    """A regression's goal epochs: how low the loss got by each epoch's end, and the modularity
    of the network there (no epoch is "solved")."""
    from evosim.analysis.runs import full_epochs, period_of

    e = full_epochs(h)
    lines = [f"goal epochs: {len(e['start'])} of {period_of(h)} {unit}"]
    if len(e["start"]):
        ends = e["start"] + e["length"] - 1
        rows = np.searchsorted(h["generation"], ends)
        losses = "loss_train" if "loss_train" in h.columns else "relaxed_loss"
        loss, q = h[losses][rows], e["q_end"]
        lines.append(f"at the epochs' ends: training loss mean {np.mean(loss):.4g} (last "
                     f"{loss[-1]:.4g}); Q of the network {np.nanmean(q):.4f} (mean of "
                     f"{int(np.isfinite(q).sum())})")
    return lines


def _final_lines(h, gradient: bool) -> None:
    from evosim.analysis.runs import performance_label

    what = performance_label(h)
    row = len(h) - 1
    parts = [f"{what} {h['fitness_best'][row]:.4f}"]
    for name, column in (("Q", "q_best"), ("Qm", "qm_best"), ("z", "z")):
        if column in h.columns and np.isfinite(h[column][row]):
            parts.append(f"{name} {h[column][row]:.4f}")
    click.echo(f"  best at the last row ({h['generation'][row]}): " + ", ".join(parts))
    if gradient and not h.trained_weights:
        click.echo(f"  relaxed network: loss {h['relaxed_loss'][-1]:.4g}, accuracy "
                   f"{h['relaxed_accuracy'][-1]:.4f} (discretisation gap "
                   f"{h['discretisation_gap'][-1]:.4f}); temperature {h['temperature'][-1]:.3g}")
    elif gradient:
        click.echo(f"  loss: train {h['loss_train'][-1]:.4g}, test {h['loss_test'][-1]:.4g}; "
                   f"test accuracy {h['accuracy_test'][-1]:.4f}; activation change "
                   f"{h['activation_change'][-1]:.4f}")


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


@main.command("configs")
def configs_list() -> None:
    """List the configs that come with evosim, one line each (run one by name: evosim run
    NAME; a NAME.toml in the current folder is found first)."""
    from evosim import config_files

    shipped = config_files.shipped()
    width = max(map(len, shipped), default=0)
    for name, path in shipped.items():
        click.echo(f"{name:<{width}}  {config_files.summary(path)}")


@main.group("config")
def config_group() -> None:
    """Inspect configurations."""


@config_group.command("show")
@click.argument("target")
def config_show(target) -> None:
    """Print the config of a task (its defaults), a config file or a shipped config's name as
    annotated TOML."""
    try:
        config = load_target(target)
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
    from evosim.cli_analysis import broadness, compare, dependence, draw, export, plot
    from evosim.cli_sample import sample
    from evosim.cli_sweep import sweep

    for command in (sweep, plot, draw, export, compare, sample, broadness, dependence):
        main.add_command(command)


_register_commands()
