"""What can be evolved. Each task is pure array code: it knows nothing of engines, files or the CLI."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from evosim.config import Config, ConfigError
from evosim.goals import ALTERNATING
from evosim.tasks.digit_pairs import DigitPairsTask
from evosim.tasks.logic import LogicTask
from evosim.tasks.retina import RetinaTask

TASKS: dict[str, str] = {
    "logic-gates": "NAND circuits over 4 inputs (Kashtan & Alon 2005); goals G1, G2, F(x^y,z^w)",
    "retina": "8-8-4-2-1 threshold networks over 8 pixels (Kashtan & Alon 2005; Clune et al. "
              "2013); goals and, or, F(L,R), serial",
    "digit-pairs": "two 8x8 digits side by side, target a x + b y (source document 001); "
                   "gradient mode only",
}

def is_regression(name: str) -> bool:
    """Task ``name``'s goals are values to fit, not truth tables: no network of it is "solved"."""
    return name == DigitPairsTask.name and DigitPairsTask.regression


def get_task(section: Any, layout: str = "line") -> LogicTask | RetinaTask | DigitPairsTask:
    """The task object for a config's [task] section; ``layout`` (cost.layout) matters to circuits,
    whose genomes carry gate positions when it is ``evolved``."""
    if section.name == "logic-gates":
        return LogicTask(n_inputs=section.n_inputs, max_gates=section.max_gates,
                         layout=layout, output=section.output, feedback=section.feedback,
                         steps=section.steps)
    if section.name == "retina":
        return RetinaTask(activation=section.activation, init_density=section.init_density,
                          zero_output=section.zero_output, layout=layout)
    if section.name == "digit-pairs":
        return DigitPairsTask()
    raise ValueError(f"task.name: unknown task {section.name!r}; allowed: {', '.join(TASKS)}")


def check_config(config: Config) -> None:
    """What a run's task allows of its config (goals, schedules, layouts, its mode); raises
    ConfigError naming the key."""
    gradient = config.run.mode == "gradient"
    if config.task.name == "digit-pairs" and not gradient:
        raise ConfigError("task.name: digit-pairs is trained, not evolved; it needs run.mode = "
                          "gradient (--mode gradient)")
    if config.task.name == "logic-gates" and config.task.feedback and not gradient and (
            config.cost.kind != "none"):
        raise ConfigError(f"task.feedback: recurrent circuits run without a connection cost; "
                          f"allowed with cost.kind = {config.cost.kind}: false")
    task = get_task(config.task, config.cost.layout)
    if not gradient and config.selection.diversity and not getattr(task, "behaves", False):
        raise ConfigError(f"selection.diversity: behavioural diversity is defined for the retina "
                          f"(Clune et al.); allowed with {config.task.name}: false")
    if not gradient and config.cost.layout not in task.layouts:
        raise ConfigError(f"cost.layout: {config.cost.layout!r} is not a {config.task.name} "
                          f"layout; allowed: {', '.join(task.layouts)}")
    names = task.goal_names()
    schedule = config.schedule
    allowed = getattr(task, "schedules", None)
    if allowed and schedule.kind not in allowed:
        raise ConfigError(f"schedule.kind: {schedule.kind!r} is not defined for "
                          f"{config.task.name}; allowed: {', '.join(allowed)}")
    size = f" with task.n_inputs = {config.task.n_inputs}" if config.task.name == "logic-gates" \
        else ""  # the default goals assume 4 inputs: say which setting ruled them out

    def bad_goal(key, name):
        return ConfigError(f"{key}: {name!r} is not a goal of {config.task.name}{size}; "
                           f"allowed: {', '.join(names)}")

    if schedule.kind in ("fixed", *ALTERNATING) and not _is_goal(task, schedule.goal):
        raise bad_goal("schedule.goal", schedule.goal)
    if schedule.kind == "mvg":
        bad = [g for g in schedule.goals if not _is_goal(task, g)]
        if bad:
            raise bad_goal("schedule.goals", bad[0])
        tables = {task.goals.target(g).tobytes() for g in schedule.goals}
        if len(tables) < 2:
            raise ConfigError("schedule.goals: an mvg schedule needs at least two different goals "
                              f"(these have one truth table: {', '.join(schedule.goals)})")
    if schedule.kind == "rmvg" and not task.supports_rmvg():
        raise ConfigError(f"schedule.kind: rmvg needs a task whose goals share sub-goals; "
                          f"{config.task.name} with {config.task.n_inputs} inputs has none")
    if gradient and config.task.name == "digit-pairs":
        for key in ("mnist_images", "mnist_labels"):
            name = getattr(config.gradient, key)
            if name and not Path(name).is_file():
                raise ConfigError(f"gradient.{key}: {name!r} is not a readable file")


def _is_goal(task, name: str) -> bool:
    try:
        task.goals.target(name)
    except ValueError:
        return False
    return True
