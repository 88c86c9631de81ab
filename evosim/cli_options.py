"""What the commands that start runs share: their config flags, and one-line errors."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import click

from evosim import config as cfg
from evosim import config_files
from evosim.validate import validate

TASKS = cfg.choices(cfg.TaskSection, "name")


class UserError(click.ClickException):
    """A one-line error for the user, exit code 2, no traceback."""

    exit_code = 2

    def show(self, file=None) -> None:
        click.echo(f"error: {self.message}", err=True)


# (flag, dotted config key, click options) for the plain overrides
_FLAGS = [
    ("--generations", "run.generations", dict(type=int, help="Generations after the initial "
                                               "population (in gradient mode: epochs).")),
    ("--epochs", "run.generations", dict(type=int, help="Gradient mode: epochs (= --generations).")),
    ("--population", "run.population", dict(type=int, help="Population size.")),
    ("--period", "schedule.period", dict(type=int, help="Generations between goal switches.")),
    ("--seed", "run.seed", dict(type=int, help="Seed of the run.")),
    ("--engine", "run.engine", dict(type=click.Choice(["numba", "numpy", "deap", "cupy"]),
                                    help="Backend.")),
    ("--mode", "run.mode", dict(type=click.Choice(["evolution", "gradient"]),
                                help="Evolution, or gradient-trained networks.")),
    ("--selection", "selection.scheme", dict(type=click.Choice(["elitist", "tournament", "nsga2"]),
                                             help="Selection scheme (nsga2: performance and "
                                                  "connection cost as objectives).")),
    ("--cost", "cost.kind", dict(type=click.Choice(["none", "count", "length"]),
                                 help="Connection cost: number of connections or sum of squared "
                                      "lengths.")),
    ("--cost-p", "cost.p", dict(type=float, help="nsga2: probability the cost counts in a "
                                                 "comparison.")),
    ("--cost-weight", "cost.weight", dict(type=float, help="Penalty: fitness - weight * cost.")),
    ("--layout", "cost.layout", dict(type=click.Choice(["line", "grid", "evolved", "layered",
                                                          "optimal"]),
                                     help="Node positions for --cost length (evolved: gate "
                                          "positions are genes).")),
]


def config_options(command: Callable) -> Callable:
    """Add the config flags to a click command: the schedule switches, --goal, every flag of
    _FLAGS and --set KEY=VALUE. The command receives them as keyword arguments; pass those to
    ``build_config``."""
    options = [
        click.option("--mvg", is_flag=True,
                     help="Modularly varying goals (G1 <-> G2; retina: and <-> or)."),
        click.option("--rmvg", is_flag=True,
                     help="Random modularly varying goals: a new F(sub-goals) at each switch."),
        click.option("--random-goals", is_flag=True,
                     help="Control: a new random truth table at each switch."),
        click.option("--goal", help="Fixed goal by name (see `evosim tasks`)."),
        *(click.option(flag, flag.strip("-").replace("-", "_"), **kw) for flag, _, kw in _FLAGS),
        click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE",
                     help="Override any config key, e.g. --set variation.mutation_rate=0.5"),
    ]
    for option in reversed(options):
        command = option(command)
    return command


SCHEDULE_FLAGS = {"mvg": "mvg", "rmvg": "rmvg", "random_goals": "random"}


def config_path(target: str) -> Path | None:
    """The config file TARGET names: a path, or a config's name (``NAME.toml`` here, else a
    shipped config: ``config_files.find``); None where TARGET is a task's name."""
    if target in TASKS:
        return None
    path = Path(target)
    if target.endswith(".toml") or path.is_file():
        return path  # cfg.load says if it is missing
    found = config_files.find(target)
    if found is None:
        raise cfg.ConfigError(f"{target}: not a task, a config file or a config's name; tasks: "
                              f"{', '.join(TASKS)}; configs: evosim configs lists them")
    return found


def load_target(target: str) -> cfg.Config:
    """The config TARGET names: a task's defaults, or a config file's (``config_path``)."""
    path = config_path(target)
    return cfg.Config().replace(**{"task.name": target}) if path is None else cfg.load(path)


def build_config(target: str, goal: str | None = None, assignments: tuple[str, ...] = (),
                 mvg: bool = False, rmvg: bool = False, random_goals: bool = False,
                 **flags: Any) -> cfg.Config:
    """The config of TARGET (a task name or a TOML file) with the flags applied."""
    chosen = [flag for flag, on in (("mvg", mvg), ("rmvg", rmvg), ("random-goals", random_goals))
              if on]
    if len(chosen) > 1:
        raise cfg.ConfigError(f"--{' and --'.join(chosen)} exclude each other: give one schedule")
    schedule = SCHEDULE_FLAGS[chosen[0].replace("-", "_")] if chosen else None
    config = load_target(target)
    overrides: dict[str, Any] = {}
    if schedule:
        overrides["schedule.kind"] = schedule
    if goal:
        if schedule:
            raise cfg.ConfigError(f"--goal {goal} names a fixed goal; it cannot go with "
                                  f"--{chosen[0]}")
        overrides.update({"schedule.kind": "fixed", "schedule.goal": goal})
    keys = {flag.strip("-").replace("-", "_"): key for flag, key, _ in _FLAGS}
    for name, value in flags.items():
        if name not in keys:
            raise TypeError(f"build_config: unknown flag {name}")
        if value is not None:
            overrides[keys[name]] = value
    overrides.update(cfg.parse_assignment(a) for a in assignments)
    return validate(config.replace(**overrides))
