"""What can be evolved. Each task is pure array code: it knows nothing of engines, files or the CLI."""
from __future__ import annotations

from typing import Any

from evosim.tasks.logic import LogicTask
from evosim.tasks.retina import RetinaTask

TASKS: dict[str, str] = {
    "logic-gates": "NAND circuits over 4 inputs (Kashtan & Alon 2005); goals G1, G2, F(x^y,z^w)",
    "retina": "8-8-4-2-1 threshold networks over 8 pixels (Kashtan & Alon 2005; Clune et al. "
              "2013); goals and, or, F(L,R), serial",
    "digit-pairs": "two 8x8 digits side by side, target a x + b y (source document 001); "
                   "gradient mode only",
}

# Config values that differ from the logic-gate card when the task is another one.
TASK_DEFAULTS: dict[str, dict[str, Any]] = {
    "logic-gates": {},
    "retina": {"schedule.goal": "and", "schedule.goals": ["and", "or"],
               "variation.crossover_rate": 0.0, "modularity.directed": True,
               "cost.layout": "layered", "gradient.hidden": [8, 4, 2]},
    "digit-pairs": {"run.mode": "gradient", "run.generations": 100, "schedule.goal": "1x+1y",
                    "schedule.goals": ["1x+1y", "1x-1y"], "schedule.period": 10,
                    "gradient.hidden": [64, 32, 2], "gradient.loss": "mse",
                    "gradient.activation": "relu", "gradient.learning_rate": 0.001,
                    "modularity.every": 5, "modularity.qm_epochs": 0},
}


class DigitPairsTask:
    """Digit pairs have no genome: the task only names its goals (gradient mode trains it)."""

    name = "digit-pairs"
    n_inputs = 0
    schedules = ("fixed", "mvg", "rmvg")

    def __init__(self):
        from evosim.gradient.data import DigitGoals

        self.goals = DigitGoals()

    def goal_names(self) -> list[str]:
        return self.goals.names()

    def supports_rmvg(self) -> bool:
        return True


def get_task(section: Any, layout: str = "line") -> LogicTask | RetinaTask | DigitPairsTask:
    """The task object for a config's [task] section; ``layout`` (cost.layout) matters to circuits,
    whose genomes carry gate positions when it is ``evolved``."""
    if section.name == "logic-gates":
        return LogicTask(n_inputs=section.n_inputs, max_gates=section.max_gates,
                         layout=layout)
    if section.name == "retina":
        return RetinaTask(activation=section.activation, init_density=section.init_density)
    if section.name == "digit-pairs":
        return DigitPairsTask()
    raise ValueError(f"task.name: unknown task {section.name!r}; allowed: {', '.join(TASKS)}")
